//! PCA v1 routes: wire ↔ domain conversion only (certificates in
//! `certificates.rs`, tags and resource instances in `tagging.rs`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use openccm_app::pca::ca::ListCas;
use openccm_app::pca::input::{ActivateCa, CreateCa, CrlInput, ValidityInput};
use openccm_app::pca::{CaView, CertView};
use openccm_app::Error;
use openccm_wire::error::pca as codes;
use openccm_wire::pca as wire;
use serde::Deserialize;

use crate::audit::created;
use crate::error::Service;
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::openapi::Errors;
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod acme;
mod certificates;
mod cloud;
mod tagging;

route_error!(
    /// An error of a PCA route.
    PcaError,
    PcaResult,
    Service::Pca
);

/// The PCA routes (all behind authentication). Each handler's method and
/// path are those of its `#[utoipa::path]` annotation (src/openapi.rs).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cas, create_ca))
        .routes(routes!(ca_quota))
        .routes(routes!(show_ca, delete_ca))
        .routes(routes!(activate_ca))
        .routes(routes!(export_ca_csr))
        .routes(routes!(import_ca_certificate))
        .routes(routes!(export_ca_certificate))
        .routes(routes!(disable_ca))
        .routes(routes!(enable_ca))
        .routes(routes!(restore_ca))
        .routes(routes!(revoke_ca))
        .routes(routes!(enable_crl))
        .routes(routes!(disable_crl))
        .routes(routes!(ocsp_switch))
        .routes(routes!(cloud::order))
        .routes(routes!(cloud::create_agency))
        .routes(routes!(cloud::show_agency))
        .routes(routes!(cloud::show_obs_agency, cloud::create_obs_agency))
        .routes(routes!(cloud::list_obs_buckets))
        .routes(routes!(
            certificates::list_certificates,
            certificates::create_certificate
        ))
        .routes(routes!(certificates::create_certificate_by_csr))
        .routes(routes!(certificates::parse_csr))
        .routes(routes!(certificate_quota))
        .routes(routes!(
            certificates::show_certificate,
            certificates::delete_certificate
        ))
        .routes(routes!(certificates::export_certificate))
        .routes(routes!(certificates::revoke_certificate))
        .routes(routes!(console_config))
        .routes(routes!(acme::show_acme, acme::configure_acme))
        .routes(routes!(acme::list_eab_keys, acme::create_eab_key))
        .routes(routes!(acme::delete_eab_key))
        .merge(tagging::ca_routes())
        .merge(tagging::certificate_routes())
}

// ---- conversions --------------------------------------------------------

fn dn_in(dn: wire::DistinguishedName) -> openccm_pki::DistinguishedName {
    openccm_pki::DistinguishedName {
        common_name: dn.common_name,
        country: dn.country,
        state: dn.state,
        locality: dn.locality,
        organization: dn.organization,
        organizational_unit: dn.organizational_unit,
    }
}

fn dn_out(fields: &openccm_store::NameFields) -> wire::DistinguishedName {
    wire::DistinguishedName {
        common_name: Some(fields.common_name.clone()),
        country: fields.country.clone(),
        state: fields.state.clone(),
        locality: fields.locality.clone(),
        organization: fields.organization.clone(),
        organizational_unit: fields.organizational_unit.clone(),
    }
}

fn validity_in(v: wire::Validity) -> ValidityInput {
    ValidityInput {
        kind: v.type_.as_deref().map(crate::names::parse_validity_unit),
        value: v.value,
        start_from: v.start_from,
    }
}

fn crl_in(c: wire::CrlConfiguration) -> CrlInput {
    CrlInput {
        enabled: c.enabled,
        crl_name: c.crl_name,
        bucket: c.obs_bucket_name,
        valid_days: c.valid_days,
    }
}

