//! Expiry notifications delivered: e-mail and webhooks, at the days before
//! expiry each account chose, for private certificates, private CAs and
//! SSL certificates (those whose owner turned SCM's notices on).
//!
//! Two steps, each run by every server (`crates/openccm-server/src/
//! notify_job.rs`):
//! - [`Notifier::scan`] finds what is due and queues one notice per
//!   channel in the store's outbox. A notice's id is made from what it is
//!   about (account, channel, type, resource, threshold, notAfter): it is
//!   queued once however many servers and passes find it.
//! - [`Notifier::deliver`] claims due notices (a lease: one server sends
//!   each), hands them to the [`Courier`] and marks them delivered once the
//!   receiver accepted them. A failure is tried again later, each wait
//!   twice the one before, up to an hour. A notice marked delivered is
//!   never sent again, across restarts; a crash between the receiver's
//!   acceptance and the mark sends it once more, so receivers deduplicate
//!   on the event id (delivery is at least once).
//!
//! How a notice is carried (SMTP, HTTP) is the courier's, outside this
//! layer; what it says, and the webhook's signature, are made here.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use openccm_custody::{Keyring, SealedSecret};
use openccm_store::{DomainId, ExpiringResource, NotificationChannels, OutboxEntry, Store};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::Clock;

const DAY_MS: i64 = 86_400_000;

/// Expired certificates are noticed this long after expiry at most (a
/// server that was down when they expired still tells; a channel set up
/// today does not report every certificate that ever expired).
const EXPIRED_LOOKBACK_MS: i64 = 7 * DAY_MS;

/// Resources looked at per account, kind and pass.
const SCAN_LIMIT: i64 = 10_000;

/// Notices sent per delivery pass at most (one claimed at a time).
const DELIVER_MAX: usize = 500;

/// How long a claimed notice is held by its sender: longer than a send
/// can take (each network step of one has 15 s), so that no other server
/// claims it meanwhile. The lease's end also tells this sender's marks
/// from another's: a little randomness makes it unique.
const LEASE_MS: i64 = 300_000;

/// The longest wait between two tries of a notice.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// The most threshold days an account may set, and the largest.
const MAX_DAYS: usize = 10;
const MAX_DAYS_BEFORE: i64 = 365;

/// The associated data of an account's sealed webhook secret.
pub fn webhook_secret_aad(domain_id: &str) -> Vec<u8> {
    [b"webhook:".as_slice(), domain_id.as_bytes()].concat()
}

/// A notice as a courier carries it.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The outbox entry.
    pub entry: OutboxEntry,
    /// The JSON event (the webhook's body; e-mails say the same in words).
    pub json: String,
}

impl Notice {
    /// An e-mail's subject.
    pub fn subject(&self) -> String {
        let e = &self.entry;
        match e.notice_type.as_str() {
            "CERT_EXPIRED" => format!(
                "[OpenCCM] {} {} has expired",
                kind_words(&e.resource_type),
                e.resource_name
            ),
            _ => format!(
                "[OpenCCM] {} {} expires within {} days",
                kind_words(&e.resource_type),
                e.resource_name,
                e.days_before
            ),
        }
    }

    /// An e-mail's body (plain text).
    pub fn text(&self) -> String {
        let e = &self.entry;
        format!(
            "{}\n\nAccount:    {}\nResource:   {} {}\nName:       {}\nNot after:  {}\nEvent id:   {}\n\n\
             Sent by OpenCCM at the days before expiry this account chose.\n",
            self.subject(),
            e.domain_id,
            e.resource_type,
            e.resource_id,
            e.resource_name,
            rfc3339(e.not_after),
            e.event_id
        )
    }
}

