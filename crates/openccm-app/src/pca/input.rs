//! Typed inputs of the PCA use cases, and the rules that turn them into
//! values (validity arithmetic, key usages, SANs, ids).

use const_oid::ObjectIdentifier;
use openccm_pki::profile::{ExtendedKeyUsageFlags, KeyUsageSet};
use openccm_pki::san::{self, AltName, AltNameKind};
use openccm_pki::{DistinguishedName, HashAlgorithm, KeyAlgorithm};
use openccm_store::{CaId, CertId};

pub use crate::common::Field;
use crate::error::{Error, Invalid, Result};

/// The unit of a validity's `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidityUnit {
    /// Calendar years.
    Year,
    /// 31 days.
    Month,
    /// Days.
    Day,
    /// Hours.
    Hour,
}

/// `Validity` as given.
#[derive(Debug, Clone, Default)]
pub struct ValidityInput {
    /// The unit `value` counts.
    pub kind: Option<Field<ValidityUnit>>,
    /// Units.
    pub value: Option<i64>,
    /// notBefore, epoch ms.
    pub start_from: Option<i64>,
}

/// CRL settings as given.
#[derive(Debug, Clone, Default)]
pub struct CrlInput {
    /// On.
    pub enabled: Option<bool>,
    /// File name.
    pub crl_name: Option<String>,
    /// Bucket.
    pub bucket: Option<String>,
    /// 7–30.
    pub valid_days: Option<i64>,
}

/// A SAN entry as given.
#[derive(Debug, Clone, Default)]
pub struct AltNameInput {
    /// Type.
    pub kind: Option<Field<AltNameKind>>,
    /// Value.
    pub value: Option<String>,
}

/// A custom extension as given.
#[derive(Debug, Clone, Default)]
pub struct CustomExtensionInput {
    /// Dotted OID.
    pub object_identifier: Option<String>,
    /// Value.
    pub value: Option<String>,
}

/// CreateCertificateAuthority.
#[derive(Debug, Clone, Default)]
pub struct CreateCa {
    /// `ROOT` | `SUBORDINATE`.
    pub ca_type: Option<openccm_store::CaType>,
    /// Subject.
    pub distinguished_name: Option<DistinguishedName>,
    /// Key algorithm.
    pub key_algorithm: Option<Field<KeyAlgorithm>>,
    /// Validity.
    pub validity: Option<ValidityInput>,
    /// Parent.
    pub issuer_id: Option<Field<CaId>>,
    /// 0–6.
    pub path_length: Option<i64>,
    /// Hash.
    pub signature_algorithm: Option<Field<HashAlgorithm>>,
    /// Key usages.
    pub key_usages: Option<Vec<String>>,
    /// CRL settings.
    pub crl: Option<CrlInput>,
    /// Enterprise project.
    pub enterprise_project_id: Option<String>,
    /// A cloud-only field (prepaid `ca_id`, `hsm_cluster_info`) was given.
    pub cloud_only: bool,
}

/// IssueCertificateAuthorityCertificate (activate a pending CA).
#[derive(Debug, Clone, Default)]
pub struct ActivateCa {
    /// Parent.
    pub issuer_id: Option<Field<CaId>>,
    /// 0–6.
    pub path_length: Option<i64>,
    /// Hash.
    pub signature_algorithm: Option<Field<HashAlgorithm>>,
    /// Validity.
    pub validity: Option<ValidityInput>,
    /// Key usages.
    pub key_usages: Option<Vec<String>>,
    /// CRL settings.
    pub crl: Option<CrlInput>,
}

/// CreateCertificate.
#[derive(Debug, Clone, Default)]
pub struct CreateCertificate {
    /// Issuing CA.
    pub issuer_id: Option<Field<CaId>>,
    /// Key algorithm.
    pub key_algorithm: Option<Field<KeyAlgorithm>>,
    /// Hash.
    pub signature_algorithm: Option<Field<HashAlgorithm>>,
    /// Subject.
    pub distinguished_name: Option<DistinguishedName>,
    /// Validity.
    pub validity: Option<ValidityInput>,
    /// Key usages.
    pub key_usages: Option<Vec<String>>,
    /// SANs.
    pub alt_names: Option<Vec<AltNameInput>>,
    /// EKUs.
    pub extended_key_usage: ExtendedKeyUsageFlags,
    /// Custom extension.
    pub custom_extension: Option<CustomExtensionInput>,
    /// Enterprise project.
    pub enterprise_project_id: Option<String>,
}

