//! Fake Persona Connect: `POST /connect/connections/{connection-id}/deactivate`.
//!
//! Order of checks, as Persona documents it: authentication (401, no rate-limit or request
//! headers, never stored), rate limit (429, not stored), then idempotency replay, then the
//! request itself.
//!
//! | situation | status |
//! |---|---|
//! | no or wrong `Authorization: Bearer <key>` | 401 |
//! | more than the per-minute limit in the current window | 429 (+ `RateLimit-Reset`) |
//! | `Idempotency-Key` seen before for the same connection | the stored status and body (5xx too, also a faulted one) |
//! | `Idempotency-Key` seen before for another connection | 422 |
//! | `Key-Inflection` / `Persona-Version` not a documented value | 400 |
//! | unknown connection | 404 "Record not found" |
//! | connection `inactive` | 409 |
//! | `pending` / `active` → `inactive` | 200 with the Connection |
//!
//! Every answer but 401 carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`,
//! `Request-Id`, `Persona-Environment-Id` and `Persona-Organization-Id`. Response keys follow
//! `Key-Inflection` (kebab-case by default).

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::reply::{Incoming, Reply};
use crate::server::lock;
use crate::vendor::{DemoOutcome, DemoScene, FakeVendor, per};
use crate::{FakeConfig, FakeServer, RateLimit, Vendor};

/// A Persona connection in a seed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaSeed {
    /// Connection id (`cxn_…`).
    pub id: String,
    /// `pending`, `active` (default) or `inactive`.
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "active".into()
}

/// Persona's documented default: 300 requests a minute per API key.
const DEFAULT_LIMIT: Option<RateLimit> = per(300, Duration::from_secs(60));

/// The documented `Persona-Version` values.
pub const VERSIONS: &[&str] = &[
    "2025-12-08",
    "2025-10-27",
    "2023-01-05",
    "2022-09-01",
    "2021-08-18",
    "2021-07-05",
    "2021-02-21",
    "2020-05-18",
];

/// `Persona-Environment-Id` of the fake.
pub const ENVIRONMENT_ID: &str = "env_fake0000000000000000001";
/// `Persona-Organization-Id` of the fake.
pub const ORGANIZATION_ID: &str = "org_fake0000000000000000001";

/// One Persona connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonaConnection {
    /// `pending`, `active` or `inactive`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Stored {
    connection_id: String,
    reply: Reply,
}

/// All Persona connections, the idempotency store and the rate-limit window.
#[derive(Debug)]
pub struct PersonaState {
    pub(crate) connections: HashMap<String, PersonaConnection>,
    idempotency: HashMap<String, Stored>,
    limit: u32,
    window: Duration,
    window_start: Option<Instant>,
    used: u32,
}

