//! `openccm admin acme` (docs/api/acme.md): switching ACME on and off for a
//! CA and making EAB keys from the command line, seen through the API of
//! the running server on the same store.

use serde_json::{json, Value};

use crate::harness::{admin, output_text as text, post_json, signed, Credentials, Server};

async fn get(client: &reqwest::Client, server: &Server, creds: &Credentials, path: &str) -> Value {
    let r = signed(client, server, creds, "GET", path, None).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_switches_acme_and_makes_eab_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let server = Server::start(&["--data-dir", &data_arg], dir.path());
    let creds = Credentials::read(&data);
    let client = reqwest::Client::new();
    let (status, ca) = post_json(
        &client,
        &server,
        &creds,
        "/v1/private-certificate-authorities",
        &json!({"type": "ROOT", "key_algorithm": "EC256", "signature_algorithm": "SHA256",
            "distinguished_name": {"common_name": "ACME Root", "country": "CN", "state": "GD",
            "locality": "SZ", "organization": "O", "organizational_unit": "U"},
            "validity": {"type": "YEAR", "value": 2}}),
    )
    .await;
    assert_eq!(status, 200, "{ca}");
    let ca = ca["ca_id"].as_str().unwrap().to_owned();
    let acme = format!("/v1/private-certificate-authorities/{ca}/acme");
    let account = creds.domain_name.as_str();

    let on = admin(&[
        "--data-dir",
        &data_arg,
        "acme",
        "enable",
        "--account",
        account,
        "--ca-id",
        &ca,
        "--allow",
        "*.Example.test",
        "--allow",
        "10.0.0.0/8",
        "--challenge",
        "http-01",
        "--max-validity-days",
        "30",
    ]);
    assert!(on.status.success(), "{}", text(&on));
    assert!(
        text(&on).contains(&format!("/acme/{ca}/directory")),
        "{}",
        text(&on)
    );
    let shown = get(&client, &server, &creds, &acme).await;
    assert_eq!(shown["acme"]["enabled"], true);
    assert_eq!(shown["acme"]["eab_required"], true);
    assert_eq!(
        shown["acme"]["allowed_identifiers"],
        json!(["*.example.test", "10.0.0.0/8"])
    );
    assert_eq!(shown["acme"]["challenges"], json!(["http-01"]));
    assert_eq!(shown["acme"]["max_validity_days"], 30);
    assert_eq!(
        shown["acme"]["directory_url"],
        format!("{}/acme/{ca}/directory", server.base_url)
    );

    let made = admin(&[
        "--data-dir",
        &data_arg,
        "acme",
        "eab",
        "create",
        "--account",
        account,
        "--ca-id",
        &ca,
        "--description",
        "web servers",
    ]);
    assert!(made.status.success(), "{}", text(&made));
    let out = text(&made);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
            .unwrap_or_else(|| panic!("{name} in {out}"))
    };
    let (key_id, hmac_key) = (field("key_id"), field("hmac_key"));
    assert_eq!(hmac_key.len(), 43, "32 bytes, base64url: {hmac_key}");
    let keys = get(&client, &server, &creds, &format!("{acme}/eab-keys")).await;
    assert_eq!(keys["eab_keys"][0]["key_id"], key_id.as_str());
    assert_eq!(keys["eab_keys"][0]["description"], "web servers");
    assert!(!keys.to_string().contains(&hmac_key));

    // Off keeps the policy.
    let off = admin(&[
        "--data-dir",
        &data_arg,
        "acme",
        "disable",
        "--account",
        account,
        "--ca-id",
        &ca,
    ]);
    assert!(off.status.success(), "{}", text(&off));
    let shown = get(&client, &server, &creds, &acme).await;
    assert_eq!(shown["acme"]["enabled"], false);
    assert_eq!(shown["acme"]["challenges"], json!(["http-01"]));
    assert!(shown["acme"].get("directory_url").is_none());

    // An unknown CA is refused, with the reason.
    let unknown = admin(&[
        "--data-dir",
        &data_arg,
        "acme",
        "enable",
        "--account",
        account,
        "--ca-id",
        "00000000-0000-4000-8000-000000000000",
    ]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("does not exist"),
        "{}",
        text(&unknown)
    );
    assert_eq!(server.terminate(), 0);
}
