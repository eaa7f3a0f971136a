//! SCM queries: SSL certificates, CSRs, tags, expiry-notification settings.

use async_trait::async_trait;

use super::{corrupt, like_pattern, locks, placeholders, sort_dir, Conditions, Sql};
use crate::db::{args, params, Backend, Durability, Finish, Row, Tx, Value, Weight};
use crate::domain::algorithm;
use crate::ids::{CsrId, DomainId, ScmCertId};
use crate::records::{
    CsrFilter, CsrRecord, Page, ScmCertFilter, ScmCertRecord, ScmInsertOutcome, ScmSortKey,
    TagOutcome, TaggedResource,
};
use crate::{ScmStore, StoreResult};

const CERT_COLUMNS: &str = "certificate_id, domain_id, enterprise_project_id, name, domain, alt_names, \
    key_algorithm, signature_algorithm, fingerprint, serial_number, not_before, not_after, certificate, \
    certificate_chain, key_owner, sealed_key, enc_certificate, enc_key_owner, enc_sealed_key, \
    enc_key_enveloped, csr_id, create_time, update_time";

/// The list view: no PEM, no keys.
const CERT_LIST_COLUMNS: &str =
    "certificate_id, domain_id, enterprise_project_id, name, domain, alt_names, \
    key_algorithm, signature_algorithm, fingerprint, serial_number, not_before, not_after, \
    enc_key_enveloped, csr_id, create_time, update_time";

/// A list of names as its column holds it: a JSON array of strings.
fn names_column(names: &[String]) -> String {
    serde_json::Value::from(names).to_string()
}

fn names_from_column(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|_| corrupt("alt_names"))
}

fn cert_from_row(row: &Row, full: bool) -> StoreResult<ScmCertRecord> {
    let text = |column: &str| if full { row.opt_text(column) } else { Ok(None) };
    let blob = |column: &str| if full { row.opt_blob(column) } else { Ok(None) };
    Ok(ScmCertRecord {
        certificate_id: ScmCertId::parse(&row.text("certificate_id")?)
            .ok_or_else(|| corrupt("certificate_id"))?,
        domain_id: DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))?,
        enterprise_project_id: row.text("enterprise_project_id")?,
        name: row.text("name")?,
        domain: row.text("domain")?,
        alt_names: names_from_column(&row.text("alt_names")?)?,
        key_algorithm: algorithm::key_from_column(&row.text("key_algorithm")?)?,
        signature_algorithm: row.text("signature_algorithm")?,
        fingerprint: row.text("fingerprint")?,
        serial_number: row.text("serial_number")?,
        not_before: row.int("not_before")?,
        not_after: row.int("not_after")?,
        certificate: text("certificate")?.unwrap_or_default(),
        certificate_chain: text("certificate_chain")?,
        key_owner: text("key_owner")?.unwrap_or_default(),
        sealed_key: blob("sealed_key")?.unwrap_or_default(),
        enc_certificate: text("enc_certificate")?,
        enc_key_owner: text("enc_key_owner")?,
        enc_sealed_key: blob("enc_sealed_key")?,
        enc_key_enveloped: row.boolean("enc_key_enveloped")?,
        csr_id: row
            .opt_text("csr_id")?
            .map(|t| CsrId::parse(&t).ok_or_else(|| corrupt("csr_id")))
            .transpose()?,
        create_time: row.int("create_time")?,
        update_time: row.int("update_time")?,
    })
}

