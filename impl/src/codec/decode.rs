//! Bytes → Message, with the acceptance rules of Redis 7.0's
//! `clusterReadHandler` (framing) and `clusterProcessPacket` (lengths).

use super::error::{DecodeError, ExtensionLengthProblem};
use super::message::{
    mflags0, Body, GossipEntry, Header, Message, MessageType, PingExt, SlotBitmap, NODE_NAME_LEN,
    SLOT_BITMAP_LEN,
};
use super::{
    offsets, CLUSTER_PROTO_VER, FAIL_LEN, GOSSIP_ENTRY_LEN, HEADER_LEN, MAX_FRAME_LEN,
    MODULE_FIXED_LEN, PING_EXT_HEADER_LEN, PUBLISH_FIXED_LEN, SIGNATURE, UPDATE_LEN,
};

/// The framing step: from the first 8 bytes of a stream, the length of the
/// frame they start. `Ok(None)` means "read more" (fewer than 8 bytes). A bad
/// signature or a `totlen` below [`HEADER_LEN`] is fatal for the link, as in
/// `clusterReadHandler`; so is a `totlen` above [`MAX_FRAME_LEN`].
pub fn frame_length(prefix: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(head) = prefix.get(..8) else {
        return Ok(None);
    };
    let mut found = [0u8; 4];
    found.copy_from_slice(&head[..4]);
    if found != SIGNATURE {
        return Err(DecodeError::BadSignature { found });
    }
    let totlen = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if (totlen as usize) < HEADER_LEN {
        return Err(DecodeError::TooShort { totlen });
    }
    if totlen > MAX_FRAME_LEN {
        return Err(DecodeError::TooLong {
            totlen,
            max: MAX_FRAME_LEN,
        });
    }
    Ok(Some(totlen as usize))
}

/// Decode exactly one whole frame. Never panics: every defect is a [`DecodeError`].
pub fn decode(frame: &[u8]) -> Result<Message, DecodeError> {
    let totlen = match frame_length(frame)? {
        Some(n) => n,
        None => {
            return Err(DecodeError::Truncated {
                needed: 8,
                available: frame.len(),
            })
        }
    };
    if frame.len() < totlen {
        return Err(DecodeError::Truncated {
            needed: totlen,
            available: frame.len(),
        });
    }
    if frame.len() > totlen {
        let totlen = totlen as u32;
        return Err(DecodeError::TrailingBytes {
            totlen,
            available: frame.len(),
        });
    }
    let r = Reader(frame);
    let version = r.u16(offsets::VER)?;
    if version != CLUSTER_PROTO_VER {
        return Err(DecodeError::UnknownVersion { version });
    }
    let type_code = r.u16(offsets::TYPE)?;
    let message_type =
        MessageType::from_code(type_code).ok_or(DecodeError::UnknownType { type_code })?;
    let header = decode_header(&r)?;
    let body = decode_body(&r, message_type, &header)?;
    Ok(Message { header, body })
}

/// Read the fixed header fields (the derived ones are checked by the body).
fn decode_header(r: &Reader) -> Result<Header, DecodeError> {
    Ok(Header {
        port: r.u16(offsets::PORT)?,
        current_epoch: r.u64(offsets::CURRENT_EPOCH)?,
        config_epoch: r.u64(offsets::CONFIG_EPOCH)?,
        offset: r.u64(offsets::OFFSET)?,
        sender: r.array(offsets::SENDER)?,
        myslots: r.bitmap(offsets::MYSLOTS)?,
        slaveof: r.array(offsets::SLAVEOF)?,
        myip: r.array(offsets::MYIP)?,
        notused1: r.array(offsets::NOTUSED1)?,
        pport: r.u16(offsets::PPORT)?,
        cport: r.u16(offsets::CPORT)?,
        flags: r.u16(offsets::FLAGS)?,
        state: r.u8(offsets::STATE)?,
        mflags: r.array(offsets::MFLAGS)?,
    })
}

