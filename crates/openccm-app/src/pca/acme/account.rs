//! ACME accounts (RFC 8555 §7.3): creation (with external account binding),
//! look-up, contact updates, deactivation and key rollover.

use openccm_custody::KeyHandle;
use openccm_pki::jws::{FlattenedJws, Jwk, JwsAlgorithm};
use openccm_store::{AcmeAccount, AcmeAccountInsert, AcmeAccountStatus};
use serde_json::Value;

use super::problem::{AcmeResult, Problem, ProblemKind};
use super::server::{stored_key, AcmeServer, RequestSigner, SignedRequest};
use crate::common::random_bytes;

/// The most contact URLs an account may list.
pub const MAX_CONTACTS: usize = 10;

/// A newAccount request's payload, as parsed at the edge.
#[derive(Debug, Default)]
pub struct NewAccount {
    /// `mailto:` URLs.
    pub contact: Option<Vec<String>>,
    /// Only look the key's account up.
    pub only_return_existing: bool,
    /// The `externalAccountBinding` JWS, as sent.
    pub external_account_binding: Option<Value>,
}

/// An account update's payload.
#[derive(Debug, Default)]
pub struct AccountUpdate {
    /// New contact URLs.
    pub contact: Option<Vec<String>>,
    /// `deactivated` to deactivate.
    pub status: Option<String>,
}

/// Contact URLs as stored: `mailto:` with one plain address each.
fn checked_contacts(contact: Vec<String>) -> AcmeResult<Vec<String>> {
    if contact.len() > MAX_CONTACTS {
        return Err(Problem::new(
            ProblemKind::InvalidContact,
            format!("at most {MAX_CONTACTS} contacts"),
        ));
    }
    contact
        .into_iter()
        .map(|url| {
            let Some(address) = url.strip_prefix("mailto:") else {
                return Err(Problem::new(
                    ProblemKind::UnsupportedContact,
                    "only mailto: contacts are supported",
                ));
            };
            let plain = address.len() <= 254
                && !address.contains(['?', ',', '%', ' ', '\n', '\r', '<', '>'])
                && address.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && openccm_pki::san::is_dns_name(domain)
                });
            if plain {
                Ok(url)
            } else {
                Err(Problem::new(
                    ProblemKind::InvalidContact,
                    "a contact is mailto: and one plain e-mail address",
                ))
            }
        })
        .collect()
}

impl AcmeServer {
    /// newAccount: the account of the request's key, made if it does not
    /// exist (`true` then). Needs an EAB when the CA says so.
    pub async fn new_account(
        &self,
        request: &SignedRequest,
        payload: NewAccount,
    ) -> AcmeResult<(AcmeAccount, bool)> {
        let RequestSigner::Key(key) = &request.signer else {
            return Err(Problem::malformed(
                "newAccount is signed with the account's key (jwk), not a kid",
            ));
        };
        let ca = &request.ca;
        let thumbprint = key.thumbprint();
        if let Some(existing) = self
            .pca
            .store
            .acme_account_by_key(&ca.record.ca_id, &thumbprint)
            .await?
        {
            return existing_account(existing);
        }
        if payload.only_return_existing {
            return Err(Problem::new(
                ProblemKind::AccountDoesNotExist,
                "no account has this key",
            ));
        }
        let contact = checked_contacts(payload.contact.unwrap_or_default())?;
        let eab_key_id = match payload.external_account_binding {
            Some(binding) => Some(self.check_binding(request, key, &binding).await?),
            None if ca.settings.eab_required => {
                return Err(Problem::new(
                    ProblemKind::ExternalAccountRequired,
                    "this CA requires an external account binding (an EAB key from its owner)",
                ))
            }
            None => None,
        };
        let account = AcmeAccount {
            account_id: openccm_pki::jws::b64url(&random_bytes::<16>()),
            ca_id: ca.record.ca_id.clone(),
            domain_id: ca.record.domain_id.clone(),
            status: AcmeAccountStatus::Valid,
            jwk: key.canonical_json(),
            thumbprint,
            contact,
            eab_key_id,
            created_at: self.now(),
        };
        match self.pca.store.insert_acme_account(&account).await? {
            AcmeAccountInsert::Inserted => Ok((account, true)),
            AcmeAccountInsert::KeyTaken(existing) => existing_account(existing),
            AcmeAccountInsert::EabUnavailable => Err(Problem::unauthorized(
                "the EAB key is unknown or already bound to an account",
            )),
        }
    }

