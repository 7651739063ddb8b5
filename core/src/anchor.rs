//! Describing a selection as selectors, and finding those selectors again in a page.
//!
//! Capture calls [`describe`] with the raw offsets of the user's selection; anchoring
//! calls [`anchor`] with a tip's selectors. Both see the page through [`PageText`], so
//! they agree on normalisation. A quote is only placed where its exact text is found; a
//! place chosen among look-alikes must be clearly better than the runner-up, otherwise
//! the tip is reported as not placed ("needs review") rather than guessed.

use serde::{Deserialize, Serialize};

use crate::fuzzy;
use crate::index::{GramIndex, GRAM};
use crate::model::{last_chars, truncate_chars, Selector, CONTEXT_CHARS};
use crate::text::{normalize, PageText};

/// Where a tip was placed, in raw UTF-16 offsets of the page text, with a confidence
/// score from 0 to 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub start: u32,
    pub end: u32,
    pub score: f32,
}

/// Below this combined score a place is "needs review": shown as unplaced, never painted.
/// An exact quote whose context has gone entirely scores about 0.6, so it is not placed
/// on the quote alone: short clinical phrases repeat too often for that to be safe.
pub const CONFIDENCE_FLOOR: f32 = 0.7;
/// The least share of the quote's characters that must survive at a fuzzy match.
pub const MIN_QUOTE_SIMILARITY: f32 = 0.75;
/// How much more than any other place the chosen one must score to be trusted.
const MIN_LEAD: f32 = 0.05;
/// Quotes shorter than this (in bytes) are matched exactly or not at all.
const MIN_FUZZY_LEN: usize = 12;
/// Grams more frequent than this are too common to seed approximate search.
const MAX_SEED_BUCKET: u32 = 64;
/// An exact match with less context agreement than this may be a look-alike of an edited
/// passage, so approximate matches are looked for as well.
const TRUSTED_CONTEXT: f32 = 0.9;
/// More exact occurrences than this make a quote ambiguous by itself.
const MAX_CANDIDATES: usize = 5_000;
const WEIGHT_QUOTE: f32 = 50.0;
const WEIGHT_CONTEXT: f32 = 20.0;
const WEIGHT_POSITION: f32 = 10.0;

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
pub fn anchor(page: &PageText, selectors: &[Selector]) -> Option<Anchor> {
    anchor_all(page, &[selectors]).pop().flatten()
}

/// A quote to place, normalised as the page is.
struct Quote {
    exact: String,
    prefix: String,
    suffix: String,
    /// The captured position, as a byte offset in the normalised text.
    hint: Option<usize>,
}

impl Quote {
    fn from_selectors(page: &PageText, selectors: &[Selector]) -> Option<Quote> {
        let (exact, prefix, suffix) = selectors.iter().find_map(|s| match s {
            Selector::TextQuote { exact, prefix, suffix } => Some((exact, prefix, suffix)),
            _ => None,
        })?;
        let exact = normalize(exact.trim());
        if exact.is_empty() {
            return None;
        }
        let hint = selectors.iter().find_map(|s| match s {
            Selector::TextPosition { start, .. } => Some(page.norm_offset(*start)),
            _ => None,
        });
        Some(Quote { exact, prefix: normalize(prefix), suffix: normalize(suffix), hint })
    }
}

/// One place a quote might be, with its evidence.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    start: usize,
    end: usize,
    quote: f32,
    context: f32,
    score: f32,
}

enum Decision {
    Placed(Candidate),
    /// Several places tie on everything but position.
    Tied(Vec<Candidate>),
    NotFound,
}

