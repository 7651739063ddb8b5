//! `GET /v1/me`: who a token belongs to, in which team, the team's screen rules and its
//! identifying fields. The extension calls it to test a connection, to sign shared tips
//! with the member's name as the server knows it, to group screens the way the whole team
//! does and to find the patient identifiers of the team's own screens.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Member;
use crate::error::ApiError;
use crate::AppState;

pub async fn me(State(state): State<AppState>, member: Member) -> Result<Json<Value>, ApiError> {
    let team = state
        .db
        .team(&member.team_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the token's team no longer exists"))?;
    Ok(Json(json!({
        "member": { "id": member.id, "name": member.name, "role": member.role.as_str() },
        "team": { "id": member.team_id, "name": team.name },
        "screenRules": team.screen_rules,
        "identifyingFields": team.identifying_fields,
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
    only_admins(&member, "screen rules")?;
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

/// What `PUT /v1/team/identifying-fields` takes.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFields {
    fields: Vec<String>,
}

/// `PUT /v1/team/identifying-fields`: an admin replaces the team's identifying fields
/// (`kind: selector`, see `inflow_core::fields`). Members receive them with `GET /v1/me`
/// at their next sync. They are kept in the form `kind: selector`, whatever the spacing.
pub async fn set_identifying_fields(
    State(state): State<AppState>,
    member: Member,
    body: Result<Json<NewFields>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    only_admins(&member, "identifying fields")?;
    let Json(NewFields { fields }) = body?;
    let checked =
        inflow_core::fields::parse_field_rules(&fields).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let texts: Vec<String> = checked.iter().map(inflow_core::fields::FieldRule::to_text).collect();
    state.db.set_identifying_fields(&member.team_id, &texts).await?;
    Ok(Json(json!({ "identifyingFields": texts })))
}

/// Team settings are an admin's to change.
fn only_admins(member: &Member, what: &str) -> Result<(), ApiError> {
    if member.role == crate::auth::Role::Admin {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "only a team admin may change {what}; {} is a {}",
        member.name,
        member.role.as_str()
    )))
}
