//! What a bulk run and a call do when the truth is hard to know: a stop while calls wait at
//! their lane, a write-ahead log that must hold every intent before its request (and that may
//! fail), and answers lost after the vendor acted. Against the fakes; assertions are on
//! outcomes and on what the fakes received, never on durations.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{builder, fake, target};
use disconnect::{
    BulkOptions, DisconnectError, DisconnectStatus, Intent, Previous, Target, Vendor, WriteAhead,
};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor as FakeVendor};
use futures_util::StreamExt;

/// Fakes with one live connection per vendor (the targets of `common::target`).
async fn seeded(config: FakeConfig) -> FakeServer {
    let fakes = FakeServer::start(config).await.unwrap();
    for v in Vendor::ALL {
        fakes.seed_live(fake(v), &target(v).id()).unwrap();
    }
    fakes
}

/// Whether the fake vendor holds the target's connection as cut.
fn is_gone(fakes: &FakeServer, t: &Target) -> bool {
    fakes.is_cut(fake(t.vendor()), &t.id()) == Some(true)
}

/// For every vendor: the first request's answer is lost after the vendor acted, the retry finds
/// the connection gone (Tartan 409, Leen 404; Persona replays its stored 200 under the same
/// `Idempotency-Key`), and the call reports `Disconnected`, never `AlreadyDisconnected` or a
/// failure. A second, clean pass finds every connection gone.
#[tokio::test]
async fn an_answer_lost_after_the_vendor_acted_is_still_a_disconnect() {
    let fakes = seeded(FakeConfig::default()).await;
    let d = builder(&fakes).build().unwrap();
    for v in Vendor::ALL {
        fakes.push_fault(fake(v), Fault::DropAnswer { millis: 0 });
        let done = d.disconnect(&target(v)).await.unwrap();
        assert_eq!(done.status, DisconnectStatus::Disconnected, "{v}: {done:?}");
        assert_eq!(
            done.attempts, 2,
            "{v}: the lost request and the one that confirmed it"
        );
        // The confirming answer says "gone" (409, 404) unless the vendor replayed its success.
        assert_eq!(
            done.confirmed_after_lost_answer,
            done.http_status != 200,
            "{v}: {done:?}"
        );
        assert!(is_gone(&fakes, &target(v)), "{v}");
    }
    // The clean pass (a new operation: Persona would replay its stored 200 to the same key):
    // nothing is in doubt, so "gone" is what each vendor says for it.
    let d = builder(&fakes).operation_id("clean-pass").build().unwrap();
    for v in Vendor::ALL {
        match d.disconnect(&target(v)).await {
            Ok(done) => assert_eq!(done.status, DisconnectStatus::AlreadyDisconnected, "{v}"),
            Err(e @ DisconnectError::NotFound { .. }) => assert!(!e.in_doubt(), "{v}"),
            Err(e) => panic!("{v}: {e}"),
        }
    }
}

/// A run killed between a request and its recorded result leaves the target in doubt; the
/// resumed call that finds the connection gone reports `Disconnected`, confirmed after a lost
/// answer. Without the doubt, the same answers keep their meaning.
#[tokio::test]
async fn a_resumed_call_in_doubt_confirms_the_cut() {
    let fakes = seeded(FakeConfig::default()).await;
    let d = builder(&fakes).build().unwrap();
    for v in Vendor::ALL {
        // The "killed" run: its request reached the vendor, its answer never did.
        fakes.push_fault(fake(v), Fault::DropAnswer { millis: 0 });
        let one_attempt = builder(&fakes).max_attempts(1).build().unwrap();
        let lost = one_attempt.disconnect(&target(v)).await.unwrap_err();
        assert!(lost.in_doubt(), "{v}: {lost}");
        assert!(lost.to_string().contains("may have acted"), "{lost}");

        let in_doubt = Previous::new(lost.ctx().idempotency_key.clone(), None).with_in_doubt(true);
        let done = d.disconnect_resuming(&target(v), &in_doubt).await.unwrap();
        assert_eq!(done.status, DisconnectStatus::Disconnected, "{v}: {done:?}");
        assert_eq!(
            done.confirmed_after_lost_answer,
            done.http_status != 200,
            "{v}"
        );

        let clean = builder(&fakes).operation_id("clean-pass").build().unwrap();
        match clean.disconnect(&target(v)).await {
            Ok(done) => {
                assert_eq!(done.status, DisconnectStatus::AlreadyDisconnected, "{v}");
                assert!(!done.confirmed_after_lost_answer);
            }
            Err(e) => assert_eq!(e.kind(), "not_found", "{v}: {e}"),
        }
    }
}

