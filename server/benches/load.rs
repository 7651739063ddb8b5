//! Load benchmark (`cargo xtask bench server`): 200 concurrent simulated clients push and
//! pull against `inflow-server` on SQLite and on PostgreSQL, and against `pouchdb-server`
//! (the CouchDB-protocol endpoint PouchDB users run) on the same workload, in one run, on
//! loopback only. It prints throughput, latency and server memory side by side, as ratios.
//!
//! One *sync cycle* of a client is what a user's browser does after saving a tip: push
//! the tip, then pull what teammates changed since its cursor (at most 100 changes, full
//! tips). Inflow does that in one `POST /v1/sync`; PouchDB needs `POST /db/_bulk_docs`
//! then `GET /db/_changes?include_docs=true`. Before the clients start, each server is
//! seeded with 100,000 tips, so memory is read with that many stored. Every loop is
//! bounded in count and in time; nothing here asserts a timing.
#![allow(clippy::expect_used, clippy::unwrap_used, reason = "a benchmark that cannot set up has nothing to report")]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use inflow_core::sync::{Change, Hlc, Mutation};
use inflow_core::{NewTip, Selector, Timestamp, Tip, TipId, Visibility};
use inflow_server::auth::Role;
use inflow_server::db::Db;
use serde_json::{json, Value};

const SERVER_BIN: &str = env!("CARGO_BIN_EXE_inflow-server");
/// How long one target's load phase may run at most, whatever the cycle count.
const LOAD_DEADLINE: Duration = Duration::from_secs(90);
const SEED_BATCH: usize = 500;
const PULL_LIMIT: usize = 100;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

