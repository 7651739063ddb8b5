//! Inflow's window inside web pages (`extension/tipframe.html`): the capture form, the tip
//! card and the hover peek. It is an extension page in a frame that the content script puts
//! in its closed shadow root, so a tip's text, the keys typed into the form and the focus
//! are in the extension's origin, never in the page's document, where the page's scripts
//! (analytics, session replay) would read them.
//!
//! The content script and this frame talk over a private port (`FrameCommand` in,
//! `FrameEvent` out, see [`crate::messages`]); the content script learns no tip content
//! from it. Cards are the side panel's tip view ([`crate::tip_view`]); their tips come from
//! the worker by id ([`PageRequest::Tips`]): a frame inside a web page is a third-party
//! context, whose storage the browser partitions or denies, so it cannot open the store.
//! Replies, helpful marks, edits and deletes go to the worker as the panel sends them.

use std::cell::RefCell;
use std::collections::HashSet;

use inflow_core::redact::PageIdentifier;
use inflow_core::sharing::AuthorChoices;
use inflow_core::{Tip, TipId, Visibility};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlSelectElement, HtmlTextAreaElement};

use crate::capture_preview;
use crate::chrome::{self, to_js};
use crate::dom::{by_id, document, element, input, on, spawn};
use crate::messages::{FrameCommand, FrameEvent, PageRequest, PreviewText};
use crate::tip_view::{self, Row, TipContext, TipHost};
use crate::walkthrough::{Go, Step};

/// The longest note the worker takes; shown here as a counter only (the worker enforces it).
const MAX_NOTE_CHARS: usize = 10_000;
/// The peek shows this much of a note.
const PEEK_CHARS: usize = 90;

/// What the frame shows now.
#[derive(Default, Clone, Copy, PartialEq)]
enum Showing {
    #[default]
    Nothing,
    Capture,
    Card,
    Peek,
}

#[derive(Default)]
struct Frame {
    /// Posts a [`FrameEvent`] to the content script (the port, held by tipframe.js).
    post: Option<js_sys::Function>,
    showing: Showing,
    /// The tips of the open card, in the order the page gave them.
    card_ids: Vec<TipId>,
    /// Those tips as the store holds them now.
    tips: Vec<Tip>,
    me: String,
    waiting: HashSet<TipId>,
    open_replies: HashSet<TipId>,
    /// A save is on its way to the worker: a second Ctrl+Enter must not send it twice.
    saving: bool,
    /// What the open form previews of a shared tip, and what the author chose there.
    preview: PreviewInput,
    choices: AuthorChoices,
    /// The words last selected in the preview or the note: what "Hide selected words" hides.
    selected_words: String,
    /// Bumped on every preview asked for: a late answer for older typing is dropped.
    preview_generation: u64,
    /// The walkthrough step the open card is, if it is one.
    step: Option<Step>,
}

/// What the content script sent for the form's preview.
#[derive(Default)]
struct PreviewInput {
    title: String,
    quote: String,
    prefix: String,
    suffix: String,
    identifiers: Vec<PageIdentifier>,
}

thread_local! {
    static FRAME: RefCell<Frame> = RefCell::new(Frame::default());
}

fn post(event: &FrameEvent) {
    let post = FRAME.with(|f| f.borrow().post.clone());
    if let Some(post) = post {
        let _ = post.call1(&JsValue::NULL, &to_js(event));
    }
}

/// The frame's side of the shared tip view: its tips are the open card's.
struct CardTips;

impl TipHost for CardTips {
    fn tip(&self, id: TipId) -> Option<Tip> {
        FRAME.with(|f| f.borrow().tips.iter().find(|t| t.id == id).cloned())
    }

    fn replies_toggled(&self, id: TipId, open: bool) {
        FRAME.with(|f| tip_view::note_replies(&mut f.borrow_mut().open_replies, id, open));
        report_size();
    }

    fn rerender(&self) {
        render_card();
    }

    fn resized(&self) {
        report_size();
    }

