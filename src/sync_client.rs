//! The worker's side of sync: push the outbox and pull the team's changes through the
//! server's `POST /v1/sync`, one round trip at a time, until both are done. Everything it
//! needs to resume (cursor, clock, backoff) is in IndexedDB, so a worker killed mid-sync,
//! or a browser restarted, loses and doubles nothing: the outbox empties only when the
//! server has acknowledged, and the server applies a retried mutation once.

use std::cell::Cell;

use gloo::net::http::{Request, RequestBuilder, Response};
use inflow_core::curation::Collection;
use inflow_core::fields::{parse_field_rules, FieldRule};
use inflow_core::screen::{parse_rules, ScreenRule};
use inflow_core::sync::{Hlc, Mutation, SyncRequest, SyncResponse, MAX_CHANGES_PER_PULL, MAX_MUTATIONS_PER_PUSH};
use serde::Deserialize;

use crate::idb_store::IdbStore;
use crate::settings::{backoff_ms, Connection, Membership, SyncState, CONNECTION, POLICY, SYNC_STATE};
use crate::store::TipStore;

/// How long one request may take before it counts as failed.
const REQUEST_TIMEOUT_MS: u32 = 10_000;
/// Round trips in one sync at most (500 changes each); the next sync continues.
const MAX_ROUNDS: usize = 40;

thread_local! {
    /// One sync at a time in this worker: a second caller finds it running and leaves it
    /// to finish (the outbox and cursor are shared).
    static IN_FLIGHT: Cell<bool> = const { Cell::new(false) };
    /// Someone asked for a sync while one was running.
    static AGAIN: Cell<bool> = const { Cell::new(false) };
}

/// What set a sync off; it decides how the backoff after failures applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The periodic alarm or browser start: waits out the backoff.
    Background,
    /// A page of a granted site opened: tries if the last attempt is a few seconds old,
    /// whatever the backoff, since the user is at work and waiting for tips.
    PageOpened,
    /// The user saved a shared tip or pressed "Sync now": tries at once.
    Now,
}

/// How old the member's name and the team's screen rules may get before they are read again.
const MEMBERSHIP_MAX_AGE_MS: f64 = 10.0 * 60_000.0;

/// The least time between two syncs set off by opening pages.
const PAGE_OPEN_GAP_MS: f64 = 3_000.0;

/// What one sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub pushed: usize,
    pub pulled: usize,
    /// Nothing was tried: no server is set, another sync was running, or the backoff
    /// after failures had not run out (and the sync was not asked for by the user).
    pub skipped: bool,
}

/// The connection in force: the organisation's policy wins over what the user typed in
/// the options page.
pub async fn connection(store: &IdbStore) -> Connection {
    match read_json::<Connection>(store, POLICY).await {
        Some(managed) if managed.is_set() => managed,
        _ => read_json(store, CONNECTION).await.unwrap_or_default(),
    }
}

/// Copies the organisation's policy (`chrome.storage.managed`) into the settings. Reading
/// managed storage can take seconds, so it is read at start-up and when the policy
/// changes, never while a page or the options wait.
pub async fn refresh_policy(store: &IdbStore) {
    let policy = crate::chrome::managed_policy().await.unwrap_or_default();
    if let Ok(text) = serde_json::to_string(&policy) {
        let _ = store.set_setting(POLICY, &text).await;
    }
}

pub async fn state(store: &IdbStore) -> SyncState {
    read_json(store, SYNC_STATE).await.unwrap_or_default()
}

