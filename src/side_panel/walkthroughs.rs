//! The side panel's Walkthroughs: the team's collections that curators made walkthroughs,
//! each with who it is for, its introduction and its length, started (or resumed) from
//! here. The worker keeps the place (see [`crate::walkthrough`]); the page shows the steps.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};

use super::PANEL;
use crate::chrome::{self, to_js};
use crate::dom::{by_id, document, el, on, spawn, status};
use crate::messages::PageRequest;
use crate::sync_client;
use crate::walkthrough::{Go, Progress};
use inflow_core::walkthrough::{Record, Summary};

/// Lists the walkthroughs, with Resume for the one under way.
pub async fn render() {
    let progress = playing().await;
    let walkthroughs: Vec<_> =
        PANEL.with(|p| p.borrow().collections.iter().filter(|c| c.walkthrough.is_some()).cloned().collect());
    by_id::<HtmlElement>("walkthroughs-section").set_hidden(walkthroughs.is_empty());
    let curator = PANEL.with(|p| p.borrow().curator);
    let list: HtmlElement = by_id("walkthroughs");
    list.set_text_content(None);
    let misses: HtmlElement = by_id("queue-walkthroughs");
    misses.set_text_content(None);
    misses.set_hidden(true);
    for collection in walkthroughs {
        let Some(walkthrough) = &collection.walkthrough else { continue };
        let steps = collection.tips.len();
        let under_way = progress.as_ref().filter(|p| p.collection == collection.id);
        let id = collection.id.to_string();
        let button = |label: &str, go: &str, secondary: bool| {
            el("button")
                .text(label)
                .attr("type", "button")
                .attr_if(secondary, "class", "secondary")
                .attr("data-walkthrough", &id)
                .attr("data-go", go)
                .build()
        };
        let mut actions = el("div").class("actions");
        actions = match under_way {
            Some(p) => actions
                .child(button(&format!("Resume at step {} of {}", p.at + 1, p.steps.len()), "resume", false))
                .child(button("Start again", "start", true)),
            None => actions.child(button("Start", "start", false)),
        };
        if curator {
            // Tried by its curator: played as anyone plays it, counted in no record.
            actions = actions.child(button("Preview", "preview", true));
        }
        let facts = if walkthrough.audience.is_empty() {
            format!("{steps} step{}", if steps == 1 { "" } else { "s" })
        } else {
            format!("For {} \u{b7} {steps} step{}", walkthrough.audience, if steps == 1 { "" } else { "s" })
        };
        let item = el("li")
            .child(el("h3").text(&walkthrough.title).build())
            .child(el("p").class("hint").text(&facts).build())
            .child_opt((!walkthrough.intro.is_empty()).then(|| el("p").text(&walkthrough.intro).build()))
            .child(actions.build())
            .build();
        let _ = list.append_child(&item);
        if curator {
            // Who played it and how far (names are for curators and admins only: the
            // server refuses this to members).
            let played = el("p").class("played hint").build();
            let _ = item.append_child(&played);
            spawn(show_who_played(collection.id, walkthrough.title.clone(), item.clone(), played));
        }
    }
    offer().await;
}

/// A curator's view of one walkthrough: the summary in words, and each member's place.
async fn show_who_played(id: inflow_core::TipId, title: String, item: Element, line: Element) {
    let answer = match super::curation::server().await {
        Ok((base, token)) => sync_client::walkthrough_records(&base, &token, id).await,
        Err(why) => Err(why),
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(why) => {
            line.set_text_content(Some(&format!("Who played it could not be read: {why}")));
            return;
        }
    };
    line.set_text_content(Some(&format!("Played: {}", answer["inWords"].as_str().unwrap_or(""))));
    // A step not found on its screen is the curators' to look at: the queue says so too.
    let summary: Summary = serde_json::from_value(answer["summary"].clone()).unwrap_or_default();
    let queue: HtmlElement = by_id("queue-walkthroughs");
    // (Two renders close together each read the records: the later answer replaces.)
    while let Ok(Some(old)) = queue.query_selector(&format!("li[data-walkthrough=\"{id}\"]")) {
        old.remove();
    }
    for (step, misses, tries) in &summary.not_found {
        let text = format!("Step {step} of \u{201c}{title}\u{201d} was not found on {misses} of {tries} tries.");
        let _ = queue.append_child(&el("li").text(&text).attr("data-walkthrough", &id.to_string()).build());
    }
    queue.set_hidden(queue.child_element_count() == 0);
    let people: Vec<Element> = answer["records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let member = entry["member"].as_str()?;
            let record: Record = serde_json::from_value(entry["record"].clone()).ok()?;
            let place = match record.completed {
                Some(at) => format!("{member}: completed {}", at.day()),
                None => format!("{member}: at step {} of {}", record.reached, record.steps),
            };
            Some(el("li").text(&place).build())
        })
        .collect();
    if !people.is_empty() {
        let names =
            el("details").child(el("summary").text("Who").build()).child(el("ul").children(people).build()).build();
        let _ = item.append_child(&names);
    }
}

