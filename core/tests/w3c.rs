//! The W3C Web Annotation Data Model's MUST rules, written from the specification
//! (<https://www.w3.org/TR/annotation-model/> §3, §4, §5; the same rules the W3C's
//! `web-annotation-tests` check), over Inflow's JSON-LD export of 1 tip and of 3,000, with
//! hostile addresses among them. Each rule names its section so a failure says which.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "in tests a failed expectation is the failure report")]

use inflow_core::export::{self, Selection, Sheet};
use inflow_core::model::Reply;
use inflow_core::{NewTip, Selector, Timestamp, Tip, TipId, Visibility};
use serde_json::Value;

const GENERATED: Timestamp = Timestamp(1_795_000_000_000);
const ANNO_CONTEXT: &str = "http://www.w3.org/ns/anno.jsonld";

/// An IRI (RFC 3987) as the model means it: a scheme, then no character an IRI may not
/// hold raw (spaces, controls, `<>"{}|\^` and the backtick), and every `%` an escape.
fn is_iri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else { return false };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let bytes = rest.as_bytes();
    let escapes_ok = bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b != b'%' || bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)));
    scheme_ok
        && !rest.is_empty()
        && escapes_ok
        && !rest.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

/// An `xsd:dateTime` with a timezone, as §3.3.1 asks of `created`, `modified` and `generated`.
fn is_date_time(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let zone =
        text.ends_with('Z') || text.get(text.len().saturating_sub(6)..).is_some_and(|z| z.starts_with(['+', '-']));
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && b.get(10) == Some(&b'T')
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
        && zone
}

fn has_type(value: &Value, name: &str) -> bool {
    match &value["type"] {
        Value::String(t) => t == name,
        Value::Array(ts) => ts.iter().any(|t| t == name),
        _ => false,
    }
}

fn one_or_many(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => vec![],
        one => vec![one],
    }
}

const MOTIVATIONS: [&str; 13] = [
    "assessing",
    "bookmarking",
    "classifying",
    "commenting",
    "describing",
    "editing",
    "highlighting",
    "identifying",
    "linking",
    "moderating",
    "questioning",
    "replying",
    "tagging",
];

/// Every MUST of §3 and §4 that applies to what Inflow writes, for one annotation.
fn annotation_musts(a: &Value, failures: &mut Vec<String>) {
    let id = a["id"].as_str().unwrap_or_default();
    let mut must = |ok: bool, rule: &str| {
        if !ok {
            failures.push(format!("{id}: {rule}"));
        }
    };
    must(a["id"].as_str().is_some_and(is_iri), "§3.1 an Annotation has exactly one id, an IRI");
    must(has_type(a, "Annotation"), "§3.1 an Annotation has the type Annotation");
    must(!a["target"].is_null(), "§3.1 an Annotation has at least one target");
    must(a.get("body").is_none() || a.get("bodyValue").is_none(), "§3.2.5 not both body and bodyValue");
    for key in ["created", "modified", "generated"] {
        if let Some(at) = a.get(key) {
            must(at.as_str().is_some_and(is_date_time), "§3.3.1 times are xsd:dateTime with a timezone");
        }
    }
    for motivation in one_or_many(&a["motivation"]) {
        must(motivation.as_str().is_some_and(|m| MOTIVATIONS.contains(&m)), "§3.3.5 motivations are the model's");
    }
    for creator in one_or_many(&a["creator"]) {
        must(creator.is_object() || creator.as_str().is_some_and(is_iri), "§3.3.2 a creator is an IRI or an Agent");
        if let Some(name) = creator.get("name") {
            must(name.is_string(), "§3.3.2 an Agent's name is a string");
        }
    }
    for body in one_or_many(&a["body"]) {
        match body {
            Value::String(iri) => must(is_iri(iri), "§3.2 a body given as a string is an IRI"),
            Value::Object(_) if has_type(body, "TextualBody") => {
                must(body["value"].is_string(), "§3.2.4 a TextualBody has exactly one value, a string");
                if let Some(purpose) = body.get("purpose") {
                    must(purpose.as_str().is_some_and(|p| MOTIVATIONS.contains(&p)), "§3.3.5 purposes are motivations");
                }
            }
            Value::Object(_) => must(body["id"].as_str().is_some_and(is_iri), "§3.2.1 an external body has an IRI"),
            _ => must(false, "§3.2 a body is an IRI or an object"),
        }
    }
    for target in one_or_many(&a["target"]) {
        match target {
            Value::String(iri) => must(is_iri(iri), "§3.2 a target given as a string is an IRI"),
            Value::Object(_) => {
                let source = target["source"].as_str();
                must(
                    source.is_some_and(is_iri) || target["id"].as_str().is_some_and(is_iri),
                    "§4 a Specific Resource has exactly one source, an IRI",
                );
                if let Some(source) = source {
                    must(
                        source.starts_with("http://") || source.starts_with("https://"),
                        "Inflow: a source is an absolute http(s) address",
                    );
                }
                for selector in one_or_many(&target["selector"]) {
                    selector_musts(selector, &mut must);
                }
            }
            _ => must(false, "§3.2 a target is an IRI or an object"),
        }
    }
}

