//! Exports and imports: each format against its golden file, hostile content inert, the
//! JSON-LD against the W3C model's rules (core/tests/schemas), export then import losing
//! nothing, Hypothesis files, and 10,000 tips with progress.
//!
//! `INFLOW_BLESS=1 cargo test -p inflow-core --test export` rewrites the golden files;
//! read the diff before committing it.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "in tests a failed expectation is the failure report")]

use std::collections::HashSet;
use std::path::PathBuf;

use inflow_core::curation::{Collection, Curation, CurationEvent, ReviewFlag, Status, Verification};
use inflow_core::export::{self, csv_field, markdown_text, render, Format, Selection, Sheet};
use inflow_core::import::import;
use inflow_core::model::Reply;
use inflow_core::{NewTip, Selector, Timestamp, Tip, TipId, Visibility};

const DAY: i64 = 86_400_000;
const GENERATED: Timestamp = Timestamp(1_795_000_000_000); // 2026-11-18

fn id(n: u8) -> TipId {
    TipId::new_v7(1_790_000_000_000 + u64::from(n) * 1000, [n; 10])
}

fn tip(n: u8, url: &str, note: &str, selectors: Vec<Selector>) -> Tip {
    NewTip {
        page_url: url.into(),
        page_title: "Riverside EMR: Orders".into(),
        note: note.into(),
        tags: vec!["orders".into()],
        visibility: Visibility::Team,
        selectors,
    }
    .into_tip(id(n), "Dana (charge RN)", Timestamp(1_790_000_000_000 + i64::from(n) * DAY))
    .expect("valid")
}

fn quote(exact: &str) -> Vec<Selector> {
    vec![
        Selector::TextQuote {
            exact: exact.into(),
            prefix: "Active orders ".into(),
            suffix: " PRN".into(),
            block: None,
        },
        Selector::TextPosition { start: 120, end: 120 + exact.encode_utf16().count() as u32 },
    ]
}

/// The team's tips: approved, proposed (pinned to a control), hostile, retired, private.
fn tips() -> Vec<Tip> {
    let mut approved = tip(
        1,
        "http://127.0.0.1:8700/patients/*/orders",
        "Order sets moved to Favourites after the upgrade.\nStar the set once; it stays.",
        quote("Metoprolol tartrate"),
    );
    approved.tags.push("after upgrade".into());
    approved.curation = Curation {
        status: Status::Approved,
        verified: Some(Verification {
            by: "Cory (educator)".into(),
            at: Timestamp(GENERATED.0 - 2 * DAY),
            verify_by: Timestamp(GENERATED.0 + 88 * DAY),
        }),
        title: "Find order sets under Favourites".into(),
        summary: "Since the March upgrade the order sets live under Favourites.".into(),
        needs_review: None,
        history: vec![CurationEvent {
            id: id(90),
            at: Timestamp(GENERATED.0 - 2 * DAY),
            by: "Cory (educator)".into(),
            what: "approved; verify again by 2027-02-14".into(),
        }],
    };
    approved.helpful = vec!["Priya".into(), "Sam (RN)".into()];
    approved
        .add_reply(Reply {
            id: id(91),
            author: "Sam (RN)".into(),
            created: Timestamp(GENERATED.0 - DAY),
            text: "Worked on 4 West too, thanks!".into(),
        })
        .expect("reply");

    let mut pinned = tip(
        2,
        "http://127.0.0.1:8700/patients/*/orders",
        "Use this button, not the old Sign menu.",
        vec![Selector::Css {
            value: "#sign-orders".into(),
            fallbacks: vec!["form.orders > button.primary".into()],
            tag: Some("button".into()),
            label: Some("Sign orders".into()),
            text: Some("Sign".into()),
            position: Some("body > main > form > button:nth-of-type(2)".into()),
        }],
    );
    pinned.curation.status = Status::Proposed;
    pinned.curation.needs_review = Some(ReviewFlag {
        since: Timestamp(GENERATED.0 - DAY),
        reason: "the element was not found on its own page".into(),
    });

    let hostile = tip(
        3,
        "http://127.0.0.1:8700/billing/claims/*",
        "<script>alert('x')</script> <img src=x onerror=alert(1)>\n=HYPERLINK(\"http://evil.example\",\"Fix claim\")\n# Not a heading\n1. not a list\n[click](javascript:alert(1)) **bold** `code` | pipe\n\u{202e}txt.exe\u{202c} & done",
        quote("=SUM(A1:A9)"),
    );
    let mut hostile = hostile;
    hostile.page_title = "Claims <b>queue</b>".into();
    hostile.tags = vec!["+cmd|' /C calc'!A0".into(), "billing".into()];

    let mut retired = tip(4, "http://127.0.0.1:8700/patients/*/orders", "The old Sign menu (gone).", quote("Heparin"));
    retired.curation.status = Status::Retired;
    let mut private = tip(5, "http://127.0.0.1:8700/patients/*/orders", "My own reminder.", quote("Apixaban"));
    private.visibility = Visibility::Private;
    vec![approved, pinned, hostile, retired, private]
}

