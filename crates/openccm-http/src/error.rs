//! The single mapping from errors to HTTP: status, Huawei error code and body.
//!
//! - Gateway errors (authentication, routing, limits) carry `APIGW.*` codes and
//!   a `request_id` in the body, as the cloud gateway does.
//! - Service errors carry the service's own codes (`PCA.*`, `SCM.*`).
//! - `Internal` is logged with the request id; the client gets a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openccm_app::{Error, Invalid};
use openccm_wire::error::{gateway, iam, pca, scm};
use openccm_wire::{ErrorBody, ErrorCode};

/// Which API family answers: picks the error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `/v1/private-certificate*`.
    Pca,
    /// `/v3/scm/...`.
    Scm,
    /// The gateway itself (auth, routing) and the IAM subset.
    Gateway,
    /// The IAM administration API.
    Iam,
}

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: ErrorCode, msg: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody::new(code, msg),
        }
    }

    /// A gateway error: adds `request_id` to the body.
    pub fn gateway(
        status: StatusCode,
        code: ErrorCode,
        msg: impl Into<String>,
        request_id: &str,
    ) -> Self {
        let mut err = Self::new(status, code, msg);
        err.body.request_id = Some(request_id.to_owned());
        err
    }

    /// The response to a body rejection outside any service: 415 for a
    /// non-JSON body, 400 for a malformed one.
    pub fn from_rejection(rejection: crate::extract::BodyRejection) -> Self {
        match rejection {
            crate::extract::BodyRejection::UnsupportedMediaType => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                gateway::UNSUPPORTED_MEDIA_TYPE,
                "The request body must be JSON (Content-Type: application/json).",
            ),
            crate::extract::BodyRejection::Malformed(msg) => {
                Self::new(StatusCode::BAD_REQUEST, gateway::BAD_REQUEST, msg)
            }
        }
    }

    /// The response to a body rejection on a route of `service`: 415 for a
    /// non-JSON body; a malformed one is the service's invalid parameter.
    pub fn from_body(service: Service, rejection: crate::extract::BodyRejection) -> Self {
        match rejection {
            crate::extract::BodyRejection::Malformed(msg) => {
                Self::from_app(service, &Error::invalid(msg))
            }
            other @ crate::extract::BodyRejection::UnsupportedMediaType => {
                Self::from_rejection(other)
            }
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &ErrorBody {
        &self.body
    }

    /// Maps an application error for `service`.
    pub fn from_app(service: Service, err: &Error) -> Self {
        let (status, code, msg) = classify(service, err);
        if let Error::Internal(detail) = err {
            tracing::error!(error = %detail, "internal error");
        }
        Self::new(status, code, msg)
    }
}

/// Status, code and client message of an application error.
pub fn classify(service: Service, err: &Error) -> (StatusCode, ErrorCode, String) {
    let internal_msg = "Internal error. Try again later; the request id identifies it in the logs.";
    match (service, err) {
        (_, Error::Unauthenticated(msg)) => {
            (StatusCode::UNAUTHORIZED, gateway::AUTH_FAILED, msg.clone())
        }
        (Service::Pca, e) => pca_code(e).map_or_else(
            || {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    pca::INTERNAL,
                    internal_msg.to_owned(),
                )
            },
            |(s, c)| (s, c, client_message(e)),
        ),
        (Service::Scm, e) => scm_code(e).map_or_else(
            || {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    scm::INTERNAL,
                    internal_msg.to_owned(),
                )
            },
            |(s, c)| (s, c, client_message(e)),
        ),
        (Service::Iam, e) => iam_code(e).map_or_else(
            || {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    iam::INTERNAL,
                    internal_msg.to_owned(),
                )
            },
            |(s, c)| (s, c, client_message(e)),
        ),
        (Service::Gateway, e) => gateway_code(e).map_or_else(
            || {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    gateway::INTERNAL,
                    internal_msg.to_owned(),
                )
            },
            |(s, c)| (s, c, client_message(e)),
        ),
    }
}

/// The message an error shows the client: its own, with a CA status in the
/// API's spelling where it names one.
fn client_message(err: &Error) -> String {
    match err {
        Error::StatusForbids(refusal) => crate::names::refusal_message(*refusal),
        other => other.to_string(),
    }
}

