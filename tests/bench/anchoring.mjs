// Anchoring benchmark: Inflow's wasm matcher against Hypothesis's quote-matching procedure
// (exact search, then approximate search with the npm `approx-string-match` package,
// scored 50 quote / 20 prefix / 20 suffix / 2 position, best candidate wins), in the same
// node process, on the same page text and selectors, in one run.
//
// Run it with `cargo xtask bench anchoring`. It prints a table; nothing here asserts a time.
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

let page = '';
while (page.length < PAGE_BYTES) page += chartRecord();

// ---- 1,000 tips on non-overlapping quotes -----------------------------------------------

function wordStart(text, at) {
  while (at > 0 && text[at - 1] !== ' ' && text[at - 1] !== '\n') at -= 1;
  return at;
}
function wordEnd(text, at) {
  while (at < text.length && text[at] !== ' ' && text[at] !== '\n') at += 1;
  return at;
}

const slot = Math.floor(page.length / TIPS);
const tips = [];
for (let i = 0; i < TIPS; i += 1) {
  const start = wordStart(page, i * slot + int(CONTEXT + 1, slot / 2));
  const end = wordEnd(page, start + int(20, 90));
  tips.push({ start, end });
}
const selectorsFor = (text) =>
  tips.map(({ start, end }) => ({
    exact: text.slice(start, end),
    prefix: text.slice(Math.max(0, start - CONTEXT), start),
    suffix: text.slice(end, end + CONTEXT),
    start,
    end,
  }));
const selectors = selectorsFor(page);

// ---- Scenarios: the page as it is later, and where each tip truly is now ----------------

/** Applies edits (sorted by position, non-overlapping) and maps every tip's range. */
function applyEdits(edits) {
  let text = '';
  let last = 0;
  for (const edit of edits) {
    text += page.slice(last, edit.at) + edit.insert;
    last = edit.at + edit.remove;
  }
  text += page.slice(last);
  // Edits lie between tips or inside one tip's quote, so a position moves by what the
  // edits before it added or removed.
  const map = (pos) => pos + edits.filter((e) => e.at < pos).reduce((sum, e) => sum + e.insert.length - e.remove, 0);
  return { text, truth: tips.map(({ start, end }) => ({ start: map(start), end: map(end) })) };
}

const SNIPPETS = ['Downtime tonight 02:00-04:00: print the MAR beforehand. ', 'Allergy reconciled by pharmacy. ', 'Isolation: contact precautions. ', 'Family meeting scheduled for 14:00 in the unit conference room. '];
function insertionsBetweenTips() {
  const edits = [];
  for (let i = 0; i < TIPS; i += 3) {
    const at = wordStart(page, tips[i].end + CONTEXT + 5 + int(0, 40));
    if (i + 1 < TIPS && at >= tips[i + 1].start) continue;
    edits.push({ at, remove: 0, insert: pick(SNIPPETS) });
  }
  return edits;
}

function editQuotes(share) {
  const chosen = tips.map((_, i) => i).filter(() => random() < share);
  const edits = [];
  for (const i of chosen) {
    const { start, end } = tips[i];
    const quote = page.slice(start, end);
    const words = [...quote.matchAll(/\S+/g)].filter((m) => m.index > 0 && m.index + m[0].length < quote.length);
    if (words.length === 0) continue;
    const word = pick(words);
    const at = start + word.index;
    const kind = int(0, 2);
    if (kind === 0) edits.push({ at, remove: word[0].length, insert: pick(['updated', 'revised', '50', 'PRN', 'per MD']) });
    else if (kind === 1) edits.push({ at, remove: 0, insert: pick(['now ', 'new: ', 'not ', '(verified) ']) });
    else edits.push({ at, remove: word[0].length + 1, insert: '' });
  }
  return { edits, edited: chosen.length };
}

