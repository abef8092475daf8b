//! Contract-faithful fake Tartan, Persona and Leen servers, for testing offboarding code without
//! touching a vendor.
//!
//! One [`FakeServer`] serves all three vendors on one local port, each under its own path prefix,
//! so that each vendor's base URL looks like the real one's:
//!
//! | vendor | base URL | real base URL |
//! |---|---|---|
//! | Tartan | `http://127.0.0.1:PORT/tartan` | `https://{env}.tartanhq.com` |
//! | Persona | `http://127.0.0.1:PORT/persona/api/v1` | `https://api.withpersona.com/api/v1` |
//! | Leen | `http://127.0.0.1:PORT/leen/v1` | `https://api.leen.dev/v1` |
//!
//! Each fake keeps state (seeded connections that change when disconnected), checks the
//! vendor's authentication, answers with the statuses and bodies of the vendor's spec (a contract
//! test validates every body against `specs/`), records every request in a journal (API keys only
//! as fingerprints), and can be told to misbehave with a queue of [`Fault`]s.
//!
//! ```
//! use disconnect_fakes::{FakeConfig, FakeServer, Fault, Seed, Vendor};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let fakes = FakeServer::start(FakeConfig::default()).await?;
//! fakes.seed(&serde_json::from_str::<Seed>(r#"{"persona": [{"id": "cxn_1"}]}"#).unwrap());
//! fakes.push_fault(Vendor::Persona, Fault::CloseBeforeResponse);
//!
//! let url = format!("{}/connect/connections/cxn_1/deactivate", fakes.base_url(Vendor::Persona));
//! let http = reqwest::Client::new();
//! let auth = format!("Bearer {}", fakes.api_key(Vendor::Persona));
//! assert!(http.post(&url).header("authorization", &auth).send().await.is_err()); // the fault
//! let ok = http.post(&url).header("authorization", &auth).send().await.unwrap();
//! assert_eq!(ok.status(), 200);
//! assert_eq!(fakes.persona_status("cxn_1").as_deref(), Some("inactive"));
//! assert_eq!(fakes.journal().len(), 2);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod fault;
pub mod generic;
pub mod journal;
pub mod reply;
mod server;
mod vendor;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

pub use fault::{Fault, RawBody};
pub use journal::{RecordedBody, RecordedRequest, fingerprint};
pub use server::MAX_REQUEST_BODY;
pub use vendor::{DemoOutcome, DemoScene};

use server::Shared;

/// One of the faked vendors: the workspace's vendor table ([`disconnect_vendors`]). Each is
/// served under its [`disconnect_vendors::VendorFacts::fake_prefix`].
pub use disconnect_vendors::Vendor;

/// How the fakes are set up.
#[derive(Clone)]
#[non_exhaustive]
pub struct FakeConfig {
    /// Address to listen on (default `127.0.0.1:0`, a free port).
    pub addr: SocketAddr,
    /// The key each vendor's fake accepts, sent as the vendor's spec says (the table's
    /// [`disconnect_vendors::Auth`]). A vendor left out accepts `fake-<id>-key`, the default.
    pub keys: BTreeMap<Vendor, String>,
    /// Requests kept in the journal; the oldest are dropped beyond it (default 10,000), so a
    /// long-running fake uses bounded memory.
    pub journal_limit: usize,
    /// Time each vendor takes before it answers (default none), to reproduce a real run's
    /// timing, e.g. 120 ms.
    pub latency: BTreeMap<Vendor, Duration>,
    /// Each vendor's rate limit as a fixed window. A vendor that documents `RateLimit-*`
    /// headers answers with them (and a 429 with its reset); the others answer 429 without
    /// headers past the limit. Default: the vendors' documented limits (Persona's 300 a minute);
    /// a vendor left out of the map has no limit (one that sends the headers, its documented
    /// default).
    pub rate_limits: BTreeMap<Vendor, RateLimit>,
}

/// Requests allowed per fixed window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub requests: u32,
    /// The window's length.
    pub window: Duration,
}

impl std::str::FromStr for RateLimit {
    type Err = String;

    /// `N/PERIOD`, as the facade's and the CLI's `--rate` read it: `N/s`, `N/min`, `N/h` or
    /// `N/<duration>` (`300/min`, `300/1m`, `100/10s`).
    fn from_str(text: &str) -> Result<Self, String> {
        let (n, window) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}`: expected N/DURATION, e.g. 300/1m"))?;
        let requests = n
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{n}` is not a positive number of requests"))?;
        let window = match window.trim() {
            "s" | "sec" | "second" => Some(Duration::from_secs(1)),
            "m" | "min" | "minute" => Some(Duration::from_secs(60)),
            "h" | "hour" => Some(Duration::from_secs(3600)),
            other => humantime::parse_duration(other).ok(),
        }
        .filter(|w| !w.is_zero())
        .ok_or_else(|| format!("`{window}` is not a duration such as 1m or 10s"))?;
        Ok(Self { requests, window })
    }
}