fn collections() -> Vec<Collection> {
    vec![Collection {
        id: id(100),
        name: "Orders module after the March upgrade".into(),
        tips: vec![id(2), id(1)],
        updated: GENERATED,
        by: "Cory (educator)".into(),
        walkthrough: None,
    }]
}

fn sheet<'a>(tips: &'a [Tip], collections: &'a [Collection], selection: &Selection) -> Sheet<'a> {
    Sheet {
        title: selection.describe(collections),
        team: "Riverside demo: 4 West".into(),
        generated: GENERATED,
        tips: selection.pick(tips, collections),
        collections,
    }
}

fn rendered(format: Format, sheet: &Sheet<'_>) -> String {
    render(format, sheet, &mut |_, _| {})
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("INFLOW_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with INFLOW_BLESS=1 to write it", path.display()));
    assert!(expected == actual, "{name} differs from its golden file; if the change is meant, run with INFLOW_BLESS=1 and read the diff.\n--- actual ---\n{actual}");
}

#[test]
fn every_format_matches_its_golden_file() {
    let (tips, collections) = (tips(), collections());
    let everything = sheet(&tips, &collections, &Selection::Everything);
    for format in Format::ALL {
        golden(&format!("everything.{}", format.extension()), &rendered(format, &everything));
    }
}

#[test]
fn selections_take_the_right_tips_and_never_private_ones() {
    let (tips, collections) = (tips(), collections());
    let ids = |selection: Selection| selection.pick(&tips, &collections).iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(ids(Selection::Approved), vec![id(1)]);
    assert_eq!(ids(Selection::Everything), vec![id(1), id(2), id(3)], "not the retired one, not the private one");
    assert_eq!(ids(Selection::Collection { id: id(100) }), vec![id(2), id(1)], "the collection's own order");
    assert_eq!(ids(Selection::Filter { query: "tag:billing".into(), status: None }), vec![id(3)]);
    assert_eq!(ids(Selection::Filter { query: String::new(), status: Some(Status::Retired) }), vec![id(4)]);
    assert_eq!(
        ids(Selection::Filter { query: "apixaban".into(), status: None }),
        Vec::<TipId>::new(),
        "private tips stay out of every export"
    );
}

#[test]
fn hostile_content_comes_out_inert() {
    let (tips, collections) = (tips(), collections());
    let everything = sheet(&tips, &collections, &Selection::Everything);
    let html = rendered(Format::Html, &everything);
    assert!(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"), "no markup from user text");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(
        html.contains("Content-Security-Policy\" content=\"default-src 'none'"),
        "the sheet loads and runs nothing"
    );
    assert!(
        !html.contains("http-equiv=\"refresh\"") && !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external resources"
    );
    for format in [Format::Html, Format::Markdown, Format::Csv] {
        assert!(!rendered(format, &everything).contains('\u{202e}'), "{format:?}: no right-to-left override survives");
    }
    let markdown = rendered(Format::Markdown, &everything);
    assert!(
        markdown.contains("\\<script\\>")
            && markdown.contains("\\# Not a heading")
            && markdown.contains("1\\. not a list")
    );
    assert!(markdown.contains("\\[click\\](javascript:alert(1)) \\*\\*bold\\*\\* \\`code\\` \\| pipe"));
    let csv = rendered(Format::Csv, &everything);
    assert!(csv.contains(",'=SUM(A1:A9),"), "a formula in a quote stays text: {csv}");
    assert!(csv.contains(",'+cmd|' /C calc'!A0; billing,"), "a tag cannot start a formula either");
    assert_eq!(csv_field("-2+3"), "'-2+3");
    assert_eq!(csv_field("@SUM(1)"), "'@SUM(1)");
    assert_eq!(csv_field("say \"hi\", then go"), "\"say \"\"hi\"\", then go\"");
    assert_eq!(markdown_text("- item\n+ item\n> quote"), "\\- item  \n\\+ item  \n\\> quote");
    // Every CSV row has every column, however many commas and line breaks notes hold.
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.len() == 17), "{rows:?}");
    assert!(
        rows[3][9].starts_with("<script>") && rows[3][9].contains("\n1. not a list"),
        "the note reads back as written: {:?}",
        rows[3][9]
    );
}

