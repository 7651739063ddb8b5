// @ts-check
// The selection the user made, looked for in same-origin frames and open shadow roots,
// as text-map offsets.

import { buildTextMap, offsetOf, rangeFor, sameOriginBody } from './text-map.js';

/** A selection as DOM boundary points (a live Range or a StaticRange). @typedef {AbstractRange} Selected */

/** The selection the user sees, looking into same-origin frames and open shadow roots:
 *  null when there is none, `{ error }` when it cannot hold a tip.
 *  @param {import('./text-map.js').TextMap} map
 *  @returns {Selected | { error: string } | null} */
export function currentSelection(map) {
  let active = document.activeElement;
  /** @type {Window} */
  let view = window;
  while (active && (active.tagName === 'IFRAME' || active.tagName === 'FRAME')) {
    if (!sameOriginBody(active)) {
      return {
        error:
          'Tips on text inside this embedded frame are not possible: it comes from another site. Open it in its own tab to add a tip there.',
      };
    }
    view = /** @type {Window} */ (/** @type {HTMLIFrameElement} */ (active).contentWindow);
    active = view.document.activeElement;
  }
  const field = /** @type {HTMLInputElement | null} */ (active);
  if (field && (field.tagName === 'TEXTAREA' || (field.tagName === 'INPUT' && field.selectionStart !== field.selectionEnd))) {
    return { error: 'Inflow can’t pin text inside a form field. Select text on the page instead.' };
  }
  const selection = view.getSelection();
  if (!selection || selection.rangeCount === 0) return null;
  // A selection inside an open shadow root looks collapsed at its host through the
  // ordinary API; getComposedRanges shows where it really is.
  const shadowRoots = [...map.trees].filter(
    (tree) => tree.nodeType === Node.DOCUMENT_FRAGMENT_NODE && /** @type {ShadowRoot} */ (tree).host,
  );
  const composed = /** @type {any} */ (selection).getComposedRanges;
  /** @type {AbstractRange[]} */
  const [range] = composed ? composed.call(selection, { shadowRoots }) : [selection.getRangeAt(0)];
  return range && !range.collapsed ? range : null;
}

/** A live Range for a selection (getComposedRanges gives static ones).
 *  @param {AbstractRange} r
 *  @returns {Range} */
export function toRange(r) {
  if (typeof (/** @type {any} */ (r).getClientRects) === 'function') return /** @type {Range} */ (r); // a live Range (any frame's)
  const range = /** @type {Document} */ (r.startContainer.ownerDocument).createRange();
  range.setStart(r.startContainer, r.startOffset);
  range.setEnd(r.endContainer, r.endOffset);
  return range;
}

/** The current selection as text-map offsets (with the page's text and a live range), or
 *  `{ error }` saying why it can't hold a tip.
 *  @returns {{ text: string, blocks: import('./text-map.js').BlockKinds, start: number, end: number, range: Range | null, quote: string } | { error: string }} */
export function readSelection() {
  const map = buildTextMap();
  const selected = currentSelection(map);
  if (selected && 'error' in selected) return selected;
  if (!selected) return { error: 'Select some text on the page first.' };
  const range = /** @type {AbstractRange} */ (selected);
  const start = offsetOf(map, range.startContainer, range.startOffset);
  const end = offsetOf(map, range.endContainer, range.endOffset);
  if (end <= start || map.text.slice(start, end).trim() === '') {
    return { error: 'Select some text on the page first.' };
  }
  const live = rangeFor(map, start, end);
  return { text: map.text, blocks: map.blocks, start, end, range: live, quote: map.text.slice(start, end) };
}
