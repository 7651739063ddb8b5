// Real saved pages (../shared/corpora/real-pages, read in place, never copied into the
// repository) served from loopback, with tips captured on them through Inflow's real UI
// and the pages then changed the way upgrades change them. Used by the real-pages test and
// by `cargo xtask bench real-pages`.
import { createServer } from 'node:http';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, storedTips, uiClick, uiText, uiTextEventually } from '../e2e/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CORPUS = process.env.INFLOW_REAL_PAGES ?? join(HERE, '..', '..', '..', 'shared', 'corpora', 'real-pages');
export const CHANGES = ['none', 'insert', 'delete', 'reorder', 'edit', 'late'];
const CHANGE_SCRIPT = readFileSync(join(HERE, 'change.js'));
/** With INFLOW_BENCH_DUMP=file, every changed page's text and block kinds (as the content
 *  script maps them),
 *  its tips' stored selectors, the truth and what was painted are written there as JSON,
 *  to replay anchoring natively when a tip is missed. */
const DUMP = process.env.INFLOW_BENCH_DUMP;
const TEXT_MAP_SOURCE = readFileSync(join(HERE, '..', '..', 'extension', 'content', 'text-map.js'), 'utf8').replace(/^export /gm, '');

/** The corpus's pages, or a clear error saying where they were looked for. */
export function corpusPages() {
  if (!existsSync(CORPUS)) throw new Error(`the real-pages corpus is not at ${CORPUS} (set INFLOW_REAL_PAGES)`);
  return readdirSync(CORPUS).filter((f) => f.endsWith('.html')).sort();
}

const escapeAttr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** Serves /page/NAME (the saved page, with change.js appended as told by the
 *  `inflow-change` cookie) and /change.js, on 127.0.0.1. The address of a page never
 *  changes with the change, so its tips stay this page's tips. */
export async function startCorpusServer() {
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://127.0.0.1');
    if (url.pathname === '/change.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      return response.end(CHANGE_SCRIPT);
    }
    const name = decodeURIComponent(url.pathname.replace(/^\/page\//, ''));
    if (!url.pathname.startsWith('/page/') || !corpusPages().includes(name)) {
      response.writeHead(404);
      return response.end();
    }
    const cookie = (request.headers.cookie ?? '').split('; ').find((c) => c.startsWith('inflow-change='));
    const { change = 'none', tips = [] } = cookie ? JSON.parse(Buffer.from(cookie.slice('inflow-change='.length), 'base64url').toString()) : {};
    const script = `<script src="/change.js" data-change="${escapeAttr(change)}" data-tips="${escapeAttr(JSON.stringify(tips))}"></script>`;
    let html = readFileSync(join(CORPUS, name), 'utf8');
    const close = html.lastIndexOf('</body>');
    html = close >= 0 ? html.slice(0, close) + script + html.slice(close) : html + script;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return { base, url: (name) => `${base}/page/${encodeURIComponent(name)}`, stop: () => server.close() };
}

/** Tells the server how to change the pages from now on. */
export async function setChange(context, base, change, tips) {
  const value = Buffer.from(JSON.stringify({ change, tips })).toString('base64url');
  await context.addCookies([{ name: 'inflow-change', value, url: base }]);
}

/** Up to `count` places for tips, spread over the page: a phrase of 4 to 9 words inside a
 *  visible text of a block, as {block, quote, nth}. Chosen by the page's own text, the same
 *  on every run. */
export function chooseTips(page, count) {
  return page.evaluate((count) => {
    const BLOCKS = 'p, li, h1, h2, h3, h4, h5, h6, td, th, dd, dt, blockquote, pre, figcaption';
    const blocks = [...document.querySelectorAll(BLOCKS)];
    const candidates = [];
    blocks.forEach((block, index) => {
      if (block.querySelector(BLOCKS)) return; // the innermost block holds the text
      const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.data.trim().length < 60) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const box = range.getBoundingClientRect();
        if (box.width < 50 || box.height < 5) continue;
        candidates.push({ index, block, node });
        break;
      }
    });
    const chosen = [];
    // Spread over the page: the k-th tip near the k-th share of the candidates, or the next
    // candidate after it that yields a phrase.
    for (let k = 0; k < count && candidates.length; k += 1) {
      for (let c = Math.floor(((k + 0.5) * candidates.length) / count); c < candidates.length; c += 1) {
        const { index, block, node } = candidates[c];
        if (chosen.some((t) => t.block === index)) continue;
        const phrase = phraseIn(node.data, index);
        if (!phrase) continue;
        const { from, quote } = phrase;
        // Which occurrence in the block's text nodes, in order, this is.
        let nth = 0;
        const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n && n !== node; n = walker.nextNode()) nth += n.data.split(quote).length - 1;
        nth += node.data.slice(0, from).split(quote).length - 1;
        // How often the phrase stands on the page: a headline or summary a page repeats
        // has copies that no change of this one touches.
        const copies = document.body.textContent.split(quote).length - 1;
        chosen.push({ block: index, quote, nth, copies });
        break;
      }
    }
    /** 4 to 9 words a third of the way in; in text without spaces between words (Japanese),
     *  12 to 20 characters. Never across a line break or a run of spaces. */
    function phraseIn(data, seed) {
      const words = [...data.matchAll(/\S+/g)];
      let from;
      let to;
      if (words.length >= 8) {
        const first = Math.floor(words.length / 3);
        const last = Math.min(words.length - 1, first + 3 + (seed % 6));
        from = words[first].index;
        to = words[last].index + words[last][0].length;
      } else {
        const chars = [...data];
        const start = Math.floor(chars.length / 3);
        from = chars.slice(0, start).join('').length;
        to = from + chars.slice(start, start + 12 + (seed % 9)).join('').length;
      }
      const quote = data.slice(from, to);
      if (/\s\s|[\n\t\u00a0]/.test(quote) || quote.trim() !== quote || [...quote].length < 12) return null;
      return { from, quote };
    }
    return chosen;
  }, count);
}

