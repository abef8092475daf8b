//! `cargo xtask vendor add <id> --spec <file> --operation '<METHOD> <path>'`: everything a vendor
//! needs, so that with no handwritten Rust the workspace builds, tests, fakes and plans it.
//!
//! It copies the spec into `specs/` byte for byte, proposes the transforms the spec needs (an
//! OpenAPI 3.1 document, missing operationIds, a multipart body), appends the vendor's entry to
//! `specs/vendors.toml`, scaffolds the client crate (`Cargo.toml`, `src/lib.rs` with a compiled
//! example, `examples/`, README, CHANGELOG naming the spec's sha256, licenses), adds the crate
//! to `[workspace.dependencies]` and a cargo feature to the facade, then generates. The vendor
//! is served by the generic adapter and the generic fake until its `answers` rules (or a module
//! of its own) say more.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::config::{Layout, VendorsFile};
use crate::transforms::{pascal_case, snake_case};

/// What `vendor add` was asked.
#[derive(Debug, Clone)]
pub struct AddVendor {
    /// Lower-case id (`acme`).
    pub id: String,
    /// The vendor's published OpenAPI document.
    pub spec: PathBuf,
    /// `METHOD /path` of the operation that cuts a connection.
    pub operation: String,
    /// Display name (default: the id, capitalised).
    pub name: Option<String>,
    /// Where the vendor publishes the document (`upstream = { url, extract = "document" }`).
    pub upstream: Option<String>,
}

/// The workspace root of a layout (the parent of `specs/`).
fn root(layout: &Layout) -> Result<PathBuf> {
    layout
        .specs_dir
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("specs/ has no parent directory"))
}

