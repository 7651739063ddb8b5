//! Quotes with placeholders: a shared tip's quote and context are redacted ("[name], 73
//! y/o"), and still find their place on every record, where a value stands for each
//! placeholder. A place is taken only when the quote fits exactly one place of the page,
//! or exactly one where its context's nearest words agree too: never a guess.

use crate::redact::Kind;

/// The most bytes one placeholder may stand for.
const MAX_VALUE: usize = 80;
/// The least context (bytes, without spaces) that can bound a quote that is all placeholder.
const MIN_BOUND: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece<'q> {
    Literal(&'q str),
    Value(Kind),
}

fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_from = 0;
    let mut at = 0;
    while let Some(found) = text[at..].find('[') {
        let open = at + found;
        match Kind::placeholder_at(&text[open..]) {
            Some((kind, len)) => {
                if open > literal_from {
                    out.push(Piece::Literal(&text[literal_from..open]));
                }
                out.push(Piece::Value(kind));
                at = open + len;
                literal_from = at;
            }
            None => at = open + 1,
        }
    }
    if literal_from < text.len() {
        out.push(Piece::Literal(&text[literal_from..]));
    }
    out
}

/// Whether a text holds a placeholder.
pub(super) fn has_placeholder(text: &str) -> bool {
    pieces(text).iter().any(|p| matches!(p, Piece::Value(_)))
}

/// The context's words nearest the quote: after the prefix's last placeholder, before the
/// suffix's first. Further context names another record and cannot agree.
pub(super) fn nearest_prefix(prefix: &str) -> &str {
    match pieces(prefix).last() {
        Some(Piece::Literal(literal)) => literal,
        _ => "",
    }
}

pub(super) fn nearest_suffix(suffix: &str) -> &str {
    match pieces(suffix).first() {
        Some(Piece::Literal(literal)) => literal,
        _ => "",
    }
}

/// The end of `context` from the start of its last words with at least [`MIN_BOUND`]
/// characters that are not spaces ("Notes: " of "…PO BID. Notes: ").
fn last_words(context: &str) -> &str {
    let mut from = context.len();
    while from > 0 {
        let head = context[..from].trim_end();
        from = head.rfind(' ').map_or(0, |i| i + 1);
        if context[from..].chars().filter(|c| !c.is_whitespace()).count() >= MIN_BOUND {
            break;
        }
    }
    &context[from..]
}

/// The start of `context` up to the end of its first words (the mirror of [`last_words`]).
fn first_words(context: &str) -> &str {
    let mut to = 0;
    while to < context.len() {
        let rest = &context[to..];
        let skipped = rest.len() - rest.trim_start().len();
        to += skipped + rest.trim_start().find(' ').unwrap_or(rest.trim_start().len());
        if context[..to].chars().filter(|c| !c.is_whitespace()).count() >= MIN_BOUND {
            break;
        }
    }
    &context[..to]
}

/// Where a value of `kind` that starts at `from` ends: a name's capitalised words and
/// initials (at most four), else one run of characters without spaces.
fn value_end(text: &str, from: usize, kind: Kind) -> Option<usize> {
    let rest = &text[from..];
    let mut end = 0;
    let mut offset = 0;
    for (n, word) in rest.split(' ').enumerate() {
        let capitalised = word.starts_with(char::is_uppercase);
        if n == 4 || (kind == Kind::Name && !capitalised) || (kind != Kind::Name && n == 1) {
            break;
        }
        let mut bare = word.trim_end_matches([',', ';', ':', ')']);
        // "B." is an initial; "Lee." ends a sentence.
        if bare.len() > 2 && bare.ends_with('.') {
            bare = &bare[..bare.len() - 1];
        }
        end = offset + bare.len();
        if bare.len() != word.len() {
            break;
        }
        offset += word.len() + 1;
    }
    (end > 0).then_some(from + end)
}

/// Where a value of `kind` that ends at `to` starts (the mirror of [`value_end`]).
fn value_start(text: &str, to: usize, kind: Kind) -> Option<usize> {
    let mut start = to;
    let mut cursor = to;
    for n in 0..4 {
        let word_start = text[..cursor].rfind(' ').map_or(0, |i| i + 1);
        let word = &text[word_start..cursor];
        let ends_clause = word.ends_with([',', ';', ':', '(']);
        let capitalised = word.trim_start_matches('(').starts_with(char::is_uppercase);
        if word.is_empty() || ends_clause || (kind == Kind::Name && !capitalised) || (kind != Kind::Name && n == 1) {
            break;
        }
        start = word_start;
        if word_start == 0 {
            break;
        }
        cursor = word_start - 1;
    }
    let start = start + (text[start..to].len() - text[start..to].trim_start_matches('(').len());
    (start < to).then_some(start)
}

/// The first place `literal` starts within `window` bytes after `from` (at least one byte
/// after it, where a value stands).
fn next_within(text: &str, literal: &str, from: usize) -> Option<usize> {
    let mut limit = (from + 1 + MAX_VALUE + literal.len()).min(text.len());
    while !text.is_char_boundary(limit) {
        limit -= 1;
    }
    let mut begin = (from + 1).min(limit);
    while !text.is_char_boundary(begin) {
        begin += 1;
    }
    text.get(begin..limit)?.find(literal).map(|i| begin + i)
}

