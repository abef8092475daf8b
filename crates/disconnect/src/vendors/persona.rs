//! Persona Connect: `POST /connect/connections/{id}/deactivate`, Bearer key, idempotency key,
//! pinned `Key-Inflection: kebab` and `Persona-Version`.

use std::time::SystemTime;

use persona_client::types::{
    ConnectionEnvelope, DeactivateAConnectConnectionError as Documented, ErrorResponse,
    KeyInflection, PersonaVersion,
};
use persona_client::{Client, Error, MAX_RESPONSE_BYTES, ResponseValue};

use crate::adapter::{
    Adapter, Answer, BoxFuture, Failure, already_disconnected, by_status, header_request_id,
    retry_after, undecodable,
};
use crate::outcome::{DisconnectStatus, VendorRecord};
use crate::plan::{PlannedRequest, REDACTED};
use crate::{Target, Vendor};

pub(crate) struct Persona {
    pub(crate) client: Client,
    pub(crate) base_url: String,
    pub(crate) version: PersonaVersion,
}

impl Adapter for Persona {
    fn vendor(&self) -> Vendor {
        Vendor::Persona
    }

    fn plan(&self, target: &Target, idempotency_key: Option<&str>) -> PlannedRequest {
        let Target::Persona { connection_id } = target else {
            unreachable!("routed by vendor")
        };
        let mut headers = vec![
            ("accept".to_string(), "application/json".to_string()),
            ("authorization".to_string(), format!("Bearer {REDACTED}")),
        ];
        if let Some(key) = idempotency_key {
            headers.push(("idempotency-key".into(), key.into()));
        }
        headers.push(("key-inflection".into(), KeyInflection::Kebab.to_string()));
        headers.push(("persona-version".into(), self.version.to_string()));
        PlannedRequest {
            vendor: Vendor::Persona,
            method: "POST",
            url: format!(
                "{}/connect/connections/{}/deactivate",
                self.base_url,
                progenitor_client::encode_path(connection_id)
            ),
            headers,
            multipart: vec![],
        }
    }

    fn attempt<'a>(
        &'a self,
        target: &'a Target,
        idempotency_key: Option<&'a str>,
    ) -> BoxFuture<'a, Answer> {
        Box::pin(async move {
            let Target::Persona { connection_id } = target else {
                unreachable!("routed by vendor")
            };
            let mut request = self
                .client
                .deactivate_a_connect_connection()
                .connection_id(connection_id.as_str())
                .key_inflection(KeyInflection::Kebab)
                .persona_version(self.version);
            if let Some(key) = idempotency_key {
                request = request.idempotency_key(key);
            }
            let result = request.send().await;
            answer(result).await
        })
    }
}

/// Classify the generated client's result.
pub(crate) async fn answer(
    result: Result<ResponseValue<ConnectionEnvelope>, Error<Documented>>,
) -> Answer {
    crate::adapter::answer(result, MAX_RESPONSE_BYTES, success, typed).await
}

/// Persona's 200.
fn success(done: ResponseValue<ConnectionEnvelope>) -> Answer {
    Answer {
        http_status: Some(done.status().as_u16()),
        request_id: header_request_id(done.headers()),
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Persona(Box::new(done.into_inner().data)),
        )),
        rate: None,
    }
}

/// Persona's documented error statuses (one JSON:API error document for all), or a documented
/// status whose body did not decode (a proxy's page on a 429 still honours `RateLimit-Reset`).
fn typed(value: ResponseValue<Documented>) -> Answer {
    let status = value.status().as_u16();
    let request_id = header_request_id(value.headers());
    let headers = value.headers().clone();
    let failure = match value.into_inner() {
        Documented::Conflict(_) => {
            return already_disconnected(status, request_id, VendorRecord::None);
        }
        Documented::BadRequest(e) | Documented::UnprocessableEntity(e) => {
            Failure::Invalid(problems(&e))
        }
        Documented::Unauthorized(e) => Failure::Unauthorized(problems(&e).join("; ")),
        Documented::Forbidden(e) => Failure::Forbidden(problems(&e).join("; ")),
        Documented::NotFound(e) => Failure::NotFound(problems(&e).join("; ")),
        Documented::TooManyRequests(_) => {
            Failure::RateLimited(retry_after(&headers, SystemTime::now()))
        }
        Documented::Undecodable(_) if status == 409 => {
            return already_disconnected(status, request_id, VendorRecord::None);
        }
        Documented::Undecodable(body) => {
            return undecodable(status, &headers, &body, MAX_RESPONSE_BYTES);
        }
        // A status documented after this adapter was written: what its status means.
        other => by_status(status, &headers, format!("{other:?}")),
    };
    Answer::failed(Some(status), request_id, failure)
}

/// Titles with their details.
fn problems(body: &ErrorResponse) -> Vec<String> {
    body.errors
        .iter()
        .map(|e| match &e.details {
            Some(details) => format!("{}: {details}", e.title),
            None => e.title.clone(),
        })
        .collect()
}
