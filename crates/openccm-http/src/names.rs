//! Domain values ↔ the API's names for them (defined in `openccm-wire`):
//! the one place the two meet.

use openccm_app::common::Field;
use openccm_app::error::{Error, StatusRefusal};
use openccm_app::scm::{ScmCertStatus, ScmStatusFilter};
use openccm_app::Invalid;
use openccm_pki::san::AltNameKind;
use openccm_pki::{HashAlgorithm, KeyAlgorithm};
use openccm_store::{
    CaSortKey, CaStatus, CaType, CertSortKey, CertStatus, GenMode, RevocationReason, ScmSortKey,
    SortDir,
};
use openccm_wire::pca::{
    alt_name_type, export_type, flag, key_algorithm, signature_algorithm, validity_type,
};
use openccm_wire::pca::{
    ca_sort_key, ca_status, ca_type, cert_sort_key, cert_status, gen_mode, revocation_reason,
    sort_dir,
};
use openccm_wire::scm::{
    cert_status as scm_status, csr_usage, private_key_algo, sort_key as scm_sort_key,
};

/// The API's name of a CA status.
pub fn ca_status_name(status: CaStatus) -> &'static str {
    match status {
        CaStatus::Pending => ca_status::PENDING,
        CaStatus::Active => ca_status::ACTIVED,
        CaStatus::Expired => ca_status::EXPIRED,
        CaStatus::Disabled => ca_status::DISABLED,
        CaStatus::Deleted => ca_status::DELETED,
        CaStatus::Revoked => ca_status::REVOKED,
    }
}

/// The CA status the API names `text`.
pub fn parse_ca_status(text: &str) -> Option<CaStatus> {
    [
        CaStatus::Pending,
        CaStatus::Active,
        CaStatus::Expired,
        CaStatus::Disabled,
        CaStatus::Deleted,
        CaStatus::Revoked,
    ]
    .into_iter()
    .find(|s| ca_status_name(*s) == text)
}

/// The API's name of a certificate status.
pub fn cert_status_name(status: CertStatus) -> &'static str {
    match status {
        CertStatus::Issued => cert_status::ISSUED,
        CertStatus::Expired => cert_status::EXPIRED,
        CertStatus::Revoked => cert_status::REVOKED,
    }
}

/// The certificate status the API names `text`.
pub fn parse_cert_status(text: &str) -> Option<CertStatus> {
    [CertStatus::Issued, CertStatus::Expired, CertStatus::Revoked]
        .into_iter()
        .find(|s| cert_status_name(*s) == text)
}

/// The API's name of a CA type.
pub fn ca_type_name(value: CaType) -> &'static str {
    match value {
        CaType::Root => ca_type::ROOT,
        CaType::Subordinate => ca_type::SUBORDINATE,
    }
}

/// The CA type the API names `text`.
pub fn parse_ca_type(text: &str) -> Option<CaType> {
    [CaType::Root, CaType::Subordinate]
        .into_iter()
        .find(|t| ca_type_name(*t) == text)
}

/// The API's name of a `gen_mode`.
pub fn gen_mode_name(value: GenMode) -> &'static str {
    match value {
        GenMode::Generate => gen_mode::GENERATE,
        GenMode::Csr => gen_mode::CSR,
    }
}

/// The `sort_key` of ListCertificateAuthority.
pub fn parse_ca_sort_key(text: &str) -> Field<CaSortKey> {
    Field::from_parse(sort_key_ca_sort_key(text))
}

fn sort_key_ca_sort_key(text: &str) -> Result<CaSortKey, Error> {
    Ok(match text {
        ca_sort_key::CREATE_TIME => CaSortKey::CreateTime,
        ca_sort_key::COMMON_NAME => CaSortKey::CommonName,
        ca_sort_key::TYPE => CaSortKey::Type,
        ca_sort_key::NOT_AFTER => CaSortKey::NotAfter,
        _ => {
            return Err(Error::invalid(
                "sort_key must be create_time, common_name, type or not_after",
            ))
        }
    })
}

/// The `sort_key` of ListCertificate.
pub fn parse_cert_sort_key(text: &str) -> Field<CertSortKey> {
    Field::from_parse(sort_key_cert_sort_key(text))
}