fn previous_within(text: &str, literal: &str, to: usize) -> Option<usize> {
    let mut begin = to.saturating_sub(1 + MAX_VALUE + literal.len());
    while !text.is_char_boundary(begin) {
        begin += 1;
    }
    let mut end = to.saturating_sub(1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(begin..end)?.rfind(literal).map(|i| begin + i)
}

/// The one place (bytes of the normalised `text`) where `exact`, with its placeholders
/// standing for values, fits; `prefix` and `suffix` are the capture's context.
pub(super) fn place(text: &str, exact: &str, prefix: &str, suffix: &str) -> Option<(usize, usize)> {
    let quote = pieces(exact);
    // The words right next to the quote bound a value: on another record, text further off
    // differs (another drug, another ward) even where no placeholder says so.
    let before = last_words(nearest_prefix(prefix));
    let after = first_words(nearest_suffix(suffix));
    let mut places: Vec<(usize, usize)> = Vec::new();
    match quote.iter().position(|p| matches!(p, Piece::Literal(_))) {
        None => {
            // All placeholder: only the context can bound it.
            let kind = match quote.first() {
                Some(Piece::Value(kind)) => *kind,
                _ => return None,
            };
            let bound = |s: &str| s.chars().filter(|c| !c.is_whitespace()).count() >= MIN_BOUND;
            if bound(before) {
                for (at, _) in text.match_indices(before) {
                    let from = at + before.len();
                    let end = if bound(after) { next_within(text, after, from) } else { value_end(text, from, kind) };
                    places.extend(end.map(|end| (from, end)));
                }
            } else if bound(after) {
                for (at, _) in text.match_indices(after) {
                    places.extend(value_start(text, at, kind).map(|start| (start, at)));
                }
            }
        }
        Some(first) => {
            let Piece::Literal(anchor) = quote[first] else { return None };
            for (at, _) in text.match_indices(anchor) {
                if let Some(place) = fit_around(text, &quote, first, at, before, after) {
                    places.push(place);
                }
            }
        }
    }
    places.sort_unstable();
    places.dedup();
    match places.as_slice() {
        [only] => Some(*only),
        [] => None,
        several => {
            let agreeing: Vec<&(usize, usize)> = several
                .iter()
                .filter(|(start, end)| {
                    (before.trim().is_empty() || text[..*start].ends_with(before))
                        && (after.trim().is_empty() || text[*end..].starts_with(after))
                })
                .collect();
            match agreeing.as_slice() {
                [only] => Some(**only),
                _ => None,
            }
        }
    }
}

/// The quote's pieces fitted around its first literal found at `at`.
fn fit_around(
    text: &str,
    quote: &[Piece<'_>],
    first: usize,
    at: usize,
    before: &str,
    after: &str,
) -> Option<(usize, usize)> {
    let Piece::Literal(anchor) = quote[first] else { return None };
    // Forward from the first literal.
    let mut end = at + anchor.len();
    let mut i = first + 1;
    while i < quote.len() {
        match (quote[i], quote.get(i + 1)) {
            (Piece::Value(_), Some(Piece::Literal(next))) => {
                end = next_within(text, next, end)? + next.len();
                i += 2;
            }
            (Piece::Value(kind), None) => {
                end = if after.trim().is_empty() {
                    value_end(text, end, kind)?
                } else {
                    next_within(text, after, end.saturating_sub(1)).filter(|&e| e > end)?
                };
                i += 1;
            }
            _ => i += 1,
        }
    }
    // Backward: the first literal is preceded by at most one value (pieces alternate).
    let start = match first {
        0 => at,
        _ => {
            let Piece::Value(kind) = quote[first - 1] else { return None };
            if before.trim().is_empty() {
                value_start(text, at, kind)?
            } else {
                previous_within(text, before, at).map(|b| b + before.len()).filter(|&s| s < at)?
            }
        }
    };
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "Patient: Robert Lee MRN 2019-338812 DOB 1948-07-02 Location 4 West, Bed 7 Attending Dr. B. Ruiz Allergies: none. Notes: Robert Lee, 78 y/o, prefers mornings. Room 3";

    #[test]
    fn a_redacted_quote_finds_the_same_place_on_another_record() {
        let found = place(PAGE, "[name], 78 y/o", "Notes: ", ", prefers mornings").expect("placed");
        assert_eq!(&PAGE[found.0..found.1], "Robert Lee, 78 y/o");
        let found = place(PAGE, "[name]", "[MRN] DOB [date] Location 4 West, Bed 7 Attending Dr. ", " Allergies")
            .expect("placed");
        assert_eq!(&PAGE[found.0..found.1], "B. Ruiz");
        let found = place(PAGE, "DOB [date] Location", "[MRN] ", " 4 West").expect("placed");
        assert_eq!(&PAGE[found.0..found.1], "DOB 1948-07-02 Location");
        let found = place(PAGE, "[MRN]", "Patient: [name] MRN ", " DOB [date]").expect("placed");
        assert_eq!(&PAGE[found.0..found.1], "2019-338812");
    }

    #[test]
    fn a_quote_that_fits_several_places_or_none_is_not_placed() {
        let page = "Call [x] Robert Lee today. Call Maria Soto today.";
        assert_eq!(place(page, "Call [name] today", "", ""), None, "two places, no context to choose");
        assert_eq!(place(PAGE, "[name] refused", "", ""), None);
        assert_eq!(place(PAGE, "[name]", "", ""), None, "a placeholder alone with no context");
    }

    #[test]
    fn context_is_read_up_to_its_nearest_placeholder() {
        assert_eq!(nearest_prefix("[MRN] DOB [date] Location "), " Location ");
        assert_eq!(nearest_suffix(" Attending Dr. [name] Allergi"), " Attending Dr. ");
        assert_eq!(nearest_prefix("no placeholder"), "no placeholder");
        assert_eq!(last_words("lol 25 mg PO BID. Notes: "), "Notes: ");
        assert_eq!(last_words(" a b "), " a b ");
        assert_eq!(first_words(" Attending Dr. "), " Attending");
        assert_eq!(first_words(", prefers mornings"), ", prefers");
        assert!(has_placeholder("x [ID] y") && !has_placeholder("[not one]"));
    }
}
