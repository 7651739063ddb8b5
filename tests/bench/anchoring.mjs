// Anchoring benchmark: Inflow's wasm matcher against Hypothesis's quote-matching procedure
// (exact search, then approximate search with the npm `approx-string-match` package,
// scored 50 quote / 20 prefix / 20 suffix / 2 position, best candidate wins), in the same
// node process, on the same page text and selectors, in one run.
//
// The page is a 1 MB chart of records; each scenario changes it the way upgrades and busy
// wards do (text inserted between tips or right against a quote, quotes edited, whole
// records inserted, deleted and moved, pull-quotes, short quotes among repeated phrases)
// and knows where every tip truly is afterwards. Scoring is strict: only the true extent
// counts as right.
//
// Run it with `cargo xtask bench anchoring`. It prints a table; nothing here asserts a time.
// INFLOW_BENCH_DEBUG=1 prints the first misses; INFLOW_BENCH_DUMP=file writes the scenarios
// (text, selectors, truth) as JSON, to replay them outside node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import approxSearch from 'approx-string-match';

const DIST = process.env.INFLOW_DIST;
if (!DIST) throw new Error('run through `cargo xtask bench anchoring` (INFLOW_DIST unset)');
const inflow = await import(join(DIST, 'pkg', 'inflow_extension.js'));
inflow.initSync({ module: readFileSync(join(DIST, 'pkg', 'inflow_extension_bg.wasm')) });

const PAGE_BYTES = 1_000_000;
const TIPS = 1000;
const CONTEXT = 32;

// ---- A deterministic, clinical-record-like page -------------------------------------------

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(20261123);
const pick = (list) => list[Math.floor(random() * list.length)];
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));

const FIRST = ['Jane', 'Robert', 'Maria', 'William', 'Aisha', 'Thomas', 'Linda', 'James', 'Sofia', 'Daniel', 'Grace', 'Omar'];
const LAST = ['Doe', 'Lee', 'Gonzalez', 'Turner', 'Rahman', 'Nguyen', 'Smith', 'Okafor', 'Brown', 'Moreau', 'Patel', 'Chen'];
const NURSES = ['K. Alvarez, RN', 'T. Brooks, RN', 'S. Patel, RN', 'M. Chen, PharmD', 'Dr. A. Okafor', 'Dr. P. Singh', 'Dr. L. Moreau'];
const ORDERS = [
  'Metoprolol tartrate 25 mg PO BID. Hold if HR < 60 or SBP < 100.',
  'Lisinopril 10 mg PO Daily. Check K+ and creatinine before the 3rd dose.',
  'Heparin 5,000 units SubQ Q8H. DVT prophylaxis. Hold for platelets < 100.',
  'Insulin lispro sliding scale SubQ AC & HS. Use the Adult Subcutaneous Insulin order set.',
  'Apixaban 5 mg PO BID. Do not give with heparin.',
  'Acetaminophen 650 mg PO Q6H PRN pain or fever. Max 3 g/day from all sources.',
  'Ceftriaxone 1 g IV Q24H. Day 2 of 5.',
  'Furosemide 40 mg IV BID. Daily weights; strict I&O.',
];
const NOTE_TEMPLATES = [
  () => `Patient reports ${pick(['dizziness on standing', 'mild nausea', 'pain 4/10 at incision', 'poor sleep', 'no complaints'])}. BP ${int(90, 160)}/${int(55, 95)} sitting, HR ${int(52, 118)}.`,
  () => `Held ${pick(['08:00', '09:00', '21:00'])} ${pick(['metoprolol', 'lisinopril', 'furosemide'])} per parameters; paged ${pick(NURSES)}.`,
  () => `Fingerstick glucose ${int(70, 320)} mg/dL at ${int(6, 22)}:${pick(['00', '15', '30', '45'])}; ${int(0, 8)} units lispro given per scale.`,
  () => `Weight ${int(48, 130)}.${int(0, 9)} kg, ${pick(['up', 'down'])} ${int(1, 19) / 10} kg since yesterday. Crackles ${pick(['absent', 'at both bases', 'at the right base'])}.`,
  () => `Renal function ${pick(['stable', 'improving', 'worse'])} (Cr ${int(6, 30) / 10}). Plan reviewed with ${pick(NURSES)}.`,
  () => 'Fall risk: bed alarm on, non-slip socks, call light in reach.',
  () => 'IV site right forearm clean and dry. Dressing changed per protocol.',
];

