//! Time, injected: tests use a fake clock so expiry edges are deterministic.

use std::fmt::Debug;

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = time::OffsetDateTime::now_utc();
        i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }
}

/// Formats epoch milliseconds as ISO 8601 UTC with microseconds
/// (`2019-02-13T06:52:13.855000Z`), the IAM token time format.
pub fn iso8601_micros(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        ),
        Err(_) => String::new(),
    }
}

/// Parses an RFC 3339 time (`2026-12-05T10:00:00Z`) or epoch milliseconds.
///
/// # Errors
/// A message naming the accepted forms.
pub fn parse_time_ms(text: &str) -> Result<i64, String> {
    if let Ok(ms) = text.parse::<i64>() {
        return Ok(ms);
    }
    let parsed =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                format!("{text:?} is neither an RFC 3339 time (2026-12-05T10:00:00Z) nor epoch milliseconds")
            })?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| "time out of range".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_times_have_microseconds() {
        assert_eq!(
            iso8601_micros(1_550_040_733_855),
            "2019-02-13T06:52:13.855000Z"
        );
    }
}
