//! Fake Leen: `DELETE /provisioning/organizations/{organization_id}/connections/{connection_id}`.
//!
//! | situation | status | body |
//! |---|---|---|
//! | no or wrong `X-API-KEY` | 401 | `{"detail": "Invalid API key"}` (not in Leen's spec; inferred) |
//! | a path segment is not a UUID | 422 | FastAPI `{"detail": [{loc, msg, type, input}]}` |
//! | unknown organisation or connection | 404 | `{"detail": "Connection not found"}` |
//! | connection already `DELETED` | 404 | `{"detail": "Connection not found"}` |
//! | otherwise | 200 | the connection, `state: DELETED`, `is_active: false`, `updated_at` now |
//!
//! **A second delete answers 404.** Leen's API is FastAPI over a store where a deleted connection
//! is kept with `state: DELETED`; its list and get endpoints do not show deleted connections, so
//! the most plausible answer to deleting one again is the documented 404 `ErrorException` for a
//! connection it cannot find. (Leen documents a 404 without publishing its body; the body here
//! follows FastAPI's `{"detail": ...}`.) The `disconnect` facade therefore maps Leen's 404 to
//! `NotFound`, which its `not_found_is_gone` option turns into "already disconnected".

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use crate::reply::{Incoming, Reply};
use crate::server::lock;
use crate::vendor::{DemoOutcome, DemoScene, FakeVendor};
use crate::{FakeConfig, FakeServer, Vendor};

/// A Leen connection in a seed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeenSeed {
    /// Leen organisation UUID.
    pub organization_id: Uuid,
    /// Connection UUID.
    pub connection_id: Uuid,
    /// Vendor name shown in the record (default `crowdstrike`).
    #[serde(default = "default_vendor")]
    pub vendor: String,
    /// `PENDING`, `ACTIVE` (default), `PAUSED` or `DELETED`.
    #[serde(default = "default_state")]
    pub state: String,
}

fn default_vendor() -> String {
    "crowdstrike".into()
}

fn default_state() -> String {
    "ACTIVE".into()
}

/// The organisation of sample ids.
const SAMPLE_ORG: Uuid = Uuid::from_u128(0x0b9c2f4e_8a43_4d3a_9a1e_2f7a5b6c7d8e);
/// The demo's connection.
const DEMO_CONNECTION: Uuid = Uuid::from_u128(0x6f1d2c3b_4a59_4e7f_8d6c_5b4a39281706);

/// One Leen connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeenConnection {
    /// Vendor name.
    pub vendor: String,
    /// `PENDING`, `ACTIVE`, `PAUSED` or `DELETED`.
    pub state: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// All Leen connections, by (organisation, connection).
#[derive(Debug, Default)]
pub struct LeenState {
    pub(crate) connections: HashMap<(Uuid, Uuid), LeenConnection>,
}

impl LeenState {
    /// Add (or reset) a connection.
    pub fn seed(&mut self, organization_id: Uuid, connection_id: Uuid, vendor: &str, state: &str) {
        let now = Utc::now();
        self.connections.insert(
            (organization_id, connection_id),
            LeenConnection {
                vendor: vendor.to_string(),
                state: state.to_string(),
                created_at: now,
                updated_at: now,
            },
        );
    }

    /// The connection with these ids.
    pub fn get(&self, organization_id: Uuid, connection_id: Uuid) -> Option<&LeenConnection> {
        self.connections.get(&(organization_id, connection_id))
    }

