//! Describing a selection as selectors, and finding those selectors again in a page.
//!
//! Capture calls [`describe`] with the raw offsets of the user's selection; anchoring
//! calls [`anchor_all`] with every tip of a page. Both see the page through [`PageText`],
//! so they agree on normalisation. A tip's own evidence (its quote found once, with its
//! context) places it whatever the other tips say; its neighbours choose only among
//! look-alikes and edited versions of it; anything in doubt is reported as not placed
//! ("needs review") rather than guessed. ARCHITECTURE.md, "Anchoring", has the steps.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::fuzzy;
use crate::index::{GramIndex, GRAM};
use crate::model::{last_chars, truncate_chars, Selector, CONTEXT_CHARS};
use crate::text::{normalize, PageText};

mod template;

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
/// A side's context agrees with the capture when this share of it is unchanged...
const AGREEING_SIMILARITY: f32 = 0.7;
/// ...or when this many bytes right next to the quote are (text inserted a little way off
/// changes the far end of a context, not the near end).
const AGREEING_RUN: usize = 8;
/// A side this similar to the capture vouches for a quote found once, away from where its
/// neighbours put it; one that agrees by less may be another record of the same template,
/// and yields to the quote edited in its place (see `anchor_with_index`).
const VOUCHING_SIMILARITY: f32 = 0.85;
/// A record's boilerplate ("Active orders", a date's "11/01 ") repeats in every record; a
/// run of this many bytes right next to the quote is more than that.
const VOUCHING_RUN: usize = 16;
/// The least captured context (bytes, on each side) that can enclose an edited quote.
const MIN_ENCLOSING_CONTEXT: usize = 16;
/// A quote this long (in bytes) found exactly once is its own evidence, whatever its
/// context: a moved paragraph quoted whole has new text on both sides.
const SELF_EVIDENT_LEN: usize = 64;
/// Grams more frequent than this are too common to seed approximate search.
const MAX_SEED_BUCKET: u32 = 64;
/// A side of context at least this similar to the capture, but not identical, is a near
/// miss: the mark of another record made from the same template.
const NEAR_MISS: f32 = 0.75;
/// How close (bytes) to a neighbour's point an exact occurrence is "at" it.
const AT_POINT: usize = 2;
/// How far apart (bytes) the points a tip's two neighbours give may be for an occurrence
/// between them to be a rival of one at a point: a line or two of text.
const MAX_DISAGREEMENT: usize = 512;
/// The longest gap between two neighbours searched whole for an edited quote (bytes).
const MAX_GAP_SEARCH: usize = 16 * 1024;
/// Rounds of placing tips by their neighbours; the last also weighs context alone and
/// searches the whole page for edited quotes.
const ROUNDS: usize = 4;
/// Quotes with more exact occurrences than this are not settled in the first pass.
const SETTLE_CANDIDATES: usize = 16;
/// More exact occurrences than this make a quote ambiguous by itself.
const MAX_CANDIDATES: usize = 5_000;
/// The score of a redacted quote placed by its template: the one place it fits.
const TEMPLATE_SCORE: f32 = 0.9;
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
            block: page.block_kind(from).map(str::to_owned),
        },
        Selector::TextPosition { start: page.raw_offset(from), end: page.raw_end(from, to) },
    ])
}

/// Finds where `selectors` point in `page`, or `None` when no place is good enough.
pub fn anchor(page: &PageText, selectors: &[Selector]) -> Option<Anchor> {
    anchor_all(page, &[selectors]).pop().flatten()
}

/// The quote, prefix and suffix of a tip's TextQuoteSelector, if it has one, and the kind
/// of block it was captured in, if the page said.
fn text_quote(selectors: &[Selector]) -> Option<(&str, &str, &str, Option<&str>)> {
    selectors.iter().find_map(|s| match s {
        Selector::TextQuote { exact, prefix, suffix, block } => {
            Some((exact.as_str(), prefix.as_str(), suffix.as_str(), block.as_deref()))
        }
        _ => None,
    })
}

/// A quote to place, normalised as the page is.
struct Quote {
    exact: String,
    prefix: String,
    suffix: String,
    /// The captured position: its raw UTF-16 offset, as captured...
    captured: Option<u32>,
    /// ...and where that offset falls in this page's normalised text (a byte offset).
    hint: Option<usize>,
    /// The kind of block it was captured in, if the page said (see [`by_block_kind`]).
    block: Option<String>,
}

impl Quote {
    fn from_selectors(page: &PageText, selectors: &[Selector]) -> Option<Quote> {
        let (exact, prefix, suffix, block) = text_quote(selectors)?;
        let exact = normalize(exact.trim());
        if exact.is_empty() {
            return None;
        }
        let captured = selectors.iter().find_map(|s| match s {
            Selector::TextPosition { start, .. } => Some(*start),
            _ => None,
        });
        let hint = captured.map(|start| page.norm_offset(start));
        // A shared tip's context has placeholders where the capture's record had values:
        // only the words between the quote and the nearest placeholder can agree.
        let prefix = normalize(template::nearest_prefix(prefix));
        let suffix = normalize(template::nearest_suffix(suffix));
        Some(Quote { exact, prefix, suffix, captured, hint, block: block.map(str::to_owned) })
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
    /// How much of each side's context is as captured (see [`Side`]).
    prefix: Side,
    suffix: Side,
    score: f32,
}

/// The evidence of one side's context at a candidate.
#[derive(Clone, Copy, Debug)]
struct Side {
    /// 1 for the captured context exactly, falling with each edit.
    similarity: f32,
    /// Whether this side agrees with the capture: mostly the same text, or the same
    /// characters right next to the quote (text inserted further off does not count against
    /// it). An empty captured context (the quote began or ended the page) agrees.
    agrees: bool,
    /// Whether it agrees beyond what another record of the same template would: nearly
    /// all of it as captured, or the same characters right next to the quote.
    vouches: bool,
    /// How many bytes right next to the quote are as captured.
    touching: usize,
}

impl Candidate {
    /// Whether the context agrees on at least one side. A place whose context matches on
    /// neither side is another passage that happens to read the same: never the tip's.
    fn context_agrees(&self) -> bool {
        self.prefix.agrees || self.suffix.agrees
    }

    /// Whether the context meets `need`.
    fn context_meets(&self, need: Need) -> bool {
        let identical = |side: &Side| side.similarity >= 1.0;
        match need {
            Need::OneSide => self.context_agrees(),
            Need::OneIdentical => identical(&self.prefix) || identical(&self.suffix),
            Need::BothSides => self.prefix.agrees && self.suffix.agrees,
            Need::Identical => identical(&self.prefix) && identical(&self.suffix),
        }
    }
}

/// How much of its context a place must keep, by how well its position is vouched for.
/// Records made from one template differ in a digit or two of their context, so the
/// further a place is from where the tip's neighbours put it, the closer to the letter
/// its context must be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    /// Agreeing on one side (mostly the same, or the same right next to the quote).
    OneSide,
    /// Identical on one side: at the point the neighbours give.
    OneIdentical,
    /// Agreeing on both sides.
    BothSides,
    /// Identical on both sides: away from the neighbours, or merely between them.
    Identical,
}

