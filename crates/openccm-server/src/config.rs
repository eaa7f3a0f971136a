//! Configuration: defaults → TOML file → `OPENCCM_*` environment → flags.
//!
//! clap merges flags over the environment; the TOML file fills what neither
//! set; defaults fill the rest. The raw layers are validated into [`Config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

/// `openccm serve` flags (each also readable from `OPENCCM_<NAME>`).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// TOML configuration file (keys are the flag names with `_`, e.g. `data_dir`).
    #[arg(long, env = "OPENCCM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "OPENCCM_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address of the Prometheus metrics listener (`GET /metrics`, no
    /// authentication: keep it off untrusted networks), or `none`
    /// [default: 127.0.0.1:9464].
    #[arg(long, env = "OPENCCM_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
    /// Data directory: SQLite database, master key, credentials [default: ./openccm-data].
    #[arg(long, global = true, env = "OPENCCM_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: `sqlite:<path>` or `postgres://user@host/db` [default: sqlite in the data directory].
    #[arg(
        long,
        global = true,
        env = "OPENCCM_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// File holding the database URL (for secrets kept out of the environment).
    #[arg(long, env = "OPENCCM_DATABASE_URL_FILE")]
    pub database_url_file: Option<PathBuf>,
    /// Master key file [default: <data-dir>/master.key]. Servers sharing one
    /// PostgreSQL database must share this file.
    #[arg(long, global = true, env = "OPENCCM_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// TLS certificate chain (PEM). With --tls-key, the listener speaks HTTPS.
    #[arg(long, env = "OPENCCM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "OPENCCM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The URL clients reach this server at; CRL and OCSP URLs in issued
    /// certificates are built from it [default: http(s)://<listen>].
    #[arg(long, env = "OPENCCM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Region name answered to IAM discovery (the account's project name) [default: local-1].
    #[arg(long, env = "OPENCCM_REGION")]
    pub region: Option<String>,
    /// Token lifetime in seconds [default: 86400].
    #[arg(long, env = "OPENCCM_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    /// Largest accepted request body in bytes [default: 8388608].
    #[arg(long, env = "OPENCCM_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Database connections in the pool [default: 16].
    #[arg(long, env = "OPENCCM_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,
    /// Log format: `text` or `json` [default: text].
    #[arg(long, env = "OPENCCM_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Log filter, e.g. `info` or `openccm=debug` [default: info].
    #[arg(long, env = "OPENCCM_LOG")]
    pub log: Option<String>,
    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM [default: 30].
    #[arg(long, env = "OPENCCM_SHUTDOWN_GRACE_SECS")]
    pub shutdown_grace_secs: Option<u64>,
    /// Private CAs one account may hold [default: 100, the cloud's quota].
    #[arg(long, env = "OPENCCM_CA_QUOTA")]
    pub ca_quota: Option<i64>,
    /// Private certificates one account may hold [default: 100000, the cloud's quota].
    #[arg(long, env = "OPENCCM_CERTIFICATE_QUOTA")]
    pub certificate_quota: Option<i64>,
    /// Also write every CA's current CRLs to this directory, as
    /// `<ca_id>/<name>.crl` and `<ca_id>/<name>-delta.crl`, for a web
    /// server or an object-store sync to serve [default: none].
    #[arg(long, env = "OPENCCM_CRL_PUBLISH_DIR")]
    pub crl_publish_dir: Option<PathBuf>,
    /// Consecutive failed logins that lock a user [default: 5].
    #[arg(long, env = "OPENCCM_LOGIN_MAX_FAILURES")]
    pub login_max_failures: Option<u32>,
    /// Failed logins count together within this many seconds [default: 900].
    #[arg(long, env = "OPENCCM_LOGIN_FAILURE_WINDOW_SECS")]
    pub login_failure_window_secs: Option<u64>,
    /// How long a locked user (or blocked address) is refused, in seconds [default: 900].
    #[arg(long, env = "OPENCCM_LOGIN_LOCKOUT_SECS")]
    pub login_lockout_secs: Option<u64>,
    /// Failed logins from one address, within the window, that block it [default: 20].
    #[arg(long, env = "OPENCCM_LOGIN_MAX_FAILURES_PER_ADDRESS")]
    pub login_max_failures_per_address: Option<u32>,
    /// Seconds a client gets to send a request's headers, from the
    /// connection's start or the end of the previous response [default: 30].
    #[arg(long, env = "OPENCCM_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a client gets to send a request's body [default: 30].
    #[arg(long, env = "OPENCCM_BODY_TIMEOUT_SECS")]
    pub body_timeout_secs: Option<u64>,
    /// Seconds a connection may sit idle (no request in progress, nothing
    /// sent or received) before it is closed [default: 20].
    #[arg(long, env = "OPENCCM_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Connections open at once; more are closed on accept [default: 1024].
    #[arg(long, env = "OPENCCM_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Request bodies received at once; more are answered 503 [default: 256].
    #[arg(long, env = "OPENCCM_MAX_INFLIGHT_BODIES")]
    pub max_inflight_bodies: Option<usize>,
    /// Largest body of the IAM and OCSP routes in bytes [default: 65536].
    #[arg(long, env = "OPENCCM_MAX_SMALL_BODY_BYTES")]
    pub max_small_body_bytes: Option<usize>,
    /// PKCS#11 module (shared library): CA keys are generated and used inside
    /// its token; exportable keys are wrapped by a token key. Needs
    /// --pkcs11-token and --pkcs11-pin-file.
    #[arg(long, env = "OPENCCM_PKCS11_MODULE")]
    pub pkcs11_module: Option<PathBuf>,
    /// Label of the PKCS#11 token to use.
    #[arg(long, env = "OPENCCM_PKCS11_TOKEN")]
    pub pkcs11_token: Option<String>,
    /// File holding the token's user PIN.
    #[arg(long, env = "OPENCCM_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// SMTP server expiry notices are e-mailed through, `host:port`
    /// [default: none; e-mail notices wait].
    #[arg(long, env = "OPENCCM_SMTP_SERVER")]
    pub smtp_server: Option<String>,
    /// `starttls` (required), `tls` (from the first byte) or `none`
    /// [default: starttls].
    #[arg(long, env = "OPENCCM_SMTP_SECURITY")]
    pub smtp_security: Option<String>,
    /// SMTP user (AUTH); needs --smtp-password-file.
    #[arg(long, env = "OPENCCM_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// File holding the SMTP password.
    #[arg(long, env = "OPENCCM_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// Sender address of notices [default: openccm@<SMTP host>].
    #[arg(long, env = "OPENCCM_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// A CA certificate (PEM) to trust for the SMTP server, besides the
    /// public roots.
    #[arg(long, env = "OPENCCM_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Seconds between looks for notices due (and the first retry's wait)
    /// [default: 60].
    #[arg(long, env = "OPENCCM_NOTIFY_EVERY_SECS")]
    pub notify_every_secs: Option<u64>,
    #[command(flatten)]
    pub acme: crate::config_acme::AcmeArgs,
}

