//! The SCM CSR routes: CSRs made here (with their key) or uploaded.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use openccm_app::scm::csr::{CreateCsr, ListCsrs, UploadCsr};
use openccm_store::CsrRecord;
use openccm_wire::scm as wire;
use serde::Deserialize;

use super::{int_param, no_store, query, ScmResult};
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::openapi::Errors;
use crate::AppState;

/// A CSR's `sans`: absent when it has no other names.
fn csr_sans(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| names.join(wire::SANS_SEPARATOR))
}

fn csr_out(r: CsrRecord) -> wire::Csr {
    wire::Csr {
        id: r.csr_id.to_string(),
        name: r.name,
        csr: r.csr,
        domain_name: r.domain_name,
        sans: csr_sans(&r.alt_names),
        private_key_algo: crate::names::csr_key_algorithm_name(r.key_algorithm).to_owned(),
        usage: r.usage.map(|u| crate::names::csr_usage_name(u).to_owned()),
        company_country: r.company_country,
        company_province: r.company_province,
        company_city: r.company_city,
        company_name: r.company_name,
        create_time: r.create_time,
        update_time: r.update_time,
    }
}

#[utoipa::path(
    post,
    path = "/v3/scm/csr",
    tag = "SCM",
    request_body = wire::CreateCsrRequest,
    responses((status = 201, description = "The CSR and its key were made.", body = wire::CreateCsrResponse), Errors)
)]
pub(super) async fn create_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::CreateCsrRequest>, BodyRejection>,
) -> ScmResult<(StatusCode, Json<wire::CreateCsrResponse>)> {
    let ApiJson(req) = body?;
    let record = state
        .scm
        .create_csr(
            &caller,
            CreateCsr {
                name: req.name,
                domain_name: req.domain_name,
                sans: req.sans,
                key_algorithm: req
                    .private_key_algo
                    .as_deref()
                    .map(crate::names::parse_csr_key_algorithm),
                usage: req.usage.as_deref().map(crate::names::parse_csr_usage),
                company_country: req.company_country,
                company_province: req.company_province,
                company_city: req.company_city,
                company_name: req.company_name,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(wire::CreateCsrResponse {
            id: record.csr_id.to_string(),
            name: record.name,
            domain_name: record.domain_name,
            sans: csr_sans(&record.alt_names),
            private_key_algo: crate::names::csr_key_algorithm_name(record.key_algorithm).to_owned(),
            usage: record
                .usage
                .map(|u| crate::names::csr_usage_name(u).to_owned()),
            company_country: record.company_country,
            company_province: record.company_province,
            company_city: record.company_city,
            company_name: record.company_name,
            create_time: record.create_time,
            update_time: record.update_time,
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/v3/scm/csr/upload",
    tag = "SCM",
    request_body = wire::UploadCsrRequest,
    responses((status = 200, description = "The CSR and key were stored.", body = wire::UploadCsrResponse), Errors)
)]
pub(super) async fn upload_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::UploadCsrRequest>, BodyRejection>,
) -> ScmResult<Json<wire::UploadCsrResponse>> {
    let ApiJson(req) = body?;
    let record = state
        .scm
        .upload_csr(
            &caller,
            UploadCsr {
                name: req.name,
                csr: req.csr,
                private_key: req.private_key,
            },
        )
        .await?;
    Ok(Json(wire::UploadCsrResponse {
        id: record.csr_id.to_string(),
        name: record.name,
        create_time: record.create_time,
    }))
}

/// The query of ListCsr.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CsrQuery {
    /// Page size (default 10).
    #[param(value_type = Option<i64>, minimum = 0)]
    limit: Option<String>,
    /// Records to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// Substring of the CSR's name.
    name: Option<String>,
    /// `RSA_2048` | `RSA_3072` | `RSA_4096` | `EC_P256` | `EC_P384` | `SM2`.
    private_key_algo: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v3/scm/csr",
    tag = "SCM",
    params(CsrQuery),
    responses((status = 200, description = "The account's CSRs, one page.", body = wire::ListCsrResponse), Errors)
)]
pub(super) async fn list_csrs(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    q: Result<Query<CsrQuery>, axum::extract::rejection::QueryRejection>,
) -> ScmResult<Json<wire::ListCsrResponse>> {
    let q = query(q)?;
    let (total, records) = state
        .scm
        .list_csrs(
            &caller,
            ListCsrs {
                limit: int_param(q.limit.as_deref(), "limit")?,
                offset: int_param(q.offset.as_deref(), "offset")?,
                name: q.name,
                key_algorithm: q
                    .private_key_algo
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .map(crate::names::parse_csr_key_algorithm),
            },
        )
        .await?;
    Ok(Json(wire::ListCsrResponse {
        csr_list: records.into_iter().map(csr_out).collect(),
        total,
    }))
}

#[utoipa::path(
    get,
    path = "/v3/scm/csr/{id}",
    tag = "SCM",
    params(("id" = String, Path, description = "The CSR's id.")),
    responses((status = 200, description = "The CSR.", body = wire::Csr), Errors)
)]
pub(super) async fn show_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Json<wire::Csr>> {
    let id = openccm_app::scm::csr::csr_id(&id)?;
    Ok(Json(csr_out(state.scm.show_csr(&caller, &id).await?)))
}

#[utoipa::path(
    put,
    path = "/v3/scm/csr/{id}",
    tag = "SCM",
    params(("id" = String, Path, description = "The CSR's id.")),
    request_body = wire::UpdateCsrRequest,
    responses((status = 200, description = "The renamed CSR.", body = wire::Csr), Errors)
)]
pub(super) async fn update_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::UpdateCsrRequest>, BodyRejection>,
) -> ScmResult<Json<wire::Csr>> {
    let ApiJson(req) = body?;
    let id = openccm_app::scm::csr::csr_id(&id)?;
    Ok(Json(csr_out(
        state.scm.update_csr(&caller, &id, req.name).await?,
    )))
}

#[utoipa::path(
    delete,
    path = "/v3/scm/csr/{id}",
    tag = "SCM",
    params(("id" = String, Path, description = "The CSR's id.")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
pub(super) async fn delete_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<StatusCode> {
    let id = openccm_app::scm::csr::csr_id(&id)?;
    state.scm.delete_csr(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/v3/scm/csr/{id}/private-key",
    tag = "SCM",
    params(("id" = String, Path, description = "The CSR's id.")),
    responses((status = 200, description = "The CSR's private key (`Cache-Control: no-store`).", body = wire::CsrPrivateKeyResponse), Errors)
)]
pub(super) async fn csr_private_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Response> {
    let id = openccm_app::scm::csr::csr_id(&id)?;
    let pem = state.scm.csr_private_key(&caller, &id).await?;
    Ok(no_store(Json(wire::CsrPrivateKeyResponse {
        private_key: pem.to_string(),
    })))
}

// ---- notifications ------------------------------------------------------
