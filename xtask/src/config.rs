//! `specs/vendors.toml`: which spec becomes which crate, and how.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indexmap::IndexMap;
use serde::Deserialize;

/// The whole `vendors.toml` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorsFile {
    /// Vendors by id (`tartan`, `persona`, `leen`), in the file's order (the order of
    /// `Vendor::ALL`).
    pub vendors: IndexMap<String, VendorConfig>,
}

/// Progenitor's interface style for generated methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    /// `client.op(arg1, arg2).await`
    Positional,
    /// `client.op().arg1(..).send().await`
    Builder,
}

/// Generation settings for one vendor.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorConfig {
    /// Display name (`Tartan`), for messages, reports and the vendor table.
    #[serde(default)]
    pub name: Option<String>,
    /// File name inside `specs/`.
    pub spec: String,
    /// Crate directory name inside `crates/`.
    #[serde(rename = "crate")]
    pub crate_name: String,
    /// Progenitor interface style.
    pub interface: Interface,
    /// Extra derives for every generated type, e.g. `schemars::JsonSchema`.
    #[serde(default)]
    pub derives: Vec<String>,
    /// Derives behind a cargo feature of the client crate (feature name → derive paths), e.g.
    /// `{ schemars = ["schemars::JsonSchema"] }`: what few users need costs the others nothing.
    #[serde(default)]
    pub feature_derives: std::collections::BTreeMap<String, Vec<String>>,
    /// The operation the facade cuts a connection with, in a document with more than one:
    /// `"DELETE /connections/{id}"` or its `operationId`. Generation keeps only it (and
    /// `operations`) and the components they reach ([`crate::transforms::select_operations`]).
    #[serde(default)]
    pub operation: Option<String>,
    /// More operations of the same document for the client crate (same forms as `operation`).
    #[serde(default)]
    pub operations: Vec<String>,
    /// Named transforms from [`crate::transforms`], applied in order.
    #[serde(default)]
    pub transforms: Vec<String>,
    /// Keep progenitor's `api-version: <info.version>` header on every request.
    #[serde(default)]
    pub api_version_header: bool,
    /// Rust names for the spec's `servers`, in the spec's order.
    #[serde(default)]
    pub server_names: Vec<String>,
    /// Cap on response bodies read by the generated client (bytes); unset: no cap.
    #[serde(default)]
    pub max_response_bytes: Option<usize>,
    /// Where the vendor publishes its spec, for `cargo xtask specs --check-upstream`.
    #[serde(default)]
    pub upstream: Option<Upstream>,
    /// Headers every request carries (each a header parameter the spec documents).
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// The header parameter that carries an idempotency key, for vendors that take one.
    #[serde(default)]
    pub idempotency_header: Option<String>,
    /// How the vendor's answers map to outcomes (defaults from the spec).
    #[serde(default)]
    pub answers: AnswersConfig,
    /// What of the facade is handwritten for this vendor (`adapters/<id>.rs`).
    #[serde(default)]
    pub facade: Option<FacadeModule>,
    /// Whether the vendor's fake is a module of its own (`disconnect-fakes/src/<id>.rs`)
    /// instead of the generic fake served from the table.
    #[serde(default)]
    pub fake_module: bool,
    /// How the fakes show a connection's state (`[vendors.<id>.fake]`).
    #[serde(default)]
    pub fake: FakeSettings,
}

/// `[vendors.<id>.fake]`: what the fakes need beyond the spec to show a connection: see
/// `specs/vendors.toml`'s header and [`crate::answers`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FakeSettings {
    /// The state a seed entry states and the success body shows.
    #[serde(default)]
    pub state: Option<StateSettings>,
    /// Success-body fields holding a target value: JSON pointer → parameter name.
    #[serde(default)]
    pub ids: IndexMap<String, String>,
    /// Success-body fields set to the time of the change.
    #[serde(default)]
    pub touch: Vec<String>,
}

/// `state = { seed = "status", at = "/data/attributes/status", live = "active", cut = "inactive" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSettings {
    /// The seed entry's field.
    pub seed: String,
    /// Where the success body shows it (empty: nowhere).
    #[serde(default)]
    pub at: String,
    /// Its value while the connection is live.
    pub live: toml::Value,
    /// Its value once cut.
    pub cut: toml::Value,
}

/// `facade = "target" | "adapter"`: the vendor's module in `crates/disconnect/src/adapters/`
/// declares `<Name>Target` and `<Name>Record`, and with `adapter` also its adapter `<Name>`
/// (for what data cannot say). Absent: the generic adapter and `GenericTarget` serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacadeModule {
    Target,
    Adapter,
}

/// `answers` of a vendor: see `specs/vendors.toml`'s header and [`crate::answers`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswersConfig {
    /// Tried in order; the first that matches decides.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Where an error body states its problems (default: from the error schemas).
    #[serde(default)]
    pub problems: Option<ProblemsConfig>,
    /// JSON pointers to a request id in error bodies (default: from the error schemas).
    #[serde(default)]
    pub request_id: Option<Vec<String>>,
    /// JSON pointer to the record in a success body (default: the whole body).
    #[serde(default)]
    pub record: String,
}

