// @ts-check
// Capturing a tip: "+ Tip" beside the user's own selection, the form in Inflow's frame for
// a selection or a pinned control, and saving what the form holds through the worker.

import { state } from './state.js';
import { buildTextMap } from './text-map.js';
import { currentSelection, readSelection, toRange } from './selection.js';
import { flash, unflash, frameOffset, viewportBox } from './highlights.js';
import { pinnable, describeElement } from './pins.js';
import { theUi, uiIfMade, showNotice } from './ui.js';
import { theFrame, openFrame, hideFrame, toFrame } from './frame.js';
import { send } from './worker-link.js';
import { refresh } from './refresh.js';
import { pageIdentifiers } from './identifiers.js';

/** How much page text on each side of a quote the form's preview shows (characters). */
const CONTEXT_PREVIEW = 40;

/** How far from the selection's rectangles a mouse release still counts as over it (px). */
const RELEASED_NEAR = 24;

/** Shows "+ Tip" beside the selection the user just made. Only trusted events call this,
 *  and a mouse selection counts only where the mouse was released over it (`point`): a
 *  page that selects text of its own accord cannot make the button appear where it wants.
 *  @param {{ x: number, y: number } | null} point */
export function placeAddButton(point) {
  if (!state.siteActive || state.pending) return;
  const { addButton } = theUi();
  const map = buildTextMap();
  const selected = currentSelection(map);
  const range = selected && !('error' in selected) && !selected.collapsed ? toRange(selected) : null;
  const rects = range ? [...range.getClientRects()] : [];
  const last = rects[rects.length - 1];
  // Rectangles of text in a frame are relative to the frame: add the frame's position.
  const offset = range ? frameOffset(range.startContainer) : { left: 0, top: 0 };
  /** @param {DOMRect} r */
  const released = (r) =>
    !point ||
    (point.x >= r.left + offset.left - RELEASED_NEAR &&
      point.x <= r.right + offset.left + RELEASED_NEAR &&
      point.y >= r.top + offset.top - RELEASED_NEAR &&
      point.y <= r.bottom + offset.top + RELEASED_NEAR);
  if (!range || !last || String(range).trim() === '' || !rects.some(released)) {
    addButton.hidden = true;
    return;
  }
  addButton.style.left = `${Math.min(offset.left + last.right + 4, innerWidth - 80)}px`;
  addButton.style.top = `${Math.min(offset.top + last.bottom + 4, innerHeight - 36)}px`;
  addButton.hidden = false;
  // The user means to add a tip: make the frame now (it takes ~100 ms to start), so the
  // form is ready by the time "+ Tip" is pressed.
  theFrame();
}

/** Hides "+ Tip" (a press elsewhere starts a new selection). */
export function hideAddButton() {
  const ui = uiIfMade();
  if (ui) ui.addButton.hidden = true;
}

/** Opens the form for the current selection (from "+ Tip", the shortcut or the menu). */
export function openCapture() {
  theUi().addButton.hidden = true;
  const selected = readSelection();
  if ('error' in selected) {
    showNotice(selected.error);
    return;
  }
  const identifiers = pageIdentifiers(state.identifyingFields);
  state.pending = { ...selected, identifiers };
  let anchor = null;
  if (selected.range) {
    state.pendingWindow = flash(selected.range);
    anchor = viewportBox(selected.range);
  }
  // The form previews a shared tip as teammates will see it: it needs the words around
  // the quote and the page's identifying values (sent to Inflow's frame only).
  const prefix = selected.text.slice(Math.max(0, selected.start - CONTEXT_PREVIEW), selected.start);
  const suffix = selected.text.slice(selected.end, selected.end + CONTEXT_PREVIEW);
  const capture = { type: 'showCapture', quote: selected.quote.trim(), title: document.title, prefix, suffix, identifiers };
  openFrame('capture', capture, anchor);
}

/** Opens the form to pin a tip to the control last right-clicked. */
export function openElementCapture() {
  const target = pinnable(state.lastContextTarget);
  if (!target || !target.isConnected || target.closest('[data-inflow-ui]')) {
    showNotice('Right-click the button, field, tab or link you want to pin a tip to.');
    return;
  }
  theUi().addButton.hidden = true;
  const description = describeElement(target);
  const identifiers = pageIdentifiers(state.identifyingFields);
  state.pending = { element: description, identifiers };
  const name =
    description.label ||
    description.text ||
    description.attributes.find(([n]) => n === 'aria-label')?.[1] ||
    description.tag;
  const capture = { type: 'showCapture', quote: `Element: ${description.tag} “${name}”`, title: document.title, identifiers };
  openFrame('capture', capture, target.getBoundingClientRect());
}

/** The form closed: nothing is pending any more. */
export function closeCapture() {
  state.pending = null;
  unflash(state.pendingWindow);
  state.pendingWindow = null;
}

let saving = false;
/** Saves what the frame's form holds (`fields`) for the pending selection or control.
 *  @param {{ note: string, tags: string[], visibility: string, choices?: { hide: string[], keep: string[] } }
 *          & Record<string, any>} fields */
export async function saveCapture(fields) {
  const { pending } = state;
  if (!pending || saving) return;
  saving = true;
  const { note, tags, visibility, choices } = fields;
  // A shared tip's texts are redacted by the worker: it needs the values the page shows
  // in its identifying fields, and what the author chose in the preview. A private tip
  // stays whole on the device, which keeps the values too, for when it is shared later.
  const shared = visibility === 'team';
  const tip = { title: document.title, note, tags, visibility, identifiers: pending.identifiers, choices: shared ? choices : undefined };
  const answer = await send(
    'element' in pending
      ? { type: 'captureElement', element: pending.element, ...tip }
      : { type: 'capture', text: pending.text, blocks: pending.blocks, start: pending.start, end: pending.end, ...tip },
  );
  saving = false;
  if (answer.type !== 'saved') {
    // The form stays open with everything typed, so nothing is lost.
    toFrame({ type: 'captureRefused', message: answer.message ?? 'The tip was not saved.' });
    return;
  }
  hideFrame(true);
  document.getSelection()?.removeAllRanges();
  showNotice(
    answer.tip.visibility !== 'team'
      ? 'Tip saved (only you can see it).'
      : answer.waiting
        ? 'Tip saved. It waits on this computer until Inflow reaches your team’s server.'
        : 'Tip saved for your team.',
  );
  await refresh(true);
}
