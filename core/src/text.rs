//! Page text as anchoring sees it: normalised once per page, with a map back to the raw
//! UTF-16 offsets the content script uses to build DOM ranges.
//!
//! Normalisation is the one rule capture and anchoring must share exactly: whitespace
//! runs (including no-break spaces and line breaks) become one space, and invisible
//! format characters (soft hyphen, zero-width space, byte-order mark) are dropped. An app
//! that re-renders with different indentation or wrapping then still yields the same
//! text.

/// Characters that render as nothing and are dropped by normalisation.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}' | '\u{FEFF}')
}

/// Normalises a short string (a quote, a context) the same way [`PageText`] does.
pub fn normalize(raw: &str) -> String {
    PageText::new(raw).text
}

/// A page's text, normalised, with the raw UTF-16 offset of every normalised character.
#[derive(Debug, Clone)]
pub struct PageText {
    text: String,
    /// `raw_start[b]` is the raw UTF-16 offset where the normalised character at byte `b`
    /// begins (bytes inside a multi-byte character repeat their character's offset).
    raw_start: Vec<u32>,
    raw_len: u32,
    /// What kind of block each part of the text is in (see [`BlockKinds`]): raw offsets
    /// where a kind begins, ascending, each with its index into `kinds`.
    block_starts: Vec<(u32, u32)>,
    kinds: Vec<String>,
}

/// The longest block kind kept: a tag and a few classes, for the block and its parent.
pub const MAX_BLOCK_KIND_CHARS: usize = 160;

/// Which kind of block (paragraph, list item, heading, cell) each part of a page's text is
/// in, as the content script's text map says: `marks` pairs a raw UTF-16 offset where a
/// kind begins with an index into `kinds`. A kind names the block's tag and classes and its
/// parent's (`h2.story-title < div.related`), never ids or anything with a digit, which
/// name a record rather than a part of the screen.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct BlockKinds {
    #[serde(default)]
    pub marks: Vec<u32>,
    #[serde(default)]
    pub kinds: Vec<String>,
}