/// Add the vendor; returns what was written, for the user.
pub fn add(layout: &Layout, req: &AddVendor) -> Result<Vec<String>> {
    let id = req.id.as_str();
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        bail!("vendor id `{id}` must be lower-case letters and digits");
    }
    let vendors_path = layout.specs_dir.join("vendors.toml");
    let vendors = VendorsFile::load(&vendors_path)?;
    if vendors.vendors.contains_key(id) {
        bail!("vendor `{id}` is already in specs/vendors.toml");
    }
    let text = std::fs::read_to_string(&req.spec)
        .with_context(|| format!("reading {}", req.spec.display()))?;
    let doc: Value = serde_yaml_ng::from_str(&text)
        .with_context(|| format!("{} is not a YAML or JSON document", req.spec.display()))?;
    let (method, path) = req
        .operation
        .split_once(' ')
        .map(|(m, p)| (m.trim().to_ascii_lowercase(), p.trim().to_string()))
        .ok_or_else(|| {
            anyhow!(
                "--operation must be `METHOD /path`, got `{}`",
                req.operation
            )
        })?;
    let item = doc
        .pointer(&crate::transforms::path_pointer(&path))
        .ok_or_else(|| anyhow!("{}: no path `{path}`", req.spec.display()))?;
    let op = item.get(&method).ok_or_else(|| {
        anyhow!(
            "{}: no `{} {path}`",
            req.spec.display(),
            method.to_uppercase()
        )
    })?;
    let operations = crate::transforms::operations_in(&doc)
        .filter(|(_, _, _, op)| op.get("responses").is_some())
        .count();
    // A whole published document: the vendor's entry names the operation, and generation
    // keeps only it and what it reaches (`select_operations`).
    let selector = format!("{} {path}", method.to_ascii_uppercase());
    let mut operation_toml = if operations > 1 {
        format!("operation = \"{selector}\"\n")
    } else {
        String::new()
    };
    if let Some(url) = &req.upstream {
        if url.contains('"') || !(url.starts_with("https://") || url.starts_with("http://")) {
            bail!("--upstream must be an http(s) URL, got `{url}`");
        }
        operation_toml.push_str(&format!(
            "upstream = {{ url = \"{url}\", extract = \"document\" }}\n"
        ));
    }

    // Transforms the spec needs, in the order they apply.
    let mut transforms = Vec::new();
    if doc
        .get("openapi")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("3.1"))
    {
        transforms.push("downgrade_openapi_31");
    }
    if op.get("operationId").is_none() {
        transforms.push("synthesize_operation_ids");
    }
    let multipart = op
        .pointer("/requestBody/content/multipart~1form-data")
        .is_some();
    if multipart {
        transforms.push("multipart_as_form");
    }
    // The operation's method name in the generated client: its operationId after the
    // transforms (the one generation uses, synthesized when the spec has none).
    let mut transformed = doc.clone();
    if operations > 1 {
        crate::transforms::select_operations(&mut transformed, std::slice::from_ref(&selector))?;
    }
    for name in &transforms {
        let transform = crate::transforms::by_name(name)
            .ok_or_else(|| anyhow!("unknown transform `{name}`"))?;
        transform(&mut transformed).with_context(|| format!("transform `{name}`"))?;
    }
    let op_id = transformed
        .pointer(&crate::transforms::path_pointer(&path))
        .and_then(|item| item.get(&method))
        .and_then(|op| op.get("operationId"))
        .and_then(Value::as_str)
        .map(snake_case)
        .ok_or_else(|| {
            anyhow!(
                "{}: no operationId after the transforms",
                req.spec.display()
            )
        })?;
    // The builder call both the crate docs and the example show.
    let chain = call(&op_id, op, &doc, "values")?;
    let servers = doc
        .get("servers")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    if servers == 0 {
        bail!(
            "{}: no `servers`; the vendor's base URL comes from them",
            req.spec.display()
        );
    }
    let server_names: Vec<String> = (0..servers)
        .map(|i| {
            if i == 0 {
                "production".to_string()
            } else {
                format!("server{}", i + 1)
            }
        })
        .collect();

    let root = root(layout)?;
    let spec_file = req
        .spec
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{}: no file name", req.spec.display()))?;
    let spec_dest = layout.specs_dir.join(&spec_file);
    if spec_dest.exists() && std::fs::read_to_string(&spec_dest)? != text {
        bail!("specs/{spec_file} exists with other content");
    }
    let mut written = Vec::new();
    std::fs::write(&spec_dest, &text)?;
    written.push(format!("specs/{spec_file}"));

    let name = req.name.clone().unwrap_or_else(|| pascal_case(id));
    let krate = format!("{id}-client");
    let transforms_toml = transforms
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let servers_toml = server_names
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut vendors_text = std::fs::read_to_string(&vendors_path)?;
    if !vendors_text.ends_with('\n') {
        vendors_text.push('\n');
    }
    vendors_text.push_str(&format!(
        "\n[vendors.{id}]\nname = \"{name}\"\nspec = \"{spec_file}\"\ncrate = \"{krate}\"\n\
         {operation_toml}interface = \"builder\"\nderives = []\nfeature_derives = {{ schemars = [\"schemars::JsonSchema\"] }}\n\
         transforms = [{transforms_toml}]\napi_version_header = false\nserver_names = [{servers_toml}]\n\
         max_response_bytes = 1048576\n\
         # What answers mean beyond their status (see the header of this file), e.g.\n\
         # [vendors.{id}.answers]\n\
         # rules = [{{ status = 409, outcome = \"already_disconnected\" }}]\n"
    ));
    // Checked before anything else is written.
    VendorsFile::parse(&vendors_text).context("the new vendors.toml entry")?;
    std::fs::write(&vendors_path, vendors_text)?;
    written.push("specs/vendors.toml".into());

    // The client crate.
    let sha = crate::sha256_hex(text.as_bytes());
    let crate_dir = layout.crates_dir.join(&krate);
    if crate_dir.exists() {
        bail!("crates/{krate} exists already");
    }
    std::fs::create_dir_all(crate_dir.join("src"))?;
    std::fs::create_dir_all(crate_dir.join("examples"))?;
    let features = if multipart {
        "\n# Form bodies: this vendor's operation sends multipart/form-data.\n"
    } else {
        "\n"
    };
    let runtime = if multipart {
        "disconnect-client-runtime = { workspace = true, features = [\"multipart\"] }"
    } else {
        "disconnect-client-runtime.workspace = true"
    };
    let method_upper = method.to_uppercase();
    let files: Vec<(&str, String)> = vec![
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{krate}"
description = "Typed client for {name}'s `{method_upper} {path}`, generated from specs/{spec_file}."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
readme = "README.md"
documentation = "https://docs.rs/{krate}"
keywords = ["{id}", "openapi", "client"]
categories = ["api-bindings", "web-programming::http-client"]
include = ["src/**", "API.md", "README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"]

[features]
default = ["rustls"]{features}# TLS through rustls (aws-lc-rs) with the platform's verifier.
rustls = ["reqwest/rustls"]
# TLS through the platform's library (OpenSSL, Secure Transport, SChannel).
native-tls = ["reqwest/native-tls"]
# `schemars::JsonSchema` for every generated type.
schemars = ["dep:schemars", "disconnect-client-runtime/schemars"]

[dependencies]
{runtime}
progenitor-client.workspace = true
reqwest.workspace = true
chrono.workspace = true
schemars = {{ workspace = true, optional = true }}
secrecy.workspace = true
serde.workspace = true
serde_json.workspace = true
uuid.workspace = true

[dev-dependencies]
# Path only (no version): cargo package leaves it out, as the fakes dev-depend on this crate.
disconnect-fakes = {{ path = "../disconnect-fakes", default-features = false }}
tokio = {{ workspace = true, features = ["macros", "rt-multi-thread"] }}

[package.metadata.docs.rs]
all-features = true
rustdoc-args = ["--cfg", "docsrs"]
"#
            ),
        ),
        (
            "src/lib.rs",
            lib_rs(id, &name, &method_upper, &path, &spec_file, &chain),
        ),
        ("examples/cut.rs", example_rs(id, &name, &chain)),
        (
            "README.md",
            format!(
                "# `{krate}`\n\nTyped Rust client for {name}'s `{method_upper} {path}`, generated by \
                 `cargo xtask generate` (progenitor plus this workspace's post-processing) from \
                 `specs/{spec_file}`.\n\nThe public surface is listed in `API.md`; release notes \
                 are in `CHANGELOG.md`; a runnable example against `disconnect-fakes` is in \
                 `examples/cut.rs`. Features: `rustls` (default), `native-tls`, neither (bring \
                 your own `reqwest::Client`), and `schemars`.\n"
            ),
        ),
        (
            "CHANGELOG.md",
            format!(
                "# Changelog\n\nAll notable changes to `{krate}` are documented here. The format \
                 follows\n[Keep a Changelog](https://keepachangelog.com/en/1.1.0/). Each entry \
                 names the spec it was generated from\n(sha256 of `specs/{spec_file}`) and the \
                 classified API change.\n\n## [Unreleased]\n\n- First version, generated from \
                 `specs/{spec_file}` (sha256 `{sha}`) by `cargo xtask vendor add`.\n"
            ),
        ),
    ];
    for (file, content) in files {
        std::fs::write(crate_dir.join(file), content)?;
        written.push(format!("crates/{krate}/{file}"));
    }
    for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
        std::fs::copy(root.join(license), crate_dir.join(license))
            .with_context(|| format!("copying {license} from the workspace root"))?;
        written.push(format!("crates/{krate}/{license}"));
    }

    // The workspace's and the facade's manifests.
    let manifest = root.join("Cargo.toml");
    let mut text = std::fs::read_to_string(&manifest)?;
    let anchor = "# The library only: the fakes' binary dependencies";
    let line = format!(
        "{krate} = {{ path = \"crates/{krate}\", version = \"{}\", default-features = false }}\n",
        workspace_version(&text)?
    );
    let at = text
        .find(anchor)
        .ok_or_else(|| anyhow!("Cargo.toml: no `{anchor}` line to add the crate before"))?;
    text.insert_str(at, &line);
    std::fs::write(&manifest, text)?;
    written.push("Cargo.toml".into());

    let facade = layout.crates_dir.join("disconnect").join("Cargo.toml");
    let mut text = std::fs::read_to_string(&facade)?;
    let feature = if multipart {
        format!("{id} = [\"dep:{krate}\", \"multipart\"]\n")
    } else {
        format!("{id} = [\"dep:{krate}\"]\n")
    };
    text = insert_after_line(&text, "default = [", |l| {
        l.replacen("\"rustls\"]", &format!("\"{id}\", \"rustls\"]"), 1)
    })?;
    text = insert_before(&text, "# Form bodies", &feature)?;
    for tls in ["rustls", "native-tls"] {
        let prefix = format!("{tls} = [");
        text = insert_after_line(&text, &prefix, |l| {
            l.replacen(']', &format!(", \"{krate}?/{tls}\"]"), 1)
        })?;
    }
    text = insert_before(
        &text,
        "\n[dev-dependencies]",
        &format!("{krate} = {{ workspace = true, optional = true }}\n"),
    )?;
    std::fs::write(&facade, text)?;
    written.push("crates/disconnect/Cargo.toml".into());

    crate::generate(layout, None, true)?;
    written.push("generated: the client, the vendor table, the registration lists".into());
    Ok(written)
}

