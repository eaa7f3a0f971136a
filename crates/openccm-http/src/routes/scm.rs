//! SCM v3 routes (scm-v3.md, seed 000): wire ↔ domain conversion only.
//!
//! Three tag routes put the certificate id directly under `/v3/scm/`; the
//! literal routes at the same depth (`tags`, `csr`, `certificates`,
//! `resource_instances`, `notification`) win over the id.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use openccm_app::scm::certificate::{ImportCertificate, ListCertificates};
use openccm_app::scm::csr::{CreateCsr, ListCsrs, UploadCsr};
use openccm_app::scm::notification::Notice;
use openccm_app::scm::tags::{ResourceQuery, TagCondition};

use super::tags::{resource_tags, tag_in, tag_out, tag_values, tags_in};
use openccm_app::scm::{scm_time, ScmCertView};
use openccm_app::Error;
use openccm_store::{CsrRecord, ScmCertRecord};
use openccm_wire::error::scm as codes;
use openccm_wire::scm as wire;
use serde::Deserialize;

use crate::error::{ApiError, Service};
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::AppState;

route_error!(
    /// An error of an SCM route.
    ScmError,
    ScmResult,
    Service::Scm
);

/// The SCM routes (all behind authentication).
pub fn routes() -> Router<AppState> {
    let certs = "/v3/scm/certificates";
    Router::new()
        .route(&format!("{certs}/import"), post(import_certificate))
        .route(certs, get(list_certificates))
        .route(
            &format!("{certs}/{{certificate_id}}"),
            get(show_certificate).delete(delete_certificate),
        )
        .route(
            &format!("{certs}/{{certificate_id}}/export"),
            post(export_certificate),
        )
        .route(
            "/v3/scm/{resource_id}/tags",
            get(certificate_tags).post(create_tag),
        )
        .route("/v3/scm/{resource_id}/tags/action", post(batch_tags))
        .route("/v3/scm/tags", get(all_tags))
        .route(
            "/v3/scm/resource_instances/action",
            post(certificates_by_tag),
        )
        .route("/v3/scm/csr", get(list_csrs).post(create_csr))
        .route("/v3/scm/csr/upload", post(upload_csr))
        .route(
            "/v3/scm/csr/{id}",
            get(show_csr).put(update_csr).delete(delete_csr),
        )
        .route("/v3/scm/csr/{id}/private-key", get(csr_private_key))
        .route("/v3/scm/notification/enable", post(enable_notification))
        .route("/v3/scm/notification/disable", post(disable_notification))
        .route(
            &format!("{certs}/{{certificate_id}}/push"),
            post(cloud_only),
        )
        .route(
            &format!("{certs}/{{certificate_id}}/batch-push"),
            post(cloud_only),
        )
        .route(
            &format!("{certs}/{{certificate_id}}/deploy"),
            post(cloud_only),
        )
        .route("/v3/scm/deployed-resources", post(cloud_only))
        .route(&format!("{certs}/buy"), post(cloud_only))
        .route(
            &format!("{certs}/{{certificate_id}}/apply"),
            post(cloud_only),
        )
        .route(
            &format!("{certs}/{{certificate_id}}/cancel-cert"),
            post(cloud_only),
        )
        .route(
            &format!("{certs}/{{cert_id}}/unsubscribe"),
            delete(cloud_only),
        )
}

// ---- conversions --------------------------------------------------------

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> ScmResult<T> {
    q.map(|Query(v)| v)
        .map_err(|e| ScmError::from(Error::invalid(format!("malformed query string: {e}"))))
}

fn int_param(value: Option<&str>, name: &str) -> ScmResult<Option<i64>> {
    value
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ScmError::from(Error::invalid(format!("{name} must be an integer"))))
        })
        .transpose()
}

fn bool_param(value: Option<&str>, name: &str) -> ScmResult<Option<bool>> {
    match value {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ScmError::from(Error::invalid(format!(
            "{name} must be true or false"
        )))),
    }
}

/// A CSR's `sans`: absent when it has no other names.
fn csr_sans(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| names.join(wire::SANS_SEPARATOR))
}

