//! What the extension remembers besides tips: the connection to the team's server (set in
//! the options page, or locked by the organisation's policy) and the state of sync. Both
//! are kept in IndexedDB's `settings` store as JSON, so a killed worker resumes where it
//! stopped.

use inflow_core::fields::FieldRule;
use inflow_core::screen::ScreenRule;
use inflow_core::sync::Hlc;
use serde::{Deserialize, Serialize};

/// The settings key of [`Connection`].
pub const CONNECTION: &str = "connection";
/// The settings key of the [`Connection`] the organisation's policy sets, if any.
pub const POLICY: &str = "policy";
/// The settings key of [`SyncState`].
pub const SYNC_STATE: &str = "sync_state";
/// The settings key of the name tips are signed with when no server is connected.
pub const DISPLAY_NAME: &str = "display_name";
/// Until the user sets a name in the options, tips are signed with this.
pub const DEFAULT_DISPLAY_NAME: &str = "Me";

/// Where the team's server is and how to prove membership.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    #[serde(default)]
    pub server_url: String,
    #[serde(default)]
    pub token: String,
    /// Set when the organisation's policy (`chrome.storage.managed`) supplied the values:
    /// the options page shows them locked.
    #[serde(default)]
    pub managed: bool,
}

impl Connection {
    pub fn is_set(&self) -> bool {
        !self.server_url.trim().is_empty() && !self.token.trim().is_empty()
    }

    /// The server's address without a trailing slash, after checking that it is one: an
    /// https address, or plain http to this computer only. Tips and the member's token go
    /// there, so over plain http anyone on the hospital's network could read them.
    pub fn base_url(&self) -> Result<String, String> {
        let url = self.server_url.trim().trim_end_matches('/');
        let parsed = match inflow_core::url::PageUrl::parse(url) {
            Ok(parsed) if parsed.query.is_none() && parsed.fragment.is_none() && !url.contains('@') => parsed,
            _ => {
                return Err(format!(
                    "\u{201c}{url}\u{201d} is not a server address; it looks like https://inflow.hospital.example"
                ))
            }
        };
        if parsed.scheme.eq_ignore_ascii_case("http") && !is_loopback(parsed.host) {
            return Err(format!(
                "\u{201c}{url}\u{201d} is plain http: tips and your token would cross the network unencrypted. \
                 Use the server's https:// address (its README says how to serve it over TLS); \
                 plain http is allowed only to this computer (127.0.0.1, localhost)."
            ));
        }
        Ok(url.to_owned())
    }
}

/// Whether `host` is this computer: nothing sent there crosses a network.
fn is_loopback(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.strip_prefix("127.").is_some_and(|rest| {
            let parts: Vec<&str> = rest.split('.').collect();
            parts.len() == 3 && parts.iter().all(|p| p.parse::<u8>().is_ok())
        })
}

/// Who the server says this member is (from `GET /v1/me`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub member_id: String,
    pub name: String,
    pub role: String,
    pub team_id: String,
    pub team_name: String,
}

impl Membership {
    /// Whether the member curates (curators and admins); an unknown role does not.
    pub fn curates(&self) -> bool {
        inflow_core::curation::Role::parse(&self.role).is_some_and(inflow_core::curation::Role::curates)
    }
}

/// Where sync stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    /// The server's cursor after the last pull.
    #[serde(default)]
    pub cursor: Option<String>,
    /// The last clock reading this device used.
    #[serde(default)]
    pub clock: Hlc,
    /// This device's clock node, chosen at random once.
    #[serde(default)]
    pub node: u32,
    #[serde(default)]
    pub membership: Option<Membership>,
    /// When membership and screen rules were last read from the server.
    #[serde(default)]
    pub membership_checked_ms: f64,
    /// The team's screen rules, as the server last sent them.
    #[serde(default)]
    pub screen_rules: Vec<ScreenRule>,
    /// The team's identifying fields, as the server last sent them.
    #[serde(default)]
    pub identifying_fields: Vec<FieldRule>,
    /// When the last sync round trip succeeded (ms since the epoch).
    #[serde(default)]
    pub last_success_ms: Option<f64>,
    /// Why the last attempt failed, for people.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Failed attempts in a row, for the backoff.
    #[serde(default)]
    pub failures: u32,
    /// No automatic attempt before this time (ms since the epoch).
    #[serde(default)]
    pub next_attempt_ms: f64,
    /// When the last attempt started (ms since the epoch).
    #[serde(default)]
    pub last_attempt_ms: f64,
    /// The connection the cursor and membership belong to; a new server or token starts
    /// over.
    #[serde(default)]
    pub connection_key: String,
}

/// The wait before the next automatic attempt after `failures` failures in a row:
/// exponential from 2 s to 5 minutes, with full jitter (`random` in 0..1) so that many
/// browsers coming back online do not all retry at once.
pub fn backoff_ms(failures: u32, random: f64) -> f64 {
    let ceiling = (2_000.0 * 2f64.powi(failures.min(16) as i32)).min(300_000.0);
    ceiling / 2.0 + ceiling / 2.0 * random.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!((1_000.0..=2_000.0).contains(&backoff_ms(0, 0.3)));
        assert!(backoff_ms(3, 0.0) > backoff_ms(1, 1.0));
        assert_eq!(backoff_ms(40, 1.0), 300_000.0);
        assert_eq!(backoff_ms(40, 0.0), 150_000.0);
    }

    #[test]
    fn a_server_address_is_checked() {
        let connection = |url: &str| Connection { server_url: url.into(), token: "t".into(), managed: false };
        assert_eq!(connection("http://127.0.0.1:8787/").base_url(), Ok("http://127.0.0.1:8787".into()));
        assert!(connection("127.0.0.1:8787").base_url().is_err());
        assert!(connection("http://x/?a=1").base_url().is_err());
        assert_eq!(connection("https://inflow.example/").base_url(), Ok("https://inflow.example".into()));
        assert_eq!(connection("http://localhost:8787").base_url(), Ok("http://localhost:8787".into()));
        assert_eq!(connection("http://[::1]:8787").base_url(), Ok("http://[::1]:8787".into()));
        for refused in [
            "http://inflow.hospital.example",
            "http://10.0.0.5:8787",
            "http://127.0.0.1.evil.example",
            "https://u:p@inflow.example",
        ] {
            assert!(connection(refused).base_url().is_err(), "{refused}");
        }
        assert!(connection("http://inflow.hospital.example").base_url().is_err_and(|e| e.contains("plain http")));
        assert!(!connection("").is_set());
    }
}