impl PersonaState {
    /// Empty state with `limit` requests per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            connections: HashMap::new(),
            idempotency: HashMap::new(),
            limit,
            window,
            window_start: None,
            used: 0,
        }
    }

    /// Add (or reset) a connection.
    pub fn seed(&mut self, id: &str, status: &str) {
        let now = Utc::now();
        self.connections.insert(
            id.to_string(),
            PersonaConnection {
                status: status.to_string(),
                created_at: now,
                updated_at: now,
            },
        );
    }

    /// The connection with this id.
    pub fn get(&self, id: &str) -> Option<&PersonaConnection> {
        self.connections.get(id)
    }

    fn rate_headers(&self, reply: Reply, now: Instant, seq: u64) -> Reply {
        let reset = self
            .window_start
            .map(|start| (start + self.window).saturating_duration_since(now))
            .unwrap_or(self.window);
        let reset_secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
        reply
            .with_header("ratelimit-limit", self.limit.to_string())
            .with_header(
                "ratelimit-remaining",
                self.limit.saturating_sub(self.used).to_string(),
            )
            .with_header("ratelimit-reset", reset_secs.to_string())
            .with_header("request-id", format!("req_fake{seq:08}"))
            .with_header("persona-environment-id", ENVIRONMENT_ID)
            .with_header("persona-organization-id", ORGANIZATION_ID)
    }

    fn answer(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply {
        let Some(id) = connection_id(req) else {
            return self.rate_headers(error(404, "Not found", None), now, req.seq);
        };
        if req.header("authorization") != Some(&format!("Bearer {api_key}")) {
            return error(401, "Must be authenticated to access this endpoint", None);
        }

        // Rate limit: a fixed window per API key, counting authenticated requests.
        if self
            .window_start
            .is_none_or(|start| now >= start + self.window)
        {
            self.window_start = Some(now);
            self.used = 0;
        }
        if self.used >= self.limit {
            return self.rate_headers(error(429, "Rate limit exceeded", None), now, req.seq);
        }
        self.used += 1;

        if req.method != axum::http::Method::POST {
            return self.rate_headers(error(405, "Method not allowed", None), now, req.seq);
        }
        let reply = self.deactivate(&id, req);
        self.rate_headers(reply, now, req.seq)
    }

    /// A `status` fault's 5xx for an authenticated request reached Persona: like its own
    /// answers, it is stored under the request's `Idempotency-Key` (when the key is new) and
    /// replayed to every later request with that key, as Persona does for at least 24 h.
    fn store(&mut self, api_key: &str, req: &Incoming<'_>, reply: Reply) {
        let Some(id) = connection_id(req) else { return };
        let authenticated = req.header("authorization") == Some(&format!("Bearer {api_key}"));
        if let (true, Some(key)) = (authenticated, req.header("idempotency-key")) {
            self.idempotency.entry(key.to_string()).or_insert(Stored {
                connection_id: id,
                reply,
            });
        }
    }

    fn deactivate(&mut self, id: &str, req: &Incoming<'_>) -> Reply {
        let key = req.header("idempotency-key").map(str::to_string);
        if let Some(key) = &key
            && let Some(stored) = self.idempotency.get(key)
        {
            if stored.connection_id != id {
                return error(
                    422,
                    "Idempotency key reused with different parameters",
                    Some("An Idempotency-Key may only be reused for the same request."),
                );
            }
            return stored.reply.clone();
        }
        let reply = self.deactivate_once(id, req);
        if let Some(key) = key {
            let stored = Stored {
                connection_id: id.to_string(),
                reply: reply.clone(),
            };
            self.idempotency.insert(key, stored);
        }
        reply
    }

    fn deactivate_once(&mut self, id: &str, req: &Incoming<'_>) -> Reply {
        let inflection = match req.header("key-inflection") {
            None => Inflection::Kebab,
            Some("kebab") => Inflection::Kebab,
            Some("snake") => Inflection::Snake,
            Some("camel") => Inflection::Camel,
            Some(_) => {
                return error(
                    400,
                    "Bad request",
                    Some("Key-Inflection must be one of camel, kebab, snake"),
                );
            }
        };
        if let Some(version) = req.header("persona-version")
            && !VERSIONS.contains(&version)
        {
            return error(400, "Bad request", Some("Unknown Persona-Version"));
        }
        let Some(connection) = self.connections.get_mut(id) else {
            return error(404, "Record not found", None);
        };
        if connection.status == "inactive" {
            return error(
                409,
                "Connection is already inactive",
                Some("Only pending or active connections can be deactivated."),
            );
        }
        connection.status = "inactive".to_string();
        connection.updated_at = Utc::now();
        Reply::json(200, inflection.apply(connection_body(id, connection)))
    }
}

/// The Connection envelope of a 200, keys in kebab-case.
fn connection_body(id: &str, connection: &PersonaConnection) -> Value {
    json!({"data": {
        "type": "connect/connection",
        "id": id,
        "attributes": {
            "status": connection.status,
            "destination-organization-id": "org_fakedestination00000001",
            "source-organization-id": ORGANIZATION_ID,
            "created-at": connection.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "updated-at": connection.updated_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        },
        "relationships": {"creator": {"data": {"type": "user", "id": "user_fake0000000000000001"}}}
    }})
}

impl FakeVendor for PersonaState {
    type Seed = PersonaSeed;

    const DEFAULT_RATE_LIMIT: Option<RateLimit> = DEFAULT_LIMIT;
    const RATE_LIMIT_HEADERS: bool = true;

    /// With the limit of [`FakeConfig::rate_limits`], or Persona's default.
    fn new(_: Vendor, config: &FakeConfig) -> Self {
        let limit = config
            .rate_limits
            .get(&Vendor::Persona)
            .copied()
            .or(DEFAULT_LIMIT)
            .expect("Persona has a default limit");
        Self::new(limit.requests, limit.window)
    }

