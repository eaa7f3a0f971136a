//! OpenCCM's HTTP edge.
//!
//! Owns the axum router, the request pipeline (request id, logging, body
//! limit, authentication), the conversion between wire types and domain
//! types, and the single mapping from [`openccm_app::Error`] to an HTTP status
//! and a Huawei error code. Business rules live in `openccm-app`; SQL in
//! `openccm-store`.
//!
//! Pipeline, outermost first: request id and access log → panic guard →
//! body buffering with the size limit → routing → authentication (protected
//! routes only) → handler.
//!
//! Modules:
//! - [`error`]: `ApiError` and the status/code mapping.
//! - [`middleware`]: request id, access log, body limit, authentication.
//! - [`extract`]: the JSON body and `Authenticated` extractors.
//! - [`routes`]: handlers, one module per API family.

pub mod error;
pub mod extract;
pub mod middleware;
pub mod routes;

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::Router;
use openccm_app::iam::Iam;
use openccm_app::pca::Pca;
use openccm_app::scm::Scm;
use tower_http::set_header::SetResponseHeaderLayer;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Authentication and IAM calls.
    pub iam: Arc<Iam>,
    /// The private CA.
    pub pca: Arc<Pca>,
    /// The SSL certificate manager.
    pub scm: Arc<Scm>,
    /// Identity-policy decisions (the IAM administration API invalidates it).
    pub authz: Arc<openccm_app::iam::authz::Authorizer>,
    /// Edge settings.
    pub settings: Arc<HttpSettings>,
}

/// The whole API. Every response outside the public revocation and health
/// routes is `Cache-Control: no-store`.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(routes::iam::protected())
        .merge(routes::admin::routes())
        .merge(routes::pca::routes())
        .merge(routes::scm::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate,
        ))
        .merge(routes::iam::public())
        // Exports carry private keys and passwords, IAM answers carry tokens
        // and secret keys, and every answer is one account's data: none of it
        // may be kept by a browser or a proxy. (The revocation routes set
        // their own caching: CRLs and OCSP answers are public.)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let public = Router::new()
        .merge(routes::health::routes())
        .merge(routes::revocation::routes());
    Router::new()
        .merge(protected)
        .merge(public)
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::buffer_body,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(axum::middleware::from_fn(middleware::request_id_and_log))
        .with_state(state)
}
