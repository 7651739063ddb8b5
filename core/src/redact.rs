//! Patient identifiers out of shared text: finds them in any text and replaces each with a
//! typed placeholder (`[name]`, `[MRN]`, `[date]`, …), before a tip leaves the device and
//! again on the server, with this one code.
//!
//! Three sources, by how sure they are:
//! - **The page's own identifiers** ([`PageIdentifier`]): the values the content script
//!   read from the screen's identifying fields (the banner's name, MRN, date of birth…),
//!   found with their obvious variants (surname alone, initial and surname, other date
//!   formats, the same digits differently grouped, a piece cut off at the edge of a
//!   quote's context). [`Certainty::Page`]: never undone, since the page said so.
//! - **Patterns** that identify by their shape or their label: e-mail, SSN, phone and fax
//!   numbers, IP addresses, credentials in addresses, labelled numbers (MRN, account,
//!   licence, device) and labelled dates of birth, admission, discharge and death, ages
//!   over 89. [`Certainty::Pattern`]: the author cannot undo them, and the server refuses
//!   a shared text that still holds one (it has no page to read, so this is what it can
//!   check).
//! - **Likely identifiers**: names (honorifics, role words, labels, name lists compiled in,
//!   capitalised tokens in name position), other full dates, street addresses, ZIP codes,
//!   long id-like codes, record ids inside addresses. [`Certainty::Likely`]: the author
//!   sees each in the preview and may undo a false positive.
//!
//! Drug names, eponyms (Foley, Parkinson's, Bell's palsy, Gram stain, Apgar), doses,
//! years alone and clinicians' role words are left alone. Offsets are byte offsets into
//! the text; [`crate::redact::utf16_spans`] turns them into UTF-16 code units for
//! JavaScript.

use serde::{Deserialize, Serialize};

/// What kind of identifier a span is: its placeholder says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Name,
    Mrn,
    Date,
    Phone,
    Email,
    Ssn,
    Address,
    Zip,
    Url,
    Ip,
    Age,
    Account,
    Licence,
    Device,
    /// A record id or other unique number of no more specific kind.
    Id,
    /// Words the author chose to hide.
    Hidden,
}

impl Kind {
    /// What stands in the text where the identifier was.
    pub fn placeholder(self) -> &'static str {
        match self {
            Kind::Name => "[name]",
            Kind::Mrn => "[MRN]",
            Kind::Date => "[date]",
            Kind::Phone => "[phone]",
            Kind::Email => "[email]",
            Kind::Ssn => "[SSN]",
            Kind::Address => "[address]",
            Kind::Zip => "[ZIP]",
            Kind::Url => "[URL]",
            Kind::Ip => "[IP]",
            Kind::Age => "[age]",
            Kind::Account => "[account]",
            Kind::Licence => "[licence]",
            Kind::Device => "[device]",
            Kind::Id => "[ID]",
            Kind::Hidden => "[hidden]",
        }
    }

    /// The kind in words, for messages (never the value).
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Name => "a name",
            Kind::Mrn => "a medical record number",
            Kind::Date => "a date tied to a person",
            Kind::Phone => "a phone or fax number",
            Kind::Email => "an e-mail address",
            Kind::Ssn => "a social security number",
            Kind::Address => "a street address",
            Kind::Zip => "a ZIP code",
            Kind::Url => "credentials in a web address",
            Kind::Ip => "an IP address",
            Kind::Age => "an age over 89",
            Kind::Account => "an account number",
            Kind::Licence => "a licence number",
            Kind::Device => "a device number",
            Kind::Id => "a record number",
            Kind::Hidden => "words the author hid",
        }
    }

    const ALL: [Kind; 16] = [
        Kind::Name,
        Kind::Mrn,
        Kind::Date,
        Kind::Phone,
        Kind::Email,
        Kind::Ssn,
        Kind::Address,
        Kind::Zip,
        Kind::Url,
        Kind::Ip,
        Kind::Age,
        Kind::Account,
        Kind::Licence,
        Kind::Device,
        Kind::Id,
        Kind::Hidden,
    ];

    /// The kind whose placeholder starts `text`, with the placeholder's length.
    pub fn placeholder_at(text: &str) -> Option<(Kind, usize)> {
        Kind::ALL.into_iter().find(|kind| text.starts_with(kind.placeholder())).map(|k| (k, k.placeholder().len()))
    }
}

/// How sure a span is, which says who may undo it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// A name, date or address that reads like one: the author may undo it.
    Likely,
    /// An identifier by its shape or label: kept redacted; the server refuses it.
    Pattern,
    /// A value the page itself shows in an identifying field: kept redacted.
    Page,
}

/// One identifier found in a text: bytes `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
    pub certainty: Certainty,
}

/// A value read from one of the page's identifying fields.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageIdentifier {
    pub kind: Kind,
    pub value: String,
}

/// The most page identifiers one page may hand over, and the longest one (longer is no
/// banner field).
pub const MAX_PAGE_IDENTIFIERS: usize = 40;
pub const MAX_IDENTIFIER_CHARS: usize = 200;

/// A text with its identifiers replaced, and where they were in the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Redacted {
    pub text: String,
    pub spans: Vec<Span>,
}

/// Whether a text is whole, or a quote's context cut at a fixed length, which may begin or
/// end inside a page's value ("…004817 DOB" of "RG-004817"): only then do pieces of values
/// at its ends count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Extent {
    #[default]
    Whole,
    Cut,
}

/// Replaces every identifier of `text` with its placeholder.
pub fn redact(text: &str, page: &[PageIdentifier]) -> Redacted {
    redact_keeping(text, page, &[], Extent::Whole)
}

/// [`redact`], leaving the likely identifiers whose text the author chose to keep (a drug
/// or a colleague taken for a patient's name). Sure ones are never kept.
pub fn redact_keeping(text: &str, page: &[PageIdentifier], keep: &[String], extent: Extent) -> Redacted {
    let spans = find_keeping(text, page, keep, extent);
    Redacted { text: apply(text, &spans), spans }
}

/// [`find_in`] without the likely spans whose text is in `keep`.
pub fn find_keeping(text: &str, page: &[PageIdentifier], keep: &[String], extent: Extent) -> Vec<Span> {
    let mut spans = find_in(text, page, extent);
    spans.retain(|s| s.certainty != Certainty::Likely || !keep.iter().any(|k| k == &text[s.start..s.end]));
    spans
}

