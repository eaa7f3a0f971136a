//! The audit trail (what Huawei's CTS and AWS CloudTrail record): every
//! state-changing call and every denied one, append-only, hash-chained.
//!
//! Each event's mac is HMAC-SHA256, under a key derived from the master key
//! (purpose [`KEY_PURPOSE`], the version recorded with the event), over the
//! previous event's mac, the event's seq and its fields. Editing, inserting
//! or deleting an event, or reordering events, breaks the chain; without the
//! master key nobody can forge a replacement. Deleting events from the end
//! and rewinding the head to match is detectable only against a head seen
//! earlier: [`verify`] reports the head, to be compared with the previous
//! report or export.
//!
//! Events are recorded before the response leaves ([`AuditTrail::record`]),
//! batched by one appender task so that concurrent calls share a commit.
//! Secrets never enter an event: it holds ids, the route, the status and
//! the error code.

use std::sync::Arc;

use hmac::{Hmac, Mac};
use openccm_custody::Keyring;
use openccm_store::{AuditChainer, AuditEvent, ChainedAuditEvent, Store};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};

use crate::error::{Error, Result};

/// The purpose the chain key is derived for.
pub const KEY_PURPOSE: &str = "audit chain v1";
/// The mac before the first event.
pub const GENESIS: [u8; 32] = [0; 32];
/// Events appended in one transaction at most.
const BATCH: usize = 256;

