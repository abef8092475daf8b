//! What the adapters share: turning a generated client's result into a [`Classified`] answer,
//! by the vendor's documented statuses first and by status alone for the rest (the mapping's
//! "any vendor" rows).

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::VendorRecord;
use crate::error::{DisconnectError, ErrorContext};
use crate::lane::RateInfo;
use crate::outcome::DisconnectStatus;

/// Bytes of an unexpected body kept for the error.
pub(crate) const BODY_EXCERPT: usize = 1024;

/// The answer to one attempt, classified: success or an [`AttemptFailure`], with what the
/// engine needs from the answer (status, request id, rate-limit headers).
#[derive(Debug)]
pub(crate) struct Classified {
    pub(crate) http_status: Option<u16>,
    pub(crate) request_id: Option<String>,
    pub(crate) outcome: Result<(DisconnectStatus, VendorRecord), AttemptFailure>,
    /// What the answer's `RateLimit-*` headers said, for the lane's budget.
    pub(crate) rate: Option<RateInfo>,
}

impl Classified {
    pub(crate) fn failed(
        http_status: Option<u16>,
        request_id: Option<String>,
        failure: AttemptFailure,
    ) -> Self {
        Self {
            http_status,
            request_id,
            outcome: Err(failure),
            rate: None,
        }
    }
}

/// Why one attempt failed, before the call's context is attached: what the engine decides on.
/// The call's final failure is a [`DisconnectError`] ([`AttemptFailure::into_error`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AttemptFailure {
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    /// Not found, by the vendor's `gone` rule: after an attempt whose answer was lost, proof
    /// that it cut the connection (Leen's 404 on a second delete).
    Gone(String),
    Busy(String),
    Invalid(Vec<String>),
    RateLimited(Option<Duration>),
    Server(String),
    Unexpected(String),
    Redirected(Option<String>),
    /// Nothing reached the vendor: the connection could not be made.
    Transport(String),
    /// The request was (or may have been) sent and its answer was lost: the connection closed
    /// or broke before the answer was read. The vendor may have acted.
    AnswerLost(String),
    /// No answer in time; the vendor may have acted.
    Timeout,
    InvalidResponse(String),
}

impl AttemptFailure {
    /// Whether the request may have reached the vendor without its answer being read: the
    /// attempt is *in doubt* ([`crate::ErrorContext::in_doubt`]).
    pub(crate) fn answer_lost(&self) -> bool {
        matches!(
            self,
            AttemptFailure::AnswerLost(_) | AttemptFailure::Timeout
        )
    }

    /// The call's error for this failure. `cut_by_deadline`: a timeout came from the call's
    /// deadline rather than the attempt timeout.
    pub(crate) fn into_error(
        self,
        ctx: Box<ErrorContext>,
        cut_by_deadline: bool,
    ) -> DisconnectError {
        match self {
            AttemptFailure::Unauthorized(message) => DisconnectError::Unauthorized { ctx, message },
            AttemptFailure::Forbidden(message) => DisconnectError::Forbidden { ctx, message },
            AttemptFailure::NotFound(message) | AttemptFailure::Gone(message) => {
                DisconnectError::NotFound { ctx, message }
            }
            AttemptFailure::Busy(message) => DisconnectError::Busy { ctx, message },
            AttemptFailure::Invalid(problems) => DisconnectError::Invalid { ctx, problems },
            AttemptFailure::RateLimited(retry_after) => {
                DisconnectError::RateLimited { ctx, retry_after }
            }
            AttemptFailure::Server(message) => DisconnectError::Server { ctx, message },
            AttemptFailure::Unexpected(body) => DisconnectError::Unexpected { ctx, body },
            AttemptFailure::Redirected(location) => DisconnectError::Redirected { ctx, location },
            AttemptFailure::Transport(message) | AttemptFailure::AnswerLost(message) => {
                DisconnectError::Transport { ctx, message }
            }
            AttemptFailure::Timeout => DisconnectError::Timeout {
                ctx,
                deadline: cut_by_deadline,
            },
            AttemptFailure::InvalidResponse(message) => {
                DisconnectError::InvalidResponse { ctx, message }
            }
        }
    }
}

