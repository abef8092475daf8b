//! The facade against `disconnect-fakes`: the mapping table, retries per injected fault (with
//! exact attempt counts), idempotency keys as the vendor saw them, plans and bulk runs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{CONN, ORG, builder};
use disconnect::{
    BulkOptions, DisconnectError, DisconnectStatus, Disconnector, Previous, Target, Vendor,
};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor as FakeVendor};
use futures_util::StreamExt;
use serde_json::json;

async fn fakes_with(config: FakeConfig) -> FakeServer {
    let fakes = FakeServer::start(config).await.unwrap();
    fakes.seed(&serde_json::from_value(json!({
        "tartan": [{"client_org": "acme"}, {"client_org": "busy"}, {"client_org": "done", "terminated": true}],
        "persona": [{"id": "cxn_1"}, {"id": "cxn_2", "status": "pending"}, {"id": "cxn_off", "status": "inactive"}],
        "leen": [{"organization_id": ORG, "connection_id": CONN}]
    }))
    .unwrap());
    fakes
}

async fn fakes() -> FakeServer {
    fakes_with(FakeConfig::default()).await
}

fn t(text: &str) -> Target {
    text.parse().unwrap()
}

fn leen() -> Target {
    t(&format!("leen:{ORG}/{CONN}"))
}

/// `status HTTP attempts` or `error-kind HTTP attempts`, for compact assertions.
fn summary(result: &Result<disconnect::Receipt, DisconnectError>) -> String {
    match result {
        Ok(d) => format!("{:?} {} x{}", d.status, d.http_status, d.attempts),
        Err(e) => format!(
            "{} {} x{}",
            e.kind(),
            e.http_status().map(|s| s.to_string()).unwrap_or("-".into()),
            e.attempts()
        ),
    }
}