fn sort_key_cert_sort_key(text: &str) -> Result<CertSortKey, Error> {
    Ok(match text {
        cert_sort_key::CREATE_TIME => CertSortKey::CreateTime,
        cert_sort_key::COMMON_NAME => CertSortKey::CommonName,
        cert_sort_key::ISSUER_NAME => CertSortKey::IssuerName,
        cert_sort_key::NOT_AFTER => CertSortKey::NotAfter,
        _ => {
            return Err(Error::invalid(
                "sort_key must be create_time, common_name, issuer_name or not_after",
            ))
        }
    })
}

/// The `sort_key` of SCM's ListCertificates.
pub fn parse_scm_sort_key(text: &str) -> Field<ScmSortKey> {
    Field::from_parse(sort_key_scm_sort_key(text))
}

fn sort_key_scm_sort_key(text: &str) -> Result<ScmSortKey, Error> {
    Ok(match text {
        scm_sort_key::CERT_UPDATE_TIME => ScmSortKey::UpdateTime,
        scm_sort_key::CERT_EXPIRED_TIME => ScmSortKey::ExpiredTime,
        scm_sort_key::CERT_STATUS => ScmSortKey::Status,
        _ => {
            return Err(Error::invalid(
                "sort_key must be certExpiredTime, certStatus or certUpdateTime",
            ))
        }
    })
}

/// A `sort_dir`.
pub fn parse_sort_dir(text: &str) -> Field<SortDir> {
    Field::from_parse(sort_dir_of(text))
}

fn sort_dir_of(text: &str) -> Result<SortDir, Error> {
    match text {
        sort_dir::ASC => Ok(SortDir::Asc),
        sort_dir::DESC => Ok(SortDir::Desc),
        _ => Err(Error::invalid("sort_dir must be ASC or DESC")),
    }
}

/// The API's name of an SCM certificate status.
pub fn scm_cert_status_name(status: ScmCertStatus) -> &'static str {
    match status {
        ScmCertStatus::Uploaded => scm_status::UPLOAD,
        ScmCertStatus::Expired => scm_status::EXPIRED,
    }
}

/// The `status` filter of SCM's ListCertificates: any documented status.
pub fn parse_scm_status_filter(text: &str) -> Field<ScmStatusFilter> {
    Field::from_parse(scm_status_filter_of(text))
}

fn scm_status_filter_of(text: &str) -> Result<ScmStatusFilter, Error> {
    match text {
        scm_status::ALL => Ok(ScmStatusFilter::All),
        scm_status::UPLOAD => Ok(ScmStatusFilter::Only(ScmCertStatus::Uploaded)),
        scm_status::EXPIRED => Ok(ScmStatusFilter::Only(ScmCertStatus::Expired)),
        other if scm_status::PURCHASE_FLOW.contains(&other) => Ok(ScmStatusFilter::PurchaseFlow),
        _ => Err(Error::invalid("status is not a documented status")),
    }
}

/// The API's name of a revocation reason.
pub fn revocation_reason_name(reason: RevocationReason) -> &'static str {
    match reason {
        RevocationReason::Unspecified => revocation_reason::UNSPECIFIED,
        RevocationReason::KeyCompromise => revocation_reason::KEY_COMPROMISE,
        RevocationReason::CaCompromise => revocation_reason::CERTIFICATE_AUTHORITY_COMPROMISE,
        RevocationReason::AffiliationChanged => revocation_reason::AFFILIATION_CHANGED,
        RevocationReason::Superseded => revocation_reason::SUPERSEDED,
        RevocationReason::CessationOfOperation => revocation_reason::CESSATION_OF_OPERATION,
        RevocationReason::CertificateHold => revocation_reason::CERTIFICATE_HOLD,
        RevocationReason::PrivilegeWithdrawn => revocation_reason::PRIVILEGE_WITHDRAWN,
        RevocationReason::AaCompromise => revocation_reason::ATTRIBUTE_AUTHORITY_COMPROMISE,
    }
}

/// The revocation reason the API names `text`.
pub fn parse_revocation_reason(text: &str) -> Result<RevocationReason, Error> {
    RevocationReason::ALL
        .into_iter()
        .find(|r| revocation_reason_name(*r) == text)
        .ok_or_else(|| Error::invalid(format!("unknown revocation reason {text:?}")))
}

