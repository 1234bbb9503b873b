//! The one error type of live runs: what went wrong, with enough context for
//! a user to act on it (which node, which file, which wait).

use std::fmt;

/// Why a live run (processes, tap, scenario) could not go on.
#[derive(Debug)]
pub enum LiveError {
    /// An OS call failed: `what` says which (spawn, bind, create dir, write).
    Io {
        what: String,
        source: std::io::Error,
    },
    /// A bounded wait ran out: `what` was still not true after `limit_ms`.
    Timeout { what: String, limit_ms: u64 },
    /// A node answered something the run cannot use.
    Node { node: usize, problem: String },
    /// A needed program is missing or of the wrong version.
    Missing(String),
    /// The scenario's options make no sense (unknown name, too few nodes).
    Usage(String),
}

impl LiveError {
    /// An [`LiveError::Io`] with its context.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> LiveError {
        LiveError::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Io { what, source } => write!(f, "{what}: {source}"),
            LiveError::Timeout { what, limit_ms } => {
                write!(f, "timed out after {limit_ms} ms waiting for {what}")
            }
            LiveError::Node { node, problem } => write!(f, "node {node}: {problem}"),
            LiveError::Missing(what) => write!(f, "{what}"),
            LiveError::Usage(what) => write!(f, "{what}"),
        }
    }
}

impl std::error::Error for LiveError {}
