//! The sync API against real databases: SQLite always, PostgreSQL when
//! `INFLOW_TEST_DATABASE_URL` names a server (a fresh database is made for each test).
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "in tests a failed expectation is the failure report")]

use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use inflow_core::sync::{Change, Hlc, Mutation};
use inflow_core::{NewTip, Selector, Timestamp, TipId, Visibility};
use inflow_server::auth::Role;
use inflow_server::db::Db;
use inflow_server::{app, AppState};
use serde_json::{json, Value};
use tower::ServiceExt;

/// A fresh database of every kind this machine has, with a name for messages.
async fn databases() -> Vec<(String, Db)> {
    let mut dbs = Vec::new();
    for (kind, url) in empty_databases().await {
        dbs.push((kind.clone(), Db::connect(&url).await.unwrap_or_else(|e| panic!("{kind} opens: {e}"))));
    }
    dbs
}

/// The address of a new, empty database of every kind this machine has.
async fn empty_databases() -> Vec<(String, String)> {
    let dir = std::env::temp_dir().join(format!("inflow-test-{}", inflow_server::db::new_id()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let mut urls = vec![("sqlite".to_owned(), format!("sqlite://{}?mode=rwc", dir.join("inflow.db").display()))];
    match std::env::var("INFLOW_TEST_DATABASE_URL") {
        Ok(admin_url) => {
            let name = format!("inflow_test_{}", inflow_server::db::new_id().replace('-', "_"));
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&admin_url).await.expect("PostgreSQL at INFLOW_TEST_DATABASE_URL");
            // Sweep databases earlier runs left behind; those in use by tests running now
            // cannot be dropped, and that refusal is what keeps them.
            let old: Vec<String> = sqlx::query(
                "SELECT CAST(datname AS TEXT) AS datname FROM pg_database WHERE datname LIKE 'inflow_test_%'",
            )
            .fetch_all(&admin)
            .await
            .map(|rows| rows.iter().filter_map(|r| sqlx::Row::try_get::<String, _>(r, "datname").ok()).collect())
            .unwrap_or_default();
            for stale in old {
                let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {stale}")).execute(&admin).await;
            }
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin).await.expect("create test database");
            let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
            urls.push(("postgres".to_owned(), format!("{base}/{name}")));
        }
        Err(_) => eprintln!("INFLOW_TEST_DATABASE_URL is not set: testing SQLite only"),
    }
    urls
}

/// The server on one database of [`databases`], with the requests a test makes of it.
struct TestApp {
    /// "sqlite" or "postgres", for messages.
    kind: String,
    db: Db,
}

/// A [`TestApp`] for every kind of database this machine has.
async fn apps() -> Vec<TestApp> {
    databases().await.into_iter().map(|(kind, db)| TestApp { kind, db }).collect()
}

impl TestApp {
    /// A new team with `members`, as the CLI would make it.
    async fn team(&self, members: &[(&str, Role)]) -> Team {
        team(&self.db, members).await
    }

    /// `POST /v1/sync` with `token`.
    async fn sync(&self, token: &str, request: Value) -> (StatusCode, Value) {
        sync(&self.db, token, request).await
    }

    /// Any JSON request with `token`.
    async fn request(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        send(&self.db, token, method, path, body).await
    }
}

/// A team with members, as the CLI would make them.
struct Team {
    id: String,
    /// Unique on the server, as team names are.
    name: String,
    /// Each member's name and bearer token.
    tokens: Vec<(String, String)>,
}

impl Team {
    /// The token of the member called `name`.
    fn token(&self, name: &str) -> &str {
        self.tokens
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or_else(|| panic!("no member {name}"))
    }
}

async fn team(db: &Db, members: &[(&str, Role)]) -> Team {
    let name = format!("4 West {}", inflow_server::db::new_id());
    let id = db.create_team(&name).await.expect("team").expect("a new name");
    let mut tokens = Vec::new();
    for (name, role) in members {
        tokens.push(((*name).to_owned(), db.add_member(&id, name, *role).await.expect("member").1));
    }
    Team { id, name, tokens }
}

/// The app on `db` answers `request`, in process (every helper below goes through here).
async fn respond(db: &Db, request: Request<Body>) -> axum::response::Response {
    app(AppState { db: db.clone(), hub: Default::default(), metrics: Default::default() })
        .oneshot(request)
        .await
        .expect("response")
}

async fn call(db: &Db, token: &str, body: &str) -> (StatusCode, Value) {
    let (status, _, answer) = raw(db, token, "POST", "/v1/sync", "application/json", body.as_bytes().to_vec()).await;
    (status, answer)
}

async fn sync(db: &Db, token: &str, request: Value) -> (StatusCode, Value) {
    call(db, token, &request.to_string()).await
}

/// A JSON request to any endpoint (`send`) or a raw one (`raw`), answered as JSON.
async fn send(db: &Db, token: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (status, _, answer) = raw(db, token, method, path, "application/json", body).await;
    (status, answer)
}

static NEXT: AtomicU32 = AtomicU32::new(1);

/// An id no other call in this process gives: the counter fills the random part (a race
/// test makes hundreds in one millisecond).
fn unique_id() -> TipId {
    let n = NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes();
    let pid = std::process::id().to_be_bytes();
    let random = [pid[2], pid[3], n[0], n[1], n[2], n[3], n[0] ^ 0x5a, n[1], n[2], n[3]];
    TipId::new_v7(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64,
        random,
    )
}

/// A shared tip as the extension sends one: its screen's address, not a patient's.
fn new_tip(author: &str, quote: &str) -> inflow_core::Tip {
    NewTip {
        page_url: "http://127.0.0.1:8700/patients/*/orders".into(),
        page_title: "Orders".into(),
        note: "Check the renal panel first".into(),
        tags: vec!["orders".into()],
        visibility: Visibility::Team,
        selectors: vec![Selector::TextQuote {
            exact: quote.into(),
            prefix: String::new(),
            suffix: String::new(),
            block: None,
        }],
    }
    .into_tip(unique_id(), author, Timestamp(1_795_000_000_000))
    .expect("valid tip")
}

fn mutation(ms: u64, change: Change) -> Mutation {
    Mutation { id: unique_id(), hlc: Hlc { wall_ms: ms, counter: 0, node: 1 }, change }
}

fn push(mutations: &[Mutation]) -> Value {
    json!({ "mutations": mutations })
}

#[tokio::test]
async fn a_push_reaches_teammates_and_a_retried_push_changes_nothing() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member)]).await;
        let put = mutation(10, Change::Put { tip: Box::new(new_tip("Dana", "Heparin 5,000 units")) });
        let (status, first) = server.sync(t.token("Dana"), push(std::slice::from_ref(&put))).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {first}");
        assert_eq!(first["acked"], json!([put.id]));

        let (_, teammate) = server.sync(t.token("Sam"), json!({})).await;
        assert_eq!(teammate["changes"].as_array().map(Vec::len), Some(1), "{kind}");
        assert_eq!(teammate["changes"][0]["tip"]["note"], "Check the renal panel first");
        let cursor = teammate["cursor"].clone();

        let (status, retry) = server.sync(t.token("Dana"), push(std::slice::from_ref(&put))).await;
        assert_eq!(
            (status, retry["acked"].clone()),
            (StatusCode::OK, json!([put.id])),
            "{kind}: a retry is acknowledged"
        );
        let (_, after) = server.sync(t.token("Sam"), json!({ "cursor": cursor })).await;
        assert_eq!(after["changes"], json!([]), "{kind}: a retry applies nothing new");
    }
}

