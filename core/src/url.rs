//! Page URLs: validation of what a tip may point at, and the screen key that decides
//! which tips belong to a page.
//!
//! Only the parts Inflow needs are parsed here (scheme, authority, path, query,
//! fragment). Browsers hand us canonical `location.href` strings; the server re-checks
//! them with the same code, so a URL the extension accepts is one the server accepts.

/// The longest page URL a tip may carry, in bytes.
pub const MAX_URL_LEN: usize = 2048;

/// Query parameters that track campaigns or sessions and never select content.
const NOISE_PARAMS: &[&str] =
    &["fbclid", "gclid", "msclkid", "mc_cid", "mc_eid", "_ga", "_gl", "jsessionid", "phpsessid", "sid"];

/// Why a URL cannot carry a tip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the page address is empty")]
    Empty,
    #[error("the page address is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("only http and https pages can hold tips")]
    UnsupportedScheme,
    #[error("the page address has no host")]
    NoHost,
    #[error("the page address contains spaces or control characters")]
    BadCharacter,
    #[error("the page address's host holds characters no host name has")]
    BadHost,
    #[error("the page address is not written as a web address (RFC 3986) is")]
    NotAUri,
}

/// A parsed http(s) URL, borrowed from the string it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageUrl<'a> {
    pub scheme: &'a str,
    pub host: &'a str,
    pub port: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub fragment: Option<&'a str>,
}

impl<'a> PageUrl<'a> {
    pub fn parse(url: &'a str) -> Result<Self, UrlError> {
        if url.is_empty() {
            return Err(UrlError::Empty);
        }
        if url.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlError::BadCharacter);
        }
        let (scheme, rest) = url.split_once("://").ok_or(UrlError::UnsupportedScheme)?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(UrlError::UnsupportedScheme);
        }
        let (rest, fragment) = match rest.split_once('#') {
            Some((before, fragment)) => (before, Some(fragment)),
            None => (rest, None),
        };
        let (rest, query) = match rest.split_once('?') {
            Some((before, query)) => (before, Some(query)),
            None => (rest, None),
        };
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, "/"),
        };
        // Credentials never belong in a shared tip; drop them from the authority.
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = split_port(host_port);
        if host.is_empty() {
            return Err(UrlError::NoHost);
        }
        Ok(PageUrl { scheme, host, port, path, query, fragment })
    }

    /// The screen key: the address with everything that does not choose what the screen
    /// shows removed (fragment, credentials, default port, tracking and session
    /// parameters, a trailing slash), scheme and host lowercased.
    pub fn screen_key(&self) -> String {
        let scheme = self.scheme.to_ascii_lowercase();
        let mut key = format!("{scheme}://{}", self.host.to_ascii_lowercase());
        let default_port = if scheme == "https" { "443" } else { "80" };
        if let Some(port) = self.port.filter(|&p| p != default_port) {
            key.push(':');
            key.push_str(port);
        }
        // `;jsessionid=...` path parameters are session noise too.
        let path = self.path.split(';').next().unwrap_or("/");
        let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
        key.push_str(if path.is_empty() { "/" } else { path });
        let kept: Vec<&str> =
            self.query.unwrap_or("").split('&').filter(|pair| !pair.is_empty() && !is_noise_param(pair)).collect();
        if !kept.is_empty() {
            key.push('?');
            key.push_str(&kept.join("&"));
        }
        key
    }

    /// `scheme://host[:port]`, the origin the browser grants permissions for.
    pub fn origin(&self) -> String {
        match self.port {
            Some(port) => format!("{}://{}:{port}", self.scheme.to_ascii_lowercase(), self.host.to_ascii_lowercase()),
            None => format!("{}://{}", self.scheme.to_ascii_lowercase(), self.host.to_ascii_lowercase()),
        }
    }
}

