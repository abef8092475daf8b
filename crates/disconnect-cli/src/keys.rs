//! Where each vendor's API key comes from: `--<vendor>-key-file`, `--<vendor>-key-cmd`, the
//! `<VENDOR>_API_KEY` variable, or the profile's `key_file` / `key_cmd`, in that order.
//!
//! A key is never printed: errors name the source (the flag, the file, the profile), never the
//! key or the command's output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use clap::{Arg, ArgMatches};
use disconnect::Vendor;

use crate::profile::{VendorProfile, expand_home};

/// `--<vendor>-key-file FILE` and `--<vendor>-key-cmd CMD`, one pair for every vendor of the
/// vendor table, flattened into `disconnect run`.
#[derive(Debug, Clone, Default)]
pub struct KeyFlags(BTreeMap<Vendor, (Option<PathBuf>, Option<String>)>);

fn file_flag(vendor: Vendor) -> String {
    format!("{}-key-file", vendor.id())
}

fn cmd_flag(vendor: Vendor) -> String {
    format!("{}-key-cmd", vendor.id())
}

impl KeyFlags {
    /// The vendor's key file and key command, as given.
    pub fn get(&self, vendor: Vendor) -> (Option<&Path>, Option<&str>) {
        self.0.get(&vendor).map_or((None, None), |(file, cmd)| {
            (file.as_deref(), cmd.as_deref())
        })
    }
}

impl clap::FromArgMatches for KeyFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let flags = Vendor::ALL
            .into_iter()
            .map(|v| {
                let file = matches.get_one::<PathBuf>(&file_flag(v)).cloned();
                let cmd = matches.get_one::<String>(&cmd_flag(v)).cloned();
                (v, (file, cmd))
            })
            .collect();
        Ok(Self(flags))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl clap::Args for KeyFlags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        Vendor::ALL.into_iter().fold(cmd, |cmd, v| {
            cmd.arg(
                Arg::new(file_flag(v))
                    .long(file_flag(v))
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help(format!("Read the {v} API key from FILE")),
            )
            .arg(
                Arg::new(cmd_flag(v))
                    .long(cmd_flag(v))
                    .value_name("CMD")
                    .conflicts_with(file_flag(v))
                    .help(format!(
                        "Run CMD (with sh -c) and use what it prints as the {v} API key, e.g. \
                         'op read op://vault/{}/credential'",
                        v.id()
                    )),
            )
        })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

/// One way to get a key.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A file holding the key (trailing newline removed).
    File { path: PathBuf, origin: String },
    /// A command whose standard output is the key.
    Command { command: String, origin: String },
}

impl KeySource {
    /// The source given by flags, else by the profile (`None`: the environment, or nothing).
    pub fn choose(
        vendor: Vendor,
        flag_file: Option<&Path>,
        flag_cmd: Option<&str>,
        env_has_key: bool,
        profile: Option<&VendorProfile>,
        profile_name: &str,
    ) -> Option<KeySource> {
        if let Some(path) = flag_file {
            return Some(KeySource::File {
                path: path.to_path_buf(),
                origin: format!("--{}-key-file", vendor.id()),
            });
        }
        if let Some(command) = flag_cmd {
            return Some(KeySource::Command {
                command: command.to_string(),
                origin: format!("--{}-key-cmd", vendor.id()),
            });
        }
        if env_has_key {
            return None;
        }
        let profile = profile?;
        if let Some(path) = &profile.key_file {
            return Some(KeySource::File {
                path: expand_home(path),
                origin: format!("profile `{profile_name}`, {}.key_file", vendor.id()),
            });
        }
        profile.key_cmd.as_ref().map(|command| KeySource::Command {
            command: command.clone(),
            origin: format!("profile `{profile_name}`, {}.key_cmd", vendor.id()),
        })
    }

