//! Configuration: [`Settings`], [`DisconnectorBuilder`] and [`ConfigError`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::Vendor;

/// How calls behave. Every field has a sensible default ([`Settings::default`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Settings {
    /// Requests per call for failures that may pass (connect errors, timeouts, 429, 500, 502,
    /// 503, 504), the first included. Default 3.
    pub max_attempts: u32,
    /// Time for the whole call: attempts, retries and waits at the vendor's lane (a 429's
    /// pause, a spent rate-limit window) included. A wait that would end past the deadline is
    /// not taken: the call returns `RateLimited` at once, with the vendor's reset time. One
    /// exception, in bulk runs ([`crate::Disconnector::disconnect_all`]): the time a target is
    /// queued at its lane before its first request is not charged, so a large run finishes at
    /// the vendor's rate instead of failing the targets late in the queue. Default 30 s.
    pub deadline: Duration,
    /// Time for one request. Default 10 s.
    pub attempt_timeout: Duration,
    /// First backoff step; each retry doubles it, and the wait is a random duration up to it
    /// ("full jitter"). Default 200 ms.
    pub initial_backoff: Duration,
    /// Largest backoff step. Default 5 s.
    pub max_backoff: Duration,
    /// Take NotFound as "already disconnected" (useful when re-running a job). Default false.
    pub not_found_is_gone: bool,
    /// Mixed into Persona idempotency keys, so that a job can be re-run as a new operation.
    /// Default none: the key depends on the connection only.
    pub operation_id: Option<String>,
    /// Accept `http://` base URLs to hosts other than loopback. Default false.
    pub allow_insecure_http: bool,
    /// The longest a call waits at its vendor's lane at a time: a 429's pause or a spent
    /// rate-limit window that would last longer ends the call at once with `RateLimited` and
    /// the vendor's reset time. It matters for the time a bulk run's target is queued before
    /// its first request, which is not charged to the [`Settings::deadline`]; every other wait
    /// is bounded by the deadline too. Default 10 min.
    pub max_lane_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            deadline: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(10),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            not_found_is_gone: false,
            operation_id: None,
            allow_insecure_http: false,
            max_lane_wait: Duration::from_secs(600),
        }
    }
}

/// Options of one call ([`crate::Disconnector::disconnect_with`]): each one set replaces the
/// [`Settings`] value for that call only. Lanes, keys and HTTP clients stay shared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// See [`Settings::deadline`].
    pub deadline: Option<Duration>,
    /// See [`Settings::max_attempts`] (at least 1).
    pub max_attempts: Option<u32>,
    /// See [`Settings::attempt_timeout`].
    pub attempt_timeout: Option<Duration>,
}

impl CallOptions {
    /// No option set: the call behaves as [`crate::Disconnector::disconnect`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The call's deadline ([`Settings::deadline`]).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The most requests the call sends ([`Settings::max_attempts`], at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = Some(n.max(1));
        self
    }

    /// The time for one request ([`Settings::attempt_timeout`]).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// `settings` with these options applied.
    pub(crate) fn apply(&self, settings: &Settings) -> Settings {
        let mut applied = settings.clone();
        if let Some(d) = self.deadline {
            applied.deadline = d;
        }
        if let Some(n) = self.max_attempts {
            applied.max_attempts = n.max(1);
        }
        if let Some(t) = self.attempt_timeout {
            applied.attempt_timeout = t;
        }
        applied
    }
}

