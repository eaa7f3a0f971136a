//! AK/SK request signatures exactly as the official SDKs compute them
//! (../shared/api/iam-auth.md § 2, checked by ../shared/vectors/).
//!
//! Everything here is pure: the caller hands in the request's raw parts and
//! the secret key, and gets a yes or no. Time, storage and HTTP types stay out.

use hmac::{Hmac, Mac};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use sm3::Sm3;

/// RFC 3986 unreserved characters are kept; every other byte is `%XY`.
const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The SDK's replacement for the payload hash of bodies it does not sign.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// A signing scheme of the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// `SDK-HMAC-SHA256` (the SDK default).
    HmacSha256,
    /// `SDK-HMAC-SM3`.
    HmacSm3,
    /// `SDK-ECDSA-P256-SHA256`, with a key derived from AK/SK.
    EcdsaP256Sha256,
    /// `SDK-SM2-SM3`, with a key derived from AK/SK.
    Sm2Sm3,
}

impl SigningAlgorithm {
    /// The scheme named in `Authorization`, if it is one we verify.
    pub fn from_scheme(scheme: &str) -> Option<Self> {
        match scheme {
            "SDK-HMAC-SHA256" => Some(Self::HmacSha256),
            "SDK-HMAC-SM3" => Some(Self::HmacSm3),
            "SDK-ECDSA-P256-SHA256" => Some(Self::EcdsaP256Sha256),
            "SDK-SM2-SM3" => Some(Self::Sm2Sm3),
            _ => None,
        }
    }

    /// The scheme name, which is also the first line of the string to sign.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::HmacSha256 => "SDK-HMAC-SHA256",
            Self::HmacSm3 => "SDK-HMAC-SM3",
            Self::EcdsaP256Sha256 => "SDK-ECDSA-P256-SHA256",
            Self::Sm2Sm3 => "SDK-SM2-SM3",
        }
    }

    fn uses_sm3(self) -> bool {
        matches!(self, Self::HmacSm3 | Self::Sm2Sm3)
    }

    /// The header that may carry a precomputed payload hash.
    fn payload_hash_header(self) -> &'static str {
        if self.uses_sm3() {
            "x-sdk-content-sm3"
        } else {
            "x-sdk-content-sha256"
        }
    }

    /// Lower-case hex of the scheme's hash of `data`.
    pub fn hash_hex(self, data: &[u8]) -> String {
        if self.uses_sm3() {
            hex::encode(Sm3::digest(data))
        } else {
            hex::encode(Sha256::digest(data))
        }
    }
}

/// Why a signature was not accepted. The message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The `Authorization` header is not `<scheme> Access=…, SignedHeaders=…, Signature=…`.
    #[error("malformed Authorization header")]
    MalformedAuthorization,
    /// A scheme we do not verify (e.g. `V11-HMAC-SHA256`).
    #[error("unsupported signing algorithm")]
    UnsupportedAlgorithm,
    /// `host` or `x-sdk-date` is not among the signed headers.
    #[error("signed headers must include host and x-sdk-date")]
    RequiredHeaderNotSigned,
    /// A signed header is missing from the request, or appears twice.
    #[error("signed header {0} is missing or repeated")]
    SignedHeaderMissing(String),
    /// `X-Sdk-Date` is not `YYYYMMDDTHHMMSSZ`.
    #[error("malformed X-Sdk-Date")]
    MalformedDate,
    /// The payload-hash header does not match the body, or claims an unsigned non-empty body.
    #[error("payload hash header does not match the body")]
    PayloadHashMismatch,
    /// The signature does not verify.
    #[error("verify aksk signature fail")]
    Mismatch,
}

/// The parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The scheme.
    pub algorithm: SigningAlgorithm,
    /// `Access=`: the AK.
    pub access: String,
    /// `SignedHeaders=` exactly as sent (it is part of the canonical request).
    pub signed_headers: String,
    /// `Signature=`: lower-case hex.
    pub signature: String,
}

