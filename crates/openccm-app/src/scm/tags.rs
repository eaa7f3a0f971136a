//! Tags on SSL certificates (the Huawei tag model: one value per key) and
//! the tag queries (`resource_instances`).

use openccm_store::{ScmCertFilter, TagFilter, TagOutcome, TaggedResource};

use crate::tags::{account_tags, batch, by_resource, checked_tag, conditions, removal, tag_error};
pub use crate::tags::{check_key, check_value, TagCondition, TagInput};

use super::certificate::TOTAL_COUNT_CAP;
use super::{not_found_cert, page, Scm, ScmCertView};
use crate::error::{Error, Result};
use crate::iam::authz::actions;
use crate::iam::Caller;
use openccm_store::ScmCertId;

/// ListCertificatesByTag input.
#[derive(Debug, Clone, Default)]
pub struct ResourceQuery {
    /// Only untagged certificates.
    pub without_any_tag: Option<bool>,
    /// All of these.
    pub tags: Option<Vec<TagCondition>>,
    /// Any of these.
    pub tags_any: Option<Vec<TagCondition>>,
    /// None of these.
    pub not_tags: Option<Vec<TagCondition>>,
    /// Not all of these.
    pub not_tags_any: Option<Vec<TagCondition>>,
    /// Page size.
    pub limit: Option<i64>,
    /// Offset.
    pub offset: Option<i64>,
    /// `filter` | `count`.
    pub action: Option<String>,
    /// Fuzzy matches: (`resource_name`, value).
    pub matches: Option<Vec<(Option<String>, Option<String>)>>,
}

fn outcome(outcome: TagOutcome, max: usize) -> Result<()> {
    match outcome {
        TagOutcome::Done => Ok(()),
        TagOutcome::NoResource => Err(not_found_cert()),
        TagOutcome::TooMany => Err(tag_error(format!(
            "a certificate carries at most {max} tags"
        ))),
    }
}

impl Scm {
    /// Adds one tag (replacing the value of an existing key).
    pub async fn create_tag(
        &self,
        caller: &Caller,
        id: &ScmCertId,
        tag: Option<TagInput>,
    ) -> Result<()> {
        let tag = checked_tag(tag.ok_or_else(|| tag_error("tag is required"))?)?;
        let id = self
            .load_for(
                caller,
                actions::SCM_CREATE_TAG,
                id,
                Some(std::slice::from_ref(&tag)),
            )
            .await?
            .certificate_id;
        let max = self.settings.max_tags_per_resource;
        outcome(
            self.store
                .add_tags(
                    &caller.domain_id,
                    TaggedResource::ScmCertificate,
                    id.as_str(),
                    &[tag],
                    max,
                )
                .await?,
            max,
        )
    }

    /// Adds (`create`) or removes (`delete`) 1–20 tags at once.
    pub async fn batch_tags(
        &self,
        caller: &Caller,
        id: &ScmCertId,
        action: Option<&str>,
        tags: Option<Vec<TagInput>>,
    ) -> Result<()> {
        let tags = batch(tags)?;
        let max = self.settings.max_tags_per_resource;
        match action {
            Some("create") => {
                let tags = tags
                    .into_iter()
                    .map(checked_tag)
                    .collect::<Result<Vec<_>>>()?;
                let id = self
                    .load_for(caller, actions::SCM_CREATE_TAG, id, Some(&tags))
                    .await?
                    .certificate_id;
                outcome(
                    self.store
                        .add_tags(
                            &caller.domain_id,
                            TaggedResource::ScmCertificate,
                            id.as_str(),
                            &tags,
                            max,
                        )
                        .await?,
                    max,
                )
            }
            Some("delete") => {
                let tags = tags.into_iter().map(removal).collect::<Result<Vec<_>>>()?;
                // Authorised with the values a key-only removal would remove
                // (see crate::tags::resolve_removals), and exactly those go.
                self.authz.precheck(caller, actions::SCM_DELETE_TAG).await?;
                let current = self
                    .store
                    .tags_of(
                        &caller.domain_id,
                        TaggedResource::ScmCertificate,
                        &[id.to_string()],
                    )
                    .await?;
                let named = crate::tags::resolve_removals(&tags, &current);
                let id = self
                    .load_for(caller, actions::SCM_DELETE_TAG, id, Some(&named))
                    .await?
                    .certificate_id;
                let exact: Vec<(String, Option<String>)> =
                    named.into_iter().map(|(k, v)| (k, Some(v))).collect();
                outcome(
                    self.store
                        .remove_tags(
                            &caller.domain_id,
                            TaggedResource::ScmCertificate,
                            id.as_str(),
                            &exact,
                        )
                        .await?,
                    max,
                )
            }
            _ => Err(Error::invalid("action must be create or delete")),
        }
    }