    fn handle(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply {
        self.answer(api_key, req, now)
    }

    fn seed(&mut self, seed: &PersonaSeed) {
        PersonaState::seed(self, &seed.id, &seed.status);
    }

    fn seed_live(&mut self, id: &str) -> Result<(), String> {
        PersonaState::seed(self, id, "active");
        Ok(())
    }

    fn is_cut(&self, id: &str) -> Option<bool> {
        self.get(id).map(|c| c.status == "inactive")
    }

    fn sample_id(_: Vendor, n: u64) -> String {
        format!("cxn_sample{n:05}")
    }

    fn success_example(_: Vendor) -> Reply {
        let now = Utc::now();
        let connection = PersonaConnection {
            status: "inactive".into(),
            created_at: now,
            updated_at: now,
        };
        Reply::json(200, connection_body(&Self::sample_id(Vendor::Persona, 0), &connection))
            .with_header("request-id", "req_fake00000001")
    }

    fn store_faulted(&mut self, api_key: &str, req: &Incoming<'_>, reply: Reply) {
        self.store(api_key, req, reply);
    }

    /// Two requests per 3-second window, so that the tour meets the limit.
    fn demo_config(config: &mut FakeConfig) {
        config.rate_limits.insert(
            Vendor::Persona,
            RateLimit {
                requests: 2,
                window: Duration::from_secs(3),
            },
        );
    }

    fn demo(_: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
        for n in 1..=4 {
            let _ = fakes.seed_live(Vendor::Persona, &format!("cxn_DEMO{n}"));
        }
        vec![
            DemoScene::new(
                "persona:cxn_DEMO1",
                DemoOutcome::Disconnected,
                "Persona, idempotency key pinned",
            ),
            DemoScene::new("persona:cxn_DEMO2", DemoOutcome::Disconnected, "Persona"),
            DemoScene::new(
                "persona:cxn_DEMO3",
                DemoOutcome::Disconnected,
                "Persona's window is spent (RateLimit-Remaining: 0): the lane waits for RateLimit-Reset, no 429",
            ),
            DemoScene::new(
                "persona:cxn_DEMO4",
                DemoOutcome::Disconnected,
                "Persona, after the pause",
            ),
            DemoScene::new(
                "persona:cxn_NOSUCH",
                DemoOutcome::Failed("not_found"),
                "a connection Persona does not know (404)",
            ),
        ]
    }
}

impl FakeServer {
    /// A Persona connection's status (`None`: unknown id).
    pub fn persona_status(&self, id: &str) -> Option<String> {
        lock(&self.shared.vendors.persona)
            .get(id)
            .map(|c| c.status.clone())
    }
}

/// The connection id of a deactivate path, decoded as the client meant it (`%2F` is a `/`
/// inside the id).
fn connection_id(req: &Incoming<'_>) -> Option<String> {
    let id = req
        .path
        .strip_prefix("/connect/connections/")
        .and_then(|rest| rest.strip_suffix("/deactivate"))
        .filter(|id| !id.is_empty() && !id.contains('/'))?;
    Some(
        percent_encoding::percent_decode_str(id)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

fn error(status: u16, title: &str, details: Option<&str>) -> Reply {
    let mut error = json!({"title": title});
    if let Some(details) = details {
        error["details"] = json!(details);
    }
    Reply::json(status, json!({"errors": [error]}))
}

/// Response key casing (`Key-Inflection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inflection {
    Kebab,
    Snake,
    Camel,
}

impl Inflection {
    fn apply(self, value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (self.key(&k), self.apply(v)))
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.apply(v)).collect()),
            other => other,
        }
    }

    fn key(self, kebab: &str) -> String {
        match self {
            Inflection::Kebab => kebab.to_string(),
            Inflection::Snake => kebab.replace('-', "_"),
            Inflection::Camel => {
                let mut parts = kebab.split('-');
                let mut out = parts.next().unwrap_or_default().to_string();
                for part in parts {
                    let mut chars = part.chars();
                    if let Some(first) = chars.next() {
                        out.extend(first.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections() {
        let body = json!({"a-b-c": {"x-y": [{"k-k": 1}]}, "plain": 2});
        assert_eq!(
            Inflection::Snake.apply(body.clone()),
            json!({"a_b_c": {"x_y": [{"k_k": 1}]}, "plain": 2})
        );
        assert_eq!(
            Inflection::Camel.apply(body.clone()),
            json!({"aBC": {"xY": [{"kK": 1}]}, "plain": 2})
        );
        assert_eq!(Inflection::Kebab.apply(body.clone()), body);
    }
}
