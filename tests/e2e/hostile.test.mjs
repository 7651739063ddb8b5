// Inflow on a hostile page: the demo app's /hostile/… page records every key, input and
// mutation of its document, reads its performance timeline, its frames and its selection,
// searches itself with window.find, dispatches clicks, mouse-ups and keys of its own, and
// navigates with pushState (demo/static/hostile.js). Meanwhile a user captures a private
// tip and opens a card holding a teammate's tip with a reply. The page must learn no note,
// tag, author or reply text, and nothing it dispatches may open anything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  eventually, highlightPoint, highlightedTexts, inflowFrame, launch, newProfileDir, openFormWithButton, startDemo, storedTips, uiText, uiTextEventually,
} from './harness.mjs';

const QUOTE = 'Discharge medications must be reconciled';
const MY_NOTE = 'Quillfeather rule: the pharmacist on call carries pager 5511';
const MY_TAG = 'zanzibar-tag';
const TEAMMATE = 'Ottoline Vasquez-Brandt';
const TEAM_NOTE = 'Marmalade check: fax the reconciliation sheet to extension 8832';
const TEAM_TAG = 'kumquat-tag';
const REPLY = 'Periwinkle reply: the fax moved to the second floor';
// Every word of these the page might search for or overhear.
const SECRETS = [MY_NOTE, MY_TAG, TEAMMATE, TEAM_NOTE, TEAM_TAG, REPLY];
const SECRET_WORDS = ['Quillfeather', 'pager 5511', 'zanzibar', 'Ottoline', 'Vasquez', 'Marmalade', '8832', 'kumquat', 'Periwinkle', 'second floor'];

let demo;
before(async () => (demo = await startDemo()));
after(() => demo.stop());

/** Every piece of text the page gathered, and what window.find turned up. */
async function whatThePageLearned(page) {
  await page.evaluate(() => window.__look());
  const found = await page.evaluate((words) => window.__find(words), SECRET_WORDS);
  const stolen = await page.evaluate(() => window.__stolen);
  return { found, stolen, all: JSON.stringify(stolen) + JSON.stringify(found) };
}

function assertNothingLearned(learned, when) {
  // The page's tools work: it reads its own text, its keys, its finds (else "nothing
  // learned" would prove nothing).
  assert.ok(learned.all.includes('Discharge medications must be reconciled'), `${when}: the recorder saw the page's own text`);
  const leaked = [...SECRETS, ...SECRET_WORDS].filter((secret) => learned.all.includes(secret));
  assert.deepEqual(leaked, [], `${when}: the page learned ${leaked.join(', ')}`);
  assert.deepEqual(learned.found, [], `${when}: window.find found tip text`);
  const inflowEntries = JSON.parse(learned.stolen.performance.at(-1)).filter((e) => e.name.startsWith('inflow:'));
  assert.ok(inflowEntries.every((e) => e.detail === null), `${when}: Inflow's performance entries carry details: ${JSON.stringify(inflowEntries)}`);
}