/// `version = "x.y.z"` of `[workspace.package]`.
fn workspace_version(manifest: &str) -> Result<String> {
    let at = manifest
        .find("[workspace.package]")
        .ok_or_else(|| anyhow!("Cargo.toml: no [workspace.package]"))?;
    manifest[at..]
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .map(str::to_string)
        .ok_or_else(|| anyhow!("Cargo.toml: no workspace version"))
}

/// `text` with the first line starting with `prefix` rewritten by `edit`.
fn insert_after_line(text: &str, prefix: &str, edit: impl Fn(&str) -> String) -> Result<String> {
    let mut done = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if !done && l.starts_with(prefix) {
                done = true;
                edit(l)
            } else {
                l.to_string()
            }
        })
        .collect();
    if !done {
        bail!("no line starting with `{prefix}`");
    }
    Ok(out.join("\n") + "\n")
}

/// `text` with `insert` before the first `anchor`.
fn insert_before(text: &str, anchor: &str, insert: &str) -> Result<String> {
    let at = text
        .find(anchor)
        .ok_or_else(|| anyhow!("no `{anchor}` to insert before"))?;
    let mut out = text.to_string();
    out.insert_str(at + usize::from(anchor.starts_with('\n')), insert);
    Ok(out)
}

/// The required parameters of the operation as the generated builder takes them:
/// `(setter, placeholder, is a form field)`.
fn setters(op: &Value, doc: &Value) -> Result<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    for p in op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = crate::transforms::resolve(doc, p)?;
        let required = p.get("required").and_then(Value::as_bool) == Some(true);
        let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
        if !(location == "path" || (location == "query" && required)) {
            continue;
        }
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        out.push((snake_case(name), name.to_string(), false));
    }
    if let Some(schema) = op.pointer("/requestBody/content/multipart~1form-data/schema") {
        let schema = crate::transforms::resolve(doc, schema)?;
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            out.push((snake_case(name), name.to_string(), true));
        }
    }
    Ok(out)
}

