//! The scenes of `disconnect demo`, which each vendor's fake gives
//! ([`crate::generic::Quirks::demo`]), and the rate-limit shorthand of the quirks.

use std::time::Duration;

use crate::RateLimit;

/// How a demo target is expected to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DemoOutcome {
    /// Cut by this run.
    Disconnected,
    /// Found already cut.
    AlreadyDisconnected,
    /// Failed with this error kind (`not_found`, ...: the report's `error.kind`).
    Failed(&'static str),
}

/// One scene of `disconnect demo`: a target the fake was set up for, and what it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DemoScene {
    /// The target, in the facade's syntax (`<vendor>:<id>`).
    pub target: String,
    /// How it ends.
    pub outcome: DemoOutcome,
    /// Whether it takes more than one request (a wait that is part of the scene).
    pub retried: bool,
    /// What it shows, in a few words.
    pub shows: &'static str,
}

impl DemoScene {
    /// A scene that ends as `outcome` in one request.
    pub fn new(target: impl Into<String>, outcome: DemoOutcome, shows: &'static str) -> Self {
        Self {
            target: target.into(),
            outcome,
            retried: false,
            shows,
        }
    }

    /// The scene takes more than one request.
    pub fn retried(mut self) -> Self {
        self.retried = true;
        self
    }
}

/// `requests` per `window`, for [`crate::generic::Quirks::DEFAULT_RATE_LIMIT`].
pub(crate) const fn per(requests: u32, window: Duration) -> Option<RateLimit> {
    Some(RateLimit { requests, window })
}
