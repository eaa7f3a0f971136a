//! What the application layer measures: issuances, the cryptography pools,
//! authentication failures, OCSP answers, CRL ages and certificates about to
//! expire. The handles are made once per process and registered, by
//! [`register`], in the registry the metrics listener serves
//! (`crates/openccm-http/src/metrics.rs`); until then nothing is recorded.
//!
//! Every label takes values from a set the code fixes, except `account`
//! (an account id: there are as many as the operator creates) and `ca_id`
//! (a CA id, likewise). No certificate id and no user name is ever a label.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry,
};

/// Queue wait buckets, in seconds: from an idle worker (microseconds) to a
/// queue behind RSA-4096 key generations (seconds).
const WAIT_BUCKETS: &[f64] = &[
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0,
];

/// Why an authentication was refused: the `reason` label of
/// `openccm_authentication_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Neither a token nor a signature.
    MissingCredentials,
    /// An AK/SK signature header, date or canonical request that cannot be
    /// read.
    MalformedSignature,
    /// `X-Sdk-Date` too far from the server's clock.
    StaleSignature,
    /// An access key that does not exist or is disabled.
    UnknownAccessKey,
    /// A signature that does not verify.
    BadSignature,
    /// A security token (temporary credentials) that cannot be opened or
    /// has expired.
    BadSecurityToken,
    /// A token that cannot be opened (also one presented for checking,
    /// `GET /v3/auth/tokens`).
    BadToken,
    /// A token past its expiry.
    ExpiredToken,
    /// A token or temporary credentials whose key or user credentials
    /// changed since they were issued.
    Revoked,
    /// A user (or account) that is gone or disabled.
    InactiveUser,
    /// A wrong password, an unknown user, or a right password of a
    /// disabled user (the caller hears the same for all three).
    WrongPassword,
    /// A user locked after repeated failures.
    LockedUser,
    /// A source address refused after repeated attempts.
    BlockedAddress,
}

impl AuthFailure {
    fn label(self) -> &'static str {
        match self {
            Self::MissingCredentials => "missing_credentials",
            Self::MalformedSignature => "malformed_signature",
            Self::StaleSignature => "stale_signature",
            Self::UnknownAccessKey => "unknown_access_key",
            Self::BadSignature => "bad_signature",
            Self::BadSecurityToken => "bad_security_token",
            Self::BadToken => "bad_token",
            Self::ExpiredToken => "expired_token",
            Self::Revoked => "revoked_credentials",
            Self::InactiveUser => "inactive_user",
            Self::WrongPassword => "wrong_password",
            Self::LockedUser => "locked_user",
            Self::BlockedAddress => "blocked_address",
        }
    }
}

/// How an issuance ended: the `result` label of
/// `openccm_certificate_issuances_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuanceResult {
    /// Signed and stored.
    Issued,
    /// Refused: the request broke a rule (a bad CSR, a quota, a CA that
    /// is not active, a policy that denies these names).
    Refused,
    /// Failed on the server's side (the store, the key, a bug).
    Failed,
}

/// How an OCSP request was answered: the `answer` label of
/// `openccm_ocsp_responses_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspAnswerKind {
    /// From the cache of answers already signed.
    Cached,
    /// Signed for this request.
    Signed,
    /// Refused (malformedRequest, unauthorized, internalError).
    Refused,
}

/// The application's metrics.
#[derive(Clone)]
pub(crate) struct AppMetrics {
    pub(crate) issuances: IntCounterVec,
    pub(crate) auth_failures: IntCounterVec,
    pub(crate) tokens_issued: IntCounter,
    pub(crate) ocsp_answers: IntCounterVec,
    pub(crate) pool_depth: IntGaugeVec,
    pub(crate) pool_wait: HistogramVec,
    pub(crate) expiring: IntGaugeVec,
    pub(crate) crl_ages: CrlAges,
}

static METRICS: OnceLock<AppMetrics> = OnceLock::new();

/// The application's metrics, once [`register`]ed.
pub(crate) fn get() -> Option<&'static AppMetrics> {
    METRICS.get()
}

