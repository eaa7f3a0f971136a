//! The error every use case returns. `openccm-http` holds the single mapping
//! to status codes and Huawei error codes.

/// Which rule an invalid argument broke; the edge maps each to its documented code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Invalid {
    /// A parameter without a more specific code.
    Parameter,
    /// A request body that is not valid JSON or misses required fields.
    Body,
}

/// Errors of the application layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed or breaks a documented rule.
    #[error("{message}")]
    InvalidArgument {
        /// Which rule.
        kind: Invalid,
        /// What is wrong, for the caller.
        message: String,
    },
    /// The resource does not exist, or belongs to another account (which must
    /// look exactly the same).
    #[error("{0}")]
    NotFound(String),
    /// A duplicate, or a uniqueness rule.
    #[error("{0}")]
    Conflict(String),
    /// The resource is not in a state that allows the operation.
    #[error("{0}")]
    InvalidState(String),
    /// Missing, malformed, stale, expired or forged credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// A quota is exhausted.
    #[error("{0}")]
    QuotaExceeded(String),
    /// A fault of ours. The message is logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An invalid generic parameter.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            kind: Invalid::Parameter,
            message: message.into(),
        }
    }

    /// An invalid argument of a specific kind.
    pub fn invalid_kind(kind: Invalid, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            kind,
            message: message.into(),
        }
    }
}

impl From<openccm_store::StoreError> for Error {
    fn from(err: openccm_store::StoreError) -> Self {
        match err {
            openccm_store::StoreError::Conflict { constraint } => {
                Self::Conflict(format!("conflict on {constraint}"))
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The result type of use cases.
pub type Result<T, E = Error> = std::result::Result<T, E>;
