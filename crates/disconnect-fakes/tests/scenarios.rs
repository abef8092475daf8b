//! Every scenario of every fake, over HTTP. Each non-faulted response is validated against the
//! vendor's spec by the harness (see `support::Contract`).

mod support;

use std::time::Duration;

use disconnect_fakes::{FakeConfig, RecordedBody, Vendor, fingerprint};
use serde_json::json;
use support::{Auth, CONN, Harness, ORG, contract};

// -------------------------------------------------------------------------------------- Tartan

#[tokio::test]
async fn tartan_terminates_once_then_conflicts() {
    let h = Harness::new().await;
    let first = h.tartan("acme", Auth::Good).await;
    assert_eq!(
        (first.status, first.json()),
        (
            200,
            json!({"message": "Connection terminated successfully", "data": null})
        )
    );
    assert_eq!(h.fakes.tartan_terminated("acme"), Some(true));
    let again = h.tartan("acme", Auth::Good).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["status"], 409);
    assert!(first.checked && again.checked);
}

#[tokio::test]
async fn tartan_unknown_org_is_404() {
    let h = Harness::new().await;
    let r = h.tartan("nobody", Auth::Good).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], 404);
}

#[tokio::test]
async fn tartan_requires_the_raw_key() {
    let h = Harness::new().await;
    for auth in [Auth::Missing, Auth::Wrong] {
        let r = h.tartan("acme", auth).await;
        assert_eq!(r.status, 401, "{auth:?}");
        assert!(
            r.json()["requestId"]
                .as_str()
                .is_some_and(|id| id.len() == 36)
        );
    }
    // `Bearer <key>` is not Tartan's scheme.
    let bearer = h
        .http
        .post(format!(
            "{}/api/terminate_connection/",
            h.fakes.base_url(Vendor::Tartan)
        ))
        .header(
            "authorization",
            format!("Bearer {}", h.fakes.api_key(Vendor::Tartan)),
        )
        .multipart(reqwest::multipart::Form::new().text("client_org", "acme"));
    assert_eq!(h.tartan_send(bearer).await.status, 401);
    assert_eq!(h.fakes.tartan_terminated("acme"), Some(false));
}

