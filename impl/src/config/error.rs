//! Why a nodes.conf could not be read.

use std::fmt;
use std::path::PathBuf;

/// What is wrong, independent of where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Io {
        kind: std::io::ErrorKind,
        message: String,
    },
    /// The file has no content. Redis treats this as "no config yet" and writes
    /// a fresh one; a caller may do the same.
    Empty,
    /// A node line has fewer than the 8 fixed fields.
    TooFewFields { found: usize },
    /// A field that must be a 40-hex-character node id is not one.
    BadNodeId { field: &'static str, value: String },
    /// The address is not `ip:port[@cport][,hostname]`.
    BadAddress { value: String },
    /// A flag name that Redis 7.0 does not write.
    UnknownFlag { value: String },
    /// A numeric field (`ping_sent`, `pong_recv`, `configEpoch`, a vars value) is not a number.
    BadNumber { field: &'static str, value: String },
    /// The link state is neither `connected` nor `disconnected`.
    BadLinkState { value: String },
    /// A slot, range or `[slot->-id]` entry is malformed or out of 0..=16383.
    BadSlot { value: String },
    /// The `vars` line does not have name/value pairs.
    BadVars { reason: String },
    /// Two node lines carry the `myself` flag.
    DuplicateMyself,
    /// Two node lines have the same id.
    DuplicateNode { id: String },
    /// No node line carries the `myself` flag.
    NoMyself,
}

/// A nodes.conf error: what, and where (file and 1-based line, when known).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: Option<PathBuf>,
    pub line: Option<usize>,
    pub kind: ConfigErrorKind,
}

impl ConfigError {
    pub(crate) fn at(line: usize, kind: ConfigErrorKind) -> ConfigError {
        ConfigError {
            path: None,
            line: Some(line),
            kind,
        }
    }

    pub(crate) fn whole(kind: ConfigErrorKind) -> ConfigError {
        ConfigError {
            path: None,
            line: None,
            kind,
        }
    }
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ConfigErrorKind::*;
        match self {
            Io { message, .. } => write!(f, "cannot read the file: {message}"),
            Empty => write!(f, "the file is empty"),
            TooFewFields { found } => write!(
                f,
                "node line has {found} fields, expected at least 8: \
                 <id> <ip:port@cport> <flags> <master> <ping_sent> <pong_recv> <configEpoch> <link>"
            ),
            BadNodeId { field, value } => {
                write!(f, "{field} {value:?} is not a 40-character hex node id")
            }
            BadAddress { value } => {
                write!(f, "address {value:?} is not ip:port@cport[,hostname]")
            }
            UnknownFlag { value } => write!(
                f,
                "unknown flag {value:?} (known: myself, master, slave, fail?, fail, handshake, \
                 noaddr, nofailover, noflags)"
            ),
            BadNumber { field, value } => {
                write!(f, "{field} {value:?} is not an unsigned integer")
            }
            BadLinkState { value } => {
                write!(
                    f,
                    "link state {value:?} is neither connected nor disconnected"
                )
            }
            BadSlot { value } => write!(
                f,
                "slot entry {value:?} is not N, N-M, [N->-id] or [N-<-id] with slots in 0..=16383"
            ),
            BadVars { reason } => write!(f, "bad vars line: {reason}"),
            DuplicateMyself => write!(f, "a second node line has the myself flag"),
            DuplicateNode { id } => write!(f, "node {id} is listed twice"),
            NoMyself => write!(f, "no node line has the myself flag"),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.as_ref().map(|p| p.display().to_string());
        match (path, self.line) {
            (Some(p), Some(l)) => write!(f, "{p}:{l}: ")?,
            (Some(p), None) => write!(f, "{p}: ")?,
            (None, Some(l)) => write!(f, "line {l}: ")?,
            (None, None) => {}
        }
        write!(f, "{}", self.kind)?;
        if self.path.is_some() && !matches!(self.kind, ConfigErrorKind::Io { .. }) {
            write!(
                f,
                " (fix or remove the file; it is never overwritten while it does not parse)"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
