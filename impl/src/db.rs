//! The data set: string keys with optional expiry, indexed by hash slot so
//! that `CLUSTER COUNTKEYSINSLOT` / `GETKEYSINSLOT` and slot ownership checks
//! are cheap. Handed time like the core: nothing here reads a clock.

use std::collections::{BTreeSet, HashMap};

use crate::codec::CLUSTER_SLOTS;
use crate::slots::key_hash_slot;

/// One stored value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub value: Vec<u8>,
    /// Unix time in milliseconds after which the key is gone.
    pub expires_at_ms: Option<u64>,
}

impl Entry {
    fn live_at(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|t| now_ms < t)
    }
}

/// All keys of db 0 (cluster mode has only one database).
#[derive(Clone, Debug)]
pub struct Db {
    entries: HashMap<Vec<u8>, Entry>,
    /// Keys of each slot, ordered, for GETKEYSINSLOT.
    by_slot: Vec<BTreeSet<Vec<u8>>>,
    /// Keys with an expiry (for INFO keyspace's `expires=`).
    volatile: usize,
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    /// An empty data set.
    pub fn new() -> Db {
        Db {
            entries: HashMap::new(),
            by_slot: vec![BTreeSet::new(); CLUSTER_SLOTS],
            volatile: 0,
        }
    }

    /// The value of `key` at `now_ms`, removing it first if it has expired.
    pub fn get(&mut self, key: &[u8], now_ms: u64) -> Option<&Entry> {
        self.expire_if_due(key, now_ms);
        self.entries.get(key)
    }

    /// Whether `key` exists at `now_ms`.
    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.get(key, now_ms).is_some()
    }

    /// Whether `key` exists at `now_ms`, without removing it if it has
    /// expired (the `LOOKUP_NOEXPIRE` lookup routing makes).
    pub fn is_live(&self, key: &[u8], now_ms: u64) -> bool {
        self.entries.get(key).is_some_and(|e| e.live_at(now_ms))
    }

    /// Stores `key`, replacing any old value and expiry.
    pub fn set(&mut self, key: Vec<u8>, entry: Entry) {
        if entry.expires_at_ms.is_some() {
            self.volatile += 1;
        }
        // An overwrite keeps its place in the slot index: no second copy
        // of the key.
        if let Some(old) = self.entries.get_mut(&key) {
            if old.expires_at_ms.is_some() {
                self.volatile -= 1;
            }
            *old = entry;
            return;
        }
        let slot = key_hash_slot(&key) as usize;
        self.by_slot[slot].insert(key.clone());
        self.entries.insert(key, entry);
    }

    /// Removes `key`; true when it existed (and had not expired).
    pub fn remove(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.expire_if_due(key, now_ms);
        self.remove_entry(key).is_some()
    }

    fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        let old = self.entries.remove(key)?;
        self.by_slot[key_hash_slot(key) as usize].remove(key);
        if old.expires_at_ms.is_some() {
            self.volatile -= 1;
        }
        Some(old)
    }

    fn expire_if_due(&mut self, key: &[u8], now_ms: u64) {
        if self.entries.get(key).is_some_and(|e| !e.live_at(now_ms)) {
            self.remove_entry(key);
        }
    }

    /// Number of keys (expired ones not yet removed included, as DBSIZE).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No keys at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of keys with an expiry.
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// Keys in `slot`.
    pub fn count_in_slot(&self, slot: u16) -> usize {
        self.by_slot.get(slot as usize).map_or(0, |s| s.len())
    }

    /// Up to `count` keys of `slot`, in byte order.
    pub fn keys_in_slot(&self, slot: u16, count: usize) -> Vec<Vec<u8>> {
        self.by_slot
            .get(slot as usize)
            .map(|s| s.iter().take(count).cloned().collect())
            .unwrap_or_default()
    }

    /// Every live entry, in no particular order (for a full resync).
    pub fn iter_live(&self, now_ms: u64) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.entries.iter().filter(move |(_, e)| e.live_at(now_ms))
    }

    /// Drops every key.
    pub fn clear(&mut self) {
        self.entries.clear();
        for s in &mut self.by_slot {
            s.clear();
        }
        self.volatile = 0;
    }

    /// Removes expired keys, at most `budget` of those looked at; returns how
    /// many were removed (the active expiry cycle, run from the cron).
    pub fn expire_some(&mut self, now_ms: u64, budget: usize) -> usize {
        let due: Vec<Vec<u8>> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.live_at(now_ms))
            .take(budget)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &due {
            self.remove_entry(k);
        }
        due.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(v: &str, exp: Option<u64>) -> Entry {
        Entry {
            value: v.as_bytes().to_vec(),
            expires_at_ms: exp,
        }
    }

    #[test]
    fn keys_are_indexed_by_slot_and_expire_lazily() {
        let mut db = Db::new();
        db.set(b"{user1}.a".to_vec(), entry("1", None));
        db.set(b"{user1}.b".to_vec(), entry("2", Some(1_000)));
        let slot = key_hash_slot(b"user1");
        assert_eq!(db.count_in_slot(slot), 2);
        assert_eq!(db.volatile_len(), 1);
        assert_eq!(db.keys_in_slot(slot, 1), vec![b"{user1}.a".to_vec()]);
        assert!(db.contains(b"{user1}.b", 999));
        assert!(!db.contains(b"{user1}.b", 1_000));
        assert_eq!(db.count_in_slot(slot), 1);
        assert_eq!(db.volatile_len(), 0);
        assert_eq!(db.len(), 1);
    }

    #[test]
    fn overwrite_clears_the_old_expiry_and_expire_some_removes_due_keys() {
        let mut db = Db::new();
        db.set(b"k".to_vec(), entry("1", Some(10)));
        db.set(b"k".to_vec(), entry("2", None));
        assert_eq!(db.volatile_len(), 0);
        db.set(b"j".to_vec(), entry("1", Some(10)));
        assert_eq!(db.expire_some(20, 10), 1);
        assert_eq!(db.len(), 1);
        assert!(db.remove(b"k", 20));
        assert!(!db.remove(b"k", 20));
        assert!(db.is_empty());
    }
}
