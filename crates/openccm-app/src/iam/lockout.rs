//! Password guessing: per-user lockout, per-address throttling, and a cap on
//! the argon2 work running at once.
//!
//! - A user who fails [`LockoutSettings::max_failures`] logins in a row
//!   within the window is locked for [`LockoutSettings::lock_ms`]; the count
//!   and the lock live in the store, so they hold on every server
//!   (`IamStore::record_login_failure`); a success clears the count. A
//!   locked user's login is answered like any wrong password, after the same
//!   argon2 work (against a decoy), so the lock does not tell that the user
//!   exists; other users are not affected. Failures of unknown users count
//!   on one shared row, so that a known and an unknown user cost the same
//!   store work.
//! - Logins of one user run one at a time on a server ([`LoginSlots`]; the
//!   others wait their turn), each reading the count after the one before
//!   recorded its failure: a burst of parallel guesses gets no more tries
//!   than sequential ones (with N servers, at most N - 1 more), while
//!   parallel logins with the right password all succeed, one after another.
//! - A source address (IPv6 by /64) with
//!   [`LockoutSettings::max_failures_per_address`] attempts within the window
//!   that did not succeed is refused for the lock period without any
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

/// Addresses tracked at most. Past this, entries whose window has passed
/// are dropped; if that is not enough, new addresses go untracked (blocks in
/// force are never dropped), and the per-user lockout still holds.
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct AddressState {
    attempts: u32,
    window_started_at: i64,
    blocked_until: i64,
}

/// Whom an address counts as, for per-client limits: IPv4 as is (an
/// IPv4-mapped IPv6 address as its IPv4 address), IPv6 by its /64, which
/// one client usually holds whole.
pub fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                IpAddr::V6(std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

/// Outcome of [`AddressThrottle::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressVerdict {
    /// The attempt may go on.
    Allowed,
    /// The attempt may go on, and it is the one that blocks the address.
    AllowedThenBlocked,
    /// The address is blocked: refuse without checking anything.
    Blocked,
}

/// Login attempts per source address (this server's view). An attempt is
/// counted before its password is checked, so a burst of parallel attempts
/// cannot all get through before the count catches up; a success gives its
/// attempt back.
#[derive(Debug, Default)]
pub struct AddressThrottle {
    states: Mutex<HashMap<IpAddr, AddressState>>,
}

impl AddressThrottle {
    /// Counts an attempt from `address` at `now`.
    pub fn begin(&self, address: IpAddr, now: i64, settings: &LockoutSettings) -> AddressVerdict {
        let key = client_key(address);
        let Ok(mut states) = self.states.lock() else {
            return AddressVerdict::Allowed;
        };
        if states.len() >= MAX_ADDRESSES && !states.contains_key(&key) {
            states.retain(|_, s| {
                s.blocked_until > now || s.window_started_at > now - settings.window_ms
            });
            if states.len() >= MAX_ADDRESSES {
                return AddressVerdict::Allowed;
            }
        }
        let state = states.entry(key).or_insert(AddressState {
            attempts: 0,
            window_started_at: now,
            blocked_until: 0,
        });
        if state.blocked_until > now {
            return AddressVerdict::Blocked;
        }
        if state.window_started_at <= now - settings.window_ms {
            state.attempts = 0;
            state.window_started_at = now;
        }
        state.attempts += 1;
        if state.attempts >= settings.max_failures_per_address {
            state.attempts = 0;
            state.blocked_until = now + settings.lock_ms;
            return AddressVerdict::AllowedThenBlocked;
        }
        AddressVerdict::Allowed
    }

    /// Gives back the attempt of a successful login, whose [`Self::begin`]
    /// said `verdict`: the block it set, if it set one, goes.
    pub fn succeeded(&self, address: IpAddr, verdict: AddressVerdict) {
        if let Ok(mut states) = self.states.lock() {
            if let Some(state) = states.get_mut(&client_key(address)) {
                if verdict == AddressVerdict::AllowedThenBlocked {
                    state.blocked_until = 0;
                } else {
                    state.attempts = state.attempts.saturating_sub(1);
                }
            }
        }
    }
}

