// Inflow's own pages checked by axe-core (part of #13): the side panel, the options, the
// welcome page and a downloaded tip sheet, each in the light and the dark scheme, with no
// violation of the rules axe-core runs (WCAG 2.x A and AA among them). The run also writes
// a screenshot of each view at panel width (380 px) and on a laptop screen (1366 px) to
// target/screenshots/ for people to review; nothing is asserted of the pictures.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { axeViolations as violations, captureOnOrders, launch, newProfileDir, openExtensionPage, openPanel, startDemo } from './harness.mjs';

const SCREENSHOTS = fileURLToPath(new URL('../../target/screenshots/', import.meta.url));

let demo;
before(async () => {
  demo = await startDemo();
});
after(() => demo.stop());

test('the panel, the options, the welcome page and the tip sheet pass axe-core in both colour schemes', async () => {
  const profile = newProfileDir();
  const downloads = mkdtempSync(join(tmpdir(), 'inflow-axe-'));
  const browser = await launch(profile.dir, { keepWelcome: true });
  try {
    // A tip to show: shared with the team (no server here: it waits), so it is exported.
    const page = await browser.context.newPage();
    await page.goto(`${demo.url}/patients/1/orders`);
    await captureOnOrders(browser, page, 'Max 3 g/day from all sources.', 'Count the acetaminophen in combination products too.', { team: true, offline: true, tags: 'dosing' });

    const panel = await openPanel(browser);
    await panel.locator('#feed .note').first().waitFor();
    const options = await openExtensionPage(browser, 'options.html');

    await panel.getByRole('combobox', { name: 'Tips', exact: true }).selectOption('everything');
    await panel.getByRole('combobox', { name: 'Format' }).selectOption('html');
    const [file] = await Promise.all([panel.waitForEvent('download'), panel.getByRole('button', { name: 'Download' }).click()]);
    const saved = join(downloads, file.suggestedFilename());
    await file.saveAs(saved);
    const sheet = await browser.context.newPage();
    await sheet.goto(pathToFileURL(saved).href);
    assert.equal(await sheet.locator('article.tip').count(), 1, 'the tip sheet holds the tip');

    mkdirSync(SCREENSHOTS, { recursive: true });
    const found = [];
    for (const scheme of ['light', 'dark']) {
      for (const [name, view] of [['panel', panel], ['options', options], ['welcome', browser.welcome], ['tip-sheet', sheet]]) {
        await view.emulateMedia({ colorScheme: scheme });
        for (const [width, height] of [[380, 900], [1366, 768]]) {
          await view.setViewportSize({ width, height });
          await view.screenshot({ path: join(SCREENSHOTS, `${name}-${scheme}-${width}.png`), fullPage: true });
        }
        found.push(...(await violations(view)).map((line) => `${name} (${scheme}): ${line}`));
      }
    }
    console.log(`  screenshots of each view at 380 and 1366 px: ${SCREENSHOTS}`);
    assert.deepEqual(found, [], `axe-core found:\n${found.join('\n')}`);

    // A shared tip names a screen of many records: with no tab on it, "Go there" says what
    // to do instead of opening an address that names no record.
    await page.close();
    await panel.bringToFront();
    await panel.locator('#feed > li').first().getByRole('button', { name: 'Go there' }).click();
    await panel.locator('#feed > li').first().getByText('No tab is on this screen. Open any record’s screen: the tip shows there.').waitFor();
  } finally {
    await browser.context.close();
    profile.remove();
    rmSync(downloads, { recursive: true, force: true });
  }
});
