//! Bulk runs against the fakes: independent lanes, pacing from RateLimit headers, waiting that
//! is not failing, the circuit breaker and the spill queue. Assertions are on outcomes, order
//! and request counts, never on durations (the lane's timing is tested on tokio's paused clock
//! in `src/lane.rs` and `src/engine.rs`).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{ORG, builder};
use disconnect::{BulkOptions, DisconnectError, LaneState, Receipt, Target, Vendor};
use disconnect_fakes::{FakeConfig, FakeServer, Vendor as FakeVendor};
use futures_util::StreamExt;
use serde_json::json;

fn persona_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("cxn_bulk_{i:03}")).collect()
}

fn leen_targets(n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| {
            Target::leen(
                ORG.parse().unwrap(),
                uuid::Uuid::from_u128(1000 + i as u128),
            )
        })
        .collect()
}

async fn fakes(persona_limit: u32, window: Duration, persona: usize, leen: usize) -> FakeServer {
    let fakes = FakeServer::start(FakeConfig::default().with_rate_limit(
        FakeVendor::Persona,
        persona_limit,
        window,
    ))
    .await
    .unwrap();
    let leen: Vec<_> = leen_targets(leen)
        .into_iter()
        .map(|t| match t {
            Target::Leen(t) => {
                json!({"organization_id": t.organization_id(), "connection_id": t.connection_id()})
            }
            _ => unreachable!(),
        })
        .collect();
    fakes.seed(
        &serde_json::from_value(json!({
            "persona": persona_ids(persona).iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
            "leen": leen,
        }))
        .unwrap(),
    );
    fakes
}

fn target_of(r: &Result<Receipt, DisconnectError>) -> String {
    match r {
        Ok(d) => d.target.to_string(),
        Err(e) => e.target().to_string(),
    }
}

/// Persona's window allows 3 requests per 2 s; its 9 targets come first in the input, Leen's 5
/// after them. Leen's lane does not wait for Persona's: all Leen results arrive before the last
/// Persona one. Persona is paced by its RateLimit headers: no 429 (one request per target),
/// and no target fails although the run outlasts the 1 s per-target deadline.
#[tokio::test]
async fn lanes_are_independent_paced_and_queued_time_is_not_charged() {
    let ids = persona_ids(9);
    let fakes = fakes(3, Duration::from_secs(2), ids.len(), 5).await;
    let d = builder(&fakes)
        .deadline(Duration::from_secs(1))
        .build()
        .unwrap();
    let mut targets: Vec<Target> = ids.iter().map(|id| Target::persona(id).unwrap()).collect();
    targets.extend(leen_targets(5));
    let options = BulkOptions::default().concurrency(2);
    let results: Vec<_> = d.disconnect_all(targets.clone(), options).collect().await;
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(failed.is_empty(), "waiting is not failing: {failed:?}");
    let order: Vec<String> = results.iter().map(target_of).collect();
    let last_leen = order.iter().rposition(|t| t.starts_with("leen:")).unwrap();
    let last_persona = order
        .iter()
        .rposition(|t| t.starts_with("persona:"))
        .unwrap();
    assert!(
        last_leen < last_persona,
        "Leen finished while Persona waited for its windows: {order:?}"
    );
    assert_eq!(
        fakes.requests_to(FakeVendor::Persona).len(),
        ids.len(),
        "one request per Persona target: the budget was never overrun"
    );
}

/// Three consecutive 401s stop Persona's lane: the rest of its targets are skipped without
/// being sent, and Leen carries on.
#[tokio::test]
async fn the_breaker_stops_a_lane_and_skips_the_rest() {
    let ids = persona_ids(10);
    let fakes = fakes(300, Duration::from_secs(60), ids.len(), 4).await;
    let d = builder(&fakes)
        .api_key(Vendor::Persona, "revoked")
        .build()
        .unwrap();
    let mut targets: Vec<Target> = ids.iter().map(|id| Target::persona(id).unwrap()).collect();
    targets.extend(leen_targets(4));
    let options = BulkOptions::default().concurrency(1).breaker(3);
    let mut run = d.disconnect_all(targets.clone(), options);
    let mut results = Vec::new();
    while let Some(r) = run.next().await {
        results.push(r);
    }
    let kinds: BTreeMap<&str, usize> = results.iter().fold(BTreeMap::new(), |mut m, r| {
        let k = match r {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        *m.entry(k).or_default() += 1;
        m
    });
    assert_eq!(
        kinds,
        BTreeMap::from([("ok", 4), ("skipped", 7), ("unauthorized", 3)])
    );
    assert_eq!(
        fakes.requests_to(FakeVendor::Persona).len(),
        3,
        "skipped ones never sent"
    );
    let skipped = results
        .iter()
        .find_map(|r| match r {
            Err(e @ DisconnectError::Skipped { .. }) => Some(e),
            _ => None,
        })
        .unwrap();
    assert_eq!(skipped.attempts(), 0);
    assert!(skipped.to_string().contains("PERSONA_API_KEY"), "{skipped}");
    let lanes = run.lanes();
    let persona = lanes.iter().find(|l| l.vendor == Vendor::Persona).unwrap();
    assert!(
        matches!(&persona.state, LaneState::Stopped { reason } if reason.contains("3 consecutive 401")),
        "{persona:?}"
    );
    assert_eq!((persona.failed, persona.skipped), (3, 7));
    let leen = lanes.iter().find(|l| l.vendor == Vendor::Leen).unwrap();
    assert_eq!((leen.done, leen.state.clone()), (4, LaneState::Finished));
}

/// A lane that keeps 2 jobs in memory spills the rest to disk and still runs every target
/// exactly once, in order.
#[tokio::test]
async fn a_small_memory_queue_spills_and_loses_nothing() {
    let fakes = fakes(300, Duration::from_secs(60), 0, 40).await;
    let d = builder(&fakes).build().unwrap();
    let targets = leen_targets(40);
    let options = BulkOptions::default().concurrency(1).queue_in_memory(2);
    let results: Vec<_> = d.disconnect_all(targets.clone(), options).collect().await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let order: Vec<String> = results.iter().map(target_of).collect();
    let expected: Vec<String> = targets.iter().map(ToString::to_string).collect();
    assert_eq!(
        order, expected,
        "one worker: input order, through the spill file"
    );
}

/// A configured rate paces a vendor that sends no RateLimit headers (Leen limited to 4 per 2 s
/// without headers): no 429, one request per target.
#[tokio::test]
async fn a_configured_rate_paces_a_vendor_without_headers() {
    let mut config = FakeConfig::default();
    config.rate_limits = BTreeMap::from([(
        FakeVendor::Leen,
        disconnect_fakes::RateLimit {
            requests: 4,
            window: Duration::from_secs(2),
        },
    )]);
    let fakes = FakeServer::start(config).await.unwrap();
    let targets = leen_targets(6);
    fakes.seed(
        &serde_json::from_value(json!({"leen": targets.iter().map(|t| match t {
            Target::Leen(t) => json!({"organization_id": t.organization_id(), "connection_id": t.connection_id()}),
            _ => unreachable!(),
        }).collect::<Vec<_>>()}))
        .unwrap(),
    );
    let d = builder(&fakes).build().unwrap();
    let options = BulkOptions::default()
        .concurrency(4)
        .rates(BTreeMap::from([(Vendor::Leen, "2/s".parse().unwrap())]));
    let results: Vec<_> = d.disconnect_all(targets.clone(), options).collect().await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(fakes.requests_to(FakeVendor::Leen).len(), 6, "no 429");
}
