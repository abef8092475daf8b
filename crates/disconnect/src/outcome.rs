//! [`Receipt`]: what a successful call returns, with its [`DisconnectStatus`] and the
//! vendor's own [`VendorRecord`]. A failed call returns a [`crate::DisconnectError`].

use std::time::Duration;

use crate::{Target, Vendor, VendorRecord};

/// Whether this call cut the connection or found it already cut. Non-exhaustive: a kind of
/// success added later (say, "scheduled") is a new variant, so a `match` needs a `_` arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DisconnectStatus {
    /// The vendor cut the connection in answer to this call.
    Disconnected,
    /// The connection was already cut (Tartan 409, Persona 409, or NotFound with
    /// [`crate::Settings::not_found_is_gone`]).
    AlreadyDisconnected,
}

/// Proof that a connection is no longer live: what `Ok` holds for a call (was `Disconnected`).
/// Non-exhaustive: fields are added as the vendors tell more; read them by name.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Receipt {
    /// The vendor.
    pub vendor: Vendor,
    /// The target.
    pub target: Target,
    /// Cut now, or already cut.
    pub status: DisconnectStatus,
    /// The HTTP status of the final answer.
    pub http_status: u16,
    /// The vendor's request id, when it sends one (Persona's `Request-Id` header, Tartan's
    /// `requestId` field).
    pub request_id: Option<String>,
    /// Requests sent, the last included.
    pub attempts: u32,
    /// Time from the call to the final answer, waits included.
    pub elapsed: Duration,
    /// The vendor's record.
    pub record: VendorRecord,
    /// The `Idempotency-Key` of the last request (Persona); not a secret.
    pub idempotency_key: Option<String>,
    /// The answer to an earlier request for this target was lost (the connection dropped or
    /// timed out after it was sent, in this call or in an earlier run: [`crate::Previous`]),
    /// and a later answer found the connection gone (Tartan's and Persona's 409, Leen's 404):
    /// the lost request cut it. `status` is then [`DisconnectStatus::Disconnected`].
    pub confirmed_after_lost_answer: bool,
}

impl Receipt {
    /// A receipt for `target` (to test code that consumes receipts): one attempt, no time, no
    /// request id, no record; set the fields you need.
    ///
    /// ```
    /// use disconnect::{DisconnectStatus, Receipt};
    /// let mut receipt = Receipt::new("leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706".parse()?, DisconnectStatus::AlreadyDisconnected, 404);
    /// receipt.attempts = 2;
    /// assert_eq!(receipt.vendor, disconnect::Vendor::Leen);
    /// # Ok::<(), disconnect::TargetError>(())
    /// ```
    pub fn new(target: Target, status: DisconnectStatus, http_status: u16) -> Self {
        Self {
            vendor: target.vendor(),
            target,
            status,
            http_status,
            request_id: None,
            attempts: 1,
            elapsed: Duration::ZERO,
            record: VendorRecord::None,
            idempotency_key: None,
            confirmed_after_lost_answer: false,
        }
    }
}

/// The former name of [`Receipt`].
#[deprecated(since = "0.3.0", note = "renamed to `Receipt`")]
pub type Disconnected = Receipt;
