//! What `extension/worker.js` calls: one exported function per browser event. The JS
//! side only registers listeners (synchronously, as MV3 requires) and forwards here.

use std::cell::Cell;
use std::rc::Rc;

use inflow_core::redact::Extent;
use inflow_core::{Timestamp, TipId};
use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::attention::{self, Need};
use crate::chrome::{self, to_js};
use crate::idb_store::{IdbStore, DATABASE};
use crate::messages::{Command, ContentMessage, PageRequest, Request, Response, SyncStatus};
use crate::settings::{DEFAULT_DISPLAY_NAME, DISPLAY_NAME};
use crate::store::TipStore;
use crate::sync_client::{self, Trigger};
use crate::walkthrough;
use crate::worker::{self, not_active_message, Addition, Context};

/// The context-menu entry's id.
const CAPTURE_MENU: &str = "inflow-capture";
/// The context-menu entry for pinning a tip to the element under the pointer.
const PIN_MENU: &str = "inflow-pin";
/// The keyboard command's name in `manifest.json`.
const CAPTURE_COMMAND: &str = "capture-tip";
/// The keyboard's way to the page's tips: move to the next or previous one and open it.
const NEXT_TIP_COMMAND: &str = "next-tip";
const PREVIOUS_TIP_COMMAND: &str = "previous-tip";
/// The id of the content-script registration for sites granted at run time.
const GRANTED_SITES_SCRIPT: &str = "inflow-granted-sites";
/// The alarm that syncs in the background while the browser runs.
const SYNC_ALARM: &str = "inflow-sync";
const SYNC_ALARM_MINUTES: f64 = 1.0;
/// How long a page's answer may wait for the pull that opening it sets off; a slower sync
/// goes on behind it.
const PULL_ON_OPEN_BUDGET_MS: u32 = 1_500;

/// A message from a content script. `sender_url` is the browser's record of the sending
/// page, never a value the page could choose.
/// `tab_id` is the sending page's tab (-1 when there is none): its toolbar badge counts the
/// tips its screen shows.
#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(message: JsValue, sender_url: String, tab_id: i32) -> JsValue {
    let store = match IdbStore::open(DATABASE).await {
        Ok(store) => store,
        Err(why) => return to_js(&Response::Error { message: why.to_string() }),
    };
    let response = match serde_wasm_bindgen::from_value::<ContentMessage>(message) {
        Ok(ContentMessage { url, request }) => {
            answer(&store, request, inflow_core::url::address_now(&sender_url, url.as_deref())).await
        }
        Err(why) => Response::Error { message: format!("Inflow did not understand the page's request ({why}).") },
    };
    if let Response::PageTips { placed, elements, .. } = &response {
        show_count(&store, tab_id, placed.len() + elements.len()).await;
    }
    to_js(&response)
}

/// The number of tips shown on the tab's screen, on Inflow's toolbar button (none: no
/// badge), with the mark of what needs the user (see [`attention`]). Only the user sees
/// it; the page cannot read it.
async fn show_count(store: &IdbStore, tab_id: i32, shown: usize) {
    if tab_id < 0 {
        return;
    }
    paint_toolbar(Some(tab_id), shown, &stored_unseen(store).await).await;
}

/// Sets the toolbar button of one tab (or, with none, of every tab without its own).
async fn paint_toolbar(tab: Option<i32>, shown: usize, unseen: &[Need]) {
    let (text, color, title) = attention::toolbar(shown, unseen);
    let details = |mut value: serde_json::Value| {
        if let Some(tab) = tab {
            value["tabId"] = tab.into();
        }
        to_js(&value)
    };
    let _ = chrome::action_set_badge_background_color(&details(json!({ "color": color }))).await;
    let _ = chrome::action_set_badge_text(&details(json!({ "text": text }))).await;
    let _ = chrome::action_set_title(&details(json!({ "title": title }))).await;
}

