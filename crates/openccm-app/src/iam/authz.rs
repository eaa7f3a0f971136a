//! Authorisation: what an authenticated caller may do.
//!
//! The account administrator may do everything in its account; an IAM user
//! may do what the identity policies attached to it (or to its groups)
//! allow, and nothing an explicit Deny forbids. Every use case calls
//! [`Authorizer::precheck`] before it reads anything, then
//! [`Authorizer::authorize`] with the facts of the resource or request
//! (project, tags), or [`Authorizer::visibility`] for lists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openccm_store::{Store, UserId, Visibility};

use super::policy::{self, Decision, Policy, RequestContext};
use super::Caller;
use crate::error::{Error, Result};

/// An action of the API, with the other names it answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Action {
    /// `service:resource:verb`.
    pub name: &'static str,
    /// Aliases: a policy allowing one of them allows the action.
    pub aliases: &'static [&'static str],
}

const fn action(name: &'static str) -> Action {
    Action { name, aliases: &[] }
}

/// Every action OpenCCM checks (pca-v1.md, scm-v3.md).
pub mod actions {
    use super::{action, Action};

    /// CreateCertificateAuthority.
    pub const PCA_CA_CREATE: Action = action("pca:ca:create");
    /// ListCertificateAuthority.
    pub const PCA_CA_LIST: Action = action("pca:ca:list");
    /// ShowCertificateAuthority.
    pub const PCA_CA_GET: Action = action("pca:ca:get");
    /// IssueCertificateAuthorityCertificate (alias `pca:ca:active`).
    pub const PCA_CA_ACTIVATE: Action = Action {
        name: "pca:ca:activate",
        aliases: &["pca:ca:active"],
    };
    /// ExportCertificateAuthorityCsr.
    pub const PCA_CA_EXPORT_CSR: Action = action("pca:ca:exportCsr");
    /// ImportCertificateAuthorityCertificate.
    pub const PCA_CA_IMPORT: Action = action("pca:ca:import");
    /// ExportCertificateAuthorityCertificate.
    pub const PCA_CA_EXPORT: Action = action("pca:ca:export");
    /// DisableCertificateAuthority.
    pub const PCA_CA_DISABLE: Action = action("pca:ca:disable");
    /// EnableCertificateAuthority.
    pub const PCA_CA_ENABLE: Action = action("pca:ca:enable");
    /// DeleteCertificateAuthority.
    pub const PCA_CA_DELETE: Action = action("pca:ca:delete");
    /// RestoreCertificateAuthority.
    pub const PCA_CA_RESTORE: Action = action("pca:ca:restore");
    /// RevokeCertificateAuthority.
    pub const PCA_CA_REVOKE: Action = action("pca:ca:revoke");
    /// EnableCertificateAuthorityCrl.
    pub const PCA_CA_ENABLE_CRL: Action = action("pca:ca:enableCrl");
    /// DisableCertificateAuthorityCrl.
    pub const PCA_CA_DISABLE_CRL: Action = action("pca:ca:disableCrl");
    /// UpdateOcspSwitch.
    pub const PCA_CA_OCSP: Action = action("pca:ca:updateOcspSwitch");
    /// ShowCertificateAuthorityQuota.
    pub const PCA_CA_QUOTA: Action = action("pca:ca:quota");
    /// CreateCertificate.
    pub const PCA_ISSUE: Action = action("pca:ca:issueCert");
    /// CreateCertificateByCsr.
    pub const PCA_ISSUE_BY_CSR: Action = action("pca:ca:issueCertByCsr");
    /// ListCertificate.
    pub const PCA_CERT_LIST: Action = action("pca:cert:list");
    /// ShowCertificate (seed 003).
    pub const PCA_CERT_GET: Action = action("pca:cert:get");
    /// ExportCertificate.
    pub const PCA_CERT_EXPORT: Action = action("pca:cert:export");
    /// DeleteCertificate.
    pub const PCA_CERT_DELETE: Action = action("pca:cert:delete");
    /// RevokeCertificate.
    pub const PCA_CERT_REVOKE: Action = action("pca:cert:revoke");
    /// ParseCertificateSigningRequest.
    pub const PCA_PARSE_CSR: Action = action("pca:cert:parseCsr");
    /// ShowCertificateQuota.
    pub const PCA_CERT_QUOTA: Action = action("pca:cert:quota");
    /// CreateCaTag, BatchCreateCaTags.
    pub const PCA_CA_CREATE_TAG: Action = action("pca:ca:createTag");
    /// BatchDeleteCaTags.
    pub const PCA_CA_DELETE_TAG: Action = action("pca:ca:deleteTag");
    /// ListCaTags, ListDomainCaTags.
    pub const PCA_CA_LIST_TAGS: Action = action("pca:ca:listTags");
    /// CreateCertTag, BatchCreateCertTags.
    pub const PCA_CERT_CREATE_TAG: Action = action("pca:cert:createTag");
    /// BatchDeleteCertTags.
    pub const PCA_CERT_DELETE_TAG: Action = action("pca:cert:deleteTag");
    /// ListCertTags, ListDomainCertTags.
    pub const PCA_CERT_LIST_TAGS: Action = action("pca:cert:listTags");
    /// ConfigureAcme (OpenCCM's extension, docs/api/acme.md).
    pub const PCA_ACME_CONFIGURE: Action = action("pca:acme:configure");
    /// CreateAcmeEabKey.
    pub const PCA_ACME_CREATE_EAB: Action = action("pca:acme:createEab");
    /// ListAcmeEabKeys.
    pub const PCA_ACME_LIST_EAB: Action = action("pca:acme:listEab");
    /// DeleteAcmeEabKey.
    pub const PCA_ACME_DELETE_EAB: Action = action("pca:acme:deleteEab");

