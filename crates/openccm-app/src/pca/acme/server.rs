//! The ACME server of the CAs that have it on (RFC 8555): its URLs, its
//! nonces, and the checks every signed request passes before any
//! endpoint sees it. Accounts are `account.rs`, orders and what hangs on
//! them `order.rs`, validation `validate.rs`.

use std::sync::Arc;

use openccm_custody::Keyring;
use openccm_pki::jws::{FlattenedJws, Jwk, JwsAlgorithm};
use openccm_store::{AcmeAccount, AcmeAccountStatus, AcmeSettings, CaId, CaRecord, CaStatus};

use super::nonce::NonceLedger;
use super::problem::{AcmeResult, Problem, ProblemKind};
use super::validate::{ValidationSettings, Validator};
use crate::pca::{ca_status, Pca};

/// How long a nonce can be used, ms (clients use the one of the answer
/// before, within moments; a stale one costs them a retry).
pub const NONCE_LIFETIME_MS: i64 = 10 * 60_000;
/// How long a pending order and its authorizations live, ms.
pub const ORDER_LIFETIME_MS: i64 = 24 * 3_600_000;
/// The largest signed request body, bytes (a CSR of an RSA-8192 key with
/// a hundred names fits several times).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// What the nonces are sealed as (the keyring's token subkey; the AAD keeps
/// them from being taken for any other kind of token).
const NONCE_KIND: &[u8] = b"openccm acme nonce v1";
/// The longest nonce we hand out, characters (a sealed 16-byte payload).
const MAX_NONCE_CHARS: usize = 128;

/// The ACME server.
#[derive(Debug)]
pub struct AcmeServer {
    pub(super) pca: Arc<Pca>,
    keyring: Arc<Keyring>,
    pub(super) validator: Arc<Validator>,
    nonces: NonceLedger,
}

/// An ACME-enabled, active CA, as one request sees it.
#[derive(Debug, Clone)]
pub struct AcmeCa {
    /// The CA.
    pub record: CaRecord,
    /// Its ACME settings (enabled).
    pub settings: AcmeSettings,
}

/// Who signed a request.
#[derive(Debug, Clone)]
pub enum RequestSigner {
    /// An account, by its `kid`.
    Account(AcmeAccount),
    /// A key given in the header's `jwk` (newAccount, and revocation by a
    /// certificate's key).
    Key(Jwk),
}

/// A signed request that passed every check: its CA, its signer and its
/// payload.
#[derive(Debug)]
pub struct SignedRequest {
    /// The CA whose ACME server was asked.
    pub ca: AcmeCa,
    /// Who signed it.
    pub signer: RequestSigner,
    /// The URL it was signed for.
    pub url: String,
    jws: FlattenedJws,
}

impl SignedRequest {
    /// The payload (empty: a POST-as-GET).
    pub fn payload(&self) -> &[u8] {
        self.jws.payload()
    }

    /// The signing account; `malformed` when a key signed instead.
    pub fn account(&self) -> AcmeResult<&AcmeAccount> {
        match &self.signer {
            RequestSigner::Account(account) => Ok(account),
            RequestSigner::Key(_) => Err(Problem::malformed(
                "this request must be signed by an account (kid), not a jwk",
            )),
        }
    }
}

/// What a CA's directory lists.
#[derive(Debug, Clone)]
pub struct Directory {
    /// The URLs' common prefix, `<public-url>/acme/<ca_id>`.
    pub base: String,
    /// Whether new accounts need an EAB key.
    pub external_account_required: bool,
}

impl AcmeServer {
    /// The ACME server of `pca`'s CAs, its nonces sealed under `keyring`;
    /// `shared_store`: other servers may share the store (PostgreSQL), so
    /// spent nonces are recorded there (`nonce.rs`).
    pub fn new(
        pca: Arc<Pca>,
        keyring: Arc<Keyring>,
        validation: ValidationSettings,
        shared_store: bool,
    ) -> Self {
        Self {
            pca,
            keyring,
            validator: Arc::new(Validator::new(validation)),
            nonces: NonceLedger::new(shared_store),
        }
    }

    /// The base URL clients reach this server at.
    pub fn public_url(&self) -> &str {
        &self.pca.settings.public_url
    }

