//! End to end: the generated clients against the fakes get a typed result for every scenario.

use std::time::Duration;

use disconnect_fakes::{FakeConfig, FakeServer, Vendor};
use progenitor_client::Error;
use serde_json::json;

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

async fn fakes(persona_rate_limit: u32) -> FakeServer {
    let fakes = FakeServer::start(FakeConfig::default().with_rate_limit(
        Vendor::Persona,
        persona_rate_limit,
        Duration::from_secs(60),
    ))
    .await
    .unwrap();
    fakes.seed(
        &serde_json::from_value(json!({
            "tartan": [{"client_org": "acme"}, {"client_org": "busy"}],
            "persona": [{"id": "cxn_1"}],
            "leen": [{"organization_id": ORG, "connection_id": CONN}]
        }))
        .unwrap(),
    );
    fakes
}

#[tokio::test]
async fn tartan_client_gets_typed_results() {
    use tartan_client::Client;
    use tartan_client::types::{TerminateConnectionBody as Body, TerminateConnectionError as E};
    // Each documented error status decodes into its own variant with its own body type.
    fn documented(e: &Error<E>) -> (u16, &E) {
        match e {
            Error::ErrorResponse(v) => (v.status().as_u16(), v.as_ref()),
            other => panic!("not a documented error: {other:?}"),
        }
    }
    let fakes = fakes(300).await;
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Tartan),
        fakes.api_key(Vendor::Tartan),
    )
    .unwrap();
    let body = |org: &str| Body::builder().client_org(org);

    let ok = client
        .terminate_connection()
        .body(body("acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.message.as_deref(),
        Some("Connection terminated successfully")
    );
    let conflict = client
        .terminate_connection()
        .body(body("acme"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(documented(&conflict), (409, E::Conflict(c)) if c.status == Some(409)),
        "{conflict:?}"
    );
    let missing = client
        .terminate_connection()
        .body(body("nobody"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(documented(&missing), (404, E::NotFound(n)) if n.code == Some(404)),
        "{missing:?}"
    );
    fakes.start_tartan_sync("busy", Duration::from_secs(3600));
    let busy = client
        .terminate_connection()
        .body(body("busy"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(documented(&busy), (400, E::BadRequest(b)) if b.message.as_deref().unwrap().contains("sync")),
        "{busy:?}"
    );
    let wrong_key = Client::with_api_key(&fakes.base_url(Vendor::Tartan), "nope").unwrap();
    let unauthorized = wrong_key
        .terminate_connection()
        .body(body("busy"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(documented(&unauthorized), (401, E::Unauthorized(u)) if u.request_id.is_some()),
        "{unauthorized:?}"
    );
    // 500 only happens through a fault; its body has its own type too.
    fakes.push_fault(
        Vendor::Tartan,
        disconnect_fakes::Fault::status(
            500,
            json!({"requestId": "r-9", "message": "Internal Server Error", "data": null}),
        ),
    );
    let failed = client
        .terminate_connection()
        .body(body("x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(documented(&failed), (500, E::InternalServerError(e)) if e.request_id.as_deref() == Some("r-9")),
        "{failed:?}"
    );
    assert_eq!(
        tartan_client::operations::TERMINATE_CONNECTION.error_statuses,
        [400, 401, 404, 409, 500]
    );
}

#[tokio::test]
async fn persona_client_gets_typed_results() {
    use persona_client::Client;
    use persona_client::types::{DeactivateAConnectConnectionError as Documented, KeyInflection};
    let fakes = fakes(4).await;
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Persona),
        fakes.api_key(Vendor::Persona),
    )
    .unwrap();

    let ok = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .idempotency_key("k1")
        .key_inflection(KeyInflection::Kebab)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.data.attributes.status, "inactive");
    assert!(ok.data.attributes.updated_at.is_some());
    assert!(
        ok.headers()["request-id"]
            .to_str()
            .unwrap()
            .starts_with("req_")
    );
    let replay = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .idempotency_key("k1")
        .key_inflection(KeyInflection::Kebab)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.data.id, "cxn_1");
    let conflict = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .key_inflection(KeyInflection::Kebab)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&conflict, Error::ErrorResponse(e) if e.status() == 409 && matches!(e.as_ref(), Documented::Conflict(_))),
        "{conflict:?}"
    );
    let missing = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_x")
        .key_inflection(KeyInflection::Kebab)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, Error::ErrorResponse(e) if matches!(e.as_ref(), Documented::NotFound(body) if body.errors[0].title == "Record not found"))
    );
    let limited = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_x")
        .key_inflection(KeyInflection::Kebab)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&limited, Error::ErrorResponse(e) if e.status() == 429 && e.headers().contains_key("ratelimit-reset") && matches!(e.as_ref(), Documented::TooManyRequests(_))),
        "{limited:?}"
    );
    let wrong_key = Client::with_api_key(&fakes.base_url(Vendor::Persona), "nope").unwrap();
    let unauthorized = wrong_key
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .key_inflection(KeyInflection::Kebab)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&unauthorized, Error::ErrorResponse(e) if e.status() == 401 && matches!(e.as_ref(), Documented::Unauthorized(_)))
    );
}

