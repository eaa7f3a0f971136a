//! The PCA tag and resource-instance routes. `CA` picks the resource: true
//! for CAs, false for certificates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use openccm_app::pca::tags::{
    Found, PcaResource, PcaTagged, ResourceQuery, TagCondition, TaggedView,
};
use openccm_app::Error;
use openccm_wire::pca as wire;

use super::{ca_out, cert_out, no_content, PcaResult};
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::routes::tags::{
    resource_tags as resource_tags_out, tag_in, tag_out, tag_values, tags_in,
};
use crate::AppState;

/// The tag and resource-instance routes under `base` (CAs or certificates),
/// whose path parameter is named `id`.
pub(super) fn routes<const CA: bool>(base: &str, id: &str) -> Router<AppState> {
    Router::new()
        .route(&format!("{base}/tags"), get(domain_tags::<CA>))
        .route(
            &format!("{base}/resource-instances/filter"),
            post(resources_by_tag::<CA>),
        )
        .route(
            &format!("{base}/resource-instances/count"),
            post(count_by_tag::<CA>),
        )
        .route(
            &format!("{base}/{{{id}}}/tags"),
            get(resource_tags::<CA>).post(create_tag::<CA>),
        )
        .route(
            &format!("{base}/{{{id}}}/tags/create"),
            post(batch_create_tags::<CA>),
        )
        .route(
            &format!("{base}/{{{id}}}/tags/delete"),
            delete(batch_delete_tags::<CA>),
        )
}

const fn tagged<const CA: bool>() -> PcaResource {
    if CA {
        PcaResource::Ca
    } else {
        PcaResource::Certificate
    }
}

/// The tagged resource a path names: a CA or a certificate by its id.
fn tagged_id<const CA: bool>(id: &str) -> Result<PcaTagged, Error> {
    Ok(if CA {
        PcaTagged::Ca(openccm_app::pca::input::ca_id(id)?)
    } else {
        PcaTagged::Certificate(openccm_app::pca::input::cert_id(id)?)
    })
}

fn tagged_out(view: TaggedView) -> wire::TagResource {
    let resource_id = view.id().to_owned();
    let resource_name = view.name().to_owned();
    // Serialising the wire structs cannot fail (strings, numbers, options).
    let resource_detail = match view.resource {
        Found::Ca(ca) => serde_json::to_value(ca_out(ca)),
        Found::Certificate(cert) => serde_json::to_value(cert_out(cert)),
    }
    .unwrap_or_default();
    wire::TagResource {
        resource_id,
        resource_detail,
        tags: view.tags.into_iter().map(tag_out).collect(),
        resource_name,
    }
}

fn resource_query(req: wire::ListResourceInstancesRequest) -> ResourceQuery {
    ResourceQuery {
        tags: req.tags.map(|tags| {
            tags.into_iter()
                .map(|t| TagCondition {
                    key: t.key,
                    values: t.values,
                })
                .collect()
        }),
        limit: req.limit,
        offset: req.offset,
        matches: req
            .matches
            .map(|m| m.into_iter().map(|t| (t.key, t.value)).collect()),
    }
}

async fn create_tag<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::ResourceTagRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let id = tagged_id::<CA>(&id)?;
    state
        .pca
        .create_tag(&caller, &id, req.tag.map(tag_in))
        .await?;
    Ok(no_content())
}

async fn batch_create_tags<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::BatchOperateTagRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let id = tagged_id::<CA>(&id)?;
    state
        .pca
        .batch_create_tags(&caller, &id, tags_in(req.tags))
        .await?;
    Ok(no_content())
}

async fn batch_delete_tags<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::BatchOperateTagRequest>, BodyRejection>,
) -> PcaResult<StatusCode> {
    let ApiJson(req) = body?;
    let id = tagged_id::<CA>(&id)?;
    state
        .pca
        .batch_delete_tags(&caller, &id, tags_in(req.tags))
        .await?;
    Ok(no_content())
}

async fn resource_tags<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> PcaResult<Json<wire::ResourceTagsResponse>> {
    let id = tagged_id::<CA>(&id)?;
    let tags = state.pca.resource_tag_list(&caller, &id).await?;
    Ok(Json(resource_tags_out(tags)))
}

async fn domain_tags<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> PcaResult<Json<wire::DomainTagsResponse>> {
    let tags = state.pca.domain_tags(&caller, tagged::<CA>()).await?;
    Ok(Json(tag_values(tags)))
}

async fn resources_by_tag<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::ListResourceInstancesRequest>, BodyRejection>,
) -> PcaResult<Json<wire::ResourceInstancesResponse>> {
    let ApiJson(req) = body?;
    let (total_count, found) = state
        .pca
        .resources_by_tag(&caller, tagged::<CA>(), resource_query(req), false)
        .await?;
    Ok(Json(wire::ResourceInstancesResponse {
        total_count,
        resources: found.into_iter().map(tagged_out).collect(),
    }))
}

async fn count_by_tag<const CA: bool>(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::ListResourceInstancesRequest>, BodyRejection>,
) -> PcaResult<Json<wire::ResourceCountResponse>> {
    let ApiJson(req) = body?;
    let (total_count, _) = state
        .pca
        .resources_by_tag(&caller, tagged::<CA>(), resource_query(req), true)
        .await?;
    Ok(Json(wire::ResourceCountResponse { total_count }))
}
