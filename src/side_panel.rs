//! The side panel (`extension/sidepanel.html`), built in Rust: "This screen" first (the
//! tips placed in the active tab's page, then those that need review), then the team's
//! feed with search, filters and sort. Tips arrive live while the panel is open: it keeps
//! the server's event stream open and asks the worker to pull on each change. New tips
//! never move what the user is reading: the feed offers them behind a button.

mod curation;
mod walkthroughs;

use std::cell::RefCell;
use std::collections::HashSet;

use inflow_core::{Tip, TipId};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlSelectElement};

use crate::attention::{Need, Why};
use crate::chrome::{self, to_js};
use crate::dom::{append, ask_worker, by_id, el, element, input, on, spawn};
use crate::idb_store::{IdbStore, DATABASE};
use crate::messages::{PageRequest, PanelCommand, SyncStatus};
use crate::panel_model::{Filter, PanelState, Show, Sort, PAGE};
use crate::store::TipStore;
use crate::sync_client;
use crate::tip_view::{self, Listed, Row, TipContext, TipHost};

/// A screen's tip captured on another record's page, whose text is not on this record.
const ANOTHER_RECORD: Listed<'static> = Listed { badge: Some("Another record"), reveal_in: None, place: false };

/// Wait before reopening a lost event stream.
const STREAM_RETRY_MS: u32 = 5_000;
/// A live stream silent this long (ms; the server's keep-alive comes every 20 s) is dead.
const STREAM_SILENCE_MS: f64 = 50_000.0;
/// How often the stream's silence is checked (ms).
const STREAM_SILENCE_CHECK_MS: u32 = 10_000;

thread_local! {
    /// The panel's state (see [`PanelState`]): one owner for the page's listeners, which
    /// live as long as the page (a page's wasm runs on one thread).
    static PANEL: RefCell<PanelState> = RefCell::new(PanelState::default());
    /// What needed the user and was new to them since the panel opened ("For you").
    static FOR_YOU: RefCell<Vec<Need>> = const { RefCell::new(Vec::new()) };
}

impl PanelState {
    fn tip_context(&self) -> TipContext<'_> {
        TipContext { me: &self.me, waiting: &self.waiting, open_replies: &self.open_replies }
    }
}

/// The panel's side of the shared tip view: its tips are [`PANEL`]'s.
struct PanelTips;

impl TipHost for PanelTips {
    fn tip(&self, id: TipId) -> Option<Tip> {
        PANEL.with(|p| p.borrow().tip(id).cloned())
    }

    fn replies_toggled(&self, id: TipId, open: bool) {
        PANEL.with(|p| tip_view::note_replies(&mut p.borrow_mut().open_replies, id, open));
    }

    fn rerender(&self) {
        render_feed();
        render_for_you();
        spawn(render_screen());
    }

    fn saved(&self, id: TipId) {
        PANEL.with(|p| p.borrow_mut().saw(id));
    }
}

/// One tip as the panel lists it: the shared view, with the curation steps this member may
/// take on it (and, in a collection a curator looks at, the controls to arrange it).
fn tip_item(tip: &Tip, listed: Listed, arrange: bool, panel: &PanelState) -> Element {
    let item = tip_view::tip_item(tip, listed, &panel.tip_context());
    if let Some(actions) = curation::actions(tip, panel.curator, &panel.collections, tip_view::now()) {
        append(&item, &actions);
    }
    if arrange {
        append(&item, &curation::collection_controls());
    }
    item
}

/// One row of a keyed tip list (see [`tip_view::update_keyed`]): the tip's id, what its
/// view shows, and how to build it. `collections` is the fingerprint of the team's
/// collections, which every tip's curation controls show.
fn tip_row<'a>(tip: &'a Tip, listed: Listed<'a>, arrange: bool, panel: &'a PanelState, collections: u64) -> Row<'a> {
    // (Whether its replies are open is not part of it: the user opens and closes them in
    // the row itself, which a kept row keeps.)
    let shows = (
        listed,
        arrange,
        &panel.me,
        panel.waiting.contains(&tip.id),
        panel.curator,
        collections,
        tip.curation.is_due(tip_view::now()),
    );
    Row::new(tip.id.to_string(), tip_view::fingerprint((tip, shows)), move || tip_item(tip, listed, arrange, panel))
}

