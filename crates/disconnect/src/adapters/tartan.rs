//! Tartan HyperSync: `POST /api/terminate_connection/`, multipart `client_org`, raw key.

use std::time::Duration;

use tartan_client::Client;
use tartan_client::types::TerminateConnectionResponse;

use crate::adapters::generic::{Connects, Generic};
use crate::adapters::{Adapter, Connect};
use crate::classify::Classified;
use crate::config::ConfigError;
use crate::plan::PlannedRequest;
use crate::target::{TargetError, VendorTarget, check_id};
use crate::{DisconnectorBuilder, Target, Vendor};

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
    fn parse(_: Vendor, id: &str) -> Result<Self, TargetError> {
        check_id("Tartan client_org", id)?;
        Ok(Self {
            client_org: id.into(),
        })
    }

    fn id(&self) -> String {
        self.client_org.to_string()
    }

    fn values(&self) -> Vec<String> {
        vec![self.client_org.to_string()]
    }
}

impl Target {
    /// A Tartan target (see [`TartanTarget`]).
    pub fn tartan(client_org: impl Into<String>) -> Result<Self, TargetError> {
        TartanTarget::parse(Vendor::Tartan, &client_org.into()).map(Target::Tartan)
    }
}

/// What Tartan answered to a terminate: its `message` (`"Connection terminated
/// successfully"`) ([`VendorRecord::Tartan`](crate::VendorRecord::Tartan)). A 409 (already terminated) holds no record.
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
/// `already_disconnected`, a 400 whose message mentions a sync is `busy`. What data cannot say
/// is here: how long to poll a busy connection.
pub(crate) struct Tartan {
    wire: Generic<Client, TerminateConnectionResponse>,
    /// `(up to, poll interval)` while a data sync runs; `None`: fail with `Busy`.
    sync_wait: Option<(Duration, Duration)>,
}

impl Connects for Tartan {
    type Wire = Generic<Client, TerminateConnectionResponse>;

    fn connect(c: &Connect<'_>, wire: Self::Wire) -> Result<Self, ConfigError> {
        let wait = SyncWait::of(c.options);
        Ok(Self {
            wire,
            sync_wait: wait.up_to.map(|limit| (limit, wait.poll)),
        })
    }
}

impl Adapter for Tartan {
    fn vendor(&self) -> Vendor {
        Vendor::Tartan
    }

    fn plan(&self, target: &Target, key: Option<&str>) -> PlannedRequest {
        self.wire.plan(target, key)
    }

    async fn attempt(&self, target: &Target, key: Option<&str>) -> Classified {
        self.wire.attempt(target, key).await
    }

    /// "Sync in progress" (a 400): poll every interval while the sync has run for less than
    /// the limit; off unless [`DisconnectorBuilder::wait_for_sync`] is set.
    fn busy_retry(&self, busy_for: Duration) -> Option<Duration> {
        let (limit, interval) = self.sync_wait?;
        (busy_for + interval <= limit).then_some(interval)
    }
}
