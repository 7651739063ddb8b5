//! Import: a team's existing annotations as tips, from W3C Web Annotation JSON-LD
//! (Inflow's own export or another tool's) and from Hypothesis (its API's search results
//! or its client's export file). Every annotation either becomes a tip or is listed as
//! skipped with the reason; nothing is dropped silently.
//!
//! Ids are kept when they are Inflow's and derived from the source's id otherwise, so
//! importing the same file twice skips every annotation the second time.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::curation::{Curation, MAX_HISTORY, MAX_SUMMARY_CHARS};
use crate::id::TipId;
use crate::model::{NewTip, Reply, Selector, Tip, Visibility, MAX_AUTHOR_CHARS, MAX_TITLE_CHARS};
use crate::time::Timestamp;

/// The most annotations one import reads.
pub const MAX_IMPORT: usize = 50_000;

/// What an import made of a file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Where the annotations came from, in words ("W3C Web Annotation", "Hypothesis").
    pub source: String,
    /// The new tips, replies attached.
    pub tips: Vec<Tip>,
    /// Replies attached to the new tips.
    pub replies: usize,
    pub skipped: Vec<Skipped>,
    /// What was read only in part: a part of an imported annotation left out (its
    /// curation, say), or pages of the file that are not in it.
    #[serde(default)]
    pub partly: Vec<Skipped>,
    /// Patient identifiers replaced by placeholders in the imported tips.
    #[serde(default)]
    pub redacted: usize,
}

/// An annotation left out, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The annotation's id in the file (or its position when it has none).
    pub annotation: String,
    pub reason: String,
}

impl ImportReport {
    /// One line for people: "Imported 12 tips and 3 replies; skipped 2 (see below)."
    pub fn summary(&self) -> String {
        let mut line = format!(
            "Imported {} tip{} and {} repl{} from {}",
            self.tips.len(),
            plural(self.tips.len()),
            self.replies,
            if self.replies == 1 { "y" } else { "ies" },
            self.source
        );
        if !self.skipped.is_empty() {
            line.push_str(&format!("; skipped {}", self.skipped.len()));
        }
        if !self.partly.is_empty() {
            line.push_str(&format!("; {} read in part", self.partly.len()));
        }
        if self.redacted > 0 {
            line.push_str(&format!("; {} patient identifier{} replaced", self.redacted, plural(self.redacted)));
        }
        line.push('.');
        line
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Why a file cannot be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("the file holds no annotations Inflow knows: expected W3C Web Annotation JSON-LD (an Annotation, AnnotationPage or AnnotationCollection) or a Hypothesis export or API result")]
    Unrecognised,
    #[error("the file holds more than {MAX_IMPORT} annotations; split it")]
    TooMany,
}

/// An annotation read from either format, before it becomes a tip.
struct Incoming {
    /// Its id in the file, or its position when it has none (for reports).
    source_id: String,
    /// What its tip id is derived from: the file's id, or, without one, the annotation's
    /// own JSON, so the same annotation gets the same id on every import of any file.
    id_key: String,
    /// What of it could not be read, said in the report.
    partly: Vec<String>,
    created: Option<Timestamp>,
    modified: Option<Timestamp>,
    author: Option<String>,
    /// The annotation this one replies to (its source id), if it is a reply.
    reply_to: Option<String>,
    note: String,
    tags: Vec<String>,
    page_url: Option<String>,
    page_title: String,
    selectors: Vec<Selector>,
    curation: Option<Curation>,
    helpful: Vec<String>,
}

