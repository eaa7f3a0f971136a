//! Private certificates: issue (generated key or CSR), parse a CSR, list,
//! show, revoke, delete, export.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openccm_app::pca::certificate::ListCertificates;
use openccm_app::pca::export::Exported;
use openccm_app::pca::input::{
    AltNameInput, CreateCertificate, CreateCertificateByCsr, CustomExtensionInput, ExportRequest,
};
use openccm_app::Error;
use openccm_pki::profile::ExtendedKeyUsageFlags;
use openccm_wire::pca as wire;

use super::{
    cert_out, dn_in, flag_text, int_param, no_content, query, revocation_reason_in, validity_in,
    ListQuery, PcaResult,
};
use crate::audit::created;
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::openapi::Errors;
use crate::AppState;

#[utoipa::path(
    post,
    path = "/v1/private-certificates",
    tag = "PCA",
    request_body = wire::CreateCertificateRequest,
    responses((status = 200, description = "The certificate was issued.", body = wire::CertificateIdResponse), Errors)
)]
pub(super) async fn create_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::CreateCertificateRequest>, BodyRejection>,
) -> PcaResult<Response> {
    let ApiJson(req) = body?;
    let eku = req.extended_key_usage.unwrap_or_default();
    let id = state
        .pca
        .create_certificate(
            &caller,
            CreateCertificate {
                issuer_id: req.issuer_id.as_deref().map(crate::names::parse_body_ca_id),
                key_algorithm: req
                    .key_algorithm
                    .as_deref()
                    .map(crate::names::parse_key_algorithm),
                signature_algorithm: req
                    .signature_algorithm
                    .as_deref()
                    .map(crate::names::parse_hash_algorithm),
                distinguished_name: req.distinguished_name.map(dn_in),
                validity: req.validity.map(validity_in),
                key_usages: req.key_usages,
                alt_names: req.subject_alternative_names.map(|names| {
                    names
                        .into_iter()
                        .map(|n| AltNameInput {
                            kind: n.type_.as_deref().map(crate::names::parse_alt_name_kind),
                            value: n.value,
                        })
                        .collect()
                }),
                extended_key_usage: ExtendedKeyUsageFlags {
                    server_auth: eku.server_auth.unwrap_or(false),
                    client_auth: eku.client_auth.unwrap_or(false),
                    code_signing: eku.code_signing.unwrap_or(false),
                    email_protection: eku.email_protection.unwrap_or(false),
                    time_stamping: eku.time_stamping.unwrap_or(false),
                    smart_card_logon: eku.smart_card_logon.unwrap_or(false),
                },
                custom_extension: req.customized_extension.map(|c| CustomExtensionInput {
                    object_identifier: c.object_identifier,
                    value: c.value,
                }),
                enterprise_project_id: req.enterprise_project_id,
            },
        )
        .await?;
    Ok(created(
        id.to_string(),
        Json(wire::CertificateIdResponse {
            certificate_id: id.to_string(),
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/v1/private-certificates/csr",
    tag = "PCA",
    request_body = wire::CreateCertificateByCsrRequest,
    responses((status = 200, description = "The certificate was issued.", body = wire::CertificateIdResponse), Errors)
)]
pub(super) async fn create_certificate_by_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::CreateCertificateByCsrRequest>, BodyRejection>,
) -> PcaResult<Response> {
    let ApiJson(req) = body?;
    let id = state
        .pca
        .create_certificate_by_csr(
            &caller,
            CreateCertificateByCsr {
                issuer_id: req.issuer_id.as_deref().map(crate::names::parse_body_ca_id),
                csr: req.csr,
                validity: req.validity.map(validity_in),
                kind: req.type_,
                path_length: req.path_length,
                enterprise_project_id: req.enterprise_project_id,
            },
        )
        .await?;
    Ok(created(
        id.clone(),
        Json(wire::CertificateIdResponse { certificate_id: id }),
    ))
}

#[utoipa::path(
    post,
    path = "/v1/private-certificates/csr/parse",
    tag = "PCA",
    request_body = wire::ParseCsrRequest,
    responses((status = 200, description = "The CSR's contents.", body = wire::ParseCsrResponse), Errors)
)]
pub(super) async fn parse_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::ParseCsrRequest>, BodyRejection>,
) -> PcaResult<Json<wire::ParseCsrResponse>> {
    let ApiJson(req) = body?;
    let info = state.pca.parse_csr(&caller, req.csr.as_deref()).await?;
    let dn = info.distinguished_name;
    Ok(Json(wire::ParseCsrResponse {
        key_algorithm: info.key_algorithm,
        key_algorithm_length: info.key_bits,
        signature_algorithm: info.signature_algorithm,
        public_key: info.public_key_pem,
        distinguished_name: wire::DistinguishedName {
            common_name: dn.common_name,
            country: dn.country,
            state: dn.state,
            locality: dn.locality,
            organization: dn.organization,
            organizational_unit: dn.organizational_unit,
        },
    }))
}

