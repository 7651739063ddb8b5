//! The tip: a note anchored to a place on a screen, shaped like a W3C Web Annotation
//! (`target.source` + `target.selector`), with the limits every copy of it must respect.

use serde::{Deserialize, Serialize};

use crate::curation::Curation;
use crate::id::TipId;
use crate::text::{normalize, MAX_BLOCK_KIND_CHARS};
use crate::time::Timestamp;
use crate::url::{is_page_address, page_address, screen_key, UrlError};

/// The longest note, in characters: about four printed pages.
pub const MAX_NOTE_CHARS: usize = 10_000;
/// The longest quote a tip can anchor to, in characters.
pub const MAX_QUOTE_CHARS: usize = 5_000;
/// Prefix and suffix context kept on each side of a quote, in characters.
pub const CONTEXT_CHARS: usize = 32;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_AUTHOR_CHARS: usize = 100;
pub const MAX_SELECTORS: usize = 8;
pub const MAX_CSS_SELECTOR_CHARS: usize = 1_000;
/// The most replies one tip keeps.
pub const MAX_REPLIES: usize = 200;

/// Who may see a tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Never leaves the device that captured it.
    #[default]
    Private,
    /// Shared with the author's team.
    Team,
}

/// One way of finding the tip's place again, as in the W3C Web Annotation model.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Selector {
    /// The quoted text with some context on each side (normalised, see [`crate::text`]).
    #[serde(rename = "TextQuoteSelector")]
    TextQuote {
        exact: String,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        suffix: String,
        /// Inflow's own: the kind of block the quote was in (see [`crate::text::BlockKinds`]),
        /// which tells apart copies of the same words the text alone cannot (a headline in
        /// the story and in a list of related stories) once paragraphs have moved.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        block: Option<String>,
    },
    /// Where the quote was, in UTF-16 code units of the page's raw text: a hint only.
    #[serde(rename = "TextPositionSelector")]
    TextPosition { start: u32, end: u32 },
    /// An element, for tips pinned to a control rather than to text (see
    /// [`crate::element`]). `value` is the W3C CssSelector; the other fields are Inflow's
    /// own: ranked fallbacks, and what recognises the element when no selector is unique.
    #[serde(rename = "CssSelector")]
    Css {
        value: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fallbacks: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tag: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        /// The element's path from `<body>`: a last resort, trusted only while its tag and
        /// text still agree.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<String>,
    },
}

/// What a tip is attached to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The page address the tip was captured on.
    pub source: String,
    pub selector: Vec<Selector>,
}

impl Target {
    /// Whether the tip is pinned to an element rather than to text.
    pub fn is_element(&self) -> bool {
        self.quote().is_none() && self.selector.iter().any(|s| matches!(s, Selector::Css { .. }))
    }

    pub fn quote(&self) -> Option<&str> {
        self.selector.iter().find_map(|s| match s {
            Selector::TextQuote { exact, .. } => Some(exact.as_str()),
            _ => None,
        })
    }
}

/// A stored tip.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tip {
    pub id: TipId,
    pub author: String,
    pub created: Timestamp,
    pub modified: Timestamp,
    /// The screen key of `target.source` (see [`crate::url`]). Derived, but stored so
    /// that storage can index tips by screen.
    pub screen: String,
    pub page_title: String,
    pub note: String,
    pub tags: Vec<String>,
    pub visibility: Visibility,
    pub target: Target,
    /// Teammates' replies, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replies: Vec<Reply>,
    /// Who marked the tip helpful, in name order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub helpful: Vec<String>,
    /// Where curators have taken the tip (see [`crate::curation`]).
    #[serde(default, skip_serializing_if = "Curation::is_untouched")]
    pub curation: Curation,
}

/// A teammate's answer to a tip. Replies are only ever added, never edited, so every copy
/// of a tip converges on the union of its replies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    pub id: TipId,
    pub author: String,
    pub created: Timestamp,
    pub text: String,
}