/// The API's name of a key algorithm (PCA, and SCM certificates).
pub fn key_algorithm_name(key: KeyAlgorithm) -> &'static str {
    match key {
        KeyAlgorithm::Rsa2048 => key_algorithm::RSA2048,
        KeyAlgorithm::Rsa3072 => key_algorithm::RSA3072,
        KeyAlgorithm::Rsa4096 => key_algorithm::RSA4096,
        KeyAlgorithm::Ec256 => key_algorithm::EC256,
        KeyAlgorithm::Ec384 => key_algorithm::EC384,
        KeyAlgorithm::Sm2 => key_algorithm::SM2,
    }
}

/// A `key_algorithm` field.
pub fn parse_key_algorithm(text: &str) -> Field<KeyAlgorithm> {
    match KeyAlgorithm::ALL
        .into_iter()
        .find(|k| key_algorithm_name(*k) == text)
    {
        Some(key) => Field::Valid(key),
        None => Field::Refused {
            kind: Invalid::KeyAlgorithm,
            message: format!(
                "invalid key algorithm: {text:?}: supported are RSA2048, RSA3072, RSA4096, EC256, EC384 and SM2"
            ),
        },
    }
}

/// The API's name of a signature hash.
pub fn hash_algorithm_name(hash: HashAlgorithm) -> &'static str {
    match hash {
        HashAlgorithm::Sha256 => signature_algorithm::SHA256,
        HashAlgorithm::Sha384 => signature_algorithm::SHA384,
        HashAlgorithm::Sha512 => signature_algorithm::SHA512,
        HashAlgorithm::Sm3 => signature_algorithm::SM3,
    }
}

const HASHES: [HashAlgorithm; 4] = [
    HashAlgorithm::Sha256,
    HashAlgorithm::Sha384,
    HashAlgorithm::Sha512,
    HashAlgorithm::Sm3,
];

/// A `signature_algorithm` field.
pub fn parse_hash_algorithm(text: &str) -> Field<HashAlgorithm> {
    match HASHES.into_iter().find(|h| hash_algorithm_name(*h) == text) {
        Some(hash) => Field::Valid(hash),
        None => Field::Refused {
            kind: Invalid::SignatureAlgorithm,
            message: format!(
                "invalid signature algorithm: {text:?}: supported are SHA256, SHA384, SHA512 and SM3 (with SM2 keys)"
            ),
        },
    }
}

/// The API's name of an SCM CSR's key algorithm.
pub fn csr_key_algorithm_name(key: KeyAlgorithm) -> &'static str {
    match key {
        KeyAlgorithm::Rsa2048 => private_key_algo::RSA_2048,
        KeyAlgorithm::Rsa3072 => private_key_algo::RSA_3072,
        KeyAlgorithm::Rsa4096 => private_key_algo::RSA_4096,
        KeyAlgorithm::Ec256 => private_key_algo::EC_P256,
        KeyAlgorithm::Ec384 => private_key_algo::EC_P384,
        KeyAlgorithm::Sm2 => private_key_algo::SM2,
    }
}

/// A `private_key_algo` field.
pub fn parse_csr_key_algorithm(text: &str) -> Field<KeyAlgorithm> {
    match KeyAlgorithm::ALL
        .into_iter()
        .find(|k| csr_key_algorithm_name(*k) == text)
    {
        Some(key) => Field::Valid(key),
        None => Field::Refused {
            kind: Invalid::KeyAlgorithm,
            message:
                "private_key_algo must be RSA_2048, RSA_3072, RSA_4096, EC_P256, EC_P384 or SM2"
                    .to_owned(),
        },
    }
}

/// The API's name of a CSR's usage.
pub fn csr_usage_name(usage: openccm_store::CsrUsage) -> &'static str {
    match usage {
        openccm_store::CsrUsage::Personal => csr_usage::PERSONAL,
        openccm_store::CsrUsage::Enterprise => csr_usage::ENTERPRISE,
    }
}