/** Selects a tip's phrase with the real mouse, opens the form with "+ Tip", writes a note
 *  and saves with Ctrl+Enter, and waits for the tip in `worker`'s store. False when the
 *  page would not let the phrase be selected (covered by something, or laid out across
 *  columns); throws when Inflow refused to save it. */
export async function captureThroughTheUi(page, worker, tip, note) {
  const box = await page.evaluate(({ block, quote, nth }) => {
    const BLOCKS = 'p, li, h1, h2, h3, h4, h5, h6, td, th, dd, dt, blockquote, pre, figcaption';
    const element = document.querySelectorAll(BLOCKS)[block];
    element.scrollIntoView({ block: 'center', behavior: 'instant' });
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      let at = node.data.indexOf(quote);
      while (at >= 0) {
        if (seen === nth) {
          const range = document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + quote.length);
          const rects = [...range.getClientRects()].filter((r) => r.width > 0);
          if (!rects.length) return null;
          const [first, last] = [rects[0], rects[rects.length - 1]];
          return { x1: first.left + 1, y1: first.top + first.height / 2, x2: last.right - 1, y2: last.top + last.height / 2 };
        }
        seen += 1;
        at = node.data.indexOf(quote, at + 1);
      }
    }
    return null;
  }, tip);
  if (!box) return false;
  await page.mouse.move(box.x1, box.y1);
  await page.mouse.down();
  await page.mouse.move(box.x2, box.y2, { steps: 8 });
  await page.mouse.up();
  const selected = await page.evaluate(() => document.getSelection()?.toString() ?? '');
  if (selected.trim() !== tip.quote) {
    await page.mouse.click(5, 5);
    return false;
  }
  await uiTextEventually(page, 'add', (t) => t.includes('Tip'), 'the + Tip button');
  await uiClick(page, 'add');
  const quote = tip.quote.replace(/\s+/g, ' ').trim();
  await uiTextEventually(page, 'quote', (t) => t === quote, 'the capture form with this quote');
  await page.keyboard.type(note);
  await page.keyboard.press('Control+Enter');
  try {
    await eventually(async () => (await storedTips(worker)).filter((t) => t.note === note).length, (n) => n === 1, { what: `the tip "${note}" stored` });
  } catch (error) {
    throw new Error(`${error.message}; the form says: ${await uiText(page, 'error')}`);
  }
  await page.mouse.click(5, 5);
  return true;
}

/** Loads `url` and waits for Inflow to settle: its highlights unchanged for 800 ms (after
 *  late content, if the change delays it). Returns the truth and the highlights. */