fn ca_out(view: CaView) -> wire::CertificateAuthority {
    let r = view.record;
    wire::CertificateAuthority {
        ca_id: r.ca_id.to_string(),
        type_: crate::names::ca_type_name(r.ca_type).to_owned(),
        status: crate::names::ca_status_name(view.status).to_owned(),
        path_length: r.path_length,
        issuer_id: r.issuer_id.map(|i| i.to_string()),
        issuer_name: r.issuer_name,
        key_algorithm: crate::names::key_algorithm_name(r.key_algorithm).to_owned(),
        signature_algorithm: r
            .signature_algorithm
            .map(|h| crate::names::hash_algorithm_name(h).to_owned()),
        freeze_flag: 0,
        gen_mode: crate::names::gen_mode_name(r.gen_mode).to_owned(),
        serial_number: r.serial_number,
        create_time: r.create_time,
        delete_time: r.delete_time,
        not_before: r.not_before,
        not_after: r.not_after,
        distinguished_name: dn_out(&r.name),
        crl_configuration: wire::ListCrlConfiguration {
            enabled: r.crl.enabled,
            crl_name: r.crl.crl_name,
            obs_bucket_name: r.crl.bucket,
            valid_days: r.crl.valid_days,
            crl_dis_point: view.crl_url,
        },
        enterprise_project_id: r.enterprise_project_id,
        free_quota: 0,
        charging_mode: 1,
        cluster_id: None,
        domain_id: r.domain_id.to_string(),
    }
}

fn cert_out(view: CertView) -> wire::Certificate {
    let r = view.record;
    wire::Certificate {
        certificate_id: r.certificate_id.to_string(),
        status: crate::names::cert_status_name(view.status).to_owned(),
        issuer_id: r.issuer_id.to_string(),
        issuer_name: r.issuer_name,
        key_algorithm: crate::names::key_algorithm_name(r.key_algorithm).to_owned(),
        signature_algorithm: crate::names::hash_algorithm_name(r.signature_algorithm).to_owned(),
        freeze_flag: 0,
        gen_mode: crate::names::gen_mode_name(r.gen_mode).to_owned(),
        serial_number: r.serial_number,
        create_time: r.create_time,
        delete_time: r.deleted_at,
        not_before: r.not_before,
        not_after: r.not_after,
        distinguished_name: dn_out(&r.name),
        enc_cert_info: r.enc_serial_number.map(|s| wire::EncCertInfo {
            enc_serial_number: s,
        }),
        enterprise_project_id: r.enterprise_project_id,
    }
}

/// A JSON string-or-boolean flag as the text `"true"`/`"false"` (the SDK
/// sends strings; a JSON boolean is accepted too).
fn flag_text(value: Option<serde_json::Value>) -> Option<String> {
    value.map(|v| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    })
}

fn no_content() -> StatusCode {
    StatusCode::NO_CONTENT
}

// ---- CA lifecycle -------------------------------------------------------

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities",
    tag = "PCA",
    request_body = wire::CreateCertificateAuthorityRequest,
    responses((status = 200, description = "The CA was created.", body = wire::CaIdResponse), Errors)
)]
async fn create_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::CreateCertificateAuthorityRequest>, BodyRejection>,
) -> PcaResult<Response> {
    let ApiJson(req) = body?;
    let id = state
        .pca
        .create_ca(
            &caller,
            CreateCa {
                ca_type: req.type_.as_deref().map(ca_type_in).transpose()?,
                distinguished_name: req.distinguished_name.map(dn_in),
                key_algorithm: req
                    .key_algorithm
                    .as_deref()
                    .map(crate::names::parse_key_algorithm),
                validity: req.validity.map(validity_in),
                issuer_id: req.issuer_id.as_deref().map(crate::names::parse_body_ca_id),
                path_length: req.path_length,
                signature_algorithm: req
                    .signature_algorithm
                    .as_deref()
                    .map(crate::names::parse_hash_algorithm),
                key_usages: req.key_usages,
                crl: req.crl_configuration.map(crl_in),
                enterprise_project_id: req.enterprise_project_id,
                cloud_only: req.ca_id.as_deref().is_some_and(|s| !s.is_empty())
                    || req.hsm_cluster_info.is_some(),
            },
        )
        .await?;
    Ok(created(
        id.to_string(),
        Json(wire::CaIdResponse {
            ca_id: id.to_string(),
        }),
    ))
}

/// The query of the CA and certificate lists. Numbers arrive as text so
/// that a malformed one is the API's 400, not axum's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Page size, 0–1000 (default 10).
    #[param(value_type = Option<i64>, minimum = 0, maximum = 1000)]
    limit: Option<String>,
    /// Records to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// Substring of the common name.
    name: Option<String>,
    /// CAs: `PENDING` | `ACTIVED` | `DISABLED` | `DELETED` | `EXPIRED`;
    /// certificates: `ISSUED` | `REVOKED` | `EXPIRED`.
    status: Option<String>,
    /// CAs only: `ROOT` | `SUBORDINATE`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    type_: Option<String>,

    /// `create_time` (default) | `common_name` | `type` | `issuer_name` | `not_after`.
    sort_key: Option<String>,
    /// `DESC` (default) | `ASC`.
    sort_dir: Option<String>,
}

