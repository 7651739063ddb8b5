// A hostile page for Inflow's tests (the demo app serves it at /hostile/…): it does what
// third-party scripts on a clinical page (analytics, session replay) could do to read tips.
// Everything it learns goes to `window.__stolen`; `window.__attack` runs its active tries.
(() => {
  const stolen = { keys: [], inputs: [], mutations: [], performance: [], frames: [], messages: [] };
  window.__stolen = stolen;
  // Keystrokes and input anywhere, in the capture phase, before anyone else.
  for (const type of ['keydown', 'keyup', 'keypress', 'beforeinput', 'input', 'compositionend']) {
    window.addEventListener(type, (event) => {
      if (type.startsWith('key')) stolen.keys.push(event.key);
      else stolen.inputs.push(String(event.data ?? event.target?.value ?? ''));
    }, true);
  }
  window.addEventListener('message', (event) => stolen.messages.push(JSON.stringify(event.data)));
  // Every node and attribute the document ever gets (session replay's recorder).
  const record = (node) => {
    if (node.nodeType === Node.TEXT_NODE) stolen.mutations.push(node.data);
    else if (node.nodeType === Node.ELEMENT_NODE) {
      stolen.mutations.push(node.outerHTML ?? '');
      if (node.shadowRoot) stolen.mutations.push(node.shadowRoot.innerHTML); // open roots only
    }
  };
  new MutationObserver((records) => {
    for (const change of records) {
      change.addedNodes.forEach(record);
      if (change.type === 'characterData') stolen.mutations.push(change.target.data);
      if (change.type === 'attributes') stolen.mutations.push(`${change.attributeName}=${change.target.getAttribute(change.attributeName)}`);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });

  /** What the page can read of everything it can see, now. */
  window.__look = () => {
    stolen.performance.push(JSON.stringify(performance.getEntries().map((e) => ({ name: e.name, detail: e.detail ?? null }))));
    stolen.mutations.push(document.documentElement.outerHTML);
    stolen.mutations.push(document.documentElement.innerText ?? '');
    stolen.mutations.push(String(getSelection()));
    for (let i = 0; i < window.frames.length; i += 1) {
      try {
        stolen.frames.push(window.frames[i].location.href);
        stolen.frames.push(window.frames[i].document.documentElement.outerHTML);
      } catch (error) {
        stolen.frames.push(`frame ${i}: ${error.name}`); // a frame of another origin
      }
      window.frames[i].postMessage({ type: 'showTips', tipIds: [] }, '*');
    }
  };

  /** `window.find` for words an attacker guesses, reading what it selects. */
  window.__find = (words) => {
    const found = [];
    for (const word of words) {
      getSelection().removeAllRanges();
      if (window.find(word, false, false, true)) found.push(`${word}: ${getSelection()}`);
    }
    getSelection().removeAllRanges();
    return found;
  };

  /** Synthetic input: clicks on every highlight, a selection of its own with a mouse-up, a
   *  shifted key-up, a hover; then navigation to another screen by pushState. */
  window.__attack = () => {
    const highlight = CSS.highlights.get('inflow-tip');
    for (const range of highlight ? [...highlight] : []) {
      const box = range.getBoundingClientRect();
      const at = { clientX: box.left + 2, clientY: box.top + box.height / 2, bubbles: true, composed: true };
      const target = document.elementFromPoint(at.clientX, at.clientY) ?? document.body;
      for (const type of ['mousemove', 'mousedown', 'mouseup', 'click']) target.dispatchEvent(new MouseEvent(type, at));
    }
    const text = document.getElementById('follow-up').firstChild;
    const range = document.createRange();
    range.setStart(text, 0);
    range.setEnd(text, 30);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    const box = range.getBoundingClientRect();
    document.body.dispatchEvent(new MouseEvent('mouseup', { clientX: box.right - 2, clientY: box.top + 4, bubbles: true, composed: true }));
    document.body.dispatchEvent(new KeyboardEvent('keyup', { key: 'Shift', shiftKey: true, bubbles: true, composed: true }));
  };
  window.__navigate = () => history.pushState({}, '', '/hostile/discharge?record=3');
})();