/// Why a [`crate::Disconnector`] could not be built. Never contains an API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// An API key that cannot be sent (empty, spaces, control or non-ASCII characters).
    #[error(
        "invalid {vendor} API key{}: it is empty or holds characters other than visible ASCII",
        source_var(variable)
    )]
    InvalidApiKey {
        /// The vendor.
        vendor: Vendor,
        /// The environment variable it came from, if any.
        variable: Option<&'static str>,
    },
    /// A base URL that is not an absolute http(s) URL.
    #[error("invalid {vendor} base URL `{url}`{}: {reason}", source_var(variable))]
    InvalidBaseUrl {
        /// The vendor.
        vendor: Vendor,
        /// The environment variable it came from, if any.
        variable: Option<&'static str>,
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// A plain-http base URL to a host other than loopback.
    #[error(
        "refusing plain http for {vendor} base URL `{url}`{}: the API key would travel unencrypted; use https, or allow it explicitly (allow_insecure_http)",
        source_var(variable)
    )]
    InsecureBaseUrl {
        /// The vendor.
        vendor: Vendor,
        /// The environment variable it came from, if any.
        variable: Option<&'static str>,
        /// The URL.
        url: String,
    },
    /// A header given to [`DisconnectorBuilder::header`] or
    /// [`DisconnectorBuilder::user_agent`] that cannot be sent.
    #[error("invalid header `{name}`: {reason}")]
    InvalidHeader {
        /// Its name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A base URL given for a vendor without an API key.
    #[error(
        "{variable} is set but {key_variable} is not: set the API key too, or unset the base URL"
    )]
    BaseUrlWithoutKey {
        /// The base URL variable.
        variable: &'static str,
        /// The missing key variable.
        key_variable: &'static str,
    },
    /// [`DisconnectorBuilder::http_client`] together with settings that only shape clients the
    /// facade builds.
    #[error(
        "http_client() was given a reqwest::Client of yours, so {settings} cannot apply: set them on that client"
    )]
    ConflictingHttp {
        /// The builder methods that conflict.
        settings: String,
    },
    /// reqwest could not build a vendor's HTTP client (its TLS backend, a proxy or a
    /// certificate, say).
    #[error("cannot build the HTTP client for {vendor}: {source}")]
    Http {
        /// The vendor.
        vendor: Vendor,
        /// reqwest's error.
        source: reqwest::Error,
    },
    /// The vendor's support was left out at compile time (cargo feature).
    #[error(
        "{vendor} support is not compiled in (enable the `{feature}` feature of the disconnect crate)"
    )]
    VendorNotCompiled {
        /// The vendor.
        vendor: Vendor,
        /// The cargo feature.
        feature: &'static str,
    },
}

fn source_var(variable: &Option<&'static str>) -> String {
    variable.map(|v| format!(" (from {v})")).unwrap_or_default()
}