impl Need {
    /// What a place away from the tip's neighbours needs: `vouched` when it has placed
    /// neighbours (which put it elsewhere), `alone` when it has none.
    fn away_from<T>(neighbours: &Neighbours<'_>, quote: &Quote, vouched: T, alone: T) -> T {
        match quote.captured.map(|at| neighbours.around(at)) {
            Some((Some(_), _) | (_, Some(_))) => vouched,
            _ => alone,
        }
    }
}

/// Places every tip of a page at once. One index of the text serves all of them.
///
/// Pages change in blocks: an upgrade inserts, deletes and reorders paragraphs and rows,
/// and edits a few words. So a tip's own evidence comes first, and its neighbours only
/// choose among candidates, never veto one:
///
/// 1. **Its own evidence.** A quote found exactly once, with its context as captured on
///    at least one side (or long enough to vouch for itself), is placed there. These tips
///    are the neighbours of the others: each tells how far the text around it has moved.
/// 2. **Its neighbours.** A quote found once with new text on both sides is placed when it
///    lies between where its nearest neighbours before and after are now. A quote found
///    several times, or edited, is looked for where its nearest neighbours put it (in a
///    moved block, the tips of the same block): an exact occurrence there wins; only when
///    there is none is an edited occurrence in a small window taken.
/// 3. **Its context.** Several exact occurrences and no neighbour to choose: the one whose
///    context clearly beats the others'.
/// 4. **The whole page.** Nothing exact, or only look-alikes: an edited occurrence anywhere,
///    by approximate search seeded by the index, taken only as a clear winner.
/// 5. **Its kind of block.** Copies nothing above told apart: the one in a block of the
///    kind the tip was captured in (see [`by_block_kind`]).
///
/// Last, a place that provably held other text when the tip was captured (see
/// `Neighbours::another_copy`) is another copy of its words, never the tip's.
///
/// Every place but a lone exact or long quote needs its context to agree on a side: a
/// passage whose context matches on neither side is a look-alike, never the tip's. A tip
/// that none of these places with confidence is `None`: "needs review". Results are in
/// input order.
pub fn anchor_all(page: &PageText, tips: &[&[Selector]]) -> Vec<Option<Anchor>> {
    let index = GramIndex::new(page.as_str().as_bytes());
    anchor_with_index(page, &index, tips, Captured::OnThisPage)
}

/// Places the tips of one screen, some of which were captured on other pages of it (one
/// patient's orders, another's). Tips vouch for each other by their captured positions,
/// which compare only with the page they were captured on: the tips captured on this page
/// (`this_page`, a screen key) are anchored together; every other tip stands on its own
/// evidence (its quote and context, no position), so it can neither vouch for nor mislead
/// another. One index of the page serves them all. `tips` pairs each tip's capture screen
/// key with its selectors; results are in input order.
pub fn anchor_on_screen(page: &PageText, this_page: &str, tips: &[(&str, &[Selector])]) -> Vec<Option<Anchor>> {
    let index = GramIndex::new(page.as_str().as_bytes());
    let here: Vec<usize> = (0..tips.len()).filter(|&i| tips[i].0 == this_page).collect();
    let mut results = vec![None; tips.len()];
    let together: Vec<&[Selector]> = here.iter().map(|&i| tips[i].1).collect();
    for (&i, anchor) in here.iter().zip(anchor_with_index(page, &index, &together, Captured::OnThisPage)) {
        results[i] = anchor;
    }
    for (i, (captured_on, selectors)) in tips.iter().enumerate() {
        if *captured_on != this_page {
            let without_position: Vec<Selector> =
                selectors.iter().filter(|s| !matches!(s, Selector::TextPosition { .. })).cloned().collect();
            results[i] =
                anchor_with_index(page, &index, &[&without_position], Captured::OnAnotherRecord).pop().flatten();
        }
    }
    results
}

/// Where the tips being placed were captured, which says what their context is worth.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Captured {
    OnThisPage,
    /// On another record's page of this screen: the text around a quote names that record
    /// (its patient, its dates), so a quote found once here is this record's, whatever its
    /// context says.
    OnAnotherRecord,
}

fn anchor_with_index(
    page: &PageText,
    index: &GramIndex,
    tips: &[&[Selector]],
    captured: Captured,
) -> Vec<Option<Anchor>> {
    let text = page.as_str();
    // A quote with placeholders (a shared tip's, redacted) is placed by its own rule and
    // neither vouches for nor is vouched for by its neighbours.
    let templated: Vec<Option<Anchor>> = tips.iter().map(|selectors| by_template(page, selectors)).collect();
    let quotes: Vec<Option<Quote>> = tips
        .iter()
        .map(|selectors| Quote::from_selectors(page, selectors).filter(|q| !template::has_placeholder(&q.exact)))
        .collect();
    let exact: Vec<Vec<usize>> =
        quotes.iter().map(|q| q.as_ref().map_or_else(Vec::new, |q| index.find_exact(q.exact.as_bytes()))).collect();
    let unique: Vec<Option<Candidate>> = quotes
        .iter()
        .zip(&exact)
        .map(|(q, starts)| match (q, starts.as_slice()) {
            (Some(q), [only]) => Some(score(text, q, &mut ContextScorer::new(q), *only, only + q.exact.len(), 0, None)),
            _ => None,
        })
        .collect();
    let mut placed: Vec<Option<Candidate>> = quotes
        .iter()
        .zip(exact.iter().zip(&unique))
        .map(|(q, (_, c))| {
            let q = q.as_ref()?;
            c.filter(|c| captured == Captured::OnAnotherRecord || is_self_evident(q, c))
        })
        .collect();
    // Each round's places are the next round's neighbours: on a page of repeated text a
    // tip settled among look-alikes by its neighbours settles its own neighbours in turn.
    for round in 0..ROUNDS {
        let neighbours = Neighbours::new(page, &quotes, &firm(&placed, &exact));
        let last = round + 1 == ROUNDS;
        for (i, quote) in quotes.iter().enumerate() {
            let Some(quote) = quote.as_ref().filter(|_| placed[i].is_none()) else { continue };
            placed[i] = match by_position(text, quote, &exact[i], unique[i], &neighbours, last) {
                Found::Place(chosen) => Some(chosen),
                Found::Nothing if last => elsewhere(text, index, quote, &exact[i], &neighbours),
                Found::Nothing | Found::Ambiguous => None,
            };
        }
    }
    // Neighbours decide between an exact look-alike and an edit: a tip placed on an exact
    // occurrence away from where its neighbours put it yields to an edited occurrence right
    // where they put it with its context untouched, or, when its own context is whole too,
    // is left unplaced.
    let neighbours = Neighbours::new(page, &quotes, &firm(&placed, &exact));
    for (i, quote) in quotes.iter().enumerate() {
        let (Some(quote), Some(chosen)) = (quote, placed[i]) else { continue };
        let Some(captured) = quote.captured else { continue };
        let points = neighbours.expected(captured);
        let at_a_point = points.iter().any(|&p| chosen.start.abs_diff(p) <= AT_POINT);
        // An edit where the neighbours put it, and the quote unedited with its whole context
        // elsewhere: edited in place, or moved away; nothing says which.
        // Several such copies are a repeated line, not where it moved: the edit stands.
        if chosen.quote < 1.0
            && wholes_elsewhere(text, quote, &exact[i], chosen.start) == 1
            && edited_in_place(text, quote, &exact[i], &neighbours).is_none_or(|e| e.start != chosen.start)
        {
            placed[i] = None;
            continue;
        }
        if chosen.quote >= 1.0 && !at_a_point && !neighbours.bracket(captured, &chosen) {
            // A context that agrees only by a record's boilerplate (a ward and bed, a
            // label) is outweighed by the quote edited in its place, inside its whole
            // context, where both neighbours put it.
            let vouched = chosen.prefix.vouches || chosen.suffix.vouches;
            let edited = edited_where_expected(text, quote, &exact[i], &neighbours, &points)
                .filter(|c| c.context_meets(Need::Identical))
                .or_else(|| (!vouched).then(|| edited_in_place(text, quote, &exact[i], &neighbours)).flatten());
            if let Some(edited) = edited {
                // With its whole context elsewhere too, either could be it: not a guess,
                // unless that copy lies in another tip's quote (the same words quoted in two
                // places, a headline and its teaser): then it is the other's.
                let in_anothers_quote = placed
                    .iter()
                    .enumerate()
                    .any(|(j, other)| j != i && other.is_some_and(|o| o.start <= chosen.start && chosen.end <= o.end));
                placed[i] = (!chosen.context_meets(Need::Identical) || in_anothers_quote).then_some(edited);
            }
        }
    }
    for (i, quote) in quotes.iter().enumerate() {
        if let (Some(quote), None) = (quote, placed[i]) {
            placed[i] = by_block_kind(page, quote, &exact[i]);
        }
    }
    // A place in a stretch of text that nothing came into or left since capture (or in
    // another tip's text) was somewhere else on the captured page than the tip: another
    // copy of the words (a headline repeated in a list of related stories, a line in every
    // record), and the tip's own text is gone or was not found.
    let neighbours = Neighbours::new(page, &quotes, &firm(&placed, &exact));
    for (i, quote) in quotes.iter().enumerate() {
        let (Some(quote), Some(chosen)) = (quote, placed[i]) else { continue };
        if quote.captured.is_some_and(|captured| neighbours.another_copy(&chosen, captured)) {
            placed[i] = None;
        }
    }
    placed
        .into_iter()
        .zip(templated)
        .map(|(chosen, templated)| {
            let Some(chosen) = chosen else { return templated };
            Some(Anchor {
                start: page.raw_offset(chosen.start),
                end: page.raw_end(chosen.start, chosen.end),
                score: chosen.score,
            })
        })
        .collect()
}

