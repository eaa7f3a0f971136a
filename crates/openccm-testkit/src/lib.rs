//! Test fixtures shared by the crates' integration tests.
//!
//! - [`TestDb`]: a fresh, empty database per test: a SQLite file in a temp
//!   directory, or a new database on the PostgreSQL server named by
//!   `OPENCCM_TEST_PG_URL` (started by `scripts/test`). A missing server is a
//!   test failure, never a skip.
//! - [`FakeClock`]: time that only moves when told.
//! - [`TestApp`]: the whole router in process on a fresh store, with the
//!   bootstrap administrator, and helpers to send signed or token requests.
//! - [`sign`]: an SDK-style request signer.

pub mod acme;
pub mod sign;
pub mod softhsm;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt as _;
use openccm_app::iam::bootstrap::BootstrapCredentials;
use openccm_app::iam::{Iam, IamSettings};
use openccm_app::pca::{Pca, PcaSettings};
use openccm_app::pool::CryptoPools;
use openccm_app::scm::{Scm, ScmSettings};
use openccm_app::Clock;
use openccm_custody::{Keyring, SoftwareKeyStore};
use openccm_http::{AppState, HttpSettings, Services};
use openccm_store::Store;
use tower::ServiceExt as _;

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite in a temp file.
    Sqlite,
    /// A fresh database on the test PostgreSQL server.
    Postgres,
}

/// The PostgreSQL admin URL of the test server.
///
/// # Panics
/// When `OPENCCM_TEST_PG_URL` is not set: run the tests through `scripts/test`,
/// which starts the server.
pub fn pg_admin_url() -> String {
    std::env::var("OPENCCM_TEST_PG_URL").unwrap_or_else(|_| {
        panic!(
            "OPENCCM_TEST_PG_URL is not set: run the suite with scripts/test, which starts a \
             throwaway PostgreSQL server (tests never skip a backend)"
        )
    })
}

fn random_suffix() -> String {
    let bytes: [u8; 8] = rand::random();
    hex::encode(bytes)
}

/// A fresh database for one test. The SQLite file lives as long as this value.
pub struct TestDb {
    /// The URL to open.
    pub url: String,
    /// The backend.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Creates an empty database on `backend`.
    ///
    /// # Panics
    /// When the database cannot be created.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Self {
                    url,
                    backend,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!("openccm_test_{}", random_suffix());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {admin}: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(base, _)| base);
                Self {
                    url: format!("{base}/{name}"),
                    backend,
                    _dir: None,
                }
            }
        }
    }

    /// The PostgreSQL database's name, if this is one.
    fn postgres_name(&self) -> Option<&str> {
        match self.backend {
            Backend::Postgres => self.url.rsplit_once('/').map(|(_, name)| name),
            Backend::Sqlite => None,
        }
    }

    /// Opens the store on this database (applying migrations).
    ///
    /// # Panics
    /// When it cannot be opened.
    pub async fn open(&self) -> Arc<dyn Store> {
        openccm_store::open(&self.url, 8).await.expect("open store")
    }
}

/// A PostgreSQL test database is dropped with its value (a SQLite one goes
/// with its temp directory): a development server would otherwise keep every
/// database every run made. `WITH (FORCE)` closes the store's connections.
impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name().map(str::to_owned) else {
            return;
        };
        // Drop may run inside the test's runtime: do the work on a thread of
        // its own with a runtime of its own.
        let dropper = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_admin_url())
                    .await
                    .ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        });
        let _ = dropper.join();
    }
}

