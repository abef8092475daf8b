//! Typed client for Leen's **Delete Connection** API
//! (`DELETE /v1/provisioning/organizations/{organization_id}/connections/{connection_id}`),
//! authenticated with the `X-API-KEY` header.
//!
//! # Constructors
//!
//! - [`Client::with_api_key`]`(base, key)`: 10 s to connect, 30 s per request, redirects never
//!   followed, `User-Agent` [`USER_AGENT`]. Bases are in [`servers`] (`US`, `EU`, `APAC`).
//! - [`Client::with_api_key_and_builder`]`(base, key, builder)`: your `reqwest::ClientBuilder`
//!   (timeouts, proxy, roots); redirects are still turned off.
//! - [`Client::with_api_key_and_client`]`(base, key, client)`: a `reqwest::Client` you share;
//!   the key is added per request. It must not follow redirects (start from
//!   [`disconnect_client_runtime::client_builder`]); see the method.
//! - [`Client::with_headers`]: headers of your own on every request (`traceparent`).
//!
//! # Already deleted
//!
//! A second delete of the same connection answers **404**, a status Leen's spec does not
//! document: it arrives as `Error::ErrorResponse` holding
//! [`types::DeleteConnectionByIdError::UnexpectedStatus`] (a bounded excerpt of the body), and
//! `err.status()` is `Some(404)`. The
//! only documented error is 422 (invalid ids), typed as
//! [`types::DeleteConnectionByIdError::UnprocessableEntity`].
//!
//! ```no_run
//! use leen_client::types::DeleteConnectionByIdError;
//! use leen_client::{Client, Error, servers};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::with_api_key(servers::EU, std::env::var("LEEN_API_KEY")?)?;
//! let org: leen_client::uuid::Uuid = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e".parse()?;
//! let connection: leen_client::uuid::Uuid = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706".parse()?;
//! // One builder per operation: a parameter Leen adds later is one more optional setter.
//! let request = client.delete_connection_by_id().organization_id(org).connection_id(connection);
//! match request.send().await {
//!     // A state Leen adds after this client was generated decodes too, and prints as sent.
//!     Ok(deleted) => println!("{} is now {}", deleted.id, deleted.state),
//!     Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => println!("already deleted"),
//!     Err(Error::ErrorResponse(answer)) => match answer.as_ref() {
//!         DeleteConnectionByIdError::UnprocessableEntity(invalid) => {
//!             println!("422: {:?}", invalid.detail)
//!         }
//!         // A documented status whose body did not decode (say, a proxy's HTML page).
//!         other => println!("{}: {other:?}", answer.status()),
//!     },
//!     Err(other) => return Err(other.into()),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A client of your own, through the re-exported reqwest:
//!
//! ```no_run
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let shared = leen_client::disconnect_client_runtime::client_builder(leen_client::USER_AGENT)
//!     .timeout(std::time::Duration::from_secs(10))
//!     .build()?;
//! let client = leen_client::Client::with_api_key_and_client(
//!     leen_client::servers::US,
//!     std::env::var("LEEN_API_KEY")?,
//!     shared,
//! )?;
//! # Ok(())
//! # }
//! ```
//!
//! Response enums (`ConnectionStateEnum`, `ConnectionHealthStatusName`, `DataExportTypesEnum`,
//! ...) are open: a value Leen adds later decodes into their `Unknown` variant, keeping its text.
//! The shared runtime is [`disconnect_client_runtime`].
//!
//! # Features
//!
//! - `rustls` (default): TLS through rustls (aws-lc-rs) and the platform's certificate verifier.
//! - `native-tls`: TLS through the platform's library (OpenSSL, Secure Transport, SChannel).
//! - neither (`default-features = false`): no TLS stack is built; bring a `reqwest::Client`
//!   with one ([`Client::with_api_key_and_client`]).
//! - `schemars`: `schemars::JsonSchema` for every type in [`types`].
//!
//! The code is generated from `specs/leen.yaml` by `cargo xtask generate` in the workspace that
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
/// The UUID type of the path parameters and ids.
pub use uuid;
