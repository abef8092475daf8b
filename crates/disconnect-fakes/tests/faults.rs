//! Every fault kind, what the client sees, and whether the vendor's state changed.

mod support;

use std::collections::BTreeMap;

use disconnect_fakes::{Fault, Vendor};
use serde_json::json;
use support::{Auth, CONN, Harness, ORG};

#[tokio::test]
async fn status_fault_answers_as_scripted_without_touching_state() {
    let h = Harness::new().await;
    h.fakes.push_fault(
        Vendor::Tartan,
        Fault::Status {
            status: 500,
            body: json!({"requestId": "r-1", "message": "Internal Server Error", "data": null}),
            headers: BTreeMap::from([("x-extra".to_string(), "1".to_string())]),
            raw: None,
        },
    );
    let r = h.tartan("acme", Auth::Good).await;
    assert_eq!((r.status, r.header("x-extra")), (500, Some("1")));
    assert_eq!(r.json()["requestId"], "r-1");
    assert_eq!(h.fakes.tartan_terminated("acme"), Some(false));
    assert_eq!(
        h.tartan("acme", Auth::Good).await.status,
        200,
        "one fault, one request"
    );
}

#[tokio::test]
async fn delay_fault_answers_normally_afterwards() {
    let h = Harness::new().await;
    h.fakes
        .push_fault(Vendor::Persona, Fault::Delay { millis: 50 });
    let r = h.persona("cxn_active", Auth::Good, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.fakes.persona_status("cxn_active").as_deref(),
        Some("inactive")
    );
    // A delay longer than the client's timeout is a timeout.
    h.fakes
        .push_fault(Vendor::Persona, Fault::Delay { millis: 2_000 });
    let err = h
        .persona_request("cxn_pending", Auth::Good, &[])
        .timeout(std::time::Duration::from_millis(100))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
}

#[tokio::test]
async fn close_before_response_is_a_connection_error_and_changes_nothing() {
    let h = Harness::new().await;
    h.fakes.push_fault(Vendor::Leen, Fault::CloseBeforeResponse);
    let err = h
        .leen_request(ORG, CONN, Auth::Good)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(
        h.fakes.state(Vendor::Leen, &format!("{ORG}/{CONN}")),
        Some(json!("ACTIVE"))
    );
    assert_eq!(h.leen(ORG, CONN, Auth::Good).await.status, 200);
}

#[tokio::test]
async fn close_mid_response_breaks_the_body_after_the_change() {
    let h = Harness::new().await;
    h.fakes.push_fault(Vendor::Leen, Fault::CloseMidResponse);
    let response = h
        .leen_request(ORG, CONN, Auth::Good)
        .send()
        .await
        .expect("status and headers arrive");
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.is_err(), "the body is cut");
    assert_eq!(
        h.fakes.state(Vendor::Leen, &format!("{ORG}/{CONN}")),
        Some(json!("DELETED"))
    );
}

#[tokio::test]
async fn drop_answer_acts_then_closes_without_an_answer() {
    let h = Harness::new().await;
    h.fakes
        .push_fault(Vendor::Leen, Fault::DropAnswer { millis: 0 });
    let lost = h.leen_request(ORG, CONN, Auth::Good).send().await;
    assert!(lost.is_err(), "no answer: {lost:?}");
    assert_eq!(
        h.fakes.state(Vendor::Leen, &format!("{ORG}/{CONN}")),
        Some(json!("DELETED")),
        "the vendor acted"
    );
    let again = h.leen_request(ORG, CONN, Auth::Good).send().await.unwrap();
    assert_eq!(again.status(), 404, "a second delete finds it gone");
}

#[tokio::test]
async fn truncated_json_is_half_of_the_real_answer() {
    let h = Harness::new().await;
    h.fakes.push_fault(Vendor::Persona, Fault::TruncatedJson);
    let r = h.persona("cxn_active", Auth::Good, &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.text.starts_with("{\"data\":{"), "{}", r.text);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_err());
    assert_eq!(
        h.fakes.persona_status("cxn_active").as_deref(),
        Some("inactive"),
        "the vendor acted"
    );
}

#[tokio::test]
async fn malformed_json_and_wrong_content_type() {
    let h = Harness::new().await;
    h.fakes.push_fault(Vendor::Tartan, Fault::MalformedJson);
    h.fakes.push_fault(Vendor::Tartan, Fault::WrongContentType);
    let malformed = h.tartan("acme", Auth::Good).await;
    assert_eq!(
        (malformed.status, malformed.header("content-type")),
        (200, Some("application/json"))
    );
    assert!(serde_json::from_str::<serde_json::Value>(&malformed.text).is_err());
    let html = h.tartan("acme", Auth::Good).await;
    assert_eq!(html.status, 200);
    assert!(
        html.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(h.fakes.tartan_terminated("acme"), Some(false));
}

#[tokio::test]
async fn oversized_body_has_the_asked_size() {
    let h = Harness::new().await;
    h.fakes
        .push_fault(Vendor::Leen, Fault::Oversized { bytes: 3 << 20 });
    let r = h.leen(ORG, CONN, Auth::Good).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text.len(), 3 << 20);
    assert!(serde_json::from_str::<serde_json::Value>(&r.text).is_ok());
}