function chartRecord() {
  const name = `${pick(FIRST)} ${pick(LAST)}`;
  const lines = [
    `Patient: ${name}   MRN RG-${String(int(1000, 999999)).padStart(6, '0')}   DOB ${int(1930, 2005)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`,
    `Location: ${int(2, 6)} ${pick(['West', 'East', 'North'])}, Bed ${int(1, 30)}   Attending: ${pick(NURSES)}`,
    'Active orders',
  ];
  for (let i = int(2, 6); i > 0; i -= 1) lines.push(`${pick(ORDERS)} Start 11/${String(int(1, 9)).padStart(2, '0')} ${pick(['08:00', '09:00', '12:00', '21:00'])}.`);
  lines.push('Progress notes');
  for (let i = int(1, 4); i > 0; i -= 1) lines.push(`11/${String(int(1, 9)).padStart(2, '0')} ${String(int(0, 23)).padStart(2, '0')}:${pick(['05', '10', '30', '45'])} ${pick(NURSES)}: ${pick(NOTE_TEMPLATES)()}`);
  return lines.join('\n') + '\n\n';
}

// The page is a list of blocks (one chart record each, ending in a blank line), so that
// scenarios can insert, delete and move whole blocks and still know where every tip is.
const blocks = [];
for (let length = 0; length < PAGE_BYTES; length += blocks[blocks.length - 1].length) blocks.push(chartRecord());
const page = blocks.join('');
const blockStarts = [];
blocks.reduce((at, block) => (blockStarts.push(at), at + block.length), 0);

// ---- Tips: 1,000 on non-overlapping quotes, each inside one block ------------------------

