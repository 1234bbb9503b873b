//! Replacing a file so that a crash at any moment leaves either the old
//! file or the new one, whole: nodes.conf and dump.rdb both go through
//! [`replace_file`].

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path`: a temp file in the same directory, fsynced,
/// renamed over `path`, then the directory fsynced. On error the temp file
/// is removed and `path` is untouched.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path(path)?;
    let result = write_synced(&tmp, bytes)
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| sync_dir(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `dir/.name.PID.N.tmp` next to `path`, so the rename stays on one
/// filesystem; N counts the writes of this process, so two writes of one
/// file at once (a background save still running at SHUTDOWN's own save)
/// never share a temp file.
fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} has no file name to save to", path.display()),
        )
    })?;
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.{n}.tmp", std::process::id()));
    Ok(path.with_file_name(tmp_name))
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// fsync the directory holding `path`, so the rename itself is durable.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temp_file_stays() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        replace_file(&path, b"one").expect("write");
        replace_file(&path, b"two").expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("f")]);
        assert_ne!(
            temp_path(&path).ok(),
            temp_path(&path).ok(),
            "one temp file per write"
        );
        let missing = dir.path().join("no-such-dir").join("f");
        assert!(replace_file(&missing, b"x").is_err());
    }
}
