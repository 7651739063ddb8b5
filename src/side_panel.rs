//! The side panel (`extension/sidepanel.html`), built in Rust: "This screen" first (the
//! tips placed in the active tab's page, then those that need review), then the team's
//! feed with search, filters and sort. Tips arrive live while the panel is open: it keeps
//! the server's event stream open and asks the worker to pull on each change. New tips
//! never move what the user is reading: the feed offers them behind a button.

mod curation;

use std::cell::RefCell;
use std::collections::HashSet;

use inflow_core::search::{Search, Searchable};
use inflow_core::{Tip, TipEdit, TipId, Visibility};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlSelectElement};

use crate::chrome::{self, to_js};
use crate::dom::{ask_worker, by_id, element, input, on, spawn};
use crate::idb_store::{IdbStore, DATABASE};
use crate::messages::{PageRequest, PanelCommand, SyncStatus};
use crate::panel_model::{feed, FeedContext, FeedQuery, Show, Sort};
use crate::store::TipStore;
use crate::sync_client;

/// Tips rendered per page of the feed: enough to fill a panel, few enough to paint fast
/// with 10,000 tips stored.
const PAGE: usize = 50;
/// Wait before reopening a lost event stream.
const STREAM_RETRY_MS: u32 = 5_000;

#[derive(Default)]
struct Panel {
    /// Every tip on this device, newest first, with its text prepared for search.
    tips: Vec<Tip>,
    searchable: Vec<Searchable>,
    /// Ids the feed showed; tips beyond these are "new" until the user shows them.
    seen: HashSet<TipId>,
    /// How many matching tips the feed renders.
    shown: usize,
    /// Who "Mine" means.
    me: String,
    /// Only the newest page is loaded yet.
    loading: bool,
    /// Tips whose replies the user opened; kept open through re-renders.
    open_replies: HashSet<TipId>,
    /// Tips with changes the server has not acknowledged yet.
    waiting: HashSet<TipId>,
    /// Whether this member curates (curators and admins).
    curator: bool,
    /// The team's name, for exports.
    team: String,
    /// The team's collections, from the server.
    collections: Vec<inflow_core::curation::Collection>,
}

thread_local! {
    static PANEL: RefCell<Panel> = RefCell::new(Panel::default());
    static NEXT_FIELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Builds and runs the panel. `connection` is the database connection the page's script
/// started opening while this code compiled (or `null`).
#[wasm_bindgen(js_name = sidePanel)]
pub async fn side_panel(connection: JsValue) -> Result<(), JsValue> {
    let store = IdbStore::adopt(connection, DATABASE).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    // The newest page first, so the panel paints at once however many tips are stored;
    // every tip, for search and filters, right after.
    let first_page = store.newest(PAGE as u32).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    PANEL.with(|p| {
        let mut panel = p.borrow_mut();
        panel.seen = first_page.iter().map(|t| t.id).collect();
        panel.searchable = first_page.iter().map(Searchable::of).collect();
        panel.tips = first_page;
        panel.shown = PAGE;
        panel.loading = true;
    });
    render_feed();
    // Visible in the browser's performance tools, and to Inflow's own benchmark.
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark("inflow:panel-painted");
    }
    let state = sync_client::state(&store).await;
    let (curator, team) = state
        .membership
        .as_ref()
        .map_or((false, "Inflow".to_owned()), |m| (curation::curates(&m.role), m.team_name.clone()));
    let me = match state.membership {
        Some(membership) => membership.name,
        None => store
            .setting(crate::settings::DISPLAY_NAME)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| crate::settings::DEFAULT_DISPLAY_NAME.to_owned()),
    };
    let tips = newest_first(store.all().await.map_err(|e| JsValue::from_str(&e.to_string()))?);
    fill_tags(&tips);
    let waiting = waiting(&store).await;
    PANEL.with(|p| {
        let mut panel = p.borrow_mut();
        panel.me = me;
        panel.curator = curator;
        panel.team = team;
        panel.waiting = waiting;
        panel.seen = tips.iter().map(|t| t.id).collect();
        panel.searchable = tips.iter().map(Searchable::of).collect();
        panel.tips = tips;
        panel.loading = false;
    });
    render_feed();
    curation::render_queue();
    by_id::<HtmlElement>("panel").set_attribute("aria-busy", "false")?;
    curation::listen();
    spawn(curation::load_collections());

    on(&by_id::<web_sys::EventTarget>("search"), "input", |_| reset_and_render());
    on(&by_id::<web_sys::EventTarget>("show"), "change", |_| reset_and_render());
    on(&by_id::<web_sys::EventTarget>("tag"), "change", |_| reset_and_render());
    on(&by_id::<web_sys::EventTarget>("sort"), "change", |_| reset_and_render());
    on(&by_id::<web_sys::EventTarget>("feed-filters"), "submit", |event| event.prevent_default());
    on(&by_id::<web_sys::EventTarget>("more"), "click", |_| {
        PANEL.with(|p| p.borrow_mut().shown += PAGE);
        render_feed();
    });
    on(&by_id::<web_sys::EventTarget>("new-tips"), "click", |_| {
        PANEL.with(|p| {
            let mut panel = p.borrow_mut();
            panel.seen = panel.tips.iter().map(|t| t.id).collect();
        });
        render_feed();
        by_id::<HtmlElement>("new-tips").set_hidden(true);
    });
    on(&by_id::<web_sys::EventTarget>("sync-now"), "click", |_| {
        spawn(async {
            show_sync_line(&ask_worker(PageRequest::SyncNow).await);
        })
    });
    listen_to_the_browser();
    listen_to_tips();
    listen_to_undo();
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

