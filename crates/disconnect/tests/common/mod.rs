//! Helpers shared by the facade's integration tests.
#![allow(dead_code)]

use disconnect::{Target, Vendor};
use disconnect_fakes::Vendor as FakeVendor;

pub const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
pub const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

/// The fakes' name for a vendor.
pub fn fake(v: Vendor) -> FakeVendor {
    v.id().parse().expect("the fakes serve every vendor")
}

/// A seeded target at each vendor (`tartan:acme`, `persona:cxn_1`, `leen:ORG/CONN`; a vendor
/// added later: its fake's first sample id).
pub fn target(v: Vendor) -> Target {
    match v {
        Vendor::Tartan => "tartan:acme".parse().unwrap(),
        Vendor::Persona => "persona:cxn_1".parse().unwrap(),
        Vendor::Leen => format!("leen:{ORG}/{CONN}").parse().unwrap(),
        other => format!(
            "{}:{}",
            other.id(),
            disconnect_fakes::sample_id(fake(other), 0)
        )
        .parse()
        .unwrap(),
    }
}

/// (Re)seed [`target`] as a live connection at every vendor.
pub fn seed_targets(fakes: &disconnect_fakes::FakeServer) {
    for v in Vendor::ALL {
        fakes.seed_live(fake(v), &target(v).id()).unwrap();
    }
}

/// A disconnector builder pointed at the fakes, with millisecond backoff so retries run
/// quickly.
pub fn builder(fakes: &disconnect_fakes::FakeServer) -> disconnect::DisconnectorBuilder {
    let mut b = disconnect::Disconnector::builder().backoff(
        std::time::Duration::from_millis(1),
        std::time::Duration::from_millis(5),
    );
    for v in Vendor::ALL {
        b = b
            .api_key(v, fakes.api_key(fake(v)))
            .base_url(v, fakes.base_url(fake(v)));
    }
    b
}

/// The fakes, with the connections of [`target`] seeded at every vendor.
pub async fn seeded_fakes() -> disconnect_fakes::FakeServer {
    let fakes = disconnect_fakes::FakeServer::start(disconnect_fakes::FakeConfig::default())
        .await
        .unwrap();
    seed_targets(&fakes);
    fakes
}

/// Another host (127.0.0.2) whose journal shows whether any request, and so any key, reached
/// it: where a hostile redirect points.
pub async fn elsewhere() -> disconnect_fakes::FakeServer {
    disconnect_fakes::FakeServer::start(
        disconnect_fakes::FakeConfig::default().with_addr("127.0.0.2:0".parse().unwrap()),
    )
    .await
    .unwrap()
}
