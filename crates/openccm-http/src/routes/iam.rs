//! The IAM subset (iam-auth.md §§ 4–5): tokens and the discovery calls.
//!
//! IAM's own token endpoints answer errors in Keystone style
//! (`{"error": {"code", "title", "message"}}`), like the cloud's IAM.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openccm_app::clock::iso8601_micros;
use openccm_app::iam::{AuthMethod, Caller, PasswordLogin};
use openccm_app::Error;
use openccm_wire::iam::{
    Domain, DomainList, DomainRef, KeystoneError, KeystoneErrorBody, Links, Project, ProjectList,
    Role, TokenBody, TokenRequest, TokenResponse, TokenUser,
};
use serde::Deserialize;

use crate::error::{ApiError, Service};
use crate::extract::{parse_json, BodyRejection, CallerOf};
use crate::middleware::{
    caller_of, peer_address, raw_body, signed_caller, token_caller, AuthInput,
};
use crate::openapi::{Errors, KeystoneErrors};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes that need no prior authentication (the request carries its own credential).
pub fn public() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_token, validate_token))
}

/// Routes behind the authentication layer.
pub fn protected() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_domains))
        .routes(routes!(list_projects))
}

/// A Keystone-style error.
struct KeystoneResponse(StatusCode, String);

impl IntoResponse for KeystoneResponse {
    fn into_response(self) -> Response {
        let title = self.0.canonical_reason().unwrap_or("Error").to_owned();
        (
            self.0,
            Json(KeystoneErrorBody {
                error: KeystoneError {
                    code: self.0.as_u16(),
                    title,
                    message: self.1,
                },
            }),
        )
            .into_response()
    }
}

impl From<Error> for KeystoneResponse {
    fn from(err: Error) -> Self {
        match err {
            Error::Unauthenticated(_) => Self(
                StatusCode::UNAUTHORIZED,
                "The request you have made requires authentication.".to_owned(),
            ),
            other => {
                let api = ApiError::from_app(Service::Gateway, &other);
                Self(api.status(), api.body().error_msg.clone())
            }
        }
    }
}

impl From<BodyRejection> for KeystoneResponse {
    fn from(rejection: BodyRejection) -> Self {
        match rejection {
            BodyRejection::UnsupportedMediaType => Self(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The request body must be JSON.".to_owned(),
            ),
            BodyRejection::Malformed(msg) => Self(StatusCode::BAD_REQUEST, msg),
        }
    }
}

/// The query of CreateToken.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TokenQuery {
    /// `true`: leave the service catalogue out of the answer.
    nocatalog: Option<String>,
}

/// The scope a token request asks for, checked against the caller.
enum Scope {
    Domain,
    Project(openccm_store::Project),
}

async fn requested_scope(
    state: &AppState,
    caller: &Caller,
    scope: Option<&serde_json::Value>,
) -> Result<Scope, KeystoneResponse> {
    let mismatch = || {
        KeystoneResponse(
            StatusCode::UNAUTHORIZED,
            "The requested scope is not available to this user.".to_owned(),
        )
    };
    let Some(scope) = scope else {
        return Ok(Scope::Domain);
    };
    let field = |obj: &serde_json::Value, key: &str| {
        obj.get(key).and_then(|v| v.as_str()).map(str::to_owned)
    };
    if let Some(domain) = scope.get("domain") {
        let ok = field(domain, "id").is_none_or(|id| id == caller.domain_id.as_str())
            && field(domain, "name").is_none_or(|name| name == caller.domain_name);
        return if ok {
            Ok(Scope::Domain)
        } else {
            Err(mismatch())
        };
    }
    if let Some(project) = scope.get("project") {
        let projects = state
            .iam
            .own_projects(caller, None)
            .await
            .map_err(KeystoneResponse::from)?;
        let id = field(project, "id");
        let name = field(project, "name");
        return projects
            .into_iter()
            .find(|p| {
                id.as_deref().is_none_or(|id| id == p.project_id.as_str())
                    && name.as_deref().is_none_or(|name| name == p.name)
            })
            .map(Scope::Project)
            .ok_or_else(mismatch);
    }
    Ok(Scope::Domain)
}

