//! Describing a selection as selectors, and finding those selectors again in a page.
//!
//! Capture calls [`describe`] with the raw offsets of the user's selection; anchoring
//! calls [`anchor`] with a tip's selectors. Both see the page through [`PageText`], so
//! they agree on normalisation. A quote is only placed where its exact text is found; a
//! place chosen among look-alikes must be clearly better than the runner-up, otherwise
//! the tip is reported as not placed ("needs review") rather than guessed.

use serde::{Deserialize, Serialize};

use crate::model::{last_chars, truncate_chars, Selector, CONTEXT_CHARS};
use crate::text::PageText;

/// Where a tip was placed, in raw UTF-16 offsets of the page text, with a confidence
/// score from 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub start: u32,
    pub end: u32,
    pub score: f32,
}

/// Scores below this are "needs review": shown as unplaced, never painted.
pub const CONFIDENCE_FLOOR: f32 = 0.5;

/// How much more than the runner-up a chosen candidate must score to be trusted.
const MIN_LEAD: f32 = 0.05;

/// Why a selection cannot be described.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    #[error("Select some text on the page first.")]
    EmptySelection,
    #[error("The selection is outside the page text.")]
    OutOfRange,
}

/// Describes the raw UTF-16 range `start..end` of `page` as a quote with context and a
/// position. Leading and trailing whitespace is not part of the quote.
pub fn describe(page: &PageText, start: u32, end: u32) -> Result<Vec<Selector>, DescribeError> {
    if start > end || end > page.raw_len() {
        return Err(DescribeError::OutOfRange);
    }
    let text = page.as_str();
    let mut from = page.norm_offset(start);
    let mut to = page.norm_offset(end);
    while from < to && text[from..].starts_with(' ') {
        from += 1;
    }
    while to > from && text[..to].ends_with(' ') {
        to -= 1;
    }
    if from == to {
        return Err(DescribeError::EmptySelection);
    }
    Ok(vec![
        Selector::TextQuote {
            exact: text[from..to].to_owned(),
            prefix: last_chars(&text[..from], CONTEXT_CHARS),
            suffix: truncate_chars(&text[to..], CONTEXT_CHARS),
        },
        Selector::TextPosition { start: page.raw_offset(from), end: page.raw_end(from, to) },
    ])
}

/// Finds where `selectors` point in `page`, or `None` when no place is good enough.
///
/// Candidates are the exact occurrences of the quote, scored by how much of the captured
/// context surrounds them. The best must lead every other by [`MIN_LEAD`]; when several
/// tie (identical rows with identical context), the one exactly at the captured position
/// wins, since an unchanged page is the only evidence left. Anything else is a guess, and
/// a guess is not made.
pub fn anchor(page: &PageText, selectors: &[Selector]) -> Option<Anchor> {
    let (exact, prefix, suffix) = selectors.iter().find_map(|s| match s {
        Selector::TextQuote { exact, prefix, suffix } => Some((exact.as_str(), prefix.as_str(), suffix.as_str())),
        _ => None,
    })?;
    if exact.is_empty() {
        return None;
    }
    let hint = selectors.iter().find_map(|s| match s {
        Selector::TextPosition { start, .. } => Some(*start),
        _ => None,
    });
    let text = page.as_str();
    let candidates: Vec<(usize, f32)> =
        text.match_indices(exact).map(|(at, _)| (at, context_score(text, at, exact.len(), prefix, suffix))).collect();
    let top = candidates.iter().map(|&(_, score)| score).fold(f32::MIN, f32::max);
    let mut contenders = candidates.iter().filter(|&&(_, score)| top - score < MIN_LEAD);
    let (at, score) = match (contenders.next(), contenders.next()) {
        (None, _) => return None,
        (Some(&only), None) => only,
        (Some(_), Some(_)) => {
            let hint = hint?;
            let mut at_hint = candidates.iter().filter(|&&(at, score)| top - score < MIN_LEAD && page.raw_offset(at) == hint);
            match (at_hint.next(), at_hint.next()) {
                (Some(&only), None) => only,
                _ => return None,
            }
        }
    };
    if score < CONFIDENCE_FLOOR {
        return None;
    }
    Some(Anchor { start: page.raw_offset(at), end: page.raw_end(at, at + exact.len()), score })
}

