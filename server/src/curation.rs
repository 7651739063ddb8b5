//! Curators' team-wide tools: collections (`GET /v1/collections`, `PUT` and `DELETE
//! /v1/collections/{id}`), renaming or merging tags (`POST /v1/team/tags/rename`) and
//! importing annotations (`POST /v1/import`, and `inflow-server import`), and who played
//! a walkthrough (`PUT /v1/walkthroughs/{id}/record`, each member their own; `GET
//! /v1/walkthroughs/{id}/records`). Every member reads collections; only curators and
//! admins change anything here or read others' records.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use inflow_core::curation::{rename_tags, Collection, Walkthrough};
use inflow_core::import::{derive_id, import, ImportReport, Skipped};
use inflow_core::model::clean_tags;
use inflow_core::sync::{imported, Change, Hlc, Mutation, Stamp};
use inflow_core::walkthrough::{Record as WalkthroughRecord, Summary};
use inflow_core::{Timestamp, TipId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Member;
use crate::db::{new_id, now_ms, Db};
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
    raw.parse()
        .map_err(|_| ApiError::bad_request("a collection id is a UUID like 0190c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f"))
}

pub async fn list(State(state): State<AppState>, member: Member) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "collections": state.db.collections(&member.team_id).await? })))
}

/// What `PUT /v1/collections/{id}` takes: the name, the tips in order, and the walkthrough
/// it plays as, if any.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionBody {
    name: String,
    tips: Vec<TipId>,
    #[serde(default)]
    walkthrough: Option<Walkthrough>,
}

pub async fn put(
    State(state): State<AppState>,
    member: Member,
    Path(id): Path<String>,
    body: Result<Json<CollectionBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    curators_only(&member, "change collections")?;
    let id = collection_id(&id)?;
    let Json(body) = body?;
    let collection = Collection {
        id,
        name: body.name.trim().to_owned(),
        tips: body.tips,
        updated: Timestamp(now_ms()),
        by: member.name.clone(),
        walkthrough: body.walkthrough,
    };
    collection.validate().map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if !state.db.put_collection(&member.team_id, &collection).await? {
        return Err(ApiError::conflict(format!("collection id {id} is already used; generate a new one")));
    }
    Ok(Json(json!(collection)))
}

