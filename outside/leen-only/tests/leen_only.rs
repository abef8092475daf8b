//! What a project depending on `disconnect` with only the `leen` feature sees, against the fakes.
//! Run with the other vendors' keys set (`TARTAN_API_KEY`, `PERSONA_API_KEY`), as on a shared
//! host, and `LEEN_API_KEY`; `.ci/run` does.

use std::time::{Duration, Instant};

use disconnect::{DisconnectError, DisconnectStatus, Vendor};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor as FakeVendor};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";
const TRACE: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("run with {name} set (see .ci/run)"))
}

async fn fake() -> FakeServer {
    let fakes =
        FakeServer::start(FakeConfig::default().with_key(FakeVendor::Leen, env("LEEN_API_KEY")))
            .await
            .unwrap();
    fakes.seed(
        &serde_json::from_value(serde_json::json!({
            "leen": [{"organization_id": ORG, "connection_id": CONN}]
        }))
        .unwrap(),
    );
    fakes
}

fn header<'a>(r: &'a disconnect_fakes::RecordedRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn other_vendors_keys_are_ignored_and_headers_reach_the_vendor() {
    assert!(std::env::var("TARTAN_API_KEY").is_ok() && std::env::var("PERSONA_API_KEY").is_ok());
    let fakes = fake().await;
    let d = disconnect::Disconnector::builder()
        .from_env()
        .expect("other vendors' keys are ignored in a one-vendor build")
        .base_url(Vendor::Leen, fakes.base_url(FakeVendor::Leen))
        .user_agent(format!("acme-offboarding/2.1 {}", disconnect::USER_AGENT))
        .header("traceparent", TRACE)
        .build()
        .unwrap();
    assert_eq!(d.configured_vendors(), [Vendor::Leen]);

    let receipt = leen_only::offboard(&d, &leen_only::target(ORG, CONN).unwrap())
        .await
        .unwrap();
    assert_eq!(receipt.status, DisconnectStatus::Disconnected);
    let sent = fakes.requests_to(FakeVendor::Leen);
    let ua = header(&sent[0], "user-agent").unwrap();
    assert!(ua.starts_with("acme-offboarding/2.1 disconnect/"), "{ua}");
    assert_eq!(header(&sent[0], "traceparent"), Some(TRACE));
}

/// The call's deadline holds against a vendor that asks for a minute's pause.
#[tokio::test]
async fn a_3s_deadline_returns_within_seconds_against_a_60s_429() {
    let fakes = fake().await;
    fakes.push_fault(
        FakeVendor::Leen,
        Fault::RateLimited {
            reset_secs: Some(60),
            retry_after: None,
        },
    );
    let d = disconnect::Disconnector::builder()
        .from_env()
        .unwrap()
        .base_url(Vendor::Leen, fakes.base_url(FakeVendor::Leen))
        .deadline(Duration::from_secs(3))
        .build()
        .unwrap();
    let started = Instant::now();
    // Bounded well below the 60 s the vendor asked for: waiting it out fails the test.
    let result = tokio::time::timeout(
        Duration::from_secs(30),
        leen_only::offboard(&d, &leen_only::target(ORG, CONN).unwrap()),
    )
    .await
    .expect("the deadline bounds the wait");
    match result {
        Err(DisconnectError::RateLimited { retry_after, ctx }) => {
            assert_eq!(retry_after, Some(Duration::from_secs(60)));
            assert_eq!(ctx.attempts, 1);
        }
        other => panic!("{other:?}"),
    }
    eprintln!("returned after {:?}", started.elapsed());
    assert_eq!(fakes.requests_to(FakeVendor::Leen).len(), 1);
}

/// A `reqwest::Client` of the application's, built from `disconnect::http_client_builder()`
/// through the re-exported reqwest: it carries the key, and a redirect is not followed.
#[tokio::test]
async fn a_supplied_client_works_and_does_not_follow_a_redirect() {
    let fakes = fake().await;
    let elsewhere =
        FakeServer::start(FakeConfig::default().with_addr("127.0.0.2:0".parse().unwrap()))
            .await
            .unwrap();
    let client: disconnect::reqwest::Client = disconnect::http_client_builder()
        .pool_max_idle_per_host(8)
        .build()
        .unwrap();
    let d = disconnect::Disconnector::builder()
        .from_env()
        .unwrap()
        .base_url(Vendor::Leen, fakes.base_url(FakeVendor::Leen))
        .http_client(client)
        .build()
        .unwrap();
    fakes.push_fault(
        FakeVendor::Leen,
        Fault::Redirect {
            status: 307,
            location: format!("{}/steal", elsewhere.base_url(FakeVendor::Leen)),
        },
    );
    let target = leen_only::target(ORG, CONN).unwrap();
    match leen_only::offboard(&d, &target).await {
        Err(DisconnectError::Redirected { location, ctx }) => {
            assert_eq!(ctx.http_status, Some(307));
            assert!(location.unwrap().ends_with("/steal"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        elsewhere.journal().is_empty(),
        "the key never left the vendor's host"
    );
    let receipt = leen_only::offboard(&d, &target).await.unwrap();
    assert_eq!(receipt.status, DisconnectStatus::Disconnected);
}

/// The bulk API needs no extra crate: `BulkRun::next`.
#[tokio::test]
async fn a_bulk_run_reads_without_futures() {
    let fakes = fake().await;
    let d = disconnect::Disconnector::builder()
        .from_env()
        .unwrap()
        .base_url(Vendor::Leen, fakes.base_url(FakeVendor::Leen))
        .build()
        .unwrap();
    let mut run = d.disconnect_all(
        [leen_only::target(ORG, CONN).unwrap()],
        disconnect::BulkOptions::default(),
    );
    assert_eq!(run.lanes().len(), 1, "only the compiled vendor has a lane");
    let mut done = 0;
    while let Some(result) = run.next().await {
        assert_eq!(result.unwrap().status, DisconnectStatus::Disconnected);
        done += 1;
    }
    assert_eq!(done, 1);
}