/// How many locks were imposed since start.
#[derive(Debug, Default)]
pub struct LockoutCounters {
    users_locked: AtomicU64,
    addresses_blocked: AtomicU64,
    passwords_checked: AtomicU64,
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

    /// Passwords checked (argon2 runs) by login since start.
    pub fn passwords_checked(&self) -> u64 {
        self.passwords_checked.load(Ordering::Relaxed)
    }

    pub(crate) fn password_checked(&self) {
        self.passwords_checked.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn user_locked(&self) {
        self.users_locked.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn address_blocked(&self) {
        self.addresses_blocked.fetch_add(1, Ordering::Relaxed);
    }
}

/// Logins of one subject in progress on this server: one at a time.
#[derive(Debug, Default)]
pub struct LoginSlots {
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl LoginSlots {
    /// Waits for `subject`'s turn.
    pub async fn acquire(&self, subject: &str) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let semaphore = {
            let mut slots = self.slots.lock().ok()?;
            if slots.len() >= MAX_ADDRESSES {
                // Forget subjects nobody is logging in as.
                slots.retain(|_, s| Arc::strong_count(s) > 1);
            }
            slots
                .entry(subject.to_owned())
                .or_insert_with(|| Arc::new(Semaphore::new(1)))
                .clone()
        };
        semaphore.acquire_owned().await.ok()
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
    fn an_address_is_blocked_after_its_attempts_and_released_after_the_lock() {
        use AddressVerdict::{Allowed, AllowedThenBlocked, Blocked};
        let settings = LockoutSettings {
            max_failures_per_address: 3,
            ..LockoutSettings::default()
        };
        let throttle = AddressThrottle::default();
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        assert_eq!(throttle.begin(a, 0, &settings), Allowed);
        assert_eq!(throttle.begin(a, 1, &settings), Allowed);
        assert_eq!(throttle.begin(a, 2, &settings), AllowedThenBlocked);
        assert_eq!(throttle.begin(a, 3, &settings), Blocked);
        assert_eq!(
            throttle.begin(b, 3, &settings),
            Allowed,
            "other addresses are not"
        );
        assert_eq!(throttle.begin(a, 2 + settings.lock_ms, &settings), Allowed);
        // A success gives its attempt back.
        let c: IpAddr = "192.0.2.3".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(throttle.begin(c, 0, &settings), Allowed);
            throttle.succeeded(c, Allowed);
        }
        // A success of the attempt that blocked lifts the block.
        let d: IpAddr = "192.0.2.4".parse().unwrap();
        throttle.begin(d, 0, &settings);
        throttle.begin(d, 0, &settings);
        assert_eq!(throttle.begin(d, 0, &settings), AllowedThenBlocked);
        throttle.succeeded(d, AllowedThenBlocked);
        assert_eq!(throttle.begin(d, 1, &settings), Allowed);
        // Attempts outside the window start a new count.
        let later = 10 * settings.window_ms;
        assert_eq!(throttle.begin(b, 4, &settings), Allowed);
        assert_eq!(throttle.begin(b, later, &settings), Allowed);
        assert_eq!(throttle.begin(b, later, &settings), Allowed);
    }

    #[test]
    fn ipv6_counts_by_its_slash_64_and_mapped_ipv4_as_ipv4() {
        let settings = LockoutSettings {
            max_failures_per_address: 2,
            ..LockoutSettings::default()
        };
        let throttle = AddressThrottle::default();
        throttle.begin("2001:db8::1".parse().unwrap(), 0, &settings);
        throttle.begin("2001:db8::ffff:2".parse().unwrap(), 0, &settings);
        assert_eq!(
            throttle.begin("2001:db8::3".parse().unwrap(), 0, &settings),
            AddressVerdict::Blocked
        );
        assert_eq!(
            throttle.begin("2001:db8:0:1::1".parse().unwrap(), 0, &settings),
            AddressVerdict::Allowed,
            "another /64"
        );
        throttle.begin("198.51.100.1".parse().unwrap(), 0, &settings);
        throttle.begin("::ffff:198.51.100.1".parse().unwrap(), 0, &settings);
        assert_eq!(
            throttle.begin("198.51.100.1".parse().unwrap(), 0, &settings),
            AddressVerdict::Blocked
        );
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