#[tokio::test]
async fn the_mapping_table() {
    // Persona: 6 requests reach the limiter below before the 429 row (faults never do).
    let fakes = fakes_with(FakeConfig::default().with_rate_limit(
        FakeVendor::Persona,
        6,
        Duration::from_secs(60),
    ))
    .await;
    let d = builder(&fakes).max_attempts(1).build().unwrap();
    fakes.start_tartan_sync("busy", Duration::from_secs(3600));
    let wrong_key = Disconnector::builder()
        .api_key(Vendor::Tartan, "wrong")
        .base_url(Vendor::Tartan, fakes.base_url(FakeVendor::Tartan))
        .api_key(Vendor::Persona, "wrong")
        .base_url(Vendor::Persona, fakes.base_url(FakeVendor::Persona))
        .api_key(Vendor::Leen, "wrong")
        .base_url(Vendor::Leen, fakes.base_url(FakeVendor::Leen))
        .max_attempts(1)
        .build()
        .unwrap();

    let mut rows = Vec::new();
    let mut row = |label: &str, r: Result<disconnect::Receipt, DisconnectError>| {
        rows.push(format!("{label:<40} {}", summary(&r)));
        r
    };
    let done = row("tartan 200", d.disconnect(&t("tartan:acme")).await).unwrap();
    assert!(
        matches!(&done.record, disconnect::VendorRecord::Tartan(r) if r.message.as_deref().is_some_and(|m| m.contains("terminated")))
    );
    row(
        "tartan 409 already terminated",
        d.disconnect(&t("tartan:acme")).await,
    )
    .unwrap();
    let busy = row(
        "tartan 400 sync in progress",
        d.disconnect(&t("tartan:busy")).await,
    )
    .unwrap_err();
    assert!(busy.is_retryable());
    row("tartan 401", wrong_key.disconnect(&t("tartan:acme")).await).unwrap_err();
    row("tartan 404", d.disconnect(&t("tartan:nobody")).await).unwrap_err();
    fakes.push_fault(
        FakeVendor::Tartan,
        Fault::Status {
            status: 500,
            body: json!({"requestId": "r-500", "message": "Internal Server Error", "data": null}),
            headers: Default::default(),
            raw: None,
        },
    );
    let server = row("tartan 500", d.disconnect(&t("tartan:nobody")).await).unwrap_err();
    assert_eq!(
        server.request_id(),
        Some("r-500"),
        "Tartan's requestId body field"
    );

    let done = row("persona 200", d.disconnect(&t("persona:cxn_1")).await).unwrap();
    assert!(
        done.request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req_")),
        "Request-Id header"
    );
    assert!(
        matches!(&done.record, disconnect::VendorRecord::Persona(c) if c.attributes.status == "inactive")
    );
    row(
        "persona 409 already inactive",
        d.disconnect(&t("persona:cxn_off")).await,
    )
    .unwrap();
    row(
        "persona 401",
        wrong_key.disconnect(&t("persona:cxn_2")).await,
    )
    .unwrap_err();
    row("persona 404", d.disconnect(&t("persona:cxn_nope")).await).unwrap_err();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::status(403, json!({"errors": [{"title": "Forbidden"}]})),
    );
    row("persona 403", d.disconnect(&t("persona:cxn_2")).await).unwrap_err();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::status(
            400,
            json!({"errors": [{"title": "Bad request", "details": "why"}]}),
        ),
    );
    let invalid = row("persona 400", d.disconnect(&t("persona:cxn_2")).await).unwrap_err();
    assert!(
        matches!(&invalid, DisconnectError::Invalid { problems, .. } if problems == &["Bad request: why"])
    );
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::status(422, json!({"errors": [{"title": "Invalid"}]})),
    );
    row("persona 422", d.disconnect(&t("persona:cxn_2")).await).unwrap_err();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::RateLimited {
            reset_secs: Some(30),
            retry_after: None,
        },
    );
    let limited = row("persona 429", d.disconnect(&t("persona:cxn_2")).await).unwrap_err();
    assert!(
        matches!(
            limited,
            DisconnectError::RateLimited {
                retry_after: Some(_),
                ..
            }
        ),
        "{limited:?}"
    );

    let done = row("leen 200", d.disconnect(&leen()).await).unwrap();
    assert!(matches!(&done.record, disconnect::VendorRecord::Leen(c) if !c.is_active));
    row("leen 404 second delete", d.disconnect(&leen()).await).unwrap_err();
    row("leen 401", wrong_key.disconnect(&leen()).await).unwrap_err();
    fakes.push_fault(FakeVendor::Leen, Fault::status(422, json!({"detail": [{"loc": ["path", "connection_id"], "msg": "Input should be a valid UUID", "type": "uuid_parsing"}]})));
    let invalid = row("leen 422", d.disconnect(&leen()).await).unwrap_err();
    assert!(
        matches!(&invalid, DisconnectError::Invalid { problems, .. } if problems == &["path.connection_id: Input should be a valid UUID"])
    );
    fakes.push_fault(
        FakeVendor::Leen,
        Fault::Status {
            status: 418,
            body: json!({"why": "x".repeat(5000)}),
            headers: Default::default(),
            raw: None,
        },
    );
    let odd = row("leen 418 (not in the spec)", d.disconnect(&leen()).await).unwrap_err();
    assert!(
        matches!(&odd, DisconnectError::Unexpected { body, .. } if body.len() <= 1024 + 16),
        "body cut to 1 KiB"
    );

    let gone = builder(&fakes).not_found_is_gone(true).build().unwrap();
    row(
        "leen 404 with not_found_is_gone",
        gone.disconnect(&leen()).await,
    )
    .unwrap();
    insta::assert_snapshot!(rows.join("\n"));
}

