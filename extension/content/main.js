// @ts-check
// Inflow's content script: DOM work only. It maps the page's text, turns the user's
// selection into offsets in that text, paints highlights with the CSS Custom Highlight
// API and positions Inflow's frame. Every decision (what a selection means, where tips
// belong, what is valid, what is stored) is made by the service worker in Rust/wasm: pages
// with a strict CSP could not run wasm here anyway.
//
// The host page is never modified: no text node is split or wrapped, and the only element
// added is the UI's host, outside <body>. Tip content stays in Inflow's frame, out of reach
// of the page's scripts. The modules beside this one are bundled into one content.js at
// build time (esbuild); this one wires them to the page and to the extension.

import { state } from './state.js';
import { refresh, scheduleRefresh, watch, watchPage, disconnect } from './refresh.js';
import { reveal, tipsAt } from './highlights.js';
import { missingElementTips, redrawMarkers, stopWatchingMissing } from './pins.js';
import { placeAddButton, hideAddButton, openCapture, openElementCapture } from './capture.js';
import { frameMade, frameShowing, hideFrame, moveToTip, peekAt, showTips, stepShowing, theFrame } from './frame.js';
import { showNotice } from './ui.js';
import { sameOriginBody } from './text-map.js';
import { whenOrphaned } from './worker-link.js';

/** What the worker and the side panel tell this page.
 *  @param {{ type: string } & Record<string, any>} message
 *  @param {chrome.runtime.MessageSender} sender
 *  @param {(answer: object) => void} sendResponse */
function onExtensionMessage(message, sender, sendResponse) {
  // Only Inflow's own worker and pages can reach this listener (tabs.sendMessage); the
  // tip frame talks over its port instead. (A side panel opened as a tab has a tab too.)
  if (sender.id !== chrome.runtime.id) return false;
  if (message.type === 'openCapture') openCapture();
  else if (message.type === 'pinElement') openElementCapture();
  else if (message.type === 'notice') showNotice(message.message);
  else if (message.type === 'tipsChanged') refresh(true); // teammates' tips arrived
  else if (message.type === 'moveToTip') moveToTip(message.forward);
  else if (message.type === 'reveal') {
    sendResponse({ ok: reveal(message.tipId) });
    return false;
  } else if (message.type === 'screenTips') {
    // The side panel asks what this screen shows: ids only, it reads tips from storage.
    const missing = missingElementTips();
    sendResponse({
      active: state.siteActive,
      placed: state.paintedRanges.map(({ tip }) => tip.id),
      unplaced: state.unplacedIds,
      elements: state.placedElements.map(({ tip }) => tip.id),
      // A control missing from the page its tip was pinned on needs review; one pinned on
      // another record's page is about that record.
      missingElements: missing.filter((tip) => state.elementsCapturedHere.has(tip.id)).map((tip) => tip.id),
      otherRecords: [...state.otherRecordIds, ...missing.filter((tip) => !state.elementsCapturedHere.has(tip.id)).map((tip) => tip.id)],
    });
    return false;
  }
  sendResponse({ ok: true });
  return false;
}

/** Listens to the page: the user's own input only (`isTrusted`), so a page that dispatches
 *  clicks, mouse-ups or keys of its own opens nothing and shows nothing.
 *  @param {AbortSignal} signal ends every listener */