/// Builds a [`crate::Disconnector`].
///
/// ```
/// use std::time::Duration;
/// let disconnector = disconnect::Disconnector::builder()
///     .api_key(disconnect::Vendor::Leen, "leen-key")
///     .base_url(disconnect::Vendor::Leen, "https://api.eu-c1.leen.dev/v1")
///     .deadline(Duration::from_secs(60))
///     .not_found_is_gone(true)
///     .build()?;
/// assert_eq!(disconnector.configured_vendors(), [disconnect::Vendor::Leen]);
/// # Ok::<(), disconnect::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DisconnectorBuilder {
    pub(crate) keys: BTreeMap<Vendor, (SecretStringDebug, Option<&'static str>)>,
    pub(crate) urls: BTreeMap<Vendor, (String, Option<&'static str>)>,
    pub(crate) settings: Settings,
    /// Options of one vendor, set by the builder methods its adapter adds (by type).
    pub(crate) options: http::Extensions,
    /// The `User-Agent` (default `disconnect/<version>`).
    pub(crate) user_agent: Option<String>,
    /// Headers sent with every request (after the vendor's own: never the key's header).
    pub(crate) headers: Vec<(String, String)>,
    /// How the HTTP clients are made.
    pub(crate) http: HttpSetup,
}

/// A function that adjusts the `reqwest::ClientBuilder` of each vendor's client.
type Configure = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

/// How the facade makes its HTTP clients: one of its own per vendor (with the builder's
/// proxies, root certificates and adjustments), or the caller's.
#[derive(Clone, Default)]
pub(crate) struct HttpSetup {
    pub(crate) client: Option<reqwest::Client>,
    pub(crate) proxies: Vec<reqwest::Proxy>,
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    pub(crate) roots: Vec<reqwest::Certificate>,
    pub(crate) configure: Option<Configure>,
}

impl HttpSetup {
    /// Settings that shape clients the facade builds, set beside a client of the caller's.
    fn builder_settings(&self) -> Vec<&'static str> {
        let mut set = Vec::new();
        if !self.proxies.is_empty() {
            set.push("proxy");
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        if !self.roots.is_empty() {
            set.push("root_certificate");
        }
        if self.configure.is_some() {
            set.push("configure_http");
        }
        set
    }

    /// The builder of a vendor's client: 10 s to connect, then the caller's proxies, roots and
    /// adjustments. (The generated client then sets the key and "never follow redirects".)
    pub(crate) fn builder(&self, headers: &reqwest::header::HeaderMap) -> reqwest::ClientBuilder {
        let mut builder = reqwest::ClientBuilder::new().connect_timeout(Duration::from_secs(10));
        for proxy in &self.proxies {
            builder = builder.proxy(proxy.clone());
        }
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        for root in &self.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        if let Some(configure) = &self.configure {
            builder = configure(builder);
        }
        // Last: an adjustment cannot drop the User-Agent or the caller's headers.
        builder.default_headers(headers.clone())
    }
}

impl fmt::Debug for HttpSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HttpSetup");
        d.field("own_client", &self.client.is_some())
            .field("proxies", &self.proxies.len());
        #[cfg(any(feature = "rustls", feature = "native-tls"))]
        d.field("roots", &self.roots.len());
        d.field("configure_http", &self.configure.is_some())
            .finish()
    }
}

/// The `User-Agent` every request carries unless [`DisconnectorBuilder::user_agent`] says
/// otherwise.
pub const USER_AGENT: &str = concat!("disconnect/", env!("CARGO_PKG_VERSION"));

/// A secret whose `Debug` is redacted (secrecy's is too; this keeps `Clone` simple).
#[derive(Clone)]
pub(crate) struct SecretStringDebug(pub(crate) SecretString);

impl fmt::Debug for SecretStringDebug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl DisconnectorBuilder {
    /// The `User-Agent` of every request (default [`USER_AGENT`], `disconnect/<version>`), e.g.
    /// `"acme-offboarding/2.1 disconnect/0.3"`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// A header sent with every request to every vendor, e.g. `traceparent` or a proxy's
    /// routing header. It cannot replace a vendor's authentication header (the key is set
    /// after it) and is checked at [`DisconnectorBuilder::build`]
    /// ([`ConfigError::InvalidHeader`]).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Send every request through a proxy (repeatable; see `reqwest::Proxy`). Without one,
    /// reqwest uses the system's (`HTTPS_PROXY`, `NO_PROXY`, ...).
    pub fn proxy(mut self, proxy: reqwest::Proxy) -> Self {
        self.http.proxies.push(proxy);
        self
    }

