//! Expiry notifications: where an account's notices go, what expires, and
//! the outbox of notices to deliver.

use crate::ids::DomainId;

/// Where an account's expiry notices go.
#[derive(Clone, PartialEq, Eq)]
pub struct NotificationChannels {
    /// The account.
    pub domain_id: DomainId,
    /// E-mail recipients (none: no e-mail).
    pub emails: Vec<String>,
    /// The webhook (HTTP or HTTPS POST), if any.
    pub webhook_url: Option<String>,
    /// The webhook's HMAC secret, sealed under the master key (associated
    /// data `webhook:` + the account id).
    pub sealed_webhook_secret: Option<Vec<u8>>,
    /// Days before expiry a notice goes out, e.g. 30, 7, 1.
    pub days: Vec<i64>,
    /// Epoch ms.
    pub updated_at: i64,
}

impl std::fmt::Debug for NotificationChannels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationChannels")
            .field("domain_id", &self.domain_id)
            .field("emails", &self.emails)
            .field("webhook_url", &self.webhook_url)
            .field("days", &self.days)
            .finish_non_exhaustive()
    }
}

/// Something of an account that expires, as a notice names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringResource {
    /// `private-certificate`, `ca` or `ssl-certificate`.
    pub resource_type: &'static str,
    /// Its id.
    pub id: String,
    /// Its name: the common name (or an SSL certificate's name).
    pub name: String,
    /// Epoch ms.
    pub not_after: i64,
    /// For an SSL certificate, whether its owner turned each notice on
    /// (`CERT_EXPIRING`, `CERT_EXPIRED`): SCM's own settings. Private
    /// certificates and CAs are always noticed.
    pub wants: Option<(bool, bool)>,
}

/// A notice in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Made from what it is about: queued once, delivered once (receivers
    /// see it as the event id, and may deduplicate on it).
    pub event_id: String,
    /// The account.
    pub domain_id: DomainId,
    /// `email` or `webhook`.
    pub channel: String,
    /// `CERT_EXPIRING` or `CERT_EXPIRED`.
    pub notice_type: String,
    /// As [`ExpiringResource::resource_type`].
    pub resource_type: String,
    /// Its id.
    pub resource_id: String,
    /// Its name.
    pub resource_name: String,
    /// Epoch ms.
    pub not_after: i64,
    /// The threshold that made it due (0 for `CERT_EXPIRED`).
    pub days_before: i64,
    /// Epoch ms.
    pub created_at: i64,
    /// Deliveries tried.
    pub attempts: i64,
    /// Epoch ms.
    pub next_attempt_at: i64,
    /// Why the last try failed.
    pub last_error: Option<String>,
}
