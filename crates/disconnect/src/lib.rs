//! Cut connections at Tartan HyperSync, Persona Connect and Leen through one API.
//!
//! A [`Disconnector`] holds each vendor's credentials and turns every vendor's way of saying
//! "done", "already done", "busy", "slow down" and "who are you" into one vocabulary:
//! `Ok(`[`Receipt`]`)` with [`DisconnectStatus::Disconnected`] or
//! [`DisconnectStatus::AlreadyDisconnected`], or a [`DisconnectError`] that says what happened,
//! with the vendor's HTTP status, request id and the number of attempts. It retries only what is
//! safe to retry, within a deadline for the whole call, and pauses a vendor's lane when it says
//! to slow down.
//!
//! ```no_run
//! use disconnect::{Disconnector, DisconnectStatus, Target};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // TARTAN_API_KEY, PERSONA_API_KEY, LEEN_API_KEY (+ optional *_BASE_URL)
//! let disconnector = Disconnector::from_env()?;
//! for text in [
//!     "tartan:acme-corp",
//!     "persona:cxn_ABC123",
//!     "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706",
//! ] {
//!     let target: Target = text.parse()?; // validated: nothing is sent for bad input
//!     match disconnector.disconnect(&target).await {
//!         Ok(done) if done.status == DisconnectStatus::AlreadyDisconnected => println!("{target}: already gone"),
//!         Ok(done) => println!("{target}: disconnected in {} attempt(s)", done.attempts),
//!         Err(e) if e.is_retryable() => println!("{target}: try again later: {e}"),
//!         Err(e) => println!("{target}: {e}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Mapping
//!
//! | vendor | answer | result |
//! |---|---|---|
//! | Tartan | 200 | `Disconnected` |
//! | Tartan | 409 already terminated | `AlreadyDisconnected` |
//! | Tartan | 400 sync in progress | `Busy` (retried while [`DisconnectorBuilder::wait_for_sync`] allows) |
//! | Tartan | other 400 | `Invalid` |
//! | Tartan | 401 | `Unauthorized` |
//! | Tartan | 404 | `NotFound` |
//! | Tartan | 500 | `Server` (retried) |
//! | Persona | 200 | `Disconnected` |
//! | Persona | 409 already inactive | `AlreadyDisconnected` |
//! | Persona | 400, 422 | `Invalid` (titles and details kept) |
//! | Persona | 401 / 403 | `Unauthorized` / `Forbidden` |
//! | Persona | 404 | `NotFound` |
//! | Persona | 429 | `RateLimited` (retried after `RateLimit-Reset` if it fits the deadline) |
//! | Leen | 200 | `Disconnected` |
//! | Leen | 404 (also a second delete) | `NotFound` |
//! | Leen | 422 | `Invalid` (`loc: msg` kept) |
//! | any | 401 / 403 / 404 / 429 not in the spec | `Unauthorized` / `Forbidden` / `NotFound` / `RateLimited` |
//! | any | 500, 502, 503, 504 | `Server` (retried); other 5xx: `Server` |
//! | any | 408 | `Unexpected` (retried) |
//! | any | documented 4xx/5xx whose body does not decode (a proxy's HTML page, an empty body) | by its status, as above: a 429 still honours `RateLimit-Reset`, a 500 is still retried |
//! | any | 3xx | `Redirected` (never followed: the key stays with the vendor's host) |
//! | any | other status | `Unexpected { body: first 1 KiB }` |
//! | any | connection refused | `Transport` (retried) |
//! | any | connection reset or closed once the request was sent | `Transport` (retried), in doubt: the vendor may have acted |
//! | any | no answer within [`Settings::attempt_timeout`] | `Timeout` (retried), in doubt |
//! | any | "gone" (Tartan 409, Persona 409, Leen 404) after a lost answer, in this call or an earlier run ([`Previous::in_doubt`]) | `Disconnected`, with `confirmed_after_lost_answer` |
//! | any | 2xx whose body is not JSON, of the wrong shape, or over 1 MiB | `InvalidResponse` with the 2xx status (not retried: the vendor may have acted) |
//! | any | a value, field or status the spec did not list (a new Leen `state`) | decoded: values added later are kept as sent (`Unknown`), new fields ignored, new statuses mapped by status |
//!
//! With [`Settings::not_found_is_gone`], `NotFound` becomes `AlreadyDisconnected`.
//!
//! # Lost answers
//!
//! A request whose answer is lost (the connection reset or closed after it was sent, or no
//! answer in time) may have acted: the call is then *in doubt* ([`DisconnectError::in_doubt`])
//! and retries as usual. When a later answer says the connection is gone (Tartan's or Persona's
//! 409, Leen's 404), the lost request cut it: the result is `Disconnected` with
//! [`Receipt::confirmed_after_lost_answer`], never `AlreadyDisconnected` or `NotFound`. The
//! same holds across runs: a run killed while a request was in flight, or one that ended in
//! doubt, gives [`Previous::in_doubt`] to [`Disconnector::disconnect_resuming`] (the CLI's
//! `--resume` does, from its report). Without a lost answer, a 409 stays `AlreadyDisconnected`
//! and a 404 `NotFound`. The rule is the vendor's adapter's; the CLI and library users get it
//! alike.
//!
//! # Retries
//!
//! Connect errors, timeouts and the statuses of
//! [`disconnect_client_runtime::RETRYABLE_STATUSES`] (408, 429, 500, 502, 503, 504) are retried,
//! up to [`Settings::max_attempts`] requests, waiting a random time up to
//! `min(max_backoff, initial_backoff * 2^n)` (full jitter), or the vendor's `RateLimit-Reset` /
//! `Retry-After` (seconds or HTTP date) when it gives one. A wait that would pass the call's
//! [`Settings::deadline`] is not taken: the call returns at once (`RateLimited` with the reset
//! time). No other 4xx is ever retried. Every Persona request carries an `Idempotency-Key`
//! derived from the connection ([`Disconnector::idempotency_key`]), the same on every retry and
//! every run, so a retry can never act twice; Persona stores a 5xx under its key and replays it
//! for 24 h, so after a 5xx the next attempt uses a fresh key derived from the first (`-r1`,
//! `-r2`: deactivating again is safe, an inactive connection answers 409), and a rerun continues
//! that chain from what the earlier run recorded ([`Disconnector::disconnect_resuming`]).
//!
//! # Deadlines
//!
//! One rule. A call's [`Settings::deadline`] bounds everything in it: its attempts, the backoff
//! between them, and its waits at the vendor's lane (a 429's pause, a spent rate-limit window).
//! A wait that would end past the deadline is not taken: the call returns at once,
//! `RateLimited` with the vendor's reset. In a bulk run ([`Disconnector::disconnect_all`]), the
//! time a target is queued at its lane *before its first request* is not charged (bounded by
//! [`Settings::max_lane_wait`]), so a large run finishes at the vendor's rate instead of failing
//! the targets late in the queue. One call can have its own deadline and attempts
//! ([`Disconnector::disconnect_with`], [`CallOptions`]).
//!
//! # HTTP
//!
//! Every request carries a `User-Agent` ([`USER_AGENT`], `disconnect/<version>`, or
//! [`DisconnectorBuilder::user_agent`]) and the builder's [`DisconnectorBuilder::header`]s
//! (`traceparent`). The facade builds one `reqwest` client per vendor: 10 s to connect,
//! [`Settings::attempt_timeout`] per request, redirects never followed, so a key never reaches
//! another host. Shape those clients with [`DisconnectorBuilder::proxy`],
//! `DisconnectorBuilder::root_certificate` (with a TLS feature) and
//! [`DisconnectorBuilder::configure_http`], which cannot turn redirects back on; or bring a
//! `reqwest::Client` of your own ([`DisconnectorBuilder::http_client`]), which must not follow
//! redirects: start from [`http_client_builder`]. `reqwest` is re-exported ([`reqwest`]), so no
//! version has to be guessed. Each attempt is a `tracing` span (`attempt`, DEBUG) with the
//! OpenTelemetry HTTP client attribute names: `http.request.method`, `server.address`,
//! `server.port`, `url.full`, `http.response.status_code`; the call's span (`disconnect`,
//! INFO) has the vendor, target, attempts, status and request id. No key is ever recorded.
//!
//! # Features
//!
//! - `tartan`, `persona`, `leen` (default: all): each vendor's support and client crate. A
//!   build without a vendor ignores its environment variables ([`Disconnector::from_env`]).
//! - `rustls` (default): TLS through rustls (aws-lc-rs) with the platform's verifier.
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport, SChannel).
//! - neither TLS feature: no TLS stack is built; bring a `reqwest::Client` with one.
//!
//! ```toml
//! disconnect = { version = "0.3", default-features = false, features = ["leen", "rustls"] }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
// With some vendors compiled out, parts of the shared classification go unused.
// (`default` is every vendor: without it, some may be left out.)
#![cfg_attr(not(feature = "default"), allow(dead_code))]

