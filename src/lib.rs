//! Inflow's extension logic, compiled to WebAssembly and run by the service worker.
//!
//! This crate adapts [`inflow_core`] to the browser: IndexedDB storage, the message
//! protocol with the content script, and the `chrome.*` APIs. It holds no rule of its
//! own that the server would also need; those live in core.

pub mod anchoring;
pub mod messages;
pub mod settings;
pub mod store;
pub mod worker;

#[cfg(target_arch = "wasm32")]
mod chrome;
#[cfg(target_arch = "wasm32")]
pub mod exports;
#[cfg(target_arch = "wasm32")]
pub mod idb_store;
#[cfg(target_arch = "wasm32")]
pub mod sync_client;
#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
pub mod options_page;
#[cfg(target_arch = "wasm32")]
pub mod side_panel;
