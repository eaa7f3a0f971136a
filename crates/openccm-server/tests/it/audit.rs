//! The audit trail end to end: calls recorded with who, where, what and how
//! it ended, no secret in it, `openccm admin audit verify` catching an
//! edited or deleted event (in the database and in an export), and two
//! PostgreSQL servers appending at once to one valid chain.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{
    admin, output_text as text, password_token, pg_database, signed, two_servers, Credentials,
    Server,
};

fn export(store: &[&str]) -> Vec<Value> {
    let out = admin(&[store, &["audit", "export"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sqlite(db: &Path, sql: &str) {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()",
            db.to_str().unwrap(),
            sql,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
}

/// Calls of every kind: a create, a read, a refusal, temporary credentials.
async fn some_calls(server: &Server, creds: &Credentials) -> (String, String) {
    let client = reqwest::Client::new();
    let r = signed(&client, server, creds, "POST", "/v1/private-certificate-authorities",
        Some(r#"{"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
                 "validity": {"type": "YEAR", "value": 1},
                 "distinguished_name": {"common_name": "Audited Root", "country": "CN", "state": "GD",
                   "locality": "SZ", "organization": "O", "organizational_unit": "U"}}"#)).await;
    assert_eq!(r.status(), 200);
    let created_id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let ca: Value = r.json().await.unwrap();
    let ca_id = ca["ca_id"].as_str().unwrap().to_owned();
    let r = signed(
        &client,
        server,
        creds,
        "GET",
        "/v1/private-certificate-authorities",
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = client
        .get(format!(
            "{}/v1/private-certificate-authorities",
            server.base_url
        ))
        .header("x-auth-token", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A control character in the path is recorded escaped.
    let r = client
        .get(format!(
            "{}/v1/private-certificate-authorities/%00%0Ax",
            server.base_url
        ))
        .header("x-auth-token", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let token = password_token(&client, server, creds).await;
    let r = client
        .post(format!(
            "{}/v3.0/OS-CREDENTIAL/securitytokens",
            server.base_url
        ))
        .header("x-auth-token", &token)
        .header("content-type", "application/json")
        .body(r#"{"auth": {"identity": {"methods": ["token"]}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let sts: Value = r.json().await.unwrap();
    (
        ca_id,
        format!("{created_id} {token} {}", sts["credential"]["secret"]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_recorded_and_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let server = Server::start(&["--data-dir", &data_arg], dir.path());
    let creds = Credentials::read(&data);
    let (ca_id, secrets) = some_calls(&server, &creds).await;
    let store = ["--data-dir", data_arg.as_str()];
    let events = export(&store);
    // The create: who, where, what, which resource, how it ended.
    let create = events
        .iter()
        .find(|e| e["action"] == "POST /v1/private-certificate-authorities")
        .expect("the create is recorded");
    assert_eq!(create["domain_id"], creds.domain_id.as_str());
    assert_eq!(create["user_id"].as_str().unwrap().len(), 32);
    assert_eq!(create["source"], "127.0.0.1");
    assert_eq!(create["resource_id"], ca_id.as_str());
    assert_eq!(create["result"], "200");
    let request_id = secrets.split(' ').next().unwrap();
    assert_eq!(create["request_id"], request_id);
    // The refusal, with its code and no user; the read is not recorded.
    assert!(events.iter().any(|e| e["result"] == "401 APIGW.0301"
        && e["action"] == "GET /v1/private-certificate-authorities"
        && e["user_id"] == ""));
    assert!(!events
        .iter()
        .any(|e| e["result"] == "200" && e["action"] == "GET /v1/private-certificate-authorities"));
    assert!(events
        .iter()
        .any(|e| e["action"] == "POST /v3/auth/tokens" && e["result"] == "201"));
    assert!(events
        .iter()
        .any(|e| e["action"] == "POST /v3.0/OS-CREDENTIAL/securitytokens"));
    assert!(
        events
            .iter()
            .any(|e| e["resource_id"] == "ca_id=\\u{0}\\u{a}x"),
        "control characters escaped"
    );
    // No secret: not the token, not the temporary SK, not the password.
    let all = events.iter().map(Value::to_string).collect::<String>();
    for secret in secrets
        .split(' ')
        .skip(1)
        .chain([creds.password.as_str(), creds.secret_key.as_str()])
    {
        assert!(
            !all.contains(secret.trim_matches('"')),
            "a secret reached the trail"
        );
    }
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=i64::try_from(seqs.len()).unwrap()).collect::<Vec<_>>()
    );
    assert_eq!(server.terminate(), 0);

    // Changes made with the CLI are recorded too.
    let out = admin(
        &[
            &store[..],
            &["user", "create", "--account", "admin", "--name", "carol"],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    let events = export(&store);
    let cli = events.last().unwrap();
    assert_eq!(
        (cli["source"].as_str(), cli["action"].as_str()),
        (Some("cli"), Some("cli user create"))
    );
    assert!(
        cli["resource_id"].as_str().unwrap().contains("carol"),
        "{cli}"
    );

    // Intact: verified, in the database and as an export.
    let out = admin(&[&store[..], &["audit", "verify"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("{} events", events.len())),
        "{}",
        text(&out)
    );
    let lines: Vec<String> = events.iter().map(Value::to_string).collect();
    let file = dir.path().join("audit.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = admin(
        &[
            &store[..],
            &["audit", "verify", "--file", file.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", text(&out));
    // An export from the middle verifies on its own.
    std::fs::write(&file, lines[2..].join("\n")).unwrap();
    let out = admin(
        &[
            &store[..],
            &["audit", "verify", "--file", file.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(out.status.success(), "{}", text(&out));

    // An edited export line.
    let mut edited: Vec<Value> = events.clone();
    edited[1]["result"] = Value::from("200");
    let edited: Vec<String> = edited.iter().map(Value::to_string).collect();
    std::fs::write(&file, edited.join("\n")).unwrap();
    let out = admin(
        &[
            &store[..],
            &["audit", "verify", "--file", file.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("event 2"), "{}", text(&out));

    // An edited row.
    let db = data.join("openccm.db");
    sqlite(&db, "UPDATE audit_events SET result = '200' WHERE seq = 2");
    let out = admin(&[&store[..], &["audit", "verify"]].concat());
    assert!(!out.status.success(), "an edited event went unnoticed");
    assert!(
        text(&out).contains("BROKEN") && text(&out).contains("event 2"),
        "{}",
        text(&out)
    );
    // A deleted row (the edit undone first: the deletion alone is caught).
    let original = events[1]["result"].as_str().unwrap().replace('\'', "''");
    sqlite(
        &db,
        &format!("UPDATE audit_events SET result = '{original}' WHERE seq = 2"),
    );
    assert!(admin(&[&store[..], &["audit", "verify"]].concat())
        .status
        .success());
    sqlite(&db, "DELETE FROM audit_events WHERE seq = 3");
    let out = admin(&[&store[..], &["audit", "verify"]].concat());
    assert!(!out.status.success(), "a deleted event went unnoticed");
    assert!(text(&out).contains("missing"), "{}", text(&out));
    // Put back as it was: verified again.
    let e = &events[2];
    sqlite(&db, &format!(
        "INSERT INTO audit_events VALUES ({}, {}, '{}', '{}', '{}', '{}', '{}', '{}', '{}', {}, X'{}')",
        e["seq"], e["at"], e["domain_id"].as_str().unwrap(), e["user_id"].as_str().unwrap(),
        e["source"].as_str().unwrap(), e["action"].as_str().unwrap(), e["resource_id"].as_str().unwrap(),
        e["result"].as_str().unwrap(), e["request_id"].as_str().unwrap(), e["key_version"],
        e["mac"].as_str().unwrap()));
    assert!(admin(&[&store[..], &["audit", "verify"]].concat())
        .status
        .success());
    // The last event deleted: the head no longer matches the chain.
    sqlite(
        &db,
        "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
    );
    let out = admin(&[&store[..], &["audit", "verify"]].concat());
    assert!(!out.status.success(), "a deleted last event went unnoticed");
    assert!(text(&out).contains("head"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_servers_appending_at_once_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = pg_database().await;
    let (a, b, creds) = two_servers(dir.path(), &db);
    let client = reqwest::Client::new();
    // A NUL in a path must not cost a batch its place on PostgreSQL.
    let nul = client
        .get(format!(
            "{}/v1/private-certificate-authorities/%00",
            a.base_url
        ))
        .header("x-auth-token", "forged")
        .send();
    let body = r#"{"auth": {"identity": {"methods": ["hw_ak_sk"]}}}"#;
    let calls = (0..40).map(|i| {
        let server = if i % 2 == 0 { &a } else { &b };
        signed(
            &client,
            server,
            &creds,
            "POST",
            "/v3/auth/tokens",
            Some(body),
        )
    });
    let (nul, responses) = tokio::join!(nul, futures_util::future::join_all(calls));
    assert_eq!(nul.unwrap().status(), 401);
    for response in responses {
        assert_eq!(response.status(), 201);
    }
    let key = dir.path().join("shared-master.key");
    let data_a = dir.path().join("a");
    let store = [
        "--database-url",
        &db.url,
        "--master-key-file",
        key.to_str().unwrap(),
        "--data-dir",
        data_a.to_str().unwrap(),
    ];
    let out = admin(&[&store[..], &["audit", "verify"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    let events = export(&store);
    let tokens = events
        .iter()
        .filter(|e| e["action"] == "POST /v3/auth/tokens")
        .count();
    assert_eq!(tokens, 40, "every call on both servers is in the one chain");
    assert!(events.iter().any(|e| e["resource_id"] == "ca_id=\\u{0}"));
    assert_eq!(a.terminate(), 0);
    assert_eq!(b.terminate(), 0);
}

/// Calls whose clients hang up before the answer run on, each as a task of
/// its own; a SIGTERM right then lets them finish and records them before
/// the store closes (the connections are gone, so only the tracked tasks
/// say that work is left).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_whose_clients_left_finish_and_are_recorded_at_shutdown() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let server = Server::start(&["--data-dir", &data_arg], dir.path());
    let creds = Credentials::read(&data);
    let token = password_token(&reqwest::Client::new(), &server, &creds).await;
    // RSA-4096 roots: their keys take long enough to make (most of a second
    // each, one per core at a time) that calls are still running at SIGTERM
    // on any machine; that some finish after it is checked below.
    let calls = 6;
    let mut clients = Vec::new();
    for n in 0..calls {
        let body = format!(
            r#"{{"type": "ROOT", "key_algorithm": "RSA4096", "signature_algorithm": "SHA256",
                "validity": {{"type": "YEAR", "value": 1}},
                "distinguished_name": {{"common_name": "Left {n}", "country": "CN", "state": "GD",
                  "locality": "SZ", "organization": "O", "organizational_unit": "U"}}}}"#
        );
        let request = format!(
            "POST /v1/private-certificate-authorities HTTP/1.1\r\nhost: {}\r\n\
             x-auth-token: {token}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            server.host(),
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(server.host()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        clients.push(stream);
    }
    // Long enough for the server to read every request and start on it.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(clients);
    let log_path = server.stderr_path.clone();
    let signalled = crate::harness::now_ms();
    assert_eq!(server.terminate(), 0);
    let log = std::fs::read_to_string(log_path).unwrap();
    assert!(!log.contains("store is closed"), "{log}");
    let created: Vec<Value> = export(&["--data-dir", &data_arg])
        .into_iter()
        .filter(|e| e["action"] == "POST /v1/private-certificate-authorities")
        .collect();
    assert_eq!(created.len(), calls, "{created:?}");
    for event in &created {
        assert_eq!(event["result"], "200", "{event}");
        assert!(
            !event["resource_id"].as_str().unwrap().is_empty(),
            "{event}"
        );
    }
    assert!(
        created
            .iter()
            .any(|e| e["at"].as_i64().unwrap() >= signalled),
        "no call was still running at SIGTERM: the test did not test shutdown"
    );
}
