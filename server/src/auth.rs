//! Bearer tokens: `inflow_<member id>_<secret>`. Only a SHA-256 of the secret is stored;
//! a presented secret is hashed and compared in constant time. Revoking a member makes its
//! token fail on the next request.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::AppState;

// What a member may do in the team: the rule is core's, shared with the side panel.
pub use inflow_core::curation::Role;

/// The member a request was authenticated as.
#[derive(Clone, Debug)]
pub struct Member {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub role: Role,
}

/// A new secret token for `member_id`, and the hash to store.
pub fn new_token(member_id: &str) -> Result<(String, String), getrandom::Error> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)?;
    let secret = hex(&secret);
    Ok((format!("inflow_{member_id}_{secret}"), hash_secret(&secret)))
}

pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal-length strings compared without an early exit.
fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header =
            parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                ApiError::unauthorized(
                    "send Authorization: Bearer <token>; tokens come from `inflow-server member add`",
                )
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let invalid = || ApiError::unauthorized("the token is not valid (wrong, or revoked)");
        let rest = token.trim().strip_prefix("inflow_").ok_or_else(invalid)?;
        let (member_id, secret) = rest.rsplit_once('_').ok_or_else(invalid)?;
        let stored = state.db.member_for_auth(member_id).await?.ok_or_else(invalid)?;
        if stored.revoked || !constant_time_eq(&stored.token_hash, &hash_secret(secret)) {
            return Err(invalid());
        }
        Ok(stored.member)
    }
}
