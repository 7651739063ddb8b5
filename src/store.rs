//! Tip storage behind a small trait: IndexedDB in the browser ([`crate::idb_store`]),
//! memory in native tests. Both keep whole tips; a write either lands whole or not at all.

use std::cell::RefCell;
use std::collections::BTreeMap;

use inflow_core::{Tip, TipId};

/// Why storage failed. The message is shown to the user, so it says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("The browser refused to open Inflow's storage: {0}. Check that the browser is not in a mode that blocks site data.")]
    Open(String),
    #[error("Inflow's storage failed: {0}. Nothing was saved.")]
    Io(String),
    #[error("A stored tip could not be read: {0}.")]
    Corrupt(String),
}

/// Where tips are kept on this device.
// reason: the extension is single-threaded wasm; no caller needs `Send` futures.
#[allow(async_fn_in_trait)]
pub trait TipStore {
    /// Inserts or replaces a tip, atomically.
    async fn put(&self, tip: &Tip) -> Result<(), StoreError>;
    async fn get(&self, id: TipId) -> Result<Option<Tip>, StoreError>;
    /// Every tip whose screen key is `screen`, oldest first.
    async fn on_screen(&self, screen: &str) -> Result<Vec<Tip>, StoreError>;
    async fn count(&self) -> Result<u32, StoreError>;
}

/// A store in memory, for native tests of the worker's logic.
#[derive(Default)]
pub struct MemoryStore {
    tips: RefCell<BTreeMap<TipId, Tip>>,
}

impl TipStore for MemoryStore {
    async fn put(&self, tip: &Tip) -> Result<(), StoreError> {
        self.tips.borrow_mut().insert(tip.id, tip.clone());
        Ok(())
    }

    async fn get(&self, id: TipId) -> Result<Option<Tip>, StoreError> {
        Ok(self.tips.borrow().get(&id).cloned())
    }

    async fn on_screen(&self, screen: &str) -> Result<Vec<Tip>, StoreError> {
        Ok(self.tips.borrow().values().filter(|tip| tip.screen == screen).cloned().collect())
    }

    async fn count(&self) -> Result<u32, StoreError> {
        Ok(self.tips.borrow().len() as u32)
    }
}