#[tokio::test]
async fn teams_see_nothing_of_each_other_and_ids_cannot_collide() {
    for server in apps().await {
        let kind = &server.kind;
        let ours = server.team(&[("Dana", Role::Member)]).await;
        let theirs = server.team(&[("Mallory", Role::Admin)]).await;
        let tip = new_tip("Dana", "Lisinopril 10 mg");
        let (status, _) =
            server.sync(ours.token("Dana"), push(&[mutation(10, Change::Put { tip: Box::new(tip.clone()) })])).await;
        assert_eq!(status, StatusCode::OK);

        let (_, seen) = server.sync(theirs.token("Mallory"), json!({})).await;
        assert_eq!(seen["changes"], json!([]), "{kind}: another team sees nothing");

        let mut stolen = tip.clone();
        stolen.author = "Mallory".into();
        let (status, body) =
            server.sync(theirs.token("Mallory"), push(&[mutation(20, Change::Put { tip: Box::new(stolen) })])).await;
        assert_eq!(status, StatusCode::CONFLICT, "{kind}: {body}");
        let (status, body) =
            server.sync(theirs.token("Mallory"), push(&[mutation(20, Change::Delete { tip_id: tip.id })])).await;
        assert_eq!(status, StatusCode::CONFLICT, "{kind}: {body}");

        let (_, ours_now) = server.sync(ours.token("Dana"), json!({})).await;
        assert_eq!(ours_now["changes"][0]["tip"]["author"], "Dana", "{kind}: nothing changed");
        assert!(ours_now["changes"][0].get("deleted").is_none());

        let (status, body) = server.sync(theirs.token("Mallory"), json!({ "cursor": ours_now["cursor"] })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{kind}: {body}");
        assert!(body["message"].as_str().unwrap_or("").contains("another team"));
        assert!(!ours.id.is_empty());
    }
}

#[tokio::test]
async fn bad_and_revoked_tokens_are_refused_at_once() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Dana", Role::Member)]).await;
        let token = t.token("Dana");
        assert_eq!(server.sync(token, json!({})).await.0, StatusCode::OK);
        for bad in ["", "inflow_nobody_secret", &token.replace('a', "b"), &format!("{token}0")] {
            let (status, body) = server.sync(bad, json!({})).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{kind}: {bad:?}");
            assert_eq!(body["error"], "unauthorized");
        }
        let member_id = token.trim_start_matches("inflow_").rsplit_once('_').expect("token shape").0;
        assert!(db.revoke_member(member_id).await.expect("revoke"));
        assert_eq!(server.sync(token, json!({})).await.0, StatusCode::UNAUTHORIZED, "{kind}: revoked at once");
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Dana", Role::Member)]).await;
        let token = t.token("Dana");
        let good = mutation(10, Change::Put { tip: Box::new(new_tip("Dana", "Apixaban 5 mg")) });
        let mut long_note = new_tip("Dana", "Furosemide 40 mg");
        long_note.note = "x".repeat(10_001);
        let mut private = new_tip("Dana", "Ondansetron 4 mg");
        private.visibility = Visibility::Private;
        let cases: Vec<(&str, String, StatusCode)> = vec![
            ("malformed JSON", "{\"mutations\": [".to_owned(), StatusCode::BAD_REQUEST),
            ("wrong type", json!({ "mutations": "all" }).to_string(), StatusCode::BAD_REQUEST),
            ("unknown field", json!({ "mutations": [], "admin": true }).to_string(), StatusCode::BAD_REQUEST),
            ("bad cursor", json!({ "cursor": "c1.x.y.z" }).to_string(), StatusCode::BAD_REQUEST),
            ("too many mutations", push(&vec![good.clone(); 501]).to_string(), StatusCode::PAYLOAD_TOO_LARGE),
            (
                "oversized note, after a good one",
                push(&[good.clone(), mutation(11, Change::Put { tip: Box::new(long_note) })]).to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "a private tip",
                push(&[good.clone(), mutation(12, Change::Put { tip: Box::new(private) })]).to_string(),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                "a patch of no tip",
                push(&[mutation(13, Change::Delete { tip_id: unique_id() })]).to_string(),
                StatusCode::NOT_FOUND,
            ),
            (
                "oversized body",
                format!("{{\"mutations\": [], \"cursor\": \"{}\"}}", "x".repeat(inflow_server::MAX_BODY_BYTES)),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (what, body, expected) in cases {
            let (status, answer) = call(db, token, &body).await;
            assert_eq!(status, expected, "{kind}: {what}: {answer}");
            assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()), "{kind}: {what}: a message for people");
        }
        let (_, pulled) = server.sync(token, json!({})).await;
        assert_eq!(pulled["changes"], json!([]), "{kind}: a rejected push applies nothing, not even its good part");
    }
}