impl FakeConfig {
    /// The key the vendor's fake accepts.
    pub fn key(&self, vendor: Vendor) -> String {
        self.keys
            .get(&vendor)
            .cloned()
            .unwrap_or_else(|| default_key(vendor))
    }

    /// Listening on `addr` (default `127.0.0.1:0`: loopback, a free port).
    pub fn with_addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Keeping at most `limit` requests in the journal (see [`FakeConfig::journal_limit`]).
    pub fn with_journal_limit(mut self, limit: usize) -> Self {
        self.journal_limit = limit.max(1);
        self
    }

    /// With this key for the vendor.
    pub fn with_key(mut self, vendor: Vendor, key: impl Into<String>) -> Self {
        self.keys.insert(vendor, key.into());
        self
    }

    /// With `requests` per `window` for the vendor (see [`FakeConfig::rate_limits`]).
    pub fn with_rate_limit(mut self, vendor: Vendor, requests: u32, window: Duration) -> Self {
        self.rate_limits
            .insert(vendor, RateLimit { requests, window });
        self
    }

    /// With this latency for the vendor (see [`FakeConfig::latency`]).
    pub fn with_latency(mut self, vendor: Vendor, latency: Duration) -> Self {
        self.latency.insert(vendor, latency);
        self
    }
}

impl std::fmt::Debug for FakeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys: BTreeMap<Vendor, String> = Vendor::ALL
            .into_iter()
            .map(|v| (v, fingerprint(&self.key(v))))
            .collect();
        f.debug_struct("FakeConfig")
            .field("addr", &self.addr)
            .field("keys", &keys)
            .field("journal_limit", &self.journal_limit)
            .field("latency", &self.latency)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

/// The key a vendor's fake accepts unless told another: `fake-<id>-key`.
fn default_key(vendor: Vendor) -> String {
    format!("fake-{}-key", vendor.id())
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            keys: Vendor::ALL
                .into_iter()
                .map(|v| (v, default_key(v)))
                .collect(),
            journal_limit: 10_000,
            latency: BTreeMap::new(),
            rate_limits: Vendors::default_rate_limits(),
        }
    }
}