function listenToThePage(signal) {
  /** @template {Event} E @param {(event: E) => void} handler */
  const trusted = (handler) => (/** @type {E} */ event) => {
    if (event.isTrusted) handler(event);
  };
  const capture = { capture: true, signal };
  const passive = { capture: true, passive: true, signal };
  document.addEventListener(
    'mouseup',
    trusted((event) => setTimeout(() => placeAddButton({ x: event.clientX, y: event.clientY }), 0)),
    capture,
  );
  document.addEventListener(
    'contextmenu',
    trusted((event) => (state.lastContextTarget = /** @type {Element} */ (event.composedPath()[0] ?? event.target))),
    capture,
  );
  addEventListener(
    'scroll',
    () => {
      redrawMarkers();
      if (frameShowing() === 'peek') hideFrame(false);
    },
    passive,
  );
  // Hovering highlighted text previews its tip; a click opens it.
  let hoverFrame = 0;
  let pointerAt = '';
  document.addEventListener(
    'mousemove',
    trusted((event) => {
      // The pointer did not move: the browser says something changed under it (a card
      // closed, the page scrolled or re-rendered). A preview then would pop up unasked, say
      // over the highlight whose card was just closed with Escape.
      const at = `${event.clientX},${event.clientY}`;
      if (at === pointerAt) return;
      // The first event may be the browser's too (the pointer resting where the page
      // loaded); a second place is the user moving it.
      const moved = pointerAt !== '';
      pointerAt = at;
      // The user is at work on a screen with tips: make the frame now (it takes ~60-100 ms
      // to start, in the extension's process, not the page's), so a click on a tip is
      // answered at once. Never at page load, never on a screen without tips.
      if (moved && !frameMade() && (state.paintedRanges.length || state.placedElements.length)) theFrame();
      if ((!state.paintedRanges.length && frameShowing() !== 'peek') || hoverFrame) return;
      hoverFrame = requestAnimationFrame(() => {
        hoverFrame = 0;
        peekAt(tipsAt(event.clientX, event.clientY), event.clientX, event.clientY);
      });
    }),
    passive,
  );
  addEventListener('resize', redrawMarkers, { passive: true, signal });
  // Passive: a click on highlighted text also does whatever the page does with it.
  document.addEventListener(
    'click',
    trusted((event) => {
      if (!state.paintedRanges.length || !document.getSelection()?.isCollapsed) return;
      const tips = tipsAt(event.clientX, event.clientY);
      const showing = frameShowing();
      if (tips.length) {
        showTips(tips, { left: event.clientX, top: event.clientY - 8, right: event.clientX, bottom: event.clientY + 8 });
      } else if ((showing === 'card' && !stepShowing()) || showing === 'peek') hideFrame(false);
    }),
    passive,
  );
  document.addEventListener('keyup', trusted((event) => event.shiftKey && placeAddButton(null)), capture);
  // A press anywhere but on Inflow's own UI starts a new selection: the button goes until
  // the mouse is released over a selection again.
  document.addEventListener(
    'mousedown',
    trusted((event) => {
      if (!(/** @type {Element} */ (event.target).hasAttribute?.('data-inflow-ui'))) hideAddButton();
    }),
    capture,
  );
  // A frame's document arrives after the frame element (which first holds about:blank),
  // and its arrival changes no element of this document: catch its load event and watch
  // the new document.
  document.addEventListener(
    'load',
    (event) => {
      const target = /** @type {Element} */ (event.target);
      if (target.tagName !== 'IFRAME') return;
      const body = sameOriginBody(target);
      if (body) watch([body.ownerDocument]);
      scheduleRefresh();
    },
    capture,
  );
  addEventListener('popstate', () => refresh(false), { signal });
  /** @type {any} */ (globalThis).navigation?.addEventListener('navigatesuccess', () => refresh(false), { signal });
}

function start() {
  // The worker may inject this script on demand (to explain why nothing happened on a
  // site Inflow is not switched on for). Never run twice in one page.
  const scope = /** @type {any} */ (globalThis);
  if (scope.__inflowLoaded) return;
  scope.__inflowLoaded = true;
  // The manifest injects this script and its stylesheet into frames too, so highlights can
  // be painted there; the top frame's script maps and paints every same-origin frame.
  if (window !== window.top) return;

  chrome.runtime.onMessage.addListener(onExtensionMessage);
  const pageListeners = new AbortController();
  listenToThePage(pageListeners.signal);
  // The extension was reloaded or updated under this page: this copy can reach nothing
  // any more, so it stops watching rather than cost the page for nothing. (Its highlights
  // stay: the registry is the document's, and a newer copy may have painted there since.)
  whenOrphaned(() => {
    disconnect();
    stopWatchingMissing();
    pageListeners.abort();
  });
  afterThePageLoads(() => {
    if (pageListeners.signal.aborted) return; // orphaned before the page loaded
    watchPage();
    refresh(true);
  });
}

/** The longest Inflow waits for a page's `load` before reading it anyway (an image that
 *  never finishes loading must not keep the tips away). */
const LOAD_WAIT_MS = 1000;

/** Runs `then` once the page has loaded, or after LOAD_WAIT_MS: reading and painting the
 *  page while it is still loading would hold back its own `load` event (by ~110 ms on the
 *  demo's worklist), and its text is not final before then anyway.
 *  @param {() => void} then */
function afterThePageLoads(then) {
  if (document.readyState === 'complete') return then();
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    // After the page's own load handlers, not among them.
    setTimeout(then, 0);
  };
  const timer = setTimeout(once, LOAD_WAIT_MS);
  addEventListener('load', once, { once: true });
}

start();