/// The TOML file's keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    listen: Option<SocketAddr>,
    metrics_listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_url_file: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    pkcs11_module: Option<PathBuf>,
    pkcs11_token: Option<String>,
    pkcs11_pin_file: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    public_url: Option<String>,
    region: Option<String>,
    token_ttl_secs: Option<u64>,
    max_body_bytes: Option<usize>,
    db_max_connections: Option<u32>,
    log_format: Option<String>,
    log: Option<String>,
    shutdown_grace_secs: Option<u64>,
    ca_quota: Option<i64>,
    certificate_quota: Option<i64>,
    crl_publish_dir: Option<PathBuf>,
    smtp_server: Option<String>,
    smtp_security: Option<String>,
    smtp_user: Option<String>,
    smtp_password_file: Option<PathBuf>,
    smtp_from: Option<String>,
    smtp_ca_file: Option<PathBuf>,
    notify_every_secs: Option<u64>,
    login_max_failures: Option<u32>,
    login_failure_window_secs: Option<u64>,
    login_lockout_secs: Option<u64>,
    login_max_failures_per_address: Option<u32>,
    header_timeout_secs: Option<u64>,
    body_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    max_connections: Option<usize>,
    max_inflight_bodies: Option<usize>,
    max_small_body_bytes: Option<usize>,
    acme_allow_address: Option<Vec<String>>,
    acme_http01_port: Option<u16>,
    acme_tlsalpn01_port: Option<u16>,
    acme_dns_resolver: Option<SocketAddr>,
    acme_caa_identity: Option<Vec<String>>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The database URL: secret (it may carry a password), so `Debug` redacts it.
