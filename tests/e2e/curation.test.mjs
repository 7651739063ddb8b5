// Curation as trainers use it: a member proposes a tip from the side panel; the curator
// finds it in the curator queue, approves it, gives it a title, gathers it into a
// collection, and downloads the printable tip sheet, which is then opened in the browser
// and read as a trainee would (and printed), and the collection as a cmi5 course. Members see the approval but cannot approve.
// A control that an upgrade removes flags its pinned tip for the curators by itself. The
// curator imports a Hypothesis file and reads what was skipped and why.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { axeViolations, captureOnOrders, connect, eventually, launch, newProfileDir, openExtensionPage, openPanel, pinWithContextMenu, startDemo, startTeamServer, uiTextEventually } from './harness.mjs';

const TIPS = {
  sets: { text: 'Max 3 g/day from all sources.', note: 'Count <b>combination</b> products too; =SUM(A1) is not a formula here.' },
  other: { text: 'Metoprolol tartrate', note: 'Hold if HR < 60.' },
};
const TITLE = 'Acetaminophen: count every source';
const VERIFY_BY = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10); // the curator's choice
const SCREENSHOTS = fileURLToPath(new URL('../../target/screenshots/', import.meta.url));
const CMI5_SCHEMA = fileURLToPath(new URL('../cmi5/CourseStructure.xsd', import.meta.url));
const HYPOTHESIS_FILE = new URL('../../core/tests/golden/hypothesis-search.json', import.meta.url).pathname;

let demo;
let server;
before(async () => {
  demo = await startDemo();
  server = await startTeamServer(['Dana', 'Cory'], { roles: { Cory: 'curator' } });
});
after(async () => {
  demo.stop();
  await server.close();
});

/** The feed's item for the tip whose note is `note`. */
const feedItem = (panel, note) => panel.locator('#feed > li', { hasText: note.slice(0, 20) });