    fn saved(&self, id: TipId) {
        // A tip taken back to "only me" is kept under a new id: the card follows it.
        FRAME.with(|f| {
            let mut frame = f.borrow_mut();
            if !frame.card_ids.contains(&id) {
                frame.card_ids.push(id);
            }
        });
    }
}

/// Starts the frame. `post` sends a [`FrameEvent`] to the content script. Resolves to the
/// "ready" event, which tipframe.js sends once the port is there.
#[wasm_bindgen(js_name = tipFrame)]
pub async fn tip_frame(post: js_sys::Function) -> Result<JsValue, JsValue> {
    FRAME.with(|f| f.borrow_mut().post = Some(post));
    tip_view::listen(&CardTips);
    wire_capture_form();
    wire_card();
    // Escape closes whatever is open, from anywhere in the frame, and the content script
    // gives the focus back to where it was in the page.
    on(&document().into(), "keydown", |event| {
        let Some(key) = event.dyn_ref::<web_sys::KeyboardEvent>() else { return };
        if key.key() == "Escape" {
            event.prevent_default();
            if FRAME.with(|f| f.borrow().step.is_some()) {
                spawn(walk(Go::Exit)); // Escape leaves a walkthrough, as its Exit does
            } else {
                close();
            }
        }
    });
    // The content script focuses the frame once it is placed; the view's first field (or
    // the card) takes the focus then, if nothing in the frame has it.
    if let Some(window) = web_sys::window() {
        on(&window.into(), "focus", |_| {
            let idle = document().active_element().is_none_or(|a| a.tag_name() == "BODY");
            if idle {
                focus_view();
            }
        });
    }
    // A frame shown a moment ago may not have been laid out when its view was filled (the
    // page's process shows it, this one renders it): measure again whenever it is resized.
    if let Some(window) = web_sys::window() {
        on(&window.into(), "resize", |_| report_size());
    }
    // Replies, marks and edits come back as "tips changed": show them in the open card.
    let on_message = Closure::<dyn FnMut(JsValue)>::new(|message: JsValue| {
        let kind = js_sys::Reflect::get(&message, &JsValue::from_str("type")).ok().and_then(|t| t.as_string());
        if kind.as_deref() == Some("tipsChanged") && FRAME.with(|f| f.borrow().showing) == Showing::Card {
            spawn(load_card());
        }
    });
    chrome::on_runtime_message(on_message.as_ref().unchecked_ref());
    on_message.forget();
    by_id::<HtmlElement>("frame").set_attribute("aria-busy", "false")?;
    Ok(to_js(&FrameEvent::FrameReady))
}

/// A message from the content script.
#[wasm_bindgen(js_name = frameReceive)]
pub fn frame_receive(message: JsValue) {
    let Ok(command) = serde_wasm_bindgen::from_value::<FrameCommand>(message) else { return };
    match command {
        FrameCommand::ShowCapture { quote, title, prefix, suffix, identifiers } => {
            show_capture(PreviewInput { title, quote, prefix, suffix, identifiers })
        }
        FrameCommand::CaptureRefused { message } => {
            FRAME.with(|f| f.borrow_mut().saving = false);
            by_id::<HtmlElement>("capture-error").set_text_content(Some(&inflow_core::export::inert(&message)));
            set_disabled("capture-save", false);
            report_size();
        }
        FrameCommand::ShowTips { tip_ids, step } => {
            render_step(step.as_ref());
            FRAME.with(|f| {
                let mut frame = f.borrow_mut();
                frame.card_ids = tip_ids;
                frame.open_replies.clear();
                frame.step = step;
            });
            // The card shows once its tips are in (never the last card's for a moment).
            by_id::<HtmlElement>("undo-line").set_hidden(true);
            spawn(async {
                load_card().await;
                show(Showing::Card);
                report_size();
                focus_view();
            });
        }
        FrameCommand::Peek { tip_ids } => spawn(peek(tip_ids)),
    }
}

/// Shows one of the frame's views and hides the others.
fn show(what: Showing) {
    FRAME.with(|f| f.borrow_mut().showing = what);
    by_id::<HtmlElement>("capture").set_hidden(what != Showing::Capture);
    by_id::<HtmlElement>("card").set_hidden(what != Showing::Card);
    by_id::<HtmlElement>("peek").set_hidden(what != Showing::Peek);
}

