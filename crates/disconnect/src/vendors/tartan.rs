//! Tartan HyperSync: `POST /api/terminate_connection/`, multipart `client_org`, raw key.

use tartan_client::types::{
    TerminateConnectionBody, TerminateConnectionError, TerminateConnectionResponse,
};
use tartan_client::{Client, MAX_RESPONSE_BYTES};

use crate::adapter::{Adapter, Answer, BoxFuture, Failure, classify};
use crate::outcome::{DisconnectStatus, VendorRecord};
use crate::plan::{PlannedRequest, REDACTED};
use crate::{Target, Vendor};

pub(crate) struct Tartan {
    pub(crate) client: Client,
    pub(crate) base_url: String,
}

impl Adapter for Tartan {
    fn vendor(&self) -> Vendor {
        Vendor::Tartan
    }

    fn plan(&self, target: &Target, _: Option<&str>) -> PlannedRequest {
        let Target::Tartan { client_org } = target else {
            unreachable!("routed by vendor")
        };
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
            multipart: vec![("client_org".into(), client_org.clone())],
        }
    }

    fn attempt<'a>(&'a self, target: &'a Target, _: Option<&'a str>) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let Target::Tartan { client_org } = target else {
                unreachable!("routed by vendor")
            };
            let body = TerminateConnectionBody {
                client_org: client_org.clone(),
            };
            match self.client.terminate_connection(&body).await {
                Ok(done) => success(done),
                Err(e) => classify(e, MAX_RESPONSE_BYTES, typed).await,
            }
        })
    }
}

/// Tartan's 200.
pub(crate) fn success(
    done: progenitor_client::ResponseValue<TerminateConnectionResponse>,
) -> Answer {
    Answer {
        http_status: Some(done.status().as_u16()),
        request_id: None,
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Tartan {
                message: done.into_inner().message,
            },
        )),
    }
}

/// Tartan's documented error statuses.
pub(crate) fn typed(value: progenitor_client::ResponseValue<TerminateConnectionError>) -> Answer {
    let status = value.status().as_u16();
    let body = value.into_inner();
    let message = body.message.clone().unwrap_or_default();
    let failure = match status {
        409 => {
            return Answer {
                http_status: Some(status),
                request_id: body.request_id,
                outcome: Ok((
                    DisconnectStatus::AlreadyDisconnected,
                    VendorRecord::Tartan {
                        message: body.message,
                    },
                )),
            };
        }
        // Tartan documents one 400: a data sync in progress. Another 400 is an invalid request.
        400 if message.to_ascii_lowercase().contains("sync") => Failure::Busy(message),
        400 => Failure::Invalid(vec![message]),
        401 => Failure::Unauthorized(message),
        404 => Failure::NotFound(message),
        _ => Failure::Server(message),
    };
    Answer::failed(Some(status), body.request_id, failure)
}