/// Moves the walkthrough being played by `go`, keeps the new place and this member's
/// record, and tells every page, which shows the step now due. Answers the new place.
/// With `from_step`, it moves only if that step (numbered from 1) is still the one shown:
/// a step's control clicked twice, or from two tabs, moves it once.
async fn walk(
    store: &IdbStore,
    go: walkthrough::Go,
    from_step: Option<usize>,
) -> Result<Option<walkthrough::Progress>, String> {
    let now = Timestamp(js_sys::Date::now() as i64);
    let finishing = matches!(go, walkthrough::Go::Next);
    let (progress, moved) = change_walkthrough(store, |played| {
        if from_step.is_some_and(|step| played.progress.as_ref().is_none_or(|p| p.at + 1 != step)) {
            return (played.progress.clone(), false);
        }
        let before = played.progress.take();
        let after = walkthrough::Progress::after(before.clone(), go, now);
        if let Some(changed) =
            walkthrough::record_move(&mut played.records, before.as_ref(), after.as_ref(), finishing, now)
        {
            played.unsent.insert(changed);
        }
        played.progress.clone_from(&after);
        (after, true)
    })
    .await?;
    if moved {
        wasm_bindgen_futures::spawn_local(send_walkthrough_records());
        // Every page asks again which step it shows (and the frame's card follows); the
        // side panel's Resume follows too.
        tell_pages();
        wasm_bindgen_futures::spawn_local(async { tell_tabs(&Command::TipsChanged).await });
    }
    Ok(progress)
}

/// The walkthrough played on this device and this member's records of it, as stored.
struct Played {
    progress: Option<walkthrough::Progress>,
    records: walkthrough::Records,
    /// The walkthroughs whose record the team's server does not have yet.
    unsent: std::collections::BTreeSet<TipId>,
}

/// Reads what [`Played`] holds, lets `change` change it, and keeps it, in one transaction
/// (see [`IdbStore::change_settings`]): a Next, a step shown and a record sent, at once,
/// neither skip a step nor lose a record.
async fn change_walkthrough<R>(store: &IdbStore, change: impl FnOnce(&mut Played) -> R) -> Result<R, String> {
    let keys = [walkthrough::PROGRESS, walkthrough::RECORDS, walkthrough::UNSENT];
    store
        .change_settings(&keys, |stored| {
            let at = |n: usize| stored.get(n).cloned().flatten();
            let mut played = Played { progress: parsed(at(0)), records: parsed(at(1)), unsent: parsed(at(2)) };
            let kept = change(&mut played);
            let writes = [
                (walkthrough::PROGRESS, serde_json::to_string(&played.progress)),
                (walkthrough::RECORDS, serde_json::to_string(&played.records)),
                (walkthrough::UNSENT, serde_json::to_string(&played.unsent)),
            ];
            (writes.into_iter().filter_map(|(key, json)| Some((key, json.ok()?))).collect(), kept)
        })
        .await
        .map_err(|e| e.to_string())
}

/// A setting kept as JSON; one never set, or unreadable, is the empty value (no
/// walkthrough, no records).
fn parsed<T: serde::de::DeserializeOwned + Default>(stored: Option<String>) -> T {
    stored.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default()
}

/// This member's records of the walkthroughs they played.
async fn walkthrough_records(store: &IdbStore) -> walkthrough::Records {
    parsed(store.setting(walkthrough::RECORDS).await.ok().flatten())
}

async fn unsent_walkthrough_records(store: &IdbStore) -> std::collections::BTreeSet<TipId> {
    parsed(store.setting(walkthrough::UNSENT).await.ok().flatten())
}

/// Sends the records the team's server does not have yet; what fails waits for the next
/// sync. A record refused as such (the walkthrough is gone) is not sent again.
async fn send_walkthrough_records() {
    let Ok(store) = IdbStore::open(DATABASE).await else { return };
    // After every sync: usually nothing waits, and nothing more is read.
    let unsent = unsent_walkthrough_records(&store).await;
    if unsent.is_empty() {
        return;
    }
    let connection = sync_client::connection(&store).await;
    let (true, Ok(base)) = (connection.is_set(), connection.base_url()) else { return };
    let records = walkthrough_records(&store).await;
    let mut done = Vec::new();
    for id in unsent {
        let Some(record) = records.get(&id) else { continue };
        match sync_client::put_walkthrough_record(&base, &connection.token, record).await {
            Ok(()) | Err(sync_client::RecordRefused::Permanently(_)) => done.push((id, record.clone())),
            Err(sync_client::RecordRefused::ForNow(_)) => {} // waits for the next sync
        }
    }
    // A record changed while it was sent stays marked: its change is not on the server yet.
    let _ = change_walkthrough(&store, |played| {
        for (id, sent) in done {
            if played.records.get(&id) == Some(&sent) {
                played.unsent.remove(&id);
            }
        }
    })
    .await;
}