fn int_param(value: Option<&str>, name: &str) -> Result<Option<i64>, PcaError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| PcaError::from(Error::invalid(format!("{name} must be an integer"))))
        })
        .transpose()
}

/// A revocation reason named by the API (absent: the default).
fn revocation_reason_in(
    text: Option<&str>,
) -> Result<Option<openccm_store::RevocationReason>, Error> {
    text.map(crate::names::parse_revocation_reason).transpose()
}

/// A CA type named by the API.
fn ca_type_in(text: &str) -> Result<openccm_store::CaType, Error> {
    crate::names::parse_ca_type(text).ok_or_else(|| {
        Error::invalid_kind(
            openccm_app::Invalid::CaType,
            "Invalid CA type. Only root CA and subordinate CA are supported.",
        )
    })
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T, PcaError> {
    q.map(|Query(v)| v)
        .map_err(|e| PcaError::from(Error::invalid(format!("malformed query string: {e}"))))
}

#[utoipa::path(
    get,
    path = "/v1/private-certificate-authorities",
    tag = "PCA",
    params(ListQuery),
    responses((status = 200, description = "The account's CAs, one page.", body = wire::ListCertificateAuthorityResponse), Errors)
)]
async fn list_cas(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> PcaResult<Json<wire::ListCertificateAuthorityResponse>> {
    let q = query(q)?;
    let status = q
        .status
        .as_deref()
        .map(|text| {
            crate::names::parse_ca_status(text).ok_or_else(|| {
                Error::invalid(
                    "status must be PENDING, ACTIVED, DISABLED, DELETED, EXPIRED or REVOKED",
                )
            })
        })
        .transpose()?;
    let (total, views) = state
        .pca
        .list_cas(
            &caller,
            ListCas {
                limit: int_param(q.limit.as_deref(), "limit")?,
                offset: int_param(q.offset.as_deref(), "offset")?,
                name: q.name,
                status,
                ca_type: q.type_.as_deref().map(ca_type_in).transpose()?,
                sort_key: q.sort_key.as_deref().map(crate::names::parse_ca_sort_key),
                sort_dir: q.sort_dir.as_deref().map(crate::names::parse_sort_dir),
            },
        )
        .await?;
    Ok(Json(wire::ListCertificateAuthorityResponse {
        total,
        certificate_authorities: views.into_iter().map(ca_out).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v1/private-certificate-authorities/{ca_id}",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 200, description = "The CA.", body = wire::CertificateAuthority), Errors)
)]
async fn show_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<Json<wire::CertificateAuthority>> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    Ok(Json(ca_out(state.pca.show_ca(&caller, &ca_id).await?)))
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/activate",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    request_body = wire::ActivateCertificateAuthorityRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn activate_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::ActivateCertificateAuthorityRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state
        .pca
        .activate_ca(
            &caller,
            &ca_id,
            ActivateCa {
                issuer_id: req.issuer_id.as_deref().map(crate::names::parse_body_ca_id),
                path_length: req.path_length,
                signature_algorithm: req
                    .signature_algorithm
                    .as_deref()
                    .map(crate::names::parse_hash_algorithm),
                validity: req.validity.map(validity_in),
                key_usages: req.key_usages,
                crl: req.crl_configuration.map(crl_in),
            },
        )
        .await?;
    Ok(no_content())
}

#[utoipa::path(
    get,
    path = "/v1/private-certificate-authorities/{ca_id}/csr",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 200, description = "The pending CA's CSR.", body = wire::CsrResponse), Errors)
)]
async fn export_ca_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<Json<wire::CsrResponse>> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    Ok(Json(wire::CsrResponse {
        csr: state.pca.export_ca_csr(&caller, &ca_id).await?,
    }))
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/import",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    request_body = wire::ImportCertificateAuthorityCertificateRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn import_ca_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::ImportCertificateAuthorityCertificateRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state
        .pca
        .import_ca_certificate(
            &caller,
            &ca_id,
            req.certificate.as_deref(),
            req.certificate_chain.as_deref(),
        )
        .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/export",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 200, description = "The CA's certificate and chain.", body = wire::CaCertificateResponse), Errors)
)]
async fn export_ca_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<Json<wire::CaCertificateResponse>> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let (certificate, certificate_chain) = state.pca.export_ca_certificate(&caller, &ca_id).await?;
    Ok(Json(wire::CaCertificateResponse {
        certificate,
        certificate_chain,
    }))
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/disable",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn disable_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<StatusCode> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state.pca.disable_ca(&caller, &ca_id).await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/enable",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn enable_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<StatusCode> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state.pca.enable_ca(&caller, &ca_id).await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/restore",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn restore_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<StatusCode> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state.pca.restore_ca(&caller, &ca_id).await?;
    Ok(no_content())
}