    /// The URLs' common prefix of a CA's ACME server.
    pub fn base_url(&self, ca: &CaId) -> String {
        format!("{}/acme/{ca}", self.pca.settings.public_url)
    }

    pub(super) fn now(&self) -> i64 {
        self.pca.now()
    }

    /// The CA behind `/acme/<ca_id>/`, while it answers ACME: enabled and
    /// active. Any other CA is as absent as an unknown one.
    pub async fn acme_ca(&self, ca_id: &CaId) -> AcmeResult<AcmeCa> {
        let now = self.now();
        let missing = || Problem::not_found("no ACME server");
        let record = self
            .pca
            .store
            .issuing_ca(ca_id, now)
            .await?
            .ok_or_else(missing)?;
        if ca_status(&record, now) != CaStatus::Active {
            return Err(missing());
        }
        let settings = self
            .pca
            .store
            .acme_settings(&record.domain_id, ca_id)
            .await?
            .filter(|s| s.enabled)
            .ok_or_else(missing)?;
        Ok(AcmeCa { record, settings })
    }

    /// A CA's directory.
    pub async fn directory(&self, ca_id: &CaId) -> AcmeResult<Directory> {
        let ca = self.acme_ca(ca_id).await?;
        Ok(Directory {
            base: self.base_url(ca_id),
            external_account_required: ca.settings.eab_required,
        })
    }

    /// A fresh nonce: the time it was made, 8 random bytes and the run id
    /// of `nonce.rs`, sealed (AES-GCM under the keyring's token subkey).
    /// Any server holding the keyring can check it; `nonce.rs` records it
    /// once spent.
    pub fn new_nonce(&self) -> String {
        let mut payload = self.now().to_be_bytes().to_vec();
        payload.extend_from_slice(&crate::common::random_bytes::<8>());
        payload.extend_from_slice(&self.nonces.run());
        crate::iam::sealed::seal(&self.keyring, NONCE_KIND, &payload)
    }

