// @ts-check
// Inflow's frame (tipframe.html, an extension page in the UI's closed shadow root): made on
// first need, placed beside what it is about, spoken to over one private port. It shows
// the capture form, the tips' cards and the hover peek; this script never sees their text.

import { state } from './state.js';
import { element_, theUi, showNotice } from './ui.js';
import { viewportBox, reveal } from './highlights.js';
import { closeCapture, saveCapture } from './capture.js';
import { send } from './worker-link.js';

/** A frame not running by then was blocked. */
const FRAME_READY_WITHIN_MS = 4000;
const FRAME_BLOCKED =
  'This page does not let Inflow open its window here. Click Inflow’s toolbar button: the side panel shows this screen’s tips.';

/** @typedef {{ left: number, top: number, right: number, bottom: number }} Box */
/** @typedef {'capture' | 'card' | 'peek'} Showing */
/** @typedef {{ iframe: HTMLIFrameElement, port: chrome.runtime.Port | null, ready: boolean,
 *              queue: { type: string }[], blocked: boolean }} Frame */

/** Made when first needed. @type {Frame | null} */
let frame = null;
/** What the frame shows, while it is shown. @type {Showing | null} */
let frameShows = null;
/** The viewport box the frame is about: it is never covered. @type {Box | null} */
let frameAnchor = null;
/** Where the focus was in the page when the form or card opened. @type {Element | null} */
let focusBefore = null;
/** The form or card opened: it takes the focus once shown. */
let frameWantsFocus = false;
let peekedIds = '';

/** What the frame shows now, if anything. */
export const frameShowing = () => frameShows;
/** Whether the frame was made (it is made on the user's first need). */
export const frameMade = () => frame !== null;

/** The frame, made on first use (never at page load). The port is private: pages cannot
 *  connect to an extension (no externally_connectable), and the frame accepts only the
 *  port named in its own address.
 *  @returns {Frame} */
export function theFrame() {
  if (frame && !frame.iframe.isConnected) {
    // The page removed Inflow's UI: that frame is gone (its document unloaded).
    frame.port?.disconnect();
    frame.iframe.remove(); // not back with the host: it would load again
    frame = null;
    frameShows = null;
  }
  if (frame) return frame;
  const nonce = crypto.randomUUID();
  // Never display:none: a frame without layout cannot measure what it shows. Closed, it
  // is an invisible sliver that takes no clicks (see closeFrameElement).
  const iframe = element_('iframe', { className: 'frame', title: 'Inflow' });
  closeFrameElement(iframe);
  iframe.src = `${chrome.runtime.getURL('tipframe.html')}#${nonce}`;
  /** @type {Frame} */
  const made = { iframe, port: null, ready: false, queue: [], blocked: false };
  frame = made;
  iframe.addEventListener('load', () => {
    if (made.port) return;
    const port = chrome.runtime.connect({ name: `inflow-frame:${nonce}` });
    made.port = port;
    port.onMessage.addListener(onFrameMessage);
    made.queue.splice(0).forEach((queued) => port.postMessage(queued));
    port.onDisconnect.addListener(() => {
      iframe.remove();
      if (frame !== made) return; // already replaced (the page removed Inflow's UI)
      frame = null; // the extension was reloaded: a new frame next time
      frameShows = null;
    });
  });
  setTimeout(() => {
    if (made.ready || frame !== made) return;
    made.blocked = true;
    if (frameShows && frameShows !== 'peek') showNotice(FRAME_BLOCKED);
  }, FRAME_READY_WITHIN_MS);
  theUi().shadow.append(iframe);
  return made;
}

/** Sends `message` to the frame, or queues it until the frame is connected. False when the
 *  frame was blocked.
 *  @param {{ type: string } & Record<string, any>} message */
export function toFrame(message) {
  const target = theFrame();
  if (target.blocked) return false;
  // Once connected, the frame holds what comes before its code is ready (see tipframe.js):
  // the message is on its way while the frame starts, not after.
  if (target.port) target.port.postMessage(message);
  else {
    // A preview not yet shown is stale once anything else is to be shown.
    target.queue = target.queue.filter((queued) => !(queued.type === 'peek'));
    target.queue.push(message);
  }
  return true;
}

/** Shows the frame for `what` about the viewport box `anchor`. The form and the card take
 *  the focus (given back when they close); the peek never does.
 *  @param {Showing} what @param {{ type: string } & Record<string, any>} message @param {Box | null} anchor */
