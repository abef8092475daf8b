//! `cargo xtask specs --check-upstream`: has a vendor changed the spec it publishes?
//!
//! The sha256 pins in `xtask/tests/generate.rs` catch local edits; this catches the vendor's.
//! For each vendor with an `upstream` in `specs/vendors.toml` it fetches the published document,
//! extracts what corresponds to our spec and reports: unchanged, or the difference and what a
//! regeneration would change in the crate's public API (its `API.md`).

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::codegen;
use crate::config::{Extract, Layout, Upstream, VendorConfig, VendorsFile};

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

/// Check every vendor (or one) against what it publishes.
pub fn check(layout: &Layout, only: Option<&str>) -> Result<Vec<Report>> {
    let vendors = VendorsFile::load(&layout.specs_dir.join("vendors.toml"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .user_agent(concat!("disconnect-xtask/", env!("CARGO_PKG_VERSION")))
        .build()?;
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
        let change = compare(layout, vendor, upstream, &published, &ours)
            .with_context(|| format!("{name}: comparing with {}", upstream.url))?;
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

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String> {
    let response = client.get(url).send().await?;
    let status = response.status();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    Ok(response.text().await?)
}

/// `None` when `published` matches `ours` for this vendor's extraction.
pub fn compare(
    layout: &Layout,
    vendor: &VendorConfig,
    upstream: &Upstream,
    published: &str,
    ours: &str,
) -> Result<Option<String>> {
    match upstream.extract {
        Extract::OpenapiBlock => {
            let block = openapi_block(published)?;
            if block == ours {
                return Ok(None);
            }
            let diff = similar::TextDiff::from_lines(ours, block.as_str())
                .unified_diff()
                .context_radius(2)
                .header(
                    &format!("specs/{}", vendor.spec),
                    &format!("published {}", upstream.url),
                )
                .to_string();
            let api = api_change(layout, vendor, &block);
            Ok(Some(format!(
                "{diff}\nRegenerating from the published spec would change the public API:\n{api}"
            )))
        }
        Extract::Operation => {
            let path = upstream
                .path
                .as_deref()
                .ok_or_else(|| anyhow!("`extract = \"operation\"` needs `path`"))?;
            let method = upstream
                .method
                .as_deref()
                .ok_or_else(|| anyhow!("`extract = \"operation\"` needs `method`"))?;
            let theirs: Value = serde_yaml_ng::from_str(published)
                .context("the published document is not YAML or JSON")?;
            let ours_doc: Value = serde_yaml_ng::from_str(ours)?;
            let a = Shape::of(&ours_doc, path, method).context("in our spec")?;
            let b = Shape::of(&theirs, path, method).context("in the published document")?;
            let lines = a.differences(&b);
            Ok((!lines.is_empty()).then(|| {
                format!(
                    "{method} {path}, ours → published:\n{}\nspecs/{} is ours: update it to match, then regenerate.",
                    lines.join("\n"),
                    vendor.spec
                )
            }))
        }
    }
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

/// What `API.md` would become, as a diff against the crate's current one.
fn api_change(layout: &Layout, vendor: &VendorConfig, spec: &str) -> String {
    match codegen::generate(vendor, spec) {
        Err(e) => format!("(the published spec does not generate: {e:#})"),
        Ok(out) => {
            let current = std::fs::read_to_string(layout.api_md(vendor)).unwrap_or_default();
            if current == out.api_md {
                return "(none: the change does not reach the Rust API)".to_string();
            }
            similar::TextDiff::from_lines(current.as_str(), out.api_md.as_str())
                .unified_diff()
                .context_radius(1)
                .header("API.md", "API.md after regenerating")
                .to_string()
        }
    }
}

/// What an operation looks like from outside: parameters, request body, statuses.
#[derive(Debug, PartialEq, Eq)]
struct Shape {
    parameters: BTreeSet<String>,
    body: BTreeSet<String>,
    statuses: BTreeSet<String>,
}

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..16 {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

impl Shape {
    fn of(doc: &Value, path: &str, method: &str) -> Result<Self> {
        let item = doc
            .get("paths")
            .and_then(|p| p.get(path))
            .ok_or_else(|| anyhow!("no path `{path}`"))?;
        let op = item
            .get(method)
            .ok_or_else(|| anyhow!("no `{method}` at `{path}`"))?;
        let mut parameters = BTreeSet::new();
        for list in [item.get("parameters"), op.get("parameters")]
            .into_iter()
            .flatten()
        {
            for p in list.as_array().into_iter().flatten() {
                let p = resolve(doc, p);
                let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
                parameters.insert(format!(
                    "{} parameter `{}`{}",
                    p.get("in").and_then(Value::as_str).unwrap_or("?"),
                    p.get("name").and_then(Value::as_str).unwrap_or("?"),
                    if required { " (required)" } else { "" }
                ));
            }
        }
        let mut body = BTreeSet::new();
        if let Some(b) = op.get("requestBody").map(|b| resolve(doc, b)) {
            for media in b
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                body.insert(format!("request body `{}`", media.0));
            }
        }
        let statuses = op
            .get("responses")
            .and_then(Value::as_object)
            .map(|r| r.keys().map(|s| format!("status {s}")).collect())
            .unwrap_or_default();
        Ok(Self {
            parameters,
            body,
            statuses,
        })
    }

    fn differences(&self, published: &Self) -> Vec<String> {
        let mut out = Vec::new();
        for (ours, theirs) in [
            (&self.parameters, &published.parameters),
            (&self.body, &published.body),
            (&self.statuses, &published.statuses),
        ] {
            for added in theirs.difference(ours) {
                out.push(format!("  + {added}"));
            }
            for removed in ours.difference(theirs) {
                out.push(format!("  - {removed}"));
            }
        }
        out
    }
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

    #[test]
    fn operations_compare_by_parameters_body_and_statuses() {
        let ours: Value = serde_yaml_ng::from_str(
            "paths: {/x: {post: {parameters: [{name: a, in: header}], responses: {'200': {}, '404': {}}}}}",
        )
        .unwrap();
        let theirs: Value = serde_yaml_ng::from_str(
            "paths: {/x: {post: {parameters: [{$ref: '#/components/parameters/A'}, {name: b, in: query}], responses: {'200': {}, '500': {}}}}}\ncomponents: {parameters: {A: {name: a, in: header}}}",
        )
        .unwrap();
        let a = Shape::of(&ours, "/x", "post").unwrap();
        let b = Shape::of(&theirs, "/x", "post").unwrap();
        assert_eq!(
            a.differences(&b),
            [
                "  + query parameter `b`",
                "  + status 500",
                "  - status 404"
            ]
        );
        assert!(a.differences(&a).is_empty());
    }
}
