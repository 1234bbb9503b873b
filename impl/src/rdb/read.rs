//! Reading RDB files and RESTORE payloads (see the module above).

use super::{crc64, lzf, op, RdbError, RDB_VERSION};
use crate::db::Entry;

/// What a file held.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub entries: Vec<(Vec<u8>, Entry)>,
    /// The auxiliary fields, in file order.
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
    pub version: u16,
    /// With [`Others::Skip`]: keys of other types left out, by type name.
    pub skipped: std::collections::BTreeMap<&'static str, u64>,
}

/// What to do with a value of a type this node does not store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Others {
    /// Refuse the file (a node's own dump.rdb: saving it again would lose them).
    Refuse,
    /// Leave the key out and count it (a full resync from a redis-server
    /// master, which keeps them).
    Skip,
}

/// Most bytes one string may announce (`proto-max-bulk-len`'s 512 MB).
const MAX_STRING: u64 = 512 << 20;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// A length, or one of the special string encodings.
enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    fn err<T>(&self, what: impl Into<String>) -> Result<T, RdbError> {
        Err(RdbError {
            offset: self.at,
            what: what.into(),
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        match self.bytes.get(self.at..self.at.saturating_add(n)) {
            Some(s) => {
                self.at += n;
                Ok(s)
            }
            None => self.err(format!("the data ends inside a {n}-byte field")),
        }
    }

    fn byte(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// `rdbLoadLenByRef`.
    fn len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3f) as u64),
            1 => Len::Plain((((b & 0x3f) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return self.err(format!("unknown length encoding 0x{b:02x}")),
            },
            _ => Len::Encoded(b & 0x3f),
        })
    }

    fn len(&mut self) -> Result<u64, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => self.err("a string encoding where a length belongs"),
        }
    }

    fn sized(&mut self, n: u64) -> Result<usize, RdbError> {
        if n > MAX_STRING {
            return self.err(format!("a string of {n} bytes (at most {MAX_STRING})"));
        }
        Ok(n as usize)
    }

    /// `rdbGenericLoadStringObject`.
    fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = self.sized(n)?;
                Ok(self.take(n)?.to_vec())
            }
            Len::Encoded(0) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Len::Encoded(1) => Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(2) => Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes()),
            Len::Encoded(3) => {
                let clen = self.len()?;
                let clen = self.sized(clen)?;
                let ulen = self.len()?;
                let ulen = self.sized(ulen)?;
                let at = self.at;
                let data = self.take(clen)?;
                lzf::decompress(data, ulen).map_err(|what| RdbError { offset: at, what })
            }
            Len::Encoded(e) => self.err(format!("unknown string encoding {e}")),
        }
    }
}

fn type_name(t: u8) -> &'static str {
    // `rdb.h`'s RDB_TYPE_* (7.0 writes up to 19; 20 and 21 are 7.2's).
    match t {
        1 | 10 | 14 | 18 => "list",
        2 | 11 | 20 => "set",
        3 | 5 | 12 | 17 => "sorted set",
        4 | 9 | 13 | 16 => "hash",
        6 | 7 => "module value",
        15 | 19 | 21 => "stream",
        _ => "unknown type",
    }
}

/// Reads a whole RDB file; a key of another type is an error.
pub fn read(bytes: &[u8]) -> Result<Loaded, RdbError> {
    read_with(bytes, Others::Refuse)
}

