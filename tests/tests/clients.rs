//! Each generated client against a local recording server: the exact request it sends, and
//! every documented status decoded into the typed result or typed error.

use serde_json::json;
use workspace_tests::{Canned, Server};

const TARTAN_KEY: &str = "tartan-test-key-7f3a";
const PERSONA_KEY: &str = "persona_test_key_91bc";
const LEEN_KEY: &str = "leen-test-key-c0ffee";

/// Renders a client result for a snapshot: status and the typed value or error.
fn outcome<T: std::fmt::Debug, E: std::fmt::Debug>(
    status: u16,
    result: Result<progenitor_client::ResponseValue<T>, progenitor_client::Error<E>>,
) -> String {
    match result {
        Ok(v) => format!("{status} -> Ok {:#?}\n", v.into_inner()),
        Err(progenitor_client::Error::ErrorResponse(e)) => {
            format!("{status} -> ErrorResponse {:#?}\n", e.into_inner())
        }
        Err(progenitor_client::Error::UnexpectedResponse(r)) => {
            format!("{status} -> UnexpectedResponse (status {})\n", r.status())
        }
        Err(other) => format!("{status} -> {other}\n"),
    }
}

// ------------------------------------------------------------------------------------ Tartan

mod tartan {
    use super::*;
    use tartan_client::{Client, Error, types};

    fn body() -> types::builder::TerminateConnectionBody {
        types::TerminateConnectionBody::builder().client_org("acme-corp")
    }

    #[tokio::test]
    async fn sends_multipart_with_the_raw_key() {
        let server = Server::start(vec![Canned::json(
            200,
            json!({"message": "Connection terminated successfully", "data": null}),
        )])
        .await;
        let client = Client::with_api_key(&server.base_url, TARTAN_KEY).unwrap();
        client
            .terminate_connection()
            .body(body())
            .send()
            .await
            .unwrap();

        let requests = server.requests();
        let req = &requests[0];
        assert_eq!(
            req.headers["authorization"], TARTAN_KEY,
            "raw key, no prefix"
        );
        let content_type = req.headers["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("multipart/form-data; boundary="),
            "{content_type}"
        );
        assert!(req.headers.get("api-version").is_none());
        assert_eq!(req.body, "part \"client_org\" = \"acme-corp\"\n");
        insta::assert_snapshot!(req.redacted(&["authorization"]));
    }

    #[tokio::test]
    async fn decodes_every_documented_status() {
        let cases = [
            (
                200,
                json!({"message": "Connection terminated successfully", "data": null}),
            ),
            (
                400,
                json!({"message": "Connection cannot be terminated while sync is in progress", "data": null}),
            ),
            (
                401,
                json!({"requestId": "9a0fe854-d7e9-468c-86a0-e2c34ffcdb6f", "message": "Authentication credentials were not provided.", "data": null}),
            ),
            (
                404,
                json!({"code": 404, "message": "No organisation found with the given client_org", "data": null}),
            ),
            (
                409,
                json!({"status": 409, "message": "Conflict! Connection already terminated", "data": null}),
            ),
            (
                500,
                json!({"requestId": "56c1db80-261f-4dc4-983a-2836a2fca024", "message": "Internal Server Error", "data": null}),
            ),
            (418, json!({"message": "not in the spec"})),
        ];
        let server = Server::start(
            cases
                .iter()
                .map(|(s, b)| Canned::json(*s, b.clone()))
                .collect(),
        )
        .await;
        let client = Client::with_api_key(&server.base_url, TARTAN_KEY).unwrap();
        let mut out = String::new();
        for (status, _) in &cases {
            out += &outcome(
                *status,
                client.terminate_connection().body(body()).send().await,
            );
        }
        insta::assert_snapshot!(out);
    }

    #[tokio::test]
    async fn error_bodies_keep_request_id_code_and_status() {
        let server = Server::start(vec![
            Canned::json(
                401,
                json!({"requestId": "req-401", "message": "m", "data": null}),
            ),
            Canned::json(404, json!({"code": 404, "message": "m", "data": null})),
            Canned::json(409, json!({"status": 409, "message": "m", "data": "x"})),
            Canned::json(
                500,
                json!({"requestId": "req-500", "message": "m", "data": null}),
            ),
        ])
        .await;
        let client = Client::with_api_key(&server.base_url, TARTAN_KEY).unwrap();
        let mut errors = Vec::new();
        for _ in 0..4 {
            match client.terminate_connection().body(body()).send().await {
                Err(Error::ErrorResponse(e)) => errors.push(e.into_inner()),
                other => panic!("expected a typed error, got {other:?}"),
            }
        }
        use tartan_client::types::TerminateConnectionError as E;
        assert!(
            matches!(&errors[0], E::Unauthorized(u) if u.request_id.as_deref() == Some("req-401"))
        );
        assert!(matches!(&errors[1], E::NotFound(n) if n.code == Some(404)));
        assert!(
            matches!(&errors[2], E::Conflict(c) if c.status == Some(409) && c.data.as_deref() == Some("x"))
        );
        assert!(
            matches!(&errors[3], E::InternalServerError(e) if e.request_id.as_deref() == Some("req-500"))
        );
    }
}

