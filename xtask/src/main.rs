//! Inflow's build tool, run as `cargo xtask <command>`: one place that knows how to build,
//! run and test the whole project on a fresh Debian machine.

mod dist;
mod manifest;
mod tools;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
cargo xtask <command>

  build   build the extension into dist/ (load it unpacked) and a zip for distribution
  run     build, then serve the demo app on 127.0.0.1 and say what to do next
  test    run every test: native, wasm in headless Chromium, end-to-end in Chromium
  bench anchoring
          time and score the anchoring engine against Hypothesis's procedure
  bench real-pages
          tips captured through the UI on 24 saved real pages, scored after the pages
          change (paragraphs inserted, deleted, reordered, edited, content arriving late)
  bench host
          what Inflow costs the host page: the demo's worklist (rebuilt every 200 ms)
          and four real pages, with and without Inflow, interleaved
  bench content
          time the content script's work on the demo app with 100 tips
  bench server
          200 clients pushing and pulling against the sync server (SQLite, PostgreSQL)
          and against pouchdb-server, with 100,000 tips stored
  bench feed
          the side panel with 10,000 tips (first paint, search) and save-to-highlight
          time between two teammates' browsers
  bench redaction
          the redactor beside Presidio and scrubadub on 2,000 generated EMR-like
          records: recall per kind, character precision, identifiers left, throughput

Each command installs what it needs (the wasm target, wasm-bindgen-cli, npm packages,
Chromium) or says exactly what is missing.";

/// Where the demo app listens for `cargo xtask run` (INFLOW_DEMO_LISTEN overrides it).
const DEMO_LISTEN: &str = "127.0.0.1:8700";
/// Where the sync server listens for `cargo xtask run` (INFLOW_LISTEN overrides it).
const SERVER_LISTEN: &str = "127.0.0.1:8787";

