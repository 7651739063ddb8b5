// @ts-check
// Keeping the tips on the page as it changes: watching the page (and its shadow roots and
// frames) for changes, re-reading it at a pace the page can afford, asking the worker
// where the tips go, and painting them.

import { state } from './state.js';
import { buildTextMap } from './text-map.js';
import { keepPaintedLive, paint, paintedStillHold, placementsIntact } from './highlights.js';
import { placeElements, watchMissingElements } from './pins.js';
import { placeAddButton } from './capture.js';
import { send } from './worker-link.js';
import { isPlaced, showStep } from './frame.js';

/** A refresh runs once the page has been quiet this long (its burst of changes is over)... */
const REFRESH_QUIET_MS = 50;
/** ...but no later than this after the first change, on a page that never stops changing... */
const REFRESH_MAX_WAIT_MS = 400;
/** ...and never so often that Inflow's share of the page's main thread passes 1 / this. */
const REFRESH_DUTY_FACTOR = 40;
/** Only a page whose text has not changed for this long is evidence that a tip's text is
 *  gone from it: an app's own navigation changes the address before it draws the screen. */
const SETTLED_AFTER_MS = 1500;
/** A walkthrough step whose text is not on its screen is said to be missing once the page
 *  has settled, or this long after it came due there, whichever is first. */
const STEP_WAIT_MS = 3000;
/** A page whose text looks unchanged is still read whole this long after it was last
 *  read (see `looksUnchanged`), for the changes its body's text does not show. */
const FULL_READ_EVERY_MS = 2000;
/** The step waiting for its text on this page, and since when. */
let stepDue = { key: '', since: 0 };
let stepTimer = 0;
/** The walkthrough step the worker last said is due on this page (it stays due while the
 *  page only redraws). @type {any} */
let lastStep = null;

/** The body's text when the page was last read whole (the browser's own `textContent`,
 *  0.2-1 ms on a 2,000-row board where the text map takes 4-5 ms), and
 *  whether a shadow root or frame the walk entered changed since (their text is not in
 *  it). @type {string | null} */
let bodyTextAtLastRead = null;
let otherTreeChanged = true;
let fullReadTimer = 0;

/** Whether the page's text is as it was at the last whole read, and every painted tip
 *  still holds its text: a board that rebuilds the same rows in new nodes. Its body's
 *  text cannot show a shadow root or frame that just appeared, nor text that moved into
 *  another block, so such a page is still read whole every FULL_READ_EVERY_MS. */
function looksUnchanged() {
  return (
    !otherTreeChanged &&
    bodyTextAtLastRead !== null &&
    location.href === state.lastUrl &&
    document.body?.textContent === bodyTextAtLastRead &&
    paintedStillHold()
  );
}

/** Asks the worker which tips belong on this screen and paints them. When the page
 *  re-rendered without changing its text, the tips' places are still right: only the
 *  nodes behind them changed, so they are repainted without asking the worker. Returns
 *  how long it kept the page's main thread busy (ms), not counting the wait for the
 *  worker, which runs elsewhere.
 *  @param {boolean} force ask the worker even if the text did not change
 *  @param {boolean} settled the page has been still for SETTLED_AFTER_MS
 *  @param {boolean} wholeRead read the page whole even if it looks unchanged */
export async function refresh(force, settled = false, wholeRead = false) {
  const started = performance.now();
  if (!force && !wholeRead && looksUnchanged()) {
    placeElements(); // a pinned control may be a new element now
    if (lastStep) offerStep(lastStep, false);
    if (!fullReadTimer) fullReadTimer = setTimeout(() => refreshPaced(true), FULL_READ_EVERY_MS);
    return performance.now() - started;
  }
  clearTimeout(fullReadTimer);
  fullReadTimer = 0;
  const map = buildTextMap();
  watch(map.trees);
  bodyTextAtLastRead = document.body?.textContent ?? null;
  otherTreeChanged = false; // the trees just watched were read with the rest
  const urlChanged = location.href !== state.lastUrl;
  if (!force && !urlChanged && map.text === state.lastSentText) {
    paint(map);
    if (lastStep) offerStep(lastStep, false); // its control may be a new element now
    return performance.now() - started;
  }
  // The text changed, but maybe not where tips are: painted ranges are live and follow
  // edits around them. If every placed tip still holds its quote and none is waiting for
  // its text to appear, nothing is affected and the worker is not asked.
  if (!force && !urlChanged && placementsIntact()) {
    state.lastSentText = null; // offsets are stale now; the live ranges are what counts
    placeElements();
    watchMissingElements();
    if (lastStep) offerStep(lastStep, false);
    return performance.now() - started;
  }
  state.lastUrl = location.href;
  state.lastSentText = map.text;
  const busyBefore = performance.now() - started;
  const answer = await send({ type: 'pageOpened', title: document.title, text: map.text, blocks: map.blocks, settled });
  const answered = performance.now();
  if (answer.type !== 'pageTips') return busyBefore;
  state.siteActive = answer.active;
  state.placedTips = answer.placed;
  state.elementTips = answer.elements;
  state.elementsCapturedHere = new Set(answer.elementsCapturedHere);
  state.identifyingFields = answer.identifyingFields ?? [];
  state.tipsOnScreen = answer.placed.length + answer.unplaced.length + answer.otherRecords.length + answer.elements.length;
  state.unplacedIds = answer.unplaced.map((/** @type {{ id: string }} */ tip) => tip.id);
  state.otherRecordIds = answer.otherRecords.map((/** @type {{ id: string }} */ tip) => tip.id);
  // The page may have rebuilt itself while the worker answered: the same text in new
  // nodes is painted on the new nodes.
  const last = map.nodes[map.nodes.length - 1];
  const current = last && !last.isConnected ? buildTextMap() : map;
  paint(current.text === map.text ? current : map);
  watchMissingElements();
  lastStep = answer.walkthrough ?? null;
  const waitForStep = offerStep(lastStep, settled);
  if (!settled && (answer.unplaced.length || waitForStep)) checkWhenSettled();
  // Visible in the browser's performance tools, and to Inflow's own benchmark; it carries
  // no count (the page shares the performance timeline and must not learn how many tips).
  performance.measure('inflow:refresh', { start: started });
  return busyBefore + (performance.now() - answered);
}

