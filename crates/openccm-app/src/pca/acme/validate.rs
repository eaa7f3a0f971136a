//! Challenge validation (RFC 8555 §8, RFC 8737, RFC 8738) and CAA
//! (RFC 8659), with the operator's limits on where validation may connect.
//!
//! Validation is the one place where a request makes this server open
//! connections to addresses the requester chose, so every address is
//! checked against the allow list *after* resolution and connected to
//! directly: the name is never resolved a second time (no DNS rebinding
//! between check and use), http-01 follows no redirects, and answers are
//! read up to a small bound with a timeout.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::rdata::caa::Property;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;
use openccm_store::{AcmeChallenge, AcmeIdentifier, AcmeIdentifierKind};
use sha2::Digest as _;

use super::problem::{Problem, ProblemKind};
use super::IdentifierRule;

/// How long one validation connection may take, in all.
const VALIDATION_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of an http-01 answer read (a key authorization is ~90 bytes).
const MAX_HTTP01_BODY: usize = 8 * 1024;
/// The most addresses of a name one validation tries.
const MAX_ADDRESSES_TRIED: usize = 2;
/// The most validations running at once; more wait their turn.
const MAX_CONCURRENT_VALIDATIONS: usize = 64;
/// The ALPN protocol of tls-alpn-01.
const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";
/// id-pe-acmeIdentifier (RFC 8737 §3).
const ACME_IDENTIFIER_OID: &str = "1.3.6.1.5.5.7.1.31";

/// Where validation may go, and how.
#[derive(Debug, Clone)]
pub struct ValidationSettings {
    /// The address ranges validation may connect to (CIDR text). Empty:
    /// every address but loopback, link-local, unspecified and multicast
    /// ones.
    pub allow: Vec<String>,
    /// The port of http-01 requests.
    pub http01_port: u16,
    /// The port of tls-alpn-01 connections.
    pub tlsalpn01_port: u16,
    /// The DNS server for validation look-ups; `None`: the system's.
    pub resolver: Option<SocketAddr>,
    /// The issuer domain names CAA records must name for this server to
    /// issue (RFC 8659 §4.2); empty: CAA is not checked.
    pub caa_identities: Vec<String>,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            http01_port: 80,
            tlsalpn01_port: 443,
            resolver: None,
            caa_identities: Vec::new(),
        }
    }
}

/// Validates challenges.
pub struct Validator {
    settings: ValidationSettings,
    allow: Vec<IdentifierRule>,
    resolver: Result<TokioResolver, String>,
    http01: Result<reqwest::Client, String>,
    running: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn resolver_for(settings: &ValidationSettings) -> Result<TokioResolver, String> {
    let mut options = ResolverOpts::default();
    // Validation must see the zone as it is now, not as cached.
    options.cache_size = 0;
    options.timeout = Duration::from_secs(5);
    options.attempts = 2;
    let builder = match settings.resolver {
        Some(server) => {
            let mut config = ResolverConfig::new();
            config.add_name_server(NameServerConfig::new(server, Protocol::Udp));
            config.add_name_server(NameServerConfig::new(server, Protocol::Tcp));
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
        }
        None => TokioResolver::builder_tokio().map_err(|e| e.to_string())?,
    };
    Ok(builder.with_options(options).build())
}

/// Whether `ip` may be connected to under the default rule.
fn allowed_by_default(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    if ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() {
        return false;
    }
    match ip {
        // 0.0.0.0/8 ("this network"), 169.254.0.0/16 (link-local, the cloud
        // metadata address), 100.64.0.0/10 (shared address space, where one
        // cloud's metadata service answers), broadcast.
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (b & 0xc0) == 64;
            !(a == 0 || shared || v4.is_link_local() || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            // fe80::/10 link-local; fc00::/7 unique-local (a cloud's IPv6
            // metadata address is one); and the ranges that embed an IPv4
            // address, which could reach any of the above: IPv4-compatible
            // ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16.
            let link_local = (s[0] & 0xffc0) == 0xfe80;
            let unique_local = (s[0] & 0xfe00) == 0xfc00;
            let compatible = s[..6] == [0; 6];
            let nat64 = s[0] == 0x64 && s[1] == 0xff9b && (s[2..6] == [0; 4] || s[2] == 1);
            let six_to_four = s[0] == 0x2002;
            !(link_local || unique_local || compatible || nat64 || six_to_four)
        }
    }
}

fn connection(detail: String) -> Problem {
    Problem::new(ProblemKind::Connection, detail)
}

impl Validator {
    /// A validator under `settings` (a resolver that cannot be set up
    /// fails every validation that needs it, with `dns`).
    pub fn new(settings: ValidationSettings) -> Self {
        let allow = settings
            .allow
            .iter()
            .filter_map(|range| IdentifierRule::parse(range))
            .filter(|rule| matches!(rule, IdentifierRule::Addresses { .. }))
            .collect();
        Self {
            resolver: resolver_for(&settings),
            http01: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(VALIDATION_TIMEOUT)
                .no_proxy()
                .build()
                .map_err(|e| e.to_string()),
            settings,
            allow,
            running: tokio::sync::Semaphore::new(MAX_CONCURRENT_VALIDATIONS),
        }
    }

