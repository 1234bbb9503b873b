//! The data set on disk: `dump.rdb` in Redis's RDB format ([`crate::rdb`]),
//! loaded at start, written by SAVE (in the node task), BGSAVE and the
//! `save` points (in a blocking thread, from a copy of the data set, as
//! Redis writes from a forked child), and by SHUTDOWN. Every write replaces
//! the file whole ([`crate::durable::replace_file`]).

use std::path::{Path, PathBuf};

use tokio::sync::mpsc;

use crate::commands::PersistenceFacts;
use crate::db::{Db, Entry};
use crate::rdb::{self, write::Aux};

use super::Input;

/// A `save <seconds> <changes>` point: save when at least `changes` writes
/// happened and `seconds` passed since the last save.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavePoint {
    pub seconds: u64,
    pub changes: u64,
}

/// Redis 7.0's default: `save 3600 1 300 100 60 10000`.
pub const DEFAULT_SAVE_POINTS: [SavePoint; 3] = [
    SavePoint {
        seconds: 3600,
        changes: 1,
    },
    SavePoint {
        seconds: 300,
        changes: 100,
    },
    SavePoint {
        seconds: 60,
        changes: 10_000,
    },
];

/// A failed background save is retried after this long (`CONFIG_BGSAVE_RETRY_DELAY`).
const RETRY_AFTER_MS: u64 = 5_000;

/// The data file and what INFO persistence says about it.
#[derive(Debug)]
pub struct DataFile {
    path: PathBuf,
    save_points: Vec<SavePoint>,
    /// Writes since the last successful save (`server.dirty`).
    dirty: u64,
    /// When the last successful save ended (or the node started), Unix ms.
    last_save_ms: u64,
    last_try_ms: u64,
    last_ok: bool,
    /// A background save running: when it started and `dirty` then.
    running: Option<(u64, u64)>,
    last_bgsave_ms: Option<u64>,
    saves: u64,
    loaded_keys: u64,
}

/// The bytes of `db`'s live keys as an RDB file.
fn rdb_bytes<'a>(
    entries: impl ExactSizeIterator<Item = (&'a [u8], &'a Entry)>,
    now_ms: u64,
) -> Vec<u8> {
    let aux = Aux {
        version: "7.0.15".into(),
        ctime_s: now_ms / 1000,
        used_mem: 0,
    };
    rdb::write(entries, &aux)
}

impl DataFile {
    pub fn new(path: PathBuf, save_points: Vec<SavePoint>, now_ms: u64) -> DataFile {
        DataFile {
            path,
            save_points,
            dirty: 0,
            last_save_ms: now_ms,
            last_try_ms: 0,
            last_ok: true,
            running: None,
            last_bgsave_ms: None,
            saves: 0,
            loaded_keys: 0,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the file into `db`, if there is one. Keys already expired are
    /// skipped, as a master loading an RDB skips them. An error names the
    /// file and the byte; the file is left as it is, and the start stops.
    pub fn load(&mut self, db: &mut Db, now_ms: u64) -> Result<(), String> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", self.path.display())),
        };
        let loaded = rdb::read(&bytes).map_err(|e| format!("{}: {e}", self.path.display()))?;
        for (key, entry) in loaded.entries {
            if entry.expires_at_ms.is_none_or(|t| t > now_ms) {
                db.set(key, entry);
                self.loaded_keys += 1;
            }
        }
        tracing::info!(
            "loaded {} keys from {}",
            self.loaded_keys,
            self.path.display()
        );
        Ok(())
    }

    /// A write was applied.
    pub fn note_write(&mut self) {
        self.dirty += 1;
    }

    pub fn saving(&self) -> bool {
        self.running.is_some()
    }

    /// Whether any save point is configured (SHUTDOWN saves then).
    pub fn saves_on_shutdown(&self) -> bool {
        !self.save_points.is_empty()
    }

    /// SAVE: writes the file now, from the node task.
    pub fn save(&mut self, db: &Db, now_ms: u64) -> std::io::Result<()> {
        let live: Vec<(&[u8], &Entry)> = db
            .iter_live(now_ms)
            .map(|(k, e)| (k.as_slice(), e))
            .collect();
        let bytes = rdb_bytes(live.into_iter(), now_ms);
        let result = crate::durable::replace_file(&self.path, &bytes);
        self.finished(result.is_ok(), self.dirty, now_ms);
        result
    }