fn pca_code(err: &Error) -> Option<(StatusCode, ErrorCode)> {
    Some(match err {
        Error::InvalidArgument { kind, .. } => (StatusCode::BAD_REQUEST, pca_invalid_code(*kind)),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, pca::NOT_FOUND),
        Error::Conflict(_) => (StatusCode::BAD_REQUEST, pca::CONFLICT),
        Error::InvalidState(_) | Error::StatusForbids(_) => {
            (StatusCode::BAD_REQUEST, pca::INVALID_STATE)
        }
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, pca::FORBIDDEN),
        Error::QuotaExceeded(_) => (StatusCode::BAD_REQUEST, pca::QUOTA_EXCEEDED),
        Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, gateway::AUTH_FAILED),
        Error::Internal(_) | _ => return None,
    })
}

/// The PCA code of each kind of invalid argument (errors.md § PCA error codes).
pub fn pca_invalid_code(kind: Invalid) -> ErrorCode {
    match kind {
        Invalid::DistinguishedName => pca::INVALID_DISTINGUISHED_NAME,
        Invalid::KeyAlgorithm => pca::INVALID_KEY_ALGORITHM,
        Invalid::SignatureAlgorithm => pca::INVALID_SIGNATURE_ALGORITHM,
        Invalid::Validity => pca::INVALID_VALIDITY,
        Invalid::DomainName => pca::INVALID_DOMAIN_NAME,
        Invalid::IpAddress => pca::INVALID_IP,
        Invalid::AlternativeName => pca::INVALID_SAN_TYPE,
        Invalid::CaId => pca::INVALID_CA_ID,
        Invalid::CaType => pca::INVALID_CA_TYPE,
        Invalid::CertificateId => pca::INVALID_CERTIFICATE_ID,
        Invalid::Csr => pca::INVALID_CSR,
        Invalid::Certificate | Invalid::Chain | Invalid::PemFormat | Invalid::EmptyCertificate => {
            pca::INVALID_CERTIFICATE
        }
        Invalid::PrivateKey | Invalid::PrivateKeyFormat => pca::INVALID_PRIVATE_KEY,
        Invalid::Tag => pca::INVALID_TAG,
        Invalid::Parameter | Invalid::Body | _ => pca::INVALID_PARAMETER,
    }
}

fn scm_code(err: &Error) -> Option<(StatusCode, ErrorCode)> {
    Some(match err {
        Error::InvalidArgument { kind, .. } => (StatusCode::BAD_REQUEST, scm_invalid_code(*kind)),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, scm::NOT_FOUND),
        Error::Conflict(_) | Error::InvalidState(_) | Error::StatusForbids(_) => {
            (StatusCode::BAD_REQUEST, scm::CONFLICT)
        }
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, scm::FORBIDDEN),
        Error::QuotaExceeded(_) => (StatusCode::BAD_REQUEST, scm::QUOTA_EXCEEDED),
        Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, gateway::AUTH_FAILED),
        Error::Internal(_) | _ => return None,
    })
}

/// The SCM code of each kind of invalid argument (errors.md § SCM error codes).
pub fn scm_invalid_code(kind: Invalid) -> ErrorCode {
    match kind {
        Invalid::PemFormat | Invalid::Certificate => scm::CERTIFICATE_FORMAT,
        Invalid::EmptyCertificate => scm::CERTIFICATE_EMPTY,
        Invalid::Chain => scm::CHAIN_MISMATCH,
        Invalid::PrivateKey => scm::INVALID_PRIVATE_KEY,
        Invalid::PrivateKeyFormat => scm::PRIVATE_KEY_FORMAT,
        Invalid::Csr => scm::INVALID_CSR,
        Invalid::Tag => scm::INVALID_TAG,
        Invalid::KeyAlgorithm | Invalid::SignatureAlgorithm => scm::UNSUPPORTED_ALGORITHM,
        _ => scm::INVALID_PARAMETER,
    }
}

