//! Prometheus metrics: what the HTTP edge measures of every call, and the
//! process. Served on a listener of their own (`--metrics-listen`), never on
//! the API's: a scrape needs no credentials, and the API's clients have no
//! business reading it.
//!
//! Names and units follow the Prometheus conventions (`_total` counters,
//! `_seconds` in base units). Every label takes values from a set fixed by
//! the code: an operation is its route's template (`/v1/private-
//! certificates/{certificate_id}`), never a path with ids in it, and no
//! label ever holds a user or a certificate.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// Request latency buckets, in seconds: from a cached read (well under a
/// millisecond) to an RSA-4096 key generation (seconds).
const LATENCY_BUCKETS: &[f64] = &[
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    10.0, 30.0,
];

/// The server's metrics and the registry that exposes them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    /// Read again before a scrape when stale (see [`Metrics::count_expiring`]).
    expiring: std::sync::OnceLock<openccm_app::metrics::ExpiringGauges>,
}

impl Metrics {
    /// A registry with the request metrics, the store's and the
    /// application's (`openccm_store::metrics`, `openccm_app::metrics`), the
    /// process's (CPU, memory, file descriptors, start time) and
    /// `openccm_build_info`. Made before the store opens and the services
    /// start, so that they record from the first write.
    ///
    /// # Errors
    /// When a metric cannot be registered (a name registered twice: a bug).
    pub fn new(version: &str) -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "openccm_http_requests_total",
                "HTTP requests answered, by operation (method and route template) and status code.",
            ),
            &["method", "route", "status"],
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "openccm_http_request_duration_seconds",
                "Time from a request's routing to its response, by operation and status code.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route", "status"],
        )?;
        let build = IntGauge::with_opts(
            Opts::new(
                "openccm_build_info",
                "Always 1; the labels say which build is running.",
            )
            .const_label("version", version),
        )?;
        build.set(1);
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(duration.clone()))?;
        registry.register(Box::new(build))?;
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        openccm_store::metrics::register(&registry)?;
        openccm_app::metrics::register(&registry)?;
        Ok(Self {
            registry,
            requests,
            duration,
            expiring: std::sync::OnceLock::new(),
        })
    }

    /// Keeps `openccm_certificates_expiring` with `gauges`, read again at a
    /// scrape that finds them stale. Set once; later calls are ignored.
    pub fn count_expiring(&self, gauges: openccm_app::metrics::ExpiringGauges) {
        let _ = self.expiring.set(gauges);
    }

    /// Counts one answered call.
    fn observe(&self, method: &str, route: &str, status: &str, seconds: f64) {
        let labels = [method, route, status];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(seconds);
    }

    /// Everything, in the Prometheus text exposition format.
    ///
    /// # Errors
    /// When a metric cannot be encoded.
    pub fn encode(&self) -> Result<String, prometheus::Error> {
        let mut text = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        String::from_utf8(text).map_err(|e| prometheus::Error::Msg(e.to_string()))
    }
}

/// Route layer of every route: counts and times the call under its route's
/// template. Unknown routes and methods a route does not have never reach
/// it, so no path or method a client makes up becomes a label.
///
/// A call that ends without an answer from below is counted too: a panic
/// (which the outer panic guard answers with 500) as 500, and a call whose
/// client closed the connection first as 499, nginx's code for that.
pub async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let Some(route) = req.extensions().get::<MatchedPath>().cloned() else {
        return next.run(req).await;
    };
    let mut call = Call {
        metrics: &metrics,
        method: req.method().clone(),
        route,
        started: Instant::now(),
        status: None,
    };
    let response = next.run(req).await;
    call.status = Some(response.status());
    response
}

/// One call being timed; counted when dropped.
struct Call<'m> {
    metrics: &'m Metrics,
    method: axum::http::Method,
    route: MatchedPath,
    started: Instant,
    status: Option<axum::http::StatusCode>,
}

impl Drop for Call<'_> {
    fn drop(&mut self) {
        let status = match &self.status {
            Some(status) => status.as_str(),
            None if std::thread::panicking() => "500",
            None => "499",
        };
        self.metrics.observe(
            self.method.as_str(),
            self.route.as_str(),
            status,
            self.started.elapsed().as_secs_f64(),
        );
    }
}

/// `GET /metrics` of the metrics listener.
pub fn router(metrics: Arc<Metrics>) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                if let Some(expiring) = metrics.expiring.get() {
                    expiring.refresh_if_stale().await;
                }
                match metrics.encode() {
                    Ok(text) => (
                        [(axum::http::header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
                        text,
                    )
                        .into_response(),
                    Err(err) => {
                        tracing::error!(error = %err, "cannot encode the metrics");
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt as _;

    #[allow(clippy::unused_async)]
    async fn boom() -> &'static str {
        panic!("a handler panicked")
    }

    fn app(metrics: &Arc<Metrics>) -> axum::Router {
        axum::Router::new()
            .route("/boom/{id}", get(boom))
            .route("/slow/{id}", get(std::future::pending::<&'static str>))
            .route_layer(axum::middleware::from_fn_with_state(
                metrics.clone(),
                observe,
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::new())
    }

    fn get_request(path: &str) -> axum::http::Request<Body> {
        axum::http::Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn calls_without_an_answer_are_counted_as_500_or_499() {
        let metrics = Arc::new(Metrics::new("test").unwrap());
        let panicked = app(&metrics).oneshot(get_request("/boom/1")).await.unwrap();
        assert_eq!(panicked.status(), 500);
        // The client leaves: the call's future is dropped unanswered.
        let left = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            app(&metrics).oneshot(get_request("/slow/2")),
        )
        .await;
        assert!(left.is_err());
        let text = metrics.encode().unwrap();
        for series in [
            r#"openccm_http_requests_total{method="GET",route="/boom/{id}",status="500"} 1"#,
            r#"openccm_http_requests_total{method="GET",route="/slow/{id}",status="499"} 1"#,
        ] {
            assert!(
                text.lines().any(|line| line == series),
                "{series} in\n{text}"
            );
        }
    }
}