    /// The http-01 client: no redirects, no proxy, a timeout; built once
    /// (a client loads its TLS roots when built).
    fn http01_client(&self) -> Result<&reqwest::Client, Problem> {
        self.http01
            .as_ref()
            .map_err(|e| connection(format!("http-01 client: {e}")))
    }

    fn resolver(&self) -> Result<&TokioResolver, Problem> {
        self.resolver
            .as_ref()
            .map_err(|e| Problem::new(ProblemKind::Dns, format!("no DNS resolver: {e}")))
    }

    /// Whether validation may connect to `ip`.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if self.allow.is_empty() {
            return allowed_by_default(ip);
        }
        self.allow.iter().any(|rule| match rule {
            IdentifierRule::Addresses { network, prefix } => {
                ip.is_ipv4() == network.is_ipv4() && super::mask(ip, *prefix) == *network
            }
            _ => false,
        })
    }

    /// The addresses of `id` validation may connect to: resolved through
    /// the configured resolver, then filtered by the allow list.
    async fn addresses(&self, id: &AcmeIdentifier) -> Result<Vec<IpAddr>, Problem> {
        let found: Vec<IpAddr> = match id.kind {
            AcmeIdentifierKind::Ip => vec![id
                .value
                .parse()
                .map_err(|_| Problem::malformed("a stored address does not parse"))?],
            AcmeIdentifierKind::Dns => self
                .resolver()?
                .lookup_ip(format!("{}.", id.value))
                .await
                .map_err(|e| {
                    Problem::new(ProblemKind::Dns, format!("looking up {}: {e}", id.value))
                })?
                .iter()
                .collect(),
        };
        // At most two tries (each has its own timeout).
        let allowed: Vec<IpAddr> = found
            .iter()
            .copied()
            .filter(|ip| self.allowed(*ip))
            .take(MAX_ADDRESSES_TRIED)
            .collect();
        if allowed.is_empty() {
            return Err(connection(format!(
                "no address of {} may be used for validation (the server's --acme-allow-address)",
                id.value
            )));
        }
        Ok(allowed)
    }

    /// A turn to validate: at most [`MAX_CONCURRENT_VALIDATIONS`] run at
    /// once; the rest wait here.
    pub async fn turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.running.acquire().await.ok()
    }

    /// Validates `challenge` for `id` (without `*.`); `Ok` when the client
    /// proved control, else the problem to record.
    pub async fn validate(
        &self,
        challenge: AcmeChallenge,
        id: &AcmeIdentifier,
        wildcard: bool,
        token: &str,
        key_authorization: &str,
    ) -> Result<(), Problem> {
        let proved = match challenge {
            AcmeChallenge::Http01 => self.http01(id, token, key_authorization).await,
            AcmeChallenge::Dns01 => self.dns01(id, key_authorization).await,
            AcmeChallenge::TlsAlpn01 => self.tls_alpn01(id, key_authorization).await,
        };
        proved?;
        if id.kind == AcmeIdentifierKind::Dns {
            self.check_caa(&id.value, wildcard).await?;
        }
        Ok(())
    }

    /// http-01: `GET http://<id>:<port>/.well-known/acme-challenge/<token>`
    /// answers the key authorization.
    async fn http01(
        &self,
        id: &AcmeIdentifier,
        token: &str,
        key_authorization: &str,
    ) -> Result<(), Problem> {
        let port = self.settings.http01_port;
        let path = format!("/.well-known/acme-challenge/{token}");
        // The name the request is for (Host), as RFC 8555 §8.3 asks.
        let host = match (id.kind, port) {
            (AcmeIdentifierKind::Dns, 80) => id.value.clone(),
            (AcmeIdentifierKind::Dns, _) => format!("{}:{port}", id.value),
            (AcmeIdentifierKind::Ip, _) => literal(&id.value, port),
        };
        let client = self.http01_client()?;
        let mut last = connection(format!("{} has no address", id.value));
        for ip in self.addresses(id).await? {
            // The URL names the checked address itself: nothing (a URL
            // parser reading a name as an address, a second look-up) can
            // send the request elsewhere.
            let url = format!("http://{}{path}", literal(&ip.to_string(), port));
            match fetch(client, &url, &host).await {
                Ok(body) => {
                    return if body.trim_end() == key_authorization {
                        Ok(())
                    } else {
                        Err(Problem::new(
                            ProblemKind::IncorrectResponse,
                            format!(
                                "http://{host}{path} answered something other than the key authorization"
                            ),
                        ))
                    }
                }
                Err(problem) => last = problem,
            }
        }
        Err(last)
    }

    /// dns-01: a TXT record at `_acme-challenge.<id>` holds base64url of
    /// SHA-256 of the key authorization.
    async fn dns01(&self, id: &AcmeIdentifier, key_authorization: &str) -> Result<(), Problem> {
        if id.kind != AcmeIdentifierKind::Dns {
            return Err(Problem::malformed("dns-01 validates DNS names only"));
        }
        let expected =
            openccm_pki::jws::b64url(&sha2::Sha256::digest(key_authorization.as_bytes()));
        let name = format!("_acme-challenge.{}.", id.value);
        let records = self
            .resolver()?
            .txt_lookup(name.clone())
            .await
            .map_err(|e| Problem::new(ProblemKind::Dns, format!("TXT {name}: {e}")))?;
        let found = records.iter().any(|txt| {
            let joined: Vec<u8> = txt
                .txt_data()
                .iter()
                .flat_map(|part| part.iter().copied())
                .collect();
            joined == expected.as_bytes()
        });
        if found {
            Ok(())
        } else {
            Err(Problem::new(
                ProblemKind::IncorrectResponse,
                format!("no TXT record at {name} holds the expected digest"),
            ))
        }
    }

    /// tls-alpn-01: a TLS server at `<id>:<port>` negotiating `acme-tls/1`
    /// offers a certificate for exactly `<id>` carrying the critical
    /// acmeIdentifier extension with SHA-256 of the key authorization.
    async fn tls_alpn01(
        &self,
        id: &AcmeIdentifier,
        key_authorization: &str,
    ) -> Result<(), Problem> {
        if id.kind != AcmeIdentifierKind::Dns {
            return Err(Problem::malformed("tls-alpn-01 validates DNS names here"));
        }
        let digest = sha2::Sha256::digest(key_authorization.as_bytes());
        let mut last = connection(format!("{} has no address", id.value));
        for ip in self.addresses(id).await? {
            let addr = SocketAddr::new(ip, self.settings.tlsalpn01_port);
            match tokio::time::timeout(VALIDATION_TIMEOUT, tls_alpn_certificate(addr, &id.value))
                .await
            {
                Ok(Ok(der)) => return check_alpn_certificate(&der, &id.value, &digest),
                Ok(Err(problem)) => last = problem,
                Err(_) => last = Problem::new(ProblemKind::Tls, format!("{addr}: timed out")),
            }
        }
        Err(last)
    }

    /// RFC 8659: the closest CAA record set at or above `name` must let one
    /// of our identities issue (`issuewild` first for a wildcard). No CAA
    /// records at all: anyone may issue.
    async fn check_caa(&self, name: &str, wildcard: bool) -> Result<(), Problem> {
        if self.settings.caa_identities.is_empty() {
            return Ok(());
        }
        let resolver = self.resolver()?;
        let mut labels: Vec<&str> = name.split('.').collect();
        while !labels.is_empty() {
            let at = format!("{}.", labels.join("."));
            let records: Vec<_> = match resolver.lookup(at.clone(), RecordType::CAA).await {
                Ok(found) => found
                    .iter()
                    .filter_map(|r| match r {
                        RData::CAA(caa) => Some(caa.clone()),
                        _ => None,
                    })
                    .collect(),
                Err(e) if e.is_no_records_found() => Vec::new(),
                Err(e) => {
                    return Err(Problem::new(ProblemKind::Dns, format!("CAA {at}: {e}")));
                }
            };
            if !records.is_empty() {
                let issuewild: Vec<_> = records
                    .iter()
                    .filter(|c| matches!(c.tag(), Property::IssueWild))
                    .collect();
                let relevant: Vec<_> = if wildcard && !issuewild.is_empty() {
                    issuewild
                } else {
                    records
                        .iter()
                        .filter(|c| matches!(c.tag(), Property::Issue))
                        .collect()
                };
                if records
                    .iter()
                    .any(|c| c.issuer_critical() && matches!(c.tag(), Property::Unknown(_)))
                {
                    return Err(Problem::new(
                        ProblemKind::Caa,
                        format!("{at} has a critical CAA property this CA does not understand"),
                    ));
                }
                if relevant.is_empty() {
                    return Ok(());
                }
                let ours = relevant.iter().any(|c| match c.value_as_issue() {
                    Ok((Some(issuer), _)) => {
                        let issuer = issuer.to_ascii();
                        let issuer = issuer.trim_end_matches('.');
                        self.settings
                            .caa_identities
                            .iter()
                            .any(|id| id.eq_ignore_ascii_case(issuer))
                    }
                    _ => false,
                });
                return if ours {
                    Ok(())
                } else {
                    Err(Problem::new(
                        ProblemKind::Caa,
                        format!("the CAA records of {at} do not let this CA issue for {name}"),
                    ))
                };
            }
            labels.remove(0);
        }
        Ok(())
    }
}

