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

use inflow_core::sharing::AuthorChoices;

use crate::capture_preview;
use crate::chrome::{self, to_js};
use crate::dom::{append, by_id, el, element, on, spawn};
use crate::messages::{PageRequest, PanelCommand};
use crate::panel_model::TipAction;

/// What a page that shows tips tells the shared listeners.
pub trait TipHost {
    /// The tip with `id` as the page shows it now.
    fn tip(&self, id: TipId) -> Option<Tip>;
    /// The user opened or closed a tip's replies: they stay so through re-renders.
    fn replies_toggled(&self, id: TipId, open: bool);
    /// Render again (an inline form closed: the page may be smaller).
    fn rerender(&self);
    /// The page saved `id` itself: show it in place, it is no news to this user.
    fn saved(&self, id: TipId);
    /// Something shown grew or shrank in place (a preview filled in): a frame that sizes
    /// itself to its content measures again.
    fn resized(&self) {}
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
    /// The words last selected in an edit form's preview or note, and that form.
    static SELECTED_WORDS: RefCell<Option<(Element, String)>> = const { RefCell::new(None) };
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
    let verified = c.verified.as_ref().filter(|_| c.status == Status::Approved).map(|v| {
        let until = format_time(v.verify_by.unix_ms(), false);
        element("span", &format!(" verified by {} \u{b7} verify by {until}", v.by))
    });
    let line = el("p")
        .class("curation")
        .children(marks.into_iter().map(|(text, class)| el("span").text(text).class(class).build()))
        .child_opt(verified)
        .child_opt((!c.title.is_empty()).then(|| el("strong").text(&c.title).class("curated-title").build()));
    let line = match &c.needs_review {
        Some(flag) => line.attr("title", &inflow_core::export::inert(&flag.reason)),
        None => line,
    };
    Some(line.build())
}

/// The tip's curation history, folded: who did what, when.
pub fn history(tip: &Tip) -> Option<Element> {
    if tip.curation.history.is_empty() {
        return None;
    }
    let events = tip.curation.history.iter().rev().map(|event| {
        let when = format_time(event.at.unix_ms(), true);
        element("li", &format!("{when} \u{b7} {}: {}", event.by, event.what))
    });
    let details = el("details")
        .class("history")
        .child(element("summary", &format!("History ({})", tip.curation.history.len())))
        .child(el("ol").children(events).build());
    Some(details.build())
}

/// How a list shows a tip besides the tip itself: a badge saying why it is there ("On this
/// page", "Needs review"), the tab whose page can scroll to it ("Show on page"), and
/// whether it says which screen it belongs to, with "Go there" (the feed's items).
#[derive(Clone, Copy, Debug, Default, Hash, PartialEq, Eq)]
pub struct Listed<'a> {
    pub badge: Option<&'a str>,
    pub reveal_in: Option<i32>,
    pub place: bool,
}

impl Listed<'_> {
    /// No badge, no "Show on page": the queue, the frame's card (which is on its page).
    pub const PLAIN: Listed<'static> = Listed { badge: None, reveal_in: None, place: false };
    /// The team's feed: each tip says its screen and offers to go there.
    pub const FEED: Listed<'static> = Listed { badge: None, reveal_in: None, place: true };
}

/// The screen a tip belongs to, for people: its page's title and its address in words
/// ("Orders — Riverside EMR, on 127.0.0.1:8700 › patients › any record › orders").
pub fn place_of(tip: &Tip) -> String {
    let pattern = inflow_core::screen::screen_pattern(&tip.screen, &[]).unwrap_or_else(|_| tip.screen.clone());
    let words = inflow_core::export::screen_in_words(&pattern);
    if tip.page_title.trim().is_empty() {
        format!("On {words}")
    } else {
        format!("On \u{201c}{}\u{201d} ({words})", tip.page_title.trim())
    }
}