/// Puts the focus where the open view wants it: the note of the form, the card itself (so
/// the keyboard is in it at once).
fn focus_view() {
    let _ = match FRAME.with(|f| f.borrow().showing) {
        Showing::Capture => note_field().focus(),
        Showing::Card => by_id::<HtmlElement>("card").focus(),
        Showing::Peek | Showing::Nothing => Ok(()),
    };
}

fn close() {
    if FRAME.with(|f| f.borrow().showing) == Showing::Nothing {
        return;
    }
    show(Showing::Nothing);
    post(&FrameEvent::FrameClosed);
}

/// Tells the content script how much room the open view needs.
fn report_size() {
    let shown = ["capture", "card", "peek"].into_iter().map(by_id::<HtmlElement>).find(|view| !view.hidden());
    let Some(view) = shown else { return };
    if view.offset_height() == 0 {
        // Not laid out yet (the page's process shows the frame, this one renders it): look
        // again in a moment, and on the resize that lays it out.
        spawn(async {
            gloo::timers::future::TimeoutFuture::new(20).await;
            report_size();
        });
        return;
    }
    // The view's natural size (the frame may be 1px high while it is measured).
    let height = f64::from(view.offset_height()) + 2.0;
    let width = if view.id() == "peek" { f64::from(view.offset_width()) + 2.0 } else { 360.0 };
    post(&FrameEvent::FrameSize { width, height });
}

// ---- The capture form ------------------------------------------------------------------

fn show_capture(preview: PreviewInput) {
    by_id::<HtmlElement>("capture-quote").set_text_content(Some(&inflow_core::export::inert(&preview.quote)));
    FRAME.with(|f| {
        let mut frame = f.borrow_mut();
        frame.saving = false;
        frame.preview = preview;
        frame.choices = AuthorChoices::default();
        frame.selected_words.clear();
    });
    note_field().set_value("");
    input("capture-tags").set_value("");
    by_id::<HtmlElement>("capture-error").set_text_content(None);
    set_disabled("capture-save", false);
    update_count();
    show(Showing::Capture);
    render_preview();
    focus_view();
}

/// Shows a shared tip as teammates will read it (nothing for a private one): every
/// identifier replaced, a likely one as a button that keeps it as written, words the
/// author hid as a button that shows them again. The worker, which holds the redactor,
/// makes the pieces; an answer overtaken by newer typing is dropped.
fn render_preview() {
    let shared = by_id::<HtmlSelectElement>("capture-visibility").value() == "team";
    by_id::<HtmlElement>("capture-preview").set_hidden(!shared);
    if !shared {
        report_size();
        return;
    }
    let (request, generation) = FRAME.with(|f| {
        let mut frame = f.borrow_mut();
        frame.preview_generation += 1;
        let shown = &frame.preview;
        let text = |text: String, cut: bool| PreviewText { text, cut };
        let texts = vec![
            text(shown.title.clone(), false),
            text(shown.prefix.clone(), true),
            text(shown.quote.clone(), false),
            text(shown.suffix.clone(), true),
            text(note_field().value(), false),
            text(input("capture-tags").value(), false),
        ];
        let request =
            PageRequest::SharePreview { texts, identifiers: shown.identifiers.clone(), choices: frame.choices.clone() };
        (request, frame.preview_generation)
    });
    spawn(async move {
        let answer = chrome::runtime_send_message(&to_js(&request)).await.ok();
        if FRAME.with(|f| f.borrow().preview_generation) != generation {
            return;
        }
        tip_view::show_preview(answer, |id| document().get_element_by_id(id));
        report_size();
    });
}

fn note_field() -> HtmlTextAreaElement {
    by_id("capture-note")
}

fn set_disabled(id: &str, disabled: bool) {
    let _ = by_id::<HtmlElement>(id).toggle_attribute_with_force("disabled", disabled);
}

