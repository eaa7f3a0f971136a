//! The web console (`/console/`): its pages and scripts, embedded in the
//! binary, and its sessions.
//!
//! The console is a page of plain scripts that calls the same API as the
//! SDKs, as the signed-in user: whatever the user's identity policies allow
//! or refuse, the API decides, and the console shows its answer. What is
//! particular to it is how the browser authenticates:
//!
//! - `POST /console/session` checks an IAM user's password (with the same
//!   lockout as `POST /v3/auth/tokens`), mints a console session and sets
//!   it as an HttpOnly, `SameSite=Strict` cookie (`Secure` and `__Host-`
//!   prefixed when the server speaks TLS or its public URL is https) that
//!   expires with it; the answer carries the session's anti-forgery value
//!   (`openccm_app::iam::console`). Only the console's own page signs in:
//!   the call needs the anti-forgery header and same-origin fetch metadata.
//! - Every API call made with that cookie must carry the value in
//!   `X-OpenCCM-CSRF` and come from this origin ([`session_token`],
//!   [`cross_site`] and `middleware::caller_of`).
//! - `GET /console/session` tells the page who is signed in (and the value
//!   again, after a reload; 204 without a session cookie);
//!   `DELETE /console/session` signs out on every server.
//! - `GET /console/certificates/{id}` prints a certificate for its page.
//!
//! Pages and scripts are served with a Content-Security-Policy that allows
//! scripts and styles from this origin only (no inline script or style),
//! no framing and no foreign connections.

mod assets;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use openccm_app::iam::authz::{actions, Action};
use openccm_app::iam::{Caller, PasswordLogin};
use openccm_app::Error;
use serde::{Deserialize, Serialize};

use crate::audit::AuditCaller;
use crate::error::{ApiError, Service};
use crate::middleware::{peer_address, raw_body};
use crate::AppState;

/// The header that carries a console session's anti-forgery value.
pub const CSRF_HEADER: &str = "x-openccm-csrf";

/// The session cookie's name over plain HTTP.
const COOKIE: &str = "openccm_session";
/// Its name over TLS: browsers accept a `__Host-` cookie only with
/// `Secure`, `Path=/` and no `Domain`, so no subdomain can plant one.
const SECURE_COOKIE: &str = "__Host-openccm_session";

/// What every console response carries.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.secure_cookies {
        SECURE_COOKIE
    } else {
        COOKIE
    }
}

/// The token of the console session a request carries, if any: the value
/// of the session cookie as sent (checked by `Iam::authenticate_console_session`,
/// which takes base64url only). Read from the raw bytes: another cookie of
/// the host that is not ASCII must not hide the session.
pub fn session_token<'h>(state: &AppState, headers: &'h HeaderMap) -> Option<&'h str> {
    let name = cookie_name(state).as_bytes();
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|value| value.as_bytes().split(|&b| b == b';'))
        .find_map(|pair| {
            let pair = pair.strip_prefix(b" ").unwrap_or(pair);
            let at = pair.iter().position(|&b| b == b'=')?;
            let (k, v) = (&pair[..at], &pair[at + 1..]);
            (k == name && !v.is_empty()).then_some(v)
        })
        .and_then(|v| std::str::from_utf8(v).ok())
}

/// Whether the browser says the request comes from another site or origin
/// (`Sec-Fetch-Site`; older browsers do not send it, and then the cookie's
/// `SameSite=Strict` and the anti-forgery header are the locks).
pub fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() != b"same-origin" && v.as_bytes() != b"none")
}

/// The console's routes (outside the API's description).
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/console/session",
        get(current_session).post(sign_in).delete(sign_out),
    )
}

/// What the console shows beyond the API's answers, behind authentication
/// (a console session or any API credential) like the API.
pub fn authenticated_routes() -> Router<AppState> {
    Router::new().route(
        "/console/certificates/{certificate_id}",
        get(certificate_text),
    )
}

/// The decoded certificate the console's certificate page shows.
#[derive(Serialize)]
struct CertificateText {
    /// As `openssl x509 -text` prints it.
    text: String,
}

