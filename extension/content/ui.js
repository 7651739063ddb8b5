// @ts-check
// Inflow's UI in the page: one host element outside <body> with a closed shadow root. What
// is drawn here holds no tip content: the "+ Tip" button, the markers beside pinned
// controls, Inflow's own notices, and the frame. The capture form, the cards and the peek
// are in the frame (tipframe.html), an extension page: their text, focus and keys are out
// of the page's reach.

import { openCapture } from './capture.js';

const NOTICE_MS = 6000;

const UI_CSS = `
  :host { all: initial; }
  * { box-sizing: border-box; font: 14px/1.4 system-ui, sans-serif; }
  [hidden] { display: none !important; }
  .add { position: fixed; z-index: 2147483647; padding: 4px 10px; border: 1px solid #8a5a00; border-radius: 14px;
         background: #ffc928; color: #222; cursor: pointer; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
  .add:focus-visible, button:focus-visible { outline: 3px solid #1a5fb4; outline-offset: 1px; }
  .frame { position: fixed; z-index: 2147483647; border: 0; background: transparent; color-scheme: light dark;
           border-radius: 8px; box-shadow: 0 6px 24px rgba(0,0,0,.3); }
  .frame.peeking { pointer-events: none; box-shadow: 0 2px 8px rgba(0,0,0,.3); }
  .marker { position: fixed; z-index: 2147483646; width: 18px; height: 18px; padding: 0; border-radius: 50%;
            border: 1px solid #8a5a00; background: #ffc928; color: #222; font: bold 12px/16px system-ui, sans-serif;
            text-align: center; cursor: pointer; box-shadow: 0 1px 4px rgba(0,0,0,.35); }
  .notice { position: fixed; z-index: 2147483647; left: 50%; bottom: 24px; transform: translateX(-50%); max-width: 520px; pointer-events: none;
            padding: 10px 14px; border-radius: 6px; background: #222; color: #fff; box-shadow: 0 4px 16px rgba(0,0,0,.3); }
`;

/** A new element of the page's document: `props` as properties (or attributes where the
 *  element has no such property), `text` as its text, never markup.
 *  @template {keyof HTMLElementTagNameMap} K
 *  @param {K} tag @param {Record<string, any>} props @param {Node[]} children
 *  @returns {HTMLElementTagNameMap[K]} */
export function element_(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'text') node.textContent = value; // Inflow's own words, as text, never markup
    else if (key in node && !key.startsWith('aria') && key !== 'role') /** @type {any} */ (node)[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

/** @typedef {{ host: HTMLElement, shadow: ShadowRoot, addButton: HTMLButtonElement, notice: HTMLElement, markers: HTMLElement }} Ui */
/** @type {Ui | null} */
let ui = null;

/** The UI, if it was made (it is made on first need, never at page load). */
export const uiIfMade = () => ui;

/** The UI, made on first need. */
export function theUi() {
  if (ui) {
    // A page may remove the host from its DOM: put it back (its frame reloads then, and
    // the frame's port closing makes a new frame on next use).
    if (!ui.host.isConnected) document.documentElement.append(ui.host);
    return ui;
  }
  const host = document.createElement('div');
  host.setAttribute('data-inflow-ui', '');
  // A zero-size fixed box: it never covers or shifts the page; its children position themselves.
  const hostStyle = [['all', 'initial'], ['position', 'fixed'], ['top', '0'], ['left', '0'], ['width', '0'], ['height', '0'], ['z-index', '2147483647']];
  for (const [name, value] of hostStyle) host.style.setProperty(name, value, 'important');
  const shadow = host.attachShadow({ mode: 'closed' });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(UI_CSS); // constructed stylesheets are not blocked by a page's style-src CSP
  shadow.adoptedStyleSheets = [sheet];

  const addButton = element_('button', {
    type: 'button',
    className: 'add',
    text: '+ Tip',
    'aria-label': 'Add an Inflow tip to the selected text',
    hidden: true,
  });
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
/** A short message of Inflow's own at the bottom of the screen (never a tip's content).
 *  @param {string} message */
export function showNotice(message) {
  const { notice } = theUi();
  notice.textContent = message;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), NOTICE_MS);
}