impl Reply {
    pub fn validate(&self) -> Result<(), TipError> {
        if self.author.trim().is_empty() || self.author.chars().count() > MAX_AUTHOR_CHARS {
            return Err(TipError::BadAuthor);
        }
        if self.text.trim().is_empty() {
            return Err(TipError::EmptyReply);
        }
        let chars = self.text.chars().count();
        if chars > MAX_NOTE_CHARS {
            return Err(TipError::NoteTooLong { chars });
        }
        Ok(())
    }
}

/// What a user submits when capturing a tip, before validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTip {
    pub page_url: String,
    #[serde(default)]
    pub page_title: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub visibility: Visibility,
    pub selectors: Vec<Selector>,
}

/// Why a tip cannot be saved. Messages are shown to the user as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TipError {
    #[error("Select some text on the page first.")]
    EmptyQuote,
    #[error("The selection is too long ({chars} characters); select at most {MAX_QUOTE_CHARS}.")]
    QuoteTooLong { chars: usize },
    #[error("The note is too long ({chars} characters); the limit is {MAX_NOTE_CHARS}.")]
    NoteTooLong { chars: usize },
    #[error("Too many tags ({count}); a tip can have at most {MAX_TAGS}.")]
    TooManyTags { count: usize },
    #[error("The tag \"{tag}…\" is longer than {MAX_TAG_CHARS} characters.")]
    TagTooLong { tag: String },
    #[error("The author name must be 1 to {MAX_AUTHOR_CHARS} characters.")]
    BadAuthor,
    #[error("A tip needs a text quote or an element to attach to.")]
    NoTarget,
    #[error("A tip can have at most {MAX_SELECTORS} selectors.")]
    TooManySelectors,
    #[error("The element's description is too long (selectors over {MAX_CSS_SELECTOR_CHARS} characters, or too many of them).")]
    CssSelectorTooLong,
    #[error("The text position is backwards (start {start} is after end {end}).")]
    BadPosition { start: u32, end: u32 },
    #[error("The tip's screen does not match its page address.")]
    ScreenMismatch,
    #[error("The page title is longer than {MAX_TITLE_CHARS} characters.")]
    TitleTooLong,
    #[error("Tags must be trimmed, non-empty and without repeats.")]
    UncleanTags,
    #[error("This page can't hold tips: {0}.")]
    BadUrl(#[from] UrlError),
    #[error("Write something to reply.")]
    EmptyReply,
    #[error("A tip can have at most {MAX_REPLIES} replies.")]
    TooManyReplies,
    #[error("Helpful marks must name members once each, in order.")]
    BadHelpfulMarks,
    #[error("Write a note before sharing it with your team. A highlight without a note stays with you: choose \u{201c}Only me\u{201d}.")]
    SharedWithoutNote,
    #[error("Only the tip's author ({author}) can change or delete it.")]
    NotTheAuthor { author: String },
    #[error("The tip's time is outside the years 1970 to 9999; check the device's clock.")]
    TimeOutOfRange,
}

/// What the author may change of a tip after saving it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TipEdit {
    pub note: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub visibility: Visibility,
}

impl NewTip {
    /// Checks every limit and builds the tip. Either the whole tip is valid or nothing
    /// is produced: there is no half-valid tip to store.
    pub fn into_tip(self, id: TipId, author: &str, now: Timestamp) -> Result<Tip, TipError> {
        if !now.in_range() {
            return Err(TipError::TimeOutOfRange);
        }
        let source = page_address(&self.page_url)?;
        let screen = screen_key(&source)?;
        let author = author.trim();
        if author.is_empty() || author.chars().count() > MAX_AUTHOR_CHARS {
            return Err(TipError::BadAuthor);
        }
        check_note(&self.note, self.visibility)?;
        let tags = clean_tags(&self.tags)?;
        let selector = clean_selectors(self.selectors)?;
        Ok(Tip {
            id,
            author: author.to_owned(),
            created: now,
            modified: now,
            screen,
            page_title: truncate_chars(self.page_title.trim(), MAX_TITLE_CHARS),
            note: self.note,
            tags,
            visibility: self.visibility,
            target: Target { source, selector },
            replies: Vec::new(),
            helpful: Vec::new(),
            curation: Curation::default(),
        })
    }
}

