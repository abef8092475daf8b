//! The report: a header line (who ran what, why, against which specs), an *attempt* line for
//! each target made durable before its first request is sent (the write-ahead record), one
//! JSON object per finished target (also what `--output json` prints), and a summary line.
//! Written by `--report`, read by `--resume` and `disconnect report summarize`, described by
//! `disconnect report schema`.
//!
//! A target with an attempt line and no result line after it was sent and its answer never
//! recorded (the run was killed, or abandoned at a second Ctrl-C): it is *in doubt*, and
//! `--resume` confirms it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use disconnect::{DisconnectError, DisconnectStatus, Previous, Receipt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a target ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Outcome")] // the report schema keeps its name
pub enum ReportStatus {
    /// Cut by this run.
    Disconnected,
    /// Already cut before this run.
    AlreadyDisconnected,
    /// Not confirmed cut; see `error`.
    Failed,
    /// Not sent: the vendor's lane was stopped (repeated 401/403), or the run was interrupted
    /// before its first request (`error.kind` `interrupted`); see `error`. `--resume` picks it
    /// up.
    Skipped,
    /// In doubt: a request may have reached the vendor and its answer was lost (the connection
    /// closed or timed out after it was sent, or the run was stopped with it in flight), so the
    /// connection may be cut. `--resume` confirms it: a vendor that then says "gone" makes it
    /// `disconnected` (`confirmed_after_lost_answer`).
    Unknown,
}

impl ReportStatus {
    /// The name used in reports, tables and summaries (`already_disconnected`).
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Disconnected => "disconnected",
            ReportStatus::AlreadyDisconnected => "already_disconnected",
            ReportStatus::Failed => "failed",
            ReportStatus::Skipped => "skipped",
            ReportStatus::Unknown => "unknown",
        }
    }
}

/// Why a target failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorInfo {
    /// Stable kind: `invalid_target`, `not_configured`, `unauthorized`, `forbidden`,
    /// `not_found`, `busy`, `invalid`, `rate_limited`, `server`, `unexpected`, `redirected`,
    /// `transport`, `timeout`, `invalid_response`, `skipped`, `interrupted` (the run stopped
    /// before the target's next request), `abandoned` (the run was abandoned with the request
    /// in flight).
    pub kind: String,
    /// Human-readable message (never contains an API key).
    pub message: String,
    /// Whether running again later may succeed.
    pub retryable: bool,
}

