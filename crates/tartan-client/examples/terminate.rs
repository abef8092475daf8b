//! Terminate a Tartan connection twice against the fake Tartan server: the second answer is
//! what "already terminated" looks like (409, typed as `Conflict`).
//!
//! `cargo run -p tartan-client --example terminate`

use tartan_client::types::TerminateConnectionError as Failed;
use tartan_client::{Client, Error, types};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use disconnect_fakes::{FakeConfig, FakeServer, Vendor};
    let fake = FakeServer::start(FakeConfig::default()).await?;
    fake.seed_live(Vendor::Tartan, "acme")?;

    // In production: `Client::with_api_key(&tartan_client::servers::environment("prod")?, key)`.
    let client =
        Client::with_api_key(&fake.base_url(Vendor::Tartan), fake.api_key(Vendor::Tartan))?;
    for round in ["first", "second"] {
        let body = types::TerminateConnectionBody::builder().client_org("acme");
        match client.terminate_connection().body(body).send().await {
            Ok(done) => println!("{round}: terminated ({:?})", done.message),
            Err(Error::ErrorResponse(answer)) => match answer.as_ref() {
                Failed::Conflict(_) => println!("{round}: already terminated (409)"),
                Failed::BadRequest(busy) => {
                    println!("{round}: a sync is running: {:?}", busy.message)
                }
                other => println!("{round}: {} {other:?}", answer.status()),
            },
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}
