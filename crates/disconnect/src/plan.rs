//! [`PlannedRequest`]: what a call would send, for dry runs.

use std::fmt;

use crate::Vendor;

/// The value shown instead of a secret.
pub const REDACTED: &str = "[redacted]";

/// The exact request a call would send first (retries resend it unchanged), secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlannedRequest {
    /// The vendor.
    pub vendor: Vendor,
    /// HTTP method.
    pub method: &'static str,
    /// Full URL.
    pub url: String,
    /// Headers in the order sent, names lower-case; the API key's value is [`REDACTED`] (with
    /// its `Bearer ` prefix kept for Persona).
    pub headers: Vec<(String, String)>,
    /// Multipart text parts (Tartan), empty when there is no body.
    pub multipart: Vec<(String, String)>,
}

impl fmt::Display for PlannedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} {}", self.method, self.url)?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {value}")?;
        }
        for (name, value) in &self.multipart {
            writeln!(f, "multipart part {name:?} = {value:?}")?;
        }
        Ok(())
    }
}
