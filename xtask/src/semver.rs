//! `cargo xtask semver`: how each published library crate (the generated clients, the runtime,
//! the vendor table and the facade) changed since its last release, and whether its version
//! says so.
//!
//! The baseline of a crate is its last release: the crate as of the newest commit that set a
//! version its `CHANGELOG.md` lists as released ([`baseline`]). Both sides are documented as rustdoc JSON (one shared target directory, so the
//! dependencies are built once), then:
//! - [cargo-semver-checks](https://github.com/obi1kenobi/cargo-semver-checks) lints the pair
//!   for semver violations (installed by the command when missing);
//! - [`listing::public_items`] lists both public APIs, so additions are seen too, as are
//!   changes no lint covers (a field whose type changed is a removed line and an added one);
//! - for a generated crate, the spec's sha256 and the diff of `API.md` say why.
//!
//! A crate is **breaking** when a lint requires a major change or a public item was removed or
//! changed, **additive** when items were only added (or a lint asks for a minor change), and
//! **none** when its public API is the same. Following Cargo's rules for 0.x versions, a
//! breaking change needs a minor bump (0.2 to 0.3) and an additive one a patch bump; with
//! `--check` a breaking change without its bump, or an API change without a new
//! `CHANGELOG.md` entry, fails.

pub mod listing;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use semver::Version;

use crate::config::VendorsFile;

/// The crate every generated client depends on; checked with them.
pub const RUNTIME_CRATE: &str = "disconnect-client-runtime";

/// The handwritten library crates users depend on, checked beside the generated ones: the
/// runtime, the vendor table and the facade.
pub const HANDWRITTEN_CRATES: [&str; 3] = [RUNTIME_CRATE, "disconnect-vendors", "disconnect"];

/// What `cargo xtask semver` works on.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (a git repository).
    pub root: PathBuf,
    /// Where baselines are extracted and rustdoc JSON is built.
    pub target_dir: PathBuf,
    /// Only these crates (empty: every client crate and the runtime crate).
    pub packages: Vec<String>,
}

impl Options {
    /// Every checked crate of the workspace at `root`, building under `root/target/semver`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            target_dir: root.join("target").join("semver"),
            packages: Vec::new(),
        }
    }
}

/// How a crate's public API changed since its baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// The same public API.
    None,
    /// Only additions: compatible for every user of the documented style.
    Additive,
    /// Something users can depend on was removed or changed.
    Breaking,
}

impl Change {
    /// `none`, `additive` or `breaking`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::None => "none",
            Change::Additive => "additive",
            Change::Breaking => "breaking",
        }
    }
}

/// The last release of a crate: the commit that last set its version.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Full commit id.
    pub commit: String,
    /// The commit's subject line.
    pub subject: String,
    /// The version it set.
    pub version: Version,
}

/// The spec a generated crate comes from, then and now.
#[derive(Debug, Clone)]
pub struct SpecChange {
    /// `specs/<file>`.
    pub path: String,
    /// sha256 at the baseline (`None`: the spec did not exist).
    pub old_sha256: Option<String>,
    /// sha256 now.
    pub new_sha256: String,
}

/// One crate's classification and the evidence for it.
#[derive(Debug, Clone)]
pub struct CrateReport {
    /// Package name.
    pub name: String,
    /// The classification.
    pub change: Change,
    /// Its last release.
    pub baseline: Baseline,
    /// The version in the working tree.
    pub version: Version,
    /// cargo-semver-checks' failed lints (`name: description`).
    pub lints: Vec<String>,
    /// Public items only in the current API.
    pub added: Vec<String>,
    /// Public items only in the baseline's API (removed, or changed).
    pub removed: Vec<String>,
    /// For a generated crate: its spec.
    pub spec: Option<SpecChange>,
    /// For a generated crate: the changed lines of `API.md` (`+ ...` / `- ...`).
    pub api_md: Vec<String>,
    /// `CHANGELOG.md` differs from the baseline's.
    pub changelog_updated: bool,
}

