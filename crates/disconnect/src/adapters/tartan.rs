//! Tartan HyperSync: `POST /api/terminate_connection/`, multipart `client_org`, raw key.

use std::time::Duration;

use tartan_client::types::{
    TerminateConnectionBody, TerminateConnectionError as Documented, TerminateConnectionResponse,
};
use tartan_client::{Client, Error, MAX_RESPONSE_BYTES, ResponseValue};

use crate::adapters::{Adapter, Connect};
use crate::classify::{
    AttemptFailure, Classified, already_disconnected, by_status, undecodable, unexpected,
};
use crate::config::ConfigError;
use crate::outcome::DisconnectStatus;
use crate::plan::{PlannedRequest, REDACTED};
use crate::target::{TargetError, VendorTarget, check_id};
use crate::{DisconnectorBuilder, Target, Vendor, VendorRecord};

/// A Tartan HyperSync client organisation, `tartan:<client_org>`: [`Target::Tartan`].
///
/// The `client_org` travels in the request body, so any text passing the common checks is
/// accepted (`tartan:acme/eu?x#1` is a valid target).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TartanTarget {
    // Shared: a target is cloned into every receipt and error, and an id never changes.
    client_org: std::sync::Arc<str>,
}

impl TartanTarget {
    /// The `client_org` identifier.
    pub fn client_org(&self) -> &str {
        &self.client_org
    }
}

impl VendorTarget for TartanTarget {
    const SYNTAX: &'static str = "<client_org>";

    fn parse(id: &str) -> Result<Self, TargetError> {
        check_id("Tartan client_org", id)?;
        Ok(Self {
            client_org: id.into(),
        })
    }

    fn id(&self) -> String {
        self.client_org.to_string()
    }
}

impl Target {
    /// A Tartan target (see [`TartanTarget`]).
    pub fn tartan(client_org: impl Into<String>) -> Result<Self, TargetError> {
        TartanTarget::parse(&client_org.into()).map(Target::Tartan)
    }
}

/// What Tartan answered: [`VendorRecord::Tartan`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TartanRecord {
    /// The `message` field (`"Connection terminated successfully"`, or the 409's).
    pub message: Option<String>,
}

/// How long to keep polling a connection whose data sync is running, and how often: the
/// builder's [`DisconnectorBuilder::wait_for_sync`] and
/// [`DisconnectorBuilder::sync_poll_interval`].
#[derive(Debug, Clone, Copy)]
struct SyncWait {
    up_to: Option<Duration>,
    poll: Duration,
}

impl SyncWait {
    /// As set in the builder's options, else off with a 2 s interval.
    fn of(options: &http::Extensions) -> Self {
        options.get::<Self>().copied().unwrap_or(Self {
            up_to: None,
            poll: Duration::from_secs(2),
        })
    }
}

impl DisconnectorBuilder {
    /// When set, Tartan's "sync in progress" answer (a 400) is retried every
    /// [`DisconnectorBuilder::sync_poll_interval`] for up to this long (within the deadline).
    /// Default: off, the call fails with `Busy` (was `Settings::wait_for_sync`).
    pub fn wait_for_sync(mut self, up_to: Option<Duration>) -> Self {
        let wait = SyncWait {
            up_to,
            ..SyncWait::of(&self.options)
        };
        self.options.insert(wait);
        self
    }

    /// Interval between tries while waiting for a Tartan sync. Default 2 s (was
    /// `Settings::sync_poll_interval`).
    pub fn sync_poll_interval(mut self, poll: Duration) -> Self {
        let wait = SyncWait {
            poll,
            ..SyncWait::of(&self.options)
        };
        self.options.insert(wait);
        self
    }
}

pub(crate) struct Tartan {
    client: Client,
    base_url: String,
    /// `(up to, poll interval)` while a data sync runs; `None`: fail with `Busy`.
    sync_wait: Option<(Duration, Duration)>,
}

impl Tartan {
    pub(crate) fn connect(c: Connect<'_>) -> Result<Self, ConfigError> {
        let wait = SyncWait::of(c.options);
        Ok(Self {
            client: client!(tartan_client, c)?,
            base_url: c.base_url(),
            sync_wait: wait.up_to.map(|limit| (limit, wait.poll)),
        })
    }
}