/// RFC 4180, read back: what a spreadsheet would see.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let mut row = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

#[test]
fn json_ld_meets_the_w3c_model() {
    let (tips, collections) = (tips(), collections());
    let schema: serde_json::Value = serde_json::from_str(include_str!("schemas/web-annotation.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for selection in [Selection::Everything, Selection::Approved, Selection::Collection { id: id(100) }] {
        let document = export::json_ld(&sheet(&tips, &collections, &selection), &mut |_, _| {});
        let errors: Vec<String> =
            validator.iter_errors(&document).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{selection:?}: {errors:#?}");
    }
    // The schema is not a yes-man: an annotation without a target, a bad motivation and a
    // selector without its required field are each refused.
    let valid = export::json_ld(&sheet(&tips, &collections, &Selection::Everything), &mut |_, _| {});
    type Breakage = (&'static str, fn(&mut serde_json::Value));
    let breakages: [Breakage; 3] = [
        ("no target", |d| {
            d["first"]["items"][0].as_object_mut().expect("annotation").remove("target");
        }),
        ("unknown motivation", |d| d["first"]["items"][1]["motivation"] = "liking".into()),
        ("CssSelector without value", |d| {
            d["first"]["items"][2]["target"]["selector"][0].as_object_mut().expect("selector").remove("value");
        }),
    ];
    for (what, break_it) in breakages {
        let mut broken = valid.clone();
        break_it(&mut broken);
        assert!(!validator.is_valid(&broken), "{what} must be refused");
    }
}

#[test]
fn export_then_import_loses_nothing_and_a_second_import_skips_everything() {
    let (tips, collections) = (tips(), collections());
    let everything = sheet(&tips, &collections, &Selection::Everything);
    let document = rendered(Format::JsonLd, &everything);
    let report = import(&document, &HashSet::new(), "Importer", GENERATED).expect("imports");
    assert_eq!(report.skipped, vec![]);
    assert_eq!(report.replies, 1);
    let exported: Vec<Tip> = everything.tips.iter().map(|t| (*t).clone()).collect();
    assert_eq!(report.tips, exported, "every field of every tip, curation and replies included");
    assert_eq!(report.summary(), "Imported 3 tips and 1 reply from W3C Web Annotation.");
    let known: HashSet<TipId> = report.tips.iter().map(|t| t.id).collect();
    let again = import(&document, &known, "Importer", GENERATED).expect("imports");
    assert!(again.tips.is_empty());
    assert_eq!(again.skipped.len(), 4, "three tips, and the reply whose tip was skipped: {:?}", again.skipped);
    assert!(again.skipped[0].reason.contains("already in the team"));
}

#[test]
fn hypothesis_files_import_with_replies_and_say_what_they_skip() {
    let file = include_str!("golden/hypothesis-search.json");
    let report = import(file, &HashSet::new(), "Importer", GENERATED).expect("imports");
    assert_eq!(report.source, "Hypothesis");
    assert_eq!(report.tips.len(), 2, "{report:#?}");
    let first = &report.tips[0];
    assert_eq!(first.author, "Alice Nurse", "the display name wins over the account");
    assert_eq!(first.target.quote(), Some("Metoprolol tartrate"));
    assert_eq!(first.tags, vec!["orders", "upgrade"]);
    assert_eq!(first.page_title, "Orders - Riverside EMR");
    assert_eq!(first.created, "2026-03-02T14:05:06.123Z".parse().unwrap(), "microseconds and offsets read as UTC");
    assert_eq!(first.replies.len(), 1);
    assert_eq!(first.replies[0].author, "bob");
    assert_eq!(report.tips[1].author, "carol", "no display name: the account's name");
    let reasons: Vec<(&str, &str)> =
        report.skipped.iter().map(|s| (s.annotation.as_str(), s.reason.as_str())).collect();
    assert_eq!(
        reasons,
        vec![
            (
                "hPageNote01",
                "it has no text quote or CSS selector to anchor to (a page note or an unsupported selector)"
            ),
            ("hOrphanReply", "a reply to an annotation that is not imported from this file"),
        ]
    );
    // The client's export file holds the same annotations under `annotations`.
    let rows: serde_json::Value = serde_json::from_str(file).expect("json");
    let export_file = serde_json::json!({ "export_date": "2026-03-05T10:00:00Z", "export_userid": "acct:alice@hypothes.is", "annotations": rows["rows"] });
    assert_eq!(
        import(&export_file.to_string(), &HashSet::new(), "Importer", GENERATED).expect("imports").tips,
        report.tips
    );
    // Importing twice adds nothing.
    let known: HashSet<TipId> = report.tips.iter().map(|t| t.id).collect();
    assert!(import(file, &known, "Importer", GENERATED).expect("imports").tips.is_empty());
}

#[test]
fn other_tools_w3c_annotations_import() {
    let file = r#"{
      "@context": "http://www.w3.org/ns/anno.jsonld",
      "id": "http://example.org/anno38",
      "type": "Annotation",
      "motivation": "commenting",
      "creator": { "id": "http://example.org/user1", "type": "Person", "name": "A. Person" },
      "created": "2015-10-13T13:00:00Z",
      "body": [{ "type": "TextualBody", "value": "Check the allergy list first" }, { "type": "TextualBody", "purpose": "tagging", "value": "allergies" }],
      "target": { "source": "http://127.0.0.1:8700/patients/7/summary", "selector": { "type": "TextQuoteSelector", "exact": "Penicillin", "prefix": "Allergies: ", "suffix": " (rash)" } }
    }"#;
    let report = import(file, &HashSet::new(), "Importer", GENERATED).expect("imports");
    assert_eq!(report.skipped, vec![]);
    let tip = &report.tips[0];
    assert_eq!(
        (tip.author.as_str(), tip.note.as_str(), tip.tags.clone()),
        ("A. Person", "Check the allergy list first", vec!["allergies".to_owned()])
    );
    assert_eq!(tip.visibility, Visibility::Team);
    let bare = r#"{ "@context": "http://www.w3.org/ns/anno.jsonld", "id": "http://example.org/anno1", "type": "Annotation", "body": "http://example.org/post1", "target": "http://example.com/page1" }"#;
    let report = import(bare, &HashSet::new(), "Importer", GENERATED).expect("imports");
    assert_eq!(report.skipped.len(), 1, "a whole-page annotation has nothing to anchor to");
    assert!(import("{\"hello\": 1}", &HashSet::new(), "Importer", GENERATED)
        .unwrap_err()
        .to_string()
        .contains("no annotations Inflow knows"));
    assert!(import("<html>", &HashSet::new(), "Importer", GENERATED)
        .unwrap_err()
        .to_string()
        .starts_with("the file is not JSON"));
}

#[test]
fn ten_thousand_tips_export_in_every_format_with_progress() {
    let base = tips();
    let many: Vec<Tip> = (0..10_000u32)
        .map(|n| {
            let mut t = base[(n % 3) as usize].clone();
            t.id = TipId::new_v7(1_790_000_000_000 + u64::from(n), [(n % 251) as u8; 10]);
            t.note = format!("{} #{n}", t.note);
            t
        })
        .collect();
    let huge = {
        let mut t = base[0].clone();
        t.note = "Long note line. ".repeat(625); // 10,000 characters, the limit
        t
    };
    let mut all = many;
    all.push(huge);
    let sheet = Sheet {
        title: "Everything".into(),
        team: "4 West".into(),
        generated: GENERATED,
        tips: all.iter().collect(),
        collections: &[],
    };
    for format in Format::ALL {
        let mut reports = vec![];
        let out = render(format, &sheet, &mut |done, total| reports.push((done, total)));
        assert!(reports.len() >= 40, "{format:?}: progress every {} tips", export::PROGRESS_EVERY);
        assert!(reports.windows(2).all(|w| w[0].0 <= w[1].0), "{format:?}: progress only goes forward");
        assert_eq!(reports.last(), Some(&(10_001, 10_001)), "{format:?}: ends at all done");
        assert!(out.contains("Long note line. Long note line."), "{format:?}: the huge note is whole");
    }
    let document = render(Format::JsonLd, &sheet, &mut |_, _| {});
    let report = import(&document, &HashSet::new(), "Importer", GENERATED).expect("imports");
    assert_eq!(report.skipped, vec![], "every one of them comes back");
    assert_eq!(report.tips.len(), 10_001);
}

/// Regression (issue #11): an annotation created `9999-12-31T23:59:59.999-23:59` (the year
/// 10000 in UTC) was imported, and its time could not be read back: the team's pulls failed.
#[test]
fn an_annotation_dated_past_the_year_9999_is_skipped_with_its_reason() {
    let file = |created: &str| {
        format!(
            r#"{{ "@context": "http://www.w3.org/ns/anno.jsonld", "id": "http://example.org/anno-{created}", "type": "Annotation", "created": "{created}",
                 "body": {{ "type": "TextualBody", "value": "Check the allergy list first" }},
                 "target": {{ "source": "http://127.0.0.1:8700/patients/7/summary", "selector": {{ "type": "TextQuoteSelector", "exact": "Penicillin" }} }} }}"#
        )
    };
    let report = import(&file("9999-12-31T23:59:59.999-23:59"), &HashSet::new(), "Importer", GENERATED).expect("reads");
    assert!(report.tips.is_empty());
    assert!(report.skipped.iter().any(|s| s.reason.contains("outside the years 1970 to 9999")), "{:?}", report.skipped);
    let fine = import(&file("9999-12-31T23:59:59.999Z"), &HashSet::new(), "Importer", GENERATED).expect("reads");
    assert_eq!(fine.tips.len(), 1, "the last millisecond of 9999 is still a time");
    assert!(fine.tips[0].validate().is_ok());
}

