//! Expiry notices delivered to real receivers: an SMTP server (aiosmtpd,
//! STARTTLS and AUTH required: tests/smtp/server.py) and a webhook receiver
//! that refuses calls until told otherwise. One certificate about to expire
//! produces one e-mail and one signed webhook delivery, the webhook's
//! accepted only after a server restart (its retries carried across it),
//! and nothing more after another restart; once it has expired (time advanced through the
//! store: its notAfter moved back), one more of each. An SSL certificate
//! whose SCM notices are off produces nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::harness::{signed, Credentials, Killed, Server};

fn python() -> String {
    std::env::var("OPENCCM_TEST_PYTHON")
        .expect("OPENCCM_TEST_PYTHON: run the suite with scripts/test, which builds the virtualenv")
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for `localhost` signed by it, in `dir`.
fn smtp_tls_files(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Test SMTP CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "smtp.key",
            "-out",
            "smtp.csr",
        ],
    );
    std::fs::write(
        dir.join("smtp.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "smtp.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "smtp.ext",
            "-out",
            "smtp.pem",
        ],
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The messages the SMTP server accepted, in order.
fn mails(dir: &Path) -> Vec<Value> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// One call the webhook receiver got: its signature, event id and body,
/// and whether it was accepted.
#[derive(Clone, Debug)]
struct Call {
    signature: String,
    event_id: String,
    body: String,
    accepted: bool,
}

/// A webhook receiver on loopback that answers 500 until `accepting` is
/// set, and 200 from then on.
async fn webhook_receiver(accepting: Arc<AtomicBool>) -> (String, Arc<Mutex<Vec<Call>>>) {
    let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
    let seen = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = seen.clone();
            let accepted = accepting.load(Ordering::SeqCst);
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                seen.lock().unwrap().push(Call {
                    signature: header("x-openccm-signature"),
                    event_id: header("x-openccm-event-id"),
                    body,
                    accepted,
                });
                if accepted {
                    axum::http::StatusCode::OK
                } else {
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, calls)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(40);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Checks the `X-OpenCCM-Signature` of `call` with `secret`.
fn signature_holds(call: &Call, secret: &str) -> bool {
    let Some((t, v1)) = call
        .signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", call.body).as_bytes());
    hex::decode(v1).is_ok_and(|v| mac.verify_slice(&v).is_ok())
}

async fn post(
    client: &reqwest::Client,
    server: &Server,
    creds: &Credentials,
    path: &str,
    body: &Value,
) -> Value {
    let r = signed(client, server, creds, "POST", path, Some(&body.to_string())).await;
    let status = r.status().as_u16();
    let answer: Value = r.json().await.unwrap_or(Value::Null);
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

#[tokio::test]
async fn an_expiring_certificate_is_noticed_once_by_mail_and_by_a_signed_webhook_on_sqlite() {
    expiring_certificate_noticed_once(None).await;
}

#[tokio::test]
async fn an_expiring_certificate_is_noticed_once_by_mail_and_by_a_signed_webhook_on_postgresql() {
    let db = crate::harness::pg_database().await;
    expiring_certificate_noticed_once(Some(&db.url)).await;
}

/// On the embedded store, or on the PostgreSQL database at `pg`.
async fn expiring_certificate_noticed_once(pg: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    smtp_tls_files(d);
    let inbox = d.join("inbox");
    std::fs::create_dir(&inbox).unwrap();
    let smtp_port = free_port();
    let mut smtp = Killed(
        Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/smtp/server.py"))
            .arg(smtp_port.to_string())
            .arg(d.join("smtp.pem"))
            .arg(d.join("smtp.key"))
            .arg(&inbox)
            .args(["notifier", "s3cret"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP server"),
    );
    {
        use std::io::BufRead as _;
        let mut line = String::new();
        std::io::BufReader::new(smtp.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
    }
    let accepting = Arc::new(AtomicBool::new(false));
    let (hook_url, calls) = webhook_receiver(accepting.clone()).await;
    let accepted = |calls: &Arc<Mutex<Vec<Call>>>| -> Vec<Call> {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.accepted)
            .cloned()
            .collect()
    };
    std::fs::write(d.join("smtp-password"), "s3cret\n").unwrap();
    let data = d.join("data");
    let args = [
        "--data-dir".to_owned(),
        data.to_str().unwrap().to_owned(),
        "--notify-every-secs".to_owned(),
        "1".to_owned(),
        "--smtp-server".to_owned(),
        format!("localhost:{smtp_port}"),
        "--smtp-user".to_owned(),
        "notifier".to_owned(),
        "--smtp-password-file".to_owned(),
        d.join("smtp-password").to_str().unwrap().to_owned(),
        "--smtp-from".to_owned(),
        "ccm@example.com".to_owned(),
        "--smtp-ca-file".to_owned(),
        d.join("ca.pem").to_str().unwrap().to_owned(),
    ];
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(url) = pg {
        args.extend(["--database-url", url]);
    }
    let server = Server::start(&args, d);
    let creds = Credentials::read(&data);
    let db_args: Vec<&str> = pg
        .map(|url| vec!["--database-url", url])
        .unwrap_or_default();
    let set = Command::new(crate::harness::binary())
        .args(["admin", "--data-dir", data.to_str().unwrap()])
        .args(&db_args)
        .args([
            "notification",
            "set",
            "--account",
            &creds.domain_name,
            "--email",
            "ops@example.com",
            "--webhook-url",
            &hook_url,
            "--days",
            "30,7",
        ])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&set.stdout).into_owned();
    assert!(
        set.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let secret = said
        .lines()
        .find_map(|l| l.strip_prefix("webhook secret      : "))
        .expect("the webhook secret, shown once")
        .trim()
        .to_owned();

    let client = reqwest::Client::new();
    let ca = post(
        &client,
        &server,
        &creds,
        "/v1/private-certificate-authorities",
        &json!({
        "type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "validity": {"type": "YEAR", "value": 10},
        "distinguished_name": {"common_name": "Notice Root", "country": "CN", "state": "Guangdong",
            "locality": "Shenzhen", "organization": "Example", "organizational_unit": "IT"}}),
    )
    .await["ca_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cert = post(
        &client,
        &server,
        &creds,
        "/v1/private-certificates",
        &json!({
        "issuer_id": ca, "key_algorithm": "EC256", "signature_algorithm": "SHA256",
        "distinguished_name": {"common_name": "soon.example.com"},
        "validity": {"type": "DAY", "value": 5}}),
    )
    .await["certificate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // An SSL certificate that also expires within days, its notices off.
    let files = tempfile::tempdir().unwrap();
    openssl(
        files.path(),
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "3",
            "-subj",
            "/CN=quiet.example.com",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
        ],
    );
    post(
        &client,
        &server,
        &creds,
        "/v3/scm/certificates/import",
        &json!({"name": "quiet",
        "certificate": std::fs::read_to_string(files.path().join("c.pem")).unwrap(),
        "private_key": std::fs::read_to_string(files.path().join("k.pem")).unwrap()}),
    )
    .await;

    // One e-mail; the webhook refused once, then accepted.
    // The e-mail goes out; the webhook receiver refuses, and the server
    // restarts while that notice waits for its next try.
    wait_until("an e-mail and a refused webhook call", || {
        mails(&inbox).len() == 1 && !calls.lock().unwrap().is_empty()
    })
    .await;
    // The refusal is recorded right after the answer, and the next try is
    // a second away: the restart comes between them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.terminate(), 0);
    let server = Server::start(&args, d);
    accepting.store(true, Ordering::SeqCst);
    wait_until("the webhook call accepted after the restart", || {
        accepted(&calls).len() == 1
    })
    .await;
    let mail = &mails(&inbox)[0];
    assert_eq!(mail["mail_from"], "ccm@example.com");
    assert_eq!(mail["rcpt_tos"], json!(["ops@example.com"]));
    assert_eq!(mail["tls"], true, "STARTTLS");
    assert_eq!(mail["user"], "notifier", "AUTH");
    // Long headers are folded (RFC 5322): unfolded before reading.
    let text = mail["data"]
        .as_str()
        .unwrap()
        .replace("\r\n", "\n")
        .replace("\n ", " ");
    assert!(
        text.contains(
            "Subject: [OpenCCM] Private certificate soon.example.com expires within 7 days"
        ),
        "{text}"
    );
    assert!(text.contains(&cert), "{text}");
    assert!(text.contains("X-OpenCCM-Event-Id: "), "{text}");
    let hooks = calls.lock().unwrap().clone();
    assert!(hooks.len() >= 2 && !hooks[0].accepted, "{hooks:?}");
    assert!(
        hooks
            .iter()
            .all(|c| c.event_id == hooks[0].event_id && c.body == hooks[0].body),
        "every try is the same event: {hooks:?}"
    );
    assert!(
        hooks.iter().all(|c| signature_holds(c, &secret)),
        "{hooks:?}"
    );
    let delivered = hooks.last().unwrap().clone();
    assert!(delivered.accepted);
    assert!(!signature_holds(&delivered, "another secret"));
    let event: Value = serde_json::from_str(&delivered.body).unwrap();
    assert_eq!(event["type"], "CERT_EXPIRING");
    assert_eq!(event["resource_type"], "private-certificate");
    assert_eq!(event["resource_id"], cert.as_str());
    assert_eq!(event["days_before"], 7);
    assert_eq!(event["event_id"], delivered.event_id.as_str());
    assert_eq!(event["account_id"], creds.domain_id.as_str());

    // A restart sends nothing delivered again.
    assert_eq!(server.terminate(), 0);
    let server = Server::start(&args, d);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(mails(&inbox).len(), 1);
    assert_eq!(calls.lock().unwrap().len(), hooks.len());

    // Time advanced through the store: the certificate has expired.
    let expired_at = crate::harness::now_ms() - 3_600_000;
    match pg {
        None => {
            rusqlite::Connection::open(data.join("openccm.db"))
                .unwrap()
                .execute(
                    "UPDATE certificates SET not_after = ?1 WHERE certificate_id = ?2",
                    rusqlite::params![expired_at, cert],
                )
                .unwrap();
        }
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
                .await
                .unwrap();
            sqlx::query("UPDATE certificates SET not_after = $1 WHERE certificate_id = $2")
                .bind(expired_at)
                .bind(&cert)
                .execute(&mut conn)
                .await
                .unwrap();
        }
    }
    wait_until("the expired notices", || {
        mails(&inbox).len() == 2 && accepted(&calls).len() == 2
    })
    .await;
    let text = mails(&inbox)[1]["data"].as_str().unwrap().to_owned();
    assert!(text.contains("soon.example.com has expired"), "{text}");
    let last = accepted(&calls)[1].clone();
    assert!(signature_holds(&last, &secret));
    assert_eq!(
        serde_json::from_str::<Value>(&last.body).unwrap()["type"],
        "CERT_EXPIRED"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        mails(&inbox).len(),
        2,
        "nothing for the SSL certificate, nothing twice"
    );
    assert_eq!(accepted(&calls).len(), 2);
    assert_eq!(calls.lock().unwrap().len(), hooks.len() + 1);

    let shown = Command::new(crate::harness::binary())
        .args(["admin", "--data-dir", data.to_str().unwrap()])
        .args(&db_args)
        .args(["notification", "show", "--account", &creds.domain_name])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert_eq!(shown.matches("delivered after").count(), 4, "{shown}");
    assert!(
        shown.contains(&format!("delivered after {} attempt(s)", hooks.len())),
        "{shown}"
    );
    assert_eq!(server.terminate(), 0);
}