/// One line of a report (and of `--output json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReportLine {
    /// The run that wrote it (its header line has the same id). Absent in reports written
    /// before run ids existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The target as given (`vendor:id`).
    pub target: String,
    /// `tartan`, `persona` or `leen`; null for an unparseable target.
    pub vendor: Option<String>,
    /// How it ended.
    pub outcome: ReportStatus,
    /// HTTP status of the vendor's last answer, if any.
    pub http_status: Option<u16>,
    /// The vendor's request id, if it sent one.
    pub request_id: Option<String>,
    /// Requests sent for this target.
    pub attempts: u32,
    /// Time spent on this target, in milliseconds.
    pub elapsed_ms: u64,
    /// When it finished (RFC 3339, UTC).
    pub finished_at: String,
    /// For failures: what went wrong.
    pub error: Option<ErrorInfo>,
    /// The `Idempotency-Key` of the last request (Persona), so that `--resume` continues from
    /// it: after a 5xx, which Persona stores under the key, with the next key of the chain.
    /// Not a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// A request for this target may have reached the vendor and its answer was lost (in this
    /// run or an earlier one): the connection may be cut. `--resume` confirms it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_doubt: bool,
    /// `disconnected` because the vendor said "gone" after an earlier request's answer was
    /// lost: that request cut the connection.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub confirmed_after_lost_answer: bool,
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl ReportLine {
    /// A finished call.
    pub fn from_result(result: &Result<Receipt, DisconnectError>) -> Self {
        match result {
            Ok(d) => Self {
                run_id: None,
                target: d.target.to_string(),
                vendor: Some(d.vendor.id().to_string()),
                outcome: match d.status {
                    DisconnectStatus::Disconnected => ReportStatus::Disconnected,
                    DisconnectStatus::AlreadyDisconnected => ReportStatus::AlreadyDisconnected,
                    // A success the facade adds later: a `Receipt` is proof the connection is
                    // no longer live, so it is reported cut.
                    _ => ReportStatus::Disconnected,
                },
                http_status: Some(d.http_status),
                request_id: d.request_id.clone(),
                attempts: d.attempts,
                elapsed_ms: d.elapsed.as_millis() as u64,
                finished_at: now(),
                error: None,
                idempotency_key: d.idempotency_key.clone(),
                in_doubt: false,
                confirmed_after_lost_answer: d.confirmed_after_lost_answer,
            },
            Err(e) => {
                let outcome = match e {
                    DisconnectError::Skipped { .. } => ReportStatus::Skipped,
                    _ if e.in_doubt() => ReportStatus::Unknown,
                    DisconnectError::Interrupted { .. } if e.attempts() == 0 => {
                        ReportStatus::Skipped
                    }
                    _ => ReportStatus::Failed,
                };
                // Target, status, request id and attempts are fields of their own.
                let prefix = format!("{}: ", e.target());
                let suffix = format!(" {}", e.ctx());
                let text = e.to_string();
                let text = text.strip_suffix(&suffix).unwrap_or(&text);
                Self {
                    run_id: None,
                    target: e.target().to_string(),
                    vendor: Some(e.vendor().id().to_string()),
                    outcome,
                    http_status: e.http_status(),
                    request_id: e.request_id().map(str::to_string),
                    attempts: e.attempts(),
                    elapsed_ms: 0,
                    finished_at: now(),
                    error: Some(ErrorInfo {
                        kind: e.kind().to_string(),
                        message: text.strip_prefix(&prefix).unwrap_or(text).to_string(),
                        retryable: e.is_retryable(),
                    }),
                    idempotency_key: e.ctx().idempotency_key.clone(),
                    in_doubt: e.in_doubt(),
                    confirmed_after_lost_answer: false,
                }
            }
        }
    }

    /// A target whose request was in flight when the run was abandoned (a second Ctrl-C, or
    /// the grace after the first ran out): it may have acted.
    pub fn abandoned(intent: &AttemptRecord, message: &str) -> Self {
        Self {
            run_id: None,
            target: intent.target.clone(),
            vendor: Some(intent.vendor.clone()),
            outcome: ReportStatus::Unknown,
            http_status: None,
            request_id: None,
            attempts: 1,
            elapsed_ms: 0,
            finished_at: now(),
            error: Some(ErrorInfo {
                kind: "abandoned".into(),
                message: message.to_string(),
                retryable: true,
            }),
            idempotency_key: intent.idempotency_key.clone(),
            in_doubt: true,
            confirmed_after_lost_answer: false,
        }
    }

    /// A target that could not be parsed (nothing was sent).
    pub fn invalid_target(raw: &str, message: String) -> Self {
        Self {
            run_id: None,
            target: raw.to_string(),
            vendor: None,
            outcome: ReportStatus::Failed,
            http_status: None,
            request_id: None,
            attempts: 0,
            elapsed_ms: 0,
            finished_at: now(),
            error: Some(ErrorInfo {
                kind: "invalid_target".into(),
                message,
                retryable: false,
            }),
            idempotency_key: None,
            in_doubt: false,
            confirmed_after_lost_answer: false,
        }
    }

    /// Stopped before its first request (`skipped`, kind `interrupted`): never sent.
    pub fn is_unsent(&self) -> bool {
        self.outcome == ReportStatus::Skipped
            && self.attempts == 0
            && self.error.as_ref().is_some_and(|e| e.kind == "interrupted")
    }

    /// Cut or already cut.
    pub fn is_done(&self) -> bool {
        matches!(
            self.outcome,
            ReportStatus::Disconnected | ReportStatus::AlreadyDisconnected
        )
    }
}