/// Builds and runs the panel. `connection` is the database connection the page's script
/// started opening while this code compiled (or `null`).
#[wasm_bindgen(js_name = sidePanel)]
pub async fn side_panel(connection: JsValue) -> Result<(), JsValue> {
    let store = IdbStore::adopt(connection, DATABASE).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    // The newest page first, so the panel paints at once however many tips are stored;
    // every tip, for search and filters, right after.
    let first_page = store.newest(PAGE as u32).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    PANEL.with(|p| p.borrow_mut().first_page(first_page));
    render_feed();
    // Visible in the browser's performance tools, and to Inflow's own benchmark.
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("inflow:panel-painted");
    }
    let Member { name: me, curator, team } = member(&store).await;
    let tips = store.all().await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    fill_tags(&tips);
    let waiting = waiting(&store).await;
    PANEL.with(|p| {
        let mut panel = p.borrow_mut();
        panel.me = me;
        panel.curator = curator;
        panel.team = team;
        panel.waiting = waiting;
        panel.loaded(tips);
    });
    render_feed();
    curation::render_queue();
    spawn(take_what_is_for_you());
    by_id::<HtmlElement>("panel").set_attribute("aria-busy", "false")?;
    curation::listen();
    walkthroughs::listen();
    spawn(curation::load_collections());

    // Each filter control tells the model what the user chose; the feed renders from it.
    on(&input("search"), "input", |_| filter(Filter::Search(input("search").value())));
    on(&by_id::<HtmlSelectElement>("show"), "change", |_| filter(Filter::Show(Show::parse(&select_value("show")))));
    on(&by_id::<HtmlSelectElement>("tag"), "change", |_| filter(Filter::Tag(select_value("tag"))));
    on(&by_id::<HtmlSelectElement>("sort"), "change", |_| filter(Filter::Sort(Sort::parse(&select_value("sort")))));
    on(&by_id::<web_sys::EventTarget>("feed-filters"), "submit", |event| event.prevent_default());
    on(&by_id::<web_sys::EventTarget>("more"), "click", |_| {
        PANEL.with(|p| p.borrow_mut().more());
        render_feed();
    });
    on(&by_id::<web_sys::EventTarget>("new-tips"), "click", |_| {
        PANEL.with(|p| p.borrow_mut().show_new());
        render_feed();
        by_id::<HtmlElement>("new-tips").set_hidden(true);
    });
    on(&by_id::<web_sys::EventTarget>("sync-now"), "click", |_| spawn(sync_and_show()));
    listen_to_the_browser();
    tip_view::listen(&PanelTips);
    show_sync_line(&ask_worker(PageRequest::SyncStatus).await);
    // Opening the panel is asking for the team's latest: pull now (what arrives comes back
    // as "tips changed").
    spawn(async {
        show_sync_line(&ask_worker(PageRequest::SyncNow).await);
    });
    render_screen().await;
    spawn(follow_event_stream());
    Ok(())
}

/// Who this device's user is, as the panel needs it.
struct Member {
    /// The name their tips are signed with: the server's name for them, or the display
    /// name set in the options while not connected.
    name: String,
    /// Whether they curate (curators and admins).
    curator: bool,
    /// Their team's name, for exports.
    team: String,
}

async fn member(store: &IdbStore) -> Member {
    let state = sync_client::state(store).await;
    if let Some(membership) = state.membership {
        let curator = membership.curates();
        return Member { name: membership.name, curator, team: membership.team_name };
    }
    let name = store
        .setting(crate::settings::DISPLAY_NAME)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| crate::settings::DEFAULT_DISPLAY_NAME.to_owned());
    Member { name, curator: false, team: "Inflow".to_owned() }
}

/// The user changed a filter: the feed starts again at its first page.
fn filter(change: Filter) {
    PANEL.with(|p| p.borrow_mut().filter(change));
    render_feed();
}

fn select_value(id: &str) -> String {
    by_id::<HtmlSelectElement>(id).value()
}

