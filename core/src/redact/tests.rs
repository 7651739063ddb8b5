//! The redactor on the issue's own examples, on patterns and names, on what must stay, and as a fixed point.

use super::*;

fn banner() -> Vec<PageIdentifier> {
    vec![
        PageIdentifier { kind: Kind::Name, value: "Jane Doe".into() },
        PageIdentifier { kind: Kind::Mrn, value: "2024-004817".into() },
        PageIdentifier { kind: Kind::Date, value: "1951-03-14".into() },
        PageIdentifier { kind: Kind::Phone, value: "(555) 201-7788".into() },
        PageIdentifier { kind: Kind::Address, value: "18 Alder Court, Riverside".into() },
    ]
}

fn text_of(text: &str, page: &[PageIdentifier]) -> String {
    redact(text, page).text
}

/// As a quote's context is redacted: cut at its ends, where a piece of a value may stand.
fn context_of(text: &str, page: &[PageIdentifier]) -> String {
    redact_keeping(text, page, &[], Extent::Cut).text
}

#[test]
fn the_issues_tip_on_bed_12_keeps_no_identifier_in_its_context_or_title() {
    let page = banner();
    assert_eq!(context_of("-004817 DOB 1951-03-14 Location ", &page), "[MRN] DOB [date] Location ");
    assert_eq!(context_of(" Attending Dr. A. Okafor Allergi", &page), " Attending Dr. [name] Allergi");
    assert_eq!(
        text_of("Jane Doe \u{2014} Orders \u{2014} Riverside General EMR", &page),
        "[name] \u{2014} Orders \u{2014} Riverside General EMR"
    );
    // The same banner with no page values: the title's name is still found by the lists.
    assert_eq!(
        text_of("Jane Doe \u{2014} Orders \u{2014} Riverside General EMR", &[]),
        "[name] \u{2014} Orders \u{2014} Riverside General EMR"
    );
}

#[test]
fn page_values_are_found_in_their_obvious_variants() {
    let page = banner();
    for (input, expected) in [
        ("Ms. Doe prefers mornings", "Ms. [name] prefers mornings"),
        ("ask Jane about it", "ask [name] about it"),
        ("J. Doe and DOE, JANE", "[name] and [name]"),
        ("born 03/14/1951", "born [date]"),
        ("b. March 14, 1951", "b. [date]"),
        ("14 Mar 1951", "[date]"),
        ("MRN 2024004817 on file", "MRN [MRN] on file"),
        ("call 555-201-7788", "call [phone]"),
        ("lives at 18 Alder Court", "lives at [address]"),
    ] {
        assert_eq!(text_of(input, &page), expected, "{input}");
    }
    // A context cut at 32 characters may begin or end inside a value; a whole text may not.
    for (input, expected) in [
        ("seen by Jane D", "seen by [name]"),
        ("ne Doe starts mid-word", "[name] starts mid-word"),
        ("e Doe, cut", "[name], cut"),
        ("MRN 2024-00", "MRN [MRN]"),
        ("14 Location 4 West", "[date] Location 4 West"),
    ] {
        assert_eq!(context_of(input, &page), expected, "{input}");
    }
    assert_eq!(text_of("Braden score 14.", &page), "Braden score 14.", "a whole text ending in a number");
    // Page values are sure: the author cannot undo them.
    let spans = find("Jane Doe", &page);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].certainty, Certainty::Page);
}

#[test]
fn identifiers_are_found_by_their_shape_or_label() {
    for (input, expected) in [
        ("mail jdoe@example.org today", "mail [email] today"),
        ("SSN 123-45-6789", "SSN [SSN]"),
        ("ss# is 123-45-6789.", "ss# is [SSN]."),
        ("Phone: (555) 123-4567", "Phone: [phone]"),
        ("fax 555.123.4567", "fax [phone]"),
        ("cell +1 555 123 4567", "cell [phone]"),
        ("Tel 555-0142", "Tel [phone]"),
        ("from 10.2.33.104 only", "from [IP] only"),
        ("MRN: 00482913", "MRN: [MRN]"),
        ("MR# A1234567", "MR# [MRN]"),
        ("Acct No. 7734-221", "Acct No. [account]"),
        ("DEA number AB1234563", "DEA number [licence]"),
        ("Serial No: SN-88213-X", "Serial No: [device]"),
        ("DOB: 3/14/51", "DOB: [date]"),
        ("Date of birth March 14, 1951", "Date of birth [date]"),
        ("admitted 2026-11-02 via ED", "admitted [date] via ED"),
        ("92 y/o female", "[age] y/o female"),
        ("a 94-year-old man", "a [age]-year-old man"),
        ("aged 101", "aged [age]"),
        ("lives at 4400 N Lincoln Ave, Apt 3B with son", "lives at [address] with son"),
        ("Springfield, IL 62704", "[address], IL [ZIP]"),
        ("P.O. Box 118", "[address]"),
        (
            "see https://nurse:s3cret@emr.example/patients/4471/orders?mrn=A99812",
            "see https://[URL]@emr.example/patients/[ID]/orders?mrn=[MRN]",
        ),
        ("visit 9982341177 opened", "visit [account] opened"),
        ("code 2024-004817", "code [ID]"),
        ("seen 11/02/2026 and again", "seen [date] and again"),
    ] {
        assert_eq!(text_of(input, &[]), expected, "{input}");
    }
}

