//! `openccm serve`: open everything, bootstrap on first start, serve until a signal.

use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum_server::accept::DefaultAcceptor;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::Handle;
use openccm_app::iam::bootstrap::BootstrapCredentials;
use openccm_app::iam::lockout::LockoutSettings;
use openccm_app::iam::{Iam, IamSettings};
use openccm_app::pca::{Pca, PcaSettings};
use openccm_app::pool::CryptoPools;
use openccm_app::scm::{Scm, ScmSettings};
use openccm_app::SystemClock;
use openccm_custody::Keyring;
use openccm_http::{AppState, HttpSettings, Services};

use crate::config::{Config, LogFormat, ServeArgs};
use crate::limits::{ConnectionLimits, LimitedAcceptor};

/// Issuance intents older than this were cut short (no issuance takes so long).
const STALE_INTENT_MS: i64 = 10 * 60 * 1000;

/// Runs the server; the exit code says how it ended.
pub fn run(args: ServeArgs) -> ExitCode {
    let config = match Config::load(args) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("openccm: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    // Held until exit: dropping it flushes the log.
    let _log_guard = init_logging(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("openccm: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "openccm stopped");
            eprintln!("openccm: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error through a writer thread, so request threads
/// never wait on the log's write; nothing is dropped under load (the queue
/// blocks instead).
fn init_logging(config: &Config) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(false);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    guard
}

fn ensure_data_dir(config: &Config) -> Result<(), String> {
    let dir = &config.data_dir;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| format!("cannot create data directory {}: {e}", dir.display()))?;
        tracing::info!(path = %dir.display(), "created data directory");
    } else if let Ok(meta) = std::fs::metadata(dir) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %dir.display(), "data directory is accessible to other users; chmod 700 is advised");
        }
    }
    Ok(())
}

fn print_credentials(creds: &BootstrapCredentials, path: &std::path::Path) {
    // The one time the secret key and password are shown: on stdout, never
    // through the logger (stderr), so log collection does not capture them.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n==== OpenCCM bootstrap administrator (shown once; also saved to {}) ====\n\
         account (domain) id : {}\n\
         account name        : {}\n\
         user name           : {}\n\
         password            : {}\n\
         access key (AK)     : {}\n\
         secret key (SK)     : {}\n\
         ==========================================================================\n",
        path.display(),
        creds.domain_id,
        creds.domain_name,
        creds.user_name,
        creds.password.as_str(),
        creds.access_key,
        creds.secret_key.as_str(),
    );
    let _ = out.flush();
}

