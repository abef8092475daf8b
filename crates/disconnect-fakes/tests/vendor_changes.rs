//! The generated clients against a vendor that has changed since its spec was taken, or that
//! sits behind a proxy: new enum values and fields decode, and every answer with a documented
//! status keeps its status, headers and body, also when the body is not what the spec says.

use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor};
use progenitor_client::Error;
use serde_json::{Value, json};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";
const PROXY_PAGE: &str = "<html><body><h1>429 Too Many Requests</h1></body></html>";

async fn fakes() -> FakeServer {
    FakeServer::start(FakeConfig::default()).await.unwrap()
}

/// A Leen 200 body with values added after the spec was taken.
fn leen_from_the_future() -> Value {
    json!({
        "id": CONN,
        "vendor": "crowdstrike",
        "is_active": false,
        "refresh_interval_secs": 3600,
        "timeout_secs": 600,
        "organization_id": ORG,
        "oauth2_authorize_url": null,
        "identifier": null,
        "state": "ARCHIVED",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-11-23T00:00:00Z",
        "a_field_added_later": {"nested": [1, 2, 3]},
        "health": {
            "name": "SOME_NEW_HEALTH",
            "status": "DEGRADED",
            "description": "Connection archived",
            "resolution_owner": "SOMEONE_NEW",
            "details": [
                {"data_export_type": "brand_new_data_type", "endpoint": "/v2/things"},
                {"data_export_type": "vulnerabilities", "endpoint": "/v1/vulns"}
            ]
        }
    })
}

#[tokio::test]
async fn leen_values_added_later_decode_and_keep_their_text() {
    use leen_client::types::{ConnectionStateEnum, DataExportTypesEnum};
    use leen_client::{Client, uuid::Uuid};
    let fakes = fakes().await;
    fakes.push_fault(Vendor::Leen, Fault::status(200, leen_from_the_future()));
    let client =
        Client::with_api_key(&fakes.base_url(Vendor::Leen), fakes.api_key(Vendor::Leen)).unwrap();
    let (org, conn): (Uuid, Uuid) = (ORG.parse().unwrap(), CONN.parse().unwrap());

    let deleted = client
        .delete_connection_by_id()
        .organization_id(org)
        .connection_id(conn)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    assert!(deleted.state.is_unknown());
    assert_eq!(deleted.state.as_str(), "ARCHIVED");
    assert_eq!(deleted.state.to_string(), "ARCHIVED");
    assert_ne!(deleted.state, ConnectionStateEnum::Deleted);
    assert_eq!(deleted.health.name.to_string(), "SOME_NEW_HEALTH");
    assert_eq!(deleted.health.status.as_str(), "DEGRADED");
    assert_eq!(deleted.health.resolution_owner.as_str(), "SOMEONE_NEW");
    let details = deleted.health.details.as_ref().unwrap();
    let types: Vec<&str> = details
        .iter()
        .map(|d| d.data_export_type.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(types, ["brand_new_data_type", "vulnerabilities"]);
    assert_eq!(
        details[1].data_export_type,
        Some(DataExportTypesEnum::Vulnerabilities),
        "known values keep their typed variants"
    );
    // Serialising gives back what the vendor sent (the unknown field is ignored, not an error).
    let again = serde_json::to_value(deleted.into_inner()).unwrap();
    assert_eq!(again["state"], "ARCHIVED");
    assert_eq!(again["health"]["name"], "SOME_NEW_HEALTH");
    assert_eq!(
        again["health"]["details"][0]["data_export_type"],
        "brand_new_data_type"
    );
    assert!(again.get("a_field_added_later").is_none());
}

#[tokio::test]
async fn tartan_500_with_an_html_or_empty_body_keeps_its_status() {
    use tartan_client::Client;
    use tartan_client::types::{TerminateConnectionBody, TerminateConnectionError as E};
    let fakes = fakes().await;
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Tartan),
        fakes.api_key(Vendor::Tartan),
    )
    .unwrap();
    let body = TerminateConnectionBody::builder().client_org("acme");
    fakes.push_fault(
        Vendor::Tartan,
        Fault::raw_status(500, "text/html", "<html>Bad things</html>"),
    );
    fakes.push_fault(Vendor::Tartan, Fault::raw_status(500, "text/plain", ""));
    for (expected, content_type) in [("<html>Bad things</html>", "text/html"), ("", "text/plain")] {
        let err = client
            .terminate_connection()
            .body(body.clone())
            .send()
            .await
            .unwrap_err();
        let Error::ErrorResponse(value) = err else {
            panic!("status lost: {err:?}")
        };
        assert_eq!(value.status().as_u16(), 500);
        assert_eq!(value.headers()["content-type"], content_type);
        match value.into_inner() {
            E::Undecodable(raw) => {
                assert_eq!(raw.excerpt_text(), expected);
                assert_eq!(raw.content_type(), Some(content_type));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn persona_429_from_a_proxy_keeps_status_and_reset() {
    use persona_client::Client;
    use persona_client::types::DeactivateAConnectConnectionError as E;
    let fakes = fakes().await;
    let Fault::Status {
        status, body, raw, ..
    } = Fault::raw_status(429, "text/html", PROXY_PAGE)
    else {
        unreachable!()
    };
    fakes.push_fault(
        Vendor::Persona,
        Fault::Status {
            status,
            body,
            raw,
            headers: [("ratelimit-reset".to_string(), "7".to_string())].into(),
        },
    );
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Persona),
        fakes.api_key(Vendor::Persona),
    )
    .unwrap();
    let err = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .send()
        .await
        .unwrap_err();
    let Error::ErrorResponse(value) = err else {
        panic!("status lost: {err:?}")
    };
    assert_eq!(value.status().as_u16(), 429);
    assert_eq!(value.headers()["ratelimit-reset"], "7");
    assert!(
        matches!(value.as_ref(), E::Undecodable(raw) if raw.excerpt_text() == PROXY_PAGE),
        "{value:?}"
    );
}

#[tokio::test]
async fn every_persona_error_status_has_its_own_variant() {
    use persona_client::Client;
    use persona_client::types::DeactivateAConnectConnectionError as E;
    let fakes = fakes().await;
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Persona),
        fakes.api_key(Vendor::Persona),
    )
    .unwrap();
    let documented = persona_client::operations::DEACTIVATE_A_CONNECT_CONNECTION.error_statuses;
    assert_eq!(documented, [400, 401, 403, 404, 409, 422, 429]);
    for &status in documented {
        let title = format!("title of {status}");
        fakes.push_fault(
            Vendor::Persona,
            Fault::status(status, json!({"errors": [{"title": title}]})),
        );
        let err = client
            .deactivate_a_connect_connection()
            .connection_id("cxn_1")
            .send()
            .await
            .unwrap_err();
        let Error::ErrorResponse(value) = err else {
            panic!("{status}: {err:?}")
        };
        assert_eq!(value.status().as_u16(), status);
        let decoded = value.into_inner();
        assert_eq!(decoded.documented_status(), Some(status), "{decoded:?}");
        let body = match decoded {
            E::BadRequest(b)
            | E::Unauthorized(b)
            | E::Forbidden(b)
            | E::NotFound(b)
            | E::Conflict(b)
            | E::UnprocessableEntity(b)
            | E::TooManyRequests(b) => b,
            other => panic!("{status}: {other:?}"),
        };
        assert_eq!(body.errors[0].title, title);
    }
}