/// A clock that moves only when told; starts at the real time.
#[derive(Debug)]
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// A clock at `ms`.
    pub fn at(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }

    /// A clock at the current wall time.
    pub fn now() -> Self {
        Self::at(openccm_app::SystemClock.now_ms())
    }

    /// The clock's time, epoch ms.
    pub fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves the clock by `ms` (may be negative).
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The router in process, on a fresh store, with its bootstrap administrator.
pub struct TestApp {
    /// The database (kept alive).
    pub db: TestDb,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The fake clock every service reads.
    pub clock: Arc<FakeClock>,
    /// IAM.
    pub iam: Arc<Iam>,
    /// The private CA.
    pub pca: Arc<Pca>,
    /// The SSL certificate manager.
    pub scm: Arc<Scm>,
    /// The key custody the services seal with.
    pub custody: Arc<SoftwareKeyStore>,
    /// The ACME server.
    pub acme: Arc<openccm_app::pca::acme::AcmeServer>,
    /// The router.
    pub router: axum::Router,
    /// The administrator's credentials.
    pub admin: BootstrapCredentials,
    /// The edge settings.
    pub settings: HttpSettings,
}

/// ACME validation as tests run it: on loopback only, no CAA.
pub fn test_validation() -> openccm_app::pca::acme::validate::ValidationSettings {
    openccm_app::pca::acme::validate::ValidationSettings {
        allow: vec!["127.0.0.0/8".to_owned()],
        ..Default::default()
    }
}

/// Crypto pools shared by every app of a test binary (threads are not freed
/// when an app is dropped).
fn shared_pools() -> CryptoPools {
    static POOLS: std::sync::OnceLock<CryptoPools> = std::sync::OnceLock::new();
    POOLS
        .get_or_init(|| CryptoPools::for_this_machine().expect("crypto pools"))
        .clone()
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: axum::http::HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the Huawei error shape, the status and the code; returns the message.
    ///
    /// # Panics
    /// When any of them differs.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "status; body {:?}",
            String::from_utf8_lossy(&self.body)
        );
        let json = self.json();
        assert_eq!(json["error_code"], code, "error_code in {json}");
        let msg = json["error_msg"]
            .as_str()
            .expect("error_msg is a string")
            .to_owned();
        assert!(msg.chars().count() <= 1024);
        assert!(self.header("x-request-id").is_some_and(|id| id.len() == 32));
        msg
    }
}

impl TestApp {
    /// A fresh app on `backend` with default settings.
    pub async fn new(backend: Backend) -> Self {
        Self::with_settings(backend, HttpSettings::default()).await
    }

    /// A fresh app on `backend`.
    ///
    /// # Panics
    /// When any part cannot be set up.
    pub async fn with_settings(backend: Backend, settings: HttpSettings) -> Self {
        Self::with_all_settings(
            backend,
            settings,
            PcaSettings {
                public_url: "http://openccm.test".to_owned(),
                ..PcaSettings::default()
            },
        )
        .await
    }

    /// A fresh app on `backend` with these edge and PCA settings.
    ///
    /// # Panics
    /// When any part cannot be set up.
    pub async fn with_all_settings(
        backend: Backend,
        settings: HttpSettings,
        pca_settings: PcaSettings,
    ) -> Self {
        Self::with_validation(backend, settings, pca_settings, test_validation()).await
    }

    /// A fresh app on `backend` whose ACME server validates under
    /// `validation`.
    ///
    /// # Panics
    /// When any part cannot be set up.
    pub async fn with_validation(
        backend: Backend,
        settings: HttpSettings,
        pca_settings: PcaSettings,
        validation: openccm_app::pca::acme::validate::ValidationSettings,
    ) -> Self {
        let db = TestDb::new(backend).await;
        let store = db.open().await;
        let clock = Arc::new(FakeClock::now());
        let keyring = Arc::new(Keyring::from_keys(vec![(1, rand::random())]));
        let iam = Arc::new(Iam::new(
            store.clone(),
            keyring.clone(),
            clock.clone(),
            IamSettings::default(),
        ));
        let custody = Arc::new(SoftwareKeyStore::new(keyring.clone()));
        let authz = iam.authorizer();
        let scm = Arc::new(Scm::new(
            store.clone(),
            custody.clone(),
            clock.clone(),
            shared_pools(),
            ScmSettings::default(),
            authz.clone(),
        ));
        let pca = Arc::new(Pca::new(
            store.clone(),
            custody.clone(),
            clock.clone(),
            shared_pools(),
            pca_settings,
            authz.clone(),
        ));
        iam.verify_keyring().await.expect("keyring");
        let admin = iam
            .bootstrap(Arc::new(|_| Ok(())))
            .await
            .expect("bootstrap")
            .expect("fresh store bootstraps");
        let acme = Arc::new(openccm_app::pca::acme::AcmeServer::new(
            pca.clone(),
            keyring.clone(),
            validation,
            backend == Backend::Postgres,
        ));
        let router = openccm_http::router(AppState::new(Services {
            iam: iam.clone(),
            pca: pca.clone(),
            acme: acme.clone(),
            scm: scm.clone(),
            authz: authz.clone(),
            settings: Arc::new(settings.clone()),
            audit: openccm_app::audit::AuditTrail::start(store.clone(), keyring.clone()),
            calls: openccm_http::TaskTracker::new(),
            metrics: Arc::new(openccm_http::metrics::Metrics::new("test").expect("metrics")),
        }));
        Self {
            db,
            store,
            clock,
            iam,
            pca,
            scm,
            custody,
            acme,
            router,
            admin,
            settings,
        }
    }

