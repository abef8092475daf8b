//! Fake Tartan HyperSync: `POST /api/terminate_connection/`.
//!
//! | situation | status | body |
//! |---|---|---|
//! | `Authorization` is not exactly the key | 401 | `{requestId, message, data}` |
//! | body not multipart, or no `client_org` part | 400 | `{message, data}` |
//! | unknown `client_org` | 404 | `{code: 404, message, data}` |
//! | a data sync is running for the org | 400 | `{message, data}` |
//! | already terminated | 409 | `{status: 409, message, data}` |
//! | otherwise: terminated now | 200 | `{message, data}` |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::time::Instant;

use crate::reply::{Incoming, Reply};
use crate::server::{Shared, lock};
use crate::vendor::{DemoOutcome, DemoScene, FakeVendor};
use crate::{FakeConfig, FakeServer, Vendor};

/// A Tartan connection in a seed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TartanSeed {
    /// The `client_org` identifier.
    pub client_org: String,
    /// Already terminated.
    #[serde(default)]
    pub terminated: bool,
}

/// One Tartan connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TartanConnection {
    /// Terminated already.
    pub terminated: bool,
    /// A data sync runs until this instant.
    pub sync_until: Option<Instant>,
}

/// All Tartan connections, by `client_org`.
#[derive(Debug, Default)]
pub struct TartanState {
    pub(crate) connections: HashMap<String, TartanConnection>,
}

impl TartanState {
    /// Add (or reset) a connection.
    pub fn seed(&mut self, client_org: &str, terminated: bool) {
        self.connections.insert(
            client_org.to_string(),
            TartanConnection {
                terminated,
                sync_until: None,
            },
        );
    }

    /// Start a data sync for `client_org` that ends by itself after `duration`. Returns false for
    /// an unknown org.
    pub fn start_sync(&mut self, client_org: &str, duration: Duration, now: Instant) -> bool {
        match self.connections.get_mut(client_org) {
            Some(c) => {
                c.sync_until = Some(now + duration);
                true
            }
            None => false,
        }
    }

    /// The connection for `client_org`.
    pub fn get(&self, client_org: &str) -> Option<&TartanConnection> {
        self.connections.get(client_org)
    }

    fn answer(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply {
        if req.path != "/api/terminate_connection/" {
            return Reply::json(404, json!({"detail": "Not found."}));
        }
        if req.method != axum::http::Method::POST {
            return Reply::json(
                405,
                json!({"detail": format!("Method \"{}\" not allowed.", req.method)}),
            );
        }
        if req.header("authorization") != Some(api_key) {
            let message = if req.headers.contains_key("authorization") {
                "Invalid token."
            } else {
                "Authentication credentials were not provided."
            };
            return Reply::json(
                401,
                json!({"requestId": uuid::Uuid::from_u128(u128::from(req.seq)).to_string(), "message": message, "data": null}),
            );
        }
        let client_org = match req.multipart {
            Some(Ok(parts)) => parts
                .iter()
                .find(|(n, _)| n == "client_org")
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        let Some(client_org) = client_org.filter(|c| !c.trim().is_empty()) else {
            return Reply::json(
                400,
                json!({"message": "client_org is required (multipart/form-data field)", "data": null}),
            );
        };
        let Some(connection) = self.connections.get_mut(&client_org) else {
            return Reply::json(
                404,
                json!({"code": 404, "message": "No organisation found with the given client_org", "data": null}),
            );
        };
        if connection.terminated {
            return Reply::json(
                409,
                json!({"status": 409, "message": "Conflict! Connection already terminated", "data": null}),
            );
        }
        if connection.sync_until.is_some_and(|until| now < until) {
            return Reply::json(
                400,
                json!({"message": "Connection cannot be terminated while sync is in progress", "data": null}),
            );
        }
        connection.terminated = true;
        connection.sync_until = None;
        Reply::json(
            200,
            json!({"message": "Connection terminated successfully", "data": null}),
        )
    }
}

const SUCCESS: &str = "Connection terminated successfully";

impl FakeVendor for TartanState {
    type Seed = TartanSeed;

    fn new(_: Vendor, _: &FakeConfig) -> Self {
        Self::default()
    }

    fn handle(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply {
        self.answer(api_key, req, now)
    }

    fn seed(&mut self, seed: &TartanSeed) {
        TartanState::seed(self, &seed.client_org, seed.terminated);
    }

    fn seed_live(&mut self, id: &str) -> Result<(), String> {
        TartanState::seed(self, id, false);
        Ok(())
    }

    fn is_cut(&self, id: &str) -> Option<bool> {
        self.get(id).map(|c| c.terminated)
    }

    fn sample_id(_: Vendor, n: u64) -> String {
        format!("acme-{n:05}")
    }

    fn success_example(_: Vendor) -> Reply {
        Reply::json(200, json!({"message": SUCCESS, "data": null}))
    }

    /// `POST /_admin/tartan/syncs {"client_org", "seconds"}`: start a data sync.
    fn admin_routes() -> axum::Router<Arc<Shared>> {
        axum::Router::new().route("/_admin/tartan/syncs", axum::routing::post(start_sync))
    }

    fn demo(_: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
        for org in ["acme-corp", "initech"] {
            let _ = fakes.seed_live(crate::Vendor::Tartan, org);
        }
        fakes.seed(&crate::Seed {
            tartan: vec![TartanSeed {
                client_org: "globex".into(),
                terminated: true,
            }],
            ..crate::Seed::default()
        });
        fakes.start_tartan_sync("initech", Duration::from_secs(2));
        vec![
            DemoScene::new(
                "tartan:acme-corp",
                DemoOutcome::Disconnected,
                "a plain disconnect (Tartan multipart, raw key)",
            ),
            DemoScene::new(
                "tartan:globex",
                DemoOutcome::AlreadyDisconnected,
                "Tartan's 409: already terminated",
            ),
            DemoScene::new(
                "tartan:initech",
                DemoOutcome::Disconnected,
                "a Tartan data sync in progress (400), waited out",
            )
            .retried(),
        ]
    }
}

impl FakeServer {
    /// Mark a data sync as running for a Tartan `client_org`; it ends by itself after
    /// `duration` (measured on tokio's clock). Returns false for an unknown org.
    pub fn start_tartan_sync(&self, client_org: &str, duration: Duration) -> bool {
        lock(&self.shared.vendors.tartan).start_sync(
            client_org,
            duration,
            Instant::now(),
        )
    }

    /// Whether Tartan's connection for `client_org` is terminated (`None`: unknown org).
    pub fn tartan_terminated(&self, client_org: &str) -> Option<bool> {
        lock(&self.shared.vendors.tartan)
            .get(client_org)
            .map(|c| c.terminated)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    client_org: String,
    seconds: f64,
}

async fn start_sync(
    State(shared): State<Arc<Shared>>,
    Json(sync): Json<SyncRequest>,
) -> (StatusCode, String) {
    if !sync.seconds.is_finite() || sync.seconds < 0.0 {
        return (
            StatusCode::BAD_REQUEST,
            "seconds must be a non-negative number".into(),
        );
    }
    let started = lock(&shared.vendors.tartan).start_sync(
        &sync.client_org,
        Duration::from_secs_f64(sync.seconds),
        Instant::now(),
    );
    if started {
        (StatusCode::NO_CONTENT, String::new())
    } else {
        (
            StatusCode::NOT_FOUND,
            format!("no Tartan connection for client_org `{}`", sync.client_org),
        )
    }
}