/// Step 5: copies of the quote that neither its context nor its neighbours tell apart (a
/// headline in the story and again in a list of related stories, both moved) are told
/// apart by the kind of block each is in: the one copy in a block of the kind the tip was
/// captured in is placed, when its context agrees on a side. The kind only decides between
/// copies; a quote found once gains nothing from it.
fn by_block_kind(page: &PageText, quote: &Quote, exact: &[usize]) -> Option<Candidate> {
    let kind = quote.block.as_deref()?;
    if exact.len() < 2 {
        return None;
    }
    let mut of_its_kind = exact.iter().filter(|&&start| page.block_kind(start) == Some(kind));
    let (Some(&only), None) = (of_its_kind.next(), of_its_kind.next()) else { return None };
    let text = page.as_str();
    Some(score(text, quote, &mut ContextScorer::new(quote), only, only + quote.exact.len(), 0, None))
        .filter(Candidate::context_agrees)
}

/// The place of a quote with placeholders: the one place it fits, values standing for
/// its placeholders (see [`template`]).
fn by_template(page: &PageText, selectors: &[Selector]) -> Option<Anchor> {
    let (exact, prefix, suffix, _) = text_quote(selectors)?;
    let exact = normalize(exact.trim());
    if !template::has_placeholder(&exact) {
        return None;
    }
    let (start, end) = template::place(page.as_str(), &exact, &normalize(prefix), &normalize(suffix))?;
    Some(Anchor { start: page.raw_offset(start), end: page.raw_end(start, end), score: TEMPLATE_SCORE })
}

/// Steps 2 and 3: where the tip's neighbours put it. The quote found once, with new text
/// on both sides, between its neighbours; an exact occurrence exactly where a neighbour
/// says; else what [`by_neighbours`] finds around them.
fn by_position(
    text: &str,
    quote: &Quote,
    exact: &[usize],
    unique: Option<Candidate>,
    neighbours: &Neighbours<'_>,
    last: bool,
) -> Found {
    if let Some(only) = unique.filter(|c| quote.captured.is_some_and(|at| neighbours.bracket(at, c))) {
        return Found::Place(only);
    }
    let found = match at_a_point(text, quote, exact, neighbours) {
        Some(chosen) => Found::Place(chosen),
        None => by_neighbours(text, quote, exact, neighbours, last),
    };
    match found {
        Found::Place(chosen)
            if edited_in_place(text, quote, exact, neighbours).is_some_and(|e| e.start == chosen.start) =>
        {
            Found::Place(chosen)
        }
        Found::Place(chosen) if contradicted(text, quote, exact, &chosen) => Found::Ambiguous,
        other => other,
    }
}

/// Whether another exact occurrence, with the whole captured context around it (the block
/// moved away with the tip in it), speaks against a place the neighbours chose whose own
/// context nearly matches: a look-alike of the same template where the tip used to be.
/// Either could be the tip, and nothing says which. A side of context that differs wholly
/// is text inserted right against the quote, in place: no contradiction.
fn contradicted(text: &str, quote: &Quote, exact: &[usize], chosen: &Candidate) -> bool {
    let near_miss = |side: &Side| side.similarity < 1.0 && side.similarity >= NEAR_MISS;
    if chosen.quote >= 1.0 && !near_miss(&chosen.prefix) && !near_miss(&chosen.suffix) {
        return false;
    }

    whole_elsewhere(text, quote, exact, chosen.start)
}

