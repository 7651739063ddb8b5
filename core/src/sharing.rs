//! What a shared tip may carry: the extension makes a tip fit to share ([`share`]) before
//! it is queued, and the server checks every shared change again ([`check_change`]) with
//! the same rules (see [`crate::redact`] for what counts as an identifier).
//!
//! A shared tip names its screen, never a record: its address is the screen's pattern
//! (`/patients/*/orders`, query values that name a record as `*`, no fragment, no
//! credentials), and every text it carries (title, quote and context, the element's
//! description, note, tags, replies, the curator's words) has its identifiers replaced by
//! placeholders. Private tips never leave the device and are kept whole.

use crate::curation::Action;
use crate::model::{Selector, Tip};
use crate::redact::{self, Certainty, Extent, Kind, PageIdentifier, Span};
use crate::screen::{screen_pattern, ScreenRule};
use crate::sync::Change;
use crate::url::{page_address, screen_key, UrlError};

/// Which part of a shared tip a finding is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    Address,
    Title,
    Quote,
    Context,
    Element,
    Note,
    Tag,
    Reply,
    CuratorTitle,
    CuratorSummary,
    ReviewReason,
}

impl Field {
    fn describe(self) -> &'static str {
        match self {
            Field::Address => "page address",
            Field::Title => "page title",
            Field::Quote => "quote",
            Field::Context => "quote's context",
            Field::Element => "element's description",
            Field::Note => "note",
            Field::Tag => "tags",
            Field::Reply => "reply",
            Field::CuratorTitle => "curator's title",
            Field::CuratorSummary => "curator's summary",
            Field::ReviewReason => "review reason",
        }
    }
}

/// An identifier a shared change still holds: its kind and where, never its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {} holds {} (characters {}\u{2013}{}); Inflow removes identifiers before sharing, so this came from elsewhere or from an older Inflow",
    field.describe(),
    kind.describe(),
    start,
    end
)]
pub struct Finding {
    pub field: Field,
    pub kind: Kind,
    /// Character offsets in the field's text.
    pub start: usize,
    pub end: usize,
}

/// How many identifiers were replaced in each part of a tip made fit to share.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Redactions {
    pub count: usize,
    pub kinds: Vec<Kind>,
    /// Likely identifiers the author kept (see [`redact::redact_keeping`]).
    #[serde(skip)]
    keep: Vec<String>,
}

impl Redactions {
    fn add(&mut self, spans: &[Span]) {
        self.count += spans.len();
        for span in spans {
            if !self.kinds.contains(&span.kind) {
                self.kinds.push(span.kind);
            }
        }
    }

    fn text(&mut self, text: &mut String, page: &[PageIdentifier]) {
        self.text_of(text, page, Extent::Whole);
    }

    fn text_of(&mut self, text: &mut String, page: &[PageIdentifier], extent: Extent) {
        let redacted = redact::redact_keeping(text, page, &self.keep, extent);
        self.add(&redacted.spans);
        *text = redacted.text;
    }
}

/// The address a shared tip keeps: its screen's pattern, with a query value that holds an
/// identifier as `*` too. The result is its own screen key.
pub fn screen_address(url: &str, rules: &[ScreenRule]) -> Result<String, UrlError> {
    let key = screen_key(url)?;
    let pattern = screen_pattern(&key, rules)?;
    let (base, query) = match pattern.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (pattern.as_str(), None),
    };
    let mut address = base.to_owned();
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) if value != "*" && !redact::find(&format!("{name} {value}"), &[]).is_empty() => {
                    format!("{name}=*")
                }
                _ => pair.to_owned(),
            })
            .collect();
        address.push('?');
        address.push_str(&pairs.join("&"));
    }
    page_address(&address)
}

/// What the author chose in the preview: words to hide as well, and likely identifiers
/// to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorChoices {
    #[serde(default)]
    pub hide: Vec<String>,
    #[serde(default)]
    pub keep: Vec<String>,
}

/// The most words an author hides or keeps in one tip, and the longest.
pub const MAX_CHOICES: usize = 50;
const MAX_CHOICE_CHARS: usize = 200;

impl AuthorChoices {
    /// The page's identifiers with the author's hidden words added.
    pub fn identifiers(&self, page: &[PageIdentifier]) -> Vec<PageIdentifier> {
        let hidden = self
            .hide
            .iter()
            .filter(|w| !w.trim().is_empty() && w.chars().count() <= MAX_CHOICE_CHARS)
            .take(MAX_CHOICES)
            .map(|w| PageIdentifier { kind: Kind::Hidden, value: w.trim().to_owned() });
        page.iter().cloned().chain(hidden).collect()
    }

