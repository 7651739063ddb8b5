// What Inflow costs the host page: the same pages loaded in Chromium without Inflow and
// with it (tips on them), interleaved, in one run. On the demo's unit worklist (a
// 2,000-row table rebuilt every 200 ms) for 10 s per load: the main thread's task time
// (DevTools protocol, Performance.getMetrics), how late the page's own 200 ms timer runs
// (p95, measured by the page), when `load` fires, and whether Inflow's highlights are on
// the page at the end. On four saved real pages: task time over the first 3 s, and `load`.
// A third browser has an extension whose content script is empty, matched on the same
// pages: what Chromium itself costs a page for running any content script there (it
// held `load` back by 15-130 ms in our runs on a 2-core machine), so Inflow's own share
// is shown apart.
//
// Run it with `cargo xtask bench host`. It prints a table; nothing here asserts a time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BROWSER_ARGS, launch, newProfileDir, openFormWithButton, startDemo, uiTextEventually } from '../e2e/harness.mjs';
import { captureThroughTheUi, chooseTips, setChange, startCorpusServer } from '../real-pages/corpus.mjs';

const LOADS = Number(process.env.INFLOW_HOST_LOADS ?? 5);
const WORKLIST_MS = 10_000;
const STATIC_MS = 3_000;
const REAL_PAGES = ['www.npr.org.html', 'github.com.html', 'www.theatlantic.com.html', 'clinicaltrials.gov.html'];
const WORKLIST_TIPS = [
  ['main > h1', 'tasks due, all wards'],
  ['main > p.hint', 'call the charge nurse for anything overdue'],
  ['#worklist-rows', 'Wound care, dressing change'],
];

const demo = await startDemo();
const corpus = await startCorpusServer();
const profile = newProfileDir();
const withInflow = await launch(profile.dir);
const plainProfile = newProfileDir();
const plain = await chromium.launchPersistentContext(plainProfile.dir, {
  executablePath: process.env.INFLOW_CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: BROWSER_ARGS,
});

/** An extension with an empty content script on the same pages, and no worker. */
const emptyExtension = newProfileDir();
mkdirSync(join(emptyExtension.dir, 'ext'));
writeFileSync(join(emptyExtension.dir, 'ext', 'empty.js'), 'void 0;\n');
writeFileSync(
  join(emptyExtension.dir, 'ext', 'manifest.json'),
  JSON.stringify({
    manifest_version: 3,
    name: 'Empty content script',
    version: '1.0',
    content_scripts: [{ matches: ['http://127.0.0.1/*'], js: ['empty.js'], run_at: 'document_idle', all_frames: true }],
  }),
);
const emptyProfile = newProfileDir();
const emptyScript = await chromium.launchPersistentContext(emptyProfile.dir, {
  executablePath: process.env.INFLOW_CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [...BROWSER_ARGS, `--disable-extensions-except=${join(emptyExtension.dir, 'ext')}`, `--load-extension=${join(emptyExtension.dir, 'ext')}`],
});

async function setUpTips() {
  const page = await withInflow.context.newPage();
  await page.goto(`${demo.url}/worklist`);
  await page.getByRole('button', { name: 'Pause updates' }).click(); // hold the board still to select on it
  for (const [selector, text] of WORKLIST_TIPS) {
    await openFormWithButton(page, selector, text);
    await page.keyboard.type('Worklist tip');
    await page.keyboard.press('Control+Enter');
    await uiTextEventually(page, 'notice', (t) => t.startsWith('Tip saved'), 'the saved notice');
    await page.mouse.click(5, 5);
  }
  await setChange(withInflow.context, corpus.base, 'none', []);
  for (const name of REAL_PAGES) {
    await page.goto(corpus.url(name));
    for (const [n, tip] of (await chooseTips(page, 3)).entries()) await captureThroughTheUi(page, withInflow.worker, tip, `Real-page tip ${n} on ${name}`);
  }
  await page.close();
}