pub async fn save_state(store: &IdbStore, state: &SyncState) {
    if let Ok(text) = serde_json::to_string(state) {
        let _ = store.set_setting(SYNC_STATE, &text).await;
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(store: &IdbStore, key: &str) -> Option<T> {
    store.setting(key).await.ok().flatten().and_then(|text| serde_json::from_str(&text).ok())
}

/// The next clock reading for a local change, saved before it is used so that no two
/// changes of this device share one.
pub async fn next_clock(store: &IdbStore, now_ms: f64) -> Hlc {
    let mut state = state(store).await;
    if state.node == 0 {
        state.node = (js_sys::Math::random() * f64::from(u32::MAX)) as u32 | 1;
    }
    state.clock = Hlc::tick(state.clock, now_ms as u64, state.node);
    save_state(store, &state).await;
    state.clock
}

/// Pushes and pulls until both are done. A sync asked for while one runs is not lost: the
/// running one goes round once more when it is done.
pub async fn sync(store: &IdbStore, trigger: Trigger) -> Report {
    if IN_FLIGHT.with(|f| f.replace(true)) {
        if trigger == Trigger::Now {
            AGAIN.with(|again| again.set(true));
        }
        return Report { skipped: true, ..Report::default() };
    }
    let mut report = sync_once(store, trigger).await;
    while AGAIN.with(|again| again.replace(false)) {
        let more = sync_once(store, Trigger::Now).await;
        report.pushed += more.pushed;
        report.pulled += more.pulled;
    }
    IN_FLIGHT.with(|f| f.set(false));
    report
}

async fn sync_once(store: &IdbStore, trigger: Trigger) -> Report {
    let connection = connection(store).await;
    let mut state = state(store).await;
    let skipped = Report { skipped: true, ..Report::default() };
    if !connection.is_set() {
        return skipped;
    }
    let now = js_sys::Date::now();
    let due = match trigger {
        Trigger::Background => now >= state.next_attempt_ms,
        Trigger::PageOpened => now - state.last_attempt_ms >= PAGE_OPEN_GAP_MS,
        Trigger::Now => true,
    };
    if !due {
        return skipped;
    }
    state.last_attempt_ms = now;
    let key = connection_key(&connection);
    if state.connection_key != key {
        // Another server or member: its cursor and membership mean nothing here.
        state = SyncState { clock: state.clock, node: state.node, connection_key: key, ..SyncState::default() };
    }
    let outcome = round_trips(store, &connection, &mut state, trigger).await;
    let now = js_sys::Date::now();
    match outcome {
        Ok(report) => {
            state.failures = 0;
            state.next_attempt_ms = 0.0;
            state.last_success_ms = Some(now);
            save_state(store, &state).await;
            report
        }
        Err(why) => {
            state.last_error = Some(why);
            state.failures = state.failures.saturating_add(1);
            state.next_attempt_ms = now + backoff_ms(state.failures, js_sys::Math::random());
            save_state(store, &state).await;
            Report::default()
        }
    }
}

async fn round_trips(
    store: &IdbStore,
    connection: &Connection,
    state: &mut SyncState,
    trigger: Trigger,
) -> Result<Report, String> {
    let base = connection.base_url()?;
    // The member's name and the team's rules change rarely: read them when unknown, when
    // the user asks for a sync, and every few minutes.
    let now = js_sys::Date::now();
    if state.membership.is_none()
        || trigger == Trigger::Now
        || now - state.membership_checked_ms > MEMBERSHIP_MAX_AGE_MS
    {
        let me = who_am_i(&base, &connection.token).await?;
        state.membership = Some(me.membership);
        state.screen_rules = me.screen_rules;
        state.identifying_fields = me.identifying_fields;
        state.membership_checked_ms = now;
    }
    state.last_error = None;
    let mut report = Report::default();
    for _ in 0..MAX_ROUNDS {
        let outgoing = store.outbox(MAX_MUTATIONS_PER_PUSH as u32).await.map_err(|e| e.to_string())?;
        let request = SyncRequest {
            cursor: state.cursor.clone(),
            mutations: outgoing.clone(),
            limit: Some(MAX_CHANGES_PER_PULL),
        };
        let response = post_sync(&base, &connection.token, &request).await?;
        match response {
            Ok(answer) => {
                store.settle(&answer.acked, &answer.changes).await.map_err(|e| e.to_string())?;
                if let Some(latest) = answer.changes.iter().map(|c| c.clocks.note.hlc.max(c.clocks.tags.hlc)).max() {
                    state.clock = Hlc::receive(state.clock, latest, js_sys::Date::now() as u64, state.node);
                }
                state.cursor = Some(answer.cursor);
                report.pushed += answer.acked.len();
                report.pulled += answer.changes.len();
                if !answer.more && store.outbox_len().await.map_err(|e| e.to_string())? == 0 {
                    return Ok(report);
                }
            }
            Err(refusal) if outgoing.is_empty() => return Err(refusal.message),
            Err(_) => {
                // A push is all or nothing: find the mutations the server refuses, one by
                // one, set them aside with the reason, and let the rest through.
                report.pushed += isolate_refused(store, &base, &connection.token, &outgoing, state).await?;
            }
        }
    }
    Ok(report)
}

/// Pushes `mutations` one at a time; those refused leave the outbox (the tips stay on
/// this device) and the reason is kept for the options page and side panel.
async fn isolate_refused(
    store: &IdbStore,
    base: &str,
    token: &str,
    mutations: &[Mutation],
    state: &mut SyncState,
) -> Result<usize, String> {
    let mut pushed = 0;
    for mutation in mutations {
        // `limit: 1` and no cursor: this request only pushes; the pull continues from the
        // saved cursor in the next round.
        let request = SyncRequest { cursor: None, mutations: vec![mutation.clone()], limit: Some(1) };
        match post_sync(base, token, &request).await? {
            Ok(_) => pushed += 1,
            Err(refusal) => {
                state.last_error = Some(format!("A tip could not be shared with the team: {}", refusal.message))
            }
        }
        store.settle(&[mutation.id], &[]).await.map_err(|e| e.to_string())?;
    }
    Ok(pushed)
}

/// A 4xx answer: the request was understood and refused; sending it again will not help.
struct Refusal {
    message: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

/// One `POST /v1/sync`. The outer error is for failures worth retrying later (network,
/// 5xx, a token refused); the inner one for a request the server refuses as it is.
async fn post_sync(base: &str, token: &str, request: &SyncRequest) -> Result<Result<SyncResponse, Refusal>, String> {
    let response = send(
        authorized(Request::post(&format!("{base}/v1/sync")), token).json(request).map_err(|e| e.to_string())?,
        base,
    )
    .await?;
    match response.status() {
        200 => Ok(Ok(response
            .json()
            .await
            .map_err(|e| format!("The server's answer was not understood ({e}). Is {base} an Inflow server?"))?)),
        401 => Err(token_refused()),
        status @ 400..=499 => {
            let message = response
                .json::<ErrorBody>()
                .await
                .map(|b| b.message)
                .unwrap_or_else(|_| format!("the server refused it ({status})"));
            Ok(Err(Refusal { message }))
        }
        status => Err(format!("The server at {base} had a problem ({status}); Inflow will try again.")),
    }
}

fn token_refused() -> String {
    "The server refused the member token (it is wrong, or was revoked). Ask your Inflow administrator for a new one."
        .to_owned()
}

/// Who the server says this member is, and the team's settings.
pub struct WhoAmI {
    pub membership: Membership,
    pub screen_rules: Vec<ScreenRule>,
    pub identifying_fields: Vec<FieldRule>,
}

/// `GET /v1/me`: the member's name and team, the team's screen rules and identifying fields.
pub async fn who_am_i(base: &str, token: &str) -> Result<WhoAmI, String> {
    #[derive(Deserialize)]
    struct Named {
        id: String,
        name: String,
        #[serde(default)]
        role: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Me {
        member: Named,
        team: Named,
        #[serde(default)]
        screen_rules: Vec<String>,
        #[serde(default)]
        identifying_fields: Vec<String>,
    }
    let request = authorized(Request::get(&format!("{base}/v1/me")), token).build().map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => {}
        401 => return Err(token_refused()),
        404 => return Err(format!("{base} answers, but it is not an Inflow server (no /v1/me).")),
        status => return Err(format!("The server at {base} answered {status}.")),
    }
    let me: Me = response.json().await.map_err(|_| format!("{base} answers, but not as an Inflow server does."))?;
    // Rules a server sends are checked like any input; bad ones are ignored, not trusted.
    let screen_rules = parse_rules(&me.screen_rules).unwrap_or_default();
    let identifying_fields = parse_field_rules(&me.identifying_fields).unwrap_or_default();
    let membership = Membership {
        member_id: me.member.id,
        name: me.member.name,
        role: me.member.role,
        team_id: me.team.id,
        team_name: me.team.name,
    };
    Ok(WhoAmI { membership, screen_rules, identifying_fields })
}

/// `PUT /v1/team/screen-rules` (admins): replaces the team's screen rules.
pub async fn put_screen_rules(base: &str, token: &str, rules: &[String]) -> Result<(), String> {
    put_team_list(base, token, "screen-rules", serde_json::json!({ "rules": rules })).await
}

/// `PUT /v1/team/identifying-fields` (admins): replaces the team's identifying fields.
pub async fn put_identifying_fields(base: &str, token: &str, fields: &[String]) -> Result<(), String> {
    put_team_list(base, token, "identifying-fields", serde_json::json!({ "fields": fields })).await
}

/// Replaces one of the team's lists of settings.
async fn put_team_list(base: &str, token: &str, what: &str, body: serde_json::Value) -> Result<(), String> {
    let request =
        authorized(Request::put(&format!("{base}/v1/team/{what}")), token).json(&body).map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => Ok(()),
        401 => Err(token_refused()),
        _ => Err(response
            .json::<ErrorBody>()
            .await
            .map(|b| b.message)
            .unwrap_or_else(|_| format!("the server refused the change ({})", response.status()))),
    }
}

/// `GET /v1/collections`: the team's collections.
pub async fn collections(base: &str, token: &str) -> Result<Vec<Collection>, String> {
    #[derive(Deserialize)]
    struct Listed {
        collections: Vec<Collection>,
    }
    let request =
        authorized(Request::get(&format!("{base}/v1/collections")), token).build().map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => response
            .json::<Listed>()
            .await
            .map(|l| l.collections)
            .map_err(|e| format!("the server's collections could not be read: {e}")),
        401 => Err(token_refused()),
        status => Err(format!("The server at {base} answered {status} for the collections.")),
    }
}

/// `PUT /v1/collections/{id}` (curators): creates or replaces a collection; the server
/// answers with it as stored (its time and who changed it).
pub async fn put_collection(base: &str, token: &str, collection: &Collection) -> Result<Collection, String> {
    let mut body = serde_json::json!({ "name": collection.name, "tips": collection.tips });
    if let Some(walkthrough) = &collection.walkthrough {
        body["walkthrough"] = serde_json::json!(walkthrough);
    }
    let request = authorized(Request::put(&format!("{base}/v1/collections/{}", collection.id)), token)
        .json(&body)
        .map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => response.json::<Collection>().await.map_err(|e| format!("the server's answer could not be read: {e}")),
        401 => Err(token_refused()),
        _ => Err(refusal(response, "the collection").await),
    }
}

