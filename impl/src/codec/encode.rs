//! Message → bytes, in Redis 7.0's `clusterMsg` layout.

use super::message::{Body, GossipEntry, Header, Message, PingExt};
use super::{
    mflags0, offsets, CLUSTER_PROTO_VER, GOSSIP_ENTRY_LEN, HEADER_LEN, MODULE_FIXED_LEN,
    PING_EXT_HEADER_LEN, PUBLISH_FIXED_LEN, SIGNATURE,
};

/// Encode `msg` as one frame. The header's `sig`, `totlen`, `ver`, `type`,
/// `count` (gossip entries) and `extensions` fields are derived from the body;
/// `mflags[0]` gets `EXT_DATA` whenever the body carries extensions, as
/// `clusterSendPing` does. Extension data is NUL-padded to a multiple of 8.
/// Lengths beyond the wire's u16/u32 counters are the caller's bug and are
/// truncated to what fits.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    let (count, extensions) = encode_body(&msg.body, &mut out);
    write_header(&msg.header, &msg.body, count, extensions, &mut out);
    let totlen = out.len() as u32;
    put_u32(&mut out, offsets::TOTLEN, totlen);
    out
}

/// Append the payload; returns the header's `count` and `extensions` values.
fn encode_body(body: &Body, out: &mut Vec<u8>) -> (u16, u16) {
    match body {
        Body::Ping { gossip, extensions }
        | Body::Pong { gossip, extensions }
        | Body::Meet { gossip, extensions } => {
            gossip.iter().for_each(|g| encode_gossip(g, out));
            extensions.iter().for_each(|e| encode_extension(e, out));
            (gossip.len() as u16, extensions.len() as u16)
        }
        Body::Fail { nodename } => {
            out.extend_from_slice(nodename);
            (0, 0)
        }
        Body::Publish { channel, message } | Body::PublishShard { channel, message } => {
            out.reserve(PUBLISH_FIXED_LEN + channel.len() + message.len());
            out.extend_from_slice(&(channel.len() as u32).to_be_bytes());
            out.extend_from_slice(&(message.len() as u32).to_be_bytes());
            out.extend_from_slice(channel);
            out.extend_from_slice(message);
            (0, 0)
        }
        Body::FailoverAuthRequest | Body::FailoverAuthAck | Body::MfStart => (0, 0),
        Body::Update {
            config_epoch,
            nodename,
            slots,
        } => {
            out.extend_from_slice(&config_epoch.to_be_bytes());
            out.extend_from_slice(nodename);
            out.extend_from_slice(&slots.0[..]);
            (0, 0)
        }
        Body::Module {
            module_id,
            module_type,
            payload,
        } => {
            out.reserve(MODULE_FIXED_LEN + payload.len());
            out.extend_from_slice(&module_id.to_be_bytes());
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            out.push(*module_type);
            out.extend_from_slice(payload);
            (0, 0)
        }
    }
}

/// Write every header field at its fixed offset.
fn write_header(h: &Header, body: &Body, count: u16, extensions: u16, out: &mut [u8]) {
    out[..4].copy_from_slice(&SIGNATURE);
    put_u16(out, offsets::VER, CLUSTER_PROTO_VER);
    put_u16(out, offsets::PORT, h.port);
    put_u16(out, offsets::TYPE, body.message_type().code());
    put_u16(out, offsets::COUNT, count);
    put_u64(out, offsets::CURRENT_EPOCH, h.current_epoch);
    put_u64(out, offsets::CONFIG_EPOCH, h.config_epoch);
    put_u64(out, offsets::OFFSET, h.offset);
    out[offsets::SENDER..offsets::MYSLOTS].copy_from_slice(&h.sender);
    out[offsets::MYSLOTS..offsets::SLAVEOF].copy_from_slice(&h.myslots.0[..]);
    out[offsets::SLAVEOF..offsets::MYIP].copy_from_slice(&h.slaveof);
    out[offsets::MYIP..offsets::EXTENSIONS].copy_from_slice(&h.myip);
    put_u16(out, offsets::EXTENSIONS, extensions);
    out[offsets::NOTUSED1..offsets::PPORT].copy_from_slice(&h.notused1);
    put_u16(out, offsets::PPORT, h.pport);
    put_u16(out, offsets::CPORT, h.cport);
    put_u16(out, offsets::FLAGS, h.flags);
    out[offsets::STATE] = h.state;
    let mut mflags = h.mflags;
    if extensions > 0 {
        mflags[0] |= mflags0::EXT_DATA;
    }
    out[offsets::MFLAGS..HEADER_LEN].copy_from_slice(&mflags);
}

/// Append one 104-byte gossip entry (`clusterSetGossipEntry`'s layout).
fn encode_gossip(g: &GossipEntry, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&g.nodename);
    out.extend_from_slice(&g.ping_sent.to_be_bytes());
    out.extend_from_slice(&g.pong_received.to_be_bytes());
    out.extend_from_slice(&g.ip);
    for v in [g.port, g.cport, g.flags, g.pport, g.notused1] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    debug_assert_eq!(out.len() - start, GOSSIP_ENTRY_LEN);
}

/// Append one extension: header, data, NUL padding to 8 bytes.
fn encode_extension(e: &PingExt, out: &mut Vec<u8>) {
    let padded = e.data.len().div_ceil(8) * 8;
    let length = (PING_EXT_HEADER_LEN + padded) as u32;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&e.ext_type.to_be_bytes());
    out.extend_from_slice(&e.unused.to_be_bytes());
    out.extend_from_slice(&e.data);
    out.resize(out.len() + (padded - e.data.len()), 0);
}

fn put_u16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn put_u32(out: &mut [u8], at: usize, v: u32) {
    out[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

fn put_u64(out: &mut [u8], at: usize, v: u64) {
    out[at..at + 8].copy_from_slice(&v.to_be_bytes());
}