/** Shows the walkthrough's step due on this page (see frame.js's `showStep`). A step not
 *  found on a page still drawing itself is not missing yet: it is shown (or said to be
 *  missing) once the page has settled, or after STEP_WAIT_MS on a page that never stops
 *  changing (a ticking clock). Returns whether it waits.
 *  @param {any} step @param {boolean} settled */
function offerStep(step, settled) {
  const stepKey = step?.here && !isPlaced(step.tipId) ? `${step.tipId}|${step.number}|${location.href}` : '';
  if (stepKey !== stepDue.key) stepDue = { key: stepKey, since: performance.now() };
  const waiting = stepKey !== '' && !settled && performance.now() - stepDue.since < STEP_WAIT_MS;
  if (!waiting) showStep(step);
  else {
    clearTimeout(stepTimer);
    stepTimer = setTimeout(() => refresh(true), STEP_WAIT_MS + 20 - (performance.now() - stepDue.since));
  }
  return waiting;
}

// Tips whose nodes the page replaced are painted on the new ones at once, before the
// browser paints the change; the page is re-read later, at a pace it can afford.
const observer = new MutationObserver(() => {
  keepPaintedLive();
  scheduleRefresh();
});
/** The same, for shadow roots and frames' documents, whose text the body's does not hold. */
const otherTreesObserver = new MutationObserver(() => {
  otherTreeChanged = true;
  keepPaintedLive();
  scheduleRefresh();
});
/** Trees watched already: shadow roots and frames' documents, which the observer of the
 *  page's own document does not see into. @type {WeakSet<Node>} */
const watched = new WeakSet();
/** Listeners on frames' documents, removed by `disconnect`. */
const listening = new AbortController();

/** Watches the page's document for changes (start-up). */
export function watchPage() {
  observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
}

/** Watches shadow roots and frames for changes too.
 *  @param {Iterable<Node>} trees */
export function watch(trees) {
  for (const tree of trees) {
    if (watched.has(tree)) continue;
    watched.add(tree);
    otherTreeChanged = true; // a frame's document that just loaded has not been read yet
    otherTreesObserver.observe(tree, { childList: true, subtree: true, characterData: true });
    // Selections made in a frame end with a mouse-up in that frame's document.
    if (tree.nodeType === Node.DOCUMENT_NODE) {
      const frameDocument = /** @type {Document} */ (tree);
      frameDocument.addEventListener('mouseup', afterFrameMouseUp(frameDocument), { capture: true, signal: listening.signal });
    }
  }
}

/** A mouse-up in a same-origin frame's document, at its point in the top window.
 *  @param {Document} tree */
const afterFrameMouseUp = (tree) => (/** @type {MouseEvent} */ event) => {
  if (!event.isTrusted) return;
  const box = tree.defaultView?.frameElement?.getBoundingClientRect() ?? { left: 0, top: 0 };
  setTimeout(() => placeAddButton({ x: event.clientX + box.left, y: event.clientY + box.top }), 0);
};

let refreshTimer = 0;
let firstChangeAt = 0; // the first change not refreshed yet
let lastChangeAt = 0;
let nextRefreshAllowedAt = 0;
/** Called on every change of the page: a refresh once the page is quiet, or at most
 *  REFRESH_MAX_WAIT_MS after the first change while it keeps changing, spaced so that
 *  Inflow's work stays a small share of the page's. */
export function scheduleRefresh() {
  const now = performance.now();
  lastChangeAt = now;
  if (!firstChangeAt) firstChangeAt = now;
  const due = Math.max(Math.min(now + REFRESH_QUIET_MS, firstChangeAt + REFRESH_MAX_WAIT_MS), nextRefreshAllowedAt);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    firstChangeAt = 0;
    // Text changes matter only where tips may land; a new address always matters.
    if (location.href === state.lastUrl && state.tipsOnScreen === 0) return;
    refreshPaced();
  }, Math.max(0, due - now));
}

/** A refresh of the page's changes, whose cost spaces out the next one.
 *  @param {boolean} wholeRead read the page whole even if it looks unchanged */
async function refreshPaced(wholeRead = false) {
  const busy = await refresh(false, false, wholeRead);
  nextRefreshAllowedAt = performance.now() + REFRESH_DUTY_FACTOR * busy;
}

let settleTimer = 0;
/** Asks again once the page has been still for SETTLED_AFTER_MS, saying so: only then may
 *  the worker take a missing quote as evidence that the app changed. */
function checkWhenSettled() {
  clearTimeout(settleTimer);
  const wait = Math.max(0, lastChangeAt + SETTLED_AFTER_MS - performance.now());
  settleTimer = setTimeout(() => {
    if (performance.now() - lastChangeAt >= SETTLED_AFTER_MS) refresh(true, true);
    else checkWhenSettled();
  }, wait + 20);
}

/** Stops watching the page for good (the extension was reloaded under it): no observer,
 *  no listener on its frames, no timer. */
export function disconnect() {
  observer.disconnect();
  otherTreesObserver.disconnect();
  listening.abort();
  clearTimeout(refreshTimer);
  clearTimeout(settleTimer);
  clearTimeout(stepTimer);
  clearTimeout(fullReadTimer);
}
