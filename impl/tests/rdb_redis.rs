//! RDB against an unmodified redis-server 7.0, both ways: we read the
//! dump.rdb Redis writes (integer-encoded and LZF-compressed strings,
//! expiries), Redis loads the file we write, and DUMP payloads cross in
//! both directions.

mod common;

use clusterbus_node::db::Entry;
use clusterbus_node::rdb::{self, write::Aux};
use common::{call_bytes as call, Redis, Reply};

/// Without cluster mode: the keys are of every slot, and the RDB is the
/// same either way (cluster mode only has db 0).
const PLAIN: [&str; 2] = ["--cluster-enabled", "no"];

/// Keys whose values Redis stores in each of its string encodings.
fn keys() -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (b"small-int".to_vec(), b"-7".to_vec()),
        (b"int16".to_vec(), b"1000".to_vec()),
        (b"int32".to_vec(), b"-70000".to_vec()),
        (b"not-an-int".to_vec(), b"007".to_vec()),
        (b"compressible".to_vec(), b"abcabcabc".repeat(40)),
        (b"binary\x00\xff".to_vec(), vec![0, 1, 2, 255, 13, 10]),
        (b"empty".to_vec(), vec![]),
    ]
}

/// [`keys`] as data set entries, without expiry.
fn entries() -> Vec<(Vec<u8>, Entry)> {
    let entry = |value| Entry {
        value,
        expires_at_ms: None,
    };
    keys().into_iter().map(|(k, v)| (k, entry(v))).collect()
}

#[test]
fn redis_s_dump_rdb_reads() {
    common::require_redis_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &[PLAIN[0], PLAIN[1], "--rdbcompression", "yes"]);
    for (k, v) in keys() {
        assert_eq!(
            call(redis.port, &[b"SET", &k, &v]),
            Reply::Status("OK".into())
        );
    }
    let at = b"4102444800000"; // 2100-01-01, ms
    assert_eq!(
        call(redis.port, &[b"SET", b"expiring", b"v", b"PXAT", at]),
        Reply::Status("OK".into())
    );
    assert_eq!(redis.cmd(&["SAVE"]).text(), "OK");
    let bytes = std::fs::read(dir.path().join("dump.rdb")).expect("redis wrote dump.rdb");
    let plain = b"abcabcabc".repeat(40);
    assert!(
        !bytes.windows(plain.len()).any(|w| w == plain),
        "Redis compressed the long value (the LZF path is read)"
    );
    let loaded = rdb::read(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded.version, 10);
    let mut want = entries();
    want.push((
        b"expiring".to_vec(),
        Entry {
            value: b"v".to_vec(),
            expires_at_ms: Some(4_102_444_800_000),
        },
    ));
    let mut got = loaded.entries;
    got.sort_by(|a, b| a.0.cmp(&b.0));
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    assert!(loaded
        .aux
        .iter()
        .any(|(k, v)| k == b"redis-ver" && v.starts_with(b"7.0.")));
}

#[test]
fn redis_loads_the_file_we_write() {
    common::require_redis_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut entries = entries();
    entries.push((
        b"expiring".to_vec(),
        Entry {
            value: vec![b'x'; 20_000],
            expires_at_ms: Some(4_102_444_800_000),
        },
    ));
    let aux = Aux {
        version: "7.0.15".into(),
        ctime_s: 1_700_000_000,
        used_mem: 0,
    };
    let bytes = rdb::write(entries.iter().map(|(k, e)| (k.as_slice(), e)), &aux);
    std::fs::write(dir.path().join("dump.rdb"), bytes).expect("write dump.rdb");
    let redis = Redis::start(dir.path(), &PLAIN);
    assert_eq!(
        call(redis.port, &[b"DBSIZE"]),
        Reply::Int(entries.len() as i64),
        "{}",
        redis.log()
    );
    for (k, e) in &entries {
        let Reply::Bulk(Some(payload)) = call(redis.port, &[b"DUMP", k]) else {
            panic!("no DUMP of {k:?}");
        };
        assert_eq!(
            rdb::restore_payload(&payload).as_ref(),
            Ok(&e.value),
            "{k:?}"
        );
    }
    let Reply::Int(at) = call(redis.port, &[b"PEXPIRETIME", b"expiring"]) else {
        panic!("PEXPIRETIME");
    };
    assert_eq!(at, 4_102_444_800_000);
}

#[test]
fn dump_payloads_cross_both_ways() {
    common::require_redis_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start(dir.path(), &PLAIN);
    for (k, v) in keys() {
        // Ours, restored by Redis.
        let restored = call(redis.port, &[b"RESTORE", &k, b"0", &rdb::dump_payload(&v)]);
        assert_eq!(restored, Reply::Status("OK".into()), "RESTORE {k:?}");
        // Redis's, read by us: the same bytes as ours for a raw string,
        // its own encodings for integers.
        let Reply::Bulk(Some(payload)) = call(redis.port, &[b"DUMP", &k]) else {
            panic!("no DUMP of {k:?}");
        };
        assert_eq!(rdb::restore_payload(&payload), Ok(v), "{k:?}");
    }
    let damaged = {
        let mut p = rdb::dump_payload(b"v");
        p[2] ^= 1;
        p
    };
    let Reply::Error(e) = call(redis.port, &[b"RESTORE", b"k2", b"0", &damaged]) else {
        panic!("Redis took a damaged payload");
    };
    assert_eq!(e, "ERR DUMP payload version or checksum are wrong");
}
