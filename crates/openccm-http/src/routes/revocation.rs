//! CRLs and OCSP at the URLs issued certificates carry: public, no
//! authentication (relying parties have no credentials).
//!
//! - `GET /pca/crl/{ca_id}/{name}.crl` and `…/{name}-delta.crl`: DER
//!   (`application/pkix-crl`) with `ETag` (the CRL number), `Last-Modified`
//!   (thisUpdate) and `Cache-Control: max-age=0` (revalidate: a delta only
//!   applies to the newest full CRL); `If-None-Match` gets 304.
//! - `POST /pca/ocsp/{ca_id}` (RFC 6960 Appendix A) and
//!   `GET /pca/ocsp/{ca_id}/{base64 request}` (RFC 5019 §5, cacheable).

use std::time::{Duration, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use openccm_app::pca::revocation::{OcspAnswer, ServedCrl};
use openccm_store::CaId;

use crate::error::Service;
use crate::openapi::{Binary, RevocationErrors};
use crate::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

route_error!(
    /// A PCA error on a CRL route.
    CrlError,
    CrlResult,
    Service::Pca
);

/// RFC 5019 §5 clients send padded base64; some drop the padding.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Largest OCSP request accepted: sixteen questions with a nonce fit in 2 KB.
const MAX_OCSP_REQUEST: usize = 8 * 1024;

/// How long shared caches may keep a CRL without asking again: not at all.
/// A delta changes with every revocation, and names the newest full CRL as
/// its base: a cache holding an older full CRL would leave its clients one
/// no current delta applies to. Revalidating costs a 304.
const CRL_MAX_AGE_SECS: i64 = 0;

/// How long caches may keep an OCSP answer (RFC 5019 §6.2: no later than
/// nextUpdate).
const OCSP_MAX_AGE_SECS: i64 = 60;

/// The revocation routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(crl))
        .routes(routes!(ocsp_post))
        .routes(routes!(ocsp_get))
}

fn http_date(ms: i64) -> HeaderValue {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or_default());
    HeaderValue::from_str(&httpdate::fmt_http_date(at))
        .unwrap_or_else(|_| HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

fn now_ms() -> i64 {
    // The edge stamps caching headers with the wall clock, like the
    // `Date` header hyper adds; the CRL's own times come from the service.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `max-age` for content valid until `next_update`, at most `cap` seconds.
fn max_age(next_update: i64, cap: i64) -> i64 {
    ((next_update - now_ms()) / 1000).clamp(0, cap)
}

/// Whether a conditional request already holds this version: its
/// `If-None-Match` names the current tag. `If-Modified-Since` is not
/// honoured: `Last-Modified` has whole seconds, comes from the clock of
/// whichever server built the CRL or answer, and a delta or an OCSP answer
/// can change twice within one second.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|tags| tags.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
}

/// `Cache-Control` and `Expires` for content valid until `next_update`,
/// kept by caches at most `cap` seconds.
fn freshness_headers(headers: &mut HeaderMap, next_update: i64, cap: i64, extra: &str) {
    let max_age = max_age(next_update, cap);
    if let Ok(value) =
        HeaderValue::from_str(&format!("public, max-age={max_age}, no-transform{extra}"))
    {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(header::EXPIRES, http_date(now_ms() + max_age * 1000));
}

/// A CA's published CRL: `{name}.crl` (full) or `{name}-delta.crl`
/// (delta), DER.
#[utoipa::path(
    get,
    path = "/pca/crl/{ca_id}/{file}",
    tag = "Revocation",
    params(("ca_id" = String, Path, description = "The issuing CA's id (a UUID)."), ("file" = String, Path, description = "`<crl_name>.crl` or `<crl_name>-delta.crl`."), ("If-None-Match" = Option<String>, Header, description = "The `ETag` of the copy held: 304 when it is still current.")),
    security(()),
    responses(
        (status = 200, description = "The CRL (DER).", content_type = "application/pkix-crl", body = Binary, headers(("ETag" = String, description = "Names this answer."), ("Last-Modified" = String, description = "Its thisUpdate."), ("Cache-Control" = String, description = "How long caches may keep it."))),
        (status = 304, description = "The copy held is current."),
        RevocationErrors
    )
)]
async fn crl(
    State(state): State<AppState>,
    Path((ca_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> CrlResult<Response> {
    let served: ServedCrl = state
        .pca
        .published_crl(CaId::parse(&ca_id).as_ref(), &file)
        .await?;
    let etag = format!(
        "\"{}{}\"",
        if served.delta { "d" } else { "f" },
        served.number
    );
    let mut response = if not_modified(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, "application/pkix-crl")],
            Bytes::clone(&served.der),
        )
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(tag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, tag);
    }
    headers.insert(header::LAST_MODIFIED, http_date(served.this_update));
    freshness_headers(
        headers,
        served.next_update,
        CRL_MAX_AGE_SECS,
        ", must-revalidate",
    );
    Ok(response)
}

