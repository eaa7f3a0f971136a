//! The web console's sessions: a token kept in an HttpOnly cookie, and the
//! anti-forgery value that every call made with that cookie must carry in a
//! header.
//!
//! A session's token is an IAM token of its own audience
//! (`token::Audience::Console`): it carries the same bindings (it dies with
//! the user's password, like any token) and does not open as an
//! `X-Auth-Token`, so a session ended by sign-out (recorded in the store,
//! checked on every call it makes) cannot live on through the API's header.
//!
//! The cookie is `SameSite=Strict`, so no other site's page can send it;
//! the header is the second lock. A page can set it only by reading the
//! value from this server (the sign-in answer or `GET /console/session`),
//! which the browser allows to this origin's scripts alone; a form or an
//! image elsewhere cannot add a header at all. The value is an HMAC of the
//! token under a key derived from the master key: nothing to store, and it
//! dies with the token.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::token::{self, Audience, IssuedToken};
use super::{auth_failed, refused, Caller, Iam};
use crate::error::Result;
use crate::metrics::AuthFailure;

/// The purpose the anti-forgery key is derived for.
const CSRF_PURPOSE: &str = "console csrf v1";

/// The store's name for a session: the SHA-256 of its token, hex.
fn digest(session: &str) -> String {
    hex::encode(Sha256::digest(session.as_bytes()))
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
        let claims = token::open_for(Audience::Console, &self.keyring, session)
            .ok_or_else(|| refused(AuthFailure::BadToken, auth_failed("decrypt token fail")))?;
        if self.store.console_session_ended(&digest(session)).await? {
            return Err(refused(
                AuthFailure::Revoked,
                auth_failed("the console session was signed out"),
            ));
        }
        self.caller_of_claims(claims).await
    }

    /// Ends a console session on every server (sign-out).
    ///
    /// # Errors
    /// `Unauthenticated` when it is not a valid session; the store's.
    pub async fn end_console_session(&self, session: &str) -> Result<()> {
        let claims = token::open_for(Audience::Console, &self.keyring, session)
            .ok_or_else(|| refused(AuthFailure::BadToken, auth_failed("decrypt token fail")))?;
        self.store
            .end_console_session(&digest(session), claims.expires_at, self.clock.now_ms())
            .await?;
        Ok(())
    }

    /// The anti-forgery value of the console session holding `token`
    /// (base64url, 43 characters), under the current master key.
    #[must_use]
    pub fn console_csrf(&self, token: &str) -> String {
        csrf_under(self, self.keyring.current_version(), token)
    }

    /// Whether `presented` is the anti-forgery value of `token`, compared
    /// in constant time.
    #[must_use]
    pub fn console_csrf_matches(&self, token: &str, presented: &[u8]) -> bool {
        use subtle::ConstantTimeEq as _;
        let expected = self.console_csrf(token);
        !expected.is_empty()
            && expected.len() == presented.len()
            && bool::from(expected.as_bytes().ct_eq(presented))
    }
}

fn csrf_under(iam: &Iam, version: u32, token: &str) -> String {
    use base64::Engine as _;
    // The current version is always in the ring; without it there is no
    // value, and nothing matches an empty one.
    let Some(key) = iam.keyring.derive(version, CSRF_PURPOSE) else {
        return String::new();
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key.as_ref()) else {
        return String::new();
    };
    mac.update(token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}
