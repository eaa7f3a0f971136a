//! Subject alternative names (pca-v1.md § SubjectAlternativeName): `DNS`
//! (≤ 253), `IP` (IPv4 or IPv6), `EMAIL` (≤ 256), `URI` (≤ 253); at most 20.

use std::net::IpAddr;

use der::asn1::{Ia5String, OctetString};
use x509_cert::ext::pkix::name::GeneralName;

use crate::{PkiError, PkiResult};

/// The most entries a request may carry.
pub const MAX_ENTRIES: usize = 20;

/// One alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AltName {
    /// dNSName.
    Dns(String),
    /// iPAddress.
    Ip(IpAddr),
    /// rfc822Name.
    Email(String),
    /// uniformResourceIdentifier.
    Uri(String),
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Whether `name` is a DNS name (RFC 1034 preferred syntax, A-labels), with
/// an optional leading `*.` wildcard label.
pub fn is_dns_name(name: &str) -> bool {
    let body = name.strip_prefix("*.").unwrap_or(name);
    if name.is_empty() || name.len() > 253 || body.is_empty() {
        return false;
    }
    let labels: Vec<&str> = body.split('.').collect();
    labels.iter().all(|l| valid_label(l))
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// The kinds of alternative name the API takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AltNameKind {
    /// dNSName.
    Dns,
    /// iPAddress.
    Ip,
    /// rfc822Name.
    Email,
    /// uniformResourceIdentifier.
    Uri,
}

impl AltName {
    /// Parses an entry of `kind` (the value checked against its kind's rules).
    pub fn parse(kind: AltNameKind, value: &str) -> PkiResult<Self> {
        match kind {
            AltNameKind::Dns => {
                if is_dns_name(value) {
                    Ok(Self::Dns(value.to_ascii_lowercase()))
                } else {
                    Err(PkiError::DomainName(format!(
                        "{value:?} is not a valid DNS name"
                    )))
                }
            }
            AltNameKind::Ip => {
                if value.len() > 39 {
                    return Err(PkiError::IpAddress(format!("{value:?} is too long")));
                }
                value.parse::<IpAddr>().map(Self::Ip).map_err(|_| {
                    PkiError::IpAddress(format!("{value:?} is not an IPv4 or IPv6 address"))
                })
            }
            AltNameKind::Email => {
                let valid = value.len() <= 256
                    && value.is_ascii()
                    && value.split_once('@').is_some_and(|(local, domain)| {
                        !local.is_empty()
                            && !local.contains(char::is_whitespace)
                            && is_dns_name(domain)
                    });
                if valid {
                    Ok(Self::Email(value.to_owned()))
                } else {
                    Err(PkiError::AlternativeName(format!(
                        "{value:?} is not a valid email address"
                    )))
                }
            }
            AltNameKind::Uri => {
                let valid = value.len() <= 253
                    && value.is_ascii()
                    && !value.contains(char::is_whitespace)
                    && value.split_once("://").is_some_and(|(scheme, rest)| {
                        !scheme.is_empty()
                            && scheme
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                            && !rest.is_empty()
                    });
                if valid {
                    Ok(Self::Uri(value.to_owned()))
                } else {
                    Err(PkiError::AlternativeName(format!(
                        "{value:?} is not a valid URI"
                    )))
                }
            }
        }
    }

    /// The X.509 general name.
    pub fn to_general_name(&self) -> PkiResult<GeneralName> {
        Ok(match self {
            Self::Dns(d) => GeneralName::DnsName(Ia5String::new(d).map_err(crate::encoding)?),
            Self::Email(e) => GeneralName::Rfc822Name(Ia5String::new(e).map_err(crate::encoding)?),
            Self::Uri(u) => {
                GeneralName::UniformResourceIdentifier(Ia5String::new(u).map_err(crate::encoding)?)
            }
            Self::Ip(IpAddr::V4(v4)) => GeneralName::IpAddress(
                OctetString::new(v4.octets().to_vec()).map_err(crate::encoding)?,
            ),
            Self::Ip(IpAddr::V6(v6)) => GeneralName::IpAddress(
                OctetString::new(v6.octets().to_vec()).map_err(crate::encoding)?,
            ),
        })
    }
}