/// The last line of a run: what it did, per vendor and outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SummaryLine {
    /// The run's summary.
    pub summary: RunSummary,
}

/// See [`SummaryLine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunSummary {
    /// The run (as in its header line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended.
    pub finished_at: String,
    /// Its duration in milliseconds.
    pub duration_ms: u64,
    /// Target lines it wrote, per vendor (`invalid` for unparseable targets) and outcome; a
    /// target stopped before its first request (`skipped`, kind `interrupted`, written only to
    /// close its attempt line) counts in `not_started` instead.
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Whether it was interrupted (Ctrl-C, SIGTERM) before every target was tried.
    pub interrupted: bool,
    /// Lanes stopped by their circuit breaker, with the reason.
    pub stopped_lanes: BTreeMap<String, String>,
    /// Targets read from the input and never sent (the run was interrupted, or its report
    /// could not be written): `--resume` runs them.
    #[serde(default)]
    pub not_started: u64,
    /// Whether the run stopped before reading its whole input (more targets than
    /// `not_started` were never started).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub input_unread: bool,
    /// Targets left in doubt (`unknown`): a request may have acted, its answer was lost.
    #[serde(default)]
    pub in_doubt: u64,
    /// Results that could not be written to this report (they were printed instead): the
    /// report is missing them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unrecorded: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The write-ahead line: a target about to get its first request, durable before it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptLine {
    /// The intent.
    pub attempt: AttemptRecord,
}

/// See [`AttemptLine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AttemptRecord {
    /// The run (as in its header line).
    pub run_id: String,
    /// The target as given (`vendor:id`).
    pub target: String,
    /// Its vendor.
    pub vendor: String,
    /// When it was recorded (RFC 3339, UTC), just before the request.
    pub at: String,
    /// The `Idempotency-Key` of its first request (Persona). Not a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// The first line of a run: who ran it, why, with what, against what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeaderLine {
    /// The run's record.
    pub run: RunHeader,
}

/// See [`HeaderLine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunHeader {
    /// Unique id of the run (a UUID); every line of the run carries it.
    pub run_id: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// Who ran it (`--operator`, the profile's `operator`, `DISCONNECT_OPERATOR`, or the login
    /// name).
    pub operator: String,
    /// Why (`--reason`, e.g. a ticket id).
    pub reason: Option<String>,
    /// `disconnect <version>`.
    pub tool: String,
    /// Per vendor: the spec its client was generated from and where requests go (never a key).
    pub vendors: BTreeMap<String, VendorRecord>,
    /// Where the targets came from.
    pub input: InputRecord,
    /// The options in effect (after the profile and the defaults).
    pub options: serde_json::Value,
}

/// A vendor in a run header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VendorRecord {
    /// sha256 of the vendor's spec the client was generated from.
    pub spec_sha256: Option<String>,
    /// The base URL requests go to.
    pub base_url: String,
    /// Whether a key was configured.
    pub configured: bool,
}

/// The input of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputRecord {
    /// Targets given as arguments.
    pub arguments: usize,
    /// `--input` (`-` for stdin).
    pub file: Option<String>,
    /// sha256 of the `--input` bytes as the run read them (a file or stdin).
    pub sha256: Option<String>,
    /// Distinct valid targets (arguments and input).
    #[serde(default)]
    pub targets: u64,
    /// Targets left out because an earlier one named the same connection.
    #[serde(default)]
    pub duplicates: u64,
    /// Lines that are not targets (recorded as `invalid_target` with `--skip-invalid`).
    #[serde(default)]
    pub invalid: u64,
}