/// A note within its limit; a tip shared with the team says something. An empty note is a
/// plain highlight, kept on the device: a teammate's feed is no place for one.
fn check_note(note: &str, visibility: Visibility) -> Result<(), TipError> {
    let chars = note.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(TipError::NoteTooLong { chars });
    }
    if visibility == Visibility::Team && note.trim().is_empty() {
        return Err(TipError::SharedWithoutNote);
    }
    Ok(())
}

/// Trims tags, collapses inner whitespace, drops empties and case-insensitive repeats.
pub fn clean_tags(tags: &[String]) -> Result<Vec<String>, TipError> {
    let mut clean: Vec<String> = Vec::new();
    for tag in tags {
        let tag = normalize(tag.trim());
        if tag.is_empty() || clean.iter().any(|t| t.to_lowercase() == tag.to_lowercase()) {
            continue;
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(TipError::TagTooLong { tag: truncate_chars(&tag, 20) });
        }
        clean.push(tag);
    }
    if clean.len() > MAX_TAGS {
        return Err(TipError::TooManyTags { count: clean.len() });
    }
    Ok(clean)
}

impl Tip {
    /// The author's edit, checked as a capture is: nothing changes unless all of it is
    /// valid and `by` wrote the tip.
    pub fn edit(&mut self, by: &str, edit: TipEdit, now: Timestamp) -> Result<(), TipError> {
        if by != self.author {
            return Err(TipError::NotTheAuthor { author: self.author.clone() });
        }
        check_note(&edit.note, edit.visibility)?;
        self.tags = clean_tags(&edit.tags)?;
        self.note = edit.note;
        self.visibility = edit.visibility;
        self.modified = now;
        Ok(())
    }

    /// Adds a reply unless it is there already, keeping replies in time order (then id):
    /// the same list whatever order replies arrive in.
    pub fn add_reply(&mut self, reply: Reply) -> Result<(), TipError> {
        reply.validate()?;
        if self.replies.iter().any(|r| r.id == reply.id) {
            return Ok(());
        }
        if self.replies.len() >= MAX_REPLIES {
            return Err(TipError::TooManyReplies);
        }
        self.replies.push(reply);
        self.replies.sort_by_key(|r| (r.created, r.id));
        Ok(())
    }

    /// Sets whether `member` finds the tip helpful; the list stays in name order.
    pub fn set_helpful(&mut self, member: &str, helpful: bool) {
        match (self.helpful.binary_search_by(|name| name.as_str().cmp(member)), helpful) {
            (Err(at), true) => self.helpful.insert(at, member.to_owned()),
            (Ok(at), false) => {
                self.helpful.remove(at);
            }
            _ => {}
        }
    }

    /// Checks a tip that arrives already built (from another device, through sync) against
    /// the same limits [`NewTip::into_tip`] applies when one is captured.
    pub fn validate(&self) -> Result<(), TipError> {
        if !self.created.in_range() || !self.modified.in_range() || self.replies.iter().any(|r| !r.created.in_range()) {
            return Err(TipError::TimeOutOfRange);
        }
        if !is_page_address(&self.target.source) {
            return Err(TipError::BadUrl(UrlError::NotAUri));
        }
        if self.screen != screen_key(&self.target.source)? {
            return Err(TipError::ScreenMismatch);
        }
        if self.author.trim().is_empty() || self.author.chars().count() > MAX_AUTHOR_CHARS {
            return Err(TipError::BadAuthor);
        }
        let note_chars = self.note.chars().count();
        if note_chars > MAX_NOTE_CHARS {
            return Err(TipError::NoteTooLong { chars: note_chars });
        }
        if self.page_title.chars().count() > MAX_TITLE_CHARS {
            return Err(TipError::TitleTooLong);
        }
        if clean_tags(&self.tags)? != self.tags {
            return Err(TipError::UncleanTags);
        }
        if self.replies.len() > MAX_REPLIES {
            return Err(TipError::TooManyReplies);
        }
        self.replies.iter().try_for_each(Reply::validate)?;
        let in_order = self.helpful.windows(2).all(|pair| pair[0] < pair[1]);
        if !in_order
            || self.helpful.iter().any(|name| name.trim().is_empty() || name.chars().count() > MAX_AUTHOR_CHARS)
        {
            return Err(TipError::BadHelpfulMarks);
        }
        check_selectors(&self.target.selector)
    }
}

