// Inflow's content script: DOM work only. It maps the page's text, turns the user's
// selection into offsets in that text, paints highlights with the CSS Custom Highlight
// API and shows Inflow's small UI inside a closed shadow root. Every decision (what a
// selection means, where tips belong, what is valid, what is stored) is made by the
// service worker in Rust/wasm: pages with a strict CSP could not run wasm here anyway.
//
// The host page is never modified: no text node is split or wrapped, and the only element
// added is the UI's host, outside <body>. Tip content stays in this isolated world and the
// closed shadow root, out of reach of the page's scripts.
(() => {
  'use strict';
  // The worker may inject this script on demand (to explain why nothing happened on a
  // site Inflow is not switched on for). Never run twice in one page.
  if (globalThis.__inflowLoaded) return;
  globalThis.__inflowLoaded = true;
  // The manifest injects this script and its stylesheet into frames too, so highlights can
  // be painted there; the top frame's script maps and paints every same-origin frame.
  if (window !== window.top) return;

  const HIGHLIGHT = 'inflow-tip';
  const PENDING_HIGHLIGHT = 'inflow-tip-flash';
  // A refresh runs once the page has been quiet this long (its burst of changes is over)...
  const REFRESH_QUIET_MS = 50;
  // ...but no later than this after the first change, on a page that never stops changing...
  const REFRESH_MAX_WAIT_MS = 400;
  // ...and never so often that Inflow's share of the page's main thread passes 1 / this.
  const REFRESH_DUTY_FACTOR = 40;
  // Only a page whose text has not changed for this long is evidence that a tip's text is
  // gone from it: an app's own navigation changes the address before it draws the screen.
  const SETTLED_AFTER_MS = 1500;
  const NOTICE_MS = 6000;
  const MISSING_AFTER_MS = 5000; // a control missing this long is not still rendering
  // Text under these elements is not page text a tip can quote (nor is Inflow's own UI,
  // marked data-inflow-ui).
  const SKIPPED = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TEXTAREA', 'SELECT', 'OPTION']);
  // Text in different blocks is separated by a line break in the text map, so words of
  // neighbouring cells or paragraphs never run together in quotes.
  const BLOCK = new Set(
    ('address,article,aside,blockquote,caption,dd,details,div,dl,dt,fieldset,figcaption,figure,footer,' +
      'form,h1,h2,h3,h4,h5,h6,header,hr,li,main,nav,ol,p,pre,section,summary,table,tbody,td,tfoot,th,thead,tr,ul')
      .toUpperCase()
      .split(','),
  );

  let siteActive = false;
  let placedTips = [];
  let paintedRanges = []; // [{ tip, range, painted }] as last painted (painted: the range's text then), for hit tests
  let paintedWindows = new Set(); // windows (top and frames) whose registry holds our highlight
  let tipsOnScreen = 0;
  let unplacedIds = []; // tips captured on this page that could not be placed with confidence
  let otherRecordIds = []; // tips of this screen about other records (their text is not here)
  let lastSentText = null;
  let lastUrl = location.href;
  let pending = null; // { text, start, end, range } or { element } while the capture form is open
  let elementTips = []; // tips pinned to elements on this screen
  let elementsCapturedHere = new Set(); // ids of those pinned on this very page (the worker says)
  let placedElements = []; // [{ tip, element }] found in the page
  let lastContextTarget = null; // the element last right-clicked, for "Pin an Inflow tip"

  // ---- Text map ------------------------------------------------------------------------

  /** The page's text as one string, with the text node behind every part of it. The walk
   *  enters open shadow roots and same-origin frames, and notes every tree it entered so
   *  that changes inside them are watched too. */
  function buildTextMap() {
    const nodes = [];
    const starts = [];
    const parts = [];
    const trees = new Set();
    let length = 0;
    let lastBlock = null;
    // The block a text node belongs to is carried down the walk (the nearest block element
    // above it, or the root it was entered from), not looked up per node.
    const visitText = (node, block) => {
      if (lastBlock !== null && block !== lastBlock) {
        parts.push('\n');
        length += 1;
      }
      lastBlock = block;
      nodes.push(node);
      starts.push(length);
      parts.push(node.data);
      length += node.data.length;
    };
    const walk = (parent, block) => {
      for (let child = parent.firstChild; child; child = child.nextSibling) {
        if (child.nodeType === Node.TEXT_NODE) {
          if (child.data.length) visitText(child, block);
        } else if (child.nodeType === Node.ELEMENT_NODE && !SKIPPED.has(child.tagName) && !child.hasAttribute('data-inflow-ui')) {
          const inner = BLOCK.has(child.tagName) ? child : block;
          if (child.shadowRoot) {
            trees.add(child.shadowRoot);
            walk(child.shadowRoot, child.shadowRoot);
          }
          if (child.tagName === 'IFRAME' || child.tagName === 'FRAME') {
            const body = sameOriginBody(child);
            if (body) {
              trees.add(body.ownerDocument);
              walk(body, body);
            }
          } else {
            walk(child, inner);
          }
        }
      }
    };
    if (document.body) walk(document.body, document.body);
    return { text: parts.join(''), nodes, starts, trees, index: new Map(nodes.map((node, i) => [node, i])) };
  }

  /** The body of a same-origin frame, or null (cross-origin frames are out of reach). */
  function sameOriginBody(frame) {
    try {
      return frame.contentDocument?.body ?? null;
    } catch {
      return null;
    }
  }

  /** The index of the last text node starting at or before `offset`. */
  function nodeIndexAt(map, offset) {
    let lo = 0;
    let hi = map.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (map.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** A DOM range for the text-map range `start..end`, or null if the map is empty. */
  function rangeFor(map, start, end) {
    if (map.nodes.length === 0) return null;
    let i = nodeIndexAt(map, start);
    let startNode = map.nodes[i];
    let startOffset = start - map.starts[i];
    if (startOffset >= startNode.data.length && i + 1 < map.nodes.length && map.starts[i + 1] <= end) {
      startNode = map.nodes[i + 1]; // `start` fell on a block separator
      startOffset = 0;
    }
    const j = nodeIndexAt(map, Math.max(start, end - 1));
    const endNode = map.nodes[j];
    const endOffset = Math.min(end - map.starts[j], endNode.data.length);
    if (startNode.ownerDocument !== endNode.ownerDocument) return null; // a range cannot span frames
    const range = startNode.ownerDocument.createRange();
    try {
      range.setStart(startNode, Math.min(startOffset, startNode.data.length));
      range.setEnd(endNode, Math.max(endOffset, 0));
    } catch {
      return null; // a node changed under us; the next refresh rebuilds the map
    }
    return range;
  }

  /** The text-map offset of a DOM boundary point. */
  function offsetOf(map, container, offset) {
    if (container.nodeType === Node.TEXT_NODE && map.index.has(container)) {
      return map.starts[map.index.get(container)] + offset;
    }
    // A point between elements: the first mapped text node at or after it.
    // A point between elements: the first mapped text node at or after it, among the
    // nodes of the same tree (comparing points across trees or frames is meaningless).
    const root = container.getRootNode();
    const candidates = map.nodes.map((node, i) => i).filter((i) => map.nodes[i].getRootNode() === root);
    const point = container.ownerDocument.createRange();
    point.setStart(container, offset);
    const at = candidates.find((i) => point.comparePoint(map.nodes[i], 0) >= 0);
    if (at !== undefined) return map.starts[at];
    const last = candidates[candidates.length - 1];
    return last === undefined ? map.text.length : map.starts[last] + map.nodes[last].data.length;
  }

  // ---- Talking to the worker -----------------------------------------------------------

  /** Sends a request to the worker with the address the user is on now (it follows the
   *  app's own navigation; the worker accepts it only within the origin the browser
   *  recorded for this page). */
  async function send(message) {
    try {
      const answer = await chrome.runtime.sendMessage({ ...message, url: location.href });
      return answer ?? { type: 'error', message: 'Inflow did not answer. Try again in a moment.' };
    } catch (error) {
      const gone = String(error).includes('context invalidated');
      return {
        type: 'error',
        message: gone ? 'Inflow was updated. Reload this page to keep using it.' : `Inflow could not be reached (${error}).`,
      };
    }
  }

  /** Asks the worker which tips belong on this screen and paints them. When the page
   *  re-rendered without changing its text, the tips' places are still right: only the
   *  nodes behind them changed, so they are repainted without asking the worker. */
  /** ...and returns how long it kept the page's main thread busy (ms), not counting the
   *  wait for the worker, which runs elsewhere. */
  async function refresh(force, settled = false) {
    const started = performance.now();
    const map = buildTextMap();
    watch(map.trees);
    const urlChanged = location.href !== lastUrl;
    if (!force && !urlChanged && map.text === lastSentText) {
      paint(map);
      return performance.now() - started;
    }
    // The text changed, but maybe not where tips are: painted ranges are live and follow
    // edits around them. If every placed tip still holds its quote and none is waiting for
    // its text to appear, nothing is affected and the worker is not asked.
    if (!force && !urlChanged && placementsIntact()) {
      lastSentText = null; // offsets are stale now; the live ranges are what counts
      placeElements();
      watchMissingElements();
      return performance.now() - started;
    }
    lastUrl = location.href;
    lastSentText = map.text;
    const busyBefore = performance.now() - started;
    const answer = await send({ type: 'pageOpened', title: document.title, text: map.text, settled });
    const answered = performance.now();
    if (answer.type !== 'pageTips') return busyBefore;
    siteActive = answer.active;
    placedTips = answer.placed;
    elementTips = answer.elements;
    elementsCapturedHere = new Set(answer.elementsCapturedHere);
    tipsOnScreen = answer.placed.length + answer.unplaced.length + answer.otherRecords.length + answer.elements.length;
    unplacedIds = answer.unplaced.map((tip) => tip.id);
    otherRecordIds = answer.otherRecords.map((tip) => tip.id);
    // The page may have rebuilt itself while the worker answered: the same text in new
    // nodes is painted on the new nodes.
    const last = map.nodes[map.nodes.length - 1];
    const current = last && !last.isConnected ? buildTextMap() : map;
    paint(current.text === map.text ? current : map);
    watchMissingElements();
    if (!settled && answer.unplaced.length) checkWhenSettled();
    // Visible in the browser's performance tools, and to Inflow's own benchmark; it carries
    // no count (the page shares the performance timeline and must not learn how many tips).
    performance.measure('inflow:refresh', { start: started });
    return busyBefore + (performance.now() - answered);
  }

  /** Whether every text tip is placed and its live range still holds, to the letter, the
   *  text it was painted on (the worker placed it there; nothing here reads text as a
   *  quote or normalises it). */
  function placementsIntact() {
    const unplaced = tipsOnScreen - placedTips.length - elementTips.length;
    return (
      unplaced === 0 &&
      paintedRanges.length === placedTips.length &&
      paintedRanges.every(({ range, painted }) => range.startContainer.isConnected && range.endContainer.isConnected && range.toString() === painted)
    );
  }

  /** Paints the placed tips: one highlight per document (frames have their own registry),
   *  and a marker beside each element a tip is pinned to. */
  function paint(map) {
    placeElements();
    paintedRanges = placedTips
      .map((placed) => ({ tip: placed.tip, range: rangeFor(map, placed.start, placed.end) }))
      .filter((p) => p.range)
      .map((p) => ({ ...p, painted: p.range.toString() }));
    const byWindow = new Map();
    for (const { range } of paintedRanges) {
      const view = range.startContainer.ownerDocument.defaultView;
      if (!byWindow.has(view)) byWindow.set(view, []);
      byWindow.get(view).push(range);
    }
    for (const view of paintedWindows) if (!byWindow.has(view)) view.CSS?.highlights.delete(HIGHLIGHT);
    for (const [view, ranges] of byWindow) view.CSS.highlights.set(HIGHLIGHT, new view.Highlight(...ranges));
    paintedWindows = new Set(byWindow.keys());
  }

  /** The tips whose highlight covers the viewport point (x, y). Highlights are not
   *  elements, so they get no events: a click is hit-tested against their rectangles. */
  function tipsAt(x, y) {
    return paintedRanges
      .filter(({ range }) => {
        const frame = range.startContainer.ownerDocument.defaultView.frameElement;
        const { left, top } = frame ? frame.getBoundingClientRect() : { left: 0, top: 0 };
        return [...range.getClientRects()].some((r) => x >= r.left + left && x <= r.right + left && y >= r.top + top && y <= r.bottom + top);
      })
      .map(({ tip }) => tip);
  }

  /** A mouse-up in a same-origin frame's document, at its point in the top window. */
  const afterFrameMouseUp = (tree) => (event) => {
    if (!event.isTrusted) return;
    const box = tree.defaultView?.frameElement?.getBoundingClientRect() ?? { left: 0, top: 0 };
    setTimeout(() => placeAddButton({ x: event.clientX + box.left, y: event.clientY + box.top }), 0);
  };

  /** Watches shadow roots and frames for changes too: the page's observer does not see them. */
  const watched = new WeakSet();
  function watch(trees) {
    for (const tree of trees) {
      if (watched.has(tree)) continue;
      watched.add(tree);
      observer.observe(tree, { childList: true, subtree: true, characterData: true });
      // Selections made in a frame end with a mouse-up in that frame's document.
      if (tree.nodeType === Node.DOCUMENT_NODE) tree.addEventListener('mouseup', afterFrameMouseUp(tree), true);
    }
  }

  let refreshTimer = 0;
  let firstChangeAt = 0; // the first change not refreshed yet
  let lastChangeAt = 0;
  let nextRefreshAllowedAt = 0;
  /** Called on every change of the page: a refresh once the page is quiet, or at most
   *  REFRESH_MAX_WAIT_MS after the first change while it keeps changing, spaced so that
   *  Inflow's work stays a small share of the page's. */
  function scheduleRefresh() {
    const now = performance.now();
    lastChangeAt = now;
    if (!firstChangeAt) firstChangeAt = now;
    const due = Math.max(Math.min(now + REFRESH_QUIET_MS, firstChangeAt + REFRESH_MAX_WAIT_MS), nextRefreshAllowedAt);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      firstChangeAt = 0;
      // Text changes matter only where tips may land; a new address always matters.
      if (location.href === lastUrl && tipsOnScreen === 0) return;
      const busy = await refresh(false);
      nextRefreshAllowedAt = performance.now() + REFRESH_DUTY_FACTOR * busy;
    }, Math.max(0, due - now));
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

  // ---- Selection -----------------------------------------------------------------------

  /** The selection the user sees, as a StaticRange-like { startContainer, startOffset,
   *  endContainer, endOffset }, looking into same-origin frames and open shadow roots. */
  function currentSelection(map) {
    let active = document.activeElement;
    let view = window;
    while (active && (active.tagName === 'IFRAME' || active.tagName === 'FRAME')) {
      if (!sameOriginBody(active)) return { error: 'Tips on text inside this embedded frame are not possible: it comes from another site. Open it in its own tab to add a tip there.' };
      view = active.contentWindow;
      active = view.document.activeElement;
    }
    if (active && (active.tagName === 'TEXTAREA' || (active.tagName === 'INPUT' && active.selectionStart !== active.selectionEnd))) {
      return { error: 'Inflow can’t pin text inside a form field. Select text on the page instead.' };
    }
    const selection = view.getSelection();
    if (!selection || selection.rangeCount === 0) return null;
    // A selection inside an open shadow root looks collapsed at its host through the
    // ordinary API; getComposedRanges shows where it really is.
    const shadowRoots = [...map.trees].filter((tree) => tree.nodeType === Node.DOCUMENT_FRAGMENT_NODE && tree.host);
    const [range] = selection.getComposedRanges ? selection.getComposedRanges({ shadowRoots }) : [selection.getRangeAt(0)];
    return range && !range.collapsed ? range : null;
  }

  /** The current selection as text-map offsets, or { error } saying why it can't hold a tip. */
  function readSelection() {
    const map = buildTextMap();
    const range = currentSelection(map);
    if (range?.error) return range;
    if (!range) return { error: 'Select some text on the page first.' };
    const start = offsetOf(map, range.startContainer, range.startOffset);
    const end = offsetOf(map, range.endContainer, range.endOffset);
    if (end <= start || map.text.slice(start, end).trim() === '') {
      return { error: 'Select some text on the page first.' };
    }
    const live = rangeFor(map, start, end);
    return { text: map.text, start, end, range: live, quote: map.text.slice(start, end) };
  }

  // ---- Element tips ---------------------------------------------------------------------

  /** The control a right-click meant: the nearest interactive ancestor of what was hit. */
  function pinnable(target) {
    const element = target?.nodeType === Node.ELEMENT_NODE ? target : target?.parentElement;
    return element?.closest('button, a, input, select, textarea, summary, label, [role], th, td, li, [data-testid]') ?? element ?? null;
  }

  const normalise = (text) => (text ?? '').replace(/\s+/g, ' ').trim();
  const ownText = (element) => normalise(element.innerText ?? element.textContent).slice(0, 80);
  function labelText(element) {
    const labelledBy = element.getAttribute('aria-labelledby');
    if (labelledBy) return normalise(labelledBy.split(/\s+/).map((id) => element.ownerDocument.getElementById(id)?.textContent).join(' '));
    return normalise(element.labels?.[0]?.textContent) || null;
  }

  /** What core needs to rank the ways of finding `element` again. */
  function describeElement(element) {
    const names = ['name', 'aria-label', 'role', 'type', 'title', 'placeholder'];
    const attributes = [...element.attributes]
      .filter((a) => a.name.startsWith('data-') || names.includes(a.name))
      .map((a) => [a.name, a.value.slice(0, 200)]);
    const path = [];
    for (let node = element; node && node !== document.body; node = node.parentElement) {
      const sameTag = node.parentElement ? [...node.parentElement.children].filter((c) => c.tagName === node.tagName) : [node];
      path.unshift([node.tagName.toLowerCase(), sameTag.indexOf(node) + 1]);
    }
    const hasText = /^(BUTTON|A|SUMMARY|TH|TD|LI|LABEL)$/.test(element.tagName) || element.hasAttribute('role');
    return { tag: element.tagName.toLowerCase(), id: element.id || null, attributes, label: labelText(element), text: hasText ? ownText(element) || null : null, path };
  }

  /** Finds the element a tip is pinned to: by each ranked selector in turn, accepting one
   *  only if it matches exactly one element; then by label or own text; last by position,
   *  trusted only while the element there still has the same tag and text. */
  function findElement(css) {
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
      const agrees = there && there.tagName.toLowerCase() === css.tag && (!css.text || ownText(there) === css.text) && (!css.label || labelText(there) === css.label);
      if (agrees) return there;
    }
    return null;
  }

  let missingTimer = 0;
  const missingSince = new Map(); // tip id -> when its control was first seen missing
  const reportedMissing = new Set();
  /** Tells the worker which shared element tips of this very page have had no control on
   *  the page for a while (a page still rendering does not count): the app changed under
   *  them, and curators should look. The worker decides, and flags each tip once. */
  function watchMissingElements() {
    const now = performance.now();
    const missing = elementTips
      .filter((tip) => tip.visibility === 'team' && elementsCapturedHere.has(tip.id) && !tip.curation?.needsReview)
      .filter((tip) => !placedElements.some((placed) => placed.tip.id === tip.id));
    for (const id of missingSince.keys()) if (!missing.some((tip) => tip.id === id)) missingSince.delete(id);
    for (const tip of missing) if (!missingSince.has(tip.id)) missingSince.set(tip.id, now);
    const due = [...missingSince].filter(([id, since]) => now - since >= MISSING_AFTER_MS && !reportedMissing.has(id)).map(([id]) => id);
    if (due.length) {
      due.forEach((id) => reportedMissing.add(id));
      send({ type: 'elementsMissing', tipIds: due });
    }
    // Look again when the next one falls due, whether or not the page changes meanwhile.
    clearTimeout(missingTimer);
    const waiting = [...missingSince].filter(([id]) => !reportedMissing.has(id)).map(([, since]) => since + MISSING_AFTER_MS - now);
    if (waiting.length) missingTimer = setTimeout(() => watchMissingElements(), Math.max(0, Math.min(...waiting)) + 50);
  }

  const missingElementTips = () => elementTips.filter((tip) => !placedElements.some((placed) => placed.tip.id === tip.id));

  function placeElements() {
    placedElements = elementTips
      .map((tip) => ({ tip, element: findElement(tip.target.selector.find((s) => s.type === 'CssSelector')) }))
      .filter((placed) => placed.element);
    drawMarkers();
  }

  /** A marker at the top-right corner of each pinned element that is on screen. */
  function drawMarkers() {
    if (!placedElements.length && !ui) return;
    const { markers } = theUi();
    markers.replaceChildren(
      ...placedElements.map(({ tip, element }) => {
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
  const redrawMarkers = () => {
    if (!placedElements.length || markerFrame) return;
    markerFrame = requestAnimationFrame(() => {
      markerFrame = 0;
      drawMarkers();
    });
  };

  // ---- In-page UI (closed shadow root) --------------------------------------------------
  // What is drawn in the page's document holds no tip content: the "+ Tip" button, the
  // markers beside pinned controls, Inflow's own notices, and the frame. The capture form,
  // the cards and the peek are in the frame (tipframe.html), an extension page: their text,
  // focus and keys are out of the page's reach.

  const UI_CSS = `
    :host { all: initial; }
    * { box-sizing: border-box; font: 14px/1.4 system-ui, sans-serif; }
    [hidden] { display: none !important; }
    .add { position: fixed; z-index: 2147483647; padding: 4px 10px; border: 1px solid #8a5a00; border-radius: 14px;
           background: #ffc928; color: #222; cursor: pointer; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
    .add:focus-visible, button:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 1px; }
    .frame { position: fixed; z-index: 2147483647; border: 0; background: transparent; color-scheme: light;
             border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.3); }
    .frame.peeking { pointer-events: none; box-shadow: 0 2px 8px rgba(0,0,0,.3); }
    .marker { position: fixed; z-index: 2147483646; width: 18px; height: 18px; padding: 0; border-radius: 50%;
              border: 1px solid #8a5a00; background: #ffc928; color: #222; font: bold 12px/16px system-ui, sans-serif;
              text-align: center; cursor: pointer; box-shadow: 0 1px 4px rgba(0,0,0,.35); }
    .notice { position: fixed; z-index: 2147483647; left: 50%; bottom: 24px; transform: translateX(-50%); max-width: 520px; pointer-events: none;
              padding: 10px 14px; border-radius: 6px; background: #222; color: #fff; box-shadow: 0 4px 16px rgba(0,0,0,.3); }
  `;

  function element_(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'text') node.textContent = value; // Inflow's own words, as text, never markup
      else if (key in node && !key.startsWith('aria') && key !== 'role') node[key] = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  let ui = null;
  function theUi() {
    if (ui) {
      // A page may remove the host from its DOM: put it back (its frame reloads then, and
      // the frame's port closing makes a new frame on next use).
      if (!ui.host.isConnected) document.documentElement.append(ui.host);
      return ui;
    }
    const host = document.createElement('div');
    host.setAttribute('data-inflow-ui', '');
    // A zero-size fixed box: it never covers or shifts the page; its children position themselves.
    for (const [name, value] of [['all', 'initial'], ['position', 'fixed'], ['top', '0'], ['left', '0'], ['width', '0'], ['height', '0'], ['z-index', '2147483647']]) {
      host.style.setProperty(name, value, 'important');
    }
    const shadow = host.attachShadow({ mode: 'closed' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(UI_CSS); // constructed stylesheets are not blocked by a page's style-src CSP
    shadow.adoptedStyleSheets = [sheet];

    const addButton = element_('button', { type: 'button', className: 'add', text: '+ Tip', 'aria-label': 'Add an Inflow tip to the selected text', hidden: true });
    // Keep the page's selection: a press on the button must not start a new one.
    addButton.addEventListener('mousedown', (event) => event.preventDefault());
    addButton.addEventListener('click', (event) => event.isTrusted && openCapture());
    const notice = element_('div', { className: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    const markers = element_('div', { className: 'markers' });
    shadow.append(markers, addButton, notice);
    document.documentElement.append(host);
    ui = { host, shadow, addButton, notice, markers };
    return ui;
  }

  let noticeTimer = 0;
  /** A short message of Inflow's own at the bottom of the screen (never a tip's content). */
  function showNotice(message) {
    const { notice } = theUi();
    notice.textContent = message;
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => (notice.hidden = true), NOTICE_MS);
  }

  // ---- Inflow's frame ---------------------------------------------------------------------

  const FRAME_READY_WITHIN_MS = 4000; // a frame not running by then was blocked
  const FRAME_BLOCKED = 'This page does not let Inflow open its window here. Click Inflow’s toolbar button: the side panel shows this screen’s tips.';
  let frame = null; // { iframe, port, ready, queue, blocked }, made when first needed
  let frameShows = null; // 'capture', 'card' or 'peek' while the frame is shown
  let frameAnchor = null; // the viewport box the frame is about: it is never covered
  let focusBefore = null; // where the focus was in the page when the form or card opened
  let frameWantsFocus = false; // the form or card opened: it takes the focus once shown
  let peekedIds = '';

  /** The frame, made on first use (never at page load). The port is private: pages cannot
   *  connect to an extension (no externally_connectable), and the frame accepts only the
   *  port named in its own address. */
  function theFrame() {
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
    const made = { iframe, port: null, ready: false, queue: [], blocked: false };
    frame = made;
    iframe.addEventListener('load', () => {
      if (made.port) return;
      made.port = chrome.runtime.connect({ name: `inflow-frame:${nonce}` });
      made.port.onMessage.addListener(onFrameMessage);
      made.port.onDisconnect.addListener(() => {
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

  function toFrame(message) {
    const target = theFrame();
    if (target.blocked) return false;
    if (target.ready) target.port.postMessage(message);
    else target.queue.push(message);
    return true;
  }

  /** Shows the frame for `what` about the viewport box `anchor`. The form and the card take
   *  the focus (given back when they close); the peek never does. */
  function openFrame(what, message, anchor) {
    if (theFrame().blocked) {
      if (what !== 'peek') showNotice(FRAME_BLOCKED);
      return;
    }
    if (what !== 'peek' && frameShows !== 'card' && frameShows !== 'capture') focusBefore = deepActiveElement();
    frameShows = what;
    frameAnchor = anchor;
    frameWantsFocus = what !== 'peek';
    const { iframe } = frame;
    iframe.classList.toggle('peeking', what === 'peek');
    iframe.tabIndex = what === 'peek' ? -1 : 0;
    // Unseen until the frame says how much room it needs.
    if (iframe.style.visibility !== 'visible') iframe.style.width = what === 'peek' ? '330px' : '360px';
    toFrame(message);
  }

  function hideFrame(giveFocusBack) {
    if (!frameShows) return;
    const wasForm = frameShows === 'capture';
    frameShows = null;
    peekedIds = '';
    if (frame) closeFrameElement(frame.iframe);
    if (wasForm) closeCapture();
    if (giveFocusBack && focusBefore?.isConnected) focusBefore.focus({ preventScroll: true });
    focusBefore = null;
  }

  /** The frame while nothing is shown: laid out, unseen, out of the way of every click. */
  function closeFrameElement(iframe) {
    Object.assign(iframe.style, { visibility: 'hidden', pointerEvents: 'none', left: '0px', top: '0px', width: '360px', height: '1px' });
  }

  function deepActiveElement() {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return active;
  }

  /** What the frame says (its port's messages). */
  function onFrameMessage(message) {
    if (!frame) return;
    if (message.type === 'frameReady') {
      frame.ready = true;
      frame.blocked = false; // late (a busy machine), not blocked after all
      frame.queue.splice(0).forEach((queued) => frame.port.postMessage(queued));
    } else if (message.type === 'frameSize') {
      placeFrame(message.width, message.height);
    } else if (message.type === 'saveCapture') {
      saveCapture(message);
    } else if (message.type === 'frameClosed') {
      hideFrame(true);
    }
  }

  /** The bottom of what the app keeps fixed at the top of the window (its header), so the
   *  frame never covers the app's own controls there. */
  function headerBottom() {
    let bottom = 0;
    for (const x of [innerWidth * 0.25, innerWidth * 0.5, innerWidth * 0.75]) {
      for (let node = document.elementFromPoint(x, 2); node && node !== document.body && node !== document.documentElement; node = node.parentElement) {
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
   *  else above it (below the app's header), else beside it; never over the anchor. */
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
    const { iframe } = frame;
    Object.assign(iframe.style, { left: `${left}px`, top: `${top}px`, width: `${w}px`, height: `${h}px`, visibility: 'visible', pointerEvents: '' });
    if (frameWantsFocus) {
      frameWantsFocus = false;
      iframe.focus();
    }
  }

  /** The viewport box of a range (a frame's ranges are offset by the frame's position). */
  function viewportBox(range) {
    const box = range.getBoundingClientRect();
    const frameElement = range.startContainer.ownerDocument.defaultView.frameElement;
    const offset = frameElement ? frameElement.getBoundingClientRect() : { left: 0, top: 0 };
    return { left: box.left + offset.left, top: box.top + offset.top, right: box.right + offset.left, bottom: box.bottom + offset.top };
  }

  /** Shows the cards of `tips` beside `anchor`. */
  function showTips(tips, anchor) {
    // An open capture form stays: its draft must not be lost to a click on another tip.
    if (frameShows === 'capture') return;
    openFrame('card', { type: 'showTips', tipIds: tips.map((tip) => tip.id) }, anchor);
  }

  let tipCursor = -1;
  /** The keyboard's way to the tips: the next (or previous) placed tip or pinned control in
   *  the page's order, scrolled to, flashed, with its card open. */
  function moveToTip(forward) {
    const stops = [
      ...paintedRanges.map(({ tip, range }) => ({ tip, node: range.startContainer, range })),
      ...placedElements.map(({ tip, element }) => ({ tip, node: element })),
    ].filter((stop) => stop.node.isConnected);
    if (!stops.length) return showNotice('No tips are shown on this page.');
    stops.sort((a, b) => (a.node === b.node ? 0 : a.node.compareDocumentPosition(b.node) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
    tipCursor = (tipCursor + (forward ? 1 : -1) + stops.length) % stops.length;
    if (tipCursor < 0) tipCursor = forward ? 0 : stops.length - 1;
    const stop = stops[tipCursor];
    reveal(stop.tip.id);
    const anchor = stop.range ? viewportBox(stop.range) : stop.node.getBoundingClientRect();
    showTips([stop.tip], anchor);
  }

  /** Previews the tips under the pointer (the peek holds no focus and takes no clicks). */
  function peekAt(tips, x, y) {
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

  /** Shows "+ Tip" beside the selection the user just made. Only trusted events call this,
   *  and a mouse selection counts only where the mouse was released over it (`point`): a
   *  page that selects text of its own accord cannot make the button appear where it wants. */
  function placeAddButton(point) {
    if (!siteActive || pending) return;
    const { addButton } = theUi();
    const map = buildTextMap();
    const range = currentSelection(map);
    const rects = range && !range.error && !range.collapsed ? [...toRange(range).getClientRects()] : [];
    const last = rects[rects.length - 1];
    // Rectangles of text in a frame are relative to the frame: add the frame's position.
    const frameElement = last ? range.startContainer.ownerDocument.defaultView.frameElement : null;
    const offset = frameElement ? frameElement.getBoundingClientRect() : { left: 0, top: 0 };
    const NEAR = 24;
    const released = (r) => !point || (point.x >= r.left + offset.left - NEAR && point.x <= r.right + offset.left + NEAR && point.y >= r.top + offset.top - NEAR && point.y <= r.bottom + offset.top + NEAR);
    if (!last || String(toRange(range)).trim() === '' || !rects.some(released)) {
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

  /** A live Range for a StaticRange (getComposedRanges gives static ones). */
  function toRange(r) {
    if (typeof r.getClientRects === "function") return r; // a live Range (any frame's)
    const range = r.startContainer.ownerDocument.createRange();
    range.setStart(r.startContainer, r.startOffset);
    range.setEnd(r.endContainer, r.endOffset);
    return range;
  }

  function openCapture() {
    const parts = theUi();
    parts.addButton.hidden = true;
    const selected = readSelection();
    if (selected.error) {
      showNotice(selected.error);
      return;
    }
    pending = selected;
    let anchor = null;
    if (selected.range) {
      const view = selected.range.startContainer.ownerDocument.defaultView;
      view.CSS.highlights.set(PENDING_HIGHLIGHT, new view.Highlight(selected.range));
      pendingWindow = view;
      anchor = viewportBox(selected.range);
    }
    openFrame('capture', { type: 'showCapture', quote: selected.quote.trim() }, anchor);
  }

  function openElementCapture() {
    const target = pinnable(lastContextTarget);
    if (!target || !target.isConnected || target.closest('[data-inflow-ui]')) {
      showNotice('Right-click the button, field, tab or link you want to pin a tip to.');
      return;
    }
    theUi().addButton.hidden = true;
    const description = describeElement(target);
    pending = { element: description };
    const name = description.label || description.text || description.attributes.find(([n]) => n === 'aria-label')?.[1] || description.tag;
    openFrame('capture', { type: 'showCapture', quote: `Element: ${description.tag} “${name}”` }, target.getBoundingClientRect());
  }

  let pendingWindow = null;
  function closeCapture() {
    pending = null;
    pendingWindow?.CSS.highlights.delete(PENDING_HIGHLIGHT);
    pendingWindow = null;
  }

  let saving = false;
  /** Saves what the frame's form holds (`fields`) for the pending selection or control. */
  async function saveCapture(fields) {
    if (!pending || saving) return;
    saving = true;
    const { note, tags, visibility } = fields;
    const tip = { title: document.title, note, tags, visibility };
    const answer = await send(
      pending.element
        ? { type: 'captureElement', element: pending.element, ...tip }
        : { type: 'capture', text: pending.text, start: pending.start, end: pending.end, ...tip },
    );
    saving = false;
    if (answer.type !== 'saved') {
      // The form stays open with everything typed, so nothing is lost.
      toFrame({ type: 'captureRefused', message: answer.message ?? 'The tip was not saved.' });
      return;
    }
    hideFrame(true);
    document.getSelection()?.removeAllRanges();
    showNotice(answer.tip.visibility === 'team' ? 'Tip saved for your team.' : 'Tip saved (only you can see it).');
    await refresh(true);
  }

  /** Scrolls a tip's text or element into view and flashes it (asked by the side panel). */
  function reveal(tipId) {
    const painted = paintedRanges.find(({ tip }) => tip.id === tipId);
    const pinned = placedElements.find(({ tip }) => tip.id === tipId);
    if (!painted && !pinned) return false;
    const target = painted ? painted.range.startContainer.parentElement : pinned.element;
    target?.scrollIntoView({ block: 'center', behavior: 'instant' });
    if (painted) {
      const view = painted.range.startContainer.ownerDocument.defaultView;
      view.CSS.highlights.set(PENDING_HIGHLIGHT, new view.Highlight(painted.range));
      setTimeout(() => {
        if (!pending) view.CSS.highlights.delete(PENDING_HIGHLIGHT);
      }, 1500);
    }
    return true;
  }

  // ---- Wiring --------------------------------------------------------------------------

  chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
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
      sendResponse({
        active: siteActive,
        placed: paintedRanges.map(({ tip }) => tip.id),
        unplaced: unplacedIds,
        elements: placedElements.map(({ tip }) => tip.id),
        // A control missing from the page its tip was pinned on needs review; one pinned on
        // another record's page is about that record.
        missingElements: missingElementTips().filter((tip) => elementsCapturedHere.has(tip.id)).map((tip) => tip.id),
        otherRecords: [...otherRecordIds, ...missingElementTips().filter((tip) => !elementsCapturedHere.has(tip.id)).map((tip) => tip.id)],
      });
      return false;
    }
    sendResponse({ ok: true });
    return false;
  });

  // Every listener on the page acts on the user's own input only (`isTrusted`): a page that
  // dispatches clicks, mouse-ups or keys of its own opens nothing and shows nothing.
  const trusted = (handler) => (event) => event.isTrusted && handler(event);
  const afterMouseUp = trusted((event) => setTimeout(() => placeAddButton({ x: event.clientX, y: event.clientY }), 0));
  document.addEventListener('mouseup', afterMouseUp, true);
  document.addEventListener('contextmenu', trusted((event) => (lastContextTarget = event.composedPath()[0] ?? event.target)), true);
  addEventListener('scroll', () => {
    redrawMarkers();
    if (frameShows === 'peek') hideFrame(false);
  }, { capture: true, passive: true });
  // Hovering highlighted text previews its tip; a click opens it.
  let hoverFrame = 0;
  document.addEventListener('mousemove', trusted((event) => {
    // The user is at work on a screen with tips: make the frame now (it takes ~100 ms to
    // start, in the extension's process, not the page's), so a click on a tip is answered
    // at once. Never at page load, never on a screen without tips.
    if (!frame && (paintedRanges.length || placedElements.length)) theFrame();
    if ((!paintedRanges.length && frameShows !== 'peek') || hoverFrame) return;
    hoverFrame = requestAnimationFrame(() => {
      hoverFrame = 0;
      peekAt(tipsAt(event.clientX, event.clientY), event.clientX, event.clientY);
    });
  }), { capture: true, passive: true });
  addEventListener('resize', redrawMarkers, { passive: true });
  // Passive: a click on highlighted text also does whatever the page does with it.
  document.addEventListener('click', trusted((event) => {
    if (!paintedRanges.length || !document.getSelection()?.isCollapsed) return;
    const tips = tipsAt(event.clientX, event.clientY);
    if (tips.length) showTips(tips, { left: event.clientX, top: event.clientY - 8, right: event.clientX, bottom: event.clientY + 8 });
    else if (frameShows === 'card' || frameShows === 'peek') hideFrame(false);
  }), { capture: true, passive: true });
  document.addEventListener('keyup', trusted((event) => event.shiftKey && placeAddButton(null)), true);
  // A press anywhere but on Inflow's own UI starts a new selection: the button goes until
  // the mouse is released over a selection again.
  document.addEventListener('mousedown', trusted((event) => {
    if (ui && !event.target.hasAttribute?.('data-inflow-ui')) ui.addButton.hidden = true;
  }), true);

  const observer = new MutationObserver(scheduleRefresh);
  observer.observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  // A frame's document arrives after the frame element (which first holds about:blank),
  // and its arrival changes no element of this document: catch its load event and watch
  // the new document.
  document.addEventListener('load', (event) => {
    if (event.target.tagName !== 'IFRAME') return;
    const body = sameOriginBody(event.target);
    if (body) watch([body.ownerDocument]);
    scheduleRefresh();
  }, true);
  addEventListener('popstate', () => refresh(false));
  globalThis.navigation?.addEventListener('navigatesuccess', () => refresh(false));

  refresh(true);
})();
