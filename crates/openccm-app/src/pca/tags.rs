//! Tags on private CAs and certificates, and the tag queries
//! (`resource-instances/filter|count`), pca-v1.md § Tags and resource instances.

use openccm_store::{
    CaFilter, CaId, CertFilter, CertId, Page, SortDir, TagFilter, TagOutcome, TaggedResource,
};

use super::{cert_status, not_found_ca, not_found_cert, CaView, CertView, Pca};
use crate::error::{Error, Result};
use crate::iam::authz::{actions, Action};
use crate::iam::Caller;
use crate::tags::{
    account_tags, batch, by_resource, checked_tag, conditions, removal, tag_error, TagInput,
};

pub use crate::tags::TagCondition;

/// Tags one CA or certificate carries at most (the TMS default).
pub const MAX_TAGS_PER_RESOURCE: usize = 20;

/// The taggable PCA resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcaResource {
    /// A private CA.
    Ca,
    /// A private certificate.
    Certificate,
}

/// A taggable PCA resource, by its (parsed) id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PcaTagged {
    /// A CA.
    Ca(CaId),
    /// A certificate.
    Certificate(CertId),
}

impl PcaTagged {
    /// Which kind of resource.
    pub fn kind(&self) -> PcaResource {
        match self {
            Self::Ca(_) => PcaResource::Ca,
            Self::Certificate(_) => PcaResource::Certificate,
        }
    }

    /// The id as stored with its tags.
    fn id_text(&self) -> String {
        match self {
            Self::Ca(id) => id.to_string(),
            Self::Certificate(id) => id.to_string(),
        }
    }
}

impl PcaResource {
    fn tagged(self) -> TaggedResource {
        match self {
            Self::Ca => TaggedResource::PcaCa,
            Self::Certificate => TaggedResource::PcaCertificate,
        }
    }

    fn create_tag(self) -> Action {
        match self {
            Self::Ca => actions::PCA_CA_CREATE_TAG,
            Self::Certificate => actions::PCA_CERT_CREATE_TAG,
        }
    }

    fn delete_tag(self) -> Action {
        match self {
            Self::Ca => actions::PCA_CA_DELETE_TAG,
            Self::Certificate => actions::PCA_CERT_DELETE_TAG,
        }
    }

    fn list_tags(self) -> Action {
        match self {
            Self::Ca => actions::PCA_CA_LIST_TAGS,
            Self::Certificate => actions::PCA_CERT_LIST_TAGS,
        }
    }

    fn list(self) -> Action {
        match self {
            Self::Ca => actions::PCA_CA_LIST,
            Self::Certificate => actions::PCA_CERT_LIST,
        }
    }

    fn not_found(self) -> Error {
        match self {
            Self::Ca => not_found_ca(),
            Self::Certificate => not_found_cert(),
        }
    }
}

/// ListCaResourceInstances / ListCertResourceInstances input.
#[derive(Debug, Clone, Default)]
pub struct ResourceQuery {
    /// Keys ANDed, the values of one key ORed; no values: any value.
    pub tags: Option<Vec<TagCondition>>,
    /// Page size: 10, 20 or 50.
    pub limit: Option<i64>,
    /// Records to skip.
    pub offset: Option<i64>,
    /// Fuzzy matches: (`resource_name`, value).
    pub matches: Option<Vec<(Option<String>, Option<String>)>>,
}

/// A resource a tag query found.
#[derive(Debug, Clone)]
pub enum Found {
    /// A CA.
    Ca(CaView),
    /// A certificate.
    Certificate(CertView),
}

/// A resource a tag query found, with its tags.
#[derive(Debug, Clone)]
pub struct TaggedView {
    /// The resource.
    pub resource: Found,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

impl TaggedView {
    /// The resource id.
    pub fn id(&self) -> &str {
        match &self.resource {
            Found::Ca(v) => v.record.ca_id.as_str(),
            Found::Certificate(v) => v.record.certificate_id.as_str(),
        }
    }

