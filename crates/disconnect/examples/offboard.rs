//! Offboard one customer at every vendor, against the fakes: a single call with its own
//! deadline, then a bulk run read with `BulkRun::next` (no extra crate needed).
//!
//! `cargo run -p disconnect --example offboard`

use std::time::Duration;

use disconnect::{BulkOptions, DisconnectError, Disconnector, Target, Vendor};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use disconnect_fakes::{FakeConfig, FakeServer, Vendor as Fake};
    let fakes = FakeServer::start(FakeConfig::default()).await?;
    let leen = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";
    fakes.seed_live(Fake::Tartan, "acme")?;
    fakes.seed_live(Fake::Persona, "cxn_1")?;
    fakes.seed_live(Fake::Leen, leen)?;

    // In production: `Disconnector::from_env()` (TARTAN_API_KEY, PERSONA_API_KEY, LEEN_API_KEY).
    let mut builder = Disconnector::builder()
        .user_agent(format!("acme-offboarding/1.0 {}", disconnect::USER_AGENT))
        .deadline(Duration::from_secs(20));
    for (vendor, fake) in [
        (Vendor::Tartan, Fake::Tartan),
        (Vendor::Persona, Fake::Persona),
        (Vendor::Leen, Fake::Leen),
    ] {
        builder = builder
            .api_key(vendor, fakes.api_key(fake))
            .base_url(vendor, fakes.base_url(fake));
    }
    let d = builder.build()?;

    // One call: the deadline bounds everything in it, rate-limit waits included.
    let first: Target = "tartan:acme".parse()?;
    let receipt = d.disconnect(&first).await?;
    println!(
        "{first}: {:?} after {} attempt(s)",
        receipt.status, receipt.attempts
    );

    // Many: each vendor in its own lane; a connection already cut is a success too.
    let targets: Vec<Target> = ["tartan:acme", "persona:cxn_1", &format!("leen:{leen}")]
        .into_iter()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let mut run = d.disconnect_all(targets, BulkOptions::default());
    while let Some(result) = run.next().await {
        match result {
            Ok(receipt) => println!("{}: {:?}", receipt.target, receipt.status),
            Err(DisconnectError::RateLimited { ctx, retry_after }) => {
                println!("{}: rate-limited, retry after {retry_after:?}", ctx.target)
            }
            Err(e) => println!("failed: {e}"),
        }
    }
    Ok(())
}