/// Why a walkthrough record did not reach the server.
pub enum RecordRefused {
    /// Try again later (the server is away, busy, or refused the token).
    ForNow(String),
    /// Never: the server refused the record itself (the walkthrough is gone, say).
    Permanently(String),
}

/// `PUT /v1/walkthroughs/{id}/record`: this member's record of a walkthrough.
pub async fn put_walkthrough_record(
    base: &str,
    token: &str,
    record: &inflow_core::walkthrough::Record,
) -> Result<(), RecordRefused> {
    let request = authorized(Request::put(&format!("{base}/v1/walkthroughs/{}/record", record.collection)), token)
        .json(record)
        .map_err(|e| RecordRefused::Permanently(e.to_string()))?;
    let response = send(request, base).await.map_err(RecordRefused::ForNow)?;
    match response.status() {
        200 => Ok(()),
        404 | 422 => Err(RecordRefused::Permanently(refusal(response, "the walkthrough record").await)),
        _ => Err(RecordRefused::ForNow(refusal(response, "the walkthrough record").await)),
    }
}

/// `GET /v1/walkthroughs/{id}/records` (curators): who played a walkthrough and how far,
/// with the summary in words.
pub async fn walkthrough_records(base: &str, token: &str, id: inflow_core::TipId) -> Result<serde_json::Value, String> {
    let request = authorized(Request::get(&format!("{base}/v1/walkthroughs/{id}/records")), token)
        .build()
        .map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => response.json().await.map_err(|e| format!("the server's answer could not be read: {e}")),
        401 => Err(token_refused()),
        _ => Err(refusal(response, "the walkthrough's records").await),
    }
}