fn newest_first(mut tips: Vec<Tip>) -> Vec<Tip> {
    tips.sort_by(|a, b| b.created.cmp(&a.created).then(b.id.cmp(&a.id)));
    tips
}

fn reset_and_render() {
    PANEL.with(|p| p.borrow_mut().shown = PAGE);
    render_feed();
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
        panel.tips = newest_first(tips);
        panel.searchable = panel.tips.iter().map(Searchable::of).collect();
        if panel.seen.is_empty() {
            // An empty feed has nothing to keep in place: show what arrived.
            panel.seen = panel.tips.iter().map(|t| t.id).collect();
        }
        panel.tips.iter().filter(|t| !panel.seen.contains(&t.id)).count()
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
    render_screen().await;
}

/// Fills the tag filter with the tags in use, most used first, keeping the choice.
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
    let any = element("option", "Any tag");
    let _ = any.set_attribute("value", "");
    let _ = select.append_child(&any);
    for (tag, count) in tags.into_iter().take(200) {
        let option = element("option", &format!("{tag} ({count})"));
        let _ = option.set_attribute("value", tag);
        let _ = select.append_child(&option);
    }
    select.set_value(&chosen);
}

/// Tips with a change in the outbox.
async fn waiting(store: &IdbStore) -> HashSet<TipId> {
    store.outbox(u32::MAX).await.map(|queued| queued.iter().map(|m| m.change.tip_id()).collect()).unwrap_or_default()
}

