//! Newtype ids. Each validates its format on construction from untrusted
//! text, so a value of the type is always well formed.

use std::fmt;

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

macro_rules! hex32_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses 32 lower-case hex characters; `None` otherwise.
            pub fn parse(s: &str) -> Option<Self> {
                is_lower_hex(s, 32).then(|| Self(s.to_owned()))
            }

            /// A fresh random id from `bytes` (16 bytes of CSPRNG output).
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(hex::encode(bytes))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex32_id!(
    /// An account (IAM domain) id: 32 lower-case hex chars.
    DomainId
);
hex32_id!(
    /// An IAM user id: 32 lower-case hex chars.
    UserId
);
hex32_id!(
    /// An IAM project id: 32 lower-case hex chars.
    ProjectId
);
hex32_id!(
    /// An SCM CSR id: 32 lower-case hex chars.
    CsrId
);
hex32_id!(
    /// An IAM user group id: 32 lower-case hex chars.
    GroupId
);
hex32_id!(
    /// An identity policy id: 32 lower-case hex chars.
    PolicyId
);

/// An SCM certificate id: `scs` + 13 digits (16 chars), like the cloud's
/// `scs1590053258704`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScmCertId(String);

impl ScmCertId {
    /// Parses `scs` + 13 ASCII digits; `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        let ok =
            s.len() == 16 && s.starts_with("scs") && s.bytes().skip(3).all(|b| b.is_ascii_digit());
        ok.then(|| Self(s.to_owned()))
    }

    /// The id of `number` (0 ..= 10^13 - 1), zero-padded to 13 digits.
    pub fn from_number(number: u64) -> Option<Self> {
        (number < 10_000_000_000_000).then(|| Self(format!("scs{number:013}")))
    }

    /// The number after `scs`.
    pub fn number(&self) -> u64 {
        self.0[3..].parse().unwrap_or_default()
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScmCertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses a lower-case hyphenated UUID (`8-4-4-4-12`, 36 chars),
            /// the only spelling the API gives out; `None` otherwise.
            pub fn parse(s: &str) -> Option<Self> {
                let uuid = uuid::Uuid::try_parse(s).ok()?;
                let canonical = uuid.hyphenated().to_string();
                (canonical == s).then_some(Self(canonical))
            }

            /// A random (version 4) UUID from 16 CSPRNG bytes.
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string())
            }

            /// A time-ordered (version 7, RFC 9562) UUID: the creation time in
            /// Unix milliseconds, then 74 CSPRNG bits. Ids made one after
            /// another sort together, so the index on them grows at its end
            /// instead of at a random page per insert.
            pub fn from_time_and_random(unix_ms: i64, bytes: [u8; 16]) -> Self {
                let millis = u64::try_from(unix_ms).unwrap_or(0);
                let mut random = [0u8; 10];
                random.copy_from_slice(&bytes[6..]);
                Self(
                    uuid::Builder::from_unix_timestamp_millis(millis, &random)
                        .into_uuid()
                        .hyphenated()
                        .to_string(),
                )
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

uuid_id!(
    /// A private CA id (UUID).
    CaId
);
uuid_id!(
    /// A private certificate id (UUID).
    CertId
);

/// An access key (AK): 20 upper-case alphanumerics, like Huawei's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccessKeyId(String);

impl AccessKeyId {
    /// The AK length.
    pub const LEN: usize = 20;

    /// An AK of 20 upper-case alphanumerics from 20 random bytes. (The AK
    /// names a key, it is not a secret: the slight bias of `% 36` is harmless.)
    pub fn from_random(bytes: [u8; Self::LEN]) -> Self {
        const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        Self(
            bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect(),
        )
    }

    /// Accepts 1–128 printable ASCII characters without spaces or commas
    /// (what can appear in `Access=` of an `Authorization` header). Unknown
    /// AKs simply do not match any stored key.
    pub fn parse(s: &str) -> Option<Self> {
        let ok =
            (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic() && b != b',');
        ok.then(|| Self(s.to_owned()))
    }

    /// The AK as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccessKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_ids_are_32_lower_hex() {
        assert!(DomainId::parse("0b5c3d4e5f60718293a4b5c6d7e8f901").is_some());
        assert!(DomainId::parse("0B5C3D4E5F60718293A4B5C6D7E8F901").is_none());
        assert!(DomainId::parse("0b5c3d4e5f60718293a4b5c6d7e8f90").is_none());
        assert!(DomainId::parse("0b5c3d4e5f60718293a4b5c6d7e8f90g").is_none());
        assert_eq!(DomainId::from_random([0xab; 16]).as_str(), "ab".repeat(16));
    }

    #[test]
    fn uuid_ids_are_lower_case_8_4_4_4_12() {
        assert!(CaId::parse("6434f74f-2d13-4e6a-89eb-93ee313f1a43").is_some());
        assert!(CaId::parse("6434F74F-2d13-4e6a-89eb-93ee313f1a43").is_none());
        assert!(CaId::parse("6434f74f2d134e6a89eb93ee313f1a43").is_none());
        assert!(CaId::parse("6434f74f-2d13-4e6a-89eb-93ee313f1a4").is_none());
        assert!(CaId::parse("6434f74f-2d13-4e6a-89eb-93ee313f1a4g").is_none());
        let id = CertId::from_random([0xff; 16]);
        assert!(CertId::parse(id.as_str()).is_some());
        let early = CertId::from_time_and_random(1_764_000_000_000, [0xff; 16]);
        let later = CertId::from_time_and_random(1_764_000_000_001, [0x00; 16]);
        assert!(CertId::parse(early.as_str()).is_some());
        assert!(early < later, "version 7 ids sort by time");
        assert_eq!(&early.as_str()[14..15], "7");
        assert!(matches!(&early.as_str()[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(
            &early.as_str()[..13],
            "019ab697-e800",
            "48-bit milliseconds first"
        );
        assert_eq!(&id.as_str()[14..15], "4");
    }

    #[test]
    fn scm_ids_are_scs_and_13_digits() {
        assert!(ScmCertId::parse("scs1590053258704").is_some());
        assert!(ScmCertId::parse("scs159005325870").is_none());
        assert!(ScmCertId::parse("scs15900532587041").is_none());
        assert!(ScmCertId::parse("SCS1590053258704").is_none());
        assert!(ScmCertId::parse("scs159005325870a").is_none());
        assert!(ScmCertId::parse("scs１５９００５３２５８７").is_none());
        let id = ScmCertId::from_number(42).unwrap();
        assert_eq!(id.as_str(), "scs0000000000042");
        assert_eq!(id.number(), 42);
        assert!(ScmCertId::from_number(10_000_000_000_000).is_none());
    }

    #[test]
    fn access_keys_reject_separators() {
        assert!(AccessKeyId::parse("HPUAEXAMPLEAK0000001").is_some());
        assert!(AccessKeyId::parse("a,b").is_none());
        assert!(AccessKeyId::parse("a b").is_none());
        assert!(AccessKeyId::parse("").is_none());
    }
}