fn iam_code(err: &Error) -> Option<(StatusCode, ErrorCode)> {
    Some(match err {
        Error::InvalidArgument { .. } => (StatusCode::BAD_REQUEST, iam::INVALID_PARAMETER),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, iam::NOT_FOUND),
        Error::Conflict(_) => (StatusCode::CONFLICT, iam::CONFLICT),
        Error::InvalidState(_) | Error::StatusForbids(_) => {
            (StatusCode::BAD_REQUEST, iam::INVALID_STATE)
        }
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, iam::FORBIDDEN),
        Error::QuotaExceeded(_) => (StatusCode::BAD_REQUEST, iam::QUOTA_EXCEEDED),
        Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, gateway::AUTH_FAILED),
        Error::Internal(_) | _ => return None,
    })
}

fn gateway_code(err: &Error) -> Option<(StatusCode, ErrorCode)> {
    Some(match err {
        Error::InvalidArgument { .. }
        | Error::Conflict(_)
        | Error::InvalidState(_)
        | Error::StatusForbids(_)
        | Error::QuotaExceeded(_) => (StatusCode::BAD_REQUEST, gateway::BAD_REQUEST),
        Error::NotFound(_) => (StatusCode::NOT_FOUND, gateway::API_NOT_FOUND),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, gateway::FORBIDDEN),
        Error::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, gateway::AUTH_FAILED),
        Error::Internal(_) | _ => return None,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = crate::audit::AuditErrorCode(self.body.error_code.clone());
        let mut response = (self.status, axum::Json(self.body)).into_response();
        // For the audit trail's result column.
        response.extensions_mut().insert(code);
        response
    }
}

/// 404 for any path no route matches.
pub async fn unknown_route(parts: axum::http::request::Parts) -> ApiError {
    let id = crate::middleware::request_id_of(&parts.extensions);
    ApiError::gateway(
        StatusCode::NOT_FOUND,
        gateway::API_NOT_FOUND,
        "The API does not exist or has not been published in the environment.",
        &id,
    )
}

/// 405 for a known path with another method.
pub async fn method_not_allowed(parts: axum::http::request::Parts) -> ApiError {
    let id = crate::middleware::request_id_of(&parts.extensions);
    ApiError::gateway(
        StatusCode::METHOD_NOT_ALLOWED,
        gateway::METHOD_NOT_ALLOWED,
        "The method is not allowed for this API.",
        &id,
    )
}

/// 500 when a handler panicked (a bug): never an empty body.
pub fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let mut response = ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        gateway::INTERNAL,
        "Internal error. Try again later; the request id identifies it in the logs.",
    )
    .into_response();
    // The panic guard sits outside the no-store layer.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_error() -> Vec<Error> {
        vec![
            Error::invalid("x"),
            Error::invalid_kind(Invalid::Body, "x"),
            Error::NotFound("x".into()),
            Error::Conflict("x".into()),
            Error::InvalidState("x".into()),
            Error::Unauthenticated("x".into()),
            Error::Forbidden("x".into()),
            Error::QuotaExceeded("x".into()),
            Error::Internal("secret detail".into()),
        ]
    }

    #[test]
    fn every_error_has_a_catalogue_code_in_every_service() {
        for service in [Service::Pca, Service::Scm, Service::Gateway, Service::Iam] {
            for err in every_error() {
                let (status, code, msg) = classify(service, &err);
                assert!(status.is_client_error() || status.is_server_error());
                let prefix = code.service();
                match (&err, service) {
                    (Error::Unauthenticated(_), _) | (_, Service::Gateway) => {
                        assert_eq!(prefix, "APIGW");
                    }
                    (_, Service::Pca) => assert_eq!(prefix, "PCA"),
                    (_, Service::Scm) => assert_eq!(prefix, "SCM"),
                    (_, Service::Iam) => assert_eq!(prefix, "IAM"),
                }
                assert!(
                    !msg.contains("secret detail"),
                    "internal details never reach the client"
                );
            }
        }
    }

    #[test]
    fn statuses_follow_the_seeds() {
        assert_eq!(
            classify(Service::Pca, &Error::NotFound("x".into())).0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            classify(Service::Pca, &Error::NotFound("x".into())).1,
            pca::NOT_FOUND
        );
        assert_eq!(
            classify(Service::Pca, &Error::invalid("x")).0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            classify(Service::Scm, &Error::Forbidden("x".into())).0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            classify(Service::Scm, &Error::Unauthenticated("x".into())).0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            classify(Service::Scm, &Error::Internal("x".into())).0,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