/// Re-reads the store after tips changed; new ones wait behind the "new tips" button.
async fn reload() {
    let Ok(store) = IdbStore::open(DATABASE).await else { return };
    let Ok(tips) = store.all().await else { return };
    fill_tags(&tips);
    let waiting = waiting(&store).await;
    let fresh = PANEL.with(|p| {
        let mut panel = p.borrow_mut();
        panel.waiting = waiting;
        panel.arrived(tips)
    });
    let button: HtmlElement = by_id("new-tips");
    if fresh > 0 {
        button.set_text_content(Some(&if fresh == 1 {
            "1 new tip: show it".to_owned()
        } else {
            format!("{fresh} new tips: show them")
        }));
        button.set_hidden(false);
    }
    render_feed();
    curation::render_queue();
    take_what_is_for_you().await;
    render_screen().await;
}

/// Asks the worker what needs the user and is new to them (which, shown here, counts as
/// seen: the toolbar's mark goes), and lists it under "For you" until the panel closes.
async fn take_what_is_for_you() {
    let answer = crate::chrome::runtime_send_message(&to_js(&PageRequest::ForYou)).await.ok();
    let new: Vec<Need> = answer.and_then(|a| serde_wasm_bindgen::from_value(a).ok()).unwrap_or_default();
    if new.is_empty() {
        render_for_you(); // what is listed may have changed
        return;
    }
    FOR_YOU.with(|f| {
        let mut for_you = f.borrow_mut();
        for need in new {
            if !for_you.iter().any(|n| n.key == need.key) {
                for_you.push(need);
            }
        }
    });
    PANEL.with(|p| {
        // A new reply is read where it is: the tip's replies open.
        let mut panel = p.borrow_mut();
        FOR_YOU.with(|f| {
            for need in f.borrow().iter().filter(|n| n.why == Why::Reply) {
                tip_view::note_replies(&mut panel.open_replies, need.tip, true);
            }
        });
    });
    render_for_you();
}

/// "For you": each tip with something new for the user, once, newest need first. A tip to
/// review leaves once no curator is needed (approved here or elsewhere), as in the queue.
fn render_for_you() {
    let section: HtmlElement = by_id("for-you-section");
    FOR_YOU.with(|f| {
        let for_you = f.borrow();
        PANEL.with(|p| {
            let panel = p.borrow();
            let collections = tip_view::fingerprint(&panel.collections);
            let mut listed: Vec<TipId> = Vec::new();
            let mut rows = Vec::new();
            for need in for_you.iter().rev() {
                let Some(tip) = panel.tip(need.tip).filter(|_| !listed.contains(&need.tip)) else { continue };
                if need.why == Why::Review && !tip.curation.wants_curator(tip_view::now()) {
                    continue;
                }
                listed.push(need.tip);
                let badge = match need.why {
                    Why::Reply => "New reply to your tip",
                    Why::Review => "For you to review",
                };
                rows.push(tip_row(
                    tip,
                    Listed { badge: Some(badge), reveal_in: None, place: true },
                    false,
                    &panel,
                    collections,
                ));
            }
            section.set_hidden(rows.is_empty());
            tip_view::update_keyed(&by_id("for-you"), rows);
        });
    });
}

/// Fills the tag filter with the tags in use, most used first, keeping the choice (or,
/// when its tag is no longer in use, "Any tag", which the feed then follows).
fn fill_tags(tips: &[Tip]) {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for tag in tips.iter().flat_map(|t| &t.tags) {
        *counts.entry(tag.as_str()).or_default() += 1;
    }
    let mut tags: Vec<(&str, usize)> = counts.into_iter().collect();
    tags.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let select: HtmlSelectElement = by_id("tag");
    let chosen = select.value();
    select.set_text_content(None);
    append(&select, &el("option").text("Any tag").attr("value", "").build());
    for (tag, count) in tags.into_iter().take(200) {
        append(&select, &el("option").text(&format!("{tag} ({count})")).attr("value", tag).build());
    }
    select.set_value(&chosen);
    if select.value() != chosen {
        PANEL.with(|p| p.borrow_mut().filter(Filter::Tag(select.value())));
    }
}

