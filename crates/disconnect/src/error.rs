//! [`DisconnectError`]: every way a call can fail, each with its context.

use std::fmt;
use std::time::Duration;

use crate::{Target, Vendor};

/// What every error carries: where, how far it got, and the vendor's request id.
/// Non-exhaustive: build one with [`ErrorContext::new`] (to test code that handles a
/// [`crate::DisconnectError`]) and set the fields you need.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct ErrorContext {
    /// The vendor.
    pub vendor: Vendor,
    /// The target.
    pub target: Target,
    /// The HTTP status of the last answer, when there was one.
    pub http_status: Option<u16>,
    /// The vendor's request id from the last answer, when it sent one.
    pub request_id: Option<String>,
    /// Requests sent (0 when none was).
    pub attempts: u32,
    /// The `Idempotency-Key` of the last request (Persona), to be recorded so that a rerun
    /// continues from it ([`crate::Previous`]). Not a secret.
    pub idempotency_key: Option<String>,
    /// A request of this call (or of an earlier run, [`crate::Previous::in_doubt`]) may have
    /// reached the vendor and its answer was lost: the connection may be cut. A later call that
    /// finds it gone reports it `Disconnected`
    /// ([`crate::Receipt::confirmed_after_lost_answer`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_doubt: bool,
}

impl ErrorContext {
    /// The context of a call to `target` that sent nothing yet: no status, no request id, no
    /// attempt, not in doubt.
    ///
    /// ```
    /// use disconnect::{DisconnectError, ErrorContext};
    /// let mut ctx = ErrorContext::new("persona:cxn_1".parse()?);
    /// ctx.http_status = Some(429);
    /// ctx.attempts = 1;
    /// let err = DisconnectError::RateLimited {
    ///     ctx: Box::new(ctx),
    ///     retry_after: Some(std::time::Duration::from_secs(60)),
    /// };
    /// assert!(err.is_retryable());
    /// # Ok::<(), disconnect::TargetError>(())
    /// ```
    pub fn new(target: Target) -> Self {
        Self {
            vendor: target.vendor(),
            target,
            http_status: None,
            request_id: None,
            attempts: 0,
            idempotency_key: None,
            in_doubt: false,
        }
    }
}

impl fmt::Display for ErrorContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(status) = self.http_status {
            parts.push(format!("HTTP {status}"));
        }
        if let Some(id) = &self.request_id {
            parts.push(format!("request id {id}"));
        }
        parts.push(match self.attempts {
            0 => "nothing sent".to_string(),
            1 => "1 attempt".to_string(),
            n => format!("{n} attempts"),
        });
        if self.in_doubt {
            parts.push("an answer was lost: it may have acted".to_string());
        }
        write!(f, "[{}]", parts.join(", "))
    }
}

/// Why a connection could not be confirmed cut. Never contains an API key.
///
/// `Display` reads `<target>: <what happened> [HTTP status, request id, attempts]`. The context
/// is boxed so that `Result<_, DisconnectError>` stays small.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectError {
    /// The vendor has no API key configured.
    #[error("{}: {} is not configured: set {variable} {ctx}", ctx.target, ctx.vendor)]
    NotConfigured {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The variable to set.
        variable: &'static str,
    },
    /// 401: the key was refused.
    #[error("{}: {} refused the API key: {message} {ctx}", ctx.target, ctx.vendor)]
    Unauthorized {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The vendor's message.
        message: String,
    },
    /// 403: the key may not do this.
    #[error("{}: forbidden by {}: {message} {ctx}", ctx.target, ctx.vendor)]
    Forbidden {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The vendor's message.
        message: String,
    },
    /// 404: the vendor does not know the connection.
    #[error("{}: not found at {}: {message} {ctx}", ctx.target, ctx.vendor)]
    NotFound {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The vendor's message.
        message: String,
    },
    /// Tartan 400 while a data sync runs: try again after it ends (see
    /// `DisconnectorBuilder::wait_for_sync`).
    #[error("{}: {} is busy: {message} {ctx}", ctx.target, ctx.vendor)]
    Busy {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The vendor's message.
        message: String,
    },
    /// 400 / 422: the vendor refused the request as invalid.
    #[error("{}: {} refused the request as invalid: {} {ctx}", ctx.target, ctx.vendor, problems.join("; "))]
    Invalid {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The vendor's titles and details (Persona) or `loc: msg` lines (Leen).
        problems: Vec<String>,
    },
    /// 429, and no retry fits the deadline.
    #[error("{}: rate limited by {}{} {ctx}", ctx.target, ctx.vendor, retry_after.map(|d| format!("; retry after {}s", d.as_secs_f64().ceil())).unwrap_or_default())]
    RateLimited {
        /// Context.
        ctx: Box<ErrorContext>,
        /// How long the vendor asked to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// 5xx.
    #[error("{}: {} server error: {message} {ctx}", ctx.target, ctx.vendor)]
    Server {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The vendor's message, or the start of the body.
        message: String,
    },
    /// A status the vendor's spec does not list.
    #[error("{}: unexpected answer from {}: {body} {ctx}", ctx.target, ctx.vendor)]
    Unexpected {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The first KiB of the body (lossy UTF-8).
        body: String,
    },
    /// A redirect (never followed: the API key must not go to another host).
    #[error("{}: {} answered with a redirect to {} that was not followed {ctx}", ctx.target, ctx.vendor, location.as_deref().unwrap_or("nowhere"))]
    Redirected {
        /// Context.
        ctx: Box<ErrorContext>,
        /// The `Location` header.
        location: Option<String>,
    },
    /// The request or its answer was lost on the way (connection refused or reset).
    #[error("{}: could not reach {}: {message} {ctx}", ctx.target, ctx.vendor)]
    Transport {
        /// Context.
        ctx: Box<ErrorContext>,
        /// What went wrong.
        message: String,
    },
    /// An attempt, or the whole call, ran out of time.
    #[error("{}: {} did not answer in time ({}) {ctx}", ctx.target, ctx.vendor, if *deadline { "the call's deadline passed" } else { "attempt timeout" })]
    Timeout {
        /// Context.
        ctx: Box<ErrorContext>,
        /// `true` when the call's deadline passed, `false` for one attempt's timeout.
        deadline: bool,
    },
    /// Not sent: the vendor's lane in a bulk run was stopped by its circuit breaker (repeated
    /// 401/403). Run again after fixing the key (`--resume` picks these up).
    #[error("{}: skipped, {reason} {ctx}", ctx.target)]
    Skipped {
        /// Context.
        ctx: Box<ErrorContext>,
        /// Why the lane stopped.
        reason: String,
    },
    /// Not sent, or not sent again: the bulk run was stopped ([`crate::BulkRun::stop`], or its
    /// write-ahead log failed) before this target's next request. `attempts` is 0 when nothing
    /// was ever sent for it; [`ErrorContext::in_doubt`] says whether an earlier request may
    /// have acted. Running again (`--resume`) picks it up.
    #[error("{}: stopped before its next request: {reason} {ctx}", ctx.target)]
    Interrupted {
        /// Context.
        ctx: Box<ErrorContext>,
        /// Why the run stopped.
        reason: String,
    },
    /// An answer that could not be read: not JSON, wrong shape, or over the size cap. The vendor
    /// may have acted: call again to learn the connection's state.
    #[error("{}: unreadable answer from {}: {message} {ctx}", ctx.target, ctx.vendor)]
    InvalidResponse {
        /// Context.
        ctx: Box<ErrorContext>,
        /// What was wrong.
        message: String,
    },
}

