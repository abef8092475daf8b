//! Print the vendor table: each vendor's id, environment variables, default base URL and the
//! operation that cuts a connection, as every crate of the workspace sees them.
//!
//! `cargo run -p disconnect-vendors --example vendor_table`

use disconnect_vendors::Vendor;

fn main() {
    for vendor in Vendor::ALL {
        let facts = vendor.facts();
        println!(
            "{:<8} {:<16} {:<18} {}",
            vendor.id(),
            vendor.api_key_var(),
            facts.client_crate,
            vendor.default_base_url()
        );
        println!("         cuts with {:?}", facts.operation);
    }
    // Ids parse back, ignoring case; anything else is a typed error naming the known ids.
    assert_eq!("LEEN".parse::<Vendor>(), Ok(Vendor::Leen));
    println!("{}", "okta".parse::<Vendor>().unwrap_err());
}
