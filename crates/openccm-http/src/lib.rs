//! OpenCCM's HTTP edge.
//!
//! Owns the axum router, the request pipeline (request id, logging, body
//! limit, authentication), the conversion between wire types and domain
//! types, and the single mapping from [`openccm_app::Error`] to an HTTP status
//! and a Huawei error code. Business rules live in `openccm-app`; SQL in
//! `openccm-store`.
//!
//! Pipeline, outermost first: request id and access log → panic guard →
//! routing → metrics → body buffering with the route's size limit and time limit →
//! audit trail → authentication (protected routes only) → handler.
//!
//! Modules:
//! - [`audit`]: recording calls in the audit trail.
//! - [`console`]: the web console's files and sessions.
//! - [`error`]: `ApiError` and the status/code mapping.
//! - [`middleware`]: request id, access log, body limit, authentication.
//! - [`extract`]: the JSON body and `Authenticated` extractors.
//! - [`metrics`]: Prometheus metrics of every call and of the process.
//! - [`openapi`]: the OpenAPI description of the routes, made from them.
//! - [`routes`]: handlers, one module per API family.

pub mod audit;
pub mod console;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod names;
pub mod openapi;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

pub use tokio_util::task::TaskTracker;

use axum::http::{header, HeaderValue};
use axum::Router;
use openccm_app::iam::Iam;
use openccm_app::pca::Pca;
use openccm_app::scm::Scm;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest body of the PCA and SCM routes (certificates, keys, CSRs), in bytes.
    pub max_body_bytes: usize,
    /// Largest body of the IAM routes (tokens, users, keys, policies) and
    /// the OCSP responder, in bytes (at most `max_body_bytes`).
    pub max_small_body_bytes: usize,
    /// Time a client gets to send a whole request body.
    pub body_timeout: Duration,
    /// Request bodies being received at once; a request with a body beyond
    /// this is refused with 503 before any of it is read.
    pub max_inflight_bodies: usize,
    /// The server speaks TLS: the console's session cookie is `Secure`.
    pub secure_cookies: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            max_small_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(30),
            max_inflight_bodies: 256,
            secure_cookies: false,
        }
    }
}

/// What every handler can reach: the [`Services`], shared.
///
/// Every request clones the state into each layer and handler that takes it;
/// behind one `Arc` that is one reference count rather than one per
/// service, which the profile of a ShowCertificate load put at a few
/// percent of the request.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state of a router serving these services.
    #[must_use]
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind the HTTP edge.
#[derive(Debug)]
pub struct Services {
    /// Authentication and IAM calls.
    pub iam: Arc<Iam>,
    /// The private CA.
    pub pca: Arc<Pca>,
    /// The ACME server of the private CAs.
    pub acme: Arc<openccm_app::pca::acme::AcmeServer>,
    /// The SSL certificate manager.
    pub scm: Arc<Scm>,
    /// Identity-policy decisions (the IAM administration API invalidates it).
    pub authz: Arc<openccm_app::iam::authz::Authorizer>,
    /// Edge settings.
    pub settings: Arc<HttpSettings>,
    /// The audit trail.
    pub audit: openccm_app::audit::AuditTrail,
    /// Calls running as tasks of their own ([`audit::record`]): shutdown
    /// waits for them, since no connection does once their clients left.
    pub calls: TaskTracker,
    /// What [`metrics::observe`] counts.
    pub metrics: Arc<metrics::Metrics>,
}

/// The whole API. Every response outside the public revocation and health
/// routes is `Cache-Control: no-store`.
///
/// Bodies are buffered (and so limited) per group of routes, after routing
/// and before authentication: a route never reads more than its own limit
/// from a client that has not authenticated yet.
pub fn router(state: AppState) -> Router {
    let settings = &state.settings;
    let slots = Arc::new(tokio::sync::Semaphore::new(settings.max_inflight_bodies));
    // One client holds at most an eighth of the body slots (at least 2).
    let per_client = Arc::new(middleware::ClientSlots::new(
        (settings.max_inflight_bodies / 8).max(2),
    ));
    let limit = |max_bytes: usize| middleware::BodyLimits {
        max_bytes,
        timeout: settings.body_timeout,
        slots: slots.clone(),
        per_client: per_client.clone(),
    };
    let small = settings.max_small_body_bytes.min(settings.max_body_bytes);
    let buffered = |routes: OpenApiRouter<AppState>, max_bytes: usize| {
        routes.route_layer(axum::middleware::from_fn_with_state(
            limit(max_bytes),
            middleware::buffer_body,
        ))
    };
    let audited = |routes: OpenApiRouter<AppState>| {
        routes.route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record,
        ))
    };
    let authenticated = |routes: OpenApiRouter<AppState>, max_bytes: usize| {
        buffered(
            audited(routes.route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                middleware::authenticate,
            ))),
            max_bytes,
        )
    };
    let api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(authenticated(
            routes::iam::protected().merge(routes::admin::routes()),
            small,
        ))
        .merge(authenticated(
            routes::pca::routes().merge(routes::scm::routes()),
            settings.max_body_bytes,
        ))
        .merge(buffered(audited(routes::iam::public()), small))
        // Exports carry private keys and passwords, IAM answers carry tokens
        // and secret keys, and every answer is one account's data: none of it
        // may be kept by a browser or a proxy. (The revocation routes set
        // their own caching: CRLs and OCSP answers are public.)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let public = OpenApiRouter::new()
        .merge(routes::health::routes())
        .merge(buffered(routes::revocation::routes(), small));
    // The description is taken from the very routers being served.
    let (routes, description) = api.merge(public).split_for_parts();
    let described = openapi::Described::new(description);
    // Public routes outside the description whose calls are recorded in
    // the audit trail, bodies bounded like the small API calls; like the
    // API's calls, each write runs to its end as a task of its own.
    let public_audited = |routes: Router<AppState>| {
        routes
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                audit::record,
            ))
            .route_layer(axum::middleware::from_fn_with_state(
                limit(small),
                middleware::buffer_body,
            ))
    };
    // ACME is RFC 8555's protocol, signed by its own requests (a client
    // that hangs up mid-finalize leaves no order behind half-issued).
    let acme = public_audited(routes::acme::routes());
    // The console's sessions (each sign-in and sign-out recorded), what it
    // shows beyond the API's answers (authenticated like the API), and its
    // files.
    let console = public_audited(console::routes())
        .merge(
            console::authenticated_routes()
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    middleware::authenticate,
                ))
                .route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    audit::record,
                )),
        )
        .merge(console::asset_routes());
    routes
        .merge(acme)
        .merge(console)
        // After routing: the operation is the matched route's template.
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::observe,
        ))
        .fallback(error::unknown_route)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        // Outermost last: the request's id is assigned (and set on every
        // response, errors and panics included), then its span and log line
        // wrap everything else.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::request_span)
                .on_request(())
                .on_response(middleware::log_response)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(()),
        )
        // No answer is ever sniffed into another type: the console shares
        // this origin with every JSON answer.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(axum::middleware::from_fn(middleware::assign_request_id))
        .layer(axum::Extension(described))
        .with_state(state)
}