/// A general name of a type this profile carries, as identity policies
/// compare it: DNS names lower case without a final dot, email addresses
/// with their domain in lower case, URIs with their scheme and host in lower case, IP addresses in
/// their usual notation (an IPv4-mapped IPv6 address as IPv4), so that no
/// spelling of a name escapes a pattern. `None` for other types.
pub fn general_name_text(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::DnsName(v) => Some(common_name_for_policy(v.as_str())),
        GeneralName::Rfc822Name(v) => Some(match v.as_str().rsplit_once('@') {
            Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
            None => v.as_str().to_ascii_lowercase(),
        }),
        GeneralName::UniformResourceIdentifier(v) => Some(uri_for_policy(v.as_str())),
        GeneralName::IpAddress(bytes) => {
            let ip = match bytes.as_bytes() {
                b if b.len() == 4 => IpAddr::from(<[u8; 4]>::try_from(b).ok()?),
                b if b.len() == 16 => IpAddr::from(<[u8; 16]>::try_from(b).ok()?),
                _ => return None,
            };
            Some(ip.to_canonical().to_string())
        }
        _ => None,
    }
}

/// A common name (or DNS name) as identity policies compare it: in lower
/// case, without a final dot (`WWW.Example.COM.` is `www.example.com`).
/// Policy values for `pca:CommonName` are lower-cased the same way when a
/// policy is parsed, so the comparison ignores case.
pub fn common_name_for_policy(common_name: &str) -> String {
    let lower = common_name.to_lowercase();
    match lower.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_owned(),
        _ => lower,
    }
}

/// A URI with its scheme and authority in lower case (they are
/// case-insensitive; the path is not).
fn uri_for_policy(uri: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
            format!(
                "{}://{}{path}",
                scheme.to_ascii_lowercase(),
                authority.to_ascii_lowercase()
            )
        }
        None => uri.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_type_parses() {
        assert_eq!(
            AltName::parse(AltNameKind::Dns, "WWW.Example.com").unwrap(),
            AltName::Dns("www.example.com".into())
        );
        assert!(matches!(
            AltName::parse(AltNameKind::Dns, "*.example.com").unwrap(),
            AltName::Dns(_)
        ));
        assert!(matches!(
            AltName::parse(AltNameKind::Ip, "192.0.2.10").unwrap(),
            AltName::Ip(IpAddr::V4(_))
        ));
        assert!(matches!(
            AltName::parse(AltNameKind::Ip, "2001:db8::1").unwrap(),
            AltName::Ip(IpAddr::V6(_))
        ));
        assert!(matches!(
            AltName::parse(AltNameKind::Email, "a@example.com").unwrap(),
            AltName::Email(_)
        ));
        assert!(matches!(
            AltName::parse(AltNameKind::Uri, "https://example.com/x").unwrap(),
            AltName::Uri(_)
        ));
    }

    #[test]
    fn invalid_entries_get_their_own_errors() {
        for bad in [
            "",
            "-a.com",
            "a..com",
            "a b.com",
            "*.",
            "*.*.a.com",
            "1.2.3.4",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    AltName::parse(AltNameKind::Dns, bad),
                    Err(PkiError::DomainName(_))
                ),
                "{bad}"
            );
        }
        for bad in ["999.1.1.1", "example.com", "1.2.3"] {
            assert!(
                matches!(
                    AltName::parse(AltNameKind::Ip, bad),
                    Err(PkiError::IpAddress(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            AltName::parse(AltNameKind::Email, "no-at"),
            Err(PkiError::AlternativeName(_))
        ));
        assert!(matches!(
            AltName::parse(AltNameKind::Uri, "not a uri"),
            Err(PkiError::AlternativeName(_))
        ));
    }
}