/// Counts an issuance that ended, under its CA's key algorithm.
pub(crate) fn issuance(algorithm: &str, result: IssuanceResult) {
    if let Some(m) = get() {
        let result = match result {
            IssuanceResult::Issued => "issued",
            IssuanceResult::Refused => "refused",
            IssuanceResult::Failed => "failed",
        };
        m.issuances.with_label_values(&[algorithm, result]).inc();
    }
}

/// Counts a refused authentication.
pub fn auth_failure(reason: AuthFailure) {
    if let Some(m) = get() {
        m.auth_failures.with_label_values(&[reason.label()]).inc();
    }
}

/// Counts a token minted.
pub(crate) fn token_issued() {
    if let Some(m) = get() {
        m.tokens_issued.inc();
    }
}

/// Counts an OCSP answer.
pub fn ocsp_answer(kind: OcspAnswerKind) {
    if let Some(m) = get() {
        let answer = match kind {
            OcspAnswerKind::Cached => "cached",
            OcspAnswerKind::Signed => "signed",
            OcspAnswerKind::Refused => "refused",
        };
        m.ocsp_answers.with_label_values(&[answer]).inc();
    }
}

/// A pool's queue gauges, resolved once per pool.
#[derive(Clone)]
pub(crate) struct PoolGauges {
    /// Jobs waiting for a worker.
    pub(crate) depth: IntGauge,
    /// Time each job waited.
    pub(crate) wait: Histogram,
}

/// The gauges of the pool `name`, if metrics are registered.
pub(crate) fn pool(name: &str) -> Option<PoolGauges> {
    get().map(|m| PoolGauges {
        depth: m.pool_depth.with_label_values(&[name]),
        wait: m.pool_wait.with_label_values(&[name]),
    })
}

/// Certificates of one account that expire soon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Expiring {
    /// Within 7 days.
    within_7_days: i64,
    /// Within 30 days (those within 7 included).
    within_30_days: i64,
}

