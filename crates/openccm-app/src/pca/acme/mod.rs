//! ACME on a private CA (docs/api/acme.md).
//!
//! This file is the management side: the CA's ACME switch and policy, and
//! the external account binding (EAB) keys that tie an ACME account to the
//! OpenCCM account of the user who made the key. The protocol (RFC 8555)
//! is [`server`] (URLs, nonces, request checks; `nonce.rs` where spent
//! nonces are kept), [`account`], [`order`]
//! (orders, authorizations, challenges, finalize, download), [`revoke`]
//! (revocation and renewal information) and [`validate`] (challenge
//! validation and CAA); its errors are [`problem`].

pub mod account;
mod nonce;
pub mod order;
pub mod problem;
pub mod revoke;
pub mod server;
pub mod validate;

pub use server::AcmeServer;

use std::net::IpAddr;

use base64::Engine as _;
use openccm_pki::KeyAlgorithm;
use openccm_store::{AcmeChallenge, AcmeSettings, CaId, CaStatus, EabKey};
use zeroize::Zeroizing;

use super::{ca_status, Pca};
use crate::common::random_bytes;
use crate::iam::authz::actions;
use crate::iam::Caller;
use crate::{Error, Result};

/// Identifiers a CA's policy may list, at most.
pub const MAX_ALLOWED_IDENTIFIERS: usize = 100;
/// The longest validity a policy may allow, in days.
pub const MAX_VALIDITY_DAYS: i64 = 3650;
/// The validity allowed when the policy does not say.
pub const DEFAULT_VALIDITY_DAYS: i64 = 90;
/// The longest EAB key description, in characters.
pub const MAX_EAB_DESCRIPTION: usize = 255;
/// The key types ACME clients may use, and the default policy: RSA and the
/// NIST curves (no ACME client speaks SM2).
pub const ACME_KEY_ALGORITHMS: [KeyAlgorithm; 5] = [
    KeyAlgorithm::Ec256,
    KeyAlgorithm::Ec384,
    KeyAlgorithm::Rsa2048,
    KeyAlgorithm::Rsa3072,
    KeyAlgorithm::Rsa4096,
];

const DAY_MS: i64 = 86_400_000;

/// A ConfigureAcme request, as parsed at the edge: `None` is absent.
#[derive(Debug, Clone, Default)]
pub struct AcmeInput {
    /// Required.
    pub enabled: Option<bool>,
    /// Default true.
    pub eab_required: Option<bool>,
    /// Default: any identifier.
    pub allowed_identifiers: Option<Vec<String>>,
    /// Protocol names; default all three.
    pub challenges: Option<Vec<String>>,
    /// Default 90.
    pub max_validity_days: Option<i64>,
    /// The edge's parse of each name (`None`: not a key algorithm name);
    /// default the five of [`ACME_KEY_ALGORITHMS`].
    pub key_algorithms: Option<Vec<Option<KeyAlgorithm>>>,
}

impl From<&AcmeSettings> for AcmeInput {
    /// A request that asks for exactly `settings`.
    fn from(settings: &AcmeSettings) -> Self {
        Self {
            enabled: Some(settings.enabled),
            eab_required: Some(settings.eab_required),
            allowed_identifiers: Some(settings.allowed_identifiers.clone()),
            challenges: Some(
                settings
                    .challenges
                    .iter()
                    .map(|c| c.as_str().to_owned())
                    .collect(),
            ),
            max_validity_days: Some(settings.max_validity_days),
            key_algorithms: Some(settings.key_algorithms.iter().copied().map(Some).collect()),
        }
    }
}

/// A CA's ACME settings as callers see them.
#[derive(Debug, Clone)]
pub struct AcmeView {
    /// The settings, defaults filled in.
    pub settings: AcmeSettings,
    /// `<public-url>/acme/<ca_id>/directory` while enabled.
    pub directory_url: Option<String>,
}

