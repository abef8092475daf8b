//! Persona Connect: `POST /connect/connections/{id}/deactivate`, Bearer key, idempotency key,
//! pinned `Key-Inflection: kebab` and `Persona-Version`.

use std::time::SystemTime;

use persona_client::types::{ConnectionEnvelope, ErrorResponse, KeyInflection, PersonaVersion};
use persona_client::{Client, MAX_RESPONSE_BYTES};

use crate::adapter::{
    Adapter, Answer, BoxFuture, Failure, classify, header_request_id, retry_after,
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
            let result = self
                .client
                .deactivate_a_connect_connection(
                    connection_id,
                    idempotency_key,
                    Some(KeyInflection::Kebab),
                    Some(self.version),
                )
                .await;
            match result {
                Ok(done) => success(done),
                Err(e) => classify(e, MAX_RESPONSE_BYTES, typed).await,
            }
        })
    }
}

/// Persona's 200.
pub(crate) fn success(done: progenitor_client::ResponseValue<ConnectionEnvelope>) -> Answer {
    Answer {
        http_status: Some(done.status().as_u16()),
        request_id: header_request_id(done.headers()),
        outcome: Ok((
            DisconnectStatus::Disconnected,
            VendorRecord::Persona(Box::new(done.into_inner().data)),
        )),
    }
}

/// Persona's documented error statuses (one JSON:API error document for all).
pub(crate) fn typed(value: progenitor_client::ResponseValue<ErrorResponse>) -> Answer {
    let status = value.status().as_u16();
    let request_id = header_request_id(value.headers());
    let wait = retry_after(value.headers(), SystemTime::now());
    let problems: Vec<String> = value
        .errors
        .iter()
        .map(|e| match &e.details {
            Some(details) => format!("{}: {details}", e.title),
            None => e.title.clone(),
        })
        .collect();
    let message = problems.join("; ");
    let failure = match status {
        409 => {
            return Answer {
                http_status: Some(status),
                request_id,
                outcome: Ok((DisconnectStatus::AlreadyDisconnected, VendorRecord::None)),
            };
        }
        400 | 422 => Failure::Invalid(problems),
        401 => Failure::Unauthorized(message),
        403 => Failure::Forbidden(message),
        404 => Failure::NotFound(message),
        429 => Failure::RateLimited(wait),
        _ => Failure::Unexpected(format!("HTTP {status}: {message}")),
    };
    Answer::failed(Some(status), request_id, failure)
}