/// `text` with each span replaced by its kind's placeholder (spans sorted, apart).
pub fn apply(text: &str, spans: &[Span]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > text.len() {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(span.kind.placeholder());
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The first identifier a shared text may not hold: what the server refuses. Only
/// [`Certainty::Pattern`] spans count: the server has no page to read, and a likely name
/// the author kept is theirs to keep.
pub fn first_forbidden(text: &str) -> Option<Span> {
    find(text, &[]).into_iter().find(|span| span.certainty >= Certainty::Pattern)
}

/// Every identifier of `text`, sorted and apart (overlapping finds are merged, keeping the
/// surer kind).
pub fn find(text: &str, page: &[PageIdentifier]) -> Vec<Span> {
    find_in(text, page, Extent::Whole)
}

/// [`find`] for a text of the given extent.
pub fn find_in(text: &str, page: &[PageIdentifier], extent: Extent) -> Vec<Span> {
    let mut spans = Vec::new();
    let tokens = tokenize(text);
    page_identifiers(text, page, extent, &mut spans);
    chunks(text, &mut spans);
    labelled(text, &tokens, &mut spans);
    dates_in_words(text, &tokens, &mut spans);
    ages(text, &tokens, &mut spans);
    addresses(text, &tokens, &mut spans);
    names(text, &tokens, &mut spans);
    merge(text, spans)
}

/// Byte spans as UTF-16 code unit offsets of the same text, for JavaScript.
pub fn utf16_spans(text: &str, spans: &[Span]) -> Vec<(u32, u32, Kind, Certainty)> {
    let mut out = Vec::with_capacity(spans.len());
    let to16 = |byte: usize| text[..byte].encode_utf16().count() as u32;
    for span in spans {
        out.push((to16(span.start), to16(span.end), span.kind, span.certainty));
    }
    out
}

fn merge(text: &str, mut spans: Vec<Span>) -> Vec<Span> {
    // Never redact inside a placeholder: a redacted text redacts to itself.
    let placeholders = placeholder_ranges(text);
    spans.retain(|s| s.start < s.end && !placeholders.iter().any(|&(a, b)| s.start < b && a < s.end));
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start < last.end => {
                let stronger = span.certainty > last.certainty
                    || (span.certainty == last.certainty && span.end - span.start > last.end - last.start);
                if stronger {
                    last.kind = span.kind;
                    last.certainty = span.certainty;
                }
                last.end = last.end.max(span.end);
            }
            _ => merged.push(span),
        }
    }
    merged
}

fn placeholder_ranges(text: &str) -> Vec<(usize, usize)> {
    text.match_indices('[')
        .filter_map(|(at, _)| Kind::placeholder_at(&text[at..]).map(|(_, len)| (at, at + len)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokKind {
    Word,
    Num,
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    start: usize,
    end: usize,
    kind: TokKind,
    /// Whitespace right before it.
    spaced: bool,
}

fn tokenize(text: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut spaced = true;
    while let Some((at, c)) = chars.next() {
        if c.is_whitespace() {
            spaced = true;
            continue;
        }
        let kind = if c.is_alphabetic() {
            TokKind::Word
        } else if c.is_ascii_digit() {
            TokKind::Num
        } else {
            TokKind::Punct
        };
        let mut end = at + c.len_utf8();
        if kind != TokKind::Punct {
            while let Some(&(next_at, next)) = chars.peek() {
                let same = match kind {
                    TokKind::Word => next.is_alphabetic(),
                    _ => next.is_ascii_digit(),
                };
                // O'Brien, Smith-Jones: one word.
                let joined = kind == TokKind::Word
                    && (next == '\'' || next == '-' || next == '\u{2019}')
                    && text[next_at + next.len_utf8()..].chars().next().is_some_and(char::is_alphabetic)
                    && !is_possessive(&text[next_at + next.len_utf8()..]);
                if same || joined {
                    end = next_at + next.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
        }
        toks.push(Tok { start: at, end, kind, spaced });
        spaced = false;
    }
    toks
}

/// Whether the text after an apostrophe is a possessive "s" ("Doe's chart", "Doe's;"): the
/// name ends before it.
fn is_possessive(after: &str) -> bool {
    let mut chars = after.chars();
    chars.next() == Some('s') && !chars.next().is_some_and(char::is_alphabetic)
}

fn tok<'t>(text: &'t str, t: &Tok) -> &'t str {
    &text[t.start..t.end]
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

fn is_all_caps(word: &str) -> bool {
    word.chars().all(|c| !c.is_alphabetic() || c.is_uppercase())
        && word.chars().filter(|c| c.is_alphabetic()).count() > 1
}

fn push(spans: &mut Vec<Span>, start: usize, end: usize, kind: Kind, certainty: Certainty) {
    spans.push(Span { start, end, kind, certainty });
}

// ---------------------------------------------------------------------------------------
// Whitespace-separated chunks: e-mail, web and IP addresses, numeric dates, SSN, phones,
// id-like codes.

fn chunks(text: &str, spans: &mut Vec<Span>) {
    let mut start = None;
    for (at, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(at),
            (true, Some(from)) => {
                chunk(text, from, at, spans);
                start = None;
            }
            _ => {}
        }
    }
    phones_across_spaces(text, spans);
}

fn chunk(text: &str, from: usize, to: usize, spans: &mut Vec<Span>) {
    let raw = &text[from..to];
    let lead = raw.len() - raw.trim_start_matches(['(', '[', '{', '"', '\'', '<', '\u{201c}']).len();
    let body = raw[lead..].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '>', '\u{201d}']);
    if body.is_empty() {
        return;
    }
    let start = from + lead;
    let end = start + body.len();
    if Kind::placeholder_at(body).is_some_and(|(_, len)| len == body.len()) {
        return;
    }
    if let Some(scheme_end) = body.find("://").filter(|_| body.starts_with("http")).map(|i| i + 3) {
        web_address(body, start, scheme_end, spans);
        return;
    }
    if body.starts_with("www.") {
        web_address(body, start, 0, spans);
        return;
    }
    if is_email(body) {
        return push(spans, start, end, Kind::Email, Certainty::Pattern);
    }
    if is_ipv4(body) {
        return push(spans, start, end, Kind::Ip, Certainty::Pattern);
    }
    // A date or number may carry a leading label glued on ("DOB:1951-03-14").
    let numeric_from = body.find(|c: char| c.is_ascii_digit()).unwrap_or(body.len());
    let numeric = &body[numeric_from..];
    let numeric_start = start + numeric_from;
    if numeric.is_empty() {
        return;
    }
    if let Some(len) = numeric_date(numeric) {
        return push(spans, numeric_start, numeric_start + len, Kind::Date, Certainty::Likely);
    }
    if is_ssn(numeric) {
        return push(spans, numeric_start, end, Kind::Ssn, Certainty::Pattern);
    }
    if is_phone(body) {
        return push(spans, start, end, Kind::Phone, Certainty::Pattern);
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    let code_like = body.chars().all(|c| c.is_ascii_alphanumeric() || "-_/.#".contains(c));
    if code_like && digits >= 7 {
        push(spans, start, end, Kind::Id, Certainty::Likely);
    }
}

/// Credentials and the parts of a web address that name a record.
fn web_address(body: &str, start: usize, authority_from: usize, spans: &mut Vec<Span>) {
    let rest = &body[authority_from..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if let Some(at) = rest[..authority_len].rfind('@') {
        push(spans, start + authority_from, start + authority_from + at, Kind::Url, Certainty::Pattern);
    }
    let path_from = authority_from + authority_len;
    let mut offset = path_from;
    for part in body[path_from..].split_inclusive(['/', '?', '&', '#', '=']) {
        let value = part.trim_end_matches(['/', '?', '&', '#', '=']);
        let is_value = offset > 0 && body[..offset].ends_with('=');
        if !value.is_empty() && (crate::screen::is_record_id(value) || (is_value && value.len() > 2 && !is_word(value)))
        {
            push(spans, start + offset, start + offset + value.len(), Kind::Id, Certainty::Likely);
        }
        offset += part.len();
    }
}

fn is_word(value: &str) -> bool {
    value.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
}

fn is_email(body: &str) -> bool {
    let Some((local, domain)) = body.split_once('@') else { return false };
    !local.is_empty()
        && local.chars().all(|c| c.is_alphanumeric() || "._%+-'".contains(c))
        && domain.contains('.')
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic))
}

fn is_ipv4(body: &str) -> bool {
    let parts: Vec<&str> = body.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().all(|p| p.parse::<u16>().is_ok_and(|n| n <= 255))
}

/// Digit groups of `text`, split at any of `separators`.
fn groups<'a>(text: &'a str, separators: &[char]) -> Option<Vec<&'a str>> {
    let groups: Vec<&str> = text.split(separators).collect();
    groups.iter().all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit())).then_some(groups)
}