pub async fn delete(
    State(state): State<AppState>,
    member: Member,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
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
pub async fn rename(
    State(state): State<AppState>,
    member: Member,
    body: Result<Json<RenameBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    curators_only(&member, "rename or merge tags")?;
    let Json(RenameBody { from, to }) = body?;
    let to = clean_tags(std::slice::from_ref(&to))
        .map_err(|e| ApiError::unprocessable(e.to_string()))?
        .pop()
        .ok_or_else(|| ApiError::unprocessable("name the new tag"))?;
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
            Some(Mutation {
                id,
                hlc: Hlc { wall_ms: now as u64, counter: 0, node: 0 },
                change: Change::Patch {
                    tip_id: tip.id,
                    note: None,
                    tags: Some(tags),
                    visibility: None,
                    page_title: None,
                },
            })
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

/// Imports a file's annotations into `team_id` (see core's import), written by `author`
/// where they name no one. Tips the team has are skipped; a tip whose id another team on
/// this server holds (both imported the same file) gets an id of this team's own.
pub async fn import_annotations(db: &Db, team_id: &str, text: &str, author: &str) -> Result<ImportReport, ApiError> {
    let known = db.tip_ids(team_id).await?;
    let now = Timestamp(now_ms());
    let mut report = import(text, &known, author, now).map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let ids: Vec<TipId> = report.tips.iter().map(|t| t.id).collect();
    let elsewhere = db.tip_ids_elsewhere(team_id, &ids).await?;
    for tip in report.tips.iter_mut().filter(|t| elsewhere.contains(&t.id)) {
        tip.id = derive_id(&format!("{team_id}/{}", tip.id), Timestamp(tip.id.unix_ms() as i64));
    }
    let (fresh, again): (Vec<_>, Vec<_>) =
        std::mem::take(&mut report.tips).into_iter().partition(|t| !known.contains(&t.id));
    report.tips = fresh;
    for tip in again {
        report.replies -= tip.replies.len();
        report.skipped.push(Skipped {
            annotation: tip.id.to_string(),
            reason: "already in the team (imported before)".to_owned(),
        });
    }
    let stamp = Stamp {
        hlc: Hlc { wall_ms: now.0 as u64, counter: 0, node: 0 },
        by: new_id().parse().map_err(|_| ApiError::unprocessable("no id"))?,
    };
    // Another import of the same file may commit first (two teams' curators, or two of one
    // team's): its ids are then taken. Another team's get this team's own id and go in
    // again; this team's own were imported by the other, and are said so.
    let mut pending = std::mem::take(&mut report.tips);
    for attempt in 0..2 {
        let stored = db.import(team_id, pending.iter().cloned().map(|tip| imported(tip, stamp)).collect()).await?;
        let taken: std::collections::HashSet<TipId> = stored.taken.into_iter().collect();
        let (done, lost): (Vec<_>, Vec<_>) = pending.into_iter().partition(|t| !taken.contains(&t.id));
        report.tips.extend(done);
        let lost_ids: Vec<TipId> = lost.iter().map(|t| t.id).collect();
        let elsewhere =
            if lost.is_empty() { Default::default() } else { db.tip_ids_elsewhere(team_id, &lost_ids).await? };
        pending = Vec::new();
        for mut tip in lost {
            if elsewhere.contains(&tip.id) && attempt == 0 {
                tip.id = derive_id(&format!("{team_id}/{}", tip.id), Timestamp(tip.id.unix_ms() as i64));
                pending.push(tip);
                continue;
            }
            report.replies -= tip.replies.len();
            let reason = if elsewhere.contains(&tip.id) {
                "its id is used by another team on this server"
            } else {
                "already in the team (imported at the same time by another import)"
            };
            report.skipped.push(Skipped { annotation: tip.id.to_string(), reason: reason.to_owned() });
        }
        if pending.is_empty() {
            break;
        }
    }
    Ok(report)
}

/// `POST /v1/import` (curators): the body is the file's text, W3C Web Annotation JSON-LD
/// or a Hypothesis export or API result.
pub async fn import_file(
    State(state): State<AppState>,
    member: Member,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    curators_only(&member, "import annotations")?;
    // A W3C file is JSON-LD; both JSON media types are JSON to us, anything else is refused
    // as the OpenAPI document says.
    let media_type = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence != "application/json" && essence != "application/ld+json" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file with Content-Type: application/json (or application/ld+json)",
        ));
    }
    let body =
        std::str::from_utf8(&body).map_err(|e| ApiError::bad_request(format!("the file is not UTF-8 text: {e}")))?;
    let report = import_annotations(&state.db, &member.team_id, body, &member.name).await?;
    if !report.tips.is_empty() && state.db.backend == crate::db::Backend::Sqlite {
        // PostgreSQL's NOTIFY from the import reaches every instance, this one included.
        if let Ok(Some(seq)) = state.db.last_seq(&member.team_id).await {
            state.hub.publish(crate::events::TeamChanged { team_id: member.team_id.clone(), seq });
        }
    }
    Ok(Json(json!({
        "summary": report.summary(),
        "imported": report.tips.len(),
        "replies": report.replies,
        "skipped": report.skipped,
        "partly": report.partly,
    })))
}

/// `PUT /v1/walkthroughs/{id}/record`: the member's record of a walkthrough they play
/// (see [`inflow_core::walkthrough`]), merged with what the server has; answers the merge.
pub async fn put_walkthrough_record(
    State(state): State<AppState>,
    member: Member,
    Path(id): Path<String>,
    body: Result<Json<WalkthroughRecord>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = collection_id(&id)?;
    let Json(record) = body?;
    if record.collection != id {
        return Err(ApiError::unprocessable("the record is of another walkthrough than its address names"));
    }
    record.validate().map_err(|e| ApiError::unprocessable(e.to_string()))?;
    if !state.db.collections(&member.team_id).await?.iter().any(|c| c.id == id && c.walkthrough.is_some()) {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("the team has no walkthrough {id}")));
    }
    let merged = state.db.merge_walkthrough_record(&member.team_id, &member.id, &record).await?;
    Ok(Json(json!(merged)))
}

/// `GET /v1/walkthroughs/{id}/records` (curators and admins): every member's record of a
/// walkthrough, by name, and their summary.
pub async fn walkthrough_records(
    State(state): State<AppState>,
    member: Member,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    curators_only(&member, "read who played a walkthrough")?;
    let id = collection_id(&id)?;
    let records = state.db.walkthrough_records(&member.team_id, id).await?;
    let summary = Summary::of(&records.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>());
    let records: Vec<Value> =
        records.into_iter().map(|(name, record)| json!({ "member": name, "record": record })).collect();
    Ok(Json(json!({ "records": records, "summary": summary, "inWords": summary.in_words() })))
}