#[tokio::test]
async fn tartan_refuses_while_a_sync_runs_and_succeeds_after_it_ends() {
    let h = Harness::new().await;
    assert!(h.fakes.start_tartan_sync("acme", Duration::from_secs(1)));
    assert!(!h.fakes.start_tartan_sync("nobody", Duration::from_secs(1)));
    let busy = h.tartan("acme", Auth::Good).await;
    assert_eq!(busy.status, 400);
    assert_eq!(
        busy.json()["message"],
        "Connection cannot be terminated while sync is in progress"
    );
    assert_eq!(h.fakes.tartan_terminated("acme"), Some(false));
    // The sync ends by itself: poll (bounded) until the terminate goes through.
    let mut status = busy.status;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = h.tartan("acme", Auth::Good).await.status;
        if status != 400 {
            break;
        }
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn tartan_needs_a_multipart_client_org() {
    let h = Harness::new().await;
    let url = format!(
        "{}/api/terminate_connection/",
        h.fakes.base_url(Vendor::Tartan)
    );
    let key = h.fakes.api_key(Vendor::Tartan).to_string();
    let json_body = h
        .http
        .post(&url)
        .header("authorization", &key)
        .json(&json!({"client_org": "acme"}));
    let no_field = h.tartan_request(None, Auth::Good);
    let urlencoded = h
        .http
        .post(&url)
        .header("authorization", &key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("client_org=acme");
    for req in [json_body, no_field, urlencoded] {
        let r = h.tartan_send(req).await;
        assert_eq!(r.status, 400);
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("client_org: Field required")
        );
    }
    assert_eq!(h.fakes.tartan_terminated("acme"), Some(false));
}

// ------------------------------------------------------------------------------------- Persona

#[tokio::test]
async fn persona_deactivates_pending_and_active_then_conflicts() {
    let h = Harness::new().await;
    for id in ["cxn_active", "cxn_pending"] {
        let r = h.persona(id, Auth::Good, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        assert_eq!(body["data"]["id"], id);
        assert_eq!(body["data"]["type"], "connect/connection");
        assert_eq!(body["data"]["attributes"]["status"], "inactive");
        assert_eq!(h.fakes.persona_status(id).as_deref(), Some("inactive"));
    }
    let again = h.persona("cxn_active", Auth::Good, &[]).await;
    assert_eq!(again.status, 409);
    let seeded_inactive = h.persona("cxn_inactive", Auth::Good, &[]).await;
    assert_eq!(seeded_inactive.status, 409);
    assert_eq!(
        seeded_inactive.json()["errors"][0]["title"],
        "Connection is already inactive"
    );
}

#[tokio::test]
async fn persona_unknown_is_404() {
    let h = Harness::new().await;
    let r = h.persona("cxn_nope", Auth::Good, &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["title"], "Record not found");
}

#[tokio::test]
async fn persona_401_has_no_rate_limit_or_request_headers() {
    let h = Harness::new().await;
    for auth in [Auth::Missing, Auth::Wrong] {
        let r = h.persona("cxn_active", auth, &[]).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json()["errors"][0]["title"],
            "Must be authenticated to access this endpoint"
        );
        for name in ["ratelimit-limit", "request-id", "persona-environment-id"] {
            assert!(r.header(name).is_none(), "{name} on a 401");
        }
    }
    assert_eq!(
        h.fakes.persona_status("cxn_active").as_deref(),
        Some("active")
    );
}

#[tokio::test]
async fn persona_headers_on_every_other_response() {
    let h = Harness::new().await;
    let responses = [
        h.persona("cxn_active", Auth::Good, &[]).await,
        h.persona("cxn_active", Auth::Good, &[]).await,
        h.persona("cxn_nope", Auth::Good, &[]).await,
        h.persona("cxn_pending", Auth::Good, &[("key-inflection", "shouting")])
            .await,
    ];
    let mut request_ids = Vec::new();
    for r in &responses {
        assert_eq!(r.header("ratelimit-limit"), Some("300"));
        assert!(
            r.header("ratelimit-remaining")
                .unwrap()
                .parse::<u32>()
                .unwrap()
                < 300
        );
        assert!(r.header("ratelimit-reset").unwrap().parse::<u32>().unwrap() <= 60);
        assert!(r.header("request-id").unwrap().starts_with("req_"));
        assert!(
            r.header("persona-environment-id")
                .unwrap()
                .starts_with("env_")
        );
        assert!(
            r.header("persona-organization-id")
                .unwrap()
                .starts_with("org_")
        );
        request_ids.push(r.header("request-id").unwrap().to_string());
    }
    request_ids.dedup();
    assert_eq!(request_ids.len(), 4, "request ids are unique");
    assert_eq!(
        responses.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 409, 404, 400]
    );
}

#[tokio::test]
async fn persona_honours_key_inflection() {
    let h = Harness::new().await;
    h.fakes.seed(
        &serde_json::from_value(
            json!({"persona": [{"id": "cxn_a"}, {"id": "cxn_b"}, {"id": "cxn_c"}]}),
        )
        .unwrap(),
    );
    let kebab = h
        .persona("cxn_a", Auth::Good, &[("key-inflection", "kebab")])
        .await
        .json();
    let snake = h
        .persona("cxn_b", Auth::Good, &[("key-inflection", "snake")])
        .await
        .json();
    let camel = h
        .persona("cxn_c", Auth::Good, &[("key-inflection", "camel")])
        .await
        .json();
    assert!(kebab["data"]["attributes"]["destination-organization-id"].is_string());
    assert!(snake["data"]["attributes"]["destination_organization_id"].is_string());
    assert!(camel["data"]["attributes"]["destinationOrganizationId"].is_string());
    assert!(camel["data"]["attributes"]["updatedAt"].is_string());
    let bad = h
        .persona("cxn_active", Auth::Good, &[("key-inflection", "pascal")])
        .await;
    assert_eq!(bad.status, 400);
    let bad_version = h
        .persona(
            "cxn_active",
            Auth::Good,
            &[("persona-version", "1999-01-01")],
        )
        .await;
    assert_eq!(bad_version.status, 400);
    let good_version = h
        .persona(
            "cxn_active",
            Auth::Good,
            &[("persona-version", "2023-01-05")],
        )
        .await;
    assert_eq!(good_version.status, 200);
}

