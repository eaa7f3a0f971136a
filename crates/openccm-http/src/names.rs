//! Domain values ↔ the API's names for them (defined in `openccm-wire`):
//! the one place the two meet.

use openccm_app::error::StatusRefusal;
use openccm_store::{CaStatus, CaType, CertStatus, GenMode};
use openccm_wire::pca::{ca_status, ca_type, cert_status, gen_mode};

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
        assert_eq!(gen_mode_name(GenMode::Generate), "GENERATE");
    }
}
