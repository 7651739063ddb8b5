// Screens reached the way users reach them: through the app's own links (History API),
// back and forward. A tip is filed under the screen the user is on, comes back there, is
// quiet on other records, and never flagged for review in the team's name while the app
// is between screens. A page moving its own address cannot reach another site's tips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { captureOnOrders, eventually, highlightedTexts, launch, newProfileDir, startDemo, storedTips } from './harness.mjs';

const QUOTE = 'DVT prophylaxis. Hold for platelets < 100.'; // Heparin, on Jane Doe's orders only among patients 1 and 5
const SETTLE_MS = 2500; // longer than the content script's SETTLED_AFTER_MS

let demo, profile, browser, page;
before(async () => {
  demo = await startDemo();
  profile = newProfileDir();
  browser = await launch(profile.dir);
  page = await browser.context.newPage();
});
after(async () => {
  await browser.context.close();
  profile.remove();
  demo.stop();
});

const has = (text) => (highlights) => highlights.includes(text);
const none = (highlights) => highlights.length === 0;
const flagged = async () => (await storedTips(browser.worker)).filter((t) => t.curation?.needsReview);

test('through the app\'s links, back and forward: filed under the screen the user is on, back where it belongs, quiet elsewhere, never flagged', async () => {
  await page.goto(`${demo.url}/patients`); // the only address the document ever loads with
  await page.getByRole('link', { name: 'Jane Doe' }).click();
  await page.waitForURL(/\/patients\/1\/orders$/);
  await page.getByRole('link', { name: 'Notes' }).click();
  await page.waitForURL(/\/patients\/1\/notes$/);
  await page.getByRole('link', { name: 'Orders' }).click();
  await page.waitForURL(/\/patients\/1\/orders$/);
  await page.getByText('Heparin').first().waitFor();

  const tip = await captureOnOrders(browser, page, QUOTE, 'Platelets are in the CBC panel.', { team: true, offline: true }); // no team server here
  // Shared, it names the screen and not the patient's record (issue #15).
  assert.equal(tip.target.source, `${demo.url}/patients/*/orders`, 'filed under the orders screen, not the list the page loaded as');
  await eventually(() => highlightedTexts(page), has(QUOTE), { what: 'the highlight' });

  await page.goBack(); // notes
  await page.waitForURL(/\/notes$/);
  await eventually(() => highlightedTexts(page), none, { what: 'no highlight on the notes' });
  await page.goBack(); // orders
  await page.waitForURL(/\/patients\/1\/orders$/);
  await eventually(() => highlightedTexts(page), has(QUOTE), { what: 'the highlight after going back' });
  await page.goBack(); // the list
  await page.waitForURL(/\/patients$/);
  await eventually(() => highlightedTexts(page), none, { what: 'no highlight on the list' });
  await page.waitForTimeout(SETTLE_MS);
  assert.deepEqual(await flagged(), [], 'nothing flagged on the list');

  await page.goForward(); // orders again
  await page.waitForURL(/\/patients\/1\/orders$/);
  await eventually(() => highlightedTexts(page), has(QUOTE), { what: 'the highlight after going forward' });

  // Another record of the same screen, by the app's links: Aisha Rahman has no heparin.
  await page.getByRole('link', { name: 'Patient list' }).click();
  await page.getByRole('link', { name: 'Aisha Rahman' }).click();
  await page.waitForURL(/\/patients\/5\/orders$/);
  await page.getByText('Ondansetron').first().waitFor();
  await eventually(() => highlightedTexts(page), none, { what: 'no highlight on another record' });
  await page.waitForTimeout(SETTLE_MS);
  assert.deepEqual(await flagged(), [], 'a tip about another record is not flagged');

  // The side panel says so quietly: about another record, not "needs review".
  const panel = await browser.context.newPage();
  await panel.goto(`chrome-extension://${browser.extensionId}/sidepanel.html`);
  await panel.locator('main[aria-busy="false"]').waitFor();
  await page.bringToFront();
  await panel.bringToFront();
  const screen = panel.locator('#screen-tips');
  await eventually(() => screen.textContent(), (t) => t.includes('1 tip for this screen is about another record'), { what: 'the other-record summary' });
  assert.ok(!(await screen.textContent()).includes('Needs review'), await screen.textContent());
  await panel.close();
});

test('a page that moves its own address gains nothing of another site\'s tips', async () => {
  // A tip on the same app served as another origin (localhost instead of 127.0.0.1).
  const other = new URL(demo.url);
  other.hostname = 'localhost';
  await page.goto(`${other.origin}/patients/1/orders`);
  await page.getByText('Heparin').first().waitFor();
  await captureOnOrders(browser, page, 'Check K+ and creatinine before the 3rd dose.', 'Renal panel first.', { team: true, offline: true });

  await page.goto(`${demo.url}/patients`);
  const attempts = await page.evaluate((target) => {
    const tried = [];
    try {
      history.pushState({}, '', target);
      tried.push('moved');
    } catch (error) {
      tried.push(error.name);
    }
    history.pushState({}, '', '/patients/1/orders'); // its own origin: allowed, as any navigation
    dispatchEvent(new PopStateEvent('popstate'));
    return tried;
  }, `${other.origin}/patients/1/orders`);
  assert.deepEqual(attempts, ['SecurityError'], 'the browser refuses a move to another origin');
  // The move within its own origin shows that origin's tip of the screen (the refresh ran),
  // and never the other origin's.
  await eventually(() => highlightedTexts(page), has(QUOTE), { what: "this origin's tip after the page's own move" });
  assert.deepEqual(await highlightedTexts(page), [QUOTE], "the other origin's tip never shows here");
});
