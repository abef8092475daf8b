//! Leen: `DELETE /provisioning/organizations/{org}/connections/{conn}`, `X-API-KEY`.

use leen_client::types::ConnectionRespModel;
use leen_client::{Client, MAX_RESPONSE_BYTES};

use crate::adapters::generic::{Generic, classify};
use crate::adapters::{Adapter, Connect};
use crate::classify::Classified;
use crate::config::ConfigError;
use crate::plan::PlannedRequest;
use crate::target::{TargetError, VendorTarget, parse_uuid, shown};
use crate::{Target, Vendor, VendorRecord};

/// A Leen connection, `leen:<organization_uuid>/<connection_uuid>`: [`Target::Leen`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeenTarget {
    organization_id: uuid::Uuid,
    connection_id: uuid::Uuid,
}

impl LeenTarget {
    /// Leen's organisation UUID.
    pub fn organization_id(&self) -> uuid::Uuid {
        self.organization_id
    }

    /// The connection UUID.
    pub fn connection_id(&self) -> uuid::Uuid {
        self.connection_id
    }
}

impl VendorTarget for LeenTarget {
    const SYNTAX: &'static str = "<organization_uuid>/<connection_uuid>";

    fn parse(id: &str) -> Result<Self, TargetError> {
        let shape = || TargetError::Shape {
            vendor: Vendor::Leen,
            syntax: Self::SYNTAX,
            input: shown(id),
        };
        let (org, conn) = id.split_once('/').ok_or_else(shape)?;
        if conn.contains('/') {
            return Err(shape());
        }
        Ok(Self {
            organization_id: parse_uuid("Leen organization id", org)?,
            connection_id: parse_uuid("Leen connection id", conn)?,
        })
    }

    fn id(&self) -> String {
        format!("{}/{}", self.organization_id, self.connection_id)
    }
}

impl Target {
    /// A Leen target (see [`LeenTarget`]).
    pub fn leen(organization_id: uuid::Uuid, connection_id: uuid::Uuid) -> Self {
        Target::Leen(LeenTarget {
            organization_id,
            connection_id,
        })
    }
}

/// What Leen answered: the connection after deletion ([`VendorRecord::Leen`]).
pub type LeenRecord = Box<ConnectionRespModel>;

/// Leen's answers are classified by the vendor table's rules (`specs/vendors.toml`): a 404
/// (also a second delete, see disconnect-fakes) is `gone`.
pub(crate) struct Leen(Generic<Client>);

impl Leen {
    pub(crate) fn connect(c: Connect<'_>) -> Result<Self, ConfigError> {
        Ok(Self(Generic::new(&c, client!(leen_client, c)?, vec![])))
    }
}

/// The target's values in the table's order (the registry routes only Leen targets here).
fn values(target: &Target) -> [String; 2] {
    #[allow(unreachable_patterns)] // with only this vendor compiled in
    match target {
        Target::Leen(t) => [t.organization_id.to_string(), t.connection_id.to_string()],
        other => unreachable!("{other} routed to Leen"),
    }
}

impl Adapter for Leen {
    fn vendor(&self) -> Vendor {
        Vendor::Leen
    }

    fn plan(&self, target: &Target, key: Option<&str>) -> PlannedRequest {
        let [org, conn] = values(target);
        self.0.plan(&[&org, &conn], key)
    }

    async fn attempt(&self, target: &Target, key: Option<&str>) -> Classified {
        let [org, conn] = values(target);
        self.0.attempt(&[&org, &conn], key, VendorRecord::Leen).await
    }
}

/// A raw response through the table's rules (the fuzzer's path).
pub(crate) async fn classify_response(response: reqwest::Response) -> Classified {
    classify(Vendor::Leen, response, MAX_RESPONSE_BYTES, VendorRecord::Leen).await
}
