//! Starting and stopping `openccm serve` processes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use openccm_testkit::sign::SdkRequest;

/// The bootstrap credentials file, parsed.
#[derive(Debug, Clone, serde::Deserialize)]
#[allow(dead_code)] // Parsed whole: the file's shape is part of what is tested.
pub struct Credentials {
    pub domain_id: String,
    pub domain_name: String,
    pub user_name: String,
    pub password: String,
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
    pub region: String,
}

impl Credentials {
    pub fn read(data_dir: &Path) -> Self {
        let text =
            std::fs::read_to_string(data_dir.join("credentials.toml")).expect("credentials.toml");
        toml::from_str(&text).expect("credentials parse")
    }
}

/// A running server.
pub struct Server {
    pub child: Child,
    pub base_url: String,
    /// `GET` this for the Prometheus metrics.
    pub metrics_url: Option<String>,
    pub stdout: Vec<String>,
    pub stderr_path: PathBuf,
    stdout_rx: mpsc::Receiver<String>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_openccm")
}

impl Server {
    /// Starts `openccm serve --listen 127.0.0.1:0 --metrics-listen
    /// 127.0.0.1:0 <args>` and waits until it listens.
    pub fn start(args: &[&str], log_dir: &Path) -> Self {
        let mut all = vec!["--metrics-listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Self::start_with_own_metrics(&all, log_dir)
    }

    /// Starts `openccm serve --listen 127.0.0.1:0 <args>` (the metrics
    /// listener as `args` say) and waits until it listens.
    pub fn start_with_own_metrics(args: &[&str], log_dir: &Path) -> Self {
        let stderr_path = log_dir.join(format!("server-{}.log", rand_suffix()));
        let stderr = std::fs::File::create(&stderr_path).expect("log file");
        let mut child = Command::new(binary())
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(args)
            .env_remove("OPENCCM_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn openccm");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stdout = Vec::new();
        let mut metrics_url = None;
        let base_url = loop {
            if let Ok(line) = rx.recv_timeout(Duration::from_mins(1)) {
                if let Some(url) = line.strip_prefix("openccm listening on ") {
                    break url.to_owned();
                }
                if let Some(url) = line.strip_prefix("openccm metrics on ") {
                    metrics_url = Some(url.to_owned());
                }
                stdout.push(line);
            } else {
                let _ = child.kill();
                let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                panic!("openccm did not start; stdout {stdout:?}; log:\n{log}");
            }
        };
        Self {
            child,
            base_url,
            metrics_url,
            stdout,
            stderr_path,
            stdout_rx: rx,
        }
    }

    pub fn port(&self) -> u16 {
        self.base_url.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port())
    }

    /// The server's log (stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Everything printed on stdout so far.
    pub fn stdout_text(&mut self) -> String {
        while let Ok(line) = self.stdout_rx.try_recv() {
            self.stdout.push(line);
        }
        self.stdout.join("\n")
    }

    /// Sends SIGTERM and waits for the exit code.
    pub fn terminate(mut self) -> i32 {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        self.wait_exit()
    }

