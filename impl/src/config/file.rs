//! nodes.conf on disk: load with errors naming the file, save atomically.

use super::error::{ConfigError, ConfigErrorKind};
use super::{parse, render, NodesConf};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Read and parse `path`; an error names the file and, for content errors, the line.
pub fn load(path: &Path) -> Result<NodesConf, ConfigError> {
    let with_path = |mut e: ConfigError| {
        e.path = Some(path.to_path_buf());
        e
    };
    let text = fs::read_to_string(path).map_err(|e| {
        with_path(ConfigError::whole(ConfigErrorKind::Io {
            kind: e.kind(),
            message: e.to_string(),
        }))
    })?;
    parse(&text).map_err(with_path)
}

/// Write `conf` to `path` so that a crash at any moment leaves either the old
/// file or the new one, whole: write a temp file in the same directory, fsync
/// it, rename it over `path`, fsync the directory. Redis rewrites the file in
/// place and pads it (`clusterSaveConfig`), which can leave a torn file; this
/// is stricter. On error the temp file is removed and `path` is untouched.
pub fn save(path: &Path, conf: &NodesConf) -> std::io::Result<()> {
    let tmp = temp_path(path)?;
    let result = write_synced(&tmp, render(conf).as_bytes())
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| sync_dir(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `dir/.name.tmp` next to `path`, so the rename stays on one filesystem.
fn temp_path(path: &Path) -> std::io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} has no file name to save nodes.conf to", path.display()),
        )
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(".tmp");
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