/// A new EAB key: the record, and the HMAC key shown this once.
#[derive(Debug)]
pub struct NewEabKey {
    /// As stored (the HMAC key sealed).
    pub key: EabKey,
    /// The HMAC key, base64url without padding.
    pub hmac_key: Zeroizing<String>,
}

/// One entry of a CA's identifier policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentifierRule {
    /// This DNS name exactly.
    Dns(String),
    /// Any name under this one (`*.corp.example`: `a.corp.example`,
    /// `a.b.corp.example`, and the wildcard `*.corp.example` itself).
    Subdomains(String),
    /// An address within this range (a single address is a full-length
    /// prefix).
    Addresses {
        /// The network's address.
        network: IpAddr,
        /// The prefix length.
        prefix: u8,
    },
}

impl IdentifierRule {
    /// Parses a policy entry; `None` when it is neither a DNS name (with an
    /// optional leading `*.`), an IP address nor a CIDR range.
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        if let Some((address, prefix)) = lower.split_once('/') {
            let network: IpAddr = address.parse().ok()?;
            if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let prefix: u8 = prefix.parse().ok()?;
            let max = if network.is_ipv4() { 32 } else { 128 };
            return (prefix <= max && network == mask(network, prefix))
                .then_some(Self::Addresses { network, prefix });
        }
        if let Ok(network) = lower.parse::<IpAddr>() {
            let prefix = if network.is_ipv4() { 32 } else { 128 };
            return Some(Self::Addresses { network, prefix });
        }
        if !openccm_pki::san::is_dns_name(&lower) {
            return None;
        }
        Some(match lower.strip_prefix("*.") {
            Some(parent) => Self::Subdomains(parent.to_owned()),
            None => Self::Dns(lower),
        })
    }

    /// The entry as stored and shown.
    pub fn text(&self) -> String {
        match self {
            Self::Dns(name) => name.clone(),
            Self::Subdomains(parent) => format!("*.{parent}"),
            Self::Addresses { network, prefix } => {
                let full = if network.is_ipv4() { 32 } else { 128 };
                if *prefix == full {
                    network.to_string()
                } else {
                    format!("{network}/{prefix}")
                }
            }
        }
    }
}

/// `address` with the bits past `prefix` cleared.
fn mask(address: IpAddr, prefix: u8) -> IpAddr {
    match address {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & kept).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & kept).into())
        }
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::invalid(msg)
}