/// The length of a numeric date at the start of `text` (ISO, US or European), with a
/// month and a day that exist.
fn numeric_date(text: &str) -> Option<usize> {
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '/' || c == '.')).unwrap_or(text.len());
    let candidate = text[..end].trim_end_matches(['.', '-', '/']);
    let tail = &text[end..];
    // A time may follow an ISO date ("2026-03-14T10:00"): the date is still a date.
    let time_follows = tail.starts_with('T') && tail[1..].starts_with(|c: char| c.is_ascii_digit());
    if tail.starts_with(char::is_alphanumeric) && !time_follows {
        return None;
    }
    for separator in ['-', '/', '.'] {
        let Some(parts) = groups(candidate, &[separator]) else { continue };
        if parts.len() != 3 {
            continue;
        }
        let n: Vec<u32> = parts.iter().map(|p| p.parse().unwrap_or(0)).collect();
        let ok = match (parts[0].len(), parts[1].len(), parts[2].len()) {
            (4, 1..=2, 1..=2) => valid_day(n[1], n[2]),
            (1..=2, 1..=2, 4) | (1..=2, 1..=2, 2) if separator != '-' || parts[2].len() == 4 => {
                valid_day(n[0], n[1]) || valid_day(n[1], n[0])
            }
            _ => false,
        };
        if ok {
            return Some(candidate.len());
        }
    }
    None
}

fn valid_day(month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn is_ssn(text: &str) -> bool {
    groups(text, &['-']).is_some_and(|g| g.len() == 3 && g[0].len() == 3 && g[1].len() == 2 && g[2].len() == 4)
}

/// A ten-digit North American number written as one (area code, exchange, line), with an
/// optional +1, or an international number starting with +.
fn is_phone(body: &str) -> bool {
    if !body.chars().all(|c| c.is_ascii_digit() || "()-.+ ".contains(c)) {
        return false;
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let national = digits.strip_prefix('1').filter(|_| digits.len() == 11).unwrap_or(&digits);
    let grouped = groups(body.trim_start_matches('+').trim_start_matches("1-"), &['-', '.', '(', ')'])
        .map(|g| g.into_iter().filter(|g| !g.is_empty()).map(str::len).collect::<Vec<_>>());
    let shaped = matches!(grouped.as_deref(), Some([3, 3, 4]) | Some([1, 3, 3, 4]));
    (national.len() == 10 && shaped && !national.starts_with('0'))
        || (body.starts_with('+') && (10..=15).contains(&digits.len()))
}

/// "(555) 123-4567", "555 123 4567", "+1 555 123 4567": a phone over several chunks. The
/// digit groups are read until they make a phone (3, 3 and 4 digits, with an optional 1
/// before), so what follows the number does not decide whether it is one.
fn phones_across_spaces(text: &str, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let starts = (bytes[at].is_ascii_digit() || bytes[at] == b'(' || bytes[at] == b'+')
            && (at == 0 || !bytes[at - 1].is_ascii_alphanumeric());
        if !starts {
            at += 1;
            continue;
        }
        let mut end = at;
        let mut groups: Vec<usize> = Vec::new();
        let mut run = 0;
        let mut found = None;
        while end < bytes.len() && (bytes[end].is_ascii_digit() || b"()-. +".contains(&bytes[end])) {
            if bytes[end].is_ascii_digit() {
                run += 1;
            } else if run > 0 {
                groups.push(run);
                run = 0;
            }
            end += 1;
            let complete = run > 0 && !bytes.get(end).is_some_and(u8::is_ascii_digit);
            let mut shape = groups.clone();
            if complete {
                shape.push(run);
            }
            if complete && matches!(shape.as_slice(), [3, 3, 4] | [1, 3, 3, 4]) {
                found = Some(end);
                break;
            }
            if shape.len() > 4 || shape.iter().sum::<usize>() > 11 {
                break;
            }
        }
        if let Some(found) = found {
            let number = &text[at..found];
            let followed_by_word = text[found..].chars().next().is_some_and(char::is_alphanumeric);
            if number.contains(' ') && !followed_by_word {
                push(spans, at, found, Kind::Phone, Certainty::Pattern);
            }
        }
        // Not a phone from here: the next group may start one.
        at = found.unwrap_or(at + 1);
    }
}

// ---------------------------------------------------------------------------------------
// Labelled values: "MRN: 00482913", "DOB 03/14/1951", "Phone 555-0142", "Patient: Jane Doe"

/// What a label's value is, by the label's words (lowercase, as tokens).
const LABELS: &[(&[&str], Kind)] = &[
    (&["mrn"], Kind::Mrn),
    (&["mr"], Kind::Mrn),
    (&["medical", "record"], Kind::Mrn),
    (&["record"], Kind::Mrn),
    (&["patient", "id"], Kind::Mrn),
    (&["chart"], Kind::Mrn),
    (&["acct"], Kind::Account),
    (&["account"], Kind::Account),
    (&["fin"], Kind::Account),
    (&["visit"], Kind::Account),
    (&["encounter"], Kind::Account),
    (&["member", "id"], Kind::Account),
    (&["policy"], Kind::Account),
    (&["plan", "id"], Kind::Account),
    (&["beneficiary"], Kind::Account),
    (&["insurance", "id"], Kind::Account),
    (&["ssn"], Kind::Ssn),
    (&["social", "security"], Kind::Ssn),
    (&["licence"], Kind::Licence),
    (&["license"], Kind::Licence),
    (&["dea"], Kind::Licence),
    (&["npi"], Kind::Licence),
    (&["certificate"], Kind::Licence),
    (&["serial"], Kind::Device),
    (&["device", "id"], Kind::Device),
    (&["device"], Kind::Device),
    (&["implant"], Kind::Device),
    (&["plate"], Kind::Device),
    (&["vin"], Kind::Device),
    (&["phone"], Kind::Phone),
    (&["tel"], Kind::Phone),
    (&["telephone"], Kind::Phone),
    (&["fax"], Kind::Phone),
    (&["cell"], Kind::Phone),
    (&["mobile"], Kind::Phone),
    (&["pager"], Kind::Phone),
    (&["dob"], Kind::Date),
    (&["d", "o", "b"], Kind::Date),
    (&["date", "of", "birth"], Kind::Date),
    (&["birth", "date"], Kind::Date),
    (&["birthdate"], Kind::Date),
    (&["born"], Kind::Date),
    (&["admitted"], Kind::Date),
    (&["admission"], Kind::Date),
    (&["admit", "date"], Kind::Date),
    (&["discharged"], Kind::Date),
    (&["discharge", "date"], Kind::Date),
    (&["dod"], Kind::Date),
    (&["died"], Kind::Date),
    (&["date", "of", "death"], Kind::Date),
    (&["deceased"], Kind::Date),
    (&["zip"], Kind::Zip),
    (&["postal", "code"], Kind::Zip),
];

/// Words that may stand between a label and its value.
const LABEL_JOINERS: &[&str] = &["number", "no", "num", "nbr", "id", "#", ":", ".", "is", "on", "date", "of", "-", "="];

/// The first words of [`LABELS`], for the one look most words get.
fn label_starts() -> &'static WordSet {
    static STARTS: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    STARTS.get_or_init(|| LABELS.iter().map(|(words, _)| words[0]).collect())
}

