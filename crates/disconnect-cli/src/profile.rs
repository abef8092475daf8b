//! The config file and its profiles (`--config`, `--profile`).
//!
//! ```toml
//! # ~/.config/disconnect/config.toml
//! [profiles.default]
//! concurrency = 8
//!
//! [profiles.eu]
//! deadline = "1m"
//! breaker = 3
//! operator = "it-offboarding"
//!
//! [profiles.eu.vendors.persona]
//! base_url = "https://eu.example-proxy.internal/persona/api/v1"
//! key_cmd = "op read op://offboarding/persona-eu/credential"
//! rate = "300/min"
//! concurrency = 2
//! ```
//!
//! Precedence, highest first: command-line flags, environment variables, the profile, the
//! built-in defaults. Every error names the file, and the line when it is about the text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use disconnect::{Rate, Vendor};
use serde::{Deserialize, Deserializer};

/// The whole config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Profiles by name; `default` is used when none is named.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// One profile: settings for a run, and per vendor where to send and how to authenticate.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Calls in flight at once in each vendor's lane.
    pub concurrency: Option<u16>,
    /// Time limit per target (`30s`, `2m`).
    #[serde(default, deserialize_with = "duration")]
    pub deadline: Option<Duration>,
    /// Wait up to this long for a running Tartan sync.
    #[serde(default, deserialize_with = "duration")]
    pub wait_for_sync: Option<Duration>,
    /// Consecutive 401/403 answers that stop a lane (0: never).
    pub breaker: Option<u32>,
    /// Who runs it, for the report header.
    pub operator: Option<String>,
    /// Allow plain http:// base URLs to hosts other than loopback (`--allow-insecure-http`).
    pub allow_insecure_http: Option<bool>,
    /// Per vendor (`tartan`, `persona`, `leen`).
    #[serde(default)]
    pub vendors: BTreeMap<Vendor, VendorProfile>,
}

/// A profile's settings for one vendor.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorProfile {
    /// Base URL (instead of the spec's default).
    pub base_url: Option<String>,
    /// Read the API key from this file (`~/` is the home directory).
    pub key_file: Option<PathBuf>,
    /// Run this command (with `sh -c`) and use what it prints as the API key.
    pub key_cmd: Option<String>,
    /// Request rate (`300/min`, `50/10s`).
    #[serde(default, deserialize_with = "rate")]
    pub rate: Option<Rate>,
    /// Calls in flight at once for this vendor.
    pub concurrency: Option<usize>,
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not a duration: {e}")))
}

fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Rate>, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// The selected profile and where it came from.
#[derive(Debug, Default, Clone)]
pub struct Selected {
    /// The file it was read from, if any.
    pub file: Option<PathBuf>,
    /// Its name, when a file had it.
    pub name: Option<String>,
    /// Its settings (empty without a file).
    pub profile: Profile,
}

/// The default config file: `$XDG_CONFIG_HOME/disconnect/config.toml`, else
/// `~/.config/disconnect/config.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(".config")))?;
    Some(base.join("disconnect").join("config.toml"))
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// `~/x` as a path in the home directory.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), home()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// Load the profile to use. `explicit` (`--config`, `DISCONNECT_CONFIG`) must exist; the default
/// file may not. `name` (`--profile`, `DISCONNECT_PROFILE`) must exist in the file; without a
/// name, `default` is used when the file has it.
/// Why other users could change the file at `path` (it, or its directory, is writable by its
/// group or by anyone, without the directory's sticky bit), or `None`.
#[cfg(unix)]
fn writable_by_others(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    if mode & 0o022 != 0 {
        return Some(format!(
            "other users can write it (mode {:o})",
            mode & 0o777
        ));
    }
    let dir = std::fs::canonicalize(path).ok()?.parent()?.to_path_buf();
    let dir_mode = std::fs::metadata(&dir).ok()?.permissions().mode();
    (dir_mode & 0o022 != 0 && dir_mode & 0o1000 == 0).then(|| {
        format!(
            "other users can replace it: its directory {} is writable by them (mode {:o})",
            dir.display(),
            dir_mode & 0o7777
        )
    })
}

#[cfg(not(unix))]
fn writable_by_others(_: &Path) -> Option<String> {
    None
}

pub fn select(explicit: Option<&Path>, name: Option<&str>) -> Result<Selected, String> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => default_path().filter(|p| p.exists()),
    };
    let Some(path) = path else {
        if let Some(name) = name {
            return Err(format!(
                "profile `{name}` asked for, but there is no config file ({} does not exist; \
                 or pass --config FILE)",
                default_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/disconnect/config.toml".into())
            ));
        }
        return Ok(Selected::default());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the config file {}: {e}", path.display()))?;
    let file = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let wanted = name.unwrap_or("default");
    match file.profiles.get(wanted) {
        Some(profile) if profile.vendors.values().any(|v| v.key_cmd.is_some()) => {
            if let Some(why) = writable_by_others(&path) {
                return Err(format!(
                    "refusing the config file {}: it holds a key_cmd, which runs as you, and {why}; \
                     `chmod go-w` it (as ssh refuses such a config)",
                    path.display()
                ));
            }
            Ok(Selected {
                file: Some(path),
                name: Some(wanted.to_string()),
                profile: profile.clone(),
            })
        }
        Some(profile) => Ok(Selected {
            file: Some(path),
            name: Some(wanted.to_string()),
            profile: profile.clone(),
        }),
        None if name.is_none() => Ok(Selected {
            file: Some(path),
            name: None,
            profile: Profile::default(),
        }),
        None => Err(format!(
            "{}: no profile `{wanted}` (profiles: {})",
            path.display(),
            if file.profiles.is_empty() {
                "none".to_string()
            } else {
                file.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
            }
        )),
    }
}

/// Parse a config file's text; errors say the line and column.
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        let message = e.message().trim_end().to_string();
        if line > 0 {
            format!("line {line}, column {col}: {message}")
        } else {
            message
        }
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_parses_with_vendor_settings() {
        let file = parse(
            "[profiles.eu]\ndeadline = \"1m\"\n[profiles.eu.vendors.persona]\nrate = \"300/min\"\nkey_cmd = \"op read x\"\n",
        )
        .unwrap();
        let eu = &file.profiles["eu"];
        assert_eq!(eu.deadline, Some(Duration::from_secs(60)));
        let persona = &eu.vendors[&Vendor::Persona];
        assert_eq!(persona.rate.unwrap().to_string(), "300/min");
        assert_eq!(persona.key_cmd.as_deref(), Some("op read x"));
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("[profiles.eu]\nconcurrency = 4\nconcurency = 2\n").unwrap_err();
        assert!(err.starts_with("line 3, column 1:"), "{err}");
        assert!(err.contains("concurency"), "{err}");
        let err = parse("[profiles.eu.vendors.persona]\nrate = \"fast\"\n").unwrap_err();
        assert!(err.starts_with("line 2, column 8:"), "{err}");
        let err = parse("[profiles.eu.vendors.acme]\nrate = \"1/s\"\n").unwrap_err();
        assert!(err.starts_with("line 1,"), "{err}");
        assert!(err.contains("acme"), "{err}");
    }
}
