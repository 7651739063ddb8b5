// Patient identifiers never leave the device (issue #15). On the demo EMR, whose title,
// banner and orders name the patient, Dana shares a tip: the form previews it as the team
// will see it, identifiers marked; she keeps a false positive and hides two more words.
// Then she replies, and a curator titles the tip. What crossed the network (the recording
// proxy), what the server stores and every export hold none of the patient's values; the
// tip still shows on another patient's orders; a private tip stays whole on the device
// until it is shared from the panel, whose share step previews it the same way. A team's
// own identifying field, set by its admin, is hidden like the labelled ones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  captureOnOrders, connect, eventually, highlightedTexts, inflowFrame, launch, newProfileDir, openFormWithButton, openPanel, startDemo, startTeamServer, storedTips, uiTextEventually,
} from './harness.mjs';

const QUOTE = 'Hold if HR < 60 or SBP < 100.'; // patient 1's Metoprolol, ordered by Dr. A. Okafor
const NOTE = "Jane Doe's daughter Mary keeps the list; DOB 03/14/1951, call (555) 201-7788 before the third dose.";
/** Patient 1's values as the demo shows them, and the forms they take in the note. */
const PATIENT = ['Jane', 'Doe', 'RG-004817', '004817', '1951', '03/14', '555', '201-7788', 'Okafor', '/patients/1/'];

let demo;
let server;
before(async () => {
  demo = await startDemo();
  server = await startTeamServer(['Dana', 'Cory', 'Ada'], { roles: { Cory: 'curator', Ada: 'admin' } });
});
after(async () => {
  demo.stop();
  await server.close();
});

/** The values of `PATIENT` that `text` holds. */
function leaks(text) {
  // As a value, not inside another token: a random id or a millisecond time may hold "555".
  const escape = (value) => value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const word = /[0-9A-Za-z]/;
  return PATIENT.filter((value) => {
    const before = word.test(value[0]) ? '(?<![0-9A-Za-z])' : '';
    const after = word.test(value[value.length - 1]) ? '(?![0-9A-Za-z])' : '';
    return new RegExp(`${before}${escape(value)}${after}`).test(text);
  });
}

/** Selects `words` inside the element `selector` of Inflow's frame (or of an extension
 *  page), as a mouse would. */
async function selectInFrame(frame, selector, words) {
  await frame.locator(selector).evaluate((element, wanted) => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(wanted);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + wanted.length);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      return;
    }
    throw new Error(`"${wanted}" is not in ${element.id}`);
  }, words);
}

