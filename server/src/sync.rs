//! `POST /v1/sync`: push a batch of mutations and pull what changed since a cursor, in one
//! round trip. Pushes are idempotent by mutation id; pulls page through the team's changes
//! in the order the server applied them.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use inflow_core::curation::{Action, CurationError, Status};
use inflow_core::sync::{Change, Mutation, SyncRequest, SyncedTip, MAX_CHANGES_PER_PULL, MAX_MUTATIONS_PER_PUSH};
use inflow_core::{Timestamp, Visibility};

use crate::auth::Member;
use crate::db::Refusal;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::AppState;

/// A [`inflow_core::sync::SyncResponse`] as sent: the same fields, the changes as their
/// stored JSON (written from a [`SyncedTip`], read back once to be sure it is one), put
/// into the answer as they are rather than parsed and written again.
pub struct Answer {
    acked: Vec<inflow_core::TipId>,
    changes: Vec<String>,
    cursor: String,
    more: bool,
}

impl axum::response::IntoResponse for Answer {
    fn into_response(self) -> axum::response::Response {
        let mut body = String::with_capacity(self.changes.iter().map(|c| c.len() + 1).sum::<usize>() + 128);
        body.push_str("{\"acked\":");
        body.push_str(&json_text(&self.acked));
        body.push_str(",\"changes\":[");
        body.push_str(&self.changes.join(","));
        body.push_str("],\"cursor\":");
        body.push_str(&json_text(&self.cursor));
        body.push_str(",\"more\":");
        body.push_str(if self.more { "true" } else { "false" });
        body.push('}');
        ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// The JSON text of a value, for the answer written by hand.
fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

pub async fn sync(
    State(state): State<AppState>,
    member: Member,
    body: Result<Json<SyncRequest>, JsonRejection>,
) -> Result<Answer, ApiError> {
    Metrics::add(&state.metrics.sync_requests, 1);
    let answer = push_and_pull(&state, &member, body).await;
    match &answer {
        Ok(response) => {
            Metrics::add(&state.metrics.mutations_applied, response.acked.len() as u64);
            Metrics::add(&state.metrics.changes_pulled, response.changes.len() as u64);
        }
        Err(_) => Metrics::add(&state.metrics.sync_errors, 1),
    }
    answer
}

async fn push_and_pull(
    state: &AppState,
    member: &Member,
    body: Result<Json<SyncRequest>, JsonRejection>,
) -> Result<Answer, ApiError> {
    let Json(request) = body?;
    if request.mutations.len() > MAX_MUTATIONS_PER_PUSH {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_mutations",
            format!(
                "a push may carry at most {MAX_MUTATIONS_PER_PUSH} mutations; this one has {}",
                request.mutations.len()
            ),
        ));
    }
    let after = decode_cursor(request.cursor.as_deref(), &member.team_id)?;
    // One id, one change: a second, different mutation under an id already in this push
    // would be taken for a retry of the first and acknowledged without being stored.
    let mut seen: std::collections::HashMap<inflow_core::TipId, &Mutation> = std::collections::HashMap::new();
    for mutation in &request.mutations {
        if seen.insert(mutation.id, mutation).is_some_and(|first| first != mutation) {
            return Err(ApiError::unprocessable(format!(
                "mutation id {} is used twice in this push for different changes; give each change its own id",
                mutation.id
            )));
        }
    }
    // A clock far ahead (a device set to the year 10000) is refused before anything is
    // stored: once applied, its time would be the tip's, for every member, for ever.
    let now = u64::try_from(crate::db::now_ms()).unwrap_or(0);
    if let Some(ahead) = request.mutations.iter().find_map(|m| m.hlc.check_against(now).err()) {
        return Err(ApiError::unprocessable(ahead.to_string()));
    }
    // Nothing identifying is stored: the extension redacts shared text before it queues it,
    // and this is the same check (core's), for a client that did not.
    if let Some((mutation, finding)) =
        request.mutations.iter().find_map(|m| inflow_core::sharing::check_change(&m.change).err().map(|f| (m, f)))
    {
        Metrics::add(&state.metrics.identifiers_refused, 1);
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "identifier",
            format!("mutation {}: {finding}", mutation.id),
        ));
    }
    let acked = state.db.push(member, &request.mutations, authorize).await?;
    if let Some(seq) = acked.last_seq {
        // On PostgreSQL the push's own NOTIFY reaches every instance, this one included.
        if state.db.backend == crate::db::Backend::Sqlite {
            state.hub.publish(crate::events::TeamChanged { team_id: member.team_id.clone(), seq });
        }
    }
    let acked = acked.ids;
    let limit = request.limit.unwrap_or(MAX_CHANGES_PER_PULL).clamp(1, MAX_CHANGES_PER_PULL);
    let pulled = state.db.pull(&member.team_id, after, limit).await?;
    let changes = pulled.changes.into_iter().map(|(_, tip)| tip).collect();
    Ok(Answer { acked, changes, cursor: encode_cursor(&member.team_id, pulled.last_seq), more: pulled.more })
}