/// ListCertificate's filters beyond Huawei's: OpenCCM extensions (the
/// console's filters), refused when malformed.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListExtensions {
    /// OpenCCM extension: only certificates of this CA.
    issuer_id: Option<String>,
    /// OpenCCM extension: only certificates with this key algorithm
    /// (`RSA2048` | `RSA3072` | `RSA4096` | `EC256` | `EC384` | `SM2`).
    key_algorithm: Option<String>,
    /// OpenCCM extension: only certificates with a tag of this key.
    tag_key: Option<String>,
    /// OpenCCM extension, with `tag_key`: only those whose tag has this
    /// value (empty: the empty value).
    tag_value: Option<String>,
    /// OpenCCM extension: only certificates whose validity ends before this
    /// time (epoch ms).
    #[param(value_type = Option<i64>)]
    expires_before: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/private-certificates",
    tag = "PCA",
    params(super::ListQuery, ListExtensions),
    responses((status = 200, description = "The account's certificates, one page.", body = wire::ListCertificateResponse), Errors)
)]
pub(super) async fn list_certificates(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    extensions: Result<Query<ListExtensions>, axum::extract::rejection::QueryRejection>,
) -> PcaResult<Json<wire::ListCertificateResponse>> {
    let q = query(q)?;
    let extensions = query(extensions)?;
    let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
    let tag_key = non_empty(extensions.tag_key);
    if tag_key.is_none() && extensions.tag_value.is_some() {
        return Err(Error::invalid("tag_value needs tag_key").into());
    }
    let status = q
        .status
        .as_deref()
        .map(|text| {
            crate::names::parse_cert_status(text)
                .ok_or_else(|| Error::invalid("status must be ISSUED, REVOKED or EXPIRED"))
        })
        .transpose()?;
    let (total, views) = state
        .pca
        .list_certificates(
            &caller,
            ListCertificates {
                limit: int_param(q.limit.as_deref(), "limit")?,
                offset: int_param(q.offset.as_deref(), "offset")?,
                name: q.name,
                status,
                issuer_id: non_empty(extensions.issuer_id),
                key_algorithm: non_empty(extensions.key_algorithm)
                    .map(|k| crate::names::parse_key_algorithm(&k).get())
                    .transpose()?,
                tag: tag_key.map(|key| (key, extensions.tag_value)),
                expires_before: int_param(extensions.expires_before.as_deref(), "expires_before")?,
                sort_key: q.sort_key.as_deref().map(crate::names::parse_cert_sort_key),
                sort_dir: q.sort_dir.as_deref().map(crate::names::parse_sort_dir),
            },
        )
        .await?;
    Ok(Json(wire::ListCertificateResponse {
        total,
        certificates: views.into_iter().map(cert_out).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v1/private-certificates/{certificate_id}",
    tag = "PCA",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    responses((status = 200, description = "The certificate.", body = wire::Certificate), Errors)
)]
pub(super) async fn show_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(certificate_id): Path<String>,
) -> PcaResult<Json<wire::Certificate>> {
    let certificate_id = openccm_app::pca::input::cert_id(&certificate_id)?;
    Ok(Json(cert_out(
        state.pca.show_certificate(&caller, &certificate_id).await?,
    )))
}

#[utoipa::path(
    delete,
    path = "/v1/private-certificates/{certificate_id}",
    tag = "PCA",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
pub(super) async fn delete_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(certificate_id): Path<String>,
) -> PcaResult<StatusCode> {
    let certificate_id = openccm_app::pca::input::cert_id(&certificate_id)?;
    state
        .pca
        .delete_certificate(&caller, &certificate_id)
        .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificates/{certificate_id}/revoke",
    tag = "PCA",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    request_body = wire::RevokeRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
pub(super) async fn revoke_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(certificate_id): Path<String>,
    body: Result<ApiJson<wire::RevokeRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let certificate_id = openccm_app::pca::input::cert_id(&certificate_id)?;
    let reason = revocation_reason_in(req.reason.as_deref())?;
    state
        .pca
        .revoke_certificate(&caller, &certificate_id, reason)
        .await?;
    Ok(no_content())
}

#[utoipa::path(
    post,
    path = "/v1/private-certificates/{certificate_id}/export",
    tag = "PCA",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    request_body = wire::ExportCertificateRequest,
    responses((status = 200, description = "The certificate, its chain and (for generated keys) its private key: JSON, or a ZIP archive when `is_compressed` is true.", content((wire::ExportCertificateResponse = "application/json"), (crate::openapi::Binary = "application/zip"))), Errors)
)]
pub(super) async fn export_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(certificate_id): Path<String>,
    body: Result<ApiJson<wire::ExportCertificateRequest>, BodyRejection>,
) -> PcaResult<Response> {
    let ApiJson(req) = body?;
    let certificate_id = openccm_app::pca::input::cert_id(&certificate_id)?;
    let exported = state
        .pca
        .export_certificate(
            &caller,
            &certificate_id,
            ExportRequest {
                compressed: flag_text(req.is_compressed)
                    .map(|t| crate::names::parse_flag(&t, "is_compressed")),
                kind: req.type_.as_deref().map(crate::names::parse_export_format),
                sm_standard: flag_text(req.is_sm_standard)
                    .map(|t| crate::names::parse_flag(&t, "is_sm_standard")),
                password: req.password,
            },
        )
        .await?;
    Ok(match exported {
        Exported::Json(f) => Json(wire::ExportCertificateResponse {
            private_key: f.private_key.map(|k| k.to_string()),
            certificate: f.certificate,
            certificate_chain: f.certificate_chain,
            enc_certificate: f.enc_certificate,
            enc_private_key: f.enc_private_key.map(|k| k.to_string()),
            enc_sm2_enveloped_key: f.enc_sm2_enveloped_key,
            signed_and_enveloped_data: f.signed_and_enveloped_data,
        })
        .into_response(),
        Exported::Zip { file_name, bytes } => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/zip".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
    })
}
