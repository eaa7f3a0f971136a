//! The two certificate list filters that would otherwise read every
//! certificate of the account: a substring of the common name, and the
//! total of a filter by one tag (`migrations/*/0013_search.sql`,
//! docs/scale.md).

use super::super::{like_pattern, Conditions, Sql};
use crate::db::{args, Backend, NameIndex, Value, Weight, NAME_SUFFIX_CHARS};
use crate::ids::DomainId;
use crate::records::TagFilter;
use crate::{StoreError, StoreResult};

impl<B: Backend> Sql<B> {
    /// Adds the `name` filter (a case-insensitive substring of the common
    /// name) to `c` and answers the table expression the list reads.
    ///
    /// On SQLite the suffix index narrows the certificates to those with
    /// a suffix starting with the name's first 16 characters, when it
    /// names at most an eighth of the account's live certificates (its
    /// entries count every account's, deleted ones too; past that, reading
    /// the account in the sort order's index costs about as much and
    /// stops early for a page); the LIKE decides in both cases.
    /// PostgreSQL's planner makes that choice itself, with its trigram
    /// index.
    pub(super) async fn push_name_filter(
        &self,
        c: &mut Conditions,
        domain: &DomainId,
        name: &str,
    ) -> StoreResult<&'static str> {
        let mut from = "certificates";
        if self.0.name_index() == NameIndex::Suffixes {
            let most = self.counted_certificates(domain, None).await? / 8;
            let start: String = name
                .to_lowercase()
                .chars()
                .take(NAME_SUFFIX_CHARS)
                .collect();
            let (range, bounds) = match prefix_end(&start) {
                Some(end) => ("suffix >= ? AND suffix < ?", args![start, end]),
                None => ("suffix >= ?", args![start]),
            };
            let mut probe = Conditions::default();
            probe.push(range, bounds.clone());
            let cap = most.max(0) + 1;
            let named = self
                .read(
                    &format!(
                        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM certificate_name_suffixes {} LIMIT {cap})",
                        probe.where_sql()
                    ),
                    probe.args,
                    Weight::Scan,
                )
                .await?
                .first()
                .map_or(Ok(0), |r| r.int("n"))?;
            if named <= most {
                c.push(
                    &format!("seq IN (SELECT seq FROM certificate_name_suffixes WHERE {range})"),
                    bounds,
                );
                // The planner would rather walk the sort order's index and
                // test each row; the point is to start from the matches.
                from = "certificates INDEXED BY certificates_seq_idx";
            }
        }
        c.push(
            "LOWER(common_name) LIKE ? ESCAPE '\\'",
            args![like_pattern(name)],
        );
        Ok(from)
    }

    /// The number of live certificates of the account that a filter on
    /// one tag key (with any of some values, or any value) selects, off
    /// `tag_counts`; `None` for any other tag filter. A certificate has
    /// tags only while it is live (deleting it deletes them).
    pub(super) async fn counted_by_tag(
        &self,
        domain: &DomainId,
        filter: &TagFilter,
    ) -> StoreResult<Option<i64>> {
        let [(key, values)] = filter.all.as_slice() else {
            return Ok(None);
        };
        if filter.without_any_tag
            || !filter.any.is_empty()
            || !filter.none.is_empty()
            || !filter.not_all.is_empty()
        {
            return Ok(None);
        }
        let mut c = Conditions::default();
        c.push(
            "domain_id = ? AND resource_type = 'pca-cert' AND tag_key = ?",
            args![domain.as_str(), key.as_str()],
        );
        if !values.is_empty() {
            let mut values: Vec<&str> = values.iter().map(String::as_str).collect();
            values.sort_unstable();
            values.dedup();
            let marks = vec!["?"; values.len()].join(", ");
            c.push(
                &format!("tag_value IN ({marks})"),
                values.into_iter().map(Value::from).collect(),
            );
        }
        let row = self
            .read_one(
                &format!(
                    "SELECT CAST(COALESCE(SUM(tagged), 0) AS BIGINT) AS n FROM tag_counts {}",
                    c.where_sql()
                ),
                c.args,
            )
            .await?
            .ok_or_else(|| StoreError::Database("tag_counts answered no row".to_owned()))?;
        Ok(Some(row.int("n")?))
    }
}

/// The least string above every string that starts with `prefix` (in the
/// byte order of UTF-8, which is the order of code points and of SQLite's
/// BINARY collation), or `None` if there is none (`prefix` is empty or all
/// `char::MAX`).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn the_prefix_end_bounds_exactly_the_strings_with_the_prefix() {
        assert_eq!(prefix_end("abc").as_deref(), Some("abd"));
        assert_eq!(prefix_end("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
        assert_eq!(prefix_end("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10ffff}"), None);
        for prefix in ["host-0001", "é", "字z", "a\u{10ffff}"] {
            let end = prefix_end(prefix).unwrap();
            for inside in ["", "\u{10ffff}\u{10ffff}", "zzz", "\u{0}"] {
                assert!(format!("{prefix}{inside}").as_str() < end.as_str());
            }
            assert!(prefix < end.as_str());
        }
    }
}