export function openFrame(what, message, anchor) {
  const { iframe, blocked } = theFrame();
  if (blocked) {
    if (what !== 'peek') showNotice(FRAME_BLOCKED);
    return;
  }
  if (what !== 'peek' && frameShows !== 'card' && frameShows !== 'capture') focusBefore = deepActiveElement();
  frameShows = what;
  frameAnchor = anchor;
  frameWantsFocus = what !== 'peek';
  iframe.classList.toggle('peeking', what === 'peek');
  iframe.tabIndex = what === 'peek' ? -1 : 0;
  // Unseen until the frame says how much room it needs.
  if (iframe.style.visibility !== 'visible') iframe.style.width = what === 'peek' ? '330px' : '360px';
  toFrame(message);
}

/** Hides the frame; the focus goes back where it was when `giveFocusBack`.
 *  @param {boolean} giveFocusBack */
export function hideFrame(giveFocusBack) {
  if (!frameShows) return;
  if (frameShows === 'card') stepShown = '';
  const wasForm = frameShows === 'capture';
  frameShows = null;
  peekedIds = '';
  if (frame) closeFrameElement(frame.iframe);
  if (wasForm) closeCapture();
  const back = /** @type {HTMLElement | null} */ (focusBefore);
  if (giveFocusBack && back?.isConnected) back.focus({ preventScroll: true });
  focusBefore = null;
}

/** The frame while nothing is shown: laid out, unseen, out of the way of every click.
 *  @param {HTMLIFrameElement} iframe */
function closeFrameElement(iframe) {
  Object.assign(iframe.style, { visibility: 'hidden', pointerEvents: 'none', left: '0px', top: '0px', width: '360px', height: '1px' });
}