#[tokio::test]
async fn persona_replays_an_idempotency_key() {
    let h = Harness::new().await;
    let key = [("idempotency-key", "offboard-1")];
    let first = h.persona("cxn_active", Auth::Good, &key).await;
    let replay = h.persona("cxn_active", Auth::Good, &key).await;
    assert_eq!(
        (first.status, replay.status),
        (200, 200),
        "the replay is the stored 200, not a 409"
    );
    assert_eq!(first.json(), replay.json());
    // Without the key the same request acts again.
    assert_eq!(h.persona("cxn_active", Auth::Good, &[]).await.status, 409);
    // The key with another connection is refused.
    let other = h.persona("cxn_pending", Auth::Good, &key).await;
    assert_eq!(other.status, 422);
    assert_eq!(
        h.fakes.persona_status("cxn_pending").as_deref(),
        Some("pending")
    );
    // Stored errors replay too.
    let missing = [("idempotency-key", "offboard-404")];
    assert_eq!(
        h.persona("cxn_later", Auth::Good, &missing).await.status,
        404
    );
    h.fakes
        .seed(&serde_json::from_value(json!({"persona": [{"id": "cxn_later"}]})).unwrap());
    assert_eq!(
        h.persona("cxn_later", Auth::Good, &missing).await.status,
        404
    );
}

#[tokio::test]
async fn persona_401_and_429_are_not_stored_for_replay() {
    let h = Harness::with(FakeConfig::default().with_rate_limit(
        Vendor::Persona,
        1,
        Duration::from_millis(400),
    ))
    .await;
    let key = [("idempotency-key", "k")];
    assert_eq!(h.persona("cxn_active", Auth::Wrong, &key).await.status, 401);
    assert_eq!(h.persona("cxn_pending", Auth::Good, &[]).await.status, 200);
    assert_eq!(h.persona("cxn_active", Auth::Good, &key).await.status, 429);
    // After the window the same key runs for real.
    let mut status = 429;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = h.persona("cxn_active", Auth::Good, &key).await.status;
        if status != 429 {
            break;
        }
    }
    assert_eq!(status, 200);
}

#[tokio::test]
async fn persona_rate_limit_answers_429_with_reset() {
    let h = Harness::with(FakeConfig::default().with_rate_limit(
        Vendor::Persona,
        3,
        Duration::from_secs(60),
    ))
    .await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..4 {
        let r = h.persona("cxn_nope", Auth::Good, &[]).await;
        statuses.push(r.status);
        last = Some(r);
    }
    assert_eq!(statuses, [404, 404, 404, 429]);
    let limited = last.unwrap();
    assert_eq!(limited.json()["errors"][0]["title"], "Rate limit exceeded");
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    let reset: u64 = limited.header("ratelimit-reset").unwrap().parse().unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    assert!(
        limited.header("retry-after").is_none(),
        "Persona sends no Retry-After"
    );
}