fn kind_words(resource_type: &str) -> &'static str {
    match resource_type {
        "ca" => "Private CA",
        "ssl-certificate" => "SSL certificate",
        _ => "Private certificate",
    }
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Carries notices: e-mail over SMTP, webhooks over HTTP (the server's
/// `courier.rs`).
#[async_trait::async_trait]
pub trait Courier: Send + Sync {
    /// Sends `notice` to `to` by e-mail; `Err` says why it was not accepted.
    async fn email(&self, to: &[String], notice: &Notice) -> std::result::Result<(), String>;
    /// POSTs the notice's JSON to `url` with `signature` (the value of the
    /// `X-OpenCCM-Signature` header); `Err` unless the answer is 2xx.
    async fn webhook(
        &self,
        url: &str,
        notice: &Notice,
        signature: &str,
    ) -> std::result::Result<(), String>;
}

/// The `X-OpenCCM-Signature` header of a webhook call: `t=<unix seconds>,
/// v1=<hex HMAC-SHA256 of "<t>.<body>" under the account's secret>`. The
/// receiver recomputes it with its copy of the secret and refuses old `t`s.
pub fn webhook_signature(secret: &[u8], at_seconds: i64, body: &str) -> String {
    // HMAC takes a key of any length: this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(at_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={at_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// Settings of the notifier.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The first retry's delay; each further one doubles, up to an hour.
    pub retry_base_ms: i64,
}

/// An account's notification settings, as set by `openccm admin`.
#[derive(Debug, Clone, Default)]
pub struct ChannelRequest {
    /// E-mail recipients.
    pub emails: Vec<String>,
    /// The webhook URL (http or https).
    pub webhook_url: Option<String>,
    /// Days before expiry, e.g. 30, 7, 1.
    pub days: Vec<i64>,
}

/// Finds what is due and has it delivered.
pub struct Notifier {
    store: Arc<dyn Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    courier: Arc<dyn Courier>,
    settings: NotifySettings,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}

/// A notice's id: what it is about, hashed (32 hex digits).
fn event_id(
    domain: &DomainId,
    channel: &str,
    notice_type: &str,
    r: &ExpiringResource,
    days: i64,
) -> String {
    let digest = Sha256::digest(
        format!(
            "{domain}|{channel}|{notice_type}|{}|{}|{days}|{}",
            r.resource_type, r.id, r.not_after
        )
        .as_bytes(),
    );
    hex::encode(digest.get(..16).unwrap_or_default())
}

/// Sets an account's channels: checks them, and seals a new webhook secret
/// when the webhook is set (returned, to be shown once). Pure: the caller
/// stores the result.
///
/// # Errors
/// `InvalidArgument` for a bad address, URL or day.
pub fn channels_for(
    keyring: &Keyring,
    domain: &DomainId,
    request: &ChannelRequest,
    now: i64,
) -> Result<(NotificationChannels, Option<Zeroizing<String>>)> {
    for email in &request.emails {
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, host)| {
                !local.is_empty()
                    && host.contains('.')
                    && !host.starts_with('.')
                    && !host.ends_with('.')
            })
            && !email.contains(|c: char| c.is_whitespace() || c == ',' || c == '<' || c == '>');
        if !valid {
            return Err(Error::invalid(format!(
                "{email:?} is not an e-mail address"
            )));
        }
    }
    if let Some(url) = &request.webhook_url {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2048
            && !url.contains(char::is_whitespace);
        if !ok {
            return Err(Error::invalid(format!("{url:?} is not an http(s) URL")));
        }
    }
    let mut days = request.days.clone();
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    if days.is_empty()
        || days.len() > MAX_DAYS
        || days.iter().any(|d| !(1..=MAX_DAYS_BEFORE).contains(d))
    {
        return Err(Error::invalid(format!(
            "days must be 1 to {MAX_DAYS} numbers from 1 to {MAX_DAYS_BEFORE}"
        )));
    }
    let secret = request.webhook_url.as_ref().map(|_| {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        Zeroizing::new(hex::encode(bytes))
    });
    let sealed = secret.as_ref().map(|s| {
        keyring
            .seal(&webhook_secret_aad(domain.as_str()), s.as_bytes())
            .as_bytes()
            .to_vec()
    });
    Ok((
        NotificationChannels {
            domain_id: domain.clone(),
            emails: request.emails.clone(),
            webhook_url: request.webhook_url.clone(),
            sealed_webhook_secret: sealed,
            days,
            updated_at: now,
        },
        secret,
    ))
}