/// A CSR's `usage` field.
pub fn parse_csr_usage(text: &str) -> Field<openccm_store::CsrUsage> {
    match text {
        csr_usage::PERSONAL => Field::Valid(openccm_store::CsrUsage::Personal),
        csr_usage::ENTERPRISE => Field::Valid(openccm_store::CsrUsage::Enterprise),
        _ => Field::Refused {
            kind: Invalid::Parameter,
            message: "usage must be PERSONAL or ENTERPRISE".to_owned(),
        },
    }
}

/// A `validity.type` field.
pub fn parse_validity_unit(text: &str) -> Field<openccm_app::pca::input::ValidityUnit> {
    use openccm_app::pca::input::ValidityUnit;
    match text {
        validity_type::YEAR => Field::Valid(ValidityUnit::Year),
        validity_type::MONTH => Field::Valid(ValidityUnit::Month),
        validity_type::DAY => Field::Valid(ValidityUnit::Day),
        validity_type::HOUR => Field::Valid(ValidityUnit::Hour),
        _ => Field::Refused {
            kind: Invalid::Validity,
            message:
                "Invalid validity period type or value. Only year, month, day or hour supported."
                    .to_owned(),
        },
    }
}

/// A `subject_alternative_names[].type` field.
pub fn parse_alt_name_kind(text: &str) -> Field<AltNameKind> {
    match text {
        alt_name_type::DNS => Field::Valid(AltNameKind::Dns),
        alt_name_type::IP => Field::Valid(AltNameKind::Ip),
        alt_name_type::EMAIL => Field::Valid(AltNameKind::Email),
        alt_name_type::URI => Field::Valid(AltNameKind::Uri),
        other => Field::Refused {
            kind: Invalid::AlternativeName,
            message: format!(
                "invalid subject alternative name: type {other:?}: supported are DNS, IP, EMAIL and URI"
            ),
        },
    }
}

/// An ExportCertificate `type`.
pub fn parse_export_format(text: &str) -> Field<openccm_app::pca::input::ExportFormat> {
    use openccm_app::pca::input::ExportFormat;
    match text {
        export_type::APACHE => Field::Valid(ExportFormat::Apache),
        export_type::NGINX => Field::Valid(ExportFormat::Nginx),
        export_type::IIS => Field::Valid(ExportFormat::Iis),
        export_type::TOMCAT => Field::Valid(ExportFormat::Tomcat),
        export_type::OTHER => Field::Valid(ExportFormat::Other),
        _ => Field::Refused {
            kind: Invalid::Parameter,
            message: "type must be APACHE, NGINX, IIS, TOMCAT or OTHER".to_owned(),
        },
    }
}

/// A boolean the API sends as text (`"true"` or `"false"`), named `field`.
pub fn parse_flag(text: &str, field: &str) -> Field<bool> {
    match text {
        flag::TRUE => Field::Valid(true),
        flag::FALSE => Field::Valid(false),
        _ => Field::Refused {
            kind: Invalid::Parameter,
            message: format!("{field} must be \"true\" or \"false\""),
        },
    }
}

/// A CA id in a request body.
pub fn parse_body_ca_id(text: &str) -> Field<openccm_store::CaId> {
    Field::from_parse(openccm_app::pca::input::ca_id(text))
}

