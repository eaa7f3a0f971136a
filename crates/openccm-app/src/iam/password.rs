//! Password hashes: argon2id in PHC format, verified in constant time.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// A valid hash of a random password, verified against when the user does
/// not exist so that the response time does not reveal whether it does.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$oxvjmZHKnz/HIjLPWHd09ym4Bn/dyeUPJGcz5jGlSVE";

/// Hashes `password` with a fresh random salt (argon2id, OWASP parameters).
pub fn hash(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches `stored`. A missing or unparsable hash never
/// matches, but costs the same time as a real check.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let (hash_text, real) = match stored {
        Some(h) if PasswordHash::new(h).is_ok() => (h, true),
        _ => (DECOY_HASH, false),
    };
    let Ok(parsed) = PasswordHash::new(hash_text) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_matches_only_its_hash() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(Some(&h), "correct horse"));
        assert!(!verify(Some(&h), "correct horsf"));
        assert!(!verify(None, "correct horse"));
        assert!(!verify(Some("garbage"), "correct horse"));
        assert_ne!(hash("same").unwrap(), hash("same").unwrap(), "salts differ");
    }

    #[test]
    fn the_decoy_hash_parses() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
    }
}