/// Step 4, when nothing placed the tip by its position: several exact occurrences whose
/// context picks one, or an edited occurrence anywhere. Away from a tip's placed
/// neighbours, the context must be the more intact.
fn elsewhere(
    text: &str,
    index: &GramIndex,
    quote: &Quote,
    exact: &[usize],
    neighbours: &Neighbours<'_>,
) -> Option<Candidate> {
    let vouched = Need::away_from(neighbours, quote, true, false);
    // An occurrence between the tip's neighbours with its context on a side is the tip
    // kept in its place, or a look-alike beside it; a place away from them cannot beat it.
    let gap = quote.captured.and_then(|at| neighbours.gap(at));
    let between_rival = |chosen: &Candidate| {
        gap.is_some_and(|(from, to)| {
            let outside = chosen.start < from || chosen.end > to;
            outside && gap_holds_the_quote(text, quote, exact, (from, to))
        })
    };
    // Away from its neighbours, a side of context nearly as captured but not quite is the
    // mark of another record made from the same template; a moved block keeps its context
    // to the letter, or loses a side where it was cut, from the cut on: the half next to
    // the quote as captured.
    let near_miss = |side: &Side, captured: &str| {
        side.similarity < 1.0 && side.similarity >= NEAR_MISS && side.touching * 2 < captured.len()
    };
    let away_looks_alike =
        |c: &Candidate| vouched && (near_miss(&c.prefix, &quote.prefix) || near_miss(&c.suffix, &quote.suffix));
    by_context(text, quote, exact, if vouched || exact.len() > 1 { Need::OneIdentical } else { Need::OneSide })
        .filter(|c| !between_rival(c) && !away_looks_alike(c))
        .or_else(|| {
            // Away from its neighbours, an edited quote would need its whole context intact,
            // and `between_its_context` finds exactly that, through the index; a search of
            // the whole page is for a tip with no neighbour. Past a few exact occurrences, a
            // repeated row no edit search could tell apart.
            (!vouched && exact.len() <= SETTLE_CANDIDATES)
                .then(|| anywhere_edited(text, index, quote, exact, Need::BothSides))
                .flatten()
        })
        .or_else(|| match gap.filter(|_| vouched) {
            // Edited and moved at once is more than the text can vouch for: with neighbours
            // on both sides, only an edit between them.
            Some(gap) => enclosed_between(text, quote, gap),
            None => between_its_context(text, index, quote),
        })
}

/// Whether the stretch between a tip's neighbours still holds it: an exact occurrence with
/// one side of its context to the letter, or the quote edited within its whole context.
/// Either is the tip kept in its place, which a place away from the neighbours cannot beat.
fn gap_holds_the_quote(text: &str, quote: &Quote, exact: &[usize], (from, to): (usize, usize)) -> bool {
    let len = quote.exact.len();
    let mut contexts = ContextScorer::new(quote);
    exact
        .iter()
        .copied()
        .filter(|&s| from <= s && s + len <= to)
        .any(|s| score(text, quote, &mut contexts, s, s + len, 0, None).context_meets(Need::OneIdentical))
        || enclosed_between(text, quote, (from, to)).is_some()
}

/// A quote edited more than an approximate match allows (a word of a short phrase
/// replaced), found as the one stretch of text that its whole captured prefix and suffix
/// still enclose, of about its length: the context says exactly where it begins and ends.
fn between_its_context(text: &str, index: &GramIndex, quote: &Quote) -> Option<Candidate> {
    enclosed(text, quote, index.find_exact(quote.prefix.as_bytes()).into_iter().take(MAX_CANDIDATES))
}

/// The same, between a tip's neighbours (`from..to`): the quote edited in its place, found
/// by its context where an edit search cannot reach it.
fn enclosed_between(text: &str, quote: &Quote, (from, to): (usize, usize)) -> Option<Candidate> {
    if to - from > MAX_GAP_SEARCH {
        return None;
    }
    let (from, to) = (floor_boundary(text, from), ceil_boundary(text, to.min(text.len())));
    enclosed(text, quote, text[from..to].match_indices(quote.prefix.as_str()).map(|(at, _)| from + at))
}

/// The one stretch about as long as the quote that its whole captured prefix (found at
/// `prefix_starts`) and suffix enclose, within half the quote's length in edits; none when
/// there is none or more than one, or when a side of context is too short to enclose.
fn enclosed(text: &str, quote: &Quote, prefix_starts: impl Iterator<Item = usize>) -> Option<Candidate> {
    if quote.prefix.len() < MIN_ENCLOSING_CONTEXT || quote.suffix.len() < MIN_ENCLOSING_CONTEXT {
        return None;
    }
    let (prefix, suffix) = (quote.prefix.as_bytes(), quote.suffix.as_bytes());
    let len = quote.exact.len();
    let bytes = text.as_bytes();
    let pattern = fuzzy::Pattern::new(quote.exact.as_bytes());
    let mut found: Option<(usize, usize, usize)> = None;
    for at in prefix_starts {
        let from = at + prefix.len();
        let (shortest, longest) = (from + len / 2, (from + len + len / 2 + 1).min(bytes.len()));
        for end in (shortest..=longest).filter(|&e| text.is_char_boundary(e) && bytes[e..].starts_with(suffix)) {
            if text[from..end].contains(quote.exact.as_str()) {
                continue; // the quote unedited, with text inserted against it: not an edit
            }
            let errors = pattern.distance(&bytes[from..end]);
            if errors * 2 <= len {
                if found.is_some() {
                    return None; // enclosed twice: nothing says which
                }
                found = Some((from, end, errors));
            }
        }
    }
    let (start, end, errors) = found?;
    Some(score(text, quote, &mut ContextScorer::new(quote), start, end, errors, None))
}

/// The places firm enough to lean on as neighbours: exact, and either the quote's only
/// occurrence or with its context identical on both sides. A place chosen among
/// look-alikes may be wrong, and would carry its error to the tips around it.
fn firm(placed: &[Option<Candidate>], exact: &[Vec<usize>]) -> Vec<Option<Candidate>> {
    placed
        .iter()
        .zip(exact)
        .map(|(c, starts)| c.filter(|c| c.quote >= 1.0 && (starts.len() == 1 || c.context_meets(Need::OneIdentical))))
        .collect()
}

/// Step 1: a quote found exactly once is placed there when its context agrees on a side,
/// or when it is long enough to vouch for itself (a moved paragraph quoted whole has new
/// text on both sides).
fn is_self_evident(quote: &Quote, only: &Candidate) -> bool {
    only.context_agrees() || quote.exact.len() >= SELF_EVIDENT_LEN
}

/// Among several exact occurrences, the only one with its whole captured context around
/// it: a moved block keeps its tips' context to the letter, while the look-alikes of a
/// template differ in a digit or two.
fn whole_context(text: &str, quote: &Quote, starts: &[usize]) -> Option<Candidate> {
    if starts.len() < 2 || starts.len() > MAX_CANDIDATES {
        return None;
    }
    let mut whole = starts.iter().copied().filter(|&s| has_whole_context(text, quote, s));
    let first = whole.next()?;
    whole
        .next()
        .is_none()
        .then(|| score(text, quote, &mut ContextScorer::new(quote), first, first + quote.exact.len(), 0, None))
}

/// Whether an exact occurrence other than the one at `not_at` has the whole captured
/// context around it.
fn whole_elsewhere(text: &str, quote: &Quote, exact: &[usize], not_at: usize) -> bool {
    wholes_elsewhere(text, quote, exact, not_at) > 0
}

/// How many exact occurrences other than the one at `not_at` have the whole captured
/// context around them: none, one or more (counting stops at two).
fn wholes_elsewhere(text: &str, quote: &Quote, exact: &[usize], not_at: usize) -> usize {
    exact
        .iter()
        .filter(|&&s| s != not_at)
        .take(MAX_CANDIDATES)
        .filter(|&&s| has_whole_context(text, quote, s))
        .take(2)
        .count()
}