/// Refuse a `--report` path that must not be appended to: the `--input` file itself, a file
/// that is not a `disconnect` report, or (without `resume`) a report that already records a
/// run, whose targets would all be sent again.
pub fn check_path(path: &Path, input: Option<&str>, resume: bool) -> Result<(), String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(()); // created by the run
    };
    if let Some(input) = input.filter(|i| *i != "-")
        && same_file(path, Path::new(input))
    {
        return Err(
            "it is the --input file: the report would be appended to the targets \
                    being read; choose another file"
                .to_string(),
        );
    }
    if meta.len() == 0 {
        return Ok(());
    }
    let mut first = String::new();
    BufReader::new(File::open(path).map_err(|e| e.to_string())?)
        .take(1 << 20)
        .read_line(&mut first)
        .map_err(|e| e.to_string())?;
    if serde_json::from_str::<ReportEntry>(&first).is_err() {
        return Err(
            "it is not a disconnect report (its first line is not a report line); \
                    refusing to append to it: choose another file"
                .to_string(),
        );
    }
    if !resume {
        return Err(
            "it already records an earlier run; run again with --resume to continue \
                    it (targets it records as done are not sent again, and a finished run has \
                    nothing left to send), or choose another --report file"
                .to_string(),
        );
    }
    Ok(())
}

/// Whether two paths name the same file (links and `..` included).
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(a), Ok(b)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return a.dev() == b.dev() && a.ino() == b.ino();
        }
    }
    matches!(
        (std::fs::canonicalize(a), std::fs::canonicalize(b)),
        (Ok(a), Ok(b)) if a == b
    )
}

/// Any line of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(title = "disconnect report line")]
pub enum ReportEntry {
    /// A run's first line.
    Header(HeaderLine),
    /// A target about to be sent (written, and synced, before its first request).
    Attempt(AttemptLine),
    /// A finished target.
    Target(ReportLine),
    /// The run's last line.
    Summary(SummaryLine),
}

/// Appends report lines, each written to the OS as it comes and made durable (fsync) in small
/// batches; attempt lines are synced before they return. A write that fails is undone (the
/// file is cut back to its last whole line), so a full disk never leaves a torn line in the
/// middle of a report. Holds an exclusive lock on the file for the whole run, so a second run
/// on the same report is refused instead of repeating every target.
pub struct ReportWriter {
    file: File,
    /// The file's length after the last whole line.
    len: u64,
    unsynced: usize,
    last_sync: std::time::Instant,
}

/// Lines written between two fsyncs at most.
const SYNC_EVERY_LINES: usize = 64;
/// Time between two fsyncs at most, while lines are written.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// What `--resume` learns from an existing report.
#[derive(Debug, Default)]
pub struct Resume {
    /// Targets recorded as disconnected or already disconnected: skipped.
    pub done: HashSet<String>,
    /// Targets not done whose rerun continues from what the report says: the last idempotency
    /// key (after a stored 5xx, the next of its chain), and whether a request may have acted
    /// unanswered (an `unknown` line, or an attempt line with no result after it).
    pub previous: HashMap<String, Previous>,
}

impl Resume {
    /// Learn from one line, in file order.
    fn read(&mut self, entry: ReportEntry, open: &mut HashMap<String, Option<String>>) {
        match entry {
            ReportEntry::Summary(_) | ReportEntry::Header(_) => {}
            ReportEntry::Attempt(a) => {
                open.insert(a.attempt.target, a.attempt.idempotency_key);
            }
            ReportEntry::Target(entry) => {
                open.remove(&entry.target);
                if entry.is_done() {
                    self.previous.remove(&entry.target);
                    self.done.insert(entry.target);
                } else if entry.idempotency_key.is_some() || entry.in_doubt {
                    let previous = Previous::new(entry.idempotency_key, entry.http_status)
                        .with_in_doubt(entry.in_doubt);
                    self.previous.insert(entry.target, previous);
                }
            }
        }
    }

    /// After the last line: a target sent (attempt line) with no result after it is in doubt.
    fn close(&mut self, open: HashMap<String, Option<String>>) {
        for (target, key) in open {
            if self.done.contains(&target) {
                continue;
            }
            let previous = self.previous.remove(&target).unwrap_or_default();
            let key = key.or(previous.idempotency_key);
            self.previous
                .insert(target, Previous::new(key, None).with_in_doubt(true));
        }
    }
}

