use super::*;
use crate::commands::testkit::Node;

fn view(id: u64, port: u16) -> ClientView {
    ClientView {
        id,
        addr: format!("127.0.0.1:{port}"),
        laddr: "127.0.0.1:7000".into(),
        fd: 8 + id as i64,
        last_cmd: "NULL".into(),
        resp: 2,
        ..ClientView::default()
    }
}

#[test]
fn id_getname_setname_are_the_sessions() {
    let mut n = Node::master();
    n.session.id = 42;
    assert_eq!(n.bytes(&["CLIENT", "ID"]), b":42\r\n");
    assert_eq!(n.bytes(&["client", "getname"]), b"$-1\r\n");
    assert_eq!(n.bytes(&["client", "setname", "app-1"]), b"+OK\r\n");
    assert_eq!(n.bytes(&["client", "getname"]), b"$5\r\napp-1\r\n");
    assert_eq!(
        n.bytes(&["client", "setname", "a b"]),
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(n.bytes(&["client", "setname", ""]), b"+OK\r\n");
    assert_eq!(n.bytes(&["client", "getname"]), b"$-1\r\n");
    assert_eq!(
        n.bytes(&["client", "id", "x"]),
        b"-ERR wrong number of arguments for 'client|id' command\r\n"
    );
    assert_eq!(
        n.bytes(&["client", "foo"]),
        b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    );
}

#[test]
fn list_and_kill_are_parsed_as_redis_parses_them() {
    let mut n = Node::master();
    let q = |n: &mut Node, w: &[&str]| n.run(w);
    assert_eq!(
        q(&mut n, &["client", "list"]),
        Outcome::Clients(ClientQuery::List {
            ids: None,
            none: false
        })
    );
    assert_eq!(
        q(&mut n, &["client", "list", "id", "3", "5"]),
        Outcome::Clients(ClientQuery::List {
            ids: Some(vec![3, 5]),
            none: false
        })
    );
    for (words, err) in [
        (
            &["client", "list", "id", "x"][..],
            &b"-ERR Invalid client ID\r\n"[..],
        ),
        (&["client", "list", "foo"], b"-ERR syntax error\r\n"),
        (
            &["client", "list", "type", "x"],
            b"-ERR Unknown client type 'x'\r\n",
        ),
        (&["client", "kill", "foo", "bar"], b"-ERR syntax error\r\n"),
        (
            &["client", "kill", "id", "0"],
            b"-ERR client-id should be greater than 0\r\n",
        ),
        (
            &["client", "kill", "skipme", "maybe"],
            b"-ERR syntax error\r\n",
        ),
        (
            &["client", "kill", "user", "bob"],
            b"-ERR No such user 'bob'\r\n",
        ),
        (
            &["client", "kill", "addr", "a", "id"],
            b"-ERR syntax error\r\n",
        ),
    ] {
        assert_eq!(n.bytes(words), err, "{words:?}");
    }
    assert_eq!(
        q(&mut n, &["client", "kill", "1.2.3.4:5"]),
        Outcome::Clients(ClientQuery::Kill(KillFilter {
            addr: Some("1.2.3.4:5".into()),
            old_form: true,
            ..KillFilter::default()
        }))
    );
}

#[test]
fn answers_list_info_and_kill() {
    let all = [view(1, 5001), view(2, 5002), view(3, 5003)];
    let list = answer(
        &ClientQuery::List {
            ids: None,
            none: false,
        },
        &all,
        2,
    );
    let Frame::Verbatim(text) = &list.reply else {
        panic!("verbatim")
    };
    let text = String::from_utf8_lossy(text);
    assert_eq!(text.lines().count(), 3);
    assert!(text.starts_with(
        "id=1 addr=127.0.0.1:5001 laddr=127.0.0.1:7000 fd=9 name= age=0 idle=0 flags=N db=0 "
    ));
    assert!(text.ends_with("cmd=NULL user=default redir=-1 resp=2\n"));
    let info = answer(&ClientQuery::Info, &all, 2);
    assert_eq!(
        info.reply,
        Frame::Verbatim((client_line(&all[1]) + "\n").into_bytes())
    );

    let by_addr = |addr: &str, old_form| KillFilter {
        addr: Some(addr.into()),
        old_form,
        skipme: !old_form,
        ..KillFilter::default()
    };
    let k = answer(&ClientQuery::Kill(by_addr("127.0.0.1:5003", true)), &all, 2);
    assert_eq!((k.reply, k.kill, k.close_me), (Frame::ok(), vec![3], false));
    let k = answer(&ClientQuery::Kill(by_addr("127.0.0.1:9", true)), &all, 2);
    assert_eq!(k.reply, Frame::error("ERR No such client"));
    // New form: a count; SKIPME yes spares the caller, SKIPME no closes it
    // after the reply.
    let k = answer(
        &ClientQuery::Kill(by_addr("127.0.0.1:5002", false)),
        &all,
        2,
    );
    assert_eq!((k.reply, k.close_me), (Frame::Integer(0), false));
    let mut f = by_addr("127.0.0.1:5002", false);
    f.skipme = false;
    let k = answer(&ClientQuery::Kill(f), &all, 2);
    assert_eq!(
        (k.reply, k.kill, k.close_me),
        (Frame::Integer(1), vec![], true)
    );
}
