//! A build with some vendors compiled out (`--no-default-features --features leen`, as CI runs
//! it): other vendors' keys in the environment are ignored, and bulk runs have a lane per
//! compiled vendor only. With every vendor compiled in, the same calls see all of them.

use disconnect::{BulkOptions, ConfigError, Disconnector, Target, Vendor};

const KEY: &str = "leen-test-key-0123456789";

/// Every vendor's key is set, as on a shared host.
fn lookup(name: &str) -> Option<String> {
    if name == Vendor::Leen.api_key_var() {
        Some(KEY.into())
    } else if Vendor::ALL.iter().any(|v| v.api_key_var() == name) {
        Some("another-vendor-key".into())
    } else {
        None
    }
}

/// Every vendor compiled in, as cargo features say.
fn compiled() -> Vec<Vendor> {
    Vendor::ALL
        .into_iter()
        .filter(|v| Disconnector::spec_sha256(*v).is_some())
        .collect()
}

#[test]
fn the_environment_is_read_for_compiled_vendors_only() {
    let d = Disconnector::builder()
        .from_lookup(lookup)
        .expect("other vendors' keys do not stop a build without them")
        .build()
        .unwrap();
    assert_eq!(d.configured_vendors(), compiled());
    // An explicit key for a vendor compiled out is still refused.
    for vendor in Vendor::ALL.into_iter().filter(|v| !compiled().contains(v)) {
        let err = Disconnector::builder()
            .api_key(vendor, "k")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, ConfigError::VendorNotCompiled { .. }),
            "{err}"
        );
    }
}

#[tokio::test]
async fn bulk_runs_have_a_lane_per_compiled_vendor() {
    let d = Disconnector::builder()
        .from_lookup(lookup)
        .unwrap()
        .build()
        .unwrap();
    let run = d.disconnect_all(Vec::<Target>::new(), BulkOptions::default());
    let lanes: Vec<Vendor> = run.lanes().iter().map(|l| l.vendor).collect();
    assert_eq!(lanes, compiled());
}

/// Every request carries the `User-Agent` (`disconnect/<version>` unless set) and the builder's
/// own headers; a header that cannot be sent is refused when building.
#[tokio::test]
async fn requests_carry_the_user_agent_and_the_builders_headers() {
    use disconnect_fakes::{FakeConfig, FakeServer};
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let vendor = compiled()[0];
    let fake: disconnect_fakes::Vendor = vendor.id().parse().unwrap();
    let target: Target = format!("{}:{}", vendor.id(), disconnect_fakes::sample_id(fake, 1))
        .parse()
        .unwrap();
    fakes.seed_live(fake, &target.id()).unwrap();
    let builder = || {
        Disconnector::builder()
            .api_key(vendor, fakes.api_key(fake))
            .base_url(vendor, fakes.base_url(fake))
    };
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let d = builder()
        .header("traceparent", traceparent)
        .build()
        .unwrap();
    d.disconnect(&target).await.unwrap();
    let custom = builder()
        .user_agent("acme-offboarding/2.1")
        .build()
        .unwrap();
    let _ = custom.disconnect(&target).await;
    let journal = fakes.journal();
    assert_eq!(
        journal[0].header("user-agent"),
        Some(disconnect::USER_AGENT)
    );
    assert_eq!(journal[0].header("traceparent"), Some(traceparent));
    assert_eq!(
        journal[1].header("user-agent"),
        Some("acme-offboarding/2.1")
    );
    assert_eq!(journal[1].header("traceparent"), None);

    for (name, value) in [("bad name", "x"), ("x-ok", "line\nbreak")] {
        let err = builder().header(name, value).build().unwrap_err();
        assert!(matches!(err, ConfigError::InvalidHeader { .. }), "{err}");
    }
}