/// On a screen where a walkthrough starts (its first step's tip belongs to it: `on_screen`
/// lists the screen's tips), when none is being played and this member has not completed
/// it: "New here? 3-step walkthrough: Orders after the upgrade", with Start.
pub async fn prompt(on_screen: &[inflow_core::TipId]) {
    ON_SCREEN.with(|s| *s.borrow_mut() = on_screen.to_vec());
    offer().await;
}

thread_local! {
    /// The tips of the screen the panel describes, as last told: the prompt is offered
    /// again when the walkthroughs arrive or change.
    static ON_SCREEN: std::cell::RefCell<Vec<inflow_core::TipId>> = const { std::cell::RefCell::new(Vec::new()) };
}

async fn offer() {
    let on_screen = ON_SCREEN.with(|s| s.borrow().clone());
    let line: HtmlElement = by_id("walkthrough-prompt");
    let offered = if playing().await.is_some() {
        None
    } else {
        let answer = chrome::runtime_send_message(&to_js(&PageRequest::WalkthroughsCompleted)).await.ok();
        let completed: Vec<inflow_core::TipId> =
            answer.and_then(|a| serde_wasm_bindgen::from_value(a).ok()).unwrap_or_default();
        PANEL.with(|p| {
            p.borrow()
                .collections
                .iter()
                .filter(|c| c.walkthrough.is_some() && !completed.contains(&c.id))
                .find(|c| c.tips.first().is_some_and(|first| on_screen.contains(first)))
                .cloned()
        })
    };
    line.set_text_content(None);
    let Some(collection) = offered else {
        line.set_hidden(true);
        return;
    };
    let title = collection.walkthrough.as_ref().map(|w| w.title.clone()).unwrap_or_default();
    let steps = collection.tips.len();
    let text = format!("New here? {steps}-step walkthrough: {title} ");
    let _ = line.append_child(&el("span").text(&text).build());
    let start = el("button")
        .text("Start")
        .attr("type", "button")
        .attr("data-walkthrough", &collection.id.to_string())
        .attr("data-go", "start")
        .build();
    let _ = line.append_child(&start);
    line.set_hidden(false);
}

/// The walkthrough being played on this device, if any.
async fn playing() -> Option<Progress> {
    let answer = chrome::runtime_send_message(&to_js(&PageRequest::WalkthroughProgress)).await.ok()?;
    serde_wasm_bindgen::from_value::<Option<Progress>>(answer).ok().flatten()
}

/// The Start, Resume and Start again buttons.
pub fn listen() {
    on(&document().into(), "click", |event| {
        let Some(button) = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|t| t.closest("button[data-walkthrough]").ok().flatten())
        else {
            return;
        };
        let Some(id) = button.get_attribute("data-walkthrough").and_then(|id| id.parse().ok()) else { return };
        let Some(collection) = PANEL.with(|p| p.borrow().collections.iter().find(|c| c.id == id).cloned()) else {
            return;
        };
        let go = match button.get_attribute("data-go").as_deref() {
            Some("resume") => Go::Resume,
            Some("preview") => Go::Start { collection: Box::new(collection), preview: true },
            _ => Go::Start { collection: Box::new(collection), preview: false },
        };
        spawn(async move {
            let answer = chrome::runtime_send_message(&to_js(&PageRequest::Walkthrough { go })).await;
            match answer.ok().and_then(|a| serde_wasm_bindgen::from_value::<Option<Progress>>(a).ok()).flatten() {
                Some(progress) => status(
                    "walkthrough-status",
                    &format!(
                        "\u{201c}{}\u{201d}: step {} of {} shows on the page now, or says which screen to open.",
                        progress.title,
                        progress.at + 1,
                        progress.steps.len()
                    ),
                    false,
                ),
                None => status("walkthrough-status", "The walkthrough could not start.", true),
            }
            render().await; // Resume in the list; no prompt while it is under way
        });
    });
}