    /// Trust a root certificate beside the system's (repeatable): a company's TLS-inspecting
    /// proxy, a private gateway.
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "rustls", feature = "native-tls"))))]
    pub fn root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.http.roots.push(certificate);
        self
    }

    /// Adjust the `reqwest::ClientBuilder` of each vendor's client (a DNS resolver, pool or
    /// HTTP/2 settings, a TLS backend), called once per vendor at
    /// [`DisconnectorBuilder::build`]. What the facade needs is set after it and wins: the
    /// vendor's key, the `User-Agent` and [`DisconnectorBuilder::header`]s, and "never follow a
    /// redirect", so an adjustment cannot send a key to another host.
    ///
    /// ```
    /// let d = disconnect::Disconnector::builder()
    ///     .api_key(disconnect::Vendor::Leen, "leen-key")
    ///     .configure_http(|b| b.pool_max_idle_per_host(4).tcp_nodelay(true))
    ///     .build()?;
    /// # Ok::<(), disconnect::ConfigError>(())
    /// ```
    pub fn configure_http(
        mut self,
        configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.http.configure = Some(Arc::new(configure));
        self
    }

    /// Send every vendor's requests through a `reqwest::Client` of yours (one connection pool
    /// for the whole application, a client your platform team configures). The facade adds
    /// each vendor's key, the `User-Agent` and [`DisconnectorBuilder::header`]s to every
    /// request, and keeps its own deadlines, attempt timeouts and retries.
    ///
    /// What the client may do: anything reqwest allows — proxies, TLS roots, resolvers, its own
    /// timeouts (the shorter of its and [`Settings::attempt_timeout`] applies). What it must
    /// not do: **follow redirects**. reqwest forwards a custom header such as `X-API-KEY` to
    /// whatever host a redirect names, and a built `reqwest::Client` can neither be asked nor
    /// told per request whether it follows them; build it from [`crate::http_client_builder`]
    /// (or with `.redirect(reqwest::redirect::Policy::none())`), and a redirect reaches you as
    /// [`crate::DisconnectError::Redirected`], unfollowed. [`DisconnectorBuilder::proxy`],
    /// `root_certificate` and [`DisconnectorBuilder::configure_http`] shape the clients the
    /// facade builds, so they cannot be combined with this ([`ConfigError::ConflictingHttp`]).
    ///
    /// ```
    /// let client = disconnect::http_client_builder()
    ///     .pool_max_idle_per_host(16)
    ///     .build()
    ///     .expect("a client");
    /// let d = disconnect::Disconnector::builder()
    ///     .api_key(disconnect::Vendor::Leen, "leen-key")
    ///     .http_client(client)
    ///     .build()?;
    /// # Ok::<(), disconnect::ConfigError>(())
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http.client = Some(client);
        self
    }

    /// The API key for a vendor; vendors without one are not configured.
    pub fn api_key(mut self, vendor: Vendor, key: impl Into<String>) -> Self {
        self.keys.insert(
            vendor,
            (SecretStringDebug(SecretString::from(key.into())), None),
        );
        self
    }

    /// The base URL for a vendor, exactly as in its spec's `servers` (e.g.
    /// `https://api.leen.dev/v1`). Default: [`Vendor::default_base_url`].
    pub fn base_url(mut self, vendor: Vendor, url: impl Into<String>) -> Self {
        self.urls.insert(vendor, (url.into(), None));
        self
    }

    /// Replace all settings.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// See [`Settings::max_attempts`] (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.settings.max_attempts = n.max(1);
        self
    }

    /// See [`Settings::deadline`].
    pub fn deadline(mut self, d: Duration) -> Self {
        self.settings.deadline = d;
        self
    }

    /// See [`Settings::attempt_timeout`].
    pub fn attempt_timeout(mut self, d: Duration) -> Self {
        self.settings.attempt_timeout = d;
        self
    }

    /// See [`Settings::initial_backoff`] and [`Settings::max_backoff`].
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.initial_backoff = initial;
        self.settings.max_backoff = max.max(initial);
        self
    }

    /// See [`Settings::max_lane_wait`].
    pub fn max_lane_wait(mut self, wait: Duration) -> Self {
        self.settings.max_lane_wait = wait;
        self
    }

    /// See [`Settings::not_found_is_gone`].
    pub fn not_found_is_gone(mut self, yes: bool) -> Self {
        self.settings.not_found_is_gone = yes;
        self
    }

    /// See [`Settings::operation_id`].
    pub fn operation_id(mut self, id: impl Into<String>) -> Self {
        self.settings.operation_id = Some(id.into());
        self
    }

    /// See [`Settings::allow_insecure_http`].
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.settings.allow_insecure_http = yes;
        self
    }

    /// Read `TARTAN_API_KEY`, `PERSONA_API_KEY`, `LEEN_API_KEY` and the optional
    /// `TARTAN_BASE_URL`, `PERSONA_BASE_URL`, `LEEN_BASE_URL`. A vendor without a key is not
    /// configured (a target there fails with `NotConfigured` naming the variable). Only the
    /// vendors compiled in (cargo features) are read: another vendor's key in the environment
    /// (common on a shared host) is ignored, with a debug event.
    pub fn from_env(self) -> Result<Self, ConfigError> {
        self.from_lookup(|name| std::env::var(name).ok())
    }

    /// [`DisconnectorBuilder::from_env`] with another source of variables (for tests).
    pub fn from_lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        for vendor in Vendor::ALL {
            if !crate::adapters::is_compiled(vendor) {
                if lookup(vendor.api_key_var()).is_some() {
                    tracing::debug!(
                        variable = vendor.api_key_var(),
                        "ignored: the vendor is not compiled in (cargo feature `{}`)",
                        vendor.id()
                    );
                }
                continue;
            }
            let key = lookup(vendor.api_key_var());
            let url = lookup(vendor.base_url_var()).filter(|u| !u.is_empty());
            match (key, url) {
                (None, Some(_)) => {
                    return Err(ConfigError::BaseUrlWithoutKey {
                        variable: vendor.base_url_var(),
                        key_variable: vendor.api_key_var(),
                    });
                }
                (None, None) => {}
                (Some(key), url) => {
                    self.keys.insert(
                        vendor,
                        (
                            SecretStringDebug(SecretString::from(key)),
                            Some(vendor.api_key_var()),
                        ),
                    );
                    if let Some(url) = url {
                        self.urls.insert(vendor, (url, Some(vendor.base_url_var())));
                    }
                }
            }
        }
        Ok(self)
    }

    /// Check everything and build.
    pub fn build(self) -> Result<crate::Disconnector, ConfigError> {
        if self.http.client.is_some() {
            let conflicting = self.http.builder_settings();
            if !conflicting.is_empty() {
                return Err(ConfigError::ConflictingHttp {
                    settings: conflicting.join(", "),
                });
            }
        }
        crate::Disconnector::from_builder(self)
    }
}