/// Reads `text` and makes tips of its annotations. `existing` holds the ids already in the
/// team (those are skipped as duplicates); `importer` authors annotations that name no
/// one; `now` dates those that carry no time.
pub fn import(
    text: &str,
    existing: &HashSet<TipId>,
    importer: &str,
    now: Timestamp,
) -> Result<ImportReport, ImportError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
    let (source, annotations, unread) = read(&value)?;
    if annotations.len() > MAX_IMPORT {
        return Err(ImportError::TooMany);
    }
    let mut report = ImportReport { source: source.to_owned(), partly: unread, ..ImportReport::default() };
    let mut ids: HashMap<String, TipId> = HashMap::new();
    let mut replies: Vec<Incoming> = Vec::new();
    let mut seen: HashSet<TipId> = HashSet::new();
    for incoming in annotations {
        if incoming.reply_to.is_some() {
            replies.push(incoming);
            continue;
        }
        let skip = |reason: &str| Skipped { annotation: incoming.source_id.clone(), reason: reason.to_owned() };
        let out_of_range = |t: Option<Timestamp>| t.is_some_and(|t| !t.in_range());
        if out_of_range(incoming.created) || out_of_range(incoming.modified) {
            report.skipped.push(skip("its created or modified time is outside the years 1970 to 9999"));
            continue;
        }
        let created = incoming.created.unwrap_or(now);
        // Without a creation time the id must not depend on the import's own time, or the
        // same file imported twice would add everything twice.
        let id = tip_id(&incoming.id_key, incoming.created.unwrap_or(Timestamp(0)));
        if existing.contains(&id) {
            report.skipped.push(skip("already in the team (imported before)"));
            continue;
        }
        if !seen.insert(id) {
            report.skipped.push(skip("appears twice in the file"));
            continue;
        }
        let Some(page_url) = incoming.page_url.clone() else {
            report.skipped.push(skip("it names no page address to attach to"));
            continue;
        };
        if incoming.selectors.is_empty() {
            report.skipped.push(skip(
                "it has no text quote or CSS selector to anchor to (a page note or an unsupported selector)",
            ));
            continue;
        }
        let author = incoming.author.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| importer.to_owned());
        let author: String = author.trim().chars().take(MAX_AUTHOR_CHARS).collect();
        let new = NewTip {
            page_url,
            page_title: incoming.page_title.clone(),
            note: incoming.note.clone(),
            tags: incoming.tags.clone(),
            visibility: Visibility::Team,
            selectors: incoming.selectors.clone(),
        };
        match new.into_tip(id, &author, created) {
            Ok(mut tip) => {
                tip.modified = incoming.modified.unwrap_or(created).max(created);
                tip.curation = incoming.curation.clone().unwrap_or_default();
                tip.helpful = incoming.helpful.clone();
                tip.helpful.sort();
                tip.helpful.dedup();
                ids.insert(incoming.id_key.clone(), id);
                report.partly.extend(incoming.partly.iter().map(|reason| skip(reason)));
                report.tips.push(tip);
            }
            Err(e) => report.skipped.push(skip(&e.to_string())),
        }
    }
    for reply in replies {
        let skip = |reason: &str| Skipped { annotation: reply.source_id.clone(), reason: reason.to_owned() };
        let parent = reply.reply_to.as_ref().and_then(|p| ids.get(p));
        let Some(tip) = parent.and_then(|id| report.tips.iter_mut().find(|t| t.id == *id)) else {
            report.skipped.push(skip("a reply to an annotation that is not imported from this file"));
            continue;
        };
        let created = reply.created.unwrap_or(now);
        let author = reply.author.clone().filter(|a| !a.trim().is_empty()).unwrap_or_else(|| importer.to_owned());
        let reply_id = tip_id(&reply.id_key, reply.created.unwrap_or(Timestamp(0)));
        let text = reply.note.trim().to_owned();
        match tip.add_reply(Reply {
            id: reply_id,
            author: author.trim().chars().take(MAX_AUTHOR_CHARS).collect(),
            created,
            text,
        }) {
            Ok(()) => report.replies += 1,
            Err(e) => report.skipped.push(skip(&e.to_string())),
        }
    }
    // Imported tips are the team's: they carry no identifier, as a shared capture does not.
    let mut shared = Vec::with_capacity(report.tips.len());
    for mut tip in std::mem::take(&mut report.tips) {
        match crate::sharing::share(&mut tip, &[], &[]) {
            Ok(redactions) => {
                report.redacted += redactions.count;
                shared.push(tip);
            }
            Err(e) => report.skipped.push(Skipped { annotation: tip.id.to_string(), reason: e.to_string() }),
        }
    }
    report.tips = shared;
    Ok(report)
}

