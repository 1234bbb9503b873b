use super::write::{len_bytes, Aux};
use super::*;
use crate::db::Entry;

fn entry(v: &[u8], exp: Option<u64>) -> Entry {
    Entry {
        value: v.to_vec(),
        expires_at_ms: exp,
    }
}

fn file(entries: &[(Vec<u8>, Entry)]) -> Vec<u8> {
    let aux = Aux {
        version: "7.0.15".into(),
        ctime_s: 1_700_000_000,
        used_mem: 1 << 20,
    };
    write(entries.iter().map(|(k, e)| (k.as_slice(), e)), &aux)
}

#[test]
fn what_is_written_reads_back() {
    let big = vec![b'z'; 70_000];
    let entries = vec![
        (b"a".to_vec(), entry(b"1", None)),
        (b"{user}:2".to_vec(), entry(&big, Some(1_900_000_000_000))),
        (vec![0, 255, 10], entry(b"", None)),
    ];
    let bytes = file(&entries);
    assert!(bytes.starts_with(b"REDIS0010"));
    let loaded = read(&bytes).expect("reads back");
    assert_eq!(loaded.entries, entries);
    assert_eq!(loaded.version, 10);
    let aux: Vec<&[u8]> = loaded.aux.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(aux[0], b"redis-ver");
}

#[test]
fn integers_are_written_in_redis_s_integer_encodings() {
    // DUMP payloads of what Redis stores as integers.
    assert_eq!(&dump_payload(b"-7")[..3], &[0, 0xc0, 0xf9]);
    assert_eq!(&dump_payload(b"1000")[..4], &[0, 0xc1, 0xe8, 0x03]);
    assert_eq!(
        &dump_payload(b"-70000")[..6],
        &[0, 0xc2, 0x90, 0xee, 0xfe, 0xff]
    );
    // Not canonical, or too long: raw.
    for raw in [&b"007"[..], b"+1", b"-0", b"12345678901", b" 1"] {
        assert_eq!(dump_payload(raw)[1] as usize, raw.len(), "{raw:?}");
        assert_eq!(restore_payload(&dump_payload(raw)).as_deref(), Ok(raw));
    }
    assert_eq!(
        restore_payload(&dump_payload(b"-70000")).as_deref(),
        Ok(&b"-70000"[..])
    );
}

#[test]
fn lengths_take_redis_s_four_forms() {
    assert_eq!(len_bytes(63), vec![63]);
    assert_eq!(len_bytes(64), vec![0x40, 64]);
    assert_eq!(len_bytes(16_383), vec![0x7f, 0xff]);
    assert_eq!(len_bytes(16_384), vec![0x80, 0, 0, 0x40, 0]);
    assert_eq!(len_bytes(1 << 32), vec![0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
}

#[test]
fn a_damaged_file_is_refused_with_where() {
    let bytes = file(&[(b"k".to_vec(), entry(b"value", None))]);
    let mut bad = bytes.clone();
    let at = bad.len() - 12;
    bad[at] ^= 1;
    let e = read(&bad).expect_err("a flipped byte");
    assert!(e.what.contains("checksum"), "{e}");
    let e = read(&bytes[..bytes.len() - 3]).expect_err("cut short");
    assert!(e.what.contains("ends inside"), "{e}");
    assert_eq!(read(b"RADIS0010").expect_err("no signature").offset, 0);
    let e = read(b"REDIS0011\xff").expect_err("a newer version");
    assert!(e.what.contains("version"), "{e}");
    // A checksum of 0 means "not computed" (rdbchecksum no).
    let mut unchecked = bytes.clone();
    let n = unchecked.len();
    unchecked[n - 8..].fill(0);
    assert!(read(&unchecked).is_ok());
}

#[test]
fn other_types_are_refused_not_dropped() {
    // A list record where a string was: type 14 after the RESIZEDB.
    let mut bytes = b"REDIS0010".to_vec();
    bytes.extend_from_slice(&[0xfe, 0, 0xfb, 1, 0, 14, 1, b'l']);
    let e = read(&bytes).expect_err("a list");
    assert!(
        e.what.contains("list") && e.what.contains("strings only"),
        "{e}"
    );
    assert_eq!(e.offset, 15, "the offset of the record's key");
    let mut other_db = b"REDIS0010".to_vec();
    other_db.extend_from_slice(&[0xfe, 3]);
    assert!(read(&other_db)
        .expect_err("db 3")
        .what
        .contains("database 3"));
}

#[test]
fn other_types_can_be_skipped_and_counted() {
    let mut bytes = b"REDIS0010".to_vec();
    // list (type 1) of two, hash listpack (16, one blob), a string, a stream.
    bytes.extend_from_slice(&[1, 1, b'l', 2, 1, b'a', 1, b'b']);
    bytes.extend_from_slice(&[16, 1, b'h', 3, 9, 9, 9]);
    bytes.extend_from_slice(&[0, 1, b'k', 1, b'v']);
    bytes.push(0xff);
    let crc = crc64::crc64(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    assert!(read(&bytes).is_err(), "refused by default");
    let l = read_with(&bytes, Others::Skip).expect("skipped");
    assert_eq!(l.entries.len(), 1);
    assert_eq!(l.skipped.get("list"), Some(&1));
    assert_eq!(l.skipped.get("hash"), Some(&1));
    let mut stream = b"REDIS0010".to_vec();
    stream.extend_from_slice(&[19, 1, b's', 0]);
    assert!(
        read_with(&stream, Others::Skip).is_err(),
        "a stream is not stepped over"
    );
}

#[test]
fn integer_and_lzf_strings_read_as_redis_writes_them() {
    let mut bytes = b"REDIS0009".to_vec();
    // int8 -5, int16 1000, int32 -70000 as keys; LZF "abcabca" as a value.
    let mut rec = |key: &[u8], value: &[u8]| {
        bytes.push(0);
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(value);
    };
    rec(&[0xc0, 0xfb], &[1, b'x']);
    rec(&[0xc1, 0xe8, 0x03], &[1, b'y']);
    rec(
        &[0xc2, 0x90, 0xee, 0xfe, 0xff],
        &[0xc3, 6, 7, 2, b'a', b'b', b'c', 0x40, 2],
    );
    bytes.push(0xff);
    let crc = crc64::crc64(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let l = read(&bytes).expect("reads");
    let keys: Vec<&[u8]> = l.entries.iter().map(|(k, _)| k.as_slice()).collect();
    assert_eq!(keys, vec![&b"-5"[..], b"1000", b"-70000"]);
    assert_eq!(l.entries[2].1.value, b"abcabca");
}

#[test]
fn a_dump_payload_restores_and_a_damaged_one_does_not() {
    let p = dump_payload(b"hello");
    assert_eq!(restore_payload(&p).as_deref(), Ok(&b"hello"[..]));
    let mut bad = p.clone();
    bad[2] ^= 1;
    let e = restore_payload(&bad).expect_err("damaged");
    assert_eq!(e.what, "DUMP payload version or checksum are wrong");
    assert!(restore_payload(&p[..5]).is_err());
}
