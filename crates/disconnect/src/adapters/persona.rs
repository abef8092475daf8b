//! Persona Connect: `POST /connect/connections/{id}/deactivate`, Bearer key, idempotency key,
//! pinned `Key-Inflection: kebab` and `Persona-Version`.

use persona_client::Client;
use persona_client::types::PersonaVersion;
use sha2::{Digest, Sha256};

use crate::adapters::generic::{Connects, Generic};
use crate::adapters::{Adapter, Connect};
use crate::classify::Classified;
use crate::config::ConfigError;
use crate::plan::PlannedRequest;
use crate::target::{TargetError, VendorTarget, check_path_id};
use crate::{DisconnectorBuilder, Target, Vendor};

/// A Persona Connect connection, `persona:<connection-id>`: [`Target::Persona`].
///
/// The id travels in the URL path: besides the common checks it may not contain `/`, `?`, `#`,
/// `%`, `\` or `..` (no Persona id does).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonaTarget {
    // Shared: a target is cloned into every receipt and error, and an id never changes.
    connection_id: std::sync::Arc<str>,
}

impl PersonaTarget {
    /// The connection id (`cxn_…`).
    pub fn connection_id(&self) -> &str {
        &self.connection_id
    }
}

impl VendorTarget for PersonaTarget {
    fn parse(_: Vendor, id: &str) -> Result<Self, TargetError> {
        check_path_id("Persona connection id", Vendor::Persona, id)?;
        Ok(Self {
            connection_id: id.into(),
        })
    }

    fn id(&self) -> String {
        self.connection_id.to_string()
    }

    fn values(&self) -> Vec<String> {
        vec![self.connection_id.to_string()]
    }
}

impl Target {
    /// A Persona target (see [`PersonaTarget`]).
    pub fn persona(connection_id: impl Into<String>) -> Result<Self, TargetError> {
        PersonaTarget::parse(Vendor::Persona, &connection_id.into()).map(Target::Persona)
    }
}

/// What Persona answered: the Connection after deactivation ([`VendorRecord::Persona`](crate::VendorRecord::Persona)).
pub type PersonaRecord = Box<persona_client::types::Connection>;

impl DisconnectorBuilder {
    /// The `Persona-Version` header pinned on every Persona call. Default `2025-12-08` (was
    /// `Settings::persona_version`).
    pub fn persona_version(mut self, version: PersonaVersion) -> Self {
        self.options.insert(version);
        self
    }
}

/// Persona's answers are classified by the vendor table's rules (`specs/vendors.toml`: 409 is
/// `already_disconnected`, problems are the `errors`' titles and details); what data cannot
/// say is here: the version option and the idempotency key chain.
pub(crate) struct Persona {
    wire: Generic<Client, persona_client::types::Connection>,
    operation_id: String,
}

impl Connects for Persona {
    type Wire = Generic<Client, persona_client::types::Connection>;

    fn connect(c: &Connect<'_>, wire: Self::Wire) -> Result<Self, ConfigError> {
        let version = c
            .options
            .get::<PersonaVersion>()
            .copied()
            .unwrap_or(PersonaVersion::X20251208);
        Ok(Self {
            wire: wire.with_header("persona-version", version.to_string()),
            operation_id: c.settings.operation_id.clone().unwrap_or_default(),
        })
    }
}

/// The target's connection id (the registry routes only Persona targets here).
fn connection_id(target: &Target) -> &str {
    #[allow(unreachable_patterns)] // with only this vendor compiled in
    match target {
        Target::Persona(t) => &t.connection_id,
        other => unreachable!("{other} routed to Persona"),
    }
}

/// The first `Idempotency-Key` for a connection: derived from the connection id and the
/// operation id only, so that retries and a restarted job send the same key.
pub(crate) fn first_key(connection_id: &str, operation_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(b"disconnect/persona/deactivate\n");
    hash.update(connection_id.as_bytes());
    hash.update(b"\n");
    hash.update(operation_id.as_bytes());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = String::with_capacity(43);
    key.push_str("disconnect-");
    // Lower-case hex of the first 16 bytes, by table: `write!` per byte cost more than the hash.
    for b in &hash.finalize()[..16] {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    key
}

impl Adapter for Persona {
    fn vendor(&self) -> Vendor {
        Vendor::Persona
    }

    fn plan(&self, target: &Target, key: Option<&str>) -> PlannedRequest {
        self.wire.plan(target, key)
    }

    async fn attempt(&self, target: &Target, key: Option<&str>) -> Classified {
        self.wire.attempt(target, key).await
    }

    fn idempotency_key(&self, target: &Target) -> Option<String> {
        Some(first_key(connection_id(target), &self.operation_id))
    }

    /// Persona stores any 5xx under its key and replays it for 24 h; 401 and 429 are answered
    /// before its idempotency layer and are not stored.
    fn replays_under_key(&self, status: u16) -> bool {
        (500..=599).contains(&status)
    }
}