#[tokio::test]
async fn persona_percent_encoded_ids_are_decoded() {
    let h = Harness::new().await;
    h.fakes
        .seed(&serde_json::from_value(json!({"persona": [{"id": "cxn_a/b"}]})).unwrap());
    let r = h.persona("cxn_a%2Fb", Auth::Good, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.fakes.persona_status("cxn_a/b").as_deref(),
        Some("inactive")
    );
}

// ---------------------------------------------------------------------------------------- Leen

#[tokio::test]
async fn leen_deletes_then_404s() {
    let h = Harness::new().await;
    let r = h.leen(ORG, CONN, Auth::Good).await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(
        (body["state"].as_str(), body["is_active"].as_bool()),
        (Some("DELETED"), Some(false))
    );
    assert_eq!(body["id"], CONN);
    assert_eq!(body["organization_id"], ORG);
    assert!(
        body["updated_at"].as_str() > body["created_at"].as_str(),
        "updated_at moved"
    );
    assert_eq!(
        h.fakes.state(Vendor::Leen, &format!("{ORG}/{CONN}")),
        Some(json!("DELETED"))
    );
    let again = h.leen(ORG, CONN, Auth::Good).await;
    assert_eq!(
        again.status, 404,
        "a deleted connection is not found (documented decision)"
    );
    assert_eq!(again.json(), json!({"detail": "Connection not found"}));
}

