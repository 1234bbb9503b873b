//! Codec tests: byte layout, one test per `DecodeError` variant, and
//! property tests (round trip, no panic on arbitrary bytes).

use super::*;
use proptest::prelude::*;

fn name(c: u8) -> NodeName {
    [c; NODE_NAME_LEN]
}

fn header() -> Header {
    let mut myslots = SlotBitmap::empty();
    myslots.insert(0);
    myslots.insert(16383);
    Header {
        port: 7000,
        current_epoch: 5,
        config_epoch: 3,
        offset: 0x0102_0304_0506_0708,
        sender: name(b'a'),
        myslots,
        slaveof: NULL_NODE_NAME,
        myip: c_str_field(b"127.0.0.1"),
        notused1: [0; 30],
        pport: 0,
        cport: 17000,
        flags: flags::MASTER,
        state: 0,
        mflags: [0; 3],
    }
}

fn gossip(c: u8) -> GossipEntry {
    GossipEntry {
        nodename: name(c),
        ping_sent: 11,
        pong_received: 12,
        ip: c_str_field(b"10.0.0.1"),
        port: 7001,
        cport: 17001,
        flags: flags::SLAVE | flags::PFAIL,
        pport: 0,
        notused1: 0,
    }
}

fn ping(n: u8, exts: Vec<PingExt>) -> Message {
    let mut header = header();
    if !exts.is_empty() {
        header.mflags[0] |= mflags0::EXT_DATA;
    }
    let gossip = (0..n).map(|i| gossip(b'0' + i)).collect();
    Message {
        header,
        body: Body::Ping {
            gossip,
            extensions: exts,
        },
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn set16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

fn set32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

#[test]
fn header_fields_sit_at_redis_offsets() {
    let bytes = encode(&ping(2, vec![PingExt::hostname(b"host-a")]));
    assert_eq!(&bytes[..4], b"RCmb");
    let totlen = HEADER_LEN + 2 * GOSSIP_ENTRY_LEN + 16;
    assert_eq!(bytes.len(), totlen);
    assert_eq!(
        u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize,
        totlen
    );
    assert_eq!(be16(&bytes, 8), 1, "ver");
    assert_eq!(be16(&bytes, 10), 7000, "port");
    assert_eq!(be16(&bytes, 12), 0, "type PING");
    assert_eq!(be16(&bytes, 14), 2, "count");
    assert_eq!(bytes[16..24], 5u64.to_be_bytes());
    assert_eq!(bytes[32..40], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(bytes[80], 1, "slot 0 is bit 0 of byte 0");
    assert_eq!(bytes[80 + 2047], 0x80, "slot 16383 is bit 7 of byte 2047");
    assert_eq!(&bytes[2168..2177], b"127.0.0.1");
    assert_eq!(be16(&bytes, 2214), 1, "extensions");
    assert_eq!(be16(&bytes, 2248), 17000, "cport");
    assert_eq!(be16(&bytes, 2250), flags::MASTER);
    assert_eq!(bytes[2253], mflags0::EXT_DATA);
    let g = HEADER_LEN;
    assert_eq!(&bytes[g..g + 40], &[b'0'; 40]);
    assert_eq!(be16(&bytes, g + 94), 7001);
    assert_eq!(be16(&bytes, g + 98), flags::SLAVE | flags::PFAIL);
    let e = HEADER_LEN + 2 * GOSSIP_ENTRY_LEN;
    assert_eq!(&bytes[e..e + 8], &[0, 0, 0, 16, 0, 0, 0, 0]);
    assert_eq!(&bytes[e + 8..e + 16], b"host-a\0\0");
}

#[test]
fn fixed_lengths_match_redis() {
    let h = header();
    let fail = Message {
        header: h.clone(),
        body: Body::Fail {
            nodename: name(b'f'),
        },
    };
    assert_eq!(encode(&fail).len(), 2296);
    let upd = Body::Update {
        config_epoch: 9,
        nodename: name(b'u'),
        slots: SlotBitmap::empty(),
    };
    assert_eq!(
        encode(&Message {
            header: h.clone(),
            body: upd
        })
        .len(),
        4352
    );
    for body in [
        Body::FailoverAuthRequest,
        Body::FailoverAuthAck,
        Body::MfStart,
    ] {
        assert_eq!(
            encode(&Message {
                header: h.clone(),
                body
            })
            .len(),
            2256
        );
    }
}

#[test]
fn encode_pads_extension_data_and_sets_ext_flag() {
    let mut msg = ping(0, vec![]);
    let ext = PingExt {
        ext_type: 7,
        unused: 0,
        data: vec![1, 2, 3],
    };
    msg.body = Body::Pong {
        gossip: vec![],
        extensions: vec![ext],
    };
    let bytes = encode(&msg);
    assert_eq!(bytes.len(), HEADER_LEN + 16);
    assert_eq!(bytes[2253] & mflags0::EXT_DATA, mflags0::EXT_DATA);
    let back = decode(&bytes).map_err(|e| e.to_string());
    let Ok(Message {
        body: Body::Pong { extensions, .. },
        ..
    }) = back
    else {
        panic!("pong did not decode: {back:?}");
    };
    assert_eq!(extensions[0].data, vec![1, 2, 3, 0, 0, 0, 0, 0]);
    assert_eq!(extensions[0].ext_type, 7);
}

#[test]
fn hostname_helpers_round_trip() {
    let ext = PingExt::hostname(b"abcdefgh");
    assert_eq!(ext.data.len(), 16, "name + NUL rounded up to 8");
    assert_eq!(ext.hostname_bytes(), Some(&b"abcdefgh"[..]));
}

#[test]
fn frame_length_wants_eight_bytes() {
    let bytes = encode(&ping(1, vec![]));
    assert_eq!(frame_length(&bytes[..7]), Ok(None));
    assert_eq!(
        frame_length(&bytes[..8]),
        Ok(Some(HEADER_LEN + GOSSIP_ENTRY_LEN))
    );
}

#[test]
fn error_bad_signature() {
    let mut bytes = encode(&ping(0, vec![]));
    bytes[0] = b'X';
    let err = decode(&bytes).unwrap_err();
    assert_eq!(err, DecodeError::BadSignature { found: *b"XCmb" });
    assert!(err.closes_link());
}

#[test]
fn error_too_short() {
    let mut bytes = encode(&ping(0, vec![]));
    set32(&mut bytes, 4, 2255);
    assert_eq!(
        frame_length(&bytes),
        Err(DecodeError::TooShort { totlen: 2255 })
    );
}

#[test]
fn error_too_long() {
    let mut bytes = encode(&ping(0, vec![]));
    set32(&mut bytes, 4, MAX_FRAME_LEN + 1);
    let err = frame_length(&bytes).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TooLong {
            totlen: MAX_FRAME_LEN + 1,
            max: MAX_FRAME_LEN
        }
    );
}

#[test]
fn error_truncated() {
    let bytes = encode(&ping(1, vec![]));
    let err = decode(&bytes[..bytes.len() - 1]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::Truncated {
            needed: 2360,
            available: 2359
        }
    );
    assert!(!err.closes_link());
    assert_eq!(
        decode(b"RCm"),
        Err(DecodeError::Truncated {
            needed: 8,
            available: 3
        })
    );
}

#[test]
fn error_trailing_bytes() {
    let mut bytes = encode(&ping(0, vec![]));
    bytes.push(0);
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::TrailingBytes {
            totlen: 2256,
            available: 2257
        })
    );
}