/// Whether the exact occurrence at `start` has the captured prefix and suffix around it to
/// the byte (compared directly: no similarity needed to tell "identical").
fn has_whole_context(text: &str, quote: &Quote, start: usize) -> bool {
    let end = start + quote.exact.len();
    let bytes = text.as_bytes();
    bytes[..start].ends_with(quote.prefix.as_bytes()) && bytes[end..].starts_with(quote.suffix.as_bytes())
}

/// The one exact occurrence, or among several the one whose context clearly beats the
/// others' (a moved block keeps its tips' context), if its context meets `need`.
fn by_context(text: &str, quote: &Quote, starts: &[usize], need: Need) -> Option<Candidate> {
    match starts {
        [] => None,
        [only] => Some(score(text, quote, &mut ContextScorer::new(quote), *only, only + quote.exact.len(), 0, None))
            .filter(|c| c.context_meets(need)),
        _ => settle(text, quote, starts).filter(|c| c.context_meets(need)),
    }
}

/// The clear winner among a quote's exact occurrences, if there is one and its context
/// agrees on a side.
fn settle(text: &str, quote: &Quote, starts: &[usize]) -> Option<Candidate> {
    if starts.len() > MAX_CANDIDATES {
        return None;
    }
    let mut contexts = ContextScorer::new(quote);
    let candidates: Vec<Candidate> = starts
        .iter()
        .map(|&start| score(text, quote, &mut contexts, start, start + quote.exact.len(), 0, None))
        .collect();
    // Two with the whole captured context differ only in position, and away from the tip's
    // neighbours its captured position says nothing.
    if candidates.iter().filter(|c| c.context_meets(Need::Identical)).count() > 1 {
        return None;
    }
    clear_winner(candidates).filter(Candidate::context_agrees)
}

/// The best candidate if it is good enough and clearly better than every other.
fn clear_winner(mut candidates: Vec<Candidate>) -> Option<Candidate> {
    candidates.retain(|c| c.quote >= MIN_QUOTE_SIMILARITY);
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    let best = *candidates.first()?;
    let runner_up = candidates.get(1).map_or(0.0, |c| c.score);
    (best.score >= CONFIDENCE_FLOOR && best.score - runner_up >= MIN_LEAD).then_some(best)
}

/// The tips placed by their own evidence, in captured order: where each was captured and
/// where it is now, which tells how far the text around it has moved. Shifts are measured
/// in raw offsets, as captured, so white space collapsed differently on either side of a
/// tip does not move the points it gives.
struct Neighbours<'p> {
    page: &'p PageText,
    all: Vec<Neighbour>,
}

#[derive(Clone, Copy)]
struct Neighbour {
    /// Raw offsets: where it was captured, and where it starts now.
    captured: u32,
    now: u32,
    /// Where it lies now in the normalised text.
    start: usize,
    end: usize,
}

impl<'p> Neighbours<'p> {
    fn new(page: &'p PageText, quotes: &[Option<Quote>], placed: &[Option<Candidate>]) -> Self {
        let mut all: Vec<Neighbour> = quotes
            .iter()
            .zip(placed)
            .filter_map(|(q, c)| {
                let c = c.as_ref()?;
                Some(Neighbour {
                    captured: q.as_ref()?.captured?,
                    now: page.raw_offset(c.start),
                    start: c.start,
                    end: c.end,
                })
            })
            .collect();
        all.sort_unstable_by_key(|n| (n.captured, n.start));
        Neighbours { page, all }
    }

    /// The nearest placed tips captured before and after `captured` (never one captured
    /// there).
    fn around(&self, captured: u32) -> (Option<&Neighbour>, Option<&Neighbour>) {
        let all = &self.all;
        let before = all[..all.partition_point(|n| n.captured < captured)].last();
        let after = all[all.partition_point(|n| n.captured <= captured)..].first();
        (before, after)
    }

    /// Where a tip captured at `captured` is now if its text moved as its nearest
    /// neighbours' did (the one before it and the one after it), in the normalised text:
    /// none when it has no placed neighbour.
    fn expected(&self, captured: u32) -> Vec<usize> {
        let (before, after) = self.around(captured);
        let mut points: Vec<usize> = before
            .into_iter()
            .chain(after)
            .filter_map(|n| u32::try_from(i64::from(captured) + i64::from(n.now) - i64::from(n.captured)).ok())
            .filter(|&raw| raw <= self.page.raw_len())
            .map(|raw| self.page.norm_offset(raw))
            .collect();
        points.dedup();
        points
    }

    /// The stretch of text now between the tips captured just before and just after
    /// `captured`, when both are placed and still in that order.
    fn gap(&self, captured: u32) -> Option<(usize, usize)> {
        match self.around(captured) {
            (Some(before), Some(after)) if before.end <= after.start => Some((before.end, after.start)),
            _ => None,
        }
    }

    /// For a tip with a placed neighbour on one side only, the stretch from that neighbour
    /// to the page's end (or from the page's start to it): where its text must be if it
    /// kept its order.
    fn beyond(&self, captured: u32, text_len: usize) -> Option<(usize, usize)> {
        match self.around(captured) {
            (Some(before), None) => Some((before.end, text_len)),
            (None, Some(after)) => Some((0, after.start)),
            _ => None,
        }
    }

    /// Whether `found` lies in the gap between the neighbours of a tip captured at
    /// `captured`: text inserted right around a quote leaves it in its place among them.
    fn bracket(&self, captured: u32, found: &Candidate) -> bool {
        self.gap(captured).is_some_and(|(from, to)| from <= found.start && found.end <= to)
    }

    /// Whether `found` is provably another copy of the words than those of the tip
    /// captured at `captured`: it was on the captured page already, away from the tip.
    /// That is known when
    /// - the placed tips nearest it now, one before and one after (the page's start counts
    ///   as one), are as far apart as they were then, and the tip was not captured between
    ///   them: nothing came into that stretch or left it, so its text was there then;
    /// - or it shares characters with another placed tip's text that has moved less than
    ///   `found` would have: those characters were that tip's when it was captured. (Which
    ///   of two such tips moved cannot be told from their text; the one that moved less
    ///   asks the fewer changes of the page.)
    fn another_copy(&self, found: &Candidate, captured: u32) -> bool {
        let now = i64::from(self.page.raw_offset(found.start));
        let captured = i64::from(captured);
        let not_the_tips =
            |n: &Neighbour| (i64::from(n.captured) + now - i64::from(n.now)).abs_diff(captured) > AT_POINT as u64;
        let moved = |n: &Neighbour| i64::from(n.now).abs_diff(i64::from(n.captured));
        let shares_text_with =
            |n: &&Neighbour| n.start < found.end && found.start < n.end && (n.start, n.end) != (found.start, found.end);
        if self.all.iter().filter(shares_text_with).any(|n| moved(n) < now.abs_diff(captured) && not_the_tips(n)) {
            return true;
        }
        let page_start = Neighbour { captured: 0, now: 0, start: 0, end: 0 };
        let before = self.all.iter().filter(|n| n.end <= found.start).max_by_key(|n| n.start).unwrap_or(&page_start);
        let Some(after) = self.all.iter().filter(|n| n.start >= found.end).min_by_key(|n| n.start) else {
            return false;
        };
        // A block moved inside the stretch keeps its length: the stretch holds the same
        // text as then, maybe in another order. The tip was captured outside it, so its
        // text is not in it; one captured inside it has moved within it, and says nothing.
        let same_length = before.captured <= after.captured
            && after.now.checked_sub(before.now).is_some_and(|apart| apart == after.captured - before.captured);
        let captured_outside = captured < i64::from(before.captured) || captured >= i64::from(after.captured);
        same_length && captured_outside
    }
}