#[tokio::test]
async fn every_tartan_error_status_has_its_own_variant() {
    use tartan_client::Client;
    use tartan_client::types::{TerminateConnectionBody, TerminateConnectionError as E};
    let fakes = fakes().await;
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Tartan),
        fakes.api_key(Vendor::Tartan),
    )
    .unwrap();
    let body = TerminateConnectionBody::builder().client_org("acme");
    let answers = [
        (400, json!({"message": "sync in progress", "data": null})),
        (
            401,
            json!({"requestId": "r-401", "message": "no", "data": null}),
        ),
        (404, json!({"code": 404, "message": "nobody", "data": null})),
        (
            409,
            json!({"status": 409, "message": "already", "data": null}),
        ),
        (
            500,
            json!({"requestId": "r-500", "message": "oops", "data": null}),
        ),
    ];
    assert_eq!(
        tartan_client::operations::TERMINATE_CONNECTION.error_statuses,
        answers.clone().map(|(s, _)| s)
    );
    for (status, answer) in answers {
        fakes.push_fault(Vendor::Tartan, Fault::status(status, answer));
        let err = client
            .terminate_connection()
            .body(body.clone())
            .send()
            .await
            .unwrap_err();
        let Error::ErrorResponse(value) = err else {
            panic!("{status}: {err:?}")
        };
        let decoded = value.into_inner();
        assert_eq!(decoded.documented_status(), Some(status));
        match decoded {
            E::BadRequest(b) => assert_eq!(b.message.as_deref(), Some("sync in progress")),
            E::Unauthorized(u) => assert_eq!(u.request_id.as_deref(), Some("r-401")),
            E::NotFound(n) => assert_eq!(n.code, Some(404)),
            E::Conflict(c) => assert_eq!(c.status, Some(409)),
            E::InternalServerError(e) => assert_eq!(e.request_id.as_deref(), Some("r-500")),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn persona_stores_a_5xx_under_its_idempotency_key() {
    use persona_client::Client;
    let fakes = fakes().await;
    fakes.seed(&serde_json::from_value(json!({"persona": [{"id": "cxn_1"}]})).unwrap());
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Persona),
        fakes.api_key(Vendor::Persona),
    )
    .unwrap();
    fakes.push_fault(
        Vendor::Persona,
        Fault::status(500, json!({"errors": [{"title": "Internal error"}]})),
    );
    for _ in 0..2 {
        let err = client
            .deactivate_a_connect_connection()
            .connection_id("cxn_1")
            .idempotency_key("k-1")
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err:?}");
    }
    // A new key reaches the connection.
    let done = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .idempotency_key("k-2")
        .send()
        .await
        .unwrap();
    assert_eq!(done.data.attributes.status, "inactive");
    // Without a key nothing is stored; an unauthenticated 5xx is not stored either.
    fakes.push_fault(Vendor::Persona, Fault::status(502, json!(null)));
    let bad = Client::with_api_key(&fakes.base_url(Vendor::Persona), "wrong").unwrap();
    assert!(
        bad.deactivate_a_connect_connection()
            .connection_id("cxn_1")
            .idempotency_key("k-3")
            .send()
            .await
            .is_err()
    );
    let answer = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .idempotency_key("k-3")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        answer.status().map(|s| s.as_u16()),
        Some(409),
        "k-3 was not stored for the unauthenticated request: {answer:?}"
    );
}
