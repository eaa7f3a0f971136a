//! Expiry notifications: channels, what expires, and the outbox.

use async_trait::async_trait;

use super::{comma_list, corrupt, Sql};
use crate::db::{args, Backend, Durability, Finish, Row, Value, Weight};
use crate::ids::DomainId;
use crate::records::{ExpiringResource, NotificationChannels, OutboxEntry};
use crate::{NotificationStore, StoreResult};

const CHANNEL_COLUMNS: &str =
    "domain_id, emails, webhook_url, sealed_webhook_secret, days, updated_at";

/// What expires, per resource type: id, name and notAfter of an account's
/// ($1) resources expiring after $2 and by $3, soonest first, $4 at most.
const EXPIRING: [(&str, &str); 3] = [
    // Live, unrevoked private certificates: the partial index
    // certificates_live_not_after_idx (migration 0012).
    (
        "private-certificate",
        "SELECT certificate_id AS id, common_name AS name, not_after FROM certificates \
         WHERE domain_id = $1 AND state = 'ISSUED' AND deleted_at IS NULL \
         AND revoked_at IS NULL AND not_after > $2 AND not_after <= $3 \
         ORDER BY not_after LIMIT $4",
    ),
    (
        "ca",
        "SELECT ca_id AS id, common_name AS name, not_after FROM cas \
         WHERE domain_id = $1 AND status IN ('ACTIVED', 'DISABLED') \
         AND not_after > $2 AND not_after <= $3 ORDER BY not_after LIMIT $4",
    ),
    // SSL certificates, with what their owner turned on.
    (
        "ssl-certificate",
        "SELECT c.certificate_id AS id, c.name AS name, c.not_after AS not_after, \
         COALESCE(e.enabled, FALSE) AS expiring_on, COALESCE(x.enabled, FALSE) AS expired_on \
         FROM scm_certificates c \
         LEFT JOIN scm_notifications e ON e.certificate_id = c.certificate_id \
         AND e.notice_type = 'CERT_EXPIRING' \
         LEFT JOIN scm_notifications x ON x.certificate_id = c.certificate_id \
         AND x.notice_type = 'CERT_EXPIRED' \
         WHERE c.domain_id = $1 AND c.not_after > $2 AND c.not_after <= $3 \
         ORDER BY c.not_after LIMIT $4",
    ),
];

const OUTBOX_COLUMNS: &str = "event_id, domain_id, channel, notice_type, resource_type, \
    resource_id, resource_name, not_after, days_before, created_at, attempts, next_attempt_at, \
    delivered_at, last_error";

fn channels_from_row(row: &Row) -> StoreResult<NotificationChannels> {
    let list = |text: String| -> Vec<String> { comma_list(&text).map(str::to_owned).collect() };
    Ok(NotificationChannels {
        domain_id: DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))?,
        emails: list(row.text("emails")?),
        webhook_url: row.opt_text("webhook_url")?,
        sealed_webhook_secret: row.opt_blob("sealed_webhook_secret")?,
        days: comma_list(&row.text("days")?)
            .map(|d| {
                d.parse::<i64>()
                    .map_err(|_| corrupt("notification_channels.days"))
            })
            .collect::<StoreResult<Vec<i64>>>()?,
        updated_at: row.int("updated_at")?,
    })
}

fn outbox_from_row(row: &Row) -> StoreResult<OutboxEntry> {
    Ok(OutboxEntry {
        event_id: row.text("event_id")?,
        domain_id: DomainId::parse(&row.text("domain_id")?).ok_or_else(|| corrupt("domain_id"))?,
        channel: row.text("channel")?,
        notice_type: row.text("notice_type")?,
        resource_type: row.text("resource_type")?,
        resource_id: row.text("resource_id")?,
        resource_name: row.text("resource_name")?,
        not_after: row.int("not_after")?,
        days_before: row.int("days_before")?,
        created_at: row.int("created_at")?,
        attempts: row.int("attempts")?,
        next_attempt_at: row.int("next_attempt_at")?,
        last_error: row.opt_text("last_error")?,
    })
}

