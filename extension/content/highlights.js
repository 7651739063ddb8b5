// @ts-check
// Painting placed tips with the CSS Custom Highlight API (the page's DOM is never changed),
// hit-testing clicks against them, and flashing one.

import { state } from './state.js';
import { rangeFor } from './text-map.js';
import { placeElements } from './pins.js';

export const HIGHLIGHT = 'inflow-tip';
export const FLASH_HIGHLIGHT = 'inflow-tip-flash';

/** Some tip is painted where keepPaintedLive found it, not where the worker placed it. */
let foundByPath = false;

/** A window's highlight registry and constructor (each frame has its own).
 *  @param {Window} view
 *  @returns {{ registry: HighlightRegistry | undefined, Highlight: typeof Highlight }} */
function highlightsOf(view) {
  const scope = /** @type {any} */ (view);
  return { registry: scope.CSS?.highlights, Highlight: scope.Highlight };
}

/** Shows `range` in the flash style (the selection being captured, a tip revealed).
 *  @param {Range} range
 *  @returns {Window} the window whose registry now holds it */
export function flash(range) {
  const view = /** @type {Window} */ (range.startContainer.ownerDocument?.defaultView);
  const { registry, Highlight } = highlightsOf(view);
  registry?.set(FLASH_HIGHLIGHT, new Highlight(range));
  return view;
}

/** @param {Window | null} view */
export function unflash(view) {
  if (view) highlightsOf(view).registry?.delete(FLASH_HIGHLIGHT);
}

/** Paints the placed tips of `map`: one highlight per document (frames have their own
 *  registry), and a marker beside each element a tip is pinned to.
 *  @param {import('./text-map.js').TextMap} map */
export function paint(map) {
  placeElements();
  state.paintedRanges = state.placedTips.flatMap((placed) => {
    const range = rangeFor(map, placed.start, placed.end);
    return range ? [{ tip: placed.tip, range, painted: range.toString(), at: placeOf(range) }] : [];
  });
  foundByPath = false;
  register();
}

/** Puts the painted ranges in their windows' highlight registries. */
function register() {
  /** @type {Map<Window, Range[]>} */
  const byWindow = new Map();
  for (const { range } of state.paintedRanges) {
    const view = /** @type {Window} */ (range.startContainer.ownerDocument?.defaultView);
    if (!byWindow.has(view)) byWindow.set(view, []);
    byWindow.get(view)?.push(range);
  }
  for (const view of state.paintedWindows) if (!byWindow.has(view)) highlightsOf(view).registry?.delete(HIGHLIGHT);
  for (const [view, ranges] of byWindow) {
    const { registry, Highlight } = highlightsOf(view);
    registry?.set(HIGHLIGHT, new Highlight(...ranges));
  }
  state.paintedWindows = new Set(byWindow.keys());
}

/** Where a range's ends are, as paths from their tree's root.
 *  @param {Range} range
 *  @returns {import('./state.js').PaintedPlace | null} */
function placeOf(range) {
  const start = pathOf(range.startContainer);
  const end = pathOf(range.endContainer);
  if (start.root !== end.root) return null;
  const { startOffset, endOffset, startContainer: startNode, endContainer: endNode } = range;
  return { root: start.root, start: start.path, end: end.path, startOffset, endOffset, startNode, endNode };
}

/** @param {Node} node */
function pathOf(node) {
  const path = [];
  let at = node;
  while (at.parentNode) {
    path.push(Array.prototype.indexOf.call(at.parentNode.childNodes, at));
    at = at.parentNode;
  }
  return { root: at, path: path.reverse() };
}

/** @param {Node} root @param {number[]} path */
function nodeAt(root, path) {
  let at = root;
  for (const index of path) {
    const next = at.childNodes[index];
    if (!next) return null;
    at = next;
  }
  return at;
}

