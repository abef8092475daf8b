//! The HTTP a user controls: a `reqwest::Client` of their own, adjustments to the facade's
//! builders, headers and User-Agent, and what none of them can undo (keys stay on the vendor's
//! host, redirects are never followed by the clients the facade builds).

mod common;

use std::time::Duration;

use common::{builder, elsewhere, fake, seeded_fakes, target};
use disconnect::{ConfigError, DisconnectError, DisconnectStatus, Vendor};
use disconnect_fakes::{Fault, Vendor as FakeVendor};

fn header<'a>(r: &'a disconnect_fakes::RecordedRequest, name: &str) -> Vec<&'a str> {
    r.headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A supplied client carries every vendor's key, the User-Agent and the caller's headers, per
/// request; a redirect comes back unfollowed.
#[tokio::test]
async fn a_supplied_client_carries_keys_and_headers_and_does_not_follow() {
    let vendor = seeded_fakes().await;
    let elsewhere = elsewhere().await;
    let own = disconnect::http_client_builder()
        .pool_max_idle_per_host(2)
        .build()
        .unwrap();
    let d = builder(&vendor)
        .http_client(own)
        .user_agent("acme-offboarding/2.1")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .build()
        .unwrap();
    for v in Vendor::ALL {
        let receipt = d.disconnect(&target(v)).await.unwrap();
        assert_eq!(receipt.status, DisconnectStatus::Disconnected, "{v}");
        let sent = vendor.requests_to(fake(v));
        let last = sent.last().unwrap();
        assert_eq!(header(last, "user-agent"), ["acme-offboarding/2.1"], "{v}");
        assert_eq!(header(last, "traceparent").len(), 1, "{v}");
    }
    // The fakes check each vendor's key: the answers above were not 401s.

    for v in Vendor::ALL {
        vendor.push_fault(
            fake(v),
            Fault::Redirect {
                status: 307,
                location: format!("{}/steal", elsewhere.base_url(fake(v))),
            },
        );
        let err = d.disconnect(&target(v)).await.unwrap_err();
        assert!(
            matches!(err, DisconnectError::Redirected { .. }),
            "{v}: {err:?}"
        );
    }
    assert!(elsewhere.journal().is_empty(), "{:?}", elsewhere.journal());
}

/// `configure_http` shapes the facade's own clients, but cannot turn redirects back on or drop
/// the User-Agent.
#[tokio::test]
async fn configure_http_cannot_turn_redirects_on() {
    let vendor = seeded_fakes().await;
    let elsewhere = elsewhere().await;
    let d = builder(&vendor)
        .configure_http(|b| {
            b.redirect(reqwest::redirect::Policy::limited(10))
                .user_agent("overridden/0")
                .tcp_nodelay(true)
        })
        .build()
        .unwrap();
    vendor.push_fault(
        FakeVendor::Leen,
        Fault::Redirect {
            status: 302,
            location: format!("{}/steal", elsewhere.base_url(FakeVendor::Leen)),
        },
    );
    let err = d.disconnect(&target(Vendor::Leen)).await.unwrap_err();
    assert!(matches!(err, DisconnectError::Redirected { .. }), "{err:?}");
    assert!(elsewhere.journal().is_empty());
    let sent = vendor.requests_to(FakeVendor::Leen);
    assert_eq!(
        header(sent.last().unwrap(), "user-agent"),
        [disconnect::USER_AGENT]
    );
}

/// Settings that shape the facade's clients cannot be combined with a client of the caller's.
#[test]
fn builder_settings_conflict_with_a_supplied_client() {
    let own = disconnect::http_client_builder().build().unwrap();
    let err = disconnect::Disconnector::builder()
        .api_key(Vendor::Leen, "k")
        .http_client(own)
        .proxy(reqwest::Proxy::all("http://127.0.0.1:3128").unwrap())
        .configure_http(|b| b)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::ConflictingHttp { settings } if settings == "proxy, configure_http"),
        "{err:?}"
    );
    assert!(err.to_string().contains("set them on that client"), "{err}");
}

/// A proxy given to the builder carries the requests (a plain-http proxy on loopback: the fake
/// answers as the vendor, and its journal shows the absolute-form request it was sent).
#[tokio::test]
async fn a_proxy_carries_the_requests() {
    let vendor = seeded_fakes().await;
    let d = disconnect::Disconnector::builder()
        .api_key(Vendor::Leen, vendor.api_key(FakeVendor::Leen))
        // A base URL nothing listens on: only the proxy can answer.
        .base_url(Vendor::Leen, "http://127.0.0.1:9/v1")
        .proxy(
            reqwest::Proxy::http(vendor.base_url(FakeVendor::Leen).trim_end_matches("/v1"))
                .unwrap(),
        )
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let result = d.disconnect(&target(Vendor::Leen)).await;
    let sent = vendor.journal();
    assert_eq!(sent.len(), 1, "{result:?}");
    assert_eq!(header(&sent[0], "host"), ["127.0.0.1:9"]);
}

/// Per-call options replace the settings for one call only.
#[tokio::test]
async fn call_options_apply_to_one_call() {
    let vendor = seeded_fakes().await;
    let d = builder(&vendor)
        .deadline(Duration::from_secs(600))
        .build()
        .unwrap();
    vendor.push_fault(
        FakeVendor::Persona,
        Fault::RateLimited {
            reset_secs: Some(60),
            retry_after: None,
        },
    );
    let short = disconnect::CallOptions::new().deadline(Duration::from_secs(3));
    let err = d
        .disconnect_with(&target(Vendor::Persona), &short)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DisconnectError::RateLimited { retry_after: Some(r), .. } if r == Duration::from_secs(60)),
        "{err:?}"
    );

    vendor.push_fault(
        FakeVendor::Leen,
        Fault::Status {
            status: 503,
            body: serde_json::Value::Null,
            headers: Default::default(),
            raw: None,
        },
    );
    let once = disconnect::CallOptions::new().max_attempts(1);
    let err = d
        .disconnect_with(&target(Vendor::Leen), &once)
        .await
        .unwrap_err();
    assert_eq!(err.ctx().attempts, 1, "{err:?}");
    // The next call has the settings' attempts again: it succeeds.
    vendor.push_fault(
        FakeVendor::Leen,
        Fault::Status {
            status: 503,
            body: serde_json::Value::Null,
            headers: Default::default(),
            raw: None,
        },
    );
    let receipt = d.disconnect(&target(Vendor::Leen)).await.unwrap();
    assert_eq!(receipt.attempts, 2);
}
