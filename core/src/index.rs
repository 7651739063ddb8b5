//! One index of a page's text, shared by every tip anchored on that page: a hash-chain
//! table of 8-byte grams at every 4th position. A quote of 11 bytes or more always has one
//! of its grams on a sampled position, so looking up 4 grams finds every exact occurrence,
//! and looking up all of them seeds approximate search, without scanning the page per tip.

/// Gram length in bytes.
pub const GRAM: usize = 8;
/// Every `STEP`-th text position is indexed.
pub const STEP: usize = 4;
/// The shortest quote the index can find on its own; shorter ones are scanned for.
pub const MIN_INDEXED: usize = GRAM + STEP - 1;
const EMPTY: u32 = u32::MAX;

/// The gram index of one text.
pub struct GramIndex<'t> {
    text: &'t [u8],
    bits: u32,
    heads: Vec<u32>,
    next: Vec<u32>,
    counts: Vec<u32>,
}

impl<'t> GramIndex<'t> {
    pub fn new(text: &'t [u8]) -> Self {
        let slots = (text.len() / STEP).max(1);
        let bits = (usize::BITS - slots.leading_zeros()).clamp(8, 24);
        let mut heads = vec![EMPTY; 1 << bits];
        let mut counts = vec![0u32; 1 << bits];
        let mut next = vec![EMPTY; slots + 1];
        if text.len() >= GRAM {
            for pos in (0..=text.len() - GRAM).step_by(STEP) {
                let bucket = hash(&text[pos..pos + GRAM], bits);
                let slot = pos / STEP;
                next[slot] = heads[bucket];
                heads[bucket] = slot as u32;
                counts[bucket] += 1;
            }
        }
        GramIndex { text, bits, heads, next, counts }
    }

    pub fn text(&self) -> &'t [u8] {
        self.text
    }

    /// How many indexed positions share `gram`'s bucket: an upper bound of its frequency.
    pub fn bucket_size(&self, gram: &[u8]) -> u32 {
        self.counts[hash(gram, self.bits)]
    }

    /// Indexed positions where `gram` occurs.
    pub fn positions<'a>(&'a self, gram: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        let mut slot = self.heads[hash(gram, self.bits)];
        std::iter::from_fn(move || {
            while slot != EMPTY {
                let pos = slot as usize * STEP;
                slot = self.next[slot as usize];
                if self.text.get(pos..pos + GRAM) == Some(gram) {
                    return Some(pos);
                }
            }
            None
        })
    }

    /// Every position where `needle` occurs exactly, in text order.
    pub fn find_exact(&self, needle: &[u8]) -> Vec<usize> {
        let m = needle.len();
        if m == 0 || m > self.text.len() {
            return Vec::new();
        }
        if m < MIN_INDEXED {
            return scan(self.text, needle);
        }
        let mut found = Vec::new();
        // An occurrence at p has its gram at offset j on a sampled position exactly when
        // (p + j) % STEP == 0: one gram per residue class finds them all. In each class, use
        // the rarest gram.
        for residue in 0..STEP {
            let offset = (residue..=m - GRAM)
                .step_by(STEP)
                .min_by_key(|&j| self.bucket_size(&needle[j..j + GRAM]))
                .unwrap_or(residue);
            for pos in self.positions(&needle[offset..offset + GRAM]) {
                if let Some(start) = pos.checked_sub(offset) {
                    if self.text.get(start..start + m) == Some(needle) {
                        found.push(start);
                    }
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Exact occurrences by scanning: for needles too short to index.
fn scan(text: &[u8], needle: &[u8]) -> Vec<usize> {
    let Some(&first) = needle.first() else { return Vec::new() };
    let mut found = Vec::new();
    let mut at = 0;
    while at + needle.len() <= text.len() {
        match text[at..=text.len() - needle.len()].iter().position(|&b| b == first) {
            Some(offset) => {
                let start = at + offset;
                if &text[start..start + needle.len()] == needle {
                    found.push(start);
                }
                at = start + 1;
            }
            None => break,
        }
    }
    found
}

fn hash(gram: &[u8], bits: u32) -> usize {
    let mut word = [0u8; 8];
    word[..gram.len().min(8)].copy_from_slice(&gram[..gram.len().min(8)]);
    (u64::from_le_bytes(word).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn finds_exactly_what_a_scan_finds(
            text in proptest::collection::vec(b'a'..b'd', 0..2000),
            start in 0usize..2000,
            len in 1usize..40,
        ) {
            let index = GramIndex::new(&text);
            let start = start.min(text.len().saturating_sub(1));
            let needle = text.get(start..(start + len).min(text.len())).unwrap_or(b"ab").to_vec();
            prop_assert_eq!(index.find_exact(&needle), scan(&text, &needle));
        }
    }
}
