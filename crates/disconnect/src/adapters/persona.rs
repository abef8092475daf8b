//! Persona Connect: `POST /connect/connections/{id}/deactivate`, Bearer key, idempotency key,
//! pinned `Key-Inflection: kebab` and `Persona-Version`.

use std::time::SystemTime;

use persona_client::types::{
    ConnectionEnvelope, DeactivateAConnectConnectionError as Documented, ErrorResponse,
    KeyInflection, PersonaVersion,
};
use persona_client::{Client, Error, MAX_RESPONSE_BYTES, ResponseValue};
use sha2::{Digest, Sha256};

use crate::adapters::{Adapter, Connect};
use crate::classify::{
    AttemptFailure, Classified, already_disconnected, by_status, header_request_id, retry_after,
    undecodable, unexpected,
};
use crate::config::ConfigError;
use crate::outcome::DisconnectStatus;
use crate::plan::{PlannedRequest, REDACTED};
use crate::target::{TargetError, VendorTarget, check_path_id};
use crate::{DisconnectorBuilder, Target, Vendor, VendorRecord};

/// A Persona Connect connection, `persona:<connection-id>`: [`Target::Persona`].
///
/// The id travels in the URL path: besides the common checks it may not contain `/`, `?`, `#`,
/// `%`, `\` or `..` (no Persona id does).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonaTarget {
    // Shared: a target is cloned into every receipt and error, and an id never changes.
    connection_id: std::sync::Arc<str>,
}

impl PersonaTarget {
    /// The connection id (`cxn_…`).
    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }
}

impl VendorTarget for PersonaTarget {
    const SYNTAX: &'static str = "<connection-id>";

    fn parse(id: &str) -> Result<Self, TargetError> {
        check_path_id("Persona connection id", Vendor::Persona, id)?;
        Ok(Self {
            connection_id: id.into(),
        })
    }

    fn id(&self) -> String {
        self.connection_id.to_string()
    }
}

impl Target {
    /// A Persona target (see [`PersonaTarget`]).
    pub fn persona(connection_id: impl Into<String>) -> Result<Self, TargetError> {
        PersonaTarget::parse(&connection_id.into()).map(Target::Persona)
    }
}

/// What Persona answered: the Connection after deactivation ([`VendorRecord::Persona`]).
pub type PersonaRecord = Box<persona_client::types::Connection>;

impl DisconnectorBuilder {
    /// The `Persona-Version` header pinned on every Persona call. Default `2025-12-08` (was
    /// `Settings::persona_version`).
    pub fn persona_version(mut self, version: PersonaVersion) -> Self {
        self.options.insert(version);
        self
    }
}

pub(crate) struct Persona {
    client: Client,
    base_url: String,
    version: PersonaVersion,
    /// [`crate::Settings::operation_id`], mixed into every idempotency key.
    operation_id: String,
}

impl Persona {
    pub(crate) fn connect(c: Connect<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            client: client!(persona_client, c)?,
            base_url: c.base_url(),
            version: c
                .options
                .get::<PersonaVersion>()
                .copied()
                .unwrap_or(PersonaVersion::X20251208),
            operation_id: c.settings.operation_id.clone().unwrap_or_default(),
        })
    }
}

/// The target's connection id (the registry routes only Persona targets here).
fn connection_id(target: &Target) -> &str {
    #[allow(unreachable_patterns)] // with only this vendor compiled in
    match target {
        Target::Persona(t) => &t.connection_id,
        other => unreachable!("{other} routed to Persona"),
    }
}

/// The first `Idempotency-Key` for a connection: derived from the connection id and the
/// operation id only, so that retries and a restarted job send the same key.
pub(crate) fn first_key(connection_id: &str, operation_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"disconnect/persona/deactivate\n");
    hash.update(connection_id.as_bytes());
    hash.update(b"\n");
    hash.update(operation_id.as_bytes());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(43);
    key.push_str("disconnect-");
    // Lower-case hex of the first 16 bytes, by table: `write!` per byte cost more than the hash.
    for b in &hash.finalize()[..16] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    key
}

impl Adapter for Persona {
    fn vendor(&self) -> Vendor {
        Vendor::Persona
    }

    fn plan(&self, target: &Target, idempotency_key: Option<&str>) -> PlannedRequest {
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
                progenitor_client::encode_path(connection_id(target))
            ),
            headers,
            multipart: vec![],
        }
    }

    async fn attempt(&self, target: &Target, idempotency_key: Option<&str>) -> Classified {
        let mut request = self
            .client
            .deactivate_a_connect_connection()
            .connection_id(connection_id(target))
            .key_inflection(KeyInflection::Kebab)
            .persona_version(self.version);
        if let Some(key) = idempotency_key {
            request = request.idempotency_key(key);
        }
        answer(request.send().await).await
    }

    fn idempotency_key(&self, target: &Target) -> Option<String> {
        Some(first_key(connection_id(target), &self.operation_id))
    }

    /// Persona stores any 5xx under its key and replays it for 24 h; 401 and 429 are answered
    /// before its idempotency layer and are not stored.
    fn replays_under_key(&self, status: u16) -> bool {
        (500..=599).contains(&status)
    }
}

/// A raw response through the generated status dispatch, then [`answer`] (the fuzzer's path).
pub(crate) async fn classify_response(response: reqwest::Response) -> Classified {
    answer(persona_client::responses::deactivate_a_connect_connection(response).await).await
}

/// Classify the generated client's result.
pub(crate) async fn answer(
    result: Result<ResponseValue<ConnectionEnvelope>, Error<Documented>>,
) -> Classified {
    crate::classify::answer(result, MAX_RESPONSE_BYTES, success, typed).await
}

/// Persona's 200.
fn success(done: ResponseValue<ConnectionEnvelope>) -> Classified {
    Classified {
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
fn typed(value: ResponseValue<Documented>) -> Classified {
    let status = value.status().as_u16();
    let request_id = header_request_id(value.headers());
    let headers = value.headers().clone();
    let failure = match value.into_inner() {
        Documented::Conflict(_) => {
            return already_disconnected(status, request_id, VendorRecord::None);
        }
        Documented::BadRequest(e) | Documented::UnprocessableEntity(e) => {
            AttemptFailure::Invalid(problems(&e))
        }
        Documented::Unauthorized(e) => AttemptFailure::Unauthorized(problems(&e).join("; ")),
        Documented::Forbidden(e) => AttemptFailure::Forbidden(problems(&e).join("; ")),
        Documented::NotFound(e) => AttemptFailure::NotFound(problems(&e).join("; ")),
        Documented::TooManyRequests(_) => {
            AttemptFailure::RateLimited(retry_after(&headers, SystemTime::now()))
        }
        Documented::Undecodable(_) if status == 409 => {
            return already_disconnected(status, request_id, VendorRecord::None);
        }
        Documented::Undecodable(body) => {
            return undecodable(status, &headers, &body, MAX_RESPONSE_BYTES);
        }
        // A status the spec does not document, classified by status.
        Documented::UnexpectedStatus(body) => return unexpected(status, &headers, &body),
        // A status documented after this adapter was written: what its status means.
        other => by_status(status, &headers, format!("{other:?}")),
    };
    Classified::failed(Some(status), request_id, failure)
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