impl Notifier {
    /// A notifier over `store`, sending through `courier`.
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        courier: Arc<dyn Courier>,
        settings: NotifySettings,
    ) -> Self {
        Self {
            store,
            keyring,
            clock,
            courier,
            settings,
        }
    }

    /// Queues every notice due now; returns how many were new.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn scan(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let mut queued = 0;
        for channels in self.store.all_channels().await? {
            let Some(widest) = channels.days.iter().copied().max() else {
                continue;
            };
            let mut entries = Vec::new();
            let mut routes = Vec::new();
            if !channels.emails.is_empty() {
                routes.push("email");
            }
            if channels.webhook_url.is_some() {
                routes.push("webhook");
            }
            // Upcoming and expired apart: many certificates that expired
            // lately must not crowd out the ones about to.
            let mut found = self
                .store
                .expiring_between(&channels.domain_id, now, now + widest * DAY_MS, SCAN_LIMIT)
                .await?;
            found.extend(
                self.store
                    .expiring_between(
                        &channels.domain_id,
                        now - EXPIRED_LOOKBACK_MS,
                        now,
                        SCAN_LIMIT,
                    )
                    .await?,
            );
            for resource in &found {
                let (notice_type, days, wanted) = if resource.not_after <= now {
                    ("CERT_EXPIRED", 0, resource.wants.is_none_or(|w| w.1))
                } else {
                    // The nearest threshold crossed: a certificate issued
                    // 5 days before expiry is noticed once, as within 7.
                    let left = resource.not_after - now;
                    let Some(days) = channels
                        .days
                        .iter()
                        .copied()
                        .filter(|d| left <= d * DAY_MS)
                        .min()
                    else {
                        continue;
                    };
                    ("CERT_EXPIRING", days, resource.wants.is_none_or(|w| w.0))
                };
                if !wanted {
                    continue;
                }
                for &channel in &routes {
                    entries.push(OutboxEntry {
                        event_id: event_id(
                            &channels.domain_id,
                            channel,
                            notice_type,
                            resource,
                            days,
                        ),
                        domain_id: channels.domain_id.clone(),
                        channel: channel.to_owned(),
                        notice_type: notice_type.to_owned(),
                        resource_type: resource.resource_type.to_owned(),
                        resource_id: resource.id.clone(),
                        resource_name: resource.name.clone(),
                        not_after: resource.not_after,
                        days_before: days,
                        created_at: now,
                        attempts: 0,
                        next_attempt_at: now,
                        last_error: None,
                    });
                }
            }
            queued += self.store.enqueue_notices(entries).await?;
        }
        // Delivered notices about what expired before any lookback: never
        // queued again, so no longer needed to tell that they were sent.
        self.store
            .prune_notices(now - EXPIRED_LOOKBACK_MS - DAY_MS)
            .await?;
        Ok(queued)
    }

    /// Sends the notices due now; returns (delivered, failed).
    ///
    /// # Errors
    /// When the store fails.
    pub async fn deliver(&self) -> Result<(u64, u64)> {
        let (mut delivered, mut failed) = (0, 0);
        for _ in 0..DELIVER_MAX {
            let now = self.clock.now_ms();
            let lease = now + LEASE_MS + i64::from(rand::random::<u16>() % 1000);
            let Some(entry) = self
                .store
                .claim_due_notices(now, lease, 1)
                .await?
                .into_iter()
                .next()
            else {
                break;
            };
            let outcome = self.send(&entry).await;
            let at = self.clock.now_ms();
            match outcome {
                Ok(()) => {
                    self.store
                        .notice_delivered(&entry.event_id, lease, at)
                        .await?;
                    delivered += 1;
                }
                Err(Undeliverable::Gone(why)) => {
                    tracing::info!(event_id = %entry.event_id, reason = %why, "a notice was dropped");
                    self.store.drop_notice(&entry.event_id).await?;
                }
                Err(Undeliverable::Failed(why)) => {
                    let shift = u32::try_from(entry.attempts.clamp(0, 20)).unwrap_or(20);
                    let wait = self
                        .settings
                        .retry_base_ms
                        .saturating_mul(1_i64 << shift)
                        .min(MAX_BACKOFF_MS);
                    tracing::warn!(event_id = %entry.event_id, channel = %entry.channel, attempts = entry.attempts + 1, error = %why, "a notice was not delivered; it is tried again later");
                    self.store
                        .notice_failed(&entry.event_id, lease, at + wait, &why)
                        .await?;
                    failed += 1;
                }
            }
        }
        Ok((delivered, failed))
    }

    async fn send(&self, entry: &OutboxEntry) -> std::result::Result<(), Undeliverable> {
        let failed = Undeliverable::Failed;
        let gone = |why: &str| Undeliverable::Gone(why.to_owned());
        let channels = self
            .store
            .channels(&entry.domain_id)
            .await
            .map_err(|e| failed(e.to_string()))?
            .ok_or_else(|| gone("the account has no notification channels any more"))?;
        let notice = Notice {
            json: event_json(entry),
            entry: entry.clone(),
        };
        match entry.channel.as_str() {
            "email" => {
                if channels.emails.is_empty() {
                    return Err(gone("the account has no e-mail recipients any more"));
                }
                self.courier
                    .email(&channels.emails, &notice)
                    .await
                    .map_err(failed)
            }
            "webhook" => {
                let (Some(url), Some(sealed)) =
                    (&channels.webhook_url, &channels.sealed_webhook_secret)
                else {
                    return Err(gone("the account has no webhook any more"));
                };
                let secret = self
                    .keyring
                    .open(
                        &webhook_secret_aad(entry.domain_id.as_str()),
                        &SealedSecret::from_bytes(sealed.clone()),
                    )
                    .map_err(|e| failed(format!("the webhook secret does not open: {e}")))?;
                let signature =
                    webhook_signature(&secret, self.clock.now_ms() / 1000, &notice.json);
                self.courier
                    .webhook(url, &notice, &signature)
                    .await
                    .map_err(failed)
            }
            other => Err(gone(&format!("unknown channel {other}"))),
        }
    }
}