function wordStart(text, at) {
  while (at > 0 && text[at - 1] !== ' ' && text[at - 1] !== '\n') at -= 1;
  return at;
}
function wordEnd(text, at) {
  while (at < text.length && text[at] !== ' ' && text[at] !== '\n') at += 1;
  return at;
}
const blockOf = (pos) => {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (blockStarts[mid] <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo;
};

/** A tip on page[start, end), without the white space at its ends (capture trims it as
 *  well): its block and offsets inside that block. */
const tipAt = (start, end) => {
  while (/\s/.test(page[start]) && start < end) start += 1;
  while (/\s/.test(page[end - 1]) && end > start) end -= 1;
  const block = blockOf(start);
  return { block, start: start - blockStarts[block], end: end - blockStarts[block] };
};
const slot = Math.floor(page.length / TIPS);
const tips = [];
for (let i = 0; i < TIPS; i += 1) {
  const start = wordStart(page, i * slot + int(CONTEXT + 1, slot / 2));
  let end = wordEnd(page, start + int(20, 90));
  const block = blockOf(start);
  end = Math.min(end, blockStarts[block] + blocks[block].length - 2); // never across a block's end
  if (end - start >= 8) tips.push(tipAt(start, end));
}

// Short quotes (15-30 characters) inside phrases every record repeats (the order lines).
const shortTips = [];
for (let b = 3; b < blocks.length && shortTips.length < 300; b += Math.floor(blocks.length / 300)) {
  const phrase = ORDERS.map((o) => blocks[b].indexOf(o)).find((at) => at >= 0);
  if (phrase === undefined) continue;
  const at = blockStarts[b] + phrase;
  const start = wordStart(page, at + int(4, 20));
  const end = wordEnd(page, start + int(15, 26));
  if (end - start >= 15 && end - start <= 30 && blockOf(end) === b) shortTips.push(tipAt(start, end));
}

const absolute = (tip) => ({ start: blockStarts[tip.block] + tip.start, end: blockStarts[tip.block] + tip.end });
const selectorsOf = (set) =>
  set.map((tip) => {
    const { start, end } = absolute(tip);
    return { exact: page.slice(start, end), prefix: page.slice(Math.max(0, start - CONTEXT), start), suffix: page.slice(end, end + CONTEXT), start, end };
  });

// ---- Scenarios: the page as it is later, and where each tip truly is now ----------------

/**
 * Builds a changed page from `layout`, a list of `{ from: blockIndex, edits }` (an original
 * block, with edits `{ at, remove, insert }` at offsets inside it, sorted and disjoint) or
 * `{ text }` (a new block). Returns the text and each tip's true range now, or null for a
 * tip whose block is gone. An insertion at a tip's very start goes before the quote; one
 * at its very end goes after it.
 */
function build(layout, set) {
  let text = '';
  const placedAt = new Map(); // original block -> { start, edits }
  for (const part of layout) {
    if (part.text !== undefined) {
      text += part.text;
      continue;
    }
    const original = blocks[part.from];
    const edits = part.edits ?? [];
    let out = '';
    let last = 0;
    for (const e of edits) {
      out += original.slice(last, e.at) + e.insert;
      last = e.at + e.remove;
    }
    placedAt.set(part.from, { start: text.length, edits });
    text += out + original.slice(last);
  }
  const truth = set.map((tip) => {
    const where = placedAt.get(tip.block);
    if (!where) return null;
    const shift = (pos, inclusive) => where.edits.filter((e) => (inclusive ? e.at <= pos : e.at < pos)).reduce((sum, e) => sum + e.insert.length - e.remove, 0);
    return { start: where.start + tip.start + shift(tip.start, true), end: where.start + tip.end + shift(tip.end, false) };
  });
  return { text, truth };
}
const keep = () => blocks.map((_, from) => ({ from }));
const editsByBlock = (edits) => {
  const layout = keep();
  for (const { block, ...e } of edits) (layout[block].edits ??= []).push(e);
  for (const part of layout) part.edits?.sort((a, b) => a.at - b.at);
  return layout;
};

const SNIPPETS = ['Downtime tonight 02:00-04:00: print the MAR beforehand. ', 'Allergy reconciled by pharmacy. ', 'Isolation: contact precautions. ', 'Family meeting scheduled for 14:00 in the unit conference room. '];

/** Text inserted inside blocks, between tips (at a word start past the tip's context). */
function insertionsBetweenTips() {
  const edits = [];
  for (let i = 0; i < tips.length; i += 3) {
    const tip = tips[i];
    const block = blocks[tip.block];
    const at = wordStart(block, Math.min(block.length - 2, tip.end + CONTEXT + 5 + int(0, 40)));
    const next = tips[i + 1];
    if (at <= tip.end || (next && next.block === tip.block && at >= next.start)) continue;
    edits.push({ block: tip.block, at, remove: 0, insert: pick(SNIPPETS) });
  }
  return editsByBlock(edits);
}

/** Text inserted right before one tip in three, and right after another one in three. */
function insertionsTouchingQuotes() {
  const edits = [];
  tips.forEach((tip, i) => {
    if (i % 3 === 0) edits.push({ block: tip.block, at: tip.start, remove: 0, insert: pick(SNIPPETS) });
    if (i % 3 === 1) edits.push({ block: tip.block, at: tip.end, remove: 0, insert: ` ${pick(SNIPPETS).trim()}` });
  });
  return editsByBlock(edits);
}

/** Text inserted right before one short quote in two, and right after the others. */
function insertionsTouchingShortQuotes() {
  const edits = shortTips.map((tip, i) => ({ block: tip.block, at: i % 2 ? tip.end : tip.start, remove: 0, insert: i % 2 ? ` ${pick(SNIPPETS).trim()}` : pick(SNIPPETS) }));
  return editsByBlock(edits);
}

/** Edits inside a share of the quotes: a word replaced, a word inserted or one removed. */
function quoteEdits(share) {
  const edits = [];
  for (const tip of tips) {
    if (random() >= share) continue;
    const quote = blocks[tip.block].slice(tip.start, tip.end);
    const words = [...quote.matchAll(/\S+/g)].filter((m) => m.index > 0 && m.index + m[0].length < quote.length);
    if (words.length === 0) continue;
    const word = pick(words);
    const at = tip.start + word.index;
    const kind = int(0, 2);
    if (kind === 0) edits.push({ block: tip.block, at, remove: word[0].length, insert: pick(['updated', 'revised', '50', 'PRN', 'per MD']) });
    else if (kind === 1) edits.push({ block: tip.block, at, remove: 0, insert: pick(['now ', 'new: ', 'not ', '(verified) ']) });
    else edits.push({ block: tip.block, at, remove: word[0].length + 1, insert: '' });
  }
  return { layout: editsByBlock(edits), edited: edits.length };
}

/** New records inserted before one block in ten. */
function blocksInserted() {
  return keep().flatMap((part, i) => (i % 10 === 5 ? [{ text: chartRecord() }, part] : [part]));
}

/** One block in twenty deleted, with the tips in it. */
function blocksDeleted() {
  return keep().filter((_, i) => i % 20 !== 7);
}

/** One block in five moved to another place on the page. */
function blocksReordered() {
  const layout = keep();
  const moved = layout.filter((_, i) => i % 5 === 2);
  const rest = layout.filter((_, i) => i % 5 !== 2);
  for (const part of moved) rest.splice(int(0, rest.length), 0, part);
  return rest;
}

/** A later passage repeated as a pull-quote a few blocks earlier, for one tip in ten. */
function pullQuotes() {
  const layout = keep();
  const before = new Map();
  tips.forEach((tip, i) => {
    if (i % 10 !== 0) return;
    const quote = blocks[tip.block].slice(tip.start, tip.end);
    const at = Math.max(0, tip.block - int(1, 4));
    before.set(at, [...(before.get(at) ?? []), { text: `Highlighted: “${quote}”\n\n` }]);
  });
  return layout.flatMap((part, i) => [...(before.get(i) ?? []), part]);
}

const scenarios = [];
const scenario = (name, layout, extra = {}) => scenarios.push({ name, set: tips, selectors: selectorsOf(tips), ...build(layout, tips), ...extra });
scenario('unchanged', keep());
scenario('text inserted between tips', insertionsBetweenTips());
scenario('text touching quotes', insertionsTouchingQuotes());
for (const share of [0.05, 0.2]) {
  const { layout, edited } = quoteEdits(share);
  scenario(`${share * 100}% of quotes edited`, layout, { edited });
}
scenario('records inserted', blocksInserted());
scenario('records deleted', blocksDeleted());
scenario('records reordered', blocksReordered());
scenario('pull-quotes', pullQuotes());
// The short quotes are anchored together with the other tips, as on a page that has both,
// and only they are judged.
const mixed = [...tips, ...shortTips];
const shortOnly = { selectors: selectorsOf(mixed), judged: [tips.length, mixed.length] };
scenarios.push({ name: 'short quotes, unchanged', ...shortOnly, ...build(keep(), mixed) });
scenarios.push({ name: 'short quotes, records inserted', ...shortOnly, ...build(blocksInserted(), mixed) });
scenarios.push({ name: 'short quotes, text touching', ...shortOnly, ...build(insertionsTouchingShortQuotes(), mixed) });

if (process.env.INFLOW_BENCH_DUMP) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.INFLOW_BENCH_DUMP, JSON.stringify(scenarios.map(({ name, text, truth, selectors: s }) => ({ name, text, truth, selectors: s }))));
}

