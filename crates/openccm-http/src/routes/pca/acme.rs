//! The ACME management routes of a CA (OpenCCM's extension,
//! docs/api/acme.md): its settings and its external account binding keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use openccm_app::common::Field;
use openccm_app::pca::acme::{AcmeInput, AcmeView};
use openccm_store::EabKey;
use openccm_wire::acme as wire;

use super::{no_content, PcaResult};
use crate::audit::created;
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::openapi::Errors;
use crate::AppState;

const CA_ID: &str = "The CA's id (a UUID).";

fn config_out(view: AcmeView) -> wire::AcmeConfigResponse {
    let s = view.settings;
    wire::AcmeConfigResponse {
        acme: wire::AcmeConfig {
            enabled: s.enabled,
            eab_required: s.eab_required,
            allowed_identifiers: s.allowed_identifiers,
            challenges: s.challenges.iter().map(|c| c.as_str().to_owned()).collect(),
            max_validity_days: s.max_validity_days,
            key_algorithms: s
                .key_algorithms
                .iter()
                .map(|k| crate::names::key_algorithm_name(*k).to_owned())
                .collect(),
            directory_url: view.directory_url,
        },
    }
}

fn summary_out(key: EabKey) -> wire::EabKeySummary {
    wire::EabKeySummary {
        bound: key.bound_account.is_some(),
        key_id: key.key_id,
        description: key.description,
        created_at: key.created_at,
    }
}

/// Switches ACME on or off for a CA and sets its policy (only an active
/// CA can have it on).
#[utoipa::path(
    put,
    path = "/v1/private-certificate-authorities/{ca_id}/acme",
    tag = "PCA",
    params(("ca_id" = String, Path, description = CA_ID)),
    request_body = wire::AcmeConfigRequest,
    responses((status = 200, description = "The settings, defaults filled in.", body = wire::AcmeConfigResponse), Errors)
)]
pub(super) async fn configure_acme(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::AcmeConfigRequest>, BodyRejection>,
) -> PcaResult<Json<wire::AcmeConfigResponse>> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let input = AcmeInput {
        enabled: req.enabled,
        eab_required: req.eab_required,
        allowed_identifiers: req.allowed_identifiers,
        challenges: req.challenges,
        max_validity_days: req.max_validity_days,
        key_algorithms: req.key_algorithms.map(|names| {
            names
                .iter()
                .map(|n| match crate::names::parse_key_algorithm(n) {
                    Field::Valid(key) => Some(key),
                    Field::Refused { .. } => None,
                })
                .collect()
        }),
    };
    let view = state.pca.configure_acme(&caller, &ca_id, input).await?;
    Ok(Json(config_out(view)))
}

/// A CA's ACME settings (off, with the defaults, when never set).
#[utoipa::path(
    get,
    path = "/v1/private-certificate-authorities/{ca_id}/acme",
    tag = "PCA",
    params(("ca_id" = String, Path, description = CA_ID)),
    responses((status = 200, description = "The settings.", body = wire::AcmeConfigResponse), Errors)
)]
pub(super) async fn show_acme(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<Json<wire::AcmeConfigResponse>> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let view = state.pca.acme_settings(&caller, &ca_id).await?;
    Ok(Json(config_out(view)))
}

/// Makes an external account binding key: an ACME account created with it
/// belongs to the caller's account. The HMAC key is shown only here.
#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/acme/eab-keys",
    tag = "PCA",
    params(("ca_id" = String, Path, description = CA_ID)),
    request_body = wire::CreateEabKeyRequest,
    responses((status = 201, description = "The key, with its HMAC key (`Cache-Control: no-store`).", body = wire::EabKeyCreated), Errors)
)]
pub(super) async fn create_eab_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::CreateEabKeyRequest>, BodyRejection>,
) -> PcaResult<Response> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let new = state
        .pca
        .create_eab_key(&caller, &ca_id, req.description)
        .await?;
    let key_id = new.key.key_id.clone();
    Ok(created(
        key_id.clone(),
        (
            StatusCode::CREATED,
            Json(wire::EabKeyCreated {
                key_id,
                hmac_key: new.hmac_key.to_string(),
                description: new.key.description,
                created_at: new.key.created_at,
            }),
        )
            .into_response(),
    ))
}

/// A CA's external account binding keys, oldest first (never their HMAC
/// keys).
#[utoipa::path(
    get,
    path = "/v1/private-certificate-authorities/{ca_id}/acme/eab-keys",
    tag = "PCA",
    params(("ca_id" = String, Path, description = CA_ID)),
    responses((status = 200, description = "The keys.", body = wire::EabKeyList), Errors)
)]
pub(super) async fn list_eab_keys(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<Json<wire::EabKeyList>> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let keys = state.pca.eab_keys(&caller, &ca_id).await?;
    Ok(Json(wire::EabKeyList {
        eab_keys: keys.into_iter().map(summary_out).collect(),
    }))
}

/// Deletes an external account binding key: it can no longer bind an
/// ACME account.
#[utoipa::path(
    delete,
    path = "/v1/private-certificate-authorities/{ca_id}/acme/eab-keys/{key_id}",
    tag = "PCA",
    params(
        ("ca_id" = String, Path, description = CA_ID),
        ("key_id" = String, Path, description = "The EAB key's id.")
    ),
    responses((status = 204, description = "Done; no body."), Errors)
)]
pub(super) async fn delete_eab_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path((ca_id, key_id)): Path<(String, String)>,
) -> PcaResult<StatusCode> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state.pca.delete_eab_key(&caller, &ca_id, &key_id).await?;
    Ok(no_content())
}
