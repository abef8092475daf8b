//! Seed data: the connections each fake knows when it starts (`--seed seed.json`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Connections to load into the fakes.
///
/// ```json
/// {
///   "tartan": [{"client_org": "acme"}],
///   "persona": [{"id": "cxn_123", "status": "active"}],
///   "leen": [{"organization_id": "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e",
///             "connection_id": "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706"}]
/// }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Tartan client organisations with a connection.
    #[serde(default)]
    pub tartan: Vec<TartanSeed>,
    /// Persona connections.
    #[serde(default)]
    pub persona: Vec<PersonaSeed>,
    /// Leen connections.
    #[serde(default)]
    pub leen: Vec<LeenSeed>,
}

/// A Tartan connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TartanSeed {
    /// The `client_org` identifier.
    pub client_org: String,
    /// Already terminated.
    #[serde(default)]
    pub terminated: bool,
}

/// A Persona connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonaSeed {
    /// Connection id (`cxn_…`).
    pub id: String,
    /// `pending`, `active` (default) or `inactive`.
    #[serde(default = "active")]
    pub status: String,
}

fn active() -> String {
    "active".into()
}

/// A Leen connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeenSeed {
    /// Leen organisation UUID.
    pub organization_id: Uuid,
    /// Connection UUID.
    pub connection_id: Uuid,
    /// Vendor name shown in the record (default `crowdstrike`).
    #[serde(default = "default_vendor")]
    pub vendor: String,
    /// `PENDING`, `ACTIVE` (default), `PAUSED` or `DELETED`.
    #[serde(default = "default_state")]
    pub state: String,
}

fn default_vendor() -> String {
    "crowdstrike".into()
}

fn default_state() -> String {
    "ACTIVE".into()
}
