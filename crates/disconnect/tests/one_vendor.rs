//! A build with some vendors compiled out (`--no-default-features --features leen`, as CI runs
//! it): other vendors' keys in the environment are ignored, and bulk runs have a lane per
//! compiled vendor only. With every vendor compiled in, the same calls see all of them.

use disconnect::{BulkOptions, ConfigError, Disconnector, Target, Vendor};

const KEY: &str = "leen-test-key-0123456789";

fn lookup(name: &str) -> Option<String> {
    match name {
        "TARTAN_API_KEY" | "PERSONA_API_KEY" => Some("another-vendor-key".into()),
        "LEEN_API_KEY" => Some(KEY.into()),
        _ => None,
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
