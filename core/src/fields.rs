//! A team's identifying fields: CSS selectors of elements whose text identifies a patient
//! on the team's own screens (a banner the default labels do not find), with the kind of
//! identifier their value is.
//!
//! Admins keep them like screen rules, one per line: `mrn: #banner .chart-no`, or a
//! selector alone for an identifier of no particular kind (`[ID]`). The server checks
//! them with this code and ships them with `GET /v1/me`; the content script reads the
//! matching elements' values with the default fields, and the redactor hides them in every
//! text of a shared tip. Whether a selector is valid CSS only a browser can say: the
//! options page asks its own document before saving, and the content script skips one that
//! throws.

use crate::redact::Kind;
use serde::{Deserialize, Serialize};

/// The most rules a team may keep, and the longest rule.
pub const MAX_FIELD_RULES: usize = 50;
pub const MAX_FIELD_RULE_CHARS: usize = 300;

/// One identifying field: which elements, and what kind of identifier their text is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldRule {
    pub kind: Kind,
    pub selector: String,
}

/// Why a rule cannot be used. Messages are shown to the admin editing the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldRuleError {
    #[error("An identifying field needs a CSS selector (for example `mrn: #banner .chart-no`).")]
    Empty,
    #[error("An identifying field is at most {MAX_FIELD_RULE_CHARS} characters.")]
    TooLong,
    #[error("`{0}` is not a CSS selector: braces, semicolons and line breaks have no place in one.")]
    NotASelector(String),
    #[error("A team may keep at most {MAX_FIELD_RULES} identifying fields.")]
    TooMany,
}

/// The kinds a rule may name, by the words an admin writes before the colon.
const KIND_WORDS: [(&str, Kind); 14] = [
    ("name", Kind::Name),
    ("mrn", Kind::Mrn),
    ("date", Kind::Date),
    ("dob", Kind::Date),
    ("phone", Kind::Phone),
    ("email", Kind::Email),
    ("ssn", Kind::Ssn),
    ("address", Kind::Address),
    ("zip", Kind::Zip),
    ("account", Kind::Account),
    ("licence", Kind::Licence),
    ("license", Kind::Licence),
    ("device", Kind::Device),
    ("id", Kind::Id),
];

impl FieldRule {
    /// Reads `kind: selector` or a selector alone. The kind's colon is followed by a
    /// space, which tells it from a pseudo-class: `address:first-child` is a selector
    /// (the `<address>` element), `address: .pt-home` a rule of kind address.
    pub fn parse(text: &str) -> Result<FieldRule, FieldRuleError> {
        let text = text.trim();
        if text.chars().count() > MAX_FIELD_RULE_CHARS {
            return Err(FieldRuleError::TooLong);
        }
        let named = text.split_once(':').and_then(|(word, rest)| {
            let spaced = rest.is_empty() || rest.starts_with(char::is_whitespace);
            let kind = KIND_WORDS.iter().find(|(w, _)| w.eq_ignore_ascii_case(word.trim())).map(|&(_, k)| k);
            kind.filter(|_| spaced).map(|kind| (kind, rest.trim()))
        });
        let (kind, selector) = named.unwrap_or((Kind::Id, text));
        if selector.is_empty() {
            return Err(FieldRuleError::Empty);
        }
        if selector.chars().any(|c| c == '{' || c == '}' || c == ';' || c.is_control()) {
            return Err(FieldRuleError::NotASelector(selector.to_owned()));
        }
        Ok(FieldRule { kind, selector: selector.to_owned() })
    }

    /// The rule as an admin writes it, and as the server keeps it: `kind: selector`.
    pub fn to_text(&self) -> String {
        let word = KIND_WORDS.iter().find(|(_, k)| *k == self.kind).map_or("id", |(w, _)| *w);
        format!("{word}: {}", self.selector)
    }
}

/// Checks a whole list of rules as a team keeps them, dropping repeats and blank lines.
pub fn parse_field_rules(texts: &[String]) -> Result<Vec<FieldRule>, FieldRuleError> {
    let mut rules: Vec<FieldRule> = Vec::new();
    for text in texts.iter().filter(|t| !t.trim().is_empty()) {
        let rule = FieldRule::parse(text)?;
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    if rules.len() > MAX_FIELD_RULES {
        return Err(FieldRuleError::TooMany);
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_names_its_kind_before_a_colon_and_a_space() {
        assert_eq!(
            FieldRule::parse("mrn: #banner .chart-no").unwrap(),
            FieldRule { kind: Kind::Mrn, selector: "#banner .chart-no".into() }
        );
        assert_eq!(FieldRule::parse("  DOB:   .pt-born ").unwrap().kind, Kind::Date);
        let pseudo = FieldRule::parse("address:first-child").unwrap();
        assert_eq!((pseudo.kind, pseudo.selector.as_str()), (Kind::Id, "address:first-child"));
        let bare = FieldRule::parse("[data-field=\"patient-ref\"]").unwrap();
        assert_eq!(bare.kind, Kind::Id, "a selector alone is an identifier of no particular kind");
        let unknown_word = FieldRule::parse("ward: .bed").unwrap();
        assert_eq!((unknown_word.kind, unknown_word.selector.as_str()), (Kind::Id, "ward: .bed"));
        assert_eq!(FieldRule::parse("phone: a[href^='tel:']").unwrap().to_text(), "phone: a[href^='tel:']");
        assert_eq!(FieldRule::parse(".x").unwrap().to_text(), "id: .x", "what the server keeps reads back the same");
    }

    #[test]
    fn rules_that_are_no_selector_are_refused_with_a_reason() {
        assert_eq!(FieldRule::parse("name: "), Err(FieldRuleError::Empty));
        assert_eq!(FieldRule::parse("   "), Err(FieldRuleError::Empty));
        assert!(matches!(FieldRule::parse("name: .x { color: red }"), Err(FieldRuleError::NotASelector(_))));
        assert!(matches!(FieldRule::parse(".a;.b"), Err(FieldRuleError::NotASelector(_))));
        assert_eq!(
            FieldRule::parse(&format!("id: {}", "a".repeat(MAX_FIELD_RULE_CHARS))),
            Err(FieldRuleError::TooLong)
        );
        let many: Vec<String> = (0..=MAX_FIELD_RULES).map(|i| format!(".f{i}")).collect();
        assert_eq!(parse_field_rules(&many), Err(FieldRuleError::TooMany));
        let repeated = parse_field_rules(&["mrn: .a".into(), "".into(), "mrn:  .a".into()]).unwrap();
        assert_eq!(repeated.len(), 1, "repeats and blank lines are dropped");
    }
}