// ---- The peer: Hypothesis's quote matching ----------------------------------------------

function peerSearch(text, str, maxErrors) {
  // Exact matches first; approximate search only when there are none.
  let matchPos = 0;
  const exact = [];
  while (matchPos !== -1) {
    matchPos = text.indexOf(str, matchPos);
    if (matchPos !== -1) {
      exact.push({ start: matchPos, end: matchPos + str.length, errors: 0 });
      matchPos += 1;
    }
  }
  if (exact.length > 0) return exact;
  return approxSearch(text, str, maxErrors);
}
function textMatchScore(text, str) {
  if (str.length === 0 || text.length === 0) return 0.0;
  const matches = peerSearch(text, str, str.length);
  return 1 - matches[0].errors / str.length;
}
function peerMatchQuote(text, quote, context) {
  if (quote.length === 0) return null;
  const maxErrors = Math.min(256, quote.length / 2);
  const matches = peerSearch(text, quote, maxErrors);
  if (matches.length === 0) return null;
  const scoreMatch = (match) => {
    const quoteScore = 1 - match.errors / quote.length;
    const prefixScore = context.prefix ? textMatchScore(text.slice(Math.max(0, match.start - context.prefix.length), match.start), context.prefix) : 1.0;
    const suffixScore = context.suffix ? textMatchScore(text.slice(match.end, match.end + context.suffix.length), context.suffix) : 1.0;
    const posScore = typeof context.hint === 'number' ? 1.0 - Math.abs(match.start - context.hint) / text.length : 1.0;
    return (50 * quoteScore + 20 * prefixScore + 20 * suffixScore + 2 * posScore) / 92;
  };
  return matches.map((m) => ({ start: m.start, end: m.end, score: scoreMatch(m) })).sort((a, b) => b.score - a.score)[0];
}
const peerAnchorAll = (text, sels) => sels.map((s) => peerMatchQuote(text, s.exact, { prefix: s.prefix, suffix: s.suffix, hint: s.start }));

