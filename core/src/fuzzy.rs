//! Approximate matching: where does a pattern occur in a text with at most `k` edits?
//!
//! Myers' bit-parallel algorithm (1999) in the block form of Hyyrö (2003), on 64-bit
//! words, so patterns of any length are handled a block at a time. It finds the end of
//! every match; a small dynamic program over the few characters before an end then finds
//! where that match starts.

/// A match of a pattern in a text: byte range and number of edits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub errors: usize,
}

/// The pattern's bit masks: for each byte value, which pattern positions hold it.
struct Peq {
    blocks: usize,
    masks: Vec<u64>, // 256 × blocks
}

impl Peq {
    fn new(pattern: &[u8]) -> Self {
        let blocks = pattern.len().div_ceil(64).max(1);
        let mut masks = vec![0u64; 256 * blocks];
        for (i, &byte) in pattern.iter().enumerate() {
            masks[byte as usize * blocks + i / 64] |= 1 << (i % 64);
        }
        Peq { blocks, masks }
    }

    fn of(&self, byte: u8) -> &[u64] {
        let at = byte as usize * self.blocks;
        &self.masks[at..at + self.blocks]
    }
}

/// A pattern prepared for bit-parallel matching; build once, match against many texts.
pub struct Pattern {
    len: usize,
    peq: Peq,
}

impl Pattern {
    pub fn new(pattern: &[u8]) -> Self {
        Pattern { len: pattern.len(), peq: Peq::new(pattern) }
    }

    /// Runs Myers' algorithm over `text`, calling `visit(end, distance)` after each byte.
    /// `anchored` fixes the pattern's start to the text's start (global distance);
    /// otherwise the match may start anywhere.
    fn run(&self, text: &[u8], anchored: bool, mut visit: impl FnMut(usize, usize)) {
        let blocks = self.peq.blocks;
        let last_bit = 1u64 << ((self.len.max(1) - 1) % 64);
        let mut pv = [u64::MAX; 4];
        let mut mv = [0u64; 4];
        let (mut pv_heap, mut mv_heap) = (Vec::new(), Vec::new());
        let (pv, mv): (&mut [u64], &mut [u64]) = if blocks <= 4 {
            (&mut pv[..blocks], &mut mv[..blocks])
        } else {
            pv_heap.resize(blocks, u64::MAX);
            mv_heap.resize(blocks, 0);
            (&mut pv_heap, &mut mv_heap)
        };
        let mut score = self.len;
        for (j, &byte) in text.iter().enumerate() {
            let eq_all = self.peq.of(byte);
            // The top row is all zeros when a match may start anywhere (delta 0), and
            // counts up by one per text byte when it must start at the text's start.
            let mut h_in: i32 = i32::from(anchored);
            for b in 0..blocks {
                let (p, mm) = (pv[b], mv[b]);
                let h_neg = u64::from(h_in < 0);
                let eq = eq_all[b] | h_neg;
                let xv = eq | mm;
                let xh = (((eq & p).wrapping_add(p)) ^ p) | eq;
                let mut ph = mm | !(xh | p);
                let mut mh = p & xh;
                let row_bit = if b + 1 == blocks { last_bit } else { 1 << 63 };
                let h_out = i32::from(ph & row_bit != 0) - i32::from(mh & row_bit != 0);
                ph = (ph << 1) | u64::from(h_in > 0);
                mh = (mh << 1) | h_neg;
                pv[b] = mh | !(xv | ph);
                mv[b] = ph & xv;
                h_in = h_out;
            }
            score = (score as i64 + i64::from(h_in)) as usize;
            visit(j + 1, score);
        }
    }

    /// Edit distance between the whole pattern and the whole of `text`.
    pub fn distance(&self, text: &[u8]) -> usize {
        if self.len == 0 {
            return text.len();
        }
        let mut last = self.len;
        self.run(text, true, |_, score| last = score);
        last
    }
}

/// Ends of matches of `pattern` in `text` with at most `max_errors` edits, as
/// `(end, errors)` pairs, in text order. The pattern may start anywhere in the text.
pub fn match_ends(text: &[u8], pattern: &[u8], max_errors: usize) -> Vec<(usize, usize)> {
    if pattern.is_empty() {
        return Vec::new();
    }
    let mut ends = Vec::new();
    Pattern::new(pattern).run(text, false, |end, score| {
        if score <= max_errors {
            ends.push((end, score));
        }
    });
    ends
}

