//! Domain values the records carry, typed. Each has one spelling in the
//! store's columns, private to this crate (the text every version has
//! written, so no data migration is needed); the API's spellings live in
//! `openccm-wire`, and the HTTP edge converts between the two.

use crate::{StoreError, StoreResult};

/// A CA's stored state. Expiry is not stored: an active CA past its
/// notAfter shows as [`CaStatus::Expired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaState {
    /// Created, its certificate not issued or imported yet.
    Pending,
    /// Issuing.
    Active,
    /// Disabled by its owner.
    Disabled,
    /// Scheduled for deletion.
    Deleted,
    /// Revoked by its issuer (subordinates only).
    Revoked,
}

impl CaState {
    /// The column's text.
    pub(crate) const fn column(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Active => "ACTIVED",
            Self::Disabled => "DISABLED",
            Self::Deleted => "DELETED",
            Self::Revoked => "REVOKED",
        }
    }

    pub(crate) fn from_column(text: &str) -> StoreResult<Self> {
        Ok(match text {
            "PENDING" => Self::Pending,
            "ACTIVED" => Self::Active,
            "DISABLED" => Self::Disabled,
            "DELETED" => Self::Deleted,
            "REVOKED" => Self::Revoked,
            _ => return Err(StoreError::Corrupt("cas.status".to_owned())),
        })
    }
}

/// A CA's place in its hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaType {
    /// Self-signed.
    Root,
    /// Signed by another CA.
    Subordinate,
}

impl CaType {
    /// The column's text.
    pub(crate) const fn column(self) -> &'static str {
        match self {
            Self::Root => "ROOT",
            Self::Subordinate => "SUBORDINATE",
        }
    }

    pub(crate) fn from_column(text: &str) -> StoreResult<Self> {
        match text {
            "ROOT" => Ok(Self::Root),
            "SUBORDINATE" => Ok(Self::Subordinate),
            _ => Err(StoreError::Corrupt("cas.ca_type".to_owned())),
        }
    }
}

/// Where a CA's or certificate's key pair came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenMode {
    /// OpenCCM generated it.
    Generate,
    /// The customer did, and sent a CSR.
    Csr,
}

impl GenMode {
    /// The column's text.
    pub(crate) const fn column(self) -> &'static str {
        match self {
            Self::Generate => "GENERATE",
            Self::Csr => "CSR",
        }
    }

    pub(crate) fn from_column(text: &str) -> StoreResult<Self> {
        match text {
            "GENERATE" => Ok(Self::Generate),
            "CSR" => Ok(Self::Csr),
            _ => Err(StoreError::Corrupt("gen_mode".to_owned())),
        }
    }
}

/// What a CA shows at a moment: its state, with an active CA past its
/// notAfter shown as expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaStatus {
    /// See [`CaState::Pending`].
    Pending,
    /// Active and within its validity.
    Active,
    /// Active but past its notAfter.
    Expired,
    /// See [`CaState::Disabled`].
    Disabled,
    /// See [`CaState::Deleted`].
    Deleted,
    /// See [`CaState::Revoked`].
    Revoked,
}

impl CaStatus {
    /// The status of a CA in `state` with `not_after`, at `now` (epoch ms).
    pub fn at(state: CaState, not_after: Option<i64>, now: i64) -> Self {
        match state {
            CaState::Active if not_after.is_some_and(|na| na <= now) => Self::Expired,
            CaState::Active => Self::Active,
            CaState::Pending => Self::Pending,
            CaState::Disabled => Self::Disabled,
            CaState::Deleted => Self::Deleted,
            CaState::Revoked => Self::Revoked,
        }
    }
}

/// What a certificate shows at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertStatus {
    /// Issued, not revoked, within its validity.
    Issued,
    /// Past its notAfter, not revoked.
    Expired,
    /// Revoked.
    Revoked,
}

impl CertStatus {
    /// The status of a certificate at `now` (epoch ms).
    pub fn at(revoked: bool, not_after: i64, now: i64) -> Self {
        if revoked {
            Self::Revoked
        } else if not_after <= now {
            Self::Expired
        } else {
            Self::Issued
        }
    }
}

/// Why a certificate or CA was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RevocationReason {
    /// No reason given (the default).
    #[default]
    Unspecified,
    /// The subject's key was compromised.
    KeyCompromise,
    /// The issuing CA's key was compromised.
    CaCompromise,
    /// The subject's affiliation changed.
    AffiliationChanged,
    /// Replaced by another certificate.
    Superseded,
    /// No longer needed.
    CessationOfOperation,
    /// On hold.
    CertificateHold,
    /// A privilege it asserted was withdrawn.
    PrivilegeWithdrawn,
    /// An attribute authority was compromised.
    AaCompromise,
}