#[tokio::test]
async fn each_fault_retried_or_not_with_exact_attempts() {
    let fakes = fakes().await;
    let d = builder(&fakes)
        .attempt_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let status = |s: u16| Fault::Status {
        status: s,
        body: json!({"message": "x"}),
        headers: Default::default(),
        raw: None,
    };
    // (fault queued before each call, expected summary). Each case uses a fresh Persona id.
    let cases: Vec<(&str, Vec<Fault>, &str)> = vec![
        (
            "close before response, then ok",
            vec![Fault::CloseBeforeResponse],
            "Disconnected 200 x2",
        ),
        (
            "close before response x3",
            vec![Fault::CloseBeforeResponse; 3],
            "transport - x3",
        ),
        (
            "reset mid-response: the retry replays",
            vec![Fault::CloseMidResponse],
            "Disconnected 200 x2",
        ),
        ("500 then ok", vec![status(500)], "Disconnected 200 x2"),
        (
            "502 503 then ok",
            vec![status(502), status(503)],
            "Disconnected 200 x3",
        ),
        (
            "504 x3",
            vec![status(504), status(504), status(504)],
            "server 504 x3",
        ),
        ("501 is not retried", vec![status(501)], "server 501 x1"),
        (
            "429 without reset, then ok",
            vec![Fault::status(
                429,
                json!({"errors": [{"title": "Rate limit exceeded"}]}),
            )],
            "Disconnected 200 x2",
        ),
        (
            "timeout, then ok",
            vec![Fault::Delay { millis: 1_000 }],
            "Disconnected 200 x2",
        ),
        (
            "malformed JSON is not retried",
            vec![Fault::MalformedJson],
            "invalid_response 200 x1",
        ),
        (
            "truncated JSON is not retried",
            vec![Fault::TruncatedJson],
            "invalid_response 200 x1",
        ),
        (
            "wrong content type",
            vec![Fault::WrongContentType],
            "invalid_response 200 x1",
        ),
        (
            "oversized body",
            vec![Fault::Oversized { bytes: 2 << 20 }],
            "invalid_response 200 x1",
        ),
        (
            "redirect is not followed",
            vec![Fault::Redirect {
                status: 307,
                location: "http://127.0.0.2:1/x".into(),
            }],
            "redirected 307 x1",
        ),
    ];
    let mut rows = Vec::new();
    for (i, (label, faults, expected)) in cases.into_iter().enumerate() {
        let id = format!("cxn_fault_{i}");
        fakes.seed(&serde_json::from_value(json!({"persona": [{"id": id}]})).unwrap());
        for f in faults {
            fakes.push_fault(FakeVendor::Persona, f);
        }
        let result = d.disconnect(&t(&format!("persona:{id}"))).await;
        assert_eq!(summary(&result), expected, "{label}: {result:?}");
        assert_eq!(
            fakes.pending_faults(FakeVendor::Persona),
            0,
            "{label}: every queued fault was used"
        );
        rows.push(format!("{label:<40} {}", summary(&result)));
    }
    assert_eq!(rows.len(), 14);
}

#[tokio::test]
async fn the_idempotency_key_is_the_same_on_every_retry_and_every_run() {
    let fakes = fakes().await;
    let d = builder(&fakes).build().unwrap();
    fakes.push_fault(FakeVendor::Persona, Fault::CloseBeforeResponse);
    fakes.push_fault(FakeVendor::Persona, Fault::CloseBeforeResponse);
    let target = t("persona:cxn_1");
    let done = d.disconnect(&target).await.unwrap();
    assert_eq!(done.attempts, 3);
    let keys: Vec<String> = fakes
        .requests_to(FakeVendor::Persona)
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
    assert_eq!(Some(keys[0].clone()), d.idempotency_key(&target));
    // A new process (new Disconnector) derives the same key, so Persona replays its answer.
    let again = builder(&fakes).build().unwrap();
    assert_eq!(again.idempotency_key(&target), d.idempotency_key(&target));
    let replay = again.disconnect(&target).await.unwrap();
    assert_eq!(
        replay.status,
        DisconnectStatus::Disconnected,
        "the stored 200, not a 409"
    );
    // Another operation id is another key.
    let other = builder(&fakes)
        .operation_id("offboarding-2026-11")
        .build()
        .unwrap();
    assert_ne!(other.idempotency_key(&target), d.idempotency_key(&target));
    assert_eq!(
        other.disconnect(&target).await.unwrap().status,
        DisconnectStatus::AlreadyDisconnected
    );
    // Every Persona request pins Key-Inflection and Persona-Version.
    for r in fakes.requests_to(FakeVendor::Persona) {
        assert_eq!(
            (r.header("key-inflection"), r.header("persona-version")),
            (Some("kebab"), Some("2025-12-08"))
        );
    }
    assert_eq!(d.idempotency_key(&t("tartan:acme")), None);
}