#[tokio::test]
async fn only_the_author_edits_and_deletes_and_curators_retire_instead() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member), ("Cory", Role::Curator)]).await;
        let tip = new_tip("Dana", "Metoprolol tartrate 25 mg");
        assert_eq!(
            server.sync(t.token("Dana"), push(&[mutation(10, Change::Put { tip: Box::new(tip.clone()) })])).await.0,
            StatusCode::OK
        );
        let edit = |ms| {
            mutation(
                ms,
                Change::Patch {
                    tip_id: tip.id,
                    note: Some("Sam's rewrite".into()),
                    tags: None,
                    visibility: None,
                    page_title: None,
                },
            )
        };
        let (status, body) = server.sync(t.token("Sam"), push(&[edit(20)])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: {body}");
        let (status, _) = server.sync(t.token("Sam"), push(&[mutation(21, Change::Delete { tip_id: tip.id })])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: a member may not delete another's tip");
        let (status, _) = server.sync(t.token("Cory"), push(&[mutation(22, Change::Delete { tip_id: tip.id })])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: nor a curator: curators retire");
        let (status, body) =
            server.sync(t.token("Dana"), push(&[mutation(23, Change::Delete { tip_id: tip.id })])).await;
        assert_eq!(status, StatusCode::OK, "{kind}: the author deletes: {body}");
        let (_, pulled) = server.sync(t.token("Sam"), json!({})).await;
        assert!(pulled["changes"][0]["deleted"]["hlc"].is_string(), "{kind}: the tombstone syncs: {pulled}");
        assert_eq!(
            pulled["changes"][0]["tip"]["note"], "Check the renal panel first",
            "{kind}: Sam's edit did not land"
        );
    }
}

#[tokio::test]
async fn teammates_reply_and_mark_helpful_in_their_own_names() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member)]).await;
        let tip = new_tip("Dana", "Apixaban 5 mg");
        assert_eq!(
            server.sync(t.token("Dana"), push(&[mutation(10, Change::Put { tip: Box::new(tip.clone()) })])).await.0,
            StatusCode::OK
        );
        let reply = |author: &str| inflow_core::model::Reply {
            id: unique_id(),
            author: author.into(),
            created: Timestamp(1_795_000_000_500),
            text: "It is under Favourites now.".into(),
        };
        let (status, body) = sync(
            db,
            t.token("Sam"),
            push(&[
                mutation(20, Change::Reply { tip_id: tip.id, reply: reply("Sam") }),
                mutation(21, Change::Helpful { tip_id: tip.id, by: "Sam".into(), helpful: true }),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        let (status, _) = server
            .sync(t.token("Sam"), push(&[mutation(22, Change::Reply { tip_id: tip.id, reply: reply("Dana") })]))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: no reply in another's name");
        let (status, _) = sync(
            db,
            t.token("Sam"),
            push(&[mutation(23, Change::Helpful { tip_id: tip.id, by: "Dana".into(), helpful: true })]),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: no mark in another's name");
        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        let stored = &pulled["changes"][0]["tip"];
        assert_eq!(stored["replies"][0]["text"], "It is under Favourites now.", "{kind}: {pulled}");
        assert_eq!(stored["replies"].as_array().map(Vec::len), Some(1), "{kind}");
        assert_eq!(stored["helpful"], json!(["Sam"]), "{kind}");
        assert_eq!(stored["note"], "Check the renal panel first", "{kind}: the author's note is untouched");
    }
}

#[tokio::test]
async fn members_propose_and_flag_and_only_curators_approve_retire_and_reword() {
    use inflow_core::curation::Action;
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member), ("Cory", Role::Curator)]).await;
        let tip = new_tip("Dana", "Heparin 5,000 units");
        assert_eq!(
            server.sync(t.token("Dana"), push(&[mutation(10, Change::Put { tip: Box::new(tip.clone()) })])).await.0,
            StatusCode::OK
        );
        let step = |ms, by: &str, step| mutation(ms, Change::Curate { tip_id: tip.id, by: by.into(), step });
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let approve = |ms, by: &str| {
            step(ms, by, Action::Approve { verify_by: inflow_core::curation::default_verify_by(Timestamp(now)) })
        };

        let (status, body) = sync(
            db,
            t.token("Sam"),
            push(&[
                step(20, "Sam", Action::Propose),
                step(21, "Sam", Action::Flag { reason: "quote not found".into() }),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind}: any member proposes and flags: {body}");
        for refused in [
            approve(22, "Sam"),
            step(23, "Sam", Action::Retire),
            step(24, "Sam", Action::Reword { title: "Mine now".into(), summary: String::new() }),
        ] {
            let (status, body) = server.sync(t.token("Sam"), push(&[refused])).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: {body}");
            assert!(body["message"].as_str().unwrap_or_default().starts_with("only curators can"), "{kind}: {body}");
        }
        let (status, _) = server.sync(t.token("Cory"), push(&[approve(25, "Dana")])).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: a curator signs steps with their own name");
        let long_ago = step(26, "Cory", Action::Approve { verify_by: Timestamp(now - 1000) });
        let (status, body) = server.sync(t.token("Cory"), push(&[long_ago])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: a verify-again date in the past: {body}");
        let (status, body) = sync(
            db,
            t.token("Cory"),
            push(&[
                approve(27, "Cory"),
                step(
                    28,
                    "Cory",
                    Action::Reword {
                        title: "Heparin order set".into(),
                        summary: "Under Favourites since the upgrade.".into(),
                    },
                ),
            ]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");

        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        let curation = &pulled["changes"][0]["tip"]["curation"];
        assert_eq!(curation["status"], "approved", "{kind}: {pulled}");
        assert_eq!(curation["verified"]["by"], "Cory", "{kind}");
        assert!(curation["needsReview"].is_null(), "{kind}: approval answered the flag");
        assert_eq!(curation["title"], "Heparin order set", "{kind}");
        assert_eq!(
            pulled["changes"][0]["tip"]["note"], "Check the renal panel first",
            "{kind}: the author's note stays"
        );
        assert_eq!(
            curation["history"].as_array().map(Vec::len),
            Some(4),
            "{kind}: proposed, flagged, approved, titled: {curation}"
        );

        let (status, _) = server.sync(t.token("Cory"), push(&[step(29, "Cory", Action::Retire)])).await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        let (status, body) = server.sync(t.token("Sam"), push(&[step(30, "Sam", Action::Propose)])).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind}: a retired tip is reopened by a curator, not proposed: {body}"
        );
    }
}

#[tokio::test]
async fn members_record_walkthroughs_concurrently_and_only_curators_read_who() {
    use inflow_core::walkthrough::Record;
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member), ("Cory", Role::Curator)]).await;
        let id = unique_id();
        let body = json!({ "name": "Orders tour", "tips": [unique_id(), unique_id(), unique_id()],
                           "walkthrough": { "title": "Orders after the upgrade" } });
        let (status, answer) =
            server.request(t.token("Cory"), "PUT", &format!("/v1/collections/{id}"), Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {answer}");
        let path = format!("/v1/walkthroughs/{id}/record");
        let at = |ms: i64| inflow_core::Timestamp(1_800_000_000_000 + ms);

        // Dana's two devices send at once, each its own view of how far she got: nothing is lost.
        let records: Vec<Record> = (0..12)
            .map(|n| {
                let mut record = Record::started(id, 3, at(n));
                record.reach(1 + (n as usize % 3), at(n + 1));
                record.tried(1 + (n as usize % 3), n % 4 == 0, at(n + 1));
                if n == 7 {
                    record.complete(at(50));
                }
                record
            })
            .collect();
        let sends = records.iter().map(|r| server.request(t.token("Dana"), "PUT", &path, Some(json!(r))));
        for (status, answer) in futures_util::future::join_all(sends).await {
            assert_eq!(status, StatusCode::OK, "{kind}: {answer}");
        }
        let expected = records.iter().skip(1).fold(records[0].clone(), |merged, r| merged.merge(r));
        let mut sam = Record::started(id, 3, at(0));
        sam.reach(2, at(3));
        let (status, _) = server.request(t.token("Sam"), "PUT", &path, Some(json!(sam))).await;
        assert_eq!(status, StatusCode::OK, "{kind}");

        let (status, answer) =
            server.request(t.token("Sam"), "GET", &format!("/v1/walkthroughs/{id}/records"), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: names only to curators: {answer}");
        let (status, answer) =
            server.request(t.token("Cory"), "GET", &format!("/v1/walkthroughs/{id}/records"), None).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {answer}");
        assert_eq!(answer["records"][0]["member"], "Dana", "{kind}");
        assert_eq!(answer["records"][0]["record"], json!(expected), "{kind}: every write merged in");
        assert_eq!(answer["records"][1]["member"], "Sam", "{kind}");
        assert_eq!(
            answer["inWords"],
            [
                "2 started",
                "1 completed",
                "1 stopped at step 2",
                "step 1 was not found on 1 of 1 tries",
                "step 2 was not found on 1 of 1 tries",
                "step 3 was not found on 1 of 1 tries",
            ]
            .join(" \u{b7} "),
            "{kind}: {answer}"
        );

        let plain = unique_id();
        let body = json!({ "name": "Plain", "tips": [] });
        server.request(t.token("Cory"), "PUT", &format!("/v1/collections/{plain}"), Some(body)).await;
        let record = Record::started(plain, 1, at(0));
        let (status, _) = server
            .request(t.token("Dana"), "PUT", &format!("/v1/walkthroughs/{plain}/record"), Some(json!(record)))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{kind}: not a walkthrough");
        let (status, answer) = server.request(t.token("Dana"), "PUT", &path, Some(json!(record))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: another walkthrough's record: {answer}");
        let bad = Record { reached: 9, ..Record::started(id, 3, at(0)) };
        let (status, _) = server.request(t.token("Dana"), "PUT", &path, Some(json!(bad))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
    }
}

#[tokio::test]
async fn curators_keep_collections_and_rename_tags_for_the_team() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Dana", Role::Member), ("Cory", Role::Curator)]).await;
        let (a, b) = (new_tip("Dana", "Heparin 5,000 units"), new_tip("Dana", "Apixaban 5 mg"));
        let mut b = b;
        b.tags = vec!["order sets".into(), "labs".into()];
        assert_eq!(
            sync(
                db,
                t.token("Dana"),
                push(&[
                    mutation(10, Change::Put { tip: Box::new(a.clone()) }),
                    mutation(11, Change::Put { tip: Box::new(b.clone()) })
                ])
            )
            .await
            .0,
            StatusCode::OK
        );
        let path = format!("/v1/collections/{}", unique_id());
        let body = json!({ "name": "Orders after the March upgrade", "tips": [b.id, a.id] });
        let (status, answer) = server.request(t.token("Dana"), "PUT", &path, Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: members read collections, curators change them: {answer}");
        let (status, answer) = server.request(t.token("Cory"), "PUT", &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {answer}");
        assert_eq!(answer["by"], "Cory");
        let (status, answer) =
            server.request(t.token("Cory"), "PUT", &path, Some(json!({ "name": " ", "tips": [] }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {answer}");
        let (status, listed) = server.request(t.token("Dana"), "GET", "/v1/collections", None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed["collections"][0]["tips"], json!([b.id, a.id]), "{kind}: in the curator's order");
        assert_eq!(listed["collections"][0].get("walkthrough"), None, "{kind}: a plain collection");
        // Played as a walkthrough: kept with the collection, for every member to start.
        let walkthrough =
            json!({ "title": "Orders after the upgrade", "audience": "New nurses", "intro": "Two places." });
        let body =
            json!({ "name": "Orders after the March upgrade", "tips": [b.id, a.id], "walkthrough": walkthrough });
        let (status, answer) = server.request(t.token("Cory"), "PUT", &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {answer}");
        let (_, listed) = server.request(t.token("Dana"), "GET", "/v1/collections", None).await;
        assert_eq!(listed["collections"][0]["walkthrough"], walkthrough, "{kind}");
        let empty = json!({ "name": "Nothing yet", "tips": [], "walkthrough": { "title": "A tour of nothing" } });
        let (status, answer) =
            server.request(t.token("Cory"), "PUT", &format!("/v1/collections/{}", unique_id()), Some(empty)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {answer}");
        assert!(answer.to_string().contains("at least one step"), "{kind}: {answer}");

        let rename = json!({ "from": ["orders", "order sets"], "to": "Order sets" });
        let (status, _) = server.request(t.token("Dana"), "POST", "/v1/team/tags/rename", Some(rename.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}");
        let (status, answer) = server.request(t.token("Cory"), "POST", "/v1/team/tags/rename", Some(rename)).await;
        assert_eq!((status, answer["renamed"].clone()), (StatusCode::OK, json!(2)), "{kind}: {answer}");
        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        let tags: Vec<Value> =
            pulled["changes"].as_array().expect("changes").iter().map(|c| c["tip"]["tags"].clone()).collect();
        assert!(
            tags.contains(&json!(["Order sets"])) && tags.contains(&json!(["Order sets", "labs"])),
            "{kind}: merged into one tag: {tags:?}"
        );

        let (status, _) = server.request(t.token("Cory"), "DELETE", &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{kind}");
        let (status, _) = server.request(t.token("Cory"), "DELETE", &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{kind}");
    }
}

#[tokio::test]
async fn curators_import_files_and_two_teams_may_import_the_same_one() {
    let file: Value =
        serde_json::from_str(include_str!("../../core/tests/golden/hypothesis-search.json")).expect("fixture");
    for server in apps().await {
        let kind = &server.kind;
        let west = server.team(&[("Dana", Role::Member), ("Cory", Role::Curator)]).await;
        let east = server.team(&[("Erin", Role::Admin)]).await;
        let (status, _) = server.request(west.token("Dana"), "POST", "/v1/import", Some(file.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{kind}: members do not import");
        let (status, report) = server.request(west.token("Cory"), "POST", "/v1/import", Some(file.clone())).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {report}");
        assert_eq!((report["imported"].clone(), report["replies"].clone()), (json!(2), json!(1)), "{kind}: {report}");
        assert_eq!(report["skipped"].as_array().map(Vec::len), Some(2), "{kind}");
        let (_, again) = server.request(west.token("Cory"), "POST", "/v1/import", Some(file.clone())).await;
        assert_eq!(again["imported"], 0, "{kind}: a second import adds nothing: {again}");
        let (status, other) = server.request(east.token("Erin"), "POST", "/v1/import", Some(file.clone())).await;
        assert_eq!(
            (status, other["imported"].clone()),
            (StatusCode::OK, json!(2)),
            "{kind}: another team imports the same file: {other}"
        );
        let (_, east_again) = server.request(east.token("Erin"), "POST", "/v1/import", Some(file.clone())).await;
        assert_eq!(east_again["imported"], 0, "{kind}: and only once: {east_again}");
        let (_, west_pull) = server.sync(west.token("Dana"), json!({})).await;
        let (_, east_pull) = server.sync(east.token("Erin"), json!({})).await;
        let ids = |pulled: &Value| {
            pulled["changes"].as_array().expect("changes").iter().map(|c| c["tip"]["id"].clone()).collect::<Vec<_>>()
        };
        assert_eq!(ids(&west_pull).len(), 2, "{kind}: members pull what was imported");
        assert!(
            ids(&east_pull).iter().all(|id| id.is_string() && !ids(&west_pull).contains(id)),
            "{kind}: each team its own tips"
        );
        let (status, body) =
            server.request(west.token("Cory"), "POST", "/v1/import", Some(json!({ "hello": "world" }))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {body}");
        assert!(body["message"].as_str().unwrap_or_default().contains("no annotations Inflow knows"), "{kind}: {body}");
    }
}

#[tokio::test]
async fn pulls_page_through_changes_in_order() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member)]).await;
        let token = t.token("Dana");
        let mutations: Vec<Mutation> = (0..7)
            .map(|i| mutation(10 + i, Change::Put { tip: Box::new(new_tip("Dana", &format!("Order line {i}"))) }))
            .collect();
        assert_eq!(server.sync(token, push(&mutations)).await.0, StatusCode::OK);
        let mut cursor = Value::Null;
        let mut seen = Vec::new();
        loop {
            let (status, page) = server.sync(token, json!({ "cursor": cursor, "limit": 3 })).await;
            assert_eq!(status, StatusCode::OK, "{kind}: {page}");
            seen.extend(page["changes"].as_array().expect("changes").iter().map(|c| c["tip"]["id"].clone()));
            cursor = page["cursor"].clone();
            if page["more"] != json!(true) {
                break;
            }
        }
        let expected: Vec<Value> = mutations.iter().map(|m| json!(m.change.tip_id())).collect();
        assert_eq!(seen, expected, "{kind}: every change once, in push order");
    }
}

/// Runs `inflow-server` with its data in `dir`: whether it succeeded, its output, its errors.
fn cli(dir: &std::path::Path) -> impl Fn(&[&str]) -> (bool, String, String) + '_ {
    move |args| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_inflow-server"))
            .args(args)
            .env("INFLOW_DATA_DIR", dir)
            .env_remove("INFLOW_DATABASE_URL")
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn the_command_line_makes_teams_and_members_and_exports() {
    let dir = std::env::temp_dir().join(format!("inflow-cli-{}", inflow_server::db::new_id()));
    let run = cli(&dir);
    let (ok, team, _) = run(&["team", "create", "4 West"]);
    assert!(ok);
    let team = team.trim();
    let (ok, _, err) = run(&["team", "create", "4 WEST"]);
    assert!(!ok && err.contains("already exists"), "a name names one team: {err}");
    let (ok, out, _) = run(&["member", "add", "--team", team, "--name", "Dana", "--role", "curator"]);
    assert!(ok);
    let token = out.lines().last().expect("token line");
    assert!(token.starts_with("inflow_") && token.len() > 70, "{token}");
    let (ok, _, err) = run(&["member", "add", "--team", "no-such-team", "--name", "X"]);
    assert!(!ok && err.contains("there is no team"), "{err}");
    let (ok, _, err) = run(&["member", "add", "--team", team, "--name", "X", "--role", "owner"]);
    assert!(!ok && err.contains("owner"), "{err}");
    let (ok, export, _) = run(&["export", "--team", team, "--format", "backup"]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&export).expect("JSON"), json!([]));
    assert!(dir.join("inflow.db").exists(), "the default database lives in the data folder");

    let (ok, out, _) = run(&["team", "rules", "--team", team, "--add", "/wards/*/board", "--add", "/handbook/**"]);
    assert!(ok && out.contains("2 screen rule(s)") && out.contains("/wards/*/board"), "{out}");
    let (ok, _, err) = run(&["team", "rules", "--team", team, "--add", "wards/*"]);
    assert!(!ok && err.contains("starts with /"), "a bad rule is refused and says why: {err}");
    let (ok, out, _) = run(&["team", "rules", "--team", team, "--remove", "/handbook/**"]);
    assert!(ok && out.contains("1 screen rule(s)") && !out.contains("handbook"), "{out}");
}

#[test]
fn the_command_line_imports_annotations_and_exports_learning_material() {
    let dir = std::env::temp_dir().join(format!("inflow-cli-{}", inflow_server::db::new_id()));
    let run = cli(&dir);
    let (ok, team, _) = run(&["team", "create", "Billing office"]);
    assert!(ok);
    let hypothesis = concat!(env!("CARGO_MANIFEST_DIR"), "/../core/tests/golden/hypothesis-search.json");
    let (ok, out, err) = run(&["import", hypothesis, "--team", "Billing office"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("Imported 2 tips and 1 reply from Hypothesis; skipped 2."), "{out}");
    assert!(out.contains("skipped hPageNote01: it has no text quote"), "{out}");
    let (ok, again, _) = run(&["import", hypothesis, "--team", team.trim()]);
    assert!(ok && again.starts_with("Imported 0 tips"), "a second import adds nothing: {again}");

    let (ok, approved, err) = run(&["export", "--team", "Billing office", "--format", "markdown"]);
    assert!(ok && err.contains("Approved tips: 0 tip(s)"), "nothing is approved yet: {err}");
    assert!(approved.starts_with("# Approved tips"), "{approved}");
    let sheet = dir.join("sheet.html");
    let (ok, _, err) = run(&[
        "export",
        "--team",
        "Billing office",
        "--everything",
        "--format",
        "html",
        "--out",
        sheet.to_str().expect("path"),
    ]);
    assert!(ok, "{err}");
    let html = std::fs::read_to_string(&sheet).expect("the sheet was written");
    assert!(
        html.contains("Order sets moved to Favourites after the upgrade.") && html.contains("Use modifier 25 here."),
        "{html}"
    );
    assert!(html.contains("Same on 4 West."), "replies are on the sheet");
    let (ok, csv, _) = run(&["export", "--team", "Billing office", "--query", "tag:billing", "--format", "csv"]);
    assert!(ok && csv.lines().count() == 2 && csv.contains("Use modifier 25 here."), "{csv}");
    let (ok, jsonld, _) = run(&["export", "--team", "Billing office", "--everything"]);
    assert!(ok);
    let document: Value = serde_json::from_str(&jsonld).expect("JSON-LD");
    assert_eq!(document["type"], "AnnotationCollection");
    assert_eq!(document["total"], 3, "two tips and a reply");
    let (ok, _, err) = run(&["export", "--team", "Billing office", "--collection", "Nope"]);
    assert!(!ok && err.contains("no collection \"Nope\""), "{err}");
    let (ok, _, err) = run(&["export", "--team", "Billing office", "--format", "pdf"]);
    assert!(!ok && err.contains("unknown format"), "{err}");
}

#[test]
fn the_demo_team_is_made_once_and_gets_fresh_tokens_each_time() {
    let dir = std::env::temp_dir().join(format!("inflow-demo-{}", inflow_server::db::new_id()));
    let demo = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_inflow-server"))
            .arg("demo")
            .env("INFLOW_DATA_DIR", &dir)
            .env_remove("INFLOW_DATABASE_URL")
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (first, second) = (demo(), demo());
    let team = |out: &str| out.lines().next().and_then(|l| l.split(' ').nth(1)).map(str::to_owned);
    assert_eq!(team(&first), team(&second), "one demo team, not two");
    let tokens = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with("member "))
            .map(|l| l.split(' ').nth(2).unwrap_or("").to_owned())
            .collect::<Vec<_>>()
    };
    let (old, new) = (tokens(&first), tokens(&second));
    assert_eq!((old.len(), new.len()), (2, 2), "{first}");
    assert!(old.iter().all(|t| !new.contains(t)), "every run issues new tokens");
    assert!(first.contains("member curator ") && first.contains("member member "), "{first}");
}

#[tokio::test]
async fn me_names_the_member_the_team_and_its_screen_rules() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Dana", Role::Curator)]).await;
        db.set_screen_rules(&t.id, &["/wards/*/board".to_owned()]).await.expect("rules");
        let request = Request::get("/v1/me")
            .header("authorization", format!("Bearer {}", t.token("Dana")))
            .body(Body::empty())
            .expect("request");
        let response = respond(db, request).await;
        assert_eq!(response.status(), StatusCode::OK, "{kind}");
        let body: Value =
            serde_json::from_slice(&response.into_body().collect().await.expect("body").to_bytes()).expect("JSON");
        assert_eq!(body["member"]["name"], "Dana", "{kind}");
        assert_eq!(body["member"]["role"], "curator", "{kind}");
        assert_eq!(body["team"], json!({ "id": t.id, "name": t.name }), "{kind}");
        assert_eq!(body["screenRules"], json!(["/wards/*/board"]), "{kind}");
        let (status, _, _) = get(db, "/v1/me", None, "GET").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{kind}: no token, no answer");
    }
}

#[tokio::test]
async fn only_admins_change_screen_rules_and_bad_rules_are_refused() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Ada", Role::Admin), ("Dana", Role::Curator)]).await;
        let put = |token: &str, body: &str| {
            Request::put("/v1/team/screen-rules")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned()))
                .expect("request")
        };
        let send = |request| async { respond(db, request).await };
        let answer = send(put(t.token("Ada"), r#"{"rules":["/wards/*/board","/wards/*/board","/handbook/**"]}"#)).await;
        assert_eq!(answer.status(), StatusCode::OK, "{kind}");
        assert_eq!(
            db.team(&t.id).await.expect("team").map(|team| team.screen_rules),
            Some(vec!["/wards/*/board".to_owned(), "/handbook/**".to_owned()]),
            "{kind}: kept once each"
        );
        let curator = send(put(t.token("Dana"), r#"{"rules":[]}"#)).await;
        assert_eq!(curator.status(), StatusCode::FORBIDDEN, "{kind}: a curator may not");
        let bad = send(put(t.token("Ada"), r#"{"rules":["wards/*"]}"#)).await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        let body: Value =
            serde_json::from_slice(&bad.into_body().collect().await.expect("body").to_bytes()).expect("JSON");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("starts with /")), "{kind}: {body}");
        assert_eq!(
            db.team(&t.id).await.expect("team").map(|team| team.screen_rules.len()),
            Some(2),
            "{kind}: refused changes change nothing"
        );
    }
}

/// Identifying fields: an admin's `kind: selector` lines are checked by core, kept in one
/// spelling, and every member receives them with `/v1/me`.
#[tokio::test]
async fn only_admins_set_identifying_fields_and_members_receive_them() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        let t = server.team(&[("Ada", Role::Admin), ("Dana", Role::Curator), ("Sam", Role::Member)]).await;
        let put = |token: &str, body: &str| {
            Request::put("/v1/team/identifying-fields")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(body.to_owned()))
                .expect("request")
        };
        let read = |response: axum::response::Response| async {
            let bytes = response.into_body().collect().await.expect("body").to_bytes();
            serde_json::from_slice::<Value>(&bytes).expect("JSON")
        };
        let set = respond(
            db,
            put(
                t.token("Ada"),
                r#"{"fields":["MRN:   #banner .chart-no","mrn: #banner .chart-no","address:first-child",""]}"#,
            ),
        )
        .await;
        assert_eq!(set.status(), StatusCode::OK, "{kind}");
        let kept = json!(["mrn: #banner .chart-no", "id: address:first-child"]);
        assert_eq!(read(set).await["identifyingFields"], kept, "{kind}: one spelling, once each");
        let me =
            Request::get("/v1/me").header("authorization", format!("Bearer {}", t.token("Sam"))).body(Body::empty());
        let me = read(respond(db, me.expect("request")).await).await;
        assert_eq!(me["identifyingFields"], kept, "{kind}: a member receives them");

        let curator = respond(db, put(t.token("Dana"), r#"{"fields":[]}"#)).await;
        assert_eq!(curator.status(), StatusCode::FORBIDDEN, "{kind}: a curator may not");
        let bad = respond(db, put(t.token("Ada"), r#"{"fields":["name: .x { color: red }"]}"#)).await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert!(read(bad).await["message"].as_str().is_some_and(|m| m.contains("not a CSS selector")), "{kind}");
        let too_many: Vec<String> = (0..=inflow_core::fields::MAX_FIELD_RULES).map(|i| format!(".f{i}")).collect();
        let many = respond(db, put(t.token("Ada"), &json!({ "fields": too_many }).to_string())).await;
        assert_eq!(many.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}");
        assert_eq!(
            db.team(&t.id).await.expect("team").map(|team| team.identifying_fields),
            Some(vec!["mrn: #banner .chart-no".to_owned(), "id: address:first-child".to_owned()]),
            "{kind}: refused changes change nothing"
        );
    }
}

async fn get(db: &Db, path: &str, origin: Option<&str>, method: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(origin) = origin {
        request = request
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type");
    }
    let response = respond(db, request.body(Body::empty()).expect("request")).await;
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn only_extension_pages_may_call_from_a_browser() {
    let server = apps().await.remove(0);
    let db = &server.db;
    let (status, headers, _) =
        get(db, "/v1/sync", Some("chrome-extension://abcdefghijklmnopabcdefghijklmnop"), "OPTIONS").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers.get("access-control-allow-origin").and_then(|v| v.to_str().ok()),
        Some("chrome-extension://abcdefghijklmnopabcdefghijklmnop")
    );
    let (_, headers, _) = get(db, "/v1/sync", Some("https://intranet.example.org"), "OPTIONS").await;
    assert!(headers.get("access-control-allow-origin").is_none(), "a web page gets no CORS grant");
}

#[tokio::test]
async fn health_metrics_and_the_openapi_document_are_served() {
    let server = apps().await.remove(0);
    let db = &server.db;
    let (status, _, body) = get(db, "/healthz", None, "GET").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, r#"{"status":"ok"}"#));
    let (status, _, body) = get(db, "/v1/openapi.json", None, "GET").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).expect("the OpenAPI document is JSON");
    for path in ["/v1/sync", "/v1/events", "/healthz", "/metrics"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    // Every property is described by a schema (an example pasted in its place once made
    // schemathesis fail on the whole document).
    fn properties_are_schemas(value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    for (name, schema) in properties {
                        assert!(schema.is_object(), "{at}/properties/{name} is not a schema: {schema}");
                    }
                }
                for (key, inner) in map {
                    properties_are_schemas(inner, &format!("{at}/{key}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|inner| properties_are_schemas(inner, at)),
            _ => {}
        }
    }
    properties_are_schemas(&doc["paths"], "#/paths");
    properties_are_schemas(&doc["components"]["schemas"], "#/components/schemas");
    let state = AppState { db: db.clone(), hub: Default::default(), metrics: Default::default() };
    let t = server.team(&[("Dana", Role::Member)]).await;
    for _ in 0..2 {
        let request = Request::post("/v1/sync")
            .header("authorization", format!("Bearer {}", t.token("Dana")))
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .expect("request");
        assert_eq!(app(state.clone()).oneshot(request).await.expect("response").status(), StatusCode::OK);
    }
    let response =
        app(state).oneshot(Request::get("/metrics").body(Body::empty()).expect("request")).await.expect("response");
    let text = String::from_utf8_lossy(&response.into_body().collect().await.expect("body").to_bytes()).into_owned();
    assert!(text.contains("inflow_sync_requests_total 2"), "{text}");
}

/// Issue #15: a shared text that still holds an identifier a pattern finds is refused,
/// with its kind and place but never its value, counted in /metrics, and nothing is stored.
#[tokio::test]
async fn a_shared_change_holding_a_patient_identifier_is_refused_and_counted() {
    for server in apps().await {
        let kind = &server.kind;
        let state = AppState { db: server.db.clone(), hub: Default::default(), metrics: Default::default() };
        let t = server.team(&[("Dana", Role::Member)]).await;
        let post = |body: Value| {
            Request::post("/v1/sync")
                .header("authorization", format!("Bearer {}", t.token("Dana")))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .expect("request")
        };
        let mut raw_address = new_tip("Dana", "Bed 12");
        raw_address.target.source = "http://127.0.0.1:8700/patients/1/orders".into();
        raw_address.screen = raw_address.target.source.clone();
        let mut with_ssn = new_tip("Dana", "Bed 12");
        with_ssn.note = "her SSN is 123-45-6789".into();
        let mut with_dob = new_tip("Dana", "Bed 12");
        with_dob.target.selector = vec![Selector::TextQuote {
            exact: "Bed 12".into(),
            prefix: "DOB 1951-03-14 ".into(),
            suffix: String::new(),
            block: None,
        }];
        for (tip, expected) in [(raw_address, "page address"), (with_ssn, "social security"), (with_dob, "context")] {
            let response = app(state.clone())
                .oneshot(post(push(&[mutation(10, Change::Put { tip: Box::new(tip) })])))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {expected}");
            let body = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
            assert!(body.contains(expected) && body.contains("\"identifier\""), "{kind}: {body}");
            for value in ["6789", "1951", "patients/1"] {
                assert!(!body.contains(value), "{kind}: the answer repeats the value: {body}");
            }
        }
        let clean = app(state.clone())
            .oneshot(post(push(&[mutation(10, Change::Put { tip: Box::new(new_tip("Dana", "Bed 12")) })])));
        assert_eq!(clean.await.unwrap().status(), StatusCode::OK, "{kind}");
        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        assert_eq!(pulled["changes"].as_array().map(Vec::len), Some(1), "{kind}: only the clean tip is stored");
        let response = app(state).oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        let text = String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes()).into_owned();
        assert!(text.contains("inflow_identifiers_refused_total 3"), "{kind}: {text}");
    }
}

mod fuzz {
    //! Whatever arrives, the server answers with a 4xx and applies nothing; never a 5xx.
    use super::*;
    use proptest::prelude::*;

    fn json_like() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            any::<i64>().prop_map(|n| n.to_string()),
            "\\PC{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            Just("\"01a20871-6024-720e-8e0e-0e0e0e0e0e0e\"".to_owned()),
            Just("\"000000000000010-00000000-00000001\"".to_owned()),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            let keys = prop_oneof![
                Just("mutations"),
                Just("cursor"),
                Just("limit"),
                Just("id"),
                Just("hlc"),
                Just("op"),
                Just("tip"),
                Just("tipId"),
                Just("note"),
                Just("x")
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec((keys, inner), 0..5).prop_map(|fields| format!(
                    "{{{}}}",
                    fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")
                )),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn no_body_makes_the_server_fail(body in prop_oneof![json_like(), "\\PC{0,200}", proptest::collection::vec(any::<u8>(), 0..200).prop_map(|b| String::from_utf8_lossy(&b).into_owned())]) {
            // One runtime for every case: PostgreSQL connections belong to the runtime
            // that opened them.
            static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
            let runtime = RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime"));
            runtime.block_on(async {
                // One database of each kind for all cases: SQLite, and PostgreSQL when set.
                static DBS: tokio::sync::OnceCell<Vec<(Db, String)>> = tokio::sync::OnceCell::const_new();
                let dbs = DBS.get_or_init(|| async {
                    let mut dbs = Vec::new();
                    for (_, db) in databases().await {
                        let t = team(&db, &[("Dana", Role::Member)]).await;
                        dbs.push((db, t.token("Dana").to_owned()));
                    }
                    dbs
                }).await;
                for (db, token) in dbs {
                    let (status, answer) = call(db, token, &body).await;
                    prop_assert!(status.is_client_error() || status == StatusCode::OK, "{status} for {body:?}: {answer}");
                    if status == StatusCode::OK {
                        prop_assert_eq!(&answer["acked"], &json!([]), "nothing arbitrary is applied: {}", body);
                    }
                }
                Ok(())
            })?;
        }
    }
}

/// Regression (issue #11): one member's clock in the year 10000 was stored, and from then on
/// every pull by every member answered 500, also after a restart.
#[tokio::test]
async fn a_far_future_clock_is_refused_and_the_team_keeps_syncing() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member)]).await;
        let tip = new_tip("Dana", "Heparin 5,000 units");
        assert_eq!(
            server.sync(t.token("Dana"), push(&[mutation(10, Change::Put { tip: Box::new(tip.clone()) })])).await.0,
            StatusCode::OK
        );
        let year_10000 = |change| Mutation {
            id: unique_id(),
            hlc: "253402300800000-00000000-00000001".parse().expect("hlc"),
            change,
        };
        let flag = Change::Curate {
            tip_id: tip.id,
            by: "Sam".into(),
            step: inflow_core::curation::Action::Flag { reason: "stale".into() },
        };
        let patch = Change::Patch {
            tip_id: tip.id,
            note: Some("from the future".into()),
            tags: None,
            visibility: None,
            page_title: None,
        };
        for (token, change) in [(t.token("Sam"), flag), (t.token("Dana"), patch)] {
            let (status, body) = server.sync(token, push(&[year_10000(change)])).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {body}");
            assert!(
                body["message"].as_str().is_some_and(|m| m.contains("clock is") && m.contains("ahead")),
                "{kind}: {body}"
            );
        }
        let an_hour_late = mutation(
            inflow_server::db::now_ms() as u64 + 2 * 60 * 60 * 1000,
            Change::Put { tip: Box::new(new_tip("Dana", "Apixaban")) },
        );
        assert_eq!(
            server.sync(t.token("Dana"), push(&[an_hour_late])).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{kind}: two hours ahead is refused too"
        );
        for (name, token) in &t.tokens {
            let (status, pulled) = server.sync(token, json!({})).await;
            assert_eq!(status, StatusCode::OK, "{kind}: {name} still pulls: {pulled}");
            assert_eq!(pulled["changes"][0]["tip"]["note"], "Check the renal panel first", "{kind}");
        }
    }
}