/// The client's message for a refusal by status.
pub fn refusal_message(refusal: StatusRefusal) -> String {
    match refusal {
        StatusRefusal::Ca { operation, status } => format!(
            "{operation} is not allowed for a CA in status {}",
            ca_status_name(status)
        ),
        StatusRefusal::IssuerNotActive(status) => format!(
            "the issuing CA is {}, not {}",
            ca_status_name(status),
            ca_status::ACTIVED
        ),
        StatusRefusal::CertNotRevocable(status) => {
            format!(
                "a {} certificate cannot be revoked",
                cert_status_name(status)
            )
        }
        StatusRefusal::CertNotExportable(status) => format!(
            "only {} certificates can be exported, not {}",
            cert_status::ISSUED,
            cert_status_name(status)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ca_status_round_trips_under_its_api_name() {
        for name in [
            "PENDING", "ACTIVED", "EXPIRED", "DISABLED", "DELETED", "REVOKED",
        ] {
            let status = parse_ca_status(name).unwrap();
            assert_eq!(ca_status_name(status), name);
        }
        assert_eq!(parse_ca_status("ACTIVE"), None);
        assert_eq!(parse_ca_status("actived"), None);
        for name in ["ISSUED", "EXPIRED", "REVOKED"] {
            let status = parse_cert_status(name).unwrap();
            assert_eq!(cert_status_name(status), name);
        }
        assert_eq!(parse_cert_status("issued"), None);
        for name in ["ROOT", "SUBORDINATE"] {
            assert_eq!(ca_type_name(parse_ca_type(name).unwrap()), name);
        }
        assert_eq!(parse_ca_type("root"), None);
        assert_eq!(gen_mode_name(GenMode::Csr), "CSR");
        assert_eq!(parse_ca_sort_key("type"), Field::Valid(CaSortKey::Type));
        assert!(parse_ca_sort_key("issuer_name").get().is_err());
        assert_eq!(
            parse_cert_sort_key("issuer_name").get().unwrap(),
            CertSortKey::IssuerName
        );
        assert!(parse_cert_sort_key("type").get().is_err());
        assert_eq!(
            parse_scm_sort_key("certStatus").get().unwrap(),
            ScmSortKey::Status
        );
        assert_eq!(parse_sort_dir("ASC"), Field::Valid(SortDir::Asc));
        assert!(parse_sort_dir("asc").get().is_err());
        assert_eq!(
            parse_scm_status_filter("CHECKING_ORG"),
            Field::Valid(ScmStatusFilter::PurchaseFlow)
        );
        for status in [ScmCertStatus::Uploaded, ScmCertStatus::Expired] {
            assert_eq!(
                parse_scm_status_filter(scm_cert_status_name(status)),
                Field::Valid(ScmStatusFilter::Only(status))
            );
        }
        assert!(parse_scm_status_filter("upload").get().is_err());
        for reason in RevocationReason::ALL {
            let name = revocation_reason_name(reason);
            assert_eq!(parse_revocation_reason(name).unwrap(), reason);
        }
        assert!(parse_revocation_reason("key_compromise").is_err());
        for usage in [
            openccm_store::CsrUsage::Personal,
            openccm_store::CsrUsage::Enterprise,
        ] {
            assert_eq!(parse_csr_usage(csr_usage_name(usage)), Field::Valid(usage));
        }
        assert!(parse_csr_usage("personal").get().is_err());
        assert!(parse_validity_unit("DAY").get().is_ok());
        assert!(matches!(
            parse_validity_unit("WEEK"),
            Field::Refused {
                kind: Invalid::Validity,
                ..
            }
        ));
        assert_eq!(parse_alt_name_kind("URI"), Field::Valid(AltNameKind::Uri));
        assert!(parse_export_format("TOMCAT").get().is_ok());
        assert!(parse_export_format("tomcat").get().is_err());
        assert_eq!(parse_flag("true", "x"), Field::Valid(true));
        assert!(parse_flag("yes", "x").get().is_err());
        assert!(matches!(
            parse_alt_name_kind("X400"),
            Field::Refused {
                kind: Invalid::AlternativeName,
                ..
            }
        ));
        for key in KeyAlgorithm::ALL {
            assert_eq!(
                parse_key_algorithm(key_algorithm_name(key)),
                Field::Valid(key)
            );
            assert_eq!(
                parse_csr_key_algorithm(csr_key_algorithm_name(key)),
                Field::Valid(key)
            );
        }
        for hash in HASHES {
            assert_eq!(
                parse_hash_algorithm(hash_algorithm_name(hash)),
                Field::Valid(hash)
            );
        }
        for refused in [
            parse_key_algorithm("RSA1024"),
            parse_key_algorithm("EC_P256"),
            parse_csr_key_algorithm("EC256"),
        ] {
            assert!(matches!(
                refused,
                Field::Refused {
                    kind: Invalid::KeyAlgorithm,
                    ..
                }
            ));
        }
        assert!(matches!(
            parse_hash_algorithm("SHA1"),
            Field::Refused {
                kind: Invalid::SignatureAlgorithm,
                ..
            }
        ));
        assert_eq!(gen_mode_name(GenMode::Generate), "GENERATE");
    }
}