impl ReportWriter {
    /// Open for appending. With `resume`, first cut a torn last line (left by a killed run)
    /// and return what the report says of earlier runs.
    pub fn open(path: &Path, resume: bool) -> std::io::Result<(Self, Resume)> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        if let Err(e) = file.try_lock() {
            return Err(match e {
                std::fs::TryLockError::WouldBlock => std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    "another disconnect run is using this report (it is locked); wait for it \
                     to finish, or use another --report file",
                ),
                std::fs::TryLockError::Error(e) => e,
            });
        }
        let mut state = Resume::default();
        if resume {
            let mut good_len = 0u64;
            let mut reader = BufReader::new(&file);
            let mut line = String::new();
            let mut line_no = 0usize;
            let mut open = HashMap::new();
            loop {
                line.clear();
                line_no += 1;
                let n = reader.read_line(&mut line)?;
                if n == 0 || !line.ends_with('\n') {
                    break; // end, or a torn line without its newline
                }
                match serde_json::from_str::<ReportEntry>(&line) {
                    Ok(entry) => state.read(entry, &mut open),
                    Err(_) if line.trim().is_empty() => {}
                    Err(e) => {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::InvalidData,
                            format!("{}:{}: not a report line: {e}", path.display(), line_no),
                        ));
                    }
                }
                good_len += n as u64;
            }
            drop(reader);
            state.close(open);
            file.set_len(good_len)?;
            file.seek(SeekFrom::End(0))?;
        }
        let len = file.metadata()?.len();
        Ok((
            Self {
                file,
                len,
                unsynced: 0,
                last_sync: std::time::Instant::now(),
            },
            state,
        ))
    }

    /// Append one line and hand it to the OS (it survives a `kill -9`); every
    /// [`SYNC_EVERY_LINES`] lines or [`SYNC_EVERY`], fsync (it survives a power loss).
    pub fn write(&mut self, line: &ReportLine) -> std::io::Result<()> {
        self.append(&json_line(line)?)?;
        self.unsynced += 1;
        if self.unsynced >= SYNC_EVERY_LINES || self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    /// Append attempt lines in one write and fsync them (and every line before them): when it
    /// returns, the intents are durable.
    pub fn write_ahead(&mut self, lines: &[AttemptLine]) -> std::io::Result<()> {
        let mut text = String::with_capacity(lines.len() * 160);
        for line in lines {
            text.push_str(&json_line(line)?);
        }
        self.append(&text)?;
        self.sync()
    }

    /// Write the run's header line and fsync.
    pub fn start(&mut self, header: &HeaderLine) -> std::io::Result<()> {
        self.append(&json_line(header)?)?;
        self.sync()
    }

    /// Write the run's summary line and fsync.
    pub fn finish(&mut self, summary: &SummaryLine) -> std::io::Result<()> {
        self.append(&json_line(summary)?)?;
        self.sync()
    }

    /// Write whole lines, or nothing: a failed write is cut back off.
    fn append(&mut self, text: &str) -> std::io::Result<()> {
        if let Err(e) = self.file.write_all(text.as_bytes()) {
            let _ = self.file.set_len(self.len);
            return Err(e);
        }
        self.len += text.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.unsynced = 0;
        self.last_sync = std::time::Instant::now();
        self.file.sync_data()
    }
}

/// One JSON line, with its newline.
fn json_line(value: &impl Serialize) -> std::io::Result<String> {
    let mut text = serde_json::to_string(value).map_err(std::io::Error::other)?;
    text.push('\n');
    Ok(text)
}

/// The JSON Schema of a report line (a target line or the summary line).
pub fn schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(ReportEntry)).expect("schema serializes")
}

#[cfg(test)]
mod outcome_tests {
    use super::ReportStatus;

    #[test]
    fn outcome_names_are_the_report_names() {
        for o in [
            ReportStatus::Disconnected,
            ReportStatus::AlreadyDisconnected,
            ReportStatus::Failed,
            ReportStatus::Skipped,
            ReportStatus::Unknown,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