    /// Checks an external account binding (RFC 8555 §7.3.4): an HS256 JWS
    /// by one of this CA's unbound EAB keys over the account's key, signed
    /// for this URL. Returns the EAB key's id.
    async fn check_binding(
        &self,
        request: &SignedRequest,
        account_key: &Jwk,
        binding: &Value,
    ) -> AcmeResult<String> {
        let bad = |why: &str| Problem::unauthorized(format!("externalAccountBinding: {why}"));
        let body = serde_json::to_vec(binding).map_err(|_| bad("not JSON"))?;
        let jws = FlattenedJws::parse(&body).map_err(|e| bad(&e.to_string()))?;
        if jws.alg() != JwsAlgorithm::Hs256 {
            return Err(bad("must be signed with HS256"));
        }
        if jws.header().contains_key("nonce") {
            return Err(bad("must not carry a nonce"));
        }
        if jws.header_text("url") != Some(request.url.as_str()) {
            return Err(bad("its url is not the newAccount URL"));
        }
        let key_id = jws.header_text("kid").ok_or_else(|| bad("no kid"))?;
        let bound_key = serde_json::from_slice::<Value>(jws.payload())
            .ok()
            .and_then(|v| Jwk::from_json(&v).ok())
            .ok_or_else(|| bad("its payload is not a JWK"))?;
        if bound_key != *account_key {
            return Err(bad("it binds another key than the request's"));
        }
        let ca = &request.ca.record;
        let eab = self
            .pca
            .store
            .eab_key(&ca.domain_id, &ca.ca_id, key_id)
            .await?
            .ok_or_else(|| bad("unknown key id"))?;
        if eab.bound_account.is_some() {
            return Err(bad("the key is bound to an account already"));
        }
        let custody = self.pca.custody.clone();
        let handle = KeyHandle {
            owner: eab.key_owner.clone(),
            sealed: eab.sealed_key.clone(),
        };
        let verified = self
            .pca
            .pools
            .signing
            .run(move || {
                let secret = custody.imported(&handle)?;
                Ok::<bool, crate::Error>(jws.verify_hs256(&secret).is_ok())
            })
            .await
            .map_err(Problem::from)?
            .map_err(Problem::from)?;
        if !verified {
            return Err(bad("the MAC does not verify"));
        }
        Ok(eab.key_id)
    }

    /// POST to an account URL: shows it (POST-as-GET), updates its
    /// contacts, or deactivates it. Only the account itself may.
    pub async fn update_account(
        &self,
        request: &SignedRequest,
        account_id: &str,
        update: Option<AccountUpdate>,
    ) -> AcmeResult<AcmeAccount> {
        let account = request.account()?;
        if account.account_id != account_id {
            return Err(Problem::unauthorized(
                "an account is changed by itself only",
            ));
        }
        let Some(update) = update else {
            return Ok(account.clone());
        };
        let mut changed = account.clone();
        if let Some(contact) = update.contact {
            changed.contact = checked_contacts(contact)?;
        }
        match update.status.as_deref() {
            // Clients send the account object back whole (certbot does).
            None | Some("valid") => {}
            Some("deactivated") => changed.status = AcmeAccountStatus::Deactivated,
            Some(_) => {
                return Err(Problem::malformed(
                    "an account's status can only be set to deactivated",
                ))
            }
        }
        if changed == *account {
            return Ok(changed);
        }
        // Only if the key that signed is still the account's: a request
        // signed with an old key never undoes a key change.
        match self
            .pca
            .store
            .update_acme_account(&changed, &account.thumbprint)
            .await?
        {
            Some(true) => Ok(changed),
            _ => Err(Problem::unauthorized(
                "the account changed meanwhile (its key or status)",
            )),
        }
    }

