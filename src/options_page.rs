//! The options page (`extension/options.html`), built in Rust: the team server's address
//! and token with a connection test that says exactly what is wrong, the display name,
//! the sites Inflow works on (optional host permissions asked for at run time), the
//! team's screen rules and the keyboard shortcut. Values the organisation's policy sets
//! are shown locked.

use serde_json::json;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlElement, HtmlTextAreaElement};

use crate::chrome::{self, to_js};
use crate::dom::js_text;
use crate::dom::{append, ask_worker, by_id, el, element, input, on, on_submit, spawn, status};
use crate::idb_store::{IdbStore, DATABASE};
use crate::messages::PageRequest;
use crate::messages::SyncStatus;
use crate::settings::{Connection, CONNECTION, DEFAULT_DISPLAY_NAME, DISPLAY_NAME};
use crate::sync_client;

/// Origins the manifest grants; they are always on and not listed as removable.
const BUILT_IN_SITES: [&str; 2] = ["http://127.0.0.1/*", "http://localhost/*"];

#[wasm_bindgen(js_name = optionsPage)]
pub async fn options_page() -> Result<(), JsValue> {
    let store = IdbStore::open(DATABASE).await.map_err(|e| JsValue::from_str(&e.to_string()))?;
    show_connection(&sync_client::connection(&store).await);
    // The policy copy in settings may predate a policy change or not exist yet (reading
    // managed storage at start-up takes seconds): read it again, and show what it says.
    spawn(async {
        let Ok(store) = IdbStore::open(DATABASE).await else { return };
        sync_client::refresh_policy(&store).await;
        let connection = sync_client::connection(&store).await;
        if connection.managed {
            show_connection(&connection);
        }
    });
    on(&by_id::<web_sys::EventTarget>("connection-form"), "submit", |event| {
        event.prevent_default();
        spawn(save_connection());
    });
    on(&by_id::<web_sys::EventTarget>("test-connection"), "click", |_| spawn(test_connection()));
    on(&by_id::<web_sys::EventTarget>("sync-now"), "click", |_| {
        spawn(async {
            status("connection-result", "Syncing…", false);
            let answer = ask_worker(PageRequest::SyncNow).await;
            show_status(&answer);
            let (said, problem) = answer
                .map(|s| s.sync_outcome())
                .unwrap_or_else(|| ("Inflow's worker did not answer; nothing was synced.".to_owned(), true));
            status("connection-result", &said, problem);
        })
    });
    on_submit("rules-form", save_rules);
    on_submit("fields-form", save_identifying_fields);
    on_submit("name-form", save_name);
    on(&by_id::<web_sys::EventTarget>("site-form"), "submit", |event| {
        event.prevent_default();
        // permissions.request must run within the click's user gesture: call it now, not
        // after an await.
        let typed = input("site").value();
        match site_pattern(&typed) {
            Ok(pattern) => {
                let request = wasm_bindgen_futures::JsFuture::from(chrome::permissions_request(&to_js(
                    &json!({ "origins": [pattern] }),
                )));
                spawn(async move {
                    match request.await.map(|granted| granted.as_bool() == Some(true)) {
                        Ok(true) => {
                            status("site-result", "Inflow now works there. Reload that site's open tabs.", false);
                            input("site").set_value("");
                        }
                        Ok(false) => status("site-result", "The browser did not grant access to that site.", true),
                        Err(why) => status("site-result", &format!("The browser refused: {}", js_text(&why)), true),
                    }
                    show_sites().await;
                });
            }
            Err(why) => status("site-result", &why, true),
        }
    });
    let name = store.setting(DISPLAY_NAME).await.ok().flatten().unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned());
    input("display-name").set_value(&name);
    by_id::<HtmlElement>("options").set_attribute("aria-busy", "false")?;
    let sync = ask_worker(PageRequest::SyncStatus).await;
    if let Some(member) = sync.as_ref().and_then(|sync| sync.membership.as_ref()) {
        adopt_member_name(&store, &member.name).await; // connected by the organisation's policy
    }
    show_status(&sync);
    show_sites().await;
    show_shortcut().await;
    Ok(())
}

