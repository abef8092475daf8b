//! The runtime every generated vendor client (`tartan-client`, `persona-client`, `leen-client`)
//! depends on: the part of a client that does not come from a spec, written once as ordinary
//! Rust and tested here. It plays beside the generated crates the role `progenitor-client`
//! plays for progenitor and the runtime crates play for the AWS Rust SDK.
//!
//! - [`ConfigError`], [`checked_baseurl`], [`auth_headers`], [`api_key_client`]: building a
//!   client that authenticates with an API key, never follows redirects and accepts only usable
//!   base URLs;
//! - [`read_capped`]: the cap on response bodies;
//! - [`decode_success`], [`decode_error`], [`error_without_body`] and [`UndecodableBody`]:
//!   decoding that keeps the status and headers of every answer, also when its body does not
//!   decode;
//! - [`open_enum!`] and [`UnknownValue`]: response enums that decode values a vendor adds later;
//! - [`multipart_form`]: `multipart/form-data` bodies from typed request structs;
//! - [`Operation`]: what the spec documents about an operation (method, path, statuses);
//! - [`is_retryable_status`]: the one list of statuses worth retrying.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod config;
mod decode;
#[cfg(feature = "multipart")]
mod multipart;
mod open_enum;
mod operation;
mod request_url;
mod retry;

pub use config::{
    ConfigError, api_key_client, auth_headers, checked_baseurl, client_builder, execute,
    replace_headers, server_variable,
};
pub use decode::{
    BODY_EXCERPT_BYTES, UndecodableBody, UnexpectedStatus, decode_error, decode_success,
    error_without_body, read_capped, unexpected_status,
};
#[cfg(feature = "multipart")]
#[cfg_attr(docsrs, doc(cfg(feature = "multipart")))]
pub use multipart::multipart_form;
pub use open_enum::UnknownValue;
pub use operation::Operation;
pub use request_url::{parse_base_url, request_to};
pub use retry::{RETRYABLE_STATUSES, is_retryable_status};

/// Re-exports for [`open_enum!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "schemars")]
    pub use schemars;
    pub use serde;
}
