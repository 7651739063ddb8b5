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
    // Through JSON text both ways: one call across the boundary each way, where walking
    // the objects field by field costs more than the redaction of a short text.
    let options: Options = if options.is_undefined() || options.is_null() {
        Options::default()
    } else {
        let bad = |e: String| JsError::new(&format!("options must be {{ identifiers?: [{{ kind, value }}] }}: {e}"));
        let json = js_sys::JSON::stringify(&options).map_err(|_| bad("not JSON".into()))?;
        serde_json::from_str(&String::from(json)).map_err(|e| bad(e.to_string()))?
    };
    let extent = if options.cut { Extent::Cut } else { Extent::Whole };
    let redacted = redact::redact_keeping(text, &options.identifiers, &[], extent);
    let spans = redact::utf16_spans(text, &redacted.spans)
        .into_iter()
        .map(|(start, end, kind, certainty)| FoundSpan { start, end, kind, certainty })
        .collect();
    let json =
        serde_json::to_string(&Answer { text: redacted.text, spans }).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("the answer is not JSON"))
}