/// Fills the connection fields; values the organisation's policy sets are locked.
fn show_connection(connection: &Connection) {
    input("server-url").set_value(&connection.server_url);
    input("token").set_value(&connection.token);
    for id in ["server-url", "token", "save-connection"] {
        by_id::<HtmlElement>(id).toggle_attribute_with_force("disabled", connection.managed).ok();
    }
    by_id::<HtmlElement>("managed-note").set_hidden(!connection.managed);
}

/// The permission pattern for a typed site address.
fn site_pattern(typed: &str) -> Result<String, String> {
    let typed = typed.trim();
    let with_scheme = if typed.contains("://") { typed.to_owned() } else { format!("https://{typed}") };
    let url =
        inflow_core::url::PageUrl::parse(&with_scheme).map_err(|e| format!("That is not a site address: {e}."))?;
    // Permission patterns take no port: the grant covers every port of the host.
    Ok(format!("{}://{}/*", url.scheme.to_ascii_lowercase(), url.host.to_ascii_lowercase()))
}

fn typed_connection() -> Result<Connection, String> {
    let connection = Connection {
        server_url: input("server-url").value().trim().to_owned(),
        token: input("token").value().trim().to_owned(),
        managed: false,
    };
    if connection.server_url.is_empty() {
        return Err("Enter the server address.".to_owned());
    }
    if connection.token.is_empty() {
        return Err("Enter your member token.".to_owned());
    }
    if !connection.token.starts_with("inflow_") {
        return Err("That is not an Inflow token: tokens start with inflow_. Copy the whole last line `inflow-server member add` printed.".to_owned());
    }
    connection.base_url()?;
    Ok(connection)
}

/// Checks the typed connection against the server; says who it is (and the name the
/// server knows the member by), or what is wrong.
async fn check(connection: &Connection) -> Result<(String, String), String> {
    let base = connection.base_url()?;
    let membership = sync_client::who_am_i(&base, &connection.token).await?.membership;
    // "Sam (RN), member": a name may carry brackets of its own.
    let who = format!(
        "Connected to team \u{201c}{}\u{201d} as {}, {}.",
        membership.team_name, membership.name, membership.role
    );
    Ok((who, membership.name))
}

/// After connecting, the name on this device's tips is the member's name on the server,
/// unless the user chose one of their own: "Me" is only for a device without a team.
async fn adopt_member_name(store: &IdbStore, member_name: &str) {
    let chosen = store.setting(DISPLAY_NAME).await.ok().flatten();
    if chosen.as_deref().is_some_and(|name| name != DEFAULT_DISPLAY_NAME) || member_name.trim().is_empty() {
        return;
    }
    if store.set_setting(DISPLAY_NAME, member_name.trim()).await.is_ok() {
        input("display-name").set_value(member_name.trim());
    }
}

async fn test_connection() {
    status("connection-result", "Testing…", false);
    match typed_connection() {
        Ok(connection) => match check(&connection).await {
            Ok((who, _)) => status("connection-result", &who, false),
            Err(why) => status("connection-result", &why, true),
        },
        Err(why) => status("connection-result", &why, true),
    }
}

async fn save_connection() {
    let connection = match typed_connection() {
        Ok(connection) => connection,
        Err(why) => return status("connection-result", &why, true),
    };
    let Ok(store) = IdbStore::open(DATABASE).await else {
        return status("connection-result", "Inflow's storage could not be opened; nothing was saved.", true);
    };
    let Ok(text) = serde_json::to_string(&connection) else { return };
    if let Err(why) = store.set_setting(CONNECTION, &text).await {
        return status("connection-result", &why.to_string(), true);
    }
    status("connection-result", "Saved. Connecting…", false);
    match check(&connection).await {
        Ok((who, member_name)) => {
            adopt_member_name(&store, &member_name).await;
            let answer = ask_worker(PageRequest::SyncNow).await;
            show_status(&answer);
            match answer.and_then(|s| s.last_error) {
                Some(problem) => status("connection-result", &format!("{who} But sync failed: {problem}"), true),
                None => status("connection-result", &format!("Saved. {who}"), false),
            }
        }
        Err(why) => status("connection-result", &format!("Saved, but not connected: {why}"), true),
    }
}

async fn save_name() {
    let name = input("display-name").value().trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return status("name-result", "A name is 1 to 100 characters.", true);
    }
    let saved = match IdbStore::open(DATABASE).await {
        Ok(store) => store.set_setting(DISPLAY_NAME, &name).await.map_err(|e| e.to_string()),
        Err(why) => Err(why.to_string()),
    };
    match saved {
        Ok(()) => status("name-result", "Saved.", false),
        Err(why) => status("name-result", &why, true),
    }
}

