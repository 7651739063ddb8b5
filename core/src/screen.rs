//! Screens, not addresses: a tip made on one patient's orders screen belongs on every
//! patient's orders screen. A page's *screen pattern* is its screen key (see
//! [`crate::url`]) with the parts that name a record replaced by `*`; a tip shows on every
//! page whose pattern equals the pattern of the page it was made on.
//!
//! Record ids are found by default rules (numbers, UUIDs, long hex or id-like codes in
//! the path and in query values), and a team can add its own rules for paths the defaults
//! miss, such as `/wards/*/board` where `*` stands for a ward's name. The server ships the
//! team's rules to every member, so every browser groups screens the same way.

use crate::url::{PageUrl, UrlError};

/// The most rules a team may keep, and the longest rule.
pub const MAX_RULES: usize = 100;
pub const MAX_RULE_CHARS: usize = 300;

/// A team's rule: a path pattern where `*` stands for any one segment and a final `**`
/// for any rest of the path, e.g. `/wards/*/board` or `/claims/**`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ScreenRule(String);

/// Why a rule cannot be used. Messages are shown to the person editing rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("A rule is a path that starts with / (for example /wards/*/board).")]
    NotAPath,
    #[error("A rule is at most {MAX_RULE_CHARS} characters.")]
    TooLong,
    #[error("`**` may only stand at the end of a rule, as a whole segment.")]
    MisplacedRest,
    #[error("A team may keep at most {MAX_RULES} rules.")]
    TooMany,
}

impl ScreenRule {
    pub fn parse(text: &str) -> Result<ScreenRule, RuleError> {
        let text = text.trim();
        if !text.starts_with('/') || text.chars().any(|c| c.is_whitespace() || c == '?' || c == '#') {
            return Err(RuleError::NotAPath);
        }
        if text.chars().count() > MAX_RULE_CHARS {
            return Err(RuleError::TooLong);
        }
        let segments: Vec<&str> = text.split('/').skip(1).collect();
        let rest_misplaced =
            segments.iter().enumerate().any(|(i, s)| s.contains("**") && (*s != "**" || i + 1 != segments.len()));
        if rest_misplaced {
            return Err(RuleError::MisplacedRest);
        }
        let trimmed = if text.len() > 1 { text.trim_end_matches('/') } else { text };
        Ok(ScreenRule(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The rule's pattern if it matches `path`, else `None`.
    fn apply(&self, path: &str) -> Option<String> {
        let rule: Vec<&str> = self.0.split('/').skip(1).collect();
        let page: Vec<&str> = path.split('/').skip(1).collect();
        for (i, part) in rule.iter().enumerate() {
            if *part == "**" {
                return Some(self.0.clone());
            }
            match page.get(i) {
                Some(segment) if *part == "*" || part == segment => {}
                _ => return None,
            }
        }
        (rule.len() == page.len()).then(|| self.0.clone())
    }
}

/// Checks a whole list of rules, as a team keeps them.
pub fn parse_rules(texts: &[String]) -> Result<Vec<ScreenRule>, RuleError> {
    if texts.len() > MAX_RULES {
        return Err(RuleError::TooMany);
    }
    texts.iter().map(|t| ScreenRule::parse(t)).collect()
}

/// The screen pattern of a screen key (or of any page address): team rules first, in
/// order, then the default rules.
pub fn screen_pattern(screen_key: &str, rules: &[ScreenRule]) -> Result<String, UrlError> {
    let url = PageUrl::parse(screen_key)?;
    let key = url.screen_key();
    let key_url = PageUrl::parse(&key)?;
    let origin = key_url.origin();
    let path = match rules.iter().find_map(|rule| rule.apply(key_url.path)) {
        Some(pattern) => pattern,
        None => key_url
            .path
            .split('/')
            .map(|segment| if is_record_id(segment) { "*" } else { segment })
            .collect::<Vec<_>>()
            .join("/"),
    };
    let mut pattern = format!("{origin}{path}");
    if let Some(query) = key_url.query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) if is_record_id(value) => format!("{name}=*"),
                _ => pair.to_owned(),
            })
            .collect();
        pattern.push('?');
        pattern.push_str(&pairs.join("&"));
    }
    Ok(pattern)
}