/// One rule: `{ status = 409, outcome = "already_disconnected" }`, optionally with
/// `when = { pointer = "/message", contains = "sync" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub status: u16,
    #[serde(default)]
    pub when: Option<MatchConfig>,
    pub outcome: OutcomeName,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    pub pointer: String,
    pub contains: String,
}

/// The outcomes a rule can name: `disconnect_vendors::Outcome`'s variants, by the same names
/// (`Debug` prints them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeName {
    AlreadyDisconnected,
    NotFound,
    Gone,
    Busy,
    Invalid,
    Unauthorized,
    Forbidden,
    RateLimited,
    Server,
}

/// `problems = { each = "/errors", fields = ["/title", "/details"] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemsConfig {
    #[serde(default)]
    pub each: String,
    pub fields: Vec<String>,
}

/// Where a vendor publishes its spec and how to get ours out of it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// The published page or document.
    pub url: String,
    /// How to read it.
    pub extract: Extract,
    /// For `operation`: the path in the published document (as in ours).
    #[serde(default)]
    pub path: Option<String>,
    /// For `operation`: the method, lower case.
    #[serde(default)]
    pub method: Option<String>,
}

/// How to get the spec out of the published document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Extract {
    /// A documentation page with the OpenAPI document in a ```` ```` fence: compared byte for
    /// byte with `specs/<spec>` (which is kept as published).
    OpenapiBlock,
    /// A whole published document (YAML or JSON) of which our spec, written by us, describes
    /// one operation (at `path` and `method`): its closure is compared with the lock's and ours.
    Operation,
    /// The published document is our spec, byte for byte (`vendor add --upstream`).
    Document,
}

impl VendorsFile {
    /// Read and validate `vendors.toml`.
    pub fn load(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parse and validate the text of `vendors.toml`.
    pub fn parse(text: &str) -> Result<Self> {
        let file: VendorsFile = toml::from_str(text)?;
        for (name, vendor) in &file.vendors {
            if vendor.operation.is_none() && !vendor.operations.is_empty() {
                bail!("vendor `{name}`: `operations` needs `operation` (the facade's)");
            }
            for t in &vendor.transforms {
                if crate::transforms::by_name(t).is_none() {
                    bail!(
                        "vendor `{name}`: unknown transform `{t}` (known: {})",
                        crate::transforms::NAMES.join(", ")
                    );
                }
            }
        }
        Ok(file)
    }
}

/// Where the workspace lives and where each vendor's files go.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Directory holding the specs and `vendors.toml`.
    pub specs_dir: PathBuf,
    /// Directory holding one directory per crate.
    pub crates_dir: PathBuf,
}

impl Layout {
    /// The layout of this workspace (found from the xtask's own manifest directory).
    pub fn workspace() -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("xtask lives one level below the workspace root")
            .to_path_buf();
        Self {
            specs_dir: root.join("specs"),
            crates_dir: root.join("crates"),
        }
    }

    /// [`Layout::workspace`], or the directories named by `XTASK_SPECS_DIR` and
    /// `XTASK_CRATES_DIR` when set (to run a command against a copy, as the tests do).
    pub fn from_env() -> Self {
        let mut layout = Self::workspace();
        if let Some(dir) = std::env::var_os("XTASK_SPECS_DIR") {
            layout.specs_dir = dir.into();
        }
        if let Some(dir) = std::env::var_os("XTASK_CRATES_DIR") {
            layout.crates_dir = dir.into();
        }
        layout
    }

    /// `crates/<crate>/src/generated.rs`
    pub fn generated_rs(&self, vendor: &VendorConfig) -> PathBuf {
        self.crates_dir
            .join(&vendor.crate_name)
            .join("src")
            .join("generated.rs")
    }

    /// `crates/<crate>/API.md`
    pub fn api_md(&self, vendor: &VendorConfig) -> PathBuf {
        self.crates_dir.join(&vendor.crate_name).join("API.md")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_file_parses() {
        let file = VendorsFile::load(&Layout::workspace().specs_dir.join("vendors.toml")).unwrap();
        // The first three, in their order (a vendor added later comes after them).
        assert_eq!(
            file.vendors.keys().take(3).collect::<Vec<_>>(),
            ["tartan", "persona", "leen"]
        );
    }

    #[test]
    fn unknown_transform_is_named() {
        let err = VendorsFile::parse(
            "[vendors.x]\nspec='x.yaml'\ncrate='x'\ninterface='positional'\ntransforms=['nope']\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown transform `nope`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_setting_is_refused() {
        let err = VendorsFile::parse(
            "[vendors.x]\nspec='x.yaml'\ncrate='x'\ninterface='positional'\nspecc='y'\n",
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("specc"), "{err:#}");
    }
}
