//! Delete a Leen connection twice against the fake Leen server: the first delete returns the
//! connection, the second is what "already deleted" looks like (a 404 Leen's spec does not
//! document, so it arrives as an unexpected response with its status).
//!
//! `cargo run -p leen-client --example delete_connection`

use leen_client::{Client, Error, types::DeleteConnectionByIdError, uuid::Uuid};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONNECTION: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use disconnect_fakes::{FakeConfig, FakeServer, Vendor};
    let fake = FakeServer::start(FakeConfig::default()).await?;
    fake.seed_live(Vendor::Leen, &format!("{ORG}/{CONNECTION}"))?;

    // In production: `Client::with_api_key(leen_client::servers::EU, key)`.
    let client = Client::with_api_key(&fake.base_url(Vendor::Leen), fake.api_key(Vendor::Leen))?;
    let org: Uuid = ORG.parse()?;
    let connection: Uuid = CONNECTION.parse()?;

    for round in ["first", "second"] {
        let answer = client
            .delete_connection_by_id()
            .organization_id(org)
            .connection_id(connection)
            .send()
            .await;
        match answer {
            Ok(deleted) => println!("{round} delete: {} is now {}", deleted.id, deleted.state),
            // 404: the connection is gone (deleted before, or never there).
            Err(e) if e.status().is_some_and(|s| s.as_u16() == 404) => {
                println!("{round} delete: already deleted (404)")
            }
            Err(Error::ErrorResponse(answer)) => match answer.as_ref() {
                DeleteConnectionByIdError::UnprocessableEntity(invalid) => {
                    println!("{round} delete: 422 {:?}", invalid.detail)
                }
                other => println!("{round} delete: {} {other:?}", answer.status()),
            },
            Err(other) => return Err(other.into()),
        }
    }
    Ok(())
}
