// PCA queries shared by both backends; `include!`d as module `pca_queries`
// (see `sql/common.rs` for why).

use async_trait::async_trait;
use sqlx::Row as _;

use super::{lock_domain, Backend, Db};
use crate::ids::{CaId, CertId, DomainId};
use crate::records::{
    CaFilter, CaRecord, CertFilter, CertRecord, CrlSettings, InsertOutcome, NameFields, Page, SortDir,
    UpdateOutcome,
};
use crate::{map_sqlx, PcaStore, SerialReservation, StoreError, StoreResult};

type DbRow = <Db as sqlx::Database>::Row;
type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

/// A bind value of a dynamically built query.
enum Arg {
    Text(String),
    Int(i64),
    Bool(bool),
}

fn bind_all<'q>(mut query: Query<'q>, args: &'q [Arg]) -> Query<'q> {
    for arg in args {
        query = match arg {
            Arg::Text(t) => query.bind(t.as_str()),
            Arg::Int(i) => query.bind(*i),
            Arg::Bool(b) => query.bind(*b),
        };
    }
    query
}

/// Builds `WHERE` clauses with numbered placeholders.
#[derive(Default)]
struct Conditions {
    sql: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    fn push(&mut self, clause: &str, args: Vec<Arg>) {
        let mut clause = clause.to_owned();
        for arg in args {
            self.args.push(arg);
            clause = clause.replacen('?', &format!("${}", self.args.len()), 1);
        }
        self.sql.push(clause);
    }

    fn next_placeholder(&self) -> String {
        format!("${}", self.args.len() + 1)
    }

    fn where_sql(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.sql.join(" AND "))
        }
    }
}

/// `%text%` for LIKE, with the wildcards in `text` escaped.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{}%", escaped.to_lowercase())
}

fn opt_ca_id(row: &DbRow, column: &str) -> StoreResult<Option<CaId>> {
    let text: Option<String> = row.try_get(column).map_err(map_sqlx)?;
    text.map(|t| CaId::parse(&t).ok_or_else(|| corrupt(column))).transpose()
}

fn domain_of(row: &DbRow) -> StoreResult<DomainId> {
    let text: String = row.try_get("domain_id").map_err(map_sqlx)?;
    DomainId::parse(&text).ok_or_else(|| corrupt("domain_id"))
}

const CA_COLUMNS: &str = "ca_id, domain_id, ca_type, listed, status, issuer_id, issuer_name, path_length, \
    key_algorithm, signature_algorithm, key_usages, gen_mode, serial_number, common_name, country, state, \
    locality, organization, organizational_unit, subject, key_owner, sealed_key, public_key, certificate, chain, \
    not_before, not_after, create_time, delete_time, crl_enabled, crl_name, crl_bucket, crl_valid_days, \
    ocsp_enabled, enterprise_project_id, revoked_at, revocation_reason";

