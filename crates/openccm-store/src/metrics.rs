//! What the store measures of its writes. The handles are made once per
//! process and registered, by [`register`], in the registry the metrics
//! listener serves (`crates/openccm-http/src/metrics.rs`); until then
//! nothing is recorded.

use std::sync::OnceLock;

use prometheus::{Histogram, HistogramOpts, Registry};

/// Write latency buckets, in seconds: from a deferred commit (no fsync)
/// to a commit waiting behind a slow disk.
const WRITE_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Writes per commit: powers of two up to SQLite's largest batch (256).
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The store's metrics.
#[derive(Clone)]
pub(crate) struct StoreMetrics {
    /// Time from a write's submission to its commit or rollback, as its
    /// caller waits for it: on SQLite that includes the wait for the writer
    /// thread and the batch's fsync.
    pub(crate) write_seconds: Histogram,
    /// Writes per transaction commit: SQLite's writer commits a batch of
    /// queued writes at once; each PostgreSQL write is a transaction of its
    /// own.
    pub(crate) batch_size: Histogram,
}

static METRICS: OnceLock<StoreMetrics> = OnceLock::new();

/// The store's metrics, once [`register`]ed.
pub(crate) fn get() -> Option<&'static StoreMetrics> {
    METRICS.get()
}

/// Registers the store's metrics in `registry`, making them on the first
/// call (later calls register the same handles: one set per process).
///
/// # Errors
/// When a name is registered twice in `registry` (a bug).
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    let metrics = match METRICS.get() {
        Some(metrics) => metrics,
        None => {
            let made = StoreMetrics {
                write_seconds: Histogram::with_opts(
                    HistogramOpts::new(
                        "openccm_store_write_duration_seconds",
                        "Time from a store write's submission to its commit or rollback.",
                    )
                    .buckets(WRITE_BUCKETS.to_vec()),
                )?,
                batch_size: Histogram::with_opts(
                    HistogramOpts::new(
                        "openccm_store_write_batch_size",
                        "Writes committed together in one transaction (one fsync).",
                    )
                    .buckets(BATCH_BUCKETS.to_vec()),
                )?,
            };
            METRICS.get_or_init(|| made)
        }
    };
    registry.register(Box::new(metrics.write_seconds.clone()))?;
    registry.register(Box::new(metrics.batch_size.clone()))
}
