//! CLUSTER KEYSLOT, COUNTKEYSINSLOT and GETKEYSINSLOT: keys and their hash
//! slots. `redis-cli --cluster` uses the last two to move keys and to check
//! that a node is empty.

use crate::commands::{Context, Outcome};
use crate::core::CLUSTER_SLOTS;
use crate::resp::Frame;
use crate::slots::key_hash_slot;

use super::args;

/// `CLUSTER KEYSLOT <key>`: the slot of a key. Mirrors the `keyslot` branch
/// of `clusterCommand` (`keyHashSlot`).
pub(super) fn keyslot(_ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    Outcome::Reply(Frame::Integer(key_hash_slot(&args[1]).into()))
}

/// `CLUSTER COUNTKEYSINSLOT <slot>`: how many keys the slot holds here.
/// Mirrors the `countkeysinslot` branch of `clusterCommand` (its own range
/// error, `Invalid slot`, not `getSlotOrReply`'s).
pub(super) fn countkeysinslot(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let slot = match args::integer(&args[1]) {
        Ok(s) => s,
        Err(e) => return Outcome::Reply(e),
    };
    if !(0..CLUSTER_SLOTS as i64).contains(&slot) {
        return Outcome::Reply(Frame::error("ERR Invalid slot"));
    }
    let count = ctx.db.count_in_slot(slot as u16);
    Outcome::Reply(Frame::Integer(count as i64))
}

/// `CLUSTER GETKEYSINSLOT <slot> <count>`: up to `count` key names of the
/// slot. Mirrors the `getkeysinslot` branch of `clusterCommand`.
pub(super) fn getkeysinslot(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    let parsed = args::integer(&args[1]).and_then(|s| Ok((s, args::integer(&args[2])?)));
    let (slot, max_keys) = match parsed {
        Ok(p) => p,
        Err(e) => return Outcome::Reply(e),
    };
    if !(0..CLUSTER_SLOTS as i64).contains(&slot) || max_keys < 0 {
        return Outcome::Reply(Frame::error("ERR Invalid slot or number of keys"));
    }
    let count = usize::try_from(max_keys).unwrap_or(usize::MAX);
    let keys = ctx.db.keys_in_slot(slot as u16, count);
    Outcome::Reply(Frame::Array(keys.into_iter().map(Frame::Bulk).collect()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::Fixture;
    use crate::resp::Frame;

    #[test]
    fn keyslot_hashes_the_tag() {
        let mut t = Fixture::new();
        assert_eq!(t.reply(&["KEYSLOT", "foo"]), Frame::Integer(12182));
        assert_eq!(t.reply(&["keyslot", "{foo}.bar"]), Frame::Integer(12182));
    }

    #[test]
    fn keys_are_counted_and_listed_per_slot() {
        let mut t = Fixture::new();
        t.set_key("{foo}.b");
        t.set_key("{foo}.a");
        t.set_key("bar");
        assert_eq!(t.reply(&["COUNTKEYSINSLOT", "12182"]), Frame::Integer(2));
        assert_eq!(t.reply(&["COUNTKEYSINSLOT", "0"]), Frame::Integer(0));
        assert_eq!(
            t.reply(&["GETKEYSINSLOT", "12182", "1"]),
            Frame::Array(vec![Frame::bulk("{foo}.a")])
        );
        assert_eq!(
            t.reply(&["GETKEYSINSLOT", "12182", "9223372036854775807"]),
            Frame::Array(vec![Frame::bulk("{foo}.a"), Frame::bulk("{foo}.b")])
        );
        assert_eq!(
            t.reply(&["GETKEYSINSLOT", "12182", "0"]),
            Frame::Array(vec![])
        );
    }

    #[test]
    fn bad_slots_and_counts_get_redis_errors() {
        let mut t = Fixture::new();
        let not_int = Frame::error("ERR value is not an integer or out of range");
        assert_eq!(t.reply(&["COUNTKEYSINSLOT", "x"]), not_int);
        assert_eq!(
            t.reply(&["COUNTKEYSINSLOT", "16384"]),
            Frame::error("ERR Invalid slot")
        );
        assert_eq!(
            t.reply(&["COUNTKEYSINSLOT", "-1"]),
            Frame::error("ERR Invalid slot")
        );
        assert_eq!(t.reply(&["GETKEYSINSLOT", "1", "x"]), not_int);
        assert_eq!(t.reply(&["GETKEYSINSLOT", "x", "-1"]), not_int);
        let invalid = Frame::error("ERR Invalid slot or number of keys");
        assert_eq!(t.reply(&["GETKEYSINSLOT", "1", "-1"]), invalid);
        assert_eq!(t.reply(&["GETKEYSINSLOT", "16384", "1"]), invalid);
    }
}
