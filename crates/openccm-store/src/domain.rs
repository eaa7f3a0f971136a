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
