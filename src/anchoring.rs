//! `anchorQuotes`: the anchoring engine exported to JavaScript, for the benchmark and for
//! outside tools. It touches no browser global, so the package loads in node with
//! `initSync({ module: bytes })` as well as in the browser.

use inflow_core::anchor::anchor_all;
use inflow_core::{Anchor, PageText, Selector};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

/// One quote to place: the W3C TextQuoteSelector fields, and optionally the captured
/// TextPositionSelector offsets (UTF-16 code units of `text`).
#[derive(Deserialize)]
struct QuoteSelector {
    exact: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    suffix: String,
    start: Option<u32>,
    end: Option<u32>,
}

impl QuoteSelector {
    fn into_selectors(self) -> Vec<Selector> {
        let mut selectors =
            vec![Selector::TextQuote { exact: self.exact, prefix: self.prefix, suffix: self.suffix, block: None }];
        if let (Some(start), Some(end)) = (self.start, self.end) {
            selectors.push(Selector::TextPosition { start, end });
        }
        selectors
    }
}

/// Places every selector in `text` at once. Returns, in input order, `{start, end, score}`
/// (UTF-16 offsets into `text`) or `null` where no place is good enough.
#[wasm_bindgen(js_name = anchorQuotes)]
pub fn anchor_quotes(text: &str, selectors: JsValue) -> Result<JsValue, JsError> {
    let quotes: Vec<QuoteSelector> = serde_wasm_bindgen::from_value(selectors).map_err(|e| {
        JsError::new(&format!("selectors must be an array of {{exact, prefix, suffix, start?, end?}}: {e}"))
    })?;
    let selectors: Vec<Vec<Selector>> = quotes.into_iter().map(QuoteSelector::into_selectors).collect();
    let borrowed: Vec<&[Selector]> = selectors.iter().map(Vec::as_slice).collect();
    let anchors: Vec<Option<Anchor>> = anchor_all(&PageText::new(text), &borrowed);
    // JSON-compatible: an unplaced quote is `null`, not `undefined`.
    anchors.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}