/// CreateCertificateByCsr.
#[derive(Debug, Clone, Default)]
pub struct CreateCertificateByCsr {
    /// Issuing CA.
    pub issuer_id: Option<Field<CaId>>,
    /// PEM CSR.
    pub csr: Option<String>,
    /// Validity.
    pub validity: Option<ValidityInput>,
    /// `ENTITY_CERT` | `INTERMEDIATE_CA`.
    pub kind: Option<String>,
    /// For `INTERMEDIATE_CA`.
    pub path_length: Option<i64>,
    /// Enterprise project.
    pub enterprise_project_id: Option<String>,
}

/// ExportCertificate.
#[derive(Clone, Default)]
pub struct ExportRequest {
    /// A zip archive (else the PEM fields).
    pub compressed: Option<Field<bool>>,
    /// The server the archive is laid out for.
    pub kind: Option<Field<ExportFormat>>,
    /// SM2 encryption keys as GM/T 0009/0010 envelopes.
    pub sm_standard: Option<Field<bool>>,
    /// Encrypts exported keys.
    pub password: Option<String>,
}

impl std::fmt::Debug for ExportRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key material and passwords never reach a log through `{:?}`.
        f.debug_struct("ExportRequest")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Parses a CA id (`PCA.00020201` when malformed).
pub fn ca_id(text: &str) -> Result<CaId> {
    CaId::parse(text).ok_or_else(|| {
        Error::invalid_kind(
            Invalid::CaId,
            "Invalid CA ID. Valid CA IDs use a hexadecimal xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx format.",
        )
    })
}

/// Parses a certificate id.
pub fn cert_id(text: &str) -> Result<CertId> {
    CertId::parse(text).ok_or_else(|| {
        Error::invalid_kind(
            Invalid::CertificateId,
            "Invalid certificate ID: a 36-character lower-case UUID is expected.",
        )
    })
}

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// `start_from` may lie at most this far in the past.
const START_SLACK_MS: i64 = 5 * 60 * 1000;

fn invalid_validity(msg: impl Into<String>) -> Error {
    Error::invalid_kind(Invalid::Validity, msg)
}

/// Adds `years` calendar years to `ms` (29 February becomes 28 February).
fn add_years(ms: i64, years: i64) -> Result<i64> {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| invalid_validity("the start time is out of range"))?;
    let year =
        i32::try_from(i64::from(t.year()) + years).map_err(|_| invalid_validity("too long"))?;
    let date = t
        .date()
        .replace_year(year)
        .or_else(|_| t.date().replace_day(28).and_then(|d| d.replace_year(year)))
        .map_err(|_| invalid_validity("the end date is out of range"))?;
    let end = t.replace_date(date);
    i64::try_from(end.unix_timestamp_nanos() / 1_000_000).map_err(|_| invalid_validity("too long"))
}

/// A validity that must be present (`PCA.00020109` when missing).
pub fn required_validity(input: Option<&ValidityInput>) -> Result<&ValidityInput> {
    input.ok_or_else(|| invalid_validity("validity is required"))
}