fn labelled(text: &str, toks: &[Tok], spans: &mut Vec<Span>) {
    for i in 0..toks.len() {
        // Most words start no label: one look at the first words of all labels.
        let word = tok(text, &toks[i]);
        if toks[i].kind != TokKind::Word || word.len() > 12 {
            continue;
        }
        if !with_lower(word, |lower| label_starts().contains(lower)) {
            continue;
        }
        for (words, kind) in LABELS {
            if !words
                .iter()
                .enumerate()
                .all(|(k, w)| toks.get(i + k).is_some_and(|t| tok(text, t).eq_ignore_ascii_case(w)))
            {
                continue;
            }
            let mut j = i + words.len();
            // "MR#", "Acct No.:", "DOB -": the label's own punctuation and words.
            while toks.get(j).is_some_and(|t| LABEL_JOINERS.iter().any(|w| tok(text, t).eq_ignore_ascii_case(w))) {
                j += 1;
            }
            let Some(first) = toks.get(j) else { continue };
            match kind {
                Kind::Date => {
                    if let Some(end) = date_at(text, toks, j) {
                        push(spans, first.start, end, Kind::Date, Certainty::Pattern);
                    }
                }
                _ => {
                    // The value: one code, its glued parts ("2024-004817", "A12-99"), or
                    // digit groups split by spaces for phones.
                    let mut end_tok = j;
                    while toks.get(end_tok + 1).is_some_and(|t| {
                        !t.spaced && (t.kind != TokKind::Punct || "-/.".contains(tok(text, t)))
                            || (*kind == Kind::Phone && t.kind == TokKind::Num)
                    }) {
                        end_tok += 1;
                    }
                    while toks[end_tok].kind == TokKind::Punct && end_tok > j {
                        end_tok -= 1;
                    }
                    let value = &text[first.start..toks[end_tok].end];
                    let digits = value.chars().filter(char::is_ascii_digit).count();
                    let enough = match kind {
                        Kind::Phone => digits >= 7,
                        Kind::Zip => digits == 5 || digits == 9,
                        _ => digits >= 3,
                    };
                    let shaped = first.kind != TokKind::Punct && !value.starts_with('[');
                    if enough && shaped {
                        push(spans, first.start, toks[end_tok].end, *kind, Certainty::Pattern);
                    }
                }
            }
        }
    }
}

/// The end of a date written from token `i` (numeric or with a month's name).
fn date_at(text: &str, toks: &[Tok], i: usize) -> Option<usize> {
    let first = toks.get(i)?;
    if first.kind == TokKind::Num {
        if let Some(len) = numeric_date(&text[first.start..]) {
            return Some(first.start + len);
        }
    }
    month_date(text, toks, i).map(|(_, end)| end)
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_of(word: &str) -> Option<u32> {
    let lower = word.to_lowercase();
    let lower = lower.trim_end_matches('.');
    MONTHS
        .iter()
        .position(|m| {
            *m == lower || (lower.len() == 3 && m.starts_with(lower)) || (lower == "sept" && *m == "september")
        })
        .map(|p| p as u32 + 1)
}

/// A date with a month's name at token `i`: "March 14, 1951", "14 Mar 1951", "Mar. 14",
/// "March 1951". Returns (start, end) bytes.
fn month_date(text: &str, toks: &[Tok], i: usize) -> Option<(usize, usize)> {
    let num = |j: usize, max_len: usize| toks.get(j).filter(|t| t.kind == TokKind::Num && t.end - t.start <= max_len);
    let skip_punct = |mut j: usize, allowed: &str| {
        while toks.get(j).is_some_and(|t| t.kind == TokKind::Punct && allowed.contains(tok(text, t))) {
            j += 1;
        }
        j
    };
    let is_month = |j: usize| {
        toks.get(j).is_some_and(|t| {
            t.kind == TokKind::Word && is_capitalised(tok(text, t)) && month_of(tok(text, t)).is_some()
        })
    };
    let year_after = |j: usize| {
        let k = skip_punct(j, ",");
        num(k, 4).filter(|t| t.end - t.start == 4).map(|t| t.end)
    };
    let start = toks.get(i)?;
    if is_month(i) {
        let j = skip_punct(i + 1, ".");
        if let Some(day) = num(j, 2).filter(|t| tok(text, t).parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))) {
            let mut k = j + 1;
            // "March 14th"
            if toks.get(k).is_some_and(|t| !t.spaced && ["st", "nd", "rd", "th"].contains(&tok(text, t))) {
                k += 1;
            }
            let end = year_after(k).unwrap_or(toks[k - 1].end.max(day.end));
            return Some((start.start, end));
        }
        if let Some(year) = num(j, 4).filter(|t| t.end - t.start == 4) {
            return Some((start.start, year.end));
        }
        return None;
    }
    let day = num(i, 2).filter(|t| tok(text, t).parse::<u32>().is_ok_and(|d| (1..=31).contains(&d)))?;
    let mut j = i + 1;
    if toks.get(j).is_some_and(|t| !t.spaced && ["st", "nd", "rd", "th"].contains(&tok(text, t))) {
        j += 1;
    }
    if toks.get(j).is_some_and(|t| tok(text, t) == "of") {
        j += 1;
    }
    if is_month(j) {
        let k = skip_punct(j + 1, ".");
        let end = year_after(k).unwrap_or_else(|| toks[k - 1].end);
        return Some((day.start, end));
    }
    None
}