// ----------------------------------------------------------------------------------- Persona

mod persona {
    use super::*;
    use persona_client::{Client, Error, types};

    fn connection(status: &str) -> serde_json::Value {
        json!({"data": {
            "type": "connect/connection",
            "id": "cxn_ABC123",
            "attributes": {
                "status": status,
                "destination-organization-id": "org_DEST",
                "source-organization-id": "org_SRC",
                "created-at": "2026-01-02T03:04:05.000Z",
                "updated-at": "2026-11-22T10:00:00.000Z"
            },
            "relationships": {"creator": {"data": {"id": "user_1", "type": "user"}}}
        }})
    }

    fn rate_headers(c: Canned) -> Canned {
        c.header("ratelimit-limit", "300")
            .header("ratelimit-remaining", "299")
            .header("ratelimit-reset", "42")
            .header("request-id", "req_TEST1")
            .header("persona-environment-id", "env_TEST")
            .header("persona-organization-id", "org_TEST")
    }

    #[tokio::test]
    async fn sends_bearer_and_the_three_headers() {
        let server = Server::start(vec![rate_headers(Canned::json(
            200,
            connection("inactive"),
        ))])
        .await;
        let client = Client::with_api_key(&server.base_url, PERSONA_KEY).unwrap();
        let done = client
            .deactivate_a_connect_connection()
            .connection_id("cxn_ABC123")
            .idempotency_key("idem-1")
            .key_inflection(types::KeyInflection::Kebab)
            .persona_version(types::PersonaVersion::X20251208)
            .send()
            .await
            .unwrap();
        assert_eq!(
            done.headers()["request-id"],
            "req_TEST1",
            "response headers stay reachable"
        );
        assert_eq!(done.data.attributes.status, "inactive");

        let requests = server.requests();
        let req = &requests[0];
        assert_eq!(
            req.headers["authorization"],
            format!("Bearer {PERSONA_KEY}")
        );
        assert!(req.headers.get("api-version").is_none());
        assert!(req.body.is_empty(), "no request body");
        insta::assert_snapshot!(req.redacted(&["authorization"]));
    }

    #[tokio::test]
    async fn decodes_every_documented_status() {
        let error = |title: &str| json!({"errors": [{"title": title, "details": "more"}]});
        let cases = [
            (200, json!(connection("inactive"))),
            (400, error("Bad request")),
            (
                401,
                json!({"errors": [{"title": "Must be authenticated to access this endpoint"}]}),
            ),
            (403, error("Forbidden")),
            (404, json!({"errors": [{"title": "Record not found"}]})),
            (409, error("Connection is already inactive")),
            (
                422,
                json!({"errors": [{"title": "Invalid", "source": {"pointer": "/data"}, "meta": {"k": 1}}]}),
            ),
            (429, json!({"errors": [{"title": "Rate limit exceeded"}]})),
            (500, json!({"errors": [{"title": "Internal"}]})),
        ];
        let server = Server::start(
            cases
                .iter()
                .map(|(s, b)| rate_headers(Canned::json(*s, b.clone())))
                .collect(),
        )
        .await;
        let client = Client::with_api_key(&server.base_url, PERSONA_KEY).unwrap();
        let mut out = String::new();
        for (status, _) in &cases {
            let result = client
                .deactivate_a_connect_connection()
                .connection_id("cxn_ABC123")
                .send()
                .await;
            out += &outcome(*status, result);
        }
        insta::assert_snapshot!(out);
    }

    #[tokio::test]
    async fn unknown_status_values_still_decode() {
        let server = Server::start(vec![Canned::json(
            200,
            connection("suspended-by-new-feature"),
        )])
        .await;
        let client = Client::with_api_key(&server.base_url, PERSONA_KEY).unwrap();
        let done = client
            .deactivate_a_connect_connection()
            .connection_id("cxn_ABC123")
            .send()
            .await
            .unwrap();
        assert_eq!(done.data.attributes.status, "suspended-by-new-feature");
    }