mod adapters;
mod bulk;
mod classify;
mod config;
mod engine;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod lane;
mod outcome;
mod plan;
mod target;

use std::collections::BTreeMap;
use std::sync::Arc;

#[allow(deprecated)]
pub use bulk::LaneStatus;
pub use bulk::{
    BulkHandle, BulkOptions, BulkRun, Intent, Job, LaneSnapshot, LaneState, WriteAhead,
};
pub use config::{
    CallOptions, ConfigError, DisconnectorBuilder, Settings, USER_AGENT, http_client_builder,
};
pub use disconnect_vendors::{self as vendors, UnknownVendor, Vendor, VendorFacts};
pub use error::{DisconnectError, ErrorContext};
pub use lane::Rate;
#[allow(deprecated)]
pub use outcome::{DisconnectStatus, Disconnected, Receipt};
pub use plan::{PlannedRequest, REDACTED};
/// The HTTP client crate the facade is built on, at the version it uses: for
/// [`DisconnectorBuilder::http_client`], [`DisconnectorBuilder::proxy`] and
/// [`DisconnectorBuilder::configure_http`] without guessing the version or its features.
pub use reqwest;
pub use target::{MAX_ID_BYTES, TargetError};

/// Each compiled vendor's target and record types, and its generated client crate under the
/// vendor's id (`disconnect::leen` is `leen_client`).
pub use adapters::exports::*;
pub use adapters::{Target, VendorRecord};