#[test]
fn error_unknown_version() {
    let mut bytes = encode(&ping(0, vec![]));
    set16(&mut bytes, 8, 2);
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::UnknownVersion { version: 2 })
    );
}

#[test]
fn error_unknown_type() {
    let mut bytes = encode(&ping(0, vec![]));
    set16(&mut bytes, 12, 11);
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::UnknownType { type_code: 11 })
    );
}

#[test]
fn error_length_mismatch_names_type_and_lengths() {
    let msg = Message {
        header: header(),
        body: Body::Fail {
            nodename: name(b'f'),
        },
    };
    let mut bytes = encode(&msg);
    bytes.extend_from_slice(&[0; 8]);
    set32(&mut bytes, 4, 2304);
    let err = decode(&bytes).unwrap_err();
    let want = DecodeError::LengthMismatch {
        message_type: MessageType::Fail,
        expected: 2296,
        actual: 2304,
    };
    assert_eq!(err, want);
    assert!(err
        .to_string()
        .contains("Fail frame has totlen 2304 but its contents imply 2296"));
}

#[test]
fn error_publish_lengths_do_not_wrap() {
    let body = Body::Publish {
        channel: b"ch".to_vec(),
        message: b"hello".to_vec(),
    };
    let mut bytes = encode(&Message {
        header: header(),
        body,
    });
    // channel_len + message_len is 2^32 + 7, which wraps to the real 7 in 32 bits; Redis's u32 sum would accept it.
    set32(&mut bytes, HEADER_LEN, 0x8000_0000);
    set32(&mut bytes, HEADER_LEN + 4, 0x8000_0007);
    let err = decode(&bytes).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::LengthMismatch {
            message_type: MessageType::Publish,
            ..
        }
    ));
}