    /// Spends `nonce`: it must be ours, unexpired and unspent.
    async fn spend_nonce(&self, nonce: &str) -> AcmeResult<()> {
        let bad = || {
            Problem::new(
                ProblemKind::BadNonce,
                "the nonce is unknown, used or expired",
            )
        };
        // Only the very text handed out: it is also the spent record's key.
        if !nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad());
        }
        let opened =
            crate::iam::sealed::open(&self.keyring, NONCE_KIND, nonce.as_bytes(), MAX_NONCE_CHARS)
                .ok_or_else(bad)?;
        // issued at (8 bytes) | random (8) | run (8): see new_nonce.
        let part = |at: usize| -> Option<[u8; 8]> { opened.get(at..at + 8)?.try_into().ok() };
        let (Some(issued_at), Some(random), Some(run)) = (part(0), part(8), part(16)) else {
            return Err(bad());
        };
        let issued_at = i64::from_be_bytes(issued_at);
        let now = self.now();
        let expires_at = issued_at + NONCE_LIFETIME_MS;
        if now > expires_at || issued_at > now + 60_000 {
            return Err(bad());
        }
        let fresh = match self.nonces {
            NonceLedger::Store => {
                self.pca
                    .store
                    .spend_acme_nonce(nonce, expires_at, now)
                    .await?
            }
            NonceLedger::Local { .. } => {
                self.nonces
                    .spend_locally(run, issued_at, u64::from_be_bytes(random), now)
            }
        };
        if fresh {
            Ok(())
        } else {
            Err(bad())
        }
    }

    /// Checks a signed request (RFC 8555 §6.2–6.5) to `url` of `ca_id`'s
    /// server: a flattened JWS with a supported algorithm, a `url` header
    /// equal to the URL asked, a nonce of ours not spent before, and either
    /// the `kid` of a valid account of this CA or a `jwk`, whose signature
    /// verifies. The nonce is spent last, once the signature verified.
    pub async fn verify(&self, ca_id: &CaId, url: &str, body: &[u8]) -> AcmeResult<SignedRequest> {
        let ca = self.acme_ca(ca_id).await?;
        if body.len() > MAX_REQUEST_BYTES {
            return Err(Problem::malformed("the request is too large"));
        }
        let jws = FlattenedJws::parse(body).map_err(|e| match e {
            openccm_pki::PkiError::Jws(msg) if msg.contains("alg") => {
                Problem::new(ProblemKind::BadSignatureAlgorithm, msg)
            }
            other => Problem::malformed(other.to_string()),
        })?;
        if jws.alg() == JwsAlgorithm::Hs256 {
            return Err(Problem::new(
                ProblemKind::BadSignatureAlgorithm,
                "requests are signed with ES256, ES384, RS256 or EdDSA",
            ));
        }
        if jws.header_text("url") != Some(url) {
            return Err(Problem::unauthorized(
                "the JWS url header is not the URL requested",
            ));
        }
        let nonce = jws
            .header_text("nonce")
            .ok_or_else(|| Problem::new(ProblemKind::BadNonce, "the JWS has no nonce"))?
            .to_owned();
        let header = jws.header();
        let signer = match (header.get("kid"), header.get("jwk")) {
            (Some(kid), None) => {
                let kid = kid
                    .as_str()
                    .ok_or_else(|| Problem::malformed("kid is not a string"))?;
                let account = self.account_of_kid(&ca, kid).await?;
                RequestSigner::Account(account)
            }
            (None, Some(jwk)) => RequestSigner::Key(
                Jwk::from_json(jwk)
                    .map_err(|e| Problem::new(ProblemKind::BadPublicKey, e.to_string()))?,
            ),
            _ => {
                return Err(Problem::malformed(
                    "the JWS header needs exactly one of kid and jwk",
                ))
            }
        };
        let key = match &signer {
            RequestSigner::Account(account) => stored_key(account)?,
            RequestSigner::Key(key) => key.clone(),
        };
        if !key.fits(jws.alg()) {
            return Err(Problem::new(
                ProblemKind::BadSignatureAlgorithm,
                format!("{} does not fit the key", jws.alg().name()),
            ));
        }
        // Public-key work: off the executor.
        let jws = self
            .pca
            .pools
            .signing
            .run(move || jws.verify(&key).map(|()| jws))
            .await
            .map_err(Problem::from)?
            .map_err(|e| Problem::malformed(format!("the JWS signature: {e}")))?;
        if let RequestSigner::Account(account) = &signer {
            Self::check_account(&ca, account)?;
        }
        self.spend_nonce(&nonce).await?;
        Ok(SignedRequest {
            ca,
            signer,
            url: url.to_owned(),
            jws,
        })
    }

    /// The account a `kid` names.
    async fn account_of_kid(&self, ca: &AcmeCa, kid: &str) -> AcmeResult<AcmeAccount> {
        let prefix = format!("{}/acct/", self.base_url(&ca.record.ca_id));
        let missing = || {
            Problem::new(
                ProblemKind::AccountDoesNotExist,
                "no account of this CA has that kid",
            )
        };
        let id = kid.strip_prefix(&prefix).ok_or_else(missing)?;
        let account = self
            .pca
            .store
            .acme_account(&ca.record.ca_id, id)
            .await?
            .ok_or_else(missing)?;
        Ok(account)
    }

    /// Whether the account that signed may act (checked once its
    /// signature verified, so that an unsigned request learns nothing of
    /// it): valid, and bound by an EAB key if the CA requires one now.
    fn check_account(ca: &AcmeCa, account: &AcmeAccount) -> AcmeResult<()> {
        if account.status != AcmeAccountStatus::Valid {
            return Err(Problem::unauthorized(format!(
                "the account is {}",
                account.status.as_str()
            )));
        }
        if ca.settings.eab_required && account.eab_key_id.is_none() {
            return Err(Problem::unauthorized(
                "this CA now requires external account binding: make a new account with an EAB key",
            ));
        }
        Ok(())
    }

    /// An account's URL.
    pub fn account_url(&self, account: &AcmeAccount) -> String {
        format!(
            "{}/acct/{}",
            self.base_url(&account.ca_id),
            account.account_id
        )
    }
}

/// An account's stored key.
pub(super) fn stored_key(account: &AcmeAccount) -> AcmeResult<Jwk> {
    serde_json::from_str(&account.jwk)
        .ok()
        .and_then(|v| Jwk::from_json(&v).ok())
        .ok_or_else(|| {
            Problem::from(crate::Error::Internal(format!(
                "the key of ACME account {} does not load",
                account.account_id
            )))
        })
}