/// Decode the payload of a known type, checking `totlen` against the length
/// the type implies (the `explen` computation of `clusterProcessPacket`).
fn decode_body(r: &Reader, ty: MessageType, header: &Header) -> Result<Body, DecodeError> {
    let totlen = r.0.len();
    let expect = |expected: usize| -> Result<(), DecodeError> {
        if expected == totlen {
            Ok(())
        } else {
            Err(mismatch(ty, expected as u64, totlen))
        }
    };
    let h = HEADER_LEN;
    Ok(match ty {
        MessageType::Ping | MessageType::Pong | MessageType::Meet => {
            let (gossip, extensions) = decode_gossip_body(r, ty, header)?;
            match ty {
                MessageType::Ping => Body::Ping { gossip, extensions },
                MessageType::Pong => Body::Pong { gossip, extensions },
                _ => Body::Meet { gossip, extensions },
            }
        }
        MessageType::Fail => {
            expect(FAIL_LEN)?;
            Body::Fail {
                nodename: r.array(h)?,
            }
        }
        MessageType::Publish | MessageType::PublishShard => {
            let (channel, message) = decode_publish(r, ty)?;
            if ty == MessageType::Publish {
                Body::Publish { channel, message }
            } else {
                Body::PublishShard { channel, message }
            }
        }
        MessageType::FailoverAuthRequest | MessageType::FailoverAuthAck | MessageType::MfStart => {
            expect(HEADER_LEN)?;
            match ty {
                MessageType::FailoverAuthRequest => Body::FailoverAuthRequest,
                MessageType::FailoverAuthAck => Body::FailoverAuthAck,
                _ => Body::MfStart,
            }
        }
        MessageType::Update => {
            expect(UPDATE_LEN)?;
            Body::Update {
                config_epoch: r.u64(h)?,
                nodename: r.array(h + 8)?,
                slots: r.bitmap(h + 8 + NODE_NAME_LEN)?,
            }
        }
        MessageType::Module => decode_module(r)?,
    })
}

fn mismatch(message_type: MessageType, expected: u64, totlen: usize) -> DecodeError {
    DecodeError::LengthMismatch {
        message_type,
        expected,
        actual: totlen as u32,
    }
}

/// Gossip entries, then (when `mflags[0] & EXT_DATA`) the extensions.
/// Mirrors the PING/PONG/MEET branch of `clusterProcessPacket`'s length check.
fn decode_gossip_body(
    r: &Reader,
    ty: MessageType,
    header: &Header,
) -> Result<(Vec<GossipEntry>, Vec<PingExt>), DecodeError> {
    let totlen = r.0.len();
    let count = r.u16(offsets::COUNT)?;
    let gossip_end = HEADER_LEN + GOSSIP_ENTRY_LEN * count as usize;
    if gossip_end > totlen {
        let totlen = totlen as u32;
        return Err(DecodeError::GossipCountTooLarge {
            message_type: ty,
            count,
            totlen,
        });
    }
    let gossip = (0..count as usize)
        .map(|i| decode_gossip_entry(r, HEADER_LEN + i * GOSSIP_ENTRY_LEN))
        .collect::<Result<Vec<_>, _>>()?;
    let ext_count = r.u16(offsets::EXTENSIONS)?;
    let extensions = if header.mflags[0] & mflags0::EXT_DATA != 0 {
        decode_extensions(r, gossip_end, ext_count)?
    } else if ext_count != 0 {
        return Err(DecodeError::ExtensionsWithoutFlag { count: ext_count });
    } else {
        Vec::new()
    };
    let explen = gossip_end + extensions.iter().map(PingExt::wire_len).sum::<usize>();
    if explen != totlen {
        return Err(mismatch(ty, explen as u64, totlen));
    }
    Ok((gossip, extensions))
}

/// One 104-byte `clusterMsgDataGossip` at `at`.
fn decode_gossip_entry(r: &Reader, at: usize) -> Result<GossipEntry, DecodeError> {
    Ok(GossipEntry {
        nodename: r.array(at)?,
        ping_sent: r.u32(at + 40)?,
        pong_received: r.u32(at + 44)?,
        ip: r.array(at + 48)?,
        port: r.u16(at + 94)?,
        cport: r.u16(at + 96)?,
        flags: r.u16(at + 98)?,
        pport: r.u16(at + 100)?,
        notused1: r.u16(at + 102)?,
    })
}