    /// ImportCertificate.
    pub const SCM_UPLOAD: Action = action("scm:cert:upload");
    /// ListCertificates, ListCertificatesByTag.
    pub const SCM_LIST: Action = action("scm:cert:list");
    /// ShowCertificate.
    pub const SCM_GET: Action = action("scm:cert:get");
    /// ExportCertificate (seed 000: alias `scm:cert:download`).
    pub const SCM_EXPORT: Action = Action {
        name: "scm:cert:export",
        aliases: &["scm:cert:download"],
    };
    /// DeleteCertificate.
    pub const SCM_DELETE: Action = action("scm:cert:delete");
    /// CreateCertificateTag, BatchCreateOrDeleteTags (create).
    pub const SCM_CREATE_TAG: Action = action("scm:cert:createTag");
    /// BatchCreateOrDeleteTags (delete).
    pub const SCM_DELETE_TAG: Action = action("scm:cert:deleteTag");
    /// ListTagsByCertificate, ListAllTags.
    pub const SCM_LIST_TAGS: Action = action("scm:cert:listTags");
    /// EnableNotification.
    pub const SCM_ENABLE_NOTIFICATION: Action = action("scm:cert:enableNotification");
    /// DisableNotification.
    pub const SCM_DISABLE_NOTIFICATION: Action = action("scm:cert:disableNotification");
    /// CreateCsr.
    pub const SCM_CREATE_CSR: Action = action("scm::createCsr");
    /// UploadCsr.
    pub const SCM_UPLOAD_CSR: Action = action("scm::uploadCsr");
    /// ListCsr.
    pub const SCM_LIST_CSR: Action = action("scm::listCsr");
    /// ShowCsr.
    pub const SCM_GET_CSR: Action = action("scm::getCsr");
    /// UpdateCsr.
    pub const SCM_UPDATE_CSR: Action = action("scm::updateCsr");
    /// DeleteCsr.
    pub const SCM_DELETE_CSR: Action = action("scm::deleteCsr");
    /// ShowCsrPrivateKey.
    pub const SCM_GET_CSR_KEY: Action = action("scm::getCsrPrivateKey");
}

/// The kinds of resources policies can name (`Resource` URNs are
/// `service:region:account:type:id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `pca:…:ca:<ca_id>`.
    PcaCa,
    /// `pca:…:cert:<certificate_id>`.
    PcaCert,
    /// `scm:…:cert:<certificate_id>`.
    ScmCert,
    /// `scm:…:csr:<csr_id>`.
    ScmCsr,
}

impl ResourceKind {
    fn service_and_type(self) -> (&'static str, &'static str) {
        match self {
            Self::PcaCa => ("pca", "ca"),
            Self::PcaCert => ("pca", "cert"),
            Self::ScmCert => ("scm", "cert"),
            Self::ScmCsr => ("scm", "csr"),
        }
    }
}

/// The resource an operation acts on, with the facts conditions read.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Kind.
    pub kind: ResourceKind,
    /// Id.
    pub id: &'a str,
    /// Its enterprise project (`g:EnterpriseProjectId`), if it has one.
    pub project: Option<&'a str>,
    /// Its tags (`g:ResourceTag/<key>`).
    pub tags: &'a [(String, String)],
}

/// Facts of the request itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The project a create puts the new resource in (`g:EnterpriseProjectId`).
    pub project: Option<&'a str>,
    /// Tags the request sets (`g:RequestTag/<key>`, `g:TagKeys`).
    pub tags: Option<&'a [(String, String)]>,
    /// Service condition keys (`pca:CommonName`).
    pub extra: &'a [(&'a str, &'a str)],
    /// Multi-valued service condition keys (`pca:PermittedDnsName`); an
    /// empty list leaves the key out.
    pub lists: &'a [(&'a str, &'a [String])],
}

/// How long a user's policies are reused before they are read again (a
/// change made through another server takes effect within this time).
const CACHE_TTL: Duration = Duration::from_secs(1);

