//! WATCH and UNWATCH: optimistic locking for MULTI/EXEC. Mirrors `multi.c`
//! of Redis 7.0: a client watches keys; any change to one of them (a write
//! by any client, a delete, an expiry, FLUSHALL) before its EXEC makes that
//! EXEC answer a null array and run nothing. EXEC and DISCARD end the watch.
//!
//! The runtime keeps one [`Watches`] and calls [`Watches::touch`] with the
//! keys of every write it applies (the keys of the command it propagates);
//! for FLUSHALL and FLUSHDB, with the watched keys that existed before.

/// Whether `command` empties the data set (FLUSHALL, FLUSHDB).
pub fn is_flush(command: &[Vec<u8>]) -> bool {
    command
        .first()
        .is_some_and(|n| n.eq_ignore_ascii_case(b"flushall") || n.eq_ignore_ascii_case(b"flushdb"))
}

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::db::Db;

/// Every client's watched keys (`watched_keys`), and the clients whose
/// watch a change broke (`CLIENT_DIRTY_CAS`).
#[derive(Clone, Debug, Default)]
pub struct Watches {
    by_key: HashMap<Vec<u8>, BTreeSet<u64>>,
    /// Per client: each watched key, and whether it was live when watched
    /// (a key that expires afterwards breaks the watch, `isWatchedKeyExpired`).
    by_client: HashMap<u64, Vec<(Vec<u8>, bool)>>,
    dirty: HashSet<u64>,
}

impl Watches {
    /// WATCH `keys` for `client` (a key watched twice is watched once).
    pub fn watch(&mut self, client: u64, keys: &[Vec<u8>], db: &Db, now_ms: u64) {
        let mine = self.by_client.entry(client).or_default();
        for key in keys {
            if mine.iter().any(|(k, _)| k == key) {
                continue;
            }
            mine.push((key.clone(), db.is_live(key, now_ms)));
            self.by_key.entry(key.clone()).or_default().insert(client);
        }
    }

    /// Forget `client`'s watch (UNWATCH, EXEC, DISCARD, a closed connection).
    pub fn unwatch(&mut self, client: u64) {
        self.dirty.remove(&client);
        for (key, _) in self.by_client.remove(&client).unwrap_or_default() {
            if let Some(clients) = self.by_key.get_mut(&key) {
                clients.remove(&client);
                if clients.is_empty() {
                    self.by_key.remove(&key);
                }
            }
        }
    }

    /// `key` changed: every client watching it loses its EXEC (`touchWatchedKey`).
    pub fn touch(&mut self, key: &[u8]) {
        if let Some(clients) = self.by_key.get(key) {
            self.dirty.extend(clients.iter().copied());
        }
    }

    /// Every key may have changed (a full resync).
    pub fn touch_all(&mut self) {
        self.dirty.extend(self.by_client.keys().copied());
    }

    /// The watched keys that exist now: what a FLUSHALL or FLUSHDB about
    /// to run will change (`touchAllWatchedKeysInDb` touches only those).
    pub fn present(&self, db: &Db, now_ms: u64) -> Vec<Vec<u8>> {
        self.by_key
            .keys()
            .filter(|k| db.is_live(k, now_ms))
            .cloned()
            .collect()
    }

    /// Whether `client`'s EXEC must fail: a watched key changed, or one
    /// that was live when watched is gone or expired now.
    pub fn broken(&self, client: u64, db: &Db, now_ms: u64) -> bool {
        self.dirty.contains(&client)
            || self
                .by_client
                .get(&client)
                .is_some_and(|keys| keys.iter().any(|(k, live)| *live && !db.is_live(k, now_ms)))
    }

    /// Clients watching at least one key.
    pub fn clients(&self) -> usize {
        self.by_client.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Entry;

    fn entry(expires_at_ms: Option<u64>) -> Entry {
        Entry {
            value: b"v".to_vec(),
            expires_at_ms,
        }
    }

    #[test]
    fn a_touched_key_breaks_only_the_watches_on_it() {
        let mut db = Db::new();
        let mut w = Watches::default();
        w.watch(1, &[b"a".to_vec(), b"b".to_vec()], &db, 0);
        w.watch(2, &[b"b".to_vec()], &db, 0);
        w.watch(3, &[b"c".to_vec()], &db, 0);
        w.touch(b"b");
        assert!(w.broken(1, &db, 0) && w.broken(2, &db, 0));
        assert!(!w.broken(3, &db, 0));
        w.unwatch(1);
        assert!(!w.broken(1, &db, 0), "a new watch starts clean");
        w.touch(b"a");
        assert!(!w.broken(1, &db, 0), "unwatched keys no longer count");
        assert_eq!(w.clients(), 2);
        w.touch_all();
        assert!(w.broken(3, &db, 0));
        db.set(b"x".to_vec(), entry(Some(100)));
        w.watch(4, &[b"x".to_vec()], &db, 50);
        assert!(!w.broken(4, &db, 99));
        assert!(
            w.broken(4, &db, 100),
            "a watched key that expired breaks the watch"
        );
        w.watch(5, &[b"x".to_vec()], &db, 200);
        assert!(
            !w.broken(5, &db, 300),
            "already gone when watched: nothing changed"
        );
    }
}
