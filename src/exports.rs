//! What `extension/worker.js` calls: one exported function per browser event. The JS
//! side only registers listeners (synchronously, as MV3 requires) and forwards here.

use inflow_core::Timestamp;
use serde::Serialize;
use serde_json::json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::chrome;
use crate::idb_store::{IdbStore, DATABASE};
use crate::messages::{Command, Request, Response};
use crate::worker::{self, not_active_message, Context};

/// The context-menu entry's id.
const CAPTURE_MENU: &str = "inflow-capture";
/// The context-menu entry for pinning a tip to the element under the pointer.
const PIN_MENU: &str = "inflow-pin";
/// The keyboard command's name in `manifest.json`.
const CAPTURE_COMMAND: &str = "capture-tip";
/// The id of the content-script registration for sites granted at run time.
const GRANTED_SITES_SCRIPT: &str = "inflow-granted-sites";
const DISPLAY_NAME: &str = "display_name";
/// Until the user sets a name in the options, tips are signed with this.
const DEFAULT_DISPLAY_NAME: &str = "Me";

/// A message from a content script. `sender_url` is the browser's record of the sending
/// page, never a value the page could choose.
#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(message: JsValue, sender_url: String) -> JsValue {
    let response = match serde_wasm_bindgen::from_value::<Request>(message) {
        Ok(request) => answer(request, &sender_url).await,
        Err(why) => Response::Error { message: format!("Inflow did not understand the page's request ({why}).") },
    };
    to_js(&response)
}

async fn answer(request: Request, sender_url: &str) -> Response {
    let store = match IdbStore::open(DATABASE).await {
        Ok(store) => store,
        Err(why) => return Response::Error { message: why.to_string() },
    };
    let author = store.setting(DISPLAY_NAME).await.ok().flatten().unwrap_or_else(|| DEFAULT_DISPLAY_NAME.to_owned());
    let cx = Context {
        page_url: sender_url,
        site_active: site_active(sender_url).await,
        author: &author,
        now: Timestamp(js_sys::Date::now() as i64),
        random: random_bytes(),
    };
    worker::handle(&store, &cx, request).await
}

/// Sets up what must exist once per install or update: the context-menu entry, and the
/// content script on the sites the user has granted.
#[wasm_bindgen(js_name = onInstalled)]
pub async fn on_installed() -> Result<(), JsValue> {
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
    let mut origins: Vec<String> = granted.origins.into_iter().filter(|o| !manifest_hosts.contains(&o.as_str())).collect();
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
    if command == CAPTURE_COMMAND {
        ask_page(tab_id, &tab_url, Command::OpenCapture).await;
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

fn random_bytes() -> [u8; 10] {
    let mut bytes = [0u8; 10];
    let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .and_then(|c| c.dyn_into::<web_sys::Crypto>().ok());
    match crypto {
        Some(crypto) if crypto.get_random_values_with_u8_array(&mut bytes).is_ok() => bytes,
        // Every context the extension runs in has Web Crypto; fall back to Math.random
        // rather than fail a save, as ids only need to be unique, not secret.
        _ => bytes.map(|_| (js_sys::Math::random() * 256.0) as u8),
    }
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}
