//! Why a cluster bus frame was refused.
//!
//! Redis 7.0 treats bad frames in two tiers (`clusterReadHandler` and
//! `clusterProcessPacket`): a wrong signature or a `totlen` below the header
//! length closes the link, because the stream can no longer be framed; any
//! other defect drops that one frame and keeps the link. [`DecodeError::closes_link`]
//! tells the runtime which tier an error belongs to.

use super::message::MessageType;
use std::fmt;

/// What is wrong with one extension's `length` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtensionLengthProblem {
    /// Not a multiple of 8 (Redis: "without proper padding").
    NotPadded,
    /// Shorter than the 8-byte extension header itself. Redis 7.0 accepts a
    /// zero length and then re-reads the same extension; we refuse it.
    ShorterThanHeader,
    /// Runs past the end of the frame (Redis: "exceeds total packet length").
    PastEndOfFrame,
}

/// A frame that cannot be turned into a [`super::Message`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The first four bytes are not `RCmb`: the peer does not speak the
    /// cluster bus (or the stream lost sync). Closes the link.
    BadSignature { found: [u8; 4] },
    /// `totlen` is smaller than the fixed header. Closes the link.
    TooShort { totlen: u32 },
    /// `totlen` is above [`super::MAX_FRAME_LEN`]; refused so a peer cannot
    /// make us buffer gigabytes. Closes the link.
    TooLong { totlen: u32, max: u32 },
    /// The buffer holds fewer bytes than the frame needs.
    Truncated { needed: usize, available: usize },
    /// The buffer holds more bytes than `totlen`: `decode` takes exactly one frame.
    TrailingBytes { totlen: u32, available: usize },
    /// `ver` is not [`super::CLUSTER_PROTO_VER`].
    UnknownVersion { version: u16 },
    /// `type` is not one of the 11 types Redis 7.0 knows.
    UnknownType { type_code: u16 },
    /// `totlen` differs from the length the type and its own counts imply.
    LengthMismatch {
        message_type: MessageType,
        expected: u64,
        actual: u32,
    },
    /// The gossip `count` needs more bytes than `totlen` provides.
    GossipCountTooLarge {
        message_type: MessageType,
        count: u16,
        totlen: u32,
    },
    /// Extension number `index` has an unusable `length`.
    BadExtensionLength {
        index: u16,
        length: u32,
        problem: ExtensionLengthProblem,
    },
    /// The header counts extensions but `mflags[0]` lacks `EXT_DATA`, so their
    /// bytes cannot be located safely.
    ExtensionsWithoutFlag { count: u16 },
}

impl DecodeError {
    /// True when the byte stream can no longer be framed and the link must be
    /// closed (mirrors the checks in `clusterReadHandler`); false when only this
    /// frame is dropped (mirrors the early returns of `clusterProcessPacket`).
    pub fn closes_link(&self) -> bool {
        matches!(
            self,
            DecodeError::BadSignature { .. }
                | DecodeError::TooShort { .. }
                | DecodeError::TooLong { .. }
        )
    }
}

impl fmt::Display for ExtensionLengthProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ExtensionLengthProblem::NotPadded => "is not a multiple of 8",
            ExtensionLengthProblem::ShorterThanHeader => {
                "is shorter than the 8-byte extension header"
            }
            ExtensionLengthProblem::PastEndOfFrame => "runs past the end of the frame",
        })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadSignature { found } => write!(
                f,
                "bad cluster bus signature {found:02x?} (expected \"RCmb\"): the peer is not \
                 a cluster bus endpoint or the stream is out of sync; closing the link"
            ),
            DecodeError::TooShort { totlen } => write!(
                f,
                "frame totlen {totlen} is below the {} byte header; closing the link",
                super::HEADER_LEN
            ),
            DecodeError::TooLong { totlen, max } => write!(
                f,
                "frame totlen {totlen} exceeds the {max} byte limit; closing the link"
            ),
            DecodeError::Truncated { needed, available } => write!(
                f,
                "incomplete frame: need {needed} bytes, have {available}; read the whole \
                 frame (see frame_length) before decoding"
            ),
            DecodeError::TrailingBytes { totlen, available } => write!(
                f,
                "buffer has {available} bytes but the frame's totlen is {totlen}; pass exactly \
                 one frame to decode"
            ),
            DecodeError::UnknownVersion { version } => write!(
                f,
                "cluster bus protocol version {version} is not supported (expected {}); \
                 frame dropped",
                super::CLUSTER_PROTO_VER
            ),
            DecodeError::UnknownType { type_code } => write!(
                f,
                "unknown message type {type_code} (Redis 7.0 knows 0..=10); frame dropped"
            ),
            DecodeError::LengthMismatch {
                message_type,
                expected,
                actual,
            } => write!(
                f,
                "{message_type:?} frame has totlen {actual} but its contents imply {expected}; \
                 frame dropped"
            ),
            DecodeError::GossipCountTooLarge {
                message_type,
                count,
                totlen,
            } => write!(
                f,
                "{message_type:?} frame claims {count} gossip entries, which do not fit in \
                 totlen {totlen}; frame dropped"
            ),
            DecodeError::BadExtensionLength {
                index,
                length,
                problem,
            } => write!(
                f,
                "ping extension #{index} has length {length}, which {problem}; frame dropped"
            ),
            DecodeError::ExtensionsWithoutFlag { count } => write!(
                f,
                "header counts {count} ping extensions but mflags[0] lacks EXT_DATA; \
                 frame dropped"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}
