//! The workspace's automation, run as `cargo xtask <command>`.
//!
//! `cargo xtask generate [--vendor NAME] [--check]` turns each spec in `specs/` into
//! `crates/<vendor>-client/src/generated.rs` and `crates/<vendor>-client/API.md`:
//!
//! 1. load the YAML (errors name file, line and column);
//! 2. apply the vendor's named [`transforms`] from `specs/vendors.toml`;
//! 3. parse the result as an OpenAPI 3.0 document (`openapiv3`);
//! 4. run progenitor (a panic becomes an error naming the spec and the operation);
//! 5. post-process ([`postprocess`]): drop the `api-version` header unless asked for, send
//!    multipart bodies as multipart, add `servers`, `with_api_key` and `ConfigError`;
//! 6. format with prettyplease and rustfmt, prepend the `@generated` header.
//!
//! With every vendor (no `--vendor`), it also writes the vendor table,
//! `crates/disconnect-vendors/src/table.rs` ([`vendor_table`]).
//!
//! `--check` runs the very same code, writes nothing, prints a unified diff of what is stale and
//! exits non-zero.
//!
//! `cargo xtask semver [--check]` classifies each published crate's API change since its last
//! release ([`semver`]); `cargo xtask specs --check-upstream` compares the specs with what the
//! vendors publish ([`upstream`]); `cargo xtask bench` measures ([`mod@bench`]).

pub mod answers;
pub mod api_doc;
pub mod bench;
pub mod codegen;
pub mod config;
pub mod drift;
pub mod postprocess;
pub mod semver;
pub mod transforms;
pub mod upstream;
pub mod vendor_add;
pub mod vendor_table;

/// Fuzz entry (see `fuzz/`): arbitrary bytes as a YAML/JSON document through every transform
/// and the OpenAPI 3.0 parser. Must never panic.
#[doc(hidden)]
pub fn fuzz_transforms(data: &[u8]) {
    let Ok(doc) = serde_yaml_ng::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for name in transforms::NAMES {
        let mut copy = doc.clone();
        let transform = transforms::by_name(name).expect("listed");
        if transform(&mut copy).is_ok() {
            let _ = serde_json::from_value::<openapiv3::OpenAPI>(copy);
        }
    }
    let mut all = doc;
    for name in transforms::NAMES {
        let _ = transforms::by_name(name).expect("listed")(&mut all);
    }
    for (_, transform) in transforms::ALWAYS {
        let _ = transform(&mut all);
    }
}

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::codegen::Drift;
use crate::config::{Layout, VendorsFile};

/// The command that rewrites every generated file.
pub const FIX_COMMAND: &str = "cargo xtask generate";

/// Lower-case hex sha256 of `bytes`: how specs are named in CHANGELOGs, generated code and
/// `cargo xtask semver`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Client crates whose `CHANGELOG.md` names no entry for the spec they are generated from:
/// a regeneration from a changed spec needs an entry naming the spec's new sha256 and the
/// classified API change (see `cargo xtask semver`). One message per crate.
pub fn changelog_gaps(layout: &Layout, only: Option<&str>) -> Result<Vec<String>> {
    let vendors = VendorsFile::load(&layout.specs_dir.join("vendors.toml"))?;
    let mut gaps = Vec::new();
    for (name, vendor) in &vendors.vendors {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let bytes = std::fs::read(layout.specs_dir.join(&vendor.spec))?;
        let sha = sha256_hex(&bytes);
        let path = layout
            .crates_dir
            .join(&vendor.crate_name)
            .join("CHANGELOG.md");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !text.contains(&sha) {
            gaps.push(format!(
                "crates/{}/CHANGELOG.md has no entry for specs/{} (sha256 {sha}): add one naming \
                 the spec change (old and new sha256) and the API change `cargo xtask semver` \
                 classifies",
                vendor.crate_name, vendor.spec
            ));
        }
    }
    Ok(gaps)
}

/// The drift of one generated file from what is on disk; with `write`, the file is rewritten.
fn refresh(path: &Path, display: &str, content: &str, write: bool) -> Result<Option<Drift>> {
    let drift = codegen::drift(path, display, content);
    if drift.is_some() && write {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, content).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(drift)
}

/// Generate every vendor (or one), returning the files that differ from what is on disk.
/// With `write`, stale files are rewritten.
pub fn generate(layout: &Layout, only: Option<&str>, write: bool) -> Result<Vec<Drift>> {
    let vendors = VendorsFile::load(&layout.specs_dir.join("vendors.toml"))?;
    if let Some(name) = only
        && !vendors.vendors.contains_key(name)
    {
        bail!(
            "unknown vendor `{name}` (known: {})",
            vendors
                .vendors
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut drifts = Vec::new();
    let mut facts = Vec::new();
    let mut records = Vec::new();
    for (name, vendor) in &vendors.vendors {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let spec_path = layout.specs_dir.join(&vendor.spec);
        let text = std::fs::read_to_string(&spec_path)
            .with_context(|| format!("reading {}", spec_path.display()))?;
        let output = codegen::generate(vendor, &text)?;
        let vendor_facts = vendor_table::facts(name, vendor, &text, &output.doc)?;
        records.push(vendor_table::record_type(
            &vendor_facts,
            &output.doc,
            &output.rust,
        )?);
        facts.push(vendor_facts);
        for (path, content) in [
            (layout.generated_rs(vendor), &output.rust),
            (layout.api_md(vendor), &output.api_md),
        ] {
            let display = format!(
                "crates/{}/{}",
                vendor.crate_name,
                path.strip_prefix(layout.crates_dir.join(&vendor.crate_name))
                    .unwrap_or(&path)
                    .display()
            );
            drifts.extend(refresh(&path, &display, content, write)?);
        }
    }
    // The table lists every vendor: written only when every vendor was generated.
    if only.is_none() {
        let display = format!("crates/{}/src/table.rs", vendor_table::CRATE);
        let table = vendor_table::render(&facts)?;
        drifts.extend(refresh(
            &vendor_table::path(layout),
            &display,
            &table,
            write,
        )?);
        let configs: Vec<_> = vendors.vendors.values().collect();
        let registry = vendor_table::render_registry(&facts, &configs, &records)?;
        drifts.extend(refresh(
            &vendor_table::registry_path(layout),
            "crates/disconnect/src/adapters/registry.rs",
            &registry,
            write,
        )?);
        let answers = vendor_table::render_answers(&facts);
        drifts.extend(refresh(
            &vendor_table::answers_md_path(layout),
            "crates/disconnect/src/vendor_answers.md",
            &answers,
            write,
        )?);
        // The README's copy of the rows, when the layout has a README (a scratch layout may not).
        if let Some(root) = layout.specs_dir.parent() {
            let readme = root.join("README.md");
            if let Ok(text) = std::fs::read_to_string(&readme) {
                let updated = vendor_table::readme_with_answers(&text, &answers)?;
                let updated = vendor_table::readme_with_fault_matrix(&updated, &facts)?;
                drifts.extend(refresh(&readme, "README.md", &updated, write)?);
            }
        }
        drifts.extend(refresh(
            &vendor_table::fakes_registry_path(layout),
            "crates/disconnect-fakes/src/registry.rs",
            &vendor_table::render_fakes_registry(&facts, &configs),
            write,
        )?);
    }
    Ok(drifts)
}