impl Authorization {
    /// Parses `<scheme> Access=<ak>, SignedHeaders=<h1;h2>, Signature=<hex>`.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let (scheme, rest) = value
            .trim()
            .split_once(' ')
            .ok_or(SignatureError::MalformedAuthorization)?;
        let algorithm =
            SigningAlgorithm::from_scheme(scheme).ok_or(SignatureError::UnsupportedAlgorithm)?;
        let (mut access, mut signed_headers, mut signature) = (None, None, None);
        for field in rest.split(',') {
            let (name, value) = field
                .trim()
                .split_once('=')
                .ok_or(SignatureError::MalformedAuthorization)?;
            let slot = match name {
                "Access" => &mut access,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => return Err(SignatureError::MalformedAuthorization),
            };
            if slot.replace(value.to_owned()).is_some() || value.is_empty() {
                return Err(SignatureError::MalformedAuthorization);
            }
        }
        match (access, signed_headers, signature) {
            (Some(access), Some(signed_headers), Some(signature)) => Ok(Self {
                algorithm,
                access,
                signed_headers,
                signature,
            }),
            _ => Err(SignatureError::MalformedAuthorization),
        }
    }

    /// The signed header names, in their signed order.
    pub fn signed_header_names(&self) -> impl Iterator<Item = &str> {
        self.signed_headers.split(';')
    }
}

/// Access to the request's headers by lower-case name.
pub trait HeaderSource {
    /// Every value of the header `name` (lower case), raw bytes, in order.
    fn values(&self, name: &str) -> Vec<&[u8]>;
}

/// The raw parts of a request, as received.
pub struct RequestParts<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path, still percent-encoded, without the query.
    pub path: &'a str,
    /// Query string after `?`, still encoded; empty when there is none.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a (dyn HeaderSource + Sync),
    /// The body bytes exactly as received.
    pub body: &'a [u8],
}

impl std::fmt::Debug for RequestParts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestParts")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RequestParts<'_> {
    /// The single value of a header, if present exactly once.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        match self.headers.values(name).as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

/// The canonical URI: decode the path as a whole, split on `/`, encode each
/// segment, and end with `/` (so an encoded slash becomes a separator, exactly
/// as the SDK does it: vector `pca_path_encoding_edge`).
pub fn canonical_uri(raw_path: &str) -> String {
    let decoded_bytes: Vec<u8> = percent_decode_str(raw_path).collect();
    let decoded = String::from_utf8_lossy(&decoded_bytes);
    let mut out = decoded
        .split('/')
        .map(|segment| utf8_percent_encode(segment, ENCODE_SET).to_string())
        .collect::<Vec<_>>()
        .join("/");
    if !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// The canonical query string: decode every `name=value` exactly as the
/// router's `Query` extractor does (`application/x-www-form-urlencoded`: `+`
/// is a space), sort by name then value, re-encode, join with `&`. Decoding
/// like `Query` is what makes one signature cover one request: `a+b` and
/// `a%2Bb` are different values to the handler, so they canonicalise to
/// `a%20b` and `a%2Bb`. (The SDK sends spaces as `%20` and never a bare `+`,
/// so its signatures are unchanged.)
pub fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                utf8_percent_encode(name, ENCODE_SET),
                utf8_percent_encode(value, ENCODE_SET)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether the raw path holds an encoded `/`. [`canonical_uri`] (like the
/// SDK) turns it into a separator, while routing keeps it inside one
/// segment: `/x/a%2Fb` and `/x/a/b` would share a signature, so such paths
/// are not accepted with one (no OpenCCM id contains a `/`).
pub fn has_encoded_slash(raw_path: &str) -> bool {
    raw_path
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'f'))
}

/// The payload-hash line of the canonical request.
///
/// An empty body hashes the empty string. A payload-hash header replaces the
/// hash only when it is honest: a hex hash must equal the body's hash (else a
/// signed header could vouch for a swapped body). `UNSIGNED-PAYLOAD` is
/// refused for every non-empty body, whatever its content type: a body the
/// signature does not cover could be swapped in transit (the SDK signs every
/// JSON body, and no OpenCCM call takes another kind).
fn payload_hash(
    algorithm: SigningAlgorithm,
    parts: &RequestParts<'_>,
) -> Result<String, SignatureError> {
    // The SDK hashes an empty body whatever the header says.
    if parts.body.is_empty() {
        return Ok(algorithm.hash_hex(b""));
    }
    let computed = algorithm.hash_hex(parts.body);
    let Some(claimed) = parts.header(algorithm.payload_hash_header()) else {
        return Ok(computed);
    };
    let claimed = String::from_utf8_lossy(claimed).trim().to_owned();
    if claimed == computed {
        Ok(computed)
    } else {
        Err(SignatureError::PayloadHashMismatch)
    }
}

fn trim_ascii(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    bytes.get(start..end).unwrap_or_default()
}

