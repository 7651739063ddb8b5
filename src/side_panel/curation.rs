//! The side panel's curation: badges and steps on each tip, the curator queue, collections
//! and tag renames (kept on the team's server), and exports, which are made here from this
//! device's tips with core's export rules and downloaded.
//!
//! The panel offers a step only to the roles core allows it ([`Action::allowed`]); the
//! server checks again.

use inflow_core::cmi5;
use inflow_core::curation::{default_verify_by, Action, Collection, Role, Status, Walkthrough, MAX_VERIFY_DAYS};
use inflow_core::export::{file_name, render, Format, Sheet};
use inflow_core::{Timestamp, Tip, TipId, Visibility};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlSelectElement};

use super::{render_feed, PANEL};
use crate::chrome;
use crate::dom::{append, by_id, document, el, element, input, on, on_submit, set, spawn, status};
use crate::idb_store::{IdbStore, DATABASE};
use crate::messages::PageRequest;
use crate::panel_model::{undo_steps, ExportWhat, Filter, OfferedStep, Show, TipAction};
use crate::sync_client;
use crate::tip_view::{action_of, now};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Tips the curator queue lists at most (the oldest waiting first).
const QUEUE_SIZE: usize = 50;

/// The steps this member may take on a shared tip, as buttons; for curators also "Edit
/// title" and "Add to collection".
pub fn actions(tip: &Tip, curator: bool, collections: &[Collection], at: Timestamp) -> Option<Element> {
    if tip.visibility != Visibility::Team {
        return None;
    }
    let c = &tip.curation;
    let mut steps: Vec<(OfferedStep, &str)> = Vec::new();
    if c.status == Status::Shared {
        steps.push((OfferedStep::Propose, "Suggest for training"));
    }
    if curator {
        if c.status != Status::Approved || c.is_due(at) {
            steps.push((OfferedStep::Approve, if c.status == Status::Approved { "Verify again" } else { "Approve" }));
        }
        if c.needs_review.is_some() {
            steps.push((OfferedStep::Unflag, "Clear review"));
        }
        if c.status != Status::Retired {
            steps.push((OfferedStep::Retire, "Retire"));
        }
        if c.status != Status::Shared {
            steps.push((OfferedStep::Reopen, "Back to shared"));
        }
        steps.push((OfferedStep::Reword, "Edit title"));
    }
    if steps.is_empty() {
        return None;
    }
    let button = |(step, label): (OfferedStep, &str)| {
        el("button")
            .text(label)
            .attr("type", "button")
            .class("secondary")
            .attr("data-action", TipAction::Curate.value())
            .attr("data-step", step.value())
            .build()
    };
    // One step in sight (a curator's approval, else the suggestion); the rest in one
    // compact menu, so a card at panel width is not a row of buttons.
    let first = steps.iter().position(|(step, _)| *step == OfferedStep::Approve).unwrap_or(0);
    let primary = button(steps.remove(first));
    let collect = (curator && !collections.is_empty()).then(|| {
        let options = collections.iter().map(|collection| {
            let already = collection.tips.contains(&tip.id);
            el("option")
                .text(&format!("{}{}", collection.name, if already { " (in it)" } else { "" }))
                .attr("value", &collection.id.to_string())
                .attr_if(already, "disabled", "")
                .build()
        });
        el("select")
            .attr("data-action", TipAction::Collect.value())
            .attr("aria-label", "Add to collection")
            .child(el("option").text("Add to collection…").attr("value", "").build())
            .children(options)
            .build()
    });
    let more = (!steps.is_empty() || collect.is_some()).then(|| {
        el("details")
            .class("more-steps")
            .child(element("summary", "More"))
            .children(steps.into_iter().map(button))
            .child_opt(collect)
            .build()
    });
    let bar = el("div").class("curation-steps").attr("role", "group").attr("aria-label", "Curation");
    Some(bar.child(primary).child_opt(more).build())
}