/// One tip: its note, the quoted text, who and when, what it is, and its replies and
/// helpful marks.
pub fn tip_item(tip: &Tip, listed: Listed, cx: &TipContext) -> Element {
    let Listed { badge, reveal_in, place } = listed;
    let review = badge == Some("Needs review");
    let mark = badge.map(|badge| el("span").text(badge).class(if review { "badge review" } else { "badge" }).build());
    let note = el("p").text(if tip.note.is_empty() { "Highlight (no note)" } else { &tip.note }).class("note");
    let target = tip
        .target
        .quote()
        .map(|q| format!("\u{201c}{}\u{201d}", shorten(q, 140)))
        .unwrap_or_else(|| "Pinned to a control".to_owned());
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
    let show_on_page = reveal_in.map(|tab| {
        el("button")
            .text("Show on page")
            .attr("type", "button")
            .class("secondary")
            .attr("aria-label", &inflow_core::export::inert(&format!("Show on page: {}", shorten(&tip.note, 60))))
            .attr("data-action", TipAction::Reveal.value())
            .attr("data-tab", &tab.to_string())
            .build()
    });
    let place = place.then(|| {
        el("p")
            .class("place")
            .child(element("span", &place_of(tip)))
            .child(
                el("button")
                    .text("Go there")
                    .attr("type", "button")
                    .class("link")
                    .attr("data-action", TipAction::GoThere.value())
                    .build(),
            )
            .build()
    });
    let own = if tip.author == cx.me { &[("Edit", TipAction::Edit), ("Delete", TipAction::Delete)][..] } else { &[] };
    let edit_and_delete = own.iter().map(|(label, action)| own_button(label, *action));
    el("li")
        .attr("data-tip", &tip.id.to_string())
        .attr_if(review, "class", "review")
        .child_opt(mark)
        .child_opt(badges(tip, now()))
        .child(note)
        .child(el("p").text(&target).class("quote"))
        .child(el("p").text(&meta).class("meta"))
        .child_opt(place)
        .child_opt(show_on_page)
        .child(helpful_button(tip, cx.me))
        .children(edit_and_delete)
        .child(replies(tip, cx.open_replies.contains(&tip.id)))
        .child_opt(history(tip))
        .build()
}

/// Takes the user to `tip`'s screen: the first open tab on it (in any window), else a new
/// tab on its address: the screen's, or the page the tip was made on when it kept one (a
/// private tip keeps its page); a shared screen of many records ("any record") has no one
/// address, so the user is told to open a record instead.
async fn go_to_screen(tip: &Tip) -> Result<(), String> {
    use inflow_core::screen::screen_pattern;
    #[derive(serde::Deserialize)]
    struct Tab {
        id: i32,
        #[serde(default)]
        url: Option<String>,
        #[serde(rename = "windowId")]
        window_id: i32,
    }
    let wanted = screen_pattern(&tip.screen, &[]).map_err(|e| e.to_string())?;
    let tabs = chrome::tabs_query(&to_js(&json!({}))).await.map_err(|e| crate::dom::js_text(&e))?;
    let tabs: Vec<Tab> = serde_wasm_bindgen::from_value(tabs).unwrap_or_default();
    let open = tabs
        .iter()
        .find(|tab| tab.url.as_deref().and_then(|url| screen_pattern(url, &[]).ok()).as_ref() == Some(&wanted));
    if let Some(tab) = open {
        chrome::tabs_update(tab.id, &to_js(&json!({ "active": true }))).await.map_err(|e| crate::dom::js_text(&e))?;
        let _ = chrome::windows_update(tab.window_id, &to_js(&json!({ "focused": true }))).await;
        return Ok(());
    }
    // Only a web page's address is opened (a teammate's tip could name anything else).
    let address = [wanted.as_str(), tip.target.source.as_str()]
        .into_iter()
        .find(|address| !address.contains('*') && (address.starts_with("https://") || address.starts_with("http://")));
    let Some(address) = address else {
        return Err("No tab is on this screen. Open any record’s screen: the tip shows there.".to_owned());
    };
    chrome::tabs_create(&to_js(&json!({ "url": address }))).await.map_err(|e| crate::dom::js_text(&e))?;
    Ok(())
}

