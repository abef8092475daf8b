//! Start the fake vendors in-process, queue a fault, and read the request journal: how a test
//! of offboarding code checks what it sent and how it handled a 429.
//!
//! `cargo run -p disconnect-fakes --example fault_injection`

use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fakes = FakeServer::start(FakeConfig::default()).await?;
    fakes.seed_live(Vendor::Persona, "cxn_1")?;
    fakes.push_fault(
        Vendor::Persona,
        Fault::RateLimited {
            reset_secs: Some(2),
            retry_after: None,
        },
    );
    let url = format!(
        "{}/connect/connections/cxn_1/deactivate",
        fakes.base_url(Vendor::Persona)
    );
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let answer = client
            .post(&url)
            .bearer_auth(fakes.api_key(Vendor::Persona))
            .send()
            .await?;
        println!(
            "{} ratelimit-reset={:?}",
            answer.status(),
            answer.headers().get("ratelimit-reset")
        );
    }
    for request in fakes.journal() {
        println!(
            "journal: {} {} (fault: {:?})",
            request.method, request.path, request.fault
        );
    }
    fakes.shutdown().await;
    Ok(())
}