/// `GET /console/certificates/{certificate_id}`: a private certificate's
/// decoded text, for whoever may show it (`pca:cert:get`). The certificate
/// itself (its PEM) comes from ExportCertificate, under `pca:cert:export`.
async fn certificate_text(
    State(state): State<AppState>,
    crate::extract::CallerOf(caller): crate::extract::CallerOf,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let answer = async {
        let id = openccm_app::pca::input::cert_id(&id)?;
        let view = state.pca.show_certificate(&caller, &id).await?;
        let der = view.record.certificate.ok_or_else(|| {
            Error::Internal("an issued certificate has no certificate".to_owned())
        })?;
        let printed = |e: openccm_pki::PkiError| Error::Internal(e.to_string());
        Ok::<_, Error>(CertificateText {
            text: openccm_pki::cert::der_to_text(&der).map_err(printed)?,
        })
    }
    .await;
    let response = match answer {
        Ok(text) => Json(text).into_response(),
        Err(err) => ApiError::from_app(Service::Pca, &err).into_response(),
    };
    no_store(response)
}

/// The console's pages and scripts.
pub fn asset_routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { redirect_to_console() }))
        .route("/console/", get(assets::index))
        .route("/console/{file}", get(assets::file))
}

fn redirect_to_console() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static("/console/"))],
    )
        .into_response()
}

/// The headers every console page and script carries.
pub fn security_headers(response: &mut Response) {
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name, value| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(
        headers,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    /// The account's name.
    domain: String,
    /// The IAM user's name.
    user: String,
    password: String,
}

#[derive(Serialize)]
struct Session {
    csrf: String,
    domain_id: String,
    domain_name: String,
    user_id: String,
    user_name: String,
    /// The account administrator (may do everything in the account).
    is_admin: bool,
    /// Epoch ms.
    expires_at: i64,
    /// The actions behind the console's buttons the user's identity
    /// policies could allow (a button is shown only then; the API still
    /// decides each call).
    may: std::collections::BTreeMap<&'static str, bool>,
}

/// The actions the console's buttons stand for.
const BUTTON_ACTIONS: &[Action] = &[
    actions::PCA_CA_CREATE,
    actions::PCA_CA_LIST,
    actions::PCA_CA_EXPORT,
    actions::PCA_CA_DISABLE,
    actions::PCA_CA_ENABLE,
    actions::PCA_CA_DELETE,
    actions::PCA_CA_RESTORE,
    actions::PCA_CA_ENABLE_CRL,
    actions::PCA_CA_DISABLE_CRL,
    actions::PCA_CA_OCSP,
    actions::PCA_ISSUE,
    actions::PCA_ISSUE_BY_CSR,
    actions::PCA_CERT_LIST,
    actions::PCA_CERT_EXPORT,
    actions::PCA_CERT_REVOKE,
    actions::PCA_CERT_DELETE,
    actions::SCM_UPLOAD,
    actions::SCM_LIST,
    actions::SCM_EXPORT,
    actions::SCM_DELETE,
    actions::SCM_CREATE_CSR,
    actions::SCM_UPLOAD_CSR,
    actions::SCM_LIST_CSR,
    actions::SCM_DELETE_CSR,
    actions::SCM_GET_CSR_KEY,
];

/// Which of [`BUTTON_ACTIONS`] some policy of the caller's could allow.
async fn permissions(
    state: &AppState,
    caller: &Caller,
) -> Result<std::collections::BTreeMap<&'static str, bool>, Error> {
    let mut may = std::collections::BTreeMap::new();
    for action in BUTTON_ACTIONS {
        let allowed = match state.authz.precheck(caller, *action).await {
            Ok(()) => true,
            Err(Error::Forbidden(_)) => false,
            Err(other) => return Err(other),
        };
        may.insert(action.name, allowed);
    }
    Ok(may)
}

impl Session {
    async fn of(
        state: &AppState,
        caller: &Caller,
        token: &str,
        expires_at: i64,
    ) -> Result<Self, Error> {
        Ok(Self {
            csrf: state.iam.console_csrf(token),
            domain_id: caller.domain_id.to_string(),
            domain_name: caller.domain_name.clone(),
            user_id: caller.user_id.to_string(),
            user_name: caller.user_name.clone(),
            is_admin: caller.is_root,
            expires_at,
            may: permissions(state, caller).await?,
        })
    }
}

fn refused(err: &Error) -> Response {
    ApiError::from_app(Service::Gateway, err).into_response()
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    security_headers(&mut response);
    response
}

