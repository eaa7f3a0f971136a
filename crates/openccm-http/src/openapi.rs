//! The OpenAPI 3.1 description of every route served.
//!
//! Made from the code itself: each handler carries a `#[utoipa::path]`
//! annotation naming its method, path, body and answers in terms of the
//! `openccm-wire` types it really (de)serialises, and the route modules
//! register handlers only through `utoipa_axum::routes!`, which takes the
//! method and path *from that annotation*. The router and the description
//! are therefore one list: a route cannot be served undescribed, nor
//! described at a path it is not served at. [`crate::router`] serves the
//! description it was built with at `/openapi.json`; the copy kept in
//! docs/api/openapi.json is compared with it by the server's tests
//! (crates/openccm-server/tests/it/openapi.rs), and schemathesis checks live
//! answers against it (tests/schemathesis/).

use std::collections::BTreeMap;

use openccm_wire::iam::KeystoneErrorBody;
use openccm_wire::ErrorBody;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

/// The document's fixed parts: title, security schemes, tags. The paths
/// are added by the routers (`crate::router`).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "OpenCCM",
        description = "A self-hosted Cloud Certificate Manager speaking Huawei Cloud CCM's API: \
                       private CAs and certificates (PCA), the SSL certificate manager (SCM), \
                       the IAM calls its clients need, and CRLs and OCSP for relying parties.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Security),
    components(schemas(ErrorBody, KeystoneErrorBody)),
    tags(
        (name = "PCA", description = "Private CAs and the certificates they issue (`/v1/private-*`)."),
        (name = "SCM", description = "The SSL certificate manager (`/v3/scm/...`)."),
        (name = "IAM", description = "Tokens, users, access keys, groups and identity policies."),
        (name = "Revocation", description = "CRLs and OCSP, public: relying parties hold no credentials."),
        (name = "Health", description = "Liveness and this description."),
    )
)]
pub struct ApiDoc;

/// The shared parts: the error responses, and the two ways to
/// authenticate, either of which every protected route accepts: an AK/SK
/// signature (crates/openccm-http/src/middleware.rs checks it) or an IAM
/// token from `POST /v3/auth/tokens`.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        add_error_responses(components);
        components.add_security_scheme(
            "aksk",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>` over the \
                 canonical request (method, path, query, the signed headers, and the SHA-256 of \
                 the body), with `X-Sdk-Date` among the signed headers, as the Huawei Cloud SDKs \
                 sign.",
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Auth-Token",
                "A token from `POST /v3/auth/tokens` (its `X-Subject-Token` header).",
            ))),
        );
        // Routes that need no credential say so with `security(())`.
        openapi.security = Some(vec![
            SecurityRequirement::new("aksk", Vec::<String>::new()),
            SecurityRequirement::new("token", Vec::<String>::new()),
        ]);
    }
}

/// A response carrying `schema` as JSON.
fn json_response(description: &str, schema: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name(schema))),
        )
        .build()
}

/// The statuses an error can carry (see `crate::error` and
/// docs/error-codes.md): the name of the shared response in
/// `components/responses` and what it means.
const API_ERRORS: &[(u16, &str, &str)] = &[
    (400, "BadRequest", "Invalid request: a parameter is missing, malformed or out of range."),
    (401, "Unauthorized", "Not authenticated: no credential, or a wrong, expired or revoked one."),
    (403, "Forbidden", "Authenticated, but not allowed: an identity policy denies the call, or the resource's state forbids it."),
    (404, "NotFound", "No such resource in the caller's account."),
    (408, "RequestTimeout", "The request body did not arrive in time."),
    (409, "Conflict", "The resource changed or exists already."),
    (413, "PayloadTooLarge", "The request body is larger than the route allows."),
    (415, "UnsupportedMediaType", "The request body is not JSON."),
    (500, "InternalError", "Internal error; the request id (`X-Request-Id`) names it in the server's log."),
    (503, "Unavailable", "Too many requests in progress, or the store is unavailable; try again."),
];

/// The statuses on which IAM's token routes answer in Keystone's body (what
/// the handlers in src/routes/iam.rs refuse, a non-JSON body included); on
/// the others (the edge's refusals: time, size, load) they answer in the
/// gateway's.
const KEYSTONE_STATUSES: &[u16] = &[400, 401, 403, 404, 415, 500];

/// The shared error responses, each named by [`API_ERRORS`] (and
/// `Keystone` + that name for the token routes' own).
fn add_error_responses(components: &mut utoipa::openapi::Components) {
    for &(status, name, description) in API_ERRORS {
        components.responses.insert(
            name.to_owned(),
            json_response(description, "ErrorBody").into(),
        );
        if KEYSTONE_STATUSES.contains(&status) {
            components.responses.insert(
                format!("Keystone{name}"),
                json_response(description, "KeystoneErrorBody").into(),
            );
        }
    }
}

/// References to the shared responses of `statuses` (all when `None`).
fn error_refs(statuses: Option<&[u16]>, keystone: bool) -> BTreeMap<String, RefOr<Response>> {
    API_ERRORS
        .iter()
        .filter(|(status, _, _)| statuses.is_none_or(|only| only.contains(status)))
        .map(|&(status, name, _)| {
            let name = if keystone && KEYSTONE_STATUSES.contains(&status) {
                format!("Keystone{name}")
            } else {
                name.to_owned()
            };
            (
                status.to_string(),
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            )
        })
        .collect()
}

/// The errors of an authenticated route: `responses(..., Errors)`.
pub struct Errors;

impl utoipa::IntoResponses for Errors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_refs(None, false)
    }
}

/// The errors of IAM's token routes: Keystone's body for what the IAM
/// service decides, the gateway's for what the edge refuses first (size,
/// time, load).
pub struct KeystoneErrors;

impl utoipa::IntoResponses for KeystoneErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_refs(None, true)
    }
}

/// The errors of the public revocation routes (no credential, no JSON body).
pub struct RevocationErrors;

impl utoipa::IntoResponses for RevocationErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_refs(Some(&[400, 404, 408, 413, 500, 503]), false)
    }
}

/// Raw bytes (DER) in a request or response body.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// The description of the router being served, as the JSON that
/// `/openapi.json` answers with.
#[derive(Debug, Clone)]
pub struct Described(bytes::Bytes);

impl Described {
    /// Serialises `doc` (with [`openapi_paths`] applied).
    pub(crate) fn new(doc: utoipa::openapi::OpenApi) -> Self {
        // A document of strings, maps and numbers always serialises.
        let json = openapi_paths(doc).to_pretty_json().unwrap_or_default();
        Self(bytes::Bytes::from(json + "\n"))
    }

    /// The JSON text.
    pub fn json(&self) -> bytes::Bytes {
        self.0.clone()
    }
}

/// Axum's catch-all segment `{*name}` written as OpenAPI's `{name}`: the
/// only place where the router's path syntax and OpenAPI's differ.
fn openapi_paths(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    doc
}