    /// keyChange (RFC 8555 §7.3.5): the inner JWS, signed by the new key,
    /// names the account and its old key. Fails with the other account
    /// when the new key is another account's already.
    pub async fn change_key(
        &self,
        request: &SignedRequest,
        inner: &Value,
    ) -> AcmeResult<AcmeAccount> {
        let account = request.account()?;
        let bad = |why: &str| Problem::malformed(format!("keyChange: {why}"));
        let body = serde_json::to_vec(inner).map_err(|_| bad("the payload is not a JWS"))?;
        let jws = FlattenedJws::parse(&body).map_err(|e| bad(&e.to_string()))?;
        if jws.header().contains_key("kid") || jws.header().contains_key("nonce") {
            return Err(bad("the inner JWS carries a jwk only, no kid or nonce"));
        }
        if jws.header_text("url") != Some(request.url.as_str()) {
            return Err(bad("the inner url is not the keyChange URL"));
        }
        let new_key = jws
            .header()
            .get("jwk")
            .ok_or_else(|| bad("the inner JWS has no jwk"))
            .and_then(|v| {
                Jwk::from_json(v)
                    .map_err(|e| Problem::new(ProblemKind::BadPublicKey, e.to_string()))
            })?;
        if !new_key.fits(jws.alg()) {
            return Err(Problem::new(
                ProblemKind::BadSignatureAlgorithm,
                "the inner alg does not fit the new key",
            ));
        }
        let payload: Value = serde_json::from_slice(jws.payload())
            .map_err(|_| bad("the inner payload is not JSON"))?;
        if payload.get("account").and_then(Value::as_str) != Some(&self.account_url(account)) {
            return Err(bad("the inner payload names another account"));
        }
        let old_key = payload
            .get("oldKey")
            .and_then(|v| Jwk::from_json(v).ok())
            .ok_or_else(|| bad("the inner payload has no oldKey"))?;
        if old_key != stored_key(account)? {
            return Err(bad("oldKey is not the account's key"));
        }
        let key = new_key.clone();
        self.pca
            .pools
            .signing
            .run(move || jws.verify(&key))
            .await
            .map_err(Problem::from)?
            .map_err(|e| bad(&format!("the inner signature: {e}")))?;
        let ca = &request.ca.record.ca_id;
        let thumbprint = new_key.thumbprint();
        if let Some(other) = self.pca.store.acme_account_by_key(ca, &thumbprint).await? {
            return Err(Problem::conflict(
                "the new key is another account's",
                self.account_url(&other),
            ));
        }
        let mut changed = account.clone();
        changed.jwk = new_key.canonical_json();
        changed.thumbprint = thumbprint;
        match self
            .pca
            .store
            .update_acme_account(&changed, &account.thumbprint)
            .await?
        {
            Some(true) => Ok(changed),
            Some(false) => Err(bad("the new key is another account's")),
            None => Err(Problem::unauthorized(
                "the account changed meanwhile (its key or status)",
            )),
        }
    }
}

/// The answer for a key that has an account already: that account, unless
/// it can no longer be used.
fn existing_account(existing: AcmeAccount) -> AcmeResult<(AcmeAccount, bool)> {
    if existing.status == AcmeAccountStatus::Valid {
        Ok((existing, false))
    } else {
        Err(Problem::unauthorized(format!(
            "the account of this key is {}",
            existing.status.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contacts_are_plain_mailto_addresses() {
        assert!(checked_contacts(vec!["mailto:ops@example.test".into()]).is_ok());
        for (bad, kind) in [
            ("tel:+1555", ProblemKind::UnsupportedContact),
            ("mailto:", ProblemKind::InvalidContact),
            ("mailto:a@b.test?subject=x", ProblemKind::InvalidContact),
            ("mailto:a@b.test,c@d.test", ProblemKind::InvalidContact),
            ("mailto:nobody", ProblemKind::InvalidContact),
        ] {
            assert_eq!(
                checked_contacts(vec![bad.into()]).unwrap_err().kind,
                kind,
                "{bad}"
            );
        }
        assert!(checked_contacts(vec!["mailto:a@b.test".into(); 11]).is_err());
    }
}