/// Persona stores a 5xx under its idempotency key and replays it: the retry asks under a fresh
/// key derived from the first, and a rerun continues the chain instead of meeting the replay.
#[tokio::test]
async fn after_a_persona_5xx_the_retry_and_the_rerun_use_a_fresh_key() {
    let fakes = fakes().await;
    let target = t("persona:cxn_1");
    let sent_keys = || -> Vec<String> {
        fakes
            .requests_to(FakeVendor::Persona)
            .iter()
            .map(|r| r.header("idempotency-key").unwrap().to_string())
            .collect()
    };
    // Within a call: 500, then success under another key.
    let d = builder(&fakes).build().unwrap();
    let first = d.idempotency_key(&target).unwrap();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::status(500, json!({"errors": [{"title": "Internal error"}]})),
    );
    let done = d.disconnect(&target).await.unwrap();
    assert_eq!(
        (done.status, done.attempts),
        (DisconnectStatus::Disconnected, 2)
    );
    assert_eq!(sent_keys(), [first.clone(), format!("{first}-r1")]);
    assert_eq!(done.idempotency_key, Some(format!("{first}-r1")));

    // Across runs: a run that ends on a stored 500 ...
    let target = t("persona:cxn_2");
    let once = builder(&fakes).max_attempts(1).build().unwrap();
    let first = once.idempotency_key(&target).unwrap();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::status(500, json!({"errors": [{"title": "Internal error"}]})),
    );
    let failed = once.disconnect(&target).await.unwrap_err();
    assert_eq!(failed.http_status(), Some(500));
    assert_eq!(
        failed.ctx().idempotency_key.as_deref(),
        Some(first.as_str())
    );
    // ... is replayed to a rerun that starts from scratch (the trap) ...
    let replayed = once.disconnect(&target).await.unwrap_err();
    assert_eq!(replayed.http_status(), Some(500), "Persona replays the 500");
    // ... but not to one that continues from what the run recorded.
    let previous = Previous::new(failed.ctx().idempotency_key.clone(), failed.http_status());
    let resumed = once.disconnect_resuming(&target, &previous).await.unwrap();
    assert_eq!(
        (resumed.status, resumed.attempts),
        (DisconnectStatus::Disconnected, 1)
    );
    let keys = sent_keys();
    assert_eq!(keys[keys.len() - 1], format!("{first}-r1"));
    assert_eq!(
        keys.iter().filter(|k| **k == first).count(),
        2,
        "only the failed run and the plain rerun sent the stored key: {keys:?}"
    );
}

#[tokio::test]
async fn rate_limit_reset_is_honoured_and_pauses_the_lane() {
    let fakes = fakes().await;
    let d = builder(&fakes).build().unwrap();
    fakes.push_fault(
        FakeVendor::Leen,
        Fault::RateLimited {
            reset_secs: Some(1),
            retry_after: None,
        },
    );
    let done = d.disconnect(&leen()).await.unwrap();
    assert_eq!(done.attempts, 2);
    // Retry-After as an HTTP date works too.
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
    fakes.push_fault(
        FakeVendor::Tartan,
        Fault::RateLimited {
            reset_secs: None,
            retry_after: Some(date),
        },
    );
    assert_eq!(d.disconnect(&t("tartan:acme")).await.unwrap().attempts, 2);
    // A reset beyond the longest lane wait: RateLimited at once, with the reset time. (A
    // reset beyond the deadline alone is waited out: lane time is not the call's.)
    let short = builder(&fakes)
        .deadline(Duration::from_secs(5))
        .max_lane_wait(Duration::from_secs(60))
        .build()
        .unwrap();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::RateLimited {
            reset_secs: Some(3600),
            retry_after: None,
        },
    );
    match short.disconnect(&t("persona:cxn_1")).await.unwrap_err() {
        DisconnectError::RateLimited { retry_after, ctx } => {
            assert_eq!(retry_after, Some(Duration::from_secs(3600)));
            assert_eq!((ctx.attempts, ctx.http_status), (1, Some(429)));
        }
        other => panic!("{other:?}"),
    }
    // The lane stays paused: the next Persona call does not even send.
    let before = fakes.requests_to(FakeVendor::Persona).len();
    let err = short.disconnect(&t("persona:cxn_2")).await.unwrap_err();
    assert!(
        matches!(err, DisconnectError::RateLimited { .. }) && err.attempts() == 0,
        "{err:?}"
    );
    assert_eq!(fakes.requests_to(FakeVendor::Persona).len(), before);
    // Other vendors' lanes are not affected.
    assert!(short.disconnect(&t("tartan:busy")).await.is_ok());
}

