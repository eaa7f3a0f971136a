//! The two certificate list filters that would otherwise read every
//! certificate of the account: a substring of the common name, and the
//! total of a filter by one tag (`migrations/*/0013_search.sql`,
//! `migrations/*/0014_name_tokens.sql`,
//! docs/scale.md).

use super::super::{like_pattern, Conditions, Sql};
use crate::db::{args, Backend, NameIndex, Value, Weight, NAME_SUFFIX_CHARS, NAME_WINDOW_CHARS};
use crate::ids::DomainId;
use crate::records::TagFilter;
use crate::{StoreError, StoreResult};

impl<B: Backend> Sql<B> {
    /// Adds the `name` filter (a case-insensitive substring of the common
    /// name) to `c` and answers the table expression the list reads. The
    /// LIKE decides; the name index only narrows what it reads
    /// (`migrations/*/0014_name_tokens.sql`). Both are built from the same
    /// lowercased keyword, so the index keeps every certificate the LIKE
    /// accepts.
    ///
    /// On SQLite the index narrows the certificates to those with a suffix
    /// starting with the keyword's first 16 characters, when it names at
    /// most an eighth of the account's live certificates (its entries
    /// count every account's, deleted ones too; past that, reading the
    /// account in the sort order's index costs about as much and stops
    /// early for a page). PostgreSQL's planner makes that choice itself.
    pub(super) async fn push_name_filter(
        &self,
        c: &mut Conditions,
        domain: &DomainId,
        name: &str,
    ) -> StoreResult<&'static str> {
        let lowered = name.to_lowercase();
        let mut from = "certificates";
        match self.0.name_index() {
            _ if lowered.is_empty() => {}
            NameIndex::Suffixes => {
                let query = suffix_query(&lowered);
                let most = self.counted_certificates(domain, None).await? / 8;
                let cap = most.max(0) + 1;
                let named = self
                    .read(
                        &format!(
                            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM certificate_names \
                             WHERE certificate_names MATCH $1 LIMIT {cap})"
                        ),
                        args![query.clone()],
                        Weight::Scan,
                    )
                    .await?
                    .first()
                    .map_or(Ok(0), |r| r.int("n"))?;
                if named <= most {
                    c.push(
                        "seq IN (SELECT rowid FROM certificate_names WHERE certificate_names MATCH ?)",
                        args![query],
                    );
                    // The planner would rather walk the sort order's index
                    // and test each row; the point is to start from the
                    // matches.
                    from = "certificates INDEXED BY certificates_seq_idx";
                }
            }
            NameIndex::Windows => c.push(
                "certificate_name_windows(LOWER(common_name)) @@ CAST(? AS tsquery)",
                args![window_query(&lowered)],
            ),
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

/// The FTS5 query for the certificates with a name suffix that starts with
/// the keyword's first [`NAME_SUFFIX_CHARS`] characters: a prefix query on
/// their hex, as the tokens are written (`migrations/sqlite/
/// 0014_name_tokens.sql`; SQLite's `hex` is upper case, the tokenizer
/// folds case).
fn suffix_query(lowered: &str) -> String {
    let start: String = lowered.chars().take(NAME_SUFFIX_CHARS).collect();
    format!("\"{}\"*", hex::encode_upper(start.as_bytes()))
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

    #[test]
    fn a_suffix_query_is_a_prefix_query_on_the_hex_of_the_first_16_characters() {
        assert_eq!(suffix_query("web"), "\"776562\"*");
        assert_eq!(suffix_query("é字"), "\"C3A9E5AD97\"*");
        assert_eq!(
            suffix_query("host-000000104.acct"),
            format!("\"{}\"*", hex::encode_upper("host-000000104.a"))
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