/// Places every tip of a page at once: one index of the text serves all of them, and tips
/// placed without doubt correct the captured positions of the others (text inserted above
/// a tip shifts its neighbours too). Results are in input order.
pub fn anchor_all(page: &PageText, tips: &[&[Selector]]) -> Vec<Option<Anchor>> {
    let text = page.as_str();
    let index = GramIndex::new(text.as_bytes());
    let quotes: Vec<Option<Quote>> = tips.iter().map(|selectors| Quote::from_selectors(page, selectors)).collect();
    let decisions: Vec<Decision> = quotes.iter().map(|q| q.as_ref().map_or(Decision::NotFound, |q| decide(&index, text, q))).collect();

    // Shifts seen at tips placed without doubt: (captured position, found position).
    let mut shifts: Vec<(usize, usize)> = quotes
        .iter()
        .zip(&decisions)
        .filter_map(|(q, d)| match (q.as_ref().and_then(|q| q.hint), d) {
            (Some(hint), Decision::Placed(c)) => Some((hint, c.start)),
            _ => None,
        })
        .collect();
    shifts.sort_unstable();

    quotes
        .iter()
        .zip(decisions)
        .map(|(quote, decision)| {
            let chosen = match decision {
                Decision::Placed(c) => c,
                Decision::Tied(tied) => {
                    let expected = expected_position(&shifts, quote.as_ref()?.hint?)?;
                    let mut at_expected = tied.into_iter().filter(|c| c.start == expected);
                    match (at_expected.next(), at_expected.next()) {
                        (Some(only), None) => only,
                        _ => return None,
                    }
                }
                Decision::NotFound => return None,
            };
            Some(Anchor { start: page.raw_offset(chosen.start), end: page.raw_end(chosen.start, chosen.end), score: chosen.score })
        })
        .collect()
}

/// Where a tip captured at `hint` should be now, judged by the placed tips around it: if
/// the nearest placed tips before and after it moved by the same amount, so did it. If
/// they moved differently, text changed near it and its place cannot be inferred.
fn expected_position(shifts: &[(usize, usize)], hint: usize) -> Option<usize> {
    let after = shifts.partition_point(|&(h, _)| h < hint);
    let delta = |(h, found): (usize, usize)| found as i64 - h as i64;
    let before = after.checked_sub(1).map(|i| delta(shifts[i]));
    let next = shifts.get(after).map(|&s| delta(s));
    let shift = match (before, next) {
        (Some(a), Some(b)) if a == b => a,
        (Some(_), Some(_)) => return None,
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => 0,
    };
    usize::try_from(hint as i64 + shift).ok()
}

/// Gathers and scores the places `quote` may be, and decides on one if the evidence allows.
fn decide(index: &GramIndex<'_>, text: &str, quote: &Quote) -> Decision {
    let needle = quote.exact.as_bytes();
    let exact = index.find_exact(needle);
    if exact.len() > MAX_CANDIDATES {
        return Decision::NotFound;
    }
    let mut candidates: Vec<Candidate> = exact.iter().map(|&start| score(text, quote, start, start + needle.len(), 0)).collect();
    let trusted = candidates.iter().any(|c| c.context >= TRUSTED_CONTEXT);
    if !trusted && needle.len() >= MIN_FUZZY_LEN {
        for m in approximate(index, needle) {
            let (start, end) = (floor_boundary(text, m.start), ceil_boundary(text, m.end));
            if m.errors > 0 && !candidates.iter().any(|c| c.start < end && start < c.end) {
                candidates.push(score(text, quote, start, end, m.errors));
            }
        }
    }
    candidates.retain(|c| c.quote >= MIN_QUOTE_SIMILARITY);
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let Some(&best) = candidates.first() else { return Decision::NotFound };
    if best.score < CONFIDENCE_FLOOR {
        return Decision::NotFound;
    }
    let close: Vec<Candidate> = candidates.iter().copied().filter(|c| best.score - c.score < MIN_LEAD).collect();
    if close.len() == 1 {
        Decision::Placed(best)
    } else {
        Decision::Tied(close)
    }
}