const scenarios = [
  { name: 'unchanged', ...applyEdits([]) },
  { name: 'text inserted between tips', ...applyEdits(insertionsBetweenTips()) },
];
for (const share of [0.05, 0.2]) {
  const { edits } = editQuotes(share);
  scenarios.push({ name: `${share * 100}% of quotes edited`, ...applyEdits(edits), editedTips: edits.length });
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

function judge(results, truth) {
  const tally = { right: 0, wrong: 0, review: 0 };
  results.forEach((found, i) => {
    if (!found) return void (tally.review += 1);
    const t = truth[i];
    const overlap = Math.min(found.end, t.end) - Math.max(found.start, t.start);
    const longer = Math.max(found.end - found.start, t.end - t.start);
    tally[overlap >= 0.5 * longer ? 'right' : 'wrong'] += 1;
  });
  return tally;
}

function timed(fn) {
  const started = performance.now();
  const value = fn();
  return { ms: performance.now() - started, value };
}

// Warm up both engines (JIT, wasm compilation) on a small slice.
inflow.anchorQuotes(page.slice(0, 50_000), selectors.slice(0, 20));
peerAnchorAll(page.slice(0, 50_000), selectors.slice(0, 20));

/** With INFLOW_BENCH_DEBUG=1: what our engine got wrong, to see why. */
function explainWrong(name, text, results, truth) {
  let shown = 0;
  results.forEach((found, i) => {
    if (!found || shown >= 5) return;
    const t = truth[i];
    const overlap = Math.min(found.end, t.end) - Math.max(found.start, t.start);
    if (overlap >= 0.5 * Math.max(found.end - found.start, t.end - t.start)) return;
    shown += 1;
    const s = selectors[i];
    console.error(`[${name}] tip ${i} score ${found.score.toFixed(3)}\n  quote:  ${JSON.stringify(s.prefix)} [${JSON.stringify(s.exact)}] ${JSON.stringify(s.suffix)}\n  truth:  ${JSON.stringify(text.slice(t.start - 32, t.start))} [${JSON.stringify(text.slice(t.start, t.end))}] ${JSON.stringify(text.slice(t.end, t.end + 32))}\n  found:  ${JSON.stringify(text.slice(found.start - 32, found.start))} [${JSON.stringify(text.slice(found.start, found.end))}] ${JSON.stringify(text.slice(found.end, found.end + 32))}`);
  });
}

const rows = [];
for (const scenario of scenarios) {
  process.stderr.write(`running: ${scenario.name}\n`);
  const ours = timed(() => inflow.anchorQuotes(scenario.text, selectors));
  if (process.env.INFLOW_BENCH_DEBUG) explainWrong(scenario.name, scenario.text, ours.value, scenario.truth);
  const peer = timed(() => peerAnchorAll(scenario.text, selectors));
  rows.push({ scenario, ours: { ms: ours.ms, ...judge(ours.value, scenario.truth) }, peer: { ms: peer.ms, ...judge(peer.value, scenario.truth) } });
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log(`\nAnchoring ${TIPS} tips on a ${(page.length / 1e6).toFixed(2)} MB chart (node ${process.version}, one run)`);
console.log('Inflow = anchorQuotes (wasm, one call, text and selectors marshalled in)');
console.log('Hypothesis = its quote-matching procedure over approx-string-match, per tip\n');
console.log(`${pad('scenario', 30)}${pad('engine', 12)}${lpad('time ms', 10)}${lpad('right', 8)}${lpad('wrong', 8)}${lpad('review', 8)}${lpad('speed-up', 10)}`);
for (const { scenario, ours, peer } of rows) {
  const ratio = `${(peer.ms / ours.ms).toFixed(1)}x`;
  console.log(`${pad(scenario.name, 30)}${pad('Inflow', 12)}${lpad(ours.ms.toFixed(1), 10)}${lpad(ours.right, 8)}${lpad(ours.wrong, 8)}${lpad(ours.review, 8)}${lpad(ratio, 10)}`);
  console.log(`${pad('', 30)}${pad('Hypothesis', 12)}${lpad(peer.ms.toFixed(1), 10)}${lpad(peer.right, 8)}${lpad(peer.wrong, 8)}${lpad(peer.review, 8)}${lpad('1.0x', 10)}`);
}
const edited = scenarios.filter((s) => s.editedTips).map((s) => `${s.name}: ${s.editedTips} tips edited`).join('; ');
console.log(`\n${edited}. "right" = the place found overlaps the true place by at least half; "review" = not placed.`);