/** Loads `url` in `context` and measures for `ms`. */
async function measure(context, url, ms, worklist) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value;
  const before = await taskSeconds();
  await page.goto(url);
  await page.waitForTimeout(ms);
  const after = await taskSeconds();
  const facts = await page.evaluate(() => {
    const lateness = window.__worklist ? [...window.__worklist.lateness].sort((a, b) => a - b) : [];
    return {
      load: performance.getEntriesByType('navigation')[0]?.loadEventStart ?? null,
      p95: lateness.length ? lateness[Math.floor(lateness.length * 0.95)] : null,
      ticks: lateness.length,
      highlights: CSS.highlights.get('inflow-tip')?.size ?? 0,
    };
  });
  await cdp.detach();
  await page.close();
  return { taskMs: (after - before) * 1000, ...facts, worklist };
}

const median = (values) => {
  const sorted = values.filter((v) => v !== null).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
};

try {
  process.stderr.write('capturing tips on the worklist and the real pages through the UI\n');
  await setUpTips();
  const targets = [
    { name: 'unit worklist (2,000 rows, rebuilt every 200 ms; 10 s)', url: `${demo.url}/worklist`, ms: WORKLIST_MS, worklist: true },
    ...REAL_PAGES.map((name) => ({ name: `${name} (first 3 s)`, url: corpus.url(name), ms: STATIC_MS, worklist: false })),
  ];
  const results = targets.map(() => ({ without: [], empty: [], with: [] }));
  for (let round = 0; round < LOADS; round += 1) {
    for (const [i, target] of targets.entries()) {
      process.stderr.write(`round ${round + 1}/${LOADS}: ${target.name}\n`);
      results[i].without.push(await measure(plain, target.url, target.ms, target.worklist));
      results[i].empty.push(await measure(emptyScript, target.url, target.ms, target.worklist));
      results[i].with.push(await measure(withInflow.context, target.url, target.ms, target.worklist));
    }
  }
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  const ms = (v) => (v === null ? '-' : `${v.toFixed(1)} ms`);
  console.log(`\nThe host page's cost, Chromium headless, median of ${LOADS} loads each, interleaved (one run)\n`);
  console.log(
    `${pad('page', 58)}${pad('measure', 28)}${lpad('without', 12)}${lpad('empty script', 14)}${lpad('with Inflow', 14)}${lpad('added', 10)}${lpad('Inflow own', 12)}`,
  );
  for (const [i, target] of targets.entries()) {
    const { without, empty, with: withIt } = results[i];
    const rows = [['main-thread task time', (r) => r.taskMs], ['load event', (r) => r.load]];
    if (target.worklist) rows.push(['own 200 ms timer, p95 late', (r) => r.p95]);
    rows.forEach(([label, get], n) => {
      const [a, e, b] = [median(without.map(get)), median(empty.map(get)), median(withIt.map(get))];
      const share = (from) => (label === 'main-thread task time' ? `${(((b - from) / target.ms) * 100).toFixed(1)}%` : ms(b - from));
      console.log(
        `${pad(n === 0 ? target.name : '', 58)}${pad(label, 28)}${lpad(ms(a), 12)}${lpad(ms(e), 14)}${lpad(ms(b), 14)}${lpad(share(a), 10)}${lpad(share(e), 12)}`,
      );
    });
    const shown = withIt.map((r) => r.highlights);
    console.log(`${pad('', 58)}${pad('tips highlighted at the end', 28)}${lpad('-', 12)}${lpad('-', 14)}${lpad(`${Math.min(...shown)}-${Math.max(...shown)}`, 14)}`);
  }
  const worklist = targets.findIndex((t) => t.worklist);
  const pageBusy = median(results[worklist].without.map((r) => r.taskMs)) / WORKLIST_MS;
  if (pageBusy > 0.8) {
    console.log(`\nOn this machine the worklist alone keeps the main thread ${(pageBusy * 100).toFixed(0)}% busy: its timer falls behind and`);
    console.log("its lateness adds up from tick to tick, so the timer's p95 here says little about any extension's share.");
  }
  console.log('\n"added" is with Inflow against without; "Inflow own" against the empty content script, which shows what');
  console.log('Chromium costs a page for running any content script on it. For task time, the extra main-thread time as a');
  console.log("share of the time measured. Task time includes the page's own work, style, layout and paint. Not covered:");
  console.log("the worker's own time (another thread), memory, and pages with more than a few tips.");
} finally {
  await withInflow.context.close();
  await plain.close();
  await emptyScript.close();
  profile.remove();
  plainProfile.remove();
  emptyProfile.remove();
  emptyExtension.remove();
  corpus.stop();
  demo.stop();
}