impl CrateReport {
    /// The lowest version that may carry this change (`None`: no release needed).
    pub fn required_version(&self) -> Option<Version> {
        let b = &self.baseline.version;
        match self.change {
            Change::None => None,
            Change::Additive => Some(Version::new(b.major, b.minor, b.patch + 1)),
            Change::Breaking if b.major == 0 => Some(Version::new(0, b.minor + 1, 0)),
            Change::Breaking => Some(Version::new(b.major + 1, 0, 0)),
        }
    }

    /// What `--check` refuses, if anything.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(required) = self.required_version()
            && self.change == Change::Breaking
            && self.version < required
        {
            out.push(format!(
                "{}: breaking change since {} ({}), but the version is still {}: bump it to \
                 {required} (`[workspace.package] version` in Cargo.toml)",
                self.name,
                self.baseline.version,
                short(&self.baseline.commit),
                self.version
            ));
        }
        if self.change != Change::None && !self.changelog_updated {
            out.push(format!(
                "{}: the API changed ({}) since {} but CHANGELOG.md has no new entry: add one \
                 naming the change{}",
                self.name,
                self.change.as_str(),
                self.baseline.version,
                match &self.spec {
                    Some(spec) if spec.old_sha256.as_ref() != Some(&spec.new_sha256) => {
                        " and the spec's old and new sha256"
                    }
                    _ => "",
                }
            ));
        }
        out
    }

    /// `<crate>: none | additive | breaking`, then the evidence, indented.
    pub fn render(&self) -> String {
        let mut s = format!("{}: {}\n", self.name, self.change.as_str());
        let _ = write!(
            s,
            "  baseline {} at {} ({}); now {}",
            self.baseline.version,
            short(&self.baseline.commit),
            self.baseline.subject,
            self.version
        );
        match self.required_version() {
            Some(v) if self.version < v => {
                let _ = writeln!(s, "; a release of this change needs {v} or later");
            }
            _ => s.push('\n'),
        }
        for lint in &self.lints {
            let _ = writeln!(s, "  cargo-semver-checks: {lint}");
        }
        const MAX: usize = 60;
        let items: Vec<String> = self
            .removed
            .iter()
            .map(|i| format!("  - {i}"))
            .chain(self.added.iter().map(|i| format!("  + {i}")))
            .collect();
        for line in items.iter().take(MAX) {
            let _ = writeln!(s, "{line}");
        }
        if items.len() > MAX {
            let _ = writeln!(s, "  … and {} more items", items.len() - MAX);
        }
        if let Some(spec) = &self.spec {
            match &spec.old_sha256 {
                Some(old) if *old == spec.new_sha256 => {
                    let _ = writeln!(s, "  spec {}: unchanged", spec.path);
                }
                Some(old) => {
                    let _ = writeln!(
                        s,
                        "  spec {}: sha256 {old} -> {}",
                        spec.path, spec.new_sha256
                    );
                }
                None => {
                    let _ = writeln!(s, "  spec {}: new, sha256 {}", spec.path, spec.new_sha256);
                }
            }
        }
        if !self.api_md.is_empty() {
            let _ = writeln!(s, "  API.md:");
            for line in self.api_md.iter().take(MAX) {
                let _ = writeln!(s, "    {line}");
            }
        }
        s
    }
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(10)]
}

