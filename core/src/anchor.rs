//! Describing a selection as selectors, and finding those selectors again in a page.
//!
//! Capture calls [`describe`] with the raw offsets of the user's selection; anchoring
//! calls [`anchor`] with a tip's selectors. Both see the page through [`PageText`], so
//! they agree on normalisation. A quote is only placed where its exact text is found; a
//! place chosen among look-alikes must be clearly better than the runner-up, otherwise
//! the tip is reported as not placed ("needs review") rather than guessed.

use std::collections::HashMap;

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
/// Quotes with more exact occurrences than this are not settled in the first pass.
const SETTLE_CANDIDATES: usize = 16;
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

    /// How many edits a fuzzy match of this quote may have.
    fn max_errors(&self) -> usize {
        ((self.exact.len() as f32 * (1.0 - MIN_QUOTE_SIMILARITY)) as usize).max(1)
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

/// Places every tip of a page at once. One index of the text serves all of them, and the
/// tips place each other, because tips keep their order on a page:
///
/// 1. Exact occurrences settle the tips whose quote and context leave no doubt.
/// 2. Of those, only the ones in page order (the longest run whose places increase with
///    their captured positions) are trusted; they tell how far the text has shifted
///    around every other tip.
/// 3. Each tip is then looked for first where its neighbours say it must be now (an exact
///    occurrence, or an edited one found by approximate search in a small window), then
///    at its settled exact place, and last, when it has neither, by approximate search of
///    the whole page.
///
/// A tip that none of these places with confidence is `None`: "needs review". Results
/// are in input order.
pub fn anchor_all(page: &PageText, tips: &[&[Selector]]) -> Vec<Option<Anchor>> {
    let index = GramIndex::new(page.as_str().as_bytes());
    anchor_with_index(page, &index, tips)
}

/// Places the tips of one screen, some of which were captured on other pages of it (one
/// patient's orders, another's). Tips vouch for each other by their captured positions,
/// which compare only with the page they were captured on: the tips captured on this page
/// (`this_page`, a screen key) are anchored together; every other tip stands on its own
/// evidence (its quote and context, no position), so it can neither vouch for nor veto
/// another. One index of the page serves them all. `tips` pairs each tip's capture screen
/// key with its selectors; results are in input order.
pub fn anchor_on_screen(page: &PageText, this_page: &str, tips: &[(&str, &[Selector])]) -> Vec<Option<Anchor>> {
    let index = GramIndex::new(page.as_str().as_bytes());
    let here: Vec<usize> = (0..tips.len()).filter(|&i| tips[i].0 == this_page).collect();
    let mut results = vec![None; tips.len()];
    let together: Vec<&[Selector]> = here.iter().map(|&i| tips[i].1).collect();
    for (&i, anchor) in here.iter().zip(anchor_with_index(page, &index, &together)) {
        results[i] = anchor;
    }
    for (i, (captured_on, selectors)) in tips.iter().enumerate() {
        if *captured_on != this_page {
            let without_position: Vec<Selector> = selectors.iter().filter(|s| !matches!(s, Selector::TextPosition { .. })).cloned().collect();
            results[i] = anchor_with_index(page, &index, &[&without_position]).pop().flatten();
        }
    }
    results
}

fn anchor_with_index(page: &PageText, index: &GramIndex, tips: &[&[Selector]]) -> Vec<Option<Anchor>> {
    let text = page.as_str();
    let quotes: Vec<Option<Quote>> = tips.iter().map(|selectors| Quote::from_selectors(page, selectors)).collect();
    let exact: Vec<Vec<usize>> = quotes.iter().map(|q| q.as_ref().map_or_else(Vec::new, |q| index.find_exact(q.exact.as_bytes()))).collect();
    let settled: Vec<Option<Candidate>> = quotes
        .iter()
        .zip(&exact)
        .map(|(q, starts)| {
            let q = q.as_ref()?;
            if starts.len() <= SETTLE_CANDIDATES {
                return settle(text, q, starts);
            }
            // A quote found in many places (a repeated row) is settled here only among the
            // places near where it was captured, which is cheap and enough to serve as a
            // neighbour; the others are weighed in step 3.
            let window = (text.len() / 20).max(4096);
            let near: Vec<usize> = starts.iter().copied().filter(|s| q.hint.is_some_and(|h| s.abs_diff(h) <= window)).collect();
            (near.len() <= SETTLE_CANDIDATES * 16).then(|| settle(text, q, &near)).flatten()
        })
        .collect();
    let shifts = trusted_shifts(&quotes, &settled);

    quotes
        .iter()
        .zip(exact.iter().zip(settled))
        .map(|(quote, (starts, settled))| {
            let quote = quote.as_ref()?;
            let expected = quote.hint.map(|hint| expected(&shifts, hint));
            let near = expected.as_ref().and_then(|e| where_expected(text, quote, starts, e));
            // A place elsewhere on the page counts only where no neighbour says otherwise:
            // an edited tip's unedited look-alike in another record is not its place.
            let vouched = expected.as_ref().is_some_and(|e| e.vouched);
            let slack = quote.max_errors() + GRAM;
            let settled = settled.filter(|c| is_trusted(quote, c, &shifts) && (!vouched || expected.as_ref().is_some_and(|e| e.near(c.start, slack))));
            let chosen = match (near, settled) {
                (Some(near), Some(settled)) if near.start != settled.start => clear_winner(vec![near, settled])?,
                (Some(near), _) => near,
                (None, Some(settled)) => settled,
                // Moved and edited, with no neighbour to say where: search the whole page.
                // Many look-alikes and no neighbour to choose among them: context decides.
                (None, None) if !vouched && starts.len() > SETTLE_CANDIDATES => settle(text, quote, starts)?,
                (None, None) if !vouched && starts.is_empty() && quote.exact.len() >= MIN_FUZZY_LEN => {
                    let mut contexts = ContextScorer::new(quote);
                    let candidates = approximate(index, quote.exact.as_bytes(), quote.max_errors())
                        .into_iter()
                        .map(|m| score(text, quote, &mut contexts, floor_boundary(text, m.start), ceil_boundary(text, m.end), m.errors, None))
                        .collect();
                    clear_winner(candidates)?
                }
                (None, None) => return None,
            };
            Some(Anchor { start: page.raw_offset(chosen.start), end: page.raw_end(chosen.start, chosen.end), score: chosen.score })
        })
        .collect()
}

/// The clear winner among a quote's exact occurrences, if there is one.
fn settle(text: &str, quote: &Quote, starts: &[usize]) -> Option<Candidate> {
    if starts.len() > MAX_CANDIDATES {
        return None;
    }
    let mut contexts = ContextScorer::new(quote);
    clear_winner(starts.iter().map(|&start| score(text, quote, &mut contexts, start, start + quote.exact.len(), 0, None)).collect())
}

/// The best candidate if it is good enough and clearly better than every other.
fn clear_winner(mut candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates.retain(|c| c.quote >= MIN_QUOTE_SIMILARITY);
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let best = *candidates.first()?;
    let runner_up = candidates.get(1).map_or(0.0, |c| c.score);
    (best.score >= CONFIDENCE_FLOOR && best.score - runner_up >= MIN_LEAD).then_some(best)
}

/// Shifts `(captured position, place now)` of settled tips that agree with page order:
/// the longest subsequence, in captured order, whose places strictly increase.
fn trusted_shifts(quotes: &[Option<Quote>], settled: &[Option<Candidate>]) -> Vec<(usize, usize)> {
    let mut pairs: Vec<(usize, usize)> = quotes
        .iter()
        .zip(settled)
        .filter_map(|(q, c)| Some((q.as_ref()?.hint?, c.as_ref()?.start)))
        .collect();
    pairs.sort_unstable();
    // Longest strictly increasing subsequence of the places (patience sorting).
    let mut tails: Vec<usize> = Vec::new(); // index into pairs of the smallest tail per length
    let mut previous: Vec<Option<usize>> = vec![None; pairs.len()];
    for i in 0..pairs.len() {
        let length = tails.partition_point(|&t| pairs[t].1 < pairs[i].1);
        previous[i] = length.checked_sub(1).map(|l| tails[l]);
        if length == tails.len() {
            tails.push(i);
        } else {
            tails[length] = i;
        }
    }
    let mut kept = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(i) = at {
        kept.push(pairs[i]);
        at = previous[i];
    }
    kept.reverse();
    kept
}

fn is_trusted(quote: &Quote, settled: &Candidate, shifts: &[(usize, usize)]) -> bool {
    match quote.hint {
        Some(hint) => shifts.binary_search(&(hint, settled.start)).is_ok(),
        None => true,
    }
}

/// Where a tip captured at `hint` may be now, judged by the trusted tips just before and
/// after it (never by itself): if no text changed on one side of it, it moved exactly as
/// the neighbour on that side did.
struct Expected {
    points: Vec<usize>,
    /// Whether any placed neighbour vouches for the points (otherwise they are just the
    /// captured position).
    vouched: bool,
}

impl Expected {
    /// Whether `start` is within `slack` bytes of a point.
    fn near(&self, start: usize, slack: usize) -> bool {
        self.points.iter().any(|&p| start.abs_diff(p) <= slack)
    }
}

fn expected(shifts: &[(usize, usize)], hint: usize) -> Expected {
    let before = shifts[..shifts.partition_point(|&(h, _)| h < hint)].last();
    let after = shifts[shifts.partition_point(|&(h, _)| h <= hint)..].first();
    let moved = |&(h, found): &(usize, usize)| usize::try_from(hint as i64 + found as i64 - h as i64).ok();
    let mut points: Vec<usize> = before.and_then(moved).into_iter().chain(after.and_then(moved)).collect();
    let vouched = !points.is_empty();
    if points.is_empty() {
        points.push(hint);
    }
    points.dedup();
    Expected { points, vouched }
}

/// The quote where it is expected: an exact occurrence at an expected point, or else the
/// one clear best of the exact and edited occurrences within a few edits of a point, with
/// enough of its context intact.
fn where_expected(text: &str, quote: &Quote, exact: &[usize], expected: &Expected) -> Option<Candidate> {
    let mut contexts = ContextScorer::new(quote);
    let len = quote.exact.len();
    let k = quote.max_errors();
    let slack = k + GRAM;
    let points = Some(expected.points.as_slice());
    let at_point: Vec<usize> = exact.iter().copied().filter(|s| expected.points.contains(s)).collect();
    if let [only] = at_point.as_slice() {
        let found = score(text, quote, &mut contexts, *only, only + len, 0, points);
        return (found.context >= 0.5).then_some(found).and_then(|c| clear_winner(vec![c]));
    }
    // Near, not at, a point is good enough only where neighbours vouch for the point: for a
    // lone tip among identical rows, "near where it was" would pick a neighbouring row.
    let exact_slack = if expected.vouched { slack } else { 0 };
    let mut found: Vec<Candidate> =
        exact.iter().copied().filter(|&s| expected.near(s, exact_slack)).map(|s| score(text, quote, &mut contexts, s, s + len, 0, points)).collect();
    if len >= MIN_FUZZY_LEN {
        for &p in &expected.points {
            let from = floor_boundary(text, p.saturating_sub(slack).min(text.len()));
            let to = ceil_boundary(text, (p + len + slack).min(text.len()));
            for m in fuzzy::find(&text.as_bytes()[from..to], quote.exact.as_bytes(), k) {
                let start = floor_boundary(text, from + m.start);
                // Unedited occurrences come from the index; this search is for edited text.
                if m.errors > 0 && expected.near(start, slack) && !found.iter().any(|c| c.start == start) {
                    found.push(score(text, quote, &mut contexts, start, ceil_boundary(text, from + m.end), m.errors, points));
                }
            }
        }
    }
    clear_winner(found.into_iter().filter(|c| c.context >= 0.5).collect())
}

/// Approximate matches of `needle`: near index hits of its grams when it has rare ones,
/// otherwise by one bit-parallel pass over the whole text.
fn approximate(index: &GramIndex<'_>, needle: &[u8], max_errors: usize) -> Vec<fuzzy::Match> {
    let text = index.text();
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

/// Context similarities, computed once per distinct stretch of text: repeated rows share
/// a handful of contexts across thousands of candidates. The bit-parallel patterns are
/// built only when a context differs at all; most candidates match theirs exactly.
struct ContextScorer<'q> {
    prefix: Context<'q>,
    suffix: Context<'q>,
}

struct Context<'q> {
    expected: &'q [u8],
    pattern: std::cell::OnceCell<fuzzy::Pattern>,
    seen: HashMap<&'q [u8], f32, BuildFnv>,
}