/// Tips with a change in the outbox.
async fn waiting(store: &IdbStore) -> HashSet<TipId> {
    store.outbox(u32::MAX).await.map(|queued| queued.iter().map(|m| m.change.tip_id()).collect()).unwrap_or_default()
}

/// The feed: matching tips the user has seen, newest or oldest first, a page at a time.
fn render_feed() {
    PANEL.with(|p| {
        let panel = p.borrow();
        let query = &panel.query;
        let matching = panel.feed(tip_view::now());
        let in_collection = match query.show {
            Show::Collection(id) => panel.collections.iter().find(|c| c.id == id),
            _ => None,
        };
        let arrange = in_collection.is_some() && panel.curator;
        let collections = tip_view::fingerprint(&panel.collections);
        let rows = matching
            .iter()
            .take(panel.shown)
            .map(|tip| tip_row(tip, Listed::FEED, arrange, &panel, collections))
            .collect();
        tip_view::update_keyed(&by_id("feed"), rows);
        let total = panel.seen_count();
        let count = match (matching.len(), query.is_everything()) {
            _ if panel.loading => "Loading all tips…".to_owned(),
            (0, true) => "No tips yet. Select text on a page and add one.".to_owned(),
            (n, true) => format!("{n} tip{}", if n == 1 { "" } else { "s" }),
            (n, false) => format!("{n} of {total} tips match"),
        };
        by_id::<HtmlElement>("feed-count").set_text_content(Some(&count));
        by_id::<HtmlElement>("more").set_hidden(matching.len() <= panel.shown);
    });
}

/// What the active tab's page shows, as its content script reports it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ScreenTips {
    #[serde(default)]
    active: bool,
    #[serde(default)]
    placed: Vec<TipId>,
    #[serde(default)]
    unplaced: Vec<TipId>,
    #[serde(default)]
    elements: Vec<TipId>,
    #[serde(default)]
    missing_elements: Vec<TipId>,
    /// Tips of this screen captured on another record's page, whose text or control is not
    /// on this record: not about this record, and no fault of the app.
    #[serde(default)]
    other_records: Vec<TipId>,
}

/// "This screen": the active tab's placed tips, then those that need review.
async fn render_screen() {
    let list: HtmlElement = by_id("screen-tips");
    let note: HtmlElement = by_id("screen-note");
    let tab = active_tab().await;
    let answer = match tab {
        Some(id) => chrome::tabs_send_message(id, &to_js(&PanelCommand::ScreenTips)).await.ok(),
        None => None,
    };
    let screen: Option<ScreenTips> = answer.and_then(|a| serde_wasm_bindgen::from_value(a).ok());
    let Some(screen) = screen.filter(|s| s.active) else {
        walkthroughs::prompt(&[]).await;
        list.set_text_content(None);
        note.set_text_content(Some(
            "Inflow is not working on this tab's page. Open a page of a site switched on in the options.",
        ));
        return;
    };
    PANEL.with(|p| {
        let panel = p.borrow();
        let find = |id: &TipId| panel.tip(*id);
        // Under "This screen" a placed tip needs no badge saying so (it was on every card);
        // only a tip that needs review is marked.
        let groups: [(&[TipId], Option<&str>, bool); 4] = [
            (&screen.placed, None, true),
            (&screen.elements, None, true),
            (&screen.unplaced, Some("Needs review"), false),
            (&screen.missing_elements, Some("Needs review"), false),
        ];
        let collections = tip_view::fingerprint(&panel.collections);
        let mut rows = Vec::new();
        for (ids, badge, revealable) in groups {
            for tip in ids.iter().filter_map(find) {
                let listed = Listed { badge, reveal_in: if revealable { tab } else { None }, place: false };
                rows.push(tip_row(tip, listed, false, &panel, collections));
            }
        }
        let mut count = rows.len();
        // About other records: folded away, so that they neither crowd nor alarm.
        let others: Vec<&Tip> = screen.other_records.iter().filter_map(find).collect();
        if !others.is_empty() {
            let prints: Vec<u64> =
                others.iter().map(|tip| tip_row(tip, ANOTHER_RECORD, false, &panel, collections).print).collect();
            let panel = &panel;
            let build = move || {
                let summary = match others.len() {
                    1 => "1 tip for this screen is about another record".to_owned(),
                    n => format!("{n} tips for this screen are about other records"),
                };
                let inner = others.into_iter().map(|tip| tip_item(tip, ANOTHER_RECORD, false, panel));
                let details =
                    el("details").child(element("summary", &summary)).child(el("ol").class("tips").children(inner).build());
                el("li").class("other-records").child(details.build()).build()
            };
            rows.push(Row::new("other-records".to_owned(), tip_view::fingerprint(&prints), build));
            count += 1;
        }
        tip_view::update_keyed(&list, rows);
        let text = match count {
            0 => "No tips for this screen yet.".to_owned(),
            _ if screen.unplaced.is_empty() && screen.missing_elements.is_empty() => String::new(),
            _ => "Tips marked \u{201c}Needs review\u{201d} are gone from the page they were written on, or could not be placed there with confidence: the app may have changed.".to_owned(),
        };
        note.set_text_content(Some(&text));
    });
    let on_screen: Vec<TipId> = [&screen.placed, &screen.elements, &screen.unplaced, &screen.other_records]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    walkthroughs::prompt(&on_screen).await;
}

