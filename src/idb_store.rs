//! [`TipStore`] on IndexedDB, in the extension's own origin (service worker, side panel,
//! options page; never the web page's origin).

use idb::{
    CursorDirection, Database, DatabaseEvent, Factory, IndexParams, KeyPath, KeyRange, ObjectStoreParams, Query,
    TransactionMode,
};
use inflow_core::redact::PageIdentifier;
use inflow_core::sync::{Mutation, SyncedTip};
use inflow_core::{Tip, TipId};
use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::store::{StoreError, TipStore};

/// The database every extension context opens.
pub const DATABASE: &str = "inflow";
const VERSION: u32 = 2;
/// The settings key prefix of a shared tip's own page address (see
/// [`TipStore::captured_on`]).
const CAPTURED_ON: &str = "capturedOn:";
/// The settings key prefix of a private tip's page identifiers (see
/// [`TipStore::page_identifiers`]).
const IDENTIFIERS_OF: &str = "identifiersOf:";
const TIPS: &str = "tips";
/// Mutations waiting for the server's acknowledgement, keyed by mutation id (UUIDv7, so
/// key order is the order they were made in).
const OUTBOX: &str = "outbox";
const BY_SCREEN: &str = "by_screen";
const SETTINGS: &str = "settings";

/// Tips and settings in IndexedDB.
pub struct IdbStore {
    db: Database,
}