/// An exact occurrence exactly where a neighbour says (or, with none, exactly at the
/// captured position): the text between them did not change, which outweighs any
/// look-alike's context. At a neighbour's point its own context must still agree on a side;
/// with no neighbour, it must be whole.
fn at_a_point(text: &str, quote: &Quote, exact: &[usize], neighbours: &Neighbours<'_>) -> Option<Candidate> {
    let mut points = neighbours.expected(quote.captured?);
    // With no neighbour, only the very offset it was captured at counts, and only with its
    // whole context as captured: it tells identical rows apart on an unchanged page, where
    // "near where it was" would pick a neighbouring row, and a repeat that text inserted
    // above has shifted onto that offset keeps no such context.
    let (slack, need) = if points.is_empty() {
        points.push(quote.hint?);
        (0, Need::Identical)
    } else {
        (AT_POINT, Need::OneSide)
    };
    let mut at = exact.iter().copied().filter(|&s| points.iter().any(|&p| s.abs_diff(p) <= slack));
    let only = at.next()?;
    if at.next().is_some() {
        return None;
    }
    let found = score(text, quote, &mut ContextScorer::new(quote), only, only + quote.exact.len(), 0, Some(&points));
    // Where the neighbours disagree (text was inserted or deleted between them), a repeated
    // line can sit exactly where one of them says by chance, when the change is as long as
    // the line: an occurrence with the whole captured context between the points they give
    // is the tip's own place.
    let (lowest, highest) = (points.iter().min().copied()?, points.iter().max().copied()?);
    let whole_between =
        exact.iter().any(|&s| s != only && lowest <= s && s <= highest && has_whole_context(text, quote, s));
    (found.context_meets(need) && (found.context_meets(Need::Identical) || !whole_between)).then_some(found)
}

/// Step 2: the quote where its neighbours put it. An exact occurrence at or near such a
/// point wins; only where there is none, the one clear best edited occurrence within a few
/// edits of a point. Either needs its context to agree on a side. A tip with no placed
/// neighbour keeps one point, its captured position, where only an exact occurrence at that
/// very offset counts: it tells identical rows apart on an unchanged page, and "near where
/// it was" would pick a neighbouring row.
fn by_neighbours(text: &str, quote: &Quote, exact: &[usize], neighbours: &Neighbours<'_>, last: bool) -> Found {
    let (Some(captured), Some(hint)) = (quote.captured, quote.hint) else {
        return Found::from(whole_context(text, quote, exact));
    };
    let mut points = neighbours.expected(captured);
    let vouched = !points.is_empty();
    if !vouched {
        points.push(hint);
    }
    let near = |start: usize, slack: usize| points.iter().any(|&p| start.abs_diff(p) <= slack);
    let mut contexts = ContextScorer::new(quote);
    let len = quote.exact.len();
    let k = quote.max_errors();
    let slack = k + GRAM;
    let exact_slack = if vouched { slack } else { 0 };
    // Between the neighbours, where they are now, one exact occurrence is the quote's:
    // whatever was inserted or deleted around it, it kept its place among its neighbours.
    let gap = neighbours.gap(captured);
    if let Some((from, to)) = gap {
        let between: Vec<Candidate> = exact
            .iter()
            .copied()
            .filter(|&s| from <= s && s + len <= to)
            .map(|s| score(text, quote, &mut contexts, s, s + len, 0, Some(&points)))
            .collect();
        let found = match between.as_slice() {
            [only] => Some(*only).filter(|c| c.context_meets(Need::OneIdentical)),
            // Several look-alikes between the neighbours: the one with its whole context,
            // unless another is where they put it.
            _ if last => match clear_winner(between).filter(|c| c.context_meets(Need::Identical)) {
                Some(c) if rival_between_points(text, quote, exact, &points, c.start) => return Found::Ambiguous,
                other => other,
            },
            // Several between far neighbours: wait for nearer ones.
            _ => None,
        };
        if let Some(found) = found {
            // Kept its place among its neighbours with part of its context, or moved away with
            // all of it: on a page of one template both happen, and nothing says which.
            if !found.context_meets(Need::Identical) && whole_elsewhere(text, quote, exact, found.start) {
                return Found::Ambiguous;
            }
            // The one exact occurrence between them, away from where they put it, and the
            // quote edited right there with its whole context: the tip edited, and a copy
            // beside it, which with its own whole context could be the tip as well.
            if let Some(edit) =
                edited_at_points(text, quote, exact, &points).filter(|e| vouched && e.start != found.start)
            {
                return if found.context_meets(Need::Identical) { Found::Ambiguous } else { Found::Place(edit) };
            }
            return Found::Place(found);
        }
    }
    // A tip captured before or after every other placed tip, quoting text the page has
    // twice with its whole context (a headline repeated in a teaser): of the copies, the
    // only one on its side of its one neighbour is its own.
    if let (None, Some((from, to))) = (gap, neighbours.beyond(captured, text.len())) {
        let mut wholes = exact.iter().copied().filter(|&s| has_whole_context(text, quote, s));
        if let (Some(_), Some(_)) = (wholes.next(), wholes.next()) {
            let mut beyond = exact.iter().copied().filter(|&s| from <= s && s + len <= to);
            if let (Some(only), None) = (beyond.next(), beyond.next()) {
                if has_whole_context(text, quote, only) {
                    return Found::Place(score(text, quote, &mut contexts, only, only + len, 0, Some(&points)));
                }
            }
        }
    }
    if let Some(whole) = whole_context(text, quote, exact) {
        // Its whole context away from its neighbours, and an occurrence between them with
        // context of its own: moved away, or kept its place with text inserted against it.
        // Nearer neighbours may tell; if none do, nothing says which.
        let rivalled = if neighbours.bracket(captured, &whole) {
            rival_between_points(text, quote, exact, &points, whole.start)
                || edited_at_points(text, quote, exact, &points).is_some_and(|edit| edit.start != whole.start)
        } else {
            gap.is_some_and(|gap| gap_holds_the_quote(text, quote, exact, gap))
        };
        // The quote edited right where the neighbours put it, its whole context around
        // it: the tip edited in its place; the copy away from them was there before.
        if !neighbours.bracket(captured, &whole) {
            if let Some(edit) = edited_in_place(text, quote, exact, neighbours) {
                return Found::Place(edit);
            }
        }
        if rivalled {
            return if last { Found::Ambiguous } else { Found::Nothing };
        }
        return Found::Place(whole);
    }
    let exact_near: Vec<Candidate> = exact
        .iter()
        .copied()
        .filter(|&s| near(s, exact_slack))
        .map(|s| score(text, quote, &mut contexts, s, s + len, 0, Some(&points)))
        .collect();
    if !exact_near.is_empty() {
        // A few bytes off the point, not at it: something changed between the neighbour and
        // here, and a look-alike a line away reads the same but for a digit of context.
        let need = Need::Identical;
        let chosen = (last || exact_near.len() == 1)
            .then(|| clear_winner(exact_near))
            .flatten()
            .filter(|c| c.context_meets(need));
        return match chosen {
            Some(c) if rival_between_points(text, quote, exact, &points, c.start) => Found::Ambiguous,
            other => Found::from(other),
        };
    }
    Found::from(edited_where_expected(text, quote, exact, neighbours, &points))
}

