//! The statuses worth retrying, in one place.

/// HTTP statuses after which the same request may succeed if sent again: 408 Request Timeout,
/// 429 Too Many Requests, and 500, 502, 503 and 504 (a failing or overloaded server or the proxy
/// in front of it). The same list as progenitor's `Error::is_retryable` plus 500, and as the
/// retry policies of the Stainless and Fern SDKs. Every other status is final: a 4xx will be
/// refused again, and 501/505+ describe what the server cannot do at all.
pub const RETRYABLE_STATUSES: &[u16] = &[408, 429, 500, 502, 503, 504];

/// Whether `status` is in [`RETRYABLE_STATUSES`].
pub fn is_retryable_status(status: u16) -> bool {
    RETRYABLE_STATUSES.contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list() {
        let retryable: Vec<u16> = (100..600).filter(|s| is_retryable_status(*s)).collect();
        assert_eq!(retryable, [408, 429, 500, 502, 503, 504]);
    }
}
