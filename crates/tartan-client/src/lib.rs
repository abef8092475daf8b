//! Typed client for Tartan HyperSync's **Terminate Connection** API
//! (`POST /api/terminate_connection/`). Tartan authenticates with the raw API key in
//! `Authorization` (no `Bearer` prefix), and takes the client organisation as a
//! `multipart/form-data` field: both are handled here.
//!
//! # Constructors
//!
//! - [`Client::with_api_key`]`(base, key)`: 10 s to connect, 30 s per request, redirects never
//!   followed, `User-Agent` [`USER_AGENT`]. The base comes from
//!   [`servers::environment`]`("prod")` (`https://prod.tartanhq.com`).
//! - [`Client::with_api_key_and_builder`]`(base, key, builder)`: your `reqwest::ClientBuilder`
//!   (timeouts, proxy, roots); redirects are still turned off.
//! - [`Client::with_api_key_and_client`]`(base, key, client)`: a `reqwest::Client` you share;
//!   the key is added per request. It must not follow redirects (start from
//!   [`disconnect_client_runtime::client_builder`]); see the method.
//! - [`Client::with_headers`]: headers of your own on every request (`traceparent`).
//!
//! # Already terminated
//!
//! Terminating a terminated connection answers **409**, typed as
//! [`types::TerminateConnectionError::Conflict`]. While a data sync runs Tartan answers **400**
//! (`BadRequest`): try again once it ends.
//!
//! ```no_run
//! use tartan_client::types::TerminateConnectionError as Failed;
//! use tartan_client::{Client, Error, servers, types};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let base = servers::environment("prod")?; // https://prod.tartanhq.com
//! let client = Client::with_api_key(&base, std::env::var("TARTAN_API_KEY")?)?;
//! // Request bodies are built with their builders (the types are non-exhaustive), so a field
//! // Tartan adds later is one more optional setter, not a compile error.
//! let body = types::TerminateConnectionBody::builder().client_org("acme");
//! match client.terminate_connection().body(body).send().await {
//!     Ok(done) => println!("terminated: {:?}", done.message),
//!     Err(Error::ErrorResponse(answer)) => match answer.as_ref() {
//!         Failed::Conflict(_) => println!("already terminated"),
//!         Failed::BadRequest(busy) => println!("a data sync is running: {:?}", busy.message),
//!         Failed::Unauthorized(e) => println!("key refused (request {:?})", e.request_id),
//!         // 404, 500, or a documented status whose body did not decode (a proxy's page).
//!         other => println!("{}: {other:?}", answer.status()),
//!     },
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every documented status decodes into its own type: 200 into
//! [`types::TerminateConnectionResponse`]; 400, 401, 404, 409 and 500 into the variants of
//! [`types::TerminateConnectionError`], each with the body that status sends (`requestId` on
//! 401 and 500, `code` on 404, `status` on 409). The shared runtime is
//! [`disconnect_client_runtime`].
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls (aws-lc-rs) and the platform's certificate verifier.
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport, SChannel).
//! - neither (`default-features = false`): no TLS stack is built; bring a `reqwest::Client`
//!   with one ([`Client::with_api_key_and_client`]).
//! - `schemars`: `schemars::JsonSchema` for every type in [`types`].
//!
//! The code is generated from `specs/tartan-hypersync.yaml` by `cargo xtask generate` in the workspace that
//! publishes this crate; regenerate after the vendor changes its spec. `API.md` in the package
//! lists the whole public surface.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[allow(unused_mut, missing_docs, clippy::all)]
mod generated;

/// The runtime the generated code calls (configuration, decoding, open enums).
pub use disconnect_client_runtime;
pub use generated::*;
/// The HTTP client crate this client is built on, at the version it uses (for
/// `Client::with_api_key_and_client` and `Client::with_api_key_and_builder`).
pub use reqwest;
/// The secret-holding string type taken by [`Client::with_api_key`].
pub use secrecy::SecretString;
