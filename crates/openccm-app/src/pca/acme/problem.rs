//! ACME's errors: problem documents (RFC 7807) of the types RFC 8555 §6.7
//! names. The HTTP edge gives each its status and media type.

use crate::Error;

macro_rules! problem_kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal),+ $(,)?) => {
        /// An ACME error type (`urn:ietf:params:acme:error:<name>`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemKind {
            $($(#[$doc])* $variant),+
        }

        impl ProblemKind {
            /// The type's name after `urn:ietf:params:acme:error:`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// The type a URN names.
            pub fn from_urn(urn: &str) -> Option<Self> {
                match urn.strip_prefix(URN_PREFIX)? {
                    $($name => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

const URN_PREFIX: &str = "urn:ietf:params:acme:error:";

problem_kinds! {
    /// The request names an account that does not exist.
    AccountDoesNotExist = "accountDoesNotExist",
    /// The certificate was revoked already.
    AlreadyRevoked = "alreadyRevoked",
    /// The CSR is unacceptable.
    BadCsr = "badCSR",
    /// The nonce is unknown, spent or expired.
    BadNonce = "badNonce",
    /// The JWS key is unacceptable.
    BadPublicKey = "badPublicKey",
    /// The revocation reason is not allowed.
    BadRevocationReason = "badRevocationReason",
    /// The JWS algorithm is unsupported.
    BadSignatureAlgorithm = "badSignatureAlgorithm",
    /// CAA records forbid this CA to issue for the name.
    Caa = "caa",
    /// The validation server could not be reached.
    Connection = "connection",
    /// A DNS look-up during validation failed.
    Dns = "dns",
    /// This CA requires external account binding.
    ExternalAccountRequired = "externalAccountRequired",
    /// The response to a challenge was wrong.
    IncorrectResponse = "incorrectResponse",
    /// A contact URL is invalid.
    InvalidContact = "invalidContact",
    /// The request is malformed.
    Malformed = "malformed",
    /// The order is not ready to be finalized.
    OrderNotReady = "orderNotReady",
    /// A limit was reached.
    RateLimited = "rateLimited",
    /// The identifier is outside this CA's policy.
    RejectedIdentifier = "rejectedIdentifier",
    /// Something failed on the server.
    ServerInternal = "serverInternal",
    /// The TLS validation connection failed.
    Tls = "tls",
    /// The client may not do this.
    Unauthorized = "unauthorized",
    /// The contact URL's scheme is not supported.
    UnsupportedContact = "unsupportedContact",
    /// The identifier type is not supported.
    UnsupportedIdentifier = "unsupportedIdentifier",
    /// The client's operator must act (e.g. accept new terms).
    UserActionRequired = "userActionRequired",
}

impl ProblemKind {
    /// The full type URN.
    pub fn urn(self) -> String {
        format!("{URN_PREFIX}{}", self.name())
    }
}

/// A problem of one identifier within a larger one (RFC 8555 §6.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subproblem {
    /// Its type.
    pub kind: ProblemKind,
    /// What went wrong.
    pub detail: String,
    /// The identifier: type and value.
    pub identifier: (String, String),
}

/// An ACME error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Its type.
    pub kind: ProblemKind,
    /// What went wrong, for a person.
    pub detail: String,
    /// Per identifier, when several failed.
    pub subproblems: Vec<Subproblem>,
    /// How the answer differs from the type's usual one.
    pub disposition: Disposition,
}

/// What, besides its type, a problem tells the edge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Disposition {
    /// Answered as its type is.
    #[default]
    Usual,
    /// The resource the request named does not exist (404).
    Missing,
    /// The request conflicts with this resource (409, its URL in
    /// `Location`).
    Conflict(String),
    /// The request body is not `application/jose+json` (415).
    UnsupportedMediaType,
}

impl Problem {
    /// A problem of `kind`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            subproblems: Vec::new(),
            disposition: Disposition::Usual,
        }
    }

    /// `malformed`.
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Malformed, detail)
    }

    /// `unauthorized`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Unauthorized, detail)
    }

    /// A resource that does not exist (or is not the requester's).
    pub fn not_found(what: &str) -> Self {
        Self {
            disposition: Disposition::Missing,
            ..Self::malformed(format!("{what} does not exist"))
        }
    }

    /// A request that conflicts with the resource at `location`.
    pub fn conflict(detail: impl Into<String>, location: String) -> Self {
        Self {
            disposition: Disposition::Conflict(location),
            ..Self::malformed(detail)
        }
    }

    /// The problem as an order or authorization stores it.
    pub fn stored(&self) -> (String, String) {
        (self.kind.urn(), self.detail.clone())
    }

    /// A stored problem.
    pub fn from_stored((urn, detail): &(String, String)) -> Self {
        Self::new(
            ProblemKind::from_urn(urn).unwrap_or(ProblemKind::ServerInternal),
            detail.clone(),
        )
    }
}

/// What ACME calls may fail with.
pub type AcmeResult<T> = std::result::Result<T, Problem>;

impl From<Error> for Problem {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidArgument { kind, message } => {
                if kind == crate::Invalid::Csr {
                    Self::new(ProblemKind::BadCsr, message)
                } else {
                    Self::malformed(message)
                }
            }
            Error::QuotaExceeded(message) => Self::new(ProblemKind::RateLimited, message),
            Error::StatusForbids(_) | Error::InvalidState(_) => {
                Self::unauthorized("the CA cannot issue now")
            }
            other => {
                tracing::error!(error = %other, "ACME request failed");
                Self::new(
                    ProblemKind::ServerInternal,
                    "the server could not complete the request",
                )
            }
        }
    }
}

impl From<openccm_store::StoreError> for Problem {
    fn from(err: openccm_store::StoreError) -> Self {
        Error::from(err).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_urns() {
        for kind in [
            ProblemKind::BadNonce,
            ProblemKind::BadCsr,
            ProblemKind::RejectedIdentifier,
            ProblemKind::ExternalAccountRequired,
        ] {
            assert_eq!(ProblemKind::from_urn(&kind.urn()), Some(kind));
        }
        assert_eq!(
            ProblemKind::BadCsr.urn(),
            "urn:ietf:params:acme:error:badCSR"
        );
        assert_eq!(ProblemKind::from_urn("urn:x:badCSR"), None);
    }
}