/// Sets the gauges of certificates expiring soon to `counts`, per account
/// and kind (`private`: PCA certificates, `ca`: private CAs, `ssl`: SCM
/// certificates), and removes the series of the accounts in `gone`. Each
/// series is replaced in place: a scrape meanwhile sees every account,
/// with its old or its new counts.
fn set_expiring(counts: &[(String, &'static str, Expiring)], gone: &[String]) {
    let Some(m) = get() else {
        return;
    };
    for (account, kind, expiring) in counts {
        for (within, count) in [
            ("7", expiring.within_7_days),
            ("30", expiring.within_30_days),
        ] {
            m.expiring
                .with_label_values(&[account.as_str(), kind, within])
                .set(count);
        }
    }
    for account in gone {
        for kind in EXPIRING_KINDS {
            for within in ["7", "30"] {
                let _ = m
                    .expiring
                    .remove_label_values(&[account.as_str(), kind, within]);
            }
        }
    }
}

/// The `kind` label values of `openccm_certificates_expiring`.
const EXPIRING_KINDS: [&str; 3] = ["private", "ca", "ssl"];

/// Records the thisUpdate (ms since the epoch) of the CRL of `kind`
/// (`full` or `delta`) that CA `ca_id` serves now (the CRL job asks for
/// every publishing CA's CRLs each minute, or each second with a publish
/// directory: `crates/openccm-server/src/publish.rs`).
pub(crate) fn crl_served(ca_id: &str, kind: &'static str, this_update_ms: i64) {
    if let Some(m) = get() {
        if let Ok(mut ages) = m.crl_ages.built.lock() {
            ages.insert((ca_id.to_owned(), kind), this_update_ms);
        }
    }
}

/// Forgets the CRLs of every CA not in `publishing`.
pub fn crl_publishers(publishing: &[String]) {
    if let Some(m) = get() {
        if let Ok(mut ages) = m.crl_ages.built.lock() {
            ages.retain(|(ca, _), _| publishing.contains(ca));
        }
    }
}

/// `openccm_crl_age_seconds{ca_id,kind}`: how long ago the CRLs each
/// publishing CA serves were made, computed at each scrape (a gauge set by the CRL job
/// would be stale by up to its period).
#[derive(Clone)]
pub(crate) struct CrlAges {
    desc: Desc,
    built: std::sync::Arc<Mutex<HashMap<(String, &'static str), i64>>>,
}

impl Collector for CrlAges {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        // The CRLs' times come from the application's clock, which is the
        // system's in a server.
        let now_ms = crate::Clock::now_ms(&crate::SystemClock);
        let Ok(built) = self.built.lock() else {
            return Vec::new();
        };
        let Ok(ages) = GaugeVec::new(Opts::new(CRL_AGE_NAME, CRL_AGE_HELP), &["ca_id", "kind"])
        else {
            return Vec::new();
        };
        for ((ca, kind), this_update) in built.iter() {
            #[allow(clippy::cast_precision_loss)] // milliseconds of an age
            ages.with_label_values(&[ca.as_str(), kind])
                .set((now_ms - this_update).max(0) as f64 / 1000.0);
        }
        ages.collect()
    }
}

const CRL_AGE_NAME: &str = "openccm_crl_age_seconds";
const CRL_AGE_HELP: &str =
    "Time since the newest CRL of each publishing CA was made (its thisUpdate), by kind (full or delta).";

/// Registers the application's metrics in `registry`, making them on the
/// first call (later calls register the same handles: one set per process).
///
/// # Errors
/// When a name is registered twice in `registry` (a bug).
pub fn register(registry: &Registry) -> prometheus::Result<()> {
    let metrics = match METRICS.get() {
        Some(metrics) => metrics,
        None => {
            let made = make()?;
            METRICS.get_or_init(|| made)
        }
    };
    registry.register(Box::new(metrics.issuances.clone()))?;
    registry.register(Box::new(metrics.auth_failures.clone()))?;
    registry.register(Box::new(metrics.tokens_issued.clone()))?;
    registry.register(Box::new(metrics.ocsp_answers.clone()))?;
    registry.register(Box::new(metrics.pool_depth.clone()))?;
    registry.register(Box::new(metrics.pool_wait.clone()))?;
    registry.register(Box::new(metrics.expiring.clone()))?;
    registry.register(Box::new(metrics.crl_ages.clone()))
}

fn make() -> prometheus::Result<AppMetrics> {
    Ok(AppMetrics {
        issuances: IntCounterVec::new(
            Opts::new(
                "openccm_certificate_issuances_total",
                "Private certificate issuances that ended, by the CA's key algorithm and result (issued, refused, failed).",
            ),
            &["algorithm", "result"],
        )?,
        auth_failures: IntCounterVec::new(
            Opts::new(
                "openccm_authentication_failures_total",
                "Refused authentications (AK/SK signatures, tokens, passwords), by reason.",
            ),
            &["reason"],
        )?,
        tokens_issued: IntCounter::new(
            "openccm_tokens_issued_total",
            "Tokens minted (X-Subject-Token).",
        )?,
        ocsp_answers: IntCounterVec::new(
            Opts::new(
                "openccm_ocsp_responses_total",
                "OCSP responses, by how they were answered (cached, signed, refused).",
            ),
            &["answer"],
        )?,
        pool_depth: IntGaugeVec::new(
            Opts::new(
                "openccm_crypto_queue_depth",
                "Jobs waiting for a worker of a cryptography pool (sign, keygen).",
            ),
            &["pool"],
        )?,
        pool_wait: HistogramVec::new(
            HistogramOpts::new(
                "openccm_crypto_queue_wait_seconds",
                "Time a job waited for a worker of a cryptography pool (sign, keygen).",
            )
            .buckets(WAIT_BUCKETS.to_vec()),
            &["pool"],
        )?,
        expiring: IntGaugeVec::new(
            Opts::new(
                "openccm_certificates_expiring",
                "Unrevoked certificates that expire within the next 7 or 30 days, by account and kind (private, ca, ssl).",
            ),
            &["account", "kind", "within_days"],
        )?,
        crl_ages: CrlAges {
            desc: Desc::new(
                CRL_AGE_NAME.to_owned(),
                CRL_AGE_HELP.to_owned(),
                vec!["ca_id".to_owned(), "kind".to_owned()],
                HashMap::new(),
            )?,
            built: std::sync::Arc::default(),
        },
    })
}

/// The windows of `openccm_certificates_expiring`, in days.
const EXPIRY_WINDOWS_DAYS: (i64, i64) = (7, 30);

/// Counts of certificates expiring soon are read again at a scrape at most
/// this often: each read walks every account's certificates that expire
/// within 30 days.
const EXPIRY_REFRESH: std::time::Duration = std::time::Duration::from_mins(1);

/// A scrape waits this long at most for the counts; a slower read goes on
/// and its figures reach the next scrape.
const EXPIRY_SCRAPE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps `openccm_certificates_expiring` current: read from the store when
/// a scrape finds the figures older than [`EXPIRY_REFRESH`].
pub struct ExpiringGauges {
    store: std::sync::Arc<dyn openccm_store::Store>,
    clock: std::sync::Arc<dyn crate::Clock>,
    /// Held by the read under way: one at a time, and none waits for it.
    reading: std::sync::Arc<tokio::sync::Mutex<Read>>,
}

/// What the last read left.
#[derive(Default)]
struct Read {
    /// When it ended.
    at: Option<std::time::Instant>,
    /// The accounts it counted, whose series the next read replaces.
    accounts: Vec<String>,
}

impl std::fmt::Debug for ExpiringGauges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpiringGauges").finish_non_exhaustive()
    }
}