#[derive(Clone)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it names the embedded SQLite store.
    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self.0.split(':').next().unwrap_or("");
        write!(f, "DatabaseUrl({scheme}:…)")
    }
}

/// TLS files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// A PKCS#11 token to keep CA keys in.
#[derive(Debug, Clone)]
pub struct Pkcs11Files {
    /// The module (shared library).
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The file holding the user PIN (read at start, never logged).
    pub pin_file: PathBuf,
}

impl Pkcs11Files {
    /// The key store these files describe, sealing under `keyring`.
    ///
    /// # Errors
    /// When the PIN file is unreadable or the token does not open.
    pub fn key_store(
        &self,
        keyring: std::sync::Arc<openccm_custody::Keyring>,
    ) -> Result<openccm_custody::Pkcs11KeyStore, String> {
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&self.pin_file)
                .map_err(|e| {
                    format!(
                        "cannot read the PKCS#11 PIN file {}: {e}",
                        self.pin_file.display()
                    )
                })?
                .permissions()
                .mode();
            // Like the master key file: a PIN others can read is refused.
            if mode & 0o077 != 0 {
                return Err(format!(
                    "the PKCS#11 PIN file {} is readable by others (mode {:o}): chmod 600 it",
                    self.pin_file.display(),
                    mode & 0o777
                ));
            }
        }
        let pin =
            zeroize::Zeroizing::new(std::fs::read_to_string(&self.pin_file).map_err(|e| {
                format!(
                    "cannot read the PKCS#11 PIN file {}: {e}",
                    self.pin_file.display()
                )
            })?);
        let config = openccm_custody::Pkcs11Config {
            module: self.module.clone(),
            token_label: self.token_label.clone(),
            pin: zeroize::Zeroizing::new(pin.trim_end_matches(['\r', '\n']).to_owned()),
        };
        openccm_custody::Pkcs11KeyStore::open(&config, keyring).map_err(|e| e.to_string())
    }
}

impl Config {
    /// Key custody as configured: the PKCS#11 token's, or software.
    ///
    /// # Errors
    /// When the token does not open.
    pub fn key_store(
        &self,
        keyring: std::sync::Arc<openccm_custody::Keyring>,
    ) -> Result<std::sync::Arc<dyn openccm_custody::KeyStore>, String> {
        Ok(match &self.pkcs11 {
            Some(files) => std::sync::Arc::new(files.key_store(keyring)?),
            None => std::sync::Arc::new(openccm_custody::SoftwareKeyStore::new(keyring)),
        })
    }
}

/// Where the Prometheus metrics are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsListen {
    pub addr: SocketAddr,
    /// Set by the operator: the server does not start without it. The
    /// default address may be taken (a second server on the host, another
    /// exporter), and then the server starts without metrics, saying so.
    pub required: bool,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `None`: no metrics listener.
    pub metrics_listen: Option<MetricsListen>,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub master_key_file: PathBuf,
    /// Where CA keys live when not in software.
    pub pkcs11: Option<Pkcs11Files>,
    pub tls: Option<TlsFiles>,
    /// `None`: derived from the bound address at start.
    pub public_url: Option<String>,
    pub region: String,
    pub token_ttl_secs: u64,
    pub max_body_bytes: usize,
    pub db_max_connections: u32,
    pub log_format: LogFormat,
    pub log: String,
    pub shutdown_grace_secs: u64,
    pub ca_quota: i64,
    pub certificate_quota: i64,
    pub crl_publish_dir: Option<PathBuf>,
    pub smtp: Option<crate::courier::SmtpSettings>,
    pub notify_every_secs: u64,
    pub login_max_failures: u32,
    pub login_failure_window_secs: u64,
    pub login_lockout_secs: u64,
    pub login_max_failures_per_address: u32,
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub max_connections: usize,
    pub max_inflight_bodies: usize,
    pub max_small_body_bytes: usize,
    /// ACME challenge validation (CAA identities empty: the public URL's
    /// host, filled in at start).
    pub acme: openccm_app::pca::acme::validate::ValidationSettings,
}

