//! `cargo xtask build`: the wasm package, `dist/` (loadable unpacked) and the zip.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::{manifest, tools};

/// What a build produced.
pub struct Built {
    pub dist: PathBuf,
    pub zip: PathBuf,
}

/// The three wasm packages built from the extension crate, by feature: the service worker's
/// (anchoring, sync, the message handlers), the extension pages' (side panel, options:
/// curation, exports) and the tip frame's (the form and the card, made in a web page on the
/// user's first click, so it must compile fast). Each loads only its own.
/// Each with its Cargo profile and wasm-opt level: the worker's is built for speed, the
/// others for size (see `Cargo.toml`).
const PACKAGES: [(&str, &str, &str, &str); 3] = [
    ("inflow_extension", "worker", "wasm-worker", "-O3"),
    ("inflow_pages", "pages", "wasm-release", "-Oz"),
    ("inflow_frame", "frame", "wasm-release", "-Oz"),
];

pub fn build(root: &Path) -> Result<Built> {
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen(root)?;
    tools::ensure_npm_packages(root)?;

    let dist = root.join("dist");
    if dist.exists() {
        std::fs::remove_dir_all(&dist).context("clearing dist/")?;
    }
    let pkg = dist.join("pkg");
    let mut sizes = Vec::new();
    for (name, feature, profile, optimize) in PACKAGES {
        println!("== building the extension's wasm: {name} (feature {feature})");
        tools::cargo(&[
            "build",
            "--quiet",
            "--profile",
            profile,
            "--target",
            tools::WASM_TARGET,
            "-p",
            "inflow-extension",
            "--lib",
            "--no-default-features",
            "--features",
            feature,
        ])?;
        // One crate, so one artifact name: copied aside before the next build replaces it.
        let built = root.join(format!("target/{}/{profile}/inflow_extension.wasm", tools::WASM_TARGET));
        let raw_wasm = root.join(format!("target/{}/{profile}/{name}.raw.wasm", tools::WASM_TARGET));
        std::fs::copy(&built, &raw_wasm).with_context(|| format!("copying {}", built.display()))?;
        tools::run(
            Command::new("wasm-bindgen")
                .arg(&raw_wasm)
                .args(["--target", "web", "--out-name", name, "--out-dir"])
                .arg(&pkg),
        )?;
        let wasm = pkg.join(format!("{name}_bg.wasm"));
        let bindgen_size = file_size(&wasm)?;
        // Debian's binaryen is too old for this output (its result fails at run time); the npm
        // package is current. The feature flags match what rustc emits for wasm32 by default.
        tools::run(
            Command::new(root.join("node_modules/.bin/wasm-opt"))
                .args([optimize, "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"])
                .args(["--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue"])
                .arg(&wasm)
                .arg("-o")
                .arg(&wasm),
        )?;
        sizes.push((name, file_size(&raw_wasm)?, bindgen_size, wasm));
    }

    copy_dir(&root.join("extension"), &dist)?;
    bundle_content_script(root, &dist.join("content.js"))?;
    bundle_cmi5_script(root, &dist.join(CMI5_SCRIPT))?;
    let version = env!("CARGO_PKG_VERSION");
    let manifest_text = std::fs::read_to_string(root.join("manifest.json")).context("reading manifest.json")?;
    std::fs::write(dist.join("manifest.json"), manifest::stamp_version(&manifest_text, version)?)?;
    manifest::check_dist(&dist)?;

    let zip = root.join(format!("target/inflow-extension-{version}.zip"));
    zip_dir(&dist, &zip)?;

    let content = dist.join("content.js");
    println!("\n== sizes");
    println!(
        "  page load cost (content.js + content.css): {} (gzip {})",
        kb(file_size(&content)? + file_size(&dist.join("content.css"))?),
        kb(gzip_size(&content)? + gzip_size(&dist.join("content.css"))?)
    );
    for (name, raw, bindgen, wasm) in &sizes {
        println!(
            "  wasm {name}: {} from cargo, {} after wasm-bindgen, {} after wasm-opt (gzip {})",
            kb(*raw),
            kb(*bindgen),
            kb(file_size(wasm)?),
            kb(gzip_size(wasm)?)
        );
        println!("  wasm glue (pkg/{name}.js): {}", kb(file_size(&pkg.join(format!("{name}.js")))?));
    }
    println!("  dist/: {}    zip: {} ({})", dist.display(), kb(file_size(&zip)?), zip.display());
    Ok(Built { dist, zip })
}

/// The content script's sources: modules that `bundle_content_script` makes into one file
/// (a content script cannot import modules), not files of the extension.
pub const CONTENT_SCRIPT_SOURCES: &str = "extension/content";

/// Bundles the content script's modules into the one classic script the manifest injects
/// (esbuild, from npm: an IIFE, so nothing leaks into the page's isolated world's globals).
/// Not minified: its size is small, and a stack trace from a user's page stays readable.
pub fn bundle_content_script(root: &Path, out: &Path) -> Result<()> {
    tools::run(
        Command::new(root.join("node_modules/.bin/esbuild"))
            .arg(root.join(CONTENT_SCRIPT_SOURCES).join("main.js"))
            .args(["--bundle", "--format=iife", "--target=chrome120", "--log-level=warning", "--legal-comments=none"])
            .arg(format!("--outfile={}", out.display())),
    )
}

/// The cmi5 course's script (see core/src/cmi5.rs): its source imports the cmi5 client
/// library from npm.
pub const CMI5_SCRIPT_SOURCE: &str = "extension/cmi5";
/// The bundle in `dist/` (core's `cmi5::SCRIPT_IN_EXTENSION` names it too): the panel's
/// cmi5 export and `inflow-server export --format cmi5` put it in every package as the
/// unit's `au.js`.
pub const CMI5_SCRIPT: &str = "cmi5-au.js";

/// Bundles the cmi5 course's script with its library into one classic script (an IIFE,
/// minified: it travels in every package, and its library's stack traces are not ours).
pub fn bundle_cmi5_script(root: &Path, out: &Path) -> Result<()> {
    tools::run(
        Command::new(root.join("node_modules/.bin/esbuild"))
            .arg(root.join(CMI5_SCRIPT_SOURCE).join("au.js"))
            .args(["--bundle", "--minify", "--format=iife", "--target=es2020", "--log-level=warning"])
            .arg(format!("--outfile={}", out.display())),
    )
}

/// Copies `extension/` into `dist/`, leaving out the sources that are bundled instead.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().ends_with(CONTENT_SCRIPT_SOURCES) || entry.path().ends_with(CMI5_SCRIPT_SOURCE) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn zip_dir(dir: &Path, zip_path: &Path) -> Result<()> {
    let file = std::fs::File::create(zip_path).with_context(|| format!("creating {}", zip_path.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    for path in files {
        let name = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
        zip.start_file(name, options)?;
        zip.write_all(&std::fs::read(&path)?)?;
    }
    zip.finish()?;
    Ok(())
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            collect_files(&entry.path(), files)?;
        } else {
            files.push(entry.path());
        }
    }
    Ok(())
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.len())
}

fn gzip_size(path: &Path) -> Result<u64> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&std::fs::read(path)?)?;
    Ok(encoder.finish()?.len() as u64)
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}