/// The annotations of a file, whatever its shape, what made them, and the pages it points
/// to but does not hold (a `first` or `next` given as an address).
fn read(value: &Value) -> Result<(&'static str, Vec<Incoming>, Vec<Skipped>), ImportError> {
    let type_is = |v: &Value, name: &str| match v.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == name),
        _ => false,
    };
    let is_hypothesis = |v: &Value| v.get("uri").is_some() && v.get("user").is_some();
    let w3c = |items: Vec<&Value>| items.into_iter().enumerate().map(|(n, v)| w3c_annotation(v, n)).collect::<Vec<_>>();
    if type_is(value, "AnnotationCollection") {
        let (items, unread) = pages(value.get("first"));
        return Ok(("W3C Web Annotation", w3c(items), unread));
    }
    if type_is(value, "AnnotationPage") {
        let (items, unread) = pages(Some(value));
        return Ok(("W3C Web Annotation", w3c(items), unread));
    }
    if type_is(value, "Annotation") {
        return Ok(("W3C Web Annotation", w3c(vec![value]), Vec::new()));
    }
    // Hypothesis: the API's search answer has `rows`; the client's export, `annotations`.
    let list = value.get("rows").or_else(|| value.get("annotations")).unwrap_or(value);
    let Some(items) = list.as_array() else { return Err(ImportError::Unrecognised) };
    if items.iter().any(is_hypothesis) {
        let annotations = items.iter().enumerate().map(|(n, v)| hypothesis_annotation(v, n)).collect();
        return Ok(("Hypothesis", annotations, Vec::new()));
    }
    if items.iter().any(|v| type_is(v, "Annotation")) {
        return Ok(("W3C Web Annotation", w3c(items.iter().collect()), Vec::new()));
    }
    if items.is_empty() {
        return Ok(("an empty list", Vec::new(), Vec::new()));
    }
    Err(ImportError::Unrecognised)
}

/// The items of a chain of pages from `first`, and the pages named by address only.
fn pages(first: Option<&Value>) -> (Vec<&Value>, Vec<Skipped>) {
    let (mut items, mut unread) = (Vec::new(), Vec::new());
    let mut page = first;
    while let Some(p) = page {
        match p {
            Value::Object(_) => {
                items.extend(p.get("items").and_then(Value::as_array).into_iter().flatten());
                page = p.get("next");
            }
            Value::String(address) => {
                unread.push(Skipped {
                    annotation: printable(address),
                    reason: "a page of annotations this file points to but does not hold, so it was not read; \
                             save that page as a file and import it too"
                        .to_owned(),
                });
                page = None;
            }
            _ => page = None,
        }
    }
    (items, unread)
}

/// Text from a file made safe to print in a report or a terminal: control characters (an
/// escape sequence could rewrite what the terminal shows) are written as `\u{1b}`.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// The file's id of an annotation, or, without one, its own JSON (see [`Incoming::id_key`]).
fn id_key(value: &Value) -> String {
    text(value.get("id")).unwrap_or_else(|| value.to_string())
}