#[tokio::test]
async fn a_tartan_sync_is_waited_out_when_asked() {
    let fakes = fakes().await;
    // Built first: building the clients (a TLS backend loading the system's roots) must not
    // eat into the sync.
    let d = builder(&fakes)
        .wait_for_sync(Some(Duration::from_secs(10)))
        .sync_poll_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    fakes.start_tartan_sync("busy", Duration::from_secs(1));
    let done = d.disconnect(&t("tartan:busy")).await.unwrap();
    assert_eq!(done.status, DisconnectStatus::Disconnected);
    assert!(done.attempts >= 2, "{}", done.attempts);
}

#[tokio::test]
async fn the_deadline_bounds_the_whole_call() {
    let fakes = fakes().await;
    let d = builder(&fakes)
        .deadline(Duration::from_millis(400))
        .attempt_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    fakes.push_fault(FakeVendor::Leen, Fault::Delay { millis: 3_000 });
    let err = d.disconnect(&leen()).await.unwrap_err();
    assert!(
        matches!(err, DisconnectError::Timeout { deadline: true, .. }),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_retried_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let d = Disconnector::builder()
        .api_key(Vendor::Leen, "k")
        .base_url(Vendor::Leen, closed)
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let err = d.disconnect(&leen()).await.unwrap_err();
    assert!(
        matches!(err, DisconnectError::Transport { .. }) && err.attempts() == 3,
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn plans_match_what_is_sent() {
    let fakes = fakes().await;
    let d = builder(&fakes).build().unwrap();
    let mut shown = Vec::new();
    // Every vendor of the table, on a live sample target: a vendor added later is compared too.
    for vendor in disconnect::Vendor::ALL {
        let fake = common::fake(vendor);
        let id = disconnect_fakes::sample_id(fake, 1);
        fakes.seed_live(fake, &id).unwrap();
        let target = t(&format!("{}:{id}", vendor.id()));
        let plan = d.plan(&target).unwrap();
        fakes.clear_journal();
        d.disconnect(&target).await.unwrap();
        let sent = fakes.journal().pop().unwrap();
        let query = sent
            .query
            .as_ref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        assert_eq!(
            format!("{} {}", plan.method, plan.url),
            format!(
                "{} http://{}{}{query}",
                sent.method,
                fakes.addr(),
                sent.path
            )
        );
        for (name, value) in &plan.headers {
            let actual = sent
                .header(name)
                .unwrap_or_else(|| panic!("{target}: planned header {name} not sent"));
            if value.contains(disconnect::REDACTED) {
                assert!(actual.starts_with("fp:"), "{name} is the secret");
            } else if !value.contains("<random>") {
                assert_eq!(actual, value, "{target}: {name}");
            }
        }
        let sent_names: BTreeSet<&str> = sent
            .headers
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| !matches!(*n, "host" | "content-length"))
            .collect();
        let planned_names: BTreeSet<&str> = plan.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(sent_names, planned_names, "{target}: same headers");
        if let disconnect_fakes::RecordedBody::Multipart(parts) = &sent.body {
            assert_eq!(parts, &plan.multipart);
        } else {
            assert!(plan.multipart.is_empty());
        }
        shown.push(
            plan.to_string()
                .replace(&fakes.addr().to_string(), "127.0.0.1:[port]"),
        );
    }
    insta::assert_snapshot!(shown.join("\n"));
    assert_eq!(fakes.journal().len(), 1, "plan() sent nothing");
}

#[tokio::test]
async fn bulk_yields_exactly_one_result_per_target() {
    let fakes = fakes_with(FakeConfig::default().with_rate_limit(
        FakeVendor::Persona,
        40,
        Duration::from_secs(60),
    ))
    .await;
    let mut targets = Vec::new();
    let mut seed = json!({"tartan": [], "persona": [], "leen": []});
    for i in 0..120 {
        match i % 3 {
            0 => {
                seed["tartan"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"client_org": format!("org-{i}")}));
                targets.push(t(&format!("tartan:org-{i}")));
            }
            1 => {
                if i % 2 == 0 {
                    seed["persona"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({"id": format!("cxn_b{i}")}));
                }
                targets.push(t(&format!("persona:cxn_b{i}")));
            }
            _ => {
                let conn = uuid::Uuid::from_u128(i as u128);
                seed["leen"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"organization_id": ORG, "connection_id": conn}));
                targets.push(Target::leen(ORG.parse().unwrap(), conn));
            }
        }
    }
    targets.push(t("tartan:acme"));
    targets.push(t("tartan:acme")); // the same target twice: one cut, one already cut
    fakes.seed(&serde_json::from_value(seed).unwrap());
    let d = builder(&fakes).build().unwrap();
    let options = BulkOptions::default()
        .concurrency(8)
        .per_vendor(BTreeMap::from([(Vendor::Persona, 2)]));
    let results: Vec<_> = d.disconnect_all(targets.clone(), options).collect().await;
    assert_eq!(results.len(), targets.len());
    let mut seen: Vec<String> = results
        .iter()
        .map(|r| match r {
            Ok(d) => d.target.to_string(),
            Err(e) => e.target().to_string(),
        })
        .collect();
    let mut expected: Vec<String> = targets.iter().map(ToString::to_string).collect();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected, "each target exactly once");
    let count = |f: &dyn Fn(&Result<disconnect::Receipt, DisconnectError>) -> bool| {
        results.iter().filter(|r| f(r)).count()
    };
    assert_eq!(
        count(&|r| matches!(r, Ok(d) if d.status == DisconnectStatus::AlreadyDisconnected)),
        1
    );
    assert_eq!(
        count(&|r| matches!(r, Err(DisconnectError::NotFound { .. }))),
        20,
        "unseeded Persona ids"
    );
    assert_eq!(count(&|r| r.is_ok()), 102);
    // Persona's limit of 40 per minute was never exceeded: the per-vendor cap and lane kept order.
    assert_eq!(
        count(&|r| matches!(r, Err(DisconnectError::RateLimited { .. }))),
        0
    );
}