/// Responses that carry private keys must not be cached anywhere.
fn no_store<T: IntoResponse>(body: T) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], body).into_response()
}

fn domain_type(record: &ScmCertRecord) -> (String, i64, i64) {
    let mut names: Vec<&str> = vec![record.domain.as_str()];
    names.extend(record.alt_names.iter().map(String::as_str));
    let wildcards = names.iter().filter(|n| n.starts_with("*.")).count();
    let kind = if names.len() > 1 {
        "MULTI_DOMAIN"
    } else if wildcards == 1 {
        "WILDCARD"
    } else {
        "SINGLE_DOMAIN"
    };
    (
        kind.to_owned(),
        i64::try_from(names.len()).unwrap_or(i64::MAX),
        i64::try_from(wildcards).unwrap_or(i64::MAX),
    )
}

/// Validity in whole months (30-day months, rounded).
fn validity_months(record: &ScmCertRecord) -> i64 {
    let days = (record.not_after - record.not_before) / 86_400_000;
    (days + 15) / 30
}

fn detail_out(view: &ScmCertView) -> wire::CertificateDetail {
    let r = &view.record;
    let (domain_type, domain_count, wildcard_count) = domain_type(r);
    wire::CertificateDetail {
        id: r.certificate_id.to_string(),
        name: r.name.clone(),
        domain: r.domain.clone(),
        sans: r.alt_names.join(wire::SANS_SEPARATOR),
        signature_algorithm: r.signature_algorithm.clone(),
        deploy_support: false,
        type_: None,
        brand: None,
        expire_time: scm_time(r.not_after),
        domain_type,
        validity_period: validity_months(r),
        status: crate::names::scm_cert_status_name(view.status).to_owned(),
        domain_count,
        wildcard_count,
        description: None,
        domain_id: r.domain_id.to_string(),
        enterprise_project_id: r.enterprise_project_id.clone(),
    }
}

fn show_out(view: ScmCertView) -> wire::ShowCertificateResponse {
    let r = &view.record;
    let (domain_type, domain_count, wildcard_count) = domain_type(r);
    wire::ShowCertificateResponse {
        id: r.certificate_id.to_string(),
        status: crate::names::scm_cert_status_name(view.status).to_owned(),
        order_id: None,
        name: r.name.clone(),
        type_: None,
        brand: None,
        push_support: "OFF".to_owned(),
        revoke_reason: None,
        signature_algorithm: Some(r.signature_algorithm.clone()),
        issue_time: Some(scm_time(r.not_before)),
        not_before: Some(scm_time(r.not_before)),
        not_after: Some(scm_time(r.not_after)),
        validity_period: validity_months(r),
        validation_method: None,
        domain_type,
        multi_domain_type: None,
        domain: r.domain.clone(),
        sans: r.alt_names.join(wire::SANS_SEPARATOR),
        domain_count,
        wildcard_count,
        fingerprint: r.fingerprint.clone(),
        shared: false,
        application_info: None,
        description: None,
        enterprise_project_id: r.enterprise_project_id.clone(),
        authentification: Vec::new(),
    }
}