impl RevocationReason {
    /// Every reason.
    pub const ALL: [Self; 9] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::CertificateHold,
        Self::PrivilegeWithdrawn,
        Self::AaCompromise,
    ];

    /// Its RFC 5280 §5.3.1 `CRLReason` code, for CRL entries and OCSP
    /// answers; `None` for [`Self::Unspecified`], whose entry carries no
    /// reasonCode ("the reason code CRL entry extension SHOULD be absent
    /// instead of using the unspecified (0) reasonCode value").
    pub const fn crl_code(self) -> Option<u8> {
        match self {
            Self::Unspecified => None,
            Self::KeyCompromise => Some(1),
            Self::CaCompromise => Some(2),
            Self::AffiliationChanged => Some(3),
            Self::Superseded => Some(4),
            Self::CessationOfOperation => Some(5),
            Self::CertificateHold => Some(6),
            Self::PrivilegeWithdrawn => Some(9),
            Self::AaCompromise => Some(10),
        }
    }

    /// The column's text (the API's names, which every version has written).
    pub(crate) const fn column(self) -> &'static str {
        match self {
            Self::Unspecified => "UNSPECIFIED",
            Self::KeyCompromise => "KEY_COMPROMISE",
            Self::CaCompromise => "CERTIFICATE_AUTHORITY_COMPROMISE",
            Self::AffiliationChanged => "AFFILIATION_CHANGED",
            Self::Superseded => "SUPERSEDED",
            Self::CessationOfOperation => "CESSATION_OF_OPERATION",
            Self::CertificateHold => "CERTIFICATE_HOLD",
            Self::PrivilegeWithdrawn => "PRIVILEGE_WITHDRAWN",
            Self::AaCompromise => "ATTRIBUTE_AUTHORITY_COMPROMISE",
        }
    }

    pub(crate) fn from_column(text: &str) -> StoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.column() == text)
            .ok_or_else(|| StoreError::Corrupt("revocation reason".to_owned()))
    }
}

/// Whom an SCM CSR's subject names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CsrUsage {
    /// A person: the domain name alone.
    Personal,
    /// An organisation: the domain name and the company's fields.
    Enterprise,
}

impl CsrUsage {
    /// The column's text.
    pub(crate) const fn column(self) -> &'static str {
        match self {
            Self::Personal => "PERSONAL",
            Self::Enterprise => "ENTERPRISE",
        }
    }

    pub(crate) fn from_column(text: &str) -> StoreResult<Self> {
        match text {
            "PERSONAL" => Ok(Self::Personal),
            "ENTERPRISE" => Ok(Self::Enterprise),
            _ => Err(StoreError::Corrupt("scm_csrs.usage".to_owned())),
        }
    }
}

/// An ACME challenge type (RFC 8555 §8, RFC 8737).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AcmeChallenge {
    /// `http-01`: a file under `/.well-known/acme-challenge/`.
    Http01,
    /// `dns-01`: a TXT record at `_acme-challenge.<name>`.
    Dns01,
    /// `tls-alpn-01`: a certificate offered for the `acme-tls/1` protocol.
    TlsAlpn01,
}

impl AcmeChallenge {
    /// Every type, in the order they are offered.
    pub const ALL: [Self; 3] = [Self::Http01, Self::Dns01, Self::TlsAlpn01];

    /// The protocol's name of it (also the column's text).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Http01 => "http-01",
            Self::Dns01 => "dns-01",
            Self::TlsAlpn01 => "tls-alpn-01",
        }
    }

    /// The type a protocol name names.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Text enums of the ACME tables: one spelling, the protocol's, both in
/// the column and on the wire (RFC 8555 §7.1.6).
macro_rules! acme_text_enum {
    ($(#[$doc:meta])* $name:ident, $column:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The protocol's spelling (also the column's text).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value a protocol spelling names.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }

            pub(crate) fn from_column(text: &str) -> StoreResult<Self> {
                Self::parse(text).ok_or_else(|| StoreError::Corrupt($column.to_owned()))
            }
        }
    };
}

acme_text_enum!(
    /// An ACME account's status (RFC 8555 §7.1.6).
    AcmeAccountStatus, "acme_accounts.status" {
        /// In use.
        Valid = "valid",
        /// Deactivated by its holder (or with its EAB key): for good.
        Deactivated = "deactivated",
        /// Revoked by the server: for good.
        Revoked = "revoked",
    }
);