/// The settings `input` asks for on a CA with `remaining_days` of validity
/// left.
fn settings_from(
    input: AcmeInput,
    base: AcmeSettings,
    remaining_days: i64,
) -> Result<AcmeSettings> {
    let enabled = input
        .enabled
        .ok_or_else(|| invalid("enabled is required"))?;
    let allowed_identifiers = match input.allowed_identifiers {
        None => Vec::new(),
        Some(list) => {
            if list.len() > MAX_ALLOWED_IDENTIFIERS {
                return Err(invalid(format!(
                    "allowed_identifiers holds at most {MAX_ALLOWED_IDENTIFIERS} entries"
                )));
            }
            let mut rules = Vec::with_capacity(list.len());
            for entry in &list {
                let rule = IdentifierRule::parse(entry).ok_or_else(|| {
                    invalid(format!(
                        "allowed_identifiers: {entry:?} is not a DNS name, `*.` name, IP address or CIDR range"
                    ))
                })?;
                let text = rule.text();
                if !rules.contains(&text) {
                    rules.push(text);
                }
            }
            rules
        }
    };
    let challenges = match input.challenges {
        None => AcmeChallenge::ALL.to_vec(),
        Some(names) => {
            let mut chosen = Vec::new();
            for name in &names {
                let challenge = AcmeChallenge::parse(name).ok_or_else(|| {
                    invalid(format!(
                        "challenges: {name:?} is not http-01, dns-01 or tls-alpn-01"
                    ))
                })?;
                if !chosen.contains(&challenge) {
                    chosen.push(challenge);
                }
            }
            if chosen.is_empty() {
                return Err(invalid("challenges must name at least one challenge type"));
            }
            chosen.sort_unstable();
            chosen
        }
    };
    // Left out, the default stops at the CA's own notAfter; given, it must
    // fit before it.
    let max_validity_days = input
        .max_validity_days
        .unwrap_or_else(|| DEFAULT_VALIDITY_DAYS.min(remaining_days.max(1)));
    if !(1..=MAX_VALIDITY_DAYS).contains(&max_validity_days) {
        return Err(invalid(format!(
            "max_validity_days must be 1 to {MAX_VALIDITY_DAYS}"
        )));
    }
    if enabled && max_validity_days > remaining_days {
        return Err(invalid(format!(
            "max_validity_days ({max_validity_days}) is beyond the CA's own validity ({remaining_days} days left)"
        )));
    }
    let key_algorithms = match input.key_algorithms {
        None => ACME_KEY_ALGORITHMS.to_vec(),
        Some(keys) => {
            let mut chosen = Vec::new();
            for key in keys {
                let key = key
                    .filter(|k| ACME_KEY_ALGORITHMS.contains(k))
                    .ok_or_else(|| {
                        invalid("key_algorithms: each must be EC256, EC384, RSA2048, RSA3072 or RSA4096")
                    })?;
                if !chosen.contains(&key) {
                    chosen.push(key);
                }
            }
            if chosen.is_empty() {
                return Err(invalid("key_algorithms must name at least one key type"));
            }
            chosen
        }
    };
    Ok(AcmeSettings {
        enabled,
        eab_required: input.eab_required.unwrap_or(true),
        allowed_identifiers,
        challenges,
        max_validity_days,
        key_algorithms,
        ..base
    })
}

/// What a CA's settings look like before anyone configured them.
fn default_acme(ca_id: &CaId, caller: &Caller) -> AcmeSettings {
    AcmeSettings {
        ca_id: ca_id.clone(),
        domain_id: caller.domain_id.clone(),
        enabled: false,
        eab_required: true,
        allowed_identifiers: Vec::new(),
        challenges: AcmeChallenge::ALL.to_vec(),
        max_validity_days: DEFAULT_VALIDITY_DAYS,
        key_algorithms: ACME_KEY_ALGORITHMS.to_vec(),
        updated_at: 0,
    }
}

impl Pca {
    /// The view of `settings` on a CA that is (or is not) active: ACME
    /// answers, and the directory is named, only while both hold.
    fn acme_view(&self, settings: AcmeSettings, active: bool) -> AcmeView {
        let directory_url = (settings.enabled && active).then(|| {
            format!(
                "{}/acme/{}/directory",
                self.settings.public_url, settings.ca_id
            )
        });
        AcmeView {
            settings,
            directory_url,
        }
    }

    /// ConfigureAcme: switches ACME on or off for a CA and sets its policy.
    /// Only an active CA can have it on.
    pub async fn configure_acme(
        &self,
        caller: &Caller,
        ca_id: &CaId,
        input: AcmeInput,
    ) -> Result<AcmeView> {
        let ca = self
            .load_ca(caller, actions::PCA_ACME_CONFIGURE, ca_id)
            .await?;
        let now = self.now();
        if input.enabled == Some(true) {
            let status = ca_status(&ca, now);
            if status != CaStatus::Active {
                return Err(Error::StatusForbids(crate::error::StatusRefusal::Ca {
                    operation: "Switching ACME on",
                    status,
                }));
            }
        }
        let remaining_days = ca.not_after.map_or(0, |t| (t - now).max(0) / DAY_MS);
        let mut settings = settings_from(input, default_acme(&ca.ca_id, caller), remaining_days)?;
        settings.updated_at = now;
        if !self.store.put_acme_settings(&settings).await? {
            return Err(super::not_found_ca());
        }
        let active = ca_status(&ca, now) == CaStatus::Active;
        Ok(self.acme_view(settings, active))
    }