fn ocsp_response(answer: OcspAnswer, cacheable: bool, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", answer.etag);
    let validity = answer.validity.filter(|_| cacheable && answer.shared);
    let mut response = match validity {
        Some(_) if not_modified(headers, &etag) => StatusCode::NOT_MODIFIED.into_response(),
        _ => (
            [(header::CONTENT_TYPE, "application/ocsp-response")],
            answer.der,
        )
            .into_response(),
    };
    let out = response.headers_mut();
    match validity {
        Some((this_update, next_update)) => {
            if let Ok(tag) = HeaderValue::from_str(&etag) {
                out.insert(header::ETAG, tag);
            }
            out.insert(header::LAST_MODIFIED, http_date(this_update));
            freshness_headers(out, next_update, OCSP_MAX_AGE_SECS, ", must-revalidate");
        }
        None => {
            out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    response
}

/// malformedRequest for a request the edge cannot hand on (too large, not
/// base64), counted like the refusals of the responder.
fn refused_here() -> OcspAnswer {
    openccm_app::metrics::ocsp_answer(openccm_app::metrics::OcspAnswerKind::Refused);
    OcspAnswer::malformed()
}

/// OCSP over POST (RFC 6960 Appendix A): answers are not for caches.
#[utoipa::path(
    post,
    path = "/pca/ocsp/{ca_id}",
    tag = "Revocation",
    params(("ca_id" = String, Path, description = "The issuing CA's id (a UUID).")),
    request_body(content = Binary, content_type = "application/ocsp-request", description = "A DER OCSP request."),
    security(()),
    responses(
        (status = 200, description = "A DER OCSP response; refusals are OCSP statuses (malformedRequest, unauthorized) inside it.", content_type = "application/ocsp-response", body = Binary),
        RevocationErrors
    )
)]
async fn ocsp_post(
    State(state): State<AppState>,
    Path(ca_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = if body.len() > MAX_OCSP_REQUEST {
        refused_here()
    } else {
        state.pca.ocsp(CaId::parse(&ca_id).as_ref(), &body).await
    };
    // RFC 5019 §5: only GET answers are meant for caches.
    ocsp_response(answer, false, &headers)
}

/// OCSP over GET (RFC 5019 §5): the request is base64 then URL-encoded in
/// the path; good answers are cacheable.
#[utoipa::path(
    get,
    path = "/pca/ocsp/{ca_id}/{*request}",
    tag = "Revocation",
    params(("ca_id" = String, Path, description = "The issuing CA's id (a UUID)."), ("request" = String, Path, description = "The DER OCSP request, base64 then URL-encoded."), ("If-None-Match" = Option<String>, Header, description = "The `ETag` of the copy held: 304 when it is still current.")),
    security(()),
    responses(
        (status = 200, description = "A DER OCSP response; refusals are OCSP statuses (malformedRequest, unauthorized) inside it.", content_type = "application/ocsp-response", body = Binary, headers(("ETag" = String, description = "Names this answer."), ("Last-Modified" = String, description = "Its thisUpdate."), ("Cache-Control" = String, description = "How long caches may keep it."))),
        (status = 304, description = "The copy held is current."),
        RevocationErrors
    )
)]
async fn ocsp_get(
    State(state): State<AppState>,
    Path((ca_id, request)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    // RFC 5019 §5: base64, then URL-encoded (the path extractor decoded it).
    let der = if request.len() > MAX_OCSP_REQUEST * 2 {
        None
    } else {
        BASE64.decode(request.as_bytes()).ok()
    };
    let answer = match der {
        Some(der) => state.pca.ocsp(CaId::parse(&ca_id).as_ref(), &der).await,
        None => refused_here(),
    };
    ocsp_response(answer, true, &headers)
}