/// Regression (issue #11): a batch with two different mutations under one mutation id got 200
/// and both were acknowledged, but the second tip was never stored.
#[tokio::test]
async fn one_mutation_id_for_two_changes_is_refused_and_nothing_is_lost() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member)]).await;
        let first = mutation(10, Change::Put { tip: Box::new(new_tip("Dana", "Ondansetron 4 mg")) });
        let mut second = mutation(11, Change::Put { tip: Box::new(new_tip("Dana", "Furosemide 40 mg")) });
        second.id = first.id;
        let (status, body) = server.sync(t.token("Dana"), push(&[first.clone(), second])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains("used twice in this push")), "{kind}: {body}");
        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        assert_eq!(pulled["changes"].as_array().map(Vec::len), Some(0), "{kind}: nothing half-applied: {pulled}");
        // The same mutation twice is a retry within the batch: applied once, acknowledged.
        let (status, body) = server.sync(t.token("Dana"), push(&[first.clone(), first.clone()])).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        assert_eq!(pulled["changes"].as_array().map(Vec::len), Some(1), "{kind}: {pulled}");
    }
}

/// Team A pushes a large batch whose first tip is `contested`; a few milliseconds later team
/// B pushes `rival` (a tip with the same id, or a mutation with the same mutation id).
/// Whatever the interleaving, at most one team is acknowledged, nobody gets a 5xx, and each
/// team pulls only what it wrote.
async fn race_two_teams(db: &Db, kind: &str, a: &Team, b: &Team, delay_ms: u64, same_mutation_id: bool) {
    let contested = mutation(10, Change::Put { tip: Box::new(new_tip("Dana", "Heparin 5,000 units")) });
    let mut batch = vec![contested.clone()];
    batch.extend((0..250).map(|_| mutation(10, Change::Put { tip: Box::new(new_tip("Dana", "filler")) })));
    let mut rival_tip = new_tip("Lee", "Heparin 5,000 units");
    rival_tip.note = "Lee's note, team B".into();
    let mut rival = mutation(10, Change::Put { tip: Box::new(rival_tip) });
    if same_mutation_id {
        rival.id = contested.id;
    } else if let Change::Put { tip } = &mut rival.change {
        tip.id = contested.change.tip_id();
    }
    let ((a_status, a_body), (b_status, b_body)) = tokio::join!(sync(db, a.token("Dana"), push(&batch)), async {
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
        sync(db, b.token("Lee"), push(std::slice::from_ref(&rival))).await
    });
    let what = if same_mutation_id { "mutation id" } else { "tip id" };
    let case = format!("{kind}, {what}, B {delay_ms} ms later: A {a_status} {a_body}, B {b_status} {b_body}");
    for status in [a_status, b_status] {
        assert!(status == StatusCode::OK || status == StatusCode::CONFLICT, "{case}");
    }
    assert!(a_status != StatusCode::OK || b_status != StatusCode::OK, "both acknowledged: {case}");
    let notes = |pulled: Value, id: TipId| {
        let changes = pulled["changes"].as_array().cloned().unwrap_or_default();
        changes.iter().filter(|c| c["tip"]["id"] == json!(id)).map(|c| c["tip"]["note"].clone()).collect::<Vec<_>>()
    };
    let contested_tip = contested.change.tip_id();
    let rival_tip = rival.change.tip_id();
    let (_, a_pull) = sync(db, a.token("Dana"), json!({ "limit": 1000 })).await;
    let (_, b_pull) = sync(db, b.token("Lee"), json!({ "limit": 1000 })).await;
    let a_sees = notes(a_pull.clone(), contested_tip);
    assert_eq!(
        a_sees,
        if a_status == StatusCode::OK { vec![json!("Check the renal panel first")] } else { vec![] },
        "A: {case}"
    );
    let b_sees = notes(b_pull, rival_tip);
    assert_eq!(
        b_sees,
        if b_status == StatusCode::OK { vec![json!("Lee's note, team B")] } else { vec![] },
        "B: {case}"
    );
    if same_mutation_id {
        assert!(notes(a_pull, rival_tip).is_empty(), "B's tip in team A: {case}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_teams_racing_for_one_id_never_share_a_tip_and_never_get_a_500() {
    for server in apps().await {
        let (kind, db) = (&server.kind, &server.db);
        for delay_ms in [0, 5, 10, 20, 40, 80] {
            for same_mutation_id in [false, true] {
                // Fresh teams each round, so each pull holds the whole round.
                let a = server.team(&[("Dana", Role::Member)]).await;
                let b = server.team(&[("Lee", Role::Member)]).await;
                race_two_teams(db, kind, &a, &b, delay_ms, same_mutation_id).await;
            }
        }
    }
}

/// A W3C file of `n` annotations, each with its own id and creation time.
fn annotation_file(n: usize) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "id": format!("https://annotations.example/anno/{i}"),
                "type": "Annotation",
                "created": format!("2026-01-01T00:{:02}:{:02}Z", i / 60 % 60, i % 60),
                "body": { "type": "TextualBody", "value": format!("note {i}"), "purpose": "commenting" },
                "target": {
                    "source": "https://emr.example/patients/1/orders",
                    "selector": { "type": "TextQuoteSelector", "exact": format!("order line {i}") }
                }
            })
        })
        .collect();
    json!({
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "AnnotationCollection",
        "first": { "type": "AnnotationPage", "items": items }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_imports_of_one_file_give_each_team_every_tip_once() {
    let file = annotation_file(300);
    for server in apps().await {
        let kind = &server.kind;
        let west = server.team(&[("Cory", Role::Curator)]).await;
        let east = server.team(&[("Erin", Role::Curator)]).await;
        for delay_ms in [0, 5, 20] {
            let import = |token: String, delay: u64| {
                let (server, file) = (&server, file.clone());
                async move {
                    tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
                    server.request(&token, "POST", "/v1/import", Some(file)).await
                }
            };
            // Two teams at once, and one team twice at once.
            let (w, e, w_again) = tokio::join!(
                import(west.token("Cory").to_owned(), 0),
                import(east.token("Erin").to_owned(), delay_ms),
                import(west.token("Cory").to_owned(), delay_ms / 2)
            );
            for (who, (status, body)) in [("west", &w), ("east", &e), ("west again", &w_again)] {
                assert_eq!(*status, StatusCode::OK, "{kind}, {delay_ms} ms, {who}: {body}");
            }
        }
        for (t, curator) in [(&west, "Cory"), (&east, "Erin")] {
            let (_, pulled) = server.sync(t.token(curator), json!({ "limit": 1000 })).await;
            let mut ids: Vec<String> = pulled["changes"]
                .as_array()
                .expect("changes")
                .iter()
                .map(|c| c["tip"]["id"].as_str().unwrap_or_default().to_owned())
                .collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 300, "{kind}: every annotation once in team {}", t.id);
        }
    }
}

/// A request as a client might send it, good or not: any method, path, media type and bytes.
async fn raw(
    db: &Db,
    token: &str,
    method: &str,
    path: &str,
    media: &str,
    body: Vec<u8>,
) -> (StatusCode, String, Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", media)
        .body(Body::from(body))
        .expect("request");
    let response = respond(db, request).await;
    let status = response.status();
    let media = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, media, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn every_error_is_json_also_the_frameworks_own() {
    let server = apps().await.remove(0);
    let db = &server.db;
    let t = server.team(&[("Cory", Role::Curator)]).await;
    let token = t.token("Cory");
    let too_large = vec![b' '; inflow_server::MAX_BODY_BYTES + 1];
    /// A request (method, path, media type, body) and the status and error code it gets.
    type Case<'a> = (&'a str, &'a str, &'a str, Vec<u8>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        ("GET", "/v1/nothing-here", "application/json", vec![], StatusCode::NOT_FOUND, "not_found"),
        ("DELETE", "/v1/sync", "application/json", vec![], StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        ("PUT", "/v1/collections/%FF%FE", "application/json", b"{}".to_vec(), StatusCode::BAD_REQUEST, "bad_request"),
        ("POST", "/v1/import", "application/json", vec![0xff, 0xfe, b'{'], StatusCode::BAD_REQUEST, "bad_request"),
        ("POST", "/v1/import", "application/json", too_large.clone(), StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        ("POST", "/v1/sync", "application/json", too_large, StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
        (
            "POST",
            "/v1/import",
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/v1/sync",
            "text/plain",
            b"{}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (method, path, media, body, status, code) in cases {
        let (got, got_media, error) = raw(db, token, method, path, media, body).await;
        let case = format!("{method} {path} ({media}): {got} {got_media} {error}");
        assert_eq!((got, error["error"].as_str()), (status, Some(code)), "{case}");
        assert!(got_media.starts_with("application/json"), "{case}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{case}");
    }
    let (status, _, _) =
        raw(db, token, "POST", "/v1/import", "application/ld+json; charset=utf-8", b"{\"rows\":[]}".to_vec()).await;
    assert_ne!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "a JSON-LD file is taken as JSON");
}

#[tokio::test]
async fn a_tip_whose_address_is_not_a_uri_is_refused_and_an_import_writes_it_out_as_one() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Curator)]).await;
        let mut tip = new_tip("Dana", "Heparin 5,000 units");
        tip.target.source = "http://127.0.0.1:8700/patients/1/orders?<script>".into();
        let (status, body) =
            server.sync(t.token("Dana"), push(&[mutation(10, Change::Put { tip: Box::new(tip) })])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{kind}: {body}");
        let mut file = annotation_file(1);
        file["first"]["items"][0]["target"]["source"] = json!("https://emr.example/p/1?q=a|b<script>");
        let (status, report) = server.request(t.token("Dana"), "POST", "/v1/import", Some(file)).await;
        assert_eq!((status, report["imported"].clone()), (StatusCode::OK, json!(1)), "{kind}: {report}");
        let (_, pulled) = server.sync(t.token("Dana"), json!({})).await;
        assert_eq!(
            pulled["changes"][0]["tip"]["target"]["source"], "https://emr.example/p/*?q=a%7Cb%3Cscript%3E",
            "{kind}"
        );
    }
}

