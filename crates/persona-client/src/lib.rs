//! Typed client for Persona Connect's **Deactivate a Connection** API
//! (`POST /api/v1/connect/connections/{connection-id}/deactivate`), authenticated with
//! `Authorization: Bearer <key>`.
//!
//! # Constructors
//!
//! - [`Client::with_api_key`]`(base, key)`: 10 s to connect, 30 s per request, redirects never
//!   followed, `User-Agent` [`USER_AGENT`]. The base is [`servers::PRODUCTION`].
//! - [`Client::with_api_key_and_builder`]`(base, key, builder)`: your `reqwest::ClientBuilder`
//!   (timeouts, proxy, roots); redirects are still turned off.
//! - [`Client::with_api_key_and_client`]`(base, key, client)`: a `reqwest::Client` you share;
//!   the key is added per request. It must not follow redirects (start from
//!   [`disconnect_client_runtime::client_builder`]); see the method.
//! - [`Client::with_headers`]: headers of your own on every request (`traceparent`).
//!
//! The response body's keys follow the `Key-Inflection` header. The types here are kebab-case,
//! Persona's default: pass [`types::KeyInflection::Kebab`] so that decoding does not depend on
//! the API key's settings, and an `Idempotency-Key` so a retry cannot act twice (Persona stores
//! the first answer to a key, 5xx included, for 24 h).
//!
//! # Already deactivated
//!
//! Deactivating an inactive connection answers **409**, typed as
//! [`types::DeactivateAConnectConnectionError::Conflict`]. 429 carries `RateLimit-Reset`.
//!
//! ```no_run
//! use persona_client::{Client, Error, servers, types};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::with_api_key(servers::PRODUCTION, std::env::var("PERSONA_API_KEY")?)?;
//! // One builder per operation: a parameter Persona adds later is one more optional setter.
//! let result = client
//!     .deactivate_a_connect_connection()
//!     .connection_id("cxn_ABC123")
//!     .idempotency_key("offboarding-cxn_ABC123")
//!     .key_inflection(types::KeyInflection::Kebab)
//!     .persona_version(types::PersonaVersion::X20251208)
//!     .send()
//!     .await;
//! match result {
//!     Ok(done) => println!("status now {}", done.data.attributes.status),
//!     Err(Error::ErrorResponse(e)) => {
//!         let request_id = e.headers().get("request-id").cloned();
//!         match e.as_ref() {
//!             types::DeactivateAConnectConnectionError::Conflict(_) => println!("already inactive"),
//!             types::DeactivateAConnectConnectionError::TooManyRequests(_) => {
//!                 println!("wait {:?} s", e.headers().get("ratelimit-reset"))
//!             }
//!             // The other statuses share Persona's JSON:API error body; `Undecodable` holds a
//!             // documented status whose body was not JSON (a proxy's page).
//!             other => println!("{} {request_id:?}: {other:?}", e.status()),
//!         }
//!     }
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Errors are [`types::DeactivateAConnectConnectionError`], one variant per documented status;
//! the shared runtime is [`disconnect_client_runtime`].
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls (aws-lc-rs) and the platform's certificate verifier.
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport, SChannel).
//! - neither (`default-features = false`): no TLS stack is built; bring a `reqwest::Client`
//!   with one ([`Client::with_api_key_and_client`]).
//! - `schemars`: `schemars::JsonSchema` for every type in [`types`].
//!
//! The code is generated from `specs/persona-connect.yaml` by `cargo xtask generate` in the workspace that
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
