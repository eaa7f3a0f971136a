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
                Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
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
    fn access_keys_reject_separators() {
        assert!(AccessKeyId::parse("HPUAEXAMPLEAK0000001").is_some());
        assert!(AccessKeyId::parse("a,b").is_none());
        assert!(AccessKeyId::parse("a b").is_none());
        assert!(AccessKeyId::parse("").is_none());
    }
}