impl IdbStore {
    /// Opens (creating or upgrading) the database named `name`.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let factory = Factory::new().map_err(|e| StoreError::Open(e.to_string()))?;
        let mut request = factory.open(name, Some(VERSION)).map_err(|e| StoreError::Open(e.to_string()))?;
        request.on_upgrade_needed(|event| {
            // Each schema version adds to the one before, so any old database upgrades.
            let Ok(db) = event.database() else { return };
            let old = event.old_version().unwrap_or(0);
            if old < 1 {
                let mut params = ObjectStoreParams::new();
                params.key_path(Some(KeyPath::new_single("id")));
                if let Ok(tips) = db.create_object_store(TIPS, params) {
                    let _ = tips.create_index(BY_SCREEN, KeyPath::new_single("screen"), Some(IndexParams::new()));
                }
                let _ = db.create_object_store(SETTINGS, ObjectStoreParams::new());
            }
            if old < 2 {
                let mut params = ObjectStoreParams::new();
                params.key_path(Some(KeyPath::new_single("id")));
                let _ = db.create_object_store(OUTBOX, params);
            }
        });
        let db = request.await.map_err(|e| StoreError::Open(e.to_string()))?;
        Ok(IdbStore { db })
    }

    /// Takes over a connection a page opened early (see `extension/sidepanel.js`), when it
    /// is at the version this code needs; otherwise closes it and opens (and upgrades) the
    /// database itself.
    pub async fn adopt(connection: JsValue, name: &str) -> Result<Self, StoreError> {
        use wasm_bindgen::JsCast;
        match connection.dyn_into::<web_sys::IdbDatabase>() {
            Ok(db) if db.version() as u32 == VERSION => Ok(IdbStore { db: Database::from(db) }),
            Ok(db) => {
                db.close(); // it would block the upgrade
                Self::open(name).await
            }
            Err(_) => Self::open(name).await,
        }
    }

    /// A setting, or `None` when it was never set.
    pub async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let tx = self.db.transaction(&[SETTINGS], TransactionMode::ReadOnly).map_err(io)?;
        let store = tx.object_store(SETTINGS).map_err(io)?;
        let value = store.get(Query::Key(JsValue::from_str(key))).map_err(io)?.await.map_err(io)?;
        Ok(value.and_then(|v| v.as_string()))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[SETTINGS], TransactionMode::ReadWrite).map_err(io)?;
        let store = tx.object_store(SETTINGS).map_err(io)?;
        store.put(&JsValue::from_str(value), Some(&JsValue::from_str(key))).map_err(io)?.await.map_err(io)?;
        commit(tx).await
    }

    /// Reads the settings `keys`, lets `change` work out what to write from what it read
    /// (`None`: never set), and writes that, all in one transaction. IndexedDB runs
    /// read-write transactions over the same store one after another, so two changes made
    /// at once (a step kept while a Next is pressed, a send finishing while a record is
    /// marked) each see the other's write instead of both reading the old value and one
    /// write undoing the other. `change` answers the writes and what the caller keeps.
    pub async fn change_settings<R>(
        &self,
        keys: &[&str],
        change: impl FnOnce(Vec<Option<String>>) -> (Vec<(&'static str, String)>, R),
    ) -> Result<R, StoreError> {
        let tx = self.db.transaction(&[SETTINGS], TransactionMode::ReadWrite).map_err(io)?;
        let store = tx.object_store(SETTINGS).map_err(io)?;
        let mut read = Vec::with_capacity(keys.len());
        for key in keys {
            let value = store.get(Query::Key(JsValue::from_str(key))).map_err(io)?.await.map_err(io)?;
            read.push(value.and_then(|v| v.as_string()));
        }
        // Only IndexedDB's own requests are awaited from here to the commit: anything else
        // would let the transaction end before the writes.
        let (writes, kept) = change(read);
        for (key, value) in writes {
            store.put(&JsValue::from_str(&value), Some(&JsValue::from_str(key))).map_err(io)?.await.map_err(io)?;
        }
        commit(tx).await?;
        Ok(kept)
    }
}

impl TipStore for IdbStore {
    async fn put(&self, tip: &Tip) -> Result<(), StoreError> {
        let value = to_js(tip)?;
        let tx = self.db.transaction(&[TIPS], TransactionMode::ReadWrite).map_err(io)?;
        let store = tx.object_store(TIPS).map_err(io)?;
        store.put(&value, None).map_err(io)?.await.map_err(io)?;
        commit(tx).await
    }

    async fn put_and_send(&self, tip: &Tip, mutation: &Mutation) -> Result<(), StoreError> {
        let (tip_value, mutation_value) = (to_js(tip)?, to_js(mutation)?);
        let tx = self.db.transaction(&[TIPS, OUTBOX], TransactionMode::ReadWrite).map_err(io)?;
        tx.object_store(TIPS).map_err(io)?.put(&tip_value, None).map_err(io)?.await.map_err(io)?;
        tx.object_store(OUTBOX).map_err(io)?.put(&mutation_value, None).map_err(io)?.await.map_err(io)?;
        commit(tx).await
    }

    async fn replace_and_send(
        &self,
        delete: TipId,
        put: Option<&Tip>,
        send: Option<&Mutation>,
    ) -> Result<(), StoreError> {
        let put = put.map(to_js).transpose()?;
        let send = send.map(to_js).transpose()?;
        let tx = self.db.transaction(&[TIPS, OUTBOX], TransactionMode::ReadWrite).map_err(io)?;
        let tips = tx.object_store(TIPS).map_err(io)?;
        tips.delete(Query::Key(JsValue::from_str(&delete.to_string()))).map_err(io)?.await.map_err(io)?;
        if let Some(tip) = put {
            tips.put(&tip, None).map_err(io)?.await.map_err(io)?;
        }
        if let Some(mutation) = send {
            tx.object_store(OUTBOX).map_err(io)?.put(&mutation, None).map_err(io)?.await.map_err(io)?;
        }
        commit(tx).await
    }

    async fn get(&self, id: TipId) -> Result<Option<Tip>, StoreError> {
        let tx = self.db.transaction(&[TIPS], TransactionMode::ReadOnly).map_err(io)?;
        let store = tx.object_store(TIPS).map_err(io)?;
        let value = store.get(Query::Key(JsValue::from_str(&id.to_string()))).map_err(io)?.await.map_err(io)?;
        value.map(from_js).transpose()
    }

    async fn with_screen_prefix(&self, prefix: &str) -> Result<Vec<Tip>, StoreError> {
        let tx = self.db.transaction(&[TIPS], TransactionMode::ReadOnly).map_err(io)?;
        let index = tx.object_store(TIPS).map_err(io)?.index(BY_SCREEN).map_err(io)?;
        // Every string that starts with `prefix` sorts between it and prefix + U+FFFF.
        let range =
            KeyRange::bound(&JsValue::from_str(prefix), &JsValue::from_str(&format!("{prefix}\u{ffff}")), None, None)
                .map_err(io)?;
        let values = index.get_all(Some(Query::KeyRange(range)), None).map_err(io)?.await.map_err(io)?;
        let mut tips = values.into_iter().map(from_js).collect::<Result<Vec<Tip>, _>>()?;
        tips.sort_by_key(|tip| tip.id);
        Ok(tips)
    }

    async fn count(&self) -> Result<u32, StoreError> {
        let tx = self.db.transaction(&[TIPS], TransactionMode::ReadOnly).map_err(io)?;
        let store = tx.object_store(TIPS).map_err(io)?;
        store.count(None).map_err(io)?.await.map_err(io)
    }

    async fn all(&self) -> Result<Vec<Tip>, StoreError> {
        let tx = self.db.transaction(&[TIPS], TransactionMode::ReadOnly).map_err(io)?;
        let values = tx.object_store(TIPS).map_err(io)?.get_all(None, None).map_err(io)?.await.map_err(io)?;
        values.into_iter().map(from_js).collect()
    }

    async fn newest(&self, limit: u32) -> Result<Vec<Tip>, StoreError> {
        let tx = self.db.transaction(&[TIPS], TransactionMode::ReadOnly).map_err(io)?;
        let store = tx.object_store(TIPS).map_err(io)?;
        // Ids are UUIDv7, so the last keys are the newest tips. A key cursor from the end,
        // stepped back once to the limit-th newest key, then one range of values: reading
        // every key instead costs 50 ms with 10,000 tips, and a cursor per value a round
        // trip per tip.
        if limit == 0 {
            return Ok(Vec::new());
        }
        let Some(cursor) = store.open_key_cursor(None, Some(CursorDirection::Prev)).map_err(io)?.await.map_err(io)?
        else {
            return Ok(Vec::new());
        };
        let mut cursor = cursor.into_managed();
        if limit > 1 {
            cursor.advance(limit - 1).await.map_err(io)?;
        }
        // A finished cursor (fewer tips than the limit) means every tip is wanted.
        let range = match cursor.key().map_err(io)? {
            Some(oldest_wanted) => Some(Query::KeyRange(KeyRange::lower_bound(&oldest_wanted, None).map_err(io)?)),
            None => None,
        };
        let values = store.get_all(range, None).map_err(io)?.await.map_err(io)?;
        let mut tips = values.into_iter().map(from_js).collect::<Result<Vec<Tip>, _>>()?;
        tips.reverse();
        Ok(tips)
    }

    async fn outbox(&self, limit: u32) -> Result<Vec<Mutation>, StoreError> {
        let tx = self.db.transaction(&[OUTBOX], TransactionMode::ReadOnly).map_err(io)?;
        let values = tx.object_store(OUTBOX).map_err(io)?.get_all(None, Some(limit)).map_err(io)?.await.map_err(io)?;
        values.into_iter().map(from_js).collect()
    }

    async fn outbox_len(&self) -> Result<u32, StoreError> {
        let tx = self.db.transaction(&[OUTBOX], TransactionMode::ReadOnly).map_err(io)?;
        tx.object_store(OUTBOX).map_err(io)?.count(None).map_err(io)?.await.map_err(io)
    }

    async fn settle(&self, acked: &[TipId], changes: &[SyncedTip]) -> Result<(), StoreError> {
        let tx = self.db.transaction(&[TIPS, OUTBOX], TransactionMode::ReadWrite).map_err(io)?;
        let outbox = tx.object_store(OUTBOX).map_err(io)?;
        for id in acked {
            outbox.delete(Query::Key(JsValue::from_str(&id.to_string()))).map_err(io)?.await.map_err(io)?;
        }
        let tips = tx.object_store(TIPS).map_err(io)?;
        for change in changes {
            if change.is_deleted() {
                tips.delete(Query::Key(JsValue::from_str(&change.tip.id.to_string())))
                    .map_err(io)?
                    .await
                    .map_err(io)?;
            } else {
                tips.put(&to_js(&change.tip)?, None).map_err(io)?.await.map_err(io)?;
            }
        }
        commit(tx).await
    }

    async fn captured_on(&self, id: TipId) -> Result<Option<String>, StoreError> {
        self.setting(&format!("{CAPTURED_ON}{id}")).await
    }

    async fn remember_capture(&self, id: TipId, address: &str) -> Result<(), StoreError> {
        self.set_setting(&format!("{CAPTURED_ON}{id}"), address).await
    }

    async fn page_identifiers(&self, id: TipId) -> Result<Vec<PageIdentifier>, StoreError> {
        let stored = self.setting(&format!("{IDENTIFIERS_OF}{id}")).await?;
        Ok(stored.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default())
    }

    async fn remember_page_identifiers(&self, id: TipId, identifiers: &[PageIdentifier]) -> Result<(), StoreError> {
        let json = serde_json::to_string(identifiers).map_err(|e| StoreError::Io(e.to_string()))?;
        self.set_setting(&format!("{IDENTIFIERS_OF}{id}"), &json).await
    }
}

/// Waits until the transaction is durable; an aborted one is an error, so a caller never
/// reports a save that did not happen.
async fn commit(tx: idb::Transaction) -> Result<(), StoreError> {
    match tx.await.map_err(io)? {
        idb::TransactionResult::Committed => Ok(()),
        idb::TransactionResult::Aborted => Err(StoreError::Io("the write was aborted".into())),
    }
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, StoreError> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| StoreError::Io(e.to_string()))
}

/// Reads a stored value through JSON text: one `JSON.stringify` and one parse in wasm cost
/// far less than a boundary crossing per field (a tip has dozens), which is what reading
/// thousands of tips spends its time on.
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue) -> Result<T, StoreError> {
    let text: String = js_sys::JSON::stringify(&value)
        .map_err(|_| StoreError::Corrupt("a stored value is not JSON".to_owned()))?
        .into();
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn io(error: idb::Error) -> StoreError {
    StoreError::Io(error.to_string())
}