fn update_count() {
    let chars = note_field().value().chars().count();
    let count: HtmlElement = by_id("capture-count");
    let number = |n: usize| js_sys::Number::from(n as f64).to_locale_string("default").as_string().unwrap_or_default();
    count.set_text_content(Some(&format!("{} / {} characters", number(chars), number(MAX_NOTE_CHARS))));
    let _ = count.class_list().toggle_with_force("over", chars > MAX_NOTE_CHARS);
}

fn wire_capture_form() {
    on(&note_field().into(), "input", |_| {
        update_count();
        render_preview();
    });
    on(&input("capture-tags").into(), "input", |_| render_preview());
    on(&by_id::<web_sys::EventTarget>("capture-visibility"), "change", |_| render_preview());
    // The author keeps a likely identifier, or shows words they hid, from the preview.
    on(&by_id::<web_sys::EventTarget>("capture-preview"), "click", |event| {
        let Some(target) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        let Ok(Some(button)) = target.closest("[data-keep], [data-unhide]") else { return };
        FRAME.with(|f| {
            let choices = &mut f.borrow_mut().choices;
            if let Some(original) = button.get_attribute("data-keep") {
                capture_preview::toggle_keep(choices, &original);
            } else if let Some(words) = button.get_attribute("data-unhide") {
                capture_preview::toggle_hide(choices, &words);
            }
        });
        render_preview();
    });
    // "Hide selected words": the words last selected in the preview or in the note (the
    // button's own click may clear the selection, so it is kept as it changes).
    on(&document().into(), "selectionchange", |_| {
        let words = selected_words();
        if !words.trim().is_empty() {
            FRAME.with(|f| f.borrow_mut().selected_words = words);
        }
    });
    on(&by_id::<web_sys::EventTarget>("preview-hide"), "click", |_| {
        let hidden = FRAME.with(|f| {
            let mut frame = f.borrow_mut();
            let words = std::mem::take(&mut frame.selected_words);
            let words = words.trim();
            if words.is_empty() || frame.choices.hide.iter().any(|h| h.eq_ignore_ascii_case(words)) {
                return false;
            }
            capture_preview::toggle_hide(&mut frame.choices, words);
            true
        });
        if hidden {
            render_preview();
        } else {
            by_id::<HtmlElement>("preview-count")
                .set_text_content(Some("Select the words to hide in the preview or the note first."));
        }
    });
    on(&by_id::<web_sys::EventTarget>("capture"), "submit", |event| {
        event.prevent_default();
        save_capture();
    });
    on(&by_id::<web_sys::EventTarget>("capture"), "keydown", |event| {
        let Some(key) = event.dyn_ref::<web_sys::KeyboardEvent>() else { return };
        if key.key() == "Enter" && (key.ctrl_key() || key.meta_key()) {
            event.prevent_default();
            save_capture();
        }
    });
    on(&by_id::<web_sys::EventTarget>("capture-cancel"), "click", |_| close());
}

fn save_capture() {
    if FRAME.with(|f| std::mem::replace(&mut f.borrow_mut().saving, true)) {
        return;
    }
    set_disabled("capture-save", true);
    by_id::<HtmlElement>("capture-error").set_text_content(None);
    let tags =
        input("capture-tags").value().split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    let visibility = if by_id::<HtmlSelectElement>("capture-visibility").value() == "team" {
        Visibility::Team
    } else {
        Visibility::Private
    };
    // The content script adds the selection it holds and asks the worker; the worker's
    // refusal comes back as `CaptureRefused`, with everything typed still here.
    let choices = FRAME.with(|f| f.borrow().choices.clone());
    post(&FrameEvent::SaveCapture { note: note_field().value(), tags, visibility, choices });
}

/// The text selected in the preview, or in the note field.
fn selected_words() -> String {
    let note = note_field();
    let in_note = document().active_element().is_some_and(|a| a.id() == "capture-note");
    // With nothing selected in the note, the words may be chosen in the preview while the
    // focus stays in the note.
    if let (true, Ok(Some(start)), Ok(Some(end))) = (in_note, note.selection_start(), note.selection_end()) {
        let value: Vec<u16> = note.value().encode_utf16().collect();
        let (start, end) = (start as usize, (end as usize).min(value.len()));
        if start < end {
            return String::from_utf16_lossy(&value[start..end]);
        }
    }
    let Some(selection) = web_sys::window().and_then(|w| w.get_selection().ok().flatten()) else {
        return String::new();
    };
    let inside = selection
        .anchor_node()
        .and_then(|node| node.parent_element())
        .and_then(|parent| parent.closest("#capture-preview").ok().flatten())
        .is_some();
    if inside {
        selection.to_string().as_string().unwrap_or_default()
    } else {
        String::new()
    }
}

