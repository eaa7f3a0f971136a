//! Temporary credentials (`POST /v3.0/OS-CREDENTIAL/securitytokens`): an
//! AK/SK pair that works only with its `X-Security-Token` and only until it
//! expires.
//!
//! Nothing is stored. The security token is the temporary AK and SK, the
//! user, the user's credentials version, the expiry and the access key the
//! caller signed with (if any), sealed with AES-256-GCM under the token
//! subkey with its own AAD (so it is never taken for a bearer token, nor one
//! for it). A request signed with the temporary AK is verified with the SK
//! inside its security token; it is refused when the token is absent, forged
//! or for another AK, once it expires, once the user's credentials change
//! (password, state: `credentials_version`), and once the access key the
//! credentials were minted with is deleted or disabled.
//!
//! Claims layout: the header of [`sealed`] (57 bytes) | AK (20) | SK (40) |
//! origin access key (0–128 ASCII bytes).

use openccm_custody::Keyring;
use openccm_store::{AccessKeyId, DomainId, User, UserId};
use zeroize::Zeroizing;

use super::bootstrap::generate_access_key;
use super::sealed;
use super::{auth_failed, Binding, Caller, Iam};
use crate::error::{Error, Result};

const CLAIMS_VERSION: u8 = 1;
const AK_LEN: usize = AccessKeyId::LEN;
const SK_LEN: usize = 40;
const MAX_TOKEN_LEN: usize = 1024;
const AAD: &[u8] = b"openccm security token";

/// Shortest and longest lifetime, in seconds (Huawei IAM's bounds).
pub const DURATION_SECS: std::ops::RangeInclusive<i64> = 900..=86_400;
/// Lifetime when the request names none.
pub const DEFAULT_DURATION_SECS: i64 = 900;

/// Fresh temporary credentials.
pub struct TemporaryCredentials {
    /// The temporary AK.
    pub access: AccessKeyId,
    /// The temporary SK.
    pub secret: Zeroizing<String>,
    /// `X-Security-Token`.
    pub security_token: String,
    /// Epoch ms.
    pub expires_at: i64,
}

impl std::fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access", &self.access)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What an opened security token says.
pub(crate) struct SecurityClaims {
    pub domain_id: DomainId,
    pub user_id: UserId,
    pub expires_at: i64,
    pub credentials_version: i64,
    pub access: String,
    pub secret: Zeroizing<Vec<u8>>,
    pub origin: Option<AccessKeyId>,
}

fn seal(
    keyring: &Keyring,
    user: &User,
    credentials: (&AccessKeyId, &str),
    origin: Option<&AccessKeyId>,
    now_ms: i64,
    expires_at_ms: i64,
) -> String {
    let origin = origin.map_or(&[][..], |ak| ak.as_str().as_bytes());
    let mut claims = sealed::Header::of(user, now_ms, expires_at_ms)
        .claims(CLAIMS_VERSION, AK_LEN + SK_LEN + origin.len());
    claims.extend_from_slice(credentials.0.as_str().as_bytes());
    claims.extend_from_slice(credentials.1.as_bytes());
    claims.extend_from_slice(origin);
    sealed::seal(keyring, AAD, &claims)
}

/// Opens a security token; `None` when it is not one of ours or was altered.
pub(crate) fn open(keyring: &Keyring, token: &[u8]) -> Option<SecurityClaims> {
    let claims = sealed::open(keyring, AAD, token, MAX_TOKEN_LEN)?;
    let (header, rest) = sealed::Header::read(&claims, CLAIMS_VERSION)?;
    let access = std::str::from_utf8(rest.get(..AK_LEN)?).ok()?;
    Some(SecurityClaims {
        domain_id: header.domain_id,
        user_id: header.user_id,
        expires_at: header.expires_at,
        credentials_version: header.credentials_version,
        access: access.to_owned(),
        secret: Zeroizing::new(rest.get(AK_LEN..AK_LEN + SK_LEN)?.to_vec()),
        origin: sealed::access_key(rest.get(AK_LEN + SK_LEN..)?).ok()?,
    })
}

