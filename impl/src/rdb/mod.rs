//! Redis's RDB serialization, for what this node stores (strings with an
//! optional expiry): `dump.rdb` files that redis-server 7.0 loads and
//! writes, the payload of a full resynchronisation, and DUMP/RESTORE
//! payloads.
//!
//! A file is `REDIS` and a four-digit version, auxiliary fields, the
//! database selector and size hints, one record per key (an optional
//! expiry, the value's type byte, the key, the value), `0xFF`, and the
//! CRC-64 of everything before it. A DUMP payload is the type byte and the
//! value, the RDB version (2 bytes) and the CRC-64 (8 bytes), little-endian.
//!
//! [`write()`] writes version 10 (Redis 7.0) with every string raw; [`read()`]
//! takes versions 1 to 10, the integer and LZF string encodings redis-server
//! writes, and refuses, with the offset, anything it would have to drop:
//! other value types, module data, functions, a database other than 0.

pub mod crc64;
mod lzf;
pub mod read;
pub mod write;

pub use read::{read, read_with, restore_payload, Loaded, Others};
pub use write::{dump_payload, write};

/// The RDB version Redis 7.0 writes.
pub const RDB_VERSION: u16 = 10;

/// Opcodes and value types (`rdb.h`).
pub(crate) mod op {
    pub const FUNCTION2: u8 = 0xf5;
    pub const MODULE_AUX: u8 = 0xf7;
    pub const IDLE: u8 = 0xf8;
    pub const FREQ: u8 = 0xf9;
    pub const AUX: u8 = 0xfa;
    pub const RESIZEDB: u8 = 0xfb;
    pub const EXPIRETIME_MS: u8 = 0xfc;
    pub const EXPIRETIME: u8 = 0xfd;
    pub const SELECTDB: u8 = 0xfe;
    pub const EOF: u8 = 0xff;
    /// The string value type.
    pub const TYPE_STRING: u8 = 0;
}

/// Why bytes are not an RDB this node can load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset where reading stopped.
    pub offset: usize,
    pub what: String,
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.what)
    }
}

impl std::error::Error for RdbError {}

#[cfg(test)]
mod tests;
