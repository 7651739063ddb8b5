//! One tip's view, shared by the side panel and the in-page tip frame (one view, not two):
//! note, quote, who and when, the curator's title and status, helpful, replies with a reply
//! box, and the author's edit and delete (with an undo). One set of delegated listeners
//! per page acts on every tip it shows; the page says where its tips are and how it
//! re-renders through [`TipHost`].

use std::cell::RefCell;
use std::collections::HashSet;

use inflow_core::curation::Status;
use inflow_core::{Timestamp, Tip, TipEdit, TipId, Visibility};
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use crate::chrome::{self, to_js};
use crate::dom::{by_id, element, on, spawn};
use crate::messages::{PageRequest, PanelCommand};

/// What a page that shows tips tells the shared listeners.
pub trait TipHost {
    /// The tip with `id` as the page shows it now.
    fn tip(&self, id: TipId) -> Option<Tip>;
    /// The user opened or closed a tip's replies: they stay so through re-renders.
    fn replies_toggled(&self, id: TipId, open: bool);
    /// Render again (an inline form was cancelled: its button comes back).
    fn rerender(&self);
    /// The page saved `id` itself: show it in place, it is no news to this user.
    fn saved(&self, id: TipId);
}

/// Notes that the user opened (`open`) or closed a tip's replies, for
/// [`TipHost::replies_toggled`].
pub fn note_replies(open_replies: &mut HashSet<TipId>, id: TipId, open: bool) {
    if open {
        open_replies.insert(id);
    } else {
        open_replies.remove(&id);
    }
}

/// What a tip's view depends on besides the tip.
pub struct TipContext<'a> {
    /// The name this member signs with: their own tips get Edit and Delete.
    pub me: &'a str,
    /// Tips with changes the server has not acknowledged yet.
    pub waiting: &'a HashSet<TipId>,
    /// Tips whose replies the user opened.
    pub open_replies: &'a HashSet<TipId>,
}

thread_local! {
    static NEXT_FIELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static HOST: RefCell<Option<&'static dyn TipHost>> = const { RefCell::new(None) };
}

fn host() -> Option<&'static dyn TipHost> {
    HOST.with(|h| *h.borrow())
}

pub fn now() -> Timestamp {
    Timestamp(js_sys::Date::now() as i64)
}

/// The curation badges of a tip: its status, a review flag, a verification that ran out,
/// and the curator's title.
pub fn badges(tip: &Tip, at: Timestamp) -> Option<Element> {
    let c = &tip.curation;
    let mut marks: Vec<(&str, &str)> = Vec::new();
    match c.status {
        Status::Proposed => marks.push(("Proposed", "badge proposed")),
        Status::Approved if c.is_due(at) => marks.push(("Due for review", "badge review")),
        Status::Approved => marks.push(("Approved", "badge approved")),
        Status::Retired => marks.push(("Retired", "badge retired")),
        Status::Shared => {}
    }
    if c.needs_review.is_some() {
        marks.push(("Needs review", "badge review"));
    }
    if marks.is_empty() && c.title.is_empty() {
        return None;
    }
    let line = element("p", "");
    line.set_class_name("curation");
    for (text, class) in marks {
        let badge = element("span", text);
        badge.set_class_name(class);
        let _ = line.append_child(&badge);
    }
    if let Some(flag) = &c.needs_review {
        let _ = line.set_attribute("title", &inflow_core::export::inert(&flag.reason));
    }
    if let Some(v) = c.verified.as_ref().filter(|_| c.status == Status::Approved) {
        let until = format_time(v.verify_by.unix_ms(), false);
        let _ = line.append_child(&element("span", &format!(" verified by {} \u{b7} verify by {until}", v.by)));
    }
    if !c.title.is_empty() {
        let title = element("strong", &c.title);
        title.set_class_name("curated-title");
        let _ = line.append_child(&title);
    }
    Some(line)
}

/// The tip's curation history, folded: who did what, when.
pub fn history(tip: &Tip) -> Option<Element> {
    if tip.curation.history.is_empty() {
        return None;
    }
    let details = element("details", "");
    details.set_class_name("history");
    let _ = details.append_child(&element("summary", &format!("Curation history ({})", tip.curation.history.len())));
    let list = element("ol", "");
    for event in tip.curation.history.iter().rev() {
        let when = format_time(event.at.unix_ms(), true);
        let _ = list.append_child(&element("li", &format!("{when} \u{b7} {}: {}", event.by, event.what)));
    }
    let _ = details.append_child(&list);
    Some(details)
}

/// One tip: its note, the quoted text, who and when, what it is, and its replies and
/// helpful marks.
pub fn tip_item(tip: &Tip, badge: Option<&str>, reveal: Option<i32>, cx: &TipContext) -> Element {
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
    if let Some(badges) = badges(tip, now()) {
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
    let who = match (tip.visibility, cx.waiting.contains(&tip.id)) {
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
        let _ = button.set_attribute(
            "aria-label",
            &inflow_core::export::inert(&format!("Show on page: {}", shorten(&tip.note, 60))),
        );
        let _ = button.set_attribute("data-action", "reveal");
        let _ = button.set_attribute("data-tab", &tab.to_string());
        let _ = item.append_child(&button);
    }
    let _ = item.append_child(&helpful_button(tip, cx.me));
    if tip.author == cx.me {
        for (label, action) in [("Edit", "edit"), ("Delete", "delete")] {
            let button = element("button", label);
            let _ = button.set_attribute("type", "button");
            button.set_class_name("secondary");
            let _ = button.set_attribute("data-action", action);
            let _ = item.append_child(&button);
        }
    }
    let _ = item.append_child(&replies(tip, cx.open_replies.contains(&tip.id)));
    if let Some(history) = history(tip) {
        let _ = item.append_child(&history);
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
        let _ = button
            .set_attribute("title", &inflow_core::export::inert(&format!("Helpful to {}", tip.helpful.join(", "))));
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
pub fn listen(host: &'static dyn TipHost) {
    HOST.with(|h| *h.borrow_mut() = Some(host));
    listen_to_undo();
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
                host.replies_toggled(id, true);
                let tip = host.tip(id);
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
                let tip = host.tip(id);
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
                    host.rerender();
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
        host.replies_toggled(id, open);
    });
    let _ = document.add_event_listener_with_callback_and_bool("toggle", toggled.as_ref().unchecked_ref(), true);
    toggled.forget(); // lives as long as the panel
                      // Ctrl+Enter (⌘+Enter) sends the form being typed in, as in the capture form.
    on(&document, "keydown", move |event| {
        let Some(key) = event.dyn_ref::<web_sys::KeyboardEvent>() else { return };
        if key.key() != "Enter" || !(key.ctrl_key() || key.meta_key()) {
            return;
        }
        let form = target(&event).and_then(|t| t.closest("li[data-tip] form[data-action]").ok().flatten());
        if let Some(form) = form.and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok()) {
            event.prevent_default();
            let _ = form.request_submit();
        }
    });
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
pub async fn add(request: PageRequest, problem: Option<Element>) -> Option<String> {
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
                if let Some(host) = host() {
                    host.saved(id);
                }
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
pub fn format_time(unix_ms: i64, with_time: bool) -> String {
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

pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

/// Re-renders a list of tips with `rebuild`, carrying over the forms the user has open in
/// it (a reply, a curator's title), with what was typed and the focus: tips arriving live
/// must not wipe a draft.
pub fn keeping_drafts(list: &HtmlElement, rebuild: impl FnOnce()) {
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
