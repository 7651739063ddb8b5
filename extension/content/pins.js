// @ts-check
// Tips pinned to controls: describing a control for core to rank the ways of finding it,
// finding it again, its marker, and telling the worker when it has gone missing.

import { state } from './state.js';
import { send } from './worker-link.js';
import { element_, theUi, uiIfMade } from './ui.js';
import { showTips } from './frame.js';

/** A control missing this long is not still rendering. */
const MISSING_AFTER_MS = 5000;

/** What core needs to rank the ways of finding a control again.
 *  @typedef {{ tag: string, id: string | null, attributes: [string, string][], label: string | null,
 *              text: string | null, path: [string, number][] }} ElementDescription */

/** The control a right-click meant: the nearest interactive ancestor of what was hit.
 *  @param {Node | null} target
 *  @returns {Element | null} */
export function pinnable(target) {
  const element = target?.nodeType === Node.ELEMENT_NODE ? /** @type {Element} */ (target) : target?.parentElement;
  return (
    element?.closest('button, a, input, select, textarea, summary, label, [role], th, td, li, [data-testid]') ??
    element ??
    null
  );
}

/** @param {string | null | undefined} text */
const normalise = (text) => (text ?? '').replace(/\s+/g, ' ').trim();
/** @param {Element} element */
const ownText = (element) => normalise(/** @type {HTMLElement} */ (element).innerText ?? element.textContent).slice(0, 80);
/** @param {Element} element */
function labelText(element) {
  const labelledBy = element.getAttribute('aria-labelledby');
  if (labelledBy) {
    return normalise(
      labelledBy
        .split(/\s+/)
        .map((id) => element.ownerDocument.getElementById(id)?.textContent)
        .join(' '),
    );
  }
  return normalise(/** @type {HTMLInputElement} */ (element).labels?.[0]?.textContent) || null;
}

/** @param {Element} element
 *  @returns {ElementDescription} */
export function describeElement(element) {
  const names = ['name', 'aria-label', 'role', 'type', 'title', 'placeholder'];
  const attributes = [...element.attributes]
    .filter((a) => a.name.startsWith('data-') || names.includes(a.name))
    .map((a) => /** @type {[string, string]} */ ([a.name, a.value.slice(0, 200)]));
  /** @type {[string, number][]} */
  const path = [];
  for (let node = element; node && node !== document.body; node = /** @type {Element} */ (node.parentElement)) {
    const sameTag = node.parentElement ? [...node.parentElement.children].filter((c) => c.tagName === node.tagName) : [node];
    path.unshift([node.tagName.toLowerCase(), sameTag.indexOf(node) + 1]);
  }
  const hasText = /^(BUTTON|A|SUMMARY|TH|TD|LI|LABEL)$/.test(element.tagName) || element.hasAttribute('role');
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id || null,
    attributes,
    label: labelText(element),
    text: hasText ? ownText(element) || null : null,
    path,
  };
}

/** Finds the element a tip is pinned to: by each ranked selector in turn, accepting one
 *  only if it matches exactly one element; then by label or own text; last by position,
 *  trusted only while the element there still has the same tag and text.
 *  @param {Record<string, any> | undefined} css the tip's CssSelector */
function findElement(css) {
  if (!css) return null;
  /** @param {ArrayLike<Element>} list */
  const unique = (list) => (list.length === 1 ? list[0] : null);
  for (const selector of [css.value, ...(css.fallbacks ?? [])]) {
    try {
      const found = unique(document.querySelectorAll(selector));
      if (found) return found;
    } catch {
      // a selector this browser cannot parse: try the next way
    }
  }
  const sameTag = css.tag ? [...document.querySelectorAll(css.tag)] : [];
  if (css.label) {
    const found = unique(sameTag.filter((e) => labelText(e) === css.label));
    if (found) return found;
  }
  if (css.text) {
    const found = unique(sameTag.filter((e) => ownText(e) === css.text));
    if (found) return found;
  }
  if (css.position) {
    const there = document.querySelector(css.position);
    const agrees =
      there &&
      there.tagName.toLowerCase() === css.tag &&
      (!css.text || ownText(there) === css.text) &&
      (!css.label || labelText(there) === css.label);
    if (agrees) return there;
  }
  return null;
}

/** Finds every pinned control of the screen and draws its marker. */
export function placeElements() {
  state.placedElements = state.elementTips.flatMap((tip) => {
    const element = findElement(tip.target.selector.find((s) => s.type === 'CssSelector'));
    return element ? [{ tip, element }] : [];
  });
  drawMarkers();
}

/** The screen's element tips whose control is not on the page. */
export const missingElementTips = () =>
  state.elementTips.filter((tip) => !state.placedElements.some((placed) => placed.tip.id === tip.id));

let missingTimer = 0;
/** Tip id -> when its control was first seen missing. @type {Map<string, number>} */
const missingSince = new Map();
const reportedMissing = new Set();
/** Tells the worker which shared element tips of this very page have had no control on
 *  the page for a while (a page still rendering does not count): the app changed under
 *  them, and curators should look. The worker decides, and flags each tip once. */
export function watchMissingElements() {
  const now = performance.now();
  const missing = missingElementTips().filter(
    (tip) => tip.visibility === 'team' && state.elementsCapturedHere.has(tip.id) && !tip.curation?.needsReview,
  );
  for (const id of missingSince.keys()) if (!missing.some((tip) => tip.id === id)) missingSince.delete(id);
  for (const tip of missing) if (!missingSince.has(tip.id)) missingSince.set(tip.id, now);
  const due = [...missingSince]
    .filter(([id, since]) => now - since >= MISSING_AFTER_MS && !reportedMissing.has(id))
    .map(([id]) => id);
  if (due.length) {
    due.forEach((id) => reportedMissing.add(id));
    send({ type: 'elementsMissing', tipIds: due });
  }
  // Look again when the next one falls due, whether or not the page changes meanwhile.
  clearTimeout(missingTimer);
  const waiting = [...missingSince]
    .filter(([id]) => !reportedMissing.has(id))
    .map(([, since]) => since + MISSING_AFTER_MS - now);
  if (waiting.length) missingTimer = setTimeout(watchMissingElements, Math.max(0, Math.min(...waiting)) + 50);
}

/** Stops looking for missing controls (the script stops). */
export function stopWatchingMissing() {
  clearTimeout(missingTimer);
}

/** A marker at the top-right corner of each pinned element that is on screen. */
function drawMarkers() {
  if (!state.placedElements.length && !uiIfMade()) return;
  const { markers } = theUi();
  markers.replaceChildren(
    ...state.placedElements.map(({ tip, element }) => {
      const box = element.getBoundingClientRect();
      // Its label names no tip content: the page can read its own document's buttons.
      const marker = element_('button', { type: 'button', className: 'marker', text: 'i', 'aria-label': 'Inflow tip' });
      marker.style.left = `${Math.max(0, Math.min(box.right - 9, innerWidth - 20))}px`;
      marker.style.top = `${Math.max(0, box.top - 9)}px`;
      marker.hidden = box.width === 0 && box.height === 0; // not rendered (another tab, collapsed)
      marker.addEventListener('click', (event) => event.isTrusted && showTips([tip], marker.getBoundingClientRect()));
      return marker;
    }),
  );
}

let markerFrame = 0;
/** Redraws the markers at the next frame (the page scrolled or resized). */
export function redrawMarkers() {
  if (!state.placedElements.length || markerFrame) return;
  markerFrame = requestAnimationFrame(() => {
    markerFrame = 0;
    drawMarkers();
  });
}
