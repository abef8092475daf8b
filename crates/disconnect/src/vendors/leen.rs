//! Leen: `DELETE /provisioning/organizations/{org}/connections/{conn}`, `X-API-KEY`.

use leen_client::types::{ConnectionRespModel, HttpValidationError};
use leen_client::{Client, MAX_RESPONSE_BYTES};

use crate::adapter::{Adapter, Answer, BoxFuture, Failure, classify, header_request_id};
use crate::outcome::{DisconnectStatus, VendorRecord};
use crate::plan::{PlannedRequest, REDACTED};
use crate::{Target, Vendor};

pub(crate) struct Leen {
    pub(crate) client: Client,
    pub(crate) base_url: String,
}

impl Adapter for Leen {
    fn vendor(&self) -> Vendor {
        Vendor::Leen
    }

    fn plan(&self, target: &Target, _: Option<&str>) -> PlannedRequest {
        let Target::Leen {
            organization_id,
            connection_id,
        } = target
        else {
            unreachable!("routed by vendor")
        };
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

    fn attempt<'a>(&'a self, target: &'a Target, _: Option<&'a str>) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let Target::Leen {
                organization_id,
                connection_id,
            } = target
            else {
                unreachable!("routed by vendor")
            };
            match self
                .client
                .delete_connection_by_id(organization_id, connection_id)
                .await
            {
                Ok(done) => success(done),
                // 404 (also a second delete, see disconnect-fakes), 401, 429 and 5xx are not in
                // Leen's spec: they arrive untyped and are classified by status.
                Err(e) => classify(e, MAX_RESPONSE_BYTES, typed).await,
            }
        })
    }
}

/// Leen's 200.
pub(crate) fn success(done: progenitor_client::ResponseValue<ConnectionRespModel>) -> Answer {
    Answer {
        http_status: Some(done.status().as_u16()),
        request_id: header_request_id(done.headers()),
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Leen(Box::new(done.into_inner())),
        )),
    }
}

/// Leen's one documented error: 422 with FastAPI's `detail`.
pub(crate) fn typed(value: progenitor_client::ResponseValue<HttpValidationError>) -> Answer {
    let status = value.status().as_u16();
    let request_id = header_request_id(value.headers());
    let problems = value
        .detail
        .iter()
        .map(|d| {
            let loc: Vec<String> = d.loc.iter().map(ToString::to_string).collect();
            format!("{}: {}", loc.join("."), d.msg)
        })
        .collect();
    Answer::failed(Some(status), request_id, Failure::Invalid(problems))
}
