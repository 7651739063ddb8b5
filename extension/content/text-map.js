// @ts-check
// The page's text as one string (the text map), and the way between its offsets and DOM
// points. The walk enters open shadow roots and same-origin frames. Offsets are raw UTF-16
// code units, as DOM ranges count them; the worker normalises and matches, never this file.

/** `blocks` says what kind of block each part of the text is in: `marks` pairs the offset
 *  where a kind begins with its index in `kinds` (see `blockKind`).
 *  @typedef {{ marks: number[], kinds: string[] }} BlockKinds
 *  @typedef {{ text: string, nodes: Text[], starts: number[], trees: Set<Node>, blocks: BlockKinds }} TextMap */

/** Text under these elements is not page text a tip can quote (nor is Inflow's own UI,
 *  marked data-inflow-ui). */
const SKIPPED = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'TEXTAREA', 'SELECT', 'OPTION']);
/** Text in different blocks is separated by a line break in the text map, so words of
 *  neighbouring cells or paragraphs never run together in quotes. */
const BLOCK = new Set(
  (
    'address,article,aside,blockquote,caption,dd,details,div,dl,dt,fieldset,figcaption,figure,footer,' +
    'form,h1,h2,h3,h4,h5,h6,header,hr,li,main,nav,ol,p,pre,section,summary,table,tbody,td,tfoot,th,thead,tr,ul'
  )
    .toUpperCase()
    .split(','),
);

/** Class names longer than this, or more of them, say nothing more about a block's kind. */
const MAX_CLASS_CHARS = 40;
const MAX_CLASSES = 3;
/** The longest kind the worker takes (MAX_BLOCK_KIND_CHARS in core/src/text.rs). */
const MAX_KIND_CHARS = 160;

/** A block's kind: its tag and classes, and its parent's (`h2.title < div.related`). It
 *  tells apart copies of the same words in different parts of a screen (a headline in the
 *  story and in a list of related stories) wherever paragraphs have moved. Ids, and class
 *  names with a digit, are left out: they name a record or a render, not a part of the
 *  screen, and tips come back on every record of a screen.
 *  @param {Node} block */
export function blockKind(block) {
  if (block.nodeType !== Node.ELEMENT_NODE) return '';
  const element = /** @type {Element} */ (block);
  const parent = element.parentElement;
  const kind = parent ? `${elementKind(element)} < ${elementKind(parent)}` : elementKind(element);
  return kind.slice(0, MAX_KIND_CHARS);
}

/** @param {Element} element */
function elementKind(element) {
  const classes = (element.getAttribute('class') ?? '')
    .split(/\s+/)
    .filter((name) => name && name.length <= MAX_CLASS_CHARS && !/[\d.<]/.test(name))
    .slice(0, MAX_CLASSES);
  return [element.localName, ...classes].join('.');
}

/** The text of `document`'s body as one string, with the text node behind every part of
 *  it, and every tree the walk entered (shadow roots, frames' documents), so that changes
 *  inside them can be watched too.
 *  @param {Document} document
 *  @returns {TextMap} */
