//! Statements that find one row by its primary key and then test it.
//!
//! Written plainly, `certificate_id = $1 AND domain_id = $2 AND state =
//! 'ISSUED' AND deleted_at IS NULL` matches the predicate and the leading
//! key of every live-certificate index (`0012_certificate_counts.sql`), and
//! PostgreSQL takes a partial index made on an empty table for empty until
//! the table's first VACUUM or ANALYZE. Until autovacuum gets there (up to a
//! minute, and only after a thousand inserts) it then prefers such an index
//! to the primary key and reads an account's every live certificate to find
//! one: measured right after 24,000 issuances into a fresh database,
//! ShowCertificate fell from 16 k/s to 500/s (0.6 ms per lookup against
//! 9 µs). The tests of the rows found are therefore written as one boolean
//! `IS TRUE`, which no index key and no partial-index predicate matches: the
//! primary key is the only way in, whatever the statistics say. The tags of
//! given resources are looked up the same way: written plainly, both
//! PostgreSQL (`0015_tag_order.sql`'s index) and SQLite (`tags_domain_idx`)
//! read all of an account's tags for them.
//!
//! Not every statement can be kept off a partial index this way. Deleting
//! one tag of a private certificate (`scm.rs`) names its type, id and key,
//! the primary key's columns, which also match the predicate and two
//! columns of `0015_tag_order.sql`'s index; before the first ANALYZE of
//! `tags` PostgreSQL may plan it on that index. It is a rare call, and
//! autovacuum analyses a table within a minute of its first thousand
//! changes.
//!
//! `tests/it/plans.rs` has PostgreSQL plan each of these on a freshly
//! migrated database and checks that it uses the primary key.

use std::sync::LazyLock;

use super::pca::CERT_COLUMNS;
use crate::records::TaggedResource;

/// `conditions` as a test of the row found, never a way to find it.
fn tested(conditions: &str) -> String {
    format!("({conditions}) IS TRUE")
}

/// A live certificate of account `$2` by id `$1`. Built once: ShowCertificate
/// runs it on every call.
pub(crate) fn live_certificate() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {CERT_COLUMNS} FROM certificates WHERE certificate_id = $1 AND {}",
            tested("domain_id = $2 AND state = 'ISSUED' AND deleted_at IS NULL")
        )
    });
    &SQL
}

/// Revokes certificate `$1` of account `$2` at `$3` for reason `$4`, if it
/// is live, unrevoked and unexpired; returns what the revocation records.
pub(crate) fn revoke_certificate() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE certificates SET revoked_at = $3, revocation_reason = $4 WHERE certificate_id = $1 AND {} \
             RETURNING issuer_id, serial_number, enc_serial_number, not_after",
            tested(
                "domain_id = $2 AND state = 'ISSUED' AND deleted_at IS NULL AND revoked_at IS NULL \
                 AND not_after > $3 AND expired_at IS NULL"
            )
        )
    });
    &SQL
}

/// Deletes live certificate `$1` of account `$2` at `$3`.
pub(crate) fn delete_certificate() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "UPDATE certificates SET deleted_at = $3 WHERE certificate_id = $1 AND {} \
             RETURNING revoked_at, expired_at",
            tested("domain_id = $2 AND state = 'ISSUED' AND deleted_at IS NULL")
        )
    });
    &SQL
}

/// The tags of resources `ids` (placeholders from `$3`) of type `$2` in
/// account `$1`.
pub(crate) fn tags_of(ids: &str) -> String {
    format!(
        "SELECT resource_id, tag_key, tag_value FROM tags WHERE resource_type = $2 AND resource_id IN ({ids}) \
         AND {} ORDER BY resource_id, tag_key",
        tested("domain_id = $1")
    )
}

/// Whether live resource `$1` of account `$2` exists.
pub(crate) fn resource_exists(resource: TaggedResource) -> String {
    let (table, column) = super::scm::resource_table(resource);
    let live = super::scm::live_condition(resource, "r");
    format!(
        "SELECT 1 AS one FROM {table} r WHERE r.{column} = $1 AND {}",
        tested(&format!("r.domain_id = $2{live}"))
    )
}

/// A parameter value for [`planned_by_primary_key`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum Sample {
    /// A text parameter.
    Text(&'static str),
    /// An integer parameter.
    Int(i64),
}

/// Each statement above with the table whose primary key it must be
/// planned on and parameters to plan it with, for `tests/it/plans.rs`.
#[doc(hidden)]
#[must_use]
pub fn planned_by_primary_key() -> Vec<(String, &'static str, Vec<Sample>)> {
    use Sample::{Int, Text};
    let cert = || vec![Text("id"), Text("domain")];
    vec![
        (live_certificate().to_owned(), "certificates", cert()),
        (
            revoke_certificate().to_owned(),
            "certificates",
            [cert(), vec![Int(1), Text("UNSPECIFIED")]].concat(),
        ),
        (
            delete_certificate().to_owned(),
            "certificates",
            [cert(), vec![Int(1)]].concat(),
        ),
        (
            resource_exists(TaggedResource::PcaCertificate),
            "certificates",
            cert(),
        ),
        (
            tags_of("$3"),
            "tags",
            vec![Text("domain"), Text("pca-cert"), Text("id")],
        ),
    ]
}