/// Install cargo-semver-checks when `cargo semver-checks` is not available.
pub fn ensure_tool() -> Result<()> {
    let present = Command::new("cargo")
        .args(["semver-checks", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    eprintln!("cargo-semver-checks is missing: installing it (a few minutes, once)");
    let status = Command::new("cargo")
        .args(["install", "cargo-semver-checks", "--locked"])
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("`cargo install cargo-semver-checks --locked` failed ({status})");
    }
    Ok(())
}

/// Classify every selected crate (see the module docs).
pub fn run(opts: &Options) -> Result<Vec<CrateReport>> {
    let vendors = VendorsFile::load(&opts.root.join("specs").join("vendors.toml"))?;
    // Crate name -> its spec file, for generated crates.
    let mut crates: BTreeMap<String, Option<String>> = vendors
        .vendors
        .values()
        .map(|v| (v.crate_name.clone(), Some(v.spec.clone())))
        .collect();
    for name in HANDWRITTEN_CRATES {
        crates.insert(name.to_string(), None);
    }
    if !opts.packages.is_empty() {
        for p in &opts.packages {
            if !crates.contains_key(p) {
                bail!(
                    "`{p}` is not a checked crate (checked: {})",
                    crates.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
        crates.retain(|name, _| opts.packages.contains(name));
    }

    let mut baselines = BTreeMap::new();
    for name in crates.keys() {
        baselines.insert(name.clone(), baseline(&opts.root, name)?);
    }

    // Document the current tree once, then each distinct baseline commit once.
    let json_dir = opts.target_dir.join("json");
    let names: Vec<&str> = crates.keys().map(String::as_str).collect();
    let current_json = json_dir.join("current");
    rustdoc_json(&opts.root, &names, &opts.target_dir, &current_json)?;
    let mut by_commit: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, b) in &baselines {
        by_commit.entry(b.commit.as_str()).or_default().push(name);
    }
    let mut baseline_dirs = BTreeMap::new();
    for (commit, names) in &by_commit {
        let dir = extract(&opts.root, commit, &opts.target_dir)?;
        rustdoc_json(&dir, names, &opts.target_dir, &json_dir.join(commit))?;
        baseline_dirs.insert(commit.to_string(), dir);
    }

    let mut reports = Vec::new();
    for (name, spec) in &crates {
        let baseline = baselines.remove(name).expect("one per crate");
        let old_dir = &baseline_dirs[&baseline.commit];
        let old_json = json_dir.join(&baseline.commit).join(format!("{name}.json"));
        let new_json = current_json.join(format!("{name}.json"));
        let lints = semver_checks(&opts.root, &old_json, &new_json)?;
        let old_items = listing::public_items(&std::fs::read_to_string(&old_json)?)
            .with_context(|| format!("reading {}", old_json.display()))?;
        let new_items = listing::public_items(&std::fs::read_to_string(&new_json)?)
            .with_context(|| format!("reading {}", new_json.display()))?;
        let added: Vec<String> = new_items.difference(&old_items).cloned().collect();
        let removed: Vec<String> = old_items.difference(&new_items).cloned().collect();
        let change = if lints.major.is_empty() && removed.is_empty() {
            if added.is_empty() && lints.minor.is_empty() {
                Change::None
            } else {
                Change::Additive
            }
        } else {
            Change::Breaking
        };
        let crate_dir = Path::new("crates").join(name);
        let read = |root: &Path, rel: &Path| std::fs::read(root.join(rel)).ok();
        let spec = spec.as_ref().map(|file| {
            let rel = Path::new("specs").join(file);
            SpecChange {
                path: format!("specs/{file}"),
                old_sha256: read(old_dir, &rel).map(|b| crate::sha256_hex(&b)),
                new_sha256: read(&opts.root, &rel)
                    .map(|b| crate::sha256_hex(&b))
                    .unwrap_or_default(),
            }
        });
        let api_md = if spec.is_some() {
            let rel = crate_dir.join("API.md");
            let text = |root: &Path| {
                read(root, &rel)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            };
            changed_lines(&text(old_dir), &text(&opts.root))
        } else {
            Vec::new()
        };
        let changelog = crate_dir.join("CHANGELOG.md");
        let changelog_updated = read(old_dir, &changelog) != read(&opts.root, &changelog);
        reports.push(CrateReport {
            name: name.clone(),
            change,
            version: current_version(&opts.root, name)?,
            baseline,
            lints: lints.major.into_iter().chain(lints.minor).collect(),
            added,
            removed,
            spec,
            api_md,
            changelog_updated,
        });
    }
    Ok(reports)
}

fn changed_lines(old: &str, new: &str) -> Vec<String> {
    use similar::{ChangeTag, TextDiff};
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .filter_map(|c| match c.tag() {
            ChangeTag::Equal => None,
            ChangeTag::Delete => Some(format!("- {}", c.value().trim_end())),
            ChangeTag::Insert => Some(format!("+ {}", c.value().trim_end())),
        })
        .collect()
}

fn git(root: &Path, args: &[&str]) -> Result<Option<String>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .context("running git (needed to find each crate's last release)")?;
    Ok(out
        .status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// The version of `name` in manifests read through `read` (a path relative to the root to its
/// text, `None` when absent), following `version.workspace = true`.
fn version_from(name: &str, read: impl Fn(&str) -> Option<String>) -> Result<Option<Version>> {
    let Some(manifest) = read(&format!("crates/{name}/Cargo.toml")) else {
        return Ok(None);
    };
    let manifest: toml::Table = toml::from_str(&manifest)
        .with_context(|| format!("crates/{name}/Cargo.toml does not parse"))?;
    let version = match manifest.get("package").and_then(|p| p.get("version")) {
        Some(toml::Value::String(v)) => v.clone(),
        Some(toml::Value::Table(t)) if t.get("workspace") == Some(&toml::Value::Boolean(true)) => {
            let root: toml::Table = toml::from_str(&read("Cargo.toml").unwrap_or_default())
                .context("the workspace Cargo.toml does not parse")?;
            root.get("workspace")
                .and_then(|w| w.get("package"))
                .and_then(|p| p.get("version"))
                .and_then(toml::Value::as_str)
                .with_context(|| {
                    format!("{name} inherits its version but the workspace sets none")
                })?
                .to_string()
        }
        _ => bail!("crates/{name}/Cargo.toml sets no version"),
    };
    Ok(Some(Version::parse(&version).with_context(|| {
        format!("{name}: version `{version}` is not semver")
    })?))
}

fn current_version(root: &Path, name: &str) -> Result<Version> {
    version_from(name, |rel| std::fs::read_to_string(root.join(rel)).ok())?
        .with_context(|| format!("no crate `{name}` in {}", root.display()))
}

fn version_at(root: &Path, commit: &str, name: &str) -> Result<Option<Version>> {
    version_from(name, |rel| {
        git(root, &["show", &format!("{commit}:{rel}")])
            .ok()
            .flatten()
    })
}

/// Whether `changelog` (a crate's `CHANGELOG.md`) lists `version` as released: a dated heading
/// for it, `## [0.2.0] - 2026-11-23`. The version being prepared sits under `## [Unreleased]`
/// and is not a release yet.
fn released(changelog: &str, version: &Version) -> bool {
    let heading = format!("## [{version}] - ");
    changelog.lines().any(|l| l.starts_with(&heading))
}

/// The last release of `name`: the newest commit of `HEAD`'s history that set a version (its
/// version differs from its parent's, or it added the crate) which the crate's `CHANGELOG.md`
/// lists as released. A version bumped while its release is prepared (under `## [Unreleased]`)
/// does not move the baseline, so every breaking change of one release is checked against the
/// release before it. A crate never released is compared with the commit that added it.
pub fn baseline(root: &Path, name: &str) -> Result<Baseline> {
    let manifest = format!("crates/{name}/Cargo.toml");
    let log = git(
        root,
        &["log", "--format=%H%x09%s", "--", "Cargo.toml", &manifest],
    )?
    .with_context(|| {
        format!(
            "{} is not a git repository with commits: the baseline is found in its history",
            root.display()
        )
    })?;
    // In the working tree: the changelog says which versions were released.
    let changelog = std::fs::read_to_string(root.join("crates").join(name).join("CHANGELOG.md"))
        .unwrap_or_default();
    let mut oldest = None;
    for line in log.lines() {
        let (commit, subject) = line.split_once('\t').unwrap_or((line, ""));
        let Some(version) = version_at(root, commit, name)? else {
            continue;
        };
        let parent = version_at(root, &format!("{commit}^"), name)?;
        if parent.as_ref() != Some(&version) {
            let candidate = Baseline {
                commit: commit.to_string(),
                subject: subject.to_string(),
                version,
            };
            if released(&changelog, &candidate.version) {
                return Ok(candidate);
            }
            oldest = Some(candidate);
        }
    }
    if let Some(first) = oldest {
        return Ok(first);
    }
    if git(root, &["rev-parse", "--is-shallow-repository"])?.as_deref() == Some("true\n") {
        bail!(
            "no commit in this shallow clone sets the version of `{name}`: run \
             `git fetch --unshallow` so that its last release is in the history"
        );
    }
    bail!("no commit sets the version of `{name}`: commit the crate first (it has no release)")
}

/// The tree of `commit`, extracted once under `target_dir`.
fn extract(root: &Path, commit: &str, target_dir: &Path) -> Result<PathBuf> {
    let dir = target_dir.join("baselines").join(short(commit));
    let done = dir.join(".extracted");
    if done.exists() {
        return Ok(dir);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["archive", "--format=tar", commit])
        .stdout(Stdio::piped())
        .spawn()
        .context("running git archive")?;
    let status = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(&dir)
        .stdin(archive.stdout.take().expect("piped"))
        .status()
        .context("running tar")?;
    let archived = archive.wait()?;
    if !status.success() || !archived.success() {
        bail!("extracting {commit} into {} failed", dir.display());
    }
    std::fs::write(&done, commit)?;
    Ok(dir)
}

/// rustdoc JSON of `names` in the workspace at `workspace`, copied to `out/<name>.json`.
fn rustdoc_json(workspace: &Path, names: &[&str], target_dir: &Path, out: &Path) -> Result<()> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(workspace)
        .args(["doc", "--no-deps", "--locked", "--quiet", "--target-dir"])
        .arg(target_dir);
    for name in names {
        cmd.args(["--package", name]);
    }
    // rustdoc's JSON output is unstable; cargo-semver-checks reads it the same way.
    cmd.env("RUSTC_BOOTSTRAP", "1")
        .env(
            "RUSTDOCFLAGS",
            "-Z unstable-options --document-hidden-items --output-format=json --cap-lints=allow",
        )
        .env_remove("CARGO_ENCODED_RUSTDOCFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    let output = cmd.output().context("running cargo doc")?;
    if !output.status.success() {
        bail!(
            "cargo doc (rustdoc JSON) failed in {}:\n{}",
            workspace.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::create_dir_all(out)?;
    for name in names {
        let file = format!("{}.json", name.replace('-', "_"));
        std::fs::copy(
            target_dir.join("doc").join(&file),
            out.join(format!("{name}.json")),
        )
        .with_context(|| format!("rustdoc wrote no {file}"))?;
    }
    Ok(())
}

#[derive(Default)]
struct Lints {
    major: Vec<String>,
    minor: Vec<String>,
}

/// Run cargo-semver-checks on two rustdoc JSON files as if releasing a patch: every failed
/// lint is reported, with the bump it asks for.
fn semver_checks(root: &Path, old: &Path, new: &Path) -> Result<Lints> {
    let output = Command::new("cargo")
        .current_dir(root)
        .args(["semver-checks", "check-release", "--color", "never"])
        .arg("--baseline-rustdoc")
        .arg(old)
        .arg("--current-rustdoc")
        .arg(new)
        .args(["--release-type", "patch"])
        .output()
        .context("running cargo semver-checks (see `ensure_tool`)")?;
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    parse_semver_checks(&text, output.status.success())
}

fn parse_semver_checks(text: &str, success: bool) -> Result<Lints> {
    let mut lints = Lints::default();
    let mut failures = BTreeSet::new();
    let mut level = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("--- failure ") {
            failures.insert(rest.trim_end_matches(" ---").to_string());
        } else if line.starts_with("Summary") {
            if line.contains("new major version") {
                level = Some("major");
            } else if line.contains("new minor version") {
                level = Some("minor");
            }
        }
    }
    match (success, level) {
        (true, _) => Ok(lints),
        (false, Some(level)) => {
            let target = if level == "major" {
                &mut lints.major
            } else {
                &mut lints.minor
            };
            target.extend(failures);
            Ok(lints)
        }
        (false, None) => bail!("cargo semver-checks failed:\n{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_released_once_its_changelog_heading_is_dated() {
        let changelog =
            "# Changelog\n\n## [Unreleased]\n\n- 0.3.0 work\n\n## [0.2.0] - 2026-11-23\n";
        assert!(released(changelog, &Version::new(0, 2, 0)));
        assert!(!released(changelog, &Version::new(0, 3, 0)));
        assert!(!released("## [0.3.0]\n", &Version::new(0, 3, 0)), "undated");
    }

    #[test]
    fn required_versions_follow_cargo_rules_for_0x() {
        let report = |change, baseline: &str, now: &str| CrateReport {
            name: "c".into(),
            change,
            baseline: Baseline {
                commit: "abc".into(),
                subject: String::new(),
                version: Version::parse(baseline).unwrap(),
            },
            version: Version::parse(now).unwrap(),
            lints: vec![],
            added: vec![],
            removed: vec![],
            spec: None,
            api_md: vec![],
            changelog_updated: true,
        };
        let r = report(Change::Breaking, "0.2.0", "0.2.0");
        assert_eq!(r.required_version(), Some(Version::new(0, 3, 0)));
        assert_eq!(r.problems().len(), 1, "{:?}", r.problems());
        assert!(r.problems()[0].contains("bump it to 0.3.0"));
        assert!(
            report(Change::Breaking, "0.2.0", "0.3.0")
                .problems()
                .is_empty()
        );
        assert!(
            !report(Change::Breaking, "0.2.0", "0.2.1")
                .problems()
                .is_empty()
        );
        assert_eq!(
            report(Change::Breaking, "1.4.2", "1.4.2").required_version(),
            Some(Version::new(2, 0, 0))
        );
        let additive = report(Change::Additive, "0.2.0", "0.2.0");
        assert_eq!(additive.required_version(), Some(Version::new(0, 2, 1)));
        assert!(
            additive.problems().is_empty(),
            "a patch bump waits for the release"
        );
        assert_eq!(
            report(Change::None, "0.2.0", "0.2.0").required_version(),
            None
        );
        let mut silent = report(Change::Additive, "0.2.0", "0.2.0");
        silent.changelog_updated = false;
        assert!(silent.problems()[0].contains("CHANGELOG.md has no new entry"));
    }

    #[test]
    fn semver_checks_output_is_read_by_level() {
        let out = "     Checking <unknown> v0.2.0 -> v0.2.0 (assume patch change)\n\
                   --- failure struct_pub_field_missing: pub struct's pub field removed or renamed ---\n\
                   Description: ...\n\
                   Summary semver requires new major version: 1 major and 0 minor checks failed\n";
        let lints = parse_semver_checks(out, false).unwrap();
        assert_eq!(
            lints.major,
            ["struct_pub_field_missing: pub struct's pub field removed or renamed"]
        );
        assert!(lints.minor.is_empty());
        assert!(parse_semver_checks("error: could not parse rustdoc", false).is_err());
        assert!(parse_semver_checks("Summary no semver update required", true).is_ok());
    }
}