/// The tab whose screen the panel describes: the active web page of the panel's window,
/// or, when the panel is not docked beside one (opened as a tab or a window of its own),
/// the web page used last.
async fn active_tab() -> Option<i32> {
    let field = |tab: &JsValue, name: &str| js_sys::Reflect::get(tab, &JsValue::from_str(name)).ok();
    let is_web = |tab: &JsValue| {
        field(tab, "url")
            .and_then(|u| u.as_string())
            .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"))
    };
    let id = |tab: &JsValue| field(tab, "id").and_then(|id| id.as_f64()).map(|id| id as i32);
    let docked = chrome::tabs_query(&to_js(&json!({ "active": true, "currentWindow": true }))).await.ok()?;
    if let Some(tab) = js_sys::Array::from(&docked).iter().find(is_web) {
        return id(&tab);
    }
    let all = chrome::tabs_query(&to_js(&json!({}))).await.ok()?;
    let last_used = js_sys::Array::from(&all).iter().filter(is_web).max_by(|a, b| {
        let at = |tab: &JsValue| field(tab, "lastAccessed").and_then(|v| v.as_f64()).unwrap_or(0.0);
        at(a).total_cmp(&at(b))
    })?;
    id(&last_used)
}

/// Tips changed (the worker says so), or the user switched or reloaded a tab.
fn listen_to_the_browser() {
    let on_message = Closure::<dyn FnMut(JsValue)>::new(|message: JsValue| {
        let kind = js_sys::Reflect::get(&message, &JsValue::from_str("type")).ok().and_then(|t| t.as_string());
        if kind.as_deref() == Some("tipsChanged") {
            spawn(async {
                reload().await;
                show_sync_line(&ask_worker(PageRequest::SyncStatus).await);
                walkthroughs::render().await; // a step taken on the page moves Resume
            });
        }
    });
    chrome::on_runtime_message(on_message.as_ref().unchecked_ref());
    on_message.forget();
    let on_tab = Closure::<dyn FnMut(JsValue)>::new(|_| spawn(render_screen()));
    chrome::on_tab_activated(on_tab.as_ref().unchecked_ref());
    on_tab.forget();
    let on_update = Closure::<dyn FnMut(JsValue, JsValue)>::new(|_, change: JsValue| {
        let complete =
            js_sys::Reflect::get(&change, &JsValue::from_str("status")).ok().and_then(|s| s.as_string()).as_deref()
                == Some("complete");
        if complete {
            // The page's content script answers once it has asked the worker.
            spawn(async {
                gloo::timers::future::TimeoutFuture::new(600).await;
                render_screen().await;
            });
        }
    });
    chrome::on_tab_updated(on_update.as_ref().unchecked_ref());
    on_update.forget();
}

