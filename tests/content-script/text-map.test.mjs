// Unit tests of the content script's text map (extension/content/text-map.js) in headless
// Chromium: what text a page yields (blocks, skipped elements, open shadow roots, frames),
// and the way between text-map offsets and DOM points, checked at every offset.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.INFLOW_CHROMIUM ?? '/usr/bin/chromium';
const MODULE = fileURLToPath(new URL('../../extension/content/text-map.js', import.meta.url));

let browser;
let script;
before(async () => {
  // The module as the page will run it: bundled, exposed as `textMap` for the tests.
  const bundled = await build({ entryPoints: [MODULE], bundle: true, format: 'iife', globalName: 'textMap', write: false });
  script = bundled.outputFiles[0].text;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
});
after(() => browser?.close());

/** A page holding `html` (and whatever `setup` builds in it) with the module loaded. */
async function pageWith(html, setup = () => {}) {
  const page = await browser.newPage();
  await page.setContent(`<!doctype html><body>${html}</body>`);
  await page.evaluate(setup);
  await page.waitForFunction(() => [...document.querySelectorAll('iframe[srcdoc]')].every((f) => f.contentDocument?.readyState === 'complete'));
  await page.addScriptTag({ content: script });
  return page;
}

test('blocks are separated by one line break, inline elements and their text run on', async () => {
  const page = await pageWith('<h1>Orders</h1><p>Use the <b>Orders</b> tab</p><table><tr><td>A1</td><td>B1</td></tr></table><span>x</span><em>y</em>');
  const text = await page.evaluate(() => textMap.buildTextMap(document).text);
  assert.equal(text, 'Orders\nUse the Orders tab\nA1\nB1\nxy');
  await page.close();
});

test('each block’s text is marked with its kind: tags and classes, never ids or names with digits', async () => {
  const page = await pageWith(
    '<article class="story"><h2 class="title">Jury hears survivor</h2><p>Body <b>text</b></p></article>' +
      '<ul class="related row-12"><li id="item-7"><a>Jury hears survivor</a></li></ul><p>Body again</p>',
  );
  const { text, blocks } = await page.evaluate(() => textMap.buildTextMap(document));
  const kindAt = (offset) => {
    let kind = '';
    for (let i = 0; i < blocks.marks.length; i += 2) if (blocks.marks[i] <= offset) kind = blocks.kinds[blocks.marks[i + 1]];
    return kind;
  };
  const at = (words, nth = 0) => text.split(words, nth + 1).join(words).length;
  assert.equal(kindAt(at('Jury hears survivor')), 'h2.title < article.story');
  assert.equal(kindAt(at('Jury hears survivor', 1)), 'li < ul.related');
  assert.equal(kindAt(at('text')), 'p < article.story', 'inline elements are part of their block');
  assert.equal(kindAt(at('Body again')), 'p < body');
  assert.equal(new Set(blocks.kinds).size, blocks.kinds.length, 'each kind is listed once');
});

test('scripts, styles, form fields, templates and Inflow’s own UI are not page text', async () => {
  const page = await pageWith(
    '<p>kept</p><script>var secret = 1;</script><style>p{}</style><textarea>draft</textarea>' +
      '<select><option>opt</option></select><template><p>tpl</p></template><noscript>ns</noscript>' +
      '<div data-inflow-ui>+ Tip</div><p>also kept</p>',
  );
  const text = await page.evaluate(() => textMap.buildTextMap(document).text);
  assert.equal(text, 'kept\nalso kept');
  await page.close();
});

test('open shadow roots are walked (and noted as trees to watch); closed ones are not', async () => {
  const page = await pageWith('<p>before</p><div id="open"></div><div id="closed"></div><p>after</p>', () => {
    document.getElementById('open').attachShadow({ mode: 'open' }).innerHTML = '<span>DNR</span> <b>code</b>';
    document.getElementById('closed').attachShadow({ mode: 'closed' }).innerHTML = '<span>hidden</span>';
  });
  const seen = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    const open = document.getElementById('open').shadowRoot;
    return { text: map.text, watchesOpen: map.trees.has(open), trees: map.trees.size };
  });
  assert.equal(seen.text, 'before\nDNR code\nafter');
  assert.ok(seen.watchesOpen, 'the open shadow root is among the trees to watch');
  assert.equal(seen.trees, 1);
  await page.close();
});

test('same-origin frames are walked; a frame of another origin is out of reach', async () => {
  const page = await pageWith(
    '<p>top</p><iframe srcdoc="<p>pharmacy</p><p>panel</p>"></iframe><iframe src="data:text/html,<p>elsewhere</p>"></iframe><p>end</p>',
  );
  const seen = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    const frames = [...document.querySelectorAll('iframe')];
    return {
      text: map.text,
      watchesFrame: map.trees.has(frames[0].contentDocument),
      otherBody: textMap.sameOriginBody(frames[1]),
    };
  });
  assert.equal(seen.text, 'top\npharmacy\npanel\nend');
  assert.ok(seen.watchesFrame, "the frame's document is among the trees to watch");
  assert.equal(seen.otherBody, null);
  await page.close();
});