fn dates_in_words(text: &str, toks: &[Tok], spans: &mut Vec<Span>) {
    for i in 0..toks.len() {
        if let Some((start, end)) = month_date(text, toks, i) {
            // "May" and "March" alone are words; with a day or a year they are dates.
            push(spans, start, end, Kind::Date, Certainty::Likely);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Ages over 89

fn ages(text: &str, toks: &[Tok], spans: &mut Vec<Span>) {
    for (i, t) in toks.iter().enumerate() {
        if t.kind != TokKind::Num || !tok(text, t).parse::<u32>().is_ok_and(|n| (90..=130).contains(&n)) {
            continue;
        }
        let after: String = text[t.end..].chars().take(16).collect::<String>().to_lowercase();
        let after = after.trim_start_matches([' ', '-']);
        let suffixed = [
            "y/o",
            "yo ",
            "yo,",
            "yo.",
            "y.o",
            "year old",
            "years old",
            "year-old",
            "yr old",
            "yrs old",
            "years of age",
        ]
        .iter()
        .any(|s| after.starts_with(s))
            || after == "yo";
        let prefixed = i > 0
            && (1..=2).any(|back| {
                i >= back && ["age", "aged", "ages"].iter().any(|w| tok(text, &toks[i - back]).eq_ignore_ascii_case(w))
            });
        if suffixed || prefixed {
            push(spans, t.start, t.end, Kind::Age, Certainty::Pattern);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Street addresses and ZIP codes

const STREET_WORDS: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "lane",
    "ln",
    "drive",
    "dr",
    "court",
    "ct",
    "way",
    "place",
    "pl",
    "terrace",
    "ter",
    "highway",
    "hwy",
    "parkway",
    "pkwy",
    "circle",
    "cir",
    "square",
    "sq",
    "trail",
    "trl",
    "route",
    "rte",
];

const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
    "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC",
];

fn addresses(text: &str, toks: &[Tok], spans: &mut Vec<Span>) {
    for i in 0..toks.len() {
        let t = &toks[i];
        // "12 Elm Street", "4400 N Lincoln Ave, Apt 3B"
        // A bed, room or extension number is no house number.
        let counts_a_place = || {
            i > 0
                && with_lower(tok(text, &toks[i - 1]), |before| {
                    ["bed", "room", "rm", "bay", "unit", "suite", "apt", "ext", "floor", "rooms", "beds"]
                        .contains(&before)
                })
        };
        if t.kind == TokKind::Num
            && t.end - t.start <= 6
            && toks.get(i + 1).is_some_and(|n| n.spaced)
            && !counts_a_place()
        {
            let mut j = i + 1;
            let mut words = 0;
            while words < 4 && toks.get(j).is_some_and(|w| w.kind == TokKind::Word && is_capitalised(tok(text, w))) {
                let word = tok(text, &toks[j]).to_lowercase();
                // "Dr. Okafor", "St. Jude": a title before a name, not a street.
                let titled = matches!(word.as_str(), "dr" | "st")
                    && toks.get(j + 1).is_some_and(|p| tok(text, p) == ".")
                    && toks
                        .get(j + 2)
                        .is_some_and(|n| tok(text, n).starts_with(|c: char| c.is_uppercase() || c == '['));
                if words > 0 && STREET_WORDS.contains(&word.as_str()) && !titled {
                    let mut end = toks[j].end;
                    if toks.get(j + 1).is_some_and(|p| tok(text, p) == "." && !p.spaced) {
                        end = toks[j + 1].end;
                    }
                    let unit = unit_after(text, toks, if end == toks[j].end { j + 1 } else { j + 2 });
                    push(spans, t.start, unit.unwrap_or(end), Kind::Address, Certainty::Likely);
                    break;
                }
                words += 1;
                j += 1;
            }
        }
        // "P.O. Box 118"
        if tok(text, t).eq_ignore_ascii_case("box") && toks.get(i + 1).is_some_and(|n| n.kind == TokKind::Num) {
            let from =
                if i >= 4 && tok(text, &toks[i - 4]).eq_ignore_ascii_case("p") { toks[i - 4].start } else { t.start };
            push(spans, from, toks[i + 1].end, Kind::Address, Certainty::Likely);
        }
        // "Springfield, IL 62704": city, state and ZIP.
        if t.kind == TokKind::Word && STATES.contains(&tok(text, t)) {
            if let Some(zip) = toks.get(i + 1).filter(|z| z.kind == TokKind::Num && z.end - z.start == 5) {
                let mut end = zip.end;
                if toks.get(i + 2).is_some_and(|d| tok(text, d) == "-" && !d.spaced)
                    && toks.get(i + 3).is_some_and(|z| z.kind == TokKind::Num && z.end - z.start == 4)
                {
                    end = toks[i + 3].end;
                }
                push(spans, zip.start, end, Kind::Zip, Certainty::Pattern);
                // The city before the comma.
                if i >= 2 && tok(text, &toks[i - 1]) == "," {
                    let mut k = i - 2;
                    while k > 0
                        && toks[k - 1].kind == TokKind::Word
                        && is_capitalised(tok(text, &toks[k - 1]))
                        && i - k < 3
                    {
                        k -= 1;
                    }
                    if toks[k].kind == TokKind::Word && is_capitalised(tok(text, &toks[k])) {
                        push(spans, toks[k].start, toks[i - 1].start, Kind::Address, Certainty::Likely);
                    }
                }
            }
        }
    }
}

/// ", Apt 3B", " Unit 12", " #4": the end of a unit after a street address.
fn unit_after(text: &str, toks: &[Tok], mut j: usize) -> Option<usize> {
    if toks.get(j).is_some_and(|t| tok(text, t) == ",") {
        j += 1;
    }
    let word = toks.get(j).map(|t| tok(text, t).to_lowercase())?;
    if !["apt", "unit", "suite", "ste", "#", "room", "rm"].contains(&word.as_str()) {
        return None;
    }
    let mut k = j + 1;
    if toks.get(k).is_some_and(|t| tok(text, t) == "." || tok(text, t) == "#") {
        k += 1;
    }
    let value = toks.get(k).filter(|t| t.kind != TokKind::Punct)?;
    let mut end = value.end;
    if let Some(next) = toks.get(k + 1).filter(|n| !n.spaced && n.kind != TokKind::Punct) {
        end = next.end;
    }
    Some(end)
}

// ---------------------------------------------------------------------------------------
// Names

static FIRST_NAMES: &str = include_str!("../data/names/first_names.txt");
static SURNAMES: &str = include_str!("../data/names/surnames.txt");

/// A word list as a set, read once. Lookups happen for most words of every text, so the
/// set hashes with FNV-1a (short keys, no adversary: the lists are compiled in).
type WordSet = std::collections::HashSet<&'static str, std::hash::BuildHasherDefault<Fnv>>;

fn word_set(list: &'static str) -> &'static WordSet {
    // Three lists, three cells; chosen by address so one function serves them all.
    static FIRST: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    static LAST: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    static NOT: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    let cell = if std::ptr::eq(list, FIRST_NAMES) {
        &FIRST
    } else if std::ptr::eq(list, SURNAMES) {
        &LAST
    } else {
        &NOT
    };
    cell.get_or_init(|| list.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect())
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Calls `f` with `word` in lower case, without allocating for a short ASCII word (most are).
fn with_lower<R>(word: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0u8; 32];
    if word.is_ascii() && word.len() <= buffer.len() {
        let lower = &mut buffer[..word.len()];
        lower.copy_from_slice(word.as_bytes());
        lower.make_ascii_lowercase();
        if let Ok(lower) = std::str::from_utf8(lower) {
            return f(lower);
        }
    }
    f(&word.to_lowercase())
}

fn in_list(list: &'static str, word: &str) -> bool {
    let set = word_set(list);
    with_lower(word, |lower| set.contains(lower))
}

fn is_first_name(word: &str) -> bool {
    in_list(FIRST_NAMES, word)
}

fn is_surname(word: &str) -> bool {
    in_list(SURNAMES, word)
}

/// Capitalised words that are never a name where they stand in clinical text: eponyms,
/// drugs and devices, scores, units, places in a hospital, role words, and common words
/// that the name lists hold too. A word here is a name only after an honorific or a label.
static NOT_NAMES: &str = include_str!("../data/names/not_names.txt");

/// What says that a name follows, which says how much of what follows is the name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cue {
    /// "Mr.", "Dr.": any capitalised word (a surname may be a word: Mr. Brown).
    Honorific,
    /// A role word or a verb ("his daughter", "called"): a given name and a surname.
    Position,
    /// Nothing but the name lists.
    List,
}

/// Words before a name: honorifics keep their place, the name after them goes.
const HONORIFICS: &[&str] = &["mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sr", "sra", "mme", "mister", "madam"];

/// Role words after which a name follows: "his daughter Mary", "spoke with the son, Tom".
const RELATIONS: &[&str] = &[
    "daughter",
    "son",
    "wife",
    "husband",
    "mother",
    "father",
    "mom",
    "dad",
    "sister",
    "brother",
    "spouse",
    "partner",
    "friend",
    "neighbor",
    "neighbour",
    "caregiver",
    "niece",
    "nephew",
    "aunt",
    "uncle",
    "grandson",
    "granddaughter",
    "grandmother",
    "grandfather",
    "guardian",
    "fiance",
    "fiancee",
    "girlfriend",
    "boyfriend",
    "roommate",
    "cousin",
];

/// Labels and verbs after which a capitalised word is a name: "Patient: Jane Doe",
/// "called Maria", "per Okafor".
const NAME_POSITIONS: &[&str] = &[
    "patient",
    "pt",
    "name",
    "contact",
    "nok",
    "kin",
    "called",
    "call",
    "ask",
    "asked",
    "tell",
    "told",
    "page",
    "paged",
    "notify",
    "notified",
    "spoke",
    "speak",
    "talked",
    "with",
    "per",
    "by",
    "from",
    "to",
    "for",
    "visited",
    "signed",
    "cosigned",
    "attending",
    "resident",
    "nurse",
    "rn",
    "md",
    "pcp",
    "provider",
    "physician",
    "surgeon",
    "cc",
    "dear",
    "regards",
    "thanks",
    "hi",
    "hello",
];

/// Every word that says a name may follow ([`HONORIFICS`], [`RELATIONS`],
/// [`NAME_POSITIONS`]), for the one look most words get.
fn name_cues() -> &'static WordSet {
    static CUES: std::sync::OnceLock<WordSet> = std::sync::OnceLock::new();
    CUES.get_or_init(|| HONORIFICS.iter().chain(RELATIONS).chain(NAME_POSITIONS).copied().collect())
}

fn names(text: &str, toks: &[Tok], spans: &mut Vec<Span>) {
    let word_at = |j: usize| toks.get(j).filter(|t| t.kind == TokKind::Word).map(|t| tok(text, t));
    let cap_at = |j: usize| word_at(j).filter(|w| is_capitalised(w) && !is_all_caps_noise(w));
    let initial_at = |j: usize| {
        cap_at(j)
            .filter(|w| w.chars().count() == 1)
            .filter(|_| toks.get(j + 1).is_some_and(|p| tok(text, p) == "." && !p.spaced))
    };
    let not_name =
        |w: &str| with_lower(w, |lower| in_list(NOT_NAMES, lower.trim_end_matches("'s").trim_end_matches("\u{2019}s")));
    // A run of name tokens from `j`: initials and capitalised words ("A. Okafor", "Mary
    // Ann O'Neil", "Doe, Jane"), as long as they read as one name: after initials, one
    // word; after a given name, its surname; after a cue that a name follows ("called",
    // "his daughter"), two words; then only listed names. "Dr. A. Okafor Allergies" ends at
    // Okafor.
    let run_from = |mut j: usize, cue: Cue| -> Option<(usize, usize)> {
        let start = toks.get(j)?.start;
        let mut end = None;
        let (mut words, mut initials, mut first_given) = (0, 0, false);
        let free = if cue == Cue::Position { 2 } else { 1 };
        while words + initials < 4 {
            if initial_at(j).is_some() && words == 0 {
                end = Some(toks[j + 1].end);
                j += 2;
                initials += 1;
                continue;
            }
            let Some(w) = cap_at(j) else { break };
            // The first word was vouched for by the caller; an honorific vouches for all.
            let refused = cue != Cue::Honorific && words > 0 && (is_clinical_word(w) || not_name(w));
            let listed = is_first_name(w) || is_surname(w);
            let joins = words == 0 || (initials == 0 && (words < free || (words == 1 && first_given) || listed));
            if refused || !joins {
                break;
            }
            first_given |= words == 0 && is_first_name(w);
            end = Some(toks[j].end);
            words += 1;
            j += 1;
            // "Doe, Jane": a comma between surname and given name.
            if toks.get(j).is_some_and(|t| tok(text, t) == ",")
                && word_at(j + 1).is_some_and(is_first_name)
                && cap_at(j + 1).is_some()
            {
                j += 1;
                first_given = true;
            }
        }
        end.map(|e| (start, e))
    };
    let mut i = 0;
    while i < toks.len() {
        let Some(word) = word_at(i) else {
            i += 1;
            continue;
        };
        let lower =
            with_lower(word, |lower| if name_cues().contains(lower) { lower.to_owned() } else { String::new() });
        let after_dot = toks.get(i + 1).is_some_and(|t| tok(text, t) == "." && !t.spaced);
        let next = if after_dot { i + 2 } else { i + 1 };
        // 1. Honorifics: "Mr. Lee", "Dr. A. Okafor".
        if HONORIFICS.contains(&lower.as_str()) && is_capitalised(word) {
            if let Some((start, end)) = run_from(next, Cue::Honorific) {
                push(spans, start, end, Kind::Name, Certainty::Likely);
                i = next + 1;
                continue;
            }
        }
        // 2. Relations: "his daughter Mary", "the son, Tom Reyes".
        if RELATIONS.contains(&lower.as_str()) {
            let j = if toks.get(i + 1).is_some_and(|t| tok(text, t) == ",") { i + 2 } else { i + 1 };
            if let Some((start, end)) = run_from(j, Cue::Position) {
                push(spans, start, end, Kind::Name, Certainty::Likely);
                i = j + 1;
                continue;
            }
        }
        // 3. Name positions: "Patient: Jane Doe", "called Maria".
        if NAME_POSITIONS.contains(&lower.as_str()) {
            let mut j = i + 1;
            while toks.get(j).is_some_and(|t| tok(text, t) == ":" || tok(text, t) == "-" || tok(text, t) == ",") {
                j += 1;
            }
            if word_at(j).is_some_and(|w| w.eq_ignore_ascii_case("name")) {
                j += 1;
                while toks.get(j).is_some_and(|t| tok(text, t) == ":") {
                    j += 1;
                }
            }
            let named = cap_at(j).is_some_and(|w| !not_name(w) && !is_clinical_word(w))
                && (word_at(j).is_some_and(|w| is_first_name(w) || is_surname(w))
                    || cap_at(j + 1).is_some()
                    || initial_at(j + 1).is_some()
                    || lower == "patient"
                    || lower == "name"
                    || lower == "pt");
            if named {
                if let Some((start, end)) = run_from(j, Cue::Position) {
                    push(spans, start, end, Kind::Name, Certainty::Likely);
                    i = j + 1;
                    continue;
                }
            }
        }
        // 4. Listed names: a first name with a capitalised word or initial after it
        //    ("Jane Doe", "Maria K."), a surname after a first name or initial ("J. Smith"),
        //    a surname-comma-first-name ("Doe, Jane"), or a surname alone, mid-sentence.
        if is_capitalised(word) && !is_clinical_word(word) {
            let listed_first = is_first_name(word) && !not_name(word);
            let followed = cap_at(i + 1).is_some_and(|w| !is_clinical_word(w) && !not_name(w) || is_surname(w))
                || initial_at(i + 1).is_some();
            if (listed_first || is_first_name(word) && cap_at(i + 1).is_some_and(is_surname)) && followed {
                if let Some((start, end)) = run_from(i, Cue::List) {
                    push(spans, start, end, Kind::Name, Certainty::Likely);
                    i += 2;
                    continue;
                }
            }
            let comma_first = toks.get(i + 1).is_some_and(|t| tok(text, t) == ",")
                && word_at(i + 2).is_some_and(|w| is_capitalised(w) && is_first_name(w) && !not_name(w));
            if is_surname(word) && !not_name(word) && comma_first {
                let end = run_from(i + 2, Cue::List).map_or(toks[i + 2].end, |(_, e)| e);
                push(spans, toks[i].start, end, Kind::Name, Certainty::Likely);
                i += 3;
                continue;
            }
            let mid_sentence = i > 0 && !ends_sentence(text, &toks[i - 1]);
            if is_surname(word) && !not_name(word) && !is_first_name(word) && mid_sentence && !is_all_caps(word) {
                push(spans, toks[i].start, toks[i].end, Kind::Name, Certainty::Likely);
            }
        }
        i += 1;
    }
}

/// Capitalised words that begin clinical phrases rather than names.
fn is_clinical_word(word: &str) -> bool {
    with_lower(word, |lower| {
        let stem = lower.trim_end_matches("'s").trim_end_matches("\u{2019}s");
        in_list(NOT_NAMES, stem) && !is_first_name(stem)
    })
}

/// Abbreviations in capitals (BP, MRN, ICU) are not names.
fn is_all_caps_noise(word: &str) -> bool {
    is_all_caps(word) && word.chars().count() <= 4
}

fn ends_sentence(text: &str, previous: &Tok) -> bool {
    matches!(tok(text, previous), "." | "!" | "?" | ":" | ";" | "\u{2014}" | "-" | "|" | "(" | "\"" | "\u{201c}")
}

// ---------------------------------------------------------------------------------------
// The page's own identifiers

fn page_identifiers(text: &str, page: &[PageIdentifier], extent: Extent, spans: &mut Vec<Span>) {
    let lower = text.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; then match on the text as it is.
    let haystack = if lower.len() == text.len() { lower.as_str() } else { text };
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    // A whole text in lower case is searched for an identifier's forms only when it holds one
    // of the words every form contains; a cut context may hold a piece of one at an end.
    let prefilter = extent == Extent::Whole && haystack.len() == text.len() && lower.len() == text.len();
    for identifier in page.iter().take(MAX_PAGE_IDENTIFIERS) {
        let value = identifier.value.trim();
        if value.is_empty() || value.chars().count() > MAX_IDENTIFIER_CHARS {
            continue;
        }
        if prefilter && !might_hold(haystack, identifier.kind, value, has_digit) {
            continue;
        }
        for needle in variants(identifier.kind, value) {
            let single_word = !needle.contains(' ');
            let needle_lower = needle.to_lowercase();
            if needle_lower.len() != needle.len() {
                continue;
            }
            for at in occurrences(haystack, &needle_lower) {
                let end = at + needle.len();
                if !at_word_edges(text, at, end) {
                    continue;
                }
                // A single-word name is a name where it is written as one.
                if identifier.kind == Kind::Name && single_word && !text[at..].starts_with(char::is_uppercase) {
                    continue;
                }
                push(spans, at, end, identifier.kind, Certainty::Page);
            }
            // A context cut at 32 characters may begin or end inside the value.
            if extent == Extent::Cut {
                edge_pieces(text, haystack, &needle_lower, identifier.kind, spans);
            }
        }
        digit_matches(text, identifier, spans);
    }
}

/// Whether `lower_text` may hold a form of the page's `value` (see [`variants`]): every form
/// of a name holds one of its words, a street address its street, any other value itself;
/// a value with digits may be written with other separators, and a date in other formats,
/// wherever the text has a digit. Most values of a page are in none of a tip's texts, and
/// their forms are then never made.
fn might_hold(lower_text: &str, kind: Kind, value: &str, has_digit: bool) -> bool {
    let value_has_digit = value.bytes().any(|b| b.is_ascii_digit());
    if has_digit && (value_has_digit || kind == Kind::Date) {
        return true;
    }
    let contains =
        |piece: &str| with_lower(piece, |lower| !lower.is_empty() && occurrences(lower_text, lower).next().is_some());
    match kind {
        Kind::Name => value
            .split(|c: char| c.is_whitespace() || c == ',')
            .map(|word| word.trim_matches('.'))
            .filter(|word| !word.is_empty())
            .any(contains),
        Kind::Address => contains(value.split_once(',').map_or(value, |(street, _)| street.trim())),
        Kind::Date => false, // every form of a date has digits, and the text has none
        _ => contains(&value.split_whitespace().collect::<Vec<_>>().join(" ")),
    }
}

/// Where `needle` starts in `haystack`, without overlaps, as `match_indices` finds it. A
/// tip's texts are short and a page has dozens of values in several forms each: a plain
/// scan for the first byte beats setting up a two-way searcher per needle.
fn occurrences<'a>(haystack: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let (hay, pin) = (haystack.as_bytes(), needle.as_bytes());
    let mut from = 0;
    std::iter::from_fn(move || {
        let (&first, rest) = pin.split_first()?;
        while from + pin.len() <= hay.len() {
            let at = from + hay[from..=hay.len() - pin.len()].iter().position(|&b| b == first)?;
            if hay[at + 1..at + pin.len()] == *rest {
                from = at + pin.len();
                return Some(at);
            }
            from = at + 1;
        }
        None
    })
}

fn at_word_edges(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let first = text[start..].chars().next();
    let last = text[..end].chars().next_back();
    let edge = |outside: Option<char>, inside: Option<char>| {
        outside.is_none_or(|o| !(o.is_alphanumeric() && inside.is_some_and(char::is_alphanumeric)))
    };
    edge(before, first) && edge(after, last)
}

/// A piece of `needle` at the start or the end of `text` (`lower_text` is `text` in lower
/// case, same length): a quote's context is cut at 32 characters, wherever they fall. A
/// piece of a name needs three letters ("ne" of "Jane" names no one); a piece of a number
/// or a date, two characters.
fn edge_pieces(text: &str, lower_text: &str, lower_needle: &str, kind: Kind, spans: &mut Vec<Span>) {
    let min = if kind == Kind::Name || kind == Kind::Hidden { 3 } else { 2 };
    let needle = lower_needle;
    let (Some(&first), Some(&last)) = (lower_text.as_bytes().first(), lower_text.as_bytes().last()) else { return };
    if lower_text.len() != text.len() {
        return;
    }
    // Text starts with the end of the value.
    for cut in 1..needle.len() {
        let piece = &lower_needle[cut..];
        if piece.len() < min || needle.as_bytes()[cut] != first || !needle.is_char_boundary(cut) {
            continue;
        }
        let alphanumeric = piece.chars().filter(|c| c.is_alphanumeric()).count() >= min.min(piece.len());
        if alphanumeric && lower_text.starts_with(piece) && at_word_edges(text, 0, piece.len()) {
            push(spans, 0, piece.len(), kind, Certainty::Page);
            break;
        }
    }
    // Text ends with the start of the value.
    for cut in (1..needle.len()).rev() {
        let piece = &lower_needle[..cut];
        if piece.len() < min || needle.as_bytes()[cut - 1] != last || !needle.is_char_boundary(cut) {
            continue;
        }
        let alphanumeric = piece.chars().filter(|c| c.is_alphanumeric()).count() >= min.min(piece.len());
        if alphanumeric && lower_text.ends_with(piece) && at_word_edges(text, text.len() - piece.len(), text.len()) {
            push(spans, text.len() - piece.len(), text.len(), kind, Certainty::Page);
            break;
        }
    }
}

/// The forms a page's value may take elsewhere.
fn variants(kind: Kind, value: &str) -> Vec<String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = vec![value.clone()];
    match kind {
        Kind::Name => {
            // "Doe, Jane A" or "Jane A. Doe": given names and a surname.
            let (given, surname): (Vec<&str>, &str) = match value.split_once(',') {
                Some((last, first)) => (first.split_whitespace().collect(), last.trim()),
                None => {
                    let words: Vec<&str> = value.split_whitespace().collect();
                    match words.split_last() {
                        Some((last, rest)) => (rest.to_vec(), last),
                        None => (Vec::new(), ""),
                    }
                }
            };
            let given: Vec<&str> =
                given.into_iter().map(|g| g.trim_end_matches('.')).filter(|g| !g.is_empty()).collect();
            if surname.chars().count() >= 2 {
                out.push(surname.to_owned());
            }
            if let Some(first) = given.first() {
                if first.chars().count() >= 2 {
                    out.push((*first).to_owned());
                    out.push(format!("{first} {surname}"));
                    out.push(format!("{surname}, {first}"));
                    out.push(format!("{surname} {first}"));
                }
                if let Some(initial) = first.chars().next() {
                    out.push(format!("{initial}. {surname}"));
                    out.push(format!("{initial} {surname}"));
                    out.push(format!("{surname}, {initial}."));
                }
            }
            out.push(format!("{} {surname}", given.join(" ")));
        }
        Kind::Date => out.extend(date_variants(&value)),
        Kind::Address => {
            if let Some((street, _)) = value.split_once(',') {
                out.push(street.trim().to_owned());
            }
        }
        _ => {}
    }
    out.retain(|v| v.trim().chars().count() >= 2);
    out.sort();
    out.dedup();
    out
}

fn date_variants(value: &str) -> Vec<String> {
    let toks = tokenize(value);
    let nums: Vec<u32> =
        toks.iter().filter(|t| t.kind == TokKind::Num).filter_map(|t| tok(value, t).parse().ok()).collect();
    let month_word = toks.iter().find_map(|t| (t.kind == TokKind::Word).then(|| month_of(tok(value, t))).flatten());
    let (year, month, day) = match (nums.as_slice(), month_word) {
        ([y, m, d], None) if *y > 31 => (*y, *m, *d),
        ([m, d, y], None) if *y > 31 && *m <= 12 => (*y, *m, *d),
        ([d, m, y], None) if *y > 31 => (*y, *m, *d),
        ([d, y], Some(m)) | ([y, d], Some(m)) if *y > 31 => (*y, m, *d),
        _ => return Vec::new(),
    };
    let year = if year < 100 { year + 1900 } else { year };
    if !valid_day(month, day) {
        return Vec::new();
    }
    let name = MONTHS[month as usize - 1];
    let name = format!("{}{}", name[..1].to_uppercase(), &name[1..]);
    let short = &name[..3];
    let yy = year % 100;
    vec![
        format!("{year}-{month:02}-{day:02}"),
        format!("{month:02}/{day:02}/{year}"),
        format!("{month}/{day}/{year}"),
        format!("{month:02}/{day:02}/{yy:02}"),
        format!("{month}/{day}/{yy:02}"),
        format!("{month:02}-{day:02}-{year}"),
        format!("{day:02}.{month:02}.{year}"),
        format!("{day}.{month}.{year}"),
        format!("{day:02}/{month:02}/{year}"),
        format!("{name} {day}, {year}"),
        format!("{short} {day}, {year}"),
        format!("{short}. {day}, {year}"),
        format!("{day} {name} {year}"),
        format!("{day} {short} {year}"),
        format!("{day}-{short}-{year}"),
        format!("{name} {day}"),
        format!("{short} {day}"),
    ]
}

/// The value's digits wherever they stand, however grouped ("2024-004817" as "2024004817"
/// or "2024 004817"): numbers that identify have at least five digits.
fn digit_matches(text: &str, identifier: &PageIdentifier, spans: &mut Vec<Span>) {
    if !matches!(
        identifier.kind,
        Kind::Mrn | Kind::Phone | Kind::Ssn | Kind::Account | Kind::Id | Kind::Licence | Kind::Device
    ) {
        return;
    }
    let wanted: String = identifier.value.chars().filter(char::is_ascii_digit).collect();
    if wanted.len() < 5 {
        return;
    }
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() || (at > 0 && bytes[at - 1].is_ascii_digit()) {
            at += 1;
            continue;
        }
        let mut end = at;
        let mut digits = String::new();
        while end < bytes.len()
            && (bytes[end].is_ascii_digit() || (b"- ./()".contains(&bytes[end]) && digits.len() < wanted.len()))
        {
            if bytes[end].is_ascii_digit() {
                digits.push(char::from(bytes[end]));
            }
            end += 1;
            if digits.len() == wanted.len() {
                break;
            }
        }
        // Separators after the last digit are not the value's.
        while end > at && !bytes[end - 1].is_ascii_digit() {
            end -= 1;
        }
        let whole = digits == wanted && !bytes.get(end).is_some_and(u8::is_ascii_digit);
        // The tail of the value at the start of a cut context ("-004817 DOB …").
        let tail = at <= 1
            && digits.len() >= 4
            && wanted.ends_with(&digits)
            && !bytes.get(end).is_some_and(u8::is_ascii_digit);
        if whole || tail {
            push(spans, at, end, identifier.kind, Certainty::Page);
        }
        at = end.max(at + 1);
    }
}

#[cfg(test)]
mod tests;