#[tokio::test]
async fn a_rate_limited_lane_pauses_in_bulk_instead_of_hammering() {
    let fakes = fakes().await;
    let ids: Vec<String> = (0..6).map(|i| format!("cxn_lane_{i}")).collect();
    fakes.seed(
        &serde_json::from_value(
            json!({"persona": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}),
        )
        .unwrap(),
    );
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::RateLimited {
            reset_secs: Some(1),
            retry_after: None,
        },
    );
    let d = builder(&fakes).build().unwrap();
    let targets: Vec<Target> = ids.iter().map(|id| t(&format!("persona:{id}"))).collect();
    let options = BulkOptions::default().concurrency(1);
    let results: Vec<_> = d.disconnect_all(targets, options).collect().await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let sent = fakes.requests_to(FakeVendor::Persona);
    assert_eq!(
        sent.len(),
        7,
        "six cuts and the one 429: nothing sent into the pause"
    );
}

/// The vendor changed, or a proxy answered: each row of the clients issue's table, through the
/// facade against the fakes.
#[tokio::test]
async fn vendor_changes_and_proxy_pages_are_classified_by_status() {
    let fakes = fakes().await;
    let d = builder(&fakes)
        .deadline(Duration::from_secs(10))
        .max_lane_wait(Duration::from_secs(60))
        .build()
        .unwrap();

    // Leen 200 with a state and a health name added after the spec was taken: a success, and
    // the record shows the values as sent.
    let mut body = json!({
        "id": CONN, "vendor": "crowdstrike", "is_active": false, "refresh_interval_secs": 3600,
        "timeout_secs": 600, "organization_id": ORG, "state": "ARCHIVED",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-11-23T00:00:00Z",
        "health": {"name": "SOME_NEW_HEALTH", "status": "HEALTHY", "description": "archived",
                   "resolution_owner": "LEEN",
                   "details": [{"data_export_type": "a_new_data_type", "endpoint": "/x"}]},
        "added_later": true
    });
    fakes.push_fault(FakeVendor::Leen, Fault::status(200, body.take()));
    let done = d.disconnect(&leen()).await.unwrap();
    assert_eq!(
        (done.status, done.http_status, done.attempts),
        (DisconnectStatus::Disconnected, 200, 1)
    );
    let disconnect::VendorRecord::Leen(record) = &done.record else {
        panic!("{:?}", done.record)
    };
    assert_eq!(record.state.to_string(), "ARCHIVED");
    assert_eq!(record.health.name.as_str(), "SOME_NEW_HEALTH");

    // Tartan 500 with an HTML page, every time: a server error with its status, retried.
    for _ in 0..3 {
        fakes.push_fault(
            FakeVendor::Tartan,
            Fault::raw_status(500, "text/html", "<html>oops</html>"),
        );
    }
    let err = d.disconnect(&t("tartan:acme")).await.unwrap_err();
    assert!(matches!(err, DisconnectError::Server { .. }), "{err:?}");
    assert_eq!((err.http_status(), err.attempts()), (Some(500), 3));
    assert!(err.is_retryable());

    // Persona 429 with a proxy's page and a reset longer than the caller waits at a lane:
    // rate limited, the reset read from the header.
    let Fault::Status {
        status, body, raw, ..
    } = Fault::raw_status(429, "text/html", "<html>slow down</html>")
    else {
        unreachable!()
    };
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::Status {
            status,
            body,
            raw,
            headers: [("ratelimit-reset".to_string(), "120".to_string())].into(),
        },
    );
    let err = d.disconnect(&t("persona:cxn_1")).await.unwrap_err();
    match &err {
        DisconnectError::RateLimited { retry_after, ctx } => {
            assert_eq!(*retry_after, Some(Duration::from_secs(120)));
            assert_eq!((ctx.http_status, ctx.attempts), (Some(429), 1));
        }
        other => panic!("{other:?}"),
    }

    // A 2xx whose body cannot be read: not retried (the vendor may have acted), status kept.
    // (A new disconnector: the 429 above paused this one's Persona lane for 120 s.)
    let d = builder(&fakes).build().unwrap();
    fakes.push_fault(
        FakeVendor::Persona,
        Fault::raw_status(200, "text/html", "<html>maintenance</html>"),
    );
    let err = d.disconnect(&t("persona:cxn_2")).await.unwrap_err();
    assert!(
        matches!(&err, DisconnectError::InvalidResponse { message, .. } if message.contains("could not be decoded")),
        "{err:?}"
    );
    assert_eq!((err.http_status(), err.attempts()), (Some(200), 1));
}