impl Config {
    /// The URL clients reach a server listening on `bound` at: the
    /// configured public URL, else `http(s)://<bound>` (CRL and OCSP URLs in
    /// certificates, and the delta URL in CRLs, are built from it).
    pub fn public_url_for(&self, bound: std::net::SocketAddr) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{bound}"))
    }
}

/// A configuration error, reported before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("{0}")]
    Invalid(String),
}

/// The SMTP settings as given.
struct SmtpArgs {
    server: Option<String>,
    security: Option<String>,
    user: Option<String>,
    password_file: Option<PathBuf>,
    from: Option<String>,
    ca_file: Option<PathBuf>,
}

fn smtp_settings(a: SmtpArgs) -> Result<Option<crate::courier::SmtpSettings>, ConfigError> {
    use crate::courier::SmtpSecurity;
    let Some(server) = a.server else {
        if a.user.is_some() || a.password_file.is_some() || a.from.is_some() || a.ca_file.is_some()
        {
            return Err(ConfigError::Invalid(
                "the smtp_* settings need smtp_server".to_owned(),
            ));
        }
        return Ok(None);
    };
    let (host, port) = server
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host.to_owned(), port.parse::<u16>().ok()?)))
        .filter(|(host, _)| !host.is_empty())
        .ok_or_else(|| ConfigError::Invalid(format!("smtp_server {server:?} is not host:port")))?;
    let security = match a.security.as_deref() {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::Plain,
        Some(other) => {
            return Err(ConfigError::Invalid(format!(
                "smtp_security must be starttls, tls or none, not {other}"
            )))
        }
    };
    let credentials = match (a.user, a.password_file) {
        (None, None) => None,
        (Some(user), Some(file)) => Some((user, zeroize::Zeroizing::new(read_secret_file(&file)?))),
        _ => {
            return Err(ConfigError::Invalid(
                "smtp_user and smtp_password_file must be given together".to_owned(),
            ))
        }
    };
    let ca_pem = a
        .ca_file
        .map(|path| std::fs::read(&path).map_err(|e| ConfigError::Read(path, e)))
        .transpose()?;
    Ok(Some(crate::courier::SmtpSettings {
        from: a.from.unwrap_or_else(|| format!("openccm@{host}")),
        host,
        port,
        security,
        credentials,
        ca_pem,
    }))
}

fn read_secret_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| ConfigError::Read(path.to_owned(), e))
}

/// A setting within `range`, or its default.
fn within<T>(
    value: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    name: &str,
) -> Result<T, ConfigError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid(format!(
            "{name} must be between {} and {}, not {value}",
            range.start(),
            range.end()
        )))
    }
}

/// A per-account quota: at least 1.
fn quota(value: Option<i64>, default: i64, name: &str) -> Result<i64, ConfigError> {
    match value {
        None => Ok(default),
        Some(n) if n >= 1 => Ok(n),
        Some(n) => Err(ConfigError::Invalid(format!(
            "{name} must be at least 1, not {n}"
        ))),
    }
}