describe('curators turn tips into learning material', () => {
  test('proposed by a member, approved and titled by a curator, collected, downloaded as a tip sheet that prints', async () => {
    const profiles = { dana: newProfileDir(), cory: newProfileDir() };
    const download = mkdtempSync(join(tmpdir(), 'inflow-download-'));
    const dana = await launch(profiles.dana.dir);
    const cory = await launch(profiles.cory.dir);
    try {
      await connect(dana.context, dana.extensionId, server.url, server.tokens.Dana);
      await connect(cory.context, cory.extensionId, server.url, server.tokens.Cory);
      const page = await dana.context.newPage();
      await page.goto(`${demo.url}/patients/1/orders`);
      await page.getByText(TIPS.sets.text).first().waitFor();
      await captureOnOrders(dana, page, TIPS.sets.text, TIPS.sets.note, { team: true, tags: 'dosing' });
      await captureOnOrders(dana, page, TIPS.other.text, TIPS.other.note, { team: true });

      // Dana, a member, proposes her tip; she is offered no curator's steps.
      const danaPanel = await openPanel(dana);
      const danaItem = feedItem(danaPanel, TIPS.sets.note);
      assert.equal(await danaItem.getByRole('button', { name: 'Approve' }).count(), 0, 'members cannot approve');
      assert.equal(await danaPanel.locator('#queue-section').isHidden(), true, 'members have no curator queue');
      assert.equal(await danaPanel.locator('#queue-jump-line').isHidden(), true, 'nor a jump to one');
      await danaItem.getByRole('button', { name: 'Suggest for training' }).click();
      await eventually(() => danaItem.locator('.curation').textContent().catch(() => ''), (t) => t.includes('Proposed'), { what: 'the Proposed badge' });
      await eventually(() => danaPanel.locator('#curation-status').textContent(), (t) => t === "Suggested for training: it now waits in the curators' queue.", { what: 'the suggestion confirmed' });
      assert.equal(await danaPanel.locator('#curation-undo').count(), 0, 'a member cannot take a suggestion back (only curators reopen), so no Undo is offered');
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.curation?.status === 'proposed'), { what: 'the proposal on the server', timeout: 10000 });

      // Cory, a curator, finds it in the queue and approves it there.
      const panel = await openPanel(cory);
      await eventually(() => panel.locator('#feed > li').count(), (n) => n === 2, { what: "Dana's tips in Cory's feed", timeout: 10000 });
      const queued = panel.locator('#queue > li', { hasText: TIPS.sets.note.slice(0, 20) });
      await eventually(() => panel.locator('#queue-count').textContent(), (t) => t === '1 tip waits for a curator.', { what: 'the queue count' });
      // At panel width the queue is a jump away from the top, whatever is above it (#13).
      await panel.setViewportSize({ width: 380, height: 500 });
      await panel.evaluate(() => window.scrollTo(0, 0));
      const headingInView = () => panel.locator('#queue-heading').evaluate((h) => {
        const { top } = h.getBoundingClientRect();
        return top > -1 && top < innerHeight && document.activeElement === h; // scrolled to the top, to a fraction of a pixel
      });
      await panel.getByRole('link', { name: '1 tip waits for your review' }).click();
      await eventually(headingInView, Boolean, { what: 'the curator queue in view with the focus' });
      await panel.setViewportSize({ width: 1280, height: 900 });
      await queued.getByRole('button', { name: 'Approve' }).click();
      await queued.getByLabel('Verify again by').fill(VERIFY_BY);
      await queued.getByRole('button', { name: 'Confirm approval' }).click();
      const item = feedItem(panel, TIPS.sets.note);
      await eventually(() => item.locator('.curation').textContent().catch(() => ''), (t) => t.includes('Approved') && t.includes('verified by Cory'), { what: 'the Approved badge' });
      await eventually(() => panel.locator('#queue-count').textContent(), (t) => t === 'Nothing waits for a curator.', { what: 'the queue emptied' });
      // The tip left the queue: the panel says what happened to it, and offers to undo it (#13).
      const said = panel.locator('#curation-status');
      await eventually(() => said.textContent(), (t) => t === `Approved: it is among the approved tips, to be checked again by ${VERIFY_BY}. Undo`, { what: 'the approval confirmed, with an undo' });
      await eventually(() => panel.locator('form[data-action="approve"]').count(), (n) => n === 0, { what: 'the approval form closed at once' });
      await said.getByRole('button', { name: 'Undo' }).click();
      await eventually(() => said.textContent(), (t) => t === 'Undone: the tip is back as it was.', { what: 'the undo done' });
      await eventually(() => panel.locator('#queue-count').textContent(), (t) => t === '1 tip waits for a curator.', { what: 'the tip back in the queue' });
      await eventually(() => item.locator('.curation').textContent().catch(() => ''), (t) => t.includes('Proposed') && !t.includes('Approved'), { what: 'the Proposed badge again' });
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.note === TIPS.sets.note && r.tip.tip.curation?.status === 'proposed'), { what: 'the undo on the server', timeout: 10000 });
      await queued.getByRole('button', { name: 'Approve' }).click();
      await queued.getByLabel('Verify again by').fill(VERIFY_BY);
      await queued.getByRole('button', { name: 'Confirm approval' }).click();
      await eventually(() => item.locator('.curation').textContent().catch(() => ''), (t) => t.includes('Approved'), { what: 'approved again' });

      // A title of the curator's own; the author's note stays as written.
      await item.locator('details.more-steps > summary').click(); // the curator's other steps, in one menu
      await item.getByRole('button', { name: 'Edit title' }).click();
      await item.getByLabel('Title').fill(TITLE);
      await item.getByRole('button', { name: 'Save title' }).click();
      await eventually(() => item.locator('.curated-title').textContent().catch(() => ''), (t) => t === TITLE, { what: 'the curated title' });
      assert.ok((await item.locator('.note').textContent()).startsWith('Count <b>combination</b>'), 'the note is untouched, and shown as text');
      await item.getByText(/^History \(/).click();
      const history = await item.locator('details.history li').allTextContents();
      assert.deepEqual(history.map((line) => line.split(' · ')[1]), [
        `Cory: titled it “${TITLE}”`, `Cory: approved; verify again by ${VERIFY_BY}`, 'Cory: proposed', `Cory: approved; verify again by ${VERIFY_BY}`, 'Dana: proposed',
      ], 'newest first, the undo (a proposal again) among them');

      // A collection, with the approved tip in it.
      await panel.getByRole('textbox', { name: 'New collection' }).fill('Orders after the March upgrade');
      await panel.getByRole('button', { name: 'Create' }).click();
      await eventually(() => panel.locator('#curation-status').textContent(), (t) => t.includes('made'), { what: 'the collection made' });
      if (!(await item.locator('details.more-steps').evaluate((menu) => menu.open))) await item.locator('details.more-steps > summary').click();
      await item.getByLabel('Add to collection').selectOption({ label: 'Orders after the March upgrade' });
      await eventually(() => panel.locator('#curation-status').textContent(), (t) => t.includes('Added to'), { what: 'the tip added to the collection' });
      await panel.locator('#show').selectOption({ label: 'Collection: Orders after the March upgrade (1)' });
      assert.equal(await panel.locator('#feed > li').count(), 1, 'the collection shows its one tip');
      await panel.locator('#show').selectOption('all');

      // The team brings its Hypothesis annotations; the report says what was left out and why.
      await panel.getByLabel(/Import notes from another annotation tool/).setInputFiles(HYPOTHESIS_FILE);
      await panel.getByRole('button', { name: 'Import for the team' }).click();
      await eventually(() => panel.locator('#curation-status').textContent(), (t) => t === 'Imported 2 tips and 1 reply from Hypothesis; skipped 2.', { what: 'the import summary', timeout: 10000 });
      assert.match(await panel.locator('#import-report').textContent(), /hPageNote01: it has no text quote or CSS selector to anchor to/);
      // Arrivals wait behind a button, so the feed does not move under the reader.
      await panel.getByRole('button', { name: '2 new tips: show them' }).click({ timeout: 10000 });
      assert.equal(await panel.locator('#feed > li').count(), 4, 'the imported tips are in the feed');
      await panel.getByRole('searchbox', { name: 'Search' }).fill('author:alice');
      assert.equal(await panel.locator('#feed > li').count(), 1, "Alice's annotation, with her name");
      await panel.getByRole('searchbox', { name: 'Search' }).fill('');

      // The server has the approval, the title and the collection; Dana's panel shows the approval.
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.curation?.status === 'approved' && r.tip.tip.curation?.title === TITLE), { what: 'the approval on the server', timeout: 10000 });
      await danaPanel.reload();
      await danaPanel.locator('main[aria-busy="false"]').waitFor();
      await eventually(() => feedItem(danaPanel, TIPS.sets.note).locator('.curation').textContent().catch(() => ''), (t) => t.includes('Approved'), { what: "the approval in Dana's panel", timeout: 10000 });

      // Cory downloads the approved tips as a printable tip sheet.
      await panel.getByRole('combobox', { name: 'Tips', exact: true }).selectOption('approved');
      await panel.getByRole('combobox', { name: 'Format' }).selectOption('html');
      const [file] = await Promise.all([panel.waitForEvent('download'), panel.getByRole('button', { name: 'Download' }).click()]);
      assert.match(file.suggestedFilename(), /^inflow-approved-tips-\d{4}-\d{2}-\d{2}\.html$/);
      const saved = join(download, file.suggestedFilename());
      await file.saveAs(saved);
      await eventually(() => panel.locator('#export-status').textContent(), (t) => t.startsWith('Downloaded inflow-approved-tips') && t.includes('1 tip as Printable tip sheet'), { what: 'the export status' });

      // The collection as a course for the LMS: a cmi5 package whose structure validates and
      // whose unit carries the extension's own cmi5 script.
      await panel.getByRole('combobox', { name: 'Tips', exact: true }).selectOption({ label: 'Collection: Orders after the March upgrade (1)' });
      await panel.getByRole('combobox', { name: 'Format' }).selectOption('cmi5');
      const [course] = await Promise.all([panel.waitForEvent('download'), panel.getByRole('button', { name: 'Download' }).click()]);
      assert.match(course.suggestedFilename(), /^inflow-orders-after-the-march-upgrade-\d{4}-\d{2}-\d{2}-cmi5\.zip$/);
      const courseZip = join(download, course.suggestedFilename());
      await course.saveAs(courseZip);
      await eventually(() => panel.locator('#export-status').textContent(), (t) => t.includes('1 tip as Course for a learning system'), { what: 'the course export status' });
      const unpacked = join(download, 'course');
      execFileSync('python3', ['-m', 'zipfile', '-e', courseZip, unpacked]);
      execFileSync('xmllint', ['--noout', '--schema', CMI5_SCHEMA, join(unpacked, 'cmi5.xml')], { stdio: 'pipe' });
      assert.match(readFileSync(join(unpacked, 'cmi5.xml'), 'utf8'), /<langstring lang="en">Orders after the March upgrade<\/langstring>/);
      assert.equal(readFileSync(join(unpacked, 'au.js'), 'utf8'), readFileSync(join(process.env.INFLOW_DIST, 'cmi5-au.js'), 'utf8'), "the unit's script is the extension's");
      assert.match(readFileSync(join(unpacked, 'index.html'), 'utf8'), new RegExp(`<h3>${TITLE}`), 'the step, with its curator title');

      // The sheet, opened in the browser as a trainee would.
      const html = readFileSync(saved, 'utf8');
      assert.ok(!/<script|<link|<img|src=|@import|url\(/i.test(html), 'nothing runs and nothing loads from elsewhere');
      const sheet = await cory.context.newPage();
      await sheet.goto(pathToFileURL(saved).href);
      assert.equal(await sheet.locator('h1').textContent(), 'Approved tips');
      assert.equal(await sheet.locator('article.tip').count(), 1, 'only the approved tip');
      assert.equal(await sheet.locator('section.group > h2').textContent(), 'Orders after the March upgrade', 'grouped by its collection');
      assert.ok((await sheet.locator('article.tip h3').textContent()).startsWith(TITLE));
      assert.equal(await sheet.locator('article.tip .note').textContent(), TIPS.sets.note, 'the note, markup shown as text');
      assert.equal(await sheet.locator('article.tip b').count(), 0, 'no markup from the note became an element');
      assert.equal(await sheet.locator('blockquote').textContent(), TIPS.sets.text);
      assert.match(await sheet.locator('article.tip .facts').last().textContent(), new RegExp(`Approved by Cory on \\d{4}-\\d{2}-\\d{2}; verify again by ${VERIFY_BY}`));
      // On paper: a tip is never split across pages.
      await sheet.emulateMedia({ media: 'print' });
      assert.equal(await sheet.locator('article.tip').evaluate((a) => getComputedStyle(a).breakInside), 'avoid');
      const pdf = await sheet.pdf({ format: 'A4' });
      assert.ok(pdf.subarray(0, 5).toString() === '%PDF-' && pdf.length > 1000, 'it prints');

      // An upgrade removes the control a shared tip is pinned to: once the page settles,
      // the tip is flagged for review, and the curator's queue has it.
      await page.bringToFront(); // the context menu acts on the active tab
      const header = page.getByRole('columnheader', { name: 'Instructions' });
      await pinWithContextMenu(dana.worker, header);
      await uiTextEventually(page, 'quote', (t) => t === 'Element: th “Instructions”', 'the element capture form');
      await page.keyboard.type('Hold parameters live in this column.');
      await page.keyboard.press('Control+Enter');
      await uiTextEventually(page, 'notice', (t) => t.includes('saved for your team'), 'the saved notice');
      await page.evaluate(() => document.querySelectorAll('table.orders th').forEach((th) => th.remove())); // the upgrade
      const flagged = await eventually(
        () => server.exportTips(),
        (rows) => rows.some((r) => r.tip.tip.note === 'Hold parameters live in this column.' && r.tip.tip.curation?.needsReview),
        { what: 'the pinned tip flagged for review on the server', timeout: 20000 },
      );
      assert.match(flagged.find((r) => r.tip.tip.curation?.needsReview).tip.tip.curation.needsReview.reason, /control it is pinned to was not found/);
      await panel.getByRole('button', { name: 'Sync now' }).click();
      await eventually(() => panel.locator('#queue-count').textContent(), (t) => t === '1 tip waits for a curator.', { what: 'the flagged tip in the queue', timeout: 10000 });
      assert.match(await panel.locator('#queue > li .curation').textContent(), /Needs review/);
    } finally {
      await dana.context.close();
      await cory.context.close();
      profiles.dana.remove();
      profiles.cory.remove();
      rmSync(download, { recursive: true, force: true });
    }
  });

  test('the toolbar marks a tip to review and a reply to my tip until the panel is opened, which lists them under For you', async () => {
    const profiles = { dana: newProfileDir(), cory: newProfileDir() };
    const dana = await launch(profiles.dana.dir);
    const cory = await launch(profiles.cory.dir);
    const NOTE = 'Check the pharmacy queue before ordering it again.';
    const REPLY = 'Also call pharmacy if it is urgent.';
    /** The toolbar button's badge and title: of the tab whose address starts with `prefix`, or of every tab. */
    const toolbar = (browser, prefix = '') => browser.worker.evaluate(async (prefix) => {
      const tab = prefix ? (await chrome.tabs.query({})).find((t) => t.url?.startsWith(prefix)) : null;
      const details = tab ? { tabId: tab.id } : {};
      return { text: await chrome.action.getBadgeText(details), title: await chrome.action.getTitle(details) };
    }, prefix);
    /** What sync brings, as the options page's Sync now brings it. */
    const syncNow = async (browser) => {
      const options = await openExtensionPage(browser, 'options.html');
      await options.getByRole('button', { name: 'Sync now' }).click();
      await eventually(() => options.locator('#connection-result').textContent(), (t) => t !== '' && t !== 'Syncing…', { what: 'the sync done', timeout: 10000 });
      await options.close();
    };
    try {
      await connect(dana.context, dana.extensionId, server.url, server.tokens.Dana);
      await connect(cory.context, cory.extensionId, server.url, server.tokens.Cory);
      const page = await dana.context.newPage();
      await page.goto(`${demo.url}/patients/2/orders`);
      await page.getByText(TIPS.other.text).first().waitFor();
      await captureOnOrders(dana, page, TIPS.other.text, NOTE, { team: true });
      const danaPanel = await openPanel(dana);
      await feedItem(danaPanel, NOTE).getByRole('button', { name: 'Suggest for training' }).click();
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.note === NOTE && r.tip.tip.curation?.status === 'proposed'), { what: 'the suggestion on the server', timeout: 10000 });
      await danaPanel.close();

      // Cory curates: once sync brings the suggestion, his toolbar button says so, in words too.
      await syncNow(cory);
      await eventually(() => toolbar(cory), (b) => b.text === '!' && /For you in the side panel: (a tip|\d+ tips) to review\.$/.test(b.title), { what: "the mark on Cory's toolbar" });
      const coryPanel = await openPanel(cory);
      const toReview = coryPanel.locator('#for-you > li', { hasText: NOTE.slice(0, 20) });
      await eventually(() => toReview.textContent().catch(() => ''), (t) => t.includes('For you to review'), { what: 'the suggestion under For you' });
      await eventually(() => toolbar(cory), (b) => b.text === '' && b.title === 'Inflow', { what: 'the mark gone once the panel showed it' });

      // Cory replies from there; Dana, the author, is told on her tab's button beside its count.
      await toReview.getByRole('button', { name: 'Reply', exact: true }).click();
      await toReview.getByLabel('Your reply').fill(REPLY);
      await toReview.getByRole('button', { name: 'Send reply' }).click();
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.note === NOTE && r.tip.tip.replies?.length === 1), { what: 'the reply on the server', timeout: 10000 });
      const ordersTab = `${demo.url}/patients/2/orders`;
      const { text: before } = await toolbar(dana, ordersTab);
      assert.match(before, /^\d+$/, 'the orders tab counts its tips');
      await syncNow(dana);
      await eventually(() => toolbar(dana, ordersTab), (b) => b.text === `${before}!` && b.title.endsWith('For you in the side panel: a new reply to your tip.'), { what: "the reply's mark on Dana's tab" });
      const again = await openPanel(dana);
      const replied = again.locator('#for-you > li', { hasText: NOTE.slice(0, 20) });
      await eventually(() => replied.textContent().catch(() => ''), (t) => t.includes('New reply to your tip') && t.includes(REPLY), { what: 'the reply, open to read under For you' });
      await eventually(() => toolbar(dana, ordersTab), (b) => b.text === before, { what: 'the count without the mark once seen' });
      await again.setViewportSize({ width: 380, height: 900 });
      for (const scheme of ['light', 'dark']) {
        await again.emulateMedia({ colorScheme: scheme });
        assert.deepEqual(await axeViolations(again), [], `the panel with For you (${scheme}) passes axe-core`);
        mkdirSync(SCREENSHOTS, { recursive: true });
        await again.screenshot({ path: join(SCREENSHOTS, `panel-for-you-${scheme}-380.png`) }); // for people to review
      }
      // Seen stays seen: a second reply marks the tab again, as one new reply, not two.
      await again.close();
      if (!(await toReview.getByLabel('Your reply').isVisible())) await toReview.getByRole('button', { name: 'Reply', exact: true }).click();
      await toReview.getByLabel('Your reply').fill('And note it in the MAR.');
      await toReview.getByRole('button', { name: 'Send reply' }).click();
      await eventually(() => server.exportTips(), (rows) => rows.some((r) => r.tip.tip.note === NOTE && r.tip.tip.replies?.length === 2), { what: 'the second reply on the server', timeout: 10000 });
      await syncNow(dana);
      await eventually(() => toolbar(dana, ordersTab), (b) => b.text === `${before}!` && b.title.endsWith('For you in the side panel: a new reply to your tip.'), { what: 'one new reply marked, the seen one not again' });
    } finally {
      await dana.context.close();
      await cory.context.close();
      profiles.dana.remove();
      profiles.cory.remove();
    }
  });
});