/// Why a notice was not delivered.
enum Undeliverable {
    /// Tried, and to be tried again.
    Failed(String),
    /// Its channel is gone: dropped.
    Gone(String),
}

/// The JSON event a webhook receives.
fn event_json(e: &OutboxEntry) -> String {
    serde_json::json!({
        "event_id": e.event_id,
        "type": e.notice_type,
        "account_id": e.domain_id.as_str(),
        "resource_type": e.resource_type,
        "resource_id": e.resource_id,
        "resource_name": e.resource_name,
        "not_after": rfc3339(e.not_after),
        "days_before": e.days_before,
        "created_at": rfc3339(e.created_at),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_and_body() {
        // RFC 4231 test case 2's key and data, framed as `t.body`.
        let signature = webhook_signature(b"Jefe", 1, "what do ya want for nothing?");
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"1.what do ya want for nothing?");
        assert_eq!(
            signature,
            format!("t=1,v1={}", hex::encode(mac.finalize().into_bytes()))
        );
        assert_ne!(
            webhook_signature(b"Jefe", 2, "what do ya want for nothing?"),
            signature
        );
    }

    #[test]
    fn channels_are_checked_and_the_secret_sealed() {
        let ring = Keyring::from_keys(vec![(1, [3; 32])]);
        let domain = DomainId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let request = ChannelRequest {
            emails: vec!["ops@example.com".to_owned()],
            webhook_url: Some("https://hooks.example.com/ccm".to_owned()),
            days: vec![7, 30, 7],
        };
        let (channels, secret) = channels_for(&ring, &domain, &request, 5).unwrap();
        assert_eq!(channels.days, vec![30, 7]);
        let secret = secret.unwrap();
        let opened = ring
            .open(
                &webhook_secret_aad(domain.as_str()),
                &SealedSecret::from_bytes(channels.sealed_webhook_secret.unwrap()),
            )
            .unwrap();
        assert_eq!(opened.as_slice(), secret.as_bytes());
        for bad in [
            ChannelRequest {
                emails: vec!["not-an-address".to_owned()],
                days: vec![7],
                ..ChannelRequest::default()
            },
            ChannelRequest {
                webhook_url: Some("ftp://x".to_owned()),
                days: vec![7],
                ..ChannelRequest::default()
            },
            ChannelRequest {
                days: vec![0],
                ..ChannelRequest::default()
            },
            ChannelRequest {
                days: vec![],
                ..ChannelRequest::default()
            },
        ] {
            assert!(channels_for(&ring, &domain, &bad, 5).is_err());
        }
    }
}
