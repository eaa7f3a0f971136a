//! Serial numbers of issued certificates.

/// An X.509 serial number: 16 octets (≤ 20, RFC 5280 §4.1.2.2), positive,
/// first octet non-zero (so DER keeps all 16).
///
/// Issued serials are [`Serial::from_time_and_random`]: the issuance time,
/// then 80 bits from a CSPRNG (≥ 64, CA/B BR §7.1). The time prefix makes
/// the store's serial index grow at its end, as its certificates table does:
/// with fully random serials every issuance rewrote (and first read) a random
/// page of an index that outgrows memory at tens of millions of certificates.
/// The prefix discloses the issuance time (to the millisecond), which
/// notBefore usually shows to the second anyway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serial([u8; 16]);

impl Serial {
    /// The issuance time (Unix ms, 48 bits big-endian) followed by 10 bytes
    /// drawn by the caller from a CSPRNG.
    ///
    /// From November 2004 (2^40 ms) to the year 6429 (2^47 ms) the first
    /// octet is non-zero with its top bit clear; a clock outside that range
    /// gets [`Serial::from_random`]'s adjustment of the first octet.
    pub fn from_time_and_random(unix_ms: i64, random: [u8; 10]) -> Self {
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        bytes[6..].copy_from_slice(&random);
        Self::from_random(bytes)
    }

    /// From 16 random bytes drawn by the caller.
    pub fn from_random(mut bytes: [u8; 16]) -> Self {
        bytes[0] &= 0x7f;
        if bytes[0] == 0 {
            bytes[0] = 0x01;
        }
        Self(bytes)
    }

    /// Lower-case hex, the API's `serial_number`.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Serial;

    #[test]
    fn issued_serials_lead_with_the_time_and_keep_80_random_bits() {
        let t = 1_764_115_200_000; // 2025-11-26
        let a = Serial::from_time_and_random(t, [0xff; 10]);
        assert_eq!(&a.as_bytes()[..6], &t.to_be_bytes()[2..]);
        assert_eq!(&a.as_bytes()[6..], &[0xff; 10]);
        assert!(a.as_bytes()[0] != 0 && a.as_bytes()[0] < 0x80);
        // Later issuances sort after earlier ones, whatever their random part.
        let b = Serial::from_time_and_random(t + 1, [0; 10]);
        assert!(b.to_hex() > a.to_hex());
        // A clock before 2004 still gives a positive 16-octet serial.
        let early = Serial::from_time_and_random(0, [7; 10]);
        assert_eq!(early.as_bytes()[0], 0x01);
    }
}