/// Scores an exact occurrence by the quote and the share of context matching on each side.
fn context_score(text: &str, at: usize, len: usize, prefix: &str, suffix: &str) -> f32 {
    const QUOTE: f32 = 50.0;
    const CONTEXT: f32 = 20.0;
    let prefix_match = context_agreement(prefix.chars().rev(), text[..at].chars().rev());
    let suffix_match = context_agreement(suffix.chars(), text[at + len..].chars());
    (QUOTE + CONTEXT * (prefix_match + suffix_match)) / (QUOTE + 2.0 * CONTEXT)
}

/// The share of `expected` that `actual` repeats before they first differ (1 when
/// nothing was expected, as at the start or end of a page).
fn context_agreement(expected: impl Iterator<Item = char> + Clone, actual: impl Iterator<Item = char>) -> f32 {
    let total = expected.clone().count();
    if total == 0 {
        return 1.0;
    }
    let same = expected.zip(actual).take_while(|(e, a)| e == a).count();
    same as f32 / total as f32
}

#[cfg(test)]
#[allow(clippy::expect_used, reason = "in tests a failed expectation is the failure report")]
mod tests {
    use super::*;

    const ORDERS: &str = "Active orders\n  Metoprolol 25 mg PO BID — start 11/02\n  Lisinopril 10 mg PO daily\n\
                          Discontinued\n  Metoprolol 25 mg PO BID — stopped 10/30\n";

    fn quote_at(page: &PageText, needle: &str, nth: usize) -> Vec<Selector> {
        let raw_start = ORDERS.match_indices(needle).nth(nth).expect("needle present").0;
        let start = ORDERS[..raw_start].encode_utf16().count() as u32;
        let end = start + needle.encode_utf16().count() as u32;
        describe(page, start, end).expect("describable")
    }

    #[test]
    fn describe_then_anchor_finds_the_same_place() {
        let page = PageText::new(ORDERS);
        let selectors = quote_at(&page, "Lisinopril 10 mg", 0);
        let anchor = anchor(&page, &selectors).expect("anchors");
        let units: Vec<u16> = ORDERS.encode_utf16().collect();
        let found = String::from_utf16_lossy(&units[anchor.start as usize..anchor.end as usize]);
        assert_eq!(found, "Lisinopril 10 mg");
    }

    #[test]
    fn look_alikes_are_told_apart_by_context() {
        let page = PageText::new(ORDERS);
        let second = quote_at(&page, "Metoprolol 25 mg PO BID", 1);
        let anchor = anchor(&page, &second).expect("anchors");
        let byte_second = ORDERS.match_indices("Metoprolol 25 mg PO BID").nth(1).expect("twice").0;
        assert_eq!(anchor.start, ORDERS[..byte_second].encode_utf16().count() as u32);
    }

    #[test]
    fn deleted_text_does_not_anchor() {
        let page = PageText::new(ORDERS);
        let selectors = quote_at(&page, "Lisinopril 10 mg", 0);
        let edited = PageText::new(&ORDERS.replace("Lisinopril 10 mg PO daily", ""));
        assert_eq!(anchor(&edited, &selectors), None);
    }

    #[test]
    fn identical_passages_with_identical_context_are_not_guessed() {
        let twice = "Hold if HR < 60. Hold if HR < 60. ";
        let page = PageText::new(twice);
        let selectors = vec![Selector::TextQuote { exact: "Hold if HR < 60.".into(), prefix: String::new(), suffix: String::new() }];
        assert_eq!(anchor(&page, &selectors), None, "no context and no position: ambiguous");
    }

    #[test]
    fn identical_passages_are_told_apart_by_an_exact_position() {
        // Six identical rows: the middle ones share their whole 32-character context.
        let rows = "Metoprolol 25 mg PO BID\n".repeat(6);
        let page = PageText::new(&rows);
        let third = rows.match_indices("Metoprolol").nth(2).expect("present").0 as u32;
        let selectors = describe(&page, third, third + 16).expect("describable");
        assert_eq!(anchor(&page, &selectors).map(|a| a.start), Some(third));
        let shifted = PageText::new(&format!("x{rows}"));
        assert_eq!(anchor(&shifted, &selectors), None, "moved and ambiguous: needs review, not a guess");
    }

    #[test]
    fn whitespace_only_selection_is_refused() {
        let page = PageText::new("a   b");
        assert_eq!(describe(&page, 1, 4), Err(DescribeError::EmptySelection));
        assert_eq!(describe(&page, 0, 99), Err(DescribeError::OutOfRange));
    }
}