/// Each user's parsed policies, with the time they were read.
type PolicyCache = Mutex<HashMap<UserId, (Instant, Arc<Vec<Policy>>)>>;

/// Decides what callers may do.
pub struct Authorizer {
    store: Arc<dyn Store>,
    region: String,
    cache: PolicyCache,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

fn forbidden(action: Action) -> Error {
    Error::Forbidden(format!(
        "The IAM user is not authorized to perform {} (policy denied).",
        action.name
    ))
}

impl Authorizer {
    /// An authorizer reading policies from `store`; URNs name `region`.
    pub fn new(store: Arc<dyn Store>, region: &str) -> Self {
        Self {
            store,
            region: region.to_owned(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached policy set (after a policy, attachment or
    /// membership change).
    pub fn forget(&self) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.clear();
        }
    }

    async fn policies(&self, caller: &Caller) -> Result<Arc<Vec<Policy>>> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((at, policies)) = cache.get(&caller.user_id) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(policies.clone());
                }
            }
        }
        let records = self
            .store
            .policies_of_user(&caller.domain_id, &caller.user_id)
            .await?;
        // A stored document that no longer parses fails closed: its Deny
        // statements must not be silently dropped.
        let policies = records
            .iter()
            .map(|r| {
                Policy::parse(&r.document).map_err(|e| {
                    Error::Internal(format!("stored policy {} does not parse: {e}", r.policy_id))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let policies = Arc::new(policies);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(caller.user_id.clone(), (Instant::now(), policies.clone()));
        }
        Ok(policies)
    }

    fn context(caller: &Caller, action: Action) -> RequestContext {
        let mut ctx = RequestContext::new(action.name, action.aliases);
        ctx.set("g:UserId", caller.user_id.as_str())
            .set("g:UserName", &caller.user_name)
            .set("g:DomainId", caller.domain_id.as_str())
            .set("g:DomainName", &caller.domain_name);
        ctx
    }

    /// The URN of a resource of the caller's account.
    pub fn urn(&self, caller: &Caller, kind: ResourceKind, id: &str) -> String {
        let (service, kind) = kind.service_and_type();
        format!("{service}:{}:{}:{kind}:{id}", self.region, caller.domain_id)
    }

    /// Before anything is read: refuses an action no policy could allow.
    pub async fn precheck(&self, caller: &Caller, action: Action) -> Result<()> {
        if caller.is_root {
            return Ok(());
        }
        let policies = self.policies(caller).await?;
        let ctx = Self::context(caller, action);
        if policy::may_allow(policies.iter(), &ctx) {
            Ok(())
        } else {
            Err(forbidden(action))
        }
    }

    /// The decision for one operation.
    pub async fn authorize(
        &self,
        caller: &Caller,
        action: Action,
        target: Option<Target<'_>>,
        request: RequestFacts<'_>,
    ) -> Result<()> {
        if caller.is_root {
            return Ok(());
        }
        let policies = self.policies(caller).await?;
        let mut ctx = Self::context(caller, action);
        if let Some(t) = target {
            ctx.resource = Some(self.urn(caller, t.kind, t.id));
            if let Some(project) = t.project {
                ctx.set("g:EnterpriseProjectId", project);
            }
            for (k, v) in t.tags {
                ctx.set(&format!("g:ResourceTag/{k}"), v);
            }
        }
        if let Some(project) = request.project {
            if target.is_some_and(|t| t.project.is_some()) {
                // Two projects for one key: decide each in its own call.
                return Err(Error::Internal(
                    "an authorization names both a resource project and a request project"
                        .to_owned(),
                ));
            }
            ctx.set("g:EnterpriseProjectId", project);
        }
        if let Some(tags) = request.tags {
            for (k, v) in tags {
                ctx.set(&format!("g:RequestTag/{k}"), v);
            }
            ctx.set_many("g:TagKeys", tags.iter().map(|(k, _)| k.clone()).collect());
        }
        for (k, v) in request.extra {
            ctx.set(k, v);
        }
        for (k, values) in request.lists {
            if !values.is_empty() {
                ctx.set_many(k, values.to_vec());
            }
        }
        match policy::evaluate(policies.iter(), &ctx) {
            Decision::Allow => Ok(()),
            Decision::ExplicitDeny | Decision::ImplicitDeny => Err(forbidden(action)),
        }
    }

    /// What the caller may see with a list action; `Forbidden` if nothing.
    pub async fn visibility(&self, caller: &Caller, action: Action) -> Result<Visibility> {
        if caller.is_root {
            return Ok(Visibility::everything());
        }
        let policies = self.policies(caller).await?;
        let ctx = Self::context(caller, action);
        let visibility = policy::visibility(policies.iter(), &ctx);
        if visibility.is_empty() {
            Err(forbidden(action))
        } else {
            Ok(visibility)
        }
    }
}