    fn answer(&mut self, api_key: &str, req: &Incoming<'_>) -> Reply {
        let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        let ["provisioning", "organizations", org, "connections", conn] = segments.as_slice()
        else {
            return Reply::json(404, json!({"detail": "Not Found"}));
        };
        if req.method != axum::http::Method::DELETE {
            return Reply::json(405, json!({"detail": "Method Not Allowed"}));
        }
        if req.header("x-api-key") != Some(api_key) {
            return Reply::json(401, json!({"detail": "Invalid API key"}));
        }
        let (org_id, conn_id) = (Uuid::parse_str(org), Uuid::parse_str(conn));
        let mut problems = Vec::new();
        for (name, raw, parsed) in [
            ("organization_id", org, &org_id),
            ("connection_id", conn, &conn_id),
        ] {
            if let Err(e) = parsed {
                problems.push(json!({
                    "type": "uuid_parsing",
                    "loc": ["path", name],
                    "msg": format!("Input should be a valid UUID, {e}"),
                    "input": percent_encoding::percent_decode_str(raw).decode_utf8_lossy(),
                }));
            }
        }
        let (Ok(org_id), Ok(conn_id)) = (org_id, conn_id) else {
            return Reply::json(422, json!({"detail": problems}));
        };
        let Some(connection) = self.connections.get_mut(&(org_id, conn_id)) else {
            return Reply::json(404, json!({"detail": "Connection not found"}));
        };
        if connection.state == "DELETED" {
            return Reply::json(404, json!({"detail": "Connection not found"}));
        }
        connection.state = "DELETED".to_string();
        connection.updated_at = Utc::now();
        Reply::json(200, record(org_id, conn_id, connection))
    }
}

fn record(org: Uuid, id: Uuid, c: &LeenConnection) -> Value {
    json!({
        "id": id,
        "vendor": c.vendor,
        "is_active": c.state == "ACTIVE",
        "refresh_interval_secs": 3600,
        "timeout_secs": 600,
        "organization_id": org,
        "oauth2_authorize_url": null,
        "identifier": null,
        "state": c.state,
        "created_at": c.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "updated_at": c.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "health": {
            "name": "HEALTHY",
            "status": "HEALTHY",
            "description": "Connection deleted",
            "resolution_owner": "LEEN",
            "details": null
        }
    })
}

impl FakeVendor for LeenState {
    type Seed = LeenSeed;

    fn new(_: Vendor, _: &FakeConfig) -> Self {
        Self::default()
    }

    fn handle(&mut self, api_key: &str, req: &Incoming<'_>, _: Instant) -> Reply {
        self.answer(api_key, req)
    }

    fn seed(&mut self, seed: &LeenSeed) {
        LeenState::seed(
            self,
            seed.organization_id,
            seed.connection_id,
            &seed.vendor,
            &seed.state,
        );
    }

    /// `<organization_uuid>/<connection_uuid>`.
    fn seed_live(&mut self, id: &str) -> Result<(), String> {
        let (org, conn) = id
            .split_once('/')
            .and_then(|(o, c)| Some((o.parse().ok()?, c.parse().ok()?)))
            .ok_or_else(|| format!("`{id}` is not <organization_uuid>/<connection_uuid>"))?;
        LeenState::seed(self, org, conn, &default_vendor(), &default_state());
        Ok(())
    }

    fn is_cut(&self, id: &str) -> Option<bool> {
        let (org, conn) = id.split_once('/')?;
        self.get(org.parse().ok()?, conn.parse().ok()?)
            .map(|c| c.state == "DELETED")
    }

    fn sample_id(_: Vendor, n: u64) -> String {
        format!("{SAMPLE_ORG}/{}", Uuid::from_u128(u128::from(n) + 10_000))
    }

    fn success_example(_: Vendor) -> Reply {
        let now = Utc::now();
        let connection = LeenConnection {
            vendor: default_vendor(),
            state: "DELETED".into(),
            created_at: now,
            updated_at: now,
        };
        Reply::json(
            200,
            record(SAMPLE_ORG, Uuid::from_u128(10_000), &connection),
        )
    }

    fn demo(_: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
        let id = format!("{SAMPLE_ORG}/{DEMO_CONNECTION}");
        let _ = fakes.seed_live(crate::Vendor::Leen, &id);
        vec![DemoScene::new(
            format!("leen:{id}"),
            DemoOutcome::Disconnected,
            "Leen DELETE, record comes back DELETED",
        )]
    }
}

impl FakeServer {
    /// A Leen connection's state (`None`: unknown ids).
    pub fn leen_state(&self, organization_id: Uuid, connection_id: Uuid) -> Option<String> {
        lock(&self.shared.vendors.leen)
            .get(organization_id, connection_id)
            .map(|c| c.state.clone())
    }
}