fn tag_resource_out(view: &ScmCertView) -> wire::TagResource {
    let r = &view.record;
    let (domain_type, domain_count, wildcard_count) = domain_type(r);
    wire::TagResource {
        resource_id: r.certificate_id.to_string(),
        tags: view.tags.iter().cloned().map(tag_out).collect(),
        resource_name: r.name.clone(),
        resource_detail: wire::TagResourceDetail {
            cert_id: r.certificate_id.to_string(),
            cert_name: r.name.clone(),
            domain: r.domain.clone(),
            cert_type: None,
            cert_brand: None,
            domain_type,
            purchase_period: None,
            expired_time: r.not_after.to_string(),
            order_status: crate::names::scm_cert_status_name(view.status).to_owned(),
            domain_num: domain_count,
            wildcard_number: wildcard_count,
            sans: r.alt_names.join(wire::SANS_SEPARATOR),
            cert_des: None,
            signature_algorithm: r.signature_algorithm.clone(),
            fail_reason: None,
            partner_order_id: None,
            push_support: false,
            cert_issued_time: r.not_before.to_string(),
            resource_id: r.certificate_id.to_string(),
            unsubscribe_support: false,
            enterprise_project_id: r.enterprise_project_id.clone(),
            origin_cert_id: None,
            renewal_cert_id: None,
            auto_renew_status: None,
            remain_cert_number: None,
            auto_deploy_support: false,
        },
    }
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

fn conditions(list: Option<Vec<wire::Tag>>) -> Option<Vec<TagCondition>> {
    list.map(|l| {
        l.into_iter()
            .map(|t| TagCondition {
                key: t.key,
                values: t.values,
            })
            .collect()
    })
}

// ---- certificates -------------------------------------------------------

async fn import_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::ImportCertificateRequest>, BodyRejection>,
) -> ScmResult<Response> {
    let ApiJson(req) = body?;
    let id = state
        .scm
        .import_certificate(
            &caller,
            ImportCertificate {
                name: req.name,
                certificate: req.certificate,
                certificate_chain: req.certificate_chain,
                private_key: req.private_key,
                duplicate_check: req.duplicate_check,
                enterprise_project_id: req.enterprise_project_id,
                enc_certificate: req.enc_certificate,
                enc_private_key: req.enc_private_key,
            },
        )
        .await?;
    Ok(crate::audit::created(
        id.to_string(),
        Json(wire::ImportCertificateResponse {
            certificate_id: id.to_string(),
        }),
    ))
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    limit: Option<String>,
    offset: Option<String>,
    sort_dir: Option<String>,
    sort_key: Option<String>,
    status: Option<String>,
    enterprise_project_id: Option<String>,
    deploy_support: Option<String>,
    owned_by_self: Option<String>,
    expired_days_since: Option<String>,
    content: Option<String>,
}