fn ca_from_row(row: &DbRow) -> StoreResult<CaRecord> {
    let ca_id: String = row.try_get("ca_id").map_err(map_sqlx)?;
    let key_usages: String = row.try_get("key_usages").map_err(map_sqlx)?;
    Ok(CaRecord {
        ca_id: CaId::parse(&ca_id).ok_or_else(|| corrupt("ca_id"))?,
        domain_id: domain_of(row)?,
        ca_type: row.try_get("ca_type").map_err(map_sqlx)?,
        listed: row.try_get("listed").map_err(map_sqlx)?,
        status: row.try_get("status").map_err(map_sqlx)?,
        issuer_id: opt_ca_id(row, "issuer_id")?,
        issuer_name: row.try_get("issuer_name").map_err(map_sqlx)?,
        path_length: row.try_get("path_length").map_err(map_sqlx)?,
        key_algorithm: row.try_get("key_algorithm").map_err(map_sqlx)?,
        signature_algorithm: row.try_get("signature_algorithm").map_err(map_sqlx)?,
        key_usages: key_usages.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        gen_mode: row.try_get("gen_mode").map_err(map_sqlx)?,
        serial_number: row.try_get("serial_number").map_err(map_sqlx)?,
        name: NameFields {
            common_name: row.try_get("common_name").map_err(map_sqlx)?,
            country: row.try_get("country").map_err(map_sqlx)?,
            state: row.try_get("state").map_err(map_sqlx)?,
            locality: row.try_get("locality").map_err(map_sqlx)?,
            organization: row.try_get("organization").map_err(map_sqlx)?,
            organizational_unit: row.try_get("organizational_unit").map_err(map_sqlx)?,
        },
        subject: row.try_get("subject").map_err(map_sqlx)?,
        key_owner: row.try_get("key_owner").map_err(map_sqlx)?,
        sealed_key: row.try_get("sealed_key").map_err(map_sqlx)?,
        public_key: row.try_get("public_key").map_err(map_sqlx)?,
        certificate: row.try_get("certificate").map_err(map_sqlx)?,
        chain: row.try_get("chain").map_err(map_sqlx)?,
        not_before: row.try_get("not_before").map_err(map_sqlx)?,
        not_after: row.try_get("not_after").map_err(map_sqlx)?,
        create_time: row.try_get("create_time").map_err(map_sqlx)?,
        delete_time: row.try_get("delete_time").map_err(map_sqlx)?,
        crl: CrlSettings {
            enabled: row.try_get("crl_enabled").map_err(map_sqlx)?,
            crl_name: row.try_get("crl_name").map_err(map_sqlx)?,
            bucket: row.try_get("crl_bucket").map_err(map_sqlx)?,
            valid_days: row.try_get("crl_valid_days").map_err(map_sqlx)?,
        },
        ocsp_enabled: row.try_get("ocsp_enabled").map_err(map_sqlx)?,
        enterprise_project_id: row.try_get("enterprise_project_id").map_err(map_sqlx)?,
        revoked_at: row.try_get("revoked_at").map_err(map_sqlx)?,
        revocation_reason: row.try_get("revocation_reason").map_err(map_sqlx)?,
    })
}

/// Binds every CA column in `CA_COLUMNS` order ($1..$37).
fn bind_ca<'q>(query: Query<'q>, ca: &'q CaRecord) -> Query<'q> {
    query
        .bind(ca.ca_id.as_str())
        .bind(ca.domain_id.as_str())
        .bind(ca.ca_type.as_str())
        .bind(ca.listed)
        .bind(ca.status.as_str())
        .bind(ca.issuer_id.as_ref().map(CaId::as_str))
        .bind(ca.issuer_name.as_deref())
        .bind(ca.path_length)
        .bind(ca.key_algorithm.as_str())
        .bind(ca.signature_algorithm.as_deref())
        .bind(ca.key_usages.join(","))
        .bind(ca.gen_mode.as_str())
        .bind(ca.serial_number.as_deref())
        .bind(ca.name.common_name.as_str())
        .bind(ca.name.country.as_deref())
        .bind(ca.name.state.as_deref())
        .bind(ca.name.locality.as_deref())
        .bind(ca.name.organization.as_deref())
        .bind(ca.name.organizational_unit.as_deref())
        .bind(ca.subject.as_slice())
        .bind(ca.key_owner.as_deref())
        .bind(ca.sealed_key.as_deref())
        .bind(ca.public_key.as_slice())
        .bind(ca.certificate.as_deref())
        .bind(ca.chain.as_deref())
        .bind(ca.not_before)
        .bind(ca.not_after)
        .bind(ca.create_time)
        .bind(ca.delete_time)
        .bind(ca.crl.enabled)
        .bind(ca.crl.crl_name.as_deref())
        .bind(ca.crl.bucket.as_deref())
        .bind(ca.crl.valid_days)
        .bind(ca.ocsp_enabled)
        .bind(ca.enterprise_project_id.as_str())
        .bind(ca.revoked_at)
        .bind(ca.revocation_reason.as_deref())
}

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// A CA is gone once its scheduled deletion time has passed.
const CA_NOT_GONE: &str = "NOT (status = 'DELETED' AND delete_time IS NOT NULL AND delete_time <= ?)";

