//! Private CA: the registration authority and the CA.
//!
//! Every write follows the issuance path of STYLE.md: check the caller and
//! the input, load the CA and check its state and policy, then hand the
//! request to the issuance pipeline (`issuance.rs`): build and lint the TBS
//! (`openccm-pki`), record the intent (serials reserved), sign through
//! custody on the signing pool, complete the record.
//!
//! Submodules: [`input`] (typed inputs and their rules), [`ca`] (CA
//! lifecycle), [`certificate`] (issue, list, show, revoke, delete),
//! `issuance` (the pipeline),
//! [`export`] (export formats), [`revocation`] (CRLs and the OCSP
//! responder), [`tags`].

pub mod acme;
pub mod ca;
pub mod certificate;
pub mod export;
pub mod input;
mod issuance;
pub mod revocation;
pub mod tags;

use std::sync::Arc;

use der::Decode as _;
use openccm_custody::{KeyHandle, KeyStore};
use openccm_pki::profile::IssuerInfo;
use openccm_pki::Signer;
use openccm_store::{
    CaId, CaRecord, CaStatus, CertRecord, CertStatus, DomainId, Store, TaggedResource,
};
use x509_cert::name::Name;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::iam::authz::{Action, Authorizer, RequestFacts, ResourceKind, Target};
use crate::iam::Caller;
use crate::pool::CryptoPools;

/// PCA settings, handed down by the server's configuration.
#[derive(Debug, Clone)]
pub struct PcaSettings {
    /// The base URL clients reach this server at (CRL, OCSP and CA
    /// certificate URLs are built from it), without a trailing `/`.
    pub public_url: String,
    /// Listed CAs per account (the cloud's 100).
    pub ca_quota: i64,
    /// Certificates per account (the cloud's 100000).
    pub certificate_quota: i64,
    /// CRL and OCSP publication.
    pub revocation: revocation::RevocationSettings,
}

impl Default for PcaSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".to_owned(),
            ca_quota: 100,
            certificate_quota: 100_000,
            revocation: revocation::RevocationSettings::default(),
        }
    }
}

/// A CA as callers see it: the record and its computed status.
#[derive(Debug, Clone)]
pub struct CaView {
    /// The record.
    pub record: CaRecord,
    /// What it shows now.
    pub status: CaStatus,
    /// The CRL URL, when CRL publishing is on.
    pub crl_url: Option<String>,
}

/// A certificate as callers see it.
#[derive(Debug, Clone)]
pub struct CertView {
    /// The record.
    pub record: CertRecord,
    /// What it shows now.
    pub status: CertStatus,
}

/// Parsed issuer certificates, by (CA, certificate serial).
type IssuerCache = std::sync::Mutex<std::collections::HashMap<(CaId, String), Arc<IssuerInfo>>>;

/// The PCA service.
#[derive(Debug, Clone)]
pub struct Pca {
    store: Arc<dyn Store>,
    custody: Arc<dyn KeyStore>,
    clock: Arc<dyn Clock>,
    pools: CryptoPools,
    settings: PcaSettings,
    issuers: Arc<IssuerCache>,
    authz: Arc<Authorizer>,
    revocation: Arc<revocation::RevocationCache>,
}

/// The name of a CA's CRL files (`<name>.crl`, `<name>-delta.crl`): its
/// `crl_name`, else its id.
pub fn crl_name(ca: &CaRecord) -> String {
    ca.crl
        .crl_name
        .clone()
        .unwrap_or_else(|| ca.ca_id.to_string())
}

/// The status of a CA at `now`: an active CA past its notAfter is expired.
pub fn ca_status(ca: &CaRecord, now: i64) -> CaStatus {
    CaStatus::at(ca.status, ca.not_after, now)
}

/// The status of a certificate at `now`.
pub fn cert_status(cert: &CertRecord, now: i64) -> CertStatus {
    CertStatus::at(cert.revoked_at.is_some(), cert.not_after, now)
}

use crate::common::random_bytes;

fn not_found_ca() -> Error {
    Error::NotFound("The CA does not exist.".to_owned())
}

fn not_found_cert() -> Error {
    Error::NotFound("The certificate does not exist.".to_owned())
}