/// Check a base URL: absolute http(s), and plain http only to loopback unless allowed.
pub(crate) fn check_base_url(
    vendor: Vendor,
    url: &str,
    variable: Option<&'static str>,
    allow_insecure_http: bool,
) -> Result<(), ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
        vendor,
        variable,
        url: url.to_string(),
        reason: reason.to_string(),
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback || allow_insecure_http {
                Ok(())
            } else {
                Err(ConfigError::InsecureBaseUrl {
                    vendor,
                    variable,
                    url: url.to_string(),
                })
            }
        }
        _ => Err(invalid("the scheme must be https (or http to loopback)")),
    }
}

/// The headers every request carries: the `User-Agent` (default [`USER_AGENT`]) and the
/// builder's own, each checked.
pub(crate) fn default_headers(
    user_agent: Option<&str>,
    headers: &[(String, String)],
) -> Result<reqwest::header::HeaderMap, ConfigError> {
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue, USER_AGENT as UA};
    let invalid = |name: &str, reason: &dyn fmt::Display| ConfigError::InvalidHeader {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    let mut map = HeaderMap::new();
    let ua = user_agent.unwrap_or(USER_AGENT);
    map.insert(
        UA,
        HeaderValue::from_str(ua).map_err(|e| invalid("user-agent", &e))?,
    );
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|e| invalid(name, &e))?;
        let value = HeaderValue::from_str(value).map_err(|e| invalid(name, &e))?;
        map.append(header, value);
    }
    Ok(map)
}

/// The `reqwest::ClientBuilder` to build a client for [`DisconnectorBuilder::http_client`] from:
/// redirects never followed, 10 s to connect, 30 s per request, [`USER_AGENT`]. Add what your
/// application needs (a proxy, roots, pool settings) and build.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    disconnect_client_runtime::client_builder(USER_AGENT)
}