describe('patient identifiers stay on the device', () => {
  test('previewed, chosen by the author, and absent from every request, stored row and export', async () => {
    const download = mkdtempSync(join(tmpdir(), 'inflow-download-'));
    const profiles = { dana: newProfileDir(), cory: newProfileDir() };
    const dana = await launch(profiles.dana.dir);
    const cory = await launch(profiles.cory.dir);
    try {
      await connect(dana.context, dana.extensionId, server.url, server.tokens.Dana);
      await connect(cory.context, cory.extensionId, server.url, server.tokens.Cory);
      const page = await dana.context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await page.getByText(QUOTE).first().waitFor();
      assert.match(await page.title(), /^Jane Doe/, 'the screen names its patient');

      // The form, shared with the team: the preview shows what teammates will read.
      await openFormWithButton(page, 'table.orders', QUOTE);
      await page.keyboard.type(NOTE);
      await page.keyboard.press('Tab');
      await page.keyboard.type('Doe, orders');
      await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowDown'); // "Who sees it": My team
      const frame = await inflowFrame(page);
      const preview = (id) => frame.locator(`#${id}`).innerText();
      await eventually(() => preview('preview-note'), (t) => t.includes('[phone]'), { what: 'the preview of the note' });
      assert.equal(await preview('preview-title'), '[name] — Orders — Riverside General EMR');
      assert.deepEqual(leaks(await preview('preview-note')), [], await preview('preview-note'));
      assert.match(await preview('preview-quote'), /Dr\. \[name\]/, 'the context names no clinician either');
      assert.match(await frame.locator('#preview-count').innerText(), /^\d+ identifiers will be replaced\.$/);
      // The page's own values cannot be kept; a likely name can.
      assert.equal(await frame.locator('#preview-note [data-keep="Jane Doe"]').count(), 0, "the patient's name is the page's: it cannot be kept");
      await frame.locator('#preview-note [data-keep="Mary"]').click();
      await eventually(() => preview('preview-note'), (t) => t.includes('daughter Mary'), { what: 'Mary kept as written' });
      // Two more words hidden: selected in the preview, then "Hide selected words".
      await selectInFrame(frame, '#preview-note', 'the list');
      await frame.locator('#preview-hide').click();
      await eventually(() => preview('preview-note'), (t) => t.includes('keeps [hidden]'), { what: 'the hidden words' });
      await frame.locator('#capture-save').click();
      await uiTextEventually(page, 'notice', (t) => t.includes('saved for your team'), 'the saved notice');

      // On Dana's device, what the team gets: her choices, and the patient's values replaced.
      const [tip] = await eventually(() => storedTips(dana.worker), (tips) => tips.length === 1, { what: 'the stored tip' });
      assert.equal(tip.note, "[name]'s daughter Mary keeps [hidden]; DOB [date], call [phone] before the third dose.");
      assert.deepEqual(tip.tags, ['[name]', 'orders']);
      assert.equal(tip.target.source, `${demo.url}/patients/*/orders`);
      assert.deepEqual(leaks(JSON.stringify(tip)), [], JSON.stringify(tip));
      await eventually(() => server.exportTips(), (rows) => rows.length === 1, { what: 'the tip on the server', timeout: 10000 });

      // A reply and a curator's title go through the same rule.
      const panel = await openPanel(dana);
      const item = panel.locator('#feed > li').first();
      await item.getByRole('button', { name: 'Reply', exact: true }).click();
      await item.getByLabel('Your reply').fill('Ms. Doe said it works; her MRN is RG-004817.');
      await item.getByRole('button', { name: 'Send reply' }).click();
      await eventually(() => item.textContent(), (t) => t.includes('1 reply'), { what: 'the reply' });
      const coryPanel = await openPanel(cory);
      const coryItem = coryPanel.locator('#feed > li').first();
      await eventually(() => coryPanel.locator('#feed > li').count(), (n) => n === 1, { what: "the tip in Cory's feed", timeout: 10000 });
      await coryItem.locator('details.more-steps > summary').click(); // the curator's steps besides Approve
      await coryItem.getByRole('button', { name: 'Edit title' }).click();
      await coryItem.getByLabel('Title').fill('Metoprolol hold rule for Jane Doe');
      await coryItem.getByRole('button', { name: 'Save title' }).click();
      await eventually(() => coryItem.locator('.curated-title').textContent().catch(() => ''), (t) => t === 'Metoprolol hold rule for [name]', { what: 'the redacted title' });
      await eventually(
        () => server.exportTips(),
        (rows) => rows[0]?.tip.tip.replies?.length === 1 && rows[0].tip.tip.curation?.title,
        { what: 'the reply and the title on the server', timeout: 10000 },
      );

      // Every export of the team's tips, as a curator downloads them.
      await coryPanel.getByRole('combobox', { name: 'Tips', exact: true }).selectOption('everything');
      const exports = [];
      for (const format of ['html', 'markdown', 'csv', 'jsonld']) {
        await coryPanel.getByRole('combobox', { name: 'Format' }).selectOption(format);
        const [file] = await Promise.all([coryPanel.waitForEvent('download'), coryPanel.getByRole('button', { name: 'Download' }).click()]);
        const saved = join(download, file.suggestedFilename());
        await file.saveAs(saved);
        exports.push([format, readFileSync(saved, 'utf8')]);
      }
      for (const [format, text] of exports) {
        assert.match(text, /\\?\[phone\\?\]/, `${format}: the tip is in it (Markdown escapes the brackets)`);
        assert.deepEqual(leaks(text), [], `${format} export`);
      }

      // Nothing that crossed the network, and nothing the server stores, names the patient.
      const bodies = server.requests.map((r) => `${r.method} ${r.path} ${r.body}`).join('\n');
      assert.ok(bodies.includes('[phone]'), 'the shared tip crossed the network');
      assert.deepEqual(leaks(bodies), [], 'request bodies');
      assert.deepEqual(leaks(JSON.stringify(await server.exportTips())), [], 'stored rows');

      // The tip still shows on another patient's orders.
      const other = await cory.context.newPage();
      await other.goto(`${demo.url}/patients/2/orders`);
      await eventually(() => highlightedTexts(other), (h) => h.includes(QUOTE), { what: 'the tip on patient 2', timeout: 10000 });

      // A private tip stays whole on the device, and never crosses the network.
      const before = server.requests.length;
      const mine = await captureOnOrders(dana, page, 'Metoprolol tartrate', 'Jane Doe: ask about dizziness', { team: false });
      assert.equal(mine.note, 'Jane Doe: ask about dizziness');
      assert.ok(!server.requests.slice(before).some((r) => r.body.includes('dizziness')), 'the private tip stays home');

      // Shared later from the panel, away from its page: the share step previews it with the
      // page's values this device kept, and Dana hides one more word there.
      await panel.getByRole('button', { name: '1 new tip: show it' }).click({ timeout: 10000 }); // the panel holds news back
      const mineItem = panel.locator('#feed > li', { hasText: 'ask about dizziness' });
      await mineItem.getByRole('button', { name: 'Edit', exact: true }).click();
      const sharePreview = mineItem.locator('.share-preview');
      assert.ok(await sharePreview.isHidden(), 'a tip kept for oneself previews nothing');
      await mineItem.getByLabel('Who sees it').selectOption('team');
      const previewNote = () => sharePreview.locator('.preview-note').innerText();
      await eventually(previewNote, (t) => t === '[name]: ask about dizziness', { what: 'the share step previews the tip' });
      assert.equal(await sharePreview.locator('.preview-note [data-keep]').count(), 0, "the page's name cannot be kept");
      assert.deepEqual(leaks(await sharePreview.innerText()), [], await sharePreview.innerText());
      await selectInFrame(panel, '.share-preview .preview-note', 'dizziness');
      await sharePreview.getByRole('button', { name: 'Hide selected words' }).click();
      await eventually(previewNote, (t) => t === '[name]: ask about [hidden]', { what: 'the hidden word in the preview' });
      await mineItem.getByRole('button', { name: 'Save changes' }).click();
      const [sharedLater] = await eventually(
        async () => (await storedTips(dana.worker)).filter((t) => t.visibility === 'team' && t.note.includes('ask about')),
        (tips) => tips.length === 1,
        { what: 'the tip shared later' },
      );
      assert.equal(sharedLater.note, '[name]: ask about [hidden]');
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.id === sharedLater.id), { what: 'the tip shared later on the server', timeout: 10000 });
      const later = server.requests.slice(before).map((r) => r.body).join('\n');
      assert.ok(!later.includes('dizziness') && leaks(later).length === 0, 'neither the hidden word nor the patient crossed the network');
    } finally {
      await dana.context.close();
      await cory.context.close();
      profiles.dana.remove();
      profiles.cory.remove();
      rmSync(download, { recursive: true, force: true });
    }
  });

  test("a team's own identifying field, set by its admin, is hidden wherever it appears", async () => {
    // The demo's banner shows the patient's bed under "Location", a label the defaults do
    // not read. Ada, the admin, names it; Dana's shared note then carries no bed.
    const BED = '4 West, Bed 12';
    const BED_NOTE = `Moved from ${BED} to step-down; the hold rule still applies.`;
    const profiles = { ada: newProfileDir(), dana: newProfileDir() };
    const ada = await launch(profiles.ada.dir);
    const dana = await launch(profiles.dana.dir);
    try {
      await connect(ada.context, ada.extensionId, server.url, server.tokens.Ada);
      const options = await ada.context.newPage();
      await options.goto(`chrome-extension://${ada.extensionId}/options.html`);
      await options.locator('main[aria-busy="false"]').waitFor();
      const fields = options.getByLabel(/Identifying fields/);
      await fields.fill('address: .banner dd:nth-of-type(');
      await options.getByRole('button', { name: 'Save identifying fields' }).click();
      await eventually(() => options.locator('#fields-result').textContent(), (t) => t.includes('is not a CSS selector'), { what: 'the broken selector refused with a reason' });
      await fields.fill('address: .banner dd:nth-of-type(3)');
      await options.getByRole('button', { name: 'Save identifying fields' }).click();
      await eventually(() => options.locator('#fields-result').textContent(), (t) => t.startsWith('Saved.'), { what: 'the field saved' });
      await eventually(() => options.locator('#fields').textContent(), (t) => t === 'address: .banner dd:nth-of-type(3)', { what: "the field in Ada's list" });

      await connect(dana.context, dana.extensionId, server.url, server.tokens.Dana);
      const danaOptions = await dana.context.newPage();
      await danaOptions.goto(`chrome-extension://${dana.extensionId}/options.html`);
      await danaOptions.locator('main[aria-busy="false"]').waitFor();
      assert.ok(await danaOptions.locator('#fields-form').isHidden(), 'only admins edit the fields');
      await eventually(() => danaOptions.locator('#fields').textContent(), (t) => t.includes('.banner dd:nth-of-type(3)'), { what: "the field in Dana's options" });
      await danaOptions.close();

      const page = await dana.context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await page.getByText(BED).first().waitFor();
      const before = server.requests.length;
      await openFormWithButton(page, 'table.orders', 'Check K+ and creatinine');
      await page.keyboard.type(BED_NOTE);
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.press('ArrowDown'); // "Who sees it": My team
      const frame = await inflowFrame(page);
      await eventually(() => frame.locator('#preview-note').innerText(), (t) => t.includes('[address]'), { what: 'the bed marked in the preview' });
      assert.equal(await frame.locator('#preview-note [data-keep]').count(), 0, "the page's own value cannot be kept");
      await frame.locator('#capture-save').click();
      await uiTextEventually(page, 'notice', (t) => t.includes('saved for your team'), 'the saved notice');
      const [tip] = await eventually(async () => (await storedTips(dana.worker)).filter((t) => t.note.startsWith('Moved from')), (tips) => tips.length === 1, { what: 'the stored tip' });
      assert.equal(tip.note, 'Moved from [address] to step-down; the hold rule still applies.');
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.id === tip.id), { what: 'the tip on the server', timeout: 10000 });
      const sent = server.requests.slice(before).map((r) => r.body).join('\n');
      assert.ok(sent.includes('[address]'), 'the tip crossed the network');
      assert.ok(!sent.includes('Bed 12'), 'the bed never crossed it');
    } finally {
      await ada.context.close();
      await dana.context.close();
      profiles.ada.remove();
      profiles.dana.remove();
    }
  });
});
