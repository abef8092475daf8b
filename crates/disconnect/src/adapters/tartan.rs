//! Tartan HyperSync: `POST /api/terminate_connection/`, multipart `client_org`, raw key.

use std::time::Duration;

use tartan_client::types::TerminateConnectionResponse;
use tartan_client::{Client, MAX_RESPONSE_BYTES};

use crate::adapters::generic::{Generic, classify};
use crate::adapters::{Adapter, Connect};
use crate::classify::Classified;
use crate::config::ConfigError;
use crate::plan::PlannedRequest;
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

/// What Tartan answered to a terminate: its `message` (`"Connection terminated
/// successfully"`) ([`VendorRecord::Tartan`]). A 409 (already terminated) holds no record.
pub type TartanRecord = Box<TerminateConnectionResponse>;

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

/// Tartan's answers are classified by the vendor table's rules (`specs/vendors.toml`): 409 is
/// `already_disconnected`, a 400 whose message mentions a sync is `busy`.
pub(crate) struct Tartan {
    wire: Generic<Client>,
    /// `(up to, poll interval)` while a data sync runs; `None`: fail with `Busy`.
    sync_wait: Option<(Duration, Duration)>,
}

impl Tartan {
    pub(crate) fn connect(c: Connect<'_>) -> Result<Self, ConfigError> {
        let wait = SyncWait::of(c.options);
        Ok(Self {
            wire: Generic::new(&c, client!(tartan_client, c)?, vec![]),
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

    fn plan(&self, target: &Target, key: Option<&str>) -> PlannedRequest {
        self.wire.plan(&[client_org(target)], key)
    }

    async fn attempt(&self, target: &Target, key: Option<&str>) -> Classified {
        let values = [client_org(target)];
        self.wire.attempt(&values, key, VendorRecord::Tartan).await
    }

    /// "Sync in progress" (a 400): poll every interval while the sync has run for less than
    /// the limit; off unless [`DisconnectorBuilder::wait_for_sync`] is set.
    fn busy_retry(&self, busy_for: Duration) -> Option<Duration> {
        let (limit, interval) = self.sync_wait?;
        (busy_for + interval <= limit).then_some(interval)
    }
}

/// A raw response through the table's rules (the fuzzer's path).
pub(crate) async fn classify_response(response: reqwest::Response) -> Classified {
    classify(Vendor::Tartan, response, MAX_RESPONSE_BYTES, VendorRecord::Tartan).await
}