async fn serve(config: Config) -> Result<(), String> {
    ensure_data_dir(&config)?;
    let metrics = Arc::new(
        openccm_http::metrics::Metrics::new(env!("CARGO_PKG_VERSION"))
            .map_err(|e| format!("cannot set up the metrics: {e}"))?,
    );
    let (keyring, created) =
        Keyring::load_or_create(&config.master_key_file).map_err(|e| e.to_string())?;
    if created {
        tracing::info!(path = %config.master_key_file.display(), "created master key file (mode 0600); back it up");
    }
    let store = openccm_store::open(config.database_url.expose(), config.db_max_connections)
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    tracing::info!(
        backend = if config.database_url.is_sqlite() {
            "sqlite"
        } else {
            "postgres"
        },
        "store open, migrations applied"
    );
    let keyring = Arc::new(keyring);
    let clock: Arc<dyn openccm_app::Clock> = Arc::new(SystemClock);
    let iam = Arc::new(Iam::new(
        store.clone(),
        keyring.clone(),
        clock.clone(),
        IamSettings {
            token_ttl_ms: i64::try_from(config.token_ttl_secs).unwrap_or(86_400) * 1000,
            region: config.region.clone(),
            lockout: LockoutSettings {
                max_failures: i64::from(config.login_max_failures),
                window_ms: secs_to_ms(config.login_failure_window_secs),
                lock_ms: secs_to_ms(config.login_lockout_secs),
                max_failures_per_address: config.login_max_failures_per_address,
            },
            ..IamSettings::default()
        },
    ));
    iam.verify_keyring().await.map_err(|e| e.to_string())?;

    let credentials_path = config.data_dir.join("credentials.toml");
    let persist_path = credentials_path.clone();
    let persist: openccm_app::iam::bootstrap::Persist =
        Arc::new(move |creds: &BootstrapCredentials| {
            openccm_custody::replace_private_file(&persist_path, creds.to_toml().as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", persist_path.display()))
        });
    if let Some(creds) = iam
        .bootstrap(persist)
        .await
        .map_err(|e| format!("bootstrap failed: {e}"))?
    {
        tracing::info!(domain_id = %creds.domain_id, path = %credentials_path.display(), "bootstrap administrator created");
        print_credentials(&creds, &credentials_path);
    } else {
        tracing::debug!("bootstrap administrator exists");
    }

    // Bind first: with port 0 the public URL needs the port the OS chose.
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let public_url = config.public_url_for(bound);
    if config.public_url.is_none() && bound.ip().is_unspecified() {
        tracing::warn!(%public_url, "listening on all interfaces without --public-url: CRL and OCSP URLs in issued certificates will not be reachable");
    }
    let pools =
        CryptoPools::for_this_machine().map_err(|e| format!("cannot start crypto threads: {e}"))?;
    tokio::spawn(crate::key_watch::run(
        store.clone(),
        keyring.clone(),
        config.master_key_file.clone(),
        clock.clone(),
    ));
    let keyring_for_notices = keyring.clone();
    let keyring_for_nonces = keyring.clone();
    let audit = openccm_app::audit::AuditTrail::start(store.clone(), keyring.clone());
    let custody = config.key_store(keyring)?;
    if config.pkcs11.is_some() {
        tracing::info!("CA keys live in the PKCS#11 token");
    }
    let authz = iam.authorizer();
    let scm = Arc::new(Scm::new(
        store.clone(),
        custody.clone(),
        clock.clone(),
        pools.clone(),
        ScmSettings::default(),
        authz.clone(),
    ));
    metrics.count_expiring(openccm_app::metrics::ExpiringGauges::new(
        store.clone(),
        clock.clone(),
    ));
    let clock_for_notices = clock.clone();
    let pca = Arc::new(Pca::new(
        store.clone(),
        custody,
        clock,
        pools,
        PcaSettings {
            public_url,
            ca_quota: config.ca_quota,
            certificate_quota: config.certificate_quota,
            ..PcaSettings::default()
        },
        authz.clone(),
    ));
    // Issuance intents that no server will complete: on the embedded store
    // this process is the only writer, so every pending intent was cut short
    // by a crash or kill; servers sharing PostgreSQL may be mid-issuance, so
    // only intents older than any issuance takes are failed, now and then
    // periodically.
    let startup_age = if config.database_url.is_sqlite() {
        0
    } else {
        STALE_INTENT_MS
    };
    let failed = pca
        .fail_stale_intents(startup_age)
        .await
        .map_err(|e| format!("cannot reconcile issuance intents: {e}"))?;
    if failed > 0 {
        tracing::warn!(failed, "marked interrupted issuances as failed");
    }
    if !config.database_url.is_sqlite() {
        let pca = pca.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_mins(5));
            every.tick().await;
            loop {
                every.tick().await;
                match pca.fail_stale_intents(STALE_INTENT_MS).await {
                    Ok(0) => {}
                    Ok(failed) => tracing::warn!(failed, "marked interrupted issuances as failed"),
                    Err(err) => tracing::error!(error = %err, "cannot reconcile issuance intents"),
                }
            }
        });
    }

    let courier = crate::courier::NetCourier::new(config.smtp.as_ref())?;
    let every = Duration::from_secs(config.notify_every_secs);
    tokio::spawn(crate::notify_job::run(
        Arc::new(openccm_app::notify::Notifier::new(
            store.clone(),
            keyring_for_notices,
            clock_for_notices,
            Arc::new(courier),
            openccm_app::notify::NotifySettings {
                retry_base_ms: i64::try_from(every.as_millis()).unwrap_or(60_000),
            },
        )),
        every,
    ));

    tokio::spawn(crate::publish::run(
        pca.clone(),
        config.crl_publish_dir.clone(),
    ));

    let acme = Arc::new(openccm_app::pca::acme::AcmeServer::new(
        pca.clone(),
        keyring_for_nonces,
        crate::config_acme::with_default_caa(config.acme.clone(), &pca.settings().public_url),
        !config.database_url.is_sqlite(),
    ));
    let calls = openccm_http::TaskTracker::new();
    let state = AppState::new(Services {
        iam,
        pca,
        acme,
        scm,
        authz,
        audit: audit.clone(),
        calls: calls.clone(),
        metrics: metrics.clone(),
        settings: Arc::new(HttpSettings {
            max_body_bytes: config.max_body_bytes,
            max_small_body_bytes: config.max_small_body_bytes,
            body_timeout: Duration::from_secs(config.body_timeout_secs),
            max_inflight_bodies: config.max_inflight_bodies,
            // Behind a TLS-terminating proxy the public URL says https.
            secure_cookies: config.tls.is_some()
                || config.public_url.as_deref().is_some_and(|url| {
                    url.get(..8)
                        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
                }),
        }),
    });
    // The peer address reaches handlers (login throttling, the audit trail).
    let app = openccm_http::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let handle = Handle::new();
    // The handlers are installed here, before the listening line goes out:
    // installed inside the spawned task they could come after it, and a
    // SIGTERM sent on seeing the line would kill the process outright.
    let signal = |kind| {
        tokio::signal::unix::signal(kind).map_err(|e| format!("cannot listen for signals: {e}"))
    };
    let terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let signalled = Arc::new(std::sync::OnceLock::new());
    tokio::spawn(shutdown_on_signal(
        handle.clone(),
        grace,
        signalled.clone(),
        terminate,
        interrupt,
    ));
    // After the signal handlers, as the API's own line: a client that sees
    // it and sends SIGTERM gets a clean shutdown.
    if let Some(at) = config.metrics_listen {
        let limits = ConnectionLimits {
            max_connections: METRICS_CONNECTIONS,
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
        };
        let header_timeout = Duration::from_secs(config.header_timeout_secs);
        match serve_metrics(at.addr, metrics, limits, header_timeout) {
            Ok(()) => {}
            Err(err) if !at.required => {
                tracing::warn!(error = %err, "serving without metrics (set --metrics-listen to another address, or to none)");
            }
            Err(err) => return Err(err),
        }
    }
    let announce = handle.clone();
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tokio::spawn(async move {
        if let Some(addr) = announce.listening().await {
            announce_listening(scheme, addr);
        }
    });
    let limited = LimitedAcceptor::new(
        DefaultAcceptor,
        ConnectionLimits {
            max_connections: config.max_connections,
            idle_timeout: Duration::from_secs(config.idle_timeout_secs),
        },
    );
    let header_timeout = Duration::from_secs(config.header_timeout_secs);
    let served = match &config.tls {
        Some(tls) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let rustls_config = RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                .await
                .map_err(|e| format!("cannot load TLS certificate/key: {e}"))?;
            // Limits first, on the raw connection: a refused client costs no handshake.
            let acceptor = RustlsAcceptor::new(rustls_config)
                .handshake_timeout(header_timeout)
                .acceptor(limited);
            let mut server = axum_server::from_tcp(listener).acceptor(acceptor);
            configure_http(server.http_builder(), header_timeout);
            server.handle(handle).serve(app).await
        }
        None => {
            let mut server = axum_server::from_tcp(listener).acceptor(limited);
            configure_http(server.http_builder(), header_timeout);
            server.handle(handle).serve(app).await
        }
    };
    served.map_err(|e| format!("cannot serve on {}: {e}", config.listen))?;
    // A call whose client left runs on as a task of its own, which no
    // connection waits for: it finishes (and is recorded) before the store
    // closes, within what is left of the grace period.
    calls.close();
    let started = signalled
        .get()
        .copied()
        .unwrap_or_else(tokio::time::Instant::now);
    let waited = match started.checked_add(grace) {
        Some(deadline) => tokio::time::timeout_at(deadline, calls.wait())
            .await
            .is_ok(),
        None => {
            calls.wait().await;
            true
        }
    };
    if !waited {
        // Their intents are failed at the next start; an audit event whose
        // call commits after the store closes is lost, and this says so.
        tracing::warn!(
            calls = calls.len(),
            "calls still running after the grace period are stopped with the store"
        );
    }
    // Every answered call's event is appended already; this waits for the
    // events still queued.
    audit.flush().await;
    store.close().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Request headers within `timeout` (HTTP/1; hyper counts from the
/// connection's start, then from the end of each response). An HTTP/2
/// connection's headers are bounded by the idle time (`limits.rs`: no
/// request starts until they are complete).
fn configure_http(
    builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    header_timeout: Duration,
) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
}

