//! `cargo xtask specs --check-upstream`: has a vendor changed the spec it publishes?
//!
//! The sha256 pins in `xtask/tests/generate.rs` catch local edits; this catches the vendor's.
//! For each vendor with an `upstream` in `specs/vendors.toml` it fetches the published page or
//! document, takes the closure of the operation we use ([`drift::closure`]) and compares it
//! with what `specs/upstream.lock` pins (for a spec kept as published and not locked yet, with
//! our copy). It reports unchanged, or a semantic diff, what differs from a spec we write
//! ourselves that is new since the lock, and the semver class of regenerating from the
//! published version. `--update` locks what was seen, after a review.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::codegen;
use crate::config::{Extract, Layout, Upstream, VendorConfig, VendorsFile};
use crate::drift::{self, Lock, LockEntry};

/// What the check found for one vendor.
#[derive(Debug)]
pub struct Report {
    /// The vendor's key in `vendors.toml`.
    pub vendor: String,
    /// Where the spec was fetched from.
    pub url: String,
    /// `None` when unchanged; else what changed, as text for a person.
    pub change: Option<String>,
}

impl Report {
    /// One block of text for the terminal.
    pub fn render(&self) -> String {
        match &self.change {
            None => format!("{}: unchanged ({})\n", self.vendor, self.url),
            Some(change) => format!(
                "{}: CHANGED upstream ({})\n{change}\n",
                self.vendor, self.url
            ),
        }
    }
}