    /// BGSAVE: copies the live keys and writes them in a blocking thread;
    /// the outcome comes back as [`Input::DataSaved`]. False when one is
    /// already running.
    pub fn start_background(&mut self, db: &Db, now_ms: u64, inputs: mpsc::Sender<Input>) -> bool {
        if self.running.is_some() {
            return false;
        }
        let live: Vec<(Vec<u8>, Entry)> = db
            .iter_live(now_ms)
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        let path = self.path.clone();
        self.running = Some((now_ms, self.dirty));
        self.last_try_ms = now_ms;
        tokio::task::spawn_blocking(move || {
            let bytes = rdb_bytes(live.iter().map(|(k, e)| (k.as_slice(), e)), now_ms);
            let result = crate::durable::replace_file(&path, &bytes).map_err(|e| e.to_string());
            let _ = inputs.blocking_send(Input::DataSaved { result });
        });
        true
    }

    /// A background save ended.
    pub fn background_done(&mut self, result: &Result<(), String>, now_ms: u64) {
        let Some((started, dirty_then)) = self.running.take() else {
            return;
        };
        match result {
            Ok(()) => tracing::info!("background saving terminated with success"),
            Err(e) => tracing::error!("background saving to {}: {e}", self.path.display()),
        }
        self.last_bgsave_ms = Some(now_ms.saturating_sub(started));
        self.finished(result.is_ok(), dirty_then, now_ms);
    }

    fn finished(&mut self, ok: bool, dirty_then: u64, now_ms: u64) {
        self.last_ok = ok;
        self.last_try_ms = now_ms;
        if ok {
            // Writes during a background save are still unsaved.
            self.dirty -= dirty_then.min(self.dirty);
            self.last_save_ms = now_ms;
            self.saves += 1;
        }
    }

    /// Whether a save point is reached (`serverCron`): enough writes and
    /// time, and after a failure not before the retry delay.
    pub fn due(&self, now_ms: u64) -> bool {
        if self.running.is_some() {
            return false;
        }
        let since_s = now_ms.saturating_sub(self.last_save_ms) / 1000;
        let retry_ok = self.last_ok || now_ms.saturating_sub(self.last_try_ms) > RETRY_AFTER_MS;
        retry_ok
            && self
                .save_points
                .iter()
                .any(|p| self.dirty >= p.changes && since_s >= p.seconds)
    }

    /// What INFO persistence and LASTSAVE report.
    pub fn facts(&self, now_ms: u64) -> PersistenceFacts {
        PersistenceFacts {
            changes_since_last_save: self.dirty,
            bgsave_in_progress: self.running.is_some(),
            last_save_s: self.last_save_ms / 1000,
            last_bgsave_ok: self.last_ok,
            last_bgsave_time_s: self
                .last_bgsave_ms
                .map(|ms| (ms / 1000) as i64)
                .unwrap_or(-1),
            current_bgsave_time_s: self
                .running
                .map(|(t, _)| (now_ms.saturating_sub(t) / 1000) as i64)
                .unwrap_or(-1),
            saves: self.saves,
            loaded_keys: self.loaded_keys,
        }
    }
}

/// Parses `save`'s value: `""` for none, else pairs of numbers.
pub fn parse_save_points(text: &str) -> Result<Vec<SavePoint>, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.len().is_multiple_of(2) {
        return Err(format!(
            "save: {text:?} is not pairs of <seconds> <changes>"
        ));
    }
    words
        .chunks(2)
        .map(|w| {
            let n = |s: &str| {
                s.parse::<u64>()
                    .map_err(|_| format!("save: {s:?} is not a number"))
            };
            Ok(SavePoint {
                seconds: n(w[0])?,
                changes: n(w[1])?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_points_parse_as_redis_takes_them() {
        assert_eq!(parse_save_points(""), Ok(vec![]));
        assert_eq!(
            parse_save_points("3600 1 300 100 60 10000"),
            Ok(DEFAULT_SAVE_POINTS.to_vec())
        );
        assert!(parse_save_points("60").is_err());
        assert!(parse_save_points("60 x").is_err());
    }

    #[test]
    fn a_save_point_is_due_after_its_time_and_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let points = parse_save_points("60 2").expect("points");
        let mut f = DataFile::new(dir.path().join("dump.rdb"), points, 1_000_000);
        f.note_write();
        assert!(!f.due(1_000_000 + 61_000), "one change of two");
        f.note_write();
        assert!(!f.due(1_000_000 + 59_000), "59 s of 60");
        assert!(f.due(1_000_000 + 61_000));
        let db = Db::new();
        f.save(&db, 1_000_000 + 61_000).expect("save");
        assert!(!f.due(1_000_000 + 200_000), "nothing changed since");
        assert_eq!(f.facts(0).saves, 1);
        let mut back = DataFile::new(dir.path().join("dump.rdb"), vec![], 0);
        let mut db2 = Db::new();
        back.load(&mut db2, 0).expect("the saved file loads");
        assert_eq!(db2.len(), 0);
    }
}