#[async_trait]
impl<B: Backend> NotificationStore for Sql<B> {
    async fn set_channels(&self, channels: &NotificationChannels) -> StoreResult<()> {
        let days = channels
            .days
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let args = args![
            channels.domain_id.as_str(),
            channels.emails.join(","),
            channels.webhook_url.as_deref(),
            channels.sealed_webhook_secret.clone(),
            days,
            channels.updated_at
        ];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    &format!(
                        "INSERT INTO notification_channels ({CHANNEL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                         ON CONFLICT (domain_id) DO UPDATE SET emails = $2, webhook_url = $3, \
                         sealed_webhook_secret = $4, days = $5, updated_at = $6"
                    ),
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn channels(&self, domain: &DomainId) -> StoreResult<Option<NotificationChannels>> {
        self.read_one(
            &format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE domain_id = $1"),
            args![domain.as_str()],
        )
        .await?
        .map(|row| channels_from_row(&row))
        .transpose()
    }

    async fn all_channels(&self) -> StoreResult<Vec<NotificationChannels>> {
        self.read(
            &format!("SELECT {CHANNEL_COLUMNS} FROM notification_channels ORDER BY domain_id"),
            args![],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(channels_from_row)
        .collect()
    }

    async fn expiring_between(
        &self,
        domain: &DomainId,
        after: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExpiringResource>> {
        let mut found = Vec::new();
        for (resource_type, sql) in EXPIRING {
            for row in self
                .read(
                    sql,
                    args![domain.as_str(), after, until, limit],
                    Weight::Scan,
                )
                .await?
            {
                // Only SSL certificates say what their owner turned on.
                let wants = if resource_type == "ssl-certificate" {
                    Some((row.boolean("expiring_on")?, row.boolean("expired_on")?))
                } else {
                    None
                };
                found.push(ExpiringResource {
                    resource_type,
                    id: row.text("id")?,
                    name: row.text("name")?,
                    not_after: row.int("not_after")?,
                    wants,
                });
            }
        }
        Ok(found)
    }

    async fn enqueue_notices(&self, entries: Vec<OutboxEntry>) -> StoreResult<u64> {
        if entries.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "INSERT INTO notification_outbox ({OUTBOX_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (event_id) DO NOTHING"
        );
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let mut queued = 0;
                for e in entries {
                    queued += tx
                        .exec(
                            &sql,
                            &[
                                Value::from(e.event_id),
                                Value::from(e.domain_id.as_str()),
                                Value::from(e.channel),
                                Value::from(e.notice_type),
                                Value::from(e.resource_type),
                                Value::from(e.resource_id),
                                Value::from(e.resource_name),
                                Value::from(e.not_after),
                                Value::from(e.days_before),
                                Value::from(e.created_at),
                                Value::from(e.attempts),
                                Value::from(e.next_attempt_at),
                                Value::Int(None),
                                Value::from(e.last_error),
                            ],
                        )
                        .await?;
                }
                Ok(Finish::Commit(queued))
            })
        })
        .await
    }

    async fn claim_due_notices(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> StoreResult<Vec<OutboxEntry>> {
        let due = self
            .read(
                &format!(
                    "SELECT {OUTBOX_COLUMNS} FROM notification_outbox \
                     WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at LIMIT $2"
                ),
                args![now, limit],
                Weight::Scan,
            )
            .await?
            .iter()
            .map(outbox_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        if due.is_empty() {
            return Ok(due);
        }
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                let mut claimed = Vec::new();
                for entry in due {
                    // Claimed only if nobody moved it since it was read.
                    let moved = tx
                        .exec(
                            "UPDATE notification_outbox SET next_attempt_at = $1 \
                             WHERE event_id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL",
                            &[
                                Value::from(lease_until),
                                Value::from(entry.event_id.as_str()),
                                Value::from(entry.next_attempt_at),
                            ],
                        )
                        .await?;
                    if moved == 1 {
                        claimed.push(entry);
                    }
                }
                Ok(Finish::Commit(claimed))
            })
        })
        .await
    }

    async fn notice_delivered(
        &self,
        event_id: &str,
        lease_until: i64,
        now: i64,
    ) -> StoreResult<()> {
        let args = args![now, event_id, lease_until];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "UPDATE notification_outbox SET delivered_at = $1, attempts = attempts + 1, \
                     last_error = NULL WHERE event_id = $2 AND next_attempt_at = $3 \
                     AND delivered_at IS NULL",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn notice_failed(
        &self,
        event_id: &str,
        lease_until: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> StoreResult<()> {
        let args = args![next_attempt_at, error, event_id, lease_until];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "UPDATE notification_outbox SET next_attempt_at = $1, attempts = attempts + 1, \
                     last_error = $2 WHERE event_id = $3 AND next_attempt_at = $4 \
                     AND delivered_at IS NULL",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn drop_notice(&self, event_id: &str) -> StoreResult<()> {
        let args = args![event_id];
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                tx.exec(
                    "DELETE FROM notification_outbox WHERE event_id = $1 AND delivered_at IS NULL",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn prune_notices(&self, before: i64) -> StoreResult<u64> {
        let args = args![before];
        self.write(Durability::Deferred, move |tx| {
            Box::pin(async move {
                let pruned = tx
                    .exec(
                        "DELETE FROM notification_outbox WHERE delivered_at IS NOT NULL AND not_after < $1",
                        &args,
                    )
                    .await?;
                Ok(Finish::Commit(pruned))
            })
        })
        .await
    }

    async fn notices(
        &self,
        domain: &DomainId,
        limit: i64,
    ) -> StoreResult<Vec<(OutboxEntry, Option<i64>)>> {
        self.read(
            &format!(
                "SELECT {OUTBOX_COLUMNS} FROM notification_outbox WHERE domain_id = $1 \
                 ORDER BY created_at DESC, event_id LIMIT $2"
            ),
            args![domain.as_str(), limit],
            Weight::Scan,
        )
        .await?
        .iter()
        .map(|row| Ok((outbox_from_row(row)?, row.opt_int("delivered_at")?)))
        .collect()
    }
}
