//! Tests of the request parser: the exact outcomes redis-server 7.0.15 gives
//! for the same bytes (observed on loopback), and a property test that no
//! input makes it panic.

use super::*;
use proptest::prelude::*;

fn ok(buf: &[u8]) -> (Vec<Vec<u8>>, usize) {
    match parse_request(buf) {
        Ok(r) => r,
        Err(e) => panic!("{buf:?}: {e:?}"),
    }
}

fn err(buf: &[u8]) -> String {
    match parse_request(buf) {
        Err(RequestError::Invalid(text)) => text,
        other => panic!("{buf:?}: {other:?}"),
    }
}

fn args(list: &[&str]) -> Vec<Vec<u8>> {
    list.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn multibulk(list: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", list.len()).into_bytes();
    for a in list {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[test]
fn multibulk_request_and_its_length() {
    let buf = b"*2\r\n$4\r\nECHO\r\n$3\r\na b\r\n*1\r\n$4\r\nPING\r\n";
    assert_eq!(ok(buf), (args(&["ECHO", "a b"]), 23));
    assert_eq!(ok(&buf[23..]), (args(&["PING"]), 14));
    assert_eq!(ok(b"*1\r\n$0\r\n\r\n"), (vec![Vec::new()], 10));
}

#[test]
fn every_proper_prefix_is_incomplete() {
    let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
    for n in 0..buf.len() {
        assert_eq!(
            parse_request(&buf[..n]),
            Err(RequestError::Incomplete),
            "{n}"
        );
    }
    assert_eq!(ok(buf).1, buf.len());
    let inline = b"SET k v\r\n";
    for n in 0..inline.len() {
        assert_eq!(
            parse_request(&inline[..n]),
            Err(RequestError::Incomplete),
            "{n}"
        );
    }
}

#[test]
fn empty_requests_consume_their_bytes() {
    assert_eq!(ok(b"*0\r\nPING\r\n"), (vec![], 4));
    assert_eq!(ok(b"*-1\r\n"), (vec![], 5));
    assert_eq!(ok(b"*-2\r\n"), (vec![], 5));
    assert_eq!(ok(b"\r\nPING\r\n"), (vec![], 2));
    assert_eq!(ok(b"\n"), (vec![], 1));
    assert_eq!(ok(b" \t\r\n"), (vec![], 4));
}

#[test]
fn multibulk_errors_word_for_word() {
    assert_eq!(err(b"*x\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(err(b"*\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(err(b"*+1\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(err(b"*01\r\n"), "Protocol error: invalid multibulk length");
    assert_eq!(
        err(b"*2147483648\r\n"),
        "Protocol error: invalid multibulk length"
    );
    assert_eq!(err(b"*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
    assert_eq!(err(b"*1\r\n$\r\n"), "Protocol error: invalid bulk length");
    assert_eq!(
        err(b"*1\r\n$01\r\nx\r\n"),
        "Protocol error: invalid bulk length"
    );
    assert_eq!(
        err(b"*1\r\n$536870913\r\n"),
        "Protocol error: invalid bulk length"
    );
    assert_eq!(
        err(b"*1\r\n:1\r\n"),
        "Protocol error: expected '$', got ':'"
    );
    assert_eq!(
        err(b"*2\r\n$1\r\na\r\nb\r\n"),
        "Protocol error: expected '$', got 'b'"
    );
}

#[test]
fn limits_are_redis_7_0s() {
    // 7.0 accepts any count up to INT_MAX (and waits for the arguments).
    assert_eq!(
        parse_request(b"*1048577\r\n"),
        Err(RequestError::Incomplete)
    );
    assert_eq!(
        parse_request(b"*2147483647\r\n"),
        Err(RequestError::Incomplete)
    );
    assert_eq!(
        parse_request(b"*1\r\n$536870912\r\n"),
        Err(RequestError::Incomplete)
    );
    let mut long = b"*".to_vec();
    long.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE - 1));
    assert_eq!(parse_request(&long), Err(RequestError::Incomplete));
    long.push(b'1');
    assert_eq!(err(&long), "Protocol error: too big mbulk count string");
    let mut bulk = b"*1\r\n$".to_vec();
    bulk.extend(std::iter::repeat_n(b'1', PROTO_INLINE_MAX_SIZE));
    assert_eq!(err(&bulk), "Protocol error: too big bulk count string");
    let inline = vec![b'x'; PROTO_INLINE_MAX_SIZE + 1];
    assert_eq!(err(&inline), "Protocol error: too big inline request");
    assert_eq!(parse_request(&inline[1..]), Err(RequestError::Incomplete));
}

#[test]
fn unauthenticated_limits() {
    let e = |b: &[u8]| parse_request_with(b, true);
    let text = |s: &str| Err(RequestError::Invalid(format!("Protocol error: {s}")));
    assert_eq!(e(b"*11\r\n"), text("unauthenticated multibulk length"));
    assert_eq!(e(b"*1\r\n$16385\r\n"), text("unauthenticated bulk length"));
    assert_eq!(e(b"*10\r\n$16384\r\n"), Err(RequestError::Incomplete));
    assert_eq!(parse_request(b"*11\r\n"), Err(RequestError::Incomplete));
}

#[test]
fn header_and_bulk_terminators_are_skipped_unchecked_as_redis_does() {
    assert_eq!(ok(b"*1\rX$4\r\nPING\r\n"), (args(&["PING"]), 14));
    assert_eq!(ok(b"*1\r\n$4\rXPING\r\n"), (args(&["PING"]), 14));
    assert_eq!(ok(b"*1\r\n$4\r\nPINGxx"), (args(&["PING"]), 14));
}

#[test]
fn inline_splitting_follows_sdssplitargs() {
    assert_eq!(ok(b"PING\r\n"), (args(&["PING"]), 6));
    assert_eq!(ok(b"PING\n"), (args(&["PING"]), 5));
    assert_eq!(ok(b"  set  k\tv  \r\n"), (args(&["set", "k", "v"]), 14));
    assert_eq!(ok(b"ECHO \"a b\" c\r\n").0, args(&["ECHO", "a b", "c"]));
    assert_eq!(ok(b"ECHO \"\\x41\\n\"\r\n").0, args(&["ECHO", "A\n"]));
    assert_eq!(ok(b"ECHO \"\\q\\\"\"\r\n").0, args(&["ECHO", "q\""]));
    assert_eq!(ok(b"ECHO 'a\\'b'\r\n").0, args(&["ECHO", "a'b"]));
    assert_eq!(ok(b"ECHO 'a\\nb'\r\n").0, args(&["ECHO", "a\\nb"]));
    assert_eq!(ok(b"ECHO ab\"c d\"\r\n").0, args(&["ECHO", "abc d"]));
    assert_eq!(ok(b"ECHO \"\"\r\n").0, args(&["ECHO", ""]));
    // \v and \f separate arguments only before one starts.
    assert_eq!(ok(b"ECHO\t\x0bx\r\n").0, args(&["ECHO", "x"]));
    assert_eq!(ok(b"a\x0bb\r\n").0, args(&["a\x0bb"]));
    // A lone \r inside the line ends an argument.
    assert_eq!(ok(b"a\rb\r\n").0, args(&["a", "b"]));
}

#[test]
fn inline_unbalanced_quotes() {
    for line in [
        &b"\"PING\r\n"[..],
        b"PING \"a\"b\r\n",
        b"PING 'a'b\r\n",
        b"PING 'abc\r\n",
        b"PING \"abc\\\"\r\n",
    ] {
        assert_eq!(
            err(line),
            "Protocol error: unbalanced quotes in request",
            "{line:?}"
        );
    }
}

#[test]
fn invalid_replies_carry_the_err_prefix() {
    let e = RequestError::Invalid("Protocol error: invalid bulk length".into());
    assert_eq!(
        e.reply().map(|f| f.to_bytes()),
        Some(b"-ERR Protocol error: invalid bulk length\r\n".to_vec())
    );
    assert_eq!(RequestError::Incomplete.reply(), None);
}

#[test]
fn string2ll_is_strict() {
    assert_eq!(string2ll(b"0"), Some(0));
    assert_eq!(string2ll(b"-1"), Some(-1));
    assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        &b""[..],
        b"-",
        b"-0",
        b"01",
        b"+1",
        b" 1",
        b"1 ",
        b"1.5",
        b"9223372036854775808",
        b"-9223372036854775809",
        b"123456789012345678901",
    ] {
        assert_eq!(string2ll(bad), None, "{bad:?}");
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok((_, n)) = parse_request(&buf) {
            prop_assert!(n > 0 && n <= buf.len());
        }
        let _ = parse_request_with(&buf, true);
    }

    #[test]
    fn random_bytes_after_a_star_never_panic(tail in proptest::collection::vec(
        prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'$'), Just(b'-'), b'0'..=b'9', any::<u8>()],
        0..256,
    )) {
        let mut buf = b"*".to_vec();
        buf.extend(tail);
        if let Ok((_, n)) = parse_request(&buf) {
            prop_assert!(n > 0 && n <= buf.len());
        }
    }

    #[test]
    fn encoded_requests_round_trip(list in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..40), 1..8,
    )) {
        let buf = multibulk(&list);
        prop_assert_eq!(parse_request(&buf), Ok((list, buf.len())));
        prop_assert_eq!(parse_request(&buf[..buf.len() - 1]), Err(RequestError::Incomplete));
    }
}
