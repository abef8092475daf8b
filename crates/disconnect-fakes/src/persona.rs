//! Fake Persona Connect, `POST /connect/connections/{connection-id}/deactivate`: the
//! [generic fake](crate::generic) (401 without the Bearer key, 404 "Record not found", 409 once
//! `inactive`, 200 with the Connection, `pending`/`active` → `inactive`), plus what data cannot
//! say.
//!
//! Order of checks: authentication (401, no rate-limit or request headers, never stored), rate
//! limit (429, not stored), the `Key-Inflection` and `Persona-Version` values, idempotency
//! replay, then the request itself.
//!
//! | situation | status |
//! |---|---|
//! | more than the per-minute limit in the current window | 429 (+ `RateLimit-Reset`) |
//! | `Key-Inflection` / `Persona-Version` not a documented value | 400 |
//! | `Idempotency-Key` seen before (the generic fake, from the table) | the stored status and body (5xx too, also a faulted one); 422 for another connection |
//!
//! Every answer but 401 carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`,
//! `Request-Id`, `Persona-Environment-Id` and `Persona-Organization-Id`. Response keys follow
//! `Key-Inflection` (kebab-case by default).

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::generic::{Call, Quirks, error};
use crate::reply::Reply;
use crate::server::lock;
use crate::vendor::{DemoOutcome, DemoScene, per};
use crate::{FakeConfig, FakeServer, RateLimit, Vendor};

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

/// Persona's rate-limit window (its stored idempotent answers are the generic fake's, as the
/// table names its `Idempotency-Key`).
#[derive(Debug)]
pub(crate) struct PersonaQuirks {
    limit: RateLimit,
    window_start: Option<Instant>,
    used: u32,
}

impl PersonaQuirks {
    fn rate_headers(&self, reply: Reply, now: Instant, seq: u64) -> Reply {
        let reset = self
            .window_start
            .map(|start| (start + self.limit.window).saturating_duration_since(now))
            .unwrap_or(self.limit.window);
        let reset_secs = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
        let remaining = self.limit.requests.saturating_sub(self.used);
        reply
            .with_header("ratelimit-limit", self.limit.requests.to_string())
            .with_header("ratelimit-remaining", remaining.to_string())
            .with_header("ratelimit-reset", reset_secs.to_string())
            .with_header("request-id", format!("req_fake{seq:08}"))
            .with_header("persona-environment-id", ENVIRONMENT_ID)
            .with_header("persona-organization-id", ORGANIZATION_ID)
    }

    /// Persona's own error answer: the documented shape, this title and details.
    fn titled(status: u16, title: &str, details: &str) -> Option<Reply> {
        let mut reply = error::<Self>(Vendor::Persona, status, title, None);
        reply.body["errors"][0]["title"] = title.into();
        reply.body["errors"][0]["details"] = details.into();
        Some(reply)
    }
}

impl Quirks for PersonaQuirks {
    const DEFAULT_RATE_LIMIT: Option<RateLimit> = DEFAULT_LIMIT;
    const RATE_LIMIT_HEADERS: bool = true;

    /// With the limit of [`FakeConfig::rate_limits`], or Persona's default.
    fn new(vendor: Vendor, config: &FakeConfig) -> Self {
        let limit = config.rate_limits.get(&vendor).copied().or(DEFAULT_LIMIT);
        Self {
            limit: limit.expect("Persona has a default limit"),
            window_start: None,
            used: 0,
        }
    }

    fn admit(&mut self, call: &Call<'_, '_>) -> Option<Reply> {
        // Rate limit: a fixed window per API key, counting authenticated requests.
        let now = call.now;
        if self
            .window_start
            .is_none_or(|start| now >= start + self.limit.window)
        {
            self.window_start = Some(now);
            self.used = 0;
        }
        if self.used >= self.limit.requests {
            return Self::titled(429, "Rate limit exceeded", "Too many requests");
        }
        self.used += 1;
        let inflection = call.req.header("key-inflection");
        if inflection.is_some_and(|i| !["kebab", "snake", "camel"].contains(&i)) {
            let details = "Key-Inflection must be one of camel, kebab, snake";
            return Self::titled(400, "Bad request", details);
        }
        let version = call.req.header("persona-version");
        if version.is_some_and(|v| !VERSIONS.contains(&v)) {
            return Self::titled(400, "Bad request", "Unknown Persona-Version");
        }
        None
    }

    /// Every answer but 401 carries the rate-limit and request headers; a 200's keys follow
    /// `Key-Inflection`.
    fn finish(&mut self, call: &Call<'_, '_>, mut reply: Reply) -> Reply {
        if reply.status == 401 {
            return reply;
        }
        if reply.status == 200 {
            let inflection = call.req.header("key-inflection").unwrap_or("kebab");
            reply.body = inflect(inflection, std::mem::take(&mut reply.body));
        }
        self.rate_headers(reply, call.now, call.req.seq)
    }

    /// Every error schema of our Persona spec shares one example title; these are Persona's.
    fn message(status: u16) -> Option<&'static str> {
        match status {
            401 => Some("Must be authenticated to access this endpoint"),
            404 => Some("Record not found"),
            409 => Some("Connection is already inactive"),
            _ => None,
        }
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
        let state = lock(&self.shared.vendors.persona).state(id)?;
        state.as_str().map(str::to_string)
    }
}

/// Keys of `value` in the casing `Key-Inflection` names (`kebab`, `snake`, `camel`).
fn inflect(inflection: &str, value: Value) -> Value {
    let inflection = match inflection {
        "snake" => Inflection::Snake,
        "camel" => Inflection::Camel,
        _ => Inflection::Kebab,
    };
    inflection.apply(value)
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
    use serde_json::json;

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