#[utoipa::path(
    post,
    path = "/v3/auth/tokens",
    tag = "IAM",
    params(TokenQuery),
    request_body = TokenRequest,
    security(()),
    responses((status = 201, description = "The token, in the `X-Subject-Token` header; the body describes it (`Cache-Control: no-store`).", body = TokenResponse, headers(("X-Subject-Token" = String, description = "The token."))), KeystoneErrors)
)]
async fn create_token(
    State(state): State<AppState>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    req: Request,
) -> Result<Response, KeystoneResponse> {
    // A malformed query is Keystone's 400, not axum's plain-text one.
    let Query(query) = query.map_err(|e| {
        KeystoneResponse(
            StatusCode::BAD_REQUEST,
            format!("malformed query string: {e}"),
        )
    })?;
    let raw = raw_body(&req);
    let source = peer_address(&req);
    let (parts, _) = req.into_parts();
    let input = AuthInput {
        headers: &parts.headers,
        method: &parts.method,
        uri: &parts.uri,
        body: &raw.0,
    };
    let request: TokenRequest = parse_json(parts.headers.get(http::header::CONTENT_TYPE), &raw.0)?;
    let identity = &request.auth.identity;
    let caller = if identity.methods.iter().any(|m| m == "password") {
        let password = identity.password.as_ref().ok_or_else(|| {
            KeystoneResponse(
                StatusCode::BAD_REQUEST,
                "auth.identity.password is required.".to_owned(),
            )
        })?;
        let user = &password.user;
        let domain = user.domain.as_ref();
        state
            .iam
            .login_with_password(&PasswordLogin {
                domain_name: domain.and_then(|d| d.name.as_deref()),
                domain_id: domain.and_then(|d| d.id.as_deref()),
                user_name: user.name.as_deref(),
                user_id: user.id.as_deref(),
                password: &user.password,
                source,
            })
            .await?
    } else if identity.methods.iter().any(|m| m == "token") {
        // A token for a token: the new one is bound like the old one and
        // never outlives it (`Binding`).
        let presented = identity.token.as_ref().and_then(|t| t.id.as_deref());
        match presented {
            Some(token) => state.iam.authenticate_token(token).await?,
            None => {
                let header = parts.headers.get("x-auth-token").ok_or_else(|| {
                    KeystoneResponse(
                        StatusCode::UNAUTHORIZED,
                        "The request you have made requires authentication.".to_owned(),
                    )
                })?;
                token_caller(&state, header).await?
            }
        }
    } else {
        // `hw_ak_sk` (or any other method): the AK/SK signature of this very
        // request is the credential, and nothing else is (an `X-Auth-Token`
        // beside it does not count).
        signed_caller(&state, input).await?
    };
    let scope = requested_scope(&state, &caller, request.auth.scope.as_ref()).await?;
    let issued = state.iam.issue_token(&caller).await?;
    let methods = match caller.method {
        AuthMethod::Password => vec!["password".to_owned()],
        AuthMethod::Token | AuthMethod::Console => vec!["token".to_owned()],
        AuthMethod::Signature(_) | AuthMethod::Temporary(_) => vec!["hw_ak_sk".to_owned()],
    };
    let body = token_body(
        &caller,
        &scope,
        issued.issued_at,
        issued.expires_at,
        methods,
        query.nocatalog.is_none(),
    );
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response
        .extensions_mut()
        .insert(crate::audit::AuditCaller::from(&caller));
    let header = HeaderValue::from_str(&issued.token)
        .map_err(|e| KeystoneResponse::from(Error::Internal(e.to_string())))?;
    response.headers_mut().insert("x-subject-token", header);
    Ok(response)
}

fn token_body(
    caller: &Caller,
    scope: &Scope,
    issued_at: i64,
    expires_at: i64,
    methods: Vec<String>,
    with_catalog: bool,
) -> TokenResponse {
    let domain = DomainRef {
        id: caller.domain_id.to_string(),
        name: caller.domain_name.clone(),
    };
    TokenResponse {
        token: TokenBody {
            expires_at: iso8601_micros(expires_at),
            issued_at: iso8601_micros(issued_at),
            methods,
            user: TokenUser {
                id: caller.user_id.to_string(),
                name: caller.user_name.clone(),
                password_expires_at: String::new(),
                domain: domain.clone(),
            },
            project: match scope {
                Scope::Project(p) => Some(openccm_wire::iam::ProjectRef {
                    id: p.project_id.to_string(),
                    name: p.name.clone(),
                    domain: domain.clone(),
                }),
                Scope::Domain => None,
            },
            domain,
            roles: if caller.is_root {
                vec![Role {
                    id: "0".to_owned(),
                    name: "te_admin".to_owned(),
                }]
            } else {
                Vec::new()
            },
            catalog: with_catalog.then(Vec::new),
        },
    }
}