async fn list_certificates(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ScmResult<Json<wire::ListCertificatesResponse>> {
    let q = query(q)?;
    let (total, views) = state
        .scm
        .list_certificates(
            &caller,
            ListCertificates {
                limit: int_param(q.limit.as_deref(), "limit")?,
                offset: int_param(q.offset.as_deref(), "offset")?,
                sort_dir: q.sort_dir.as_deref().map(crate::names::parse_sort_dir),
                sort_key: q.sort_key.as_deref().map(crate::names::parse_scm_sort_key),
                status: q
                    .status
                    .as_deref()
                    .map(crate::names::parse_scm_status_filter),
                enterprise_project_id: q.enterprise_project_id,
                deploy_support: bool_param(q.deploy_support.as_deref(), "deploy_support")?,
                owned_by_self: bool_param(q.owned_by_self.as_deref(), "owned_by_self")?,
                expired_days_since: int_param(
                    q.expired_days_since.as_deref(),
                    "expired_days_since",
                )?,
                content: q.content,
            },
        )
        .await?;
    Ok(Json(wire::ListCertificatesResponse {
        certificates: views.iter().map(detail_out).collect(),
        total_count: total,
    }))
}

async fn show_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Json<wire::ShowCertificateResponse>> {
    let id = openccm_app::scm::cert_id(&id)?;
    Ok(Json(show_out(
        state.scm.show_certificate(&caller, &id).await?,
    )))
}

async fn export_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Response> {
    let id = openccm_app::scm::cert_id(&id)?;
    let e = state.scm.export_certificate(&caller, &id).await?;
    Ok(no_store(Json(wire::ExportCertificateResponse {
        entire_certificate: e.entire_certificate,
        certificate: e.certificate,
        certificate_chain: e.certificate_chain,
        private_key: e.private_key.to_string(),
        enc_certificate: e.enc_certificate,
        enc_private_key: e.enc_private_key.map(|k| k.to_string()),
    })))
}

async fn delete_certificate(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<StatusCode> {
    let id = openccm_app::scm::cert_id(&id)?;
    state.scm.delete_certificate(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- tags ---------------------------------------------------------------

fn success() -> Json<wire::DescResponse> {
    Json(wire::DescResponse {
        desc: "success".to_owned(),
    })
}

async fn create_tag(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::CreateTagRequest>, BodyRejection>,
) -> ScmResult<Json<wire::DescResponse>> {
    let ApiJson(req) = body?;
    let id = openccm_app::scm::cert_id(&id)?;
    state
        .scm
        .create_tag(&caller, &id, req.tag.map(tag_in))
        .await?;
    Ok(success())
}

async fn batch_tags(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::BatchTagsRequest>, BodyRejection>,
) -> ScmResult<Json<wire::DescResponse>> {
    let ApiJson(req) = body?;
    let id = openccm_app::scm::cert_id(&id)?;
    state
        .scm
        .batch_tags(&caller, &id, req.action.as_deref(), tags_in(req.tags))
        .await?;
    Ok(success())
}

async fn certificate_tags(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Json<wire::ResourceTagsResponse>> {
    let id = openccm_app::scm::cert_id(&id)?;
    let tags = state.scm.certificate_tags(&caller, &id).await?;
    Ok(Json(resource_tags(tags)))
}

async fn all_tags(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> ScmResult<Json<wire::AllTagsResponse>> {
    let tags = state.scm.all_tags(&caller).await?;
    Ok(Json(tag_values(tags)))
}

async fn certificates_by_tag(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::ResourceInstancesRequest>, BodyRejection>,
) -> ScmResult<Json<wire::ResourceInstancesResponse>> {
    let ApiJson(req) = body?;
    let (total, views) = state
        .scm
        .certificates_by_tag(
            &caller,
            ResourceQuery {
                without_any_tag: req.without_any_tag,
                tags: conditions(req.tags),
                tags_any: conditions(req.tags_any),
                not_tags: conditions(req.not_tags),
                not_tags_any: conditions(req.not_tags_any),
                limit: req.limit,
                offset: req.offset,
                action: req.action,
                matches: req
                    .matches
                    .map(|m| m.into_iter().map(|m| (m.key, m.value)).collect()),
            },
        )
        .await?;
    Ok(Json(wire::ResourceInstancesResponse {
        total_count: total,
        resources: views.map(|v| v.iter().map(tag_resource_out).collect()),
    }))
}

// ---- CSRs ---------------------------------------------------------------

async fn create_csr(
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

async fn upload_csr(
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

#[derive(Debug, Default, Deserialize)]
struct CsrQuery {
    limit: Option<String>,
    offset: Option<String>,
    name: Option<String>,
    private_key_algo: Option<String>,
}

async fn list_csrs(
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

async fn show_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Json<wire::Csr>> {
    let id = openccm_app::scm::csr::csr_id(&id)?;
    Ok(Json(csr_out(state.scm.show_csr(&caller, &id).await?)))
}

async fn update_csr(
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

async fn delete_csr(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<StatusCode> {
    let id = openccm_app::scm::csr::csr_id(&id)?;
    state.scm.delete_csr(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn csr_private_key(
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

async fn set_notification(
    state: AppState,
    caller: openccm_app::iam::Caller,
    body: Result<ApiJson<Vec<wire::NoticeRequest>>, BodyRejection>,
    enabled: bool,
) -> ScmResult<StatusCode> {
    let ApiJson(notices) = body?;
    state
        .scm
        .set_notifications(
            &caller,
            notices
                .into_iter()
                .map(|n| Notice {
                    resource_id: n.resource_id,
                    notice_type: n.notice_type,
                })
                .collect(),
            enabled,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable_notification(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<Vec<wire::NoticeRequest>>, BodyRejection>,
) -> ScmResult<StatusCode> {
    set_notification(state, caller, body, true).await
}

async fn disable_notification(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<Vec<wire::NoticeRequest>>, BodyRejection>,
) -> ScmResult<StatusCode> {
    set_notification(state, caller, body, false).await
}

async fn cloud_only(CallerOf(_caller): CallerOf) -> ScmError {
    ScmError(ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::CLOUD_ONLY,
        "This operation belongs to Huawei Cloud (deployment to cloud services, commercial certificate purchase) and is not available in a self-hosted deployment.",
    ))
}