#[test]
fn error_gossip_count_too_large() {
    let mut bytes = encode(&ping(1, vec![]));
    set16(&mut bytes, 14, 2);
    let err = decode(&bytes).unwrap_err();
    let want = DecodeError::GossipCountTooLarge {
        message_type: MessageType::Ping,
        count: 2,
        totlen: 2360,
    };
    assert_eq!(err, want);
}

#[test]
fn error_bad_extension_length_each_problem() {
    let bytes = encode(&ping(0, vec![PingExt::hostname(b"h")]));
    let at = HEADER_LEN;
    let cases = [
        (12, ExtensionLengthProblem::NotPadded),
        (0, ExtensionLengthProblem::ShorterThanHeader),
        (24, ExtensionLengthProblem::PastEndOfFrame),
    ];
    for (length, problem) in cases {
        let mut b = bytes.clone();
        set32(&mut b, at, length);
        let want = DecodeError::BadExtensionLength {
            index: 0,
            length,
            problem,
        };
        assert_eq!(decode(&b), Err(want));
    }
    let mut two = bytes.clone();
    set16(&mut two, 2214, 2);
    let err = decode(&two).unwrap_err();
    assert!(
        matches!(err, DecodeError::BadExtensionLength { index: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn error_extensions_without_flag() {
    let mut bytes = encode(&ping(0, vec![PingExt::hostname(b"h")]));
    bytes[2253] = 0;
    assert_eq!(
        decode(&bytes),
        Err(DecodeError::ExtensionsWithoutFlag { count: 1 })
    );
}

#[test]
fn flag_without_extensions_decodes_to_empty_list() {
    let mut msg = ping(1, vec![]);
    msg.header.mflags[0] = mflags0::EXT_DATA;
    let bytes = encode(&msg);
    assert_eq!(decode(&bytes), Ok(msg));
}

// ---- property tests ----

fn arb_name() -> impl Strategy<Value = NodeName> {
    any::<[u8; NODE_NAME_LEN]>()
}

fn arb_bitmap() -> impl Strategy<Value = SlotBitmap> {
    proptest::collection::vec(any::<u16>(), 0..20).prop_map(|slots| {
        let mut b = SlotBitmap::empty();
        slots
            .into_iter()
            .for_each(|s| b.insert(s % CLUSTER_SLOTS as u16));
        b
    })
}

fn arb_header() -> impl Strategy<Value = Header> {
    let a = (
        any::<u16>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        arb_name(),
        arb_bitmap(),
    );
    let b = (
        arb_name(),
        any::<[u8; NET_IP_STR_LEN]>(),
        any::<[u8; 30]>(),
        any::<[u16; 3]>(),
    );
    (a, b, any::<u8>(), any::<[u8; 3]>()).prop_map(
        |((port, ce, cfe, off, sender, myslots), (slaveof, myip, nu, ports), state, mflags)| {
            Header {
                port,
                current_epoch: ce,
                config_epoch: cfe,
                offset: off,
                sender,
                myslots,
                slaveof,
                myip,
                notused1: nu,
                pport: ports[0],
                cport: ports[1],
                flags: ports[2],
                state,
                mflags,
            }
        },
    )
}

fn arb_gossip() -> impl Strategy<Value = GossipEntry> {
    (
        arb_name(),
        any::<[u32; 2]>(),
        any::<[u8; NET_IP_STR_LEN]>(),
        any::<[u16; 5]>(),
    )
        .prop_map(|(nodename, t, ip, p)| GossipEntry {
            nodename,
            ping_sent: t[0],
            pong_received: t[1],
            ip,
            port: p[0],
            cport: p[1],
            flags: p[2],
            pport: p[3],
            notused1: p[4],
        })
}

fn arb_ext() -> impl Strategy<Value = PingExt> {
    (
        any::<u16>(),
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..4),
    )
        .prop_map(|(ext_type, unused, words)| {
            let data = words.iter().flat_map(|w| [*w; 8]).collect();
            PingExt {
                ext_type,
                unused,
                data,
            }
        })
}

fn arb_body() -> impl Strategy<Value = Body> {
    let gossip = || proptest::collection::vec(arb_gossip(), 0..5);
    let exts = || proptest::collection::vec(arb_ext(), 0..3);
    let bytes = || proptest::collection::vec(any::<u8>(), 0..40);
    prop_oneof![
        (gossip(), exts()).prop_map(|(gossip, extensions)| Body::Ping { gossip, extensions }),
        (gossip(), exts()).prop_map(|(gossip, extensions)| Body::Pong { gossip, extensions }),
        (gossip(), exts()).prop_map(|(gossip, extensions)| Body::Meet { gossip, extensions }),
        arb_name().prop_map(|nodename| Body::Fail { nodename }),
        (bytes(), bytes()).prop_map(|(channel, message)| Body::Publish { channel, message }),
        (bytes(), bytes()).prop_map(|(channel, message)| Body::PublishShard { channel, message }),
        Just(Body::FailoverAuthRequest),
        Just(Body::FailoverAuthAck),
        Just(Body::MfStart),
        (any::<u64>(), arb_name(), arb_bitmap()).prop_map(|(config_epoch, nodename, slots)| {
            Body::Update {
                config_epoch,
                nodename,
                slots,
            }
        }),
        (any::<u64>(), any::<u8>(), bytes()).prop_map(|(module_id, module_type, payload)| {
            Body::Module {
                module_id,
                module_type,
                payload,
            }
        }),
    ]
}

/// A message whose `mflags[0]` agrees with its body: `EXT_DATA` whenever it has
/// extensions (the encoder sets it then; the decoder needs it to find them).
fn arb_message() -> impl Strategy<Value = Message> {
    (arb_header(), arb_body()).prop_map(|(mut header, body)| {
        if let Body::Ping { extensions, .. }
        | Body::Pong { extensions, .. }
        | Body::Meet { extensions, .. } = &body
        {
            if !extensions.is_empty() {
                header.mflags[0] |= mflags0::EXT_DATA;
            }
        }
        Message { header, body }
    })
}

proptest! {
    #[test]
    fn round_trip(msg in arb_message()) {
        let bytes = encode(&msg);
        prop_assert_eq!(frame_length(&bytes), Ok(Some(bytes.len())));
        let back = decode(&bytes);
        prop_assert_eq!(back.as_ref(), Ok(&msg));
        if let Ok(back) = back {
            prop_assert_eq!(encode(&back), bytes);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let _ = frame_length(&bytes);
        let _ = decode(&bytes);
    }

    #[test]
    fn mutated_frames_never_panic_and_reencode_exactly(
        msg in arb_message(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = encode(&msg);
        let n = bytes.len();
        for (at, v) in flips {
            bytes[at % n] = v;
        }
        if let Ok(decoded) = decode(&bytes) {
            let again = encode(&decoded);
            prop_assert_eq!(decode(&again), Ok(decoded));
        }
    }
}