// ---- The card ----------------------------------------------------------------------------

fn wire_card() {
    on(&by_id::<web_sys::EventTarget>("card-close"), "click", |_| close());
    on(&by_id::<web_sys::EventTarget>("step-back"), "click", |_| spawn(walk(Go::Back)));
    on(&by_id::<web_sys::EventTarget>("step-next"), "click", |_| spawn(walk(Go::Next)));
    on(&by_id::<web_sys::EventTarget>("step-exit"), "click", |_| spawn(walk(Go::Exit)));
    on(&by_id::<web_sys::EventTarget>("open-panel"), "click", |_| {
        // Opening the side panel needs this click's user gesture: ask for the tab first would
        // lose it, so the window's panel is opened, which shows the active tab's screen.
        let Some(window_id) = FRAME_WINDOW.with(|w| w.get()) else {
            status("Open the side panel with Inflow's toolbar button.");
            return;
        };
        let opened = chrome::side_panel_open(&to_js(&serde_json::json!({ "windowId": window_id })));
        spawn(async move {
            if wasm_bindgen_futures::JsFuture::from(opened).await.is_err() {
                status("Open the side panel with Inflow's toolbar button.");
            }
        });
    });
    // Which window this frame's tab is in, asked ahead of the click that needs it.
    spawn(async {
        let Ok(tab) = chrome::tabs_get_current().await else { return };
        let window = js_sys::Reflect::get(&tab, &JsValue::from_str("windowId")).ok().and_then(|w| w.as_f64());
        FRAME_WINDOW.with(|w| w.set(window.map(|w| w as i32)));
    });
}

thread_local! {
    static FRAME_WINDOW: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

/// Shows (or, with none, hides) the walkthrough's part of the card: which step of how many,
/// where the step is when it is not here, and Back, Next (Skip, Finish) and Exit in place
/// of the card's own buttons.
fn render_step(step: Option<&Step>) {
    by_id::<HtmlElement>("step").set_hidden(step.is_none());
    by_id::<HtmlElement>("step-actions").set_hidden(step.is_none());
    by_id::<HtmlElement>("card-actions").set_hidden(step.is_some());
    let Some(step) = step else { return };
    let title = inflow_core::export::inert(&step.title);
    by_id::<HtmlElement>("step-of")
        .set_text_content(Some(&format!("Step {} of {} \u{b7} {title}", step.number, step.total)));
    let intro: HtmlElement = by_id("step-intro");
    intro.set_text_content(Some(&inflow_core::export::inert(&step.intro)));
    intro.set_hidden(step.intro.is_empty());
    let lost = step.here && !step.found;
    let where_ = if !step.here {
        format!(
            "This step is on another screen. Open: {}. The walkthrough goes on by itself when you get there.",
            inflow_core::export::inert(&step.screen)
        )
    } else if lost {
        "This step's text or control was not found on this screen; the app may have changed. Skip it, or exit."
            .to_owned()
    } else if step.advance_on_click && step.number < step.total {
        "Use this control to go on, or press Next.".to_owned()
    } else {
        String::new()
    };
    let place = by_id::<HtmlElement>("step-where");
    place.set_text_content(Some(&where_));
    place.set_hidden(where_.is_empty());
    let back: HtmlElement = by_id("step-back");
    let _ = back.toggle_attribute_with_force("disabled", step.number <= 1);
    let next = if step.number >= step.total {
        "Finish"
    } else if lost {
        "Skip"
    } else {
        "Next"
    };
    by_id::<HtmlElement>("step-next").set_text_content(Some(next));
}

/// Moves the walkthrough (the worker keeps its place and tells every page, whose content
/// script shows the step now due, here or elsewhere); leaving it closes the card.
async fn walk(go: Go) {
    let leaving = matches!(go, Go::Exit);
    let answer = chrome::runtime_send_message(&to_js(&PageRequest::Walkthrough { go })).await;
    let still = answer.ok().is_some_and(|a| !a.is_null() && !a.is_undefined());
    if leaving || !still {
        FRAME.with(|f| f.borrow_mut().step = None);
        render_step(None);
        close();
    }
}

fn status(text: &str) {
    by_id::<HtmlElement>("card-status").set_text_content(Some(text));
    report_size();
}

/// The worker's answer to [`PageRequest::Tips`] (`Response::Tips`).
#[derive(serde::Deserialize)]
struct CardTipsAnswer {
    tips: Vec<Tip>,
    me: String,
    waiting: Vec<TipId>,
}

/// Asks the worker for these tips as stored now.
async fn tips_from_worker(tip_ids: Vec<TipId>) -> Result<CardTipsAnswer, String> {
    let answer = chrome::runtime_send_message(&to_js(&PageRequest::Tips { tip_ids }))
        .await
        .map_err(|_| "Inflow's worker did not answer. Try again in a moment.".to_owned())?;
    serde_wasm_bindgen::from_value(answer.clone()).map_err(|_| {
        js_sys::Reflect::get(&answer, &JsValue::from_str("message"))
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| "Inflow could not read the tip.".to_owned())
    })
}