/// `address:port` as a URL host and port (an IPv6 address in brackets).
fn literal(address: &str, port: u16) -> String {
    if address.contains(':') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    }
}

/// GETs `url` for `host` without following redirects; the body, up to a
/// bound.
async fn fetch(client: &reqwest::Client, url: &str, host: &str) -> Result<String, Problem> {
    let mut response = client
        .get(url)
        .header(reqwest::header::HOST, host)
        .send()
        .await
        .map_err(|e| connection(format!("{url}: {e}")))?;
    if !response.status().is_success() {
        return Err(Problem::new(
            ProblemKind::IncorrectResponse,
            format!(
                "{url} answered {} (redirects are not followed)",
                response.status()
            ),
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| connection(format!("{url}: {e}")))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_HTTP01_BODY {
            return Err(Problem::new(
                ProblemKind::IncorrectResponse,
                format!("{url} answered more than {MAX_HTTP01_BODY} bytes"),
            ));
        }
    }
    String::from_utf8(body).map_err(|_| {
        Problem::new(
            ProblemKind::IncorrectResponse,
            format!("{url} answered no text"),
        )
    })
}

/// The certificate a tls-alpn-01 responder at `addr` offers for `name`.
async fn tls_alpn_certificate(addr: SocketAddr, name: &str) -> Result<Vec<u8>, Problem> {
    let tls = |detail: String| Problem::new(ProblemKind::Tls, detail);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // TLS 1.3 only: its handshake signature is checked against the
    // certificate's bare key (the certificate itself, with its critical
    // acmeIdentifier extension, is no certificate a path validator takes).
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![ACME_TLS_ALPN.to_vec()];
    let server_name = rustls::pki_types::ServerName::try_from(name.to_owned())
        .map_err(|e| tls(format!("{name}: {e}")))?;
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| connection(format!("{addr}: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let session = connector
        .connect(server_name, stream)
        .await
        .map_err(|e| tls(format!("{addr}: {e}")))?;
    let (_, connection) = session.get_ref();
    if connection.alpn_protocol() != Some(ACME_TLS_ALPN) {
        return Err(tls(format!("{addr} did not negotiate acme-tls/1")));
    }
    connection
        .peer_certificates()
        .and_then(|certs| certs.first())
        .map(|c| c.as_ref().to_vec())
        .ok_or_else(|| tls(format!("{addr} offered no certificate")))
}

/// RFC 8737 §3: exactly one subjectAltName, the dNSName `name`, and a
/// critical acmeIdentifier extension holding `digest`.
fn check_alpn_certificate(der: &[u8], name: &str, digest: &[u8]) -> Result<(), Problem> {
    use der::Decode as _;
    use x509_cert::ext::pkix::name::GeneralName;
    let wrong = |detail: &str| Problem::new(ProblemKind::IncorrectResponse, detail.to_owned());
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|_| wrong("the tls-alpn-01 certificate does not parse"))?;
    let extensions = cert.tbs_certificate.extensions.unwrap_or_default();
    let mut names_ok = false;
    let mut digest_ok = false;
    let mut seen = std::collections::BTreeSet::new();
    for ext in &extensions {
        let oid = ext.extn_id.to_string();
        if !seen.insert(oid.clone()) {
            return Err(wrong("the tls-alpn-01 certificate repeats an extension"));
        }
        if oid == "2.5.29.17" {
            let sans = x509_cert::ext::pkix::SubjectAltName::from_der(ext.extn_value.as_bytes())
                .map_err(|_| wrong("the certificate's subjectAltName does not parse"))?;
            names_ok = matches!(sans.0.as_slice(),
                [GeneralName::DnsName(dns)] if dns.as_str().eq_ignore_ascii_case(name));
        } else if oid == ACME_IDENTIFIER_OID {
            let value = der::asn1::OctetString::from_der(ext.extn_value.as_bytes())
                .map_err(|_| wrong("the acmeIdentifier extension does not parse"))?;
            digest_ok = ext.critical && value.as_bytes() == digest;
        }
    }
    if !names_ok {
        return Err(wrong(
            "the tls-alpn-01 certificate must name exactly the identifier",
        ));
    }
    if !digest_ok {
        return Err(wrong(
            "the tls-alpn-01 certificate lacks the critical acmeIdentifier of this key authorization",
        ));
    }
    Ok(())
}

/// Accepts any server certificate (tls-alpn-01 checks it itself), but
/// still has the TLS 1.3 handshake's signature verified with the
/// certificate's key: the responder must hold it.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        // Never called: only TLS 1.3 is offered.
        Err(rustls::Error::General("TLS 1.2 is not offered".to_owned()))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        use der::{Decode as _, Encode as _};
        let spki = x509_cert::Certificate::from_der(cert.as_ref())
            .ok()
            .and_then(|c| c.tbs_certificate.subject_public_key_info.to_der().ok())
            .ok_or(rustls::Error::InvalidCertificate(
                rustls::CertificateError::BadEncoding,
            ))?;
        rustls::crypto::verify_tls13_signature_with_raw_key(
            message,
            &rustls::pki_types::SubjectPublicKeyInfoDer::from(spki),
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_validation_avoids_this_host_and_local_links() {
        let v = Validator::new(ValidationSettings::default());
        for refused in [
            "127.0.0.1",
            "::1",
            "169.254.169.254",
            "fe80::1",
            "0.0.0.0",
            "0.1.2.3",
            "::ffff:127.0.0.1",
            "::7f00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "fd00:ec2::254",
            "100.100.100.200",
            "100.64.0.1",
            "224.0.0.1",
        ] {
            assert!(!v.allowed(refused.parse().unwrap()), "{refused}");
        }
        for allowed in ["10.1.2.3", "192.0.2.10", "2001:db8::1"] {
            assert!(v.allowed(allowed.parse().unwrap()), "{allowed}");
        }
        let v = Validator::new(ValidationSettings {
            allow: vec!["127.0.0.0/8".into()],
            ..ValidationSettings::default()
        });
        assert!(v.allowed("127.0.0.1".parse().unwrap()));
        assert!(!v.allowed("10.1.2.3".parse().unwrap()));
        assert!(!v.allowed("::1".parse().unwrap()));
    }
}
