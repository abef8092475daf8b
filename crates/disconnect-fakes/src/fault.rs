//! Scripted faults: what a fake does instead of (or to) its next answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One scripted misbehaviour, consumed by the next request to the vendor it is queued for.
///
/// Whether the request still reaches the fake vendor (and so changes its state) is part of each
/// fault's contract, because it decides what a client sees when it retries:
///
/// | fault | vendor state changed? | what the client sees |
/// |---|---|---|
/// | `status` | no (Persona: a 5xx is stored under its `Idempotency-Key`, as Persona does) | the given status, body and headers |
/// | `delay` | yes, after the delay | the normal answer, late |
/// | `close_before_response` | no | the connection closed with no response |
/// | `close_mid_response` | yes | status and headers, then the connection closed mid-body |
/// | `drop_answer` | yes | after `millis`, the connection closed with no response: the vendor acted and its answer was lost |
/// | `truncated_json` | yes | the normal status with the first half of its JSON body |
/// | `malformed_json` | no | `200` with a body that is not JSON |
/// | `wrong_content_type` | no | `200` with an HTML page |
/// | `oversized` | no | `200` with a JSON body of `bytes` bytes |
/// | `rate_limited` | no | `429` with `RateLimit-Reset` and/or `Retry-After` |
/// | `redirect` | no | a 3xx to `location` (e.g. another host) |
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Fault {
    /// Answer with this status, JSON body and headers, or with a `raw` body of any content
    /// type (a proxy's HTML page, plain text, nothing) in place of the JSON one.
    Status {
        /// HTTP status code.
        status: u16,
        /// JSON body (`null` for an empty body).
        #[serde(default)]
        body: serde_json::Value,
        /// Extra response headers.
        #[serde(default)]
        headers: BTreeMap<String, String>,
        /// A body sent as is, with its content type, instead of `body`.
        #[serde(default)]
        raw: Option<RawBody>,
    },
    /// Wait, then answer normally.
    Delay {
        /// Milliseconds to wait.
        millis: u64,
    },
    /// Close the connection without answering.
    CloseBeforeResponse,
    /// Handle the request, send status and headers and part of the body, then close.
    CloseMidResponse,
    /// Handle the request (the vendor acts), wait `millis`, then close the connection without
    /// answering: the answer is lost after the vendor acted, as when a proxy or the network
    /// drops it.
    DropAnswer {
        /// Milliseconds to hold the connection open first (default 0).
        #[serde(default)]
        millis: u64,
    },
    /// Handle the request and send the first half of its JSON body (with a matching length).
    TruncatedJson,
    /// Answer `200` with a body that is not JSON.
    MalformedJson,
    /// Answer `200` with `text/html`.
    WrongContentType,
    /// Answer `200` with a JSON body of this many bytes.
    Oversized {
        /// Body size in bytes.
        bytes: usize,
    },
    /// Answer `429`, with `RateLimit-Reset: <seconds>` and/or `Retry-After: <value>`.
    RateLimited {
        /// Seconds for `RateLimit-Reset`.
        #[serde(default)]
        reset_secs: Option<u64>,
        /// Raw `Retry-After` value (seconds or an HTTP date).
        #[serde(default)]
        retry_after: Option<String>,
    },
    /// Answer with a redirect.
    Redirect {
        /// 301, 302, 303, 307 or 308.
        #[serde(default = "default_redirect")]
        status: u16,
        /// The `Location` header.
        location: String,
    },
}

/// A body sent byte for byte, with its content type (for `status` faults).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBody {
    /// The `Content-Type` header, e.g. `text/html; charset=utf-8`.
    pub content_type: String,
    /// The body.
    pub text: String,
}

impl Fault {
    /// A `status` fault with a JSON body and no extra headers.
    pub fn status(status: u16, body: serde_json::Value) -> Self {
        Fault::Status {
            status,
            body,
            headers: BTreeMap::new(),
            raw: None,
        }
    }

    /// A `status` fault whose body is `text` with `content_type` (e.g. a proxy's HTML page).
    pub fn raw_status(status: u16, content_type: &str, text: &str) -> Self {
        Fault::Status {
            status,
            body: serde_json::Value::Null,
            headers: BTreeMap::new(),
            raw: Some(RawBody {
                content_type: content_type.to_string(),
                text: text.to_string(),
            }),
        }
    }
}

fn default_redirect() -> u16 {
    307
}

impl Fault {
    /// Short name, as in the admin API's `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Status { .. } => "status",
            Fault::Delay { .. } => "delay",
            Fault::CloseBeforeResponse => "close_before_response",
            Fault::CloseMidResponse => "close_mid_response",
            Fault::DropAnswer { .. } => "drop_answer",
            Fault::TruncatedJson => "truncated_json",
            Fault::MalformedJson => "malformed_json",
            Fault::WrongContentType => "wrong_content_type",
            Fault::Oversized { .. } => "oversized",
            Fault::RateLimited { .. } => "rate_limited",
            Fault::Redirect { .. } => "redirect",
        }
    }

    /// Whether the request is passed on to the fake vendor.
    pub fn reaches_vendor(&self) -> bool {
        matches!(
            self,
            Fault::Delay { .. }
                | Fault::CloseMidResponse
                | Fault::TruncatedJson
                | Fault::DropAnswer { .. }
        )
    }
}
