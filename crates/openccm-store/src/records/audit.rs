//! The audit trail's events and chain.

/// One audited call. Never holds a secret: ids, names of routes, results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditEvent {
    /// Epoch ms.
    pub at: i64,
    /// The caller's account ('' when the call was refused before authentication).
    pub domain_id: String,
    /// The caller's user ('' likewise).
    pub user_id: String,
    /// The client's address.
    pub source: String,
    /// What was asked: method and route (`POST /v1/private-certificates/{certificate_id}/revoke`).
    pub action: String,
    /// The resource acted on (path parameters, or the id a create returned).
    pub resource_id: String,
    /// The HTTP status, with the error code of a refusal (`403 PCA.90010003`).
    pub result: String,
    /// The request id (`X-Request-Id`).
    pub request_id: String,
}

/// An event in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedAuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The event.
    pub event: AuditEvent,
    /// The master key version the mac was made with.
    pub key_version: u32,
    /// HMAC over the previous event's mac and this event.
    pub mac: Vec<u8>,
}

/// The chain's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// The last event's seq (0: none yet).
    pub seq: i64,
    /// The last event's mac (32 zero bytes: none yet).
    pub mac: Vec<u8>,
}

/// Computes an event's link: (key version, mac) from the previous mac, the
/// event's seq and the event. The store calls it inside the appending
/// transaction; it holds the key, the store does not.
pub type AuditChainer =
    std::sync::Arc<dyn Fn(&[u8], i64, &AuditEvent) -> (u32, Vec<u8>) + Send + Sync>;