/// Approximate matches of `needle`: near index hits of its grams when it has rare ones,
/// otherwise by one bit-parallel pass over the whole text.
fn approximate(index: &GramIndex<'_>, needle: &[u8]) -> Vec<fuzzy::Match> {
    let text = index.text();
    let max_errors = ((needle.len() as f32 * (1.0 - MIN_QUOTE_SIMILARITY)) as usize).max(1);
    let mut starts: Vec<usize> = Vec::new();
    let mut seeded = false;
    for offset in 0..=needle.len().saturating_sub(GRAM) {
        let gram = &needle[offset..offset + GRAM];
        if index.bucket_size(gram) > MAX_SEED_BUCKET {
            continue;
        }
        seeded = true;
        starts.extend(index.positions(gram).map(|pos| pos.saturating_sub(offset)));
    }
    if !seeded {
        return fuzzy::find(text, needle, max_errors);
    }
    starts.sort_unstable();
    starts.dedup();
    // Merge the windows around each seeded start, then search each window once.
    let margin = max_errors + GRAM;
    let mut matches = Vec::new();
    let mut window: Option<(usize, usize)> = None;
    let search = |(from, to): (usize, usize), matches: &mut Vec<fuzzy::Match>| {
        for m in fuzzy::find(&text[from..to], needle, max_errors) {
            matches.push(fuzzy::Match { start: from + m.start, end: from + m.end, errors: m.errors });
        }
    };
    for start in starts {
        let (from, to) = (start.saturating_sub(margin), (start + needle.len() + margin).min(text.len()));
        window = match window {
            Some((a, b)) if from <= b => Some((a, b.max(to))),
            Some(done) => {
                search(done, &mut matches);
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    if let Some(done) = window {
        search(done, &mut matches);
    }
    matches
}

/// Scores a place: the quote counts most, then the context on each side, then closeness
/// to the captured position.
fn score(text: &str, quote: &Quote, start: usize, end: usize, errors: usize) -> Candidate {
    let quote_similarity = 1.0 - errors as f32 / quote.exact.len().max(1) as f32;
    let before = tail(&text[..start], quote.prefix.len());
    let after = head(&text[end..], quote.suffix.len());
    let prefix = similarity(quote.prefix.as_bytes(), before.as_bytes());
    let suffix = similarity(quote.suffix.as_bytes(), after.as_bytes());
    let position = match quote.hint {
        // Within 5% of the page counts as near; further away, less and less.
        Some(hint) => 1.0 - (start.abs_diff(hint) as f32 / (text.len() as f32 * 0.05).max(500.0)).min(1.0),
        None => 0.5,
    };
    let context = (prefix + suffix) / 2.0;
    let total = WEIGHT_QUOTE * quote_similarity + WEIGHT_CONTEXT * (prefix + suffix) + WEIGHT_POSITION * position;
    Candidate { start, end, quote: quote_similarity, context, score: total / (WEIGHT_QUOTE + 2.0 * WEIGHT_CONTEXT + WEIGHT_POSITION) }
}

/// 1 for identical strings, falling with each edit; 1 when nothing was expected (a quote
/// at the very start or end of a page).
fn similarity(expected: &[u8], actual: &[u8]) -> f32 {
    if expected.is_empty() {
        return 1.0;
    }
    if expected == actual {
        return 1.0;
    }
    1.0 - (fuzzy::edit_distance(expected, actual) as f32 / expected.len() as f32).min(1.0)
}

/// The last `bytes` bytes of `s`, widened to a character boundary.
fn tail(s: &str, bytes: usize) -> &str {
    &s[floor_boundary(s, s.len().saturating_sub(bytes))..]
}

/// The first `bytes` bytes of `s`, widened to a character boundary.
fn head(s: &str, bytes: usize) -> &str {
    &s[..ceil_boundary(s, bytes.min(s.len()))]
}

fn floor_boundary(s: &str, mut at: usize) -> usize {
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(s: &str, mut at: usize) -> usize {
    while !s.is_char_boundary(at) {
        at += 1;
    }
    at
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