#[tokio::test]
async fn persona_client_reuse_of_a_key_is_a_typed_422() {
    use persona_client::Client;
    let fakes = fakes(300).await;
    fakes.seed(&serde_json::from_value(json!({"persona": [{"id": "cxn_2"}]})).unwrap());
    let client = Client::with_api_key(
        &fakes.base_url(Vendor::Persona),
        fakes.api_key(Vendor::Persona),
    )
    .unwrap();
    client
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .idempotency_key("same")
        .send()
        .await
        .unwrap();
    let err = client
        .deactivate_a_connect_connection()
        .connection_id("cxn_2")
        .idempotency_key("same")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ErrorResponse(e) if e.status() == 422
            && matches!(e.as_ref(), persona_client::types::DeactivateAConnectConnectionError::UnprocessableEntity(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn leen_client_gets_typed_results() {
    use leen_client::{Client, types::ConnectionStateEnum, uuid::Uuid};
    let fakes = fakes(300).await;
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
    assert_eq!(deleted.state, ConnectionStateEnum::Deleted);
    assert!(!deleted.is_active);
    assert!(deleted.updated_at >= deleted.created_at);
    // 404 and 401 are not in Leen's spec: `UnexpectedStatus`, with status, headers and an excerpt.
    let again = client
        .delete_connection_by_id()
        .organization_id(org)
        .connection_id(conn)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&again, Error::ErrorResponse(r) if r.status() == 404
            && matches!(r.as_ref(), leen_client::types::DeleteConnectionByIdError::UnexpectedStatus(_))),
        "{again:?}"
    );
    let wrong_key = Client::with_api_key(&fakes.base_url(Vendor::Leen), "nope").unwrap();
    let unauthorized = wrong_key
        .delete_connection_by_id()
        .organization_id(org)
        .connection_id(conn)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(&unauthorized, Error::ErrorResponse(r) if r.status() == 401));
    // Leen's 422 cannot be provoked through the typed client: its path parameters are `Uuid`s.
}

#[tokio::test]
async fn generated_clients_never_read_more_than_the_cap() {
    use leen_client::{Client, MAX_RESPONSE_BYTES, uuid::Uuid};
    let fakes = fakes(300).await;
    fakes.push_fault(
        Vendor::Leen,
        disconnect_fakes::Fault::Oversized {
            bytes: 8 * MAX_RESPONSE_BYTES,
        },
    );
    let client =
        Client::with_api_key(&fakes.base_url(Vendor::Leen), fakes.api_key(Vendor::Leen)).unwrap();
    let (org, conn): (Uuid, Uuid) = (ORG.parse().unwrap(), CONN.parse().unwrap());
    use leen_client::types::DeleteConnectionByIdError as E;
    match client
        .delete_connection_by_id()
        .organization_id(org)
        .connection_id(conn)
        .send()
        .await
    {
        Err(Error::ErrorResponse(v)) if v.status() == 200 => match v.into_inner() {
            E::Undecodable(body) => assert_eq!(body.len(), MAX_RESPONSE_BYTES + 1),
            other => panic!("expected a cut body, got {other:?}"),
        },
        other => panic!("expected a cut body, got {other:?}"),
    }
    // A body under the cap is untouched.
    assert!(
        client
            .delete_connection_by_id()
            .organization_id(org)
            .connection_id(conn)
            .send()
            .await
            .is_ok()
    );
}