fn clean_selectors(selectors: Vec<Selector>) -> Result<Vec<Selector>, TipError> {
    check_selectors(&selectors)?;
    Ok(selectors
        .into_iter()
        .map(|s| match s {
            Selector::TextQuote { exact, prefix, suffix, block } => Selector::TextQuote {
                exact: normalize(exact.trim()),
                prefix: last_chars(&normalize(&prefix), CONTEXT_CHARS),
                suffix: truncate_chars(&normalize(&suffix), CONTEXT_CHARS),
                block: block.filter(|kind| kind.chars().count() <= MAX_BLOCK_KIND_CHARS && !kind.is_empty()),
            },
            other => other,
        })
        .collect())
}

fn check_selectors(selectors: &[Selector]) -> Result<(), TipError> {
    if selectors.len() > MAX_SELECTORS {
        return Err(TipError::TooManySelectors);
    }
    let mut has_target = false;
    for selector in selectors {
        match selector {
            Selector::TextQuote { exact, .. } => {
                let chars = exact.trim().chars().count();
                if chars == 0 {
                    return Err(TipError::EmptyQuote);
                }
                if chars > MAX_QUOTE_CHARS {
                    return Err(TipError::QuoteTooLong { chars });
                }
                has_target = true;
            }
            Selector::Css { value, fallbacks, label, text, position, .. } => {
                let too_long = |s: &String| s.chars().count() > MAX_CSS_SELECTOR_CHARS;
                if too_long(value)
                    || fallbacks.len() > MAX_SELECTORS
                    || fallbacks.iter().any(too_long)
                    || position.as_ref().is_some_and(too_long)
                {
                    return Err(TipError::CssSelectorTooLong);
                }
                if [label, text].into_iter().flatten().any(|t| t.chars().count() > crate::element::MAX_ELEMENT_TEXT) {
                    return Err(TipError::CssSelectorTooLong);
                }
                has_target |= !value.trim().is_empty();
            }
            Selector::TextPosition { start, end } if start > end => {
                return Err(TipError::BadPosition { start: *start, end: *end });
            }
            Selector::TextPosition { .. } => {}
        }
    }
    if !has_target {
        return Err(TipError::NoTarget);
    }
    Ok(())
}

