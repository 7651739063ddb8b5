//! Curators' team-wide tools: collections (`GET /v1/collections`, `PUT` and `DELETE
//! /v1/collections/{id}`) and renaming or merging tags (`POST /v1/team/tags/rename`).
//! Every member reads collections; only curators and admins change anything here.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use inflow_core::curation::{rename_tags, Collection};
use inflow_core::model::clean_tags;
use inflow_core::sync::{Change, Hlc, Mutation};
use inflow_core::{Timestamp, TipId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Member;
use crate::db::{new_id, now_ms};
use crate::error::ApiError;
use crate::AppState;

fn curators_only(member: &Member, what: &str) -> Result<(), ApiError> {
    if member.role.curates() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only curators can {what}; {} is a {}", member.name, member.role.as_str())))
    }
}

fn collection_id(raw: &str) -> Result<TipId, ApiError> {
    raw.parse().map_err(|_| ApiError::bad_request("a collection id is a UUID like 0190c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f"))
}

pub async fn list(State(state): State<AppState>, member: Member) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "collections": state.db.collections(&member.team_id).await? })))
}

/// What `PUT /v1/collections/{id}` takes: the name and the tips in order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionBody {
    name: String,
    tips: Vec<TipId>,
}

pub async fn put(State(state): State<AppState>, member: Member, Path(id): Path<String>, body: Result<Json<CollectionBody>, JsonRejection>) -> Result<Json<Value>, ApiError> {
    curators_only(&member, "change collections")?;
    let id = collection_id(&id)?;
    let Json(body) = body?;
    let collection = Collection { id, name: body.name.trim().to_owned(), tips: body.tips, updated: Timestamp(now_ms()), by: member.name.clone() };
    collection.validate().map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if !state.db.put_collection(&member.team_id, &collection).await? {
        return Err(ApiError::conflict(format!("collection id {id} is already used; generate a new one")));
    }
    Ok(Json(json!(collection)))
}

pub async fn delete(State(state): State<AppState>, member: Member, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    curators_only(&member, "change collections")?;
    let id = collection_id(&id)?;
    if state.db.delete_collection(&member.team_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_collection", format!("the team has no collection {id}")))
    }
}

/// What `POST /v1/team/tags/rename` takes: the tags to rename (one renames, several
/// merge) and the new name.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenameBody {
    from: Vec<String>,
    to: String,
}

/// Renames (or merges) tags on every tip of the team. Each change is an ordinary tag edit
/// at the server's clock, so members receive it with their next pull and it merges like
/// any other edit.
pub async fn rename(State(state): State<AppState>, member: Member, body: Result<Json<RenameBody>, JsonRejection>) -> Result<Json<Value>, ApiError> {
    curators_only(&member, "rename or merge tags")?;
    let Json(RenameBody { from, to }) = body?;
    let to = clean_tags(std::slice::from_ref(&to)).map_err(|e| ApiError::unprocessable(e.to_string()))?.pop().ok_or_else(|| ApiError::unprocessable("name the new tag"))?;
    if from.is_empty() || from.len() > 50 {
        return Err(ApiError::unprocessable("name 1 to 50 tags to rename"));
    }
    let now = now_ms();
    let mutations: Vec<Mutation> = state
        .db
        .tips(&member.team_id)
        .await?
        .into_iter()
        .filter_map(|tip| {
            let tags = rename_tags(&tip.tags, &from, &to).filter(|t| *t != tip.tags)?;
            let id = new_id().parse().ok()?;
            Some(Mutation { id, hlc: Hlc { wall_ms: now as u64, counter: 0, node: 0 }, change: Change::Patch { tip_id: tip.id, note: None, tags: Some(tags), visibility: None, page_title: None } })
        })
        .collect();
    let mut renamed = 0;
    for batch in mutations.chunks(inflow_core::sync::MAX_MUTATIONS_PER_PUSH) {
        // A curator may edit tags of tips they did not write, through this tool only.
        let pushed = state.db.push(&member, batch, |_, _, _| Ok(())).await?;
        renamed += pushed.ids.len();
        if let (Some(seq), crate::db::Backend::Sqlite) = (pushed.last_seq, state.db.backend) {
            state.hub.publish(crate::events::TeamChanged { team_id: member.team_id.clone(), seq });
        }
    }
    Ok(Json(json!({ "renamed": renamed, "to": to })))
}
