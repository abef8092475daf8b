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
pub mod journal;
pub mod leen;
pub mod persona;
pub mod reply;
pub mod seed;
mod server;
pub mod tartan;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

pub use fault::{Fault, RawBody};
pub use journal::{RecordedBody, RecordedRequest, fingerprint};
pub use seed::{LeenSeed, PersonaSeed, Seed, TartanSeed};
pub use server::MAX_REQUEST_BODY;

use server::{Shared, lock};

/// One of the faked vendors: the workspace's vendor table ([`disconnect_vendors`]). Each is
/// served under its [`disconnect_vendors::VendorFacts::fake_prefix`].
pub use disconnect_vendors::Vendor;

/// How the fakes are set up.
#[derive(Clone)]
pub struct FakeConfig {
    /// Address to listen on (default `127.0.0.1:0`, a free port).
    pub addr: SocketAddr,
    /// The key Tartan accepts in `Authorization` (raw).
    pub tartan_key: String,
    /// The key Persona accepts as `Authorization: Bearer <key>`.
    pub persona_key: String,
    /// The key Leen accepts in `X-API-KEY`.
    pub leen_key: String,
    /// Persona requests allowed per window (default 300, Persona's default per minute).
    pub persona_rate_limit: u32,
    /// Persona's rate-limit window (default one minute).
    pub persona_rate_window: Duration,
    /// Requests kept in the journal; the oldest are dropped beyond it (default 10,000), so a
    /// long-running fake uses bounded memory.
    pub journal_limit: usize,
    /// Time each vendor takes before it answers (default none), to reproduce a real run's
    /// timing, e.g. 120 ms.
    pub latency: BTreeMap<Vendor, Duration>,
    /// Rate limits of vendors that send no `RateLimit-*` headers (Tartan, Leen; default none):
    /// a fixed window, past which a request gets a 429 without reset headers. Persona's limit,
    /// with headers, is `persona_rate_limit` per `persona_rate_window`.
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

    /// `N/DURATION`, e.g. `300/1m`, `100/10s`.
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
        let window = humantime::parse_duration(window.trim())
            .ok()
            .filter(|w| !w.is_zero())
            .ok_or_else(|| format!("`{window}` is not a duration such as 1m or 10s"))?;
        Ok(Self { requests, window })
    }
}

impl std::fmt::Debug for FakeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeConfig")
            .field("addr", &self.addr)
            .field("tartan_key", &fingerprint(&self.tartan_key))
            .field("persona_key", &fingerprint(&self.persona_key))
            .field("leen_key", &fingerprint(&self.leen_key))
            .field("persona_rate_limit", &self.persona_rate_limit)
            .field("persona_rate_window", &self.persona_rate_window)
            .field("journal_limit", &self.journal_limit)
            .field("latency", &self.latency)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            tartan_key: "fake-tartan-key".into(),
            persona_key: "fake-persona-key".into(),
            leen_key: "fake-leen-key".into(),
            persona_rate_limit: 300,
            persona_rate_window: Duration::from_secs(60),
            journal_limit: 10_000,
            latency: BTreeMap::new(),
            rate_limits: BTreeMap::new(),
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
        let c = &self.shared.config;
        match vendor {
            Vendor::Tartan => &c.tartan_key,
            Vendor::Persona => &c.persona_key,
            Vendor::Leen => &c.leen_key,
        }
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

    /// Mark a data sync as running for a Tartan `client_org`; it ends by itself after
    /// `duration` (measured on tokio's clock). Returns false for an unknown org.
    pub fn start_tartan_sync(&self, client_org: &str, duration: Duration) -> bool {
        lock(&self.shared.tartan).start_sync(client_org, duration, tokio::time::Instant::now())
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

    /// Whether Tartan's connection for `client_org` is terminated (`None`: unknown org).
    pub fn tartan_terminated(&self, client_org: &str) -> Option<bool> {
        lock(&self.shared.tartan)
            .get(client_org)
            .map(|c| c.terminated)
    }

    /// A Persona connection's status (`None`: unknown id).
    pub fn persona_status(&self, id: &str) -> Option<String> {
        lock(&self.shared.persona).get(id).map(|c| c.status.clone())
    }

    /// A Leen connection's state (`None`: unknown ids).
    pub fn leen_state(
        &self,
        organization_id: uuid::Uuid,
        connection_id: uuid::Uuid,
    ) -> Option<String> {
        lock(&self.shared.leen)
            .get(organization_id, connection_id)
            .map(|c| c.state.clone())
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

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