    /// Read the key; a key command gets `timeout` to print it. Warnings (a key file others can
    /// read) go to `warn`.
    pub fn read(
        &self,
        vendor: Vendor,
        timeout: std::time::Duration,
        warn: &mut dyn FnMut(String),
    ) -> Result<String, String> {
        match self {
            KeySource::File { path, origin } => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "cannot read the {vendor} key file {} ({origin}): {e}",
                        path.display()
                    )
                })?;
                if let Some(mode) = readable_by_others(path) {
                    warn(format!(
                        "the {vendor} key file {} can be read by other users (mode {mode:o}): \
                         `chmod 600 {}`",
                        path.display(),
                        path.display()
                    ));
                }
                non_empty(text, vendor, || format!("the key file {}", path.display()))
            }
            KeySource::Command { command, origin } => {
                // The command's stderr goes to ours (it may ask to unlock a vault); its stdout
                // is the key and is never shown.
                let mut child = Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(Stdio::inherit())
                    .stderr(Stdio::inherit())
                    .stdout(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot run the {vendor} key command ({origin}): {e}"))?;
                let mut stdout = child.stdout.take().expect("stdout is piped");
                let reader = std::thread::spawn(move || {
                    let mut bytes = Vec::new();
                    let _ = std::io::Read::read_to_end(&mut stdout, &mut bytes);
                    bytes
                });
                let started = std::time::Instant::now();
                let status = loop {
                    match child.try_wait() {
                        Ok(Some(status)) => break status,
                        Ok(None) if started.elapsed() >= timeout => {
                            // The shell and whatever it started (they hold our stderr open).
                            kill_tree(child.id());
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err(format!(
                                "the {vendor} key command ({origin}) did not finish within {}: \
                                 it was stopped and nothing was sent (--key-cmd-timeout sets \
                                 the limit)",
                                humantime::format_duration(timeout)
                            ));
                        }
                        Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
                        Err(e) => {
                            return Err(format!(
                                "cannot run the {vendor} key command ({origin}): {e}"
                            ));
                        }
                    }
                };
                let bytes = reader.join().unwrap_or_default();
                if !status.success() {
                    return Err(format!(
                        "the {vendor} key command ({origin}) failed ({status}); nothing was sent"
                    ));
                }
                let text = String::from_utf8(bytes).map_err(|_| {
                    format!("the {vendor} key command ({origin}) printed bytes that are not UTF-8")
                })?;
                non_empty(text, vendor, || format!("the key command ({origin})"))
            }
        }
    }

    /// Where the key comes from, for messages (`--persona-key-file /path`, `profile `eu`,
    /// persona.key_cmd`).
    pub fn origin(&self) -> String {
        match self {
            KeySource::File { path, origin } => format!("{origin} {}", path.display()),
            KeySource::Command { origin, .. } => origin.clone(),
        }
    }
}

/// Kill a process and its descendants (found through `/proc`), children first.
fn kill_tree(pid: u32) {
    let mut pids = vec![pid];
    let mut i = 0;
    while i < pids.len() {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", pids[i]));
        for task in tasks.into_iter().flatten().flatten() {
            if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
                pids.extend(
                    children
                        .split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
        i += 1;
    }
    if pids.len() > 1 {
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(pids[1..].iter().rev().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
    }
}

/// The key in `text` (one line; its line end removed), or why it cannot be one, naming where
/// it came from.
fn non_empty(text: String, vendor: Vendor, what: impl Fn() -> String) -> Result<String, String> {
    let key = text.trim_end_matches(['\n', '\r']).to_string();
    if key.trim().is_empty() {
        return Err(format!("{} gave an empty {vendor} key", what()));
    }
    if key.contains(['\n', '\r']) {
        return Err(format!(
            "{} gave more than one line for the {vendor} key; nothing was sent",
            what()
        ));
    }
    if key.trim() != key {
        return Err(format!(
            "{} gave a {vendor} key with spaces around it; nothing was sent (remove them)",
            what()
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(format!(
            "{} gave a {vendor} key with control characters; nothing was sent",
            what()
        ));
    }
    Ok(key)
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: std::time::Duration = std::time::Duration::from_secs(30);

    fn cmd(command: &str) -> KeySource {
        KeySource::Command {
            command: command.into(),
            origin: "--persona-key-cmd".into(),
        }
    }

    #[test]
    fn a_command_prints_the_key() {
        let key = cmd("printf 'sk-from-vault\\n'")
            .read(Vendor::Persona, T, &mut |_| {})
            .unwrap();
        assert_eq!(key, "sk-from-vault");
    }

    #[test]
    fn a_failing_command_names_its_source_not_its_output() {
        let err = cmd("echo sk-partial; exit 3")
            .read(Vendor::Persona, T, &mut |_| {})
            .unwrap_err();
        assert!(
            err.contains("--persona-key-cmd") && err.contains("failed"),
            "{err}"
        );
        assert!(!err.contains("sk-partial"), "{err}");
        let err = cmd("true")
            .read(Vendor::Persona, T, &mut |_| {})
            .unwrap_err();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn a_hanging_command_is_stopped_at_its_timeout() {
        let err = cmd("sleep 600")
            .read(
                Vendor::Persona,
                std::time::Duration::from_millis(200),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(
            err.contains("--persona-key-cmd") && err.contains("did not finish within 200ms"),
            "{err}"
        );
    }

    #[test]
    fn a_key_that_cannot_be_one_names_its_source() {
        for (text, why) in [
            ("printf 'sk-1\\nsk-2\\n'", "more than one line"),
            ("printf ' sk-1 '", "spaces around it"),
            ("printf 'sk\\0331'", "control characters"),
        ] {
            let err = cmd(text).read(Vendor::Persona, T, &mut |_| {}).unwrap_err();
            assert!(
                err.contains("the key command (--persona-key-cmd)") && err.contains(why),
                "{text}: {err}"
            );
            assert!(!err.contains("sk-"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "sk-file\n").unwrap();
        let source = KeySource::File {
            path: path.clone(),
            origin: "--tartan-key-file".into(),
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut warnings = Vec::new();
        let key = source
            .read(Vendor::Tartan, T, &mut |w| warnings.push(w))
            .unwrap();
        assert_eq!(key, "sk-file");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("mode 644") && !warnings[0].contains("sk-file"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        warnings.clear();
        source
            .read(Vendor::Tartan, T, &mut |w| warnings.push(w))
            .unwrap();
        assert!(warnings.is_empty());
    }
}