use adapters::{Adapter, AnyAdapter, Connect};
use lane::Lane;

/// Cuts connections at every configured vendor. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Disconnector {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    /// The `User-Agent` and the builder's headers, on every request.
    headers: reqwest::header::HeaderMap,
    adapters: BTreeMap<Vendor, AnyAdapter>,
    lanes: BTreeMap<Vendor, Lane>,
}

impl std::fmt::Debug for Disconnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Disconnector")
            .field("vendors", &self.configured_vendors())
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// What an earlier run recorded of a target's last request (its report line), so that a rerun
/// continues from it: see [`Disconnector::disconnect_resuming`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Previous {
    /// The `Idempotency-Key` the earlier run sent last ([`Receipt::idempotency_key`],
    /// [`ErrorContext::idempotency_key`]).
    pub idempotency_key: Option<String>,
    /// The HTTP status of the earlier run's last answer.
    pub http_status: Option<u16>,
    /// A request of an earlier run may have reached the vendor and its answer was lost (the
    /// run was killed while it was in flight, or it ended on a lost answer:
    /// [`ErrorContext::in_doubt`]). A call that then finds the connection gone reports it
    /// `Disconnected`, confirmed after a lost answer, not `AlreadyDisconnected` or `NotFound`.
    pub in_doubt: bool,
}

impl Previous {
    /// What a run recorded: its last key and last status.
    pub fn new(idempotency_key: Option<String>, http_status: Option<u16>) -> Self {
        Self {
            idempotency_key,
            http_status,
            in_doubt: false,
        }
    }

    /// The same, with whether an earlier request may have acted unanswered
    /// ([`Previous::in_doubt`]).
    pub fn with_in_doubt(mut self, in_doubt: bool) -> Self {
        self.in_doubt = in_doubt;
        self
    }
}

impl Disconnector {
    /// Start building one.
    pub fn builder() -> DisconnectorBuilder {
        DisconnectorBuilder::default()
    }

    /// Build from `TARTAN_API_KEY`, `PERSONA_API_KEY`, `LEEN_API_KEY` and the optional
    /// `*_BASE_URL` variables, with default [`Settings`].
    pub fn from_env() -> Result<Self, ConfigError> {
        DisconnectorBuilder::default().from_env()?.build()
    }

