//! What a person watching a bulk run sees on stderr: per-vendor counts, each lane's state and
//! an ETA from the lane's own rate.

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use disconnect::{LaneSnapshot, LaneState};

/// What the progress display shows of a lane.
struct LaneLine {
    vendor: &'static str,
    done: u64,
    failed: u64,
    skipped: u64,
    sending: u32,
    held: u32,
    queued: u64,
    state: String,
    eta: Option<Duration>,
}

impl LaneLine {
    fn of(lane: &LaneSnapshot) -> Self {
        let running = !matches!(lane.state, LaneState::Finished | LaneState::Stopped { .. });
        Self {
            vendor: lane.vendor.id(),
            done: lane.done,
            failed: lane.failed,
            skipped: lane.skipped,
            sending: lane.in_flight - lane.held.min(lane.in_flight),
            held: lane.held,
            queued: lane.queued,
            state: state(lane),
            eta: eta(lane).filter(|_| running),
        }
    }

    fn total(&self) -> u64 {
        self.done
            + self.failed
            + self.skipped
            + u64::from(self.sending)
            + u64::from(self.held)
            + self.queued
    }

    /// One line, or three at a narrow width (finished; running and waiting; state).
    fn write(&self, out: &mut String, narrow: bool) {
        let (break_counts, break_state) = if narrow {
            ("\n         ", "\n         ")
        } else {
            (" ", "  ")
        };
        let _ = write!(
            out,
            "{:<8} {} done {} failed {} skipped{break_counts}{} sending {} held {} queued (of {})",
            self.vendor,
            self.done,
            self.failed,
            self.skipped,
            self.sending,
            self.held,
            self.queued,
            self.total()
        );
        out.push_str(break_state);
        out.push_str(&self.state);
        if let Some(eta) = self.eta {
            let _ = write!(out, "  ETA {}", short(eta));
        }
    }
}

/// One line per lane that has seen targets, whose counts add up to the lane's targets so far,
/// e.g. `persona  120 done 0 failed 0 skipped 2 sending 6 held 272 queued (of 400)  window spent,
/// resumes at 12:04:31  ETA 56s`. Narrower than 110 columns, the state goes on a line of its
/// own.
pub fn describe(lanes: &[LaneSnapshot], width: Option<u16>) -> String {
    let lines: Vec<LaneLine> = lanes.iter().map(LaneLine::of).collect();
    render(&lines, width)
}

fn render(lines: &[LaneLine], width: Option<u16>) -> String {
    let narrow = width.is_some_and(|w| w < 110);
    let mut out = String::new();
    for line in lines.iter().filter(|l| l.total() > 0) {
        if !out.is_empty() {
            out.push('\n');
        }
        line.write(&mut out, narrow);
    }
    out
}

/// The lane's ETA: at its configured rate when it is paced; at its vendor's window when the
/// vendor announced its limit (what is left needs that many windows, after the one awaited or
/// running now); else at its rate so far. Never before a hold (a window, a 429's pause) ends.
fn eta(lane: &LaneSnapshot) -> Option<Duration> {
    let held_until = match lane.state {
        LaneState::Paused { until } | LaneState::WaitingForWindow { until } => {
            until.duration_since(SystemTime::now()).ok()
        }
        _ => None,
    };
    let left = lane.queued + u64::from(lane.in_flight);
    let at_rate = match (&lane.state, lane.announced_limit, lane.window) {
        (LaneState::Pacing(rate), _, _) if rate.per_minute() > 0.0 => Some(
            Duration::from_secs_f64(left as f64 * 60.0 / rate.per_minute()),
        ),
        (_, Some(limit), Some(window)) if limit > 0 => {
            let windows = left.div_ceil(u64::from(limit)).saturating_sub(1);
            let after = window.saturating_mul(u32::try_from(windows).unwrap_or(u32::MAX));
            return Some(held_until.unwrap_or_default() + after);
        }
        _ => lane.eta(),
    };
    match (at_rate, held_until) {
        (Some(eta), Some(held)) => Some(eta.max(held)),
        (eta, held) => eta.or(held),
    }
}

fn state(lane: &LaneSnapshot) -> String {
    match &lane.state {
        LaneState::Running => match lane.announced_limit {
            Some(limit) => format!("running (vendor allows {limit} per window)"),
            None => "running".to_string(),
        },
        LaneState::Pacing(rate) => format!("pacing at {rate}"),
        LaneState::Paused { until } => format!("paused by a 429 until {}", clock(*until)),
        LaneState::WaitingForWindow { until } => {
            format!("window spent, resumes at {}", clock(*until))
        }
        LaneState::Stopped { .. } => "stopped: unauthorized".to_string(),
        LaneState::Finished => "finished".to_string(),
        _ => "running".to_string(),
    }
}

/// `12:04:31` (UTC).
fn clock(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%H:%M:%S")
        .to_string()
}

/// `56s`, `4m10s`, `1h02m`.
pub fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lane of 35 targets: 18 done, 2 failed, 3 running (2 held at the lane), 12 queued.
    fn lane() -> LaneLine {
        LaneLine {
            vendor: "persona",
            done: 18,
            failed: 2,
            skipped: 0,
            sending: 1,
            held: 2,
            queued: 12,
            state: "window spent, resumes at 22:31:14".into(),
            eta: Some(Duration::from_secs(42)),
        }
    }

    #[test]
    fn lane_counts_add_up_and_fit_a_narrow_terminal() {
        let text = render(&[lane()], Some(200));
        assert_eq!(
            text,
            "persona  18 done 2 failed 0 skipped 1 sending 2 held 12 queued (of 35)  window spent, resumes at 22:31:14  ETA 42s"
        );
        let narrow = render(&[lane()], Some(60));
        assert!(narrow.lines().all(|l| l.chars().count() <= 60), "{narrow}");
        insta::assert_snapshot!(narrow);
    }

    #[test]
    fn durations_are_short() {
        assert_eq!(short(Duration::from_secs(56)), "56s");
        assert_eq!(short(Duration::from_secs(250)), "4m10s");
        assert_eq!(short(Duration::from_secs(3720)), "1h02m");
    }
}
