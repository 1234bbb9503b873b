//! nodes.conf on disk: load with errors naming the file, save atomically.

use super::error::{ConfigError, ConfigErrorKind};
use super::{parse, render, NodesConf};
use std::fs;
use std::path::Path;

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
    crate::durable::replace_file(path, render(conf).as_bytes())
}