/// Steps over a value of type `t` (`rdbLoadObject`'s layouts); false for
/// a type whose layout is not read here (streams, modules).
fn skip_value(r: &mut Reader, t: u8) -> Result<bool, RdbError> {
    let strings = |r: &mut Reader, per: u64| -> Result<(), RdbError> {
        let n = r.len()?;
        for _ in 0..n.saturating_mul(per) {
            r.string()?;
        }
        Ok(())
    };
    match t {
        // list, set: strings; hash: pairs.
        1 | 2 => strings(r, 1)?,
        4 => strings(r, 2)?,
        // zset: member and score (a length-prefixed decimal, or 253-255).
        3 => {
            for _ in 0..r.len()? {
                r.string()?;
                let l = r.byte()?;
                if l < 253 {
                    r.take(l as usize)?;
                }
            }
        }
        // zset2: member and an 8-byte double.
        5 => {
            for _ in 0..r.len()? {
                r.string()?;
                r.take(8)?;
            }
        }
        // One serialized blob: zipmap, ziplist, intset, listpack encodings.
        9..=13 | 16 | 17 | 20 => {
            r.string()?;
        }
        // quicklist: ziplists; quicklist 2: a container kind and a node each.
        14 => strings(r, 1)?,
        18 => {
            for _ in 0..r.len()? {
                r.len()?;
                r.string()?;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Reads a whole RDB file, doing `others` with keys of other types.
pub fn read_with(bytes: &[u8], others: Others) -> Result<Loaded, RdbError> {
    let mut r = Reader { bytes, at: 0 };
    let magic = r.take(9)?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError {
            offset: 0,
            what: "not an RDB file (no REDIS signature)".into(),
        });
    }
    let version = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse::<u16>().ok())
        .filter(|v| (1..=RDB_VERSION).contains(v));
    let Some(version) = version else {
        return Err(RdbError {
            offset: 5,
            what: format!(
                "cannot handle RDB format version {:?} (1 to {RDB_VERSION})",
                String::from_utf8_lossy(&magic[5..])
            ),
        });
    };
    let mut out = Loaded {
        version,
        ..Loaded::default()
    };
    let mut expires: Option<u64> = None;
    loop {
        let at = r.at;
        let t = r.byte()?;
        match t {
            op::AUX => {
                let k = r.string()?;
                let v = r.string()?;
                out.aux.push((k, v));
            }
            op::SELECTDB => {
                let db = r.len()?;
                if db != 0 {
                    r.at = at;
                    return r.err(format!("keys of database {db}: cluster mode has only 0"));
                }
            }
            op::RESIZEDB => {
                r.len()?;
                r.len()?;
            }
            op::EXPIRETIME_MS => expires = Some(u64::from_le_bytes(r.array()?)),
            op::EXPIRETIME => expires = Some(u32::from_le_bytes(r.array()?) as u64 * 1000),
            op::FREQ => {
                r.byte()?;
            }
            op::IDLE => {
                r.len()?;
            }
            op::MODULE_AUX => {
                r.at = at;
                return r.err("module data, which this node cannot load");
            }
            op::FUNCTION2 => {
                r.at = at;
                return r.err("a function library, which this node cannot load");
            }
            op::EOF => break,
            op::TYPE_STRING => {
                let key = r.string()?;
                let value = r.string()?;
                out.entries.push((
                    key,
                    Entry {
                        value,
                        expires_at_ms: expires.take(),
                    },
                ));
            }
            other => {
                let name = type_name(other);
                if others == Others::Skip {
                    r.string()?;
                    if skip_value(&mut r, other)? {
                        expires = None;
                        *out.skipped.entry(name).or_default() += 1;
                        continue;
                    }
                }
                r.at = at;
                let key = r.at + 1;
                return Err(RdbError {
                    offset: key,
                    what: format!(
                        "a value of type {other} ({name}); this node stores strings only"
                    ),
                });
            }
        }
    }
    if version >= 5 {
        let body = r.at;
        let stored = u64::from_le_bytes(r.array()?);
        let computed = crc64::crc64(&bytes[..body]);
        if stored != 0 && stored != computed {
            return Err(RdbError {
                offset: body,
                what: format!("checksum {stored:016x}, the data gives {computed:016x}"),
            });
        }
    }
    Ok(out)
}

/// The string value of a RESTORE payload (`verifyDumpPayload`, then the
/// value): its RDB version must be one this node reads, its CRC-64 right.
pub fn restore_payload(payload: &[u8]) -> Result<Vec<u8>, RdbError> {
    let bad = |what: &str| RdbError {
        offset: 0,
        what: what.into(),
    };
    if payload.len() < 10 {
        return Err(bad("DUMP payload version or checksum are wrong"));
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = u64::from_le_bytes(footer[2..].try_into().map_err(|_| bad("short footer"))?);
    if version > RDB_VERSION || crc64::crc64(&payload[..payload.len() - 8]) != crc {
        return Err(bad("DUMP payload version or checksum are wrong"));
    }
    let mut r = Reader { bytes: body, at: 0 };
    let t = r.byte()?;
    if t != op::TYPE_STRING {
        return Err(RdbError {
            offset: 0,
            what: format!(
                "a value of type {t} ({}); this node stores strings only",
                type_name(t)
            ),
        });
    }
    let value = r.string()?;
    if r.at != body.len() {
        return r.err("bytes after the value");
    }
    Ok(value)
}
