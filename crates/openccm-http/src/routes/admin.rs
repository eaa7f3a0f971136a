//! The account administrator's IAM API, shaped like Huawei IAM's:
//! users (`/v3/users`), access keys (`/v3.0/OS-CREDENTIAL/credentials`),
//! user groups (`/v3/groups`) and identity policies (`/v5/policies`).
//! Errors carry `IAM.*` codes in the Huawei error body.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use openccm_app::clock::iso8601_micros;
use openccm_app::Error;
use openccm_store::{AccessKey, Group, GroupId, PolicyRecord, Principal, User, UserId};
use openccm_wire::iam as wire;
use serde::Deserialize;

use crate::audit::created;
use crate::error::Service;
use crate::extract::{ApiJson, BodyRejection, CallerOf};
use crate::openapi::Errors;
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

route_error!(
    /// An error of an administration route.
    AdminError,
    AdminResult,
    Service::Iam
);

/// The administration routes (behind authentication).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(show_user, update_user, delete_user))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(create_temporary_credentials))
        .routes(routes!(show_key, update_key, delete_key))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(delete_group))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(list_policies, create_policy))
        .routes(routes!(show_policy, delete_policy))
        .routes(routes!(attach_user))
        .routes(routes!(detach_user))
        .routes(routes!(attach_group))
        .routes(routes!(detach_group))
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, AdminError> {
    value.ok_or_else(|| AdminError::from(Error::invalid(format!("{field} is required"))))
}

fn user_out(u: &User) -> wire::UserInfo {
    wire::UserInfo {
        id: u.user_id.to_string(),
        name: u.name.clone(),
        domain_id: u.domain_id.to_string(),
        enabled: u.enabled,
        is_root_user: u.is_root,
        pwd_status: u.password_hash.is_some(),
        create_time: iso8601_micros(u.created_at),
    }
}

fn key_out(k: &AccessKey, secret: Option<String>) -> wire::Credential {
    wire::Credential {
        access: k.access_key.to_string(),
        secret,
        status: if k.enabled { "active" } else { "inactive" }.to_owned(),
        user_id: k.user_id.to_string(),
        description: k.description.clone(),
        create_time: iso8601_micros(k.created_at),
    }
}

fn group_out(g: &Group) -> wire::GroupInfo {
    wire::GroupInfo {
        id: g.group_id.to_string(),
        name: g.name.clone(),
        description: g.description.clone(),
        domain_id: g.domain_id.to_string(),
        create_time: iso8601_micros(g.created_at),
    }
}

fn policy_out(p: &PolicyRecord, with_document: bool) -> wire::PolicyInfo {
    wire::PolicyInfo {
        policy_id: p.policy_id.to_string(),
        policy_name: p.name.clone(),
        description: p.description.clone(),
        default_version_id: "v1".to_owned(),
        policy_document: with_document.then(|| p.document.clone()),
        created_at: iso8601_micros(p.created_at),
        updated_at: iso8601_micros(p.updated_at),
    }
}

// ---- users --------------------------------------------------------------

#[utoipa::path(
    post,
    path = "/v3/users",
    tag = "IAM",
    request_body = wire::UserRequest,
    responses((status = 201, description = "The user was created.", body = wire::UserResponse), Errors)
)]
async fn create_user(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::UserRequest>, BodyRejection>,
) -> AdminResult<Response> {
    let ApiJson(req) = body?;
    let fields = required(req.user, "user")?;
    let name = required(fields.name, "user.name")?;
    let user = state
        .iam
        .create_user(
            &caller,
            &name,
            fields.password.as_deref(),
            fields.enabled.unwrap_or(true),
        )
        .await?;
    Ok(created(
        user.user_id.to_string(),
        (
            StatusCode::CREATED,
            Json(wire::UserResponse {
                user: user_out(&user),
            }),
        ),
    ))
}