/// Fills the facts list under the connection form.
fn show_status(sync: &Option<SyncStatus>) {
    let list: HtmlElement = by_id("sync-state");
    list.set_text_content(None);
    let Some(sync) = sync else { return };
    let mut facts: Vec<(&str, String)> = Vec::new();
    if let Some(member) = &sync.membership {
        facts.push(("Team", member.team_name.clone()));
        facts.push(("You", format!("{}, {}", member.name, member.role)));
    }
    facts.push((
        "Waiting to send",
        if sync.pending == 1 { "1 change".to_owned() } else { format!("{} changes", sync.pending) },
    ));
    facts.push((
        "Last sync",
        sync.last_success_ms.map_or_else(
            || "never".to_owned(),
            |ms| {
                String::from(js_sys::Date::new(&JsValue::from_f64(ms)).to_locale_string("default", &JsValue::UNDEFINED))
            },
        ),
    ));
    if let Some(problem) = &sync.last_error {
        facts.push(("Problem", problem.clone()));
    }
    for (term, value) in facts {
        append(&list, &element("dt", term));
        append(&list, &element("dd", &value));
    }
    let rules: HtmlElement = by_id("rules");
    rules.set_text_content(None);
    if sync.screen_rules.is_empty() {
        append(&rules, &element("li", "None: the default rules apply."));
    }
    for rule in &sync.screen_rules {
        append(&rules, &element("li", rule));
    }
    // Admins edit the rules here; everyone else sees them.
    let is_admin = sync.configured && sync.membership.as_ref().is_some_and(|m| m.role == "admin");
    by_id::<HtmlElement>("rules-form").set_hidden(!is_admin);
    let editor: HtmlTextAreaElement = by_id("rules-text");
    if is_admin && editor.value().is_empty() {
        editor.set_value(&sync.screen_rules.join("\n"));
    }
    let fields: HtmlElement = by_id("fields");
    fields.set_text_content(None);
    if sync.identifying_fields.is_empty() {
        append(&fields, &element("li", "None: the labelled fields are read."));
    }
    for field in &sync.identifying_fields {
        append(&fields, &element("li", field));
    }
    by_id::<HtmlElement>("fields-form").set_hidden(!is_admin);
    let editor: HtmlTextAreaElement = by_id("fields-text");
    if is_admin && editor.value().is_empty() {
        editor.set_value(&sync.identifying_fields.join("\n"));
    }
}

/// Sends the admin's identifying fields to the server, after checking each with core's
/// rule and its selector with this page's own document (only a browser knows CSS).
async fn save_identifying_fields() {
    let typed = by_id::<HtmlTextAreaElement>("fields-text").value();
    let lines: Vec<String> = typed.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let fields = match inflow_core::fields::parse_field_rules(&lines) {
        Ok(fields) => fields,
        Err(why) => return status("fields-result", &why.to_string(), true),
    };
    let document = web_sys::window().and_then(|w| w.document());
    for field in &fields {
        if document.as_ref().is_some_and(|d| d.query_selector(&field.selector).is_err()) {
            let message = format!("`{}` is not a CSS selector this browser reads.", field.selector);
            return status("fields-result", &message, true);
        }
    }
    let Ok(store) = IdbStore::open(DATABASE).await else { return };
    let connection = sync_client::connection(&store).await;
    let Ok(base) = connection.base_url() else {
        return status("fields-result", "Connect to the team server first.", true);
    };
    let texts: Vec<String> = fields.iter().map(inflow_core::fields::FieldRule::to_text).collect();
    match sync_client::put_identifying_fields(&base, &connection.token, &texts).await {
        Ok(()) => {
            let answer = ask_worker(PageRequest::SyncNow).await;
            show_status(&answer);
            by_id::<HtmlTextAreaElement>("fields-text").set_value(&texts.join("\n"));
            status(
                "fields-result",
                "Saved. Your team's browsers read them within 10 minutes, or at once with Sync now.",
                false,
            );
        }
        Err(why) => status("fields-result", &why, true),
    }
}