    /// The tags of one certificate.
    pub async fn certificate_tags(
        &self,
        caller: &Caller,
        id: &ScmCertId,
    ) -> Result<Vec<(String, String)>> {
        let record = self
            .load_for(caller, actions::SCM_LIST_TAGS, id, None)
            .await?;
        Ok(self
            .store
            .tags_of(
                &caller.domain_id,
                TaggedResource::ScmCertificate,
                &[record.certificate_id.to_string()],
            )
            .await?
            .into_iter()
            .map(|(_, k, v)| (k, v))
            .collect())
    }

    /// Every tag key of the account's certificates with its values.
    pub async fn all_tags(&self, caller: &Caller) -> Result<Vec<(String, Vec<String>)>> {
        account_tags(
            &self.authz,
            self.store.as_ref(),
            caller,
            actions::SCM_LIST_TAGS,
            TaggedResource::ScmCertificate,
            self.now(),
        )
        .await
    }

    /// Certificates by tags: the matches (with their tags) and their number;
    /// `count` returns the number only.
    pub async fn certificates_by_tag(
        &self,
        caller: &Caller,
        query: ResourceQuery,
    ) -> Result<(i64, Option<Vec<ScmCertView>>)> {
        let visibility = self.authz.visibility(caller, actions::SCM_LIST).await?;
        let count_only = match query.action.as_deref() {
            None | Some("filter") => false,
            Some("count") => true,
            Some(_) => return Err(Error::invalid("action must be filter or count")),
        };
        let page = page(query.limit, query.offset, 1, 50)?;
        let mut filter = ScmCertFilter {
            tags: TagFilter {
                without_any_tag: query.without_any_tag.unwrap_or(false),
                all: conditions(query.tags, "tags")?,
                any: conditions(query.tags_any, "tags_any")?,
                none: conditions(query.not_tags, "not_tags")?,
                not_all: conditions(query.not_tags_any, "not_tags_any")?,
            },
            visibility: (!visibility.is_everything()).then_some(visibility),
            ..ScmCertFilter::default()
        };
        for (key, value) in query.matches.unwrap_or_default() {
            match (key.as_deref(), value) {
                (Some("resource_name"), Some(v)) if !v.is_empty() => {
                    if v.chars().count() > 255 {
                        return Err(Error::invalid("a match value is at most 255 characters"));
                    }
                    filter.name = Some(v);
                }
                (Some("resource_name"), _) => {}
                _ => return Err(Error::invalid("matches support the key resource_name only")),
            }
        }
        let now = self.now();
        if count_only {
            let total = self
                .store
                .count_scm_certificates(&caller.domain_id, &filter, now, TOTAL_COUNT_CAP)
                .await?;
            return Ok((total, None));
        }
        let (total, mut views) = self.list_filtered(caller, &filter, page, now).await?;
        let ids: Vec<String> = views
            .iter()
            .map(|v| v.record.certificate_id.to_string())
            .collect();
        let tags = self
            .store
            .tags_of(&caller.domain_id, TaggedResource::ScmCertificate, &ids)
            .await?;
        let mut tags = by_resource(tags);
        for view in &mut views {
            view.tags = tags
                .remove(view.record.certificate_id.as_str())
                .unwrap_or_default();
        }
        Ok((total, Some(views)))
    }
}
