//! What a fake vendor answers, before faults and the wire.

use axum::http::StatusCode;
use serde_json::Value;

/// A vendor's answer: status, headers and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers besides `content-type`.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Value,
    /// A body sent as is instead of `body` (a `status` fault's raw body).
    pub raw: Option<crate::fault::RawBody>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status: StatusCode::from_u16(status).expect("fakes use valid statuses"),
            headers: Vec::new(),
            body,
            raw: None,
        }
    }

    /// Add a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// What a vendor handler gets: the request with its body read.
#[derive(Debug)]
#[non_exhaustive]
pub struct Incoming<'a> {
    /// HTTP method.
    pub method: &'a axum::http::Method,
    /// Path below the vendor's prefix (e.g. `/api/terminate_connection/`), percent-encoded.
    pub path: &'a str,
    /// The query string, percent-encoded, without `?`.
    pub query: Option<&'a str>,
    /// Request headers.
    pub headers: &'a axum::http::HeaderMap,
    /// Parsed multipart parts, when the body was multipart.
    pub multipart: Option<&'a Result<Vec<(String, String)>, String>>,
    /// Position in the journal (used for deterministic request ids).
    pub seq: u64,
}

impl Incoming<'_> {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}
