//! Password guessing: per-user lockout, per-address throttling, and a cap on
//! the argon2 work running at once.
//!
//! - A user who fails [`LockoutSettings::max_failures`] logins in a row
//!   within the window is locked for [`LockoutSettings::lock_ms`]; the count
//!   and the lock live in the store, so they hold on every server
//!   (`IamStore::record_login_failure`). A locked user's login is answered
//!   like any wrong password; other users are not affected.
//! - A source address that fails [`LockoutSettings::max_failures_per_address`]
//!   logins within the window is refused for the lock period without any
//!   password being checked. This is per server and in memory: it bounds the
//!   argon2 work one address can make a server do, whichever users it tries.
//! - Argon2 runs on at most one thread per core ([`Argon2Slots`]), however
//!   many logins arrive at once: a flood of logins queues instead of taking
//!   every core and 19 MiB of memory per attempt.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use openccm_store::LockoutRule;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};

/// Lockout settings (handed down by the server's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutSettings {
    /// Consecutive failed logins that lock a user (Huawei IAM's default: 5).
    pub max_failures: i64,
    /// Failures count together within this many ms (15 minutes).
    pub window_ms: i64,
    /// How long a lock lasts, in ms (15 minutes).
    pub lock_ms: i64,
    /// Failed logins from one address, within the window, after which the
    /// address is refused for `lock_ms` (higher than `max_failures`: several
    /// users may share an address behind NAT).
    pub max_failures_per_address: u32,
}

impl Default for LockoutSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window_ms: 15 * 60 * 1000,
            lock_ms: 15 * 60 * 1000,
            max_failures_per_address: 20,
        }
    }
}

impl LockoutSettings {
    /// The rule the store applies to a user's failures.
    pub fn rule(&self) -> LockoutRule {
        LockoutRule {
            max_failures: self.max_failures,
            window_ms: self.window_ms,
            lock_ms: self.lock_ms,
        }
    }
}

/// Addresses tracked at most; past this, entries whose window has passed are
/// dropped, and if that is not enough the map starts afresh (an attacker
/// with this many addresses is not slowed by a per-address limit anyway).
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct AddressState {
    failures: u32,
    window_started_at: i64,
    blocked_until: i64,
}

/// Failed logins per source address (this server's view).
#[derive(Debug, Default)]
pub struct AddressThrottle {
    states: Mutex<HashMap<IpAddr, AddressState>>,
}

impl AddressThrottle {
    /// Whether `address` is refused at `now`.
    pub fn is_blocked(&self, address: IpAddr, now: i64) -> bool {
        self.states
            .lock()
            .is_ok_and(|states| states.get(&address).is_some_and(|s| s.blocked_until > now))
    }

    /// Counts a failure; true when it is the one that blocks the address.
    pub fn record_failure(&self, address: IpAddr, now: i64, settings: &LockoutSettings) -> bool {
        let Ok(mut states) = self.states.lock() else {
            return false;
        };
        if states.len() >= MAX_ADDRESSES && !states.contains_key(&address) {
            states.retain(|_, s| {
                s.blocked_until > now || s.window_started_at > now - settings.window_ms
            });
            if states.len() >= MAX_ADDRESSES {
                states.clear();
            }
        }
        let state = states.entry(address).or_insert(AddressState {
            failures: 0,
            window_started_at: now,
            blocked_until: 0,
        });
        if state.blocked_until > now {
            return false;
        }
        if state.window_started_at <= now - settings.window_ms {
            state.failures = 0;
            state.window_started_at = now;
        }
        state.failures += 1;
        if state.failures >= settings.max_failures_per_address {
            state.failures = 0;
            state.blocked_until = now + settings.lock_ms;
            return true;
        }
        false
    }
}

/// How many locks were imposed since start.
#[derive(Debug, Default)]
pub struct LockoutCounters {
    users_locked: AtomicU64,
    addresses_blocked: AtomicU64,
}

impl LockoutCounters {
    /// Users locked out by this server since it started.
    pub fn users_locked(&self) -> u64 {
        self.users_locked.load(Ordering::Relaxed)
    }

    /// Addresses blocked by this server since it started.
    pub fn addresses_blocked(&self) -> u64 {
        self.addresses_blocked.load(Ordering::Relaxed)
    }

    pub(crate) fn user_locked(&self) {
        self.users_locked.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn address_blocked(&self) {
        self.addresses_blocked.fetch_add(1, Ordering::Relaxed);
    }
}

/// One permit per core for argon2 (hashing and verifying passwords).
#[derive(Debug, Clone)]
pub struct Argon2Slots(Arc<Semaphore>);

impl Default for Argon2Slots {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self(Arc::new(Semaphore::new(cores)))
    }
}

impl Argon2Slots {
    /// Runs `work` on a blocking thread once a slot is free.
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R> {
        let permit = self
            .0
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))
    }

    /// Slots free now (for tests).
    pub fn available(&self) -> usize {
        self.0.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_and_released_after_the_lock() {
        let settings = LockoutSettings {
            max_failures_per_address: 3,
            ..LockoutSettings::default()
        };
        let throttle = AddressThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert!(!throttle.record_failure(a, 0, &settings));
        assert!(!throttle.record_failure(a, 1, &settings));
        assert!(throttle.record_failure(a, 2, &settings), "the third blocks");
        assert!(throttle.is_blocked(a, 3));
        assert!(!throttle.is_blocked(b, 3), "other addresses are not");
        assert!(!throttle.is_blocked(a, 2 + settings.lock_ms));
        // Failures outside the window start a new count.
        let later = 10 * settings.window_ms;
        assert!(!throttle.record_failure(b, 0, &settings));
        assert!(!throttle.record_failure(b, 1, &settings));
        assert!(!throttle.record_failure(b, later, &settings));
        assert!(!throttle.is_blocked(b, later));
    }

    #[tokio::test]
    async fn argon2_work_never_takes_more_slots_than_cores() {
        let slots = Argon2Slots::default();
        let cores = std::thread::available_parallelism().unwrap().get();
        assert_eq!(slots.available(), cores);
        let running = Arc::new(AtomicU64::new(0));
        let peak = Arc::new(AtomicU64::new(0));
        let jobs = (0..cores * 4).map(|_| {
            let (slots, running, peak) = (slots.clone(), running.clone(), peak.clone());
            tokio::spawn(async move {
                slots
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
            })
        });
        for job in jobs.collect::<Vec<_>>() {
            job.await.unwrap().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= cores as u64);
        assert_eq!(slots.available(), cores);
    }
}
