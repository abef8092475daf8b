//! Deactivate a Persona connection twice against the fake Persona server: the second answer is
//! what "already inactive" looks like (409, typed as `Conflict`).
//!
//! `cargo run -p persona-client --example deactivate`

use persona_client::{Client, Error, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use disconnect_fakes::{FakeConfig, FakeServer, Vendor};
    let fake = FakeServer::start(FakeConfig::default()).await?;
    fake.seed_live(Vendor::Persona, "cxn_ABC123")?;

    // In production: `Client::with_api_key(persona_client::servers::PRODUCTION, key)`.
    let client = Client::with_api_key(
        &fake.base_url(Vendor::Persona),
        fake.api_key(Vendor::Persona),
    )?;
    for (round, key) in [("first", "offboarding-1"), ("second", "offboarding-2")] {
        let answer = client
            .deactivate_a_connect_connection()
            .connection_id("cxn_ABC123")
            .idempotency_key(key)
            .key_inflection(types::KeyInflection::Kebab)
            .persona_version(types::PersonaVersion::X20251208)
            .send()
            .await;
        match answer {
            Ok(done) => println!("{round}: status now {}", done.data.attributes.status),
            Err(Error::ErrorResponse(e)) => match e.as_ref() {
                types::DeactivateAConnectConnectionError::Conflict(_) => {
                    println!("{round}: already inactive (409)")
                }
                other => println!("{round}: {} {other:?}", e.status()),
            },
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}
