//! What the capture form, and the edit form of a tip about to be shared, show of a shared
//! tip before it is saved: each text as teammates will read it, its identifiers marked (see
//! [`inflow_core::redact`]). Native, so it is tested without a browser. The worker makes the
//! pieces (`PageRequest::SharePreview`, `PageRequest::EditPreview`) and the pages draw them
//! ([`crate::tip_view::fill_preview`]), so the pages' packages carry no redactor.

use inflow_core::redact::{self, Certainty, Extent, Kind, PageIdentifier};
use inflow_core::sharing::AuthorChoices;
use inflow_core::{Selector, Tip, TipEdit};

/// One piece of a previewed text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Piece {
    /// Shared as written.
    Text { text: String },
    /// Replaced by its placeholder. `undoable`: a likely identifier the author may keep;
    /// `hidden_by_author`: words the author hid, which they may show again.
    #[serde(rename_all = "camelCase")]
    Replaced { kind: Kind, original: String, undoable: bool, hidden_by_author: bool },
    /// A likely identifier the author chose to keep: shared as written, and may be hidden again.
    Kept { original: String },
}

/// `text` (whole, or a context cut at its ends) as it will be shared, in pieces, given the page's identifying values and what the
/// author chose so far.
pub fn pieces(text: &str, extent: Extent, page: &[PageIdentifier], choices: &AuthorChoices) -> Vec<Piece> {
    let identifiers = choices.identifiers(page);
    let mut out = Vec::new();
    let mut at = 0;
    for span in redact::find_in(text, &identifiers, extent) {
        if span.start > at {
            out.push(Piece::Text { text: text[at..span.start].to_owned() });
        }
        let original = text[span.start..span.end].to_owned();
        let likely = span.certainty == Certainty::Likely;
        if likely && choices.keep.contains(&original) {
            out.push(Piece::Kept { original });
        } else {
            out.push(Piece::Replaced {
                kind: span.kind,
                original,
                undoable: likely,
                hidden_by_author: span.kind == Kind::Hidden,
            });
        }
        at = span.end;
    }
    if at < text.len() {
        out.push(Piece::Text { text: text[at..].to_owned() });
    }
    out
}

/// The six texts of a tip as its edit form would share it, in pieces: the page's title, the
/// quote's context before, the quote (a pinned control's label or text), the context after,
/// the note and the tags (one text, comma separated), as the capture form shows them.
/// `page` holds the values of the page the tip was captured on, kept on this device while
/// the tip was private; a tip already shared has none left to find.
pub fn edit_pieces(tip: &Tip, edit: &TipEdit, page: &[PageIdentifier], choices: &AuthorChoices) -> Vec<Vec<Piece>> {
    let (prefix, quote, suffix) = tip
        .target
        .selector
        .iter()
        .find_map(|selector| match selector {
            Selector::TextQuote { exact, prefix, suffix, .. } => {
                Some((prefix.as_str(), exact.clone(), suffix.as_str()))
            }
            _ => None,
        })
        .or_else(|| {
            tip.target.selector.iter().find_map(|selector| match selector {
                Selector::Css { label, text, .. } => {
                    let described = label.as_deref().filter(|l| !l.is_empty()).or(text.as_deref()).unwrap_or_default();
                    Some(("", described.to_owned(), ""))
                }
                _ => None,
            })
        })
        .unwrap_or(("", String::new(), ""));
    let tags: Vec<&str> = edit.tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    [
        (tip.page_title.as_str(), Extent::Whole),
        (prefix, Extent::Cut),
        (quote.as_str(), Extent::Whole),
        (suffix, Extent::Cut),
        (edit.note.as_str(), Extent::Whole),
        (&tags.join(", "), Extent::Whole),
    ]
    .into_iter()
    .map(|(text, extent)| pieces(text, extent, page, choices))
    .collect()
}

/// How many identifiers the pieces replace.
pub fn replaced(pieces: &[Piece]) -> usize {
    pieces.iter().filter(|p| matches!(p, Piece::Replaced { .. })).count()
}

/// The author keeps a likely identifier as written, or hides it again.
pub fn toggle_keep(choices: &mut AuthorChoices, original: &str) {
    match choices.keep.iter().position(|k| k == original) {
        Some(at) => {
            choices.keep.remove(at);
        }
        None if choices.keep.len() < inflow_core::sharing::MAX_CHOICES => choices.keep.push(original.to_owned()),
        None => {}
    }
}

