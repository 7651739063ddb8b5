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
  const MAX_NOTE_CHARS = 10000; // the worker enforces it; shown here as a counter only
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
  let you = ''; // the name this device signs tips with: its own tips can be edited and deleted
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
    you = answer.you;
    // The page may have rebuilt itself while the worker answered: the same text in new
    // nodes is painted on the new nodes.
    const last = map.nodes[map.nodes.length - 1];
    const current = last && !last.isConnected ? buildTextMap() : map;
    paint(current.text === map.text ? current : map);
    watchMissingElements();
    if (!settled && answer.unplaced.length) checkWhenSettled();
    // Visible in the browser's performance tools, and to Inflow's own benchmark.
    performance.measure('inflow:refresh', { start: started, detail: { tips: tipsOnScreen } });
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

  /** Watches shadow roots and frames for changes too: the page's observer does not see them. */
  const watched = new WeakSet();
  function watch(trees) {
    for (const tree of trees) {
      if (watched.has(tree)) continue;
      watched.add(tree);
      observer.observe(tree, { childList: true, subtree: true, characterData: true });
      // Selections made in a frame end with a mouse-up in that frame's document.
      if (tree.nodeType === Node.DOCUMENT_NODE) tree.addEventListener('mouseup', () => setTimeout(placeAddButton, 0), true);
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
        const marker = element_('button', { type: 'button', className: 'marker', text: 'i', 'aria-label': `Inflow tip: ${tip.note.slice(0, 60) || 'no note'}` });
        marker.style.left = `${Math.max(0, Math.min(box.right - 9, innerWidth - 20))}px`;
        marker.style.top = `${Math.max(0, box.top - 9)}px`;
        marker.hidden = box.width === 0 && box.height === 0; // not rendered (another tab, collapsed)
        marker.addEventListener('click', () => showTips([tip], box.right, box.bottom));
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

  const UI_CSS = `
    :host { all: initial; }
    * { box-sizing: border-box; font: 14px/1.4 system-ui, sans-serif; }
    [hidden] { display: none !important; }
    .add { position: fixed; z-index: 2147483647; padding: 4px 10px; border: 1px solid #8a5a00; border-radius: 14px;
           background: #ffc928; color: #222; cursor: pointer; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
    .add:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible, select:focus-visible {
           outline: 3px solid #1a5fb4; outline-offset: 1px; }
    .panel { position: fixed; z-index: 2147483647; right: 16px; top: 16px; width: 360px; max-width: calc(100vw - 32px);
             padding: 14px; border: 1px solid #999; border-radius: 8px; background: #fff; color: #222;
             box-shadow: 0 6px 24px rgba(0,0,0,.3); display: grid; gap: 8px; }
    .panel h2 { margin: 0; font-weight: 600; font-size: 15px; }
    .quote { margin: 0; padding: 6px 8px; border-left: 4px solid #ffc928; background: #fff8e0; max-height: 6em;
             overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
    label { display: grid; gap: 2px; font-weight: 600; }
    textarea, input, select { font-weight: normal; padding: 6px; border: 1px solid #888; border-radius: 4px; width: 100%; }
    textarea { min-height: 90px; resize: vertical; }
    .count { font-size: 12px; color: #555; text-align: right; }
    .count.over { color: #b00020; font-weight: 600; }
    .error { margin: 0; color: #b00020; }
    .actions { display: flex; gap: 8px; justify-content: flex-end; }
    .actions button { padding: 6px 14px; border-radius: 4px; border: 1px solid #666; background: #f4f4f4; cursor: pointer; }
    .actions .save { background: #1a5fb4; border-color: #1a5fb4; color: #fff; }
    .card { position: fixed; z-index: 2147483647; width: 340px; max-width: calc(100vw - 16px); max-height: 50vh; overflow: auto;
            padding: 12px; border: 1px solid #999; border-radius: 8px; background: #fff; color: #222;
            box-shadow: 0 6px 24px rgba(0,0,0,.3); display: grid; gap: 6px; }
    .card article + article { border-top: 1px solid #ddd; padding-top: 6px; }
    .card .note { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
    .card .meta { margin: 0; font-size: 12px; color: #555; }
    .card .close { justify-self: end; border: 1px solid #666; border-radius: 4px; background: #f4f4f4; cursor: pointer; }
    .marker { position: fixed; z-index: 2147483646; width: 18px; height: 18px; padding: 0; border-radius: 50%;
              border: 1px solid #8a5a00; background: #ffc928; color: #222; font: bold 12px/16px system-ui, sans-serif;
              text-align: center; cursor: pointer; box-shadow: 0 1px 4px rgba(0,0,0,.35); }
    .peek { position: fixed; z-index: 2147483647; max-width: 320px; padding: 6px 10px; border-radius: 6px; background: #222;
            color: #fff; font-size: 13px; pointer-events: none; box-shadow: 0 2px 8px rgba(0,0,0,.3); }
    .notice { position: fixed; z-index: 2147483647; left: 50%; bottom: 24px; transform: translateX(-50%); max-width: 520px; pointer-events: none;
              padding: 10px 14px; border-radius: 6px; background: #222; color: #fff; box-shadow: 0 4px 16px rgba(0,0,0,.3); }
    .notice .notice-action { pointer-events: auto; margin-left: 8px; padding: 2px 10px; border: 1px solid #fff; border-radius: 4px;
                             background: transparent; color: #fff; font: inherit; cursor: pointer; }
  `;

  function element_(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === 'text') node.textContent = value; // user content goes in as text, never markup
      else if (key in node && !key.startsWith('aria') && key !== 'role') node[key] = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  let ui = null;
  function theUi() {
    if (ui) return ui;
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
    addButton.addEventListener('click', () => openCapture());

    const quote = element_('blockquote', { className: 'quote' });
    const note = element_('textarea', { name: 'note', placeholder: 'What should the next person know here?' });
    const count = element_('div', { className: 'count', 'aria-live': 'polite' });
    const tags = element_('input', { name: 'tags', type: 'text', placeholder: 'e.g. orders, after upgrade' });
    const visibility = element_('select', { name: 'visibility' }, [
      element_('option', { value: 'private', text: 'Only me' }),
      element_('option', { value: 'team', text: 'My team' }),
    ]);
    const error = element_('p', { className: 'error', role: 'alert' });
    const save = element_('button', { type: 'submit', className: 'save', text: 'Save tip' });
    const cancel = element_('button', { type: 'button', className: 'cancel', text: 'Cancel' });
    const form = element_('form', { className: 'panel', role: 'dialog', 'aria-label': 'New Inflow tip', hidden: true }, [
      element_('h2', { text: 'New tip' }),
      quote,
      element_('label', {}, ['Note', note]),
      count,
      element_('label', {}, ['Tags (comma separated)', tags]),
      element_('label', {}, ['Who sees it', visibility]),
      error,
      element_('div', { className: 'actions' }, [cancel, save]),
    ]);
    const notice = element_('div', { className: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    const cardBody = element_('div');
    const cardClose = element_('button', { type: 'button', className: 'close', text: 'Close' });
    const card = element_('section', { className: 'card', role: 'dialog', 'aria-label': 'Inflow tip', hidden: true }, [cardBody, cardClose]);
    cardClose.addEventListener('click', () => (card.hidden = true));
    card.addEventListener('keydown', (event) => event.key === 'Escape' && (card.hidden = true));

    const updateCount = () => {
      const chars = [...note.value].length;
      count.textContent = `${chars.toLocaleString()} / ${MAX_NOTE_CHARS.toLocaleString()} characters`;
      count.classList.toggle('over', chars > MAX_NOTE_CHARS);
    };
    note.addEventListener('input', updateCount);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      saveCapture();
    });
    cancel.addEventListener('click', () => closeCapture());
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') closeCapture();
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        saveCapture();
      }
      event.stopPropagation(); // the app's own shortcuts must not fire while typing a tip
    });

    const markers = element_('div', { className: 'markers' });
    const peek = element_('div', { className: 'peek', role: 'tooltip', hidden: true });
    shadow.append(markers, addButton, form, card, peek, notice);
    document.documentElement.append(host);
    ui = { addButton, form, quote, note, count, tags, visibility, error, save, notice, card, cardBody, markers, peek, updateCount };
    return ui;
  }

  let noticeTimer = 0;
  /** A short message at the bottom of the screen; with `action` ({ label, run }), a button
   *  for it, for as long as the message shows (an undo). */
  function showNotice(message, action) {
    const { notice } = theUi();
    notice.replaceChildren(document.createTextNode(message));
    if (action) {
      const button = element_('button', { type: 'button', className: 'notice-action', text: action.label });
      button.addEventListener('click', () => {
        notice.hidden = true;
        action.run();
      });
      notice.append(' ', button);
    }
    notice.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => (notice.hidden = true), NOTICE_MS);
  }

  /** Shows the tips under a click in a card next to it. */
  function showTips(tips, x, y) {
    const { card, cardBody } = theUi();
    cardBody.replaceChildren(
      ...tips.map((tip) => {
        const who = tip.visibility === 'team' ? 'Team' : 'Only you';
        const when = new Date(tip.created).toLocaleString();
        const parts = [
          element_('p', { className: 'note', text: tip.note || 'Highlight (no note)' }),
          element_('p', { className: 'meta', text: tip.tags.length ? `Tags: ${tip.tags.join(', ')}` : '' }),
          element_('p', { className: 'meta', text: `${tip.author} · ${when} · ${who}` }),
        ];
        if (tip.author === you) {
          const edit = element_('button', { type: 'button', className: 'edit', text: 'Edit' });
          const remove = element_('button', { type: 'button', className: 'delete', text: 'Delete' });
          edit.addEventListener('click', () => openEdit(tip));
          remove.addEventListener('click', () => deleteTip(tip));
          parts.push(element_('p', { className: 'actions' }, [edit, remove]));
        }
        return element_('article', {}, parts);
      }),
    );
    card.style.left = `${Math.max(8, Math.min(x + 8, innerWidth - 356))}px`;
    card.style.top = `${Math.max(8, Math.min(y + 12, innerHeight - 200))}px`;
    card.hidden = false;
  }

  function placeAddButton() {
    if (!siteActive || pending) return;
    const { addButton } = theUi();
    const map = buildTextMap();
    const range = currentSelection(map);
    const rects = range && !range.error && !range.collapsed ? [...toRange(range).getClientRects()] : [];
    const last = rects[rects.length - 1];
    if (!last || String(toRange(range)).trim() === '') {
      addButton.hidden = true;
      return;
    }
    // Rectangles of text in a frame are relative to the frame: add the frame's position.
    const frame = range.startContainer.ownerDocument.defaultView.frameElement;
    const offset = frame ? frame.getBoundingClientRect() : { left: 0, top: 0 };
    addButton.style.left = `${Math.min(offset.left + last.right + 4, innerWidth - 80)}px`;
    addButton.style.top = `${Math.min(offset.top + last.bottom + 4, innerHeight - 36)}px`;
    addButton.hidden = false;
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
    if (selected.range) {
      const view = selected.range.startContainer.ownerDocument.defaultView;
      view.CSS.highlights.set(PENDING_HIGHLIGHT, new view.Highlight(selected.range));
      pendingWindow = view;
    }
    showForm(selected.quote.trim());
  }

  /** Opens the capture form, empty, for what `subject` describes. */
  /** Opens the form on the author's own tip, filled in with what it says now. */
  function openEdit(tip) {
    theUi().card.hidden = true;
    pending = { edit: tip };
    showForm(tip.target.selector.find((s) => s.type === 'TextQuoteSelector')?.exact ?? 'Pinned control', tip);
  }

  /** Deletes the author's own tip, with an undo for as long as the notice shows. */
  async function deleteTip(tip) {
    theUi().card.hidden = true;
    const answer = await send({ type: 'deleteTip', tipId: tip.id });
    if (answer.type !== 'deleted') return showNotice(answer.message ?? 'The tip was not deleted.');
    await refresh(true);
    showNotice(tip.visibility === 'team' ? 'Tip deleted for your team.' : 'Tip deleted.', {
      label: 'Undo',
      run: async () => {
        const back = await send({ type: 'restoreTip', tip: answer.tip });
        showNotice(back.type === 'saved' ? 'Tip restored.' : back.message ?? 'The tip could not be restored.');
        await refresh(true);
      },
    });
  }

  function showForm(subject, editing) {
    const parts = theUi();
    parts.quote.textContent = subject;
    parts.note.value = editing?.note ?? '';
    parts.tags.value = editing?.tags.join(', ') ?? '';
    if (editing) parts.visibility.value = editing.visibility;
    parts.save.textContent = editing ? 'Save changes' : 'Save tip';
    parts.error.textContent = '';
    parts.updateCount();
    parts.form.hidden = false;
    parts.note.focus();
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
    showForm(`Element: ${description.tag} “${name}”`);
  }

  let pendingWindow = null;
  function closeCapture() {
    pending = null;
    pendingWindow?.CSS.highlights.delete(PENDING_HIGHLIGHT);
    pendingWindow = null;
    if (ui) ui.form.hidden = true;
  }

  let saving = false;
  async function saveCapture() {
    if (!pending || saving) return;
    const parts = theUi();
    saving = true;
    parts.save.disabled = true;
    parts.error.textContent = '';
    const fields = {
      title: document.title,
      note: parts.note.value,
      tags: parts.tags.value.split(',').map((tag) => tag.trim()).filter(Boolean),
      visibility: parts.visibility.value,
    };
    const { title: _title, ...edit } = fields;
    const editing = pending.edit;
    const answer = await send(
      editing
        ? { type: 'editTip', tipId: editing.id, edit }
        : pending.element
          ? { type: 'captureElement', element: pending.element, ...fields }
          : { type: 'capture', text: pending.text, start: pending.start, end: pending.end, ...fields },
    );
    saving = false;
    parts.save.disabled = false;
    if (answer.type !== 'saved') {
      // The form stays open with everything typed, so nothing is lost.
      parts.error.textContent = answer.message ?? 'The tip was not saved.';
      return;
    }
    closeCapture();
    if (editing) {
      const takenBack = editing.visibility === 'team' && answer.tip.visibility === 'private';
      showNotice(takenBack ? 'Changes saved. The tip is yours alone again: your team no longer sees it.' : 'Changes saved.');
      return refresh(true);
    }
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
    if (sender.id !== chrome.runtime.id) return false;
    if (message.type === 'openCapture') openCapture();
    else if (message.type === 'pinElement') openElementCapture();
    else if (message.type === 'notice') showNotice(message.message);
    else if (message.type === 'tipsChanged') refresh(true); // teammates' tips arrived
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

  document.addEventListener('mouseup', () => setTimeout(placeAddButton, 0), true);
  document.addEventListener('contextmenu', (event) => (lastContextTarget = event.composedPath()[0] ?? event.target), true);
  addEventListener('scroll', redrawMarkers, { capture: true, passive: true });
  // Hovering highlighted text previews its tip; a click opens it.
  let hoverFrame = 0;
  document.addEventListener('mousemove', (event) => {
    if (!paintedRanges.length || hoverFrame) return;
    hoverFrame = requestAnimationFrame(() => {
      hoverFrame = 0;
      const tips = tipsAt(event.clientX, event.clientY);
      const { peek, card } = theUi();
      if (!tips.length || !card.hidden) {
        peek.hidden = true;
        return;
      }
      const first = tips[0].note || '(no note)';
      peek.textContent = `${first.length > 90 ? `${first.slice(0, 90)}…` : first}${tips.length > 1 ? ` (+${tips.length - 1} more)` : ''} · click to open`;
      peek.style.left = `${Math.min(event.clientX + 12, innerWidth - 330)}px`;
      peek.style.top = `${Math.min(event.clientY + 16, innerHeight - 40)}px`;
      peek.hidden = false;
    });
  }, { capture: true, passive: true });
  addEventListener('resize', redrawMarkers, { passive: true });
  // Passive: a click on highlighted text also does whatever the page does with it.
  document.addEventListener('click', (event) => {
    if (!paintedRanges.length || !document.getSelection()?.isCollapsed) return;
    const tips = tipsAt(event.clientX, event.clientY);
    if (tips.length) showTips(tips, event.clientX, event.clientY);
    else if (ui) ui.card.hidden = true;
  }, { capture: true, passive: true });
  document.addEventListener('keyup', (event) => event.shiftKey && placeAddButton(), true);
  // A press anywhere but on Inflow's own UI starts a new selection: the button goes until
  // the mouse is released over a selection again.
  document.addEventListener('mousedown', (event) => {
    if (ui && !event.target.hasAttribute?.('data-inflow-ui')) ui.addButton.hidden = true;
  }, true);

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
