//! Published vectors (RFC 7515 A.3, RFC 8037 A.4, RFC 7638 §3.1, RFC 8037
//! A.3) and signatures OpenSSL makes, then everything a verifier must
//! refuse.

use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::json;

use super::*;

// RFC 7515 Appendix A.3: ES256 (the payload is A.1's JWT claims).
const A3_PROTECTED: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_PAYLOAD: &str =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const A3_SIGNATURE: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

// RFC 8037 Appendices A.3 and A.4: Ed25519.
const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const ED_THUMBPRINT: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
const ED_PROTECTED: &str = "eyJhbGciOiJFZERTQSJ9";
const ED_PAYLOAD: &str = "RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const ED_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// RFC 7638 §3.1: an RSA key and its thumbprint.
const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

fn flattened(protected: &str, payload: &str, signature: &str) -> Vec<u8> {
    json!({"protected": protected, "payload": payload, "signature": signature})
        .to_string()
        .into_bytes()
}

fn a3_key() -> Jwk {
    Jwk::from_json(&json!({"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y})).unwrap()
}

#[test]
fn the_published_es256_and_eddsa_signatures_verify() {
    let jws = FlattenedJws::parse(&flattened(A3_PROTECTED, A3_PAYLOAD, A3_SIGNATURE)).unwrap();
    assert_eq!(jws.alg, JwsAlgorithm::Es256);
    assert!(jws.payload.starts_with(b"{\"iss\":\"joe\""));
    jws.verify(&a3_key()).unwrap();

    let ed = Jwk::from_json(&json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X})).unwrap();
    let jws = FlattenedJws::parse(&flattened(ED_PROTECTED, ED_PAYLOAD, ED_SIGNATURE)).unwrap();
    assert_eq!(jws.alg, JwsAlgorithm::EdDsa);
    assert_eq!(jws.payload, b"Example of Ed25519 signing");
    jws.verify(&ed).unwrap();
}

#[test]
fn thumbprints_match_the_published_ones() {
    let rsa = Jwk::from_json(&json!({"kty": "RSA", "n": RFC7638_N, "e": "AQAB",
        "alg": "RS256", "kid": "2011-04-29"}))
    .unwrap();
    assert_eq!(rsa.thumbprint(), RFC7638_THUMBPRINT);
    let ed = Jwk::from_json(&json!({"kty": "OKP", "crv": "Ed25519", "x": ED_X})).unwrap();
    assert_eq!(ed.thumbprint(), ED_THUMBPRINT);
}

/// A JWS over `payload` signed by OpenSSL with `key` (DER ECDSA
/// signatures turned into JOSE's R || S).
fn signed_by(key: &PKey<Private>, alg: &str, payload: &[u8]) -> Vec<u8> {
    let protected = b64url(json!({"alg": alg}).to_string().as_bytes());
    let payload = b64url(payload);
    let input = format!("{protected}.{payload}");
    let signature = match alg {
        "EdDSA" => {
            let mut signer = Signer::new_without_digest(key).unwrap();
            signer.sign_oneshot_to_vec(input.as_bytes()).unwrap()
        }
        _ => {
            let digest = if alg == "ES384" {
                MessageDigest::sha384()
            } else {
                MessageDigest::sha256()
            };
            let mut signer = Signer::new(digest, key).unwrap();
            signer.update(input.as_bytes()).unwrap();
            let der = signer.sign_to_vec().unwrap();
            if alg.starts_with("ES") {
                let size = if alg == "ES384" { 48 } else { 32 };
                let sig = openssl::ecdsa::EcdsaSig::from_der(&der).unwrap();
                let mut raw = sig.r().to_vec_padded(size).unwrap();
                raw.extend(sig.s().to_vec_padded(size).unwrap());
                raw
            } else {
                der
            }
        }
    };
    flattened(&protected, &payload, &b64url(&signature))
}

fn ec_key(nid: Nid) -> (PKey<Private>, Jwk) {
    let key = EcKey::generate(&EcGroup::from_curve_name(nid).unwrap()).unwrap();
    let size = if nid == Nid::SECP384R1 { 48 } else { 32 };
    let mut ctx = openssl::bn::BigNumContext::new().unwrap();
    let (mut x, mut y) = (
        openssl::bn::BigNum::new().unwrap(),
        openssl::bn::BigNum::new().unwrap(),
    );
    key.public_key()
        .affine_coordinates(key.group(), &mut x, &mut y, &mut ctx)
        .unwrap();
    let crv = if size == 48 { "P-384" } else { "P-256" };
    let jwk = Jwk::from_json(&json!({"kty": "EC", "crv": crv,
        "x": b64url(&x.to_vec_padded(size).unwrap()), "y": b64url(&y.to_vec_padded(size).unwrap())}))
    .unwrap();
    (PKey::from_ec_key(key).unwrap(), jwk)
}

fn rsa_key(bits: u32) -> (PKey<Private>, Value) {
    let rsa = Rsa::generate(bits).unwrap();
    let jwk = json!({"kty": "RSA", "n": b64url(&rsa.n().to_vec()), "e": b64url(&rsa.e().to_vec())});
    (PKey::from_rsa(rsa).unwrap(), jwk)
}

#[test]
fn what_openssl_signs_verifies_and_nothing_else_does() {
    let (p256, p256_jwk) = ec_key(Nid::X9_62_PRIME256V1);
    let (p384, p384_jwk) = ec_key(Nid::SECP384R1);
    let (rsa, rsa_json) = rsa_key(2048);
    let rsa_jwk = Jwk::from_json(&rsa_json).unwrap();
    let ed = PKey::generate_ed25519().unwrap();
    let ed_jwk = Jwk::from_json(&json!({"kty": "OKP", "crv": "Ed25519",
        "x": b64url(&ed.raw_public_key().unwrap())}))
    .unwrap();
    let cases = [
        (&p256, "ES256", &p256_jwk),
        (&p384, "ES384", &p384_jwk),
        (&rsa, "RS256", &rsa_jwk),
        (&ed, "EdDSA", &ed_jwk),
    ];
    for (key, alg, jwk) in cases {
        let body = signed_by(key, alg, br#"{"termsOfServiceAgreed":true}"#);
        let jws = FlattenedJws::parse(&body).unwrap();
        jws.verify(jwk).unwrap_or_else(|e| panic!("{alg}: {e}"));
        // Every other key refuses it.
        for (_, other_alg, other) in cases {
            if other_alg != alg {
                assert!(
                    jws.verify(other).is_err(),
                    "{alg} verified by {other_alg}'s key"
                );
            }
        }
        // A changed payload or signature does not verify.
        let mut value: Value = serde_json::from_slice(&body).unwrap();
        value["payload"] = json!(b64url(br#"{"termsOfServiceAgreed":false}"#));
        let changed = FlattenedJws::parse(value.to_string().as_bytes()).unwrap();
        assert!(changed.verify(jwk).is_err(), "{alg}: changed payload");
        let mut flipped = jws.clone();
        flipped.signature[3] ^= 1;
        assert!(flipped.verify(jwk).is_err(), "{alg}: changed signature");
        flipped.signature = jws.signature[1..].to_vec();
        assert!(flipped.verify(jwk).is_err(), "{alg}: short signature");
    }
    // The same P-256 key, other curve's algorithm: refused before OpenSSL.
    let es384_by_p256 = signed_by(&p256, "ES384", b"{}");
    assert!(FlattenedJws::parse(&es384_by_p256)
        .unwrap()
        .verify(&p256_jwk)
        .is_err());
}

#[test]
fn hs256_macs_verify_in_constant_time_and_only_as_hs256() {
    let secret = [7u8; 32];
    let protected = b64url(br#"{"alg":"HS256","kid":"k1"}"#);
    let payload = b64url(b"{}");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&secret).unwrap();
    mac.update(format!("{protected}.{payload}").as_bytes());
    let tag = mac.finalize().into_bytes();
    let jws = FlattenedJws::parse(&flattened(&protected, &payload, &b64url(&tag))).unwrap();
    jws.verify_hs256(&secret).unwrap();
    assert_eq!(jws.header_text("kid"), Some("k1"));
    assert!(jws.verify_hs256(&[8u8; 32]).is_err());
    // HS256 is never an account signature, and a MAC check refuses others.
    assert!(jws.verify(&a3_key()).is_err());
    let es = FlattenedJws::parse(&flattened(A3_PROTECTED, A3_PAYLOAD, A3_SIGNATURE)).unwrap();
    assert!(es.verify_hs256(&secret).is_err());
}

#[test]
fn malformed_jws_and_jwks_are_refused() {
    let ok = flattened(A3_PROTECTED, A3_PAYLOAD, A3_SIGNATURE);
    assert!(FlattenedJws::parse(&ok).is_ok());
    let none = b64url(br#"{"alg":"none"}"#);
    let bad_bodies: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"[]".to_vec(),
        json!({"protected": A3_PROTECTED, "payload": A3_PAYLOAD})
            .to_string()
            .into_bytes(),
        json!({"protected": A3_PROTECTED, "payload": A3_PAYLOAD, "signature": A3_SIGNATURE,
            "header": {"kid": "x"}})
        .to_string()
        .into_bytes(),
        json!({"payload": A3_PAYLOAD, "signatures": []})
            .to_string()
            .into_bytes(),
        json!({"protected": A3_PROTECTED, "payload": 1, "signature": A3_SIGNATURE})
            .to_string()
            .into_bytes(),
        flattened(&format!("{A3_PROTECTED}=="), A3_PAYLOAD, A3_SIGNATURE),
        flattened(&format!(" {A3_PROTECTED}"), A3_PAYLOAD, A3_SIGNATURE),
        flattened(A3_PROTECTED, A3_PAYLOAD, &format!("{A3_SIGNATURE}==")),
        flattened(A3_PROTECTED, "a+b/", A3_SIGNATURE),
        flattened(&none, A3_PAYLOAD, ""),
        flattened(&b64url(b"[1]"), A3_PAYLOAD, A3_SIGNATURE),
        flattened(&b64url(br#"{"alg":"ES512"}"#), A3_PAYLOAD, A3_SIGNATURE),
    ];
    for body in bad_bodies {
        assert!(
            FlattenedJws::parse(&body).is_err(),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    let (_, small_rsa) = rsa_key(1024);
    let off_curve_y = b64url(&[1u8; 32]);
    let bad_keys = vec![
        json!("EC"),
        json!({"kty": "EC", "crv": "P-521", "x": A3_X, "y": A3_Y}),
        json!({"kty": "EC", "crv": "P-256", "x": A3_X}),
        json!({"kty": "EC", "crv": "P-256", "x": A3_X, "y": off_curve_y}),
        json!({"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y, "d": "AAAA"}),
        json!({"kty": "OKP", "crv": "X25519", "x": ED_X}),
        json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(&[7u8; 31])}),
        json!({"kty": "oct", "k": "AAAA"}),
        small_rsa,
        json!({"kty": "RSA", "n": RFC7638_N, "e": "AAEAAQ"}),
    ];
    for key in bad_keys {
        assert!(Jwk::from_json(&key).is_err(), "{key}");
    }
}

#[test]
fn keys_that_are_not_what_they_claim_are_refused() {
    // A P-256 point whose x starts with a zero byte, sent short: a second
    // spelling of the key (and a second thumbprint) if it were taken.
    let (full, short_x) = loop {
        let (_, jwk) = ec_key(Nid::X9_62_PRIME256V1);
        if let Jwk::Ec { x, y, .. } = &jwk {
            if x[0] == 0 {
                break (
                    json!({"kty": "EC", "crv": "P-256", "x": b64url(x), "y": b64url(y)}),
                    json!({"kty": "EC", "crv": "P-256", "x": b64url(&x[1..]), "y": b64url(y)}),
                );
            }
        }
    };
    assert!(Jwk::from_json(&full).is_ok());
    assert!(Jwk::from_json(&short_x).is_err(), "{short_x}");

    // RSA: bits counted exactly, the exponent small and odd, the modulus odd.
    let (_, rsa_2041) = rsa_key(2041);
    assert!(Jwk::from_json(&rsa_2041).is_err(), "2041 bits");
    let (_, rsa) = rsa_key(2048);
    assert!(Jwk::from_json(&rsa).is_ok());
    let n = rsa["n"].as_str().unwrap().to_owned();
    for e in [
        vec![1u8],
        vec![2],
        vec![1, 0, 0],
        vec![1, 0, 0, 0, 1],
        vec![0xff; 9],
    ] {
        let key = json!({"kty": "RSA", "n": n, "e": b64url(&e)});
        assert!(Jwk::from_json(&key).is_err(), "e = {e:?}");
    }
    let mut even = b64url_decode(&n, "n").unwrap();
    *even.last_mut().unwrap() &= 0xfe;
    assert!(Jwk::from_json(&json!({"kty": "RSA", "n": b64url(&even), "e": "AQAB"})).is_err());

    // Ed25519: the identity (small order), and it spelled non-canonically
    // (y = p + 1).
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut p_plus_one = [0xffu8; 32];
    p_plus_one[0] = 0xee;
    p_plus_one[31] = 0x7f;
    for x in [identity, p_plus_one] {
        let key = json!({"kty": "OKP", "crv": "Ed25519", "x": b64url(&x)});
        assert!(Jwk::from_json(&key).is_err(), "{key}");
    }
}

#[test]
fn a_signature_of_another_key_of_the_same_type_is_refused() {
    let (p256_a, _) = ec_key(Nid::X9_62_PRIME256V1);
    let (_, p256_b) = ec_key(Nid::X9_62_PRIME256V1);
    let (rsa_a, _) = rsa_key(2048);
    let (_, rsa_b) = rsa_key(2048);
    let ed_a = PKey::generate_ed25519().unwrap();
    let ed_b = PKey::generate_ed25519().unwrap();
    let ed_b = Jwk::from_json(&json!({"kty": "OKP", "crv": "Ed25519",
        "x": b64url(&ed_b.raw_public_key().unwrap())}))
    .unwrap();
    for (key, alg, other) in [
        (&p256_a, "ES256", p256_b),
        (&rsa_a, "RS256", Jwk::from_json(&rsa_b).unwrap()),
        (&ed_a, "EdDSA", ed_b),
    ] {
        let jws = FlattenedJws::parse(&signed_by(key, alg, b"{}")).unwrap();
        let err = jws.verify(&other).unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{alg}: {err}");
    }
    // An ECDSA signature of zeros (r = s = 0) is refused, not an error
    // of another kind.
    let mut zeros =
        FlattenedJws::parse(&flattened(A3_PROTECTED, A3_PAYLOAD, A3_SIGNATURE)).unwrap();
    zeros.signature = vec![0; 64];
    assert!(zeros.verify(&a3_key()).is_err());
}

#[test]
fn strict_encodings_crit_and_mac_lengths() {
    assert_eq!(b64url_decode("AQ", "x").unwrap(), [1]);
    for bad in ["AR", "AQ==", "A Q", "+/8", "AQ\n"] {
        assert!(b64url_decode(bad, "x").is_err(), "{bad:?}");
    }
    let crit = b64url(br#"{"alg":"ES256","crit":["b64"],"b64":false}"#);
    assert!(FlattenedJws::parse(&flattened(&crit, A3_PAYLOAD, A3_SIGNATURE)).is_err());
    // POST-as-GET: an empty payload.
    let get = FlattenedJws::parse(&flattened(A3_PROTECTED, "", A3_SIGNATURE)).unwrap();
    assert!(get.payload().is_empty());
    assert_eq!(get.alg(), JwsAlgorithm::Es256);
    assert!(
        get.verify(&a3_key()).is_err(),
        "signed over another payload"
    );

    let protected = b64url(br#"{"alg":"HS256"}"#);
    let payload = b64url(b"{}");
    let mac = |secret: &[u8]| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
        mac.update(format!("{protected}.{payload}").as_bytes());
        mac.finalize().into_bytes().to_vec()
    };
    let tag = mac(&[9u8; 32]);
    let truncated =
        FlattenedJws::parse(&flattened(&protected, &payload, &b64url(&tag[..16]))).unwrap();
    assert!(truncated.verify_hs256(&[9u8; 32]).is_err());
    let short = [9u8; 8];
    let with_short =
        FlattenedJws::parse(&flattened(&protected, &payload, &b64url(&mac(&short)))).unwrap();
    assert!(
        with_short.verify_hs256(&short).is_err(),
        "an 8-byte MAC key"
    );
}
