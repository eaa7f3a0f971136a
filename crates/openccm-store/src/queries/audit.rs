//! The audit trail: appends under the head row's lock, reads in seq order.

use async_trait::async_trait;

use super::{corrupt, Sql};
use crate::db::{args, params, Backend, Durability, Finish, Row, Weight};
use crate::records::{AuditChainer, AuditEvent, AuditHead, ChainedAuditEvent};
use crate::{AuditStore, StoreResult};

const COLUMNS: &str = "seq, at, domain_id, user_id, source, action, resource_id, result, \
                       request_id, key_version, mac";

fn event_from_row(row: &Row) -> StoreResult<ChainedAuditEvent> {
    Ok(ChainedAuditEvent {
        seq: row.int("seq")?,
        event: AuditEvent {
            at: row.int("at")?,
            domain_id: row.text("domain_id")?,
            user_id: row.text("user_id")?,
            source: row.text("source")?,
            action: row.text("action")?,
            resource_id: row.text("resource_id")?,
            result: row.text("result")?,
            request_id: row.text("request_id")?,
        },
        key_version: u32::try_from(row.int("key_version")?)
            .map_err(|_| corrupt("audit_events.key_version"))?,
        mac: row.blob("mac")?,
    })
}

#[async_trait]
impl<B: Backend> AuditStore for Sql<B> {
    async fn append_audit(
        &self,
        events: std::sync::Arc<[AuditEvent]>,
        chain: AuditChainer,
    ) -> StoreResult<Vec<i64>> {
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                // The UPDATE takes the head row's lock (PostgreSQL) inside the
                // write transaction (SQLite has one writer): a second server's
                // append waits, then reads the head this one leaves.
                let rows = tx
                    .query(
                        "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, mac",
                        &params![],
                    )
                    .await?;
                let head = rows.first().ok_or_else(|| corrupt("audit_head"))?;
                let (mut seq, mut mac) = (head.int("seq")?, head.blob("mac")?);
                let mut seqs = Vec::with_capacity(events.len());
                for event in events.iter() {
                    seq += 1;
                    let (key_version, next) = chain(&mac, seq, event);
                    tx.exec(
                        &format!(
                            "INSERT INTO audit_events ({COLUMNS}) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                        ),
                        &params![
                            seq,
                            event.at,
                            event.domain_id.as_str(),
                            event.user_id.as_str(),
                            event.source.as_str(),
                            event.action.as_str(),
                            event.resource_id.as_str(),
                            event.result.as_str(),
                            event.request_id.as_str(),
                            i64::from(key_version),
                            next.as_slice()
                        ],
                    )
                    .await?;
                    mac = next;
                    seqs.push(seq);
                }
                tx.exec(
                    "UPDATE audit_head SET seq = $1, mac = $2 WHERE id = 1",
                    &params![seq, mac.as_slice()],
                )
                .await?;
                Ok(Finish::Commit(seqs))
            })
        })
        .await
    }

    async fn audit_events(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<ChainedAuditEvent>> {
        self.read(
            &format!("SELECT {COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"),
            args![after_seq, limit],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(event_from_row)
        .collect()
    }

    async fn audit_seq_before(&self, at: i64) -> StoreResult<i64> {
        let row = self
            .read_one(
                "SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_events WHERE at < $1",
                args![at],
            )
            .await?;
        row.map_or(Ok(0), |row| row.int("seq"))
    }

    async fn audit_head(&self) -> StoreResult<AuditHead> {
        let row = self
            .read_one("SELECT seq, mac FROM audit_head WHERE id = 1", args![])
            .await?
            .ok_or_else(|| corrupt("audit_head"))?;
        Ok(AuditHead {
            seq: row.int("seq")?,
            mac: row.blob("mac")?,
        })
    }
}