impl ExpiringGauges {
    /// Gauges read from `store` at `clock`'s time.
    pub fn new(
        store: std::sync::Arc<dyn openccm_store::Store>,
        clock: std::sync::Arc<dyn crate::Clock>,
    ) -> Self {
        Self {
            store,
            clock,
            reading: std::sync::Arc::default(),
        }
    }

    /// Starts a read of the counts if they are older than
    /// [`EXPIRY_REFRESH`] (counted from the end of the last read) and none
    /// is under way, and waits for it [`EXPIRY_SCRAPE_WAIT`] at most; a
    /// slower read goes on, and its figures reach a later scrape. A scrape
    /// that finds a read under way does not wait: reads never queue up.
    pub async fn refresh_if_stale(&self) {
        let Ok(mut read) = self.reading.clone().try_lock_owned() else {
            return;
        };
        if read.at.is_some_and(|at| at.elapsed() < EXPIRY_REFRESH) {
            return;
        }
        let (store, clock) = (self.store.clone(), self.clock.clone());
        let task = tokio::spawn(async move {
            match read_expiring(store.as_ref(), clock.now_ms(), &read.accounts).await {
                Ok(accounts) => read.accounts = accounts,
                Err(err) => {
                    tracing::error!(error = %err, "cannot count the certificates about to expire");
                }
            }
            read.at = Some(std::time::Instant::now());
        });
        let _ = tokio::time::timeout(EXPIRY_SCRAPE_WAIT, task).await;
    }
}

/// Reads every account's counts and sets the gauges; the series of the
/// accounts in `before` that are gone are removed. Returns the accounts.
async fn read_expiring(
    store: &dyn openccm_store::Store,
    now: i64,
    before: &[String],
) -> crate::Result<Vec<String>> {
    const DAY_MS: i64 = 86_400_000;
    let soon = now + EXPIRY_WINDOWS_DAYS.0 * DAY_MS;
    let later = now + EXPIRY_WINDOWS_DAYS.1 * DAY_MS;
    let mut counts = Vec::new();
    let mut accounts = Vec::new();
    for account in store.accounts().await? {
        let found = store.expiring(&account.domain_id, now, soon, later).await?;
        let id = account.domain_id.to_string();
        for (kind, (within_soon, within_later)) in
            EXPIRING_KINDS
                .into_iter()
                .zip([found.private, found.cas, found.ssl])
        {
            counts.push((
                id.clone(),
                kind,
                Expiring {
                    within_7_days: within_soon,
                    within_30_days: within_later,
                },
            ));
        }
        accounts.push(id);
    }
    let gone: Vec<String> = before
        .iter()
        .filter(|account| !accounts.contains(account))
        .cloned()
        .collect();
    set_expiring(&counts, &gone);
    Ok(accounts)
}
