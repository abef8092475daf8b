//! The run's record as it happens: the report's write-ahead attempt lines (written by the bulk
//! run's log thread, before each target's first request) and its result lines (written by the
//! run's loop) go through one lock, which also knows the targets sent whose result is not
//! recorded yet. After the first write error nothing more is written, and the bulk run stops
//! sending: what could not be recorded is the caller's to print.

use std::collections::BTreeMap;
use std::sync::Mutex;

use disconnect::{Intent, WriteAhead};

use crate::report::{
    AttemptLine, AttemptRecord, HeaderLine, ReportLine, ReportWriter, SummaryLine, now,
};

/// See the module.
pub struct Journal {
    run_id: String,
    state: Mutex<State>,
}

struct State {
    /// `None` without `--report`: intents are only tracked.
    writer: Option<ReportWriter>,
    /// Targets sent (their intent recorded), with no result yet.
    open: BTreeMap<String, AttemptRecord>,
    /// The first error writing the report.
    failed: Option<String>,
}

impl Journal {
    pub fn new(writer: Option<ReportWriter>, run_id: String) -> Self {
        Self {
            run_id,
            state: Mutex::new(State {
                writer,
                open: BTreeMap::new(),
                failed: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether results go to a report.
    pub fn has_report(&self) -> bool {
        self.lock().writer.is_some()
    }

    /// Write the header line (before anything is sent).
    pub fn start(&self, header: &HeaderLine) -> std::io::Result<()> {
        match self.lock().writer.as_mut() {
            Some(w) => w.start(header),
            None => Ok(()),
        }
    }

    /// Record a finished target (it is no longer in flight). `Err` with the report's error when
    /// it could not be written, now or before: the line is not in the report.
    pub fn result(&self, line: &ReportLine) -> Result<(), String> {
        let mut state = self.lock();
        state.open.remove(&line.target);
        state.write(|w| w.write(line))
    }

    /// Write the summary line, unless the report failed before.
    pub fn finish(&self, summary: &SummaryLine) -> Result<(), String> {
        self.lock().write(|w| w.finish(summary))
    }

    /// The targets sent whose result is not recorded.
    pub fn in_flight(&self) -> Vec<AttemptRecord> {
        self.lock().open.values().cloned().collect()
    }

    /// Whether the target was sent (its attempt line written) with no result yet.
    pub fn is_in_flight(&self, target: &str) -> bool {
        self.lock().open.contains_key(target)
    }

    /// The report's first write error, if any.
    pub fn failure(&self) -> Option<String> {
        self.lock().failed.clone()
    }
}

impl State {
    fn write(
        &mut self,
        write: impl FnOnce(&mut ReportWriter) -> std::io::Result<()>,
    ) -> Result<(), String> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        write(writer).map_err(|e| {
            let message = e.to_string();
            self.failed = Some(message.clone());
            message
        })
    }
}

impl WriteAhead for Journal {
    fn record(&self, batch: &[Intent]) -> std::io::Result<()> {
        let at = now();
        let lines: Vec<AttemptLine> = batch
            .iter()
            .map(|intent| AttemptLine {
                attempt: AttemptRecord {
                    run_id: self.run_id.clone(),
                    target: intent.target.to_string(),
                    vendor: intent.target.vendor().id().to_string(),
                    at: at.clone(),
                    idempotency_key: intent.idempotency_key.clone(),
                },
            })
            .collect();
        let mut state = self.lock();
        state
            .write(|w| w.write_ahead(&lines))
            .map_err(std::io::Error::other)?;
        for line in lines {
            state.open.insert(line.attempt.target.clone(), line.attempt);
        }
        Ok(())
    }
}
