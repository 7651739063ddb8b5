//! Searching tips the way people type it: words match the note, the quote, the page title
//! and the tags; `tag:orders` and `author:dana` narrow to a tag or an author; quotes keep
//! words together (`"order set"`). Every part must match, whatever the case. The side
//! panel's feed and exports share this rule.

use crate::model::Tip;

/// A parsed search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    words: Vec<String>,
    tags: Vec<String>,
    authors: Vec<String>,
}

impl Search {
    pub fn parse(text: &str) -> Search {
        let mut search = Search::default();
        for term in terms(text) {
            let lower = term.to_lowercase();
            if let Some(tag) = lower.strip_prefix("tag:").filter(|t| !t.is_empty()) {
                search.tags.push(tag.to_owned());
            } else if let Some(author) = lower.strip_prefix("author:").filter(|a| !a.is_empty()) {
                search.authors.push(author.to_owned());
            } else if !lower.is_empty() {
                search.words.push(lower);
            }
        }
        search
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.tags.is_empty() && self.authors.is_empty()
    }

    /// Whether `tip` matches every part of the search.
    pub fn matches(&self, tip: &Tip) -> bool {
        self.matches_prepared(&Searchable::of(tip))
    }

    /// [`Search::matches`] on a tip prepared once, for searching the same tips often.
    pub fn matches_prepared(&self, tip: &Searchable) -> bool {
        self.tags.iter().all(|wanted| tip.tags.iter().any(|t| t.starts_with(wanted.as_str())))
            && self.authors.iter().all(|wanted| tip.author.contains(wanted.as_str()))
            && self.words.iter().all(|word| tip.text.contains(word.as_str()))
    }
}

/// A tip's searchable text, lowercased once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Searchable {
    text: String,
    tags: Vec<String>,
    author: String,
}

impl Searchable {
    pub fn of(tip: &Tip) -> Searchable {
        Searchable {
            text: format!(
                "{}\n{}\n{}\n{}",
                tip.note,
                tip.target.quote().unwrap_or(""),
                tip.page_title,
                tip.tags.join(" ")
            )
            .to_lowercase(),
            tags: tip.tags.iter().map(|t| t.to_lowercase()).collect(),
            author: tip.author.to_lowercase(),
        }
    }
}

/// Splits on whitespace, keeping `"quoted phrases"` (also after `tag:`) together.
fn terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        terms.push(current);
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NewTip, Selector, Visibility};
    use crate::{Timestamp, TipId};

    fn tip(note: &str, tags: &[&str], author: &str) -> Tip {
        NewTip {
            page_url: "http://127.0.0.1:8700/patients/1/orders".into(),
            page_title: "Orders — Riverside EMR".into(),
            note: note.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            visibility: Visibility::Team,
            selectors: vec![Selector::TextQuote {
                exact: "Use the Adult Subcutaneous Insulin order set.".into(),
                prefix: String::new(),
                suffix: String::new(),
                block: None,
            }],
        }
        .into_tip(TipId::new_v7(1, [1; 10]), author, Timestamp(1))
        .expect("valid")
    }

    #[test]
    fn words_tags_and_authors_all_must_match() {
        let t =
            tip("Pin the order set to Favourites after the upgrade.", &["orders", "after upgrade"], "Dana (charge RN)");
        for hit in [
            "favourites",
            "FAVOURITES upgrade",
            "tag:orders",
            "tag:after",
            "tag:\"after upgrade\"",
            "author:dana",
            "insulin",
            "riverside",
            "\"order set\"",
            "",
        ] {
            assert!(Search::parse(hit).matches(&t), "{hit}");
        }
        for miss in ["heparin", "tag:labs", "author:sam", "favourites tag:labs", "\"set order\""] {
            assert!(!Search::parse(miss).matches(&t), "{miss}");
        }
        assert!(Search::parse("  ").is_empty());
    }
}
