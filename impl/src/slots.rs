//! CRC16 key hashing to slots, and node ids.
