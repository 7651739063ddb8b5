// Inflow's pages as a nurse reads them (part of #13): type large enough to read, the note
// the most prominent text of a tip, a focus ring that can be seen (3:1 against what is
// around it), a dark scheme for the side panel, the options and the in-page frame when the
// user prefers one, keyboard commands that Chromium really assigns, and a count of the
// screen's tips on the toolbar button.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { captureOnOrders, eventually, highlightPoint, inflowFrame, launch, newProfileDir, openExtensionPage, openPanel, startDemo } from './harness.mjs';

const QUOTE = 'Max 3 g/day from all sources.';
const NOTE = 'Count the acetaminophen in combination products too.';

let demo;
before(async () => {
  demo = await startDemo();
});
after(() => demo.stop());

/** Sizes, colours and contrasts of `page` as computed by the browser (WCAG's relative
 *  luminance); `focused` describes the element that has the focus and its ring. */
function look(page) {
  return page.evaluate(() => {
    const rgb = (css) => css.match(/[\d.]+/g).slice(0, 3).map(Number);
    const luminance = (css) => {
      const [r, g, b] = rgb(css).map((v) => v / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a, b) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    const style = (element) => getComputedStyle(element);
    const background = style(document.documentElement).backgroundColor;
    const size = (selector) => {
      const element = document.querySelector(selector);
      return element ? parseFloat(style(element).fontSize) : null;
    };
    const active = document.activeElement;
    return {
      background: luminance(background),
      textContrast: contrast(style(document.body).color, background),
      body: size('body'),
      note: size('.tips .note'),
      quote: size('.tips .quote'),
      meta: size('.tips .meta'),
      focused: active && active !== document.body
        ? { outline: parseFloat(style(active).outlineWidth), contrast: contrast(style(active).outlineColor, background) }
        : null,
    };
  });
}

test('readable type, a visible focus ring, a dark scheme, keyboard commands that are assigned, and the screen\'s count on the toolbar', async () => {
  const profile = newProfileDir();
  const browser = await launch(profile.dir, { keepWelcome: true });
  try {
    // Installing opened the welcome page: how to start, the keys this browser assigned,
    // what is shared and what stays here (#13).
    const { welcome } = browser;
    const keys = await welcome.locator('#keys dt').allTextContents();
    assert.equal(keys.length, 4, `four keys listed: ${keys}`);
    assert.ok(keys.every((key) => /^(Alt|Ctrl|Shift|Command)\+/.test(key)), `every key assigned: ${keys}`);
    assert.match(await welcome.locator('#keys').textContent(), /Add a tip to the selected text/);
    assert.match(await welcome.locator('#welcome-connection').textContent(), /^Not connected to a team server yet/);
    assert.match(await welcome.getByRole('heading', { name: 'What your team sees, and what stays here' }).locator('..').textContent(), /Only me.*never leave/s);
    await welcome.getByRole('link', { name: 'Open Inflow’s options' }).click();
    await welcome.waitForURL(/\/options\.html$/);
    await welcome.goto(`chrome-extension://${browser.extensionId}/welcome.html`);
    await welcome.locator('main[aria-busy="false"]').waitFor();

    // Every command has a key: Chromium leaves a suggested key it reserves unassigned
    // (Alt+Shift+T, which the capture command had, focuses the toolbar).
    const commands = await browser.worker.evaluate(() => chrome.commands.getAll());
    for (const name of ['capture-tip', 'next-tip', 'previous-tip', '_execute_action']) {
      const command = commands.find((c) => c.name === name);
      assert.ok(command?.shortcut, `${name} has a key in this browser: ${JSON.stringify(commands)}`);
    }

    const page = await browser.context.newPage();
    await page.goto(`${demo.url}/patients/1/orders`);
    await page.getByText(QUOTE).first().waitFor();
    await captureOnOrders(browser, page, QUOTE, NOTE, { team: false });

    // The toolbar button counts the tips this tab's screen shows, and only those.
    const badge = () => browser.worker.evaluate(async (prefix) => {
      const tab = (await chrome.tabs.query({})).find((t) => t.url?.startsWith(prefix));
      return chrome.action.getBadgeText({ tabId: tab.id });
    }, `${demo.url}/patients`);
    await eventually(badge, (text) => text === '1', { what: 'the badge on the orders screen' });
    await page.getByRole('link', { name: 'Notes' }).click(); // the app's own navigation
    await eventually(badge, (text) => text === '', { what: 'no badge on a screen without tips' });
    await page.goBack();
    await eventually(badge, (text) => text === '1', { what: 'the badge again, back on the orders screen' });

    const panel = await openPanel(browser);
    await panel.locator('#feed .note').first().waitFor();
    const options = await openExtensionPage(browser, 'options.html');

    for (const scheme of ['light', 'dark']) {
      for (const [name, view] of [['panel', panel], ['options', options], ['welcome', browser.welcome]]) {
        await view.emulateMedia({ colorScheme: scheme });
        await view.bringToFront();
        await view.locator('body').click({ position: { x: 1, y: 1 } });
        await view.keyboard.press('Tab'); // the first control, focused from the keyboard
        const seen = await look(view);
        assert.ok(seen.body >= 15, `${name} (${scheme}): body text ${seen.body}px`);
        assert.ok(seen.textContrast >= 4.5, `${name} (${scheme}): text contrast ${seen.textContrast.toFixed(2)}`);
        assert.ok(scheme === 'dark' ? seen.background < 0.05 : seen.background > 0.9, `${name} (${scheme}): background luminance ${seen.background}`);
        assert.ok(seen.focused && seen.focused.outline >= 2, `${name} (${scheme}): a focus ring on the first control`);
        assert.ok(seen.focused.contrast >= 3, `${name} (${scheme}): focus ring contrast ${seen.focused.contrast.toFixed(2)} (WCAG 1.4.11 asks 3:1)`);
        if (name === 'panel') {
          assert.ok(seen.note >= 15 && seen.note > seen.quote && seen.note > seen.meta, `panel (${scheme}): the note leads: ${JSON.stringify(seen)}`);
        }
      }
    }

    // Sync now without a server says there is nothing to sync, never "Synced.".
    await options.bringToFront();
    await options.getByRole('button', { name: 'Sync now' }).click();
    await eventually(() => options.locator('#connection-result').textContent(), (t) => t.startsWith('Not connected'), { what: 'the outcome of Sync now' });
    assert.equal(await options.locator('#connection-result').getAttribute('class'), 'error');

    // The tip's card in the page follows the user's scheme too.
    await page.bringToFront();
    await page.emulateMedia({ colorScheme: 'dark' });
    const { x, y } = await highlightPoint(page, QUOTE);
    await page.mouse.move(x, y);
    await page.mouse.click(x, y);
    const card = await eventually(async () => {
      const frame = await inflowFrame(page);
      const note = frame?.locator('.tips .note').first();
      return note && (await note.count()) ? frame : null;
    }, Boolean, { what: "the tip's card", timeout: 10000 });
    const inCard = await look(card);
    assert.ok(inCard.note >= 15, `card: note ${inCard.note}px`);
    const cardBox = await card.evaluate(() => {
      const rgb = (css) => css.match(/[\d.]+/g).slice(0, 3).map(Number);
      const box = getComputedStyle(document.querySelector('.card')).backgroundColor;
      return { background: rgb(box), text: rgb(getComputedStyle(document.querySelector('.card .note')).color) };
    });
    assert.ok(Math.max(...cardBox.background) < 80 && Math.min(...cardBox.text) > 170, `card (dark): ${JSON.stringify(cardBox)}`);

    // With no tab on its screen, a private tip's "Go there" opens the page it was made on.
    await page.close();
    await panel.bringToFront();
    const opened = browser.context.waitForEvent('page', { timeout: 10000 });
    await panel.locator('#feed > li').first().getByRole('button', { name: 'Go there' }).click();
    const there = await opened;
    await there.waitForURL(`${demo.url}/patients/1/orders`);
  } finally {
    await browser.context.close();
    profile.remove();
  }
});