impl Pca {
    /// Builds the service.
    pub fn new(
        store: Arc<dyn Store>,
        custody: Arc<dyn KeyStore>,
        clock: Arc<dyn Clock>,
        pools: CryptoPools,
        settings: PcaSettings,
        authz: Arc<Authorizer>,
    ) -> Self {
        let revocation = Arc::<revocation::RevocationCache>::default();
        // Other servers' changes (and, on PostgreSQL, this one's again)
        // reach the caches through the store's feed; this server's own
        // changes also invalidate them directly, before they are answered.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(revocation.clone().follow(store.subscribe()));
        }
        Self {
            store,
            custody,
            clock,
            pools,
            settings,
            issuers: Arc::default(),
            authz,
            revocation,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &PcaSettings {
        &self.settings
    }

    fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The CRL URL of a CA whose CRL publishing is on.
    pub fn crl_url(&self, ca: &CaRecord) -> Option<String> {
        ca.crl.enabled.then(|| {
            format!(
                "{}/pca/crl/{}/{}.crl",
                self.settings.public_url,
                ca.ca_id,
                crl_name(ca)
            )
        })
    }

    /// The OCSP URL of a CA whose OCSP is on.
    pub fn ocsp_url(&self, ca: &CaRecord) -> Option<String> {
        ca.ocsp_enabled
            .then(|| format!("{}/pca/ocsp/{}", self.settings.public_url, ca.ca_id))
    }

    fn view(&self, record: CaRecord, now: i64) -> CaView {
        CaView {
            status: ca_status(&record, now),
            crl_url: self.crl_url(&record),
            record,
        }
    }

    /// Loads a CA of the caller's account for `action`: refused before the
    /// read when no policy could allow the action, and after it unless the
    /// policies allow it on this CA (its project and tags).
    async fn load_ca(&self, caller: &Caller, action: Action, id: &CaId) -> Result<CaRecord> {
        self.load_ca_for(caller, action, id, None).await
    }

    /// [`Self::load_ca`] for a request that sets `request_tags`.
    async fn load_ca_for(
        &self,
        caller: &Caller,
        action: Action,
        id: &CaId,
        request_tags: Option<&[(String, String)]>,
    ) -> Result<CaRecord> {
        self.authz.precheck(caller, action).await?;
        let ca = self.load_ca_unchecked(caller, id).await?;
        let tags = self
            .resource_tags(caller, TaggedResource::PcaCa, ca.ca_id.as_str())
            .await?;
        self.authz
            .authorize(
                caller,
                action,
                Some(Target {
                    kind: ResourceKind::PcaCa,
                    id: ca.ca_id.as_str(),
                    project: Some(&ca.enterprise_project_id),
                    tags: &tags,
                }),
                RequestFacts {
                    tags: request_tags,
                    ..RequestFacts::default()
                },
            )
            .await?;
        Ok(ca)
    }

    /// The tags of a resource, as policy conditions see them
    /// (`g:ResourceTag/<key>`). Policies do not bind the account's root
    /// user, so its requests skip the read.
    async fn resource_tags(
        &self,
        caller: &Caller,
        resource: TaggedResource,
        id: &str,
    ) -> Result<Vec<(String, String)>> {
        if caller.is_root {
            return Ok(Vec::new());
        }
        Ok(self
            .store
            .tags_of(&caller.domain_id, resource, &[id.to_owned()])
            .await?
            .into_iter()
            .map(|(_, k, v)| (k, v))
            .collect())
    }

    /// Loads a CA of the caller's account that an authorised operation
    /// involves (the parent that signs an authorised subordinate).
    async fn load_ca_unchecked(&self, caller: &Caller, id: &CaId) -> Result<CaRecord> {
        self.store
            .ca(&caller.domain_id, id, self.now())
            .await?
            .ok_or_else(not_found_ca)
    }

    /// What the profile needs about an issuing CA. Parsed once per CA
    /// certificate (the cache key includes its serial, which changes with it).
    pub fn issuer_info(&self, ca: &CaRecord) -> Result<Arc<IssuerInfo>> {
        let key = (
            ca.ca_id.clone(),
            ca.serial_number.clone().unwrap_or_default(),
        );
        if let Some(info) = self.issuers.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(info);
        }
        let certificate = ca
            .certificate
            .as_deref()
            .ok_or_else(|| Error::InvalidState("the CA has no certificate yet".to_owned()))?;
        let parsed = openccm_pki::cert::parse_der(certificate)?;
        let info = Arc::new(IssuerInfo {
            name: parsed.subject.clone(),
            key_identifier: parsed.key_identifier()?,
            not_before: parsed.not_before,
            not_after: parsed.not_after,
            path_length: parsed.path_length,
            key_algorithm: ca.key_algorithm,
        });
        if let Ok(mut map) = self.issuers.lock() {
            if map.len() >= 4096 {
                map.clear();
            }
            map.insert(key, info.clone());
        }
        Ok(info)
    }