/// `POST /v1/team/tags/rename` (curators): renames `from` (one tag, or several to merge)
/// to `to` on every tip of the team; answers how many tips changed.
pub async fn rename_tags(base: &str, token: &str, from: &[String], to: &str) -> Result<u64, String> {
    let request = authorized(Request::post(&format!("{base}/v1/team/tags/rename")), token)
        .json(&serde_json::json!({ "from": from, "to": to }))
        .map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["renamed"].as_u64())
            .ok_or_else(|| "the server's answer could not be read".to_owned()),
        401 => Err(token_refused()),
        _ => Err(refusal(response, "the rename").await),
    }
}

/// `POST /v1/import` (curators): imports a file's annotations into the team; answers the
/// server's report (`summary`, `imported`, `replies`, `skipped`).
pub async fn import(base: &str, token: &str, file_text: String) -> Result<serde_json::Value, String> {
    // An import can be large: a minute instead of the usual limit.
    let timeout = web_sys::AbortSignal::timeout_with_u32(60_000);
    let request = Request::post(&format!("{base}/v1/import"))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .header("Content-Type", "application/json")
        .abort_signal(Some(&timeout))
        .body(file_text)
        .map_err(|e| e.to_string())?;
    let response = send(request, base).await?;
    match response.status() {
        200 => response.json().await.map_err(|e| format!("the server's report could not be read: {e}")),
        401 => Err(token_refused()),
        413 => Err("the file is larger than the server takes in one request (4 MB); ask IT to run `inflow-server import` with it".to_owned()),
        _ => Err(refusal(response, "the import").await),
    }
}

