//! `GET /v1/me`: who a token belongs to, in which team, and the team's screen rules. The
//! extension calls it to test a connection, to sign shared tips with the member's name
//! as the server knows it, and to group screens the way the whole team does.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Member;
use crate::error::ApiError;
use crate::AppState;

pub async fn me(State(state): State<AppState>, member: Member) -> Result<Json<Value>, ApiError> {
    let (team_name, rules) = state
        .db
        .team(&member.team_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the token's team no longer exists"))?;
    Ok(Json(json!({
        "member": { "id": member.id, "name": member.name, "role": member.role.as_str() },
        "team": { "id": member.team_id, "name": team_name },
        "screenRules": rules,
    })))
}

/// What `PUT /v1/team/screen-rules` takes.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRules {
    rules: Vec<String>,
}

/// `PUT /v1/team/screen-rules`: an admin replaces the team's screen rules. Members receive
/// them with `GET /v1/me` at their next sync.
pub async fn set_screen_rules(
    State(state): State<AppState>,
    member: Member,
    body: Result<Json<NewRules>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    if member.role != crate::auth::Role::Admin {
        return Err(ApiError::forbidden(format!(
            "only a team admin may change screen rules; {} is a {}",
            member.name,
            member.role.as_str()
        )));
    }
    let Json(NewRules { rules }) = body?;
    let checked = inflow_core::screen::parse_rules(&rules).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let mut texts: Vec<String> = Vec::with_capacity(checked.len());
    for rule in checked {
        if !texts.iter().any(|t| t == rule.as_str()) {
            texts.push(rule.as_str().to_owned());
        }
    }
    state.db.set_screen_rules(&member.team_id, &texts).await?;
    Ok(Json(json!({ "screenRules": texts })))
}