/// The first `max` characters of `s`.
pub fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The last `max` characters of `s`.
pub fn last_chars(s: &str, max: usize) -> String {
    let skip = s.chars().count().saturating_sub(max);
    s.chars().skip(skip).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_tip(note: &str, exact: &str) -> NewTip {
        NewTip {
            page_url: "http://127.0.0.1:8700/patients/1/orders#x".into(),
            page_title: "  Orders — Riverside EMR ".into(),
            note: note.into(),
            tags: vec!["orders".into(), " Orders ".into(), "  order   sets ".into(), "".into()],
            visibility: Visibility::Team,
            selectors: vec![
                Selector::TextQuote {
                    exact: exact.into(),
                    prefix: "p".repeat(40),
                    suffix: "s".repeat(40),
                    block: None,
                },
                Selector::TextPosition { start: 10, end: 20 },
            ],
        }
    }

    fn build(tip: NewTip) -> Result<Tip, TipError> {
        tip.into_tip(TipId::new_v7(1, [0; 10]), "Dana (RN)", Timestamp(1_700_000_000_000))
    }

    #[test]
    fn valid_tip_is_cleaned_up() {
        let tip = build(new_tip("Use the *order set* tab", " Metoprolol\n 25 mg ")).expect("valid");
        assert_eq!(tip.screen, "http://127.0.0.1:8700/patients/1/orders");
        assert_eq!(tip.page_title, "Orders — Riverside EMR");
        assert_eq!(tip.tags, vec!["orders", "order sets"]);
        assert_eq!(tip.target.quote(), Some("Metoprolol 25 mg"));
        let Selector::TextQuote { prefix, suffix, .. } = &tip.target.selector[0] else { panic!("quote first") };
        assert_eq!((prefix.len(), suffix.len()), (CONTEXT_CHARS, CONTEXT_CHARS));
    }

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert_eq!(build(new_tip("n", "  \n ")), Err(TipError::EmptyQuote));
        let long_note = "x".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(build(new_tip(&long_note, "q")), Err(TipError::NoteTooLong { chars: MAX_NOTE_CHARS + 1 }));
        let mut bad_url = new_tip("n", "q");
        bad_url.page_url = "file:///etc/passwd".into();
        assert_eq!(build(bad_url), Err(TipError::BadUrl(UrlError::UnsupportedScheme)));
        let mut many_tags = new_tip("n", "q");
        many_tags.tags = (0..=MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(build(many_tags), Err(TipError::TooManyTags { count: MAX_TAGS + 1 }));
        let mut no_target = new_tip("n", "q");
        no_target.selectors = vec![Selector::TextPosition { start: 1, end: 2 }];
        assert_eq!(build(no_target), Err(TipError::NoTarget));
    }

    #[test]
    fn an_empty_note_is_a_highlight_that_stays_private() {
        assert_eq!(build(new_tip("  \n ", "q")), Err(TipError::SharedWithoutNote));
        let mut highlight = new_tip("", "q");
        highlight.visibility = Visibility::Private;
        let mut tip = build(highlight).expect("a private highlight");
        let share = |note: &str| TipEdit { note: note.into(), tags: vec![], visibility: Visibility::Team };
        assert_eq!(tip.edit("Dana (RN)", share(""), Timestamp(1)), Err(TipError::SharedWithoutNote));
        assert_eq!(tip.visibility, Visibility::Private, "nothing changes unless all of it is valid");
        assert_eq!(
            tip.edit("Sam", share("mine now"), Timestamp(1)),
            Err(TipError::NotTheAuthor { author: "Dana (RN)".into() })
        );
        let edit = TipEdit {
            note: "Order set is under Quick Orders".into(),
            tags: vec![" orders ".into(), "Orders".into()],
            visibility: Visibility::Team,
        };
        tip.edit("Dana (RN)", edit, Timestamp(5)).expect("the author's edit");
        assert_eq!(
            (tip.note.as_str(), tip.tags.clone(), tip.visibility, tip.modified),
            ("Order set is under Quick Orders", vec!["orders".to_owned()], Visibility::Team, Timestamp(5))
        );
    }

    #[test]
    fn json_shape_follows_the_web_annotation_model() {
        let tip = build(new_tip("note", "Metoprolol")).expect("valid");
        let json = serde_json::to_value(&tip).expect("serialises");
        assert_eq!(json["target"]["source"], "http://127.0.0.1:8700/patients/1/orders#x");
        assert_eq!(json["target"]["selector"][0]["type"], "TextQuoteSelector");
        assert_eq!(json["target"]["selector"][1]["type"], "TextPositionSelector");
        assert_eq!(json["created"], "2023-11-14T22:13:20.000Z");
        assert_eq!(json["visibility"], "team");
        let back: Tip = serde_json::from_value(json).expect("deserialises");
        assert_eq!(back, tip);
    }
}