/// Pushes that arrive together are written in one transaction (group commit): a refused
/// one among them leaves the others applied, and each push gets its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_of_one_team_each_get_their_own_answer() {
    for server in apps().await {
        let kind = &server.kind;
        let t = server.team(&[("Dana", Role::Member), ("Sam", Role::Member)]).await;
        let pushes: Vec<(bool, Mutation)> = (0..60)
            .map(|n| {
                // Every fifth push is Dana's token pushing a tip signed by Sam: refused.
                let refused = n % 5 == 0;
                let author = if refused { "Sam" } else { "Dana" };
                (refused, mutation(10, Change::Put { tip: Box::new(new_tip(author, &format!("order line {n}"))) }))
            })
            .collect();
        let answers = futures_util::future::join_all(
            pushes.iter().map(|(_, m)| server.sync(t.token("Dana"), push(std::slice::from_ref(m)))),
        )
        .await;
        let (_, pulled) = server.sync(t.token("Sam"), json!({ "limit": 1000 })).await;
        let stored: Vec<Value> =
            pulled["changes"].as_array().expect("changes").iter().map(|c| c["tip"]["id"].clone()).collect();
        for ((refused, mutation), (status, body)) in pushes.iter().zip(&answers) {
            let id = json!(mutation.change.tip_id());
            if *refused {
                assert_eq!(*status, StatusCode::FORBIDDEN, "{kind}: {body}");
                assert!(!stored.contains(&id), "{kind}: a refused push left nothing");
            } else {
                assert_eq!((*status, body["acked"].clone()), (StatusCode::OK, json!([mutation.id])), "{kind}: {body}");
                assert!(stored.contains(&id), "{kind}: an acknowledged push is stored");
            }
        }
    }
}