#[tokio::test]
async fn the_persona_version_set_on_the_builder_is_sent() {
    let fakes = fakes().await;
    let d = builder(&fakes)
        .persona_version(disconnect::persona::types::PersonaVersion::X20230105)
        .build()
        .unwrap();
    let target = t("persona:cxn_1");
    let plan = d.plan(&target).unwrap();
    assert!(
        plan.headers
            .iter()
            .any(|(n, v)| n == "persona-version" && v == "2023-01-05"),
        "{plan}"
    );
    d.disconnect(&target).await.unwrap();
    let sent = fakes.journal().pop().unwrap();
    assert_eq!(sent.header("persona-version"), Some("2023-01-05"));
}

#[test]
fn each_vendor_target_exposes_its_typed_ids() {
    let Target::Tartan(tartan) = t("tartan:acme/eu") else {
        panic!("not a Tartan target")
    };
    assert_eq!(tartan.client_org(), "acme/eu");
    let Target::Persona(persona) = t("persona:cxn_1") else {
        panic!("not a Persona target")
    };
    assert_eq!(persona.connection_id(), "cxn_1");
    let Target::Leen(leen) = leen() else {
        panic!("not a Leen target")
    };
    assert_eq!(leen.organization_id().to_string(), ORG);
    assert_eq!(leen.connection_id().to_string(), CONN);
    let shape = "leen:not-two-ids".parse::<Target>().unwrap_err();
    assert!(
        matches!(
            shape,
            disconnect::TargetError::Shape {
                vendor: disconnect::Vendor::Leen,
                ..
            }
        ),
        "{shape:?}"
    );
    assert_eq!(
        shape.to_string(),
        "a Leen target is leen:<organization_uuid>/<connection_uuid>, got `\"not-two-ids\"`"
    );
}