/// The builder chain for the operation, values taken from `values[i]`.
fn call(op_id: &str, op: &Value, doc: &Value, values: &str) -> Result<String> {
    let setters = setters(op, doc)?;
    let mut chain = format!("client.{op_id}()");
    let mut form = Vec::new();
    for (i, (setter, _, is_form)) in setters.iter().enumerate() {
        if *is_form {
            form.push(format!(".{setter}({values}[{i}])"));
        } else {
            chain.push_str(&format!(".{setter}({values}[{i}])"));
        }
    }
    if !form.is_empty() {
        chain.push_str(&format!(
            ".body(types::{}Body::builder(){})",
            pascal_case(op_id),
            form.join("")
        ));
    }
    Ok(chain)
}

fn lib_rs(id: &str, name: &str, method: &str, path: &str, spec_file: &str, chain: &str) -> String {
    let env = format!("{}_API_KEY", id.to_ascii_uppercase());
    format!(
        r#"//! Typed client for {name}'s `{method} {path}`.
//!
//! # Constructors
//!
//! - [`Client::with_api_key`]`(base, key)`: 10 s to connect, 30 s per request, redirects never
//!   followed, `User-Agent` [`USER_AGENT`]. Bases are in [`servers`].
//! - [`Client::with_api_key_and_builder`]`(base, key, builder)`: your `reqwest::ClientBuilder`.
//! - [`Client::with_api_key_and_client`]`(base, key, client)`: a `reqwest::Client` you share;
//!   it must not follow redirects.
//! - [`Client::with_headers`]: headers of your own on every request.
//!
//! ```no_run
//! # #[allow(unused_imports)]
//! use {id}_client::{{Client, servers, types}};
//!
//! # async fn run(values: &[&str]) -> Result<(), Box<dyn std::error::Error>> {{
//! let client = Client::with_api_key(servers::DEFAULT, std::env::var("{env}")?)?;
//! match {chain}.send().await {{
//!     Ok(done) => println!("{{}}", done.status()),
//!     Err(e) => println!("{{:?}}: {{e}}", e.status()),
//! }}
//! # Ok(())
//! # }}
//! ```
//!
//! The code is generated from `specs/{spec_file}` by `cargo xtask generate`; the shared runtime
//! is [`disconnect_client_runtime`].
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[allow(unused_mut, missing_docs, clippy::all)]
mod generated;

/// The runtime the generated code calls (configuration, decoding, open enums).
pub use disconnect_client_runtime;
pub use generated::*;
/// The HTTP client crate this client is built on, at the version it uses.
pub use reqwest;
/// The secret-holding string type taken by [`Client::with_api_key`].
pub use secrecy::SecretString;
/// The UUID type of UUID parameters and fields.
pub use uuid;
"#
    )
}

/// `chain`: the operation's builder call ([`call`]).
fn example_rs(id: &str, name: &str, chain: &str) -> String {
    let variant = pascal_case(id);
    format!(
        r#"//! Cut a connection twice at the fake {name}: the first answer is the vendor's success, the
//! second what "already cut" looks like.
//!
//! `cargo run -p {id}-client --example cut`

#[allow(unused_imports)]
use {id}_client::{{Client, types}};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {{
    use disconnect_fakes::{{FakeConfig, FakeServer, Vendor}};
    let fake = FakeServer::start(FakeConfig::default()).await?;
    let id = disconnect_fakes::sample_id(Vendor::{variant}, 1);
    fake.seed_live(Vendor::{variant}, &id)?;
    let values: Vec<&str> = id.split('/').collect();

    let client = Client::with_api_key(&fake.base_url(Vendor::{variant}), fake.api_key(Vendor::{variant}))?;
    for round in ["first", "second"] {{
        match {chain}.send().await {{
            Ok(done) => println!("{{round}}: {{}}", done.status()),
            Err(e) => println!("{{round}}: {{:?}} {{e}}", e.status()),
        }}
    }}
    Ok(())
}}
"#
    )
}