/** Called with the page's changes, before the browser paints them: a page that rebuilt the
 *  markup under a painted tip (a board re-rendered every few hundred milliseconds) has
 *  new nodes where the old ones were. Each tip whose nodes were removed is found again at
 *  the same place in the new tree, and kept only if that holds, to the letter, the text it
 *  was painted on; anything else waits for the next refresh, which re-reads the page. The
 *  work is a few index lookups per tip, and none while the tips' nodes stay. */
export function keepPaintedLive() {
  let moved = false;
  for (const painted of state.paintedRanges) {
    const { at } = painted;
    if (!at || !at.root.isConnected || (at.startNode.isConnected && at.endNode.isConnected)) continue;
    const startNode = nodeAt(at.root, at.start);
    const endNode = nodeAt(at.root, at.end);
    if (startNode?.nodeType !== Node.TEXT_NODE || endNode?.nodeType !== Node.TEXT_NODE) continue;
    if (at.startOffset > (startNode.nodeValue ?? '').length || at.endOffset > (endNode.nodeValue ?? '').length) continue;
    const range = /** @type {Document} */ (startNode.ownerDocument).createRange(); // the frame's own, in a frame
    range.setStart(startNode, at.startOffset);
    range.setEnd(endNode, at.endOffset);
    if (range.toString() !== painted.painted) continue;
    painted.range = range;
    painted.at = { ...at, startNode, endNode };
    moved = true;
  }
  if (!moved) return;
  register();
  // Found again by where it was in the markup, not by its text: until the worker has
  // placed it again, the page's changes are not taken as leaving every tip intact.
  foundByPath = true;
}

/** Whether every text tip is placed and its live range still holds, to the letter, the
 *  text it was painted on (the worker placed it there; nothing here reads text as a
 *  quote or normalises it). */
export function placementsIntact() {
  const unplaced = state.tipsOnScreen - state.placedTips.length - state.elementTips.length;
  return !foundByPath && unplaced === 0 && state.paintedRanges.length === state.placedTips.length && paintedStillHold();
}

/** Whether every painted range is still in the page and holds, to the letter, the text it
 *  was painted on. */
export function paintedStillHold() {
  return state.paintedRanges.every(
    ({ range, painted }) => range.startContainer.isConnected && range.endContainer.isConnected && range.toString() === painted,
  );
}

/** The viewport box of a range (a frame's ranges are offset by the frame's position).
 *  @param {Range} range */
export function viewportBox(range) {
  const box = range.getBoundingClientRect();
  const offset = frameOffset(range.startContainer);
  return { left: box.left + offset.left, top: box.top + offset.top, right: box.right + offset.left, bottom: box.bottom + offset.top };
}

/** Where the frame holding `node` sits in the top window (0, 0 for the top document).
 *  @param {Node} node */
export function frameOffset(node) {
  const frameElement = node.ownerDocument?.defaultView?.frameElement;
  return frameElement ? frameElement.getBoundingClientRect() : { left: 0, top: 0 };
}

/** The tips whose highlight covers the viewport point (x, y). Highlights are not
 *  elements, so they get no events: a click is hit-tested against their rectangles.
 *  @param {number} x @param {number} y */
export function tipsAt(x, y) {
  return state.paintedRanges
    .filter(({ range }) => {
      const { left, top } = frameOffset(range.startContainer);
      return [...range.getClientRects()].some(
        (r) => x >= r.left + left && x <= r.right + left && y >= r.top + top && y <= r.bottom + top,
      );
    })
    .map(({ tip }) => tip);
}

/** Scrolls a tip's text or element into view and flashes it (asked by the side panel and
 *  the keyboard). Whether the tip is shown on this page.
 *  @param {string} tipId */
export function reveal(tipId) {
  const painted = state.paintedRanges.find(({ tip }) => tip.id === tipId);
  const pinned = state.placedElements.find(({ tip }) => tip.id === tipId);
  if (!painted && !pinned) return false;
  const target = painted ? painted.range.startContainer.parentElement : pinned?.element;
  target?.scrollIntoView({ block: 'center', behavior: 'instant' });
  if (painted) {
    const view = flash(painted.range);
    setTimeout(() => {
      if (!state.pending) unflash(view);
    }, 1500);
  }
  return true;
}