/// `POST /console/session`: signs in.
async fn sign_in(State(state): State<AppState>, req: Request) -> Response {
    // Only the console's own page signs in: a page of another origin (a
    // sibling subdomain, say) could otherwise sign the browser into the
    // attacker's account. The header forces a cross-origin request into a
    // preflight, which this server never answers.
    if cross_site(req.headers()) || !req.headers().contains_key(CSRF_HEADER) {
        return no_store(refused(&Error::Unauthenticated(
            "Console sign-in is accepted from the console's own page only.".to_owned(),
        )));
    }
    // What the sign-in needs, taken before any await (the body is not Sync).
    let body = raw_body(&req);
    let source = peer_address(&req);
    let form =
        crate::extract::parse_json::<SignIn>(req.headers().get(header::CONTENT_TYPE), &body.0);
    drop(req);
    let answer = match form {
        Ok(form) => sign_in_inner(&state, form, source).await,
        Err(rejection) => Err(ApiError::from_rejection(rejection).into_response()),
    };
    no_store(answer.unwrap_or_else(|r| r))
}

async fn sign_in_inner(
    state: &AppState,
    form: SignIn,
    source: Option<std::net::IpAddr>,
) -> Result<Response, Response> {
    let caller = state
        .iam
        .login_with_password(&PasswordLogin {
            domain_name: Some(&form.domain),
            domain_id: None,
            user_name: Some(&form.user),
            user_id: None,
            password: &form.password,
            source,
        })
        .await
        .map_err(|e| refused(&e))?;
    let issued = state
        .iam
        .start_console_session(&caller)
        .await
        .map_err(|e| refused(&e))?;
    let now = state.iam.clock().now_ms();
    let max_age = (issued.expires_at - now).max(0) / 1000;
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        cookie_name(state),
        issued.token
    );
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| refused(&Error::Internal("the token is not a cookie value".into())))?;
    let session = Session::of(state, &caller, &issued.token, issued.expires_at)
        .await
        .map_err(|e| refused(&e))?;
    let mut response = Json(session).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response.extensions_mut().insert(AuditCaller::from(&caller));
    Ok(response)
}

/// The `Set-Cookie` value that removes the session cookie.
fn cleared_cookie(state: &AppState) -> Option<HeaderValue> {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
        cookie_name(state)
    ))
    .ok()
}

/// A refusal of a session: when it is no longer valid, the browser is told
/// to drop its cookie, so that it does not come back with it on every page
/// (any other failure, the store's say, leaves the cookie alone).
fn refused_session(state: &AppState, err: &Error) -> Response {
    let mut response = refused(err);
    if matches!(err, Error::Unauthenticated(_)) {
        if let Some(cleared) = cleared_cookie(state) {
            response.headers_mut().insert(header::SET_COOKIE, cleared);
        }
    }
    response
}

/// `GET /console/session`: who is signed in, with the session's
/// anti-forgery value (a reloaded page has lost it).
async fn current_session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // No cookie at all: nobody is signed in, which is no refusal (and no
    // audit event for every visit of the sign-in page).
    let Some(token) = session_token(&state, &headers) else {
        return no_store(StatusCode::NO_CONTENT.into_response());
    };
    let answer = match state.iam.authenticate_console_session(token).await {
        Ok(caller) => {
            let expires_at = caller.binding.not_after.unwrap_or_default();
            match Session::of(&state, &caller, token, expires_at).await {
                Ok(session) => Json(session).into_response(),
                Err(err) => refused(&err),
            }
        }
        Err(err) => refused_session(&state, &err),
    };
    no_store(answer)
}

/// `DELETE /console/session`: signs out: the session is ended on every
/// server and the cookie cleared. The call needs the anti-forgery value
/// (checked first, before anything is read), so no other site can sign a
/// user out.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = session_token(&state, &headers) else {
        return no_store(refused(&Error::Unauthenticated(
            "No console session: sign in first.".to_owned(),
        )));
    };
    let presented = headers
        .get(CSRF_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    if cross_site(&headers) || !state.iam.console_csrf_matches(token, presented) {
        return no_store(refused(&Error::Unauthenticated(bad_csrf().to_owned())));
    }
    let ended = async {
        let caller = state.iam.authenticate_console_session(token).await?;
        state.iam.end_console_session(token).await?;
        Ok::<_, Error>(caller)
    }
    .await;
    let answer = match ended {
        Ok(caller) => {
            let mut response = StatusCode::NO_CONTENT.into_response();
            if let Some(cleared) = cleared_cookie(&state) {
                response.headers_mut().insert(header::SET_COOKIE, cleared);
            }
            response.extensions_mut().insert(AuditCaller::from(&caller));
            response
        }
        Err(err) => refused_session(&state, &err),
    };
    no_store(answer)
}

/// The refusal of a console call without its anti-forgery value.
pub fn bad_csrf() -> &'static str {
    "Console session: the X-OpenCCM-CSRF header is missing or wrong."
}
