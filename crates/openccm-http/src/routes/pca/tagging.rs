//! The PCA tag and resource-instance routes. `CA` picks the resource: true
//! for CAs, false for certificates.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
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
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Declares, in module `$module`, the tag and resource-instance routes of
/// one kind of resource (`$ca`: true for CAs, false for certificates) under
/// `$base`, whose id is the path parameter `$id`: one annotated handler per
/// route, each calling the generic one.
macro_rules! tag_routes {
    ($module:ident, $ca:literal, $what:literal, $id:literal,
     tags: $tags:literal, filter: $filter:literal, count: $count:literal,
     resource_tags: $resource_tags:literal, create: $create:literal, delete: $delete:literal) => {
        pub(super) mod $module {
            use axum::extract::{Path, State};
            use axum::http::StatusCode;
            use axum::Json;
            use openccm_wire::pca as wire;

            use super::super::PcaResult;
            use crate::extract::{ApiJson, BodyRejection, CallerOf};
            use crate::openapi::Errors;
            use crate::AppState;

            #[doc = concat!("The tags used on the account's ", $what, "s, with their values.")]
            #[utoipa::path(get, path = $tags, tag = "PCA",
                operation_id = concat!(stringify!($module), "_domain_tags"),
                responses((status = 200, description = "The tags.", body = wire::DomainTagsResponse), Errors))]
            pub(in super::super) async fn domain_tags(
                state: State<AppState>,
                caller: CallerOf,
            ) -> PcaResult<Json<wire::DomainTagsResponse>> {
                super::domain_tags::<$ca>(state, caller).await
            }

            #[doc = concat!("The account's ", $what, "s matching tags, one page.")]
            #[utoipa::path(post, path = $filter, tag = "PCA",
                operation_id = concat!(stringify!($module), "_resources_by_tag"),
                request_body = wire::ListResourceInstancesRequest,
                responses((status = 200, description = "The matches.", body = wire::ResourceInstancesResponse), Errors))]
            pub(in super::super) async fn resources_by_tag(
                state: State<AppState>,
                caller: CallerOf,
                body: Result<ApiJson<wire::ListResourceInstancesRequest>, BodyRejection>,
            ) -> PcaResult<Json<wire::ResourceInstancesResponse>> {
                super::resources_by_tag::<$ca>(state, caller, body).await
            }

            #[doc = concat!("How many of the account's ", $what, "s match tags.")]
            #[utoipa::path(post, path = $count, tag = "PCA",
                operation_id = concat!(stringify!($module), "_count_by_tag"),
                request_body = wire::ListResourceInstancesRequest,
                responses((status = 200, description = "The count.", body = wire::ResourceCountResponse), Errors))]
            pub(in super::super) async fn count_by_tag(
                state: State<AppState>,
                caller: CallerOf,
                body: Result<ApiJson<wire::ListResourceInstancesRequest>, BodyRejection>,
            ) -> PcaResult<Json<wire::ResourceCountResponse>> {
                super::count_by_tag::<$ca>(state, caller, body).await
            }

            #[doc = concat!("The tags of one ", $what, ".")]
            #[utoipa::path(get, path = $resource_tags, tag = "PCA",
                operation_id = concat!(stringify!($module), "_resource_tags"),
                params(($id = String, Path, description = concat!("The ", $what, "'s id (a UUID)."))),
                responses((status = 200, description = "The tags.", body = wire::ResourceTagsResponse), Errors))]
            pub(in super::super) async fn resource_tags(
                state: State<AppState>,
                caller: CallerOf,
                id: Path<String>,
            ) -> PcaResult<Json<wire::ResourceTagsResponse>> {
                super::resource_tags::<$ca>(state, caller, id).await
            }

            #[doc = concat!("Sets one tag on a ", $what, ".")]
            #[utoipa::path(post, path = $resource_tags, tag = "PCA",
                operation_id = concat!(stringify!($module), "_create_tag"),
                params(($id = String, Path, description = concat!("The ", $what, "'s id (a UUID)."))),
                request_body = wire::ResourceTagRequest,
                responses((status = 204, description = "Done; no body."), Errors))]
            pub(in super::super) async fn create_tag(
                state: State<AppState>,
                caller: CallerOf,
                id: Path<String>,
                body: Result<ApiJson<wire::ResourceTagRequest>, BodyRejection>,
            ) -> PcaResult<StatusCode> {
                super::create_tag::<$ca>(state, caller, id, body).await
            }

            #[doc = concat!("Sets several tags on a ", $what, ".")]
            #[utoipa::path(post, path = $create, tag = "PCA",
                operation_id = concat!(stringify!($module), "_batch_create_tags"),
                params(($id = String, Path, description = concat!("The ", $what, "'s id (a UUID)."))),
                request_body = wire::BatchOperateTagRequest,
                responses((status = 204, description = "Done; no body."), Errors))]
            pub(in super::super) async fn batch_create_tags(
                state: State<AppState>,
                caller: CallerOf,
                id: Path<String>,
                body: Result<ApiJson<wire::BatchOperateTagRequest>, BodyRejection>,
            ) -> PcaResult<StatusCode> {
                super::batch_create_tags::<$ca>(state, caller, id, body).await
            }

            #[doc = concat!("Removes several tags from a ", $what, ".")]
            #[utoipa::path(delete, path = $delete, tag = "PCA",
                operation_id = concat!(stringify!($module), "_batch_delete_tags"),
                params(($id = String, Path, description = concat!("The ", $what, "'s id (a UUID)."))),
                request_body = wire::BatchOperateTagRequest,
                responses((status = 204, description = "Done; no body."), Errors))]
            pub(in super::super) async fn batch_delete_tags(
                state: State<AppState>,
                caller: CallerOf,
                id: Path<String>,
                body: Result<ApiJson<wire::BatchOperateTagRequest>, BodyRejection>,
            ) -> PcaResult<StatusCode> {
                super::batch_delete_tags::<$ca>(state, caller, id, body).await
            }
        }
    };
}

