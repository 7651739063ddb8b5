//! Checks of `manifest.json`: the version stamp, and that what ships in `dist/` is
//! complete and asks for no more than it needs.

use std::path::Path;

use anyhow::{bail, Context, Result};

/// Host patterns that would grant Inflow every site; only optional permissions may hold them.
const BROAD_HOSTS: &[&str] = &["<all_urls>", "*://*/*", "http://*/*", "https://*/*"];

/// Replaces the manifest's `"version"` value with the workspace version.
pub fn stamp_version(manifest: &str, version: &str) -> Result<String> {
    let key = "\"version\": \"";
    let start = manifest.find(key).context("manifest.json has no \"version\"")? + key.len();
    let end = start + manifest[start..].find('"').context("manifest.json's version is not closed")?;
    Ok(format!("{}{version}{}", &manifest[..start], &manifest[end..]))
}

/// Every file the manifest names exists under `dist`; wasm is allowed for extension
/// pages only; no broad host permission is requested up front.
pub fn check_dist(dist: &Path) -> Result<()> {
    let text = std::fs::read_to_string(dist.join("manifest.json"))?;
    for file in named_files(&text) {
        if !dist.join(&file).is_file() {
            bail!("manifest.json names {file}, which is not in {}", dist.display());
        }
    }
    if !text.contains(r#""extension_pages": "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'""#) {
        bail!("manifest.json must allow wasm ('wasm-unsafe-eval') for extension pages, and nothing more");
    }
    if text.contains("\"sandbox\"") {
        bail!("manifest.json must not declare a sandbox CSP");
    }
    let up_front = section(&text, "\"host_permissions\"").unwrap_or_default();
    for broad in BROAD_HOSTS {
        if up_front.contains(&format!("\"{broad}\"")) {
            bail!("manifest.json requests {broad} up front; broad access must be optional and granted by the user");
        }
    }
    for pkg_file in [
        "pkg/inflow_extension.js",
        "pkg/inflow_extension_bg.wasm",
        "pkg/inflow_pages.js",
        "pkg/inflow_pages_bg.wasm",
        "pkg/inflow_frame.js",
        "pkg/inflow_frame_bg.wasm",
    ] {
        if !dist.join(pkg_file).is_file() {
            bail!("{pkg_file} is missing from {}", dist.display());
        }
    }
    Ok(())
}

/// Files the manifest refers to: scripts, stylesheets, icons, pages.
fn named_files(manifest: &str) -> Vec<String> {
    let exts = [".js\"", ".css\"", ".png\"", ".html\"", ".json\""];
    manifest
        .split('"')
        .collect::<Vec<_>>()
        .windows(3)
        .filter_map(|w| {
            let candidate = w[1];
            let quoted = format!("{candidate}\"");
            (exts.iter().any(|e| quoted.ends_with(e)) && !candidate.contains('*') && !candidate.contains(' '))
                .then(|| candidate.to_owned())
        })
        .collect()
}

/// The text of the JSON array that follows `key`.
fn section<'a>(manifest: &'a str, key: &str) -> Option<&'a str> {
    let start = manifest.find(key)?;
    let open = start + manifest[start..].find('[')?;
    let close = open + manifest[open..].find(']')?;
    Some(&manifest[open..=close])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_manifest() -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../manifest.json"))
            .expect("manifest.json at the top")
    }

    #[test]
    fn every_file_the_manifest_names_is_in_extension_or_built() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let names = named_files(&repo_manifest());
        assert!(names.contains(&"content.js".to_owned()) && names.contains(&"worker.js".to_owned()), "{names:?}");
        for name in names {
            // The content script is built: bundled from its modules' entry point.
            let source = match name.as_str() {
                "content.js" => root.join(crate::dist::CONTENT_SCRIPT_SOURCES).join("main.js"),
                _ => root.join("extension").join(&name),
            };
            assert!(source.is_file(), "manifest names {name}, missing from extension/ ({})", source.display());
        }
    }

    #[test]
    fn no_broad_host_permission_up_front() {
        let manifest = repo_manifest();
        let up_front = section(&manifest, "\"host_permissions\"").expect("host_permissions present");
        for broad in BROAD_HOSTS {
            assert!(!up_front.contains(&format!("\"{broad}\"")), "{broad} requested up front");
        }
        assert!(!manifest.contains("<all_urls>"));
    }

    #[test]
    fn version_is_stamped() {
        let stamped = stamp_version(&repo_manifest(), "9.8.7").expect("stamps");
        assert!(stamped.contains("\"version\": \"9.8.7\""));
        assert!(stamped.contains("\"manifest_version\": 3"), "only the version changes");
    }
}