#[tokio::test]
async fn leen_non_uuid_path_is_422() {
    let h = Harness::new().await;
    let r = h.leen("not-a-uuid", "also%20bad", Auth::Good).await;
    assert_eq!(r.status, 422);
    let detail = r.json()["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["path", "organization_id"]));
    assert_eq!(detail[1]["loc"], json!(["path", "connection_id"]));
    assert_eq!(detail[1]["msg"], "Input should be a valid UUID");
    assert!(
        r.checked,
        "the body is Leen's documented HTTPValidationError"
    );
}

#[tokio::test]
async fn leen_unknown_is_404_and_auth_is_required() {
    let h = Harness::new().await;
    assert_eq!(
        h.leen(ORG, "00000000-0000-4000-8000-000000000000", Auth::Good)
            .await
            .status,
        404
    );
    for auth in [Auth::Missing, Auth::Wrong] {
        let r = h.leen(ORG, CONN, auth).await;
        assert_eq!(
            (r.status, r.json()),
            (401, json!({"detail": "Invalid API key"}))
        );
    }
    assert_eq!(
        h.fakes.state(Vendor::Leen, &format!("{ORG}/{CONN}")),
        Some(json!("ACTIVE"))
    );
}

// ------------------------------------------------------------------------ every vendor, by table

/// Every vendor of the table, with requests built from the table alone: a live connection is
/// cut (the documented 2xx), cutting it again, an unknown one and a wrong key get the answers
/// its rules and spec say, and every answer whose status the spec documents has the
/// documented shape.
#[tokio::test]
async fn every_vendor_answers_in_its_documented_shapes() {
    let h = Harness::new().await;
    for vendor in Vendor::ALL {
        let op = &vendor.facts().operation;
        let documented = contract().statuses(vendor, op.path, &op.method.to_ascii_lowercase());
        let (live, unknown) = (
            disconnect_fakes::sample_id(vendor, 901),
            disconnect_fakes::sample_id(vendor, 902),
        );
        h.fakes.seed_live(vendor, &live).unwrap();
        let mut answers = Vec::new();
        for (id, auth) in [
            (&live, Auth::Good),
            (&live, Auth::Good),
            (&unknown, Auth::Good),
            (&live, Auth::Wrong),
        ] {
            let r = h.send(vendor, h.request(vendor, id, auth)).await;
            assert_eq!(
                r.checked,
                documented.contains(&r.status),
                "{vendor} {}: {}",
                r.status,
                r.text
            );
            answers.push(r.status);
        }
        let gone = op
            .answers
            .rules
            .iter()
            .find(|r| r.outcome == disconnect_vendors::Outcome::AlreadyDisconnected)
            .or_else(|| {
                op.answers
                    .rules
                    .iter()
                    .find(|r| r.outcome == disconnect_vendors::Outcome::Gone)
            })
            .map_or(404, |r| r.status);
        assert_eq!(answers, [op.success_status, gone, 404, 401], "{vendor}");
        assert_eq!(h.fakes.is_cut(vendor, &live), Some(true), "{vendor}");
        assert_eq!(h.fakes.is_cut(vendor, &unknown), None, "{vendor}");
    }
}

// -------------------------------------------------------------------------- contract coverage

/// One tour producing every documented status the fakes produce by themselves, each checked
/// against the spec. (Tartan's 500 and Persona's 403 only happen through a `status` fault.)
#[tokio::test]
async fn contract_covers_every_documented_status() {
    let h = Harness::with(FakeConfig::default().with_rate_limit(
        Vendor::Persona,
        6,
        Duration::from_secs(60),
    ))
    .await;
    h.fakes.start_tartan_sync("acme", Duration::from_secs(3600));
    h.fakes
        .seed(&serde_json::from_value(json!({"tartan": [{"client_org": "free"}]})).unwrap());
    let tour = [
        (Vendor::Tartan, h.tartan("free", Auth::Good).await),
        (Vendor::Tartan, h.tartan("acme", Auth::Good).await),
        (Vendor::Tartan, h.tartan("acme", Auth::Missing).await),
        (Vendor::Tartan, h.tartan("nobody", Auth::Good).await),
        (Vendor::Tartan, h.tartan("gone", Auth::Good).await),
        (
            Vendor::Persona,
            h.persona("cxn_active", Auth::Good, &[("key-inflection", "kebab")])
                .await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_active", Auth::Good, &[("key-inflection", "x")])
                .await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_active", Auth::Missing, &[]).await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_nope", Auth::Good, &[]).await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_active", Auth::Good, &[("idempotency-key", "a")])
                .await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_pending", Auth::Good, &[("idempotency-key", "a")])
                .await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_nope", Auth::Good, &[]).await,
        ),
        (
            Vendor::Persona,
            h.persona("cxn_nope", Auth::Good, &[]).await,
        ),
        (Vendor::Leen, h.leen(ORG, CONN, Auth::Good).await),
        (Vendor::Leen, h.leen(ORG, "x", Auth::Good).await),
    ];
    let seen: Vec<(Vendor, u16, bool)> = tour
        .iter()
        .map(|(v, r)| (*v, r.status, r.checked))
        .collect();
    let expected_checked = |vendor: Vendor, path: &str, method: &str, natively_missing: &[u16]| {
        let documented = contract().statuses(vendor, path, method);
        for status in documented.iter().filter(|s| !natively_missing.contains(s)) {
            assert!(
                seen.contains(&(vendor, *status, true)),
                "{vendor} {status} was not produced and checked: {seen:?}"
            );
        }
    };
    expected_checked(Vendor::Tartan, "/api/terminate_connection/", "post", &[500]);
    expected_checked(
        Vendor::Persona,
        "/connect/connections/{connection-id}/deactivate",
        "post",
        &[403],
    );
    expected_checked(
        Vendor::Leen,
        "/provisioning/organizations/{organization_id}/connections/{connection_id}",
        "delete",
        &[],
    );
    assert!(seen.contains(&(Vendor::Persona, 429, true)));
    assert!(seen.contains(&(Vendor::Persona, 422, true)));
}

// ---------------------------------------------------------------------------------- journal

