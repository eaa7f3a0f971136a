//! Tags on SSL certificates (the Huawei tag model: one value per key) and
//! the tag queries (`resource_instances`).

use std::collections::BTreeMap;

use openccm_store::{ScmCertFilter, TagFilter, TagOutcome, TaggedResource};

use super::certificate::TOTAL_COUNT_CAP;
use super::{cert_id, not_found_cert, page, Scm, ScmCertView};
use crate::error::{Error, Invalid, Result};
use crate::iam::authz::actions;
use crate::iam::Caller;

/// A tag as callers give it.
#[derive(Debug, Clone, Default)]
pub struct TagInput {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<String>,
}

/// A tag condition: a key and the values that satisfy it (any, if empty).
#[derive(Debug, Clone, Default)]
pub struct TagCondition {
    /// Key.
    pub key: Option<String>,
    /// Values.
    pub values: Option<Vec<String>>,
}

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

/// Most keys, and values per key, in one tag filter.
const MAX_FILTER: usize = 20;

fn tag_error(message: impl Into<String>) -> Error {
    Error::invalid_kind(Invalid::Tag, message)
}

fn allowed(c: char, in_value: bool) -> bool {
    c.is_alphanumeric()
        || matches!(c, ' ' | '_' | '.' | ':' | '=' | '+' | '-' | '@')
        || (in_value && c == '/')
}

/// A tag key: 1–128 letters, digits, space and `_ . : = + - @`, not
/// starting with the reserved `_sys_`.
pub fn check_key(key: &str) -> Result<()> {
    let n = key.chars().count();
    if !(1..=128).contains(&n) || !key.chars().all(|c| allowed(c, false)) {
        return Err(tag_error(
            "a tag key is 1 to 128 letters, digits, spaces or _ . : = + - @",
        ));
    }
    if key.starts_with("_sys_") {
        return Err(tag_error("tag keys starting with _sys_ are reserved"));
    }
    Ok(())
}

/// A tag value: 0–255 letters, digits, space and `_ . : = + - @ /`.
pub fn check_value(value: &str) -> Result<()> {
    if value.chars().count() > 255 || !value.chars().all(|c| allowed(c, true)) {
        return Err(tag_error(
            "a tag value is up to 255 letters, digits, spaces or _ . : = + - @ /",
        ));
    }
    Ok(())
}

fn checked_tag(tag: TagInput) -> Result<(String, String)> {
    let key = tag.key.ok_or_else(|| tag_error("a tag needs a key"))?;
    check_key(&key)?;
    let value = tag.value.unwrap_or_default();
    check_value(&value)?;
    Ok((key, value))
}

fn conditions(list: Option<Vec<TagCondition>>, field: &str) -> Result<Vec<(String, Vec<String>)>> {
    let list = list.unwrap_or_default();
    if list.len() > MAX_FILTER {
        return Err(tag_error(format!(
            "{field} holds more than {MAX_FILTER} keys"
        )));
    }
    list.into_iter()
        .map(|c| {
            let key = c
                .key
                .ok_or_else(|| tag_error(format!("{field}: a key is required")))?;
            check_key(&key)?;
            let values = c.values.unwrap_or_default();
            if values.len() > MAX_FILTER {
                return Err(tag_error(format!(
                    "{field}: more than {MAX_FILTER} values for one key"
                )));
            }
            for v in &values {
                check_value(v)?;
            }
            Ok((key, values))
        })
        .collect()
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
    pub async fn create_tag(&self, caller: &Caller, id: &str, tag: Option<TagInput>) -> Result<()> {
        cert_id(id)?;
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
        id: &str,
        action: Option<&str>,
        tags: Option<Vec<TagInput>>,
    ) -> Result<()> {
        cert_id(id)?;
        let tags = tags.unwrap_or_default();
        if tags.is_empty() || tags.len() > 20 {
            return Err(tag_error("tags must hold 1 to 20 tags"));
        }
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
                let tags = tags
                    .into_iter()
                    .map(|t| {
                        let key = t.key.ok_or_else(|| tag_error("a tag needs a key"))?;
                        check_key(&key)?;
                        if let Some(v) = &t.value {
                            check_value(v)?;
                        }
                        Ok((key, t.value.filter(|v| !v.is_empty())))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let named: Vec<(String, String)> = tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().unwrap_or_default()))
                    .collect();
                let id = self
                    .load_for(caller, actions::SCM_DELETE_TAG, id, Some(&named))
                    .await?
                    .certificate_id;
                outcome(
                    self.store
                        .remove_tags(
                            &caller.domain_id,
                            TaggedResource::ScmCertificate,
                            id.as_str(),
                            &tags,
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
        id: &str,
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
        let visibility = self
            .authz
            .visibility(caller, actions::SCM_LIST_TAGS)
            .await?;
        let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in self
            .store
            .all_tags(
                &caller.domain_id,
                TaggedResource::ScmCertificate,
                (!visibility.is_everything()).then_some(&visibility),
            )
            .await?
        {
            keys.entry(key).or_default().push(value);
        }
        Ok(keys.into_iter().collect())
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
        for view in &mut views {
            view.tags = tags
                .iter()
                .filter(|(id, _, _)| id == view.record.certificate_id.as_str())
                .map(|(_, k, v)| (k.clone(), v.clone()))
                .collect();
        }
        Ok((total, Some(views)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_rules_follow_the_sdk_text() {
        assert!(check_key("env").is_ok());
        assert!(check_key("环境 a_b.c:d=e+f-g@h").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(129)).is_err());
        assert!(check_key("a/b").is_err());
        assert!(check_key("_sys_x").is_err());
        assert!(check_value("").is_ok());
        assert!(check_value("a/b").is_ok());
        assert!(check_value("a*b").is_err());
        assert!(check_value(&"v".repeat(256)).is_err());
    }
}