fn split_port(host_port: &str) -> (&str, Option<&str>) {
    // IPv6 literals keep their colons inside brackets.
    let port_colon = match host_port.rfind(']') {
        Some(close) => host_port[close..].find(':').map(|i| close + i),
        None => host_port.rfind(':'),
    };
    match port_colon {
        Some(colon) if host_port[colon + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            let port = &host_port[colon + 1..];
            (&host_port[..colon], (!port.is_empty()).then_some(port))
        }
        _ => (host_port, None),
    }
}

fn is_noise_param(pair: &str) -> bool {
    let name = pair.split('=').next().unwrap_or("").to_ascii_lowercase();
    name.starts_with("utm_") || NOISE_PARAMS.contains(&name.as_str())
}

/// Validates `url` and returns its screen key (of its [`page_address`], so an address
/// and its written-out form are one screen).
pub fn screen_key(url: &str) -> Result<String, UrlError> {
    let address = page_address(url)?;
    PageUrl::parse(&address).map(|parsed| parsed.screen_key())
}

/// The address a tip keeps and every export names: `url` as an absolute http(s) URI
/// (RFC 3986). Browsers leave a few characters raw that a URI may not hold (`|`, `{`,
/// `^` in a query, say); they are percent-encoded, as is a `%` that starts no escape.
/// Credentials are dropped: they never belong in a shared tip. A host no URI could name
/// is refused.
pub fn page_address(url: &str) -> Result<String, UrlError> {
    let parsed = PageUrl::parse(url)?;
    let host_ok = if let Some(literal) = parsed.host.strip_prefix('[') {
        literal
            .strip_suffix(']')
            .is_some_and(|ip| !ip.is_empty() && ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'))
    } else {
        parsed.host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b))
    };
    if !host_ok {
        return Err(UrlError::BadHost);
    }
    let mut address = format!("{}://{}", parsed.scheme.to_ascii_lowercase(), parsed.host);
    if let Some(port) = parsed.port {
        address.push(':');
        address.push_str(port);
    }
    push_encoded(&mut address, parsed.path, b"/");
    if let Some(query) = parsed.query {
        address.push('?');
        push_encoded(&mut address, query, b"/?");
    }
    if let Some(fragment) = parsed.fragment {
        address.push('#');
        push_encoded(&mut address, fragment, b"/?");
    }
    Ok(address)
}

/// Whether `url` is already the address [`page_address`] makes of it: what the server
/// asks of every tip it receives.
pub fn is_page_address(url: &str) -> bool {
    page_address(url).is_ok_and(|address| address == url)
}

/// Appends `part` with every byte a URI path, query or fragment may not hold raw
/// percent-encoded: RFC 3986's unreserved and sub-delimiter characters, `:` and `@`, the
/// part's own `extra` delimiters, and `%XX` escapes stay as they are.
fn push_encoded(out: &mut String, part: &str, extra: &[u8]) {
    let bytes = part.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let escape_start = b == b'%' && bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        let allowed = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) || extra.contains(&b);
        if allowed || escape_start {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The address a page is at now: `claimed`, the content script's `location.href` (which
/// follows the app's own `history.pushState` navigation), when it has the same origin as
/// `loaded`, the browser's record of the address the document loaded with; else `loaded`.
/// A page can move its address only within its own origin (the browser refuses anything
/// else), and that is all Inflow lets it do: the browser's record decides the origin.
pub fn address_now<'a>(loaded: &'a str, claimed: Option<&'a str>) -> &'a str {
    let origin = |url: &'a str| {
        PageUrl::parse(url).ok().map(|u| {
            let port = u.port.filter(|p| Some(*p) != default_port(u.scheme));
            (u.scheme.to_ascii_lowercase(), u.host.to_ascii_lowercase(), port)
        })
    };
    match (origin(loaded), claimed) {
        (Some(here), Some(claimed)) if origin(claimed).as_ref() == Some(&here) && !has_credentials(claimed) => claimed,
        _ => loaded,
    }
}

fn default_port(scheme: &str) -> Option<&'static str> {
    if scheme.eq_ignore_ascii_case("http") {
        Some("80")
    } else if scheme.eq_ignore_ascii_case("https") {
        Some("443")
    } else {
        None
    }
}

