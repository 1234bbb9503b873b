//! Keys move between clusterbus-node and an unmodified redis-server 7.0 by
//! DUMP and RESTORE, both ways, with their expiry; a damaged payload and an
//! existing key are refused as Redis refuses them.

mod common;
mod procs;

use common::{call_bytes as call, Reply};
use procs::{side_by_side, Proc};

fn dump(node: &Proc, key: &[u8]) -> Vec<u8> {
    match call(node.port, &[b"DUMP", key]) {
        Reply::Bulk(Some(p)) => p,
        other => panic!("DUMP {key:?} on {}: {other:?}", node.port),
    }
}

#[test]
fn keys_move_both_ways_by_dump_and_restore() {
    let both = side_by_side();
    let (redis, ours) = (&both.redis, &both.ours);
    let values: Vec<Vec<u8>> = vec![
        b"plain".to_vec(),
        b"42".to_vec(),
        b"-70000".to_vec(),
        b"abc".repeat(100),
        vec![0, 255, 13, 10],
    ];
    let ok = Reply::Status("OK".into());
    for (i, v) in values.iter().enumerate() {
        let key = format!("key:{i}").into_bytes();
        // redis-server -> clusterbus (Redis's own encodings, LZF included).
        assert_eq!(call(redis.port, &[b"SET", &key, v, b"PX", b"600000"]), ok);
        let theirs = dump(redis, &key);
        assert_eq!(call(ours.port, &[b"RESTORE", &key, b"600000", &theirs]), ok);
        assert_eq!(
            call(ours.port, &[b"GET", &key]),
            Reply::Bulk(Some(v.clone()))
        );
        let Reply::Int(pttl) = call(ours.port, &[b"PTTL", &key]) else {
            panic!("PTTL");
        };
        assert!(pttl > 590_000, "the TTL came along: {pttl}");
        // clusterbus -> redis-server, under another name.
        let back = format!("back:{i}").into_bytes();
        let mine = dump(ours, &key);
        assert_eq!(call(redis.port, &[b"RESTORE", &back, b"0", &mine]), ok);
        assert_eq!(
            call(redis.port, &[b"GET", &back]),
            Reply::Bulk(Some(v.clone()))
        );
    }
    // Refusals, worded as Redis words them, on both.
    let payload = dump(ours, b"key:0");
    let mut damaged = payload.clone();
    damaged[3] ^= 1;
    for node in [redis, ours] {
        assert_eq!(
            call(node.port, &[b"RESTORE", b"key:0", b"0", &payload]),
            Reply::Error("BUSYKEY Target key name already exists.".into())
        );
        assert_eq!(
            call(
                node.port,
                &[b"RESTORE", b"key:0", b"0", &payload, b"REPLACE"]
            ),
            ok
        );
        assert_eq!(
            call(node.port, &[b"RESTORE", b"fresh", b"0", &damaged]),
            Reply::Error("ERR DUMP payload version or checksum are wrong".into())
        );
        // An absolute expiry in the past: OK, and no key.
        assert_eq!(
            call(node.port, &[b"RESTORE", b"past", b"1", &payload, b"ABSTTL"]),
            ok
        );
        assert_eq!(call(node.port, &[b"EXISTS", b"past"]), Reply::Int(0));
    }
}