// A page with every kind of place a text boundary can fall: blocks, inline runs, a shadow
// root, a frame, text with characters outside the BMP (two UTF-16 units each).
const MIXED =
  '<h2>Allergies</h2>\n  <p>Pen<i>ic</i>illin — <b>rash</b> 😀 noted</p>\n<div id="host"></div>' +
  '<ul><li>one</li><li>two</li></ul><iframe srcdoc="<p>frame text</p><p>more</p>"></iframe><p>last 𝔸 line</p>';
const mixedPage = () =>
  pageWith(MIXED, () => {
    document.getElementById('host').attachShadow({ mode: 'open' }).innerHTML = '<p>shadow <u>text</u></p>';
  });

test('every range of the text map becomes a DOM range holding the same text (separators aside)', async () => {
  const page = await mixedPage();
  const failures = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    // Offsets that no text node covers are the separators the walk inserted.
    const covered = new Array(map.text.length).fill(false);
    map.nodes.forEach((node, i) => covered.fill(true, map.starts[i], map.starts[i] + node.data.length));
    const nodeAt = (offset) => map.nodes[map.starts.findLastIndex((s) => s <= offset)];
    const bad = [];
    let checked = 0;
    for (let start = 0; start < map.text.length; start++) {
      for (let end = start + 1; end <= map.text.length; end++) {
        if (!covered[start] || !covered[end - 1]) continue; // a range from or to a separator: see below
        const range = textMap.rangeFor(map, start, end);
        const [first, last] = [nodeAt(start), nodeAt(end - 1)];
        // A DOM range cannot span frames (none is made) nor a shadow boundary (the DOM
        // collapses it): such a quote is placed but cannot be painted.
        if (first.ownerDocument !== last.ownerDocument) {
          if (range !== null) bad.push(`${start}..${end}: a range across frames`);
          continue;
        }
        if (first.getRootNode() !== last.getRootNode()) {
          if (!range.collapsed) bad.push(`${start}..${end}: a range across a shadow boundary`);
          continue;
        }
        // What the DOM holds between the two points: the text of the nodes of the same tree
        // (a shadow root's text is not in its host's range), without the separators.
        const expected = map.nodes
          .map((node, i) => (node.getRootNode() === first.getRootNode() ? node.data.slice(Math.max(0, start - map.starts[i]), Math.max(0, end - map.starts[i])) : ''))
          .join('');
        checked++;
        if (range?.toString() !== expected) bad.push(`${start}..${end}: ${JSON.stringify(range?.toString())} != ${JSON.stringify(expected)}`);
      }
    }
    return { checked, bad: bad.slice(0, 5), count: bad.length };
  });
  assert.ok(failures.checked > 1000, `checked only ${failures.checked} ranges`);
  assert.deepEqual(failures.bad, [], `${failures.count} ranges differ`);
  await page.close();
});

test('a range that starts on a separator starts at the next block’s first character', async () => {
  const page = await pageWith('<p>first</p><p>second</p>');
  const text = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    const separator = map.text.indexOf('\n');
    const range = textMap.rangeFor(map, separator, separator + 4);
    return { text: map.text, range: range.toString(), startsIn: range.startContainer.data, at: range.startOffset };
  });
  assert.equal(text.text, 'first\nsecond');
  assert.deepEqual([text.range, text.startsIn, text.at], ['sec', 'second', 0]);
  await page.close();
});

test('every DOM point inside mapped text gives back its text-map offset', async () => {
  const page = await mixedPage();
  const bad = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    const wrong = [];
    map.nodes.forEach((node, i) => {
      for (let offset = 0; offset <= node.data.length; offset++) {
        const got = textMap.offsetOf(map, node, offset);
        if (got !== map.starts[i] + offset) wrong.push(`${JSON.stringify(node.data)}@${offset}: ${got}`);
      }
    });
    return wrong;
  });
  assert.deepEqual(bad, []);
  await page.close();
});

test('a point between elements maps to the first text at or after it, in its own tree', async () => {
  const page = await mixedPage();
  const seen = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    const at = (container, offset) => map.text.slice(textMap.offsetOf(map, container, offset)).slice(0, 6);
    const list = document.querySelector('ul');
    const shadowP = document.getElementById('host').shadowRoot.firstChild;
    const frameBody = document.querySelector('iframe').contentDocument.body;
    return {
      beforeSecondItem: at(list, 1),
      inShadow: at(shadowP, 1),
      inFrame: at(frameBody, 1),
      pastTheEnd: textMap.offsetOf(map, document.body, document.body.childNodes.length) === map.text.length,
    };
  });
  assert.deepEqual(seen, { beforeSecondItem: 'two\nfr', inShadow: 'text\none'.slice(0, 6), inFrame: 'more\nl', pastTheEnd: true });
  await page.close();
});

test('an empty page maps to no text and no range', async () => {
  const page = await pageWith('');
  const seen = await page.evaluate(() => {
    const map = textMap.buildTextMap(document);
    return { text: map.text, range: textMap.rangeFor(map, 0, 0) };
  });
  assert.deepEqual(seen, { text: '', range: null });
  await page.close();
});