/// The target's `client_org` (the registry routes only Tartan targets here).
fn client_org(target: &Target) -> &str {
    #[allow(unreachable_patterns)] // with only this vendor compiled in
    match target {
        Target::Tartan(t) => &t.client_org,
        other => unreachable!("{other} routed to Tartan"),
    }
}

impl Adapter for Tartan {
    fn vendor(&self) -> Vendor {
        Vendor::Tartan
    }

    fn plan(&self, target: &Target, _: Option<&str>) -> PlannedRequest {
        PlannedRequest {
            vendor: Vendor::Tartan,
            method: "POST",
            url: format!("{}/api/terminate_connection/", self.base_url),
            headers: vec![
                ("accept".into(), "application/json".into()),
                ("authorization".into(), REDACTED.into()),
                (
                    "content-type".into(),
                    "multipart/form-data; boundary=<random>".into(),
                ),
            ],
            multipart: vec![("client_org".into(), client_org(target).to_string())],
        }
    }

    async fn attempt(&self, target: &Target, _: Option<&str>) -> Classified {
        let body = TerminateConnectionBody::builder().client_org(client_org(target));
        answer(self.client.terminate_connection().body(body).send().await).await
    }

    /// "Sync in progress" (a 400): poll every interval while the sync has run for less than
    /// the limit; off unless [`DisconnectorBuilder::wait_for_sync`] is set.
    fn busy_retry(&self, busy_for: Duration) -> Option<Duration> {
        let (limit, interval) = self.sync_wait?;
        (busy_for + interval <= limit).then_some(interval)
    }
}

/// A raw response through the generated status dispatch, then [`answer`] (the fuzzer's path).
pub(crate) async fn classify_response(response: reqwest::Response) -> Classified {
    answer(tartan_client::responses::terminate_connection(response).await).await
}

/// Classify the generated client's result.
pub(crate) async fn answer(
    result: Result<ResponseValue<TerminateConnectionResponse>, Error<Documented>>,
) -> Classified {
    crate::classify::answer(result, MAX_RESPONSE_BYTES, success, typed).await
}

/// Tartan's 200.
fn success(done: ResponseValue<TerminateConnectionResponse>) -> Classified {
    Classified {
        http_status: Some(done.status().as_u16()),
        request_id: None,
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Tartan(TartanRecord {
                message: done.into_inner().message,
            }),
        )),
        rate: None,
    }
}

/// Tartan's documented error statuses, each with its own body, or a documented status whose body
/// did not decode (a 500 with an HTML page is still a 500, and retried).
fn typed(value: ResponseValue<Documented>) -> Classified {
    let status = value.status().as_u16();
    let headers = value.headers().clone();
    let (failure, request_id) = match value.into_inner() {
        Documented::Conflict(conflict) => {
            return already_disconnected(
                status,
                None,
                VendorRecord::Tartan(TartanRecord {
                    message: conflict.message,
                }),
            );
        }
        // Tartan documents one 400: a data sync in progress. Another 400 is an invalid request.
        Documented::BadRequest(bad) => {
            let message = bad.message.unwrap_or_default();
            if message.to_ascii_lowercase().contains("sync") {
                (AttemptFailure::Busy(message), None)
            } else {
                (AttemptFailure::Invalid(vec![message]), None)
            }
        }
        Documented::Unauthorized(e) => (
            AttemptFailure::Unauthorized(e.message.unwrap_or_default()),
            e.request_id,
        ),
        Documented::NotFound(e) => (AttemptFailure::NotFound(e.message.unwrap_or_default()), None),
        Documented::InternalServerError(e) => {
            (AttemptFailure::Server(e.message.unwrap_or_default()), e.request_id)
        }
        Documented::Undecodable(_) if status == 409 => {
            return already_disconnected(status, None, VendorRecord::Tartan(TartanRecord { message: None }));
        }
        Documented::Undecodable(body) => {
            return undecodable(status, &headers, &body, MAX_RESPONSE_BYTES);
        }
        // A status the spec does not document, classified by status.
        Documented::UnexpectedStatus(body) => return unexpected(status, &headers, &body),
        // A status documented after this adapter was written: what its status means.
        other => (by_status(status, &headers, format!("{other:?}")), None),
    };
    Classified::failed(Some(status), request_id, failure)
}
