//! Domain values ↔ the API's names for them (defined in `openccm-wire`):
//! the one place the two meet.

use openccm_store::CaStatus;
use openccm_wire::pca::ca_status;

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
    }
}