/// `GET /v3/auth/tokens`: validates `X-Subject-Token` for a caller
/// authenticated by `X-Auth-Token`, within the caller's own account.
#[utoipa::path(
    get,
    path = "/v3/auth/tokens",
    tag = "IAM",
    params(("X-Subject-Token" = String, Header, description = "The token to check.")),
    security(("token" = []), ("aksk" = [])),
    responses((status = 200, description = "The token is valid; the body describes it.", body = TokenResponse, headers(("X-Subject-Token" = String, description = "The token checked."))), KeystoneErrors)
)]
async fn validate_token(
    State(state): State<AppState>,
    req: Request,
) -> Result<Response, KeystoneResponse> {
    let raw = raw_body(&req);
    let (parts, _) = req.into_parts();
    let input = AuthInput {
        headers: &parts.headers,
        method: &parts.method,
        uri: &parts.uri,
        body: &raw.0,
    };
    let caller = caller_of(&state, input).await?;
    let subject = parts
        .headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            KeystoneResponse(
                StatusCode::BAD_REQUEST,
                "X-Subject-Token is required.".to_owned(),
            )
        })?
        .to_owned();
    let not_found = || {
        KeystoneResponse(
            StatusCode::NOT_FOUND,
            "The token could not be found.".to_owned(),
        )
    };
    let owner = state
        .iam
        .authenticate_token(&subject)
        .await
        .map_err(|_| not_found())?;
    if owner.domain_id != caller.domain_id || (!caller.is_root && owner.user_id != caller.user_id) {
        return Err(not_found());
    }
    let claims =
        openccm_app::iam::token::open(state.iam.keyring(), &subject).ok_or_else(not_found)?;
    let body = token_body(
        &owner,
        &Scope::Domain,
        claims.issued_at,
        claims.expires_at,
        vec!["password".to_owned()],
        false,
    );
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&subject) {
        response.headers_mut().insert("x-subject-token", value);
    }
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/v3/auth/domains",
    tag = "IAM",
    responses((status = 200, description = "The caller's account.", body = DomainList), Errors)
)]
async fn list_domains(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
) -> Result<Json<DomainList>, ApiError> {
    let account = state
        .iam
        .own_account(&caller)
        .await
        .map_err(|e| ApiError::from_app(Service::Gateway, &e))?;
    let link = format!("/v3/auth/domains/{}", account.domain_id);
    Ok(Json(DomainList {
        domains: vec![Domain {
            id: account.domain_id.to_string(),
            name: account.name,
            enabled: account.enabled,
            description: String::new(),
            links: Links {
                self_: link,
                previous: None,
                next: None,
            },
        }],
        links: Links {
            self_: "/v3/auth/domains".to_owned(),
            previous: None,
            next: None,
        },
    }))
}

/// The query of ListProjects.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ProjectQuery {
    /// A project (region) name.
    name: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v3/projects",
    tag = "IAM",
    params(ProjectQuery),
    responses((status = 200, description = "The account's projects (one per region).", body = ProjectList), Errors)
)]
async fn list_projects(
    State(state): State<AppState>,
    CallerOf(caller): CallerOf,
    query: Result<Query<ProjectQuery>, QueryRejection>,
) -> Result<Json<ProjectList>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::from_app(
            Service::Gateway,
            &Error::invalid(format!("malformed query string: {e}")),
        )
    })?;
    let projects = state
        .iam
        .own_projects(&caller, query.name.as_deref())
        .await
        .map_err(|e| ApiError::from_app(Service::Gateway, &e))?;
    Ok(Json(ProjectList {
        projects: projects
            .into_iter()
            .map(|p| Project {
                links: Links {
                    self_: format!("/v3/projects/{}", p.project_id),
                    previous: None,
                    next: None,
                },
                id: p.project_id.to_string(),
                name: p.name,
                domain_id: p.domain_id.to_string(),
                enabled: true,
                is_domain: false,
                parent_id: p.domain_id.to_string(),
                description: String::new(),
            })
            .collect(),
        links: Links {
            self_: "/v3/projects".to_owned(),
            previous: Some(None),
            next: Some(None),
        },
    }))
}