/// The start of the best match of `pattern` ending exactly at `end`, and its edits: a
/// dynamic program over the pattern against the text read backwards from `end`.
pub fn match_start(text: &[u8], pattern: &[u8], end: usize, max_errors: usize) -> (usize, usize) {
    let m = pattern.len();
    let from = end.saturating_sub(m + max_errors);
    let window = &text[from..end];
    // row[i] = edits to align pattern[m-i..] with the last `t` bytes of the window.
    let mut row: Vec<usize> = (0..=m).collect();
    let mut best = (end, row[m]);
    for t in 1..=window.len() {
        let byte = window[window.len() - t];
        let mut diagonal = row[0];
        row[0] = t; // the match must end at `end`: skipped text bytes count
        for i in 1..=m {
            let cost = usize::from(pattern[m - i] != byte);
            let value = (diagonal + cost).min(row[i] + 1).min(row[i - 1] + 1);
            diagonal = row[i];
            row[i] = value;
        }
        // Prefer fewer edits; among equals, the longer match (it covers the pattern's text).
        if row[m] <= best.1 {
            best = (end - t, row[m]);
        }
    }
    best
}

/// Every best local match of `pattern` in `text` with at most `max_errors` edits: for
/// each run of adjacent match ends, the end with the fewest edits, and its start.
pub fn find(text: &[u8], pattern: &[u8], max_errors: usize) -> Vec<Match> {
    let ends = match_ends(text, pattern, max_errors);
    let mut matches: Vec<Match> = Vec::new();
    let mut run: Option<(usize, usize, usize)> = None; // (last end, best end, best errors)
    let flush = |run: Option<(usize, usize, usize)>, matches: &mut Vec<Match>| {
        if let Some((_, end, _)) = run {
            let (start, errors) = match_start(text, pattern, end, max_errors);
            matches.push(Match { start, end, errors });
        }
    };
    for (end, errors) in ends {
        run = match run {
            Some((last, best_end, best_errors)) if end == last + 1 => {
                if errors < best_errors {
                    Some((end, end, errors))
                } else {
                    Some((end, best_end, best_errors))
                }
            }
            previous => {
                flush(previous, &mut matches);
                Some((end, end, errors))
            }
        };
    }
    flush(run, &mut matches);
    matches
}

/// Edit distance between two short strings (prefix and suffix contexts).
pub fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &x) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let value = (diagonal + usize::from(x != y)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = value;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The textbook O(m·n) semi-global distance at each text position, to check Myers against.
    fn naive_ends(text: &[u8], pattern: &[u8], k: usize) -> Vec<(usize, usize)> {
        let m = pattern.len();
        let mut column: Vec<usize> = (0..=m).collect();
        let mut ends = Vec::new();
        for (j, &byte) in text.iter().enumerate() {
            let mut diagonal = column[0];
            column[0] = 0;
            for i in 1..=m {
                let value = (diagonal + usize::from(pattern[i - 1] != byte)).min(column[i] + 1).min(column[i - 1] + 1);
                diagonal = column[i];
                column[i] = value;
            }
            if column[m] <= k {
                ends.push((j + 1, column[m]));
            }
        }
        ends
    }

    #[test]
    fn finds_an_edited_phrase() {
        let text = b"Hold if HR < 60 or SBP < 100. Check K+ and creatinine before the third dose.";
        let found = find(text, b"Check K+ and creatinine before the 3rd dose.", 8);
        assert_eq!(found.len(), 1);
        let m = found[0];
        assert_eq!(&text[m.start..m.end], b"Check K+ and creatinine before the third dose.");
    }

    #[test]
    fn long_patterns_span_several_words() {
        let pattern: Vec<u8> = (0..200u32).map(|i| b'a' + (i * 7 % 26) as u8).collect();
        let mut text = b"xxxx".to_vec();
        text.extend_from_slice(&pattern[..100]);
        text.extend_from_slice(b"ZZ");
        text.extend_from_slice(&pattern[100..]);
        text.extend_from_slice(b"yyyy");
        let found = find(&text, &pattern, 5);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].start, found[0].end, found[0].errors), (4, 4 + 202, 2));
    }

    proptest! {
        #[test]
        fn myers_agrees_with_the_textbook_algorithm(
            text in proptest::collection::vec(b'a'..b'e', 0..300),
            pattern in proptest::collection::vec(b'a'..b'e', 1..150),
            k in 0usize..20,
        ) {
            prop_assert_eq!(match_ends(&text, &pattern, k), naive_ends(&text, &pattern, k));
        }

        #[test]
        fn global_distance_agrees_with_the_textbook_algorithm(
            a in proptest::collection::vec(b'a'..b'e', 0..150),
            b in proptest::collection::vec(b'a'..b'e', 0..150),
        ) {
            prop_assert_eq!(Pattern::new(&a).distance(&b), edit_distance(&a, &b));
        }

        #[test]
        fn match_start_gives_a_match_of_the_reported_cost(
            text in proptest::collection::vec(b'a'..b'd', 1..200),
            pattern in proptest::collection::vec(b'a'..b'd', 1..70),
        ) {
            for (end, errors) in match_ends(&text, &pattern, pattern.len() / 3) {
                let (start, found) = match_start(&text, &pattern, end, pattern.len() / 3);
                prop_assert_eq!(found, errors);
                prop_assert_eq!(edit_distance(&text[start..end], &pattern), errors);
            }
        }
    }
}