/// The walkthrough being played on this device, if any.
async fn walkthrough_progress(store: &IdbStore) -> Option<walkthrough::Progress> {
    parsed(store.setting(walkthrough::PROGRESS).await.ok().flatten())
}

/// What needs the user and is new to them, as last worked out.
async fn stored_unseen(store: &IdbStore) -> Vec<Need> {
    parsed(store.setting(attention::UNSEEN).await.ok().flatten())
}

/// Works out again what needs the user (see [`attention`]); with `seen_now` (the side
/// panel asking), all of it counts as seen from now on. Keeps what is unseen and marks
/// every tab's toolbar button with it. Answers what was unseen before.
async fn refresh_attention(store: &IdbStore, seen_now: bool) -> Vec<Need> {
    let connection = sync_client::connection(store).await;
    let (me, state) = author(store, &connection).await;
    let curator = state.membership.as_ref().is_some_and(crate::settings::Membership::curates);
    let tips = store.all().await.unwrap_or_default();
    let needs = attention::needs(&tips, &me, curator, Timestamp(js_sys::Date::now() as i64));
    let seen: std::collections::HashSet<String> = parsed(store.setting(attention::SEEN).await.ok().flatten());
    let keys: Vec<&str> = needs.iter().map(|n| n.key.as_str()).collect();
    let unseen = attention::unseen(needs.clone(), &seen);
    let (kept_seen, kept_unseen) = if seen_now {
        (serde_json::to_string(&keys), serde_json::to_string(&Vec::<Need>::new()))
    } else {
        // Seen keys of needs that have gone (a step answered them) are dropped.
        let still: Vec<&str> = keys.iter().copied().filter(|k| seen.contains(*k)).collect();
        (serde_json::to_string(&still), serde_json::to_string(&unseen))
    };
    if let (Ok(seen), Ok(unseen)) = (kept_seen, kept_unseen) {
        let _ = store.set_setting(attention::SEEN, &seen).await;
        let _ = store.set_setting(attention::UNSEEN, &unseen).await;
    }
    let marked: &[Need] = if seen_now { &[] } else { &unseen };
    paint_toolbar(None, 0, marked).await;
    if let Ok(tabs) = chrome::tabs_query(&to_js(&json!({}))).await {
        for tab in js_sys::Array::from(&tabs).iter() {
            let Some(id) = js_sys::Reflect::get(&tab, &JsValue::from_str("id")).ok().and_then(|v| v.as_f64()) else {
                continue;
            };
            let badge = chrome::action_get_badge_text(&to_js(&json!({ "tabId": id }))).await;
            let shown = attention::shown_in(&badge.ok().and_then(|t| t.as_string()).unwrap_or_default());
            paint_toolbar(Some(id as i32), shown, marked).await;
        }
    }
    unseen
}

async fn answer(store: &IdbStore, request: Request, sender_url: &str) -> Response {
    if let Request::StepShown { number, found } = request {
        let now = Timestamp(js_sys::Date::now() as i64);
        let noted = change_walkthrough(store, |played| {
            let Some(progress) = played.progress.as_ref().filter(|p| p.at + 1 == number && !p.preview) else {
                return false;
            };
            let Some(record) = played.records.get_mut(&progress.collection) else { return false };
            record.tried(number, found, now);
            played.unsent.insert(progress.collection);
            true
        })
        .await;
        if noted.is_ok_and(|noted| noted) {
            wasm_bindgen_futures::spawn_local(send_walkthrough_records());
        }
        return Response::Noted;
    }
    if let Request::StepDone { number } = request {
        // The user used the step's control: the walkthrough goes on, if it is still there.
        let _ = walk(store, walkthrough::Go::Next, Some(number)).await;
        return Response::Noted;
    }
    let site_active = site_active(sender_url).await;
    let connection = sync_client::connection(store).await;
    if site_active && connection.is_set() && matches!(request, Request::PageOpened { .. }) {
        sync_within(PULL_ON_OPEN_BUDGET_MS).await;
    }
    // Only a save needs a clock reading (and its write); a page opening only reads.
    let saves = !matches!(request, Request::PageOpened { .. });
    let writer = Writer::now(store, &connection, saves).await;
    let mut response = worker::handle(store, &writer.context(sender_url, site_active), request).await;
    if let Response::PageTips { active: true, walkthrough, .. } = &mut response {
        if let Some(progress) = walkthrough_progress(store).await {
            let tip = match progress.tip() {
                Some(id) => store.get(id).await.ok().flatten(),
                None => None,
            };
            *walkthrough = walkthrough::step_for_page(&progress, tip.as_ref(), sender_url, &writer.state.screen_rules);
        }
    }
    if let Response::Saved { tip, waiting, .. } = &mut response {
        // Sent at once (after_save) when the server answered last time; else it waits.
        *waiting = tip.visibility == inflow_core::Visibility::Team
            && (!connection.is_set() || writer.state.last_error.is_some());
    }
    after_save(&response);
    response
}