/// `count` extensions starting at `start`, each `length` a multiple of 8 that
/// fits in what is left of the frame. Unknown types are kept as raw bytes.
fn decode_extensions(r: &Reader, start: usize, count: u16) -> Result<Vec<PingExt>, DecodeError> {
    let totlen = r.0.len();
    let mut at = start;
    let mut out = Vec::with_capacity(count.min(64) as usize);
    for index in 0..count {
        let bad = |length: u32, problem| DecodeError::BadExtensionLength {
            index,
            length,
            problem,
        };
        if totlen - at < PING_EXT_HEADER_LEN {
            let length = r.u32(at).unwrap_or(0);
            return Err(bad(length, ExtensionLengthProblem::PastEndOfFrame));
        }
        let length = r.u32(at)?;
        if length % 8 != 0 {
            return Err(bad(length, ExtensionLengthProblem::NotPadded));
        }
        if (length as usize) < PING_EXT_HEADER_LEN {
            return Err(bad(length, ExtensionLengthProblem::ShorterThanHeader));
        }
        if length as usize > totlen - at {
            return Err(bad(length, ExtensionLengthProblem::PastEndOfFrame));
        }
        out.push(PingExt {
            ext_type: r.u16(at + 4)?,
            unused: r.u16(at + 6)?,
            data: r
                .bytes(
                    at + PING_EXT_HEADER_LEN,
                    length as usize - PING_EXT_HEADER_LEN,
                )?
                .to_vec(),
        });
        at += length as usize;
    }
    Ok(out)
}

/// `channel_len`, `message_len`, then both byte strings (`clusterMsgDataPublish`).
fn decode_publish(r: &Reader, ty: MessageType) -> Result<(Vec<u8>, Vec<u8>), DecodeError> {
    let totlen = r.0.len();
    let fixed_end = HEADER_LEN + PUBLISH_FIXED_LEN;
    if totlen < fixed_end {
        return Err(mismatch(ty, fixed_end as u64, totlen));
    }
    let channel_len = r.u32(HEADER_LEN)? as usize;
    let message_len = r.u32(HEADER_LEN + 4)? as usize;
    // Computed in 64 bits: Redis's 32-bit sum can wrap and accept a lying frame.
    let explen = fixed_end as u64 + channel_len as u64 + message_len as u64;
    if explen != totlen as u64 {
        return Err(mismatch(ty, explen, totlen));
    }
    let channel = r.bytes(fixed_end, channel_len)?.to_vec();
    let message = r.bytes(fixed_end + channel_len, message_len)?.to_vec();
    Ok((channel, message))
}

/// `module_id`, `len`, `type`, then the payload (`clusterMsgModule`).
/// Redis copies `module_id` in host byte order; we read it big-endian, so it is
/// an opaque identifier that round-trips, not a number to compare across hosts.
fn decode_module(r: &Reader) -> Result<Body, DecodeError> {
    let totlen = r.0.len();
    let fixed_end = HEADER_LEN + MODULE_FIXED_LEN;
    if totlen < fixed_end {
        return Err(mismatch(MessageType::Module, fixed_end as u64, totlen));
    }
    let len = r.u32(HEADER_LEN + 8)? as usize;
    let explen = fixed_end as u64 + len as u64;
    if explen != totlen as u64 {
        return Err(mismatch(MessageType::Module, explen, totlen));
    }
    Ok(Body::Module {
        module_id: r.u64(HEADER_LEN)?,
        module_type: r.u8(HEADER_LEN + 12)?,
        payload: r.bytes(fixed_end, len)?.to_vec(),
    })
}

/// Bounds-checked big-endian reads; an out-of-range read is a `Truncated` error.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&self, at: usize, len: usize) -> Result<&'a [u8], DecodeError> {
        at.checked_add(len)
            .and_then(|end| self.0.get(at..end))
            .ok_or(DecodeError::Truncated {
                needed: at.saturating_add(len),
                available: self.0.len(),
            })
    }
    fn array<const N: usize>(&self, at: usize) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(at, N)?);
        Ok(out)
    }
    fn bitmap(&self, at: usize) -> Result<SlotBitmap, DecodeError> {
        let mut bits = Box::new([0u8; SLOT_BITMAP_LEN]);
        bits.copy_from_slice(self.bytes(at, SLOT_BITMAP_LEN)?);
        Ok(SlotBitmap(bits))
    }
    fn u8(&self, at: usize) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(at)?[0])
    }
    fn u16(&self, at: usize) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(at)?))
    }
    fn u32(&self, at: usize) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(at)?))
    }
    fn u64(&self, at: usize) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(at)?))
    }
}