test('a hostile page learns no tip text and opens nothing with events of its own', async () => {
  const profile = newProfileDir();
  const { context, worker } = await launch(profile.dir);
  try {
    const page = await context.newPage();
    await page.goto(`${demo.url}/hostile/discharge?record=1`);
    await page.getByText(QUOTE).waitFor();

    // The user captures a private tip; the page listens to every key meanwhile.
    await openFormWithButton(page, '#summary', QUOTE);
    await page.evaluate(() => (window.__stolen.keys.length = 0));
    await page.keyboard.type(MY_NOTE);
    await page.keyboard.press('Tab');
    await page.keyboard.type(MY_TAG);
    await page.keyboard.press('Control+Enter');
    await uiTextEventually(page, 'notice', (t) => t.includes('only you'), 'the saved notice');
    assert.deepEqual(await page.evaluate(() => window.__stolen.keys), [], 'the page heard keys typed into the form');
    assert.deepEqual(await page.evaluate(() => window.__find(['transport needs'])), ['transport needs: transport needs'], 'window.find reads the page');
    const [mine] = await eventually(() => storedTips(worker), (tips) => tips.length === 1, { what: 'the private tip stored' });
    assert.equal(mine.note, MY_NOTE);
    assert.deepEqual(mine.tags, [MY_TAG]);
    assertNothingLearned(await whatThePageLearned(page), 'after the capture');

    // A teammate's tip on the same text, with a reply, as sync would have stored it.
    const theirs = {
      ...mine,
      id: mine.id.replace(/.{12}$/, '0123456789ab'),
      author: TEAMMATE,
      note: `${TEAM_NOTE}\u202e (reversed)`, // a right-to-left override: shown as text, without it
      tags: [TEAM_TAG],
      visibility: 'team',
      replies: [{ id: mine.id.replace(/.{12}$/, 'ba9876543210'), author: TEAMMATE, created: mine.created, text: REPLY }],
    };
    await worker.evaluate((tip) => new Promise((resolve, reject) => {
      const open = indexedDB.open('inflow');
      open.onsuccess = () => {
        const tx = open.result.transaction('tips', 'readwrite');
        tx.objectStore('tips').put(tip);
        tx.oncomplete = () => { open.result.close(); resolve(); };
        tx.onerror = () => reject(tx.error);
      };
      open.onerror = () => reject(open.error);
    }), theirs);
    await page.reload();
    await eventually(() => highlightedTexts(page), (h) => h.length === 2, { what: 'both tips painted' });

    // The user hovers and opens the card: both tips, the reply folded in.
    const { x, y } = await highlightPoint(page, QUOTE);
    await page.mouse.move(x, y, { steps: 4 });
    await uiTextEventually(page, 'peek', (t) => t.includes('click to open') && t.includes('(+1 more)'), 'the peek');
    await page.mouse.click(x, y);
    const card = await uiTextEventually(page, 'card', (t) => t.includes(TEAM_NOTE) && t.includes(MY_NOTE), 'the card with both tips');
    assert.match(card, new RegExp(TEAMMATE));
    assert.match(card, /1 reply/);
    assert.ok(card.includes(`${TEAM_NOTE} (reversed)`) && !card.includes('\u202e'), 'the bidirectional override is dropped from the card');
    assertNothingLearned(await whatThePageLearned(page), 'with the card open');

    // Escape closes the card and gives the focus back to the page; the page hears the key
    // it pressed no more than the others.
    await page.keyboard.press('Escape');
    await eventually(() => inflowFrame(page), (frame) => frame === null, { what: 'the card closed' });
    await page.keyboard.press('x');
    // (It hears the Escape key's release, which happens after the card gave the focus back.)
    assert.ok((await page.evaluate(() => window.__stolen.keys)).includes('x'), 'the focus is back in the page');

    // Events of the page's own open nothing: no card, no peek, no "+ Tip".
    await page.evaluate(() => window.__attack());
    await sleep(600);
    assert.equal(await inflowFrame(page), null, 'a synthetic click or hover opened Inflow\'s frame');
    assert.equal(await uiText(page, 'add'), null, 'a synthetic mouse-up showed "+ Tip"');

    // The page removes Inflow's UI from its DOM: the next click on a tip still opens it.
    await page.evaluate(() => document.querySelector('[data-inflow-ui]').remove());
    await page.mouse.click(x, y);
    await uiTextEventually(page, 'card', (t) => t.includes(MY_NOTE), 'the card after the page removed Inflow\'s UI');
    await page.keyboard.press('Escape');
    await eventually(() => inflowFrame(page), (frame) => frame === null, { what: 'the card closed again' });

    // The app's own navigation to another record: still nothing.
    await page.evaluate(() => window.__navigate());
    await sleep(300);
    assertNothingLearned(await whatThePageLearned(page), 'after pushState');
  } finally {
    await context.close();
    profile.remove();
  }
});

test("on a page whose CSP forbids every frame, Inflow's frame still opens and saves", async () => {
  const profile = newProfileDir();
  const { context, worker } = await launch(profile.dir);
  try {
    const page = await context.newPage();
    const refused = [];
    page.on('console', (message) => message.text().includes('Content Security Policy') && refused.push(message.text()));
    await page.goto(`${demo.url}/no-frames/discharge`);
    await page.getByText(QUOTE).waitFor();
    await openFormWithButton(page, '#summary', QUOTE);
    await page.keyboard.type('Reconcile before signing.');
    await page.keyboard.press('Control+Enter');
    await uiTextEventually(page, 'notice', (t) => t.includes('only you'), 'the saved notice');
    await eventually(() => storedTips(worker), (tips) => tips.length === 1, { what: 'the tip stored' });
    assert.deepEqual(refused, [], 'the page\'s CSP refused nothing of Inflow\'s');
  } finally {
    await context.close();
    profile.remove();
  }
});
