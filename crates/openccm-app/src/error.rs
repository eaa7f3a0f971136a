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
    /// A distinguished-name field.
    DistinguishedName,
    /// The key algorithm.
    KeyAlgorithm,
    /// The signature (hash) algorithm.
    SignatureAlgorithm,
    /// The validity.
    Validity,
    /// A SAN DNS name.
    DomainName,
    /// A SAN IP address.
    IpAddress,
    /// A SAN of an unknown type, or a bad email/URI.
    AlternativeName,
    /// A malformed CA id.
    CaId,
    /// A CA type other than ROOT/SUBORDINATE.
    CaType,
    /// A malformed certificate id.
    CertificateId,
    /// An unparsable or unverifiable CSR.
    Csr,
    /// A malformed or unfitting certificate.
    Certificate,
    /// A private key that is malformed or does not match.
    PrivateKey,
    /// A certificate or key not framed by the PEM markers.
    PemFormat,
    /// An empty certificate.
    EmptyCertificate,
    /// A chain that does not link up.
    Chain,
    /// A private key not framed by the PEM markers.
    PrivateKeyFormat,
    /// A tag key or value.
    Tag,
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
    /// A resource's status does not allow the operation: an
    /// [`Error::InvalidState`] whose message the edge words, with the status
    /// in the API's spelling.
    #[error("{0:?}")]
    StatusForbids(StatusRefusal),
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

/// Which status refused what (see [`Error::StatusForbids`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusRefusal {
    /// A CA operation (`Activation`, `Deletion`, ...) refused by the CA's status.
    Ca {
        /// What was asked.
        operation: &'static str,
        /// The CA's status.
        status: openccm_store::CaStatus,
    },
    /// Issuance from a CA that is not active.
    IssuerNotActive(openccm_store::CaStatus),
    /// Revocation of a certificate that is not issued.
    CertNotRevocable(openccm_store::CertStatus),
    /// Export of a certificate that is not issued.
    CertNotExportable(openccm_store::CertStatus),
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

impl From<openccm_pki::PkiError> for Error {
    fn from(err: openccm_pki::PkiError) -> Self {
        use openccm_pki::PkiError as P;
        let message = err.to_string();
        let kind = match err {
            P::DistinguishedName(_) => Invalid::DistinguishedName,
            P::KeyAlgorithm(_) => Invalid::KeyAlgorithm,
            P::SignatureAlgorithm(_) => Invalid::SignatureAlgorithm,
            P::Validity(_) => Invalid::Validity,
            P::DomainName(_) => Invalid::DomainName,
            P::IpAddress(_) => Invalid::IpAddress,
            P::AlternativeName(_) => Invalid::AlternativeName,
            P::Csr(_) => Invalid::Csr,
            P::Certificate(_) => Invalid::Certificate,
            P::Key(_) => Invalid::PrivateKey,
            P::KeyFormat(_) => Invalid::PrivateKeyFormat,
            P::Extension(_) => Invalid::Parameter,
            P::Lint(_) | P::Signing(_) | P::Encoding(_) | _ => return Self::Internal(message),
        };
        Self::InvalidArgument { kind, message }
    }
}

/// The result type of use cases.
pub type Result<T, E = Error> = std::result::Result<T, E>;