/// The server's own message for a refusal, or its status.
async fn refusal(response: Response, what: &str) -> String {
    let status = response.status();
    response
        .json::<ErrorBody>()
        .await
        .map(|b| b.message)
        .unwrap_or_else(|_| format!("the server refused {what} ({status})"))
}

/// A request with the member's token and a time limit.
fn authorized(builder: RequestBuilder, token: &str) -> RequestBuilder {
    let timeout = web_sys::AbortSignal::timeout_with_u32(REQUEST_TIMEOUT_MS);
    builder.header("Authorization", &format!("Bearer {}", token.trim())).abort_signal(Some(&timeout))
}

async fn send(request: Request, base: &str) -> Result<Response, String> {
    request.send().await.map_err(|e| {
        // The browser's own words ("TypeError: Failed to fetch") help nobody on the ward:
        // they go to the console, and the member reads what it means.
        web_sys::console::debug_1(&wasm_bindgen::JsValue::from_str(&format!(
            "Inflow: a request to {base} failed: {e}"
        )));
        format!("The server at {base} cannot be reached. Inflow keeps your tips and tries again.")
    })
}

/// Identifies a connection without keeping the token's secret: the server address and
/// the member id the token names.
fn connection_key(connection: &Connection) -> String {
    let member = connection
        .token
        .trim()
        .strip_prefix("inflow_")
        .and_then(|rest| rest.rsplit_once('_'))
        .map_or("", |(member, _)| member);
    format!("{}|{member}", connection.server_url.trim().trim_end_matches('/'))
}