/// Whether, where a tip's neighbours disagree a little (text inserted or deleted between
/// them), another exact occurrence than the one at `not_at` lies between the points they
/// give with its context as captured on a side: a line repeated right above or below, one
/// with its whole context and one with text inserted against it. Nothing says which.
fn rival_between_points(text: &str, quote: &Quote, exact: &[usize], points: &[usize], not_at: usize) -> bool {
    let Some((lowest, highest)) = points_within(points, MAX_DISAGREEMENT) else { return false };
    let mut contexts = ContextScorer::new(quote);
    let from = exact.partition_point(|&s| s < lowest);
    exact[from..]
        .iter()
        .copied()
        .take_while(|&s| s <= highest)
        .filter(|&s| s != not_at)
        .any(|s| score(text, quote, &mut contexts, s, s + quote.exact.len(), 0, None).context_meets(Need::OneIdentical))
}

/// The quote edited where the tip's neighbours put it, enclosed by its whole captured
/// context (see [`enclosed`]). A stretch holding the quote unedited is text inserted
/// against it, not an edit.
fn edited_at_points(text: &str, quote: &Quote, exact: &[usize], points: &[usize]) -> Option<Candidate> {
    let (lowest, highest) = points_within(points, MAX_DISAGREEMENT)?;
    let slack = quote.max_errors() + GRAM;
    let from = lowest.saturating_sub(quote.prefix.len() + slack);
    let to = highest + 2 * quote.exact.len() + quote.suffix.len() + slack;
    enclosed_between(text, quote, (from, to)).filter(|edit| !overlaps_exact(exact, quote.exact.len(), edit))
}

/// The quote edited in its place: both its neighbours placed, the text between them
/// shifted no more than the edit accounts for, and the whole captured context around an
/// edited stretch right where they put it. That outweighs a copy of the quote elsewhere
/// with its whole context (a record's line repeated in another record): a tip that moved
/// away would leave a gap between its neighbours, not its context around an edit.
fn edited_in_place(text: &str, quote: &Quote, exact: &[usize], neighbours: &Neighbours<'_>) -> Option<Candidate> {
    let captured = quote.captured?;
    let (Some(_), Some(_)) = neighbours.around(captured) else { return None };
    let points = neighbours.expected(captured);
    points_within(&points, quote.max_errors() + GRAM)?;
    edited_at_points(text, quote, exact, &points)
}

/// The lowest and highest of the points a tip's neighbours give, when they lie within
/// `spread` bytes of each other: the neighbours roughly agree.
fn points_within(points: &[usize], spread: usize) -> Option<(usize, usize)> {
    let (lowest, highest) = (*points.iter().min()?, *points.iter().max()?);
    (highest - lowest <= spread).then_some((lowest, highest))
}

/// What a step found for a tip.
enum Found {
    Place(Candidate),
    /// Two places with evidence of their own: never guessed between, by this step or a later one.
    Ambiguous,
    Nothing,
}

impl From<Option<Candidate>> for Found {
    fn from(place: Option<Candidate>) -> Self {
        place.map_or(Found::Nothing, Found::Place)
    }
}

/// The one clear best edited occurrence of the quote within a few edits of a point, or
/// anywhere in a short gap between its neighbours with its context untouched. Its context
/// must be identical on at least one side.
fn edited_where_expected(
    text: &str,
    quote: &Quote,
    exact: &[usize],
    neighbours: &Neighbours<'_>,
    points: &[usize],
) -> Option<Candidate> {
    let (len, k) = (quote.exact.len(), quote.max_errors());
    let slack = k + GRAM;
    if len < MIN_FUZZY_LEN || points.is_empty() {
        return None;
    }
    let near = |start: usize, slack: usize| points.iter().any(|&p| start.abs_diff(p) <= slack);
    let mut contexts = ContextScorer::new(quote);
    // Edited text is looked for a few edits around each point, and all through a short gap
    // between the neighbours (text inserted between a neighbour and the tip moves it off
    // the point, not out of the gap).
    let gap = quote.captured.and_then(|at| neighbours.gap(at));
    let mut windows: Vec<(usize, usize, bool)> =
        points.iter().map(|&p| (p.saturating_sub(slack), p + len + slack, true)).collect();
    if let Some((from, to)) = gap.filter(|(from, to)| to - from <= MAX_GAP_SEARCH) {
        windows.push((from, to, false));
    }
    let mut edited: Vec<Candidate> = Vec::new();
    for (from, to, at_point) in windows {
        let from = floor_boundary(text, from.min(text.len()));
        let to = ceil_boundary(text, to.min(text.len()));
        for m in fuzzy::find(&text.as_bytes()[from..to], quote.exact.as_bytes(), k) {
            let m = fuzzy::Match { start: from + m.start, end: from + m.end, errors: m.errors };
            let Some(found) = score_edited(text, quote, &mut contexts, m, Some(points)) else { continue };
            if (!at_point || near(found.start, slack)) && !edited.iter().any(|c| c.start == found.start) {
                // Off the points, the gap holds other records' look-alikes: only a place
                // whose context is untouched on both sides is the tip's.
                if at_point || found.context_meets(Need::Identical) {
                    edited.push(found);
                }
            }
        }
    }
    // An exact occurrence elsewhere overlapping an edited match is that occurrence, trimmed
    // or stretched: never a place of its own.
    edited.retain(|c| !overlaps_exact(exact, len, c));
    // The quote unedited where the neighbours put it, with its context on a side, is the
    // better evidence, even when it was not taken itself (a look-alike beside it).
    if rival_between_points(text, quote, exact, points, usize::MAX) {
        return None;
    }
    clear_winner(edited).filter(|c| c.context_meets(Need::OneIdentical) && c.context_meets(Need::BothSides))
}

