//! Fake Tartan HyperSync, `POST /api/terminate_connection/`: the [generic fake](crate::generic)
//! (answers in the shapes Tartan documents per status: 401, 400 without `client_org`, 404 for
//! an unknown `client_org`, 409 once terminated, 200), plus what data cannot say: **a data sync
//! in progress**, during which Tartan refuses to terminate with its documented 400
//! ("Connection cannot be terminated while sync is in progress"). A sync is started with
//! [`FakeServer::start_tartan_sync`] or `POST /_admin/tartan/syncs {"client_org", "seconds"}`
//! and ends by itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::generic::{Quirks, error};
use crate::reply::Reply;
use crate::server::{Shared, lock};
use crate::vendor::{DemoOutcome, DemoScene};
use crate::{FakeConfig, FakeServer, Vendor};

/// Tartan's data syncs: when each `client_org`'s ends.
#[derive(Debug, Default)]
pub(crate) struct TartanQuirks {
    syncs: HashMap<String, Instant>,
}

impl Quirks for TartanQuirks {
    fn new(_: Vendor, _: &FakeConfig) -> Self {
        Self::default()
    }

    fn refuse(&mut self, id: &str, now: Instant) -> Option<Reply> {
        let running = self.syncs.get(id).is_some_and(|until| now < *until);
        running.then(|| error::<Self>(Vendor::Tartan, 400, "A data sync is in progress", None))
    }

    /// `POST /_admin/tartan/syncs {"client_org", "seconds"}`: start a data sync.
    fn admin_routes() -> axum::Router<Arc<Shared>> {
        axum::Router::new().route("/_admin/tartan/syncs", axum::routing::post(start_sync))
    }

    fn demo(_: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
        for org in ["acme-corp", "initech"] {
            let _ = fakes.seed_live(Vendor::Tartan, org);
        }
        let seed = json!({"tartan": [{"client_org": "globex", "terminated": true}]});
        fakes.seed(&serde_json::from_value(seed).expect("a valid seed"));
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
    /// Mark a data sync as running for a live Tartan `client_org`; it ends by itself after
    /// `duration` (measured on tokio's clock). Returns false for an unknown org.
    pub fn start_tartan_sync(&self, client_org: &str, duration: Duration) -> bool {
        start(&self.shared, client_org, duration)
    }

    /// Whether Tartan's connection for `client_org` is terminated (`None`: unknown org).
    pub fn tartan_terminated(&self, client_org: &str) -> Option<bool> {
        self.is_cut(Vendor::Tartan, client_org)
    }
}

fn start(shared: &Shared, client_org: &str, duration: Duration) -> bool {
    let mut tartan = lock(&shared.vendors.tartan);
    let known = tartan.state(client_org).is_some();
    if known {
        let until = Instant::now() + duration;
        tartan.quirks.syncs.insert(client_org.to_string(), until);
    }
    known
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
    if start(&shared, &sync.client_org, Duration::from_secs_f64(sync.seconds)) {
        (StatusCode::NO_CONTENT, String::new())
    } else {
        let org = &sync.client_org;
        (
            StatusCode::NOT_FOUND,
            format!("no Tartan connection for client_org `{org}`"),
        )
    }
}
