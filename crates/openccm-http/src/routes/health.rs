//! `GET /health`: no authentication; 200 when the store answers.
//! `GET /openapi.json`: this API's description (src/openapi.rs).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::Described;
use crate::AppState;

/// The health and description routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi_json))
}

/// The answer of `/health`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` | `unavailable`.
    status: &'static str,
    /// When unavailable: `APIGW.9503`.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    /// When unavailable: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    error_msg: Option<&'static str>,
}

/// Whether the server can serve: 200 when its store answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "Health",
    security(()),
    responses(
        (status = 200, description = "Serving.", body = Health),
        (status = 503, description = "The store does not answer.", body = Health)
    )
)]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.iam.store().key_checks().await {
        Ok(_) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                error_code: None,
                error_msg: None,
            }),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "health check: store unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    error_code: Some("APIGW.9503"),
                    error_msg: Some("The store is unavailable."),
                }),
            )
        }
    }
}

/// This API's OpenAPI 3.1 description, made from the routes being served.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Health",
    security(()),
    responses(
        (status = 200, description = "The description (OpenAPI 3.1).", content_type = "application/json", body = Object)
    )
)]
async fn openapi_json(Extension(described): Extension<Described>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        described.json(),
    )
        .into_response()
}
