//! The IndexedDB tip store, run as wasm in headless Chromium (`cargo xtask test` runs it
//! through wasm-bindgen-test-runner). Natively this file compiles to nothing.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, reason = "in tests a failed expectation is the failure report")]

use inflow_core::sync::{Change, Hlc, Mutation, SyncedTip};
use inflow_core::{NewTip, Selector, Timestamp, TipId, Visibility};
use inflow_extension::idb_store::IdbStore;
use inflow_extension::store::TipStore;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn tip(url: &str, quote: &str, ms: u64) -> inflow_core::Tip {
    NewTip {
        page_url: url.into(),
        page_title: "Orders".into(),
        note: "Hold if HR < 60".into(),
        tags: vec!["orders".into()],
        visibility: Visibility::Team,
        selectors: vec![Selector::TextQuote {
            exact: quote.into(),
            prefix: String::new(),
            suffix: String::new(),
            block: None,
        }],
    }
    .into_tip(TipId::new_v7(ms, [7; 10]), "Dana", Timestamp(ms as i64))
    .expect("valid tip")
}

async fn fresh(name: &str) -> IdbStore {
    let factory = idb::Factory::new().expect("indexedDB available");
    factory.delete(name).expect("delete request").await.expect("deleted");
    IdbStore::open(name).await.expect("opens")
}

#[wasm_bindgen_test]
async fn tips_round_trip_and_are_found_by_screen() {
    let store = fresh("inflow-test-roundtrip").await;
    let orders = tip("http://127.0.0.1:8700/patients/1/orders#top", "Metoprolol", 1_000);
    let later = tip("http://127.0.0.1:8700/patients/1/orders", "Lisinopril", 2_000);
    let notes = tip("http://127.0.0.1:8700/patients/1/notes", "dizziness", 3_000);
    for t in [&later, &notes, &orders] {
        store.put(t).await.expect("stored");
    }
    assert_eq!(store.get(orders.id).await.expect("read"), Some(orders.clone()));
    let on_orders = store.with_screen_prefix("http://127.0.0.1:8700/patients/1/orders").await.expect("read");
    assert_eq!(on_orders, vec![orders.clone(), later.clone()], "both orders tips, oldest first");
    let on_patient = store.with_screen_prefix("http://127.0.0.1:8700/patients/").await.expect("read");
    assert_eq!(on_patient.len(), 3, "a prefix finds every screen under it");
    assert_eq!(store.newest(2).await.expect("read"), vec![notes.clone(), later.clone()], "newest first");
    assert_eq!(store.newest(10).await.expect("read").len(), 3);
    assert_eq!(store.newest(1).await.expect("read"), vec![notes.clone()]);
    assert!(store.newest(0).await.expect("read").is_empty());
    assert_eq!(
        store.all().await.expect("read"),
        vec![orders.clone(), later.clone(), notes.clone()],
        "every tip, oldest first"
    );
    assert_eq!(store.count().await.expect("count"), 3);
}

#[wasm_bindgen_test]
async fn a_shared_tip_is_queued_with_it_and_leaves_the_outbox_once_acknowledged() {
    let store = fresh("inflow-test-outbox").await;
    let shared = tip("http://127.0.0.1:8700/patients/3/orders", "Heparin", 6_000);
    let mutation = Mutation {
        id: TipId::new_v7(6_001, [9; 10]),
        hlc: Hlc { wall_ms: 6_001, counter: 0, node: 3 },
        change: Change::Put { tip: Box::new(shared.clone()) },
    };
    store.put_and_send(&shared, &mutation).await.expect("stored and queued");
    assert_eq!(store.outbox(10).await.expect("outbox"), vec![mutation.clone()]);
    assert_eq!(store.outbox_len().await.expect("count"), 1);

    let from_team = tip("http://127.0.0.1:8700/patients/4/orders", "Warfarin", 7_000);
    let mut gone = SyncedTip {
        tip: shared.clone(),
        clocks: serde_json::from_value(serde_json::json!({
            "note": stamp(1), "tags": stamp(1), "visibility": stamp(1), "page_title": stamp(1)
        }))
        .expect("clocks"),
        marks: Default::default(),
        deleted: None,
    };
    let arriving = SyncedTip { tip: from_team.clone(), ..gone.clone() };
    gone.deleted = Some(serde_json::from_value(stamp(2)).expect("stamp"));
    store.settle(&[mutation.id], &[arriving, gone]).await.expect("settled");
    assert_eq!(store.outbox_len().await.expect("count"), 0, "acknowledged mutations leave the outbox");
    assert_eq!(store.get(from_team.id).await.expect("read"), Some(from_team), "the team's tip is stored");
    assert_eq!(store.get(shared.id).await.expect("read"), None, "a tip deleted by the team is removed");
}

fn stamp(ms: u64) -> serde_json::Value {
    serde_json::json!({ "hlc": Hlc { wall_ms: ms, counter: 0, node: 1 }.to_string(), "by": TipId::new_v7(ms, [1; 10]).to_string() })
}

#[wasm_bindgen_test]
async fn put_replaces_a_tip_with_the_same_id() {
    let store = fresh("inflow-test-replace").await;
    let mut original = tip("http://127.0.0.1:8700/patients/2/orders", "Apixaban", 5_000);
    store.put(&original).await.expect("stored");
    original.note = "Edited note".into();
    store.put(&original).await.expect("stored again");
    assert_eq!(store.count().await.expect("count"), 1);
    assert_eq!(store.get(original.id).await.expect("read").map(|t| t.note), Some("Edited note".into()));
}

#[wasm_bindgen_test]
async fn settings_persist_across_connections() {
    let name = "inflow-test-settings";
    let store = fresh(name).await;
    assert_eq!(store.setting("display_name").await.expect("read"), None);
    store.set_setting("display_name", "Dana (RN)").await.expect("written");
    drop(store);
    let reopened = IdbStore::open(name).await.expect("reopens");
    assert_eq!(reopened.setting("display_name").await.expect("read"), Some("Dana (RN)".into()));
}

#[wasm_bindgen_test]
async fn changes_to_settings_made_at_once_all_count() {
    let store = fresh("inflow-test-settings-at-once").await;
    // Five changes started together, as messages the worker handles at once are: each
    // awaits IndexedDB between its read and its write, so a plain read then write would
    // let all five read 0 and write 1.
    let add_one = || {
        store.change_settings(&["count", "log"], |read| {
            let count: u32 = read[0].as_deref().and_then(|t| t.parse().ok()).unwrap_or(0) + 1;
            let log = format!("{}{count},", read[1].as_deref().unwrap_or(""));
            (vec![("count", count.to_string()), ("log", log)], count)
        })
    };
    let answers = futures::future::join_all((0..5).map(|_| add_one())).await;
    let mut seen: Vec<u32> = answers.into_iter().map(|a| a.expect("changed")).collect();
    seen.sort_unstable();
    assert_eq!(seen, [1, 2, 3, 4, 5], "each change read the one before it");
    assert_eq!(store.setting("count").await.expect("read"), Some("5".into()));
    assert_eq!(store.setting("log").await.expect("read"), Some("1,2,3,4,5,".into()), "both keys, written together");
}