/// Who writes, and when: what every change made on this device needs.
struct Writer {
    author: String,
    state: crate::settings::SyncState,
    now: f64,
    clock: inflow_core::sync::Hlc,
}

impl Writer {
    /// `ticks`: take (and save) the next clock reading, for a change about to be made.
    async fn now(store: &IdbStore, connection: &crate::settings::Connection, ticks: bool) -> Writer {
        let (author, state) = author(store, connection).await;
        let now = js_sys::Date::now();
        let clock = if ticks { sync_client::next_clock(store, now).await } else { state.clock };
        Writer { author, state, now, clock }
    }

    fn context<'a>(&'a self, page_url: &'a str, site_active: bool) -> Context<'a> {
        Context {
            page_url,
            site_active,
            author: &self.author,
            now: Timestamp(self.now as i64),
            random: chrome::random_bytes(),
            mutation_random: chrome::random_bytes(),
            clock: self.clock,
            screen_rules: &self.state.screen_rules,
            identifying_fields: &self.state.identifying_fields,
        }
    }
}

/// After a save: open pages hear of it, and a shared change goes to the team at once.
fn after_save(response: &Response) {
    let shared = match response {
        // A private tip saved may be one taken back from the team: its tombstone is queued.
        Response::Saved { .. } | Response::Deleted { .. } => true,
        // Flags are only ever on shared tips.
        Response::Flagged { count } if *count > 0 => true,
        _ => return,
    };
    tell_pages();
    if shared {
        wasm_bindgen_futures::spawn_local(sync_and_tell_tabs(Trigger::Now));
    }
}

/// A message from one of the extension's own pages (options, side panel).
#[wasm_bindgen(js_name = handlePageMessage)]
pub async fn handle_page_message(message: JsValue) -> JsValue {
    let Ok(request) = serde_wasm_bindgen::from_value::<PageRequest>(message) else {
        return to_js(&Response::Error { message: "Inflow did not understand the request.".to_owned() });
    };
    if let PageRequest::SharePreview { texts, identifiers, choices } = &request {
        let pieces: Vec<Vec<crate::capture_preview::Piece>> = texts
            .iter()
            .take(8)
            .map(|t| {
                let extent = if t.cut { Extent::Cut } else { Extent::Whole };
                crate::capture_preview::pieces(&t.text, extent, identifiers, choices)
            })
            .collect();
        return to_js(&pieces);
    }
    let store = match IdbStore::open(DATABASE).await {
        Ok(store) => store,
        Err(why) => return to_js(&Response::Error { message: why.to_string() }),
    };
    match request {
        PageRequest::SyncStatus => return to_js(&sync_status(&store).await),
        PageRequest::SyncNow => {
            sync_and_tell_tabs(Trigger::Now).await;
            return to_js(&sync_status(&store).await);
        }
        PageRequest::Tips { tip_ids } => return to_js(&card_tips(&store, tip_ids).await),
        PageRequest::ForYou => return to_js(&refresh_attention(&store, true).await),
        PageRequest::WalkthroughProgress => return to_js(&walkthrough_progress(&store).await),
        PageRequest::WalkthroughsCompleted => {
            let records = walkthrough_records(&store).await;
            let done: Vec<TipId> = records.values().filter(|r| r.completed.is_some()).map(|r| r.collection).collect();
            return to_js(&done);
        }
        PageRequest::Walkthrough { go } => {
            return match walk(&store, go, None).await {
                Ok(progress) => to_js(&progress),
                Err(why) => to_js(&Response::Error { message: format!("The walkthrough could not be saved: {why}") }),
            };
        }
        PageRequest::EditPreview { tip_id, edit, choices } => {
            return to_js(&worker::edit_preview(&store, tip_id, &edit, &choices).await)
        }
        _ => {}
    }
    let writer = Writer::now(&store, &sync_client::connection(&store).await, true).await;
    let cx = writer.context("", true);
    let response = match request {
        PageRequest::SyncStatus
        | PageRequest::SyncNow
        | PageRequest::Tips { .. }
        | PageRequest::ForYou
        | PageRequest::WalkthroughProgress
        | PageRequest::WalkthroughsCompleted
        | PageRequest::Walkthrough { .. }
        | PageRequest::EditPreview { .. }
        | PageRequest::SharePreview { .. } => return JsValue::NULL, // answered above
        PageRequest::Reply { tip_id, text } => worker::respond(&store, &cx, tip_id, Addition::Reply(text)).await,
        PageRequest::Helpful { tip_id, helpful } => {
            worker::respond(&store, &cx, tip_id, Addition::Helpful(helpful)).await
        }
        PageRequest::Curate { tip_id, step } => worker::respond(&store, &cx, tip_id, Addition::Curate(step)).await,
        PageRequest::Edit { tip_id, edit, choices } => worker::edit(&store, &cx, tip_id, edit, &choices).await,
        PageRequest::Delete { tip_id } => worker::delete(&store, &cx, tip_id).await,
        PageRequest::Restore { tip } => worker::restore(&store, &cx, *tip).await,
    };
    after_save(&response);
    if matches!(response, Response::Saved { .. } | Response::Deleted { .. }) {
        // A tip changed from the panel: pages showing it re-anchor (an edit's note, a
        // deleted highlight).
        wasm_bindgen_futures::spawn_local(async { tell_tabs(&Command::TipsChanged).await });
        // A step taken here may answer what waited for the user (behind the answer).
        wasm_bindgen_futures::spawn_local(async move {
            refresh_attention(&store, false).await;
        });
    }
    to_js(&response)
}

