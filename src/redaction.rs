//! `redactText`: core's redactor exported to JavaScript, for the benchmark and for outside
//! tools. Like `anchorQuotes` it touches no browser global, so the package loads in node
//! with `initSync({ module: bytes })` as well as in the browser.

use inflow_core::redact::{self, Certainty, Extent, Kind, PageIdentifier};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

#[derive(Deserialize, Default)]
struct Options {
    #[serde(default)]
    identifiers: Vec<PageIdentifier>,
    /// The text is a quote's context, cut at a fixed length: pieces of page values at its
    /// ends count.
    #[serde(default)]
    cut: bool,
}

#[derive(Serialize)]
struct FoundSpan {
    start: u32,
    end: u32,
    kind: Kind,
    certainty: Certainty,
}

#[derive(Serialize)]
struct Answer {
    text: String,
    spans: Vec<FoundSpan>,
}

/// Redacts `text`: `{ text, spans: [{ start, end, kind, certainty }] }`, spans in UTF-16
/// code units of the input. `options.identifiers` are the page's own values,
/// `[{ kind: "name" | "mrn" | "date" | …, value }]`; `options.cut`: the text is a quote's
/// context, cut at a fixed length, so pieces of those values at its ends count.
#[wasm_bindgen(js_name = redactText)]
pub fn redact_text(text: &str, options: JsValue) -> Result<JsValue, JsError> {
    let options: Options = if options.is_undefined() || options.is_null() {
        Options::default()
    } else {
        serde_wasm_bindgen::from_value(options)
            .map_err(|e| JsError::new(&format!("options must be {{ identifiers?: [{{ kind, value }}] }}: {e}")))?
    };
    let extent = if options.cut { Extent::Cut } else { Extent::Whole };
    let redacted = redact::redact_keeping(text, &options.identifiers, &[], extent);
    let spans = redact::utf16_spans(text, &redacted.spans)
        .into_iter()
        .map(|(start, end, kind, certainty)| FoundSpan { start, end, kind, certainty })
        .collect();
    Answer { text: redacted.text, spans }
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}