const CERT_COLUMNS: &str = "certificate_id, domain_id, issuer_id, issuer_name, state, key_algorithm, \
    signature_algorithm, gen_mode, serial_number, common_name, country, state_name, locality, organization, \
    organizational_unit, tbs_digest, certificate, key_owner, sealed_key, enc_serial_number, enc_tbs_digest, \
    enc_certificate, enc_key_owner, enc_sealed_key, csr_public_key, not_before, not_after, create_time, \
    deleted_at, revoked_at, revocation_reason, enterprise_project_id";

/// The list view: no DER, no keys.
const CERT_LIST_COLUMNS: &str = "certificate_id, domain_id, issuer_id, issuer_name, state, key_algorithm, \
    signature_algorithm, gen_mode, serial_number, common_name, country, state_name, locality, organization, \
    organizational_unit, enc_serial_number, not_before, not_after, create_time, deleted_at, revoked_at, \
    revocation_reason, enterprise_project_id";

fn cert_from_row(row: &DbRow, full: bool) -> StoreResult<CertRecord> {
    let id: String = row.try_get("certificate_id").map_err(map_sqlx)?;
    let issuer: String = row.try_get("issuer_id").map_err(map_sqlx)?;
    let blob = |column: &str| -> StoreResult<Option<Vec<u8>>> {
        if full {
            row.try_get(column).map_err(map_sqlx)
        } else {
            Ok(None)
        }
    };
    let text = |column: &str| -> StoreResult<Option<String>> {
        if full {
            row.try_get(column).map_err(map_sqlx)
        } else {
            Ok(None)
        }
    };
    Ok(CertRecord {
        certificate_id: CertId::parse(&id).ok_or_else(|| corrupt("certificate_id"))?,
        domain_id: domain_of(row)?,
        issuer_id: CaId::parse(&issuer).ok_or_else(|| corrupt("issuer_id"))?,
        issuer_name: row.try_get("issuer_name").map_err(map_sqlx)?,
        state: row.try_get("state").map_err(map_sqlx)?,
        key_algorithm: row.try_get("key_algorithm").map_err(map_sqlx)?,
        signature_algorithm: row.try_get("signature_algorithm").map_err(map_sqlx)?,
        gen_mode: row.try_get("gen_mode").map_err(map_sqlx)?,
        serial_number: row.try_get("serial_number").map_err(map_sqlx)?,
        name: NameFields {
            common_name: row.try_get("common_name").map_err(map_sqlx)?,
            country: row.try_get("country").map_err(map_sqlx)?,
            state: row.try_get("state_name").map_err(map_sqlx)?,
            locality: row.try_get("locality").map_err(map_sqlx)?,
            organization: row.try_get("organization").map_err(map_sqlx)?,
            organizational_unit: row.try_get("organizational_unit").map_err(map_sqlx)?,
        },
        tbs_digest: blob("tbs_digest")?.unwrap_or_default(),
        certificate: blob("certificate")?,
        key_owner: text("key_owner")?,
        sealed_key: blob("sealed_key")?,
        enc_serial_number: row.try_get("enc_serial_number").map_err(map_sqlx)?,
        enc_tbs_digest: blob("enc_tbs_digest")?,
        enc_certificate: blob("enc_certificate")?,
        enc_key_owner: text("enc_key_owner")?,
        enc_sealed_key: blob("enc_sealed_key")?,
        csr_public_key: blob("csr_public_key")?,
        not_before: row.try_get("not_before").map_err(map_sqlx)?,
        not_after: row.try_get("not_after").map_err(map_sqlx)?,
        create_time: row.try_get("create_time").map_err(map_sqlx)?,
        deleted_at: row.try_get("deleted_at").map_err(map_sqlx)?,
        revoked_at: row.try_get("revoked_at").map_err(map_sqlx)?,
        revocation_reason: row.try_get("revocation_reason").map_err(map_sqlx)?,
        enterprise_project_id: row.try_get("enterprise_project_id").map_err(map_sqlx)?,
    })
}