/// Who signs what this device writes: the member's name on the team's server when
/// connected (the server accepts shared writes under no other), else the display name.
async fn author(store: &IdbStore, connection: &crate::settings::Connection) -> (String, crate::settings::SyncState) {
    let state = sync_client::state(store).await;
    let author = match state.membership.as_ref().filter(|_| connection.is_set()) {
        Some(membership) => membership.name.clone(),
        None => store.setting(DISPLAY_NAME).await.ok().flatten().unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned()),
    };
    (author, state)
}

/// The tips a card shows, as stored here, with what the card needs to know of them. The tip
/// frame asks for them: it is an extension page inside a web page, a third-party context
/// whose storage the browser partitions or denies, so it cannot open the store itself.
async fn card_tips(store: &IdbStore, tip_ids: Vec<inflow_core::TipId>) -> Response {
    let mut tips = Vec::with_capacity(tip_ids.len());
    for id in tip_ids.into_iter().take(100) {
        if let Ok(Some(tip)) = store.get(id).await {
            tips.push(tip);
        }
    }
    let waiting = match store.outbox(u32::MAX).await {
        Ok(queued) => queued.iter().map(|m| m.change.tip_id()).filter(|id| tips.iter().any(|t| t.id == *id)).collect(),
        Err(_) => Vec::new(),
    };
    let connection = sync_client::connection(store).await;
    let (me, _) = author(store, &connection).await;
    Response::Tips { tips, me, waiting }
}

async fn sync_status(store: &IdbStore) -> SyncStatus {
    let connection = sync_client::connection(store).await;
    let state = sync_client::state(store).await;
    SyncStatus {
        configured: connection.is_set(),
        managed: connection.managed,
        server_url: connection.server_url,
        membership: state.membership,
        pending: store.outbox_len().await.unwrap_or(0),
        last_success_ms: state.last_success_ms,
        last_error: state.last_error,
        screen_rules: state.screen_rules.iter().map(|r| r.as_str().to_owned()).collect(),
        identifying_fields: state.identifying_fields.iter().map(inflow_core::fields::FieldRule::to_text).collect(),
    }
}

/// Syncs, and asks every open page to show what arrived.
async fn sync_and_tell_tabs(trigger: Trigger) {
    let Ok(store) = IdbStore::open(DATABASE).await else { return };
    let report = sync_client::sync(&store, trigger).await;
    send_walkthrough_records().await; // what waited for the server
    if report.pulled > 0 {
        tell_pages();
        tell_tabs(&Command::TipsChanged).await;
    }
    // New replies and steps arrive by sync; due dates come with time (the alarm).
    if report.pulled > 0 || trigger == Trigger::Background {
        refresh_attention(&store, false).await;
    }
}

