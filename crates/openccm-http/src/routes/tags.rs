//! Tag bodies to and from the application's tags, shared by the PCA and SCM
//! routes (their wire types are the same: `openccm_wire::tags`).

use openccm_app::tags::TagInput;
use openccm_wire::tags::{ResourceTag, ResourceTagsResponse, TagValues, TagValuesResponse};

/// A requested tag.
pub fn tag_in(tag: ResourceTag) -> TagInput {
    TagInput {
        key: tag.key,
        value: tag.value,
    }
}

/// Requested tags, if the body has the field.
pub fn tags_in(tags: Option<Vec<ResourceTag>>) -> Option<Vec<TagInput>> {
    tags.map(|tags| tags.into_iter().map(tag_in).collect())
}

/// A stored tag.
pub fn tag_out((key, value): (String, String)) -> ResourceTag {
    ResourceTag {
        key: Some(key),
        value: Some(value),
    }
}

/// The tags of one resource.
pub fn resource_tags(tags: Vec<(String, String)>) -> ResourceTagsResponse {
    ResourceTagsResponse {
        tags: tags.into_iter().map(tag_out).collect(),
    }
}

/// Tag keys with their values.
pub fn tag_values(tags: Vec<(String, Vec<String>)>) -> TagValuesResponse {
    TagValuesResponse {
        tags: tags
            .into_iter()
            .map(|(key, values)| TagValues {
                key: Some(key),
                values: Some(values),
            })
            .collect(),
    }
}
