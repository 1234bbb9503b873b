//! HELLO [protover [AUTH username password] [SETNAME clientname]]: picks
//! the connection's protocol (RESP2 or RESP3), optionally logs in and names
//! the connection, and answers with a map describing the server. Mirrors
//! `helloCommand` of Redis 7.0, errors and their order included.

use super::client::set_name;
use super::server::authenticate;
use super::{Context, Frame};
use crate::resp::{string2ll, Protocol};

/// HELLO. Options are applied left to right; the first bad one stops the
/// command (a SETNAME before it stays applied, as in Redis). The protocol
/// changes only when everything succeeded, and the reply is written in the
/// new protocol.
pub fn hello(ctx: &mut Context, args: &[Vec<u8>]) -> Frame {
    let mut protocol = None;
    let mut next = 1;
    if let Some(version) = args.get(1) {
        protocol = match string2ll(version) {
            None => return Frame::error("ERR Protocol version is not an integer or out of range"),
            Some(2) => Some(Protocol::Resp2),
            Some(3) => Some(Protocol::Resp3),
            Some(_) => return Frame::error("NOPROTO unsupported protocol version"),
        };
        next = 2;
    }
    let mut j = next;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = &args[j];
        if opt.eq_ignore_ascii_case(b"auth") && more >= 2 {
            if !authenticate(ctx.facts, &args[j + 1], &args[j + 2]) {
                return Frame::error(
                    "WRONGPASS invalid username-password pair or user is disabled.",
                );
            }
            ctx.session.authenticated = true;
            j += 3;
        } else if opt.eq_ignore_ascii_case(b"setname") && more >= 1 {
            if let Err(e) = set_name(ctx.session, &args[j + 1]) {
                return e;
            }
            j += 2;
        } else {
            return Frame::error(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
    }
    if ctx.facts.requirepass.is_some() && !ctx.session.authenticated {
        return Frame::error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the \
             HELLO AUTH <user> <pass> option can be used to authenticate the client and select \
             the RESP protocol version at the same time",
        );
    }
    if let Some(p) = protocol {
        ctx.session.protocol = p;
    }
    server_map(ctx)
}

/// The map HELLO answers with: server, version, proto, id, mode, role,
/// modules.
fn server_map(ctx: &Context) -> Frame {
    let role = if ctx.core.is_master() {
        "master"
    } else {
        "replica"
    };
    Frame::map(vec![
        ("server", Frame::bulk("redis")),
        ("version", Frame::bulk(ctx.facts.version.as_str())),
        ("proto", Frame::Integer(ctx.session.protocol.version())),
        (
            "id",
            Frame::Integer(i64::try_from(ctx.session.id).unwrap_or(i64::MAX)),
        ),
        ("mode", Frame::bulk("cluster")),
        ("role", Frame::bulk(role)),
        ("modules", Frame::Array(Vec::new())),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Node;
    use crate::resp::Protocol;

    fn map_bytes(proto: u8, id: u8, role: &str) -> Vec<u8> {
        let head: &[u8] = if proto == 3 { b"%7\r\n" } else { b"*14\r\n" };
        let mut out = head.to_vec();
        out.extend_from_slice(
            format!(
                "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
                 $5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$7\r\ncluster\r\n\
                 $4\r\nrole\r\n${}\r\n{role}\r\n$7\r\nmodules\r\n*0\r\n",
                role.len()
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn hello_switches_the_protocol_and_replies_in_the_new_one() {
        let mut n = Node::master();
        n.session.id = 9;
        assert_eq!(n.bytes(&["HELLO"]), map_bytes(2, 9, "master"));
        assert_eq!(n.session.protocol, Protocol::Resp2);
        assert_eq!(n.bytes(&["hello", "3"]), map_bytes(3, 9, "master"));
        assert_eq!(n.session.protocol, Protocol::Resp3);
        assert_eq!(n.bytes(&["HELLO"]), map_bytes(3, 9, "master"));
        assert_eq!(n.bytes(&["GET", "nokey"]), b"_\r\n");
        assert_eq!(n.bytes(&["HELLO", "2"]), map_bytes(2, 9, "master"));
        assert_eq!(n.bytes(&["GET", "nokey"]), b"$-1\r\n");
        let mut r = Node::replica();
        assert_eq!(r.bytes(&["HELLO", "3"]), map_bytes(3, 0, "replica"));
    }

    #[test]
    fn hello_errors_leave_the_protocol_alone() {
        let mut n = Node::master();
        let cases: &[(&[&str], &[u8])] = &[
            (
                &["HELLO", "4"],
                b"-NOPROTO unsupported protocol version\r\n",
            ),
            (
                &["HELLO", "1"],
                b"-NOPROTO unsupported protocol version\r\n",
            ),
            (
                &["HELLO", "x"],
                b"-ERR Protocol version is not an integer or out of range\r\n",
            ),
            (
                &["HELLO", "3", "foo"],
                b"-ERR Syntax error in HELLO option 'foo'\r\n",
            ),
            (
                &["HELLO", "3", "AUTH", "default"],
                b"-ERR Syntax error in HELLO option 'AUTH'\r\n",
            ),
            (
                &["HELLO", "3", "AUTH", "u", "p"],
                b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            ),
            (
                &["HELLO", "3", "SETNAME", "a b"],
                b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n",
            ),
        ];
        for (words, want) in cases {
            assert_eq!(n.bytes(words), *want, "{words:?}");
            assert_eq!(n.session.protocol, Protocol::Resp2, "{words:?}");
        }
    }

    #[test]
    fn hello_auth_and_setname() {
        let mut n = Node::master();
        n.facts.requirepass = Some("pw".into());
        n.session.authenticated = false;
        assert_eq!(
            n.bytes(&["HELLO", "3"]),
            b"-NOAUTH HELLO must be called with the client already authenticated, otherwise \
              the HELLO AUTH <user> <pass> option can be used to authenticate the client and \
              select the RESP protocol version at the same time\r\n"
        );
        assert_eq!(n.session.protocol, Protocol::Resp2);
        let reply = n.bytes(&["HELLO", "3", "auth", "default", "pw", "setname", "app"]);
        assert!(
            reply.starts_with(b"%7\r\n"),
            "{}",
            String::from_utf8_lossy(&reply)
        );
        assert!(n.session.authenticated);
        assert_eq!(n.session.name, b"app");
    }
}