/// Tells the extension's open pages (the side panel) that tips changed.
fn tell_pages() {
    let sent = wasm_bindgen_futures::JsFuture::from(chrome::runtime_broadcast(&to_js(&Command::TipsChanged)));
    // With no page open the browser rejects the message: nobody to tell.
    wasm_bindgen_futures::spawn_local(async move {
        let _ = sent.await;
    });
}

/// Starts a sync and waits for it at most `budget_ms`; a slower one finishes on its own.
async fn sync_within(budget_ms: u32) {
    let done = Rc::new(Cell::new(false));
    let finished = done.clone();
    wasm_bindgen_futures::spawn_local(async move {
        sync_and_tell_tabs(Trigger::PageOpened).await;
        finished.set(true);
    });
    let step = 50;
    for _ in 0..budget_ms / step {
        if done.get() {
            return;
        }
        gloo::timers::future::TimeoutFuture::new(step).await;
    }
}

async fn tell_tabs(command: &Command) {
    let Ok(tabs) = chrome::tabs_query(&to_js(&json!({}))).await else { return };
    for tab in js_sys::Array::from(&tabs).iter() {
        let id = js_sys::Reflect::get(&tab, &JsValue::from_str("id")).ok().and_then(|v| v.as_f64());
        let url =
            js_sys::Reflect::get(&tab, &JsValue::from_str("url")).ok().and_then(|v| v.as_string()).unwrap_or_default();
        if let (Some(id), true) = (id, url.starts_with("http")) {
            let _ = chrome::tabs_send_message(id as i32, &to_js(command)).await;
            // no content script there: nothing to tell
        }
    }
}

/// The background sync alarm.
#[wasm_bindgen(js_name = onAlarm)]
pub async fn on_alarm(name: String) {
    if name == SYNC_ALARM {
        sync_and_tell_tabs(Trigger::Background).await;
    }
}

/// At browser start: the alarm again (alarms may not survive a restart), and a sync for
/// what was captured while the server was away.
#[wasm_bindgen(js_name = onStartup)]
pub async fn on_startup() -> Result<(), JsValue> {
    chrome::alarms_create(SYNC_ALARM, &to_js(&json!({ "periodInMinutes": SYNC_ALARM_MINUTES }))).await?;
    sync_granted_sites().await?;
    refresh_policy().await;
    sync_and_tell_tabs(Trigger::Background).await;
    Ok(())
}

/// The organisation's policy changed (or the worker set up): remember it.
#[wasm_bindgen(js_name = refreshPolicy)]
pub async fn refresh_policy() {
    if let Ok(store) = IdbStore::open(DATABASE).await {
        sync_client::refresh_policy(&store).await;
    }
}

/// Sets up what must exist once per install or update: the context-menu entry, and the
/// content script on the sites the user has granted. A new install (`reason` "install")
/// opens the welcome page: how to start, the keys, what is shared.
#[wasm_bindgen(js_name = onInstalled)]
pub async fn on_installed(reason: String) -> Result<(), JsValue> {
    if reason == "install" {
        let _ = chrome::tabs_create(&to_js(&json!({ "url": "welcome.html" }))).await;
    }
    chrome::context_menus_remove_all().await?;
    chrome::context_menus_create(&to_js(&json!({
        "id": CAPTURE_MENU,
        "title": "Add an Inflow tip to “%s”",
        "contexts": ["selection"],
    })))?;
    chrome::context_menus_create(&to_js(&json!({
        "id": PIN_MENU,
        "title": "Pin an Inflow tip to this element",
        "contexts": ["page", "link", "editable", "image"],
    })))?;
    chrome::alarms_create(SYNC_ALARM, &to_js(&json!({ "periodInMinutes": SYNC_ALARM_MINUTES }))).await?;
    // The toolbar button opens the side panel: this screen's tips and the team's feed.
    chrome::side_panel_set_behavior(&to_js(&json!({ "openPanelOnActionClick": true }))).await?;
    wasm_bindgen_futures::spawn_local(refresh_policy());
    sync_granted_sites().await
}

