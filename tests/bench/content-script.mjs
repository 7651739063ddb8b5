// Content-script cost on the demo app with 100 tips on one screen: building the text map,
// the round trip to the worker (which anchors all tips in wasm) and painting, as the
// content script itself measures it (`performance.measure('inflow:refresh')`); and how soon
// a tip's card is usable after a click on its highlight (Inflow's frame is made on the first
// click, never at page load; later clicks reuse it), and the capture form after a click on
// "+ Tip".
//
// Run it with `cargo xtask bench content`. It prints figures; nothing here asserts a time.
import { randomBytes } from 'node:crypto';
import { dragSelect, eventually, highlightPoint, highlightedTexts, inflowFrame, launch, newProfileDir, startDemo, uiBox, uiTextEventually } from '../e2e/harness.mjs';

const TIPS = 100;
const RUNS = 7;

function uuidV7() {
  const bytes = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i += 1) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const demo = await startDemo();
const profile = newProfileDir();
const { context, worker } = await launch(profile.dir);
try {
  const page = await context.newPage();
  const url = `${demo.url}/patients/1/notes`;
  await page.goto(url);
  await page.getByText('Hourly rounding').first().waitFor();
  // 100 notes on this screen, described as capture describes a selection: the quote and
  // 32 characters of context on each side (of the rendered text, normalised as core does).
  const quotes = await page.evaluate((count) => {
    const page = document.body.innerText.replace(/\s+/g, ' ');
    const texts = [...document.querySelectorAll('ol.notes li p:not(.meta)')].map((p) => p.textContent.replace(/\s+/g, ' ').trim());
    return texts.slice(-count).map((exact) => {
      const at = page.indexOf(exact);
      return { exact, prefix: page.slice(Math.max(0, at - 32), at), suffix: page.slice(at + exact.length, at + exact.length + 32) };
    });
  }, TIPS);
  const now = new Date().toISOString();
  const tips = quotes.map(({ exact, prefix, suffix }) => ({
    id: uuidV7(), author: 'Bench', created: now, modified: now, screen: url, page_title: 'Notes', note: 'bench', tags: [],
    visibility: 'private', target: { source: url, selector: [{ type: 'TextQuoteSelector', exact, prefix, suffix }] },
  }));
  await worker.evaluate((tips) => new Promise((resolve, reject) => {
    const open = indexedDB.open('inflow');
    open.onsuccess = () => {
      const tx = open.result.transaction('tips', 'readwrite');
      for (const tip of tips) tx.objectStore('tips').put(tip);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    };
    open.onerror = () => reject(open.error);
  }), tips);

  const samples = [];
  let textLength = 0;
  for (let run = 0; run < RUNS; run += 1) {
    await page.reload();
    await eventually(() => highlightedTexts(page), (h) => h.length === TIPS, { timeout: 10000, what: `${TIPS} highlights` });
    // The refresh that painted the tips is the last measured once all are highlighted (the
    // measure carries no tip count: the page shares the timeline).
    const measures = await eventually(
      () => page.evaluate(() => performance.getEntriesByName('inflow:refresh').map((m) => m.duration)),
      (entries) => entries.length > 0,
      { what: 'the content script\'s measure' },
    );
    samples.push(measures[measures.length - 1]);
    textLength = await page.evaluate(() => document.body.innerText.length);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  console.log(`\nContent script on the demo app: ${TIPS} tips on one screen (${textLength.toLocaleString()} characters of page text), ${RUNS} reloads`);
  console.log('text map + message to the worker + anchoring in wasm + paint, per page load:');
  console.log(`  median ${median.toFixed(1)} ms, fastest ${samples[0].toFixed(1)} ms, slowest ${samples[samples.length - 1].toFixed(1)} ms   (target: under 50 ms)`);

  // From the click (sent through the DevTools protocol, as a user's) to the card shown with
  // the tip's note, its frame placed and holding the focus: first after a reload (the frame
  // is made then), then again on the same page. Includes the protocol's own latency.
  const cardTimes = { first: [], moved: [], again: [] };
  const frameStart = []; // from the frame's navigation to its code running (page, wasm)
  const frameScript = []; // ...to its script starting (the page and its module loaded)
  const quote = quotes[quotes.length - 1].exact;
  for (let run = 0; run < RUNS; run += 1) {
    await page.reload();
    await eventually(() => highlightedTexts(page), (h) => h.length === TIPS, { timeout: 10000, what: `${TIPS} highlights` });
    for (const when of ['first', 'moved', 'again']) {
      if (when === 'moved') {
        await page.reload();
        await eventually(() => highlightedTexts(page), (h) => h.length === TIPS, { timeout: 10000, what: `${TIPS} highlights` });
      }
      // The quote is near the end of a long page: scrolled to, as a user would (a click
      // beyond the window cannot happen, and a frame placed there is not painted).
      await page.evaluate((text) => {
        const range = [...(CSS.highlights.get('inflow-tip') ?? [])].find((r) => r.toString() === text);
        range?.startContainer.parentElement?.scrollIntoView({ block: 'center' });
      }, quote);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const { x, y } = await highlightPoint(page, quote);
      if (when === 'moved') {
        // As a user reaches for the highlight: the pointer crosses the page first.
        await page.mouse.move(5, 5);
        await page.mouse.move(x - 40, y - 40, { steps: 10 });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const started = Date.now();
      await page.mouse.click(x, y);
      // The frame is looked for every 2 ms (the harness's 50 ms polling would swamp the figure);
      // it has the focus only once the content script placed and showed it.
      let frame = null;
      while (!(frame = page.frames().find((f) => f.url().includes('/tipframe.html')))) await new Promise((resolve) => setTimeout(resolve, 2));
      await frame.waitForFunction(() => document.hasFocus() && document.querySelector('#card-tips .note')?.textContent === 'bench', null, { polling: 'raf' });
      cardTimes[when].push(Date.now() - started);
      if (when === 'first') {
        const [script, ready] = await frame.evaluate(() => ['inflow:frame-script', 'inflow:frame-ready'].map((name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN));
        frameScript.push(script);
        frameStart.push(ready);
      }
      await page.keyboard.press('Escape');
      await eventually(() => inflowFrame(page), (f) => f === null, { what: 'the card closed' });
    }
  }
  // From a click on "+ Tip" to the capture form usable (the quote shown, the focus in its
  // note): the user selects text and clicks the button as soon as it shows (the frame is
  // made when the button shows, at the mouse's release, so this is the least head start).
  const formTimes = [];
  const heading = 'Progress notes';
  for (let run = 0; run < RUNS; run += 1) {
    await page.reload();
    await eventually(() => highlightedTexts(page), (h) => h.length === TIPS, { timeout: 10000, what: `${TIPS} highlights` });
    await page.evaluate(() => document.querySelector('h2')?.scrollIntoView({ block: 'center' }));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await dragSelect(page, 'h2', heading);
    await uiTextEventually(page, 'add', (t) => t.includes('Tip'), 'the + Tip button');
    const box = await uiBox(page, 'add');
    const started = Date.now();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    let frame = null;
    while (!(frame = page.frames().find((f) => f.url().includes('/tipframe.html')))) await new Promise((resolve) => setTimeout(resolve, 2));
    await frame.waitForFunction(
      (quote) => document.hasFocus() && document.activeElement?.id === 'capture-note' && document.querySelector('#capture-quote')?.textContent === quote,
      heading,
      { polling: 'raf' },
    );
    formTimes.push(Date.now() - started);
    await page.keyboard.press('Escape');
    await eventually(() => inflowFrame(page), (f) => f === null, { what: 'the form closed' });
  }
  const med = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  console.log('\nA click on a highlight to its card usable (note shown, focus in the card):');
  console.log(`  first click after load, the pointer moved and clicked at once (frame made by the click): median ${med(cardTimes.first)} ms, slowest ${Math.max(...cardTimes.first)} ms   (target: under 100 ms)`);
  console.log(`    of which the frame's own start-up: median ${med(frameStart).toFixed(0)} ms (its script runs at ${med(frameScript).toFixed(0)} ms, then the wasm loads and starts)`);
  console.log(`  first click after the pointer crossed the page (250 ms before): median ${med(cardTimes.moved)} ms, slowest ${Math.max(...cardTimes.moved)} ms   (target: under 100 ms)`);
  console.log(`  later clicks:                        median ${med(cardTimes.again)} ms, slowest ${Math.max(...cardTimes.again)} ms   (target: under 100 ms)`);
  console.log(`\nA click on "+ Tip" to the capture form usable (quote shown, focus in its note), clicked as soon as it shows:`);
  console.log(`  median ${med(formTimes)} ms, slowest ${Math.max(...formTimes)} ms   (target: under 100 ms)`);
  console.log('  (not covered: a page whose own main thread is busy when the user clicks; a cold browser)');
} finally {
  await context.close();
  profile.remove();
  demo.stop();
}
