//! What each fake vendor module provides to the server, the seed format, `disconnect demo` and
//! the bench. The [`crate::fakes!`] invocation in `lib.rs` registers the modules; everything
//! else is generic over this trait.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::reply::{Incoming, Reply};
use crate::server::Shared;
use crate::{FakeConfig, RateLimit, Vendor};

/// One fake vendor: its state, how it answers, how it is seeded.
pub(crate) trait FakeVendor: Sized + Send + 'static {
    /// The rate limit the vendor has when [`FakeConfig::rate_limits`] names none (its
    /// documented default, when it documents one).
    const DEFAULT_RATE_LIMIT: Option<RateLimit> = None;

    /// Whether the vendor enforces its rate limit itself, answering with `RateLimit-*` headers;
    /// otherwise the server applies it as a header-less fixed window.
    const RATE_LIMIT_HEADERS: bool = false;

    /// Empty state of `vendor`'s fake.
    fn new(vendor: Vendor, config: &FakeConfig) -> Self;

    /// Answer one request that reached the vendor (after faults and the header-less limit).
    fn handle(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply;

    /// Load one connection of a seed document (an existing one with the same id is reset).
    fn seed(&mut self, seed: &crate::generic::GenericSeed);

    /// Seed one live connection from a target's id (the text after `<vendor>:`).
    fn seed_live(&mut self, id: &str) -> Result<(), String>;

    /// Whether the connection with this target id is cut (`None`: the fake does not know it).
    fn is_cut(&self, id: &str) -> Option<bool>;

    /// A target id for the `n`th of many generated connections (bench, examples).
    fn sample_id(vendor: Vendor, n: u64) -> String;

    /// The success answer for a sample connection, as the vendor sends it: what the bench's
    /// stateless server answers.
    fn success_example(vendor: Vendor) -> Reply;

    /// A `status` fault's 5xx reached the vendor: a vendor that stores answers (under an
    /// idempotency key) stores this one too. Default: nothing.
    fn store_faulted(&mut self, _api_key: &str, _req: &Incoming<'_>, _reply: Reply) {}

    /// Admin routes of the vendor's own (under `/_admin/<id>/`). Default: none.
    fn admin_routes() -> axum::Router<Arc<Shared>> {
        axum::Router::new()
    }

    /// The tour `disconnect demo` gives of this vendor: set the fakes up (seed connections,
    /// start a sync...) and say what each target shows. Default: none.
    fn demo(_vendor: Vendor, _fakes: &crate::FakeServer) -> Vec<DemoScene> {
        Vec::new()
    }

    /// The fakes' settings for the demo (a tight rate limit to show pacing). Default: none.
    fn demo_config(_config: &mut FakeConfig) {}
}

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

/// `requests` per `window`, for [`FakeVendor::DEFAULT_RATE_LIMIT`].
pub(crate) const fn per(requests: u32, window: Duration) -> Option<RateLimit> {
    Some(RateLimit { requests, window })
}