/// §4.2's MUSTs for the selectors Inflow writes.
fn selector_musts(selector: &Value, must: &mut impl FnMut(bool, &str)) {
    must(selector["type"].is_string(), "§4.2 a selector has a type");
    if has_type(selector, "TextQuoteSelector") {
        must(selector["exact"].is_string(), "§4.2.4 a TextQuoteSelector has exactly one exact");
        for side in ["prefix", "suffix"] {
            if let Some(text) = selector.get(side) {
                must(text.is_string(), "§4.2.4 prefix and suffix are strings");
            }
        }
    } else if has_type(selector, "TextPositionSelector") {
        let start = selector["start"].as_u64();
        let end = selector["end"].as_u64();
        must(start.is_some() && end.is_some(), "§4.2.5 start and end are non-negative integers");
        must(start <= end, "§4.2.5 start is not after end");
    } else if has_type(selector, "CssSelector") {
        must(selector["value"].is_string(), "§4.2.2 a CssSelector has exactly one value");
    } else {
        must(false, "Inflow writes only quote, position and CSS selectors");
    }
}

/// §5.1 and §5.2: the collection, its pages, and every annotation on them.
fn collection_musts(document: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    let must = |ok: bool, rule: &str, failures: &mut Vec<String>| {
        if !ok {
            failures.push(format!("collection: {rule}"));
        }
    };
    let context_ok = match &document["@context"] {
        Value::String(c) => c == ANNO_CONTEXT,
        Value::Array(cs) => cs.first().is_some_and(|c| c == ANNO_CONTEXT),
        _ => false,
    };
    must(context_ok, "§5.1 the context is, or starts with, the annotation context", &mut failures);
    must(document["id"].as_str().is_some_and(is_iri), "§5.1 a collection has an IRI", &mut failures);
    must(has_type(document, "AnnotationCollection"), "§5.1 its type is AnnotationCollection", &mut failures);
    if let Some(label) = document.get("label") {
        must(label.is_string(), "§5.1 a label is a string", &mut failures);
    }
    let total = document["total"].as_u64();
    must(total.is_some(), "§5.1 total is a non-negative integer", &mut failures);
    must(
        total == Some(0) || document["first"].is_object() || document["first"].as_str().is_some_and(is_iri),
        "§5.1 a collection with annotations has a first page, an IRI or the page",
        &mut failures,
    );
    if let Some(last) = document.get("last") {
        must(last.as_str().is_some_and(is_iri), "§5.1 last is an IRI", &mut failures);
    }
    let mut page = &document["first"];
    let mut seen = 0;
    while page.is_object() {
        must(has_type(page, "AnnotationPage"), "§5.2 a page's type is AnnotationPage", &mut failures);
        must(page["id"].as_str().is_some_and(is_iri), "§5.2 a page has an IRI", &mut failures);
        must(page["items"].is_array(), "§5.2 a page has items", &mut failures);
        for link in ["next", "prev"] {
            if let Some(iri) = page.get(link) {
                must(iri.as_str().is_some_and(is_iri), "§5.2 next and prev are IRIs", &mut failures);
            }
        }
        if let Some(part_of) = page.get("partOf") {
            must(part_of == &document["id"], "§5.2 partOf names the collection", &mut failures);
        }
        if let Some(start) = page.get("startIndex") {
            must(start.as_u64() == Some(seen as u64), "§5.2 startIndex counts the items before", &mut failures);
        }
        let items = page["items"].as_array().cloned().unwrap_or_default();
        seen += items.len();
        for item in &items {
            annotation_musts(item, &mut failures);
        }
        page = &page["next"]; // an IRI (a string) ends the walk: its page is elsewhere
    }
    must(total == Some(seen as u64), "total counts every annotation", &mut failures);
    failures
}

/// Inflow's own fields survive a JSON-LD processor: each `inflow:` key is a compact IRI on
/// a prefix the context defines, and each one holding structure is a JSON literal.
fn inflow_terms_are_defined(document: &Value) -> Vec<String> {
    let context = &document["@context"][1];
    let mut failures = Vec::new();
    let prefix = context["inflow"].as_str().unwrap_or_default();
    if !(prefix.starts_with("urn:") || prefix.starts_with("https://")) || prefix.contains(".invalid") {
        failures.push(format!("the inflow: prefix {prefix:?} is not a namespace the project can own"));
    }
    fn walk(value: &Value, context: &Value, failures: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                for (key, inner) in fields {
                    if key.starts_with("inflow:") && (inner.is_object() || inner.is_array()) {
                        if context[key]["@type"] != "@json" {
                            failures.push(format!("{key} holds structure but is not a JSON literal term"));
                        }
                        continue; // a JSON literal's inside is kept whole, not read as terms
                    }
                    walk(inner, context, failures);
                }
            }
            Value::Array(items) => items.iter().for_each(|item| walk(item, context, failures)),
            _ => {}
        }
    }
    walk(document, context, &mut failures);
    failures.sort();
    failures.dedup();
    failures
}

