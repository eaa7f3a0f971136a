//! The certificate list filters that would otherwise read every
//! certificate of the account: a substring of the common name, and the
//! total and a page of a filter by one tag (`migrations/*/0013_search.sql`,
//! `0014_name_tokens.sql`, `0015_tag_order.sql`; docs/scale.md).

use super::super::{like_pattern, sort_dir, Conditions, Sql};
use super::rows::CERT_LIST_COLUMNS;
use crate::db::{
    args, Backend, NameIndex, Row, Value, Weight, NAME_SUFFIX_CHARS, NAME_WINDOW_CHARS,
};
use crate::ids::DomainId;
use crate::records::{CertFilter, CertSortKey, Page, TagFilter};
use crate::{StoreError, StoreResult};

/// The most matches for which PostgreSQL reads the name windows index. Its
/// probe either reads the index or, when the planner expects many matches,
/// tests rows until it has found this many plus one, which for a keyword
/// that does match many is soon (`certificate_name_windows` takes 39 µs a
/// name, which the migration declares so that the planner tests it last;
/// a planner that misjudges a rare keyword as common would build the
/// windows of every row of the account it reads).
const WINDOW_PROBE_MOST: i64 = 1000;

/// The most values of one tag key that a page of a tag filter reads off
/// the tags' index (one index range each); past that it walks the
/// certificates.
const TAG_PAGE_VALUES: usize = 16;

