//! The ACME validation settings of `openccm serve` (docs/api/acme.md,
//! "Server settings for validation"): where challenge validation may
//! connect, on which ports, through which DNS resolver, and which CAA
//! identities are this server's.

use std::net::SocketAddr;

use crate::config::ConfigError;
use clap::Args;
use openccm_app::pca::acme::validate::ValidationSettings;

/// The flags (clap names them after the fields: the prefix is theirs).
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Default, Args)]
pub struct AcmeArgs {
    /// An address or CIDR range ACME validation may connect to
    /// (repeatable; comma-separated in the variable) [default: every
    /// address but loopback, link-local, unspecified and multicast ones].
    #[arg(long, env = "OPENCCM_ACME_ALLOW_ADDRESS", value_delimiter = ',')]
    pub acme_allow_address: Vec<String>,
    /// Port of http-01 validation requests [default: 80].
    #[arg(long, env = "OPENCCM_ACME_HTTP01_PORT")]
    pub acme_http01_port: Option<u16>,
    /// Port of tls-alpn-01 validation connections [default: 443].
    #[arg(long, env = "OPENCCM_ACME_TLSALPN01_PORT")]
    pub acme_tlsalpn01_port: Option<u16>,
    /// DNS server (HOST:PORT) for validation look-ups (A/AAAA, TXT, CAA)
    /// [default: the system's resolver].
    #[arg(long, env = "OPENCCM_ACME_DNS_RESOLVER")]
    pub acme_dns_resolver: Option<SocketAddr>,
    /// An issuer domain name CAA records may name to let this server issue
    /// (repeatable) [default: the public URL's host].
    #[arg(long, env = "OPENCCM_ACME_CAA_IDENTITY", value_delimiter = ',')]
    pub acme_caa_identity: Vec<String>,
}

/// The same keys from the TOML file (named as there).
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Default)]
pub struct AcmeFileKeys {
    pub acme_allow_address: Option<Vec<String>>,
    pub acme_http01_port: Option<u16>,
    pub acme_tlsalpn01_port: Option<u16>,
    pub acme_dns_resolver: Option<SocketAddr>,
    pub acme_caa_identity: Option<Vec<String>>,
}

/// The settings the flags (over the file) ask for. CAA identities left
/// out stay empty here: the server fills in its public URL's host once
/// it knows it ([`with_default_caa`]).
pub fn resolve(args: AcmeArgs, file: AcmeFileKeys) -> Result<ValidationSettings, ConfigError> {
    let pick = |flag: Vec<String>, key: Option<Vec<String>>| {
        if flag.is_empty() {
            key.unwrap_or_default()
        } else {
            flag
        }
    };
    let allow = pick(args.acme_allow_address, file.acme_allow_address);
    for range in &allow {
        let parsed = openccm_app::pca::acme::IdentifierRule::parse(range);
        if !matches!(
            parsed,
            Some(openccm_app::pca::acme::IdentifierRule::Addresses { .. })
        ) {
            return Err(ConfigError::Invalid(format!(
                "acme allow address {range:?} is not an IP address or CIDR range without host bits"
            )));
        }
    }
    let caa_identities = pick(args.acme_caa_identity, file.acme_caa_identity);
    for identity in &caa_identities {
        if !openccm_pki::san::is_dns_name(identity) || identity.starts_with("*.") {
            return Err(ConfigError::Invalid(format!(
                "acme caa identity {identity:?} is not a domain name"
            )));
        }
    }
    let port = |value: Option<u16>, default: u16, name: &str| match value.unwrap_or(default) {
        0 => Err(ConfigError::Invalid(format!(
            "{name} must be a port, 1-65535"
        ))),
        p => Ok(p),
    };
    Ok(ValidationSettings {
        allow,
        http01_port: port(
            args.acme_http01_port.or(file.acme_http01_port),
            80,
            "acme_http01_port",
        )?,
        tlsalpn01_port: port(
            args.acme_tlsalpn01_port.or(file.acme_tlsalpn01_port),
            443,
            "acme_tlsalpn01_port",
        )?,
        resolver: args.acme_dns_resolver.or(file.acme_dns_resolver),
        caa_identities,
    })
}

/// `settings` with the public URL's host as the CAA identity when none
/// was configured (an IP-address host names no CAA identity).
pub fn with_default_caa(mut settings: ValidationSettings, public_url: &str) -> ValidationSettings {
    if settings.caa_identities.is_empty() {
        let host = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if openccm_pki::san::is_dns_name(&host) && host.parse::<std::net::IpAddr>().is_err() {
            settings.caa_identities.push(host);
        }
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_and_bad_values_are_refused() {
        let settings = resolve(
            AcmeArgs {
                acme_allow_address: vec!["127.0.0.0/8".into()],
                acme_http01_port: Some(5002),
                ..AcmeArgs::default()
            },
            AcmeFileKeys {
                acme_allow_address: Some(vec!["10.0.0.0/8".into()]),
                acme_http01_port: Some(80),
                acme_tlsalpn01_port: Some(5001),
                ..AcmeFileKeys::default()
            },
        )
        .unwrap();
        assert_eq!(settings.allow, ["127.0.0.0/8"]);
        assert_eq!(
            (settings.http01_port, settings.tlsalpn01_port),
            (5002, 5001)
        );
        for bad in ["10.0.0.1/8", "example.test", "*.x"] {
            assert!(resolve(
                AcmeArgs {
                    acme_allow_address: vec![bad.into()],
                    ..AcmeArgs::default()
                },
                AcmeFileKeys::default()
            )
            .is_err());
        }
        assert!(resolve(
            AcmeArgs {
                acme_http01_port: Some(0),
                ..AcmeArgs::default()
            },
            AcmeFileKeys::default()
        )
        .is_err());
    }

    #[test]
    fn the_caa_identity_defaults_to_the_public_host() {
        let none = ValidationSettings::default();
        assert_eq!(
            with_default_caa(none.clone(), "https://CA.Example.test:8443/x").caa_identities,
            ["ca.example.test"]
        );
        assert!(with_default_caa(none, "http://127.0.0.1:8080")
            .caa_identities
            .is_empty());
    }
}
