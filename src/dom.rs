//! Small helpers for the extension's own pages (options, side panel, tip frame), which are built in
//! Rust: find elements, put text in them (always as text, never markup), listen.

use crate::messages::PageRequest;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, HtmlElement, HtmlInputElement};

pub fn document() -> Document {
    thread_local! {
        // Extension pages always have a window and a document; looked up once, since the
        // panel creates many elements per render.
        static DOCUMENT: Document = web_sys::window().and_then(|w| w.document()).unwrap_or_else(|| wasm_bindgen::throw_str("Inflow's page has no document"));
    }
    DOCUMENT.with(Document::clone)
}

/// The element with `id`, as `T`; a page without it is a build mistake, reported loudly.
pub fn by_id<T: JsCast>(id: &str) -> T {
    document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into::<T>().ok())
        .unwrap_or_else(|| wasm_bindgen::throw_str(&format!("Inflow's page lacks #{id}")))
}

pub fn input(id: &str) -> HtmlInputElement {
    by_id(id)
}

/// A new element with `text` as its content (see [`Builder::text`]).
pub fn element(tag: &str, text: &str) -> Element {
    el(tag).text(text).build()
}

/// An element being built, so that its class, attributes and children read as one
/// expression: `el("button").text("Edit").class("secondary").attr("data-action", "edit")`.
pub struct Builder(Element);

/// Starts building an element (see [`Builder`]).
pub fn el(tag: &str) -> Builder {
    Builder(document().create_element(tag).unwrap_or_else(|_| wasm_bindgen::throw_str("cannot create an element")))
}

impl Builder {
    /// Its text, as text, made inert as the exports make it ([`inflow_core::export::inert`]):
    /// a note's right-to-left override must not make it read differently from what it is.
    pub fn text(self, text: &str) -> Self {
        if !text.is_empty() {
            self.0.set_text_content(Some(&inflow_core::export::inert(text)));
        }
        self
    }

    /// Its class attribute (space-separated class names).
    pub fn class(self, class: &str) -> Self {
        self.0.set_class_name(class);
        self
    }

    pub fn attr(self, name: &str, value: &str) -> Self {
        set(&self.0, name, value);
        self
    }

    /// An attribute that only some elements get (`open`, `selected`, a title).
    pub fn attr_if(self, condition: bool, name: &str, value: &str) -> Self {
        if condition {
            set(&self.0, name, value);
        }
        self
    }

    pub fn child(self, child: impl AsRef<web_sys::Node>) -> Self {
        append(&self.0, child.as_ref());
        self
    }

    /// A child that only some elements have.
    pub fn child_opt(self, child: Option<impl AsRef<web_sys::Node>>) -> Self {
        if let Some(child) = child {
            append(&self.0, child.as_ref());
        }
        self
    }

    pub fn children<N: AsRef<web_sys::Node>>(self, children: impl IntoIterator<Item = N>) -> Self {
        for child in children {
            append(&self.0, child.as_ref());
        }
        self
    }

    pub fn build(self) -> Element {
        self.0
    }
}

/// A builder is a node already: a child can be given as one, unfinished.
impl AsRef<web_sys::Node> for Builder {
    fn as_ref(&self) -> &web_sys::Node {
        self.0.as_ref()
    }
}

impl From<Builder> for Element {
    fn from(builder: Builder) -> Element {
        builder.0
    }
}

/// Sets an attribute of an element that exists already.
pub fn set(element: &Element, name: &str, value: &str) {
    reported(element.set_attribute(name, value), "setting an attribute");
}

/// Appends a child to an element that exists already.
pub fn append(parent: &web_sys::Node, child: &web_sys::Node) {
    reported(parent.append_child(child).map(drop), "adding an element");
}

/// Setting an attribute fails only for a name that is not one, and appending only a node
/// that cannot go there: mistakes in Inflow's own code, never the user's. They are not
/// worth stopping the page for, but they are said on the console, in one place.
fn reported(result: Result<(), JsValue>, doing: &str) {
    if let Err(error) = result {
        web_sys::console::error_2(&JsValue::from_str(&format!("Inflow: {doing} failed")), &error);
    }
}

/// Sets a status line: its text and whether it reports a problem.
pub fn status(id: &str, text: &str, problem: bool) {
    let element: HtmlElement = by_id(id);
    element.set_text_content(Some(text));
    element.set_class_name(if problem {
        "error"
    } else if text.is_empty() {
        ""
    } else {
        "ok"
    });
}

/// Calls `handler` on every `event` at `target`, for as long as the page lives.
pub fn on(target: &web_sys::EventTarget, event: &str, handler: impl FnMut(web_sys::Event) + 'static) {
    let closure = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
    reported(target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref()), "listening");
    closure.forget(); // the page's listeners live as long as the page
}

/// Runs `action` when the form `id` is submitted, instead of the browser's submission.
pub fn on_submit<F: std::future::Future<Output = ()> + 'static>(id: &str, action: impl Fn() -> F + 'static) {
    on(&by_id::<web_sys::EventTarget>(id), "submit", move |event| {
        event.prevent_default();
        spawn(action());
    });
}

/// Runs `future` without blocking the event that started it.
pub fn spawn(future: impl std::future::Future<Output = ()> + 'static) {
    wasm_bindgen_futures::spawn_local(future);
}

/// Asks the worker where sync stands ([`PageRequest::SyncStatus`]), or to sync first
/// ([`PageRequest::SyncNow`]).
pub async fn ask_worker(request: PageRequest) -> Option<crate::messages::SyncStatus> {
    let answer = crate::chrome::runtime_send_message(&crate::chrome::to_js(&request)).await.ok()?;
    serde_wasm_bindgen::from_value(answer).ok()
}

/// A thrown JS value (an `Error`'s message, or a string) as text for people.
pub fn js_text(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| js_sys::Reflect::get(value, &JsValue::from_str("message")).ok().and_then(|m| m.as_string()))
        .unwrap_or_else(|| "unknown error".to_owned())
}