/// Edit or Delete, on the author's own tip.
fn own_button(label: &str, action: TipAction) -> Element {
    el("button").text(label).attr("type", "button").class("secondary").attr("data-action", action.value()).build()
}

/// "Helpful" with its count; pressed when this member marked it.
fn helpful_button(tip: &Tip, me: &str) -> Element {
    let marked = tip.helpful.iter().any(|name| name == me);
    let label = if tip.helpful.is_empty() { "Helpful".to_owned() } else { format!("Helpful · {}", tip.helpful.len()) };
    el("button")
        .text(&label)
        .attr("type", "button")
        .class("secondary helpful")
        .attr("data-action", TipAction::Helpful.value())
        .attr("aria-pressed", if marked { "true" } else { "false" })
        .attr_if(
            !tip.helpful.is_empty(),
            "title",
            &inflow_core::export::inert(&format!("Helpful to {}", tip.helpful.join(", "))),
        )
        .build()
}

/// The replies, folded; the form to add one is built when they are opened. A tip without
/// replies gets a plain "Reply" button, which becomes this when pressed.
fn replies(tip: &Tip, open: bool) -> Element {
    if tip.replies.is_empty() && !open {
        return el("button")
            .text("Reply")
            .attr("type", "button")
            .class("link")
            .attr("data-action", TipAction::OpenReplies.value())
            .build();
    }
    let summary = match tip.replies.len() {
        0 => "Reply".to_owned(),
        1 => "1 reply".to_owned(),
        n => format!("{n} replies"),
    };
    let replies = tip.replies.iter().map(|reply| {
        let when = format_time(reply.created.unix_ms(), true);
        el("li")
            .child(el("p").text(&reply.text).class("note"))
            .child(el("p").text(&format!("{} · {when}", reply.author)).class("meta"))
            .build()
    });
    el("details")
        .class("replies")
        .child(element("summary", &summary))
        .child(el("ol").children(replies).build())
        .attr_if(open, "open", "")
        .child_opt(open.then(reply_form))
        .build()
}

/// The author's form to change a tip: note, tags, who sees it.
fn edit_form(tip: &Tip) -> Element {
    let n = NEXT_FIELD.with(|n| n.replace(n.get() + 1));
    let field = |tag: &str, label: &str, id: String| {
        (el("label").text(label).attr("for", &id).build(), el(tag).attr("id", &id))
    };
    let (note_label, note) = field("textarea", "Note", format!("edit-note-{n}"));
    // A textarea's text is its value, as typed: not made inert like displayed text.
    let note = note.attr("rows", "3").attr("maxlength", "10000").build();
    note.set_text_content(Some(&tip.note));
    let (tags_label, tags) = field("input", "Tags (comma separated)", format!("edit-tags-{n}"));
    let (who_label, who) = field("select", "Who sees it", format!("edit-visibility-{n}"));
    let options = [("team", "My team"), ("private", "Only me")].map(|(value, text)| {
        let chosen = (value == "team") == (tip.visibility == Visibility::Team);
        el("option").text(text).attr("value", value).attr_if(chosen, "selected", "").build()
    });
    el("form")
        .attr("data-action", TipAction::Edit.value())
        .children([note_label, note, tags_label])
        .child(tags.attr("value", &tip.tags.join(", ")).build())
        .child(who_label)
        .child(who.children(options).build())
        .child(share_preview())
        .child(el("button").text("Save changes").attr("type", "submit").build())
        .child(
            el("button")
                .text("Cancel")
                .attr("type", "button")
                .class("secondary")
                .attr("data-action", TipAction::CancelEdit.value())
                .build(),
        )
        .child(el("p").class("error").attr("role", "alert").build())
        .build()
}