// ---- Measuring -----------------------------------------------------------------------

/**
 * Strict: "right" is the true extent exactly (an edited quote: its edited span, each end
 * within one character); "off extent" overlaps the truth but is not it; "wrong" is
 * elsewhere; "painted" is a tip whose text was deleted, placed anyway; "review" is a
 * surviving tip left unplaced.
 */
const squash = (s) => s.replace(/\s+/g, ' ');
/** Whether `found` sits on a verbatim copy of the tip: its quote with all of its captured
 *  context on both sides. No engine reading the page's text can tell such a copy from the
 *  tip's own place; only where the page changed can. */
function onVerbatimCopy(text, found, s) {
  const around = squash(text.slice(Math.max(0, found.start - s.prefix.length - 8), found.end + s.suffix.length + 8));
  return around.includes(squash(s.prefix + s.exact + s.suffix));
}

function judge(results, truth, selectors, text) {
  const tally = { right: 0, off: 0, wrong: 0, painted: 0, review: 0, copy: 0, gone: 0 };
  results.forEach((found, i) => {
    const t = truth[i];
    if (!t) {
      tally.gone += 1;
      if (found) {
        tally.painted += 1;
        if (text && onVerbatimCopy(text, found, selectors[i])) tally.copy += 1;
      }
      return;
    }
    if (!found) return void (tally.review += 1);
    const edited = t.end - t.start !== selectors[i].exact.length;
    const slack = edited ? 1 : 0;
    if (Math.abs(found.start - t.start) <= slack && Math.abs(found.end - t.end) <= slack) tally.right += 1;
    else if (Math.min(found.end, t.end) > Math.max(found.start, t.start)) tally.off += 1;
    else {
      tally.wrong += 1;
      if (text && onVerbatimCopy(text, found, selectors[i])) tally.copy += 1;
    }
  });
  return tally;
}

function timed(fn) {
  const started = performance.now();
  const value = fn();
  return { ms: performance.now() - started, value };
}

// Warm up both engines (JIT, wasm compilation) on a small slice.
inflow.anchorQuotes(page.slice(0, 50_000), scenarios[0].selectors.slice(0, 20));
peerAnchorAll(page.slice(0, 50_000), scenarios[0].selectors.slice(0, 20));

