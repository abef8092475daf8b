//! What a person watching a bulk run sees on stderr: per-vendor counts, each lane's state and
//! an ETA from the lane's own rate.

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use disconnect::{LaneState, LaneStatus};

/// One line per lane that has seen targets, e.g.
/// `persona  120 done  0 failed  0 skipped  280 queued  waiting for its window until 12:04:31  ETA 56s`.
pub fn describe(lanes: &[LaneStatus]) -> String {
    let mut out = String::new();
    for lane in lanes {
        let seen = lane.queued + u64::from(lane.in_flight) + lane.done + lane.failed + lane.skipped;
        if seen == 0 {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = write!(
            out,
            "{:<8} {:>6} done {:>5} failed {:>5} skipped {:>6} queued  {}",
            lane.vendor.id(),
            lane.done,
            lane.failed,
            lane.skipped,
            lane.queued,
            state(lane)
        );
        if !matches!(lane.state, LaneState::Finished | LaneState::Stopped { .. })
            && let Some(eta) = lane.eta()
        {
            let _ = write!(out, "  ETA {}", short(eta));
        }
    }
    out
}

fn state(lane: &LaneStatus) -> String {
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

    #[test]
    fn durations_are_short() {
        assert_eq!(short(Duration::from_secs(56)), "56s");
        assert_eq!(short(Duration::from_secs(250)), "4m10s");
        assert_eq!(short(Duration::from_secs(3720)), "1h02m");
    }
}