#[tokio::test]
async fn the_journal_records_requests_with_keys_fingerprinted() {
    let h = Harness::new().await;
    h.tartan("acme", Auth::Good).await;
    h.persona("cxn_active", Auth::Good, &[("idempotency-key", "k-1")])
        .await;
    h.leen(ORG, CONN, Auth::Good).await;
    let journal = h.fakes.journal();
    assert_eq!(
        journal
            .iter()
            .map(|r| (r.seq, r.vendor))
            .collect::<Vec<_>>(),
        [
            (1, Some(Vendor::Tartan)),
            (2, Some(Vendor::Persona)),
            (3, Some(Vendor::Leen))
        ]
    );
    assert_eq!(
        journal[0].body,
        RecordedBody::Multipart(vec![("client_org".into(), "acme".into())])
    );
    assert_eq!(
        journal[0].header("authorization"),
        Some(fingerprint(h.fakes.api_key(Vendor::Tartan)).as_str())
    );
    assert_eq!(
        journal[1].header("authorization"),
        Some(fingerprint(&format!("Bearer {}", h.fakes.api_key(Vendor::Persona))).as_str())
    );
    assert_eq!(journal[1].header("idempotency-key"), Some("k-1"));
    assert_eq!(journal[1].body, RecordedBody::Empty);
    assert_eq!(journal[2].method, "DELETE");
    assert_eq!(
        journal[2].header("x-api-key"),
        Some(fingerprint(h.fakes.api_key(Vendor::Leen)).as_str())
    );
    let everything = serde_json::to_string(&journal).unwrap();
    for vendor in Vendor::ALL {
        assert!(
            !everything.contains(h.fakes.api_key(vendor)),
            "{vendor}'s key leaked into the journal"
        );
    }
    assert_eq!(h.fakes.requests_to(Vendor::Persona).len(), 1);
    h.fakes.clear_journal();
    assert!(h.fakes.journal().is_empty());
}

// ------------------------------------------------------------- the contract check can fail

const LEEN_PATH: &str = "/provisioning/organizations/{organization_id}/connections/{connection_id}";
const PERSONA_PATH: &str = "/connect/connections/{connection-id}/deactivate";

fn json_headers() -> reqwest::header::HeaderMap {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("content-type", "application/json".parse().unwrap());
    h
}

#[test]
#[should_panic(expected = "body violates the spec")]
fn the_contract_rejects_an_undocumented_enum_value() {
    let mut body = json!({
        "id": CONN, "vendor": "v", "is_active": false, "refresh_interval_secs": 1, "timeout_secs": 1,
        "organization_id": ORG, "state": "DELETED", "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "health": {"name": "HEALTHY", "status": "HEALTHY", "description": "d", "resolution_owner": "LEEN"}
    });
    assert!(contract().check(
        Vendor::Leen,
        LEEN_PATH,
        "delete",
        200,
        &json_headers(),
        &body
    ));
    body["state"] = json!("GONE");
    contract().check(
        Vendor::Leen,
        LEEN_PATH,
        "delete",
        200,
        &json_headers(),
        &body,
    );
}

#[test]
#[should_panic(expected = "body violates the spec")]
fn the_contract_rejects_a_non_uuid_id() {
    let body = json!({"detail": [{"loc": ["path", 1], "msg": "m", "type": "t"}]});
    assert!(contract().check(
        Vendor::Leen,
        LEEN_PATH,
        "delete",
        422,
        &json_headers(),
        &body
    ));
    let bad = json!({"detail": [{"loc": [{"nested": true}], "msg": "m", "type": "t"}]});
    contract().check(
        Vendor::Leen,
        LEEN_PATH,
        "delete",
        422,
        &json_headers(),
        &bad,
    );
}

#[test]
#[should_panic(expected = "declared header RateLimit-Limit missing")]
fn the_contract_requires_declared_headers() {
    contract().check(
        Vendor::Persona,
        PERSONA_PATH,
        "post",
        404,
        &json_headers(),
        &json!({"errors": [{"title": "Record not found"}]}),
    );
}

#[test]
fn undocumented_statuses_are_not_checked() {
    assert!(!contract().check(
        Vendor::Leen,
        LEEN_PATH,
        "delete",
        404,
        &json_headers(),
        &json!({"detail": "x"})
    ));
}