/// Under the edit form of a tip that is, or is about to be, shared: what the team will read
/// once it is saved (the capture form's preview, for the share step of a private tip). The
/// worker makes the pieces ([`render_edit_preview`]); it shows while "Who sees it" is the team.
fn share_preview() -> Element {
    let row = |label: &str, class: &str| [el("dt").text(label).build(), el("dd").class(class).build()];
    el("section")
        .class("preview share-preview")
        .attr("hidden", "")
        .attr("aria-label", "What your team will see")
        .child(el("h3").text("What your team will see").build())
        .child(el("p").class("hint").text(PREVIEW_HINT).build())
        .child(
            el("dl")
                .children(row("Page", "preview-title"))
                .children(row("Quote", "preview-quote"))
                .children(row("Note", "preview-note"))
                .children(row("Tags", "preview-tags"))
                .build(),
        )
        .child(el("p").class("hint preview-count").attr("aria-live", "polite").build())
        .child(
            el("button")
                .text("Hide selected words")
                .attr("type", "button")
                .class("secondary")
                .attr("data-action", TipAction::HideWords.value())
                .build(),
        )
        .build()
}

/// How the preview explains itself (the capture form's says the same, in `tipframe.html`).
const PREVIEW_HINT: &str = "Patient identifiers are replaced before the tip leaves this computer. A dotted one \
    only looks like one: press it to keep it as written. To hide more, select words below and press \
    \u{201c}Hide selected words\u{201d}.";

/// A part of a previewed field: its class ("context", "quoted" or none) and its pieces.
pub type PreviewPart<'c> = (&'c str, Vec<capture_preview::Piece>);