/// Issue #11: imports that lost things without a word.
#[test]
fn an_import_says_what_it_did_not_read_and_adds_nothing_twice() {
    let annotation = |id: Option<&str>, extra: &str| {
        let id = id.map(|id| format!(r#""id": "{id}","#)).unwrap_or_default();
        format!(
            r#"{{ {id} "type": "Annotation", {extra}
                 "body": {{ "type": "TextualBody", "value": "Check the allergy list first" }},
                 "target": {{ "source": "http://127.0.0.1:8700/patients/7/summary", "selector": {{ "type": "TextQuoteSelector", "exact": "Penicillin" }} }} }}"#
        )
    };
    // Without `created` (and without an id), the same annotation gets the same id each time.
    let file = format!(
        r#"{{ "type": "AnnotationPage", "items": [{}, {}] }}"#,
        annotation(None, ""),
        annotation(Some("x:2"), "")
    );
    let first = import(&file, &HashSet::new(), "Importer", GENERATED).expect("reads");
    assert_eq!(first.tips.len(), 2);
    let known: HashSet<TipId> = first.tips.iter().map(|t| t.id).collect();
    let later = Timestamp(GENERATED.0 + DAY);
    let again = import(&file, &known, "Importer", later).expect("reads");
    assert!(again.tips.is_empty(), "a second import adds nothing: {:?}", again.tips);
    assert_eq!(again.skipped.len(), 2);

    // Pages the file only points to are said, and what the file holds is imported.
    let by_address = r#"{ "type": "AnnotationCollection", "total": 5, "first": "https://annotations.example/page/1" }"#;
    let report = import(by_address, &HashSet::new(), "Importer", GENERATED).expect("reads");
    assert_eq!((report.tips.len(), report.partly.len()), (0, 1), "{report:?}");
    assert!(report.partly[0].reason.contains("not read"), "{:?}", report.partly);
    assert!(report.summary().contains("1 read in part"), "{}", report.summary());
    let next_by_address = format!(
        r#"{{ "type": "AnnotationPage", "items": [{}], "next": "https://annotations.example/page/2" }}"#,
        annotation(Some("x:3"), "")
    );
    let report = import(&next_by_address, &HashSet::new(), "Importer", GENERATED).expect("reads");
    assert_eq!((report.tips.len(), report.partly.len()), (1, 1), "{report:?}");
    assert_eq!(report.partly[0].annotation, "https://annotations.example/page/2");

    // Curation: an unknown field leaves the rest; a title over its limit is left out; both said.
    let long_title = "t".repeat(inflow_core::model::MAX_TITLE_CHARS + 1);
    let curated = annotation(
        Some("x:4"),
        &format!(
            r#""inflow:curation": {{ "status": "approved", "summary": "Kept", "title": "{long_title}", "mood": "happy" }},"#
        ),
    );
    let report = import(&curated, &HashSet::new(), "Importer", GENERATED).expect("reads");
    assert_eq!(report.tips.len(), 1);
    let curation = &report.tips[0].curation;
    assert_eq!((curation.status, curation.summary.as_str(), curation.title.as_str()), (Status::Approved, "Kept", ""));
    let reasons: Vec<&str> = report.partly.iter().map(|p| p.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("mood")) && reasons.iter().any(|r| r.contains("title")), "{reasons:?}");

    // Ids from the file are printed with their control characters escaped.
    let hostile = annotation(Some("x:\\u001b[2J\\u001b[31mowned"), r#""created": "not a time at all 99999","#)
        .replace("\"Penicillin\"", "\"\"");
    let report = import(&hostile, &HashSet::new(), "Importer", GENERATED).expect("reads");
    let shown = format!("{:?}{:?}", report.skipped, report.partly);
    assert!(!report.skipped.is_empty() && !shown.contains('\u{1b}'), "{shown}");
    assert!(report.skipped[0].annotation.contains("\\u{1b}"), "{:?}", report.skipped);
}