    pub fn wait_exit(&mut self) -> i32 {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("openccm did not exit within 30 s");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rand_suffix() -> String {
    let bytes: [u8; 6] = rand_bytes();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let seed = nanos ^ u128::from(std::process::id());
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::try_from((seed >> (i * 8)) & 0xff).unwrap();
    }
    out
}

pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// A reqwest request signed like the SDK signs.
pub async fn signed(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> reqwest::Response {
    signed_with(
        client,
        server,
        &creds.access_key,
        &creds.secret_key,
        method,
        target,
        body,
    )
    .await
}

pub async fn signed_with(
    client: &reqwest::Client,
    server: &Server,
    ak: &str,
    sk: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> reqwest::Response {
    signed_to(client, &server.base_url, ak, sk, method, target, body).await
}

/// A request signed like the SDK signs, to the server at `base_url`
/// (`http://127.0.0.1:PORT`): for tasks that cannot hold the `Server`.
pub async fn signed_to(
    client: &reqwest::Client,
    base_url: &str,
    ak: &str,
    sk: &str,
    method: &str,
    target: &str,
    body: Option<&str>,
) -> reqwest::Response {
    let host = base_url
        .strip_prefix("http://")
        .or_else(|| base_url.strip_prefix("https://"))
        .unwrap_or(base_url);
    let request = SdkRequest::new(method, target, body).host(host);
    let mut builder = client.request(method.parse().unwrap(), format!("{base_url}{target}"));
    for (name, value) in request.signed_headers(ak, sk, now_ms()) {
        builder = builder.header(name, value);
    }
    if let Some(body) = body {
        builder = builder.body(body.to_owned());
    }
    builder.send().await.expect("request")
}

/// A password token, as curl would get it.
pub async fn password_token(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": creds.user_name, "password": creds.password, "domain": {"name": creds.domain_name}}}},
        "scope": {"domain": {"name": creds.domain_name}}}});
    let response = client
        .post(format!("{}/v3/auth/tokens", server.base_url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), 201);
    response.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Two servers on one PostgreSQL database, sharing a master key, with their
/// data directories `a` and `b` under `dir`; `a` bootstrapped the
/// administrator whose credentials come back.
pub fn two_servers(dir: &Path, db: &openccm_testkit::TestDb) -> (Server, Server, Credentials) {
    two_servers_at(dir, &db.url)
}

/// [`two_servers`] on the database at `url`.
pub fn two_servers_at(dir: &Path, url: &str) -> (Server, Server, Credentials) {
    let key = dir.join("shared-master.key");
    let start = |name: &str| {
        let data = dir.join(name);
        Server::start(
            &[
                "--database-url",
                url,
                "--master-key-file",
                key.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            dir,
        )
    };
    let a = start("a");
    let b = start("b");
    let creds = Credentials::read(&dir.join("a"));
    (a, b, creds)
}

/// A fresh PostgreSQL database on the test server, dropped with the value.
pub async fn pg_database() -> openccm_testkit::TestDb {
    openccm_testkit::TestDb::new(openccm_testkit::Backend::Postgres).await
}

/// A PostgreSQL server of the test's own (initdb in a temporary directory,
/// on a free loopback port), for tests that stop or restart it; stopped
/// when dropped. As root it runs as `postgres`, as scripts/test runs its.
pub struct OwnPostgres {
    data: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

impl OwnPostgres {
    pub fn start() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL installed (scripts/test installs it)")
            .map(|e| e.unwrap().path().join("bin"))
            .max_by_key(|p| {
                p.parent()
                    .and_then(|v| v.file_name())
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
            })
            .unwrap();
        let data = tempfile::Builder::new()
            .prefix("openccm-own-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let port = {
            let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            free.local_addr().unwrap().port()
        };
        let pg = Self { data, bin, port };
        if Self::as_root() {
            let chown = Command::new("chown")
                .args(["postgres"])
                .arg(pg.data.path())
                .status()
                .unwrap();
            assert!(chown.success());
        }
        pg.run(
            "initdb",
            &[
                "-D",
                pg.data_dir(),
                "-A",
                "trust",
                "-U",
                "openccm",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.pg_ctl("start");
        pg
    }

    fn as_root() -> bool {
        use std::os::unix::fs::MetadataExt as _;
        // The owner of this process's /proc entry is its effective user.
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    }

    fn data_dir(&self) -> &str {
        self.data.path().to_str().unwrap()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let program = self.bin.join(tool);
        let mut command = if Self::as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = command.args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl start`, `stop` (fast) or `restart` (fast), waiting for it.
    pub fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=100",
            self.port,
            self.data_dir()
        );
        let log = self.data.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                self.data_dir(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-m",
                "fast",
                "-o",
                &options,
                action,
            ],
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://openccm@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let mut command = if Self::as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let _ = command
            .args(["-D", self.data_dir(), "-m", "immediate", "stop"])
            .output();
    }
}

/// `openccm admin ARGS`, with no database URL from the environment.
pub fn admin(args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .arg("admin")
        .args(args)
        .env_remove("OPENCCM_DATABASE_URL")
        .output()
        .expect("run openccm admin")
}

/// What a finished command wrote, standard output then standard error.
pub fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A signed POST of `body`: the status and the answer (`Null` if none).
pub async fn post_json(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = signed(client, server, creds, "POST", path, Some(&body.to_string())).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// A child process killed (and reaped) when dropped, test failure or not.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A test CA (`ca.crt`) and a listener certificate it signed for
/// 127.0.0.1 and localhost (`tls.crt`, `tls.key`), made by `openssl` in
/// `dir`: `(ca, cert, key)`.
pub fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (ca, cert, key) = (dir.join("ca.crt"), dir.join("tls.crt"), dir.join("tls.key"));
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=test ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "tls.key",
        "-out",
        "tls.csr",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "tls.crt",
    ]);
    (ca, cert, key)
}
