//! Tartan HyperSync: `POST /api/terminate_connection/`, multipart `client_org`, raw key.

use tartan_client::types::{
    TerminateConnectionBody, TerminateConnectionError as Documented, TerminateConnectionResponse,
};
use tartan_client::{Client, Error, MAX_RESPONSE_BYTES, ResponseValue};

use crate::adapter::{
    Adapter, Answer, BoxFuture, Failure, already_disconnected, by_status, undecodable,
};
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
            let body = TerminateConnectionBody::builder().client_org(client_org.as_str());
            answer(self.client.terminate_connection().body(body).send().await).await
        })
    }
}

/// Classify the generated client's result.
pub(crate) async fn answer(
    result: Result<ResponseValue<TerminateConnectionResponse>, Error<Documented>>,
) -> Answer {
    crate::adapter::answer(result, MAX_RESPONSE_BYTES, success, typed).await
}

/// Tartan's 200.
fn success(done: ResponseValue<TerminateConnectionResponse>) -> Answer {
    Answer {
        http_status: Some(done.status().as_u16()),
        request_id: None,
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Tartan {
                message: done.into_inner().message,
            },
        )),
        rate: None,
    }
}

/// Tartan's documented error statuses, each with its own body, or a documented status whose body
/// did not decode (a 500 with an HTML page is still a 500, and retried).
fn typed(value: ResponseValue<Documented>) -> Answer {
    let status = value.status().as_u16();
    let headers = value.headers().clone();
    let (failure, request_id) = match value.into_inner() {
        Documented::Conflict(conflict) => {
            return already_disconnected(
                status,
                None,
                VendorRecord::Tartan {
                    message: conflict.message,
                },
            );
        }
        // Tartan documents one 400: a data sync in progress. Another 400 is an invalid request.
        Documented::BadRequest(bad) => {
            let message = bad.message.unwrap_or_default();
            if message.to_ascii_lowercase().contains("sync") {
                (Failure::Busy(message), None)
            } else {
                (Failure::Invalid(vec![message]), None)
            }
        }
        Documented::Unauthorized(e) => (
            Failure::Unauthorized(e.message.unwrap_or_default()),
            e.request_id,
        ),
        Documented::NotFound(e) => (Failure::NotFound(e.message.unwrap_or_default()), None),
        Documented::InternalServerError(e) => {
            (Failure::Server(e.message.unwrap_or_default()), e.request_id)
        }
        Documented::Undecodable(_) if status == 409 => {
            return already_disconnected(status, None, VendorRecord::Tartan { message: None });
        }
        Documented::Undecodable(body) => {
            return undecodable(status, &headers, &body, MAX_RESPONSE_BYTES);
        }
        // A status documented after this adapter was written: what its status means.
        other => (by_status(status, &headers, format!("{other:?}")), None),
    };
    Answer::failed(Some(status), request_id, failure)
}
