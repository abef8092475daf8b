//! No API key ever reaches another host: redirects are never followed, by the facade or by the
//! generated clients. A second server on another loopback address (127.0.0.2) records every
//! request it gets; it must get none.

mod common;

use std::time::Duration;

use common::{CONN, ORG, fake, target};
use disconnect::{DisconnectError, Disconnector, Vendor};
use disconnect_fakes::{FakeServer, Fault, Vendor as FakeVendor};

async fn setup() -> (FakeServer, FakeServer) {
    (common::seeded_fakes().await, common::elsewhere().await)
}

#[tokio::test]
async fn the_facade_never_follows_a_redirect() {
    let (vendor, elsewhere) = setup().await;
    let mut b = Disconnector::builder().backoff(Duration::from_millis(1), Duration::from_millis(2));
    for v in Vendor::ALL {
        b = b
            .api_key(v, vendor.api_key(fake(v)))
            .base_url(v, vendor.base_url(fake(v)));
    }
    let d = b.build().unwrap();
    for v in Vendor::ALL {
        for status in [301, 302, 303, 307, 308] {
            // Point the redirect at the same path on the other host, as an attacker would.
            let location = format!("{}/steal", elsewhere.base_url(fake(v)));
            vendor.push_fault(
                fake(v),
                Fault::Redirect {
                    status,
                    location: location.clone(),
                },
            );
            let target = target(v);
            match d.disconnect(&target).await {
                Err(DisconnectError::Redirected {
                    ctx,
                    location: Some(l),
                }) => {
                    assert_eq!(
                        (ctx.http_status, ctx.attempts, l),
                        (Some(status), 1, location)
                    );
                }
                other => panic!("{v} {status}: {other:?}"),
            }
        }
    }
    assert!(
        elsewhere.journal().is_empty(),
        "a request reached the other host: {:?}",
        elsewhere.journal()
    );
}

#[tokio::test]
async fn the_generated_clients_never_follow_a_redirect_either() {
    let (vendor, elsewhere) = setup().await;
    let to = |v: Vendor| format!("{}/steal", elsewhere.base_url(fake(v)));
    for v in Vendor::ALL {
        vendor.push_fault(
            fake(v),
            Fault::Redirect {
                status: 307,
                location: to(v),
            },
        );
    }
    let leen = leen_client::Client::with_api_key(
        &vendor.base_url(FakeVendor::Leen),
        vendor.api_key(FakeVendor::Leen),
    )
    .unwrap();
    let err = leen
        .delete_connection_by_id()
        .organization_id(ORG.parse::<uuid::Uuid>().unwrap())
        .connection_id(CONN.parse::<uuid::Uuid>().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    let persona = persona_client::Client::with_api_key(
        &vendor.base_url(FakeVendor::Persona),
        vendor.api_key(FakeVendor::Persona),
    )
    .unwrap();
    let err = persona
        .deactivate_a_connect_connection()
        .connection_id("cxn_1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    let tartan = tartan_client::Client::with_api_key(
        &vendor.base_url(FakeVendor::Tartan),
        vendor.api_key(FakeVendor::Tartan),
    )
    .unwrap();
    let body = tartan_client::types::TerminateConnectionBody::builder().client_org("acme");
    let err = tartan
        .terminate_connection()
        .body(body)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    assert!(elsewhere.journal().is_empty(), "{:?}", elsewhere.journal());
}

/// Why this matters: reqwest's default policy follows redirects and drops `Authorization` on a
/// cross-host hop, but forwards custom headers such as `X-API-KEY`.
#[tokio::test]
async fn a_default_reqwest_client_would_leak_x_api_key() {
    let (vendor, elsewhere) = setup().await;
    vendor.push_fault(
        FakeVendor::Leen,
        Fault::Redirect {
            status: 307,
            location: format!("{}/steal", elsewhere.base_url(FakeVendor::Leen)),
        },
    );
    let url = format!(
        "{}/provisioning/organizations/{ORG}/connections/{CONN}",
        vendor.base_url(FakeVendor::Leen)
    );
    let _ = reqwest::Client::new()
        .delete(url)
        .header("x-api-key", "leaky-key")
        .send()
        .await
        .unwrap();
    let leaked = elsewhere.journal();
    assert_eq!(leaked.len(), 1);
    assert_eq!(
        leaked[0].header("x-api-key"),
        Some(disconnect_fakes::fingerprint("leaky-key").as_str())
    );
}