/// Draws previewed pieces into `field`: every identifier replaced, a likely one as a button
/// that keeps it as written (`data-keep`), words the author hid as a button that shows them
/// again (`data-unhide`), the page's own values and patterns as a mark that cannot be undone.
pub fn fill_preview(field: &Element, groups: &[PreviewPart<'_>]) {
    use capture_preview::Piece;
    field.set_text_content(None);
    for (class, pieces) in groups {
        let group = el("span").class(class);
        let nodes = pieces.iter().map(|piece| match piece {
            Piece::Text { text } => el("span").text(text),
            Piece::Replaced { kind, original, undoable: true, .. } => el("button")
                .attr("type", "button")
                .class("redacted likely")
                .attr("data-keep", original)
                .attr("title", &format!("Looks like {}: press to keep it as written", kind.describe()))
                .text(kind.placeholder()),
            Piece::Replaced { kind, original, hidden_by_author: true, .. } => el("button")
                .attr("type", "button")
                .class("redacted by-author")
                .attr("data-unhide", original)
                .attr("title", "You hid these words: press to show them again")
                .text(kind.placeholder()),
            Piece::Replaced { kind, .. } => el("mark")
                .class("redacted sure")
                .attr("title", &format!("{}: never shared", kind.describe()))
                .text(kind.placeholder()),
            Piece::Kept { original } => el("button")
                .attr("type", "button")
                .class("kept")
                .attr("data-keep", original)
                .attr("title", "Kept as written: press to replace it again")
                .text(original),
        });
        append(field, group.children(nodes).as_ref());
    }
}

/// What a preview says of how many identifiers it replaces.
pub fn preview_count_line(count: usize) -> String {
    match count {
        0 => "Nothing identifying found. Read it once more before sharing.".to_owned(),
        1 => "1 identifier will be replaced.".to_owned(),
        n => format!("{n} identifiers will be replaced."),
    }
}

/// Fills the four fields of a preview (under `preview`, by class or by id prefix `ids`)
/// from the six texts the worker answered: title, context before, quote, context after,
/// note, tags. Says so when the worker did not answer.
pub fn show_preview(answer: Option<JsValue>, field: impl Fn(&str) -> Option<Element>) {
    let pieces: Option<Vec<Vec<capture_preview::Piece>>> = answer.and_then(|a| serde_wasm_bindgen::from_value(a).ok());
    let Some([title, prefix, quote, suffix, note, tags]) = pieces.and_then(|p| <[_; 6]>::try_from(p).ok()) else {
        if let Some(count) = field("preview-count") {
            count.set_text_content(Some("Inflow's worker did not answer; the tip is still checked when you save."));
        }
        return;
    };
    let mut count = 0;
    let groups: [(&str, Vec<PreviewPart>); 4] = [
        ("preview-title", vec![("", title)]),
        ("preview-quote", vec![("context", prefix), ("quoted", quote), ("context", suffix)]),
        ("preview-note", vec![("", note)]),
        ("preview-tags", vec![("", tags)]),
    ];
    for (name, parts) in &groups {
        count += parts.iter().map(|(_, pieces)| capture_preview::replaced(pieces)).sum::<usize>();
        if let Some(element) = field(name) {
            fill_preview(&element, parts);
        }
    }
    if let Some(element) = field("preview-count") {
        element.set_text_content(Some(&preview_count_line(count)));
    }
}

/// The edit an edit form holds now.
fn edit_of(form: &Element) -> TipEdit {
    let value = |selector: &str| -> String {
        let Ok(Some(field)) = form.query_selector(selector) else { return String::new() };
        js_sys::Reflect::get(&field, &JsValue::from_str("value")).ok().and_then(|v| v.as_string()).unwrap_or_default()
    };
    let tags: Vec<String> = value("input").split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    let visibility = if value("select") == "private" { Visibility::Private } else { Visibility::Team };
    TipEdit { note: value("textarea"), tags, visibility }
}

/// What the author chose in an edit form's preview (kept on the form, which lives in the
/// extension's own page: the host page never sees it).
fn choices_of(form: &Element) -> AuthorChoices {
    form.get_attribute("data-choices").and_then(|c| serde_json::from_str(&c).ok()).unwrap_or_default()
}

fn set_choices(form: &Element, choices: &AuthorChoices) {
    if let Ok(text) = serde_json::to_string(choices) {
        let _ = form.set_attribute("data-choices", &text);
    }
}

/// Shows the edit form's preview while "Who sees it" is the team, as the worker makes it;
/// an answer overtaken by newer typing is dropped.
fn render_edit_preview(form: &Element, id: TipId) {
    let Ok(Some(preview)) = form.query_selector(".share-preview") else { return };
    let edit = edit_of(form);
    let shared = edit.visibility == Visibility::Team;
    let _ = preview.toggle_attribute_with_force("hidden", !shared);
    if !shared {
        if let Some(host) = host() {
            host.resized();
        }
        return;
    }
    let generation = form.get_attribute("data-generation").and_then(|g| g.parse::<u64>().ok()).unwrap_or(0) + 1;
    let _ = form.set_attribute("data-generation", &generation.to_string());
    let request = PageRequest::EditPreview { tip_id: id, edit, choices: choices_of(form) };
    let form = form.clone();
    spawn(async move {
        let answer = chrome::runtime_send_message(&to_js(&request)).await.ok();
        if form.get_attribute("data-generation") != Some(generation.to_string()) {
            return;
        }
        show_preview(answer, |class| preview.query_selector(&format!(".{class}")).ok().flatten());
        if let Some(host) = host() {
            host.resized();
        }
    });
}

/// The words last selected in an edit form's preview or note: what its "Hide selected
/// words" hides (the button's own click may clear the selection, so it is kept as it changes).
fn selected_in_edit_form() -> Option<(Element, String)> {
    let document = crate::dom::document();
    // Words selected in the note (a textarea's selection is not the document's); with none
    // there, the focus may still be in the note while the words are chosen in the preview.
    let note = document.active_element().and_then(|a| a.dyn_into::<web_sys::HtmlTextAreaElement>().ok());
    if let Some(note) = note {
        let form = note.closest("form").ok().flatten().filter(|f| action_of(f) == Some(TipAction::Edit));
        if let (Some(form), Ok(Some(start)), Ok(Some(end))) = (form, note.selection_start(), note.selection_end()) {
            let value: Vec<u16> = note.value().encode_utf16().collect();
            let (start, end) = (start as usize, (end as usize).min(value.len()));
            if start < end {
                return Some((form, String::from_utf16_lossy(&value[start..end])));
            }
        }
    }
    let selection = web_sys::window()?.get_selection().ok()??;
    let form = selection.anchor_node()?.parent_element()?.closest(".share-preview").ok()??.closest("form").ok()??;
    let words = selection.to_string().as_string().unwrap_or_default();
    (!words.trim().is_empty()).then_some((form, words))
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
    // The same tip can stand under "This screen" and in the feed: each form its own id.
    let field_id = format!("reply-field-{}", NEXT_FIELD.with(|n| n.replace(n.get() + 1)));
    el("form")
        .attr("data-action", TipAction::Reply.value())
        .child(el("label").text("Your reply").attr("for", &field_id).build())
        .child(el("textarea").attr("id", &field_id).attr("rows", "2").attr("maxlength", "10000").build())
        .child(el("button").text("Send reply").attr("type", "submit").build())
        .child(el("p").class("error").attr("role", "alert").build())
        .build()
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
        match button.get_attribute("data-action").as_deref().and_then(TipAction::parse) {
            Some(TipAction::Reveal) => {
                let Some(tab) = button.get_attribute("data-tab").and_then(|t| t.parse::<i32>().ok()) else { return };
                let message = to_js(&PanelCommand::Reveal { tip_id: id });
                spawn(async move {
                    let _ = chrome::tabs_send_message(tab, &message).await;
                });
            }
            Some(TipAction::GoThere) => {
                let Some(tip) = host.tip(id) else { return };
                spawn(async move {
                    if let Err(why) = go_to_screen(&tip).await {
                        let said = el("span").text(&why).class("hint").attr("role", "status").build();
                        let _ = button.replace_with_with_node_1(&said);
                    }
                });
            }
            Some(TipAction::OpenReplies) => {
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
            Some(TipAction::Helpful) => {
                let marked = button.get_attribute("aria-pressed").as_deref() == Some("true");
                spawn(async move {
                    add(PageRequest::Helpful { tip_id: id, helpful: !marked }, None).await;
                });
            }
            Some(TipAction::Edit) => {
                let tip = host.tip(id);
                if let Some(tip) = tip {
                    let form = edit_form(&tip);
                    let _ = button.replace_with_with_node_1(&form);
                    render_edit_preview(&form, id);
                    if let Some(field) =
                        form.query_selector("textarea").ok().flatten().and_then(|f| f.dyn_into::<HtmlElement>().ok())
                    {
                        let _ = field.focus();
                    }
                }
            }
            Some(TipAction::CancelEdit) => {
                if let Some(form) = button.closest("form").ok().flatten() {
                    // The Edit button comes back where the form was (a kept row is not
                    // rebuilt by the next render).
                    let _ = form.replace_with_with_node_1(&own_button("Edit", TipAction::Edit));
                    host.rerender();
                }
            }
            Some(TipAction::Delete) => spawn(delete_with_undo(id)),
            Some(TipAction::HideWords) => {
                let Some(form) = button.closest("form").ok().flatten() else { return };
                let words = SELECTED_WORDS.with(|w| w.borrow_mut().take()).filter(|(f, _)| *f == form).map(|(_, w)| w);
                let mut choices = choices_of(&form);
                let fresh = words
                    .as_deref()
                    .map(str::trim)
                    .filter(|w| !w.is_empty() && !choices.hide.iter().any(|h| h.eq_ignore_ascii_case(w)));
                match fresh {
                    Some(words) => {
                        capture_preview::toggle_hide(&mut choices, words);
                        set_choices(&form, &choices);
                        render_edit_preview(&form, id);
                    }
                    None => {
                        if let Ok(Some(count)) = form.query_selector(".preview-count") {
                            count.set_text_content(Some("Select the words to hide in the preview or the note first."));
                        }
                    }
                }
            }
            _ => {}
        }
    });
    // In an edit form's preview: keep a likely identifier as written, or show hidden words.
    on(&document, "click", move |event| {
        let Some(button) = target(&event)
            .and_then(|t| t.closest(".share-preview [data-keep], .share-preview [data-unhide]").ok().flatten())
        else {
            return;
        };
        let Some(form) = button.closest("form").ok().flatten() else { return };
        let Some((_, id)) = tip_of(&form) else { return };
        let mut choices = choices_of(&form);
        if let Some(original) = button.get_attribute("data-keep") {
            capture_preview::toggle_keep(&mut choices, &original);
        } else if let Some(words) = button.get_attribute("data-unhide") {
            capture_preview::toggle_hide(&mut choices, &words);
        }
        set_choices(&form, &choices);
        render_edit_preview(&form, id);
    });
    // Typing in an edit form, or choosing who sees it, previews the tip again.
    for kind in ["input", "change"] {
        on(&document, kind, move |event| {
            let Some(form) = target(&event).and_then(|t| t.closest("form").ok().flatten()) else { return };
            if action_of(&form) != Some(TipAction::Edit) {
                return;
            }
            if let Some((_, id)) = tip_of(&form) {
                render_edit_preview(&form, id);
            }
        });
    }
    on(&document, "selectionchange", |_| {
        if let Some(selected) = selected_in_edit_form() {
            SELECTED_WORDS.with(|w| *w.borrow_mut() = Some(selected));
        }
    });
    // `toggle` does not bubble; a capturing listener still sees it.
    let toggled = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let Some(details) = target(&event).filter(|t| t.tag_name() == "DETAILS") else { return };
        let Some((_, id)) = tip_of(&details) else { return };
        let open = details.has_attribute("open");
        if open && details.query_selector("form").ok().flatten().is_none() {
            append(&details, &reply_form());
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
        let Some(form) = target(&event).filter(|t| action_of(t) == Some(TipAction::Edit)) else {
            return;
        };
        event.prevent_default();
        let Some((_, id)) = tip_of(&form) else { return };
        let (edit, choices) = (edit_of(&form), choices_of(&form));
        let problem = form.query_selector(".error").ok().flatten();
        let form = form.clone();
        spawn(async move {
            if add(PageRequest::Edit { tip_id: id, edit, choices }, problem).await.is_none() {
                form.remove(); // saved: the panel re-renders with the new words
            }
        });
    });
    on(&document, "submit", move |event| {
        let Some(form) = target(&event).filter(|t| action_of(t) == Some(TipAction::Reply)) else {
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

/// What `element` does (its `data-action`).
pub fn action_of(element: &Element) -> Option<TipAction> {
    element.get_attribute("data-action").as_deref().and_then(TipAction::parse)
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

/// A fingerprint of what a row of a tip list shows: the tip itself and whatever else its
/// view depends on (the badge, who is looking, what waits...), or the fingerprints of the
/// rows a row holds. A row whose fingerprint did not change is kept as it is.
pub fn fingerprint(shows: impl std::hash::Hash) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    shows.hash(&mut hasher);
    hasher.finish()
}

/// A row of a keyed tip list: its key (unique in the list), the fingerprint of what it
/// shows, and how to build it when it is new or changed.
pub struct Row<'a> {
    pub key: String,
    pub print: u64,
    pub build: Box<dyn FnOnce() -> Element + 'a>,
}

impl<'a> Row<'a> {
    pub fn new(key: String, print: u64, build: impl FnOnce() -> Element + 'a) -> Row<'a> {
        Row { key, print, build: Box::new(build) }
    }
}

/// Updates `list` to hold `rows`, in order. A row whose key and fingerprint are unchanged
/// keeps its element, so what the user has open in it (a reply being typed, a curator's
/// form, an unfolded history) and the focus stay; a changed row is built anew in its
/// place, and the forms open in it are carried over with what was typed. Tips arriving
/// live must not wipe a draft.
pub fn update_keyed(list: &Element, rows: Vec<Row<'_>>) {
    if rows.is_empty() {
        list.set_text_content(None); // at once, not row by row (a search that finds nothing)
        return;
    }
    let wanted: HashSet<&str> = rows.iter().map(|row| row.key.as_str()).collect();
    let mut old_rows: std::collections::HashMap<String, Element> = std::collections::HashMap::new();
    let children = list.children();
    for child in (0..children.length()).filter_map(|i| children.item(i)).collect::<Vec<_>>() {
        match child.get_attribute("data-key") {
            Some(key) if wanted.contains(key.as_str()) && !old_rows.contains_key(&key) => {
                old_rows.insert(key, child);
            }
            _ => child.remove(), // gone, a duplicate, or not a row
        }
    }
    let mut cursor = list.first_element_child();
    for Row { key, print, build } in rows {
        let print = print.to_string();
        let old = old_rows.remove(&key);
        let row = match old {
            Some(old) if old.get_attribute("data-fingerprint").as_deref() == Some(print.as_str()) => old,
            old => {
                let fresh = build();
                crate::dom::set(&fresh, "data-key", &key);
                crate::dom::set(&fresh, "data-fingerprint", &print);
                if let Some(old) = old {
                    replace_keeping_drafts(&old, &fresh);
                    if cursor.as_ref() == Some(&old) {
                        cursor = Some(fresh.clone());
                    }
                }
                fresh
            }
        };
        if cursor.as_ref() == Some(&row) {
            cursor = row.next_element_sibling();
        } else {
            // Only rows out of place move (moving an element takes the focus out of it).
            let _ = list.insert_before(&row, cursor.as_ref().map(|c| c.unchecked_ref::<web_sys::Node>()));
        }
    }
    while let Some(extra) = cursor {
        cursor = extra.next_element_sibling();
        extra.remove();
    }
}

/// Puts `fresh` where `old` is, carrying over the forms the user has open in `old` (with
/// what was typed, and the focus if it was in one) and the folds they opened.
fn replace_keeping_drafts(old: &Element, fresh: &Element) {
    let focused = crate::dom::document().active_element();
    let had_focus = focused.as_ref().is_some_and(|f| old.contains(Some(f)));
    if let Ok(forms) = old.query_selector_all("form[data-action]") {
        for form in (0..forms.length()).filter_map(|i| forms.item(i)).filter_map(|n| n.dyn_into::<Element>().ok()) {
            let kind = form.get_attribute("data-action").unwrap_or_default();
            // Where the fresh row has the same form, or the button that opens it, or the
            // curation steps it opens under; else at its end: a draft is never dropped.
            let place = [format!("form[data-action=\"{kind}\"]"), format!("button[data-action=\"{kind}\"]")]
                .iter()
                .find_map(|selector| fresh.query_selector(selector).ok().flatten());
            let _ = match (place, fresh.query_selector(".curation-steps").ok().flatten()) {
                (Some(same), _) => same.replace_with_with_node_1(&form),
                (None, Some(bar)) => bar.after_with_node_1(&form),
                (None, None) => fresh.append_with_node_1(&form),
            };
        }
    }
    // A menu or a history the user opened stays open.
    for folded in ["details.more-steps", "details.history"] {
        let open_before = old.query_selector(&format!("{folded}[open]")).ok().flatten().is_some();
        if let Some(details) = fresh.query_selector(folded).ok().flatten().filter(|_| open_before) {
            crate::dom::set(&details, "open", "");
        }
    }
    let _ = old.replace_with_with_node_1(fresh);
    if had_focus {
        if let Some(focused) = focused.as_ref().and_then(|f| f.dyn_ref::<HtmlElement>()).filter(|f| f.is_connected()) {
            let _ = focused.focus();
        }
    }
}