/// The feed: matching tips the user has seen, newest or oldest first, a page at a time.
fn render_feed() {
    let query = feed_query();
    PANEL.with(|p| {
        let panel = p.borrow();
        let cx = FeedContext {
            me: &panel.me,
            waiting: &panel.waiting,
            now: curation::now(),
            collections: &panel.collections,
        };
        let matching = feed(&panel.tips, &panel.searchable, &panel.seen, &query, &cx);
        let in_collection = match query.show {
            Show::Collection(id) => panel.collections.iter().find(|c| c.id == id),
            _ => None,
        };
        let list: HtmlElement = by_id("feed");
        keeping_drafts(&list, || {
            list.set_text_content(None);
            for tip in matching.iter().take(panel.shown) {
                let item = tip_item(tip, None, None, &panel);
                if in_collection.is_some() && panel.curator {
                    let _ = item.append_child(&curation::collection_controls());
                }
                let _ = list.append_child(&item);
            }
        });
        let total = panel.seen.len();
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

/// The feed's filters as the panel's controls hold them.
fn feed_query() -> FeedQuery {
    FeedQuery {
        search: Search::parse(&input("search").value()),
        show: Show::parse(&by_id::<HtmlSelectElement>("show").value()),
        tag: by_id::<HtmlSelectElement>("tag").value(),
        sort: Sort::parse(&by_id::<HtmlSelectElement>("sort").value()),
    }
}

/// Re-renders a list of tips with `rebuild`, carrying over the forms the user has open in
/// it (a reply, a curator's title), with what was typed and the focus: tips arriving live
/// must not wipe a draft.
fn keeping_drafts(list: &HtmlElement, rebuild: impl FnOnce()) {
    let focused = crate::dom::document().active_element();
    let mut drafts: Vec<(String, String, Element, bool)> = Vec::new();
    if let Ok(forms) = list.query_selector_all("li[data-tip] form[data-action]") {
        for form in (0..forms.length()).filter_map(|i| forms.item(i)).filter_map(|n| n.dyn_into::<Element>().ok()) {
            let tip = form.closest("li[data-tip]").ok().flatten().and_then(|li| li.get_attribute("data-tip"));
            let kind = form.get_attribute("data-action").unwrap_or_default();
            let has_focus = focused.as_ref().is_some_and(|f| form.contains(Some(f)));
            if let Some(tip) = tip {
                drafts.push((tip, kind, form, has_focus));
            }
        }
    }
    rebuild();
    for (tip, kind, form, has_focus) in drafts {
        let Ok(Some(item)) = list.query_selector(&format!("li[data-tip=\"{tip}\"]")) else { continue };
        let placed = match item.query_selector(&format!("form[data-action=\"{kind}\"]")) {
            Ok(Some(fresh)) => fresh.replace_with_with_node_1(&form).is_ok(),
            _ => match item.query_selector(".curate") {
                Ok(Some(bar)) => bar.after_with_node_1(&form).is_ok(),
                _ => false,
            },
        };
        if placed && has_focus {
            if let Some(focused) = focused.as_ref().and_then(|f| f.dyn_ref::<HtmlElement>()) {
                let _ = focused.focus();
            }
        }
    }
}

/// One tip: its note, the quoted text, who and when, what it is, and its replies and
/// helpful marks.
fn tip_item(tip: &Tip, badge: Option<&str>, reveal: Option<i32>, panel: &Panel) -> Element {
    let item = element("li", "");
    let _ = item.set_attribute("data-tip", &tip.id.to_string());
    if let Some(badge) = badge {
        let mark = element("span", badge);
        mark.set_class_name(if badge == "Needs review" { "badge review" } else { "badge" });
        let _ = item.append_child(&mark);
        if badge == "Needs review" {
            item.set_class_name("review");
        }
    }
    let now = curation::now();
    if let Some(badges) = curation::badges(tip, now) {
        let _ = item.append_child(&badges);
    }
    let note = element("p", if tip.note.is_empty() { "Highlight (no note)" } else { &tip.note });
    note.set_class_name("note");
    let _ = item.append_child(&note);
    let target = tip
        .target
        .quote()
        .map(|q| format!("\u{201c}{}\u{201d}", shorten(q, 140)))
        .unwrap_or_else(|| "Pinned to a control".to_owned());
    let quote = element("p", &target);
    quote.set_class_name("quote");
    let _ = item.append_child(&quote);
    let when = format_time(tip.created.unix_ms(), false);
    let who = match (tip.visibility, panel.waiting.contains(&tip.id)) {
        (Visibility::Team, true) => "team, waiting to send",
        (Visibility::Team, false) => "team",
        (Visibility::Private, _) => "only you",
    };
    let mut meta = format!("{} · {when} · {who}", tip.author);
    if !tip.tags.is_empty() {
        meta.push_str(&format!(" · {}", tip.tags.join(", ")));
    }
    let meta = element("p", &meta);
    meta.set_class_name("meta");
    let _ = item.append_child(&meta);
    if let Some(tab) = reveal {
        let button = element("button", "Show on page");
        let _ = button.set_attribute("type", "button");
        button.set_class_name("secondary");
        let _ = button.set_attribute("aria-label", &format!("Show on page: {}", shorten(&tip.note, 60)));
        let _ = button.set_attribute("data-action", "reveal");
        let _ = button.set_attribute("data-tab", &tab.to_string());
        let _ = item.append_child(&button);
    }
    let _ = item.append_child(&helpful_button(tip, &panel.me));
    if tip.author == panel.me {
        for (label, action) in [("Edit", "edit"), ("Delete", "delete")] {
            let button = element("button", label);
            let _ = button.set_attribute("type", "button");
            button.set_class_name("secondary");
            let _ = button.set_attribute("data-action", action);
            let _ = item.append_child(&button);
        }
    }
    let _ = item.append_child(&replies(tip, panel.open_replies.contains(&tip.id)));
    if let Some(history) = curation::history(tip) {
        let _ = item.append_child(&history);
    }
    if let Some(actions) = curation::actions(tip, panel.curator, &panel.collections, now) {
        let _ = item.append_child(&actions);
    }
    item
}

/// "Helpful" with its count; pressed when this member marked it.
fn helpful_button(tip: &Tip, me: &str) -> Element {
    let marked = tip.helpful.iter().any(|name| name == me);
    let label = if tip.helpful.is_empty() { "Helpful".to_owned() } else { format!("Helpful · {}", tip.helpful.len()) };
    let button = element("button", &label);
    let _ = button.set_attribute("type", "button");
    button.set_class_name("secondary helpful");
    let _ = button.set_attribute("data-action", "helpful");
    let _ = button.set_attribute("aria-pressed", if marked { "true" } else { "false" });
    if !tip.helpful.is_empty() {
        let _ = button.set_attribute("title", &format!("Helpful to {}", tip.helpful.join(", ")));
    }
    button
}

/// The replies, folded; the form to add one is built when they are opened. A tip without
/// replies gets a plain "Reply" button, which becomes this when pressed.
fn replies(tip: &Tip, open: bool) -> Element {
    if tip.replies.is_empty() && !open {
        let button = element("button", "Reply");
        let _ = button.set_attribute("type", "button");
        button.set_class_name("link");
        let _ = button.set_attribute("data-action", "open-replies");
        return button;
    }
    let details = element("details", "");
    details.set_class_name("replies");
    let summary = match tip.replies.len() {
        0 => "Reply".to_owned(),
        1 => "1 reply".to_owned(),
        n => format!("{n} replies"),
    };
    let _ = details.append_child(&element("summary", &summary));
    let list = element("ol", "");
    for reply in &tip.replies {
        let when = format_time(reply.created.unix_ms(), true);
        let item = element("li", "");
        let text = element("p", &reply.text);
        text.set_class_name("note");
        let _ = item.append_child(&text);
        let meta = element("p", &format!("{} · {when}", reply.author));
        meta.set_class_name("meta");
        let _ = item.append_child(&meta);
        let _ = list.append_child(&item);
    }
    let _ = details.append_child(&list);
    if open {
        let _ = details.set_attribute("open", "");
        let _ = details.append_child(&reply_form());
    }
    details
}

/// The author's form to change a tip: note, tags, who sees it.
fn edit_form(tip: &Tip) -> Element {
    let form = element("form", "");
    let _ = form.set_attribute("data-action", "edit");
    let n = NEXT_FIELD.with(|n| n.replace(n.get() + 1));
    let field = |tag: &str, label: &str, id: String| {
        let (label, field) = (element("label", label), element(tag, ""));
        let _ = label.set_attribute("for", &id);
        let _ = field.set_attribute("id", &id);
        (label, field)
    };
    let (note_label, note) = field("textarea", "Note", format!("edit-note-{n}"));
    note.set_text_content(Some(&tip.note));
    let _ = note.set_attribute("rows", "3");
    let _ = note.set_attribute("maxlength", "10000");
    let (tags_label, tags) = field("input", "Tags (comma separated)", format!("edit-tags-{n}"));
    let _ = tags.set_attribute("value", &tip.tags.join(", "));
    let (who_label, who) = field("select", "Who sees it", format!("edit-visibility-{n}"));
    for (value, text) in [("team", "My team"), ("private", "Only me")] {
        let option = element("option", text);
        let _ = option.set_attribute("value", value);
        if (value == "team") == (tip.visibility == Visibility::Team) {
            let _ = option.set_attribute("selected", "");
        }
        let _ = who.append_child(&option);
    }
    let save = element("button", "Save changes");
    let _ = save.set_attribute("type", "submit");
    let cancel = element("button", "Cancel");
    let _ = cancel.set_attribute("type", "button");
    cancel.set_class_name("secondary");
    let _ = cancel.set_attribute("data-action", "cancel-edit");
    let problem = element("p", "");
    problem.set_class_name("error");
    let _ = problem.set_attribute("role", "alert");
    for part in [&note_label, &note, &tags_label, &tags, &who_label, &who, &save, &cancel, &problem] {
        let _ = form.append_child(part);
    }
    form
}

/// Deletes the author's tip, and offers to undo it for a few seconds.
async fn delete_with_undo(id: TipId) {
    let answer = chrome::runtime_send_message(&to_js(&PageRequest::Delete { tip_id: id })).await.ok();
    let field = |name: &str| answer.as_ref().and_then(|a| js_sys::Reflect::get(a, &JsValue::from_str(name)).ok());
    let line: HtmlElement = by_id("undo-line");
    let text: HtmlElement = by_id("undo-text");
    if field("type").and_then(|t| t.as_string()).as_deref() != Some("deleted") {
        let why = field("message")
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "Inflow's worker did not answer; nothing was deleted.".to_owned());
        text.set_text_content(Some(&why));
        by_id::<HtmlElement>("undo").set_hidden(true);
        line.set_hidden(false);
        return;
    }
    text.set_text_content(Some("Tip deleted."));
    let undo: HtmlElement = by_id("undo");
    undo.set_hidden(false);
    line.set_hidden(false);
    UNDO.with(|u| *u.borrow_mut() = field("tip"));
    let shown_at = js_sys::Date::now();
    UNDO_SINCE.with(|s| s.set(shown_at));
    gloo::timers::future::TimeoutFuture::new(UNDO_MS).await;
    // Hide it unless a later delete has taken the line over.
    if UNDO_SINCE.with(|s| s.get()) == shown_at {
        UNDO.with(|u| u.borrow_mut().take());
        line.set_hidden(true);
    }
}

/// How long a delete can be undone from the panel.
const UNDO_MS: u32 = 8_000;

thread_local! {
    /// The tip last deleted from the panel, while its delete can be undone.
    static UNDO: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    static UNDO_SINCE: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Undo: the deleted tip comes back, on this device and for the team.
fn listen_to_undo() {
    on(&by_id::<web_sys::EventTarget>("undo"), "click", |_| {
        let Some(tip) = UNDO.with(|u| u.borrow_mut().take()) else { return };
        by_id::<HtmlElement>("undo-line").set_hidden(true);
        let Ok(tip) = serde_wasm_bindgen::from_value::<Tip>(tip) else { return };
        spawn(async move {
            if let Some(why) = add(PageRequest::Restore { tip: Box::new(tip) }, None).await {
                by_id::<HtmlElement>("undo-text").set_text_content(Some(&why));
                by_id::<HtmlElement>("undo").set_hidden(true);
                by_id::<HtmlElement>("undo-line").set_hidden(false);
            }
        });
    });
}

fn reply_form() -> Element {
    let form = element("form", "");
    let _ = form.set_attribute("data-action", "reply");
    // The same tip can stand under "This screen" and in the feed: each form its own id.
    let field_id = format!("reply-field-{}", NEXT_FIELD.with(|n| n.replace(n.get() + 1)));
    let label = element("label", "Your reply");
    let _ = label.set_attribute("for", &field_id);
    let field = element("textarea", "");
    let _ = field.set_attribute("id", &field_id);
    let _ = field.set_attribute("rows", "2");
    let _ = field.set_attribute("maxlength", "10000");
    let send = element("button", "Send reply");
    let _ = send.set_attribute("type", "submit");
    let problem = element("p", "");
    problem.set_class_name("error");
    let _ = problem.set_attribute("role", "alert");
    for part in [&label, &field, &send, &problem] {
        let _ = form.append_child(part);
    }
    form
}

/// One set of listeners for every tip the panel shows (tips are re-rendered often; per-tip
/// listeners would pile up): Show on page, Helpful, opening replies, sending a reply.
fn listen_to_tips() {
    let tip_of = |element: &Element| -> Option<(Element, TipId)> {
        let item = element.closest("li[data-tip]").ok()??;
        let id = item.get_attribute("data-tip")?.parse().ok()?;
        Some((item, id))
    };
    let target = |event: &web_sys::Event| event.target().and_then(|t| t.dyn_into::<Element>().ok());
    let document: web_sys::EventTarget = crate::dom::document().into();
    on(&document, "click", move |event| {
        let Some(button) = target(&event).and_then(|t| t.closest("button[data-action]").ok().flatten()) else { return };
        let Some((_, id)) = tip_of(&button) else { return };
        match button.get_attribute("data-action").as_deref() {
            Some("reveal") => {
                let Some(tab) = button.get_attribute("data-tab").and_then(|t| t.parse::<i32>().ok()) else { return };
                let message = to_js(&PanelCommand::Reveal { tip_id: id });
                spawn(async move {
                    let _ = chrome::tabs_send_message(tab, &message).await;
                });
            }
            Some("open-replies") => {
                let tip = PANEL.with(|p| {
                    let mut panel = p.borrow_mut();
                    panel.open_replies.insert(id);
                    panel.tips.iter().find(|t| t.id == id).cloned()
                });
                if let Some(tip) = tip {
                    let opened = replies(&tip, true);
                    let _ = button.replace_with_with_node_1(&opened);
                    if let Some(field) =
                        opened.query_selector("textarea").ok().flatten().and_then(|f| f.dyn_into::<HtmlElement>().ok())
                    {
                        let _ = field.focus();
                    }
                }
            }
            Some("helpful") => {
                let marked = button.get_attribute("aria-pressed").as_deref() == Some("true");
                spawn(async move {
                    add(PageRequest::Helpful { tip_id: id, helpful: !marked }, None).await;
                });
            }
            Some("edit") => {
                let tip = PANEL.with(|p| p.borrow().tips.iter().find(|t| t.id == id).cloned());
                if let Some(tip) = tip {
                    let form = edit_form(&tip);
                    let _ = button.replace_with_with_node_1(&form);
                    if let Some(field) =
                        form.query_selector("textarea").ok().flatten().and_then(|f| f.dyn_into::<HtmlElement>().ok())
                    {
                        let _ = field.focus();
                    }
                }
            }
            Some("cancel-edit") => {
                if let Some(form) = button.closest("form").ok().flatten() {
                    form.remove(); // the next render puts the Edit button back
                    render_feed();
                    spawn(render_screen());
                }
            }
            Some("delete") => spawn(delete_with_undo(id)),
            _ => {}
        }
    });
    // `toggle` does not bubble; a capturing listener still sees it.
    let toggled = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let Some(details) = target(&event).filter(|t| t.tag_name() == "DETAILS") else { return };
        let Some((_, id)) = tip_of(&details) else { return };
        let open = details.has_attribute("open");
        if open && details.query_selector("form").ok().flatten().is_none() {
            let _ = details.append_child(&reply_form());
        }
        PANEL.with(|p| {
            let mut panel = p.borrow_mut();
            if open {
                panel.open_replies.insert(id);
            } else {
                panel.open_replies.remove(&id);
            }
        });
    });
    let _ = document.add_event_listener_with_callback_and_bool("toggle", toggled.as_ref().unchecked_ref(), true);
    toggled.forget(); // lives as long as the panel
    on(&document, "submit", move |event| {
        let Some(form) = target(&event).filter(|t| t.get_attribute("data-action").as_deref() == Some("edit")) else {
            return;
        };
        event.prevent_default();
        let Some((_, id)) = tip_of(&form) else { return };
        let value = |selector: &str| -> String {
            let Ok(Some(field)) = form.query_selector(selector) else { return String::new() };
            js_sys::Reflect::get(&field, &JsValue::from_str("value"))
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        let tags: Vec<String> =
            value("input").split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        let visibility = if value("select") == "private" { Visibility::Private } else { Visibility::Team };
        let edit = TipEdit { note: value("textarea"), tags, visibility };
        let problem = form.query_selector(".error").ok().flatten();
        let form = form.clone();
        spawn(async move {
            if add(PageRequest::Edit { tip_id: id, edit }, problem).await.is_none() {
                form.remove(); // saved: the panel re-renders with the new words
            }
        });
    });
    on(&document, "submit", move |event| {
        let Some(form) = target(&event).filter(|t| t.get_attribute("data-action").as_deref() == Some("reply")) else {
            return;
        };
        event.prevent_default();
        let Some((_, id)) = tip_of(&form) else { return };
        let text = form
            .query_selector("textarea")
            .ok()
            .flatten()
            .and_then(|f| f.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            .map(|f| f.value())
            .unwrap_or_default();
        let problem = form.query_selector(".error").ok().flatten();
        let form = form.clone();
        spawn(async move {
            if add(PageRequest::Reply { tip_id: id, text }, problem).await.is_none() {
                // Sent: the form (kept through re-renders) starts empty again.
                if let Ok(Some(field)) = form.query_selector("textarea") {
                    field.unchecked_into::<web_sys::HtmlTextAreaElement>().set_value("");
                }
            }
        });
    });
}

/// Sends a reply, a mark or a curation step to the worker; a refusal is shown in `problem`
/// and returned. The panel re-renders when the worker says tips changed.
async fn add(request: PageRequest, problem: Option<Element>) -> Option<String> {
    send_and_see(to_js(&request), problem).await
}

/// Sends a request whose answer is a saved tip; what this panel saved itself is shown in
/// place, not held back as news (a tip taken back to "only me" has a new id).
async fn send_and_see(request: JsValue, problem: Option<Element>) -> Option<String> {
    let answer = chrome::runtime_send_message(&request).await;
    let field = |value: &JsValue, name: &str| js_sys::Reflect::get(value, &JsValue::from_str(name)).ok();
    let message = match &answer {
        Ok(value) if field(value, "type").and_then(|t| t.as_string()).as_deref() == Some("saved") => {
            let id = field(value, "tip")
                .and_then(|tip| field(&tip, "id"))
                .and_then(|id| id.as_string())
                .and_then(|id| id.parse::<TipId>().ok());
            if let Some(id) = id {
                PANEL.with(|p| p.borrow_mut().seen.insert(id));
            }
            None
        }
        Ok(value) => {
            Some(field(value, "message").and_then(|m| m.as_string()).unwrap_or_else(|| "Not saved.".to_owned()))
        }
        Err(_) => Some("Inflow's worker did not answer; nothing was saved.".to_owned()),
    };
    if let (Some(problem), Some(message)) = (problem, &message) {
        problem.set_text_content(Some(message));
    }
    message
}

/// A date (or date and time) in the user's locale. One formatter each, made once: a
/// `toLocale…String` call builds a new one every time, which dominated re-rendering.
fn format_time(unix_ms: i64, with_time: bool) -> String {
    thread_local! {
        static FORMATS: [js_sys::Function; 2] = {
            let make = |options: serde_json::Value| {
                js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &to_js(&options).unchecked_into()).format()
            };
            [make(json!({ "dateStyle": "short" })), make(json!({ "dateStyle": "short", "timeStyle": "short" }))]
        };
    }
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms as f64));
    FORMATS.with(|formats| {
        formats[usize::from(with_time)]
            .call1(&JsValue::NULL, &date)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    })
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
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
        list.set_text_content(None);
        note.set_text_content(Some(
            "Inflow is not working on this tab's page. Open a page of a site switched on in the options.",
        ));
        return;
    };
    PANEL.with(|p| {
        let panel = p.borrow();
        let find = |id: &TipId| panel.tips.iter().find(|t| t.id == *id);
        let groups: [(&[TipId], &str, bool); 4] =
            [(&screen.placed, "On this page", true), (&screen.elements, "Pinned here", true), (&screen.unplaced, "Needs review", false), (&screen.missing_elements, "Needs review", false)];
        let mut count = 0;
        keeping_drafts(&list, || {
            list.set_text_content(None);
            for (ids, badge, revealable) in groups {
                for tip in ids.iter().filter_map(find) {
                    let _ = list.append_child(&tip_item(tip, Some(badge), if revealable { tab } else { None }, &panel));
                    count += 1;
                }
            }
            // About other records: folded away, so that they neither crowd nor alarm.
            let others: Vec<&Tip> = screen.other_records.iter().filter_map(find).collect();
            if !others.is_empty() {
                let (item, details, inner) = (element("li", ""), element("details", ""), element("ol", ""));
                item.set_class_name("other-records");
                inner.set_class_name("tips");
                let summary = match others.len() {
                    1 => "1 tip for this screen is about another record".to_owned(),
                    n => format!("{n} tips for this screen are about other records"),
                };
                let _ = details.append_child(&element("summary", &summary));
                for tip in others {
                    let _ = inner.append_child(&tip_item(tip, Some("Another record"), None, &panel));
                }
                let _ = details.append_child(&inner);
                let _ = item.append_child(&details);
                let _ = list.append_child(&item);
                count += 1;
            }
        });
        let text = match count {
            0 => "No tips for this screen yet.".to_owned(),
            _ if screen.unplaced.is_empty() && screen.missing_elements.is_empty() => String::new(),
            _ => "Tips marked \u{201c}Needs review\u{201d} are gone from the page they were written on, or could not be placed there with confidence: the app may have changed.".to_owned(),
        };
        note.set_text_content(Some(&text));
    });
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

