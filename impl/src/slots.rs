//! CRC16 key hashing to slots, node ids, and conversions between a slot
//! bitmap and the slot ranges nodes.conf and `CLUSTER NODES` print.

use crate::codec::{SlotBitmap, CLUSTER_SLOTS};
use crate::config::SlotRange;
use sha1::{Digest, Sha1};

/// Mask that maps a CRC16 to a slot (`CLUSTER_SLOTS - 1`; 16384 is a power of two).
pub const SLOT_MASK: u16 = (CLUSTER_SLOTS - 1) as u16;

/// Length of a node id in hex characters (`CLUSTER_NAMELEN`).
pub const NODE_ID_LEN: usize = 40;

/// CRC16-XMODEM of `bytes`, the checksum Redis Cluster hashes keys with.
pub fn crc16(bytes: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(bytes)
}

/// The part of `key` that is hashed: the text between the first `{` and the
/// first `}` after it, if that text is non-empty; otherwise the whole key.
/// Mirrors the hash-tag rule of `keyHashSlot`.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|b| *b == b'{') else {
        return key;
    };
    let rest = &key[open + 1..];
    match rest.iter().position(|b| *b == b'}') {
        Some(close) if close > 0 => &rest[..close],
        _ => key,
    }
}

/// The slot of `key`. Mirrors `keyHashSlot`: CRC16 of the hash tag, mod 16384.
pub fn key_hash_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) & SLOT_MASK
}

/// A node id from caller-provided random bytes: 40 lowercase hex characters of
/// their SHA-1. Redis draws 20 random bytes (`getRandomHexChars`); we hash a
/// seed instead so the caller owns the randomness and tests are reproducible.
pub fn new_node_id(seed: &[u8]) -> String {
    let digest = Sha1::digest(seed);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// True for 40 hex characters, the only shape Redis accepts for a node id
/// (`verifyClusterNodeId`). Redis itself writes lowercase but accepts both cases.
pub fn is_valid_node_id(id: &str) -> bool {
    id.len() == NODE_ID_LEN && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The set slots of `bitmap` as ascending, maximal inclusive ranges.
pub fn bitmap_to_ranges(bitmap: &SlotBitmap) -> Vec<SlotRange> {
    let mut out: Vec<SlotRange> = Vec::new();
    for slot in bitmap.iter() {
        match out.last_mut() {
            Some(r) if r.end + 1 == slot => r.end = slot,
            _ => out.push(SlotRange {
                start: slot,
                end: slot,
            }),
        }
    }
    out
}

/// A bitmap with every slot of `ranges` set. Slots beyond 16383 and
/// ranges with `start > end` contribute nothing.
pub fn ranges_to_bitmap(ranges: &[SlotRange]) -> SlotBitmap {
    let mut bitmap = SlotBitmap::empty();
    for r in ranges {
        let end = r.end.min(SLOT_MASK);
        for slot in r.start..=end {
            bitmap.insert(slot);
        }
    }
    bitmap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_spec_vector() {
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    #[test]
    fn hash_tags_share_a_slot() {
        let slot = key_hash_slot(b"user1000");
        assert_eq!(key_hash_slot(b"{user1000}.following"), slot);
        assert_eq!(key_hash_slot(b"{user1000}.followers"), slot);
        assert_eq!(slot, crc16(b"user1000") % 16384);
    }

    #[test]
    fn hash_tag_edge_cases() {
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"foo{bar"), b"foo{bar");
        assert_eq!(key_hash_slot(b"foo{bar}{zap}"), key_hash_slot(b"bar"));
        assert_eq!(key_hash_slot(b"foo{{bar}}zap"), crc16(b"{bar") & SLOT_MASK);
    }

    #[test]
    fn slots_redis_cli_reports() {
        // Values from `redis-cli CLUSTER KEYSLOT` on redis-server 7.0.15.
        assert_eq!(key_hash_slot(b"foo"), 12182);
        assert_eq!(key_hash_slot(b"bar"), 5061);
        assert_eq!(key_hash_slot(b""), 0);
    }

    #[test]
    fn node_ids() {
        let id = new_node_id(b"seed");
        assert_eq!(id.len(), 40);
        assert!(id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert_eq!(
            new_node_id(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_ne!(new_node_id(b"seed"), new_node_id(b"seee"));
        assert!(is_valid_node_id(&id));
        assert!(!is_valid_node_id(&id[..39]));
        assert!(!is_valid_node_id(&format!("{}g", &id[..39])));
    }

    #[test]
    fn bitmap_ranges_round_trip() {
        let ranges = vec![
            SlotRange {
                start: 0,
                end: 5460,
            },
            SlotRange {
                start: 5462,
                end: 5462,
            },
            SlotRange {
                start: 16000,
                end: 16383,
            },
        ];
        let bitmap = ranges_to_bitmap(&ranges);
        assert_eq!(bitmap.count(), 5461 + 1 + 384);
        assert!(!bitmap.contains(5461));
        assert_eq!(bitmap_to_ranges(&bitmap), ranges);
        assert!(bitmap_to_ranges(&SlotBitmap::empty()).is_empty());
    }

    #[test]
    fn out_of_range_slots_are_ignored_not_panics() {
        let mut bitmap = ranges_to_bitmap(&[SlotRange {
            start: 16383,
            end: u16::MAX,
        }]);
        assert_eq!(
            bitmap_to_ranges(&bitmap),
            vec![SlotRange {
                start: 16383,
                end: 16383
            }]
        );
        bitmap.insert(20000);
        bitmap.remove(20000);
        assert!(!bitmap.contains(20000));
        assert_eq!(bitmap.count(), 1);
    }
}