/// Move up, move down and remove, for a curator looking at a collection.
pub fn collection_controls() -> Element {
    let moves = [
        (TipAction::MoveUp, "Move up"),
        (TipAction::MoveDown, "Move down"),
        (TipAction::Uncollect, "Remove from collection"),
    ];
    el("div")
        .class("curation-steps")
        .attr("role", "group")
        .attr("aria-label", "Place in the collection")
        .children(moves.map(|(action, label)| {
            el("button")
                .text(label)
                .attr("type", "button")
                .class("secondary")
                .attr("data-action", action.value())
                .build()
        }))
        .build()
}

/// Approval asks for the date to verify the tip again by (in 90 days unless changed).
fn approve_form(tip: &Tip) -> Element {
    let field_id = format!("verify-by-{}", tip.id);
    let date = el("input")
        .attr("type", "date")
        .attr("id", &field_id)
        .attr("name", "verify-by")
        .attr("required", "")
        .attr("value", &default_verify_by(now()).day())
        .attr("min", &Timestamp(now().unix_ms() + DAY_MS).day())
        .attr("max", &Timestamp(now().unix_ms() + (MAX_VERIFY_DAYS - 1) * DAY_MS).day());
    el("form")
        .attr("data-action", TipAction::Approve.value())
        .child(el("label").text("Verify again by").attr("for", &field_id).build())
        .child(date.build())
        .child(el("button").text("Confirm approval").attr("type", "submit").build())
        .build()
}

fn reword_form(tip: &Tip) -> Element {
    let (title_id, summary_id) = (format!("title-{}", tip.id), format!("summary-{}", tip.id));
    el("form")
        .attr("data-action", TipAction::Reword.value())
        .child(el("label").text("Title").attr("for", &title_id).build())
        .child(
            el("input")
                .attr("id", &title_id)
                .attr("name", "title")
                .attr("maxlength", "500")
                .attr("value", &tip.curation.title)
                .build(),
        )
        .child(el("label").text("Summary (the author's note stays as written)").attr("for", &summary_id).build())
        .child(
            el("textarea")
                .text(&tip.curation.summary)
                .attr("id", &summary_id)
                .attr("name", "summary")
                .attr("rows", "2")
                .attr("maxlength", "2000")
                .build(),
        )
        .child(el("button").text("Save title").attr("type", "submit").build())
        .build()
}

/// The curator queue: proposed, flagged and due tips, the longest waiting first.
pub fn render_queue() {
    let section: HtmlElement = by_id("queue-section");
    PANEL.with(|p| {
        let panel = p.borrow();
        section.set_hidden(!panel.curator);
        let jump_line: HtmlElement = by_id("queue-jump-line");
        if !panel.curator {
            jump_line.set_hidden(true);
            return;
        }
        let waiting = panel.queue(now());
        let collections = crate::tip_view::fingerprint(&panel.collections);
        let rows = waiting
            .iter()
            .take(QUEUE_SIZE)
            .map(|tip| super::tip_row(tip, crate::tip_view::Listed::PLAIN, false, &panel, collections))
            .collect();
        crate::tip_view::update_keyed(&by_id("queue"), rows);
        let count = match waiting.len() {
            0 => "Nothing waits for a curator.".to_owned(),
            1 => "1 tip waits for a curator.".to_owned(),
            n => format!("{n} tips wait for a curator."),
        };
        by_id::<HtmlElement>("queue-count").set_text_content(Some(&count));
        // The queue is reachable at once from the top of the panel, however long it is.
        let jump = match waiting.len() {
            0 => String::new(),
            1 => "1 tip waits for your review".to_owned(),
            n => format!("{n} tips wait for your review"),
        };
        by_id::<HtmlElement>("queue-jump").set_text_content(Some(&jump));
        jump_line.set_hidden(jump.is_empty());
    });
}