/** With INFLOW_BENCH_DEBUG=1: what our engine got wrong or off extent, to see why. */
function explainMisses(scenario, results) {
  let shown = 0;
  const show = (label, s, t, found, text) => {
    const around = (r) => (r ? `${JSON.stringify(text.slice(r.start - 32, r.start))} [${JSON.stringify(text.slice(r.start, r.end))}] ${JSON.stringify(text.slice(r.end, r.end + 32))}` : 'none');
    console.error(`[${scenario.name}] ${label}\n  quote:  ${JSON.stringify(s.prefix)} [${JSON.stringify(s.exact)}] ${JSON.stringify(s.suffix)}\n  truth:  ${around(t)}\n  found:  ${around(found)}`);
  };
  results.forEach((found, i) => {
    if (shown >= 6) return;
    const t = scenario.truth[i];
    const verdict = judge([found], [t], [scenario.selectors[i]], scenario.text);
    if (verdict.right || (verdict.gone && !verdict.painted)) return;
    shown += 1;
    show(Object.keys(verdict).find((k) => verdict[k] && k !== 'gone' && k !== 'copy'), scenario.selectors[i], t, found, scenario.text);
  });
}

const rows = [];
for (const scenario of scenarios) {
  process.stderr.write(`running: ${scenario.name}\n`);
  const ours = timed(() => inflow.anchorQuotes(scenario.text, scenario.selectors));
  if (process.env.INFLOW_BENCH_DEBUG) explainMisses(scenario, ours.value);
  const peer = timed(() => peerAnchorAll(scenario.text, scenario.selectors));
  const [from, to] = scenario.judged ?? [0, scenario.selectors.length];
  const tally = (value) => judge(value.slice(from, to), scenario.truth.slice(from, to), scenario.selectors.slice(from, to), scenario.text);
  rows.push({ scenario, ours: { ms: ours.ms, ...tally(ours.value) }, peer: { ms: peer.ms, ...tally(peer.value) } });
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`\nAnchoring ${tips.length} tips (and ${shortTips.length} short ones) on a ${(page.length / 1e6).toFixed(2)} MB chart of ${blocks.length} records (node ${process.version}, one run)`);
console.log('Inflow = anchorQuotes (wasm, one call, text and selectors marshalled in)');
console.log('Hypothesis = its quote-matching procedure over approx-string-match, per tip\n');
const columns = ['right', 'off', 'wrong', 'painted', 'review', 'copy'];
console.log(`${pad('scenario', 32)}${pad('engine', 12)}${lpad('time ms', 10)}${columns.map((c) => lpad(c === 'off' ? 'off ext.' : c, 9)).join('')}${lpad('speed-up', 10)}`);
for (const { scenario, ours, peer } of rows) {
  const line = (name, r, ratio) => `${pad(name === 'Inflow' ? scenario.name : '', 32)}${pad(name, 12)}${lpad(r.ms.toFixed(1), 10)}${columns.map((c) => lpad(r[c], 9)).join('')}${lpad(ratio, 10)}`;
  console.log(line('Inflow', ours, `${(peer.ms / ours.ms).toFixed(1)}x`));
  console.log(line('Hypothesis', peer, '1.0x'));
}
const notes = rows.flatMap(({ scenario, ours }) => [
  scenario.edited ? `${scenario.name}: ${scenario.edited} quotes edited` : null,
  ours.gone ? `${scenario.name}: ${ours.gone} tips' text deleted` : null,
]).filter(Boolean);
console.log(`\n${notes.join('; ')}.`);
const unchanged = squash(page);
const verbatim = selectorsOf(tips).filter((s) => unchanged.split(squash(s.prefix + s.exact + s.suffix)).length > 2).length;
console.log('"right" = the true extent exactly (an edited quote: its edited span, each end within one character);');
console.log('"off ext." = overlaps the truth but is not it; "wrong" = elsewhere; "painted" = a deleted tip placed anyway;');
console.log('"review" = a surviving tip not placed; "copy" = of the wrong and painted, those on a verbatim copy of the tip');
console.log(`(its quote and all 64 characters of context): the chart repeats itself, and ${verbatim} of its ${tips.length} tips have such a copy`);
console.log('somewhere before any change. Not covered: pages other than this synthetic chart (see bench real-pages), the');
console.log("content script's text map and the browser (see bench content and bench host).");