fn bind_cert<'q>(query: Query<'q>, c: &'q CertRecord) -> Query<'q> {
    query
        .bind(c.certificate_id.as_str())
        .bind(c.domain_id.as_str())
        .bind(c.issuer_id.as_str())
        .bind(c.issuer_name.as_str())
        .bind(c.state.as_str())
        .bind(c.key_algorithm.as_str())
        .bind(c.signature_algorithm.as_str())
        .bind(c.gen_mode.as_str())
        .bind(c.serial_number.as_str())
        .bind(c.name.common_name.as_str())
        .bind(c.name.country.as_deref())
        .bind(c.name.state.as_deref())
        .bind(c.name.locality.as_deref())
        .bind(c.name.organization.as_deref())
        .bind(c.name.organizational_unit.as_deref())
        .bind(c.tbs_digest.as_slice())
        .bind(c.certificate.as_deref())
        .bind(c.key_owner.as_deref())
        .bind(c.sealed_key.as_deref())
        .bind(c.enc_serial_number.as_deref())
        .bind(c.enc_tbs_digest.as_deref())
        .bind(c.enc_certificate.as_deref())
        .bind(c.enc_key_owner.as_deref())
        .bind(c.enc_sealed_key.as_deref())
        .bind(c.csr_public_key.as_deref())
        .bind(c.not_before)
        .bind(c.not_after)
        .bind(c.create_time)
        .bind(c.deleted_at)
        .bind(c.revoked_at)
        .bind(c.revocation_reason.as_deref())
        .bind(c.enterprise_project_id.as_str())
}

fn sort_dir(dir: SortDir) -> &'static str {
    match dir {
        SortDir::Asc => "ASC",
        SortDir::Desc => "DESC",
    }
}