/// Fetches the team's collections and puts them in the filters and the export choices.
pub async fn load_collections() {
    let Ok(store) = IdbStore::open(DATABASE).await else { return };
    let connection = sync_client::connection(&store).await;
    let (true, Ok(base)) = (connection.is_set(), connection.base_url()) else { return };
    match sync_client::collections(&base, &connection.token).await {
        Ok(collections) => {
            PANEL.with(|p| p.borrow_mut().collections = collections);
            fill_collection_choices();
            render_feed();
            render_queue();
        }
        Err(why) => status("curation-status", &format!("Collections could not be loaded: {why}"), true),
    }
}

/// Collections as choices of the Show filter and of the export, keeping what is chosen.
fn fill_collection_choices() {
    let (collections, curator) = PANEL.with(|p| (p.borrow().collections.clone(), p.borrow().curator));
    for select_id in ["show", "export-what", "walkthrough-collection"] {
        let select: HtmlSelectElement = by_id(select_id);
        let chosen = select.value();
        while let Ok(Some(old)) = select.query_selector("option[data-collection]") {
            old.remove();
        }
        for collection in &collections {
            let option = el("option")
                .text(&format!("Collection: {} ({})", collection.name, collection.tips.len()))
                .attr("value", &Show::Collection(collection.id).value())
                .attr("data-collection", "");
            append(&select, &option.build());
        }
        select.set_value(&chosen);
        if select.value().is_empty() {
            select.set_selected_index(0);
        }
        // The feed follows its filter when the chosen collection is gone.
        if select_id == "show" && select.value() != chosen {
            PANEL.with(|p| p.borrow_mut().filter(Filter::Show(Show::parse(&select.value()))));
        }
    }
    by_id::<HtmlElement>("collections-tools").set_hidden(!curator);
    spawn(super::walkthroughs::render());
}