/// Inflow's curation as exported, read field by field: a field this version does not know
/// is left out and said so, as is a curator's title or summary over its limit; the rest
/// is kept.
fn curation(value: Option<&Value>, partly: &mut Vec<String>) -> Option<Curation> {
    const KNOWN: [&str; 6] = ["status", "verified", "title", "summary", "needsReview", "history"];
    let Value::Object(fields) = value? else {
        partly.push("imported without its curation: it is not an object".to_owned());
        return None;
    };
    let unknown: Vec<String> = fields.keys().filter(|k| !KNOWN.contains(&k.as_str())).map(|k| printable(k)).collect();
    if !unknown.is_empty() {
        partly.push(format!(
            "imported without these curation fields, which Inflow does not know: {}",
            unknown.join(", ")
        ));
    }
    let known: serde_json::Map<String, Value> =
        fields.iter().filter(|(k, _)| KNOWN.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut curation: Curation = match serde_json::from_value(Value::Object(known)) {
        Ok(curation) => curation,
        Err(e) => {
            partly
                .push(format!("imported without its curation, which could not be read: {}", printable(&e.to_string())));
            return None;
        }
    };
    if curation.title.chars().count() > MAX_TITLE_CHARS {
        partly.push(format!("imported without its curator's title: it is longer than {MAX_TITLE_CHARS} characters"));
        curation.title.clear();
    }
    if curation.summary.chars().count() > MAX_SUMMARY_CHARS {
        partly
            .push(format!("imported without its curator's summary: it is longer than {MAX_SUMMARY_CHARS} characters"));
        curation.summary.clear();
    }
    if curation.history.len() > MAX_HISTORY {
        partly.push(format!("imported with the last {MAX_HISTORY} of its {} curation steps", curation.history.len()));
        curation.history.drain(..curation.history.len() - MAX_HISTORY);
    }
    Some(curation)
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

fn one_or_many(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(one) => vec![one],
    }
}

fn w3c_annotation(value: &Value, position: usize) -> Incoming {
    let source_id = printable(&text(value.get("id")).unwrap_or_else(|| format!("annotation {}", position + 1)));
    let mut partly = Vec::new();
    let curation = curation(value.get("inflow:curation"), &mut partly);
    let creator = one_or_many(value.get("creator")).into_iter().next().and_then(|c| match c {
        Value::String(iri) => Some(iri.rsplit(['/', ':']).next().unwrap_or(iri).to_owned()),
        other => text(other.get("name")).or_else(|| text(other.get("nickname"))),
    });
    let motivations: Vec<&str> = one_or_many(value.get("motivation")).into_iter().filter_map(Value::as_str).collect();
    let mut note = Vec::new();
    let mut tags = Vec::new();
    if let Some(body) = text(value.get("bodyValue")) {
        note.push(body);
    }
    for body in one_or_many(value.get("body")) {
        let Some(body_text) = text(body.get("value")) else { continue };
        let purposes: Vec<&str> = one_or_many(body.get("purpose")).into_iter().filter_map(Value::as_str).collect();
        if purposes.contains(&"tagging") || (purposes.is_empty() && motivations == ["tagging"]) {
            tags.push(body_text);
        } else {
            note.push(body_text);
        }
    }
    let targets = one_or_many(value.get("target"));
    let reply_to = motivations
        .contains(&"replying")
        .then(|| targets.first().and_then(|t| t.as_str().map(str::to_owned).or_else(|| text(t.get("source")))))
        .flatten();
    let target = targets.iter().find(|t| t.get("selector").is_some()).or(targets.first());
    let page_url = target.and_then(|t| t.as_str().map(str::to_owned).or_else(|| text(t.get("source"))));
    let selectors =
        target.map(|t| one_or_many(t.get("selector")).into_iter().filter_map(selector).collect()).unwrap_or_default();
    Incoming {
        source_id,
        id_key: id_key(value),
        partly,
        created: time(value.get("created")),
        modified: time(value.get("modified")),
        author: creator,
        reply_to,
        note: note.join("\n\n"),
        tags,
        page_url,
        page_title: text(value.get("inflow:pageTitle")).unwrap_or_default(),
        selectors,
        curation,
        helpful: value.get("inflow:helpful").and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default(),
    }
}

fn hypothesis_annotation(value: &Value, position: usize) -> Incoming {
    let source_id = printable(&text(value.get("id")).unwrap_or_else(|| format!("annotation {}", position + 1)));
    // `acct:alice@hypothes.is` is Alice; a display name, when the API gives one, is better.
    let user =
        text(value.get("user")).map(|u| u.trim_start_matches("acct:").split('@').next().unwrap_or_default().to_owned());
    let author =
        value.get("user_info").and_then(|i| text(i.get("display_name"))).filter(|n| !n.trim().is_empty()).or(user);
    let target = one_or_many(value.get("target")).into_iter().next();
    let selectors =
        target.map(|t| one_or_many(t.get("selector")).into_iter().filter_map(selector).collect()).unwrap_or_default();
    let reply_to = one_or_many(value.get("references")).into_iter().next().and_then(Value::as_str).map(str::to_owned);
    let title = value
        .get("document")
        .and_then(|d| one_or_many(d.get("title")).into_iter().next().and_then(Value::as_str).map(str::to_owned));
    Incoming {
        source_id,
        id_key: id_key(value),
        partly: Vec::new(),
        created: time(value.get("created")),
        modified: time(value.get("updated")),
        author,
        reply_to,
        note: text(value.get("text")).unwrap_or_default(),
        tags: one_or_many(value.get("tags")).into_iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        page_url: text(value.get("uri")).or_else(|| target.and_then(|t| text(t.get("source")))),
        page_title: title.unwrap_or_default(),
        selectors,
        curation: None,
        helpful: Vec::new(),
    }
}

/// A selector Inflow can anchor with; others (ranges, XPath, fragments) are left out.
fn selector(value: &Value) -> Option<Selector> {
    match value.get("type")?.as_str()? {
        "TextQuoteSelector" => Some(Selector::TextQuote {
            exact: text(value.get("exact"))?,
            prefix: text(value.get("prefix")).unwrap_or_default(),
            suffix: text(value.get("suffix")).unwrap_or_default(),
            block: text(value.get("inflow:block")),
        }),
        "TextPositionSelector" => {
            let number = |name| value.get(name).and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok());
            Some(Selector::TextPosition { start: number("start")?, end: number("end")? })
        }
        "CssSelector" => Some(Selector::Css {
            value: text(value.get("value"))?,
            fallbacks: value
                .get("inflow:fallbacks")
                .and_then(|f| serde_json::from_value(f.clone()).ok())
                .unwrap_or_default(),
            tag: text(value.get("inflow:tag")),
            label: text(value.get("inflow:label")),
            text: text(value.get("inflow:text")),
            position: text(value.get("inflow:position")),
        }),
        _ => None,
    }
}