/// The (notBefore, notAfter) of a validity, in whole seconds (epoch ms).
///
/// `YEAR` = 12 calendar months, `MONTH` = 31 days, `DAY`, `HOUR`; the
/// duration may not exceed `max_years` years; `start_from` may not lie more
/// than 5 minutes in the past. Fails with the validity error code.
pub fn validity(input: &ValidityInput, now: i64, max_years: i64) -> Result<(i64, i64)> {
    let kind = input
        .kind
        .as_ref()
        .ok_or_else(|| invalid_validity("validity.type is required"))?;
    let value = input
        .value
        .ok_or_else(|| invalid_validity("validity.value is required"))?;
    if value < 1 {
        return Err(invalid_validity("validity.value must be at least 1"));
    }
    let start = match input.start_from {
        Some(start) if start <= now - START_SLACK_MS => {
            return Err(invalid_validity(
                "validity.start_from must be later than 5 minutes ago",
            ))
        }
        Some(start) => start,
        None => now,
    };
    let start = openccm_pki::time::truncate_to_seconds(start);
    let limit = add_years(start, max_years)?;
    let end = match kind.get()? {
        ValidityUnit::Year => {
            if value > max_years {
                return Err(invalid_validity(format!("at most {max_years} years")));
            }
            add_years(start, value)?
        }
        ValidityUnit::Month => start
            .checked_add(value.saturating_mul(31 * DAY_MS))
            .ok_or_else(|| invalid_validity("too long"))?,
        ValidityUnit::Day => start
            .checked_add(value.saturating_mul(DAY_MS))
            .ok_or_else(|| invalid_validity("too long"))?,
        ValidityUnit::Hour => start
            .checked_add(value.saturating_mul(HOUR_MS))
            .ok_or_else(|| invalid_validity("too long"))?,
    };
    if end > limit {
        return Err(invalid_validity(format!(
            "the validity may not exceed {max_years} years"
        )));
    }
    Ok((start, end))
}

/// Key usages: the given names checked against the key, or `default`.
pub fn key_usages(names: Option<&[String]>, default: KeyUsageSet) -> Result<KeyUsageSet> {
    match names {
        Some(names) if !names.is_empty() => Ok(KeyUsageSet::parse(names)?),
        _ => Ok(default),
    }
}

/// SAN entries (at most 20).
pub fn alt_names(inputs: Option<&[AltNameInput]>) -> Result<Vec<AltName>> {
    let inputs = inputs.unwrap_or_default();
    if inputs.len() > san::MAX_ENTRIES {
        return Err(Error::invalid_kind(
            Invalid::AlternativeName,
            format!("at most {} subject alternative names", san::MAX_ENTRIES),
        ));
    }
    inputs
        .iter()
        .map(|entry| {
            let kind = entry.kind.as_ref().ok_or_else(|| {
                Error::invalid_kind(
                    Invalid::AlternativeName,
                    "subject_alternative_names[].type is required",
                )
            })?;
            let value = entry.value.as_deref().ok_or_else(|| {
                Error::invalid_kind(
                    Invalid::AlternativeName,
                    "subject_alternative_names[].value is required",
                )
            })?;
            Ok(AltName::parse(kind.get()?, value)?)
        })
        .collect()
}

/// The custom extension: a dotted OID (not under the profile's own OIDs) and
/// a value of 1–255 characters.
pub fn custom_extension(
    input: Option<&CustomExtensionInput>,
) -> Result<Option<(ObjectIdentifier, String)>> {
    let Some(input) = input else {
        return Ok(None);
    };
    match (&input.object_identifier, &input.value) {
        (None, None) => Ok(None),
        (Some(oid), Some(value)) => {
            let oid = ObjectIdentifier::new(oid).map_err(|_| {
                Error::invalid(format!(
                    "customized_extension.object_identifier {oid:?} is not a dotted OID"
                ))
            })?;
            let len = value.chars().count();
            if len == 0 || len > 255 {
                return Err(Error::invalid(
                    "customized_extension.value must be 1-255 characters",
                ));
            }
            Ok(Some((oid, value.clone())))
        }
        _ => Err(Error::invalid(
            "customized_extension needs both object_identifier and value",
        )),
    }
}

/// Path length of a subordinate CA: 0–6, default 0.
pub fn path_length(value: Option<i64>) -> Result<u8> {
    match value {
        None => Ok(0),
        Some(v) if (0..=6).contains(&v) => Ok(u8::try_from(v).unwrap_or(0)),
        Some(_) => Err(Error::invalid("path_length must be 0-6")),
    }
}