/// A database made before the schema moved to sqlx's migrator counted its versions in
/// `inflow_schema`: it opens with its data, its versions recorded as applied (so nothing
/// runs twice), and it opens again, also by two instances at once.
#[tokio::test]
async fn a_database_from_before_the_migration_files_opens_with_its_data() {
    sqlx::any::install_default_drivers();
    for (kind, url) in empty_databases().await {
        let old = sqlx::AnyPool::connect(&url).await.expect("the old database opens");
        // What the old code did: each version's SQL, then its number in inflow_schema.
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS inflow_schema (version BIGINT NOT NULL)")
            .execute(&old)
            .await
            .unwrap();
        let versions = [
            include_str!("../migrations/0001_teams_members_tips.sql"),
            include_str!("../migrations/0002_screen_rules.sql"),
            include_str!("../migrations/0003_collections.sql"),
        ];
        for (i, sql) in versions.iter().enumerate() {
            sqlx::raw_sql(sql).execute(&old).await.unwrap();
            sqlx::query("INSERT INTO inflow_schema (version) VALUES ($1)")
                .bind(i as i64 + 1)
                .execute(&old)
                .await
                .unwrap();
        }
        sqlx::query("INSERT INTO teams (id, name, created_ms, last_seq) VALUES ('t-old', 'Old ward', 1, 7)")
            .execute(&old)
            .await
            .unwrap();
        old.close().await;

        let (first, second) = tokio::join!(Db::connect(&url), Db::connect(&url));
        let db = first.unwrap_or_else(|e| panic!("{kind}: the old database opens: {e}"));
        second.unwrap_or_else(|e| panic!("{kind}: a second instance opens it at the same time: {e}"));
        assert_eq!(db.team_named("Old ward").await.unwrap().as_deref(), Some("t-old"), "{kind}: its team is kept");
        assert_eq!(db.last_seq("t-old").await.unwrap(), Some(7), "{kind}");
        let check = sqlx::AnyPool::connect(&url).await.unwrap();
        let recorded: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&check)
            .await
            .unwrap()
            .iter()
            .map(|row| sqlx::Row::get(row, "version"))
            .collect();
        // 1–3 are recorded as applied by the old code; 4 and later run as new migrations.
        assert_eq!(recorded, [1, 2, 3, 4, 5], "{kind}: the old versions are recorded as applied, the new ones run");
        let old_team = db.team("t-old").await.unwrap().expect("the old team");
        assert!(old_team.identifying_fields.is_empty(), "{kind}: an old team starts with no identifying fields");
        assert!(
            sqlx::query("SELECT version FROM inflow_schema").fetch_all(&check).await.is_err(),
            "{kind}: the old version table is gone"
        );
        drop(db);
        Db::connect(&url).await.unwrap_or_else(|e| panic!("{kind}: it opens again: {e}"));
    }
}