    fn from_builder(builder: DisconnectorBuilder) -> Result<Self, ConfigError> {
        let settings = builder.settings;
        let headers = config::default_headers(builder.user_agent.as_deref(), &builder.headers)?;
        let mut adapters = BTreeMap::new();
        for (vendor, (key, key_var)) in builder.keys {
            let (url, url_var) = builder
                .urls
                .get(&vendor)
                .cloned()
                .unwrap_or((vendor.default_base_url().to_string(), None));
            config::check_base_url(vendor, &url, url_var, settings.allow_insecure_http)?;
            let adapter = AnyAdapter::connect(Connect {
                vendor,
                key: key.0,
                url: &url,
                url_var,
                key_var,
                settings: &settings,
                options: &builder.options,
                headers: &headers,
                http: &builder.http,
            })?;
            adapters.insert(vendor, adapter);
        }
        let lanes = Vendor::ALL
            .into_iter()
            .map(|v| (v, Lane::default()))
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                headers,
                adapters,
                lanes,
            }),
        })
    }

    /// The vendors with credentials.
    pub fn configured_vendors(&self) -> Vec<Vendor> {
        self.inner.adapters.keys().copied().collect()
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The first `Idempotency-Key` sent for this target, for vendors that take one (Persona):
    /// derived from the connection id and [`Settings::operation_id`], so that retries and a
    /// restarted job reuse it. `None` for vendors without idempotency keys, or not configured.
    pub fn idempotency_key(&self, target: &Target) -> Option<String> {
        self.inner
            .adapters
            .get(&target.vendor())?
            .idempotency_key(target)
    }

    /// The sha256 of the spec that the vendor's compiled client crate was generated from
    /// (`None` when the vendor's cargo feature is off): which API contract calls follow.
    /// Recorded in audit reports.
    pub fn spec_sha256(vendor: Vendor) -> Option<&'static str> {
        adapters::compiled_spec_sha256(vendor)
    }

    fn adapter(&self, target: &Target) -> Result<&AnyAdapter, DisconnectError> {
        let vendor = target.vendor();
        self.inner
            .adapters
            .get(&vendor)
            .ok_or_else(|| DisconnectError::NotConfigured {
                ctx: Box::new(ErrorContext {
                    vendor,
                    target: target.clone(),
                    http_status: None,
                    request_id: None,
                    attempts: 0,
                    idempotency_key: None,
                    in_doubt: false,
                }),
                variable: vendor.api_key_var(),
            })
    }

    /// The exact request [`Disconnector::disconnect`] would send first, secrets redacted.
    /// Sends nothing.
    pub fn plan(&self, target: &Target) -> Result<PlannedRequest, DisconnectError> {
        let adapter = self.adapter(target)?;
        let key = adapter.idempotency_key(target);
        let mut plan = adapter.plan(target, key.as_deref());
        // The headers every request carries, as the vendor's own do not hold them.
        for (name, value) in &self.inner.headers {
            if !plan.headers.iter().any(|(n, _)| n == name.as_str()) {
                plan.headers.push((
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                ));
            }
        }
        Ok(plan)
    }

    /// One request through the vendor's adapter (its generated client and the classification
    /// of the answer) with the first idempotency key, without the engine: no lane, retry or
    /// deadline. Returns the answer's HTTP status (`None`: no answer). For `disconnect-bench`,
    /// which measures what the engine adds; not API.
    #[doc(hidden)]
    pub async fn attempt_once(&self, target: &Target) -> Result<Option<u16>, DisconnectError> {
        let adapter = self.adapter(target)?;
        let key = adapter.idempotency_key(target);
        Ok(adapter.attempt(target, key.as_deref()).await.http_status)
    }

    /// Cut one connection: retries, waits and the deadline as in [`Settings`].
    pub async fn disconnect(&self, target: &Target) -> Result<Receipt, DisconnectError> {
        self.disconnect_resuming(target, &Previous::default()).await
    }

    /// Cut one connection with options of its own (a shorter deadline for a request handler,
    /// one attempt for a health check); what they leave unset comes from [`Settings`].
    ///
    /// ```no_run
    /// # async fn run(d: disconnect::Disconnector, target: disconnect::Target) {
    /// use std::time::Duration;
    /// let options = disconnect::CallOptions::new()
    ///     .deadline(Duration::from_secs(3))
    ///     .max_attempts(1);
    /// let result = d.disconnect_with(&target, &options).await;
    /// # }
    /// ```
    pub async fn disconnect_with(
        &self,
        target: &Target,
        options: &CallOptions,
    ) -> Result<Receipt, DisconnectError> {
        let previous = Previous::default();
        let keys = self.keys(target, &previous);
        let settings = options.apply(&self.inner.settings);
        self.call(target, &previous, keys, &settings, None, None)
            .await
    }

    /// Cut one connection that an earlier run already tried, continuing where it ended: with
    /// Persona, a run that ended on a 5xx left that answer stored under its `Idempotency-Key`
    /// (Persona replays it for 24 h), so this call starts with the next key of the chain instead
    /// of meeting the replay; after any other answer it reuses the recorded key, whose stored
    /// answer (a completed deactivation, say) is the one to read. When the earlier run's last
    /// request may have acted unanswered ([`Previous::in_doubt`]), a "gone" answer is reported
    /// `Disconnected`, confirmed after a lost answer (see [Lost answers](crate#lost-answers)).
    pub async fn disconnect_resuming(
        &self,
        target: &Target,
        previous: &Previous,
    ) -> Result<Receipt, DisconnectError> {
        let keys = self.keys(target, previous);
        self.call(target, previous, keys, &self.inner.settings, None, None)
            .await
    }

    /// One call under `settings`, continuing from what an earlier run recorded with `keys`
    /// (its idempotency key chain, [`Disconnector::keys`]); in a bulk run, paced by `pace` on
    /// top of the vendor's lane and under the run's [`bulk::Control`].
    pub(crate) async fn call(
        &self,
        target: &Target,
        previous: &Previous,
        keys: Option<engine::Keys>,
        settings: &Settings,
        pace: Option<&lane::Pace>,
        control: Option<&bulk::Control>,
    ) -> Result<Receipt, DisconnectError> {
        let adapter = self.adapter(target)?;
        let lane = self.lane(target.vendor());
        let start = engine::Start {
            keys,
            in_doubt: previous.in_doubt,
            pace,
            control,
        };
        engine::run(adapter, lane, settings, target, start).await
    }

    /// The idempotency key chain of a call continuing from `previous` (vendors that take
    /// keys, configured).
    pub(crate) fn keys(&self, target: &Target, previous: &Previous) -> Option<engine::Keys> {
        let adapter = self.adapter(target).ok()?;
        adapter
            .idempotency_key(target)
            .map(|first| match previous.idempotency_key.as_deref() {
                Some(last) => engine::Keys::resume(
                    first,
                    last,
                    previous
                        .http_status
                        .is_some_and(|s| adapter.replays_under_key(s)),
                ),
                None => engine::Keys::new(first),
            })
    }

    pub(crate) fn lane(&self, vendor: Vendor) -> &Lane {
        &self.inner.lanes[&vendor]
    }

    /// Cut many connections, yielding one result per target in completion order.
    ///
    /// Items are [`Target`]s, or [`Job`]s that carry what an earlier run recorded (see
    /// [`Disconnector::disconnect_resuming`]). Each vendor has its own lane, with its own
    /// concurrency, pacing and pause: a paused, slow or failing vendor never holds back another
    /// vendor's targets. Time a target is queued in its lane before its first request is not
    /// charged to its deadline; its later waits are ([`Settings::deadline`]). The
    /// input is read once; what a lane cannot start yet waits in memory up to
    /// [`BulkOptions::queue_in_memory`] targets and in a temporary file beyond, so memory stays
    /// flat for any input size, stdin included. After [`BulkOptions::breaker`] consecutive
    /// 401/403 answers a vendor's lane stops and its remaining targets come back as
    /// [`DisconnectError::Skipped`], never sent. See [`BulkRun`] for lane status and stopping:
    /// [`BulkRun::stop`] stops every request not yet sent, those waiting at a lane included.
    /// With [`BulkOptions::write_ahead`], a target's first request is sent only once its
    /// [`Intent`] is durable, and a log that fails stops the run.
    pub fn disconnect_all<I>(&self, jobs: I, options: BulkOptions) -> BulkRun
    where
        I: IntoIterator,
        I::Item: Into<Job>,
        I::IntoIter: Send + 'static,
    {
        bulk::run(self, jobs, options)
    }
}