/// A time in any RFC 3339 form (offsets and microseconds, as Hypothesis writes them).
fn time(value: Option<&Value>) -> Option<Timestamp> {
    let raw = value?.as_str()?.trim();
    if let Ok(at) = raw.parse::<Timestamp>() {
        return Some(at);
    }
    // `2016-09-20T13:01:23.456789+00:00`: split the offset off, read the rest as UTC.
    let (local, sign, offset) = match raw.get(19..).and_then(|rest| rest.rfind(['+', '-']).map(|i| i + 19)) {
        Some(i) => (&raw[..i], if raw.as_bytes()[i] == b'-' { -1 } else { 1 }, &raw[i + 1..]),
        None => (raw.trim_end_matches('Z'), 1, "00:00"),
    };
    let (hours, minutes) = offset.split_once(':').unwrap_or((offset.get(..2)?, offset.get(2..).unwrap_or("00")));
    let offset_ms = (hours.parse::<i64>().ok()? * 60 + minutes.parse::<i64>().ok()?) * 60_000 * sign;
    let utc: Timestamp = format!("{local}Z").parse().ok()?;
    Some(Timestamp(utc.0 - offset_ms))
}

/// Inflow's own ids come back as they were; any other id becomes a UUIDv7 made of the
/// annotation's time and a hash of its id, the same on every import of the same file.
fn tip_id(source_id: &str, created: Timestamp) -> TipId {
    if let Some(id) = source_id.strip_prefix("urn:uuid:").and_then(|u| u.parse::<TipId>().ok()) {
        return id;
    }
    derive_id(source_id, created)
}

/// A UUIDv7 made of `created` and a hash of `key`: the same key and time give the same id.
pub fn derive_id(key: &str, created: Timestamp) -> TipId {
    let hash = |seed: u64| key.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let (a, b) = (hash(0xcbf2_9ce4_8422_2325), hash(0x8422_2325_cbf2_9ce4));
    let mut random = [0u8; 10];
    random[..8].copy_from_slice(&a.to_be_bytes());
    random[8..].copy_from_slice(&b.to_be_bytes()[..2]);
    TipId::new_v7(created.unix_ms().max(0) as u64, random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_offsets_and_microseconds_read_as_utc() {
        let at = |s: &str| time(Some(&Value::String(s.into())));
        assert_eq!(at("2016-09-20T13:01:23.456789+00:00"), at("2016-09-20T13:01:23.456Z"));
        assert_eq!(at("2016-09-20T15:01:23+02:00"), at("2016-09-20T13:01:23Z"));
        assert_eq!(at("2016-09-20T08:01:23-05:00"), at("2016-09-20T13:01:23Z"));
        assert_eq!(at("yesterday"), None);
    }

    #[test]
    fn a_foreign_id_derives_the_same_tip_id_every_time() {
        let created = Timestamp(1_700_000_000_000);
        assert_eq!(tip_id("Yc9tKpBbEe6aQw", created), tip_id("Yc9tKpBbEe6aQw", created));
        assert_ne!(tip_id("Yc9tKpBbEe6aQw", created), tip_id("Yc9tKpBbEe6aQx", created));
        let ours = TipId::new_v7(5, [7; 10]);
        assert_eq!(tip_id(&format!("urn:uuid:{ours}"), created), ours);
    }
}