    /// ShowAcme: a CA's ACME settings (defaults, off, when never set).
    pub async fn acme_settings(&self, caller: &Caller, ca_id: &CaId) -> Result<AcmeView> {
        let ca = self.load_ca(caller, actions::PCA_CA_GET, ca_id).await?;
        let settings = self
            .store
            .acme_settings(&caller.domain_id, &ca.ca_id)
            .await?
            .unwrap_or_else(|| default_acme(&ca.ca_id, caller));
        let active = ca_status(&ca, self.now()) == CaStatus::Active;
        Ok(self.acme_view(settings, active))
    }

    /// CreateAcmeEabKey: a new EAB key for the CA, bound to the caller's
    /// account. Its HMAC key is sealed at once and shown only in the
    /// answer.
    pub async fn create_eab_key(
        &self,
        caller: &Caller,
        ca_id: &CaId,
        description: Option<String>,
    ) -> Result<NewEabKey> {
        let ca = self
            .load_ca(caller, actions::PCA_ACME_CREATE_EAB, ca_id)
            .await?;
        if let Some(text) = &description {
            if text.chars().count() > MAX_EAB_DESCRIPTION || text.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "description: at most {MAX_EAB_DESCRIPTION} characters, no control characters"
                )));
            }
        }
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key_id = b64.encode(random_bytes::<16>());
        let hmac = Zeroizing::new(random_bytes::<32>());
        let owner = format!("eab:{key_id}");
        let custody = self.custody.clone();
        let sealed_for = owner.clone();
        let material = hmac.clone();
        let handle = self
            .pools
            .signing
            .run(move || custody.import(&sealed_for, material.as_slice()))
            .await??;
        let key = EabKey {
            key_id,
            ca_id: ca.ca_id,
            domain_id: caller.domain_id.clone(),
            created_by: caller.user_id.clone(),
            description,
            key_owner: handle.owner,
            sealed_key: handle.sealed,
            created_at: self.now(),
            bound_account: None,
        };
        if !self.store.insert_eab_key(&key).await? {
            return Err(super::not_found_ca());
        }
        Ok(NewEabKey {
            key,
            hmac_key: Zeroizing::new(b64.encode(hmac.as_slice())),
        })
    }

    /// ListAcmeEabKeys: a CA's EAB keys, oldest first (never their HMAC
    /// keys).
    pub async fn eab_keys(&self, caller: &Caller, ca_id: &CaId) -> Result<Vec<EabKey>> {
        let ca = self
            .load_ca(caller, actions::PCA_ACME_LIST_EAB, ca_id)
            .await?;
        Ok(self.store.eab_keys(&caller.domain_id, &ca.ca_id).await?)
    }

    /// DeleteAcmeEabKey: the key can no longer bind an account, and the
    /// account it bound is deactivated (in the store's same transaction).
    pub async fn delete_eab_key(&self, caller: &Caller, ca_id: &CaId, key_id: &str) -> Result<()> {
        let ca = self
            .load_ca(caller, actions::PCA_ACME_DELETE_EAB, ca_id)
            .await?;
        self.store
            .delete_eab_key(&caller.domain_id, &ca.ca_id, key_id)
            .await?
            .ok_or_else(|| Error::NotFound("The EAB key does not exist.".to_owned()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifier_rules_parse_names_addresses_and_ranges() {
        assert_eq!(
            IdentifierRule::parse("Example.TEST"),
            Some(IdentifierRule::Dns("example.test".to_owned()))
        );
        assert_eq!(
            IdentifierRule::parse("*.corp.example"),
            Some(IdentifierRule::Subdomains("corp.example".to_owned()))
        );
        let range = IdentifierRule::parse("10.0.0.0/8").unwrap();
        assert_eq!(range.text(), "10.0.0.0/8");
        assert_eq!(
            IdentifierRule::parse("192.0.2.7").unwrap().text(),
            "192.0.2.7"
        );
        assert_eq!(
            IdentifierRule::parse("2001:db8::/32").unwrap().text(),
            "2001:db8::/32"
        );
        // Host bits set, prefixes too long, and what is no name at all.
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "2001:db8::/129",
            "*.",
            "a..b",
            "exa mple.test",
            "*.*.example",
            "",
            "1.2.3.4/x",
            "10.0.0.0/+8",
            "10.0.0.0/",
        ] {
            assert_eq!(IdentifierRule::parse(bad), None, "{bad:?}");
        }
    }

    fn base() -> AcmeSettings {
        AcmeSettings {
            ca_id: CaId::parse("01a24d39-4db6-7e87-948f-a9909c751230").unwrap(),
            domain_id: openccm_store::DomainId::parse("ab05dc8153c968b5f89e632755832ba1").unwrap(),
            enabled: false,
            eab_required: true,
            allowed_identifiers: Vec::new(),
            challenges: AcmeChallenge::ALL.to_vec(),
            max_validity_days: DEFAULT_VALIDITY_DAYS,
            key_algorithms: ACME_KEY_ALGORITHMS.to_vec(),
            updated_at: 0,
        }
    }

    #[test]
    fn settings_take_defaults_and_refuse_what_the_policy_cannot_hold() {
        let on = AcmeInput {
            enabled: Some(true),
            ..AcmeInput::default()
        };
        let s = settings_from(on.clone(), base(), 365).unwrap();
        assert!(s.enabled && s.eab_required);
        assert_eq!(s.max_validity_days, 90);
        assert_eq!(s.challenges, AcmeChallenge::ALL.to_vec());
        assert_eq!(s.key_algorithms, ACME_KEY_ALGORITHMS.to_vec());

        let refused = |input: AcmeInput, days: i64| settings_from(input, base(), days).is_err();
        assert!(refused(AcmeInput::default(), 365), "enabled is required");
        // Left out, the default stops at the CA's notAfter; given, it must fit.
        assert_eq!(
            settings_from(on.clone(), base(), 30)
                .unwrap()
                .max_validity_days,
            30
        );
        assert!(refused(
            AcmeInput {
                max_validity_days: Some(31),
                ..on.clone()
            },
            30
        ));
        for days in [0, 3651] {
            assert!(refused(
                AcmeInput {
                    max_validity_days: Some(days),
                    ..on.clone()
                },
                10_000
            ));
        }
        assert!(refused(
            AcmeInput {
                challenges: Some(vec![]),
                ..on.clone()
            },
            365
        ));
        assert!(refused(
            AcmeInput {
                challenges: Some(vec!["http-02".to_owned()]),
                ..on.clone()
            },
            365
        ));
        assert!(refused(
            AcmeInput {
                key_algorithms: Some(vec![Some(KeyAlgorithm::Sm2)]),
                ..on.clone()
            },
            365
        ));
        assert!(refused(
            AcmeInput {
                allowed_identifiers: Some(vec!["ok.example".to_owned(); 101]),
                ..on.clone()
            },
            365
        ));
        // Switching off is allowed whatever is left of the CA's validity.
        let off = AcmeInput {
            enabled: Some(false),
            ..AcmeInput::default()
        };
        assert!(!settings_from(off, base(), 0).unwrap().enabled);
        // Duplicates collapse, spellings are normalised.
        let s = settings_from(
            AcmeInput {
                allowed_identifiers: Some(vec![
                    "A.example".to_owned(),
                    "a.example".to_owned(),
                    "10.1.0.0/16".to_owned(),
                ]),
                challenges: Some(vec![
                    "dns-01".to_owned(),
                    "http-01".to_owned(),
                    "dns-01".to_owned(),
                ]),
                ..on
            },
            base(),
            365,
        )
        .unwrap();
        assert_eq!(s.allowed_identifiers, ["a.example", "10.1.0.0/16"]);
        assert_eq!(s.challenges, [AcmeChallenge::Http01, AcmeChallenge::Dns01]);
    }
}