#[tokio::test]
async fn rate_limited_fault_carries_reset_and_retry_after() {
    let h = Harness::new().await;
    h.fakes.push_fault(
        Vendor::Leen,
        Fault::RateLimited {
            reset_secs: Some(7),
            retry_after: None,
        },
    );
    h.fakes.push_fault(
        Vendor::Leen,
        Fault::RateLimited {
            reset_secs: None,
            retry_after: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
        },
    );
    let a = h.leen(ORG, CONN, Auth::Good).await;
    assert_eq!(
        (
            a.status,
            a.header("ratelimit-reset"),
            a.header("retry-after")
        ),
        (429, Some("7"), None)
    );
    let b = h.leen(ORG, CONN, Auth::Good).await;
    assert_eq!(
        (b.status, b.header("retry-after")),
        (429, Some("Wed, 21 Oct 2026 07:28:00 GMT"))
    );
    assert_eq!(b.header("ratelimit-reset"), None);
}

#[tokio::test]
async fn redirect_fault_points_elsewhere() {
    let h = Harness::new().await;
    h.fakes.push_fault(
        Vendor::Persona,
        Fault::Redirect {
            status: 302,
            location: "http://127.0.0.2:9/steal".into(),
        },
    );
    let r = h.persona("cxn_active", Auth::Good, &[]).await;
    assert_eq!(
        (r.status, r.header("location")),
        (302, Some("http://127.0.0.2:9/steal"))
    );
    assert_eq!(
        h.fakes.persona_status("cxn_active").as_deref(),
        Some("active")
    );
}

#[tokio::test]
async fn faults_are_per_vendor_and_in_order() {
    let h = Harness::new().await;
    h.fakes.push_fault(
        Vendor::Persona,
        Fault::Status {
            status: 503,
            body: json!(null),
            headers: BTreeMap::new(),
            raw: None,
        },
    );
    h.fakes.push_fault(
        Vendor::Persona,
        Fault::Status {
            status: 502,
            body: json!(null),
            headers: BTreeMap::new(),
            raw: None,
        },
    );
    assert_eq!(h.fakes.pending_faults(Vendor::Persona), 2);
    assert_eq!(
        h.tartan("acme", Auth::Good).await.status,
        200,
        "Tartan is not affected"
    );
    assert_eq!(h.persona("cxn_active", Auth::Good, &[]).await.status, 503);
    assert_eq!(h.persona("cxn_active", Auth::Good, &[]).await.status, 502);
    assert_eq!(h.persona("cxn_active", Auth::Good, &[]).await.status, 200);
    assert_eq!(h.fakes.pending_faults(Vendor::Persona), 0);
    let faults: Vec<Option<String>> = h
        .fakes
        .requests_to(Vendor::Persona)
        .into_iter()
        .map(|r| r.fault)
        .collect();
    assert_eq!(faults, [Some("status".into()), Some("status".into()), None]);
}

#[tokio::test]
async fn the_admin_api_queues_faults_seeds_and_serves_the_journal() {
    let h = Harness::new().await;
    let admin = format!("http://{}/_admin", h.fakes.addr());
    let pushed: serde_json::Value = h
        .http
        .post(format!("{admin}/faults/leen"))
        .json(
            &json!([{"kind": "close_before_response"}, {"kind": "rate_limited", "reset_secs": 3}]),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pushed, json!({"pending": 2}));
    let bad_vendor = h
        .http
        .post(format!("{admin}/faults/acme"))
        .json(&json!({"kind": "malformed_json"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_vendor.status(), 404);
    let bad_fault = h
        .http
        .post(format!("{admin}/faults/leen"))
        .json(&json!({"kind": "explode"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_fault.status(), 422);

    let seeded = h
        .http
        .post(format!("{admin}/seed"))
        .json(&json!({"tartan": [{"client_org": "via-admin"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 204);
    let sync = h
        .http
        .post(format!("{admin}/tartan/syncs"))
        .json(&json!({"client_org": "via-admin", "seconds": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(sync.status(), 204);
    assert_eq!(
        h.tartan("via-admin", Auth::Good).await.status,
        400,
        "sync running"
    );
    let unknown = h
        .http
        .post(format!("{admin}/tartan/syncs"))
        .json(&json!({"client_org": "nope", "seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let journal: serde_json::Value = h
        .http
        .get(format!("{admin}/journal"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        journal.as_array().unwrap().len(),
        1,
        "admin calls are not journaled"
    );
    assert_eq!(
        journal[0]["body"],
        json!({"kind": "multipart", "value": [["client_org", "via-admin"]]})
    );
    assert_eq!(
        h.http
            .delete(format!("{admin}/journal"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert!(h.fakes.journal().is_empty());
}

#[tokio::test]
async fn unknown_paths_are_404_and_journaled() {
    let h = Harness::new().await;
    let r = h
        .http
        .get(format!("http://{}/somewhere", h.fakes.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(h.fakes.journal()[0].vendor, None);
}

#[tokio::test]
async fn the_journal_keeps_the_most_recent_requests() {
    let h = Harness::with(disconnect_fakes::FakeConfig::default().with_journal_limit(3)).await;
    for _ in 0..5 {
        h.leen(ORG, "00000000-0000-4000-8000-000000000000", Auth::Good)
            .await;
    }
    let seqs: Vec<u64> = h.fakes.journal().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [3, 4, 5]);
}