    /// The signer of `ca`'s key: at once when custody has it at hand, else
    /// opened on the signing pool (opening may parse a key or ask a token).
    async fn signer(&self, ca: &CaRecord) -> Result<Arc<dyn Signer>> {
        let handle = ca_key_handle(ca)?.ok_or_else(|| {
            Error::InvalidState(
                "this CA's private key is held outside OpenCCM: it cannot issue".to_owned(),
            )
        })?;
        if let Some(signer) = self.custody.cached_signer(&handle) {
            return Ok(signer);
        }
        let custody = self.custody.clone();
        Ok(self
            .pools
            .signing
            .run(move || custody.signer(&handle))
            .await??)
    }

    /// The DER certificates above (and including) `ca`, up to its root or its
    /// external chain: the chain its certificates are exported with.
    async fn chain_from(&self, domain: &DomainId, ca: &CaRecord) -> Result<Vec<Vec<u8>>> {
        let mut chain = Vec::new();
        let mut current = ca.clone();
        for _ in 0..16 {
            let der = current.certificate.clone().ok_or_else(|| {
                Error::InvalidState("a CA in the chain has no certificate".to_owned())
            })?;
            chain.push(der);
            if let Some(external) = &current.chain {
                for parsed in openccm_pki::cert::parse_pem_chain(external)? {
                    chain.push(parsed.der);
                }
                return Ok(chain);
            }
            match &current.issuer_id {
                Some(parent) if *parent != current.ca_id => {
                    // A parent that is gone still signed this chain: read it
                    // regardless of its deletion schedule.
                    current = self
                        .store
                        .ca(domain, parent, i64::MIN)
                        .await?
                        .ok_or_else(|| {
                            Error::Internal(format!("the parent {parent} of a CA is missing"))
                        })?;
                }
                _ => return Ok(chain),
            }
        }
        Err(Error::Internal("the CA chain is longer than 16".to_owned()))
    }
}

/// The subject `Name` stored with a CA.
fn stored_name(der: &[u8]) -> Result<Name> {
    Name::from_der(der).map_err(|e| Error::Internal(format!("stored subject: {e}")))
}

/// The API's name fields of a subject.
fn name_fields(dn: &openccm_pki::DistinguishedName) -> openccm_store::NameFields {
    openccm_store::NameFields {
        common_name: dn.common_name.clone().unwrap_or_default(),
        country: dn.country.clone(),
        state: dn.state.clone(),
        locality: dn.locality.clone(),
        organization: dn.organization.clone(),
        organizational_unit: dn.organizational_unit.clone(),
    }
}

/// The subject object of stored name fields.
pub fn distinguished_name(fields: &openccm_store::NameFields) -> openccm_pki::DistinguishedName {
    openccm_pki::DistinguishedName {
        common_name: Some(fields.common_name.clone()),
        country: fields.country.clone(),
        state: fields.state.clone(),
        locality: fields.locality.clone(),
        organization: fields.organization.clone(),
        organizational_unit: fields.organizational_unit.clone(),
    }
}

/// The handle of a CA's key, if OpenCCM holds it. The owner is the CA's own
/// (`ca:<id>`), whatever the row says: the seal is bound to it, so key
/// material copied into another row does not open there.
fn ca_key_handle(ca: &CaRecord) -> Result<Option<KeyHandle>> {
    crate::common::row_key_handle(
        &format!("ca:{}", ca.ca_id),
        ca.key_owner.as_deref(),
        ca.sealed_key.as_ref(),
    )
}
