// Two teammates, two browser profiles, one real server: what Dana shares on one patient's
// orders screen shows for Sam on another patient's orders screen and in his side panel,
// live while it is open; what Dana captures while the server is down reaches Sam exactly
// once after it returns; a private tip never crosses the network; the screen rules Dana
// (an admin) sets in her options reach Sam's browser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  captureOnOrders, connect, eventually, highlightedTexts, launch, newProfileDir, openFormWithButton, startDemo, startTeamServer, storedTips, uiTextEventually,
} from './harness.mjs';

const SHARED = 'Max 3 g/day from all sources.'; // on patient 1's and patient 2's orders
const OFFLINE = ['Hold for platelets < 100.', 'Check K+ and creatinine before the 3rd dose.', 'Insulin lispro'];
const PRIVATE_NOTE = 'Only for me: page the pharmacist on 4417 first.';

let demo;
let server;
before(async () => {
  demo = await startDemo();
  server = await startTeamServer(['Dana', 'Sam'], { roles: { Dana: 'admin' } });
});
after(async () => {
  demo.stop();
  await server.close();
});

const capture = captureOnOrders;

describe('a team shares tips through its server', () => {
  test('shared on one patient, seen on another and in the panel; live arrivals; offline captures arrive once; private stays home; an admin\'s screen rule reaches the team', async () => {
    const profiles = { dana: newProfileDir(), sam: newProfileDir() };
    let dana = await launch(profiles.dana.dir);
    const sam = await launch(profiles.sam.dir);
    try {
      await connect(dana.context, dana.extensionId, server.url, server.tokens.Dana);
      await connect(sam.context, sam.extensionId, server.url, server.tokens.Sam);
      // The options now name Dana as the server does, not "Me" (#13), without doubled brackets.
      const danaOptions = await dana.context.newPage();
      await danaOptions.goto(`chrome-extension://${dana.extensionId}/options.html`);
      await danaOptions.locator('main[aria-busy="false"]').waitFor();
      assert.equal(await danaOptions.getByLabel('Name on the tips you keep on this device').inputValue(), 'Dana');
      await eventually(() => danaOptions.locator('#sync-state').textContent(), (t) => t.includes('YouDana, admin'), { what: 'the membership in the options' });
      // A wrong token, tried on the options page, is said plainly there (not "enter it in
      // Inflow's options" on the options page itself); nothing is saved by a test.
      await danaOptions.getByLabel('Member token').fill('inflow_not-a-real-token');
      await danaOptions.getByRole('button', { name: 'Test connection' }).click();
      await eventually(() => danaOptions.locator('#connection-result').textContent(), (t) => t === 'The server refused the member token (it is wrong, or was revoked). Ask your Inflow administrator for a new one.', { what: 'the wrong-token message' });
      await danaOptions.close();

      // Dana shares a tip on patient 1's orders.
      const danaPage = await dana.context.newPage();
      await danaPage.goto(`${demo.url}/patients/1/orders`);
      await danaPage.getByText(SHARED).first().waitFor();
      await capture(dana, danaPage, SHARED, 'Count the acetaminophen in combination products too.', { team: true, tags: 'dosing, orders' });
      const savedAt = Date.now();
      await eventually(() => server.exportTips(), (tips) => tips.length === 1, { what: 'the shared tip on the server' });

      // Sam opens patient 2's orders: the tip is there, highlighted on the same text.
      const samPage = await sam.context.newPage();
      await samPage.goto(`${demo.url}/patients/2/orders`);
      await eventually(() => highlightedTexts(samPage), (h) => h.length === 1 && h[0] === SHARED, { what: "Dana's tip highlighted for Sam", timeout: 10000 });
      console.log(`  propagation: Dana's save to Sam's highlight took ${Date.now() - savedAt} ms (page open included)`);
      const samTips = await storedTips(sam.worker);
      assert.equal(samTips.length, 1);
      assert.equal(samTips[0].author, 'Dana', 'signed with the name the server knows');
      assert.equal(samTips[0].note, 'Count the acetaminophen in combination products too.');

      // Sam opens the side panel: the tip is first under "This screen", and in the feed.
      const panel = await sam.context.newPage();
      await panel.goto(`chrome-extension://${sam.extensionId}/sidepanel.html`);
      await panel.locator('main[aria-busy="false"]').waitFor();
      const screenList = panel.locator('#screen-tips');
      await eventually(() => screenList.textContent(), (t) => t.includes('Count the acetaminophen'), { what: 'the tip under This screen' });
      assert.equal(await screenList.locator('.badge').count(), 0, 'a placed tip carries no badge saying so (#13: nothing repeated on every card)');
      await eventually(() => panel.locator('#sync-line').textContent(), (t) => t.startsWith('Online: E2E ward as Sam'), { what: 'the sync state' });
      assert.equal(await panel.locator('#feed > li').count(), 1);
      // The feed item says which screen it belongs to, in words, and "Go there" brings the
      // tab on that screen (patient 2's orders) forward (#13).
      const feedItem = panel.locator('#feed > li').first();
      assert.match(await feedItem.locator('.place').textContent(), /^On “\[name\] — Orders — Riverside General EMR” \(127\.0\.0\.1:\d+ › patients › any record › orders\)Go there$/);
      const activeTabs = () => sam.worker.evaluate(() => chrome.tabs.query({ active: true }).then((tabs) => tabs.map((tab) => tab.url)));
      assert.ok(!(await activeTabs()).includes(`${demo.url}/patients/2/orders`), 'the panel is the active tab before');
      await feedItem.getByRole('button', { name: 'Go there' }).click();
      await eventually(activeTabs, (urls) => urls.includes(`${demo.url}/patients/2/orders`), { what: "the tab on the tip's screen brought forward" });
      // Search by word, tag and author; a miss says so.
      await panel.getByRole('searchbox', { name: 'Search' }).fill('acetaminophen author:dana');
      assert.equal(await panel.locator('#feed > li').count(), 1);
      await panel.getByRole('searchbox', { name: 'Search' }).fill('heparin');
      assert.equal(await panel.locator('#feed > li').count(), 0);
      assert.equal(await panel.locator('#feed-count').textContent(), '0 of 1 tips match');
      await panel.getByRole('searchbox', { name: 'Search' }).fill('');
      // "Show on page" scrolls to the text in Sam's page and flashes it.
      await screenList.getByRole('button', { name: /^Show on page/ }).click();
      await eventually(() => samPage.evaluate(() => CSS.highlights.has('inflow-tip-flash')), (flashing) => flashing, { what: 'the flash in the page' });

      // Dana shares another tip while Sam's panel is open: it arrives live, behind a
      // button, so the list Sam is reading does not move.
      await capture(dana, danaPage, 'Use the Adult Subcutaneous Insulin order set.', 'The order set is under Favourites since the upgrade.', { team: true });
      const newTips = panel.locator('#new-tips');
      await eventually(() => newTips.isVisible(), (visible) => visible, { what: 'the new-tip button in the panel', timeout: 10000 });
      assert.equal(await newTips.textContent(), '1 new tip: show it');
      assert.equal(await panel.locator('#feed > li').count(), 1, 'the list did not move');
      await newTips.click();
      assert.equal(await panel.locator('#feed > li').count(), 2);
      assert.match(await panel.locator('#feed > li').first().textContent(), /Favourites since the upgrade/);
      await panel.getByLabel('Tag', { exact: true }).selectOption('dosing');
      assert.equal(await panel.locator('#feed > li').count(), 1, 'the tag filter keeps only the tagged tip');
      await panel.getByLabel('Tag', { exact: true }).selectOption('');

      // Sam starts a reply. While he types, Dana marks tips helpful in her panel: first the
      // other tip (Sam's list re-renders; the row he types in is kept as it is), then the
      // very tip he answers (its row is rebuilt, and his draft moves into it): his words and
      // his focus stay both times.
      const danaPanel = await dana.context.newPage();
      await danaPanel.goto(`chrome-extension://${dana.extensionId}/sidepanel.html`);
      await danaPanel.locator('main[aria-busy="false"]').waitFor();
      const samTip = panel.locator('#feed > li').filter({ hasText: 'Count the acetaminophen' });
      await samTip.getByRole('button', { name: 'Reply', exact: true }).click();
      const draft = samTip.getByLabel('Your reply');
      await draft.fill('Also Excedrin');
      await draft.evaluate((field) => { field.closest('li[data-tip]').untouched = true; });
      const draftState = () => draft.evaluate((field) => ({
        text: field.value, focused: document.activeElement === field, rowKept: field.closest('li[data-tip]').untouched === true,
      }));
      const danaRow = (text) => danaPanel.locator('#feed > li').filter({ hasText: text });
      await danaRow('Favourites since the upgrade').getByRole('button', { name: 'Helpful' }).click();
      const otherRow = panel.locator('#feed > li').filter({ hasText: 'Favourites since the upgrade' });
      await eventually(() => otherRow.textContent(), (t) => t.includes('Helpful · 1'), { what: "Dana's mark on the other tip in Sam's panel", timeout: 10000 });
      assert.deepEqual(await draftState(), { text: 'Also Excedrin', focused: true, rowKept: true }, 'an unchanged row is kept as it is');
      await danaRow('Count the acetaminophen').getByRole('button', { name: 'Helpful' }).click();
      await eventually(() => samTip.textContent(), (t) => t.includes('Helpful · 1'), { what: "Dana's mark on the tip Sam answers", timeout: 10000 });
      assert.deepEqual(await draftState(), { text: 'Also Excedrin', focused: true, rowKept: false }, 'a changed row is rebuilt with the draft in it');

      // Sam finishes his reply and marks the tip helpful too; Dana sees both.
      await draft.fill('Also Excedrin: it has 250 mg a tablet.');
      await samTip.getByRole('button', { name: 'Send reply' }).click();
      await samTip.getByRole('button', { name: 'Helpful' }).click();
      await eventually(() => samTip.getByRole('button', { name: /^Helpful/ }).getAttribute('aria-pressed'), (p) => p === 'true', { what: "Sam's helpful mark" });
      const danaTip = danaPanel.locator('#feed > li').filter({ hasText: 'Count the acetaminophen' });
      await eventually(() => danaTip.textContent(), (t) => t.includes('1 reply') && t.includes('Helpful · 2'), { what: "Sam's reply and mark in Dana's panel", timeout: 10000 });
      await danaTip.getByText('1 reply').click();
      assert.match(await danaTip.locator('.replies li').textContent(), /Also Excedrin: it has 250 mg a tablet\.Sam/);
      await danaPanel.close();

      // Dana keeps a private tip: it is stored, and never sent.
      await capture(dana, danaPage, 'Hold if HR < 60 or SBP < 100.', PRIVATE_NOTE, { team: false });

      // The server goes away. Dana's open panel says so within seconds (its live stream is
      // lost), in words; then she captures three tips and restarts her browser.
      const danaWatch = await dana.context.newPage();
      await danaWatch.goto(`chrome-extension://${dana.extensionId}/sidepanel.html`);
      await danaWatch.locator('main[aria-busy="false"]').waitFor();
      const syncLine = danaWatch.locator('#sync-line');
      await eventually(() => syncLine.textContent(), (t) => t.startsWith('Online: E2E ward as Dana'), { what: "Dana's panel online" });
      await server.stop();
      const stoppedAt = Date.now();
      await eventually(() => syncLine.textContent(), (t) => t.startsWith('Offline') && t.includes('cannot be reached') && !t.includes('TypeError'),
        { what: "Dana's open panel offline after the server stopped", timeout: 15000 });
      assert.equal(await syncLine.getAttribute('class'), 'problem');
      console.log(`  Dana's open panel said "Offline" ${Date.now() - stoppedAt} ms after the server stopped`);
      await danaWatch.close();
      for (const [i, text] of OFFLINE.entries()) await capture(dana, danaPage, text, `Offline tip ${i + 1}`, { team: true, offline: true });
      await dana.context.close();
      dana = await launch(profiles.dana.dir);
      assert.equal((await storedTips(dana.worker)).filter((tip) => tip.note.startsWith('Offline tip')).length, 3, 'kept through the restart');

      // Her panel shows what waits to be sent.
      const danaWaiting = await dana.context.newPage();
      await danaWaiting.goto(`chrome-extension://${dana.extensionId}/sidepanel.html`);
      await danaWaiting.locator('main[aria-busy="false"]').waitFor();
      await danaWaiting.getByLabel('Show').selectOption('waiting');
      assert.equal(await danaWaiting.locator('#feed > li').count(), 3, 'the three offline tips wait to be sent');
      assert.match(await danaWaiting.locator('#feed > li').first().textContent(), /team, waiting to send/);
      await danaWaiting.close();
      // The server returns; Dana presses "Sync now" in the options, her browser sends what
      // waited, and Sam, opening a page (which pulls), gets each tip once.
      await server.start();
      const options = await dana.context.newPage();
      await options.goto(`chrome-extension://${dana.extensionId}/options.html`);
      await options.getByRole('button', { name: 'Sync now' }).click();
      await eventually(() => options.locator('#connection-result').textContent(), (t) => t === 'Synced.', { what: 'the sync after the server returned', timeout: 15000 });
      assert.match(await options.locator('#sync-state').textContent(), /Waiting to send0 changes/);
      await eventually(() => server.exportTips(), (tips) => tips.length === 5, { what: 'the three offline tips on the server' });
      await samPage.goto(`${demo.url}/patients/3/orders`);
      const offline = await eventually(
        async () => (await storedTips(sam.worker)).filter((tip) => tip.note.startsWith('Offline tip')),
        (tips) => tips.length === 3,
        { what: "the offline tips in Sam's store", timeout: 15000 },
      );
      assert.deepEqual(offline.map((tip) => tip.note).sort(), ['Offline tip 1', 'Offline tip 2', 'Offline tip 3']);
      const onServer = await server.exportTips();
      assert.equal(new Set(onServer.map((entry) => entry.tip.tip.id)).size, 5, 'no tip doubled on the server');

      // The private tip crossed the network in no request, and the server does not have it.
      assert.ok(server.requests.length > 5, 'the proxy saw the sync traffic');
      assert.ok(server.requests.every((request) => !request.body.includes(PRIVATE_NOTE)), 'the private note was never sent');
      assert.ok(onServer.every((entry) => entry.tip.tip.note !== PRIVATE_NOTE));

      // Dana, the team's admin, adds a screen rule in her options; Sam's browser receives it.
      await options.getByLabel(/Team screen rules/).fill('/wards/*/board\nwards/*');
      await options.getByRole('button', { name: 'Save screen rules' }).click();
      await eventually(() => options.locator('#rules-result').textContent(), (t) => t.includes('starts with /'), { what: 'the bad rule refused with a reason' });
      await options.getByLabel(/Team screen rules/).fill('/wards/*/board');
      await options.getByRole('button', { name: 'Save screen rules' }).click();
      await eventually(() => options.locator('#rules-result').textContent(), (t) => t.startsWith('Saved.'), { what: 'the rule saved' });
      const samOptions = await sam.context.newPage();
      await samOptions.goto(`chrome-extension://${sam.extensionId}/options.html`);
      await samOptions.locator('main[aria-busy="false"]').waitFor();
      assert.ok(await samOptions.locator('#rules-form').isHidden(), 'only admins edit rules');
      await samOptions.getByRole('button', { name: 'Sync now' }).click();
      await eventually(() => samOptions.locator('#rules').textContent(), (t) => t === '/wards/*/board', { what: "the rule in Sam's options" });
    } finally {
      await dana.context.close();
      await sam.context.close();
      profiles.dana.remove();
      profiles.sam.remove();
    }
  });
});
