//! What a hand-written Leen client looks like: one call, one struct.

use serde::Deserialize;

/// The fields of Leen's connection a caller needs.
#[derive(Debug, Deserialize)]
pub struct Connection {
    /// Connection id.
    pub id: String,
    /// `DELETED` after a delete.
    pub state: String,
    /// `false` after a delete.
    pub is_active: bool,
}

/// `DELETE {base}/provisioning/organizations/{org}/connections/{conn}` with `X-API-KEY`.
pub async fn delete_connection(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    org: &str,
    conn: &str,
) -> Result<Connection, reqwest::Error> {
    http.delete(format!("{base}/provisioning/organizations/{org}/connections/{conn}"))
        .header("x-api-key", key)
        .header("accept", "application/json")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}