/// Who may do what: tips are pushed, edited and deleted by their author (curators retire
/// others' tips, they do not delete them); every member may reply and mark helpful, as themselves;
/// curation steps follow core's rule ([`Action::allowed`]), signed as oneself. Private tips are refused outright: they never leave the
/// device that made them, and a server that received one would be a leak.
fn authorize(member: &Member, mutation: &Mutation, stored: Option<&SyncedTip>) -> Result<(), Refusal> {
    let private = || {
        Refusal::Invalid(
            "private tips stay on the device that made them; share the tip with the team to sync it".to_owned(),
        )
    };
    let not_author = |author: &str| {
        Refusal::NotAllowed(format!(
            "only the tip's author ({author}) may change it; this token belongs to {}",
            member.name
        ))
    };
    // Any member may reply to a shared tip or mark it helpful, in their own name only.
    match &mutation.change {
        Change::Reply { reply, .. } if reply.author != member.name => {
            return Err(Refusal::NotAllowed(format!(
                "a reply is signed with its writer's name; this token belongs to {}",
                member.name
            )));
        }
        Change::Helpful { by, .. } if *by != member.name => {
            return Err(Refusal::NotAllowed(format!(
                "a helpful mark is given in one's own name; this token belongs to {}",
                member.name
            )));
        }
        Change::Reply { .. } | Change::Helpful { .. } => return Ok(()),
        Change::Curate { by, step, .. } => return authorize_curation(member, by, step, stored),
        _ => {}
    }
    // A tip is changed and deleted by its author alone; a curator retires it instead, which
    // keeps the author's words and says why.
    if let Some(stored) = stored {
        if stored.tip.author != member.name {
            return Err(not_author(&stored.tip.author));
        }
    }
    match &mutation.change {
        Change::Put { tip } if tip.visibility == Visibility::Private => Err(private()),
        Change::Put { tip } if tip.author != member.name => Err(not_author(&tip.author)),
        Change::Patch { visibility: Some(Visibility::Private), .. } => Err(private()),
        _ => Ok(()),
    }
}

/// A curation step: in the member's own name, allowed for their role, asked for now (its
/// verify-again date checked against the server's clock), on a shared tip in a state the
/// step suits.
fn authorize_curation(member: &Member, by: &str, step: &Action, stored: Option<&SyncedTip>) -> Result<(), Refusal> {
    if by != member.name {
        return Err(Refusal::NotAllowed(format!(
            "a curation step is taken in one's own name; this token belongs to {}",
            member.name
        )));
    }
    step.allowed(member.role).map_err(|e| Refusal::NotAllowed(e.to_string()))?;
    step.validate(Timestamp(crate::db::now_ms())).map_err(|e| Refusal::Invalid(e.to_string()))?;
    let Some(stored) = stored else { return Ok(()) }; // apply answers "unknown tip"
    if stored.tip.visibility == Visibility::Private {
        return Err(Refusal::Invalid(CurationError::Private.to_string()));
    }
    if matches!(step, Action::Propose) && stored.tip.curation.status == Status::Retired {
        return Err(Refusal::Invalid(CurationError::Retired.to_string()));
    }
    Ok(())
}

const CURSOR_VERSION: &str = "c1";

/// Cursors are opaque to clients; they name the team so one team's cursor is refused by
/// another's token.
fn encode_cursor(team_id: &str, seq: i64) -> String {
    format!("{CURSOR_VERSION}.{team_id}.{seq}")
}

fn decode_cursor(cursor: Option<&str>, team_id: &str) -> Result<i64, ApiError> {
    let Some(cursor) = cursor else { return Ok(0) };
    let malformed =
        || ApiError::bad_request("the cursor is not one this server gave out; omit it to pull from the start");
    let mut parts = cursor.split('.');
    let (Some(CURSOR_VERSION), Some(team), Some(seq), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    if team != team_id {
        return Err(ApiError::bad_request("the cursor belongs to another team"));
    }
    seq.parse::<i64>().ok().filter(|s| *s >= 0).ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_written_by_hand_reads_as_a_sync_response() {
        let new = inflow_core::NewTip {
            page_url: "http://127.0.0.1:8700/patients/1/orders".into(),
            page_title: "Orders \"quoted\"".into(),
            note: "Check the renal panel first".into(),
            tags: vec!["orders".into()],
            visibility: Visibility::Team,
            selectors: vec![inflow_core::Selector::TextQuote {
                exact: "Heparin".into(),
                prefix: String::new(),
                suffix: String::new(),
                block: None,
            }],
        };
        let id: inflow_core::TipId = "0190c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f".parse().expect("id");
        let put = Mutation {
            id,
            hlc: inflow_core::sync::Hlc { wall_ms: 1, counter: 0, node: 0 },
            change: Change::Put { tip: Box::new(new.into_tip(id, "Dana", Timestamp(1_795_000_000_000)).expect("tip")) },
        };
        let tip = inflow_core::sync::apply(None, &put).expect("applies");
        let stored = serde_json::to_string(&tip).expect("JSON");
        let answer =
            Answer { acked: vec![id], changes: vec![stored.clone(), stored], cursor: "c1.t.\"7".into(), more: true };
        let response = axum::response::IntoResponse::into_response(answer);
        let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(response.into_body(), usize::MAX))
            .expect("a body in memory")
            .expect("bytes");
        let read: inflow_core::sync::SyncResponse = serde_json::from_slice(&body).expect("a SyncResponse");
        assert_eq!(
            read,
            inflow_core::sync::SyncResponse {
                acked: vec![id],
                changes: vec![tip.clone(), tip],
                cursor: "c1.t.\"7".into(),
                more: true
            }
        );
    }
}
