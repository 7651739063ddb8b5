// Real-pages benchmark: tips captured through Inflow's real UI in Chromium on the 24 saved
// pages of ../shared/corpora/real-pages (news, magazines, a clinical-trials record, a
// preprint, a code-hosting page, blogs; English, French, German, Japanese), then the same
// pages changed the way upgrades change them, each scored strictly: right is the true
// extent exactly (an edited quote: its edited span, each end within one character).
//
// Run it with `cargo xtask bench real-pages`. It prints a table per change; nothing here
// asserts a time.
import { launch, newProfileDir } from '../e2e/harness.mjs';
import { CHANGES, corpusPages, runSuite } from '../real-pages/corpus.mjs';

const TIPS_PER_PAGE = Number(process.env.INFLOW_TIPS_PER_PAGE ?? 5);
const profile = newProfileDir();
const browser = await launch(profile.dir);
try {
  // INFLOW_PAGES=a.html,b.html runs only those pages (to look into a miss).
  const only = process.env.INFLOW_PAGES?.split(',');
  const pages = corpusPages().filter((name) => !only || only.includes(name));
  const { perChange, perPage, uncaptured, lateDelays } = await runSuite({ context: browser.context, worker: browser.worker, pages, tipsPerPage: TIPS_PER_PAGE, log: (line) => process.stderr.write(`${line}\n`) });
  const WHAT = {
    none: 'unchanged',
    insert: 'paragraphs inserted (before the first, middle and last tips)',
    delete: 'paragraphs deleted (one tip in three, and one other)',
    reorder: 'paragraphs reordered (each tip\'s to the top of its container)',
    edit: 'a word replaced or added in two tips in three',
    late: 'content arriving 500 ms after load',
  };
  const pad = (s, n) => String(s).padEnd(n);
  const lpad = (s, n) => String(s).padStart(n);
  console.log(`\nReal pages: ${pages.length} pages, ${perChange.none.tips} tips captured through the UI (${uncaptured} chosen phrases could not be selected)\n`);
  console.log(`${pad('change', 62)}${['surviving', 'right', 'off ext.', 'wrong', 'painted', 'on copy', 'review'].map((c) => lpad(c, 10)).join('')}`);
  for (const change of CHANGES) {
    const t = perChange[change];
    console.log(`${pad(WHAT[change], 62)}${[t.surviving, t.right, t.off, t.wrong, t.painted, t.onCopy, t.review].map((v) => lpad(v, 10)).join('')}`);
  }
  for (const change of CHANGES) {
    const misses = Object.entries(perPage).filter(([, c]) => c[change].right !== c[change].surviving || c[change].wrong || c[change].painted || c[change].onCopy);
    if (misses.length) console.log(`  ${change}: ${misses.map(([name, c]) => `${name} (${JSON.stringify(c[change])})`).join('; ')}`);
  }
  const sorted = [...lateDelays].sort((a, b) => a - b);
  if (sorted.length) console.log(`\nLate content: all of a page's tips painted ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms after the content arrived (median of ${sorted.length} pages; slowest ${sorted[sorted.length - 1].toFixed(0)} ms).`);
  console.log('"painted" = a deleted tip shown on other text; "on copy" = a deleted tip shown on another copy of its very words,');
  console.log('which the page had more than once from the start (a repeated headline or summary); "review" = a surviving tip not');
  console.log('placed. Not covered: text drawn in canvas or in cross-origin frames, changes the browser makes itself (zoom, fonts),');
  console.log('tips chosen by people rather than by position on the page; one browser, one run.');
} finally {
  await browser.context.close();
  profile.remove();
}
