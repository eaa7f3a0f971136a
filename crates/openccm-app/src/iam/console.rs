//! The web console's sessions: a token kept in an HttpOnly cookie, and the
//! anti-forgery value that every call made with that cookie must carry in a
//! header.
//!
//! A session's token is an IAM token of its own audience
//! (`token::Audience::Console`): it carries the same bindings (it dies with
//! the user's password, like any token) and does not open as an
//! `X-Auth-Token`, so a session ended by sign-out (recorded in the store,
//! checked on every call it makes) cannot live on through the API's header.
//! Its caller authenticates as [`super::AuthMethod::Console`], which mints
//! no temporary credentials (they would outlive the sign-out).
//!
//! The cookie is `SameSite=Strict`, so no other site's page can send it;
//! the header is the second lock. A page can set it only by reading the
//! value from this server (the sign-in answer or `GET /console/session`),
//! which the browser allows to this origin's scripts alone; a form or an
//! image elsewhere cannot add a header at all. The value is a hash of the
//! token (domain-separated from the store's name for it): whoever could
//! compute it holds the token already, which is the session itself. It
//! needs no key, so it stays the same across master-key rotations and
//! servers.

use sha2::{Digest, Sha256};

use super::token::{self, Audience, IssuedToken};
use super::{auth_failed, refused, AuthMethod, Caller, Iam};
use crate::error::Result;
use crate::metrics::AuthFailure;

/// The store's name for a session: the SHA-256 of its token, hex.
fn digest(session: &str) -> String {
    hex::encode(Sha256::digest(session.as_bytes()))
}

/// Whether `session` is written as this server writes tokens: base64url
/// and nothing else. The decoder would take surrounding whitespace too;
/// refusing it keeps one spelling per session, so that the sign-out record
/// (a hash of the spelling) names every way to present it.
fn canonical(session: &str) -> bool {
    !session.is_empty()
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A console session's claims, if `session` is one of ours.
fn claims_of(iam: &Iam, session: &str) -> Result<token::Claims> {
    canonical(session)
        .then(|| token::open_for(Audience::Console, &iam.keyring, session))
        .flatten()
        .ok_or_else(|| refused(AuthFailure::BadToken, auth_failed("decrypt token fail")))
}

impl Iam {
    /// Starts a console session for `caller` (who signed in with a
    /// password): its token, which expires like an API token would.
    ///
    /// # Errors
    /// `Unauthenticated` when the user is gone.
    pub async fn start_console_session(&self, caller: &Caller) -> Result<IssuedToken> {
        self.issue_token_for(Audience::Console, caller).await
    }

    /// The caller of a console session, unless it was signed out, expired,
    /// or its user changed password, was disabled or deleted since.
    ///
    /// # Errors
    /// `Unauthenticated`.
    pub async fn authenticate_console_session(&self, session: &str) -> Result<Caller> {
        let claims = claims_of(self, session)?;
        if self.store.console_session_ended(&digest(session)).await? {
            return Err(refused(
                AuthFailure::Revoked,
                auth_failed("the console session was signed out"),
            ));
        }
        let mut caller = self.caller_of_claims(claims).await?;
        caller.method = AuthMethod::Console;
        Ok(caller)
    }

    /// Ends a console session on every server (sign-out).
    ///
    /// # Errors
    /// `Unauthenticated` when it is not a valid session; the store's.
    pub async fn end_console_session(&self, session: &str) -> Result<()> {
        let claims = claims_of(self, session)?;
        self.store
            .end_console_session(&digest(session), claims.expires_at, self.clock.now_ms())
            .await?;
        Ok(())
    }

    /// The anti-forgery value of the console session holding `token`
    /// (base64url, 43 characters).
    #[must_use]
    pub fn console_csrf(&self, token: &str) -> String {
        use base64::Engine as _;
        let mut hash = Sha256::new();
        hash.update(b"openccm console csrf v1\0");
        hash.update(token.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash.finalize())
    }

    /// Whether `presented` is the anti-forgery value of `token`, compared
    /// in constant time.
    #[must_use]
    pub fn console_csrf_matches(&self, token: &str, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        let expected = self.console_csrf(token);
        expected.len() == presented.len() && bool::from(expected.as_bytes().ct_eq(presented))
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn only_the_base64url_spelling_is_a_session() {
        assert!(canonical("b2sAAAAB6OWG-_9"));
        for other in ["", " b2sA", "b2sA ", "b2s\tA", "b2sA=", "b2s+A/"] {
            assert!(!canonical(other), "{other:?}");
        }
    }
}
