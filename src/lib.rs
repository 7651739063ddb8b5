//! Inflow's extension logic, compiled to WebAssembly: the service worker's package (feature
//! `worker`), the extension pages' package (feature `pages`) and the tip frame's (feature
//! `frame`), built apart by `xtask`.
//!
//! This crate adapts [`inflow_core`] to the browser: IndexedDB storage, the message
//! protocol with the content script, and the `chrome.*` APIs. It holds no rule of its
//! own that the server would also need; those live in core.

#[cfg(feature = "worker")]
pub mod anchoring;
/// What needs the user (replies to their tips, tips to review); native, so it is tested
/// without a browser.
#[cfg_attr(not(feature = "worker"), allow(dead_code))]
pub mod attention;
/// The capture form's preview of a shared tip; native, so it is tested without a browser.
#[cfg_attr(not(feature = "frame"), allow(dead_code))]
pub mod capture_preview;
pub mod messages;
/// The side panel's model (what the feed shows and exports); native, so it is tested
/// without a browser. Only the pages package uses it.
#[cfg_attr(not(feature = "pages"), allow(dead_code))]
pub mod panel_model;
#[cfg(feature = "worker")]
pub mod redaction;
pub mod settings;
pub mod store;
/// The walkthrough being played and the step a page shows; native, so it is tested without
/// a browser.
#[cfg_attr(not(feature = "worker"), allow(dead_code))]
pub mod walkthrough;
pub mod worker;

#[cfg(target_arch = "wasm32")]
#[cfg_attr(not(any(feature = "worker", feature = "pages")), allow(dead_code))] // the frame uses a few
mod chrome;
#[cfg(all(target_arch = "wasm32", any(feature = "pages", feature = "frame")))]
#[cfg_attr(not(feature = "pages"), allow(dead_code))] // the frame uses a few
mod dom;
#[cfg(all(target_arch = "wasm32", feature = "worker"))]
pub mod exports;
#[cfg(target_arch = "wasm32")]
pub mod idb_store;
#[cfg(all(target_arch = "wasm32", feature = "pages"))]
pub mod options_page;
#[cfg(all(target_arch = "wasm32", feature = "pages"))]
pub mod side_panel;
#[cfg(target_arch = "wasm32")]
pub mod sync_client;
#[cfg(all(target_arch = "wasm32", feature = "frame"))]
pub mod tip_frame;
#[cfg(all(target_arch = "wasm32", any(feature = "pages", feature = "frame")))]
pub mod tip_view;