#[test]
fn the_tip_sheet_says_each_note_once_and_names_screens_in_words() {
    let long = "Order the BMP from the Labs tab before the third dose. The lab closes at 18:00 and the night shift cannot add it afterwards.";
    let with_lines = "Use Favourites\nThe order set moved there in March.";
    let tips = vec![
        tip(1, "http://127.0.0.1:8700/patients/*/orders", long, quote("Vancomycin")),
        tip(2, "http://127.0.0.1:8700/patients/*/orders", with_lines, quote("Insulin")),
        tip(3, "http://127.0.0.1:8700/billing/claims?status=*", &"x".repeat(120), quote("Claim")),
    ];
    let sheet = sheet(&tips, &[], &Selection::Everything);
    for format in [Format::Html, Format::Markdown] {
        let out = rendered(format, &sheet);
        for once in [
            "Order the BMP from the Labs tab before the third dose.",
            "The lab closes at 18:00",
            "Use Favourites",
            "The order set moved there",
        ] {
            assert_eq!(out.matches(once).count(), 1, "{format:?} says \u{201c}{once}\u{201d} once:\n{out}");
        }
        assert!(
            !out.contains("/*") && !out.contains("=*") && !out.contains("\\*"),
            "{format:?} shows no raw pattern:\n{out}"
        );
        assert!(
            out.contains("127.0.0.1:8700 \u{203a} patients \u{203a} any record \u{203a} orders"),
            "{format:?}:\n{out}"
        );
        assert!(out.contains("billing \u{203a} claims \u{203a} status: any"), "{format:?}:\n{out}");
        // A note too long for a heading, with no sentence to cut at, is shown whole under its opening words.
        assert!(out.contains(&"x".repeat(120)), "{format:?}");
    }
}

