//! The request journal: every request a fake received, secrets replaced by fingerprints.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Vendor;

/// Headers whose values are secrets: recorded only as a fingerprint.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "x-api-key",
    "cookie",
    "proxy-authorization",
];

/// One request as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordedRequest {
    /// Position in the journal, from 1.
    pub seq: u64,
    /// The vendor whose routes it hit (`None` for unknown paths).
    pub vendor: Option<Vendor>,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Headers in the order received, names lower-case; secret values fingerprinted.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: RecordedBody,
    /// The fault applied to this request, if one was queued.
    pub fault: Option<String>,
}

impl RecordedRequest {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum RecordedBody {
    /// No body.
    Empty,
    /// `multipart/form-data` parts as (name, text).
    Multipart(Vec<(String, String)>),
    /// Any other body, as text (lossy UTF-8).
    Text(String),
    /// A multipart body that did not parse.
    Malformed(String),
}

/// `fp:` and the first 16 hex digits of the SHA-256 of a secret: enough to tell keys apart in
/// assertions, useless to an attacker.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("fp:{hex}")
}
