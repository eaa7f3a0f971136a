//! Epoch milliseconds ↔ X.509 times.
//!
//! RFC 5280 §4.1.2.5: dates through 2049 are UTCTime, from 2050 on
//! GeneralizedTime; both carry whole seconds, so certificate times are
//! epoch milliseconds rounded down to the second.

use std::time::Duration;

use der::asn1::{GeneralizedTime, UtcTime};
use x509_cert::time::Time;

use crate::{PkiError, PkiResult};

/// 2050-01-01T00:00:00Z, the first instant encoded as GeneralizedTime.
const Y2050_SECS: u64 = 2_524_608_000;

/// `ms` rounded down to whole seconds, still in milliseconds.
pub fn truncate_to_seconds(ms: i64) -> i64 {
    ms - ms.rem_euclid(1000)
}

/// The X.509 time for `ms` (rounded down to the second).
pub fn to_x509(ms: i64) -> PkiResult<Time> {
    let secs = u64::try_from(ms.div_euclid(1000))
        .map_err(|_| PkiError::Validity("times before 1970 cannot be encoded".to_owned()))?;
    let duration = Duration::from_secs(secs);
    if secs < Y2050_SECS {
        UtcTime::from_unix_duration(duration)
            .map(Time::UtcTime)
            .map_err(|e| PkiError::Validity(e.to_string()))
    } else {
        GeneralizedTime::from_unix_duration(duration)
            .map(Time::GeneralTime)
            .map_err(|e| PkiError::Validity(e.to_string()))
    }
}

/// Epoch milliseconds of an X.509 time.
pub fn from_x509(time: &Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2050_rule_picks_the_encoding() {
        assert!(matches!(
            to_x509(1_634_295_475_000).unwrap(),
            Time::UtcTime(_)
        ));
        let last_utc = i64::try_from(Y2050_SECS).unwrap() * 1000 - 1000;
        assert!(matches!(to_x509(last_utc).unwrap(), Time::UtcTime(_)));
        assert!(matches!(
            to_x509(last_utc + 1000).unwrap(),
            Time::GeneralTime(_)
        ));
    }

    #[test]
    fn milliseconds_round_down_and_round_trip() {
        assert_eq!(truncate_to_seconds(1_634_295_475_999), 1_634_295_475_000);
        let t = to_x509(1_634_295_475_999).unwrap();
        assert_eq!(from_x509(&t), 1_634_295_475_000);
        let far = to_x509(3_000_000_000_000).unwrap();
        assert_eq!(from_x509(&far), 3_000_000_000_000);
    }
}