#[utoipa::path(
    get,
    path = "/v3/users",
    tag = "IAM",
    responses((status = 200, description = "The account's users.", body = wire::UserList), Errors)
)]
async fn list_users(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> AdminResult<Json<wire::UserList>> {
    let users = state.iam.list_users(&caller).await?;
    Ok(Json(wire::UserList {
        users: users.iter().map(user_out).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v3/users/{user_id}",
    tag = "IAM",
    params(("user_id" = String, Path, description = "The user's id.")),
    responses((status = 200, description = "The user.", body = wire::UserResponse), Errors)
)]
async fn show_user(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> AdminResult<Json<wire::UserResponse>> {
    let id = openccm_app::iam::admin::user_id(&id)?;
    let user = state.iam.show_user(&caller, &id).await?;
    Ok(Json(wire::UserResponse {
        user: user_out(&user),
    }))
}

#[utoipa::path(
    patch,
    path = "/v3/users/{user_id}",
    tag = "IAM",
    params(("user_id" = String, Path, description = "The user's id.")),
    request_body = wire::UserRequest,
    responses((status = 200, description = "The updated user.", body = wire::UserResponse), Errors)
)]
async fn update_user(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::UserRequest>, BodyRejection>,
) -> AdminResult<Json<wire::UserResponse>> {
    let ApiJson(req) = body?;
    let id = openccm_app::iam::admin::user_id(&id)?;
    let fields = required(req.user, "user")?;
    if fields.name.is_some() {
        return Err(Error::invalid("a user's name cannot change").into());
    }
    let user = state
        .iam
        .update_user(&caller, &id, fields.password.as_deref(), fields.enabled)
        .await?;
    Ok(Json(wire::UserResponse {
        user: user_out(&user),
    }))
}

#[utoipa::path(
    delete,
    path = "/v3/users/{user_id}",
    tag = "IAM",
    params(("user_id" = String, Path, description = "The user's id.")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn delete_user(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::user_id(&id)?;
    state.iam.delete_user(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- access keys --------------------------------------------------------

#[utoipa::path(
    post,
    path = "/v3.0/OS-CREDENTIAL/credentials",
    tag = "IAM",
    request_body = wire::CredentialRequest,
    responses((status = 201, description = "The access key, with its secret key shown this once (`Cache-Control: no-store`).", body = wire::CredentialResponse), Errors)
)]
async fn create_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::CredentialRequest>, BodyRejection>,
) -> AdminResult<Response> {
    let ApiJson(req) = body?;
    let fields = required(req.credential, "credential")?;
    let user_id =
        openccm_app::iam::admin::user_id(&required(fields.user_id, "credential.user_id")?)?;
    let new = state
        .iam
        .create_access_key(
            &caller,
            &user_id,
            fields.description.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(created(
        new.key.access_key.to_string(),
        (
            StatusCode::CREATED,
            Json(wire::CredentialResponse {
                credential: key_out(&new.key, Some(new.secret_key.to_string())),
            }),
        ),
    ))
}

/// Temporary AK/SK and security token for the caller (or for the token in
/// `auth.identity.token.id`, which must be the caller's own).
#[utoipa::path(
    post,
    path = "/v3.0/OS-CREDENTIAL/securitytokens",
    tag = "IAM",
    request_body = wire::TokenRequest,
    responses((status = 201, description = "A temporary AK/SK and its security token.", body = wire::TemporaryCredentialResponse), Errors)
)]
async fn create_temporary_credentials(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::TokenRequest>, BodyRejection>,
) -> AdminResult<Response> {
    let ApiJson(req) = body?;
    let identity = req.auth.identity;
    if !identity.methods.iter().any(|m| m == "token") {
        return Err(Error::invalid("auth.identity.methods must be [\"token\"]").into());
    }
    if identity.policy.is_some() {
        return Err(Error::invalid(
            "auth.identity.policy (narrowed temporary credentials) is not supported",
        )
        .into());
    }
    let token = identity.token.unwrap_or_default();
    let subject = match token.id.as_deref() {
        Some(id) => {
            let owner = state.iam.authenticate_token(id).await?;
            if owner.user_id != caller.user_id || owner.domain_id != caller.domain_id {
                return Err(Error::Forbidden(
                    "auth.identity.token.id is not a token of the caller".to_owned(),
                )
                .into());
            }
            owner
        }
        None => caller,
    };
    let duration = token
        .duration_seconds
        .unwrap_or(openccm_app::iam::sts::DEFAULT_DURATION_SECS);
    let issued = state
        .iam
        .create_temporary_credentials(&subject, duration)
        .await?;
    Ok(created(
        issued.access.to_string(),
        (
            StatusCode::CREATED,
            Json(wire::TemporaryCredentialResponse {
                credential: wire::TemporaryCredential {
                    expires_at: iso8601_micros(issued.expires_at),
                    access: issued.access.to_string(),
                    secret: issued.secret.to_string(),
                    securitytoken: issued.security_token,
                },
            }),
        ),
    ))
}

/// The query of ListPermanentAccessKeys.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KeyQuery {
    /// Only this user's keys.
    user_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v3.0/OS-CREDENTIAL/credentials",
    tag = "IAM",
    params(KeyQuery),
    responses((status = 200, description = "Access keys (never their secrets).", body = wire::CredentialList), Errors)
)]
async fn list_keys(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    q: Result<Query<KeyQuery>, axum::extract::rejection::QueryRejection>,
) -> AdminResult<Json<wire::CredentialList>> {
    let Query(q) = q.map_err(|e| Error::invalid(format!("malformed query string: {e}")))?;
    let keys = state
        .iam
        .list_access_keys(
            &caller,
            q.user_id
                .as_deref()
                .map(openccm_app::iam::admin::user_id)
                .transpose()?
                .as_ref(),
        )
        .await?;
    Ok(Json(wire::CredentialList {
        credentials: keys.iter().map(|k| key_out(k, None)).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v3.0/OS-CREDENTIAL/credentials/{access_key}",
    tag = "IAM",
    params(("access_key" = String, Path, description = "The access key (AK).")),
    responses((status = 200, description = "The access key (not its secret).", body = wire::CredentialResponse), Errors)
)]
async fn show_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ak): Path<String>,
) -> AdminResult<Json<wire::CredentialResponse>> {
    let keys = state.iam.list_access_keys(&caller, None).await?;
    let key = keys
        .iter()
        .find(|k| k.access_key.as_str() == ak)
        .ok_or_else(|| Error::NotFound("The access key does not exist.".to_owned()))?;
    Ok(Json(wire::CredentialResponse {
        credential: key_out(key, None),
    }))
}

