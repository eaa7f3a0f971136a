//! The console's files, compiled into the binary (`crates/openccm-http/
//! console/`): nothing is read from disk or fetched from elsewhere at run
//! time, and `cargo build` is the only build step.
//!
//! Each is served with a strong ETag (its SHA-256) and `no-cache`, so a
//! browser revalidates on every load and an upgraded server's files are
//! picked up at once, at the cost of a 304 round trip.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../../console/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("i18n.js", JS),
    asset!("ui.js", JS),
    asset!("pages-overview.js", JS),
    asset!("pages-cas.js", JS),
    asset!("pages-certs.js", JS),
    asset!("pages-scm.js", JS),
    asset!("pages-iam.js", JS),
    asset!("favicon.svg", "image/svg+xml"),
];

static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.body);
            HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16])))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        })
        .collect()
});

fn serve(index: usize, request: &HeaderMap) -> Response {
    let asset = &ASSETS[index];
    let etag = ETAGS[index].clone();
    let unchanged = request
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    super::security_headers(&mut response);
    response
}

/// `GET /console/`.
pub(super) async fn index(headers: HeaderMap) -> Response {
    serve(0, &headers)
}

/// `GET /console/{file}`: one of the files above; anything else is 404.
pub(super) async fn file(Path(name): Path<String>, parts: Parts) -> Response {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(index) => serve(index, &parts.headers),
        None => crate::error::unknown_route(parts).await.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn text(name: &str) -> &'static str {
        let asset = ASSETS.iter().find(|a| a.name == name).unwrap();
        std::str::from_utf8(asset.body).unwrap()
    }

    /// The keys of the dictionary `const <name> = { ... };` in i18n.js.
    fn dictionary(name: &str) -> BTreeSet<String> {
        let i18n = text("i18n.js");
        let start = i18n.find(&format!("const {name} = {{")).unwrap();
        let body = &i18n[start..start + i18n[start..].find("\n};").unwrap()];
        body.lines()
            .filter_map(|line| line.trim().strip_prefix('\''))
            .filter_map(|line| line.split_once("':"))
            .map(|(key, _)| key.to_owned())
            .collect()
    }

    /// Quoted literals shaped like keys (`'ca.list.title'`) in the pages.
    fn keys_used() -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        for asset in ASSETS
            .iter()
            .filter(|a| a.content_type == JS && a.name != "i18n.js")
        {
            let source = std::str::from_utf8(asset.body).unwrap();
            // Line by line, comments left out: an apostrophe in a comment
            // would pair quotes wrongly.
            let code = source
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"));
            for literal in code.flat_map(|line| line.split('\'').skip(1).step_by(2)) {
                let dotted = literal.contains('.')
                    && !std::path::Path::new(literal)
                        .extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("js"))
                    && literal
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
                if dotted && literal.starts_with(|c: char| c.is_ascii_lowercase()) {
                    keys.insert(literal.to_owned());
                }
            }
        }
        keys
    }

    #[test]
    fn every_word_a_page_uses_is_in_both_languages() {
        let (en, zh) = (dictionary("en"), dictionary("zh"));
        assert!(en.len() > 100, "{}", en.len());
        assert_eq!(
            en.symmetric_difference(&zh).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "keys in one language only"
        );
        let used = keys_used();
        assert!(used.contains("cert.revoke.confirm"));
        let missing: Vec<_> = used.difference(&en).collect();
        assert!(missing.is_empty(), "used but not translated: {missing:?}");
    }

    #[test]
    fn every_script_is_a_module_the_page_loads_from_this_origin() {
        let index = std::str::from_utf8(ASSETS[0].body).unwrap();
        assert!(index.contains("<script type=\"module\" src=\"/console/app.js\">"));
        // No inline script or style: the CSP would refuse it.
        assert_eq!(index.matches("<script").count(), 1);
        assert!(!index.contains("<style") && !index.contains(" style="));
        for asset in ASSETS {
            if asset.content_type == JS {
                let text = std::str::from_utf8(asset.body).unwrap();
                assert!(!text.contains("innerHTML"), "{} writes HTML", asset.name);
                assert!(!text.contains("eval("), "{} evaluates text", asset.name);
            }
        }
    }
}