/// One set of listeners for curation everywhere in the panel.
pub fn listen() {
    let document: web_sys::EventTarget = document().into();
    let target = |event: &web_sys::Event| event.target().and_then(|t| t.dyn_into::<Element>().ok());
    let tip_of = |element: &Element| -> Option<(Element, TipId)> {
        let item = element.closest("li[data-tip]").ok()??;
        let id = item.get_attribute("data-tip")?.parse().ok()?;
        Some((item, id))
    };
    on(&document, "click", move |event| {
        let Some(button) = target(&event).and_then(|t| t.closest("button[data-action]").ok().flatten()) else { return };
        let Some((item, id)) = tip_of(&button) else { return };
        match action_of(&button) {
            Some(TipAction::Curate) => {
                let Some(offered) = button.get_attribute("data-step").as_deref().and_then(OfferedStep::parse) else {
                    return;
                };
                if let Some(step) = offered.at_once() {
                    spawn(async move {
                        take_step(id, step).await;
                    });
                    return;
                }
                // Approving and rewording ask for more first, in a form under the buttons.
                let tip = PANEL.with(|p| p.borrow().tip(id).cloned());
                let Some(kind) = offered.form() else { return };
                let open = item.query_selector(&format!("form[data-action={}]", kind.value()));
                if let (Some(tip), Ok(None)) = (tip, open) {
                    let form = if kind == TipAction::Reword { reword_form(&tip) } else { approve_form(&tip) };
                    let _ = button.parent_element().map(|bar| bar.after_with_node_1(&form));
                    if let Ok(Some(field)) = form.query_selector("input") {
                        let _ = field.unchecked_into::<HtmlElement>().focus();
                    }
                }
            }
            Some(action @ (TipAction::MoveUp | TipAction::MoveDown | TipAction::Uncollect)) => {
                spawn(rearrange(id, action));
            }
            _ => {}
        }
    });
    on(&document, "submit", move |event| {
        let Some(form) =
            target(&event).filter(|t| matches!(action_of(t), Some(TipAction::Reword | TipAction::Approve)))
        else {
            return;
        };
        event.prevent_default();
        let Some((_, id)) = tip_of(&form) else { return };
        let field = |name: &str| -> String {
            form.query_selector(&format!("[name={name}]"))
                .ok()
                .flatten()
                .and_then(|f| js_sys::Reflect::get(&f, &JsValue::from_str("value")).ok())
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        let step = if action_of(&form) == Some(TipAction::Approve) {
            // The end of the chosen day, UTC; core checks it is ahead and within a year.
            match format!("{}T23:59:59.000Z", field("verify-by")).parse() {
                Ok(verify_by) => Action::Approve { verify_by },
                Err(_) => {
                    status("curation-status", "Choose the date to verify the tip again by.", true);
                    return;
                }
            }
        } else {
            Action::Reword { title: field("title"), summary: field("summary") }
        };
        let form = form.clone();
        spawn(async move {
            if take_step(id, step).await {
                form.remove(); // saved: the tip shows it
            }
        });
    });
    on(&document, "change", move |event| {
        let Some(select) = target(&event).filter(|t| action_of(t) == Some(TipAction::Collect)) else { return };
        let Some((_, id)) = tip_of(&select) else { return };
        let Some(collection) = select.unchecked_ref::<HtmlSelectElement>().value().parse::<TipId>().ok() else {
            return;
        };
        spawn(add_to_collection(collection, id));
    });
    // The jump to the queue takes the focus there too (a fragment link only scrolls).
    on(&by_id::<web_sys::EventTarget>("queue-jump"), "click", |event| {
        event.prevent_default();
        let heading: HtmlElement = by_id("queue-heading");
        heading.scroll_into_view();
        let _ = heading.focus();
    });
    listen_to_undo();
    on_submit("new-collection", create_collection);
    on_submit("walkthrough-form", save_walkthrough);
    on_submit("rename-tags", rename_tags);
    on_submit("import-form", import_file);
    on_submit("export-form", export);
}

/// Sends a step to the worker; whether it was stored. Once stored, the panel says what
/// happened and offers to undo it (see [`undo_steps`]) for [`UNDO_MS`].
async fn take_step(id: TipId, step: Action) -> bool {
    let (before, role) = PANEL.with(|p| {
        let panel = p.borrow();
        (panel.tip(id).map(|t| t.curation.clone()), if panel.curator { Role::Curator } else { Role::Member })
    });
    let undo = before.map(|before| undo_steps(&before, &step, role, now())).unwrap_or_default();
    let done = crate::panel_model::step_done(&step);
    if send_step(id, step).await {
        status("curation-status", &done, false);
        spawn(offer_undo(id, undo)); // the caller goes on (a form closes) while Undo is offered
        return true;
    }
    false
}

/// Sends one step; on a refusal the panel says why. Whether it was stored.
async fn send_step(id: TipId, step: Action) -> bool {
    let verb = step.verb();
    status("curation-status", "", false);
    UNDO.with(|u| u.borrow_mut().take());
    // The worker stores the step and says tips changed; the panel then re-renders.
    match crate::tip_view::add(PageRequest::Curate { tip_id: id, step }, None).await {
        Some(problem) => {
            status("curation-status", &format!("Could not {verb}: {problem}"), true);
            false
        }
        None => true,
    }
}

/// How long a curation step can be undone from the panel: long enough to see what it did,
/// short enough that the undo does not overwrite a teammate's later step.
const UNDO_MS: u32 = 30_000;

thread_local! {
    /// The steps that undo the last one taken here, while they are offered.
    static UNDO: std::cell::RefCell<Option<(TipId, Vec<Action>)>> = const { std::cell::RefCell::new(None) };
}

/// Puts an Undo button after the confirmation, until a later message replaces it or
/// [`UNDO_MS`] passes.
async fn offer_undo(id: TipId, steps: Vec<Action>) {
    if steps.is_empty() {
        return;
    }
    let line: HtmlElement = by_id("curation-status");
    let button =
        el("button").text("Undo").attr("type", "button").attr("id", "curation-undo").class("secondary").build();
    let _ = line.append_with_str_1(" ");
    append(&line, &button);
    UNDO.with(|u| *u.borrow_mut() = Some((id, steps)));
    gloo::timers::future::TimeoutFuture::new(UNDO_MS).await;
    if button.is_connected() {
        UNDO.with(|u| u.borrow_mut().take());
        button.remove();
    }
}

/// The Undo button: its steps, in order, then what came of them.
fn listen_to_undo() {
    on(&by_id::<web_sys::EventTarget>("curation-status"), "click", |event| {
        let on_undo =
            event.target().and_then(|t| t.dyn_into::<Element>().ok()).is_some_and(|t| t.id() == "curation-undo");
        let Some((id, steps)) = on_undo.then(|| UNDO.with(|u| u.borrow_mut().take())).flatten() else { return };
        spawn(async move {
            for step in steps {
                if !send_step(id, step).await {
                    return;
                }
            }
            status("curation-status", "Undone: the tip is back as it was.", false);
        });
    });
}

/// The member's server connection, or a message saying why there is none.
pub(super) async fn server() -> Result<(String, String), String> {
    let store = IdbStore::open(DATABASE).await.map_err(|e| e.to_string())?;
    let connection = sync_client::connection(&store).await;
    match (connection.is_set(), connection.base_url()) {
        (true, Ok(base)) => Ok((base, connection.token)),
        _ => Err("connect to your team's server in Options first".to_owned()),
    }
}

/// Saves `collection` on the server and in the panel.
async fn save_collection(collection: Collection, done: &str) {
    let saved = match server().await {
        Ok((base, token)) => sync_client::put_collection(&base, &token, &collection).await,
        Err(why) => Err(why),
    };
    match saved {
        Ok(saved) => {
            PANEL.with(|p| {
                let mut panel = p.borrow_mut();
                match panel.collections.iter_mut().find(|c| c.id == saved.id) {
                    Some(old) => *old = saved,
                    None => panel.collections.push(saved),
                }
                panel.collections.sort_by_key(|c| c.name.to_lowercase());
            });
            fill_collection_choices();
            render_feed();
            render_queue();
            status("curation-status", done, false);
        }
        Err(why) => status("curation-status", &format!("The collection was not saved: {why}"), true),
    }
}

async fn add_to_collection(collection: TipId, tip: TipId) {
    let Some(mut chosen) = PANEL.with(|p| p.borrow().collections.iter().find(|c| c.id == collection).cloned()) else {
        return;
    };
    if !chosen.tips.contains(&tip) {
        chosen.tips.push(tip);
    }
    let done = format!("Added to \u{201c}{}\u{201d}.", chosen.name);
    save_collection(chosen, &done).await;
}

async fn rearrange(tip: TipId, action: TipAction) {
    let Show::Collection(collection) = PANEL.with(|p| p.borrow().query.show) else { return };
    let Some(mut chosen) = PANEL.with(|p| p.borrow().collections.iter().find(|c| c.id == collection).cloned()) else {
        return;
    };
    let Some(at) = chosen.tips.iter().position(|t| *t == tip) else { return };
    match action {
        TipAction::MoveUp if at > 0 => chosen.tips.swap(at, at - 1),
        TipAction::MoveDown if at + 1 < chosen.tips.len() => chosen.tips.swap(at, at + 1),
        TipAction::Uncollect => {
            chosen.tips.remove(at);
        }
        _ => return,
    }
    let done = format!("\u{201c}{}\u{201d} saved.", chosen.name);
    save_collection(chosen, &done).await;
}

/// The curator's form: the chosen collection plays as a walkthrough with this title (the
/// collection's name when none is given), audience and introduction.
async fn save_walkthrough() {
    let Show::Collection(id) = Show::parse(&by_id::<HtmlSelectElement>("walkthrough-collection").value()) else {
        status("curation-status", "Choose a collection to play as a walkthrough.", true);
        return;
    };
    let Some(mut chosen) = PANEL.with(|p| p.borrow().collections.iter().find(|c| c.id == id).cloned()) else { return };
    let title = input("walkthrough-title").value().trim().to_owned();
    chosen.walkthrough = Some(Walkthrough {
        title: if title.is_empty() { chosen.name.clone() } else { title },
        audience: input("walkthrough-audience").value().trim().to_owned(),
        intro: by_id::<web_sys::HtmlTextAreaElement>("walkthrough-intro").value().trim().to_owned(),
        advance_on_click: input("walkthrough-click").checked(),
    });
    if let Err(why) = chosen.validate() {
        status("curation-status", &format!("The walkthrough was not saved: {why}."), true);
        return;
    }
    let done = format!(
        "\u{201c}{}\u{201d} plays as a walkthrough of {} steps; your team finds it under Walkthroughs.",
        chosen.name,
        chosen.tips.len()
    );
    save_collection(chosen, &done).await;
}

async fn create_collection() {
    let name = input("collection-name").value().trim().to_owned();
    let me = PANEL.with(|p| p.borrow().me.clone());
    let collection = Collection {
        id: TipId::new_v7(now().unix_ms().max(0) as u64, chrome::random_bytes()),
        name: name.clone(),
        tips: Vec::new(),
        updated: now(),
        by: me,
        walkthrough: None,
    };
    if let Err(why) = collection.validate() {
        status("curation-status", &format!("The collection was not saved: {why}."), true);
        return;
    }
    input("collection-name").set_value("");
    save_collection(
        collection,
        &format!(
            "Collection \u{201c}{name}\u{201d} made; add tips to it from their \u{201c}Add to collection\u{201d} menu."
        ),
    )
    .await;
}

async fn rename_tags() {
    let from: Vec<String> =
        input("rename-from").value().split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    let to = input("rename-to").value().trim().to_owned();
    if from.is_empty() || to.is_empty() {
        status(
            "curation-status",
            "Name the tags to rename (commas between several, to merge them) and the new name.",
            true,
        );
        return;
    }
    let renamed = match server().await {
        Ok((base, token)) => sync_client::rename_tags(&base, &token, &from, &to).await,
        Err(why) => Err(why),
    };
    match renamed {
        Ok(n) => {
            status(
                "curation-status",
                &format!("Renamed on {n} tip{}; they arrive with the next sync.", if n == 1 { "" } else { "s" }),
                false,
            );
            let _ = crate::dom::ask_worker(PageRequest::SyncNow).await;
        }
        Err(why) => status("curation-status", &format!("Tags were not renamed: {why}"), true),
    }
}

/// Sends the chosen file to the team's server to import, and shows its report: what was
/// imported, and each annotation skipped with the reason.
async fn import_file() {
    let report: HtmlElement = by_id("import-report");
    report.set_text_content(None);
    let Some(file) = input("import-file").files().and_then(|files| files.get(0)) else {
        status("curation-status", "Choose a file to import first.", true);
        return;
    };
    status("curation-status", &format!("Importing {}…", file.name()), false);
    let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await.ok().and_then(|t| t.as_string()) {
        Some(text) => text,
        None => {
            status("curation-status", "The file could not be read.", true);
            return;
        }
    };
    let answer = match server().await {
        Ok((base, token)) => sync_client::import(&base, &token, text).await,
        Err(why) => Err(why),
    };
    match answer {
        Ok(answer) => {
            status("curation-status", answer["summary"].as_str().unwrap_or("Imported."), false);
            for (key, heading) in [("skipped", "Skipped:"), ("partly", "Read in part:")] {
                let items = answer[key].as_array().cloned().unwrap_or_default();
                if !items.is_empty() {
                    append(&report, &element("p", heading));
                    append(&report, &reasons_list(&items));
                }
            }
            let _ = crate::dom::ask_worker(PageRequest::SyncNow).await;
        }
        Err(why) => status("curation-status", &format!("Nothing was imported: {why}"), true),
    }
}

/// The first hundred of an import report's entries, "annotation: reason", as a list.
fn reasons_list(items: &[serde_json::Value]) -> Element {
    let lines = items.iter().take(100).map(|item| {
        let line = format!("{}: {}", item["annotation"].as_str().unwrap_or("?"), item["reason"].as_str().unwrap_or(""));
        element("li", &line)
    });
    let more = (items.len() > 100).then(|| element("li", &format!("and {} more", items.len() - 100)));
    el("ul").children(lines).child_opt(more).build()
}

/// Makes the chosen export from this device's tips and downloads it.
async fn export() {
    let what = by_id::<HtmlSelectElement>("export-what").value();
    let chosen = by_id::<HtmlSelectElement>("export-format").value();
    let format = Format::parse(&chosen);
    let course = chosen == cmi5::FORMAT_NAME;
    if format.is_none() && !course {
        return;
    }
    let progress: HtmlElement = by_id("export-progress");
    progress.set_hidden(false);
    set(&progress, "value", "0");
    status("export-status", "Preparing the export…", false);
    // A course carries its unit's script, built with the extension.
    let script = if course {
        match course_script().await {
            Ok(script) => script,
            Err(why) => {
                status("export-status", &format!("The course could not be made: {why}"), true);
                progress.set_hidden(true);
                return;
            }
        }
    } else {
        // Let the panel paint the message before the work starts.
        gloo::timers::future::TimeoutFuture::new(0).await;
        String::new()
    };
    let selection = PANEL.with(|p| p.borrow().export_selection(ExportWhat::parse(&what)));
    let started = js_sys::Date::now();
    let made = PANEL.with(|p| {
        let panel = p.borrow();
        let sheet = Sheet {
            title: selection.describe(&panel.collections),
            team: panel.team.clone(),
            generated: now(),
            tips: selection.pick(panel.tips(), &panel.collections),
            collections: &panel.collections,
        };
        let mut report = |done: usize, total: usize| {
            set(&progress, "value", &format!("{}", done as f64 / total.max(1) as f64));
        };
        let count = sheet.tips.len();
        match format {
            Some(format) => Ok((
                render(format, &sheet, &mut report).into_bytes(),
                file_name(&sheet, format),
                count,
                format.label(),
                format.media_type(),
            )),
            None => cmi5::package(&sheet, &cmi5::CourseIds::of(&selection, &sheet), &script, &mut report)
                .map(|bytes| (bytes, cmi5::file_name(&sheet), count, cmi5::LABEL, cmi5::MEDIA_TYPE)),
        }
    });
    let (bytes, name, count, label, media_type) = match made {
        Ok(made) => made,
        Err(why) => {
            status("export-status", &format!("The course could not be made: {why}"), true);
            progress.set_hidden(true);
            return;
        }
    };
    if count == 0 {
        status("export-status", "No tips match this choice; nothing was downloaded.", true);
        progress.set_hidden(true);
        return;
    }
    match download(&bytes, &name, media_type) {
        Ok(()) => status(
            "export-status",
            &format!(
                "Downloaded {name}: {count} tip{} as {label}, {} KB, in {:.0} ms.",
                if count == 1 { "" } else { "s" },
                bytes.len().div_ceil(1024),
                js_sys::Date::now() - started
            ),
            false,
        ),
        Err(why) => status("export-status", &format!("The download could not start: {why:?}"), true),
    }
}

/// The cmi5 unit's script, from the extension's own files (`cargo xtask build` bundles it).
async fn course_script() -> Result<String, String> {
    let response = gloo::net::http::Request::get(&format!("/{}", cmi5::SCRIPT_IN_EXTENSION))
        .send()
        .await
        .map_err(|e| format!("its script could not be read ({e})"))?;
    if !response.ok() {
        return Err(format!("its script is missing from the extension ({})", response.status()));
    }
    response.text().await.map_err(|e| format!("its script could not be read ({e})"))
}

fn download(bytes: &[u8], name: &str, media_type: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link = element("a", "");
    link.set_attribute("href", &url)?;
    link.set_attribute("download", name)?;
    let body = document().body().ok_or("no body")?;
    body.append_child(&link)?;
    link.unchecked_ref::<HtmlElement>().click();
    link.remove();
    // The browser has the file once the download starts; free the copy a little later.
    spawn(async move {
        gloo::timers::future::TimeoutFuture::new(60_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    Ok(())
}