impl DisconnectError {
    /// The context every variant carries.
    pub fn ctx(&self) -> &ErrorContext {
        match self {
            Self::NotConfigured { ctx, .. }
            | Self::Unauthorized { ctx, .. }
            | Self::Forbidden { ctx, .. }
            | Self::NotFound { ctx, .. }
            | Self::Busy { ctx, .. }
            | Self::Invalid { ctx, .. }
            | Self::RateLimited { ctx, .. }
            | Self::Server { ctx, .. }
            | Self::Unexpected { ctx, .. }
            | Self::Redirected { ctx, .. }
            | Self::Transport { ctx, .. }
            | Self::Timeout { ctx, .. }
            | Self::Skipped { ctx, .. }
            | Self::Interrupted { ctx, .. }
            | Self::InvalidResponse { ctx, .. } => ctx,
        }
    }

    /// The vendor.
    pub fn vendor(&self) -> Vendor {
        self.ctx().vendor
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.ctx().target
    }

    /// The HTTP status of the last answer, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        self.ctx().http_status
    }

    /// The vendor's request id, when it sent one.
    pub fn request_id(&self) -> Option<&str> {
        self.ctx().request_id.as_deref()
    }

    /// Requests sent.
    pub fn attempts(&self) -> u32 {
        self.ctx().attempts
    }

    /// Whether a request may have reached the vendor with its answer lost, so that the
    /// connection may be cut although no answer said so ([`ErrorContext::in_doubt`]).
    pub fn in_doubt(&self) -> bool {
        self.ctx().in_doubt
    }

    /// A stable snake_case name for the variant (`rate_limited`), for logs and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotConfigured { .. } => "not_configured",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Busy { .. } => "busy",
            Self::Invalid { .. } => "invalid",
            Self::RateLimited { .. } => "rate_limited",
            Self::Server { .. } => "server",
            Self::Unexpected { .. } => "unexpected",
            Self::Redirected { .. } => "redirected",
            Self::Transport { .. } => "transport",
            Self::Timeout { .. } => "timeout",
            Self::Skipped { .. } => "skipped",
            Self::Interrupted { .. } => "interrupted",
            Self::InvalidResponse { .. } => "invalid_response",
        }
    }

    /// Whether the same call may succeed later without any change: transport errors, timeouts,
    /// rate limits, Tartan's busy answer and the statuses of
    /// [`disconnect_client_runtime::RETRYABLE_STATUSES`] (408, 429, 500, 502, 503, 504), the
    /// list the retries themselves follow.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. }
            | Self::Timeout { .. }
            | Self::RateLimited { .. }
            | Self::Busy { .. }
            | Self::Interrupted { .. } => true,
            Self::Server { ctx, .. } => ctx
                .http_status
                .is_none_or(disconnect_client_runtime::is_retryable_status),
            Self::Unexpected { ctx, .. } => ctx
                .http_status
                .is_some_and(disconnect_client_runtime::is_retryable_status),
            _ => false,
        }
    }
}