struct Settings {
    clients: usize,
    cycles: usize,
    seed: usize,
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What one target measured.
struct Figures {
    name: String,
    seed_tips_per_s: f64,
    cycles: usize,
    errors: usize,
    cycles_per_s: f64,
    p50: Duration,
    p99: Duration,
    rss_seeded_kib: u64,
    rss_peak_kib: u64,
    requests_per_cycle: usize,
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments of its own.
    let settings = Settings {
        clients: setting("INFLOW_BENCH_CLIENTS", 200),
        cycles: setting("INFLOW_BENCH_CYCLES", 20),
        seed: setting("INFLOW_BENCH_SEED", 100_000),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!(
        "Load: {} clients x {} sync cycles (push 1 tip, pull up to {PULL_LIMIT} changes with full tips), after seeding {} tips. Loopback only.",
        settings.clients, settings.cycles, settings.seed
    );
    let mut results = Vec::new();
    let scratch = std::env::temp_dir().join(format!("inflow-bench-{}", std::process::id()));
    results.push(runtime.block_on(inflow_target(
        "inflow-server, SQLite",
        &format!("sqlite://{}", scratch.join("inflow.db").display()),
        &settings,
    )));
    match postgres_database(&runtime) {
        Some(url) => results.push(runtime.block_on(inflow_target("inflow-server, PostgreSQL", &url, &settings))),
        None => println!("PostgreSQL: skipped (set INFLOW_BENCH_DATABASE_URL or INFLOW_TEST_DATABASE_URL to a server this user may create databases on)"),
    }
    match std::env::var("INFLOW_POUCHDB_SERVER") {
        Ok(script) => results.push(runtime.block_on(pouch_target(&script, &scratch.join("pouch"), &settings))),
        Err(_) => println!(
            "pouchdb-server: skipped (INFLOW_POUCHDB_SERVER unset; `cargo xtask bench server` installs and sets it)"
        ),
    }
    let _ = std::fs::remove_dir_all(&scratch);
    print_table(&results);
}

// ---- Inflow --------------------------------------------------------------------------

async fn inflow_target(name: &str, url: &str, settings: &Settings) -> Figures {
    println!("\n== {name}: setting up a team with {} members", settings.clients + 1);
    let db = Db::connect(url).await.expect("database");
    let team = db.create_team("Bench ward").await.expect("team").expect("a fresh database has no team");
    let seeder = db.add_member(&team, "Seeder", Role::Member).await.expect("seeder").1;
    let mut tokens = Vec::with_capacity(settings.clients);
    for i in 0..settings.clients {
        tokens.push((
            format!("Nurse {i}"),
            db.add_member(&team, &format!("Nurse {i}"), Role::Member).await.expect("member").1,
        ));
    }
    drop(db);
    let mut server = Process::start(
        Command::new(SERVER_BIN).args(["serve", "--listen", "127.0.0.1:0"]).env("INFLOW_DATABASE_URL", url),
        "listening on http://",
    );
    let base = format!("http://{}", server.addr);
    let http = client();

    println!("   seeding {} tips in pushes of {SEED_BATCH}", settings.seed);
    let started = Instant::now();
    let mut sequence = 0u64;
    for batch in 0..settings.seed.div_ceil(SEED_BATCH) {
        let count = SEED_BATCH.min(settings.seed - batch * SEED_BATCH);
        let mutations: Vec<Mutation> = (0..count).map(|_| put("Seeder", next(&mut sequence))).collect();
        let (status, body) =
            post(&http, &format!("{base}/v1/sync"), Some(&seeder), json!({ "mutations": mutations, "limit": 1 })).await;
        assert_eq!(status, 200, "seeding failed: {body}");
    }
    let seed_tips_per_s = settings.seed as f64 / started.elapsed().as_secs_f64();
    // Clients start in step with the team, as browsers that synced before: the cursor at
    // the end of the seeded changes.
    let mut cursor = Value::Null;
    loop {
        let (status, body) = post(&http, &format!("{base}/v1/sync"), Some(&seeder), json!({ "cursor": cursor })).await;
        assert_eq!(status, 200, "{body}");
        cursor = body["cursor"].clone();
        if body["more"] != json!(true) {
            break;
        }
    }
    let rss_seeded_kib = server.memory().0;

    println!("   {} clients, {} cycles each", settings.clients, settings.cycles);
    let work = tokens.into_iter().enumerate().map(|(i, (author, token))| {
        let (http, url, cursor) = (http.clone(), format!("{base}/v1/sync"), cursor.clone());
        let cycles = settings.cycles;
        async move {
            let mut cursor = cursor;
            let mut seq = (i as u64 + 1) << 32;
            let mut latencies = Vec::with_capacity(cycles);
            let mut errors = 0;
            for _ in 0..cycles {
                let body =
                    json!({ "cursor": cursor, "mutations": [put(&author, next(&mut seq))], "limit": PULL_LIMIT });
                let started = Instant::now();
                let (status, answer) = post(&http, &url, Some(&token), body).await;
                latencies.push(started.elapsed());
                if status == 200 {
                    cursor = answer["cursor"].clone();
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }
    });
    let seeded = Seeded { tips_per_s: seed_tips_per_s, rss_kib: rss_seeded_kib };
    load(name, &mut server, seeded, work.collect(), 1).await
}

/// A fresh PostgreSQL database for the benchmark, when a server is named.
fn postgres_database(runtime: &tokio::runtime::Runtime) -> Option<String> {
    let admin =
        std::env::var("INFLOW_BENCH_DATABASE_URL").or_else(|_| std::env::var("INFLOW_TEST_DATABASE_URL")).ok()?;
    let name = format!("inflow_bench_{}", std::process::id());
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&admin).await.ok()?;
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}")).execute(&pool).await;
        sqlx::raw_sql(&format!("CREATE DATABASE {name}")).execute(&pool).await.ok()?;
        Some(())
    })?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

// ---- PouchDB ---------------------------------------------------------------------------

async fn pouch_target(script: &str, dir: &std::path::Path, settings: &Settings) -> Figures {
    let name = "pouchdb-server 4.2 (LevelDB on disk)";
    println!("\n== {name}");
    std::fs::create_dir_all(dir).expect("pouch data folder");
    let port = free_port();
    // Its request log goes to a file in the scratch folder, not to a terminal.
    let mut server = Process::start_on_port(
        Command::new("node")
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--no-stdout-logs", "--no-color", "--dir"])
            .arg(dir)
            .arg("--config")
            .arg(dir.join("config.json"))
            .current_dir(dir),
        port,
    );
    let base = format!("http://127.0.0.1:{port}/tips");
    let http = client();
    let (status, body) = request(&http, "PUT", &base, None, None).await;
    assert!(status == 201 || status == 412, "creating the database: {status} {body}");

    println!("   seeding {} tips with _bulk_docs of {SEED_BATCH}", settings.seed);
    let started = Instant::now();
    let mut sequence = 0u64;
    for batch in 0..settings.seed.div_ceil(SEED_BATCH) {
        let count = SEED_BATCH.min(settings.seed - batch * SEED_BATCH);
        let docs: Vec<Value> = (0..count).map(|_| couch_doc(&tip("Seeder", next(&mut sequence)))).collect();
        let (status, body) = post(&http, &format!("{base}/_bulk_docs"), None, json!({ "docs": docs })).await;
        assert_eq!(status, 201, "seeding failed: {body}");
    }
    let seed_tips_per_s = settings.seed as f64 / started.elapsed().as_secs_f64();
    let (_, info) = request(&http, "GET", &base, None, None).await;
    let since = info["update_seq"].clone();
    let rss_seeded_kib = server.memory().0;

    println!("   {} clients, {} cycles each", settings.clients, settings.cycles);
    let work = (0..settings.clients).map(|i| {
        let (http, base, since) = (http.clone(), base.clone(), since.clone());
        let cycles = settings.cycles;
        async move {
            let author = format!("Nurse {i}");
            let mut since = since;
            let mut seq = (i as u64 + 1) << 32;
            let mut latencies = Vec::with_capacity(cycles);
            let mut errors = 0;
            for _ in 0..cycles {
                let started = Instant::now();
                let (pushed, _) = post(
                    &http,
                    &format!("{base}/_bulk_docs"),
                    None,
                    json!({ "docs": [couch_doc(&tip(&author, next(&mut seq)))] }),
                )
                .await;
                let since_text = match &since {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let changes_url =
                    format!("{base}/_changes?include_docs=true&limit={PULL_LIMIT}&since={}", urlencode(&since_text));
                let (pulled, answer) = request(&http, "GET", &changes_url, None, None).await;
                latencies.push(started.elapsed());
                if pushed == 201 && pulled == 200 {
                    since = answer["last_seq"].clone();
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }
    });
    let seeded = Seeded { tips_per_s: seed_tips_per_s, rss_kib: rss_seeded_kib };
    load(name, &mut server, seeded, work.collect(), 2).await
}

fn couch_doc(tip: &Tip) -> Value {
    let mut doc = serde_json::to_value(tip).expect("tip encodes");
    doc["_id"] = json!(tip.id.to_string());
    doc
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---- Shared ----------------------------------------------------------------------------

/// What seeding measured.
struct Seeded {
    tips_per_s: f64,
    rss_kib: u64,
}

/// Runs the clients against `server`, then stops it and reports.
async fn load<F>(
    name: &str,
    server: &mut Process,
    seeded: Seeded,
    clients: Vec<F>,
    requests_per_cycle: usize,
) -> Figures
where
    F: std::future::Future<Output = (Vec<Duration>, usize)> + Send + 'static,
{
    let (cycles, errors, elapsed, latencies) = run_clients(clients).await;
    let (_, rss_peak_kib) = server.memory();
    server.stop();
    figures(
        name,
        seeded.tips_per_s,
        cycles,
        errors,
        elapsed,
        latencies,
        seeded.rss_kib,
        rss_peak_kib,
        requests_per_cycle,
    )
}

/// Runs every client at once, until all are done or the deadline passes.
async fn run_clients<F>(clients: Vec<F>) -> (usize, usize, Duration, Vec<Duration>)
where
    F: std::future::Future<Output = (Vec<Duration>, usize)> + Send + 'static,
{
    let started = Instant::now();
    let handles: Vec<_> = clients.into_iter().map(tokio::spawn).collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let all = futures_util::future::join_all(handles);
    match tokio::time::timeout(LOAD_DEADLINE, all).await {
        Ok(done) => {
            for (mut l, e) in done.into_iter().flatten() {
                latencies.append(&mut l);
                errors += e;
            }
        }
        Err(_) => println!("   stopped at the {LOAD_DEADLINE:?} deadline; figures cover nothing"),
    }
    let elapsed = started.elapsed();
    latencies.sort();
    (latencies.len(), errors, elapsed, latencies)
}

#[allow(clippy::too_many_arguments, reason = "one row of the table, field by field")]
fn figures(
    name: &str,
    seed_tips_per_s: f64,
    cycles: usize,
    errors: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    rss_seeded_kib: u64,
    rss_peak_kib: u64,
    requests_per_cycle: usize,
) -> Figures {
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        name: name.to_owned(),
        seed_tips_per_s,
        cycles,
        errors,
        cycles_per_s: cycles.saturating_sub(errors) as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        rss_seeded_kib,
        rss_peak_kib,
        requests_per_cycle,
    }
}

fn print_table(results: &[Figures]) {
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let mib = |kib: u64| format!("{:.1} MiB", kib as f64 / 1024.0);
    println!("\n| server | seed tips/s | cycles (errors) | cycles/s | p50 | p99 | RSS, tips seeded | peak RSS | HTTP requests/cycle |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in results {
        println!(
            "| {} | {:.0} | {} ({}) | {:.0} | {} | {} | {} | {} | {} |",
            f.name,
            f.seed_tips_per_s,
            f.cycles,
            f.errors,
            f.cycles_per_s,
            ms(f.p50),
            ms(f.p99),
            mib(f.rss_seeded_kib),
            mib(f.rss_peak_kib),
            f.requests_per_cycle
        );
    }
    let Some(peer) = results.iter().find(|f| f.name.starts_with("pouchdb")) else { return };
    println!("\nAgainst {} (higher throughput ratio is better; lower p99 ratio is better):", peer.name);
    for f in results.iter().filter(|f| !f.name.starts_with("pouchdb")) {
        println!(
            "  {}: throughput {:.1}x, p99 {:.2}x, peak memory {:.2}x",
            f.name,
            f.cycles_per_s / peer.cycles_per_s,
            f.p99.as_secs_f64() / peer.p99.as_secs_f64().max(f64::EPSILON),
            f.rss_peak_kib as f64 / peer.rss_peak_kib.max(1) as f64
        );
    }
}

fn next(counter: &mut u64) -> u64 {
    *counter += 1;
    *counter
}

fn id(n: u64, salt: u8) -> TipId {
    let mut random = [salt; 10];
    random[..8].copy_from_slice(&n.to_be_bytes());
    TipId::new_v7(1_795_000_000_000 + (n & 0xffff_ffff), random)
}

fn tip(author: &str, n: u64) -> Tip {
    NewTip {
        // Forty screens, each named as a shared tip names it: no record in the address.
        page_url: format!("http://127.0.0.1:8700/unit{}/patients/*/orders", n % 40),
        page_title: "Orders — Riverside General EMR".into(),
        note: format!("Tip {n}: after the upgrade the order set hides under Favourites; pin it first, then sign."),
        tags: vec!["orders".into(), "after upgrade".into()],
        visibility: Visibility::Team,
        selectors: vec![
            Selector::TextQuote {
                exact: format!("Metoprolol tartrate 25 mg PO BID, line {n}"),
                prefix: "Active orders\n".into(),
                suffix: "\nHold if HR < 60".into(),
                block: None,
            },
            Selector::TextPosition { start: 120, end: 160 },
        ],
    }
    .into_tip(id(n, 0xaa), author, Timestamp(1_795_000_000_000))
    .expect("valid tip")
}

fn put(author: &str, n: u64) -> Mutation {
    Mutation {
        id: id(n, 0xbb),
        hlc: Hlc { wall_ms: 1_795_000_000_000 + (n & 0xffff_ffff), counter: 0, node: 1 },
        change: Change::Put { tip: Box::new(tip(author, n)) },
    }
}

fn client() -> Arc<HttpClient> {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    Arc::new(Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1024).build(connector))
}

async fn post(http: &HttpClient, url: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    request(http, "POST", url, token, Some(body)).await
}

async fn request(http: &HttpClient, method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut builder = hyper::Request::builder().method(method).uri(url).header("content-type", "application/json");
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let Ok(response) = http.request(builder.body(Full::new(bytes)).expect("request")).await else {
        return (0, Value::Null);
    };
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A server process, killed when the benchmark is done with it.
struct Process {
    child: Child,
    addr: String,
}

impl Process {
    /// Starts `command` and waits for the line containing `ready` on its standard output
    /// (the address follows it).
    fn start(command: &mut Command, ready: &str) -> Process {
        use std::io::BufRead;
        // Owned by a `Process` at once, so a failure below still kills it.
        let mut process = Process {
            child: command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("server starts"),
            addr: String::new(),
        };
        let mut lines = std::io::BufReader::new(process.child.stdout.take().expect("stdout")).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = lines
                .next()
                .and_then(Result::ok)
                .unwrap_or_else(|| panic!("the server exited before saying `{ready}`"));
            if let Some(rest) = line.split(ready).nth(1) {
                process.addr = rest.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("").to_owned();
                // Keep draining its output so the server never blocks on a full pipe.
                std::thread::spawn(move || lines.for_each(drop));
                return process;
            }
            assert!(Instant::now() < deadline, "the server did not say `{ready}` in 30 s");
        }
    }

    /// Starts `command` and waits until something listens on `port`.
    fn start_on_port(command: &mut Command, port: u16) -> Process {
        let process = Process {
            child: command.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("server starts"),
            addr: format!("127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&process.addr).is_err() {
            assert!(Instant::now() < deadline, "nothing listens on {} after 30 s", process.addr);
            std::thread::sleep(Duration::from_millis(100));
        }
        process
    }

    /// The process's resident memory now and at its peak, in KiB (Linux).
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.stop();
    }
}