/// The extent of an edited match, set by its context: where the captured prefix ends and
/// the captured suffix begins, when either is found intact within a few edits of the
/// match's ends. Myers' algorithm ends a match wherever the fewest edits are, which for an
/// insertion near the quote's end can be mid-word; the context says where the edited span
/// really stops.
fn snap_to_context(text: &str, quote: &Quote, start: usize, end: usize, k: usize) -> (usize, usize) {
    let nearest = |from: usize, to: usize, at: usize, fits: &dyn Fn(usize) -> bool| {
        (from..=to).filter(|&p| text.is_char_boundary(p) && fits(p)).min_by_key(|&p| p.abs_diff(at))
    };
    let prefix = quote.prefix.as_bytes();
    let suffix = quote.suffix.as_bytes();
    let bytes = text.as_bytes();
    let new_start = (!prefix.is_empty())
        .then(|| nearest(start.saturating_sub(k), (start + k).min(end), start, &|p| bytes[..p].ends_with(prefix)))
        .flatten()
        .unwrap_or(start);
    let new_end = (!suffix.is_empty())
        .then(|| {
            nearest(end.saturating_sub(k).max(new_start + 1), (end + k).min(text.len()), end, &|p| {
                bytes[p..].starts_with(suffix)
            })
        })
        .flatten()
        .unwrap_or(end);
    if new_end <= new_start {
        return (start, end);
    }
    (new_start, new_end)
}

/// Scores an edited match after setting its extent by its context, counting the edits
/// of that extent. None when the context shows the edited span is more edited than a
/// quote may be: the match was only a part of it.
fn score_edited<'t>(
    text: &'t str,
    quote: &Quote,
    contexts: &mut ContextScorer<'t>,
    m: fuzzy::Match,
    points: Option<&[usize]>,
) -> Option<Candidate> {
    let (start, end) = (floor_boundary(text, m.start), ceil_boundary(text, m.end));
    // Text inserted inside a quote near an end can leave the best match a trimmed part of
    // the edited span: when the whole captured context encloses the match a little wider,
    // the span between is the quote, edited as much as an enclosed quote may be.
    let len = quote.exact.len();
    if quote.prefix.len() >= MIN_ENCLOSING_CONTEXT && quote.suffix.len() >= MIN_ENCLOSING_CONTEXT {
        let (wide_start, wide_end) = snap_to_context(text, quote, start, end, len / 2);
        let bytes = text.as_bytes();
        let enclosed = bytes[..wide_start].ends_with(quote.prefix.as_bytes())
            && bytes[wide_end..].starts_with(quote.suffix.as_bytes());
        if enclosed
            && (wide_start, wide_end) != (start, end)
            && !text[wide_start..wide_end].contains(quote.exact.as_str())
        {
            let errors = fuzzy::Pattern::new(quote.exact.as_bytes()).distance(&bytes[wide_start..wide_end]);
            if errors * 2 <= len {
                return Some(score(text, quote, contexts, wide_start, wide_end, errors, points));
            }
        }
    }
    // An end can be off by as much as the edits it misaligned, twice over.
    let (snapped_start, snapped_end) = snap_to_context(text, quote, start, end, 2 * quote.max_errors());
    let errors = if (snapped_start, snapped_end) == (start, end) {
        m.errors
    } else {
        fuzzy::Pattern::new(quote.exact.as_bytes()).distance(&text.as_bytes()[snapped_start..snapped_end])
    };
    (errors <= quote.max_errors()).then(|| score(text, quote, contexts, snapped_start, snapped_end, errors, points))
}

/// Step 3: an edited quote anywhere on the page, for a tip whose exact occurrences (if any)
/// are look-alikes and with nothing where its neighbours say.
fn anywhere_edited(text: &str, index: &GramIndex, quote: &Quote, exact: &[usize], need: Need) -> Option<Candidate> {
    if quote.exact.len() < MIN_FUZZY_LEN {
        return None;
    }
    let mut contexts = ContextScorer::new(quote);
    let candidates = approximate(index, quote.exact.as_bytes(), quote.max_errors())
        .into_iter()
        .filter_map(|m| score_edited(text, quote, &mut contexts, m, None))
        .filter(|c| !overlaps_exact(exact, quote.exact.len(), c))
        .collect();
    clear_winner(candidates).filter(|c| c.context_meets(need))
}

fn overlaps_exact(exact: &[usize], len: usize, candidate: &Candidate) -> bool {
    let first_after = exact.partition_point(|&s| s + len <= candidate.start);
    exact.get(first_after).is_some_and(|&s| s < candidate.end)
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
    /// Which end of the context touches the quote: the prefix's last byte, the suffix's first.
    touches_at_end: bool,
    pattern: std::cell::OnceCell<fuzzy::Pattern>,
    seen: HashMap<&'q [u8], Side, BuildFnv>,
}

impl<'q> ContextScorer<'q> {
    fn new(quote: &'q Quote) -> Self {
        ContextScorer {
            prefix: Context::new(quote.prefix.as_bytes(), true),
            suffix: Context::new(quote.suffix.as_bytes(), false),
        }
    }
}

impl<'q> Context<'q> {
    fn new(expected: &'q [u8], touches_at_end: bool) -> Self {
        Context { expected, touches_at_end, pattern: std::cell::OnceCell::new(), seen: HashMap::default() }
    }

    /// How `actual`, the text beside a candidate, compares with the captured context.
    fn side(&mut self, actual: &'q [u8]) -> Side {
        if self.expected.is_empty() || self.expected == actual {
            return Side { similarity: 1.0, agrees: true, vouches: true, touching: actual.len() };
        }
        let (expected, touches_at_end, pattern) = (self.expected, self.touches_at_end, &self.pattern);
        *self.seen.entry(actual).or_insert_with(|| {
            let distance = pattern.get_or_init(|| fuzzy::Pattern::new(expected)).distance(actual);
            let similarity = 1.0 - (distance as f32 / expected.len() as f32).min(1.0);
            let touching = if touches_at_end {
                expected.iter().rev().zip(actual.iter().rev()).take_while(|(a, b)| a == b).count()
            } else {
                expected.iter().zip(actual).take_while(|(a, b)| a == b).count()
            };
            let run = touching >= AGREEING_RUN.min(expected.len());
            let agrees = similarity >= AGREEING_SIMILARITY || run;
            let long_run = touching >= VOUCHING_RUN.min(expected.len());
            Side { similarity, agrees, vouches: similarity >= VOUCHING_SIMILARITY || long_run, touching }
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
fn score<'t>(
    text: &'t str,
    quote: &Quote,
    contexts: &mut ContextScorer<'t>,
    start: usize,
    end: usize,
    errors: usize,
    expected: Option<&[usize]>,
) -> Candidate {
    let quote_similarity = 1.0 - errors as f32 / quote.exact.len().max(1) as f32;
    let before = tail(&text[..start], quote.prefix.len());
    let after = head(&text[end..], quote.suffix.len());
    let prefix = contexts.prefix.side(before.as_bytes());
    let suffix = contexts.suffix.side(after.as_bytes());
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
    let total = WEIGHT_QUOTE * quote_similarity
        + WEIGHT_CONTEXT * (prefix.similarity + suffix.similarity)
        + WEIGHT_POSITION * position;
    let score = total / (WEIGHT_QUOTE + 2.0 * WEIGHT_CONTEXT + WEIGHT_POSITION);
    Candidate { start, end, quote: quote_similarity, prefix, suffix, score }
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
        let selectors = vec![Selector::TextQuote {
            exact: "Hold if HR < 60.".into(),
            prefix: String::new(),
            suffix: String::new(),
            block: None,
        }];
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