/// The one-line sync state at the top: online or not, what waits, what went wrong
/// ([`SyncStatus::line`]), marked as a problem when it is one.
fn show_sync_line(status: &Option<SyncStatus>) {
    let line: HtmlElement = by_id("sync-line");
    let (text, problem) = match status {
        None => ("Inflow's worker did not answer.".to_owned(), true),
        Some(s) => (s.line(), s.configured && s.sync_outcome().1),
    };
    line.set_text_content(Some(&text));
    line.set_class_name(if problem { "problem" } else { "" });
}

/// Syncs now and says so while it runs ("Sync now", and when the event stream is lost or
/// back: either means the server's state may have changed).
async fn sync_and_show() {
    let line: HtmlElement = by_id("sync-line");
    // (A line that reports a problem stays until the answer: no flicker every few seconds
    // while the server is down.)
    if line.class_name() != "problem" {
        line.set_text_content(Some("Syncing…"));
    }
    show_sync_line(&ask_worker(PageRequest::SyncNow).await);
}

/// Keeps the team's event stream open while the panel is, and pulls on every change.
/// EventSource cannot send the token, so the stream is read from a fetch.
async fn follow_event_stream() {
    loop {
        let Ok(store) = IdbStore::open(DATABASE).await else { return };
        let connection = sync_client::connection(&store).await;
        drop(store);
        if let (true, Ok(base)) = (connection.is_set(), connection.base_url()) {
            // Ended either way (an error, or closed: a proxy in front of a server that went
            // away ends the stream cleanly), the server may be gone or have refused: find
            // out now, not at the next alarm.
            let ended = read_events(&base, &connection.token).await.err().unwrap_or_else(|| "closed".to_owned());
            web_sys::console::debug_1(&JsValue::from_str(&format!("Inflow's event stream ended: {ended}")));
            sync_and_show().await;
        }
        gloo::timers::future::TimeoutFuture::new(STREAM_RETRY_MS).await;
    }
}

/// Sets its flag when dropped: the stream's watchdog stops with the stream, however it ended.
struct EndOnDrop(std::rc::Rc<std::cell::Cell<bool>>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

async fn read_events(base: &str, token: &str) -> Result<(), String> {
    let response = gloo::net::http::Request::get(&format!("{base}/v1/events"))
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != 200 {
        return Err(format!("status {}", response.status()));
    }
    if by_id::<HtmlElement>("sync-line").class_name() == "problem" {
        spawn(sync_and_show()); // the server is back: say so, and pull what waited
    }
    let body = response.body().ok_or("no body")?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let decoder = web_sys::TextDecoder::new().map_err(|_| "no TextDecoder")?;
    let mut buffer = String::new();
    // The server says something at least every 20 s (a keep-alive). A stream silent for
    // longer is a connection that died without a word (a cable, a sleeping laptop): end it,
    // so the panel finds out and says so.
    let heard = std::rc::Rc::new(std::cell::Cell::new(js_sys::Date::now()));
    let ended = std::rc::Rc::new(std::cell::Cell::new(false));
    {
        let (heard, ended, reader) = (heard.clone(), ended.clone(), reader.clone());
        spawn(async move {
            while !ended.get() {
                gloo::timers::future::TimeoutFuture::new(STREAM_SILENCE_CHECK_MS).await;
                if !ended.get() && js_sys::Date::now() - heard.get() > STREAM_SILENCE_MS {
                    let _ = reader.cancel();
                    return;
                }
            }
        });
    }
    let _end_watch = EndOnDrop(ended);
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read()).await.map_err(|e| format!("{e:?}"))?;
        heard.set(js_sys::Date::now());
        if js_sys::Reflect::get(&chunk, &JsValue::from_str("done")).ok().and_then(|d| d.as_bool()) == Some(true) {
            return Ok(());
        }
        let bytes: js_sys::Uint8Array =
            js_sys::Reflect::get(&chunk, &JsValue::from_str("value")).map_err(|_| "no value")?.unchecked_into();
        buffer.push_str(&decoder.decode_with_js_u8_array(&bytes).unwrap_or_default());
        // Events end with a blank line; each `change` means "pull now".
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.lines().any(|line| line.trim() == "event: change") {
                spawn(async {
                    let _ = ask_worker(PageRequest::SyncNow).await;
                });
            }
        }
    }
}