fn tip(n: u32, url: &str) -> Tip {
    let mut tip = NewTip {
        page_url: url.into(),
        page_title: "Orders".into(),
        note: format!("Tip {n}: star the order set once"),
        tags: vec!["orders".into()],
        visibility: Visibility::Team,
        selectors: vec![
            Selector::TextQuote {
                exact: format!("Metoprolol {n}"),
                prefix: "Active ".into(),
                suffix: " PRN".into(),
                block: n.is_multiple_of(5).then(|| "td.drug < tr".into()),
            },
            Selector::TextPosition { start: 10, end: 22 },
        ],
    }
    .into_tip(TipId::new_v7(1_790_000_000_000 + u64::from(n), [(n % 251) as u8; 10]), "Dana", GENERATED)
    .expect("valid tip");
    if n.is_multiple_of(7) {
        tip.curation.title = "Order sets after the upgrade".into();
        tip.curation.status = inflow_core::curation::Status::Approved;
        tip.helpful = vec!["Sam".into()];
    }
    if n.is_multiple_of(11) {
        tip.add_reply(Reply {
            id: TipId::new_v7(1_791_000_000_000 + u64::from(n), [3; 10]),
            author: "Sam".into(),
            created: GENERATED,
            text: "Works on 5 East too".into(),
        })
        .expect("reply");
    }
    tip
}

/// Addresses a hostile or sloppy page could have: raw characters a URI may not hold.
const ADDRESSES: [&str; 4] = [
    "http://127.0.0.1:8700/patients/1/orders",
    "https://emr.example/search?q=a|b&f={x}",
    "http://emr.example/<script>alert(1)</script>",
    "https://nurse:secret@emr.example/p/100%/x",
];

#[test]
fn json_ld_exports_of_1_and_3000_tips_meet_every_must_of_the_model() {
    for count in [1u32, 3_000] {
        let mut tips: Vec<Tip> = (0..count).map(|n| tip(n, ADDRESSES[n as usize % ADDRESSES.len()])).collect();
        // A tip stored before addresses were written out as URIs keeps its raw source.
        if count > 1 {
            tips[1].target.source = "https://emr.example/search?q=a|b".into();
        }
        let sheet = Sheet {
            title: "Everything".into(),
            team: "4 West".into(),
            generated: GENERATED,
            tips: Selection::Everything.pick(&tips, &[]),
            collections: &[],
        };
        let document = export::json_ld(&sheet, &mut |_, _| {});
        let failures = collection_musts(&document);
        assert!(
            failures.is_empty(),
            "{count} tips: {} failures, first {:#?}",
            failures.len(),
            &failures[..failures.len().min(10)]
        );
        let terms = inflow_terms_are_defined(&document);
        assert!(terms.is_empty(), "{count} tips: {terms:#?}");
        assert!(!document.to_string().contains("secret"), "credentials never leave in an export");
    }
}

#[test]
fn the_rules_catch_what_they_are_for() {
    let tips = [tip(0, ADDRESSES[0])];
    let sheet = Sheet {
        title: "One".into(),
        team: "4 West".into(),
        generated: GENERATED,
        tips: tips.iter().collect(),
        collections: &[],
    };
    let valid = export::json_ld(&sheet, &mut |_, _| {});
    assert_eq!(collection_musts(&valid), Vec::<String>::new());
    type Breakage = (&'static str, fn(&mut Value));
    let breakages: [Breakage; 6] = [
        ("§3.1", |d| d["first"]["items"][0]["id"] = "not an iri".into()),
        ("§4 a Specific Resource", |d| d["first"]["items"][0]["target"]["source"] = "http://h/<script>".into()),
        ("§5.2 next and prev", |d| d["first"]["next"] = serde_json::json!({ "type": "AnnotationPage", "items": [] })),
        ("§3.3.1", |d| d["first"]["items"][0]["created"] = "yesterday".into()),
        ("§4.2.4", |d| d["first"]["items"][0]["target"]["selector"][0]["exact"] = Value::Null),
        ("total counts", |d| d["total"] = 7.into()),
    ];
    for (rule, break_it) in breakages {
        let mut broken = valid.clone();
        break_it(&mut broken);
        let failures = collection_musts(&broken);
        assert!(failures.iter().any(|f| f.contains(rule)), "{rule} must be caught: {failures:?}");
    }
    let mut untyped = valid.clone();
    untyped["first"]["items"][0]["inflow:curation"] = serde_json::json!({ "title": "x" });
    untyped["@context"][1].as_object_mut().expect("terms").remove("inflow:curation");
    assert_eq!(inflow_terms_are_defined(&untyped).len(), 1, "structure outside a JSON literal is caught");
}
