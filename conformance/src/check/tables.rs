//! The checker's table as Markdown, and its place in README.md and
//! specs/model.md (between marker comments), so one command
//! (`clusterbus check --all --write-tables`) regenerates both.

use super::memory::megabytes;
use super::RunResult;
use std::path::{Path, PathBuf};

const BEGIN: &str = "<!-- check-table: begin (clusterbus check --all --write-tables) -->";
const END: &str = "<!-- check-table: end -->";

/// One row per configuration.
pub fn markdown(results: &[RunResult]) -> String {
    let mut t = String::from(
        "| configuration | explored | search | symmetry | unique states | max depth | seconds | states/s | unique/s | peak RSS | result |\n\
         |---|---|---|---|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for r in results {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {:.0} | {:.0} | {} | {} |\n",
            r.config,
            r.extent,
            r.search,
            if r.symmetry { "on" } else { "off" },
            r.unique,
            r.depth,
            r.seconds,
            r.rate(r.total),
            r.rate(r.unique),
            megabytes(r.peak_rss),
            if r.ok() { "pass" } else { "FAIL" }
        ));
    }
    t
}

/// The repository root (this crate's parent directory).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Replace the table between the markers in README.md and specs/model.md.
pub fn write(table: &str) -> Result<(), String> {
    for file in ["README.md", "specs/model.md"] {
        let path = repo_root().join(file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let replaced = splice(&text, table)
            .ok_or_else(|| format!("{}: no {BEGIN:?} ... {END:?} markers", path.display()))?;
        std::fs::write(&path, replaced)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("table written to {}", path.display());
    }
    Ok(())
}

/// `text` with what lies between the markers replaced by `table`.
fn splice(text: &str, table: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}\n{}{}", &text[..start], table, &text[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splice_replaces_only_between_the_markers() {
        let text = format!("intro\n{BEGIN}\nold | table\n{END}\nafter\n");
        let out = splice(&text, "| new |\n").expect("markers present");
        assert_eq!(out, format!("intro\n{BEGIN}\n| new |\n{END}\nafter\n"));
        assert_eq!(splice("no markers", "x"), None);
    }
}
