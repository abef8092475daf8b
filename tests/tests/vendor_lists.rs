//! Every place that lists the vendors agrees with `specs/vendors.toml`: the facade's `Vendor`,
//! the fakes' `Vendor`, the client crates the facade reaches for each vendor (by the sha256 of
//! the spec they were generated from) and the workspace's crate list. A vendor added to one
//! place and not another fails here (see CONTRIBUTING.md, "Adding a vendor").

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    workspace_tests::workspace_root()
}

/// `(vendor id, spec file, crate)` from `specs/vendors.toml`.
fn vendors_toml() -> Vec<(String, String, String)> {
    workspace_tests::vendors_toml()
        .into_iter()
        .map(|v| (v.id, v.spec, v.krate))
        .collect()
}

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_facade_and_the_fakes_list_the_vendors_of_vendors_toml() {
    let listed: BTreeSet<String> = vendors_toml().into_iter().map(|(id, ..)| id).collect();
    let facade: BTreeSet<String> = disconnect::Vendor::ALL
        .iter()
        .map(|v| v.id().to_string())
        .collect();
    let fakes: BTreeSet<String> = disconnect_fakes::Vendor::ALL
        .iter()
        .map(|v| v.id().to_string())
        .collect();
    assert_eq!(facade, listed, "disconnect::Vendor vs specs/vendors.toml");
    assert_eq!(
        fakes, listed,
        "disconnect_fakes::Vendor vs specs/vendors.toml"
    );
    assert_eq!(disconnect::Vendor::ALL.len(), listed.len(), "no duplicates");
    let order: Vec<String> = vendors_toml().into_iter().map(|(id, ..)| id).collect();
    let all: Vec<&str> = disconnect::Vendor::ALL.iter().map(|v| v.id()).collect();
    assert_eq!(all, order, "Vendor::ALL is in vendors.toml's order");
    for vendor in disconnect::Vendor::ALL {
        assert_eq!(
            vendor.id().parse::<disconnect::Vendor>(),
            Ok(vendor),
            "{vendor} parses back from its id"
        );
        assert_eq!(
            vendor.api_key_var(),
            format!("{}_API_KEY", vendor.id().to_uppercase())
        );
        assert_eq!(
            vendor.base_url_var(),
            format!("{}_BASE_URL", vendor.id().to_uppercase())
        );
    }
}

#[test]
fn each_vendor_reaches_the_crate_generated_from_its_spec() {
    for (id, spec, krate) in vendors_toml() {
        let vendor: disconnect::Vendor = id.parse().unwrap();
        assert_eq!(
            disconnect::Disconnector::spec_sha256(vendor),
            Some(sha256(&root().join("specs").join(&spec)).as_str()),
            "{id}: the facade's client crate is not the one generated from specs/{spec}"
        );
        assert!(
            root()
                .join("crates")
                .join(&krate)
                .join("Cargo.toml")
                .exists(),
            "{id}: crates/{krate} is missing"
        );
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains(&format!("\n{krate} = {{ path = \"crates/{krate}\"")),
            "{id}: {krate} is not in [workspace.dependencies]"
        );
    }
}

/// Each vendor of the table is registered in the facade and in the fakes, and the two agree
/// with each other and with the table: a sample target of the vendor's fake parses as the
/// vendor's facade target, the facade plans the table's operation for it, and the fake cuts it
/// with a documented success status.
#[tokio::test]
async fn every_vendor_is_registered_in_the_facade_and_the_fakes_and_they_agree() {
    use disconnect::{DisconnectStatus, Disconnector, Target, Vendor};
    use disconnect_fakes::{FakeConfig, FakeServer};

    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let mut builder = Disconnector::builder();
    for vendor in Vendor::ALL {
        builder = builder
            .api_key(vendor, fakes.api_key(vendor))
            .base_url(vendor, fakes.base_url(vendor));
    }
    let disconnector = builder.build().unwrap();
    for vendor in Vendor::ALL {
        let facts = vendor.facts();
        let id = disconnect_fakes::sample_id(vendor, 1);
        assert_ne!(id, disconnect_fakes::sample_id(vendor, 2), "{vendor}");
        let target: Target = format!("{}:{id}", vendor.id()).parse().unwrap();
        assert_eq!(target.vendor(), vendor);
        assert_eq!(target.id(), id);

        let plan = disconnector.plan(&target).unwrap();
        assert_eq!(plan.method, facts.operation.method, "{vendor}");
        assert!(
            plan.url.starts_with(&fakes.base_url(vendor)),
            "{vendor}: {}",
            plan.url
        );

        fakes.seed_live(vendor, &id).unwrap();
        let receipt = disconnector.disconnect(&target).await.unwrap();
        assert_eq!(receipt.status, DisconnectStatus::Disconnected, "{vendor}");
        assert!(
            facts.operation.statuses.contains(&receipt.http_status),
            "{vendor}"
        );
        let example = disconnect_fakes::success_example(vendor).status.as_u16();
        assert!(facts.operation.statuses.contains(&example), "{vendor}");
        assert!((200..300).contains(&example), "{vendor}");
    }
}