    fn kept(&self) -> Vec<String> {
        self.keep.iter().filter(|w| w.chars().count() <= MAX_CHOICE_CHARS).take(MAX_CHOICES).cloned().collect()
    }
}

/// Makes `tip` fit to share: the screen's address for the page's, and every text with its
/// identifiers (the page's own, `page`, and every pattern) replaced. An element's
/// selector that names an identifier is dropped for one that does not (or for its path).
pub fn share(tip: &mut Tip, page: &[PageIdentifier], rules: &[ScreenRule]) -> Result<Redactions, UrlError> {
    share_as_chosen(tip, page, &AuthorChoices::default(), rules)
}

/// [`share`] with what the author chose in the preview.
pub fn share_as_chosen(
    tip: &mut Tip,
    page: &[PageIdentifier],
    choices: &AuthorChoices,
    rules: &[ScreenRule],
) -> Result<Redactions, UrlError> {
    let identifiers = choices.identifiers(page);
    let page = identifiers.as_slice();
    let mut redactions = Redactions { keep: choices.kept(), ..Redactions::default() };
    let address = screen_address(&tip.target.source, rules)?;
    tip.screen = screen_key(&address)?;
    tip.target.source = address;
    redactions.text(&mut tip.page_title, page);
    redactions.text(&mut tip.note, page);
    for tag in &mut tip.tags {
        redactions.text(tag, page);
    }
    // Two tags that redact alike are one tag.
    let mut seen = Vec::new();
    tip.tags.retain(|tag| {
        let lower = tag.to_lowercase();
        let fresh = !seen.contains(&lower);
        seen.push(lower);
        fresh
    });
    for selector in &mut tip.target.selector {
        match selector {
            Selector::TextQuote { exact, prefix, suffix, block } => {
                redactions.text(exact, page);
                redactions.text_of(prefix, page, Extent::Cut);
                redactions.text_of(suffix, page, Extent::Cut);
                // A block kind is the app's markup, but one that names what the page
                // identifies is not shared at all: a placeholder in it would match nothing.
                if block.as_ref().is_some_and(|kind| !redact::find(kind, page).is_empty()) {
                    *block = None;
                    redactions.count += 1;
                }
            }
            Selector::Css { value, fallbacks, label, text, position, .. } => {
                for part in [label, text].into_iter().flatten() {
                    redactions.text(part, page);
                }
                let clean = |s: &String| redact::find(s, page).is_empty();
                let before = fallbacks.len();
                fallbacks.retain(clean);
                redactions.count += before - fallbacks.len();
                if !clean(value) {
                    redactions.count += 1;
                    *value = fallbacks
                        .first()
                        .cloned()
                        .or_else(|| position.clone().filter(clean))
                        .unwrap_or_else(|| "body".to_owned());
                    fallbacks.retain(|f| f != value);
                }
            }
            Selector::TextPosition { .. } => {}
        }
    }
    for reply in &mut tip.replies {
        redactions.text(&mut reply.text, page);
    }
    redactions.text(&mut tip.curation.title, page);
    redactions.text(&mut tip.curation.summary, page);
    if let Some(flag) = &mut tip.curation.needs_review {
        redactions.text(&mut flag.reason, page);
    }
    Ok(redactions)
}

/// Redacts the words of a curation step (a title, a summary, a review reason).
pub fn share_step(step: &mut Action) -> Redactions {
    let mut redactions = Redactions::default();
    match step {
        Action::Reword { title, summary } => {
            redactions.text(title, &[]);
            redactions.text(summary, &[]);
        }
        Action::Flag { reason } => redactions.text(reason, &[]),
        _ => {}
    }
    redactions
}

/// The first identifier `text` may not carry in a shared tip, as a finding in `field`.
fn check_text(text: &str, field: Field) -> Result<(), Finding> {
    match redact::first_forbidden(text) {
        Some(span) if span.certainty >= Certainty::Pattern => {
            let chars = |byte: usize| text[..byte].chars().count();
            Err(Finding { field, kind: span.kind, start: chars(span.start), end: chars(span.end) })
        }
        _ => Ok(()),
    }
}

