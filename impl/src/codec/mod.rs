//! The Redis 7.0 cluster bus wire codec.
//!
//! [`encode`] turns a [`Message`] into the exact bytes Redis 7.0 puts on the
//! bus (`clusterMsg` in `src/cluster.h`, all numbers big-endian);
//! [`decode`] does the reverse for one whole frame and applies the length
//! rules of `clusterProcessPacket`; [`frame_length`] is the 8-byte framing
//! step of `clusterReadHandler`. The codec is pure: no I/O, no clock.
//!
//! Where the decoder is stricter than Redis 7.0.15 (each refusal is a
//! [`DecodeError`] variant; Redis would accept the frame and may then read
//! past what the peer sent):
//! - a ping extension `length` below 8 (Redis accepts 0 and re-reads the same
//!   extension), or a frame whose remaining bytes cannot hold an extension header;
//! - a non-zero `extensions` count without `EXT_DATA` in `mflags[0]` (Redis
//!   skips the length check but still walks the extensions);
//! - PUBLISH/MODULE lengths whose 32-bit sum wraps around (Redis sums in 32 bits);
//! - an unknown `type` (Redis accepts it and ignores the body);
//! - `totlen` above [`MAX_FRAME_LEN`] (Redis has no limit).
//!
//! Redis reads an extension's 32-bit `length` into a 16-bit variable; we use
//! all 32 bits. For non-gossip types the header's `count` and `extensions`
//! fields are ignored on decode and written as 0, as Redis sends them.
mod decode;
mod encode;
mod error;
pub mod message;

pub use decode::{decode, frame_length};
pub use encode::encode;
pub use error::{DecodeError, ExtensionLengthProblem};
pub use message::*;

/// The frame signature, "Redis Cluster message bus".
pub const SIGNATURE: [u8; 4] = *b"RCmb";
/// The only protocol version Redis 7.0 speaks (`CLUSTER_PROTO_VER`).
pub const CLUSTER_PROTO_VER: u16 = 1;
/// Bytes of the fixed header before the payload (`CLUSTERMSG_MIN_LEN`).
pub const HEADER_LEN: usize = 2256;
/// Bytes of one gossip entry (`sizeof(clusterMsgDataGossip)`).
pub const GOSSIP_ENTRY_LEN: usize = 104;
/// Bytes of a FAIL frame (header + `clusterMsgDataFail`).
pub const FAIL_LEN: usize = HEADER_LEN + NODE_NAME_LEN;
/// Bytes of an UPDATE frame (header + `clusterMsgDataUpdate`).
pub const UPDATE_LEN: usize = HEADER_LEN + 8 + NODE_NAME_LEN + SLOT_BITMAP_LEN;
/// Bytes of PUBLISH's fixed part: `channel_len` u32 and `message_len` u32.
pub const PUBLISH_FIXED_LEN: usize = 8;
/// Bytes of MODULE's fixed part: `module_id` u64, `len` u32, `type` u8.
pub const MODULE_FIXED_LEN: usize = 13;
/// Bytes of a ping extension's header: `length` u32, `type` u16, `unused` u16.
pub const PING_EXT_HEADER_LEN: usize = 8;
/// Ping extension type carrying the announced hostname (`CLUSTERMSG_EXT_TYPE_HOSTNAME`).
pub const EXT_TYPE_HOSTNAME: u16 = 0;
/// Largest `totlen` we accept. Redis has no limit (it buffers whatever `totlen`
/// says); we cap it so a bad peer cannot make a node allocate gigabytes. A
/// frame this large could only be a PUBLISH of a huge Pub/Sub message.
pub const MAX_FRAME_LEN: u32 = 64 * 1024 * 1024;

/// Byte offsets of the header fields (checked by `static_assert`s in Redis's
/// `cluster.h`).
pub(crate) mod offsets {
    pub const TOTLEN: usize = 4;
    pub const VER: usize = 8;
    pub const PORT: usize = 10;
    pub const TYPE: usize = 12;
    pub const COUNT: usize = 14;
    pub const CURRENT_EPOCH: usize = 16;
    pub const CONFIG_EPOCH: usize = 24;
    pub const OFFSET: usize = 32;
    pub const SENDER: usize = 40;
    pub const MYSLOTS: usize = 80;
    pub const SLAVEOF: usize = 2128;
    pub const MYIP: usize = 2168;
    pub const EXTENSIONS: usize = 2214;
    pub const NOTUSED1: usize = 2216;
    pub const PPORT: usize = 2246;
    pub const CPORT: usize = 2248;
    pub const FLAGS: usize = 2250;
    pub const STATE: usize = 2252;
    pub const MFLAGS: usize = 2253;
}

impl MessageType {
    /// The type for a wire `type` code, or `None` for codes Redis 7.0 does not define.
    pub fn from_code(code: u16) -> Option<MessageType> {
        use MessageType::*;
        Some(match code {
            0 => Ping,
            1 => Pong,
            2 => Meet,
            3 => Fail,
            4 => Publish,
            5 => FailoverAuthRequest,
            6 => FailoverAuthAck,
            7 => Update,
            8 => MfStart,
            9 => Module,
            10 => PublishShard,
            _ => return None,
        })
    }

    /// The wire `type` code.
    pub fn code(self) -> u16 {
        self as u16
    }
}

impl PingExt {
    /// A hostname extension as Redis 7.0 builds it (`writeHostnamePingExt`):
    /// the name, a NUL, then NULs up to an 8-byte boundary.
    pub fn hostname(name: &[u8]) -> PingExt {
        let padded = (name.len() + 1).div_ceil(8) * 8;
        let mut data = name.to_vec();
        data.resize(padded, 0);
        PingExt {
            ext_type: EXT_TYPE_HOSTNAME,
            unused: 0,
            data,
        }
    }

    /// For a hostname extension, the name up to its first NUL.
    pub fn hostname_bytes(&self) -> Option<&[u8]> {
        if self.ext_type != EXT_TYPE_HOSTNAME {
            return None;
        }
        let end = self
            .data
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(self.data.len());
        Some(&self.data[..end])
    }

    /// Bytes this extension occupies on the wire, header included.
    pub fn wire_len(&self) -> usize {
        PING_EXT_HEADER_LEN + self.data.len()
    }
}

/// The text of a NUL-padded C string field (`myip`, gossip `ip`), up to the first NUL.
pub fn c_str(field: &[u8]) -> &[u8] {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    &field[..end]
}

/// Fill a NUL-padded C string field of `N` bytes from `text`, truncated so a
/// terminating NUL always fits (as Redis's `memcpy` of `NET_IP_STR_LEN` does for IPs).
pub fn c_str_field<const N: usize>(text: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = text.len().min(N.saturating_sub(1));
    out[..n].copy_from_slice(&text[..n]);
    out
}

#[cfg(test)]
mod tests;
