//! The notification job: every period, queue the notices due and deliver
//! what is due (`openccm_app::notify`).

use std::sync::Arc;
use std::time::Duration;

use openccm_app::notify::Notifier;

/// Runs forever.
pub async fn run(notifier: Arc<Notifier>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match notifier.scan().await {
            Ok(0) => {}
            Ok(queued) => tracing::info!(queued, "expiry notices queued"),
            Err(err) => tracing::error!(error = %err, "cannot look for expiry notices due"),
        }
        match notifier.deliver().await {
            Ok((0, 0)) => {}
            Ok((delivered, failed)) => tracing::info!(delivered, failed, "expiry notices sent"),
            Err(err) => tracing::error!(error = %err, "cannot deliver expiry notices"),
        }
    }
}