/// The mac linking `event` (number `seq`) to the event before it.
pub fn link(key: &[u8; 32], prev: &[u8], seq: i64, key_version: u32, e: &AuditEvent) -> Vec<u8> {
    // Every field is length-prefixed, so no two events encode alike.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(prev);
    mac.update(&seq.to_be_bytes());
    mac.update(&key_version.to_be_bytes());
    mac.update(&e.at.to_be_bytes());
    for (_, field) in text_fields(e) {
        mac.update(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
        mac.update(field.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// The event's text fields by name, in their one order: the mac covers
/// them in this order and an export writes them under these names, so a
/// field cannot be added to one and forgotten in the other.
fn text_fields(e: &AuditEvent) -> [(&'static str, &String); 7] {
    [
        ("domain_id", &e.domain_id),
        ("user_id", &e.user_id),
        ("source", &e.source),
        ("action", &e.action),
        ("resource_id", &e.resource_id),
        ("result", &e.result),
        ("request_id", &e.request_id),
    ]
}

/// The chainer the store calls while appending: the current key version.
pub fn chainer(keyring: Arc<Keyring>) -> AuditChainer {
    Arc::new(move |prev: &[u8], seq: i64, event: &AuditEvent| {
        let version = keyring.current_version();
        let key = keyring
            .derive(version, KEY_PURPOSE)
            .map_or([0u8; 32], |k| *k);
        (version, link(&key, prev, seq, version, event))
    })
}

enum Pending {
    /// An event to append; answered once it is durable.
    Event(AuditEvent, oneshot::Sender<Result<()>>),
    /// Answered once every event sent before it is appended.
    Flush(oneshot::Sender<()>),
}

/// Records events through one appender task.
#[derive(Debug, Clone)]
pub struct AuditTrail {
    sender: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// Starts the appender (on the current Tokio runtime).
    pub fn start(store: Arc<dyn Store>, keyring: Arc<Keyring>) -> Self {
        let (sender, receiver) = mpsc::channel(4 * BATCH);
        tokio::spawn(append_loop(store, chainer(keyring), receiver));
        Self { sender }
    }

    /// Appends `event`; returns once it is durable in the chain.
    ///
    /// # Errors
    /// `Internal` when the store fails or the appender is gone.
    pub async fn record(&self, event: AuditEvent) -> Result<()> {
        let (done, result) = oneshot::channel();
        self.sender
            .send(Pending::Event(event, done))
            .await
            .map_err(|_| Error::Internal("the audit appender stopped".to_owned()))?;
        result
            .await
            .map_err(|_| Error::Internal("the audit appender stopped".to_owned()))?
    }

    /// Returns once every event recorded before the call is appended (the
    /// server calls it before closing the store).
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.sender.send(Pending::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

async fn append_loop(
    store: Arc<dyn Store>,
    chain: AuditChainer,
    mut receiver: mpsc::Receiver<Pending>,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (mut events, mut waiting, mut flushes) = (Vec::new(), Vec::new(), Vec::new());
        for pending in batch {
            match pending {
                Pending::Event(event, done) => {
                    events.push(event);
                    waiting.push(done);
                }
                Pending::Flush(done) => flushes.push(done),
            }
        }
        if !events.is_empty() {
            // Shared, not copied: a failed batch is retried event by event.
            let events: Arc<[AuditEvent]> = events.into();
            let outcome = store.append_audit(events.clone(), chain.clone()).await;
            match outcome {
                Ok(_) => {
                    for done in waiting {
                        let _ = done.send(Ok(()));
                    }
                }
                // One bad event must not cost the others their place in
                // the chain: each is tried alone.
                Err(err) => {
                    tracing::warn!(error = %err, events = events.len(), "an audit batch failed; appending its events one by one");
                    for (event, done) in events.iter().zip(waiting) {
                        let alone = store
                            .append_audit(Arc::from([event.clone()]), chain.clone())
                            .await;
                        if let Err(err) = &alone {
                            tracing::error!(error = %err, "cannot append to the audit trail");
                        }
                        let _ = done.send(alone.map(|_| ()).map_err(Error::from));
                    }
                }
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// Walks a chain event by event.
#[derive(Debug)]
pub struct ChainCheck<'k> {
    keyring: &'k Keyring,
    prev: Vec<u8>,
    next_seq: i64,
    /// Events checked so far.
    pub checked: u64,
}

impl<'k> ChainCheck<'k> {
    /// A walk from the start of the chain.
    pub fn from_start(keyring: &'k Keyring) -> Self {
        Self::from(keyring, 1, GENESIS.to_vec())
    }

    /// A walk that starts at `seq`, whose previous mac is `prev` (an export
    /// that does not begin at the start).
    pub fn from(keyring: &'k Keyring, seq: i64, prev: Vec<u8>) -> Self {
        Self {
            keyring,
            prev,
            next_seq: seq,
            checked: 0,
        }
    }

    /// Checks the next event.
    ///
    /// # Errors
    /// What is wrong with it, as a sentence.
    pub fn check(&mut self, e: &ChainedAuditEvent) -> std::result::Result<(), String> {
        if e.seq != self.next_seq {
            return Err(format!(
                "event {} follows event {}: events are missing or reordered",
                e.seq,
                self.next_seq - 1
            ));
        }
        let key = self
            .keyring
            .derive(e.key_version, KEY_PURPOSE)
            .ok_or_else(|| {
                format!(
                    "event {}: master key version {} is not in the key file",
                    e.seq, e.key_version
                )
            })?;
        let expected = link(&key, &self.prev, e.seq, e.key_version, &e.event);
        if !constant_time_eq(&expected, &e.mac) {
            return Err(format!(
                "event {}: its mac does not match: the event or the one before it was altered",
                e.seq
            ));
        }
        self.prev.clone_from(&e.mac);
        self.next_seq += 1;
        self.checked += 1;
        Ok(())
    }

    /// The last event's seq and mac (the start's when none was checked).
    pub fn head(&self) -> (i64, &[u8]) {
        (self.next_seq - 1, &self.prev)
    }

    /// The last event's mac, in hex.
    pub fn head_hex(&self) -> String {
        hex::encode(&self.prev)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Events checked.
    pub events: u64,
    /// The head: last seq and mac (hex).
    pub head_seq: i64,
    /// Hex.
    pub head_mac: String,
}

/// Verifies the whole chain in the store, and that the head matches its
/// last event.
///
/// # Errors
/// `Err(Ok(reason))` for a broken chain; `Err(Err(e))` when the store fails.
pub async fn verify(
    store: &dyn Store,
    keyring: &Keyring,
) -> std::result::Result<Verified, std::result::Result<String, Error>> {
    // The head first: events other servers append meanwhile come after it.
    let head = store.audit_head().await.map_err(|e| Err(Error::from(e)))?;
    let mut walk = ChainCheck::from_start(keyring);
    let mut broken = None;
    for_each_event(store, 0, Some(head.seq), |event| {
        if broken.is_none() {
            broken = walk.check(event).err();
        }
    })
    .await
    .map_err(Err)?;
    if let Some(reason) = broken {
        return Err(Ok(reason));
    }
    let (seq, mac) = walk.head();
    if head.seq != seq || !constant_time_eq(&head.mac, mac) {
        return Err(Ok(format!(
            "the chain ends at event {seq} but its head names event {}: events were deleted or the head was altered",
            head.seq
        )));
    }
    Ok(Verified {
        events: walk.checked,
        head_seq: seq,
        head_mac: hex::encode(mac),
    })
}

/// Calls `f` with every event after `after_seq` (up to `until_seq`), in seq
/// order, a page at a time.
///
/// # Errors
/// The store's.
pub async fn for_each_event(
    store: &dyn Store,
    after_seq: i64,
    until_seq: Option<i64>,
    mut f: impl FnMut(&ChainedAuditEvent),
) -> Result<()> {
    let mut after = after_seq;
    loop {
        let page = store.audit_events(after, 1000).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.seq;
        for event in &page {
            if until_seq.is_some_and(|until| event.seq > until) {
                return Ok(());
            }
            f(event);
        }
    }
}

/// One exported event: a JSON object on one line, with its previous mac so
/// that an export starting mid-chain can be checked on its own.
pub fn to_json_line(e: &ChainedAuditEvent, prev: &[u8]) -> String {
    let mut line = serde_json::Map::new();
    line.insert("seq".into(), e.seq.into());
    line.insert("at".into(), e.event.at.into());
    line.insert(
        "time".into(),
        crate::clock::iso8601_micros(e.event.at).into(),
    );
    for (name, value) in text_fields(&e.event) {
        line.insert(name.into(), value.as_str().into());
    }
    line.insert("key_version".into(), e.key_version.into());
    line.insert("prev".into(), hex::encode(prev).into());
    line.insert("mac".into(), hex::encode(&e.mac).into());
    serde_json::Value::Object(line).to_string()
}

/// The keys of an exported line.
const LINE_KEYS: [&str; 13] = [
    "seq",
    "at",
    "time",
    "domain_id",
    "user_id",
    "source",
    "action",
    "resource_id",
    "result",
    "request_id",
    "key_version",
    "prev",
    "mac",
];

/// Reads a line of [`to_json_line`]: the event and the previous mac.
///
/// # Errors
/// What is malformed.
pub fn from_json_line(line: &str) -> std::result::Result<(ChainedAuditEvent, Vec<u8>), String> {
    let v: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let object = v.as_object().ok_or("not a JSON object")?;
    if let Some(unknown) = object.keys().find(|k| !LINE_KEYS.contains(&k.as_str())) {
        return Err(format!("unknown field {unknown:?}"));
    }
    let text = |k: &str| -> std::result::Result<String, String> {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{k} is missing"))
    };
    let int = |k: &str| -> std::result::Result<i64, String> {
        v.get(k)
            .and_then(serde_json::Value::as_i64)
            .ok_or_else(|| format!("{k} is missing"))
    };
    let bytes = |k: &str| -> std::result::Result<Vec<u8>, String> {
        hex::decode(text(k)?).map_err(|_| format!("{k} is not hex"))
    };
    let event = ChainedAuditEvent {
        seq: int("seq")?,
        event: AuditEvent {
            at: int("at")?,
            domain_id: text("domain_id")?,
            user_id: text("user_id")?,
            source: text("source")?,
            action: text("action")?,
            resource_id: text("resource_id")?,
            result: text("result")?,
            request_id: text("request_id")?,
        },
        key_version: u32::try_from(int("key_version")?).map_err(|_| "bad key_version")?,
        mac: bytes("mac")?,
    };
    // The readable time is not covered by the mac: it must say what `at` says.
    if text("time")? != crate::clock::iso8601_micros(event.event.at) {
        return Err("time does not match at".to_owned());
    }
    Ok((event, bytes("prev")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: i64) -> AuditEvent {
        AuditEvent {
            at: 1000 + n,
            domain_id: "d".into(),
            user_id: "u".into(),
            source: "192.0.2.1".into(),
            action: "POST /v1/x".into(),
            resource_id: format!("r{n}"),
            result: "200".into(),
            request_id: format!("q{n}"),
        }
    }

    fn chain(ring: &Arc<Keyring>, n: i64) -> Vec<ChainedAuditEvent> {
        let link_of = chainer(ring.clone());
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let (key_version, mac) = link_of(&prev, seq, &event(seq));
                prev.clone_from(&mac);
                ChainedAuditEvent {
                    seq,
                    event: event(seq),
                    key_version,
                    mac,
                }
            })
            .collect()
    }

    fn check_all(ring: &Keyring, events: &[ChainedAuditEvent]) -> std::result::Result<(), String> {
        let mut walk = ChainCheck::from_start(ring);
        events.iter().try_for_each(|e| walk.check(e))
    }

    #[test]
    fn any_edit_deletion_or_reordering_breaks_the_chain() {
        let ring = Arc::new(Keyring::from_keys(vec![(1, [5; 32])]));
        let events = chain(&ring, 5);
        assert!(check_all(&ring, &events).is_ok());
        let mut edited = events.clone();
        edited[2].event.result = "403".into();
        assert!(check_all(&ring, &edited).unwrap_err().contains("event 3"));
        let mut deleted = events.clone();
        deleted.remove(1);
        assert!(check_all(&ring, &deleted).is_err());
        let mut swapped = events.clone();
        swapped.swap(1, 2);
        assert!(check_all(&ring, &swapped).is_err());
        // Fields do not run into each other.
        let mut shifted = events.clone();
        shifted[0].event.domain_id = "du".into();
        shifted[0].event.user_id = String::new();
        assert!(check_all(&ring, &shifted).is_err());
        // Another master key cannot verify (nor forge) it.
        let other = Keyring::from_keys(vec![(1, [6; 32])]);
        assert!(check_all(&other, &events).is_err());
    }

    #[test]
    fn exported_lines_read_back_and_check_mid_chain() {
        let ring = Arc::new(Keyring::from_keys(vec![(1, [5; 32])]));
        let events = chain(&ring, 4);
        let line = to_json_line(&events[2], &events[1].mac);
        let (read, prev) = from_json_line(&line).unwrap();
        assert_eq!(read, events[2]);
        let mut walk = ChainCheck::from(&ring, 3, prev);
        walk.check(&read).unwrap();
        walk.check(&events[3]).unwrap();
        assert_eq!(walk.head().0, 4);
    }
}