/// Reads the card's tips and renders them.
async fn load_card() {
    let ids = FRAME.with(|f| f.borrow().card_ids.clone());
    match tips_from_worker(ids).await {
        Ok(CardTipsAnswer { tips, me, waiting }) => {
            FRAME.with(|f| {
                let mut frame = f.borrow_mut();
                frame.tips = tips;
                frame.me = me;
                frame.waiting = waiting.into_iter().collect();
            });
            render_card();
        }
        Err(why) => {
            FRAME.with(|f| f.borrow_mut().tips.clear());
            by_id::<HtmlElement>("card-tips").set_text_content(None);
            status(&why);
        }
    }
}

fn render_card() {
    let list: HtmlElement = by_id("card-tips");
    FRAME.with(|f| {
        let frame = f.borrow();
        let cx = TipContext { me: &frame.me, waiting: &frame.waiting, open_replies: &frame.open_replies };
        let mut rows = Vec::new();
        if frame.tips.is_empty() {
            rows.push(Row::new("gone".to_owned(), 0, || element("li", "This tip is no longer on this device.")));
        }
        // (Ids the store no longer holds, such as a tip's old id after it was taken back to
        // "only me", are simply not shown.)
        for tip in &frame.tips {
            // (Open replies are not part of it: they are opened in the row, which is kept.)
            let shows = (&frame.me, frame.waiting.contains(&tip.id));
            let cx = &cx;
            let build = move || tip_view::tip_item(tip, tip_view::Listed::PLAIN, cx);
            rows.push(Row::new(tip.id.to_string(), tip_view::fingerprint((tip, shows)), build));
        }
        tip_view::update_keyed(&list, rows);
    });
    by_id::<HtmlElement>("card-status").set_text_content(None);
    report_size();
}

/// The peek: the start of the first tip's note, and how many more there are.
async fn peek(ids: Vec<TipId>) {
    let Some(first) = ids.first().copied() else { return };
    let Ok(answer) = tips_from_worker(vec![first]).await else { return };
    let Some(tip) = answer.tips.into_iter().next() else { return };
    if FRAME.with(|f| matches!(f.borrow().showing, Showing::Card | Showing::Capture)) {
        return; // a card or form opened meanwhile: it stays
    }
    let note = if tip.note.is_empty() { "(no note)".to_owned() } else { tip_view::shorten(&tip.note, PEEK_CHARS) };
    let more = match ids.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let peek: Element = by_id("peek");
    peek.set_text_content(Some(&inflow_core::export::inert(&format!("{note}{more} \u{b7} click to open"))));
    show(Showing::Peek);
    report_size();
}
