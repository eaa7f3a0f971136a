//! ACME on private CAs: a CA's ACME settings, and the external account
//! binding keys that tie ACME accounts to OpenCCM accounts.

use openccm_pki::KeyAlgorithm;

use crate::domain::AcmeChallenge;
use crate::ids::{CaId, DomainId, UserId};

/// A CA's ACME switch and policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The CA.
    pub ca_id: CaId,
    /// The account that owns the CA.
    pub domain_id: DomainId,
    /// Whether the CA answers ACME.
    pub enabled: bool,
    /// Whether a new ACME account must present an EAB key.
    pub eab_required: bool,
    /// DNS names (`*.` allows any subdomain), IP addresses and CIDR ranges
    /// that may be ordered, as given (checked by the application); empty:
    /// any.
    pub allowed_identifiers: Vec<String>,
    /// The challenge types offered.
    pub challenges: Vec<AcmeChallenge>,
    /// The longest validity of an ACME certificate, in days.
    pub max_validity_days: i64,
    /// The CSR key types accepted.
    pub key_algorithms: Vec<KeyAlgorithm>,
    /// Epoch ms.
    pub updated_at: i64,
}

/// An external account binding key (RFC 8555 §7.3.4).
#[derive(Clone, PartialEq, Eq)]
pub struct EabKey {
    /// The key's id, opaque and URL-safe (the JWS `kid` of the binding).
    pub key_id: String,
    /// The CA it was made for.
    pub ca_id: CaId,
    /// The OpenCCM account an ACME account made with it belongs to.
    pub domain_id: DomainId,
    /// The user who made it.
    pub created_by: UserId,
    /// The creator's description.
    pub description: Option<String>,
    /// Whom the sealed HMAC key is sealed for (custody's associated data).
    pub key_owner: String,
    /// The HMAC key, sealed under the master key.
    pub sealed_key: Vec<u8>,
    /// Epoch ms.
    pub created_at: i64,
    /// The ACME account it created, once used.
    pub bound_account: Option<String>,
}

impl std::fmt::Debug for EabKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EabKey")
            .field("key_id", &self.key_id)
            .field("ca_id", &self.ca_id)
            .field("domain_id", &self.domain_id)
            .field("created_by", &self.created_by)
            .field("description", &self.description)
            .field("created_at", &self.created_at)
            .field("bound_account", &self.bound_account)
            .finish_non_exhaustive()
    }
}
