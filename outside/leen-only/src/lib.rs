//! An application's offboarding step, written against `disconnect` with only the `leen`
//! feature: what a user of one vendor writes.

use std::time::Duration;

use disconnect::{DisconnectError, Disconnector, Receipt, Target};

/// The application's disconnector: keys and base URL from the environment (`LEEN_API_KEY`,
/// `LEEN_BASE_URL`), its own User-Agent and trace header, a 3 s deadline.
pub fn disconnector(trace: &str) -> Result<Disconnector, disconnect::ConfigError> {
    Disconnector::builder()
        .from_env()?
        .user_agent(format!("acme-offboarding/2.1 {}", disconnect::USER_AGENT))
        .header("traceparent", trace)
        .deadline(Duration::from_secs(3))
        .build()
}

/// The target of one Leen connection (its ids are checked here, before any request).
pub fn target(org: &str, connection: &str) -> Result<Target, disconnect::TargetError> {
    format!("leen:{org}/{connection}").parse()
}

/// Cut one Leen connection.
pub async fn offboard(d: &Disconnector, target: &Target) -> Result<Receipt, DisconnectError> {
    d.disconnect(target).await
}