/// Seconds (validated small) as milliseconds.
fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// Connections the metrics listener holds at once: a scraper or two.
const METRICS_CONNECTIONS: usize = 8;

/// Binds the metrics listener and serves `GET /metrics` on it until the
/// process ends, under the API's idle and header timeouts and a small
/// connection cap of its own: it shares the process's file descriptors
/// with the API, and a client that can reach it must not be able to starve
/// the API. Plain HTTP, even when the API speaks TLS.
fn serve_metrics(
    addr: SocketAddr,
    metrics: Arc<openccm_http::metrics::Metrics>,
    limits: ConnectionLimits,
    header_timeout: Duration,
) -> Result<(), String> {
    let cannot = |e: std::io::Error| format!("cannot listen for metrics on {addr}: {e}");
    let listener = std::net::TcpListener::bind(addr).map_err(cannot)?;
    listener.set_nonblocking(true).map_err(cannot)?;
    let bound = listener.local_addr().map_err(cannot)?;
    tracing::info!(addr = %bound, "serving metrics");
    // Before the API's own line (tests and scripts wait for that one).
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "openccm metrics on http://{bound}/metrics");
    let _ = out.flush();
    let mut server =
        axum_server::from_tcp(listener).acceptor(LimitedAcceptor::new(DefaultAcceptor, limits));
    configure_http(server.http_builder(), header_timeout);
    tokio::spawn(async move {
        let app = openccm_http::metrics::router(metrics).into_make_service();
        if let Err(err) = server.serve(app).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok(())
}

fn announce_listening(scheme: &str, addr: SocketAddr) {
    tracing::info!(%addr, "listening");
    // A stable line on stdout for scripts and tests that start on port 0.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "openccm listening on {scheme}://{addr}");
    let _ = out.flush();
}

async fn shutdown_on_signal(
    handle: Handle,
    grace: Duration,
    signalled: Arc<std::sync::OnceLock<tokio::time::Instant>>,
    mut terminate: tokio::signal::unix::Signal,
    mut interrupt: tokio::signal::unix::Signal,
) {
    tokio::select! {
        _ = terminate.recv() => {},
        _ = interrupt.recv() => {},
    }
    let _ = signalled.set(tokio::time::Instant::now());
    let grace_secs = grace.as_secs();
    tracing::info!(grace_secs, "shutting down: finishing in-flight requests");
    handle.graceful_shutdown(Some(grace));
}