#[test]
fn names_in_free_text_are_found_by_position_and_lists() {
    for (input, expected) in [
        ("his daughter Mary will bring the list", "his daughter [name] will bring the list"),
        ("Spoke with Maria Gonzalez at the desk", "Spoke with [name] at the desk"),
        ("Mr. Lee refused the flu shot", "Mr. [name] refused the flu shot"),
        ("Patient: Robert Lee", "Patient: [name]"),
        ("Doe, Jane was moved", "[name] was moved"),
        ("Hope Martinez is the contact", "[name] is the contact"),
        ("the son, Tom Reyes, signs", "the son, [name], signs"),
        ("Ask Dr. Okafor before noon", "Ask Dr. [name] before noon"),
        ("paged Nguyen twice", "paged [name] twice"),
        ("then Patel came back", "then [name] came back"),
    ] {
        assert_eq!(text_of(input, &[]), expected, "{input}");
    }
}

#[test]
fn clinical_words_drugs_doses_codes_and_years_stay() {
    for input in [
        "Insert Foley catheter before the Gram stain",
        "Parkinson's meds must be on time; Bell's palsy order set",
        "Apgar 8/9 and Glasgow Coma Scale 14",
        "Metoprolol 25 mg PO BID, hold if BP < 100/60",
        "Since the 2019 upgrade the order code ORD-1234 and CPT 99213 moved",
        "Will check with pharmacy. Hope this helps!",
        "April rounds moved to Tuesday",
        "Charge Nurse approves; call the Attending for sign-off",
        "Use the Braden score and Morse fall scale",
        "Heparin 5000 units SQ q8h",
        "Room 4 West, Bed 12",
        "In May the upgrade adds a Lasix order panel",
        "Click Orders, then New Order, then Sign",
        "Tylenol 650 mg PO q6h PRN",
    ] {
        assert_eq!(text_of(input, &[]), input, "{input}: {:?}", find(input, &[]));
    }
}

#[test]
fn a_redacted_text_redacts_to_itself() {
    let page = banner();
    for input in [
        "-004817 DOB 1951-03-14 Location ",
        "Patient: Robert Lee, MRN: 00482913, DOB 3/14/51, Phone (555) 123-4567",
        "see https://nurse:s3cret@emr.example/patients/4471/orders?mrn=A99812",
        "[name] [MRN] [date] [phone] [email] [SSN] [address] [ZIP] [URL] [IP] [age] [account] [licence] [device] [ID]",
        "MRN [MRN] and DOB: [date] and Patient: [name]",
    ] {
        let once = redact(input, &page).text;
        assert!(find(&once, &[]).is_empty(), "{input} -> {once}: {:?}", find(&once, &[]));
        assert_eq!(redact(&once, &page).text, once);
    }
}

#[test]
fn the_server_refuses_only_what_a_pattern_makes_sure_of() {
    assert_eq!(first_forbidden("Hold if HR < 55"), None);
    assert_eq!(first_forbidden("ask Maria Gonzalez"), None, "a likely name is the author's to keep");
    let found = first_forbidden("SSN 123-45-6789").expect("an SSN");
    assert_eq!((found.kind, found.start, found.end), (Kind::Ssn, 4, 15));
    assert!(first_forbidden("DOB 1951-03-14").is_some());
    assert!(first_forbidden("DOB 1951-03-14 Location").is_some(), "a labelled date with text after it");
    assert_eq!(first_forbidden("seen 1951-03-14x"), None);
    assert!(first_forbidden("mail jdoe@example.org").is_some());
}

#[test]
fn offsets_for_javascript_count_utf16_code_units() {
    let text = "\u{1F600} caf\u{e9} SSN 123-45-6789";
    let spans = find(text, &[]);
    let utf16 = utf16_spans(text, &spans);
    let units: Vec<u16> = text.encode_utf16().collect();
    let (start, end, kind, _) = utf16[0];
    assert_eq!(kind, Kind::Ssn);
    assert_eq!(String::from_utf16_lossy(&units[start as usize..end as usize]), "123-45-6789");
}

proptest::proptest! {
    /// Whatever the text, redaction never panics, keeps the text outside its spans, and a
    /// redacted text holds nothing more to redact.
    #[test]
    fn redaction_is_total_and_a_fixed_point(parts in proptest::collection::vec(proptest::sample::select(vec![
        "Jane", "Doe", "Mr.", "Dr.", "MRN", ":", "#", "2024-004817", "1951-03-14", "3/14/51", "March", "14", ",",
        "1951", "555", "123-4567", "(555)", "jdoe@example.org", "Foley", "Bell's", "palsy", "his", "daughter",
        "Mary", "92", "y/o", "12", "Elm", "Street", "IL", "62704", "[name]", "[MRN", "]", "é", "\u{1F600}", " ",
        "https://u:p@h.example/p/12345?x=ABC123", "SSN", "123-45-6789", "DOB", "Apt", "3B", "—", ".", "\n",
    ]), 0..40)) {
        let text: String = parts.join(" ");
        let page = banner();
        let once = redact(&text, &page);
        for pair in once.spans.windows(2) {
            proptest::prop_assert!(pair[0].end <= pair[1].start);
        }
        let again = redact(&once.text, &page);
        proptest::prop_assert_eq!(&again.text, &once.text, "spans {:?}", again.spans);
    }
}