/// What the server asks of a shared tip: a screen's address, and no identifier a pattern
/// finds in any of its texts.
pub fn check_tip(tip: &Tip) -> Result<(), Finding> {
    let address_ok = screen_address(&tip.target.source, &[]).is_ok_and(|a| a == tip.target.source);
    if !address_ok {
        return Err(Finding {
            field: Field::Address,
            kind: Kind::Id,
            start: 0,
            end: tip.target.source.chars().count(),
        });
    }
    check_text(&tip.page_title, Field::Title)?;
    check_text(&tip.note, Field::Note)?;
    tip.tags.iter().try_for_each(|tag| check_text(tag, Field::Tag))?;
    for selector in &tip.target.selector {
        match selector {
            Selector::TextQuote { exact, prefix, suffix, block } => {
                check_text(exact, Field::Quote)?;
                check_text(prefix, Field::Context)?;
                check_text(suffix, Field::Context)?;
                block.iter().try_for_each(|kind| check_text(kind, Field::Context))?;
            }
            Selector::Css { value, fallbacks, label, text, .. } => {
                for part in [label, text].into_iter().flatten() {
                    check_text(part, Field::Element)?;
                }
                std::iter::once(value).chain(fallbacks).try_for_each(|s| check_text(s, Field::Element))?;
            }
            Selector::TextPosition { .. } => {}
        }
    }
    tip.replies.iter().try_for_each(|reply| check_text(&reply.text, Field::Reply))?;
    check_text(&tip.curation.title, Field::CuratorTitle)?;
    check_text(&tip.curation.summary, Field::CuratorSummary)?;
    if let Some(flag) = &tip.curation.needs_review {
        check_text(&flag.reason, Field::ReviewReason)?;
    }
    Ok(())
}

