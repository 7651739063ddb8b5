//! Tip storage behind a small trait: IndexedDB in the browser ([`crate::idb_store`]),
//! memory in native tests. Both keep whole tips; a write either lands whole or not at all.

use std::cell::RefCell;
use std::collections::BTreeMap;

use inflow_core::redact::PageIdentifier;
use inflow_core::sync::{Mutation, SyncedTip};
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

/// Where tips are kept on this device, with the outbox of changes not yet acknowledged by
/// the team's server.
// reason: the extension is single-threaded wasm; no caller needs `Send` futures.
#[allow(async_fn_in_trait)]
pub trait TipStore {
    /// Inserts or replaces a tip, atomically.
    async fn put(&self, tip: &Tip) -> Result<(), StoreError>;
    /// Stores a tip and queues `mutation` to send it to the team, in one transaction: a
    /// shared tip is never stored without being queued, nor queued without being stored.
    async fn put_and_send(&self, tip: &Tip, mutation: &Mutation) -> Result<(), StoreError>;
    /// Removes tip `delete` and stores `put` (either may be absent), and queues `send`, in
    /// one transaction: an edit that takes a shared tip back, a delete and its tombstone.
    async fn replace_and_send(
        &self,
        delete: TipId,
        put: Option<&Tip>,
        send: Option<&Mutation>,
    ) -> Result<(), StoreError>;
    async fn get(&self, id: TipId) -> Result<Option<Tip>, StoreError>;
    /// Every tip whose screen key starts with `prefix`, oldest first.
    async fn with_screen_prefix(&self, prefix: &str) -> Result<Vec<Tip>, StoreError>;
    async fn count(&self) -> Result<u32, StoreError>;
    /// Every tip on this device, in id order (oldest first).
    async fn all(&self) -> Result<Vec<Tip>, StoreError>;
    /// The `limit` newest tips (by id), newest first: what a feed paints first.
    async fn newest(&self, limit: u32) -> Result<Vec<Tip>, StoreError>;
    /// The oldest queued mutations, at most `limit`.
    async fn outbox(&self, limit: u32) -> Result<Vec<Mutation>, StoreError>;
    async fn outbox_len(&self) -> Result<u32, StoreError>;
    /// After a sync round trip: drops the acknowledged mutations and stores what the team
    /// changed (a deleted tip is removed), in one transaction.
    async fn settle(&self, acked: &[TipId], changes: &[SyncedTip]) -> Result<(), StoreError>;
    /// The address of the page this device captured a shared tip on: the shared tip names
    /// only its screen (`/patients/*/orders`), and this record never leaves the device. It
    /// says which page is the tip's own (for review flags and for anchoring by position).
    async fn captured_on(&self, id: TipId) -> Result<Option<String>, StoreError>;
    async fn remember_capture(&self, id: TipId, address: &str) -> Result<(), StoreError>;
    /// The identifying values of the page a private tip was captured on, kept on this
    /// device so that sharing it later redacts them too (the page is not at hand then).
    async fn page_identifiers(&self, id: TipId) -> Result<Vec<PageIdentifier>, StoreError>;
    async fn remember_page_identifiers(&self, id: TipId, identifiers: &[PageIdentifier]) -> Result<(), StoreError>;
}

/// A store in memory, for native tests of the worker's logic.
#[derive(Default)]
pub struct MemoryStore {
    tips: RefCell<BTreeMap<TipId, Tip>>,
    outbox: RefCell<BTreeMap<TipId, Mutation>>,
    captured: RefCell<BTreeMap<TipId, String>>,
    identifiers: RefCell<BTreeMap<TipId, Vec<PageIdentifier>>>,
}

impl TipStore for MemoryStore {
    async fn put(&self, tip: &Tip) -> Result<(), StoreError> {
        self.tips.borrow_mut().insert(tip.id, tip.clone());
        Ok(())
    }

    async fn put_and_send(&self, tip: &Tip, mutation: &Mutation) -> Result<(), StoreError> {
        self.tips.borrow_mut().insert(tip.id, tip.clone());
        self.outbox.borrow_mut().insert(mutation.id, mutation.clone());
        Ok(())
    }

    async fn replace_and_send(
        &self,
        delete: TipId,
        put: Option<&Tip>,
        send: Option<&Mutation>,
    ) -> Result<(), StoreError> {
        let mut tips = self.tips.borrow_mut();
        tips.remove(&delete);
        if let Some(tip) = put {
            tips.insert(tip.id, tip.clone());
        }
        if let Some(mutation) = send {
            self.outbox.borrow_mut().insert(mutation.id, mutation.clone());
        }
        Ok(())
    }

    async fn get(&self, id: TipId) -> Result<Option<Tip>, StoreError> {
        Ok(self.tips.borrow().get(&id).cloned())
    }

    async fn with_screen_prefix(&self, prefix: &str) -> Result<Vec<Tip>, StoreError> {
        Ok(self.tips.borrow().values().filter(|tip| tip.screen.starts_with(prefix)).cloned().collect())
    }

    async fn count(&self) -> Result<u32, StoreError> {
        Ok(self.tips.borrow().len() as u32)
    }

    async fn all(&self) -> Result<Vec<Tip>, StoreError> {
        Ok(self.tips.borrow().values().cloned().collect())
    }

    async fn newest(&self, limit: u32) -> Result<Vec<Tip>, StoreError> {
        Ok(self.tips.borrow().values().rev().take(limit as usize).cloned().collect())
    }

    async fn outbox(&self, limit: u32) -> Result<Vec<Mutation>, StoreError> {
        Ok(self.outbox.borrow().values().take(limit as usize).cloned().collect())
    }

    async fn outbox_len(&self) -> Result<u32, StoreError> {
        Ok(self.outbox.borrow().len() as u32)
    }

    async fn settle(&self, acked: &[TipId], changes: &[SyncedTip]) -> Result<(), StoreError> {
        let mut outbox = self.outbox.borrow_mut();
        for id in acked {
            outbox.remove(id);
        }
        let mut tips = self.tips.borrow_mut();
        for change in changes {
            if change.is_deleted() {
                tips.remove(&change.tip.id);
            } else {
                tips.insert(change.tip.id, change.tip.clone());
            }
        }
        Ok(())
    }

    async fn captured_on(&self, id: TipId) -> Result<Option<String>, StoreError> {
        Ok(self.captured.borrow().get(&id).cloned())
    }

    async fn remember_capture(&self, id: TipId, address: &str) -> Result<(), StoreError> {
        self.captured.borrow_mut().insert(id, address.to_owned());
        Ok(())
    }

    async fn page_identifiers(&self, id: TipId) -> Result<Vec<PageIdentifier>, StoreError> {
        Ok(self.identifiers.borrow().get(&id).cloned().unwrap_or_default())
    }

    async fn remember_page_identifiers(&self, id: TipId, identifiers: &[PageIdentifier]) -> Result<(), StoreError> {
        self.identifiers.borrow_mut().insert(id, identifiers.to_vec());
        Ok(())
    }
}