impl<'q> ContextScorer<'q> {
    fn new(quote: &'q Quote) -> Self {
        ContextScorer { prefix: Context::new(quote.prefix.as_bytes()), suffix: Context::new(quote.suffix.as_bytes()) }
    }
}

impl<'q> Context<'q> {
    fn new(expected: &'q [u8]) -> Self {
        Context { expected, pattern: std::cell::OnceCell::new(), seen: HashMap::default() }
    }

    /// 1 for identical text, falling with each edit; 1 when nothing was expected (a quote
    /// at the very start or end of a page).
    fn similarity(&mut self, actual: &'q [u8]) -> f32 {
        if self.expected.is_empty() || self.expected == actual {
            return 1.0;
        }
        let (expected, pattern) = (self.expected, &self.pattern);
        *self.seen.entry(actual).or_insert_with(|| {
            let distance = pattern.get_or_init(|| fuzzy::Pattern::new(expected)).distance(actual);
            1.0 - (distance as f32 / expected.len() as f32).min(1.0)
        })
    }
}

/// FNV-1a: a fast hash for the short context strings above (the default hasher's
/// flood resistance buys nothing for keys taken from the page being anchored).
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

type BuildFnv = std::hash::BuildHasherDefault<Fnv>;

/// Scores a place: the quote counts most, then the context on each side, then closeness
/// to the captured position.
fn score<'t>(text: &'t str, quote: &Quote, contexts: &mut ContextScorer<'t>, start: usize, end: usize, errors: usize, expected: Option<&[usize]>) -> Candidate {
    let quote_similarity = 1.0 - errors as f32 / quote.exact.len().max(1) as f32;
    let before = tail(&text[..start], quote.prefix.len());
    let after = head(&text[end..], quote.suffix.len());
    let prefix = contexts.prefix.similarity(before.as_bytes());
    let suffix = contexts.suffix.similarity(after.as_bytes());
    let position = match (expected, quote.hint) {
        // Where the neighbours put it: a few hundred bytes off is already far.
        (Some(points), _) => {
            let distance = points.iter().map(|&p| start.abs_diff(p)).min().unwrap_or(usize::MAX);
            1.0 - (distance as f32 / 500.0).min(1.0)
        }
        // Within 5% of the page counts as near; further away, less and less.
        (None, Some(hint)) => 1.0 - (start.abs_diff(hint) as f32 / (text.len() as f32 * 0.05).max(500.0)).min(1.0),
        (None, None) => 0.5,
    };
    let context = (prefix + suffix) / 2.0;
    let total = WEIGHT_QUOTE * quote_similarity + WEIGHT_CONTEXT * (prefix + suffix) + WEIGHT_POSITION * position;
    Candidate { start, end, quote: quote_similarity, context, score: total / (WEIGHT_QUOTE + 2.0 * WEIGHT_CONTEXT + WEIGHT_POSITION) }
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