acme_text_enum!(
    /// An ACME order's stored status. `ready` and a lapsed `pending` are
    /// worked out from its authorizations and expiry when it is read.
    AcmeOrderStatus, "acme_orders.status" {
        /// Waiting for its authorizations (or `ready` once they are valid).
        Pending = "pending",
        /// Finalized; the certificate is being issued.
        Processing = "processing",
        /// The certificate is issued.
        Valid = "valid",
        /// Failed for good.
        Invalid = "invalid",
    }
);

acme_text_enum!(
    /// An ACME authorization's stored status; `expired` is worked out from
    /// its expiry when it is read.
    AcmeAuthzStatus, "acme_authorizations.status" {
        /// No challenge answered yet, or one being validated.
        Pending = "pending",
        /// Validated.
        Valid = "valid",
        /// A validation failed.
        Invalid = "invalid",
        /// Given up by the client.
        Deactivated = "deactivated",
        /// Past its expiry.
        Expired = "expired",
        /// Revoked by the server.
        Revoked = "revoked",
    }
);

acme_text_enum!(
    /// The type of an ACME identifier (RFC 8555 §9.7.7, RFC 8738).
    AcmeIdentifierKind, "acme identifier type" {
        /// A DNS name.
        Dns = "dns",
        /// An IP address.
        Ip = "ip",
    }
);

/// The columns' spellings of key and hash algorithms (what every version
/// has written): PCA tables and SCM certificates use `RSA2048`/`EC256`,
/// SCM CSRs `RSA_2048`/`EC_P256`.
pub(crate) mod algorithm {
    use openccm_pki::{HashAlgorithm, KeyAlgorithm};

    use crate::{StoreError, StoreResult};

    const KEYS: [(KeyAlgorithm, &str, &str); 6] = [
        (KeyAlgorithm::Rsa2048, "RSA2048", "RSA_2048"),
        (KeyAlgorithm::Rsa3072, "RSA3072", "RSA_3072"),
        (KeyAlgorithm::Rsa4096, "RSA4096", "RSA_4096"),
        (KeyAlgorithm::Ec256, "EC256", "EC_P256"),
        (KeyAlgorithm::Ec384, "EC384", "EC_P384"),
        (KeyAlgorithm::Sm2, "SM2", "SM2"),
    ];

    const HASHES: [(HashAlgorithm, &str); 4] = [
        (HashAlgorithm::Sha256, "SHA256"),
        (HashAlgorithm::Sha384, "SHA384"),
        (HashAlgorithm::Sha512, "SHA512"),
        (HashAlgorithm::Sm3, "SM3"),
    ];

    /// A key algorithm in a PCA table or `scm_certificates`.
    pub(crate) fn key_column(key: KeyAlgorithm) -> &'static str {
        KEYS.iter().find(|k| k.0 == key).map_or("", |k| k.1)
    }

    pub(crate) fn key_from_column(text: &str) -> StoreResult<KeyAlgorithm> {
        KEYS.iter()
            .find(|k| k.1 == text)
            .map(|k| k.0)
            .ok_or_else(|| StoreError::Corrupt("key_algorithm".to_owned()))
    }

    /// A key algorithm in `scm_csrs`.
    pub(crate) fn csr_key_column(key: KeyAlgorithm) -> &'static str {
        KEYS.iter().find(|k| k.0 == key).map_or("", |k| k.2)
    }

    pub(crate) fn csr_key_from_column(text: &str) -> StoreResult<KeyAlgorithm> {
        KEYS.iter()
            .find(|k| k.2 == text)
            .map(|k| k.0)
            .ok_or_else(|| StoreError::Corrupt("private_key_algo".to_owned()))
    }

    pub(crate) fn hash_column(hash: HashAlgorithm) -> &'static str {
        HASHES.iter().find(|h| h.0 == hash).map_or("", |h| h.1)
    }

    pub(crate) fn hash_from_column(text: &str) -> StoreResult<HashAlgorithm> {
        HASHES
            .iter()
            .find(|h| h.1 == text)
            .map(|h| h.0)
            .ok_or_else(|| StoreError::Corrupt("signature_algorithm".to_owned()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn every_algorithm_has_one_spelling_per_column() {
            for key in KeyAlgorithm::ALL {
                assert_eq!(key_from_column(key_column(key)).unwrap(), key);
                assert_eq!(csr_key_from_column(csr_key_column(key)).unwrap(), key);
            }
            for (hash, _) in HASHES {
                assert_eq!(hash_from_column(hash_column(hash)).unwrap(), hash);
            }
            assert!(key_from_column("EC_P256").is_err());
            assert!(csr_key_from_column("EC256").is_err());
        }
    }
}