fn main() {
    if let Err(error) = try_main() {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn try_main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("build") => dist::build(&root).map(|_| ()),
        Some("run") => run(&root),
        Some("test") => test(&root),
        Some("bench") => bench(&root, args.get(1).map(String::as_str)),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// The main job: build the extension, start the sync server on its embedded SQLite
/// database with a demo team, serve the demo app, tell the user what to do.
fn run(root: &Path) -> Result<()> {
    let built = dist::build(root)?;
    tools::cargo(&["build", "--release", "-p", "inflow-demo", "-p", "inflow-server"])?;
    let server_bin = root.join("target/release/inflow-server");
    let data_dir = root.join(".inflow");
    let demo_team = tools::capture(Command::new(&server_bin).arg("--data-dir").arg(&data_dir).arg("demo"))
        .context("setting up the demo team")?;
    let server_listen = std::env::var("INFLOW_LISTEN").unwrap_or_else(|_| SERVER_LISTEN.to_owned());
    let _server = KillOnDrop(
        Command::new(&server_bin)
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["serve", "--listen", &server_listen])
            .spawn()
            .context("starting the sync server")?,
    );
    wait_for_http(&server_listen, Duration::from_secs(10)).context("the sync server did not start")?;
    let listen = std::env::var("INFLOW_DEMO_LISTEN").unwrap_or_else(|_| DEMO_LISTEN.to_owned());
    let mut demo = KillOnDrop(
        Command::new(root.join("target/release/inflow-demo"))
            .args(["--listen", &listen])
            .spawn()
            .context("starting the demo app")?,
    );
    wait_for_http(&listen, Duration::from_secs(10)).context("the demo app did not start")?;
    let mut steps = vec![
        String::new(),
        "Inflow is built, the sync server and the demo app are running.".to_owned(),
        String::new(),
        "1. In Chromium or Chrome, open chrome://extensions, switch on Developer mode,".to_owned(),
        format!("   choose \"Load unpacked\" and pick {}", built.dist.display()),
        format!("2. Open the demo EMR: http://{listen}/patients"),
        "3. Select some text (an order, a note), click \"+ Tip\" (or press Alt+Shift+Y, or".to_owned(),
        "   right-click > Add an Inflow tip), write a note and save. Reload: it is still there.".to_owned(),
        "   Click highlighted text to read its tip.".to_owned(),
        String::new(),
        format!(
            "Sync server: http://{server_listen} (SQLite in {}). Demo team members and their tokens:",
            data_dir.display()
        ),
    ];
    // `inflow-server demo` prints `team ID NAME`, then `member ROLE TOKEN NAME` lines.
    for line in demo_team.lines() {
        if let Some((id, name)) = line.strip_prefix("team ").and_then(|rest| rest.split_once(' ')) {
            steps.push(format!("   team \"{name}\" ({id})"));
        } else if let Some((role, rest)) = line.strip_prefix("member ").and_then(|rest| rest.split_once(' ')) {
            let (token, name) = rest.split_once(' ').unwrap_or((rest, ""));
            steps.push(format!("   {name}, {role}: {token}"));
        }
    }
    steps.extend([
        "   (new tokens are issued at every run; the ones printed before stop working)".to_owned(),
        String::new(),
        format!("The zip for distribution is {}", built.zip.display()),
        "Press Ctrl+C to stop.".to_owned(),
    ]);
    println!("{}", steps.join("\n"));
    let status = demo.0.wait()?;
    if !status.success() {
        bail!("the demo app stopped: {status}");
    }
    Ok(())
}

/// Every test: native unit and integration tests, the IndexedDB store in headless
/// Chromium, and the end-to-end suite driving Chromium with the built extension.
fn test(root: &Path) -> Result<()> {
    println!("\n== tidy: formatting and lints (rustfmt.toml, clippy with warnings as errors, native and wasm32)");
    tools::ensure_lint_tools()?;
    tools::cargo(&["fmt", "--all", "--check"]).context("run `cargo fmt --all` and commit the result")?;
    tools::cargo(&["clippy", "--quiet", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    tools::ensure_wasm_target()?;
    tools::cargo(&[
        "clippy",
        "--quiet",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        "inflow-extension",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    println!("\n== tidy: the content script's types (// @ts-check, JSDoc; TypeScript in strict mode)");
    tools::ensure_npm_packages(root)?;
    tools::run(
        Command::new(root.join("node_modules/.bin/tsc"))
            .arg("-p")
            .arg(root.join(dist::CONTENT_SCRIPT_SOURCES).join("tsconfig.json")),
    )?;
    let browser = tools::ensure_chromium()?;
    tools::cargo(&["test", "--workspace", "--quiet"])?;

    println!("\n== content script unit tests in headless Chromium (text map and offsets)");
    tools::run(
        Command::new("node")
            .args(["--test", "--test-reporter=spec"])
            .arg(root.join("tests/content-script"))
            .env("INFLOW_CHROMIUM", &browser.chromium),
    )?;
    dist::build(root)?;
    tools::cargo(&["build", "--release", "-p", "inflow-demo", "-p", "inflow-server"])?;

    println!("\n== the sync API against its OpenAPI document (schemathesis: no input may cause a 5xx)");
    api_conformance(root)?;

    println!("\n== wasm tests in headless Chromium (IndexedDB store)");
    tools::run(
        Command::new("cargo")
            .args(["test", "--target", "wasm32-unknown-unknown", "-p", "inflow-extension", "--test", "idb_store"])
            .env("CHROMEDRIVER", &browser.chromedriver)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "60"),
    )?;

    println!("\n== end-to-end tests: Chromium with dist/ loaded, demo app on loopback");
    tools::ensure_npm_packages(root)?;
    tools::ensure_xmllint()?;
    tools::run(
        Command::new("node")
            .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
            .arg(root.join("tests/e2e"))
            .env("INFLOW_DIST", root.join("dist"))
            .env("INFLOW_DEMO_BIN", root.join("target/release/inflow-demo"))
            .env("INFLOW_SERVER_BIN", root.join("target/release/inflow-server"))
            .env("INFLOW_CHROMIUM", &browser.chromium),
    )
}

/// Runs schemathesis against a real `inflow-server` on a fresh SQLite database: generated
/// and mutated requests for every operation of `/v1/openapi.json` (the endless event stream
/// aside), with an admin's token so that every operation runs (who may not is the API
/// tests' concern). Any 5xx, or an answer the document does not allow, fails.
fn api_conformance(root: &Path) -> Result<()> {
    let schemathesis = tools::ensure_schemathesis(root)?;
    let server_bin = root.join("target/release/inflow-server");
    let data = std::env::temp_dir().join(format!("inflow-schemathesis-{}", std::process::id()));
    let database = format!("sqlite://{}", data.join("inflow.db").display());
    let cli = |args: &[&str]| -> Result<String> {
        let out = tools::capture(Command::new(&server_bin).args(args).env("INFLOW_DATABASE_URL", &database))?;
        Ok(out.lines().last().unwrap_or_default().trim().to_owned())
    };
    let team = cli(&["team", "create", "Schemathesis ward"])?;
    let token = cli(&["member", "add", "--team", &team, "--name", "Dana", "--role", "admin"])?;
    let mut server = KillOnDrop(
        Command::new(&server_bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("INFLOW_DATABASE_URL", &database)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting inflow-server")?,
    );
    let mut first_line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(server.0.stdout.take().context("server output")?),
        &mut first_line,
    )?;
    let address = first_line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("the server said `{first_line}`"))?;
    let base = format!("http://{address}");
    let result = tools::run(
        Command::new(schemathesis)
            .arg("run")
            .arg(format!("{base}/v1/openapi.json"))
            .args(["--url", &base, "--checks", "not_a_server_error,status_code_conformance,content_type_conformance"])
            .args(["--exclude-path", "/v1/events", "--max-examples", "100", "--seed", "1", "--no-color"])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .env("SCHEMATHESIS_TELEMETRY", "false"),
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// Benchmarks, each printing a table of our figures beside the peer's, measured in one run.
fn bench(root: &Path, which: Option<&str>) -> Result<()> {
    match which {
        Some("anchoring") => {
            dist::build(root)?;
            tools::run(
                Command::new("node").arg(root.join("tests/bench/anchoring.mjs")).env("INFLOW_DIST", root.join("dist")),
            )
        }
        Some("redaction") => {
            let python = tools::ensure_redaction_peers(root)?;
            dist::build(root)?;
            tools::run(
                Command::new("node")
                    .arg(root.join("tests/bench/redaction.mjs"))
                    .env("INFLOW_DIST", root.join("dist"))
                    .env("INFLOW_BENCH_PYTHON", python),
            )
        }
        Some("content") => browser_bench(root, "content-script.mjs", false),
        Some("real-pages") => browser_bench(root, "real-pages.mjs", false),
        Some("host") => browser_bench(root, "host.mjs", false),
        Some("feed") => browser_bench(root, "feed.mjs", true),
        Some("server") => {
            let peer = root.join("tests/bench/pouchdb");
            println!("== installing the peer, pouchdb-server, from npm (the first time takes about 2 minutes)");
            tools::ensure_npm_packages_in(&peer)?;
            let mut bench = Command::new("cargo");
            bench
                .args(["bench", "--quiet", "-p", "inflow-server", "--bench", "load"])
                .env("INFLOW_POUCHDB_SERVER", peer.join("node_modules/pouchdb-server/bin/pouchdb-server"));
            // PostgreSQL as this kind of machine runs it, unless another server is named.
            if std::env::var_os("INFLOW_BENCH_DATABASE_URL").is_none()
                && std::env::var_os("INFLOW_TEST_DATABASE_URL").is_none()
                && std::net::TcpStream::connect("127.0.0.1:5432").is_ok()
            {
                bench.env("INFLOW_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres");
            }
            tools::run(&mut bench)
        }
        _ => {
            bail!("which benchmark? `cargo xtask bench anchoring`, `real-pages`, `host`, `content`, `server`, `feed` or `redaction`")
        }
    }
}

/// A benchmark in `tests/bench/` that drives Chromium with the built extension against the
/// demo app (and, `with_server`, a team server).
fn browser_bench(root: &Path, script: &str, with_server: bool) -> Result<()> {
    let browser = tools::ensure_chromium()?;
    dist::build(root)?;
    let packages: &[&str] =
        if with_server { &["-p", "inflow-demo", "-p", "inflow-server"] } else { &["-p", "inflow-demo"] };
    tools::cargo(&[&["build", "--release"][..], packages].concat())?;
    tools::ensure_npm_packages(root)?;
    let mut command = Command::new("node");
    command
        .arg(root.join("tests/bench").join(script))
        .env("INFLOW_DIST", root.join("dist"))
        .env("INFLOW_DEMO_BIN", root.join("target/release/inflow-demo"))
        .env("INFLOW_CHROMIUM", &browser.chromium);
    if with_server {
        command.env("INFLOW_SERVER_BIN", root.join("target/release/inflow-server"));
    }
    tools::run(&mut command)
}

/// A child process that is killed when this handle goes away, so an error or Ctrl+C in
/// xtask never leaves a server running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_http(listen: &str, timeout: Duration) -> Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if std::net::TcpStream::connect(listen).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on {listen} after {timeout:?}")
}

#[cfg(test)]
mod tidy {
    //! Project-wide checks that are cheap to run with the unit tests.

    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }

    #[test]
    fn every_module_says_what_it_is_for() {
        let root = super::project_root();
        let mut files = Vec::new();
        for dir in ["src", "core/src", "server/src", "xtask/src", "demo/src", "tests"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 10, "found only {files:?}");
        let missing: Vec<_> =
            files.iter().filter(|f| !std::fs::read_to_string(f).unwrap_or_default().starts_with("//!")).collect();
        assert!(missing.is_empty(), "these files do not start with a `//!` line: {missing:?}");
    }

    #[test]
    fn user_content_is_never_inserted_as_markup() {
        let root = super::project_root();
        let mut offenders = Vec::new();
        for dir in ["extension", "src"] {
            let mut stack = vec![root.join(dir)];
            while let Some(path) = stack.pop() {
                if path.is_dir() {
                    stack.extend(std::fs::read_dir(&path).into_iter().flatten().flatten().map(|e| e.path()));
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    for needle in [".innerHTML", "insertAdjacentHTML", "outerHTML", "document.write(", "set_inner_html"]
                    {
                        if text.contains(needle) {
                            offenders.push(format!("{}: {needle}", path.display()));
                        }
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "markup built from strings: {offenders:?}");
    }
}