impl<B: Backend> Sql<B> {
    /// Adds the `name` filter (a case-insensitive substring of the common
    /// name) to `c` and answers the table expression the list reads. The
    /// LIKE decides; the name index only narrows what it reads
    /// (`migrations/*/0014_name_tokens.sql`). Both are built from the same
    /// lowercased keyword, so the index keeps every certificate the LIKE
    /// accepts.
    ///
    /// The index is read only when a bounded probe finds the keyword
    /// selective: at most an eighth of the account's live certificates
    /// (and on PostgreSQL at most [`WINDOW_PROBE_MOST`]). Past that,
    /// reading the account in the sort order's index costs about as much,
    /// and stops early for a page. On PostgreSQL the probe also keeps the
    /// windows condition out of a query that would not read its index: the
    /// planner would then build every row's windows to test it.
    pub(super) async fn push_name_filter(
        &self,
        c: &mut Conditions,
        domain: &DomainId,
        name: &str,
    ) -> StoreResult<&'static str> {
        let lowered = name.to_lowercase();
        if lowered.is_empty() {
            return Ok("certificates");
        }
        let live = self.counted_certificates(domain, None).await?.max(0);
        // The probe reads `$1` (the index query) and, on PostgreSQL, `$2`.
        let (query, probe, condition, most, from) = match self.0.name_index() {
            // Its rows count the account's deleted certificates too.
            NameIndex::Suffixes => (
                suffix_query(domain, &lowered),
                "SELECT 1 FROM certificate_names WHERE certificate_names MATCH $1",
                "seq IN (SELECT rowid FROM certificate_names WHERE certificate_names MATCH ?)",
                live / 8,
                // The planner would rather walk the sort order's index and
                // test each row; the point is to start from the matches.
                "certificates INDEXED BY certificates_seq_idx",
            ),
            NameIndex::Windows => (
                window_query(&lowered),
                "SELECT 1 FROM certificates WHERE domain_id = $2 AND state = 'ISSUED' \
                 AND deleted_at IS NULL \
                 AND certificate_name_windows(LOWER(common_name)) @@ CAST($1 AS tsquery)",
                "certificate_name_windows(LOWER(common_name)) @@ CAST(? AS tsquery)",
                (live / 8).min(WINDOW_PROBE_MOST),
                "certificates",
            ),
        };
        let named = self
            .read(
                &format!(
                    "SELECT COUNT(*) AS n FROM ({probe} LIMIT {}) AS probe",
                    most + 1
                ),
                args![query.clone(), domain.as_str()],
                Weight::Scan,
            )
            .await?
            .first()
            .map_or(Ok(0), |r| r.int("n"))?;
        let from = if named <= most {
            c.push(condition, args![query]);
            from
        } else {
            "certificates"
        };
        c.push(
            "LOWER(common_name) LIKE ? ESCAPE '\\'",
            args![like_pattern(name)],
        );
        Ok(from)
    }

    /// One page of the account's live certificates that carry tag `key`
    /// with one of some values, newest first (or oldest), off the tags'
    /// own index (`migrations/*/0015_tag_order.sql`): for each value, the
    /// first `offset + limit` tags in the list's order, whose certificates
    /// are then sorted as the list sorts them. `None` unless the filter is
    /// that one tag condition, with at most [`TAG_PAGE_VALUES`] values,
    /// sorted by creation time, and nothing else (the caller says whether
    /// the rest of the filter is empty). A certificate has tags only while
    /// it is live.
    pub(super) async fn page_by_tag(
        &self,
        domain: &DomainId,
        filter: &CertFilter,
        page: Page,
    ) -> StoreResult<Option<Vec<Row>>> {
        let Some((key, values)) = one_tag_key(&filter.tags) else {
            return Ok(None);
        };
        if values.is_empty()
            || values.len() > TAG_PAGE_VALUES
            || filter.sort_key != CertSortKey::CreateTime
        {
            return Ok(None);
        }
        let dir = sort_dir(filter.sort_dir);
        let first = page.offset.max(0).saturating_add(page.limit.max(0));
        let mut args = args![domain.as_str(), key];
        // Tags without a creation time (none that this version writes; an
        // older server's, written after an upgrade) are all read: the final
        // sort places them.
        let marks: Vec<String> = (0..values.len()).map(|i| format!("${}", i + 3)).collect();
        let mut arms = vec![format!(
            "SELECT resource_id FROM tags WHERE domain_id = $1 AND resource_type = 'pca-cert' \
             AND tag_key = $2 AND tag_value IN ({}) AND resource_created IS NULL",
            marks.join(", ")
        )];
        for value in values {
            args.push(Value::from(value));
            arms.push(format!(
                "SELECT resource_id FROM (SELECT resource_id FROM tags \
                 WHERE domain_id = $1 AND resource_type = 'pca-cert' AND tag_key = $2 \
                 AND tag_value = ${} \
                 ORDER BY resource_created {dir}, resource_id {dir} LIMIT {first}) AS v{}",
                args.len(),
                args.len()
            ));
        }
        // The account is checked as an expression, not a column: SQLite
        // would otherwise walk the account's creation-order index, testing
        // every certificate against the list, rather than read the listed
        // ones (the tags named only the account's certificates already).
        let rows = self
            .read(
                &format!(
                    "SELECT {CERT_LIST_COLUMNS} FROM certificates \
                     WHERE certificate_id IN ({}) AND domain_id || '' = $1 \
                     AND state = 'ISSUED' AND deleted_at IS NULL \
                     ORDER BY create_time {dir}, certificate_id {dir} LIMIT {} OFFSET {}",
                    arms.join(" UNION ALL "),
                    page.limit.max(0),
                    page.offset.max(0)
                ),
                args,
                Weight::Scan,
            )
            .await?;
        Ok(Some(rows))
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
        let Some((key, values)) = one_tag_key(filter) else {
            return Ok(None);
        };
        let mut c = Conditions::default();
        c.push(
            "domain_id = ? AND resource_type = 'pca-cert' AND tag_key = ?",
            args![domain.as_str(), key],
        );
        if !values.is_empty() {
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

/// The key and the distinct values (sorted; none: any value) of a tag
/// filter that is one tag key and nothing else; `None` for any other.
fn one_tag_key(tags: &TagFilter) -> Option<(&str, Vec<&str>)> {
    let [(key, values)] = tags.all.as_slice() else {
        return None;
    };
    if tags.without_any_tag
        || !tags.any.is_empty()
        || !tags.none.is_empty()
        || !tags.not_all.is_empty()
    {
        return None;
    }
    let mut values: Vec<&str> = values.iter().map(String::as_str).collect();
    values.sort_unstable();
    values.dedup();
    Some((key, values))
}

/// The FTS5 query for the account's certificates with a name suffix that
/// starts with the keyword's first [`NAME_SUFFIX_CHARS`] characters: a
/// prefix query on the hex of the account's id and of those characters, as
/// the tokens are written (`migrations/sqlite/0014_name_tokens.sql`;
/// SQLite's `hex` is upper case, the tokenizer folds case).
fn suffix_query(domain: &DomainId, lowered: &str) -> String {
    let start: String = lowered.chars().take(NAME_SUFFIX_CHARS).collect();
    format!(
        "\"{}{}\"*",
        hex::encode_upper(domain.as_str()),
        hex::encode_upper(start.as_bytes())
    )
}

/// The tsquery for the certificates whose name holds every window of
/// [`NAME_WINDOW_CHARS`] characters of the keyword, or, for a shorter
/// keyword, a window that starts with it (`migrations/postgres/
/// 0014_name_tokens.sql`). Each lexeme is quoted, with its quotes and
/// backslashes escaped, so that no character of a keyword is an operator.
fn window_query(lowered: &str) -> String {
    let quote = |lexeme: &str| format!("'{}'", lexeme.replace('\\', "\\\\").replace('\'', "''"));
    let chars: Vec<char> = lowered.chars().collect();
    if chars.len() < NAME_WINDOW_CHARS {
        return format!("{}:*", quote(lowered));
    }
    let windows: std::collections::BTreeSet<String> = chars
        .windows(NAME_WINDOW_CHARS)
        .map(|w| w.iter().collect())
        .collect();
    windows
        .iter()
        .map(|w| quote(w))
        .collect::<Vec<_>>()
        .join(" & ")
}

#[cfg(test)]
mod tests {
    use super::{suffix_query, window_query};
    use crate::ids::DomainId;

    #[test]
    fn a_suffix_query_is_a_prefix_query_on_the_hex_of_the_account_and_16_characters() {
        let domain = DomainId::parse(&"0a".repeat(16)).unwrap();
        let account = "3061".repeat(16);
        assert_eq!(
            suffix_query(&domain, "web"),
            format!("\"{account}776562\"*")
        );
        assert_eq!(
            suffix_query(&domain, "é字"),
            format!("\"{account}C3A9E5AD97\"*")
        );
        assert_eq!(
            suffix_query(&domain, "host-000000104.acct"),
            format!("\"{account}{}\"*", hex::encode_upper("host-000000104.a"))
        );
    }

    #[test]
    fn a_window_query_ands_every_window_or_prefixes_a_short_keyword() {
        assert_eq!(window_query("web"), "'web':*");
        assert_eq!(window_query("o'b\\c"), "'o''b\\\\c':*");
        assert_eq!(window_query("abcdefgh"), "'abcdefgh'");
        assert_eq!(
            window_query("abcdefghia"),
            "'abcdefgh' & 'bcdefghi' & 'cdefghia'"
        );
        // Repeated windows once.
        assert_eq!(window_query("aaaaaaaaaa"), "'aaaaaaaa'");
        assert_eq!(window_query("été-字符.ab"), "'té-字符.ab' & 'été-字符.a'");
    }
}
