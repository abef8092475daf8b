//! Leen: `DELETE /provisioning/organizations/{org}/connections/{conn}`, `X-API-KEY`.

use leen_client::types::{ConnectionRespModel, DeleteConnectionByIdError};
use leen_client::{Client, Error, MAX_RESPONSE_BYTES, ResponseValue};

use crate::adapters::{Adapter, Connect};
use crate::classify::{
    AttemptFailure, Classified, by_status, header_request_id, undecodable, unexpected,
};
use crate::config::ConfigError;
use crate::outcome::DisconnectStatus;
use crate::plan::{PlannedRequest, REDACTED};
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

pub(crate) struct Leen {
    client: Client,
    base_url: String,
}

impl Leen {
    pub(crate) fn connect(c: Connect<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            client: client!(leen_client, c)?,
            base_url: c.base_url(),
        })
    }
}

/// The target's ids (the registry routes only Leen targets here).
fn ids(target: &Target) -> (&uuid::Uuid, &uuid::Uuid) {
    #[allow(unreachable_patterns)] // with only this vendor compiled in
    match target {
        Target::Leen(t) => (&t.organization_id, &t.connection_id),
        other => unreachable!("{other} routed to Leen"),
    }
}

impl Adapter for Leen {
    fn vendor(&self) -> Vendor {
        Vendor::Leen
    }

    fn plan(&self, target: &Target, _: Option<&str>) -> PlannedRequest {
        let (organization_id, connection_id) = ids(target);
        PlannedRequest {
            vendor: Vendor::Leen,
            method: "DELETE",
            url: format!(
                "{}/provisioning/organizations/{organization_id}/connections/{connection_id}",
                self.base_url
            ),
            headers: vec![
                ("accept".into(), "application/json".into()),
                ("x-api-key".into(), REDACTED.into()),
            ],
            multipart: vec![],
        }
    }

    /// A delete whose answer was lost, then a 404: the lost delete removed the connection (Leen
    /// answers a second delete with 404).
    fn gone_after_lost_answer(&self, failure: &AttemptFailure) -> bool {
        matches!(failure, AttemptFailure::NotFound(_))
    }

    async fn attempt(&self, target: &Target, _: Option<&str>) -> Classified {
        let (organization_id, connection_id) = ids(target);
        let result = self
            .client
            .delete_connection_by_id()
            .organization_id(*organization_id)
            .connection_id(*connection_id)
            .send()
            .await;
        answer(result).await
    }
}

/// A raw response through the generated status dispatch, then [`answer`] (the fuzzer's path).
pub(crate) async fn classify_response(response: reqwest::Response) -> Classified {
    answer(leen_client::responses::delete_connection_by_id(response).await).await
}

/// Classify the generated client's result. 404 (also a second delete, see disconnect-fakes),
/// 401, 429 and 5xx are not in Leen's spec: they arrive untyped and are classified by status.
pub(crate) async fn answer(
    result: Result<ResponseValue<ConnectionRespModel>, Error<DeleteConnectionByIdError>>,
) -> Classified {
    crate::classify::answer(result, MAX_RESPONSE_BYTES, success, typed).await
}

/// Leen's 200.
fn success(done: ResponseValue<ConnectionRespModel>) -> Classified {
    Classified {
        http_status: Some(done.status().as_u16()),
        request_id: header_request_id(done.headers()),
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Leen(Box::new(done.into_inner())),
        )),
        rate: None,
    }
}

/// Leen's documented error statuses (422 with FastAPI's `detail`), or a documented status whose
/// body did not decode.
fn typed(value: ResponseValue<DeleteConnectionByIdError>) -> Classified {
    let status = value.status().as_u16();
    let request_id = header_request_id(value.headers());
    let headers = value.headers().clone();
    let failure = match value.into_inner() {
        DeleteConnectionByIdError::UnprocessableEntity(invalid) => AttemptFailure::Invalid(
            invalid
                .detail
                .iter()
                .map(|d| {
                    let loc: Vec<String> = d.loc.iter().map(ToString::to_string).collect();
                    format!("{}: {}", loc.join("."), d.msg)
                })
                .collect(),
        ),
        DeleteConnectionByIdError::Undecodable(body) => {
            return undecodable(status, &headers, &body, MAX_RESPONSE_BYTES);
        }
        // 404 (also a second delete), 401, 429, 5xx: not in Leen's spec, classified by status.
        DeleteConnectionByIdError::UnexpectedStatus(body) => {
            return unexpected(status, &headers, &body);
        }
        // A status documented after this adapter was written: what its status means.
        other => by_status(status, &headers, format!("{other:?}")),
    };
    Classified::failed(Some(status), request_id, failure)
}
