//! Leen: `DELETE /provisioning/organizations/{org}/connections/{conn}`, `X-API-KEY`.

//!
//! Everything but the target type is data: the vendor table's request and answer rules
//! (`specs/vendors.toml`: a 404, also a second delete, is `gone`), served by the generic adapter.

use leen_client::types::ConnectionRespModel;

use crate::target::{TargetError, VendorTarget, parse_uuid, shown};
use crate::{Target, Vendor};

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
    fn parse(_: Vendor, id: &str) -> Result<Self, TargetError> {
        let shape = || TargetError::Shape {
            vendor: Vendor::Leen,
            syntax: Vendor::Leen.facts().operation.syntax,
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

    fn values(&self) -> Vec<String> {
        vec![
            self.organization_id.to_string(),
            self.connection_id.to_string(),
        ]
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

/// What Leen answered: the connection after deletion ([`VendorRecord::Leen`](crate::VendorRecord::Leen)).
pub type LeenRecord = Box<ConnectionRespModel>;
