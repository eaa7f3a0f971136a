//! ACME on private CAs: a CA's ACME settings, and the external account
//! binding keys that tie ACME accounts to OpenCCM accounts.

use openccm_pki::KeyAlgorithm;

use crate::domain::{
    AcmeAccountStatus, AcmeAuthzStatus, AcmeChallenge, AcmeIdentifierKind, AcmeOrderStatus,
};
use crate::ids::{CaId, CertId, DomainId, UserId};

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

/// An ACME account (RFC 8555 §7.1.2) of one CA. It belongs to the OpenCCM
/// account that owns the CA (the one its EAB key, if any, was made in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeAccount {
    /// Opaque, URL-safe; the last segment of the account URL.
    pub account_id: String,
    /// The CA whose ACME server it is an account of.
    pub ca_id: CaId,
    /// The OpenCCM account its certificates belong to.
    pub domain_id: DomainId,
    /// Its status.
    pub status: AcmeAccountStatus,
    /// Its public key, a JWK as JSON text (public members only).
    pub jwk: String,
    /// The key's RFC 7638 thumbprint, base64url: unique per CA.
    pub thumbprint: String,
    /// `mailto:` URLs.
    pub contact: Vec<String>,
    /// The EAB key that bound it, if one did.
    pub eab_key_id: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
}

/// What storing a new ACME account did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcmeAccountInsert {
    /// Stored (and its EAB key bound to it).
    Inserted,
    /// The CA already has an account with this key: that one.
    KeyTaken(AcmeAccount),
    /// The EAB key is unknown, of another CA, or bound already.
    EabUnavailable,
}

/// An identifier of an ACME order (RFC 8555 §9.7.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AcmeIdentifier {
    /// DNS name or IP address.
    pub kind: AcmeIdentifierKind,
    /// The name (lower case, a wildcard keeping its `*.`) or the address
    /// in its canonical text.
    pub value: String,
}

/// An ACME order (RFC 8555 §7.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeOrder {
    /// Opaque, URL-safe.
    pub order_id: String,
    /// The ACME account that placed it.
    pub account_id: String,
    /// The CA.
    pub ca_id: CaId,
    /// The OpenCCM account.
    pub domain_id: DomainId,
    /// As stored (see [`AcmeOrderStatus`]).
    pub status: AcmeOrderStatus,
    /// What the certificate is for, in the client's order.
    pub identifiers: Vec<AcmeIdentifier>,
    /// Requested validity start, epoch ms.
    pub not_before: Option<i64>,
    /// Requested validity end, epoch ms.
    pub not_after: Option<i64>,
    /// Epoch ms.
    pub expires_at: i64,
    /// Why it is invalid: the problem's type and detail.
    pub error: Option<(String, String)>,
    /// The certificate, once issued.
    pub certificate_id: Option<CertId>,
    /// The ARI certificate identifier of the certificate it renews.
    pub replaces: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// When its status last changed, epoch ms.
    pub updated_at: i64,
}

/// An ACME authorization (RFC 8555 §7.1.4) with its challenges. One token
/// serves every challenge type offered; a client answers one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeAuthz {
    /// Opaque, URL-safe.
    pub authz_id: String,
    /// The order it was made for.
    pub order_id: String,
    /// The ACME account.
    pub account_id: String,
    /// The CA.
    pub ca_id: CaId,
    /// The OpenCCM account.
    pub domain_id: DomainId,
    /// The identifier, a wildcard without its `*.`.
    pub identifier: AcmeIdentifier,
    /// Whether the order asked for `*.` of it.
    pub wildcard: bool,
    /// As stored (see [`AcmeAuthzStatus`]).
    pub status: AcmeAuthzStatus,
    /// Epoch ms.
    pub expires_at: i64,
    /// The challenges' token, base64url of 32 random bytes.
    pub token: String,
    /// The challenge types offered.
    pub challenges: Vec<AcmeChallenge>,
    /// The one the client answered, once it did.
    pub attempted: Option<AcmeChallenge>,
    /// Whether that one is being validated now.
    pub processing: bool,
    /// When it was validated, epoch ms.
    pub validated_at: Option<i64>,
    /// Why its validation failed: the problem's type and detail.
    pub error: Option<(String, String)>,
    /// When its status or challenge state last changed, epoch ms.
    pub updated_at: i64,
}
