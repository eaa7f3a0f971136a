//! Extractors: JSON bodies with Huawei-format rejections, and the caller.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use openccm_app::iam::Caller;
use openccm_wire::error::gateway;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::middleware::{Authenticated, RawBody};

/// A JSON request body. Rejections become the service's own 400 (malformed)
/// or the gateway's 415 (not JSON) via [`BodyRejection`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Why a body was refused.
#[derive(Debug)]
pub enum BodyRejection {
    /// A non-empty body whose `Content-Type` is not JSON.
    UnsupportedMediaType,
    /// Not valid JSON, or not the expected shape.
    Malformed(String),
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            Self::UnsupportedMediaType => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                gateway::UNSUPPORTED_MEDIA_TYPE,
                "The request body must be JSON (Content-Type: application/json).",
            )
            .into_response(),
            Self::Malformed(msg) => {
                ApiError::new(StatusCode::BAD_REQUEST, gateway::BAD_REQUEST, msg).into_response()
            }
        }
    }
}

/// Whether a `Content-Type` value names JSON.
pub fn is_json(content_type: Option<&axum::http::HeaderValue>) -> bool {
    content_type
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"))
}

/// Parses `bytes` as `T`, checking the content type first.
pub fn parse_json<T: DeserializeOwned>(
    content_type: Option<&axum::http::HeaderValue>,
    bytes: &[u8],
) -> Result<T, BodyRejection> {
    if !bytes.is_empty() && !is_json(content_type) {
        return Err(BodyRejection::UnsupportedMediaType);
    }
    if bytes.is_empty() {
        return Err(BodyRejection::Malformed(
            "The request body is missing.".to_owned(),
        ));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| BodyRejection::Malformed(format!("The request body is not valid: {e}")))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(http::header::CONTENT_TYPE).cloned();
        let bytes = match req.extensions().get::<RawBody>() {
            Some(raw) => raw.0.clone(),
            None => axum::body::to_bytes(req.into_body(), usize::MAX)
                .await
                .map_err(|_| {
                    BodyRejection::Malformed("The request body could not be read.".into())
                })?,
        };
        parse_json(content_type.as_ref(), &bytes).map(ApiJson)
    }
}

/// The caller of a protected route.
#[derive(Debug, Clone)]
pub struct CallerOf(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for CallerOf {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(Authenticated(caller)) = parts.extensions.get::<Authenticated>() {
            Ok(Self(caller.clone()))
        } else {
            let id = crate::middleware::request_id_of(&parts.extensions);
            Err(ApiError::gateway(
                StatusCode::UNAUTHORIZED,
                gateway::AUTH_FAILED,
                "Incorrect IAM authentication information: x-auth-token not found",
                &id,
            ))
        }
    }
}