fn has_credentials(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(_, rest)| rest.split(['/', '?', '#']).next().is_some_and(|authority| authority.contains('@')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_address_is_a_uri_without_credentials() {
        for (url, address) in [
            ("https://emr.example/patients/1?q=a|b&x={y}^", "https://emr.example/patients/1?q=a%7Cb&x=%7By%7D%5E"),
            ("http://h/%zz/100%25/%E2%82%AC", "http://h/%25zz/100%25/%E2%82%AC"),
            ("http://h/a\u{e9}b", "http://h/a%C3%A9b"),
            ("http://h/<script>", "http://h/%3Cscript%3E"),
            ("HTTPS://nurse:secret@emr.example:8443/x#top", "https://emr.example:8443/x#top"),
            ("http://[::1]:8700/orders", "http://[::1]:8700/orders"),
            ("http://h", "http://h/"),
        ] {
            assert_eq!(page_address(url).as_deref(), Ok(address), "{url}");
            assert!(is_page_address(address), "{address} is its own address");
        }
        assert!(!is_page_address("http://h/a|b"));
        assert_eq!(page_address("http://<h>/"), Err(UrlError::BadHost));
        assert_eq!(page_address("http://[zz]/"), Err(UrlError::BadHost));
        assert_eq!(screen_key("http://h/a|b"), screen_key("http://h/a%7Cb"), "one screen, written either way");
    }

    #[test]
    fn the_address_now_follows_the_apps_navigation_within_its_origin_only() {
        let loaded = "http://127.0.0.1:8700/patients";
        assert_eq!(
            address_now(loaded, Some("http://127.0.0.1:8700/patients/1/orders")),
            "http://127.0.0.1:8700/patients/1/orders"
        );
        assert_eq!(
            address_now("https://emr.example/a", Some("https://EMR.example:443/b")),
            "https://EMR.example:443/b"
        );
        for other in [
            "http://127.0.0.1:8701/patients/1/orders",
            "https://127.0.0.1:8700/x",
            "http://localhost:8700/patients/1/orders",
            "http://u:p@127.0.0.1:8700/x",
            "not a url",
            "",
        ] {
            assert_eq!(address_now(loaded, Some(other)), loaded, "{other}");
        }
        assert_eq!(address_now(loaded, None), loaded);
    }

    #[test]
    fn screen_key_drops_what_does_not_choose_content() {
        let cases = [
            ("http://127.0.0.1:8700/patients/1/orders#top", "http://127.0.0.1:8700/patients/1/orders"),
            (
                "HTTPS://EMR.Example.org:443/chart/?utm_source=mail&tab=orders",
                "https://emr.example.org/chart?tab=orders",
            ),
            (
                "https://user:pw@intranet.local/handbook;jsessionid=ABC?page=2&fbclid=x",
                "https://intranet.local/handbook?page=2",
            ),
            ("http://example.org", "http://example.org/"),
            ("http://[::1]:8080/a/", "http://[::1]:8080/a"),
        ];
        for (url, key) in cases {
            assert_eq!(screen_key(url).as_deref(), Ok(key), "{url}");
        }
    }

    #[test]
    fn rejects_what_cannot_hold_a_tip() {
        assert_eq!(screen_key(""), Err(UrlError::Empty));
        assert_eq!(screen_key("chrome://settings"), Err(UrlError::UnsupportedScheme));
        assert_eq!(screen_key("javascript:alert(1)"), Err(UrlError::UnsupportedScheme));
        assert_eq!(screen_key("http:///path"), Err(UrlError::NoHost));
        assert_eq!(screen_key("http://a b/"), Err(UrlError::BadCharacter));
        assert_eq!(screen_key(&format!("http://h/{}", "a".repeat(MAX_URL_LEN))), Err(UrlError::TooLong));
    }

    #[test]
    fn origin_keeps_the_port() {
        let parsed = PageUrl::parse("http://127.0.0.1:8700/patients").expect("valid url");
        assert_eq!(parsed.origin(), "http://127.0.0.1:8700");
    }
}