fn cert_args(c: &ScmCertRecord) -> Vec<Value> {
    args![
        c.certificate_id.as_str(),
        c.domain_id.as_str(),
        c.enterprise_project_id.as_str(),
        c.name.as_str(),
        c.domain.as_str(),
        names_column(&c.alt_names),
        algorithm::key_column(c.key_algorithm),
        c.signature_algorithm.as_str(),
        c.fingerprint.as_str(),
        c.serial_number.as_str(),
        c.not_before,
        c.not_after,
        c.certificate.as_str(),
        c.certificate_chain.as_deref(),
        c.key_owner.as_str(),
        c.sealed_key.as_slice(),
        c.enc_certificate.as_deref(),
        c.enc_key_owner.as_deref(),
        c.enc_sealed_key.as_deref(),
        c.enc_key_enveloped,
        c.csr_id.as_ref().map(CsrId::as_str),
        c.create_time,
        c.update_time
    ]
}

const CSR_COLUMNS: &str = "csr_id, domain_id, name, csr, domain_name, alt_names, private_key_algo, usage, \
    company_country, company_province, company_city, company_name, public_key, public_key_sha256, generated, \
    key_owner, sealed_key, create_time, update_time";

fn csr_from_row(row: &Row) -> StoreResult<CsrRecord> {
    Ok(CsrRecord {
        csr_id: CsrId::parse(&row.text("csr_id")?).ok_or_else(|| corrupt("csr_id"))?,
        domain_id: DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))?,
        name: row.text("name")?,
        csr: row.text("csr")?,
        domain_name: row.opt_text("domain_name")?,
        alt_names: names_from_column(&row.text("alt_names")?)?,
        key_algorithm: algorithm::csr_key_from_column(&row.text("private_key_algo")?)?,
        usage: row
            .opt_text("usage")?
            .map(|u| crate::CsrUsage::from_column(&u))
            .transpose()?,
        company_country: row.opt_text("company_country")?,
        company_province: row.opt_text("company_province")?,
        company_city: row.opt_text("company_city")?,
        company_name: row.opt_text("company_name")?,
        public_key: row.blob("public_key")?,
        public_key_sha256: row.text("public_key_sha256")?,
        generated: row.boolean("generated")?,
        key_owner: row.opt_text("key_owner")?,
        sealed_key: row.opt_blob("sealed_key")?,
        create_time: row.int("create_time")?,
        update_time: row.int("update_time")?,
    })
}

fn csr_args(c: &CsrRecord) -> Vec<Value> {
    args![
        c.csr_id.as_str(),
        c.domain_id.as_str(),
        c.name.as_str(),
        c.csr.as_str(),
        c.domain_name.as_deref(),
        names_column(&c.alt_names),
        algorithm::csr_key_column(c.key_algorithm),
        c.usage.map(crate::CsrUsage::column),
        c.company_country.as_deref(),
        c.company_province.as_deref(),
        c.company_city.as_deref(),
        c.company_name.as_deref(),
        c.public_key.as_slice(),
        c.public_key_sha256.as_str(),
        c.generated,
        c.key_owner.as_deref(),
        c.sealed_key.as_deref(),
        c.create_time,
        c.update_time
    ]
}

fn cert_conditions(domain: &DomainId, filter: &ScmCertFilter, now: i64) -> Conditions {
    let mut c = Conditions::default();
    c.push("c.domain_id = ?", args![domain.as_str()]);
    if filter.nothing {
        c.push("1 = 0", args![]);
    }
    match filter.expired {
        Some(true) => c.push("c.not_after <= ?", args![now]),
        Some(false) => c.push("c.not_after > ?", args![now]),
        None => {}
    }
    if let Some(projects) = &filter.projects {
        if projects.is_empty() {
            c.push("1 = 0", args![]);
        } else {
            let marks: Vec<String> = projects
                .iter()
                .map(|p| {
                    let mark = c.next_placeholder();
                    c.args.push(Value::from(p.as_str()));
                    mark
                })
                .collect();
            c.sql
                .push(format!("c.enterprise_project_id IN ({})", marks.join(", ")));
        }
    }
    if let Some(content) = &filter.content {
        let pattern = like_pattern(content);
        c.push(
            "(LOWER(c.name) LIKE ? ESCAPE '\\' OR LOWER(c.domain) LIKE ? ESCAPE '\\')",
            args![pattern.clone(), pattern],
        );
    }
    if let Some(name) = &filter.name {
        c.push(
            "LOWER(c.name) LIKE ? ESCAPE '\\'",
            args![like_pattern(name)],
        );
    }
    if let Some(from) = filter.not_after_from {
        c.push("c.not_after >= ?", args![from]);
    }
    super::push_tag_filter(
        &mut c,
        TaggedResource::ScmCertificate.as_str(),
        "c.certificate_id",
        &filter.tags,
    );
    if let Some(visibility) = &filter.visibility {
        super::push_visibility(
            &mut c,
            visibility,
            "c.enterprise_project_id",
            TaggedResource::ScmCertificate.as_str(),
            "c.certificate_id",
        );
    }
    c
}