/// Persona allows 2 requests per 5 minutes. After the first two, the lane waits for the window;
/// `stop()` ends that wait at once: no further request reaches Persona, the waiting calls come
/// back `Interrupted` with nothing sent, and the stream ends long before the window would.
#[tokio::test]
async fn stop_ends_the_waits_at_the_lanes() {
    let fakes = FakeServer::start(FakeConfig::default().with_rate_limit(
        FakeVendor::Persona,
        2,
        Duration::from_secs(300),
    ))
    .await
    .unwrap();
    let ids: Vec<String> = (0..6).map(|i| format!("cxn_stop_{i}")).collect();
    for id in &ids {
        fakes.seed_live(FakeVendor::Persona, id).unwrap();
    }
    let d = builder(&fakes).build().unwrap();
    let targets: Vec<Target> = ids.iter().map(|id| Target::persona(id).unwrap()).collect();
    let options = BulkOptions::default().concurrency(2);
    let mut run = d.disconnect_all(targets, options);
    let mut results = Vec::new();
    while results.len() < 2 {
        results.push(run.next().await.unwrap());
    }
    // The two allowed requests are done; the other calls wait for the window.
    run.stop();
    let rest: Vec<_> = tokio::time::timeout(Duration::from_secs(120), run.collect::<Vec<_>>())
        .await
        .expect("a stopped run ends without waiting out the window");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        fakes.requests_to(FakeVendor::Persona).len(),
        2,
        "nothing sent after stop"
    );
    assert!(
        !rest.is_empty(),
        "the calls waiting at the lane are reported"
    );
    for r in &rest {
        let e = r.as_ref().unwrap_err();
        assert!(
            matches!(e, DisconnectError::Interrupted { .. }) && e.attempts() == 0,
            "{e:?}"
        );
        assert!(e.is_retryable() && !e.in_doubt());
    }
}

/// A log that checks, as it records each intent, that the fake has not yet received a request
/// for it; it can be told to fail from its `fail_at`-th batch on.
struct Checked {
    fakes: Arc<FakeServer>,
    recorded: Mutex<Vec<Vec<Target>>>,
    fail_at: Option<usize>,
}

impl WriteAhead for Checked {
    fn record(&self, batch: &[Intent]) -> std::io::Result<()> {
        let mut recorded = self.recorded.lock().unwrap();
        if self.fail_at.is_some_and(|n| recorded.len() + 1 >= n) {
            return Err(std::io::Error::other("No space left on device"));
        }
        let sent = self.fakes.journal().len();
        assert!(
            sent <= recorded.iter().map(Vec::len).sum::<usize>(),
            "a request reached the vendor before its intent was recorded"
        );
        recorded.push(batch.iter().map(|i| i.target.clone()).collect());
        Ok(())
    }
}

fn leen_targets(fakes: &FakeServer, n: u128) -> Vec<Target> {
    (0..n)
        .map(|i| {
            let t = Target::leen(
                common::ORG.parse().unwrap(),
                uuid::Uuid::from_u128(7000 + i),
            );
            fakes.seed_live(FakeVendor::Leen, &t.id()).unwrap();
            t
        })
        .collect()
}

/// Every target's intent is recorded, in batches, before its one request; every intent is
/// recorded once.
#[tokio::test]
async fn every_request_follows_its_recorded_intent() {
    let fakes = Arc::new(FakeServer::start(FakeConfig::default()).await.unwrap());
    let targets = leen_targets(&fakes, 60);
    let log = Arc::new(Checked {
        fakes: fakes.clone(),
        recorded: Mutex::default(),
        fail_at: None,
    });
    let d = builder(&fakes).build().unwrap();
    let options = BulkOptions::default()
        .concurrency(8)
        .write_ahead(Some(log.clone()));
    let results: Vec<_> = d.disconnect_all(targets.clone(), options).collect().await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let recorded: Vec<Target> = log.recorded.lock().unwrap().concat();
    assert_eq!(recorded.len(), targets.len(), "one intent per target");
    assert_eq!(
        recorded.iter().collect::<BTreeSet<_>>(),
        targets.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(fakes.requests_to(FakeVendor::Leen).len(), targets.len());
}

/// A log that fails stops the run: no target whose intent was refused is sent, nor is any
/// target after the failure; every target sent had its intent recorded; every target taken
/// from the input is reported, sent or not.
#[tokio::test]
async fn a_failing_log_stops_every_further_request() {
    let fakes = Arc::new(FakeServer::start(FakeConfig::default()).await.unwrap());
    let targets = leen_targets(&fakes, 20);
    let log = Arc::new(Checked {
        fakes: fakes.clone(),
        recorded: Mutex::default(),
        fail_at: Some(4),
    });
    let d = builder(&fakes).build().unwrap();
    let options = BulkOptions::default()
        .concurrency(1)
        .write_ahead(Some(log.clone()));
    let mut run = d.disconnect_all(targets.clone(), options);
    let handle = run.handle();
    let mut results = Vec::new();
    while let Some(r) = run.next().await {
        results.push(r);
    }
    assert!(handle.is_stopped());
    let recorded: BTreeSet<Target> = log.recorded.lock().unwrap().concat().into_iter().collect();
    assert_eq!(
        log.recorded.lock().unwrap().len(),
        3,
        "three batches, then the failure"
    );
    let sent: Vec<String> = fakes
        .requests_to(FakeVendor::Leen)
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert!(!sent.is_empty() && sent.len() < targets.len(), "{sent:?}");
    for path in &sent {
        assert!(
            recorded.iter().any(|t| match t {
                Target::Leen(t) => path.ends_with(&t.connection_id().to_string()),
                _ => false,
            }),
            "{path} was sent without a recorded intent"
        );
    }
    let ok: Vec<&disconnect::Receipt> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ok.len(), sent.len(), "every target sent is reported done");
    let refused: Vec<&DisconnectError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!refused.is_empty());
    for e in &refused {
        assert!(
            matches!(e, DisconnectError::Interrupted { reason, .. } if reason.contains("No space left")),
            "{e:?}"
        );
        assert_eq!(e.attempts(), 0, "never sent: {e}");
    }
    // Every target the run took up is accounted for; the rest were never started.
    let lanes = handle.lanes();
    let queued: u64 = lanes.iter().map(|l| l.queued).sum();
    assert_eq!(results.len() as u64 + queued, targets.len() as u64);
}