    #[tokio::test]
    async fn rate_limit_headers_are_reachable_on_errors() {
        let server = Server::start(vec![rate_headers(Canned::json(
            429,
            json!({"errors": [{"title": "Rate limit exceeded"}]}),
        ))])
        .await;
        let client = Client::with_api_key(&server.base_url, PERSONA_KEY).unwrap();
        match client
            .deactivate_a_connect_connection()
            .connection_id("cxn_ABC123")
            .send()
            .await
        {
            Err(Error::ErrorResponse(e)) => {
                assert_eq!(e.status(), 429);
                assert_eq!(e.headers()["ratelimit-reset"], "42");
                assert!(matches!(
                    e.as_ref(),
                    types::DeactivateAConnectConnectionError::TooManyRequests(body)
                        if body.errors[0].title == "Rate limit exceeded"
                ));
            }
            other => panic!("expected a typed 429, got {other:?}"),
        }
    }
}

// -------------------------------------------------------------------------------------- Leen

mod leen {
    use super::*;
    use leen_client::{Client, types, uuid::Uuid};

    const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
    const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

    fn deleted() -> serde_json::Value {
        json!({
            "id": CONN, "vendor": "crowdstrike", "is_active": false,
            "refresh_interval_secs": 3600, "timeout_secs": 600,
            "organization_id": ORG, "oauth2_authorize_url": null, "identifier": null,
            "state": "DELETED",
            "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-11-22T10:00:00Z",
            "health": {
                "name": "UNAUTHORIZED", "status": "UNHEALTHY", "description": "token revoked",
                "resolution_owner": "CUSTOMER",
                "details": [{"data_export_type": "alerts", "endpoint": "/alerts"}, {"data_export_type": null, "endpoint": "/x"}]
            }
        })
    }

    /// A bad id is refused before any request, in the parameter's words.
    #[tokio::test]
    async fn a_bad_uuid_says_which_parameter_and_why() {
        let server = Server::start(vec![Canned::json(200, deleted())]).await;
        let client = Client::with_api_key(&server.base_url, LEEN_KEY).unwrap();
        let err = client
            .delete_connection_by_id()
            .organization_id("not-a-uuid")
            .connection_id(CONN)
            .send()
            .await
            .unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("organization_id: not a UUID"), "{shown}");
        assert!(!shown.contains(":: uuid"), "{shown}");
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn sends_delete_with_x_api_key() {
        let server = Server::start(vec![Canned::json(200, deleted())]).await;
        let client = Client::with_api_key(&server.base_url, LEEN_KEY).unwrap();
        let (org, conn): (Uuid, Uuid) = (ORG.parse().unwrap(), CONN.parse().unwrap());
        let done = client
            .delete_connection_by_id()
            .organization_id(org)
            .connection_id(conn)
            .send()
            .await
            .unwrap();
        assert_eq!(done.state, types::ConnectionStateEnum::Deleted);
        assert!(!done.is_active);
        assert_eq!(done.identifier, None::<String>);
        assert_eq!(done.health.details.as_ref().map(Vec::len), Some(2));

        let requests = server.requests();
        let req = &requests[0];
        assert_eq!(req.headers["x-api-key"], LEEN_KEY);
        assert!(req.headers.get("authorization").is_none());
        assert!(req.headers.get("api-version").is_none());
        insta::assert_snapshot!(req.redacted(&["x-api-key"]));
    }

    #[tokio::test]
    async fn decodes_every_documented_status() {
        let mut minimal = deleted();
        minimal["health"].as_object_mut().unwrap().remove("details");
        minimal.as_object_mut().unwrap().remove("identifier");
        let cases = [
            (200, deleted()),
            (200, minimal),
            (
                422,
                json!({"detail": [{"loc": ["path", "organization_id"], "msg": "Input should be a valid UUID", "type": "uuid_parsing"}, {"loc": ["body", 0], "msg": "m", "type": "t"}]}),
            ),
            (404, json!({"detail": "Connection not found"})),
        ];
        let server = Server::start(
            cases
                .iter()
                .map(|(s, b)| Canned::json(*s, b.clone()))
                .collect(),
        )
        .await;
        let client = Client::with_api_key(&server.base_url, LEEN_KEY).unwrap();
        let (org, conn): (Uuid, Uuid) = (ORG.parse().unwrap(), CONN.parse().unwrap());
        let mut out = String::new();
        for (status, _) in &cases {
            out += &outcome(
                *status,
                client
                    .delete_connection_by_id()
                    .organization_id(org)
                    .connection_id(conn)
                    .send()
                    .await,
            );
        }
        insta::assert_snapshot!(out);
    }
}