/// What the server asks of every change a member pushes.
pub fn check_change(change: &Change) -> Result<(), Finding> {
    match change {
        Change::Put { tip } => check_tip(tip),
        Change::Patch { note, tags, page_title, .. } => {
            note.iter().try_for_each(|n| check_text(n, Field::Note))?;
            tags.iter().flatten().try_for_each(|t| check_text(t, Field::Tag))?;
            page_title.iter().try_for_each(|t| check_text(t, Field::Title))
        }
        Change::Reply { reply, .. } => check_text(&reply.text, Field::Reply),
        Change::Curate { step: Action::Reword { title, summary }, .. } => {
            check_text(title, Field::CuratorTitle)?;
            check_text(summary, Field::CuratorSummary)
        }
        Change::Curate { step: Action::Flag { reason }, .. } => check_text(reason, Field::ReviewReason),
        Change::Curate { .. } | Change::Delete { .. } | Change::Helpful { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NewTip, Timestamp, TipId, Visibility};

    fn captured(url: &str, title: &str, note: &str, prefix: &str, exact: &str, suffix: &str) -> Tip {
        NewTip {
            page_url: url.to_owned(),
            page_title: title.to_owned(),
            note: note.to_owned(),
            tags: vec!["orders".to_owned()],
            visibility: Visibility::Team,
            selectors: vec![
                Selector::TextQuote {
                    exact: exact.to_owned(),
                    prefix: prefix.to_owned(),
                    suffix: suffix.to_owned(),
                    block: None,
                },
                Selector::TextPosition { start: 40, end: 46 },
            ],
        }
        .into_tip(TipId::new_v7(1, [1; 10]), "Dana", Timestamp(1_700_000_000_000))
        .expect("a valid tip")
    }

    fn banner() -> Vec<PageIdentifier> {
        vec![
            PageIdentifier { kind: Kind::Name, value: "Jane Doe".into() },
            PageIdentifier { kind: Kind::Mrn, value: "2024-004817".into() },
            PageIdentifier { kind: Kind::Date, value: "1951-03-14".into() },
        ]
    }

    #[test]
    fn the_issues_tip_shares_its_screen_and_no_identifier() {
        let mut tip = captured(
            "https://nurse:pw@emr.example/patients/4471/orders?visit=88123401&tab=orders#bed",
            "Jane Doe \u{2014} Orders \u{2014} Riverside General EMR",
            "Bed 12 order sets show after the upgrade; DOB 1951-03-14 check first",
            "-004817 DOB 1951-03-14 Location ",
            "Bed 12",
            " Attending Dr. A. Okafor Allergi",
        );
        let raw = tip.clone();
        assert_eq!(check_tip(&raw).map_err(|f| f.field), Err(Field::Address), "the raw tip is refused");
        let redactions = share(&mut tip, &banner(), &[]).expect("shared");
        assert_eq!(tip.target.source, "https://emr.example/patients/*/orders?visit=*&tab=orders");
        assert_eq!(tip.screen, tip.target.source);
        assert_eq!(tip.page_title, "[name] \u{2014} Orders \u{2014} Riverside General EMR");
        assert_eq!(tip.note, "Bed 12 order sets show after the upgrade; DOB [date] check first");
        assert_eq!(
            tip.target.selector[0],
            Selector::TextQuote {
                exact: "Bed 12".into(),
                prefix: "[MRN] DOB [date] Location ".into(),
                suffix: " Attending Dr. [name] Allergi".into(),
                block: None,
            }
        );
        assert!(redactions.count >= 5, "{redactions:?}");
        tip.validate().expect("still a valid tip");
        check_tip(&tip).expect("the server takes it");
        // Shared again, nothing changes: the extension's result is what the server checks.
        let again = tip.clone();
        share(&mut tip, &banner(), &[]).expect("shared");
        assert_eq!(tip, again);
    }

    #[test]
    fn a_block_kind_is_shared_unless_it_names_what_the_page_identifies() {
        let with_block = |kind: &str| {
            let mut tip = captured("http://emr.example/orders", "Orders", "note", "Active ", "Bed 12", " PRN");
            if let Selector::TextQuote { block, .. } = &mut tip.target.selector[0] {
                *block = Some(kind.to_owned());
            }
            tip
        };
        let block_of = |tip: &Tip| match &tip.target.selector[0] {
            Selector::TextQuote { block, .. } => block.clone(),
            _ => None,
        };
        let mut plain = with_block("td.drug < tr");
        share(&mut plain, &banner(), &[]).expect("shared");
        assert_eq!(block_of(&plain).as_deref(), Some("td.drug < tr"));
        assert_eq!(check_tip(&plain), Ok(()));

        let mut naming = with_block("td.Jane.Doe < tr");
        let redactions = share(&mut naming, &banner(), &[]).expect("shared");
        assert_eq!(block_of(&naming), None, "dropped, not shared");
        assert!(redactions.count >= 1);
        let crafted = with_block("td.ssn-123-45-6789 < tr");
        assert_eq!(check_tip(&crafted).map_err(|f| f.kind), Err(Kind::Ssn), "the server checks it too");
    }

    #[test]
    fn the_server_refuses_changes_that_carry_a_pattern_identifier() {
        let reply = |text: &str| Change::Reply {
            tip_id: TipId::new_v7(1, [2; 10]),
            reply: crate::model::Reply {
                id: TipId::new_v7(1, [3; 10]),
                author: "Sam".into(),
                created: Timestamp(1),
                text: text.into(),
            },
        };
        assert_eq!(check_change(&reply("works for me")), Ok(()));
        let finding = check_change(&reply("her SSN is 123-45-6789")).expect_err("refused");
        assert_eq!((finding.field, finding.kind, finding.start, finding.end), (Field::Reply, Kind::Ssn, 11, 22));
        assert!(!finding.to_string().contains("6789"), "never the value: {finding}");
        let reword = Change::Curate {
            tip_id: TipId::new_v7(1, [2; 10]),
            by: "Cy".into(),
            step: Action::Reword { title: "Call 555-201-7788".into(), summary: String::new() },
        };
        assert_eq!(check_change(&reword).map_err(|f| f.kind), Err(Kind::Phone));
    }

    #[test]
    fn the_author_hides_more_and_keeps_a_likely_name_but_never_a_page_identifier() {
        let mut tip = captured(
            "https://emr.example/board",
            "Board",
            "Ask Maria Gonzalez in pharmacy; Jane Doe's bed is 4 West",
            "Ward 4 West ",
            "Bed 12",
            "",
        );
        let choices =
            AuthorChoices { hide: vec!["4 West".into()], keep: vec!["Maria Gonzalez".into(), "Jane Doe".into()] };
        share_as_chosen(&mut tip, &banner(), &choices, &[]).expect("shared");
        assert_eq!(tip.note, "Ask Maria Gonzalez in pharmacy; [name]'s bed is [hidden]");
        let Selector::TextQuote { prefix, .. } = &tip.target.selector[0] else { panic!("quote") };
        assert_eq!(prefix, "Ward [hidden] ");
        check_tip(&tip).expect("a kept likely name is the author's call; the server takes it");
    }

    #[test]
    fn team_rules_name_the_screen_and_an_element_selector_naming_a_patient_is_replaced() {
        let rules = crate::screen::parse_rules(&["/wards/*/board".to_owned()]).expect("rules");
        assert_eq!(
            screen_address("https://emr.example/wards/4West/board?mrn=A99812", &rules).as_deref(),
            Ok("https://emr.example/wards/*/board?mrn=*")
        );
        let mut tip = captured("https://emr.example/board", "Board", "Press here", "", "x", "");
        tip.target.selector = vec![Selector::Css {
            value: "[aria-label=\"Jane Doe\"]".into(),
            fallbacks: vec!["#chart-open".into()],
            tag: Some("button".into()),
            label: Some("Open Jane Doe's chart".into()),
            text: None,
            position: Some("body>main>button:nth-of-type(2)".into()),
        }];
        share(&mut tip, &banner(), &rules).expect("shared");
        let Selector::Css { value, fallbacks, label, .. } = &tip.target.selector[0] else { panic!("css") };
        assert_eq!(value, "#chart-open");
        assert!(fallbacks.is_empty());
        assert_eq!(label.as_deref(), Some("Open [name]'s chart"));
    }
}