export async function loadAndRead(page, url) {
  await page.goto(url);
  let last = null;
  let stableSince = Date.now();
  const started = Date.now();
  for (;;) {
    const now = await page.evaluate(() => {
      const painted = [...(CSS.highlights.get('inflow-tip') ?? [])].length;
      return { painted, arrived: window.__inflowArrivedAt !== undefined || !document.querySelector('script[data-change="late"]') };
    });
    const key = JSON.stringify(now);
    if (key !== last) {
      last = key;
      stableSince = Date.now();
    }
    if (now.arrived && Date.now() - stableSince >= 800) break;
    if (Date.now() - started > 8000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return page.evaluate(() => ({ ...window.__inflowTruth(), arrivedAt: window.__inflowArrivedAt ?? null, placedAt: window.__inflowPlacedAt ?? null }));
}

/** Scores highlights against the truth, strictly: right is the true extent exactly (an
 *  edited quote: its edited span, each end within one character). */
export function score({ truth, painted }, tips) {
  const tally = { tips: truth.length, surviving: 0, right: 0, off: 0, wrong: 0, painted: 0, onCopy: 0, review: 0 };
  const used = new Set();
  truth.forEach((t) => {
    if (!t) return;
    tally.surviving += 1;
    const slack = t.edited ? 1 : 0;
    const exact = painted.findIndex((p, i) => !used.has(i) && Math.abs(p.start - t.start) <= slack && Math.abs(p.end - t.end) <= slack);
    if (exact >= 0) {
      used.add(exact);
      tally.right += 1;
      return;
    }
    const overlapping = painted.findIndex((p, i) => !used.has(i) && Math.min(p.end, t.end) > Math.max(p.start, t.start));
    if (overlapping >= 0) {
      used.add(overlapping);
      tally.off += 1;
    } else {
      tally.review += 1;
    }
  });
  // Highlights on no surviving tip's text: a deleted tip painted elsewhere (on another
  // copy of its very words, when the page had several, or else on other text), or a tip
  // painted in the wrong place.
  const deleted = new Map(truth.map((t, i) => [t ? null : tips[i].quote, tips[i].copies ?? 1]).filter(([quote]) => quote));
  painted.forEach((p, i) => {
    if (used.has(i)) return;
    const copies = deleted.get(p.text.replace(/\s+/g, ' ').trim());
    if (copies > 1) tally.onCopy += 1;
    else if (copies) tally.painted += 1;
    else tally.wrong += 1;
  });
  return tally;
}

export const add = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, (a[k] ?? 0) + b[k]]));

/** Captures up to `tipsPerPage` tips on each of `pages` through the UI, then loads each
 *  page under every change and scores what Inflow shows. Returns the tallies per change
 *  (and per page), how many tips could not be captured, and the late-content delays. */
export async function runSuite({ context, worker, pages, tipsPerPage, log = () => {} }) {
  const server = await startCorpusServer();
  const page = await context.newPage();
  const perChange = Object.fromEntries(CHANGES.map((c) => [c, {}]));
  const perPage = {};
  const lateDelays = [];
  const dumped = [];
  let uncaptured = 0;
  try {
    for (const name of pages) {
      await setChange(context, server.base, 'none', []);
      await page.goto(server.url(name));
      const tips = [];
      for (const tip of await chooseTips(page, tipsPerPage)) {
        if (await captureThroughTheUi(page, worker, tip, `Tip ${tips.length + 1} on ${name}`)) tips.push(tip);
        else uncaptured += 1;
      }
      log(`${name}: ${tips.length} tips captured`);
      for (const change of CHANGES) {
        await setChange(context, server.base, change, tips);
        const read = await loadAndRead(page, server.url(name));
        const tally = score(read, tips);
        if (DUMP) {
          const { text, blocks } = await page.evaluate(`(() => { ${TEXT_MAP_SOURCE}; const map = buildTextMap(); return { text: map.text, blocks: map.blocks }; })()`);
          const stored = (await storedTips(worker)).filter((t) => t.note?.endsWith(` on ${name}`));
          dumped.push({ name, change, text, blocks, tips: stored.map((t) => t.target ?? t.selectors ?? t), truth: read.truth, painted: read.painted, tally });
        }
        perChange[change] = add(perChange[change], tally);
        (perPage[name] ??= {})[change] = tally;
        if (change === 'late' && read.arrivedAt !== null && read.placedAt !== null) lateDelays.push(read.placedAt - read.arrivedAt);
      }
    }
  } finally {
    await page.close();
    server.stop();
    if (DUMP) writeFileSync(DUMP, JSON.stringify(dumped));
  }
  return { perChange, perPage, uncaptured, lateDelays };
}
