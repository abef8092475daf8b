//! The confirmation gate: a run that would send requests for more than a handful of targets
//! first shows what it would do and asks (on a terminal), or refuses (without one), unless
//! `--yes` was given. Like `gh repo delete`.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use disconnect::Vendor;

/// Runs for more targets than this ask first.
pub const GATE: usize = 10;

/// What the run would do, for the question.
pub struct Plan {
    /// Distinct targets per vendor that would be sent (not those a resumed report already has).
    pub counts: BTreeMap<Vendor, usize>,
    /// Targets left out because the input names their connection again.
    pub duplicates: usize,
    /// Targets left out because the report records them done.
    pub already_done: usize,
    /// Lines that are not targets, recorded as such (`--skip-invalid`).
    pub invalid: usize,
    /// Where each vendor's requests go.
    pub base_urls: BTreeMap<Vendor, String>,
}

impl Plan {
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    fn describe(&self) -> String {
        let mut left_out = Vec::new();
        if self.duplicates > 0 {
            left_out.push(format!("{} duplicate(s)", self.duplicates));
        }
        if self.already_done > 0 {
            left_out.push(format!("{} already done in the report", self.already_done));
        }
        if self.invalid > 0 {
            left_out.push(format!("{} invalid line(s)", self.invalid));
        }
        let mut text = format!(
            "About to disconnect {} target(s){}:\n",
            self.total(),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(" ({} left out)", left_out.join(", "))
            }
        );
        for (vendor, n) in &self.counts {
            let url = self.base_urls.get(vendor).map(String::as_str).unwrap_or("");
            text.push_str(&format!("  {:<8} {n:>7}  {url}\n", vendor.id()));
        }
        text
    }
}

/// How the gate ended when it did not let the run go on.
pub enum Stop {
    /// Refused without asking (no terminal): the message says what to do.
    Refused(String),
    /// The operator said no.
    Declined,
}

/// Let the run go on, ask, or refuse. `stdin_is_input`: the targets come from stdin, so it
/// cannot also answer a question.
pub fn gate(plan: &Plan, yes: bool, stdin_is_input: bool) -> Result<(), Stop> {
    if yes || plan.total() <= GATE {
        return Ok(());
    }
    let interactive =
        !stdin_is_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        return Err(Stop::Refused(format!(
            "{}refusing to send requests for more than {GATE} targets without confirmation, \
             and there is no terminal to ask on{}: pass --yes (after a --dry-run, if in doubt)",
            plan.describe(),
            if stdin_is_input {
                " (the targets come from stdin)"
            } else {
                ""
            }
        )));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "{}Disconnect them? This cannot be undone. [y/N] ",
        plan.describe()
    );
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return Err(Stop::Declined);
    }
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(Stop::Declined),
    }
}