/// Reserves a serial inside a transaction; `false` when it is taken.
async fn reserve_serial(
    tx: &mut <Db as sqlx::Database>::Connection,
    serial: &SerialReservation,
    resource_id: &str,
    now: i64,
) -> StoreResult<bool> {
    let result = sqlx::query(
        "INSERT INTO serials (issuer_id, serial, resource_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (issuer_id, serial) DO NOTHING",
    )
    .bind(serial.issuer_id.as_str())
    .bind(serial.serial.as_str())
    .bind(resource_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(map_sqlx)?;
    Ok(result.rows_affected() == 1)
}

fn status_list(expected: &[&str]) -> String {
    expected
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl PcaStore for Backend {
    async fn insert_ca(
        &self,
        ca: &CaRecord,
        serial: Option<&SerialReservation>,
        quota: Option<i64>,
        now: i64,
    ) -> StoreResult<InsertOutcome> {
        let mut tx = self.begin_write().await?;
        lock_domain(&mut tx, &ca.domain_id).await?;
        if let Some(quota) = quota {
            let used: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) AS n FROM cas WHERE domain_id = $1 AND listed = $2 AND {}",
                CA_NOT_GONE.replace('?', "$3")
            ))
            .bind(ca.domain_id.as_str())
            .bind(true)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_sqlx)?
            .try_get("n")
            .map_err(map_sqlx)?;
            if used >= quota {
                return Ok(InsertOutcome::QuotaExceeded);
            }
        }
        if let Some(serial) = serial {
            if !reserve_serial(&mut tx, serial, ca.ca_id.as_str(), now).await? {
                return Ok(InsertOutcome::SerialTaken);
            }
        }
        let sql = format!("INSERT INTO cas ({CA_COLUMNS}) VALUES ({})", placeholders(1, 37));
        bind_ca(sqlx::query(&sql), ca).execute(&mut *tx).await.map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(InsertOutcome::Inserted)
    }

    async fn ca(&self, domain: &DomainId, ca_id: &CaId, now: i64) -> StoreResult<Option<CaRecord>> {
        let sql = format!(
            "SELECT {CA_COLUMNS} FROM cas WHERE ca_id = $1 AND domain_id = $2 AND {}",
            CA_NOT_GONE.replace('?', "$3")
        );
        sqlx::query(&sql)
            .bind(ca_id.as_str())
            .bind(domain.as_str())
            .bind(now)
            .fetch_optional(self.reader())
            .await
            .map_err(map_sqlx)?
            .as_ref()
            .map(ca_from_row)
            .transpose()
    }

    async fn list_cas(
        &self,
        domain: &DomainId,
        filter: &CaFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<(i64, Vec<CaRecord>)> {
        let mut c = Conditions::default();
        c.push("domain_id = ?", vec![Arg::Text(domain.to_string())]);
        c.push("listed = ?", vec![Arg::Bool(true)]);
        c.push(CA_NOT_GONE, vec![Arg::Int(now)]);
        if let Some(name) = &filter.name {
            c.push("LOWER(common_name) LIKE ? ESCAPE '\\'", vec![Arg::Text(like_pattern(name))]);
        }
        if let Some(t) = &filter.ca_type {
            c.push("ca_type = ?", vec![Arg::Text(t.clone())]);
        }
        match filter.status.as_deref() {
            Some("ACTIVED") => c.push("status = 'ACTIVED' AND not_after > ?", vec![Arg::Int(now)]),
            Some("EXPIRED") => c.push("status = 'ACTIVED' AND not_after <= ?", vec![Arg::Int(now)]),
            Some(other) => c.push("status = ?", vec![Arg::Text(other.to_owned())]),
            None => {}
        }
        let where_sql = c.where_sql();
        let count_sql = format!("SELECT COUNT(*) AS n FROM cas {where_sql}");
        let total: i64 = bind_all(sqlx::query(&count_sql), &c.args)
            .fetch_one(self.reader())
            .await
            .map_err(map_sqlx)?
            .try_get("n")
            .map_err(map_sqlx)?;
        let column = match filter.sort_key.as_str() {
            "common_name" => "common_name",
            "type" => "ca_type",
            "not_after" => "not_after",
            _ => "create_time",
        };
        let limit_ph = c.next_placeholder();
        c.args.push(Arg::Int(page.limit));
        let offset_ph = c.next_placeholder();
        c.args.push(Arg::Int(page.offset));
        let page_sql = format!(
            "SELECT {CA_COLUMNS} FROM cas {where_sql} ORDER BY {column} {dir}, ca_id {dir} LIMIT {limit_ph} OFFSET {offset_ph}",
            dir = sort_dir(filter.sort_dir)
        );
        let rows = bind_all(sqlx::query(&page_sql), &c.args)
            .fetch_all(self.reader())
            .await
            .map_err(map_sqlx)?;
        Ok((total, rows.iter().map(ca_from_row).collect::<StoreResult<_>>()?))
    }

    async fn count_cas(&self, domain: &DomainId, now: i64) -> StoreResult<i64> {
        sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM cas WHERE domain_id = $1 AND listed = $2 AND {}",
            CA_NOT_GONE.replace('?', "$3")
        ))
        .bind(domain.as_str())
        .bind(true)
        .bind(now)
        .fetch_one(self.reader())
        .await
        .map_err(map_sqlx)?
        .try_get("n")
        .map_err(map_sqlx)
    }

    async fn update_ca(
        &self,
        ca: &CaRecord,
        expected: &[&str],
        serial: Option<&SerialReservation>,
    ) -> StoreResult<UpdateOutcome> {
        let mut tx = self.begin_write().await?;
        if let Some(serial) = serial {
            if !reserve_serial(&mut tx, serial, ca.ca_id.as_str(), ca.create_time).await? {
                return Ok(UpdateOutcome::SerialTaken);
            }
        }
        let assignments: Vec<String> = CA_COLUMNS
            .split(", ")
            .enumerate()
            .map(|(i, column)| format!("{} = ${}", column.trim(), i + 1))
            .collect();
        let sql = format!(
            "UPDATE cas SET {} WHERE ca_id = $1 AND domain_id = $2 AND status IN ({})",
            assignments.join(", "),
            status_list(expected)
        );
        let result = bind_ca(sqlx::query(&sql), ca).execute(&mut *tx).await.map_err(map_sqlx)?;
        if result.rows_affected() != 1 {
            return Ok(UpdateOutcome::StateChanged);
        }
        tx.commit().await.map_err(map_sqlx)?;
        Ok(UpdateOutcome::Updated)
    }

    async fn remove_ca(&self, domain: &DomainId, ca_id: &CaId, expected: &[&str]) -> StoreResult<bool> {
        let sql = format!(
            "DELETE FROM cas WHERE ca_id = $1 AND domain_id = $2 AND status IN ({})",
            status_list(expected)
        );
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(&sql)
            .bind(ca_id.as_str())
            .bind(domain.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(result.rows_affected() == 1)
    }

    async fn insert_certificate_intent(
        &self,
        cert: &CertRecord,
        serials: &[SerialReservation],
        quota: Option<i64>,
    ) -> StoreResult<InsertOutcome> {
        let mut tx = self.begin_write().await?;
        if let Some(quota) = quota {
            lock_domain(&mut tx, &cert.domain_id).await?;
            let used: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM certificates WHERE domain_id = $1 AND deleted_at IS NULL \
                 AND state <> 'FAILED'",
            )
            .bind(cert.domain_id.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_sqlx)?
            .try_get("n")
            .map_err(map_sqlx)?;
            if used >= quota {
                return Ok(InsertOutcome::QuotaExceeded);
            }
        }
        for serial in serials {
            if !reserve_serial(&mut tx, serial, cert.certificate_id.as_str(), cert.create_time).await? {
                return Ok(InsertOutcome::SerialTaken);
            }
        }
        let sql = format!("INSERT INTO certificates ({CERT_COLUMNS}) VALUES ({})", placeholders(1, 32));
        bind_cert(sqlx::query(&sql), cert).execute(&mut *tx).await.map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(InsertOutcome::Inserted)
    }

    async fn complete_certificate(
        &self,
        cert_id: &CertId,
        certificate: &[u8],
        enc_certificate: Option<&[u8]>,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE certificates SET state = 'ISSUED', certificate = $2, enc_certificate = $3 \
             WHERE certificate_id = $1 AND state = 'PENDING'",
        )
        .bind(cert_id.as_str())
        .bind(certificate)
        .bind(enc_certificate)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(result.rows_affected() == 1)
    }

    async fn fail_certificate(&self, cert_id: &CertId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE certificates SET state = 'FAILED' WHERE certificate_id = $1 AND state = 'PENDING'")
            .bind(cert_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(())
    }

    async fn fail_stale_intents(&self, before: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query("UPDATE certificates SET state = 'FAILED' WHERE state = 'PENDING' AND create_time < $1")
            .bind(before)
            .execute(&mut *tx)
            .await
            .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(result.rows_affected())
    }

    async fn certificate(&self, domain: &DomainId, cert_id: &CertId) -> StoreResult<Option<CertRecord>> {
        let sql = format!(
            "SELECT {CERT_COLUMNS} FROM certificates WHERE certificate_id = $1 AND domain_id = $2 \
             AND state = 'ISSUED' AND deleted_at IS NULL"
        );
        sqlx::query(&sql)
            .bind(cert_id.as_str())
            .bind(domain.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(map_sqlx)?
            .as_ref()
            .map(|row| cert_from_row(row, true))
            .transpose()
    }

    async fn list_certificates(
        &self,
        domain: &DomainId,
        filter: &CertFilter,
        page: Page,
        now: i64,
    ) -> StoreResult<(i64, Vec<CertRecord>)> {
        let mut c = Conditions::default();
        c.push("domain_id = ?", vec![Arg::Text(domain.to_string())]);
        c.push("state = 'ISSUED' AND deleted_at IS NULL", vec![]);
        if let Some(issuer) = &filter.issuer_id {
            c.push("issuer_id = ?", vec![Arg::Text(issuer.to_string())]);
        }
        if let Some(name) = &filter.name {
            c.push("LOWER(common_name) LIKE ? ESCAPE '\\'", vec![Arg::Text(like_pattern(name))]);
        }
        match filter.status.as_deref() {
            Some("ISSUED") => c.push("revoked_at IS NULL AND not_after > ?", vec![Arg::Int(now)]),
            Some("EXPIRED") => c.push("revoked_at IS NULL AND not_after <= ?", vec![Arg::Int(now)]),
            Some("REVOKED") => c.push("revoked_at IS NOT NULL", vec![]),
            _ => {}
        }
        let where_sql = c.where_sql();
        let count_sql = format!("SELECT COUNT(*) AS n FROM certificates {where_sql}");
        let total: i64 = bind_all(sqlx::query(&count_sql), &c.args)
            .fetch_one(self.reader())
            .await
            .map_err(map_sqlx)?
            .try_get("n")
            .map_err(map_sqlx)?;
        let column = match filter.sort_key.as_str() {
            "common_name" => "common_name",
            "issuer_name" => "issuer_name",
            "not_after" => "not_after",
            _ => "create_time",
        };
        let limit_ph = c.next_placeholder();
        c.args.push(Arg::Int(page.limit));
        let offset_ph = c.next_placeholder();
        c.args.push(Arg::Int(page.offset));
        let page_sql = format!(
            "SELECT {CERT_LIST_COLUMNS} FROM certificates {where_sql} ORDER BY {column} {dir}, certificate_id {dir} \
             LIMIT {limit_ph} OFFSET {offset_ph}",
            dir = sort_dir(filter.sort_dir)
        );
        let rows = bind_all(sqlx::query(&page_sql), &c.args)
            .fetch_all(self.reader())
            .await
            .map_err(map_sqlx)?;
        Ok((total, rows.iter().map(|r| cert_from_row(r, false)).collect::<StoreResult<_>>()?))
    }

    async fn count_certificates(&self, domain: &DomainId) -> StoreResult<i64> {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM certificates WHERE domain_id = $1 AND deleted_at IS NULL AND state <> 'FAILED'",
        )
        .bind(domain.as_str())
        .fetch_one(self.reader())
        .await
        .map_err(map_sqlx)?
        .try_get("n")
        .map_err(map_sqlx)
    }

    async fn revoke_certificate(
        &self,
        domain: &DomainId,
        cert_id: &CertId,
        reason: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE certificates SET revoked_at = $3, revocation_reason = $4 WHERE certificate_id = $1 \
             AND domain_id = $2 AND state = 'ISSUED' AND deleted_at IS NULL AND revoked_at IS NULL AND not_after > $3",
        )
        .bind(cert_id.as_str())
        .bind(domain.as_str())
        .bind(now)
        .bind(reason)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_certificate(&self, domain: &DomainId, cert_id: &CertId, now: i64) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE certificates SET deleted_at = $3 WHERE certificate_id = $1 AND domain_id = $2 \
             AND state = 'ISSUED' AND deleted_at IS NULL",
        )
        .bind(cert_id.as_str())
        .bind(domain.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_sqlx)?;
        tx.commit().await.map_err(map_sqlx)?;
        Ok(result.rows_affected() == 1)
    }
}