function deepActiveElement() {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** What the frame says (its port's messages).
 *  @param {{ type: string } & Record<string, any>} message */
function onFrameMessage(message) {
  if (!frame) return;
  if (message.type === 'frameReady') {
    frame.ready = true;
    frame.blocked = false; // late (a busy machine), not blocked after all
  } else if (message.type === 'frameSize') {
    placeFrame(message.width, message.height);
  } else if (message.type === 'saveCapture') {
    saveCapture(/** @type {any} */ (message));
  } else if (message.type === 'frameClosed') {
    hideFrame(true);
  }
}

/** The bottom of what the app keeps fixed at the top of the window (its header), so the
 *  frame never covers the app's own controls there. */
function headerBottom() {
  let bottom = 0;
  for (const x of [innerWidth * 0.25, innerWidth * 0.5, innerWidth * 0.75]) {
    for (
      let node = document.elementFromPoint(x, 2);
      node && node !== document.body && node !== document.documentElement;
      node = node.parentElement
    ) {
      if (node.hasAttribute('data-inflow-ui')) break;
      const { position } = getComputedStyle(node);
      if (position === 'fixed' || position === 'sticky') {
        const box = node.getBoundingClientRect();
        if (box.top <= 2 && box.bottom < innerHeight / 3) bottom = Math.max(bottom, box.bottom);
        break;
      }
    }
  }
  return bottom;
}

/** Sizes the frame to what it shows and puts it beside its anchor: below it if it fits,
 *  else above it (below the app's header), else beside it; never over the anchor.
 *  @param {number} width @param {number} height */
function placeFrame(width, height) {
  if (!frameShows || !frame) return;
  const margin = 8;
  const top0 = headerBottom() + margin;
  const w = Math.min(width, innerWidth - 2 * margin);
  const h = Math.min(height, innerHeight - top0 - margin);
  const a = frameAnchor;
  let left;
  let top;
  if (!a) {
    left = innerWidth - w - 16;
    top = top0;
  } else {
    left = Math.max(margin, Math.min(a.left, innerWidth - w - margin));
    if (a.bottom + margin + h <= innerHeight - margin) top = a.bottom + margin;
    else if (a.top - margin - h >= top0) top = a.top - margin - h;
    else {
      top = Math.max(top0, Math.min(a.top, innerHeight - h - margin));
      left = a.right + margin + w <= innerWidth - margin ? a.right + margin : Math.max(margin, a.left - margin - w);
    }
  }
  // Always in the window, even for an anchor scrolled out of it meanwhile.
  top = Math.max(top0, Math.min(top, innerHeight - h - margin));
  const { iframe } = frame;
  Object.assign(iframe.style, { left: `${left}px`, top: `${top}px`, width: `${w}px`, height: `${h}px`, visibility: 'visible', pointerEvents: '' });
  if (frameWantsFocus) {
    frameWantsFocus = false;
    iframe.focus();
  }
}

/** Shows the cards of `tips` beside `anchor`.
 *  @param {import('./state.js').Tip[]} tips @param {Box} anchor */
export function showTips(tips, anchor) {
  // An open capture form stays: its draft must not be lost to a click on another tip.
  if (frameShows === 'capture') return;
  stepShown = ''; // a tip's own card takes the place of a walkthrough step's
  openFrame('card', { type: 'showTips', tipIds: tips.map((tip) => tip.id) }, anchor);
}

/** Previews the tips under the pointer (the peek holds no focus and takes no clicks).
 *  @param {import('./state.js').Tip[]} tips @param {number} x @param {number} y */
export function peekAt(tips, x, y) {
  const ids = tips.map((tip) => tip.id).join(',');
  if (frameShows === 'card' || frameShows === 'capture') return;
  if (!tips.length) {
    if (frameShows === 'peek') hideFrame(false);
    return;
  }
  if (ids === peekedIds && frameShows === 'peek') return;
  peekedIds = ids;
  openFrame('peek', { type: 'peek', tipIds: tips.map((tip) => tip.id) }, { left: x + 12, top: y - 4, right: x + 12, bottom: y + 12 });
}

/** The walkthrough step whose card is shown (its tip, number, screen and whether it was
 *  found), so a refresh that finds the same step leaves its card be; '' when none. */
let stepShown = '';
/** Whether the tip `tipId` is painted on the page or its control found.
 *  @param {string} tipId */
export const isPlaced = (tipId) =>
  state.paintedRanges.some(({ tip }) => tip.id === tipId) || state.placedElements.some(({ tip }) => tip.id === tipId);

/** Takes away the listener on the shown step's control (see `showStep`). */
let stepClick = new AbortController();
/** The control that listener is on. @type {Element | null} */
let stepClickTarget = null;

/** A walkthrough step's card is shown: a click elsewhere in the page does not close it. */
export const stepShowing = () => stepShown !== '' && frameShows === 'card';

/** Shows the card of the walkthrough step due on this page (see src/walkthrough.rs): on its
 *  text or control, scrolled to and flashed, when it is here; else unanchored, saying where
 *  it is. A walkthrough that ended takes its card away.
 *  @param {{ tipId: string, number: number, here: boolean, advanceOnClick?: boolean } | null} step */
export function showStep(step) {
  if (!step) {
    if (stepShowing()) hideFrame(false);
    stepShown = '';
    stepClick.abort();
    stepClickTarget = null;
    return;
  }
  const painted = step.here ? state.paintedRanges.find(({ tip }) => tip.id === step.tipId) : undefined;
  const pinned = step.here ? state.placedElements.find(({ tip }) => tip.id === step.tipId) : undefined;
  const found = Boolean(painted || pinned);
  const key = `${step.tipId}|${step.number}|${step.here}|${found}`;
  // "Next when you click Sign": the user's own click on the control goes on (a page's
  // synthetic click does not); on the control the page shows now, if it redrew it.
  const clickable = pinned && step.advanceOnClick ? pinned.element : null;
  if (clickable !== stepClickTarget || key !== stepShown) {
    stepClick.abort();
    stepClick = new AbortController();
    stepClickTarget = clickable;
    const { number } = step;
    const done = (/** @type {Event} */ event) => {
      if (!event.isTrusted) return;
      stepClick.abort();
      send({ type: 'stepDone', number });
    };
    clickable?.addEventListener('click', done, { capture: true, signal: stepClick.signal });
  }
  if (key === stepShown && frameShows === 'card') return;
  stepShown = key;
  // Each time a step comes up on its own screen, found or not: the curators' count.
  if (step.here) send({ type: 'stepShown', number: step.number, found });
  /** @type {Box | null} */
  let anchor = null;
  if (found) {
    reveal(step.tipId);
    anchor = painted ? viewportBox(painted.range) : pinned ? pinned.element.getBoundingClientRect() : null;
  }
  openFrame('card', { type: 'showTips', tipIds: [step.tipId], step: { ...step, found } }, anchor);
}

let tipCursor = -1;
/** The keyboard's way to the tips: the next (or previous) placed tip or pinned control in
 *  the page's order, scrolled to, flashed, with its card open.
 *  @param {boolean} forward */
export function moveToTip(forward) {
  /** @type {{ tip: import('./state.js').Tip, node: Node, range?: Range }[]} */
  const stops = [
    ...state.paintedRanges.map(({ tip, range }) => ({ tip, node: range.startContainer, range })),
    ...state.placedElements.map(({ tip, element }) => ({ tip, node: element })),
  ].filter((stop) => stop.node.isConnected);
  if (!stops.length) return showNotice('No tips are shown on this page.');
  stops.sort((a, b) =>
    a.node === b.node ? 0 : a.node.compareDocumentPosition(b.node) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
  );
  tipCursor = (tipCursor + (forward ? 1 : -1) + stops.length) % stops.length;
  if (tipCursor < 0) tipCursor = forward ? 0 : stops.length - 1;
  const stop = stops[tipCursor];
  reveal(stop.tip.id);
  const anchor = stop.range ? viewportBox(stop.range) : /** @type {Element} */ (stop.node).getBoundingClientRect();
  showTips([stop.tip], anchor);
}