/// The query of DeleteCertificateAuthority.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DeleteQuery {
    /// Days before the deletion takes effect, 7–30 as a string (default 30).
    pending_days: Option<String>,
}

#[utoipa::path(
    delete,
    path = "/v1/private-certificate-authorities/{ca_id}",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID)."), DeleteQuery),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn delete_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    q: Result<Query<DeleteQuery>, axum::extract::rejection::QueryRejection>,
) -> PcaResult<StatusCode> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let q = query(q)?;
    state
        .pca
        .delete_ca(&caller, &ca_id, q.pending_days.as_deref())
        .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/revoke",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    request_body = wire::RevokeRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn revoke_ca(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::RevokeRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    let reason = revocation_reason_in(req.reason.as_deref())?;
    state.pca.revoke_ca(&caller, &ca_id, reason).await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/crl/enable",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    request_body = wire::EnableCrlRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn enable_crl(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::EnableCrlRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state
        .pca
        .enable_crl(
            &caller,
            &ca_id,
            req.crl_name,
            req.obs_bucket_name,
            req.valid_days,
        )
        .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/crl/disable",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn disable_crl(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
) -> PcaResult<StatusCode> {
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state.pca.disable_crl(&caller, &ca_id).await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificate-authorities/{ca_id}/ocsp/switch",
    tag = "PCA",
    params(("ca_id" = String, Path, description = "The CA's id (a UUID).")),
    request_body = wire::OcspSwitchRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn ocsp_switch(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ca_id): Path<String>,
    body: Result<ApiJson<wire::OcspSwitchRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let ca_id = openccm_app::pca::input::ca_id(&ca_id)?;
    state.pca.set_ocsp(&caller, &ca_id, req.ocsp_switch).await?;
    Ok(no_content())
}

fn quota(type_: &str, (used, quota): (i64, i64)) -> Json<wire::QuotaResponse> {
    Json(wire::QuotaResponse {
        quotas: wire::Quotas {
            resources: vec![wire::QuotaResource {
                type_: type_.to_owned(),
                used,
                quota,
            }],
        },
    })
}

#[utoipa::path(
    get,
    path = "/v1/private-certificate-authorities/quotas",
    tag = "PCA",
    responses((status = 200, description = "The CA quota.", body = wire::QuotaResponse), Errors)
)]
async fn ca_quota(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> PcaResult<Json<wire::QuotaResponse>> {
    Ok(quota(
        "CERTIFICATE_AUTHORITY",
        state.pca.ca_quota(&caller).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/v1/private-certificates/quotas",
    tag = "PCA",
    responses((status = 200, description = "The certificate quota.", body = wire::QuotaResponse), Errors)
)]
async fn certificate_quota(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> PcaResult<Json<wire::QuotaResponse>> {
    Ok(quota(
        "CERTIFICATE",
        state.pca.certificate_quota(&caller).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/v1/pca/config/console",
    tag = "PCA",
    responses((status = 200, description = "The console's settings.", body = wire::ConsoleConfig), Errors)
)]
async fn console_config(CallerOf(_caller): CallerOf) -> Json<wire::ConsoleConfig> {
    Json(wire::ConsoleConfig {
        is_support_eps: true,
        is_support_sm2: true,
        is_support_dhsm: false,
        dhsm_regions: Vec::new(),
        is_support_yearly_monthly_ca: false,
        is_support_iam5: true,
        is_support_ocsp: true,
    })
}