/// `Request-Id` (Persona) or `X-Request-Id`.
pub(crate) fn header_request_id(headers: &HeaderMap) -> Option<String> {
    ["request-id", "x-request-id"].iter().find_map(|name| {
        headers
            .get(*name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    })
}

/// How long the vendor asks to wait: `RateLimit-Reset` (seconds) or `Retry-After` (seconds or
/// an HTTP date), the longer if both.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let reset = text("ratelimit-reset")
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    let after = text("retry-after").and_then(|v| match v.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs)),
        Err(_) => httpdate::parse_http_date(v)
            .ok()
            .map(|at| at.duration_since(now).unwrap_or_default()),
    });
    reset.max(after)
}

/// What a status means when nothing else is known of the answer (an undocumented status, or a
/// documented one whose body did not decode): the mapping's "any vendor" rows.
pub(crate) fn by_status(status: u16, headers: &HeaderMap, excerpt: String) -> AttemptFailure {
    match status {
        300..=399 => AttemptFailure::Redirected(
            headers
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ),
        401 => AttemptFailure::Unauthorized(excerpt),
        403 => AttemptFailure::Forbidden(excerpt),
        404 => AttemptFailure::NotFound(excerpt),
        429 => AttemptFailure::RateLimited(retry_after(headers, SystemTime::now())),
        500..=599 => AttemptFailure::Server(excerpt),
        _ => AttemptFailure::Unexpected(format!("HTTP {status}: {excerpt}")),
    }
}

pub(crate) fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_EXCERPT)]).into_owned()
}

/// Classify an answer whose status the spec does not document.
pub(crate) async fn untyped(mut response: reqwest::Response) -> Classified {
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let request_id = header_request_id(&headers);
    // Bodies are already capped by the generated client's `exec` (1 MiB).
    let bytes = response.bytes().await.unwrap_or_default();
    Classified::failed(
        Some(status),
        request_id,
        by_status(status, &headers, excerpt(&bytes)),
    )
}

/// Why a body of `len` bytes could not be read: over the cap, or the decoder's `reason`.
pub(crate) fn unreadable(len: usize, max_body: usize, reason: &str) -> String {
    if len > max_body {
        format!("the body is larger than {max_body} bytes")
    } else {
        format!("the body could not be decoded ({reason})")
    }
}

/// An answer meaning "already cut" (a rule's `already_disconnected`: Tartan's and Persona's 409).
pub(crate) fn already_disconnected(
    status: u16,
    request_id: Option<String>,
    record: VendorRecord,
) -> Classified {
    Classified {
        http_status: Some(status),
        request_id,
        outcome: Ok((DisconnectStatus::AlreadyDisconnected, record)),
        rate: None,
    }
}

/// A request that got no answer: a connection that was never made sent nothing; any other
/// failure may have come after the request reached the vendor (in doubt).
pub(crate) fn transport_failure(e: &reqwest::Error) -> AttemptFailure {
    if e.is_connect() {
        AttemptFailure::Transport(transport_message(e))
    } else if e.is_timeout() {
        AttemptFailure::Timeout
    } else {
        AttemptFailure::AnswerLost(transport_message(e))
    }
}

/// reqwest's message and its sources, without the URL's query (none is ever sent); a TLS
/// handshake that met a plain-http server says so in words.
fn transport_message(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    // rustls' words for a server that answered a TLS hello in plain text.
    if message.contains("InvalidContentType") {
        message.push_str(
            " (the server answered in plain http, not TLS: is the base URL's port a plain-http \
             one? then the URL starts with http://)",
        );
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_both_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now), None);
        h.insert("ratelimit-reset", "12".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
        h.insert("retry-after", "30".parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(30)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
        h.insert("retry-after", later.parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(90)));
        h.remove("ratelimit-reset");
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(now - Duration::from_secs(5))
                .parse()
                .unwrap(),
        );
        assert_eq!(
            retry_after(&h, now),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h, now), None);
    }
}