/// Builds the canonical request (bytes: header values need not be UTF-8).
pub fn canonical_request(
    auth: &Authorization,
    parts: &RequestParts<'_>,
) -> Result<Vec<u8>, SignatureError> {
    let names: Vec<String> = auth
        .signed_header_names()
        .map(str::to_ascii_lowercase)
        .collect();
    if !names.iter().any(|n| n == "host") || !names.iter().any(|n| n == "x-sdk-date") {
        return Err(SignatureError::RequiredHeaderNotSigned);
    }
    let mut out = Vec::with_capacity(512 + parts.path.len() + parts.query.len());
    out.extend_from_slice(parts.method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(parts.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(parts.query).as_bytes());
    out.push(b'\n');
    for name in &names {
        let value = parts
            .header(name)
            .ok_or_else(|| SignatureError::SignedHeaderMissing(name.clone()))?;
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(trim_ascii(value));
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(auth.signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash(auth.algorithm, parts)?.as_bytes());
    Ok(out)
}

/// `X-Sdk-Date` if it is well formed (`YYYYMMDDTHHMMSSZ`), as epoch milliseconds.
pub fn parse_sdk_date(value: &[u8]) -> Result<i64, SignatureError> {
    let text = std::str::from_utf8(value).map_err(|_| SignatureError::MalformedDate)?;
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let parsed =
        time::PrimitiveDateTime::parse(text, &format).map_err(|_| SignatureError::MalformedDate)?;
    Ok(parsed.assume_utc().unix_timestamp() * 1000)
}

/// `Algorithm \n X-Sdk-Date \n hex(Hash(CanonicalRequest))`.
pub fn string_to_sign(
    algorithm: SigningAlgorithm,
    sdk_date: &str,
    canonical_request: &[u8],
) -> String {
    format!(
        "{}\n{}\n{}",
        algorithm.scheme(),
        sdk_date,
        algorithm.hash_hex(canonical_request)
    )
}

/// Verifies `signature_hex` over `string_to_sign` with the access key pair.
/// HMAC schemes compare in constant time; the ECDSA schemes verify against
/// the public key derived from AK/SK.
pub fn verify_signature(
    algorithm: SigningAlgorithm,
    access_key: &str,
    secret_key: &[u8],
    string_to_sign: &str,
    signature_hex: &str,
) -> Result<(), SignatureError> {
    let signature = hex::decode(signature_hex).map_err(|_| SignatureError::Mismatch)?;
    match algorithm {
        SigningAlgorithm::HmacSha256 => {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key)
                .map_err(|_| SignatureError::Mismatch)?;
            mac.update(string_to_sign.as_bytes());
            mac.verify_slice(&signature)
                .map_err(|_| SignatureError::Mismatch)
        }
        SigningAlgorithm::HmacSm3 => {
            let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(secret_key)
                .map_err(|_| SignatureError::Mismatch)?;
            mac.update(string_to_sign.as_bytes());
            mac.verify_slice(&signature)
                .map_err(|_| SignatureError::Mismatch)
        }
        SigningAlgorithm::EcdsaP256Sha256 => {
            use p256::ecdsa::signature::Verifier as _;
            let key = derived::p256_verifying_key(access_key, secret_key)
                .ok_or(SignatureError::Mismatch)?;
            let sig = p256::ecdsa::Signature::from_der(&signature)
                .map_err(|_| SignatureError::Mismatch)?;
            key.verify(string_to_sign.as_bytes(), &sig)
                .map_err(|_| SignatureError::Mismatch)
        }
        SigningAlgorithm::Sm2Sm3 => {
            use sm2::dsa::signature::hazmat::PrehashVerifier as _;
            let (key, za) = derived::sm2_verifying_key(access_key, secret_key)
                .ok_or(SignatureError::Mismatch)?;
            let sig =
                derived::sm2_signature_from_der(&signature).ok_or(SignatureError::Mismatch)?;
            let mut digest = Sm3::new();
            digest.update(za);
            digest.update(string_to_sign.as_bytes());
            key.verify_prehash(&digest.finalize(), &sig)
                .map_err(|_| SignatureError::Mismatch)
        }
    }
}

/// The key pairs the ECDSA schemes derive from AK/SK (iam-auth.md § 2.4):
/// a NIST SP 800-108 counter-mode KDF over HMAC with the SK.
pub mod derived {
    use hex_literal::hex;
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    use sm3::Sm3;

    /// The user id the SDK uses in SM2's `Z_A`.
    pub const SM2_USER_ID: &[u8] = b"1234567812345678";

    const P256_N_MINUS_2: [u8; 32] =
        hex!("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc63254f");
    const SM2_N_MINUS_2: [u8; 32] =
        hex!("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54121");
    // GB/T 32918.5 curve parameters, for Z_A.
    const SM2_A: [u8; 32] =
        hex!("fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc");
    const SM2_B: [u8; 32] =
        hex!("28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93");
    const SM2_GX: [u8; 32] =
        hex!("32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7");
    const SM2_GY: [u8; 32] =
        hex!("bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0");

    /// The first counter value whose HMAC output `c` satisfies `c <= n - 2`;
    /// the private scalar is `c + 1`.
    fn derive_candidate<M: Mac + hmac::digest::KeyInit>(
        scheme: &str,
        access_key: &str,
        secret_key: &[u8],
        n_minus_2: &[u8; 32],
    ) -> Option<[u8; 32]> {
        for counter in 0u8..0xff {
            let mut mac = <M as Mac>::new_from_slice(secret_key).ok()?;
            mac.update(&[0, 0, 0, 1]);
            mac.update(scheme.as_bytes());
            mac.update(&[0]);
            mac.update(access_key.as_bytes());
            mac.update(&[counter]);
            mac.update(&[0, 0, 1, 0]);
            let candidate: [u8; 32] = mac.finalize().into_bytes().as_slice().try_into().ok()?;
            // Big-endian byte arrays of equal length compare like the integers.
            if candidate <= *n_minus_2 {
                return Some(candidate);
            }
        }
        None
    }

    /// The P-256 public key of `SDK-ECDSA-P256-SHA256` for this AK/SK.
    pub fn p256_verifying_key(
        access_key: &str,
        secret_key: &[u8],
    ) -> Option<p256::ecdsa::VerifyingKey> {
        use p256::elliptic_curve::PrimeField as _;
        let c = derive_candidate::<Hmac<Sha256>>(
            "SDK-ECDSA-P256-SHA256",
            access_key,
            secret_key,
            &P256_N_MINUS_2,
        )?;
        let scalar =
            Option::<p256::Scalar>::from(p256::Scalar::from_repr(c.into()))? + p256::Scalar::ONE;
        let secret = p256::SecretKey::from_bytes(&scalar.to_repr()).ok()?;
        Some(p256::ecdsa::VerifyingKey::from(secret.public_key()))
    }

    /// The SM2 public key of `SDK-SM2-SM3` for this AK/SK, and the `Z_A`
    /// the SDK computes for it.
    pub fn sm2_verifying_key(
        access_key: &str,
        secret_key: &[u8],
    ) -> Option<(sm2::dsa::VerifyingKey, [u8; 32])> {
        use sm2::elliptic_curve::sec1::ToEncodedPoint as _;
        use sm2::elliptic_curve::PrimeField as _;
        let c =
            derive_candidate::<Hmac<Sm3>>("SDK-SM2-SM3", access_key, secret_key, &SM2_N_MINUS_2)?;
        let scalar =
            Option::<sm2::Scalar>::from(sm2::Scalar::from_repr(c.into()))? + sm2::Scalar::ONE;
        let secret = sm2::SecretKey::from_bytes(&scalar.to_repr()).ok()?;
        let public = secret.public_key();
        let point = public.to_encoded_point(false);
        let za = sdk_za(point.x()?.as_slice(), point.y()?.as_slice());
        let key =
            sm2::dsa::VerifyingKey::new(std::str::from_utf8(SM2_USER_ID).ok()?, public).ok()?;
        Some((key, za))
    }

    /// `SEQUENCE { r INTEGER, s INTEGER }` (GB/T 35276's SM2 signature encoding).
    #[derive(der::Sequence)]
    struct DerSignature<'a> {
        r: der::asn1::UintRef<'a>,
        s: der::asn1::UintRef<'a>,
    }

    fn left_pad_32(bytes: &[u8]) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        let start = 32usize.checked_sub(bytes.len())?;
        out.get_mut(start..)?.copy_from_slice(bytes);
        Some(out)
    }

    /// Decodes a DER SM2 signature; `None` if malformed or out of range.
    pub fn sm2_signature_from_der(der_bytes: &[u8]) -> Option<sm2::dsa::Signature> {
        use der::Decode as _;
        let parsed = DerSignature::from_der(der_bytes).ok()?;
        let r = left_pad_32(parsed.r.as_bytes())?;
        let s = left_pad_32(parsed.s.as_bytes())?;
        sm2::dsa::Signature::from_scalars(r, s).ok()
    }

    fn minimal(bytes: &[u8]) -> &[u8] {
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        bytes.get(first..).unwrap_or_default()
    }

    /// `Z_A` as the SDK computes it: `SM3(ENTL || ID || a || b || xG || yG || xA || yA)`
    /// with every integer in its *minimal* big-endian form (the SDK's quirk;
    /// it differs from GB/T 32918's fixed 32 bytes when a coordinate has a
    /// leading zero byte).
    pub fn sdk_za(x: &[u8], y: &[u8]) -> [u8; 32] {
        let entl = u16::try_from(SM2_USER_ID.len() * 8).unwrap_or(u16::MAX);
        let mut digest = Sm3::new();
        digest.update(entl.to_be_bytes());
        digest.update(SM2_USER_ID);
        for part in [&SM2_A[..], &SM2_B, &SM2_GX, &SM2_GY, x, y] {
            digest.update(minimal(part));
        }
        digest.finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_slashes_are_found_in_either_case() {
        assert!(has_encoded_slash("/v1/x/a%2Fb"));
        assert!(has_encoded_slash("/v1/x/a%2fb"));
        assert!(!has_encoded_slash("/v1/x/a%20b/c"));
        assert!(!has_encoded_slash("/v1/x/%252F"));
    }

    #[test]
    fn canonical_uri_follows_the_sdk() {
        assert_eq!(
            canonical_uri("/v1/private-certificates"),
            "/v1/private-certificates/"
        );
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/v3/scm/"), "/v3/scm/");
        assert_eq!(
            canonical_uri("/v1/private-certificates/a%20b%2Fc"),
            "/v1/private-certificates/a%20b/c/"
        );
        assert_eq!(canonical_uri("/x/%E7%A4%BA"), "/x/%E7%A4%BA/");
        assert_eq!(canonical_uri("/x/a~b_c.d-e"), "/x/a~b_c.d-e/");
    }

    #[test]
    fn canonical_query_sorts_and_reencodes() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("b=2&a=1"), "a=1&b=2");
        assert_eq!(canonical_query("a=2&a=1"), "a=1&a=2");
        assert_eq!(canonical_query("q=a%20b&p=x%2By"), "p=x%2By&q=a%20b");
        // `+` is a space, as `Query` reads it: `a+b` and `a%2Bb` differ.
        assert_eq!(canonical_query("q=a+b"), "q=a%20b");
        assert_ne!(canonical_query("q=a+b"), canonical_query("q=a%2Bb"));
        assert_eq!(canonical_query("flag"), "flag=");
        assert_eq!(canonical_query("n=%e7%a4%ba"), "n=%E7%A4%BA");
    }

    #[test]
    fn authorization_header_parses_and_rejects_junk() {
        let a = Authorization::parse(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=ab01",
        )
        .unwrap();
        assert_eq!(a.algorithm, SigningAlgorithm::HmacSha256);
        assert_eq!(a.access, "AK");
        assert_eq!(a.signed_headers, "host;x-sdk-date");
        assert_eq!(a.signature, "ab01");
        for bad in [
            "",
            "SDK-HMAC-SHA256",
            "SDK-HMAC-SHA256 Access=AK",
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=",
            "SDK-HMAC-SHA256 Access=AK, Access=AK, SignedHeaders=host, Signature=00",
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=00, Extra=1",
            "Bearer abc",
        ] {
            assert!(Authorization::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Authorization::parse("V11-HMAC-SHA256 Credential=a, SignedHeaders=h, Signature=s"),
            Err(SignatureError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn sdk_date_parses_only_the_basic_format() {
        assert_eq!(
            parse_sdk_date(b"20191115T033655Z").unwrap(),
            1_573_789_015_000
        );
        assert!(parse_sdk_date(b"2019-11-15T03:36:55Z").is_err());
        assert!(parse_sdk_date(b"20191115T033655").is_err());
        assert!(parse_sdk_date(b"20191315T033655Z").is_err());
    }

    #[test]
    fn empty_hashes_match_the_documented_constants() {
        assert_eq!(
            SigningAlgorithm::HmacSha256.hash_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            SigningAlgorithm::HmacSm3.hash_hex(b""),
            "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"
        );
    }
}