/// The running fakes. Stops when dropped (or on [`FakeServer::shutdown`]).
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeServer {
    /// Bind and start serving in the background of the current tokio runtime.
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config));
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, shared.clone(), rx));
        Ok(Self {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The address the fakes listen on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` plus the vendor's prefix: what a client uses as its base URL.
    pub fn base_url(&self, vendor: Vendor) -> String {
        format!(
            "{}{}",
            server::http_url(self.addr),
            vendor.facts().fake_prefix
        )
    }

    /// The key the vendor's fake accepts.
    pub fn api_key(&self, vendor: Vendor) -> &str {
        &self.shared.keys[&vendor]
    }

    /// The settings the fakes run with.
    pub fn config(&self) -> &FakeConfig {
        &self.shared.config
    }

    /// Load connections (existing ones with the same ids are reset).
    pub fn seed(&self, seed: &Seed) {
        self.shared.seed(seed);
    }

    /// Seed one live connection by the target's id, the text after `vendor:` in the facade's
    /// target syntax (`acme`, `cxn_1`, `<organization_uuid>/<connection_uuid>`): what `--fake`
    /// and the bench use to serve any target as a live connection.
    pub fn seed_live(&self, vendor: Vendor, id: &str) -> Result<(), String> {
        self.shared.seed_live(vendor, id)
    }

    /// Whether the connection with this target id (the text after `vendor:`) is cut: `None`
    /// when the fake does not know it.
    pub fn is_cut(&self, vendor: Vendor, id: &str) -> Option<bool> {
        self.shared.vendors.is_cut(vendor, id)
    }

    /// The state of the connection with this target id: the value of the vendor's state field
    /// (`"inactive"`, `"DELETED"`; `fake.state` in `specs/vendors.toml`), `None` when the fake
    /// does not know it.
    pub fn state(&self, vendor: Vendor, id: &str) -> Option<serde_json::Value> {
        self.shared.vendors.state(vendor, id)
    }

    /// Queue a fault for the vendor's next request.
    pub fn push_fault(&self, vendor: Vendor, fault: Fault) {
        self.shared.push_fault(vendor, fault);
    }

    /// Faults queued and not yet used.
    pub fn pending_faults(&self, vendor: Vendor) -> usize {
        self.shared.pending_faults(vendor)
    }

    /// The requests received, in order (the most recent `journal_limit`).
    pub fn journal(&self) -> Vec<RecordedRequest> {
        self.shared.journal()
    }

    /// The requests received by one vendor.
    pub fn requests_to(&self, vendor: Vendor) -> Vec<RecordedRequest> {
        self.journal()
            .into_iter()
            .filter(|r| r.vendor == Some(vendor))
            .collect()
    }

    /// Forget the requests recorded so far.
    pub fn clear_journal(&self) {
        self.shared.clear_journal();
    }

    /// Stop accepting, close open connections and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Declares each vendor's quirks module and builds over them: [`Seed`] (a list per vendor,
/// under its id), the server's per-vendor state ([`Vendors`]: the generic fake with the
/// vendor's [`generic::Quirks`], `()` for none) and the dispatch to it.
macro_rules! fakes {
    ($($variant:ident, $field:ident => $quirks:ty $(, mod $module:ident)?);* $(;)?) => {
        $($(pub mod $module;)?)*

        /// Connections to load into the fakes: for each vendor, under its id, a list of its
        /// seed entries ([`generic::GenericSeed`]: `--seed seed.json`, `POST /_admin/seed`).
        /// See the crate README. An entry the vendor's fake cannot read fails the whole seed.
        ///
        /// ```json
        /// {
        ///   "tartan": [{"client_org": "acme"}],
        ///   "persona": [{"id": "cxn_123", "status": "active"}],
        ///   "leen": [{"organization_id": "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e",
        ///             "connection_id": "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706"}]
        /// }
        /// ```
        #[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
        #[non_exhaustive]
        pub struct Seed {
            $(
                #[doc = concat!("Connections of the ", stringify!($variant), " fake.")]
                pub $field: Vec<generic::GenericSeed>,
            )*
        }

        impl<'de> serde::Deserialize<'de> for Seed {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Raw {
                    $(#[serde(default)] $field: Vec<serde_json::Value>,)*
                }
                let raw = Raw::deserialize(d)?;
                Ok(Seed {
                    $($field: raw.$field
                        .into_iter()
                        .map(|entry| generic::GenericSeed::parse(Vendor::$variant, entry))
                        .collect::<Result<_, _>>()
                        .map_err(serde::de::Error::custom)?,)*
                })
            }
        }

        /// Each vendor's state, behind its own lock.
        pub(crate) struct Vendors {
            $(pub(crate) $field: std::sync::Mutex<generic::GenericState<$quirks>>,)*
        }

        impl Vendors {
            pub(crate) fn new(config: &FakeConfig) -> Self {
                Self { $($field: std::sync::Mutex::new(generic::GenericState::<$quirks>::new(Vendor::$variant, config)),)* }
            }

            /// The vendors' documented rate limits.
            fn default_rate_limits() -> BTreeMap<Vendor, RateLimit> {
                let mut limits = BTreeMap::new();
                $(
                    if let Some(limit) = <$quirks as generic::Quirks>::DEFAULT_RATE_LIMIT {
                        limits.insert(Vendor::$variant, limit);
                    }
                )*
                limits
            }

            pub(crate) fn seed(&self, seed: &Seed) {
                $(
                    let mut state = server::lock(&self.$field);
                    for entry in &seed.$field {
                        state.seed(entry);
                    }
                    drop(state);
                )*
            }

            /// Load one seed entry (the JSON of the vendor's seed type).
            pub(crate) fn seed_one(&self, vendor: Vendor, entry: serde_json::Value) -> Result<(), String> {
                match vendor {
                    $(Vendor::$variant => {
                        let entry = generic::GenericSeed::parse(vendor, entry)?;
                        server::lock(&self.$field).seed(&entry);
                        Ok(())
                    })*
                    #[allow(unreachable_patterns)]
                    _ => Err(format!("{vendor} has no fake in this version of disconnect-fakes")),
                }
            }

            pub(crate) fn state(&self, vendor: Vendor, id: &str) -> Option<serde_json::Value> {
                match vendor {
                    $(Vendor::$variant => server::lock(&self.$field).state(id),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            pub(crate) fn is_cut(&self, vendor: Vendor, id: &str) -> Option<bool> {
                match vendor {
                    $(Vendor::$variant => server::lock(&self.$field).is_cut(id),)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }

            pub(crate) fn seed_live(&self, vendor: Vendor, id: &str) -> Result<(), String> {
                match vendor {
                    $(Vendor::$variant => server::lock(&self.$field).seed_live(id),)*
                    // `Vendor` is non-exhaustive: a vendor of a newer table without a fake here.
                    #[allow(unreachable_patterns)]
                    _ => Err(format!("{vendor} has no fake in this version of disconnect-fakes")),
                }
            }

            pub(crate) fn handle(
                &self,
                vendor: Vendor,
                api_key: &str,
                req: &reply::Incoming<'_>,
                now: tokio::time::Instant,
            ) -> reply::Reply {
                match vendor {
                    $(Vendor::$variant => server::lock(&self.$field).handle(api_key, req, now),)*
                    #[allow(unreachable_patterns)]
                    _ => reply::Reply::json(
                        404,
                        serde_json::json!({"error": format!("{vendor} has no fake")}),
                    ),
                }
            }

            pub(crate) fn store_faulted(
                &self,
                vendor: Vendor,
                api_key: &str,
                req: &reply::Incoming<'_>,
                reply: reply::Reply,
            ) {
                match vendor {
                    $(Vendor::$variant => server::lock(&self.$field).store_faulted(api_key, req, reply),)*
                    #[allow(unreachable_patterns)]
                    _ => drop((api_key, req, reply)),
                }
            }

            pub(crate) fn admin_routes() -> axum::Router<Arc<Shared>> {
                axum::Router::new()
                    $(.merge(<$quirks as generic::Quirks>::admin_routes()))*
            }
        }

        /// A target id for the `n`th of many generated connections of the vendor, in the
        /// facade's syntax after `<vendor>:` (for benchmarks and examples).
        pub fn sample_id(vendor: Vendor, n: u64) -> String {
            match vendor {
                $(Vendor::$variant => generic::sample_id(Vendor::$variant, n),)*
                #[allow(unreachable_patterns)]
                _ => format!("sample-{n}"),
            }
        }

        /// The vendor's success answer for a sample connection (status, headers, body), as
        /// its fake sends it: what a stateless stand-in for the vendor answers.
        pub fn success_example(vendor: Vendor) -> reply::Reply {
            match vendor {
                $(Vendor::$variant => generic::success_example(Vendor::$variant),)*
                #[allow(unreachable_patterns)]
                _ => reply::Reply::json(200, serde_json::json!({})),
            }
        }

        /// Whether the vendor's fake answers its rate limit with `RateLimit-*` headers (the
        /// others answer a bare 429).
        pub fn sends_rate_limit_headers(vendor: Vendor) -> bool {
            match vendor {
                $(Vendor::$variant => <$quirks as generic::Quirks>::RATE_LIMIT_HEADERS,)*
                #[allow(unreachable_patterns)]
                _ => false,
            }
        }

        /// The fakes' settings for `disconnect demo`: the defaults, with each vendor's demo
        /// tweaks (a tight rate limit to show pacing).
        pub fn demo_config() -> FakeConfig {
            #[allow(unused_mut)]
            let mut config = FakeConfig::default();
            $(<$quirks as generic::Quirks>::demo_config(&mut config);)*
            config
        }

        impl FakeServer {
            /// Set the fakes up for `disconnect demo` and return its scenes, vendor by vendor.
            pub fn demo(&self) -> Vec<DemoScene> {
                let mut scenes = Vec::new();
                $(scenes.extend(<$quirks as generic::Quirks>::demo(Vendor::$variant, self));)*
                scenes
            }
        }
    };
}

// The registration list, generated from `specs/vendors.toml` by `cargo xtask generate`.
include!("registry.rs");

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod rate_limit_syntax {
    use super::RateLimit;
    use std::time::Duration;

    /// The same syntax as the facade's `Rate` and the CLI's `--rate`.
    #[test]
    fn rate_limits_read_periods_and_durations() {
        for (text, requests, secs) in [
            ("300/min", 300, 60),
            ("300/1m", 300, 60),
            ("5/s", 5, 1),
            ("100/10s", 100, 10),
            ("1000/h", 1000, 3600),
        ] {
            let limit: RateLimit = text.parse().unwrap();
            assert_eq!(
                (limit.requests, limit.window),
                (requests, Duration::from_secs(secs))
            );
        }
        for bad in ["300", "0/min", "300/0s", "x/min", "300/fortnight"] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad}");
        }
    }
}