#[test]
fn a_cmi5_package_holds_the_course_its_page_and_script_with_user_text_inert() {
    use inflow_core::cmi5::{self, CourseIds};
    let (mut tips, mut collections) = (tips(), collections());
    // A hostile collection name: it is text in the course structure and on the page.
    collections[0].name = "Orders </title><au id=\"x\"> & \u{202e}more\u{ffff}".into();
    collections[0].tips.push(id(3)); // the hostile tip, last
    tips[0].page_title = String::new();
    let selection = Selection::Collection { id: id(100) };
    let course = sheet(&tips, &collections, &selection);
    let ids = CourseIds::of_collection(id(100));
    let mut reported = Vec::new();
    let bytes =
        cmi5::package(&course, &ids, "/* the unit's script */", &mut |done, total| reported.push((done, total)))
            .expect("a package");
    assert_eq!(reported.last(), Some(&(3, 3)), "progress ends at every step");
    let again = cmi5::package(&course, &ids, "/* the unit's script */", &mut |_, _| {}).expect("a package");
    assert!(bytes == again, "the same export gives the same bytes");
    assert!(
        matches!(cmi5::package(&course, &ids, "  ", &mut |_, _| {}), Err(cmi5::PackageError::NoScript)),
        "no package without the unit's script"
    );

    // The zip, read back as an LMS would: stored entries, in this order.
    let entries = stored_zip_entries(&bytes);
    let names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["cmi5.xml", "index.html", "au.js"]);
    let structure = &entries[0].1;
    assert!(structure.contains("<title><langstring lang=\"en\">Orders &lt;/title&gt;&lt;au id=&quot;x&quot;&gt; &amp; more</langstring></title>"), "{structure}");
    assert_eq!(structure.matches("<au ").count(), 1, "one unit, whatever the name says");
    assert!(structure.contains(&format!("<course id=\"urn:inflow:course:{}\">", id(100))));
    assert!(structure.contains(&format!("<au id=\"urn:inflow:course:{}:steps\" moveOn=\"Completed\"", id(100))));
    assert_eq!(ids, CourseIds::of_collection(id(100)), "the same collection keeps its course ids");

    let page = &entries[1].1;
    let steps: Vec<&str> = page.match_indices("<p class=\"step-of\">").map(|(at, _)| &page[at + 19..at + 31]).collect();
    assert_eq!(steps, ["Step 1 of 3<", "Step 2 of 3<", "Step 3 of 3<"]);
    let order: Vec<usize> =
        [id(2), id(1), id(3)].iter().map(|t| page.find(&format!("id=\"tip-{t}\"")).expect("each step")).collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "the collection's order");
    assert!(
        !page.contains("<script>") && !page.contains("<img") && !page.contains('\u{202e}'),
        "no markup or bidi control from user text"
    );
    assert!(page.contains("<script src=\"au.js\" defer></script>"), "the only script is the package's own");
    assert!(page.contains("script-src 'self'") && page.contains("default-src 'none'"));
    assert!(
        page.contains("On the screen 127.0.0.1:8700 \u{203a} patients \u{203a} any record \u{203a} orders"),
        "a step's screen in words"
    );
    assert!(
        page.contains("On \u{201c}Riverside EMR: Orders\u{201d} (127.0.0.1:8700"),
        "with the page's title when it has one"
    );
    assert_eq!(entries[2].1, "/* the unit's script */");
    assert!(cmi5::file_name(&course).ends_with(&format!("-{}-cmi5.zip", GENERATED.day())));
}

/// The entries of a zip whose entries are all stored (no compression): each local header's
/// name and data, in order. Enough to read back what `cmi5::package` writes, with no zip
/// reader of its own that could share its writer's mistakes.
fn stored_zip_entries(bytes: &[u8]) -> Vec<(String, String)> {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let u32_at = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
    let mut entries = Vec::new();
    let mut at = 0;
    while u32_at(at) == 0x0403_4b50 {
        assert_eq!(u16_at(at + 8), 0, "stored, not compressed");
        let size = u32_at(at + 18);
        let (name_len, extra_len) = (u16_at(at + 26), u16_at(at + 28));
        let name = String::from_utf8(bytes[at + 30..at + 30 + name_len].to_vec()).expect("a UTF-8 name");
        let data_at = at + 30 + name_len + extra_len;
        entries.push((name, String::from_utf8(bytes[data_at..data_at + size].to_vec()).expect("UTF-8 text")));
        at = data_at + size;
    }
    assert_eq!(u32_at(at), 0x0201_4b50, "the central directory follows the entries");
    entries
}