impl Iam {
    /// Mints temporary credentials for `caller`, valid for `duration_secs`
    /// (900–86400) but never beyond the credential the caller presented,
    /// and bound to the caller's access key.
    ///
    /// # Errors
    /// `Invalid` for a duration out of range; `Forbidden` when the caller
    /// itself uses temporary credentials.
    pub async fn create_temporary_credentials(
        &self,
        caller: &Caller,
        duration_secs: i64,
    ) -> Result<TemporaryCredentials> {
        if !DURATION_SECS.contains(&duration_secs) {
            return Err(Error::invalid(format!(
                "duration_seconds must be between {} and {}",
                DURATION_SECS.start(),
                DURATION_SECS.end()
            )));
        }
        if caller.binding.temporary {
            return Err(Error::Forbidden(
                "temporary credentials cannot create temporary credentials".to_owned(),
            ));
        }
        // They would live on after the session's sign-out.
        if caller.method == super::AuthMethod::Console {
            return Err(Error::Forbidden(
                "a console session cannot create temporary credentials".to_owned(),
            ));
        }
        let user = self
            .store()
            .user(&caller.user_id)
            .await?
            .ok_or_else(|| Error::Unauthenticated("the user no longer exists".to_owned()))?;
        let now = self.clock().now_ms();
        let expires_at =
            (now + duration_secs * 1000).min(caller.binding.not_after.unwrap_or(i64::MAX));
        let (access, secret) = generate_access_key();
        let security_token = seal(
            self.keyring(),
            &user,
            (&access, &secret),
            caller.binding.access_key.as_ref(),
            now,
            expires_at,
        );
        Ok(TemporaryCredentials {
            access,
            secret,
            security_token,
            expires_at,
        })
    }

    /// The secret of a temporary AK and what the caller will be bound to,
    /// from its `X-Security-Token`; user checks follow in `authenticate_signed`.
    pub(crate) fn open_security_token(&self, access: &str, token: &[u8]) -> Result<SecurityClaims> {
        let claims = open(self.keyring(), token)
            .ok_or_else(|| auth_failed("the security token is invalid"))?;
        if claims.access != access {
            return Err(auth_failed(
                "the security token belongs to another access key",
            ));
        }
        if self.clock().now_ms() >= claims.expires_at {
            return Err(auth_failed(&format!(
                "the security token expired at {}",
                crate::clock::iso8601_micros(claims.expires_at)
            )));
        }
        Ok(claims)
    }
}

impl SecurityClaims {
    /// What a credential minted by a caller with these claims stays bound to.
    pub(crate) fn binding(&self) -> Binding {
        Binding {
            access_key: self.origin.clone(),
            not_after: Some(self.expires_at),
            temporary: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        sealed::test_user(3)
    }

    #[test]
    fn security_tokens_round_trip_and_are_not_bearer_tokens() {
        let ring = Keyring::from_keys(vec![(1, [9; 32])]);
        let (ak, sk) = generate_access_key();
        let origin = AccessKeyId::parse("HPUAEXAMPLEAK0000001").unwrap();
        let token = seal(&ring, &user(), (&ak, &sk), Some(&origin), 10, 20);
        let claims = open(&ring, token.as_bytes()).unwrap();
        assert_eq!(claims.access, ak.as_str());
        assert_eq!(claims.secret.as_slice(), sk.as_bytes());
        assert_eq!(claims.origin, Some(origin));
        assert_eq!((claims.expires_at, claims.credentials_version), (20, 3));
        assert_eq!(claims.user_id, user().user_id);
        // Not a bearer token, and a bearer token is not a security token.
        assert!(super::super::token::open(&ring, &token).is_none());
        let bearer = super::super::token::issue(&ring, &user(), &Binding::default(), 10, 20).token;
        assert!(open(&ring, bearer.as_bytes()).is_none());
        // Altered: refused.
        let mut altered = token.into_bytes();
        altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
        assert!(open(&ring, &altered).is_none());
    }
}