/// The table and id column of a tagged resource, for the existence check.
/// The table of a taggable resource and its id column.
pub(super) fn resource_table(resource: TaggedResource) -> (&'static str, &'static str) {
    match resource {
        TaggedResource::ScmCertificate => ("scm_certificates", "certificate_id"),
        TaggedResource::PcaCa => ("cas", "ca_id"),
        TaggedResource::PcaCertificate => ("certificates", "certificate_id"),
    }
}

/// What else makes a row of the table (aliased `alias`) a live resource: a
/// deleted or never-completed private certificate keeps its row.
pub(super) fn live_condition(resource: TaggedResource, alias: &str) -> String {
    match resource {
        TaggedResource::PcaCertificate => {
            format!(" AND {alias}.state = 'ISSUED' AND {alias}.deleted_at IS NULL")
        }
        TaggedResource::ScmCertificate | TaggedResource::PcaCa => String::new(),
    }
}

async fn resource_exists(
    tx: &mut dyn Tx,
    domain: &DomainId,
    resource: TaggedResource,
    id: &str,
) -> StoreResult<bool> {
    let rows = tx
        .query(
            &super::by_id::resource_exists(resource),
            &params![id, domain.as_str()],
        )
        .await?;
    Ok(!rows.is_empty())
}

#[async_trait]
impl<B: Backend> ScmStore for Sql<B> {
    async fn insert_scm_certificate(
        &self,
        cert: &ScmCertRecord,
        duplicate_check: bool,
    ) -> StoreResult<ScmInsertOutcome> {
        let cert = cert.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                if duplicate_check {
                    // Serialises the account's checked imports, across servers.
                    tx.lock(locks::DOMAIN, cert.domain_id.as_str()).await?;
                    let rows = tx
                        .query(
                            "SELECT 1 AS one FROM scm_certificates WHERE domain_id = $1 AND fingerprint = $2",
                            &params![cert.domain_id.as_str(), cert.fingerprint.as_str()],
                        )
                        .await?;
                    if !rows.is_empty() {
                        return Ok(Finish::Rollback(ScmInsertOutcome::Duplicate));
                    }
                }
                let inserted = tx
                    .exec(
                        &format!(
                            "INSERT INTO scm_certificates ({CERT_COLUMNS}) VALUES ({}) \
                             ON CONFLICT (certificate_id) DO NOTHING",
                            placeholders(23)
                        ),
                        &cert_args(&cert),
                    )
                    .await?;
                if inserted == 1 {
                    Ok(Finish::Commit(ScmInsertOutcome::Inserted))
                } else {
                    Ok(Finish::Rollback(ScmInsertOutcome::IdTaken))
                }
            })
        })
        .await
    }

    async fn scm_certificate(
        &self,
        domain: &DomainId,
        id: &ScmCertId,
    ) -> StoreResult<Option<ScmCertRecord>> {
        let sql = format!(
            "SELECT {CERT_COLUMNS} FROM scm_certificates WHERE certificate_id = $1 AND domain_id = $2"
        );
        self.read_one(&sql, args![id.as_str(), domain.as_str()])
            .await?
            .as_ref()
            .map(|row| cert_from_row(row, true))
            .transpose()
    }

    async fn list_scm_certificates(
        &self,
        domain: &DomainId,
        filter: &ScmCertFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<Vec<ScmCertRecord>> {
        let mut c = cert_conditions(domain, filter, now);
        let dir = sort_dir(filter.sort_dir);
        let order = match filter.sort_key {
            ScmSortKey::UpdateTime => format!("c.update_time {dir}"),
            ScmSortKey::ExpiredTime => format!("c.not_after {dir}"),
            ScmSortKey::Status => {
                let mark = c.next_placeholder();
                c.args.push(Value::from(now));
                format!(
                    "CASE WHEN c.not_after <= {mark} THEN 0 ELSE 1 END {dir}, c.update_time {dir}"
                )
            }
        };
        let columns = CERT_LIST_COLUMNS
            .split(", ")
            .map(|col| format!("c.{}", col.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let order = format!("{order}, c.certificate_id {dir}");
        let rows = self
            .page_where(&columns, "scm_certificates c", c, &order, page)
            .await?;
        rows.iter().map(|r| cert_from_row(r, false)).collect()
    }

    async fn count_scm_certificates(
        &self,
        domain: &DomainId,
        filter: &ScmCertFilter,
        now: i64,
        cap: i64,
    ) -> StoreResult<i64> {
        let mut c = cert_conditions(domain, filter, now);
        let where_sql = c.where_sql();
        let cap_mark = c.next_placeholder();
        c.args.push(Value::from(cap));
        // Counting stops at `cap`: the documented total is at most 10000, and
        // an account with millions of certificates must not scan them all.
        let sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM scm_certificates c {where_sql} LIMIT {cap_mark}) capped"
        );
        self.read(&sql, c.args, Weight::Scan)
            .await?
            .first()
            .map_or(Ok(0), |r| r.int("n"))
    }

    async fn delete_scm_certificate(&self, domain: &DomainId, id: &ScmCertId) -> StoreResult<bool> {
        let args = args![id.as_str(), domain.as_str()];
        let id_text = id.to_string();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let deleted = tx
                    .exec(
                        "DELETE FROM scm_certificates WHERE certificate_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?
                    == 1;
                if deleted {
                    super::delete_tags(tx, TaggedResource::ScmCertificate, &id_text).await?;
                    tx.exec(
                        "DELETE FROM scm_notifications WHERE certificate_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                }
                Ok(Finish::Commit(deleted))
            })
        })
        .await
    }

    async fn add_tags(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        id: &str,
        tags: &[(String, String)],
        max_per_resource: usize,
    ) -> StoreResult<TagOutcome> {
        let (domain, id, mut tags) = (domain.clone(), id.to_owned(), tags.to_vec());
        // In key order, the order in which every writer takes tag_counts
        // rows (migrations/postgres/0013_search.sql).
        tags.sort();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // Concurrent additions to one resource take turns, so that
                // together they cannot pass the limit each checks alone.
                tx.lock(locks::TAGS, &format!("{}:{id}", resource.as_str()))
                    .await?;
                if !resource_exists(tx, &domain, resource, &id).await? {
                    return Ok(Finish::Rollback(TagOutcome::NoResource));
                }
                for (key, value) in &tags {
                    super::set_tag(tx, resource, &id, domain.as_str(), key, value).await?;
                }
                let rows = tx
                    .query(
                        "SELECT COUNT(*) AS n FROM tags WHERE resource_type = $1 AND resource_id = $2",
                        &params![resource.as_str(), id.as_str()],
                    )
                    .await?;
                let count = rows.first().map_or(Ok(0), |r| r.int("n"))?;
                if usize::try_from(count).unwrap_or(usize::MAX) > max_per_resource {
                    return Ok(Finish::Rollback(TagOutcome::TooMany));
                }
                Ok(Finish::Commit(TagOutcome::Done))
            })
        })
        .await
    }

    async fn remove_tags(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        id: &str,
        tags: &[(String, Option<String>)],
    ) -> StoreResult<TagOutcome> {
        let (domain, id, mut tags) = (domain.clone(), id.to_owned(), tags.to_vec());
        tags.sort();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                if !resource_exists(tx, &domain, resource, &id).await? {
                    return Ok(Finish::Rollback(TagOutcome::NoResource));
                }
                for (key, value) in &tags {
                    match value {
                        Some(value) => {
                            tx.exec(
                                "DELETE FROM tags WHERE resource_type = $1 AND resource_id = $2 AND domain_id = $3 \
                                 AND tag_key = $4 AND tag_value = $5",
                                &params![
                                    resource.as_str(),
                                    id.as_str(),
                                    domain.as_str(),
                                    key.as_str(),
                                    value.as_str()
                                ],
                            )
                            .await?;
                        }
                        None => {
                            tx.exec(
                                "DELETE FROM tags WHERE resource_type = $1 AND resource_id = $2 AND domain_id = $3 \
                                 AND tag_key = $4",
                                &params![
                                    resource.as_str(),
                                    id.as_str(),
                                    domain.as_str(),
                                    key.as_str()
                                ],
                            )
                            .await?;
                        }
                    }
                }
                Ok(Finish::Commit(TagOutcome::Done))
            })
        })
        .await
    }

    async fn tags_of(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        ids: &[String],
    ) -> StoreResult<Vec<(String, String, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = args![domain.as_str(), resource.as_str()];
        let marks: Vec<String> = ids
            .iter()
            .map(|id| {
                args.push(Value::from(id.as_str()));
                format!("${}", args.len())
            })
            .collect();
        let sql = super::by_id::tags_of(&marks.join(", "));
        let weight = if ids.len() == 1 {
            Weight::Point
        } else {
            Weight::Scan
        };
        self.read(&sql, args, weight)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.text("resource_id")?,
                    r.text("tag_key")?,
                    r.text("tag_value")?,
                ))
            })
            .collect()
    }

    async fn all_tags(
        &self,
        domain: &DomainId,
        resource: TaggedResource,
        visibility: Option<&crate::Visibility>,
        now: i64,
    ) -> StoreResult<Vec<(String, String)>> {
        let mut c = Conditions::default();
        c.push("t.domain_id = ?", args![domain.as_str()]);
        c.push("t.resource_type = ?", args![resource.as_str()]);
        let (table, column) = resource_table(resource);
        // Only the tags of live resources: a CA whose scheduled deletion has
        // passed keeps its row (and tags) but is gone for the API.
        let live = live_condition(resource, "c");
        let join = format!("JOIN {table} c ON c.{column} = t.resource_id{live}");
        if resource == TaggedResource::PcaCa {
            c.push(
                "NOT (c.status = 'DELETED' AND c.delete_time IS NOT NULL AND c.delete_time <= ?)",
                args![now],
            );
        }
        if let Some(v) = visibility {
            super::push_visibility(
                &mut c,
                v,
                "c.enterprise_project_id",
                resource.as_str(),
                &format!("c.{column}"),
            );
        }
        let sql = format!(
            "SELECT DISTINCT t.tag_key, t.tag_value FROM tags t {join} {} ORDER BY t.tag_key, t.tag_value",
            c.where_sql()
        );
        self.read(&sql, c.args, Weight::Scan)
            .await?
            .iter()
            .map(|r| Ok((r.text("tag_key")?, r.text("tag_value")?)))
            .collect()
    }

    async fn insert_csr(&self, csr: &CsrRecord) -> StoreResult<()> {
        let csr = csr.clone();
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    &format!(
                        "INSERT INTO scm_csrs ({CSR_COLUMNS}) VALUES ({})",
                        placeholders(19)
                    ),
                    &csr_args(&csr),
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn csr(&self, domain: &DomainId, id: &CsrId) -> StoreResult<Option<CsrRecord>> {
        self.read_one(
            &format!("SELECT {CSR_COLUMNS} FROM scm_csrs WHERE csr_id = $1 AND domain_id = $2"),
            args![id.as_str(), domain.as_str()],
        )
        .await?
        .as_ref()
        .map(csr_from_row)
        .transpose()
    }

    async fn csrs_by_public_key(
        &self,
        domain: &DomainId,
        public_key_sha256: &str,
    ) -> StoreResult<Vec<CsrRecord>> {
        self.read(
            &format!(
                "SELECT {CSR_COLUMNS} FROM scm_csrs WHERE domain_id = $1 AND public_key_sha256 = $2 \
                 ORDER BY create_time DESC, csr_id"
            ),
            args![domain.as_str(), public_key_sha256],
            Weight::Point,
        )
        .await?
        .iter()
        .map(csr_from_row)
        .collect()
    }

    async fn list_csrs(
        &self,
        domain: &DomainId,
        filter: &CsrFilter,
        page: Page,
    ) -> StoreResult<(i64, Vec<CsrRecord>)> {
        let mut c = Conditions::default();
        c.push("domain_id = ?", args![domain.as_str()]);
        if let Some(name) = &filter.name {
            c.push("LOWER(name) LIKE ? ESCAPE '\\'", args![like_pattern(name)]);
        }
        if let Some(key) = filter.key_algorithm {
            c.push(
                "private_key_algo = ?",
                args![algorithm::csr_key_column(key)],
            );
        }
        let total = self.count_where("scm_csrs", &c).await?;
        let rows = self
            .page_where(
                CSR_COLUMNS,
                "scm_csrs",
                c,
                "create_time DESC, csr_id DESC",
                page,
            )
            .await?;
        Ok((
            total,
            rows.iter().map(csr_from_row).collect::<StoreResult<_>>()?,
        ))
    }

    async fn rename_csr(
        &self,
        domain: &DomainId,
        id: &CsrId,
        name: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let args = args![id.as_str(), domain.as_str(), name, now];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "UPDATE scm_csrs SET name = $3, update_time = $4 WHERE csr_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn delete_csr(&self, domain: &DomainId, id: &CsrId) -> StoreResult<bool> {
        let args = args![id.as_str(), domain.as_str()];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let changed = tx
                    .exec(
                        "DELETE FROM scm_csrs WHERE csr_id = $1 AND domain_id = $2",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(changed == 1))
            })
        })
        .await
    }

    async fn set_notifications(
        &self,
        domain: &DomainId,
        entries: &[(ScmCertId, String)],
        enabled: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let (domain, entries) = (domain.clone(), entries.to_vec());
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                for (id, notice_type) in &entries {
                    if !resource_exists(tx, &domain, TaggedResource::ScmCertificate, id.as_str()).await? {
                        return Ok(Finish::Rollback(false));
                    }
                    tx.exec(
                        "INSERT INTO scm_notifications (certificate_id, notice_type, domain_id, enabled, update_time) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (certificate_id, notice_type) \
                         DO UPDATE SET enabled = $4, update_time = $5",
                        &params![id.as_str(), notice_type.as_str(), domain.as_str(), enabled, now],
                    )
                    .await?;
                }
                Ok(Finish::Commit(true))
            })
        })
        .await
    }

    async fn notifications(
        &self,
        domain: &DomainId,
        id: &ScmCertId,
    ) -> StoreResult<Vec<(String, bool)>> {
        self.read(
            "SELECT notice_type, enabled FROM scm_notifications WHERE certificate_id = $1 AND domain_id = $2 \
             ORDER BY notice_type",
            args![id.as_str(), domain.as_str()],
            Weight::Point,
        )
        .await?
        .iter()
        .map(|r| Ok((r.text("notice_type")?, r.boolean("enabled")?)))
        .collect()
    }
}
