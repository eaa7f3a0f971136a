//! Tags as callers give them (the Huawei TMS rules: one value per key),
//! shared by the PCA and SCM tag operations.

use std::collections::{BTreeMap, HashMap};

use openccm_store::{Store, TaggedResource};

use crate::error::{Error, Invalid, Result};
use crate::iam::authz::{Action, Authorizer};
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

/// Most keys, and values per key, in one tag filter.
pub(crate) const MAX_FILTER: usize = 20;

pub(crate) fn tag_error(message: impl Into<String>) -> Error {
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

pub(crate) fn checked_tag(tag: TagInput) -> Result<(String, String)> {
    let key = tag.key.ok_or_else(|| tag_error("a tag needs a key"))?;
    check_key(&key)?;
    let value = tag.value.unwrap_or_default();
    check_value(&value)?;
    Ok((key, value))
}

pub(crate) fn conditions(
    list: Option<Vec<TagCondition>>,
    field: &str,
) -> Result<Vec<(String, Vec<String>)>> {
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

/// Most tags one batch request adds or removes.
pub(crate) const MAX_BATCH: usize = 20;

/// The tags of a batch request: 1 to [`MAX_BATCH`] of them.
pub(crate) fn batch(tags: Option<Vec<TagInput>>) -> Result<Vec<TagInput>> {
    let tags = tags.unwrap_or_default();
    if tags.is_empty() || tags.len() > MAX_BATCH {
        return Err(tag_error(format!("tags must hold 1 to {MAX_BATCH} tags")));
    }
    Ok(tags)
}

/// A tag to remove: its key, and its value unless missing or empty (then
/// the key goes whatever its value).
pub(crate) fn removal(tag: TagInput) -> Result<(String, Option<String>)> {
    let key = tag.key.ok_or_else(|| tag_error("a tag needs a key"))?;
    check_key(&key)?;
    if let Some(v) = &tag.value {
        check_value(v)?;
    }
    Ok((key, tag.value.filter(|v| !v.is_empty())))
}

/// The account's tags on `resource`s the caller may see under `action`
/// (live ones only, as of `now`), grouped by key, keys in order: what the
/// ListDomain…Tags / ListAllTags operations answer.
pub(crate) async fn account_tags(
    authz: &Authorizer,
    store: &dyn Store,
    caller: &Caller,
    action: Action,
    resource: TaggedResource,
    now: i64,
) -> Result<Vec<(String, Vec<String>)>> {
    let visibility = authz.visibility(caller, action).await?;
    let pairs = store
        .all_tags(
            &caller.domain_id,
            resource,
            (!visibility.is_everything()).then_some(&visibility),
            now,
        )
        .await?;
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in pairs {
        keys.entry(key).or_default().push(value);
    }
    Ok(keys.into_iter().collect())
}

/// Tags read for several resources, (resource id, key, value), as a map
/// from resource id to its (key, value) pairs.
pub(crate) fn by_resource(
    rows: Vec<(String, String, String)>,
) -> HashMap<String, Vec<(String, String)>> {
    let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (id, key, value) in rows {
        map.entry(id).or_default().push((key, value));
    }
    map
}

/// The exact (key, value) pairs a batch delete removes: a pair with a value
/// stands as given; a key without one stands for the value the resource
/// carries under it (and for nothing if it carries none). `current` holds
/// the resource's tags as (resource id, key, value).
pub(crate) fn resolve_removals(
    requested: &[(String, Option<String>)],
    current: &[(String, String, String)],
) -> Vec<(String, String)> {
    requested
        .iter()
        .filter_map(|(key, value)| match value {
            Some(v) => Some((key.clone(), v.clone())),
            None => current
                .iter()
                .find(|(_, k, _)| k == key)
                .map(|(_, k, v)| (k.clone(), v.clone())),
        })
        .collect()
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

    #[test]
    fn removals_by_key_name_the_value_they_remove() {
        let current = vec![
            ("r".to_owned(), "env".to_owned(), "prod".to_owned()),
            ("r".to_owned(), "team".to_owned(), "web".to_owned()),
        ];
        let requested = vec![
            ("env".to_owned(), None),
            ("team".to_owned(), Some("other".to_owned())),
            ("absent".to_owned(), None),
        ];
        assert_eq!(
            resolve_removals(&requested, &current),
            vec![
                ("env".to_owned(), "prod".to_owned()),
                ("team".to_owned(), "other".to_owned())
            ]
        );
    }
}