/// Keeps the content script registered on exactly the sites the user has granted at run
/// time (the demo hosts are covered by the manifest's own `content_scripts`). Called on
/// install, at browser start and whenever a permission is added or removed.
#[wasm_bindgen(js_name = syncGrantedSites)]
pub async fn sync_granted_sites() -> Result<(), JsValue> {
    #[derive(serde::Deserialize, Default)]
    struct Granted {
        #[serde(default)]
        origins: Vec<String>,
    }
    let granted: Granted = serde_wasm_bindgen::from_value(chrome::permissions_get_all().await?).unwrap_or_default();
    let manifest_hosts = ["http://127.0.0.1/*", "http://localhost/*"];
    let mut origins: Vec<String> =
        granted.origins.into_iter().filter(|o| !manifest_hosts.contains(&o.as_str())).collect();
    origins.sort();
    let registered = chrome::scripting_get_registered_content_scripts().await?;
    if js_sys::Array::from(&registered).length() > 0 {
        chrome::scripting_unregister_content_scripts().await?;
    }
    if origins.is_empty() {
        return Ok(());
    }
    let scripts = json!([{
        "id": GRANTED_SITES_SCRIPT,
        "matches": origins,
        "js": ["content.js"],
        "css": ["content.css"],
        "runAt": "document_idle",
        "allFrames": true,
        "persistAcrossSessions": true,
    }]);
    chrome::scripting_register_content_scripts(&to_js(&scripts)).await?;
    Ok(())
}

/// The keyboard shortcut.
#[wasm_bindgen(js_name = onCommand)]
pub async fn on_command(command: String, tab_id: i32, tab_url: String) {
    match command.as_str() {
        CAPTURE_COMMAND => ask_page(tab_id, &tab_url, Command::OpenCapture).await,
        NEXT_TIP_COMMAND => ask_page(tab_id, &tab_url, Command::MoveToTip { forward: true }).await,
        PREVIOUS_TIP_COMMAND => ask_page(tab_id, &tab_url, Command::MoveToTip { forward: false }).await,
        _ => {}
    }
}

/// A click on Inflow's context-menu entry.
#[wasm_bindgen(js_name = onContextMenuClicked)]
pub async fn on_context_menu_clicked(menu_item_id: String, tab_id: i32, tab_url: String) {
    match menu_item_id.as_str() {
        CAPTURE_MENU => ask_page(tab_id, &tab_url, Command::OpenCapture).await,
        PIN_MENU => ask_page(tab_id, &tab_url, Command::PinElement).await,
        _ => {}
    }
}

/// Asks the page's content script to open the capture form (`command`). Where there is
/// none (a tab opened before Inflow was installed, or a site the user has not switched
/// Inflow on for), the key press or click has granted temporary access to the tab: the
/// content script is injected, then asked again, or told to say why it cannot.
async fn ask_page(tab_id: i32, tab_url: &str, command: Command) {
    if tab_id < 0 {
        return;
    }
    let active = site_active(tab_url).await;
    if active && chrome::tabs_send_message(tab_id, &to_js(&command)).await.is_ok() {
        return;
    }
    let injection = json!({ "target": { "tabId": tab_id }, "files": ["content.js"] });
    if let Err(why) = chrome::scripting_execute_script(&to_js(&injection)).await {
        // Browser pages (chrome://, the web store) cannot be scripted at all.
        gloo::console::warn!("Inflow cannot run on this page:", why);
        return;
    }
    let command = if active {
        command
    } else if inflow_core::url::PageUrl::parse(tab_url).is_err() {
        Command::Notice { message: "Inflow works on web pages (http and https) only.".to_owned() }
    } else {
        Command::Notice { message: not_active_message(tab_url) }
    };
    if let Err(why) = chrome::tabs_send_message(tab_id, &to_js(&command)).await {
        gloo::console::warn!("Inflow could not reach the page:", why);
    }
}

/// Whether the user has granted Inflow access to `page_url`'s origin (the demo app's
/// hosts are granted by the manifest; others at run time from the options page).
async fn site_active(page_url: &str) -> bool {
    let Ok(parsed) = inflow_core::url::PageUrl::parse(page_url) else { return false };
    let query = json!({ "origins": [format!("{}/*", parsed.origin())] });
    match chrome::permissions_contains(&to_js(&query)).await {
        Ok(granted) => granted.as_bool().unwrap_or(false),
        Err(_) => false,
    }
}