#[utoipa::path(
    put,
    path = "/v3.0/OS-CREDENTIAL/credentials/{access_key}",
    tag = "IAM",
    params(("access_key" = String, Path, description = "The access key (AK).")),
    request_body = wire::CredentialRequest,
    responses((status = 200, description = "The updated access key.", body = wire::CredentialResponse), Errors)
)]
async fn update_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ak): Path<String>,
    body: Result<ApiJson<wire::CredentialRequest>, BodyRejection>,
) -> AdminResult<Json<wire::CredentialResponse>> {
    let ApiJson(req) = body?;
    let fields = required(req.credential, "credential")?;
    let enabled = match fields.status.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(_) => return Err(Error::invalid("status must be active or inactive").into()),
    };
    let key = state
        .iam
        .update_access_key(&caller, &ak, enabled, fields.description.as_deref())
        .await?;
    Ok(Json(wire::CredentialResponse {
        credential: key_out(&key, None),
    }))
}

#[utoipa::path(
    delete,
    path = "/v3.0/OS-CREDENTIAL/credentials/{access_key}",
    tag = "IAM",
    params(("access_key" = String, Path, description = "The access key (AK).")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn delete_key(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(ak): Path<String>,
) -> AdminResult<StatusCode> {
    state.iam.delete_access_key(&caller, &ak).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- groups -------------------------------------------------------------

#[utoipa::path(
    post,
    path = "/v3/groups",
    tag = "IAM",
    request_body = wire::GroupRequest,
    responses((status = 201, description = "The group was created.", body = wire::GroupResponse), Errors)
)]
async fn create_group(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::GroupRequest>, BodyRejection>,
) -> AdminResult<(StatusCode, Json<wire::GroupResponse>)> {
    let ApiJson(req) = body?;
    let fields = required(req.group, "group")?;
    let name = required(fields.name, "group.name")?;
    let group = state
        .iam
        .create_group(
            &caller,
            &name,
            fields.description.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(wire::GroupResponse {
            group: group_out(&group),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/v3/groups",
    tag = "IAM",
    responses((status = 200, description = "The account's groups.", body = wire::GroupList), Errors)
)]
async fn list_groups(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> AdminResult<Json<wire::GroupList>> {
    let groups = state.iam.list_groups(&caller).await?;
    Ok(Json(wire::GroupList {
        groups: groups.iter().map(group_out).collect(),
    }))
}

#[utoipa::path(
    delete,
    path = "/v3/groups/{group_id}",
    tag = "IAM",
    params(("group_id" = String, Path, description = "The group's id.")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn delete_group(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::group_id(&id)?;
    state.iam.delete_group(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/v3/groups/{group_id}/users/{user_id}",
    tag = "IAM",
    params(("group_id" = String, Path, description = "The group's id."), ("user_id" = String, Path, description = "The user's id.")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn add_member(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path((group, user)): Path<(String, String)>,
) -> AdminResult<StatusCode> {
    let (group, user) = (
        openccm_app::iam::admin::group_id(&group)?,
        openccm_app::iam::admin::user_id(&user)?,
    );
    state
        .iam
        .set_group_member(&caller, &group, &user, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/v3/groups/{group_id}/users/{user_id}",
    tag = "IAM",
    params(("group_id" = String, Path, description = "The group's id."), ("user_id" = String, Path, description = "The user's id.")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn remove_member(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path((group, user)): Path<(String, String)>,
) -> AdminResult<StatusCode> {
    let (group, user) = (
        openccm_app::iam::admin::group_id(&group)?,
        openccm_app::iam::admin::user_id(&user)?,
    );
    state
        .iam
        .set_group_member(&caller, &group, &user, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- policies -----------------------------------------------------------

#[utoipa::path(
    post,
    path = "/v5/policies",
    tag = "IAM",
    request_body = wire::PolicyRequest,
    responses((status = 200, description = "The policy was created.", body = wire::PolicyResponse), Errors)
)]
async fn create_policy(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    body: Result<ApiJson<wire::PolicyRequest>, BodyRejection>,
) -> AdminResult<Json<wire::PolicyResponse>> {
    let ApiJson(req) = body?;
    let name = required(req.policy_name, "policy_name")?;
    let document = required(req.policy_document, "policy_document")?;
    let policy = state
        .iam
        .create_policy(
            &caller,
            &name,
            &document,
            req.description.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(Json(wire::PolicyResponse {
        policy: policy_out(&policy, true),
    }))
}

#[utoipa::path(
    get,
    path = "/v5/policies",
    tag = "IAM",
    responses((status = 200, description = "The account's identity policies.", body = wire::PolicyList), Errors)
)]
async fn list_policies(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> AdminResult<Json<wire::PolicyList>> {
    let policies = state.iam.list_policies(&caller).await?;
    Ok(Json(wire::PolicyList {
        policies: policies.iter().map(|p| policy_out(p, false)).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v5/policies/{policy_id}",
    tag = "IAM",
    params(("policy_id" = String, Path, description = "The policy's id.")),
    responses((status = 200, description = "The policy.", body = wire::PolicyResponse), Errors)
)]
async fn show_policy(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> AdminResult<Json<wire::PolicyResponse>> {
    let id = openccm_app::iam::admin::policy_id(&id)?;
    let policy = state.iam.show_policy(&caller, &id).await?;
    Ok(Json(wire::PolicyResponse {
        policy: policy_out(&policy, true),
    }))
}

#[utoipa::path(
    delete,
    path = "/v5/policies/{policy_id}",
    tag = "IAM",
    params(("policy_id" = String, Path, description = "The policy's id.")),
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn delete_policy(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::policy_id(&id)?;
    state.iam.delete_policy(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn principal(req: wire::AttachRequest, group: bool) -> Result<Principal, AdminError> {
    let not_found = || Error::NotFound("The user or group does not exist.".to_owned());
    if group {
        let id = required(req.group_id, "group_id")?;
        Ok(Principal::Group(GroupId::parse(&id).ok_or_else(not_found)?))
    } else {
        let id = required(req.user_id, "user_id")?;
        Ok(Principal::User(UserId::parse(&id).ok_or_else(not_found)?))
    }
}

async fn attach(
    state: &AppState,
    caller: &openccm_app::iam::Caller,
    id: &openccm_store::PolicyId,
    body: Result<ApiJson<wire::AttachRequest>, BodyRejection>,
    group: bool,
    attached: bool,
) -> AdminResult<StatusCode> {
    let ApiJson(req) = body?;
    let principal = principal(req, group)?;
    state
        .iam
        .set_attachment(caller, id, principal, attached)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/v5/policies/{policy_id}/attach-user",
    tag = "IAM",
    params(("policy_id" = String, Path, description = "The policy's id.")),
    request_body = wire::AttachRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn attach_user(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::AttachRequest>, BodyRejection>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::policy_id(&id)?;
    attach(&state, &caller, &id, body, false, true).await
}

#[utoipa::path(
    post,
    path = "/v5/policies/{policy_id}/detach-user",
    tag = "IAM",
    params(("policy_id" = String, Path, description = "The policy's id.")),
    request_body = wire::AttachRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn detach_user(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::AttachRequest>, BodyRejection>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::policy_id(&id)?;
    attach(&state, &caller, &id, body, false, false).await
}

#[utoipa::path(
    post,
    path = "/v5/policies/{policy_id}/attach-group",
    tag = "IAM",
    params(("policy_id" = String, Path, description = "The policy's id.")),
    request_body = wire::AttachRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn attach_group(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::AttachRequest>, BodyRejection>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::policy_id(&id)?;
    attach(&state, &caller, &id, body, true, true).await
}

#[utoipa::path(
    post,
    path = "/v5/policies/{policy_id}/detach-group",
    tag = "IAM",
    params(("policy_id" = String, Path, description = "The policy's id.")),
    request_body = wire::AttachRequest,
    responses((status = 204, description = "Done; no body."), Errors)
)]
async fn detach_group(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    Path(id): Path<String>,
    body: Result<ApiJson<wire::AttachRequest>, BodyRejection>,
) -> AdminResult<StatusCode> {
    let id = openccm_app::iam::admin::policy_id(&id)?;
    attach(&state, &caller, &id, body, true, false).await
}