/// CRL settings: `enabled` needs a bucket name and 7–30 days; the name is
/// letters, digits, `-`, `_`, `.` (it becomes part of a URL).
pub fn crl_settings(input: Option<&CrlInput>) -> Result<openccm_store::CrlSettings> {
    let Some(input) = input else {
        return Ok(openccm_store::CrlSettings::default());
    };
    let enabled = input.enabled.unwrap_or(false);
    if let Some(name) = &input.crl_name {
        let ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !ok {
            return Err(Error::invalid(
                "crl_name must be 1-64 letters, digits, '-', '_' or '.'",
            ));
        }
    }
    if enabled {
        if input.bucket.as_deref().is_none_or(str::is_empty) {
            return Err(Error::invalid(
                "crl_configuration.obs_bucket_name is required when enabled",
            ));
        }
        match input.valid_days {
            Some(d) if (7..=30).contains(&d) => {}
            _ => {
                return Err(Error::invalid(
                    "crl_configuration.valid_days must be 7-30 when enabled",
                ))
            }
        }
    }
    Ok(openccm_store::CrlSettings {
        enabled,
        crl_name: input.crl_name.clone(),
        bucket: input.bucket.clone(),
        valid_days: input.valid_days,
    })
}

/// A yes/no given as the strings `"true"`/`"false"` (what the SDK sends).
/// The servers an export archive is laid out for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Key, certificate and chain for Apache.
    Apache,
    /// Key and full chain for nginx.
    Nginx,
    /// A PKCS#12 keystore for IIS.
    Iis,
    /// A keystore for Tomcat.
    Tomcat,
    /// PEM files.
    Other,
}

impl ExportFormat {
    /// The archive's file-name suffix (`<name>_<suffix>.zip`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            Self::Apache => "apache",
            Self::Nginx => "nginx",
            Self::Iis => "iis",
            Self::Tomcat => "tomcat",
            Self::Other => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn v(kind: &str, value: i64) -> ValidityInput {
        let unit = match kind {
            "YEAR" => Field::Valid(ValidityUnit::Year),
            "MONTH" => Field::Valid(ValidityUnit::Month),
            "DAY" => Field::Valid(ValidityUnit::Day),
            "HOUR" => Field::Valid(ValidityUnit::Hour),
            _ => Field::Refused {
                kind: Invalid::Validity,
                message: "unknown unit".to_owned(),
            },
        };
        ValidityInput {
            kind: Some(unit),
            value: Some(value),
            start_from: None,
        }
    }

    #[test]
    fn validity_units_follow_the_sdk() {
        assert_eq!(
            validity(&v("DAY", 2), NOW, 20).unwrap(),
            (NOW, NOW + 2 * DAY_MS)
        );
        assert_eq!(
            validity(&v("HOUR", 5), NOW, 20).unwrap().1,
            NOW + 5 * HOUR_MS
        );
        assert_eq!(
            validity(&v("MONTH", 1), NOW, 20).unwrap().1,
            NOW + 31 * DAY_MS
        );
        // 2023-11-14 + 1 year = 2024-11-14 (366 days: a leap year lies between).
        assert_eq!(
            validity(&v("YEAR", 1), NOW, 20).unwrap().1,
            NOW + 366 * DAY_MS
        );
    }

    #[test]
    fn validity_limits_are_enforced() {
        assert!(validity(&v("YEAR", 20), NOW, 20).is_ok());
        assert!(validity(&v("YEAR", 21), NOW, 20).is_err());
        assert!(validity(&v("YEAR", 30), NOW, 30).is_ok());
        assert!(validity(&v("MONTH", 240), NOW, 20).is_err());
        assert!(validity(&v("DAY", 0), NOW, 20).is_err());
        assert!(validity(&v("WEEK", 1), NOW, 20).is_err());
        let past = ValidityInput {
            start_from: Some(NOW - 6 * 60 * 1000),
            ..v("DAY", 1)
        };
        assert!(validity(&past, NOW, 20).is_err());
        let recent = ValidityInput {
            start_from: Some(NOW - 60 * 1000 + 123),
            ..v("DAY", 1)
        };
        assert_eq!(validity(&recent, NOW, 20).unwrap().0, NOW - 60 * 1000);
        assert!(validity(
            &ValidityInput {
                kind: None,
                ..v("DAY", 1)
            },
            NOW,
            20
        )
        .is_err());
    }

    #[test]
    fn leap_days_become_the_28th() {
        let feb29 = 1_709_164_800_000; // 2024-02-29T00:00:00Z
        let (_, end) = validity(
            &ValidityInput {
                start_from: Some(feb29),
                ..v("YEAR", 1)
            },
            feb29,
            20,
        )
        .unwrap();
        assert_eq!(end, 1_740_700_800_000); // 2025-02-28T00:00:00Z
    }
}