impl Config {
    /// Layers flags/env over the TOML file over defaults, then validates.
    pub fn load(args: ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read(path.clone(), e))?;
                toml::from_str::<FileConfig>(&text)
                    .map_err(|e| ConfigError::Parse(path.clone(), e))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./openccm-data"));
        let database_url = match (
            args.database_url.or(file.database_url),
            args.database_url_file.or(file.database_url_file),
        ) {
            (Some(url), _) => url,
            (None, Some(path)) => read_secret_file(&path)?,
            (None, None) => format!("sqlite:{}", data_dir.join("openccm.db").display()),
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid(
                "database url must start with sqlite: or postgres://".to_owned(),
            ));
        }
        let pkcs11 = match (
            args.pkcs11_module.or(file.pkcs11_module),
            args.pkcs11_token.or(file.pkcs11_token),
            args.pkcs11_pin_file.or(file.pkcs11_pin_file),
        ) {
            (None, None, None) => None,
            (Some(module), Some(token_label), Some(pin_file)) => Some(Pkcs11Files {
                module,
                token_label,
                pin_file,
            }),
            _ => {
                return Err(ConfigError::Invalid(
                    "pkcs11_module, pkcs11_token and pkcs11_pin_file must be given together"
                        .to_owned(),
                ))
            }
        };
        let smtp = smtp_settings(SmtpArgs {
            server: args.smtp_server.or(file.smtp_server),
            security: args.smtp_security.or(file.smtp_security),
            user: args.smtp_user.or(file.smtp_user),
            password_file: args.smtp_password_file.or(file.smtp_password_file),
            from: args.smtp_from.or(file.smtp_from),
            ca_file: args.smtp_ca_file.or(file.smtp_ca_file),
        })?;
        let tls = match (
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Invalid(
                    "tls_cert and tls_key must be given together".to_owned(),
                ))
            }
        };
        let log_format = match args.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Invalid(format!(
                    "log format must be text or json, not {other}"
                )))
            }
        };
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let metrics_listen = match args.metrics_listen.or(file.metrics_listen).as_deref() {
            None => Some(MetricsListen {
                addr: SocketAddr::from(([127, 0, 0, 1], 9464)),
                required: false,
            }),
            Some("none") => None,
            Some(addr) => Some(MetricsListen {
                addr: addr.parse().map_err(|_| {
                    ConfigError::Invalid(format!(
                        "metrics listen must be an address such as 127.0.0.1:9464, or none; not {addr}"
                    ))
                })?,
                required: true,
            }),
        };
        let public_url = match args.public_url.or(file.public_url) {
            Some(url) => {
                let url = url.trim_end_matches('/').to_owned();
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(ConfigError::Invalid(
                        "public url must be an http(s) URL".to_owned(),
                    ));
                }
                Some(url)
            }
            None => None,
        };
        let region = args
            .region
            .or(file.region)
            .unwrap_or_else(|| "local-1".to_owned());
        if region.is_empty() || region.len() > 64 {
            return Err(ConfigError::Invalid(
                "region must be 1-64 characters".to_owned(),
            ));
        }
        let token_ttl_secs = args
            .token_ttl_secs
            .or(file.token_ttl_secs)
            .unwrap_or(86_400);
        if !(60..=7 * 86_400).contains(&token_ttl_secs) {
            return Err(ConfigError::Invalid(
                "token ttl must be between 60 seconds and 7 days".to_owned(),
            ));
        }
        let max_body_bytes = args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(8 * 1024 * 1024);
        if max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "max body bytes must be at least 1024".to_owned(),
            ));
        }
        Ok(Self {
            listen,
            metrics_listen,
            public_url,
            master_key_file: args
                .master_key_file
                .or(file.master_key_file)
                .unwrap_or_else(|| data_dir.join("master.key")),
            data_dir,
            database_url: DatabaseUrl(database_url),
            pkcs11,
            tls,
            region,
            token_ttl_secs,
            max_body_bytes,
            db_max_connections: args
                .db_max_connections
                .or(file.db_max_connections)
                .unwrap_or(16)
                .max(1),
            log_format,
            log: args.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
            shutdown_grace_secs: args
                .shutdown_grace_secs
                .or(file.shutdown_grace_secs)
                .unwrap_or(30),
            ca_quota: quota(args.ca_quota.or(file.ca_quota), 100, "ca_quota")?,
            certificate_quota: quota(
                args.certificate_quota.or(file.certificate_quota),
                100_000,
                "certificate_quota",
            )?,
            crl_publish_dir: args.crl_publish_dir.or(file.crl_publish_dir),
            smtp,
            notify_every_secs: within(
                args.notify_every_secs.or(file.notify_every_secs),
                60,
                1..=86_400,
                "notify_every_secs",
            )?,
            login_max_failures: within(
                args.login_max_failures.or(file.login_max_failures),
                5,
                1..=100,
                "login_max_failures",
            )?,
            login_failure_window_secs: within(
                args.login_failure_window_secs
                    .or(file.login_failure_window_secs),
                900,
                1..=86_400,
                "login_failure_window_secs",
            )?,
            login_lockout_secs: within(
                args.login_lockout_secs.or(file.login_lockout_secs),
                900,
                1..=86_400,
                "login_lockout_secs",
            )?,
            login_max_failures_per_address: within(
                args.login_max_failures_per_address
                    .or(file.login_max_failures_per_address),
                20,
                1..=10_000,
                "login_max_failures_per_address",
            )?,
            header_timeout_secs: within(
                args.header_timeout_secs.or(file.header_timeout_secs),
                30,
                1..=3600,
                "header_timeout_secs",
            )?,
            body_timeout_secs: within(
                args.body_timeout_secs.or(file.body_timeout_secs),
                30,
                1..=3600,
                "body_timeout_secs",
            )?,
            idle_timeout_secs: within(
                args.idle_timeout_secs.or(file.idle_timeout_secs),
                20,
                1..=3600,
                "idle_timeout_secs",
            )?,
            max_connections: within(
                args.max_connections.or(file.max_connections),
                1024,
                1..=1_000_000,
                "max_connections",
            )?,
            max_inflight_bodies: within(
                args.max_inflight_bodies.or(file.max_inflight_bodies),
                256,
                1..=1_000_000,
                "max_inflight_bodies",
            )?,
            max_small_body_bytes: within(
                args.max_small_body_bytes.or(file.max_small_body_bytes),
                64 * 1024,
                1024..=max_body_bytes,
                "max_small_body_bytes",
            )?,
            acme: crate::config_acme::resolve(
                args.acme,
                crate::config_acme::AcmeFileKeys {
                    acme_allow_address: file.acme_allow_address,
                    acme_http01_port: file.acme_http01_port,
                    acme_tlsalpn01_port: file.acme_tlsalpn01_port,
                    acme_dns_resolver: file.acme_dns_resolver,
                    acme_caa_identity: file.acme_caa_identity,
                },
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_use_sqlite_in_the_data_dir() {
        let c = Config::load(ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.is_sqlite());
        assert!(c.database_url.expose().ends_with("openccm-data/openccm.db"));
        assert_eq!(
            c.master_key_file,
            PathBuf::from("./openccm-data/master.key")
        );
        assert_eq!(c.token_ttl_secs, 86_400);
        assert_eq!((c.ca_quota, c.certificate_quota), (100, 100_000));
        assert_eq!(
            c.metrics_listen,
            Some(MetricsListen {
                addr: SocketAddr::from(([127, 0, 0, 1], 9464)),
                required: false
            })
        );
    }

    #[test]
    fn the_metrics_listener_moves_or_is_off() {
        let at = |value: &str| {
            Config::load(ServeArgs {
                metrics_listen: Some(value.into()),
                ..ServeArgs::default()
            })
            .map(|c| c.metrics_listen)
        };
        assert_eq!(
            at("0.0.0.0:9100").unwrap(),
            Some(MetricsListen {
                addr: SocketAddr::from(([0, 0, 0, 0], 9100)),
                required: true
            })
        );
        assert_eq!(at("none").unwrap(), None);
        assert!(matches!(at("localhost"), Err(ConfigError::Invalid(..))));
    }

    #[test]
    fn quotas_are_configurable_and_positive() {
        let c = Config::load(ServeArgs {
            certificate_quota: Some(50_000_000),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!((c.ca_quota, c.certificate_quota), (100, 50_000_000));
        assert!(matches!(
            Config::load(ServeArgs {
                ca_quota: Some(0),
                ..ServeArgs::default()
            }),
            Err(ConfigError::Invalid(..))
        ));
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\nregion = \"file-region\"\n",
        )
        .unwrap();
        let c = Config::load(ServeArgs {
            config: Some(path),
            region: Some("flag-region".into()),
            ..ServeArgs::default()
        })
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(c.region, "flag-region");
    }

    #[test]
    fn unknown_file_keys_and_other_schemes_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:9999\"\n").unwrap();
        assert!(matches!(
            Config::load(ServeArgs {
                config: Some(path),
                ..ServeArgs::default()
            }),
            Err(ConfigError::Parse(..))
        ));
        assert!(Config::load(ServeArgs {
            database_url: Some("mysql://x".into()),
            ..ServeArgs::default()
        })
        .is_err());
    }

    #[test]
    fn database_url_is_redacted_in_debug_output() {
        let url = DatabaseUrl("postgres://user:hunter2@db/openccm".into());
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