    /// The resource name: its common name.
    pub fn name(&self) -> &str {
        match &self.resource {
            Found::Ca(v) => &v.record.name.common_name,
            Found::Certificate(v) => &v.record.name.common_name,
        }
    }
}

/// The duplicate-free keys of a filter (the reference forbids repeats).
fn unique_keys(filter: &[(String, Vec<String>)]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (key, values) in filter {
        if !seen.insert(key) {
            return Err(tag_error(format!("tags repeats the key {key}")));
        }
        let distinct: std::collections::BTreeSet<&String> = values.iter().collect();
        if distinct.len() != values.len() {
            return Err(tag_error(format!("tags repeats a value of the key {key}")));
        }
    }
    Ok(())
}

impl Pca {
    /// Loads the resource for `action` (its project and tags checked; the
    /// request's tags too, for writes) and returns its id.
    async fn load_resource(
        &self,
        caller: &Caller,
        target: &PcaTagged,
        action: Action,
        request_tags: Option<&[(String, String)]>,
    ) -> Result<String> {
        Ok(match target {
            PcaTagged::Ca(id) => self
                .load_ca_for(caller, action, id, request_tags)
                .await?
                .ca_id
                .to_string(),
            PcaTagged::Certificate(id) => self
                .load_certificate_for(caller, action, id, request_tags)
                .await?
                .certificate_id
                .to_string(),
        })
    }

    fn tag_outcome(resource: PcaResource, outcome: TagOutcome) -> Result<()> {
        match outcome {
            TagOutcome::Done => Ok(()),
            TagOutcome::NoResource => Err(resource.not_found()),
            TagOutcome::TooMany => Err(tag_error(format!(
                "a resource carries at most {MAX_TAGS_PER_RESOURCE} tags"
            ))),
        }
    }

    /// CreateCaTag / CreateCertTag: adds one tag (replacing the value of an
    /// existing key).
    pub async fn create_tag(
        &self,
        caller: &Caller,
        target: &PcaTagged,
        tag: Option<TagInput>,
    ) -> Result<()> {
        let tag = checked_tag(tag.ok_or_else(|| tag_error("tag is required"))?)?;
        self.add_tags(caller, target, vec![tag]).await
    }

    /// BatchCreateCaTags / BatchCreateCertTags: adds 1–20 tags.
    pub async fn batch_create_tags(
        &self,
        caller: &Caller,
        target: &PcaTagged,
        tags: Option<Vec<TagInput>>,
    ) -> Result<()> {
        let tags = batch(tags)?
            .into_iter()
            .map(checked_tag)
            .collect::<Result<Vec<_>>>()?;
        let mut keys = std::collections::BTreeSet::new();
        if let Some((key, _)) = tags.iter().find(|(k, _)| !keys.insert(k)) {
            return Err(tag_error(format!("tags repeats the key {key}")));
        }
        self.add_tags(caller, target, tags).await
    }

    async fn add_tags(
        &self,
        caller: &Caller,
        target: &PcaTagged,
        tags: Vec<(String, String)>,
    ) -> Result<()> {
        let resource = target.kind();
        let id = self
            .load_resource(caller, target, resource.create_tag(), Some(&tags))
            .await?;
        let outcome = self
            .store
            .add_tags(
                &caller.domain_id,
                resource.tagged(),
                &id,
                &tags,
                MAX_TAGS_PER_RESOURCE,
            )
            .await?;
        Self::tag_outcome(resource, outcome)
    }

    /// BatchDeleteCaTags / BatchDeleteCertTags: removes 1–20 tags, by key
    /// and value (by key alone when the value is empty or missing).
    pub async fn batch_delete_tags(
        &self,
        caller: &Caller,
        target: &PcaTagged,
        tags: Option<Vec<TagInput>>,
    ) -> Result<()> {
        let tags = batch(tags)?
            .into_iter()
            .map(removal)
            .collect::<Result<Vec<_>>>()?;
        // A key without a value removes that key whatever its value: the
        // request is authorised with the values it would remove (so a
        // condition on g:RequestTag sees `env=prod`, not `env=`), and exactly
        // those are removed (a value changed meanwhile is left alone).
        let resource = target.kind();
        let action = resource.delete_tag();
        self.authz.precheck(caller, action).await?;
        let current = self
            .store
            .tags_of(&caller.domain_id, resource.tagged(), &[target.id_text()])
            .await?;
        let named = crate::tags::resolve_removals(&tags, &current);
        let id = self
            .load_resource(caller, target, action, Some(&named))
            .await?;
        let exact: Vec<(String, Option<String>)> =
            named.into_iter().map(|(k, v)| (k, Some(v))).collect();
        let outcome = self
            .store
            .remove_tags(&caller.domain_id, resource.tagged(), &id, &exact)
            .await?;
        Self::tag_outcome(resource, outcome)
    }