export function buildTextMap(document = globalThis.document) {
  /** @type {Text[]} */
  const nodes = [];
  /** @type {number[]} */
  const starts = [];
  /** @type {string[]} */
  const parts = [];
  /** @type {Set<Node>} */
  const trees = new Set();
  let length = 0;
  /** @type {Node | null} */
  let lastBlock = null;
  /** @type {number[]} */
  const marks = [];
  /** @type {string[]} */
  const kinds = [];
  /** Each kind's index in `kinds`. @type {Map<string, number>} */
  const kindIndex = new Map();
  // The last block's kind (-1: work it out again), the last kind marked, and what the
  // last block and its parent look like (tag, class attribute).
  let lastKind = -1;
  let lastMarked = -1;
  let lastTag = '';
  /** @type {string | null} */
  let lastClasses = null;
  /** @type {Element | null} */
  let lastParent = null;
  let lastParentTag = '';
  /** @type {string | null} */
  let lastParentClasses = null;
  // The block a text node belongs to is carried down the walk (the nearest block element
  // above it, or the root it was entered from), not looked up per node.
  /** @param {Text} node @param {Node} block */
  const visitText = (node, block) => {
    if (block !== lastBlock) {
      if (lastBlock !== null) {
        parts.push('\n');
        length += 1;
      }
      // Rows and cells repeat one kind thousands of times: the kind is worked out only
      // when the block's tag or classes, or its parent's, differ from the last block's.
      const element = block.nodeType === Node.ELEMENT_NODE ? /** @type {Element} */ (block) : null;
      const parent = element ? element.parentElement : null;
      const tag = element ? element.localName : '';
      const classes = element ? element.getAttribute('class') : null;
      if (parent !== lastParent) {
        lastParent = parent;
        const parentTag = parent ? parent.localName : '';
        const parentClasses = parent ? parent.getAttribute('class') : null;
        if (parentTag !== lastParentTag || parentClasses !== lastParentClasses) lastKind = -1;
        lastParentTag = parentTag;
        lastParentClasses = parentClasses;
      }
      if (lastKind < 0 || tag !== lastTag || classes !== lastClasses) {
        const name = blockKind(block);
        let kind = kindIndex.get(name);
        if (kind === undefined) {
          kind = kinds.push(name) - 1;
          kindIndex.set(name, kind);
        }
        if (kind !== lastMarked) marks.push(length, kind);
        lastKind = kind;
        lastMarked = kind;
        lastTag = tag;
        lastClasses = classes;
      }
    }
    lastBlock = block;
    nodes.push(node);
    starts.push(length);
    parts.push(node.data);
    length += node.data.length;
  };
  /** @param {Node} parent @param {Node} block */
  const walk = (parent, block) => {
    for (let child = parent.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === Node.TEXT_NODE) {
        // (nodeType, not instanceof: a frame's nodes belong to another realm)
        const text = /** @type {Text} */ (child);
        if (text.data.length) visitText(text, block);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        const element = /** @type {Element} */ (child);
        if (SKIPPED.has(element.tagName) || element.hasAttribute('data-inflow-ui')) continue;
        const inner = BLOCK.has(element.tagName) ? element : block;
        if (element.shadowRoot) {
          trees.add(element.shadowRoot);
          walk(element.shadowRoot, element.shadowRoot);
        }
        if (element.tagName === 'IFRAME' || element.tagName === 'FRAME') {
          const body = sameOriginBody(element);
          if (body) {
            trees.add(body.ownerDocument);
            walk(body, body);
          }
        } else {
          walk(element, inner);
        }
      }
    }
  };
  if (document.body) walk(document.body, document.body);
  return { text: parts.join(''), nodes, starts, trees, blocks: { marks, kinds } };
}

/** The body of a same-origin frame, or null (cross-origin frames are out of reach).
 *  @param {Element} frame
 *  @returns {HTMLElement | null} */
export function sameOriginBody(frame) {
  try {
    return /** @type {HTMLIFrameElement} */ (frame).contentDocument?.body ?? null;
  } catch {
    return null;
  }
}

/** The index of the last text node starting at or before `offset`.
 *  @param {TextMap} map @param {number} offset */
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

/** A DOM range for the text-map range `start..end`, or null if the map is empty, the range
 *  would span frames, or a node changed under the map.
 *  @param {TextMap} map @param {number} start @param {number} end
 *  @returns {Range | null} */
export function rangeFor(map, start, end) {
  if (map.nodes.length === 0) return null;
  const i = nodeIndexAt(map, start);
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

/** The text-map offset of a DOM boundary point.
 *  @param {TextMap} map @param {Node} container @param {number} offset */
export function offsetOf(map, container, offset) {
  // Looked up here, not indexed with every map: a map is built on every refresh (a board
  // re-rendering 2,000 rows, several times a second), a selection is rare.
  const index = map.nodes.indexOf(/** @type {Text} */ (container));
  if (index >= 0) return map.starts[index] + offset;
  // A point between elements: the first mapped text node at or after it, among the
  // nodes of the same tree (comparing points across trees or frames is meaningless).
  const root = container.getRootNode();
  const candidates = map.nodes.map((_, i) => i).filter((i) => map.nodes[i].getRootNode() === root);
  const point = /** @type {Document} */ (container.ownerDocument ?? container).createRange();
  point.setStart(container, offset);
  const at = candidates.find((i) => point.comparePoint(map.nodes[i], 0) >= 0);
  if (at !== undefined) return map.starts[at];
  const last = candidates[candidates.length - 1];
  return last === undefined ? map.text.length : map.starts[last] + map.nodes[last].data.length;
}
