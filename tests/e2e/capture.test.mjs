// The first working loop, as a user does it: select text on the demo EMR (strict CSP),
// add a tip with the in-page button, the shortcut or the context menu, see it
// highlighted, reload, restart the browser, and still see it. Bad input gets a clear
// message and stores nothing; the host app keeps working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  copyOfDist, dragSelect, eventually, highlightPoint, highlightedTexts, inflowFrame, launch, newProfileDir, openFormWithButton, startDemo, storedTips, uiClick, uiText, uiTextEventually,
} from './harness.mjs';

const INSTRUCTION = 'Check K+ and creatinine before the 3rd dose.';
let demo;
before(async () => (demo = await startDemo()));
after(() => demo.stop());

/** Fires the browser's keyboard-shortcut (or context-menu) event in the worker, as Chrome does. */
async function pressShortcut(worker, command = 'capture-tip') {
  await worker.evaluate(async (command) => {
    const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
    chrome.commands.onCommand.dispatch(command, tab);
  }, command);
}

describe('capture a tip and see it again', () => {
  test('on the strict-CSP EMR: button, note, tags, team; back after reload and browser restart', async () => {
    const profile = newProfileDir();
    let context;
    try {
      let worker;
      ({ context, worker } = await launch(profile.dir));
      let page = await context.newPage();
      const pageErrors = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.goto(`${demo.url}/patients/1/orders`);
      await page.getByText(INSTRUCTION).waitFor();

      await openFormWithButton(page, 'table.orders', INSTRUCTION);
      // The form is beside the selected text, never over it nor over the app's header.
      const frameBox = await (await (await inflowFrame(page)).frameElement()).boundingBox();
      const selected = await page.evaluate(() => {
        const box = getSelection().getRangeAt(0).getBoundingClientRect();
        return { top: box.top, bottom: box.bottom, left: box.left, right: box.right, header: document.querySelector('header').getBoundingClientRect().bottom };
      });
      const overlaps = frameBox.x < selected.right && frameBox.x + frameBox.width > selected.left && frameBox.y < selected.bottom && frameBox.y + frameBox.height > selected.top;
      assert.ok(!overlaps && frameBox.y >= selected.header, `the form (${JSON.stringify(frameBox)}) covers the selection or header (${JSON.stringify(selected)})`);
      await page.keyboard.type('Draw a BMP before the third dose; the lab closes at 18:00.');
      await page.keyboard.press('Tab');
      await page.keyboard.type('labs, Orders , labs');
      await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowDown'); // "Who sees it": My team
      await page.keyboard.press('Control+Enter');

      // Not connected to a team server: the notice does not pretend the team has it.
      await uiTextEventually(page, 'notice', (t) => t === 'Tip saved. It waits on this computer until Inflow reaches your team’s server.', 'the saved notice');
      await eventually(() => highlightedTexts(page), (h) => h.length === 1 && h[0] === INSTRUCTION, { what: 'the highlight' });
      const [tip, ...more] = await storedTips(worker);
      assert.equal(more.length, 0);
      assert.equal(tip.note, 'Draw a BMP before the third dose; the lab closes at 18:00.');
      assert.deepEqual(tip.tags, ['labs', 'Orders']);
      assert.equal(tip.visibility, 'team');
      // A shared tip names its screen, never the patient's record (issue #15).
      assert.equal(tip.screen, `${demo.url}/patients/*/orders`);
      assert.equal(tip.target.selector[0].type, 'TextQuoteSelector');
      assert.equal(tip.target.selector[0].exact, INSTRUCTION);
      assert.match(tip.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

      await page.reload();
      await eventually(() => highlightedTexts(page), (h) => h.length === 1 && h[0] === INSTRUCTION, { what: 'the highlight after reload' });
      await page.getByText(INSTRUCTION).hover(); // hovering previews the tip
      await uiTextEventually(page, 'peek', (t) => t.startsWith('Draw a BMP') && t.endsWith('click to open'), 'the hover preview');
      await page.getByText(INSTRUCTION).click(); // a click on highlighted text shows its tip
      const card = await uiTextEventually(page, 'card', (t) => t.includes('Draw a BMP'), 'the tip card');
      assert.match(card, /Me · .* · team(, waiting to send)? · labs, Orders/);
      // The card is in Inflow's frame, with the focus: Escape closes it.
      await page.keyboard.press('Escape');
      await eventually(() => uiText(page, 'card'), (t) => t === null, { what: 'the card closed by Escape' });
      // The pointer rests on the highlight, and the browser sends a move where it rests
      // (as it does when something changes under it): that is not the user hovering, and
      // no preview pops up in the closed card's place.
      const box = await page.getByText(INSTRUCTION).boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(await inflowFrame(page), null, 'a move of a resting pointer opened a preview');
      // From the keyboard: the next tip's card opens with the focus in it.
      await pressShortcut(worker, 'next-tip');
      await uiTextEventually(page, 'card', (t) => t.includes('Draw a BMP'), 'the card opened by the next-tip key');
      const frame = await inflowFrame(page);
      assert.equal(await frame.evaluate(() => document.hasFocus() && document.activeElement.id), 'card', 'the card has the focus');
      // "Open in side panel" opens the panel from the card's click (its user gesture).
      const sidePanels = () => worker.evaluate(() => chrome.runtime.getContexts({ contextTypes: ['SIDE_PANEL'] }).then((c) => c.map((x) => x.documentUrl)));
      assert.deepEqual(await sidePanels(), [], 'no side panel before the click');
      await frame.locator('#open-panel').click();
      await eventually(sidePanels, (urls) => urls.length === 1 && urls[0].includes('/sidepanel.html'), { what: 'the side panel opened from the card' });
      await frame.locator('#card').focus();
      await page.keyboard.press('Escape');
      await eventually(() => uiText(page, 'card'), (t) => t === null, { what: 'the card closed again' });

      await context.close();
      ({ context, worker } = await launch(profile.dir));
      page = await context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await eventually(() => highlightedTexts(page), (h) => h.length === 1 && h[0] === INSTRUCTION, { what: 'the highlight after restart' });
      assert.equal((await storedTips(worker)).length, 1);
      assert.deepEqual(pageErrors, []);
    } finally {
      await context?.close(); // a failure too: an open browser would keep the run from ending
      profile.remove();
    }
  });

  test('with the keyboard shortcut and the context menu, on a page without CSP', async () => {
    const profile = newProfileDir();
    let context;
    try {
      let worker;
      ({ context, worker } = await launch(profile.dir));
      const page = await context.newPage();
      await page.goto(`${demo.url}/intranet/claims-handbook`);
      await dragSelect(page, 'table', 'Box 24J rendering provider NPI');
      await pressShortcut(worker);
      await uiTextEventually(page, 'quote', (t) => t === 'Box 24J rendering provider NPI', 'the form opened by the shortcut');
      await page.keyboard.type('Payer wants the individual NPI here, not the group NPI.');
      await page.keyboard.press('Control+Enter');
      await eventually(() => highlightedTexts(page), (h) => h.includes('Box 24J rendering provider NPI'), { what: 'the first highlight' });

      await dragSelect(page, 'body', 'frequency code 7');
      await worker.evaluate(async () => {
        const [tab] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
        chrome.contextMenus.onClicked.dispatch({ menuItemId: 'inflow-capture', selectionText: 'frequency code 7' }, tab);
      });
      await uiTextEventually(page, 'quote', (t) => t === 'frequency code 7', 'the form opened by the context menu');
      // A click on the first tip's highlight meanwhile does not replace the open form.
      const first = await highlightPoint(page, 'Box 24J rendering provider NPI');
      await page.mouse.click(first.x, first.y);
      await page.waitForTimeout(300);
      assert.equal(await uiText(page, 'quote'), 'frequency code 7', 'the form stays open over a click on a highlight');
      await uiClick(page, 'save');
      await eventually(() => highlightedTexts(page), (h) => h.length === 2, { what: 'both highlights' });
      const tips = await storedTips(worker);
      assert.deepEqual(tips.map((t) => t.target.selector[0].exact).sort(), ['Box 24J rendering provider NPI', 'frequency code 7']);
      assert.ok(tips.every((t) => t.visibility === 'private'), 'private unless the user shares');
    } finally {
      await context?.close();
      profile.remove();
    }
  });
});

/** The viewport box of `page`'s element matching `selector` as a plain object. */
const boxOf = (page, selector) => page.evaluate((selector) => {
  const { left, top, right, bottom } = document.querySelector(selector).getBoundingClientRect();
  return { left, top, right, bottom };
}, selector);
const overlap = (a, b) => a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top;
const frameElementBox = async (page) => {
  const { x, y, width, height } = await (await (await inflowFrame(page)).frameElement()).boundingBox();
  return { left: x, top: y, right: x + width, bottom: y + height };
};

describe('Inflow’s frame on awkward pages', () => {
  test('the form keeps clear of the selected text and of an app header that stays on screen', async () => {
    const profile = newProfileDir();
    let context;
    try {
      ({ context } = await launch(profile.dir));
      const page = await context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await page.getByText(INSTRUCTION).waitFor();
      // An app whose header stays at the top of the window while the record scrolls (as
      // EMRs' do): set through the CSSOM, which the page's strict CSP allows.
      await page.evaluate(() => Object.assign(document.querySelector('header').style, { position: 'sticky', top: '0px', zIndex: '10' }));
      const header = await boxOf(page, 'header');
      await openFormWithButton(page, 'table.orders', INSTRUCTION);
      const firstForm = await frameElementBox(page);
      const formHeight = firstForm.bottom - firstForm.top;
      await page.keyboard.press('Escape');
      await eventually(() => inflowFrame(page), (frame) => frame === null, { what: 'the form closed' });
      await page.mouse.click(5, 300); // the selection goes (a press on it would drag it)

      // Put the selection where the form fits neither below it nor above it without
      // covering the header: only beside it, or the header's controls are hidden.
      const selected = await page.evaluate((text) => {
        const cell = [...document.querySelectorAll('td')].find((td) => td.textContent === text);
        const { top, bottom } = cell.getBoundingClientRect();
        return { top, height: bottom - top };
      }, INSTRUCTION);
      const wantedTop = header.bottom + formHeight + 8 - (header.bottom - header.top) / 2;
      await page.setViewportSize({ width: 1280, height: Math.round(wantedTop + selected.height + formHeight) });
      await page.evaluate((push) => (document.querySelector('main').style.marginTop = `${push}px`), Math.max(0, wantedTop - selected.top + 16));
      await page.evaluate(() => window.scrollTo(0, 0));
      await openFormWithButton(page, 'table.orders', INSTRUCTION);
      const form = await frameElementBox(page);
      const selection = await page.evaluate(() => {
        const { left, top, right, bottom } = getSelection().getRangeAt(0).getBoundingClientRect();
        return { left, top, right, bottom };
      });
      const headerNow = await boxOf(page, 'header');
      assert.ok(selection.top > headerNow.bottom, `the selection is below the header (${JSON.stringify({ selection, headerNow })})`);
      assert.ok(!overlap(form, selection), `the form ${JSON.stringify(form)} covers the selection ${JSON.stringify(selection)}`);
      assert.ok(!overlap(form, headerNow), `the form ${JSON.stringify(form)} covers the app's header ${JSON.stringify(headerNow)}`);
    } finally {
      await context?.close();
      profile.remove();
    }
  });

  test('where the frame cannot start, Inflow says so and points to the side panel; the page gets no tip content', async () => {
    // The same extension (same id, same store) whose frame code no longer starts: what a
    // page that somehow stops the frame would cause.
    const extension = copyOfDist();
    const profile = newProfileDir();
    const NOTE = 'Frame-fallback note: call pharmacy at 4412 first';
    let context;
    try {
      let worker;
      ({ context, worker } = await launch(profile.dir, { dist: extension.dir }));
      let page = await context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await openFormWithButton(page, 'table.orders', INSTRUCTION);
      await page.keyboard.type(NOTE);
      await page.keyboard.press('Control+Enter');
      await eventually(() => storedTips(worker), (tips) => tips.length === 1, { what: 'the tip stored' });
      await context.close();

      writeFileSync(join(extension.dir, 'pkg', 'inflow_frame_bg.wasm'), 'this is not WebAssembly');
      ({ context, worker } = await launch(profile.dir, { dist: extension.dir }));
      page = await context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await eventually(() => highlightedTexts(page), (h) => h.length === 1 && h[0] === INSTRUCTION, { what: 'the highlight (drawn without the frame)' });
      const point = await highlightPoint(page, INSTRUCTION);
      await page.mouse.click(point.x, point.y);
      const notice = await uiTextEventually(page, 'notice', (t) => t.includes('side panel'), 'the notice that the frame could not open');
      assert.match(notice, /does not let Inflow open its window here.*side panel/);
      assert.equal(await uiText(page, 'card'), null, 'no card is drawn in the page instead');
      // Nothing of the tip reached the page's document, by any means the page has.
      const seen = await page.evaluate((words) => ({
        text: document.documentElement.innerText.includes(words),
        found: window.find(words),
      }), 'call pharmacy');
      assert.deepEqual(seen, { text: false, found: false });
      // A new selection's "+ Tip" says the same at once, rather than a form in the page.
      await eventually(() => uiText(page, 'notice'), (t) => t === null, { what: 'the first notice gone', timeout: 10000 });
      await page.mouse.click(5, 5);
      await dragSelect(page, 'table.orders', 'Hold if HR < 60 or SBP < 100.');
      await uiTextEventually(page, 'add', (t) => t.includes('Tip'), 'the + Tip button');
      await uiClick(page, 'add');
      await uiTextEventually(page, 'notice', (t) => t.includes('side panel'), 'the notice for a new tip');
      assert.equal(await inflowFrame(page), null, 'no frame is shown');
    } finally {
      await context?.close();
      profile.remove();
      extension.remove();
    }
  });
});

describe('bad input gets a clear message and saves nothing', () => {
  let profile, context, worker, page;
  before(async () => {
    profile = newProfileDir();
    ({ context, worker } = await launch(profile.dir));
    page = await context.newPage();
  });
  after(async () => {
    await context.close();
    profile.remove();
  });

  test('no selection', async () => {
    await page.goto(`${demo.url}/patients/2/orders`);
    await page.getByText('Apixaban').waitFor();
    await page.mouse.click(5, 700); // clears any selection
    await pressShortcut(worker);
    await uiTextEventually(page, 'notice', (t) => t === 'Select some text on the page first.', 'the no-selection notice');
  });

  test('a selection inside a form field', async () => {
    await page.goto(`${demo.url}/patients`);
    const search = page.getByRole('searchbox', { name: 'Search patients' });
    await search.fill('Jane Doe');
    await search.selectText();
    await pressShortcut(worker);
    await uiTextEventually(page, 'notice', (t) => t.includes('can’t pin text inside a form field'), 'the form-field notice');
  });

  test('a selection inside a frame from another site', async () => {
    await page.goto(`${demo.url}/intranet/claims-handbook`);
    const frame = page.frameLocator('iframe[title="Payer portal"]');
    await frame.getByText('original reference number').click({ clickCount: 3 });
    await pressShortcut(worker);
    await uiTextEventually(page, 'notice', (t) => t.includes('comes from another site'), 'the cross-origin frame notice');
    assert.deepEqual(await storedTips(worker), []);
  });

  test('a note over the size limit keeps the form and stores nothing', async () => {
    await page.goto(`${demo.url}/patients/2/orders`);
    await page.getByText('Do not give with heparin.').waitFor();
    await openFormWithButton(page, 'table.orders', 'Do not give with heparin.');
    await page.keyboard.insertText('x'.repeat(10001));
    await uiTextEventually(page, 'count', (t) => t.startsWith('10,001'), 'the character counter');
    await page.keyboard.press('Control+Enter');
    await uiTextEventually(page, 'error', (t) => t.includes('note is too long (10001 characters)'), 'the size error');
    assert.notEqual(await uiText(page, 'panel'), null, 'the form stays open with the text');
    assert.deepEqual(await storedTips(worker), []);
    assert.deepEqual(await highlightedTexts(page), []);
  });

  test('a site the user has not switched Inflow on for', async () => {
    const other = await startDemo('127.0.0.2');
    try {
      await page.goto(`${other.url}/patients/1/orders`);
      await page.getByText(INSTRUCTION).waitFor();
      await dragSelect(page, 'table.orders', INSTRUCTION);
      await page.waitForTimeout(500);
      assert.equal(await page.evaluate(() => document.querySelectorAll('[data-inflow-ui]').length), 0, 'no Inflow UI is added');
      assert.deepEqual(await storedTips(worker), []);
    } finally {
      other.stop();
    }
  });
});

test('the host app works as before with Inflow loaded', async () => {
  const profile = newProfileDir();
  let context;
  try {
    ({ context } = await launch(profile.dir));
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    await page.goto(`${demo.url}/patients/1/orders`);
    await openFormWithButton(page, 'table.orders', INSTRUCTION);
    await page.keyboard.type('Tip for the app test');
    await page.keyboard.press('Control+Enter');
    await eventually(() => highlightedTexts(page), (h) => h.length === 1, { what: 'the highlight' });

    // The highlighted cell is untouched: one text node, no wrapper, nothing added to <body>.
    const cell = await page.evaluate((text) => {
      const td = [...document.querySelectorAll('td')].find((c) => c.textContent === text);
      return { nodes: td.childNodes.length, html: td.innerHTML, added: document.body.querySelectorAll('[data-inflow-ui]').length };
    }, INSTRUCTION);
    assert.deepEqual(cell, { nodes: 1, html: INSTRUCTION.replace('<', '&lt;'), added: 0 });

    // The app's own routing, forms and shortcuts.
    await page.getByRole('link', { name: 'Notes' }).click();
    await page.waitForURL(/\/patients\/1\/notes$/);
    await page.getByLabel('New progress note').fill('Reassessed at 10:00, BP 112/70 standing.');
    await page.getByRole('button', { name: 'Sign note' }).click();
    await page.getByText('Reassessed at 10:00, BP 112/70 standing.').waitFor();
    await page.getByRole('link', { name: 'Patient list' }).click();
    await page.locator('#patient-search').waitFor(); // the app renders its list after the click
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'patient-search');
    await page.keyboard.type('Lee');
    assert.equal(await page.locator('table.grid tbody tr').count(), 1);
    await page.goBack();
    await page.getByText('Reassessed at 10:00').waitFor();
    assert.deepEqual(pageErrors, []);
  } finally {
    await context?.close();
    profile.remove();
  }
});
