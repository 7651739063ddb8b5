// Authors fix and remove their own tips: from the tip's card on the page and from the side
// panel, with Undo after a delete; the team's server and a teammate's browser follow; a
// teammate is offered neither.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  captureOnOrders, connect, eventually, highlightedTexts, inflowFrame, launch, newProfileDir, startDemo, startTeamServer, storedTips, uiTextEventually,
} from './harness.mjs';

const QUOTE = 'Check K+ and creatinine before the 3rd dose.';
let demo, server, profiles, dana, sam;
before(async () => {
  demo = await startDemo();
  server = await startTeamServer(['Dana', 'Sam']);
  profiles = { dana: newProfileDir(), sam: newProfileDir() };
  dana = await launch(profiles.dana.dir);
  sam = await launch(profiles.sam.dir);
  await connect(dana.context, dana.extensionId, server.url, server.tokens.Dana);
  await connect(sam.context, sam.extensionId, server.url, server.tokens.Sam);
});
after(async () => {
  await dana.context.close();
  await sam.context.close();
  Object.values(profiles).forEach((p) => p.remove());
  await server.close();
  demo.stop();
});

/** Clicks the middle of `text` on `page`, where Inflow hit-tests its highlights. */
async function clickText(page, text) {
  const box = await page.getByText(text).first().boundingBox();
  await page.mouse.click(box.x + Math.min(box.width / 2, 40), box.y + box.height / 2);
}
const onServer = async (id) => (await server.exportTips()).find((e) => e.tip.tip.id === id)?.tip;

test("the author edits and deletes from the tip's card, with Undo; the server and a teammate follow; the teammate may do neither", async () => {
  const page = await dana.context.newPage();
  await page.goto(`${demo.url}/patients/1/orders`);
  const tip = await captureOnOrders(dana, page, QUOTE, 'Renal panel first.', { team: true });
  await eventually(() => onServer(tip.id), (t) => t?.tip.note === 'Renal panel first.', { what: 'the tip on the server' });

  const samPage = await sam.context.newPage();
  await samPage.goto(`${demo.url}/patients/1/orders`);
  await eventually(() => highlightedTexts(samPage), (h) => h.includes(QUOTE), { what: "Dana's tip at Sam's", timeout: 10000 });
  await clickText(samPage, QUOTE);
  await uiTextEventually(samPage, 'card', (t) => t.includes('Renal panel first.'), "the card at Sam's");
  const samCard = await inflowFrame(samPage);
  assert.equal(await samCard.getByRole('button', { name: 'Edit' }).count(), 0, 'a teammate is not offered Edit');
  assert.equal(await samCard.getByRole('button', { name: 'Delete' }).count(), 0, 'nor Delete');

  // Edit in the card: the form comes filled in, Ctrl+Enter saves it.
  await clickText(page, QUOTE);
  await uiTextEventually(page, 'card', (t) => t.includes('Renal panel first.'), 'the card');
  const card = await inflowFrame(page);
  await card.getByRole('button', { name: 'Edit' }).click();
  const note = card.locator('#card').getByLabel('Note');
  assert.equal(await note.inputValue(), 'Renal panel first.');
  await note.press('Control+A');
  await page.keyboard.type('Renal panel first; potassium above 5.0 holds the dose.');
  await page.keyboard.press('Control+Enter');
  await uiTextEventually(page, 'card', (t) => t.includes('potassium above 5.0') && !t.includes('Save changes'), 'the card with the edit saved');
  await eventually(() => onServer(tip.id), (t) => t?.tip.note === 'Renal panel first; potassium above 5.0 holds the dose.', { what: 'the edit on the server' });

  // Delete from the card, then Undo.
  await card.getByRole('button', { name: 'Delete' }).click();
  await eventually(() => card.locator('#undo-line').isVisible(), Boolean, { what: 'the delete with Undo' });
  await eventually(() => highlightedTexts(page), (h) => !h.includes(QUOTE), { what: 'the highlight gone' });
  await eventually(() => onServer(tip.id), (t) => t?.deleted, { what: 'the tombstone on the server' });
  // Opening a page pulls the team's changes, at most every 3 s.
  await samPage.waitForTimeout(3100);
  await samPage.reload();
  await samPage.getByText('Lisinopril').first().waitFor();
  await eventually(() => storedTips(sam.worker), (tips) => tips.length === 0, { what: "gone from Sam's device", timeout: 10000 });
  await eventually(() => highlightedTexts(samPage), (h) => !h.includes(QUOTE), { what: "gone from Sam's page" });

  await card.getByRole('button', { name: 'Undo' }).click();
  await eventually(() => highlightedTexts(page), (h) => h.includes(QUOTE), { what: 'the highlight back' });
  await uiTextEventually(page, 'card', (t) => t.includes('potassium above 5.0'), 'the tip back in its card');
  await samPage.waitForTimeout(3100);
  await samPage.reload();
  await eventually(() => highlightedTexts(samPage), (h) => h.includes(QUOTE), { what: "back at Sam's", timeout: 10000 });
});

test('the author edits, takes back and deletes from the side panel, with Undo', async () => {
  const page = await dana.context.newPage();
  await page.goto(`${demo.url}/patients/3/orders`);
  const tip = await captureOnOrders(dana, page, 'Ceftriaxone', 'Day count is in the MAR.', { team: true });
  const panel = await dana.context.newPage();
  await panel.goto(`chrome-extension://${dana.extensionId}/sidepanel.html`);
  await panel.locator('main[aria-busy="false"]').waitFor();
  const item = panel.locator(`#feed li[data-tip="${tip.id}"]`);
  await item.getByRole('button', { name: 'Edit' }).click();
  await item.getByLabel('Note').fill('Day count is in the MAR, under Antibiotics.');
  await item.getByLabel('Who sees it').selectOption('private');
  await item.getByRole('button', { name: 'Save changes' }).click();
  // Taken back: the team's copy is deleted; this device keeps it, private, under a new id.
  await eventually(() => onServer(tip.id), (t) => t?.deleted, { what: 'the tombstone of the taken-back tip' });
  const [mine] = await eventually(async () => (await storedTips(dana.worker)).filter((t) => t.note === 'Day count is in the MAR, under Antibiotics.'), (t) => t.length === 1, { what: 'the private copy' });
  assert.equal(mine.visibility, 'private');
  assert.ok(!server.requests.some((r) => r.body.includes('under Antibiotics')), 'the private words never reached the server');

  const mineItem = panel.locator(`#feed li[data-tip="${mine.id}"]`);
  await mineItem.getByRole('button', { name: 'Delete' }).click();
  await eventually(() => panel.locator('#undo-line').isVisible(), Boolean, { what: 'the undo line' });
  await eventually(async () => (await storedTips(dana.worker)).some((t) => t.id === mine.id), (present) => !present, { what: 'deleted from the device' });
  await panel.getByRole('button', { name: 'Undo' }).click();
  await eventually(async () => (await storedTips(dana.worker)).some((t) => t.id === mine.id), Boolean, { what: 'back after Undo' });
});
