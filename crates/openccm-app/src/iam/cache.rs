//! A short-lived cache of what authentication reads on every request (the
//! user and account behind a token, the access key and its opened secret), so
//! that a busy server does not read them from the database each time.
//!
//! Entries live [`TTL`]: a user disabled, or a key removed, by another server
//! stops working within that time; changes made through this server drop the
//! entry at once ([`AuthCache::forget_user`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openccm_store::{AccessKey, Account, User, UserId};
use zeroize::Zeroizing;

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(1);
/// Entries kept at most (the map is cleared when it grows past this).
const CAPACITY: usize = 10_000;

struct Timed<V> {
    at: Instant,
    value: V,
}

struct Map<K, V>(Mutex<HashMap<K, Timed<V>>>);

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn new() -> Self {
        Self(Mutex::new(HashMap::new()))
    }

    fn get(&self, key: &K) -> Option<V> {
        let map = self.0.lock().ok()?;
        map.get(key)
            .filter(|t| t.at.elapsed() < TTL)
            .map(|t| t.value.clone())
    }

    fn put(&self, key: K, value: V) {
        if let Ok(mut map) = self.0.lock() {
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(
                key,
                Timed {
                    at: Instant::now(),
                    value,
                },
            );
        }
    }

    fn remove_where(&self, mut f: impl FnMut(&V) -> bool) {
        if let Ok(mut map) = self.0.lock() {
            map.retain(|_, t| !f(&t.value));
        }
    }
}

/// An access key with its opened secret key.
#[derive(Clone)]
pub struct OpenedKey {
    /// The record.
    pub key: AccessKey,
    /// The SK (zeroized when the last copy drops).
    pub secret: std::sync::Arc<Zeroizing<Vec<u8>>>,
}

/// The cache.
pub struct AuthCache {
    users: Map<UserId, (User, Account)>,
    keys: Map<String, OpenedKey>,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").finish_non_exhaustive()
    }
}

impl Default for AuthCache {
    fn default() -> Self {
        Self {
            users: Map::new(),
            keys: Map::new(),
        }
    }
}

impl AuthCache {
    /// A fresh user and account.
    pub fn user(&self, id: &UserId) -> Option<(User, Account)> {
        self.users.get(id)
    }

    /// Remembers a user and account.
    pub fn put_user(&self, user: User, account: Account) {
        self.users.put(user.user_id.clone(), (user, account));
    }

    /// A fresh access key.
    pub fn key(&self, ak: &str) -> Option<OpenedKey> {
        self.keys.get(&ak.to_owned())
    }

    /// Remembers an access key.
    pub fn put_key(&self, ak: &str, key: OpenedKey) {
        self.keys.put(ak.to_owned(), key);
    }

    /// Drops everything about a user (after a change of password, keys or state).
    pub fn forget_user(&self, id: &UserId) {
        self.users.remove_where(|(u, _)| &u.user_id == id);
        self.keys.remove_where(|k| &k.key.user_id == id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let map: Map<u8, u8> = Map::new();
        map.put(1, 2);
        assert_eq!(map.get(&1), Some(2));
        map.remove_where(|v| *v == 2);
        assert_eq!(map.get(&1), None);
        let stale: Map<u8, u8> = Map::new();
        if let Ok(mut m) = stale.0.lock() {
            m.insert(
                1,
                Timed {
                    at: Instant::now().checked_sub(TTL * 2).unwrap(),
                    value: 9,
                },
            );
        }
        assert_eq!(stale.get(&1), None);
    }
}