/// The author hides words (selected in the preview), or shows hidden ones again.
pub fn toggle_hide(choices: &mut AuthorChoices, words: &str) {
    let words = words.trim();
    if words.is_empty() {
        return;
    }
    match choices.hide.iter().position(|h| h.eq_ignore_ascii_case(words)) {
        Some(at) => {
            choices.hide.remove(at);
        }
        None if choices.hide.len() < inflow_core::sharing::MAX_CHOICES => choices.hide.push(words.to_owned()),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn banner() -> Vec<PageIdentifier> {
        vec![PageIdentifier { kind: Kind::Name, value: "Jane Doe".into() }]
    }

    #[test]
    fn the_preview_marks_what_goes_and_lets_the_author_keep_likely_ones_and_hide_more() {
        let note = "Ask Maria Gonzalez before Jane Doe's 4 West transfer";
        let mut choices = AuthorChoices::default();
        let first = pieces(note, Extent::Whole, &banner(), &choices);
        assert_eq!(replaced(&first), 2);
        assert!(first.contains(&Piece::Replaced {
            kind: Kind::Name,
            original: "Maria Gonzalez".into(),
            undoable: true,
            hidden_by_author: false
        }));
        assert!(
            first.contains(&Piece::Replaced {
                kind: Kind::Name,
                original: "Jane Doe".into(),
                undoable: false,
                hidden_by_author: false
            }),
            "the page's own name cannot be kept: {first:?}"
        );
        toggle_keep(&mut choices, "Maria Gonzalez");
        toggle_hide(&mut choices, " 4 West ");
        let second = pieces(note, Extent::Whole, &banner(), &choices);
        assert!(second.contains(&Piece::Kept { original: "Maria Gonzalez".into() }));
        assert!(second
            .iter()
            .any(|p| matches!(p, Piece::Replaced { hidden_by_author: true, original, .. } if original == "4 West")));
        // The save makes of it what the preview showed.
        let shared = redact::redact_keeping(note, &choices.identifiers(&banner()), &choices.keep, Extent::Whole).text;
        assert_eq!(shared, "Ask Maria Gonzalez before [name]'s [hidden] transfer");
        toggle_hide(&mut choices, "4 west");
        toggle_keep(&mut choices, "Maria Gonzalez");
        assert_eq!(choices, AuthorChoices::default(), "both undone");
    }

    #[test]
    fn a_private_tip_about_to_be_shared_previews_its_kept_page_values_and_the_new_words() {
        use inflow_core::{NewTip, Timestamp, TipId, Visibility};
        let tip = NewTip {
            page_url: "https://emr.example/patients/1/orders".into(),
            page_title: "Jane Doe — Orders".into(),
            note: "Jane Doe: check the hold rule".into(),
            tags: vec![],
            visibility: Visibility::Private,
            selectors: vec![Selector::TextQuote {
                exact: "Hold if HR < 60".into(),
                prefix: "Jane Doe, Metoprolol ".into(),
                suffix: " or SBP < 100".into(),
                block: None,
            }],
        }
        .into_tip(TipId::new_v7(1_790_000_000_000, [1; 10]), "Dana", Timestamp(1_790_000_000_000))
        .expect("a valid tip");
        let edit = TipEdit {
            note: "Ask Maria Gonzalez; Jane Doe's list is in the drawer".into(),
            tags: vec!["Doe".into(), " orders ".into()],
            visibility: Visibility::Team,
        };
        let texts = edit_pieces(&tip, &edit, &banner(), &AuthorChoices::default());
        let shared: Vec<String> = texts
            .iter()
            .map(|pieces| {
                pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Text { text } => text.clone(),
                        Piece::Replaced { kind, .. } => kind.placeholder().to_owned(),
                        Piece::Kept { original } => original.clone(),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            shared,
            [
                "[name] — Orders",
                "[name], Metoprolol ",
                "Hold if HR < 60",
                " or SBP < 100",
                "Ask [name]; [name]'s list is in the drawer",
                "[name], orders",
            ],
            "the page's name everywhere, the new words checked too"
        );
    }
}
