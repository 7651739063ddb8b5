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
    let (team_name, rules) = state.db.team(&member.team_id).await?.ok_or_else(|| ApiError::unauthorized("the token's team no longer exists"))?;
    Ok(Json(json!({
        "member": { "id": member.id, "name": member.name, "role": member.role.as_str() },
        "team": { "id": member.team_id, "name": team_name },
        "screenRules": rules,
    })))
}