/// Check every vendor (or one) against what it publishes; with `update`, lock what was seen
/// (after a review: `specs/upstream.lock` and `specs/upstream/<vendor>.json`).
pub fn check(layout: &Layout, only: Option<&str>, update: bool) -> Result<Vec<Report>> {
    let vendors = VendorsFile::load(&layout.specs_dir.join("vendors.toml"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("disconnect-xtask/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut lock = Lock::load(&layout.specs_dir)?;
    let mut reports = Vec::new();
    for (name, vendor) in &vendors.vendors {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let Some(upstream) = &vendor.upstream else {
            continue;
        };
        let published = runtime
            .block_on(fetch(&client, &upstream.url))
            .with_context(|| format!("{name}: fetching {}", upstream.url))?;
        let ours = std::fs::read_to_string(layout.specs_dir.join(&vendor.spec))
            .with_context(|| format!("reading specs/{}", vendor.spec))?;
        let seen = Seen::read(name, vendor, upstream, &published)
            .with_context(|| format!("{name}: reading {}", upstream.url))?;
        let change = compare(layout, name, vendor, upstream, &seen, &ours, &lock)
            .with_context(|| format!("{name}: comparing with {}", upstream.url))?;
        if update {
            let entry = LockEntry {
                url: upstream.url.clone(),
                sha256: drift::sha256(&seen.closure),
                seen: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            };
            lock.record(&layout.specs_dir, name, entry, &seen.closure)?;
        }
        reports.push(Report {
            vendor: name.clone(),
            url: upstream.url.clone(),
            change,
        });
    }
    if let Some(name) = only
        && reports.is_empty()
    {
        bail!("vendor `{name}` has no `upstream` in specs/vendors.toml (or does not exist)");
    }
    Ok(reports)
}

/// What was read from the published page or document.
pub struct Seen {
    /// The OpenAPI text to generate from (the page's block, or the whole document).
    pub text: String,
    /// The operation we use (`"POST /path"`).
    pub selector: String,
    /// It and every component it references ([`drift::closure`]).
    pub closure: Value,
}

impl Seen {
    pub fn read(
        name: &str,
        vendor: &VendorConfig,
        upstream: &Upstream,
        published: &str,
    ) -> Result<Self> {
        let text = match upstream.extract {
            Extract::OpenapiBlock => openapi_block(published)?,
            Extract::Operation | Extract::Document => published.to_string(),
        };
        let doc: Value =
            serde_yaml_ng::from_str(&text).context("the published document is not YAML or JSON")?;
        let selector = match (upstream.extract, &vendor.operation) {
            (Extract::Operation, _) => {
                let path = upstream
                    .path
                    .as_deref()
                    .ok_or_else(|| anyhow!("`extract = \"operation\"` needs `path`"))?;
                let method = upstream
                    .method
                    .as_deref()
                    .ok_or_else(|| anyhow!("`extract = \"operation\"` needs `method`"))?;
                format!("{} {path}", method.to_ascii_uppercase())
            }
            (_, Some(operation)) => drift::selector_of(&doc, operation)?,
            (_, None) => drift::only_operation(&doc).with_context(|| format!("vendor `{name}`"))?,
        };
        let closure = drift::closure(&doc, &selector)?;
        Ok(Self {
            text,
            selector,
            closure,
        })
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String> {
    let response = client.get(url).send().await?;
    let status = response.status();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    Ok(response.text().await?)
}

/// `None` when nothing changed: the published operation closure is the one locked (for a spec
/// kept as published and not locked yet, the one of our copy) and our copy is the published
/// text. Else what changed, for a person: the semantic diff since the lock, what differs from
/// a spec we write ourselves that is new since the lock, and what regenerating from the
/// published version would do to the client crate's public API (its semver class).
pub fn compare(
    layout: &Layout,
    name: &str,
    vendor: &VendorConfig,
    upstream: &Upstream,
    seen: &Seen,
    ours: &str,
    lock: &Lock,
) -> Result<Option<String>> {
    let ours_doc: Value = serde_yaml_ng::from_str(ours).context("our spec")?;
    let ours_closure = drift::closure(&ours_doc, &seen.selector).context("in our spec")?;
    let as_published = upstream.extract != Extract::Operation;
    let locked = match lock.vendors.get(name) {
        Some(entry) => Some((
            entry,
            Lock::closure(&layout.specs_dir, name)?.ok_or_else(|| {
                anyhow!("specs/upstream/{name}.json is missing (run with --update after a review)")
            })?,
        )),
        None => None,
    };
    let mut sections = Vec::new();
    let baseline = match &locked {
        Some((entry, closure)) => Some((format!("since the lock ({})", entry.seen), closure)),
        None if as_published => Some((format!("from specs/{}", vendor.spec), &ours_closure)),
        None => {
            sections.push(
                "Not locked yet: review the published operation, then run \
                 `cargo xtask specs --check-upstream --update`."
                    .to_string(),
            );
            None
        }
    };
    let mut changed = baseline.is_none();
    if let Some((since, before)) = baseline
        && drift::sha256(before) != drift::sha256(&seen.closure)
    {
        changed = true;
        let lines = drift::diff(before, &seen.closure);
        sections.push(if lines.is_empty() {
            format!(
                "{} changed {since} in what the summary does not name: compare the closures",
                seen.selector
            )
        } else {
            format!("{} changed {since}:\n{}", seen.selector, indent(&lines))
        });
    }
    if as_published && seen.text != ours {
        changed = true;
        let diff = similar::TextDiff::from_lines(ours, seen.text.as_str())
            .unified_diff()
            .context_radius(2)
            .header(
                &format!("specs/{}", vendor.spec),
                &format!("published {}", upstream.url),
            )
            .to_string();
        sections.push(format!(
            "specs/{} is kept as published: replace it with the published text, then regenerate.\n{diff}",
            vendor.spec
        ));
    }
    if !as_published && changed {
        let now = drift::diff(&ours_closure, &seen.closure);
        let before = locked
            .as_ref()
            .map(|(_, closure)| drift::diff(&ours_closure, closure))
            .unwrap_or_default();
        let new = drift::new_since(&before, &now);
        if !new.is_empty() {
            sections.push(format!(
                "specs/{} is ours; these differences from it are new{}: update it to match, then \
                 regenerate.\n{}",
                vendor.spec,
                if locked.is_some() {
                    " since the lock"
                } else {
                    ""
                },
                indent(&new)
            ));
        }
    }
    if !changed {
        return Ok(None);
    }
    sections.push(classify(
        layout,
        vendor,
        seen,
        locked.as_ref().map(|(_, closure)| closure),
    ));
    Ok(Some(sections.join("\n")))
}

fn indent(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Regenerate the client from the published version (in memory) and class the change to its
/// public API (`API.md`) as `cargo xtask semver` would: items removed or changed are breaking,
/// items only added are additive, none is none. The change is the one since the lock (the
/// published document with the locked closure in place of its own); not locked, the one from
/// the crate as it is.
fn classify(layout: &Layout, vendor: &VendorConfig, seen: &Seen, locked: Option<&Value>) -> String {
    let mut vendor = vendor.clone();
    if vendor.operation.is_none()
        && vendor.upstream.as_ref().map(|u| u.extract) == Some(Extract::Operation)
    {
        vendor.operation = Some(seen.selector.clone());
    }
    let out = match codegen::generate(&vendor, &seen.text) {
        Ok(out) => out,
        Err(e) => {
            return format!("semver: unknown (the published version does not generate: {e:#})");
        }
    };
    let current = match locked {
        Some(closure) => {
            let mut before: Value = serde_yaml_ng::from_str(&seen.text).unwrap_or_default();
            for key in ["paths", "components"] {
                before[key] = closure[key].clone();
            }
            let text = serde_json::to_string(&before).unwrap_or_default();
            match codegen::generate(&vendor, &text) {
                Ok(out) => out.api_md,
                Err(e) => {
                    return format!(
                        "semver: unknown (the locked version does not generate: {e:#})"
                    );
                }
            }
        }
        None => std::fs::read_to_string(layout.api_md(&vendor)).unwrap_or_default(),
    };
    let diff = similar::TextDiff::from_lines(current.as_str(), out.api_md.as_str());
    let (mut removed, mut added) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Delete => removed += 1,
            similar::ChangeTag::Insert => added += 1,
            similar::ChangeTag::Equal => {}
        }
    }
    let class = match (removed, added) {
        (0, 0) => return "semver: none (regenerating from the published version leaves the public API as it is)".into(),
        (0, _) => format!("semver: additive ({added} API.md line(s) added)"),
        _ => format!("semver: breaking ({removed} API.md line(s) removed or changed)"),
    };
    let api = diff
        .unified_diff()
        .context_radius(1)
        .header("API.md", "API.md after regenerating")
        .to_string();
    format!("{class}; regenerating from the published version would change the public API:\n{api}")
}

/// The text of the first ```` ```` fence of a documentation page (Mintlify pages put the
/// OpenAPI document there, opened by a line such as ```` ````yaml POST /path ````).
pub fn openapi_block(page: &str) -> Result<String> {
    let mut lines = page.split_inclusive('\n');
    for line in lines.by_ref() {
        if line.starts_with("````") {
            break;
        }
    }
    let mut block = String::new();
    let mut closed = false;
    for line in lines {
        if line.trim_end() == "````" {
            closed = true;
            break;
        }
        block.push_str(line);
    }
    if !closed || block.is_empty() {
        bail!("no OpenAPI block (```` fence) in the page");
    }
    Ok(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_the_first_four_backtick_fence() {
        let page = "# Title\n\n````yaml POST /x\nopenapi: 3.0.0\npaths: {}\n````\n\nmore\n";
        assert_eq!(openapi_block(page).unwrap(), "openapi: 3.0.0\npaths: {}\n");
        assert!(openapi_block("no fence here").is_err());
        assert!(openapi_block("````yaml\nunclosed\n").is_err());
    }
}
