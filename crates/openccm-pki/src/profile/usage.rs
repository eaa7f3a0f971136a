//! Key usages and extended key usages: their API names, defaults and the
//! rules that tie them to key types.

use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::KeyUsages;

use super::oid;
use crate::algorithm::KeyAlgorithm;
use crate::{PkiError, PkiResult};

/// The key usages by their API names (RFC 5280 §4.2.1.3).
pub const KEY_USAGE_NAMES: [(&str, KeyUsages); 9] = [
    ("digitalSignature", KeyUsages::DigitalSignature),
    ("nonRepudiation", KeyUsages::NonRepudiation),
    ("keyEncipherment", KeyUsages::KeyEncipherment),
    ("dataEncipherment", KeyUsages::DataEncipherment),
    ("keyAgreement", KeyUsages::KeyAgreement),
    ("keyCertSign", KeyUsages::KeyCertSign),
    ("cRLSign", KeyUsages::CRLSign),
    ("encipherOnly", KeyUsages::EncipherOnly),
    ("decipherOnly", KeyUsages::DecipherOnly),
];

/// A set of key usages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyUsageSet(pub der::flagset::FlagSet<KeyUsages>);

impl KeyUsageSet {
    /// Parses API names; unknown or repeated names are errors.
    pub fn parse(names: &[String]) -> PkiResult<Self> {
        let mut set = der::flagset::FlagSet::<KeyUsages>::default();
        for name in names {
            let (_, flag) = KEY_USAGE_NAMES
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| PkiError::Extension(format!("unknown key usage {name:?}")))?;
            if set.contains(*flag) {
                return Err(PkiError::Extension(format!("key usage {name} is repeated")));
            }
            set |= *flag;
        }
        Ok(Self(set))
    }

    /// From flags.
    pub fn of(flags: &[KeyUsages]) -> Self {
        let mut set = der::flagset::FlagSet::<KeyUsages>::default();
        for f in flags {
            set |= *f;
        }
        Self(set)
    }

    /// The API names, in RFC order.
    pub fn names(self) -> Vec<String> {
        KEY_USAGE_NAMES
            .iter()
            .filter(|(_, f)| self.0.contains(*f))
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }

    /// Whether `flag` is set.
    pub fn contains(self, flag: KeyUsages) -> bool {
        self.0.contains(flag)
    }

    /// Whether no usage is set.
    pub fn is_empty(self) -> bool {
        self.0.is_empty()
    }

    /// The usages a CA gets by default: digitalSignature, keyCertSign, cRLSign.
    pub fn ca_default() -> Self {
        Self::of(&[
            KeyUsages::DigitalSignature,
            KeyUsages::KeyCertSign,
            KeyUsages::CRLSign,
        ])
    }

    /// The usages an end-entity certificate of `key` gets by default: the
    /// API's `digitalSignature, keyAgreement` where the key can agree keys
    /// (EC), `digitalSignature, keyEncipherment` for RSA (RFC 3279 §2.3.1
    /// forbids keyAgreement with RSA), `digitalSignature, nonRepudiation` for
    /// an SM2 signing certificate.
    pub fn end_entity_default(key: KeyAlgorithm) -> Self {
        match key {
            KeyAlgorithm::Ec256 | KeyAlgorithm::Ec384 => {
                Self::of(&[KeyUsages::DigitalSignature, KeyUsages::KeyAgreement])
            }
            KeyAlgorithm::Sm2 => {
                Self::of(&[KeyUsages::DigitalSignature, KeyUsages::NonRepudiation])
            }
            _ => Self::of(&[KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment]),
        }
    }

    /// The usages of an SM2 encryption certificate: keyAgreement. GM/T 0015
    /// lists keyEncipherment and dataEncipherment too, but SM2 keys are
    /// id-ecPublicKey keys, for which RFC 5480 §3 forbids those two (and
    /// pkilint refuses them); keyAgreement covers TLCP's key exchange.
    pub fn sm2_encryption() -> Self {
        Self::of(&[KeyUsages::KeyAgreement])
    }

    /// Checks the usages against the key type: RSA keys never agree keys
    /// (RFC 3279 §2.3.1); EC keys, SM2 included (id-ecPublicKey), never
    /// encipher (RFC 5480 §3); encipherOnly and decipherOnly need
    /// keyAgreement (RFC 5280 §4.2.1.3).
    pub fn check_fits(self, key: KeyAlgorithm) -> PkiResult<()> {
        let has = |f| self.0.contains(f);
        if key.is_rsa()
            && (has(KeyUsages::KeyAgreement)
                || has(KeyUsages::EncipherOnly)
                || has(KeyUsages::DecipherOnly))
        {
            return Err(PkiError::Extension(
                "RSA keys cannot be used for keyAgreement (RFC 3279)".to_owned(),
            ));
        }
        if !key.is_rsa() && (has(KeyUsages::KeyEncipherment) || has(KeyUsages::DataEncipherment)) {
            return Err(PkiError::Extension(
                "EC keys cannot be used for keyEncipherment or dataEncipherment (RFC 5480)"
                    .to_owned(),
            ));
        }
        if (has(KeyUsages::EncipherOnly) || has(KeyUsages::DecipherOnly))
            && !has(KeyUsages::KeyAgreement)
        {
            return Err(PkiError::Extension(
                "encipherOnly and decipherOnly need keyAgreement".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The API's extended key usage flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(clippy::struct_excessive_bools)] // Mirrors the API's object.
pub struct ExtendedKeyUsageFlags {
    /// serverAuth.
    pub server_auth: bool,
    /// clientAuth.
    pub client_auth: bool,
    /// codeSigning.
    pub code_signing: bool,
    /// emailProtection.
    pub email_protection: bool,
    /// timeStamping.
    pub time_stamping: bool,
    /// Microsoft smart-card logon.
    pub smart_card_logon: bool,
}

impl ExtendedKeyUsageFlags {
    /// The OIDs, in a stable order.
    pub fn oids(self) -> Vec<ObjectIdentifier> {
        [
            (self.server_auth, oid::KP_SERVER_AUTH),
            (self.client_auth, oid::KP_CLIENT_AUTH),
            (self.code_signing, oid::KP_CODE_SIGNING),
            (self.email_protection, oid::KP_EMAIL_PROTECTION),
            (self.time_stamping, oid::KP_TIME_STAMPING),
            (self.smart_card_logon, oid::KP_SMART_CARD_LOGON),
        ]
        .into_iter()
        .filter_map(|(on, o)| on.then_some(o))
        .collect()
    }
}