impl PageText {
    pub fn new(raw: &str) -> Self {
        let bytes = raw.as_bytes();
        let mut text: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut raw_start: Vec<u32> = Vec::with_capacity(bytes.len());
        let mut offset: u32 = 0; // raw UTF-16 offset
        let mut in_space = false;
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            // Pages are mostly ASCII: handle it a byte at a time, decode only the rest.
            let (c, width) = if byte.is_ascii() {
                (byte as char, 1)
            } else {
                let c = raw[at..].chars().next().unwrap_or(char::REPLACEMENT_CHARACTER);
                (c, c.len_utf8())
            };
            if c.is_whitespace() {
                if !in_space {
                    text.push(b' ');
                    raw_start.push(offset);
                    in_space = true;
                }
            } else if !is_invisible(c) {
                in_space = false;
                text.extend_from_slice(&bytes[at..at + width]);
                raw_start.extend(std::iter::repeat_n(offset, width));
            }
            offset += c.len_utf16() as u32;
            at += width;
        }
        // Whole characters were copied, so this is valid UTF-8; checking is cheap.
        let text = String::from_utf8(text).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        PageText { text, raw_start, raw_len: offset, block_starts: Vec::new(), kinds: Vec::new() }
    }

    /// The page's text with the kinds of block its parts are in. Marks that are out of
    /// order or point at no kind are not evidence: the page is then taken as one without
    /// kinds. An overlong kind says nothing about its blocks.
    pub fn with_blocks(raw: &str, blocks: BlockKinds) -> Self {
        let mut page = PageText::new(raw);
        let starts: Vec<(u32, u32)> = blocks.marks.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect();
        let sound = starts.windows(2).all(|w| w[0].0 <= w[1].0)
            && starts.iter().all(|&(_, kind)| (kind as usize) < blocks.kinds.len());
        if sound {
            page.block_starts = starts;
            page.kinds = blocks
                .kinds
                .into_iter()
                .map(|kind| if kind.chars().count() <= MAX_BLOCK_KIND_CHARS { kind } else { String::new() })
                .collect();
        }
        page
    }

    /// The kind of block the normalised character at byte `at` is in, if the page said.
    pub fn block_kind(&self, at: usize) -> Option<&str> {
        let raw = self.raw_offset(at);
        let after = self.block_starts.partition_point(|&(start, _)| start <= raw);
        let (_, kind) = self.block_starts.get(after.checked_sub(1)?)?;
        self.kinds.get(*kind as usize).map(String::as_str).filter(|kind| !kind.is_empty())
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Length of the raw text in UTF-16 code units.
    pub fn raw_len(&self) -> u32 {
        self.raw_len
    }

    /// Raw UTF-16 offset where the normalised character at byte `at` starts; the raw
    /// length for the end of the text.
    pub fn raw_offset(&self, at: usize) -> u32 {
        self.raw_start.get(at).copied().unwrap_or(self.raw_len)
    }

    /// Raw UTF-16 end offset (exclusive) of the normalised range ending at byte `end`:
    /// just past its last character, so a collapsed space after it is not included.
    pub fn raw_end(&self, start: usize, end: usize) -> u32 {
        if end <= start {
            return self.raw_offset(start);
        }
        let last = self.text[..end].chars().next_back().map_or(' ', |c| c);
        let last_at = end - last.len_utf8();
        let width = if last == ' ' { 1 } else { last.len_utf16() as u32 };
        self.raw_offset(last_at) + width
    }

    /// The normalised byte offset of the first character at or after raw offset `raw`.
    pub fn norm_offset(&self, raw: u32) -> usize {
        let at = self.raw_start.partition_point(|&r| r < raw);
        // Land on a character boundary: continuation bytes share their start's offset.
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at += 1;
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_kind_is_the_one_its_text_starts_in() {
        let blocks = BlockKinds { marks: vec![0, 0, 6, 1], kinds: vec!["h2 < div.news".into(), "p < div".into()] };
        let page = PageText::with_blocks("Title\n  Body", blocks);
        assert_eq!(page.as_str(), "Title Body");
        assert_eq!(page.block_kind(0), Some("h2 < div.news"));
        assert_eq!(page.block_kind(6), Some("p < div"));
        let unsound = BlockKinds { marks: vec![6, 0, 0, 0], kinds: vec!["p".into()] };
        assert_eq!(PageText::with_blocks("Title\n  Body", unsound).block_kind(0), None, "marks out of order");
        let overlong = BlockKinds { marks: vec![0, 0, 6, 1], kinds: vec!["h2".repeat(100), "p < div".into()] };
        let page = PageText::with_blocks("Title\n  Body", overlong);
        assert_eq!(
            (page.block_kind(0), page.block_kind(6)),
            (None, Some("p < div")),
            "only the overlong kind says nothing"
        );
        assert_eq!(PageText::new("Title").block_kind(0), None);
    }

    #[test]
    fn collapses_whitespace_and_drops_invisible_characters() {
        let page = PageText::new("Metoprolol\n   25\u{00A0}mg\u{00AD} PO\t\tBID");
        assert_eq!(page.as_str(), "Metoprolol 25 mg PO BID");
    }

    #[test]
    fn maps_normalised_ranges_back_to_raw_utf16() {
        let raw = "a  é😀b";
        let page = PageText::new(raw);
        assert_eq!(page.as_str(), "a é😀b");
        let b = page.as_str().find('b').expect("b present");
        // raw UTF-16: a=0, spaces=1..3, é=3, 😀=4..6, b=6
        assert_eq!(page.raw_offset(b), 6);
        let emoji = page.as_str().find('😀').expect("emoji present");
        assert_eq!(page.raw_end(emoji, emoji + '😀'.len_utf8()), 6);
        assert_eq!(page.norm_offset(3), page.as_str().find('é').expect("é present"));
        assert_eq!(page.raw_end(0, 2), 2, "a trailing collapsed space counts one unit");
    }
}
