//! The few `chrome.*` extension APIs the worker calls, bound with wasm-bindgen.
//!
//! Each import is resolved when called, not when the module loads, so the wasm package
//! also loads where `chrome` does not exist (node, for the anchoring benchmark).

use wasm_bindgen::prelude::*;

/// A Rust value as the plain JS object (or array) the `chrome.*` APIs and messages take.
pub fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = contains, catch)]
    pub async fn permissions_contains(query: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = getAll, catch)]
    pub async fn permissions_get_all() -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "scripting"], js_name = getRegisteredContentScripts, catch)]
    pub async fn scripting_get_registered_content_scripts() -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "scripting"], js_name = unregisterContentScripts, catch)]
    pub async fn scripting_unregister_content_scripts() -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "scripting"], js_name = registerContentScripts, catch)]
    pub async fn scripting_register_content_scripts(scripts: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = sendMessage, catch)]
    pub async fn tabs_send_message(tab_id: i32, message: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "scripting"], js_name = executeScript, catch)]
    pub async fn scripting_execute_script(injection: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "contextMenus"], js_name = removeAll, catch)]
    pub async fn context_menus_remove_all() -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "sidePanel"], js_name = setPanelBehavior, catch)]
    pub async fn side_panel_set_behavior(behavior: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "contextMenus"], js_name = create, catch)]
    pub fn context_menus_create(properties: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeText, catch)]
    pub async fn action_set_badge_text(details: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = getBadgeText, catch)]
    pub async fn action_get_badge_text(details: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setTitle, catch)]
    pub async fn action_set_title(details: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeBackgroundColor, catch)]
    pub async fn action_set_badge_background_color(details: &JsValue) -> Result<JsValue, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "storage", "managed"], js_name = get, catch)]
    async fn storage_managed_get() -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "alarms"], js_name = create, catch)]
    pub async fn alarms_create(name: &str, info: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = query, catch)]
    pub async fn tabs_query(query: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = update, catch)]
    pub async fn tabs_update(tab_id: i32, properties: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
    pub async fn tabs_create(properties: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "windows"], js_name = update, catch)]
    pub async fn windows_update(window_id: i32, properties: &JsValue) -> Result<JsValue, JsValue>;
}

/// The connection the organisation's policy sets (see `extension/managed_schema.json`),
/// if any. Policy values lock the options page's fields.
pub async fn managed_policy() -> Option<crate::settings::Connection> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Policy {
        #[serde(default)]
        server_url: String,
        #[serde(default)]
        token: String,
    }
    let value = storage_managed_get().await.ok()?;
    let policy: Policy = serde_wasm_bindgen::from_value(value).ok()?;
    (!policy.server_url.is_empty() || !policy.token.is_empty()).then_some(crate::settings::Connection {
        server_url: policy.server_url,
        token: policy.token,
        managed: true,
    })
}

/// What the extension's own pages call.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
    pub async fn runtime_send_message(message: &JsValue) -> Result<JsValue, JsValue>;

    /// Not `async`: it must be called at once, inside the click's user gesture; the caller
    /// awaits the promise afterwards.
    #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = request)]
    pub fn permissions_request(query: &JsValue) -> js_sys::Promise;

    #[wasm_bindgen(js_namespace = ["chrome", "permissions"], js_name = remove, catch)]
    pub async fn permissions_remove(query: &JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["chrome", "commands"], js_name = getAll, catch)]
    pub async fn commands_get_all() -> Result<JsValue, JsValue>;

    /// The tab an extension page runs in (the tip frame's: the page's tab).
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = getCurrent, catch)]
    pub async fn tabs_get_current() -> Result<JsValue, JsValue>;

    /// Not `async`: it must be called at once, inside the click's user gesture.
    #[wasm_bindgen(js_namespace = ["chrome", "sidePanel"], js_name = open)]
    pub fn side_panel_open(options: &JsValue) -> js_sys::Promise;
}

/// Events the side panel listens to.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["chrome", "runtime", "onMessage"], js_name = addListener)]
    pub fn on_runtime_message(listener: &js_sys::Function);

    #[wasm_bindgen(js_namespace = ["chrome", "tabs", "onActivated"], js_name = addListener)]
    pub fn on_tab_activated(listener: &js_sys::Function);

    #[wasm_bindgen(js_namespace = ["chrome", "tabs", "onUpdated"], js_name = addListener)]
    pub fn on_tab_updated(listener: &js_sys::Function);

    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage)]
    pub fn runtime_broadcast(message: &JsValue) -> js_sys::Promise;
}

/// Ten random bytes for a new id (a tip's, a mutation's, a collection's).
pub fn random_bytes() -> [u8; 10] {
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
