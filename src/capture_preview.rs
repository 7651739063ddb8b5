//! What the capture form shows of a shared tip before it is saved: each text as teammates
//! will read it, its identifiers marked (see [`inflow_core::redact`]). Native, so it is
//! tested without a browser. The worker makes the pieces (`PageRequest::SharePreview`) and
//! the tip frame draws them ([`crate::tip_frame`]), so the frame's package carries no
//! redactor.

use inflow_core::redact::{self, Certainty, Extent, Kind, PageIdentifier};
use inflow_core::sharing::AuthorChoices;

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
}