/// Sends the admin's rules to the server, after checking each with core's rule.
async fn save_rules() {
    let typed = by_id::<HtmlTextAreaElement>("rules-text").value();
    let rules: Vec<String> = typed.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if let Err(why) = inflow_core::screen::parse_rules(&rules) {
        return status("rules-result", &why.to_string(), true);
    }
    let Ok(store) = IdbStore::open(DATABASE).await else { return };
    let connection = sync_client::connection(&store).await;
    let Ok(base) = connection.base_url() else {
        return status("rules-result", "Connect to the team server first.", true);
    };
    match sync_client::put_screen_rules(&base, &connection.token, &rules).await {
        Ok(()) => {
            let answer = ask_worker(PageRequest::SyncNow).await;
            show_status(&answer);
            status(
                "rules-result",
                "Saved. Your team's browsers apply them within 10 minutes, or at once with Sync now.",
                false,
            );
        }
        Err(why) => status("rules-result", &why, true),
    }
}

/// Lists the sites granted at run time, each with a Remove button.
async fn show_sites() {
    #[derive(serde::Deserialize, Default)]
    struct Granted {
        #[serde(default)]
        origins: Vec<String>,
    }
    let granted: Granted = match chrome::permissions_get_all().await {
        Ok(value) => serde_wasm_bindgen::from_value(value).unwrap_or_default(),
        Err(_) => Granted::default(),
    };
    let list: HtmlElement = by_id("sites");
    list.set_text_content(None);
    for origin in granted.origins {
        let item = element("li", origin.trim_end_matches("/*"));
        if !BUILT_IN_SITES.contains(&origin.as_str()) {
            let remove = el("button")
                .text("Remove")
                .attr("type", "button")
                .attr("aria-label", &format!("Remove {}", origin.trim_end_matches("/*")))
                .build();
            let pattern = origin.clone();
            on(&remove, "click", move |_| {
                let pattern = pattern.clone();
                spawn(async move {
                    let _ = chrome::permissions_remove(&to_js(&json!({ "origins": [pattern] }))).await;
                    show_sites().await;
                });
            });
            append(&item, &remove);
        } else {
            append(&item, &element("span", " (always on)"));
        }
        append(&list, &item);
    }
}

/// The browser's commands as (name, shortcut) pairs; an unassigned one has no shortcut.
async fn commands() -> Vec<(String, String)> {
    let Ok(commands) = chrome::commands_get_all().await else { return Vec::new() };
    js_sys::Array::from(&commands)
        .iter()
        .map(|command| {
            let field = |name: &str| {
                js_sys::Reflect::get(&command, &JsValue::from_str(name))
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            (field("name"), field("shortcut"))
        })
        .collect()
}

async fn show_shortcut() {
    for (name, shortcut) in commands().await {
        if name == "capture-tip" {
            let text = if shortcut.is_empty() {
                "No shortcut is set for adding a tip.".to_owned()
            } else {
                format!("Select text, then press {shortcut} to add a tip.")
            };
            by_id::<HtmlElement>("shortcut").set_text_content(Some(&text));
        }
    }
}

/// The welcome page, opened once on install (see `extension/welcome.html`): the keys as
/// this browser assigned them, and whether Inflow is connected to a team yet.
#[wasm_bindgen(js_name = welcomePage)]
pub async fn welcome_page() -> Result<(), JsValue> {
    let keys: HtmlElement = by_id("keys");
    for (name, shortcut) in commands().await {
        let what = match name.as_str() {
            "capture-tip" => "Add a tip to the selected text",
            "_execute_action" => "Open the side panel: this screen's tips and your team's",
            "next-tip" => "Go to the next tip on the page",
            "previous-tip" => "Go to the previous tip on the page",
            _ => continue,
        };
        append(&keys, &element("dt", if shortcut.is_empty() { "(not set)" } else { &shortcut }));
        append(&keys, &element("dd", what));
    }
    let sync = ask_worker(PageRequest::SyncStatus).await;
    let connected = match sync.and_then(|sync| sync.membership) {
        Some(member) => format!("Connected to team \u{201c}{}\u{201d} as {}.", member.team_name, member.name),
        None => "Not connected to a team server yet: until then your tips stay on this computer.".to_owned(),
    };
    // A plain fact, not a success or an error: no status colour.
    by_id::<HtmlElement>("welcome-connection").set_text_content(Some(&connected));
    by_id::<HtmlElement>("welcome").set_attribute("aria-busy", "false")
}