    /// ListCaTags / ListCertTags.
    pub async fn resource_tag_list(
        &self,
        caller: &Caller,
        target: &PcaTagged,
    ) -> Result<Vec<(String, String)>> {
        let resource = target.kind();
        let id = self
            .load_resource(caller, target, resource.list_tags(), None)
            .await?;
        Ok(self
            .store
            .tags_of(&caller.domain_id, resource.tagged(), &[id])
            .await?
            .into_iter()
            .map(|(_, k, v)| (k, v))
            .collect())
    }

    /// ListDomainCaTags / ListDomainCertTags: every key used on the
    /// account's (visible) resources, with its values.
    pub async fn domain_tags(
        &self,
        caller: &Caller,
        resource: PcaResource,
    ) -> Result<Vec<(String, Vec<String>)>> {
        account_tags(
            &self.authz,
            self.store.as_ref(),
            caller,
            resource.list_tags(),
            resource.tagged(),
            self.now(),
        )
        .await
    }

    /// ListCaResourceInstances / ListCertResourceInstances (a page of the
    /// matches, with their tags) and the Count… variants (`count_only`:
    /// the number only; `limit` and `offset` are ignored).
    pub async fn resources_by_tag(
        &self,
        caller: &Caller,
        resource: PcaResource,
        query: ResourceQuery,
        count_only: bool,
    ) -> Result<(i64, Vec<TaggedView>)> {
        let visibility = self.authz.visibility(caller, resource.list()).await?;
        let page = if count_only {
            Page {
                offset: 0,
                limit: 0,
            }
        } else {
            let limit = query.limit.unwrap_or(10);
            if ![10, 20, 50].contains(&limit) {
                return Err(Error::invalid("limit must be 10, 20 or 50"));
            }
            let offset = query.offset.unwrap_or(0);
            if offset < 0 {
                return Err(Error::invalid("offset must be 0 or more"));
            }
            Page { offset, limit }
        };
        let all = conditions(query.tags, "tags")?;
        unique_keys(&all)?;
        let tags = TagFilter {
            all,
            ..TagFilter::default()
        };
        let mut name = None;
        let mut seen = false;
        for (key, value) in query.matches.unwrap_or_default() {
            if key.as_deref() != Some("resource_name") {
                return Err(Error::invalid("matches support the key resource_name only"));
            }
            if std::mem::replace(&mut seen, true) {
                return Err(Error::invalid("matches repeats the key resource_name"));
            }
            let value = value.unwrap_or_default();
            if value.chars().count() > 255 {
                return Err(Error::invalid("a match value is at most 255 characters"));
            }
            name = Some(value).filter(|v| !v.is_empty());
        }
        let now = self.now();
        let (total, mut found) = match resource {
            PcaResource::Ca => {
                let filter = CaFilter {
                    name,
                    visibility,
                    tags,
                    sort_key: openccm_store::CaSortKey::CreateTime,
                    sort_dir: SortDir::Desc,
                    ..CaFilter::default()
                };
                let (total, records) = self
                    .store
                    .list_cas(&caller.domain_id, &filter, page, now)
                    .await?;
                let views: Vec<TaggedView> = records
                    .into_iter()
                    .map(|record| TaggedView {
                        resource: Found::Ca(self.view(record, now)),
                        tags: Vec::new(),
                    })
                    .collect();
                (total, views)
            }
            PcaResource::Certificate => {
                let filter = CertFilter {
                    name,
                    visibility,
                    tags,
                    sort_key: openccm_store::CertSortKey::CreateTime,
                    sort_dir: SortDir::Desc,
                    ..CertFilter::default()
                };
                let (total, records) = self
                    .store
                    .list_certificates(&caller.domain_id, &filter, page, now)
                    .await?;
                let views: Vec<TaggedView> = records
                    .into_iter()
                    .map(|record| TaggedView {
                        resource: Found::Certificate(CertView {
                            status: cert_status(&record, now),
                            record,
                        }),
                        tags: Vec::new(),
                    })
                    .collect();
                (total, views)
            }
        };
        if !found.is_empty() {
            let ids: Vec<String> = found.iter().map(|v| v.id().to_owned()).collect();
            let tags = self
                .store
                .tags_of(&caller.domain_id, resource.tagged(), &ids)
                .await?;
            let mut tags = by_resource(tags);
            for view in &mut found {
                view.tags = tags.remove(view.id()).unwrap_or_default();
            }
        }
        Ok((total, found))
    }
}
