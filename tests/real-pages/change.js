// Changes a saved real page the way a site's upgrade or a slow server does, as the page
// parses (before Inflow looks at it), and says where each tip's text truly is afterwards.
// Served by corpus.mjs and appended to the page as its last script; nothing of Inflow's is
// used here. The page keeps its address (so its tips are this page's tips); the change and
// the tips come in the script's data attributes: data-change=KIND and data-tips, a JSON
// list of {block, quote, nth}, where `block` indexes BLOCKS in document order on the
// unchanged page and `nth` is which occurrence of `quote` in that block's text the tip is on.
(() => {
  'use strict';
  const BLOCKS = 'p, li, h1, h2, h3, h4, h5, h6, td, th, dd, dt, blockquote, pre, figcaption';
  const script = document.currentScript;
  const change = script?.dataset.change ?? 'none';
  const tips = JSON.parse(script?.dataset.tips ?? '[]');
  const blocks = [...document.querySelectorAll(BLOCKS)];
  const tipBlocks = tips.map((tip) => blocks[tip.block]);
  const expected = tips.map((tip) => ({ quote: tip.quote, nth: tip.nth }));

  const paragraph = (text) => {
    const p = document.createElement('p');
    p.textContent = text;
    return p;
  };
  const NEWS = [
    'Editor’s note: this article was updated after publication to add a statement from the agency and to correct a date.',
    'Related coverage: what the ruling means for patients, for insurers and for the clinics that serve them, explained.',
    'Sign up for our weekly newsletter to get the most important stories of the week delivered to your inbox every Friday.',
  ];

  if (change === 'insert') {
    // Paragraphs inserted before the first, the middle and the last tip's block.
    const at = [0, Math.floor(tipBlocks.length / 2), tipBlocks.length - 1];
    [...new Set(at)].forEach((i, n) => tipBlocks[i]?.before(paragraph(NEWS[n % NEWS.length])));
  } else if (change === 'delete') {
    // One tip in three loses its block; so does a block without a tip.
    tipBlocks.forEach((block, i) => {
      if (i % 3 === 1) {
        block.remove();
        expected[i] = null;
      }
    });
    blocks.find((b) => b.isConnected && !tipBlocks.includes(b) && b.textContent.trim().length > 80)?.remove();
  } else if (change === 'reorder') {
    // Each tip's block moves to the top of its container, and the container's last block
    // to just after it: paragraphs in another order, every word unchanged.
    for (const block of tipBlocks) {
      const parent = block.parentElement;
      if (!parent) continue;
      parent.insertBefore(block, parent.firstChild);
      const last = [...parent.children].reverse().find((c) => c !== block && c.matches(BLOCKS));
      if (last) block.after(last);
    }
  } else if (change === 'edit') {
    // One tip in three gets a word of its quote replaced, one in three a word added.
    tipBlocks.forEach((block, i) => {
      if (i % 3 === 2) return;
      const quote = tips[i].quote;
      const words = quote.split(' ');
      if (words.length < 3) return;
      const w = 1 + (i % (words.length - 2));
      const edited = [...words];
      if (i % 3 === 0) edited[w] = edited[w].length > 4 ? 'revised' : 'new';
      else edited.splice(w, 0, 'now');
      const editedQuote = edited.join(' ');
      if (replaceInBlock(block, quote, tips[i].nth, editedQuote)) expected[i] = { quote: editedQuote, nth: tips[i].nth, edited: true };
    });
  } else if (change === 'late') {
    // The content arrives 500 ms after the page's own load.
    const saved = [...document.body.childNodes];
    document.body.replaceChildren();
    addEventListener('load', () =>
      setTimeout(() => {
        document.body.append(...saved);
        window.__inflowArrivedAt = performance.now();
        // When Inflow has painted every tip again, to the frame.
        const watch = () => {
          if ((CSS.highlights.get('inflow-tip')?.size ?? 0) >= tips.length) window.__inflowPlacedAt = performance.now();
          else if (performance.now() - window.__inflowArrivedAt < 5000) requestAnimationFrame(watch);
        };
        requestAnimationFrame(watch);
      }, 500),
    );
  }

  /** Replaces the `nth` occurrence of `quote` in the text node that holds it. */
  function replaceInBlock(block, quote, nth, replacement) {
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    let seen = 0;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      let at = node.data.indexOf(quote);
      while (at >= 0) {
        if (seen === nth) {
          node.data = node.data.slice(0, at) + replacement + node.data.slice(at + quote.length);
          return true;
        }
        seen += 1;
        at = node.data.indexOf(quote, at + 1);
      }
    }
    return false;
  }

  /** Offsets of text-node boundary points in the document's text, in document order. */
  function textOffsets() {
    const starts = new Map();
    let length = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      starts.set(node, length);
      length += node.data.length;
    }
    const at = (container, offset) => {
      if (starts.has(container)) return starts.get(container) + offset;
      // A point between elements: the first text node at or after it.
      const point = document.createRange();
      point.setStart(container, offset);
      for (const [node, start] of starts) if (point.comparePoint(node, 0) >= 0) return start;
      return length;
    };
    return at;
  }

  /** Where each tip's text is now ({start, end} in the document's text), null where its
   *  text is gone; and where Inflow's highlights are. */
  window.__inflowTruth = () => {
    const at = textOffsets();
    const truth = expected.map((want, i) => {
      const block = tipBlocks[i];
      if (!want || !block?.isConnected) return null;
      const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
      let seen = 0;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        let from = node.data.indexOf(want.quote);
        while (from >= 0) {
          if (seen === want.nth) return { start: at(node, from), end: at(node, from + want.quote.length), edited: Boolean(want.edited) };
          seen += 1;
          from = node.data.indexOf(want.quote, from + 1);
        }
      }
      return null;
    });
    const painted = [...(CSS.highlights.get('inflow-tip') ?? [])].map((r) => ({ start: at(r.startContainer, r.startOffset), end: at(r.endContainer, r.endOffset), text: r.toString() }));
    return { truth, painted };
  };
})();