tag_routes!(ca, true, "CA", "ca_id",
    tags: "/v1/private-certificate-authorities/tags",
    filter: "/v1/private-certificate-authorities/resource-instances/filter",
    count: "/v1/private-certificate-authorities/resource-instances/count",
    resource_tags: "/v1/private-certificate-authorities/{ca_id}/tags",
    create: "/v1/private-certificate-authorities/{ca_id}/tags/create",
    delete: "/v1/private-certificate-authorities/{ca_id}/tags/delete");

tag_routes!(certificate, false, "certificate", "certificate_id",
    tags: "/v1/private-certificates/tags",
    filter: "/v1/private-certificates/resource-instances/filter",
    count: "/v1/private-certificates/resource-instances/count",
    resource_tags: "/v1/private-certificates/{certificate_id}/tags",
    create: "/v1/private-certificates/{certificate_id}/tags/create",
    delete: "/v1/private-certificates/{certificate_id}/tags/delete");

/// The CAs' tag and resource-instance routes.
pub(super) fn ca_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ca::domain_tags))
        .routes(routes!(ca::resources_by_tag))
        .routes(routes!(ca::count_by_tag))
        .routes(routes!(ca::resource_tags, ca::create_tag))
        .routes(routes!(ca::batch_create_tags))
        .routes(routes!(ca::batch_delete_tags))
}

/// The certificates' tag and resource-instance routes.
pub(super) fn certificate_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(certificate::domain_tags))
        .routes(routes!(certificate::resources_by_tag))
        .routes(routes!(certificate::count_by_tag))
        .routes(routes!(certificate::resource_tags, certificate::create_tag))
        .routes(routes!(certificate::batch_create_tags))
        .routes(routes!(certificate::batch_delete_tags))
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