/// The one-line sync state at the top: online or not, what waits, what went wrong.
fn show_sync_line(status: &Option<SyncStatus>) {
    let line: HtmlElement = by_id("sync-line");
    let text = match status {
        None => "Inflow's worker did not answer.".to_owned(),
        Some(s) if !s.configured => {
            "Not connected to a team server: tips stay on this device. Connect in Options.".to_owned()
        }
        Some(s) => {
            let team = s
                .membership
                .as_ref()
                .map_or_else(|| "your team".to_owned(), |m| format!("{} as {}", m.team_name, m.name));
            let waiting = match s.pending {
                0 => String::new(),
                1 => " · 1 change waiting to send".to_owned(),
                n => format!(" · {n} changes waiting to send"),
            };
            match &s.last_error {
                Some(problem) => format!("Offline{waiting}. {problem}"),
                None => format!("Online: {team}{waiting}"),
            }
        }
    };
    line.set_text_content(Some(&text));
}

/// Keeps the team's event stream open while the panel is, and pulls on every change.
/// EventSource cannot send the token, so the stream is read from a fetch.
async fn follow_event_stream() {
    loop {
        let Ok(store) = IdbStore::open(DATABASE).await else { return };
        let connection = sync_client::connection(&store).await;
        drop(store);
        if let (true, Ok(base)) = (connection.is_set(), connection.base_url()) {
            if let Err(why) = read_events(&base, &connection.token).await {
                web_sys::console::debug_1(&JsValue::from_str(&format!("Inflow's event stream ended: {why}")));
            }
        }
        gloo::timers::future::TimeoutFuture::new(STREAM_RETRY_MS).await;
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
    let body = response.body().ok_or("no body")?;
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let decoder = web_sys::TextDecoder::new().map_err(|_| "no TextDecoder")?;
    let mut buffer = String::new();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read()).await.map_err(|e| format!("{e:?}"))?;
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
