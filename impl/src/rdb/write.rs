//! Writing RDB files and DUMP payloads (see the module above).

use super::{crc64, op, RDB_VERSION};
use crate::db::Entry;

/// What the file's auxiliary fields say.
#[derive(Clone, Debug, Default)]
pub struct Aux {
    /// `redis-ver`.
    pub version: String,
    /// `ctime`, Unix seconds.
    pub ctime_s: u64,
    /// `used-mem`, bytes.
    pub used_mem: u64,
}

/// Appends Redis's length encoding of `n` (`rdbSaveLen`).
fn len(out: &mut Vec<u8>, n: u64) {
    if n < 1 << 6 {
        out.push(n as u8);
    } else if n < 1 << 14 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Appends a string as `rdbSaveRawString` does without compression: a
/// decimal integer of at most 11 characters that reads back the same
/// (`rdbTryIntegerEncoding`) as int8, int16 or int32; anything else raw.
fn string(out: &mut Vec<u8>, s: &[u8]) {
    if let Some(n) = small_integer(s) {
        if let Ok(b) = i8::try_from(n) {
            out.extend_from_slice(&[0xc0, b as u8]);
            return;
        }
        if let Ok(h) = i16::try_from(n) {
            out.push(0xc1);
            out.extend_from_slice(&h.to_le_bytes());
            return;
        }
        if let Ok(w) = i32::try_from(n) {
            out.push(0xc2);
            out.extend_from_slice(&w.to_le_bytes());
            return;
        }
    }
    len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// `s` as an integer, if it is one's canonical decimal form in 11
/// characters or fewer (`string2ll` then `ll2string` gives it back).
fn small_integer(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 11 {
        return None;
    }
    let n: i64 = std::str::from_utf8(s).ok()?.parse().ok()?;
    (n.to_string().as_bytes() == s).then_some(n)
}

fn aux(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(op::AUX);
    string(out, key.as_bytes());
    string(out, value.as_bytes());
}

/// The RDB file of `entries` (db 0), as `rdbSaveRio` lays it out.
pub fn write<'a>(
    entries: impl ExactSizeIterator<Item = (&'a [u8], &'a Entry)>,
    a: &Aux,
) -> Vec<u8> {
    let mut out = format!("REDIS{RDB_VERSION:04}").into_bytes();
    aux(&mut out, "redis-ver", &a.version);
    aux(&mut out, "redis-bits", "64");
    aux(&mut out, "ctime", &a.ctime_s.to_string());
    aux(&mut out, "used-mem", &a.used_mem.to_string());
    aux(&mut out, "aof-base", "0");
    out.push(op::SELECTDB);
    len(&mut out, 0);
    let n = entries.len();
    let mut body = Vec::new();
    let mut expires = 0u64;
    for (key, entry) in entries {
        if let Some(t) = entry.expires_at_ms {
            expires += 1;
            body.push(op::EXPIRETIME_MS);
            body.extend_from_slice(&t.to_le_bytes());
        }
        body.push(op::TYPE_STRING);
        string(&mut body, key);
        string(&mut body, &entry.value);
    }
    out.push(op::RESIZEDB);
    len(&mut out, n as u64);
    len(&mut out, expires);
    out.extend_from_slice(&body);
    out.push(op::EOF);
    let crc = crc64::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// DUMP's payload of a string value (`createDumpPayload`).
pub fn dump_payload(value: &[u8]) -> Vec<u8> {
    let mut out = vec![op::TYPE_STRING];
    string(&mut out, value);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[cfg(test)]
pub(super) fn len_bytes(n: u64) -> Vec<u8> {
    let mut v = Vec::new();
    len(&mut v, n);
    v
}
