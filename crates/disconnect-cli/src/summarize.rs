//! `disconnect report summarize FILE`: what a report says, per run and per vendor, including a
//! run cut short by a crash (no summary line, maybe a torn last line), targets left in doubt
//! (an `unknown` line, or an attempt line with no result after it) and targets never started.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use crate::output::Style;
use crate::report::{ReportEntry, ReportStatus, RunHeader, RunSummary};

#[derive(Default)]
struct Run {
    header: Option<RunHeader>,
    summary: Option<RunSummary>,
    counts: BTreeMap<String, BTreeMap<String, u64>>,
    lines: u64,
    /// Targets this run sent (attempt lines) with no result line after them.
    open: HashSet<String>,
}

/// A target's last word across runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    Done,
    NotDone,
    /// A request may have acted unanswered.
    InDoubt,
}

/// The summary of the report at `path`, as text.
pub fn summarize(path: &Path, style: Style) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut order: Vec<String> = Vec::new();
    let mut runs: HashMap<String, Run> = HashMap::new();
    // Each target's last word across runs.
    let mut last: HashMap<String, Last> = HashMap::new();
    let mut unreadable: Vec<usize> = Vec::new();
    let mut torn = false;
    let run_of = |id: Option<&str>, order: &mut Vec<String>| -> String {
        let id = id.unwrap_or("(no run id)").to_string();
        if !order.contains(&id) {
            order.push(id.clone());
        }
        id
    };
    let total_lines = text.lines().count();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let is_last = n + 1 == total_lines;
        match serde_json::from_str::<ReportEntry>(line) {
            Ok(ReportEntry::Header(h)) => {
                let id = run_of(Some(&h.run.run_id), &mut order);
                runs.entry(id).or_default().header = Some(h.run);
            }
            Ok(ReportEntry::Summary(s)) => {
                let id = run_of(s.summary.run_id.as_deref(), &mut order);
                runs.entry(id).or_default().summary = Some(s.summary);
            }
            Ok(ReportEntry::Attempt(a)) => {
                let id = run_of(Some(&a.attempt.run_id), &mut order);
                runs.entry(id)
                    .or_default()
                    .open
                    .insert(a.attempt.target.clone());
                last.insert(a.attempt.target, Last::InDoubt);
            }
            Ok(ReportEntry::Target(t)) => {
                let id = run_of(t.run_id.as_deref(), &mut order);
                let run = runs.entry(id).or_default();
                run.open.remove(&t.target);
                if t.is_unsent() {
                    // Never started this time (counted in the summary's `not_started`).
                    let word = if t.in_doubt {
                        Last::InDoubt
                    } else {
                        Last::NotDone
                    };
                    last.insert(t.target.clone(), word);
                    continue;
                }
                run.lines += 1;
                *run.counts
                    .entry(t.vendor.clone().unwrap_or_else(|| "invalid".into()))
                    .or_default()
                    .entry(t.outcome.as_str().to_string())
                    .or_default() += 1;
                let word = if t.is_done() {
                    Last::Done
                } else if t.outcome == ReportStatus::Unknown {
                    Last::InDoubt
                } else {
                    Last::NotDone
                };
                last.insert(t.target.clone(), word);
            }
            Err(_) if is_last && !text.ends_with('\n') => torn = true,
            Err(_) => unreadable.push(n + 1),
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} run(s), {} target line(s)",
        path.display(),
        order.len(),
        runs.values().map(|r| r.lines).sum::<u64>()
    );
    for id in &order {
        let run = &runs[id];
        let _ = writeln!(out);
        match &run.header {
            Some(h) => {
                let _ = writeln!(
                    out,
                    "run {id}\n  by {}{}, {}, started {}",
                    h.operator,
                    h.reason
                        .as_ref()
                        .map(|r| format!(" (reason: {r})"))
                        .unwrap_or_default(),
                    h.tool,
                    h.started_at
                );
            }
            None => {
                let _ = writeln!(out, "run {id} (no header line)");
            }
        }
        match &run.summary {
            Some(s) => {
                let mut state = format!(
                    "  finished {} after {}",
                    s.finished_at,
                    crate::progress::short(std::time::Duration::from_millis(s.duration_ms))
                );
                if s.interrupted {
                    state.push_str(", interrupted (Ctrl-C or SIGTERM)");
                }
                if s.not_started > 0 || s.input_unread {
                    let _ = write!(
                        state,
                        "\n  {} target(s) never started{} (not in the report; `--resume` runs them)",
                        s.not_started,
                        if s.input_unread {
                            ", and the rest of its input not read"
                        } else {
                            ""
                        }
                    );
                }
                if s.in_doubt > 0 {
                    let _ = write!(
                        state,
                        "\n  {} target(s) in doubt: a request may have acted, its answer was lost",
                        s.in_doubt
                    );
                }
                if s.unrecorded > 0 {
                    let _ = write!(
                        state,
                        "\n  {} result(s) could not be written here (the report failed; they were \
                         printed instead)",
                        s.unrecorded
                    );
                }
                for (vendor, reason) in &s.stopped_lanes {
                    let _ = write!(state, "\n  lane {vendor} stopped: {reason}");
                }
                let _ = writeln!(out, "{state}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "  cut short: no summary line (the run was killed, crashed, or could not \
                     write its report); `--resume` finishes it"
                );
            }
        }
        if !run.open.is_empty() {
            let _ = writeln!(
                out,
                "  {} target(s) sent with no recorded result: in doubt (they may have acted; \
                 `--resume` confirms them)",
                run.open.len()
            );
        }
        if !run.counts.is_empty() {
            let _ = writeln!(out, "{}", crate::output::counts(&run.counts, style));
        }
    }
    let count = |word: Last| last.values().filter(|w| **w == word).count();
    let _ = writeln!(
        out,
        "\ntargets in the report: {} distinct, {} done (disconnected or already), {} in doubt \
         (may have acted: `--resume` confirms them), {} not done",
        last.len(),
        count(Last::Done),
        count(Last::InDoubt),
        count(Last::NotDone)
    );
    if let Some(s) = order.last().and_then(|id| runs[id].summary.as_ref())
        && (s.not_started > 0 || s.input_unread)
    {
        let _ = writeln!(
            out,
            "the last run also left {} target(s) of its input never started{}",
            s.not_started,
            if s.input_unread {
                ", and more it never read"
            } else {
                ""
            }
        );
    }
    if torn {
        let _ = writeln!(
            out,
            "the last line is cut (a run was killed while writing it): ignored, as --resume does"
        );
    }
    if !unreadable.is_empty() {
        let _ = writeln!(
            out,
            "lines that are not report lines: {}",
            unreadable
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(out)
}
