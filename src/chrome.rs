//! The few `chrome.*` extension APIs the worker calls, bound with wasm-bindgen.
//!
//! Each import is resolved when called, not when the module loads, so the wasm package
//! also loads where `chrome` does not exist (node, for the anchoring benchmark).

use wasm_bindgen::prelude::*;

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

    #[wasm_bindgen(js_namespace = ["chrome", "contextMenus"], js_name = create, catch)]
    pub fn context_menus_create(properties: &JsValue) -> Result<JsValue, JsValue>;
}
