//! Console sessions ended by sign-out (`migrations/*/0022_console_signouts.sql`).

use async_trait::async_trait;

use super::Sql;
use crate::db::{args, Backend, Durability, Finish};
use crate::{ConsoleSessionStore, StoreResult};

/// How often ended sessions past their expiry are swept, at most (ms).
const SWEEP_EVERY_MS: i64 = 60 * 60_000;
/// How long past its expiry an ended session is kept (ms): a server whose
/// clock runs behind the sweeper's still refuses it.
const SWEEP_MARGIN_MS: i64 = 60 * 60_000;

#[async_trait]
impl<B: Backend> ConsoleSessionStore for Sql<B> {
    async fn end_console_session(
        &self,
        digest: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        let args = args![digest, expires_at];
        let sweep = {
            static LAST: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
            super::sweep_due(&LAST, now, SWEEP_EVERY_MS)
        };
        self.write(Durability::Durable, move |tx| {
            Box::pin(async move {
                if sweep {
                    tx.exec(
                        "DELETE FROM console_signouts WHERE expires_at < $1",
                        &[(now - SWEEP_MARGIN_MS).into()],
                    )
                    .await?;
                }
                tx.exec(
                    "INSERT INTO console_signouts (digest, expires_at) VALUES ($1, $2) \
                     ON CONFLICT (digest) DO NOTHING",
                    &args,
                )
                .await?;
                Ok(Finish::Commit(()))
            })
        })
        .await
    }

    async fn console_session_ended(&self, digest: &str) -> StoreResult<bool> {
        Ok(self
            .read_one(
                "SELECT 1 AS ended FROM console_signouts WHERE digest = $1",
                args![digest],
            )
            .await?
            .is_some())
    }
}