/// The part of every matching screen key before the first wildcard: storage finds the
/// candidates of a pattern with one range query on this prefix.
pub fn literal_prefix(pattern: &str) -> &str {
    pattern.find('*').map_or(pattern, |star| &pattern[..star])
}

/// Whether a path segment or query value names a record rather than a screen: a number,
/// a UUID, a long hex string, or a code with at least four digits making up at least
/// half of it (`MRN00482913`, `E-2291-07`). Words (`orders`, `v2`, `2024-plan`) are kept.
pub fn is_record_id(segment: &str) -> bool {
    let len = segment.chars().count();
    if len == 0 {
        return false;
    }
    let digits = segment.chars().filter(char::is_ascii_digit).count();
    if digits == len {
        return true;
    }
    let hex_like = segment.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if hex_like && segment.chars().filter(char::is_ascii_hexdigit).count() >= 16 && digits > 0 {
        return true; // UUIDs, hashes
    }
    let id_chars = segment.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    id_chars && digits >= 4 && digits * 2 >= len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(url: &str) -> String {
        screen_pattern(url, &[]).expect("valid")
    }

    #[test]
    fn one_patients_screen_matches_every_patients_same_screen() {
        assert_eq!(pattern("http://127.0.0.1:8700/patients/1/orders"), "http://127.0.0.1:8700/patients/*/orders");
        assert_eq!(
            pattern("http://127.0.0.1:8700/patients/2/orders#top"),
            pattern("http://127.0.0.1:8700/patients/1/orders")
        );
        assert_ne!(
            pattern("http://127.0.0.1:8700/patients/2/notes"),
            pattern("http://127.0.0.1:8700/patients/1/orders")
        );
        assert_eq!(
            pattern("https://emr.example/chart/3f2b8c1e-9d4a-4e6b-8f00-1a2b3c4d5e6f/vitals"),
            "https://emr.example/chart/*/vitals"
        );
        assert_eq!(
            pattern("https://emr.example/chart?mrn=MRN00482913&tab=orders"),
            "https://emr.example/chart?mrn=*&tab=orders"
        );
        assert_eq!(pattern("https://billing.example/claims/E-2291-07/edit"), "https://billing.example/claims/*/edit");
    }

    #[test]
    fn screen_names_are_not_mistaken_for_records() {
        for word in ["orders", "v2", "2024-plan", "api", "index.html", "step-3", "cafe", "deadbeef"] {
            assert!(!is_record_id(word), "{word}");
        }
        for id in
            ["42", "0007", "MRN00482913", "3f2b8c1e-9d4a-4e6b-8f00-1a2b3c4d5e6f", "a94a8fe5ccb19ba61c4c0873d391e987"]
        {
            assert!(is_record_id(id), "{id}");
        }
    }

    #[test]
    fn team_rules_come_first_and_are_checked() {
        let rules = parse_rules(&["/wards/*/board".into(), "/handbook/**".into()]).expect("valid rules");
        assert_eq!(
            screen_pattern("http://intranet.example/wards/4-west/board", &rules),
            Ok("http://intranet.example/wards/*/board".into())
        );
        assert_eq!(
            screen_pattern("http://intranet.example/handbook/claims/box-22", &rules),
            Ok("http://intranet.example/handbook/**".into())
        );
        assert_eq!(
            screen_pattern("http://intranet.example/wards/4-west/roster", &rules),
            Ok("http://intranet.example/wards/4-west/roster".into())
        );
        assert_eq!(ScreenRule::parse("wards/*"), Err(RuleError::NotAPath));
        assert_eq!(ScreenRule::parse("/a/**/b"), Err(RuleError::MisplacedRest));
        assert_eq!(parse_rules(&vec!["/a".to_owned(); MAX_RULES + 1]), Err(RuleError::TooMany));
    }

    #[test]
    fn the_literal_prefix_finds_every_candidate() {
        let p = pattern("http://127.0.0.1:8700/patients/1/orders");
        assert_eq!(literal_prefix(&p), "http://127.0.0.1:8700/patients/");
        assert!(crate::url::screen_key("http://127.0.0.1:8700/patients/77/orders")
            .expect("valid")
            .starts_with(literal_prefix(&p)));
    }
}
