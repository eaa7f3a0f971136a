//! SCM v3 routes (scm-v3.md, seed 000): wire ↔ domain conversion only.
//!
//! Three tag routes put the certificate id directly under `/v3/scm/`; the
//! literal routes at the same depth (`tags`, `csr`, `certificates`,
//! `resource_instances`, `notification`) win over the id.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openccm_app::scm::certificate::{ImportCertificate, ListCertificates};
use openccm_app::scm::notification::Notice;
use openccm_app::scm::tags::{ResourceQuery, TagCondition};

use super::tags::{resource_tags, tag_in, tag_out, tag_values, tags_in};
use openccm_app::scm::{scm_time, ScmCertView};
use openccm_app::Error;
use openccm_store::ScmCertRecord;
use openccm_wire::error::scm as codes;
use openccm_wire::scm as wire;
use serde::Deserialize;

use crate::error::Service;
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::openapi::Errors;
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod cloud;
mod csr;

route_error!(
    /// An error of an SCM route.
    ScmError,
    ScmResult,
    Service::Scm
);

/// The SCM routes (all behind authentication). Each handler's method and
/// path are those of its `#[utoipa::path]` annotation (src/openapi.rs).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_certificate))
        .routes(routes!(list_certificates))
        .routes(routes!(show_certificate, delete_certificate))
        .routes(routes!(export_certificate))
        .routes(routes!(certificate_tags, create_tag))
        .routes(routes!(batch_tags))
        .routes(routes!(all_tags))
        .routes(routes!(certificates_by_tag))
        .routes(routes!(csr::list_csrs, csr::create_csr))
        .routes(routes!(csr::upload_csr))
        .routes(routes!(csr::show_csr, csr::update_csr, csr::delete_csr))
        .routes(routes!(csr::csr_private_key))
        .routes(routes!(enable_notification))
        .routes(routes!(disable_notification))
        .routes(routes!(cloud::push))
        .routes(routes!(cloud::batch_push))
        .routes(routes!(cloud::deploy))
        .routes(routes!(cloud::deployed_resources))
        .routes(routes!(cloud::buy))
        .routes(routes!(cloud::apply))
        .routes(routes!(cloud::cancel))
        .routes(routes!(cloud::unsubscribe))
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

#[utoipa::path(
    post,
    path = "/v3/scm/certificates/import",
    tag = "SCM",
    request_body = wire::ImportCertificateRequest,
    responses((status = 200, description = "The certificate was imported.", body = wire::ImportCertificateResponse), Errors)
)]
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

/// The query of ListCertificates. Numbers and flags arrive as text so that
/// a malformed one is the API's 400, not axum's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Page size, 10–50 (default 10).
    #[param(value_type = Option<i64>, minimum = 10, maximum = 50)]
    limit: Option<String>,
    /// Records to skip (default 0).
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// `ASC` | `DESC` (default).
    sort_dir: Option<String>,
    /// `certExpiredTime` | `certStatus` | `certUpdateTime` (default).
    sort_key: Option<String>,
    /// A status filter (default `ALL`).
    status: Option<String>,
    /// `0`, `all` (default) or an enterprise project's id.
    enterprise_project_id: Option<String>,
    /// Only deployable certificates (default false).
    #[param(value_type = Option<bool>)]
    deploy_support: Option<String>,
    /// Only the caller's own certificates (default true).
    #[param(value_type = Option<bool>)]
    owned_by_self: Option<String>,
    /// Also certificates expired at most this many days ago, 0–1095.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 1095)]
    expired_days_since: Option<String>,
    /// A keyword matched against the name and bound domain.
    content: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v3/scm/certificates",
    operation_id = "scm_list_certificates",
    tag = "SCM",
    params(ListQuery),
    responses((status = 200, description = "The account's SSL certificates, one page.", body = wire::ListCertificatesResponse), Errors)
)]
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

#[utoipa::path(
    get,
    path = "/v3/scm/certificates/{certificate_id}",
    operation_id = "scm_show_certificate",
    tag = "SCM",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    responses((status = 200, description = "The certificate.", body = wire::ShowCertificateResponse), Errors)
)]
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

#[utoipa::path(
    post,
    path = "/v3/scm/certificates/{certificate_id}/export",
    operation_id = "scm_export_certificate",
    tag = "SCM",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    responses((status = 200, description = "The certificate, its chain and its private key (`Cache-Control: no-store`).", body = wire::ExportCertificateResponse), Errors)
)]
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

#[utoipa::path(
    delete,
    path = "/v3/scm/certificates/{certificate_id}",
    operation_id = "scm_delete_certificate",
    tag = "SCM",
    params(("certificate_id" = String, Path, description = "The certificate's id (a UUID).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
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

#[utoipa::path(
    post,
    path = "/v3/scm/{resource_id}/tags",
    operation_id = "scm_create_tag",
    tag = "SCM",
    params(("resource_id" = String, Path, description = "The SSL certificate's id (scs + digits).")),
    request_body = wire::CreateTagRequest,
    responses((status = 200, description = "The tag was set.", body = wire::DescResponse), Errors)
)]
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

#[utoipa::path(
    post,
    path = "/v3/scm/{resource_id}/tags/action",
    tag = "SCM",
    params(("resource_id" = String, Path, description = "The SSL certificate's id (scs + digits).")),
    request_body = wire::BatchTagsRequest,
    responses((status = 200, description = "The tags were set or removed.", body = wire::DescResponse), Errors)
)]
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

#[utoipa::path(
    get,
    path = "/v3/scm/{resource_id}/tags",
    tag = "SCM",
    params(("resource_id" = String, Path, description = "The SSL certificate's id (scs + digits).")),
    responses((status = 200, description = "The certificate's tags.", body = wire::ResourceTagsResponse), Errors)
)]
async fn certificate_tags(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> ScmResult<Json<wire::ResourceTagsResponse>> {
    let id = openccm_app::scm::cert_id(&id)?;
    let tags = state.scm.certificate_tags(&caller, &id).await?;
    Ok(Json(resource_tags(tags)))
}

#[utoipa::path(
    get,
    path = "/v3/scm/tags",
    tag = "SCM",
    responses((status = 200, description = "The tags used on the account's certificates.", body = wire::AllTagsResponse), Errors)
)]
async fn all_tags(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> ScmResult<Json<wire::AllTagsResponse>> {
    let tags = state.scm.all_tags(&caller).await?;
    Ok(Json(tag_values(tags)))
}

#[utoipa::path(
    post,
    path = "/v3/scm/resource_instances/action",
    tag = "SCM",
    request_body = wire::ResourceInstancesRequest,
    responses((status = 200, description = "The certificates matching tags, or their count.", body = wire::ResourceInstancesResponse), Errors)
)]
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

#[utoipa::path(
    post,
    path = "/v3/scm/notification/enable",
    tag = "SCM",
    request_body = Vec<wire::NoticeRequest>,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn enable_notification(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<Vec<wire::NoticeRequest>>, BodyRejection>,
) -> ScmResult<StatusCode> {
    set_notification(state, caller, body, true).await
}

#[utoipa::path(
    post,
    path = "/v3/scm/notification/disable",
    tag = "SCM",
    request_body = Vec<wire::NoticeRequest>,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn disable_notification(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<Vec<wire::NoticeRequest>>, BodyRejection>,
) -> ScmResult<StatusCode> {
    set_notification(state, caller, body, false).await
}