    /// Sends a request through the router.
    ///
    /// # Panics
    /// When the router fails (it never should: errors are responses).
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response: Response<Body> = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Sends a request signed with the administrator's AK/SK (`SDK-HMAC-SHA256`),
    /// dated by the fake clock.
    pub async fn signed(&self, method: &str, target: &str, body: Option<&str>) -> TestResponse {
        let request = sign::SdkRequest::new(method, target, body)
            .domain_id(&self.admin.domain_id)
            .sign(
                sign::Scheme::HmacSha256,
                &self.admin.access_key,
                &self.admin.secret_key,
                self.clock.now_ms(),
            );
        self.send(request).await
    }

    /// Sends a request signed with another access key (`SDK-HMAC-SHA256`).
    pub async fn signed_as(
        &self,
        access_key: &str,
        secret_key: &str,
        domain_id: &str,
        method: &str,
        target: &str,
        body: Option<&str>,
    ) -> TestResponse {
        let request = sign::SdkRequest::new(method, target, body)
            .domain_id(domain_id)
            .sign(
                sign::Scheme::HmacSha256,
                access_key,
                secret_key,
                self.clock.now_ms(),
            );
        self.send(request).await
    }

    /// Sends a request with `X-Auth-Token`.
    ///
    /// # Panics
    /// When the request cannot be built.
    pub async fn with_token(
        &self,
        token: &str,
        method: &str,
        target: &str,
        body: Option<&str>,
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method(method)
            .uri(target)
            .header("host", "openccm.test")
            .header("x-auth-token", token);
        if body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let request = builder
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
            .expect("request");
        self.send(request).await
    }

    /// A token for the administrator, by password.
    ///
    /// # Panics
    /// When login fails.
    pub async fn admin_token(&self) -> String {
        let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": self.admin.user_name, "password": self.admin.password.as_str(),
            "domain": {"name": self.admin.domain_name}}}}, "scope": {"domain": {"name": self.admin.domain_name}}}});
        let request = Request::builder()
            .method("POST")
            .uri("/v3/auth/tokens")
            .header("content-type", "application/json;charset=UTF-8")
            .body(Body::from(body.to_string()))
            .expect("request");
        let response = self.send(request).await;
        assert_eq!(
            response.status,
            201,
            "{:?}",
            String::from_utf8_lossy(&response.body)
        );
        response.header("x-subject-token").expect("X-Subject-Token")
    }
}

/// Runs a test on both backends, as `name::sqlite` and `name::postgres`:
///
/// - `both_backends!(name, |app| async move { ... })`: the body gets a
///   [`TestApp`] on each backend (the HTTP suites);
/// - `both_backends!(name)`: calls `async fn name(backend: Backend)` with
///   each backend (the store suites, which open their own store).
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await;
            }
        }
    };
    ($name:ident, |$app:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::TestApp::new($crate::Backend::Sqlite).await;
                $body.await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $app = $crate::TestApp::new($crate::Backend::Postgres).await;
                $body.await;
            }
        }
    };
}
