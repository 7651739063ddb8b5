// @ts-check
// What the content script knows of the page it is in: one object, shared by its modules.
// Each module owns its own timers; everything two modules read is here.

/** A tip as the worker sends it (only what the content script reads of it).
 *  @typedef {{ id: string, visibility: string, curation?: { needsReview?: boolean } | null,
 *              target: { selector: Array<{ type: string } & Record<string, any>> } }} Tip */
/** A tip the worker placed, at text-map offsets.
 *  @typedef {{ tip: Tip, start: number, end: number }} PlacedTip */
/** A placed tip as painted: its live range and the text the range held then.
 *  `at`: where its ends were when painted, to find them again when the page rebuilds the
 *  same markup (see highlights.js).
 *  @typedef {{ tip: Tip, range: Range, painted: string, at: PaintedPlace | null }} PaintedRange */
/** A painted range's ends as paths of child indices from their tree's root (the document or
 *  a shadow root), and the text nodes they were in.
 *  @typedef {{ root: Node, start: number[], end: number[], startOffset: number, endOffset: number,
 *    startNode: Node, endNode: Node }} PaintedPlace */
/** A pinned control found in the page.
 *  @typedef {{ tip: Tip, element: Element }} PlacedElement */
/** What the capture form is about while it is open: a selection or a control, with the
 *  page's identifying values read when the form opened (the preview and the save use the
 *  same ones).
 *  @typedef {({ text: string, blocks: import('./text-map.js').BlockKinds, start: number, end: number, range: Range | null, quote: string }
 *          | { element: import('./pins.js').ElementDescription })
 *          & { identifiers: { kind: string, value: string }[] }} Pending */

export const state = {
  /** The user has switched Inflow on for this site (the worker says). */
  siteActive: false,
  /** @type {PlacedTip[]} */
  placedTips: [],
  /** As last painted, for hit tests. @type {PaintedRange[]} */
  paintedRanges: [],
  /** Windows (top and frames) whose highlight registry holds Inflow's highlight. @type {Set<Window>} */
  paintedWindows: new Set(),
  tipsOnScreen: 0,
  /** Tips captured on this page that could not be placed with confidence. @type {string[]} */
  unplacedIds: [],
  /** Tips of this screen about other records (their text is not here). @type {string[]} */
  otherRecordIds: [],
  /** The text map's text as last sent to the worker. @type {string | null} */
  lastSentText: null,
  /** The address the tips were last asked for. */
  lastUrl: location.href,
  /** Tips pinned to elements on this screen. @type {Tip[]} */
  elementTips: [],
  /** Ids of those pinned on this very page (the worker says). @type {Set<string>} */
  elementsCapturedHere: new Set(),
  /** @type {PlacedElement[]} */
  placedElements: [],
  /** Set while the capture form is open. @type {Pending | null} */
  pending: null,
  /** The window whose registry holds the pending selection's highlight. @type {Window | null} */
  pendingWindow: null,
  /** The element last right-clicked, for "Pin an Inflow tip". @type {Element | null} */
  lastContextTarget: null,
  /** The team's identifying fields (the worker says): CSS selectors whose elements' text
   *  identifies a patient, with its kind. @type {{ kind: string, selector: string }[]} */
  identifyingFields: [],
};
