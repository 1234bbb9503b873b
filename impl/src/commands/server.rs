//! Connection and server commands: PING, ECHO, AUTH, QUIT, SELECT, DBSIZE,
//! READONLY, READWRITE, ASKING, FLUSHALL, FLUSHDB, SHUTDOWN, and the entry
//! points of HELLO ([`super::hello`]), CLIENT ([`super::client`]), COMMAND,
//! CONFIG GET ([`super::introspect`]), CONFIG SET ([`super::config_set`])
//! and INFO ([`super::info`]).
//! Replies and error texts are Redis 7.0.15's, checked against a running
//! redis-server in cluster mode.

use super::table::CommandSpec;
use super::{
    arity_error, client, config_set, hello, info, introspect, Context, Outcome, ServerFacts,
};
use crate::resp::{string2ll, Frame};

/// `ERR syntax error` (`shared.syntaxerr`).
pub fn syntax_error() -> Frame {
    Frame::error("ERR syntax error")
}

/// `ERR value is not an integer or out of range` (`getLongLongFromObjectOrReply`).
pub fn not_an_integer() -> Frame {
    Frame::error("ERR value is not an integer or out of range")
}

/// Runs the server command `spec` (already looked up, arity checked).
pub fn execute(ctx: &mut Context, spec: &CommandSpec, args: &[Vec<u8>]) -> Outcome {
    // The dispatcher has checked this; checked again so that no call can
    // index past the arguments.
    if !spec.arity_ok(args.len()) {
        return Outcome::Reply(arity_error(spec.name));
    }
    let reply = match spec.name {
        "ping" => ping(args),
        "echo" => Frame::Bulk(args[1].clone()),
        "auth" => auth(ctx, args),
        "hello" => hello::hello(ctx, args),
        "quit" => return Outcome::ReplyAndClose(Frame::ok()),
        "select" => select(args),
        "dbsize" => Frame::Integer(ctx.db.len() as i64),
        "readonly" => {
            ctx.session.readonly = true;
            Frame::ok()
        }
        "readwrite" => {
            ctx.session.readonly = false;
            Frame::ok()
        }
        "asking" => {
            ctx.session.asking = true;
            Frame::ok()
        }
        "flushall" | "flushdb" => return flush(ctx, spec.name, args),
        "client" => return client::execute(ctx, args),
        "function" => function_list(&args[2..]),
        "command" => introspect::command(args),
        "config" => return config(ctx, args),
        "shutdown" => return shutdown(args),
        "watch" => return Outcome::Watch(args[1..].to_vec()),
        "unwatch" => return Outcome::Unwatch,
        "save" => return Outcome::Save,
        "bgsave" => return bgsave(args),
        "lastsave" => Frame::Integer(ctx.facts.persistence.last_save_s as i64),
        "info" => info::info(ctx, &args[1..]),
        other => Frame::error(format!("ERR no handler for '{other}'")),
    };
    Outcome::Reply(reply)
}

/// CONFIG GET / SET / RESETSTAT (the dispatcher has resolved the
/// subcommand and checked its arity).
fn config(ctx: &mut Context, args: &[Vec<u8>]) -> Outcome {
    match args[1].to_ascii_lowercase().as_slice() {
        b"set" => config_set::config_set(&args[2..]),
        b"resetstat" => Outcome::ResetStats,
        _ => Outcome::Reply(introspect::config_get(ctx, &args[2..])),
    }
}

/// FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]: this node has no
/// functions, so the list is empty once the arguments pass
/// `functionListCommand`'s checks.
fn function_list(args: &[Vec<u8>]) -> Frame {
    let (mut code, mut name) = (false, false);
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if !code && a.eq_ignore_ascii_case(b"withcode") {
            code = true;
        } else if !name && a.eq_ignore_ascii_case(b"libraryname") {
            if i + 1 >= args.len() {
                return Frame::error("ERR library name argument was not given");
            }
            name = true;
            i += 1;
        } else {
            return Frame::error(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(a)
            ));
        }
        i += 1;
    }
    Frame::Array(vec![])
}

/// BGSAVE [SCHEDULE] (`bgsaveCommand`'s argument check).
fn bgsave(args: &[Vec<u8>]) -> Outcome {
    match &args[1..] {
        [] => Outcome::BgSave { schedule: false },
        [a] if a.eq_ignore_ascii_case(b"schedule") => Outcome::BgSave { schedule: true },
        _ => Outcome::Reply(syntax_error()),
    }
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. SAVE and NOSAVE decide
/// whether dump.rdb is written (nodes.conf always is); NOW changes nothing
/// (there is no replica lag to wait for); ABORT has no shutdown to abort.
/// Mirrors the argument checks of `shutdownCommand`.
fn shutdown(args: &[Vec<u8>]) -> Outcome {
    let (mut save, mut nosave, mut force, mut abort, mut other) =
        (false, false, false, false, false);
    for a in &args[1..] {
        match a.to_ascii_lowercase().as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => other = true,
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return Outcome::Reply(syntax_error()),
        }
    }
    if (abort && (save || nosave || force || other)) || (save && nosave) {
        return Outcome::Reply(syntax_error());
    }
    if abort {
        return Outcome::Reply(Frame::error("ERR No shutdown in progress."));
    }
    let save = match (save, nosave) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    Outcome::Shutdown { force, save }
}

/// PING [message]: `+PONG`, or the message as a bulk string.
fn ping(args: &[Vec<u8>]) -> Frame {
    match args {
        [_] => Frame::Simple("PONG".into()),
        [_, msg] => Frame::Bulk(msg.clone()),
        _ => arity_error("ping"),
    }
}

/// AUTH [username] password. Only the `default` user exists; its password
/// is `requirepass`, and without one it takes any password (`nopass`).
/// Mirrors `authCommand` and `ACLAuthenticateUser`.
fn auth(ctx: &mut Context, args: &[Vec<u8>]) -> Frame {
    let (user, password): (&[u8], &[u8]) = match args {
        [_, password] => {
            if ctx.facts.requirepass.is_none() {
                return Frame::error(
                    "ERR AUTH <password> called without any password configured for the \
                     default user. Are you sure your configuration is correct?",
                );
            }
            (b"default", password)
        }
        [_, user, password] => (user, password),
        _ => return syntax_error(),
    };
    if authenticate(ctx.facts, user, password) {
        ctx.session.authenticated = true;
        Frame::ok()
    } else {
        Frame::error("WRONGPASS invalid username-password pair or user is disabled.")
    }
}

/// Whether `user` / `password` log in: only `default` exists, with
/// `requirepass` as its password, or any password without one (`nopass`).
/// Mirrors `ACLAuthenticateUser`.
pub(super) fn authenticate(facts: &ServerFacts, user: &[u8], password: &[u8]) -> bool {
    user == b"default"
        && match &facts.requirepass {
            None => true,
            Some(expected) => same_secret(expected.as_bytes(), password),
        }
}

/// Compares a password in time that does not depend on where they differ
/// (Redis's `time_independent_strcmp`).
fn same_secret(expected: &[u8], given: &[u8]) -> bool {
    let mut diff = expected.len() ^ given.len();
    for (i, e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(0);
        diff |= usize::from(e ^ g);
    }
    diff == 0
}

/// SELECT index: only database 0 exists in cluster mode.
fn select(args: &[Vec<u8>]) -> Frame {
    let Some(id) = string2ll(&args[1]) else {
        return not_an_integer();
    };
    if i32::try_from(id).is_err() {
        return Frame::error(format!(
            "ERR value is out of range, value must between {} and {}",
            i32::MIN,
            i32::MAX
        ));
    }
    if id != 0 {
        return Frame::error("ERR SELECT is not allowed in cluster mode");
    }
    Frame::ok()
}

/// FLUSHALL / FLUSHDB [ASYNC|SYNC]: drops every key (there is one database)
/// and propagates the command.
fn flush(ctx: &mut Context, name: &str, args: &[Vec<u8>]) -> Outcome {
    match args {
        [_] => {}
        [_, mode] if mode.eq_ignore_ascii_case(b"sync") || mode.eq_ignore_ascii_case(b"async") => {}
        _ => return Outcome::Reply(syntax_error()),
    }
    ctx.db.clear();
    Outcome::Write {
        reply: Frame::ok(),
        propagate: vec![name.to_ascii_uppercase().into_bytes()],
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Node;
    use crate::commands::Outcome;
    use crate::resp::Frame;

    #[test]
    fn ping_echo_and_quit() {
        let mut n = Node::master();
        assert_eq!(n.bytes(&["PING"]), b"+PONG\r\n");
        assert_eq!(n.bytes(&["ping", "hello"]), b"$5\r\nhello\r\n");
        assert_eq!(
            n.bytes(&["ping", "a", "b"]),
            b"-ERR wrong number of arguments for 'ping' command\r\n"
        );
        assert_eq!(n.bytes(&["echo", "x y"]), b"$3\r\nx y\r\n");
        assert_eq!(n.run(&["QUIT", "x"]), Outcome::ReplyAndClose(Frame::ok()));
    }

    #[test]
    fn auth_without_a_password() {
        let mut n = Node::master();
        assert_eq!(
            n.bytes(&["auth", "x"]),
            b"-ERR AUTH <password> called without any password configured for the default \
              user. Are you sure your configuration is correct?\r\n"
        );
        assert_eq!(n.bytes(&["auth", "default", "anything"]), b"+OK\r\n");
        assert_eq!(
            n.bytes(&["auth", "a", "b"]),
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
        );
        assert_eq!(n.bytes(&["auth", "a", "b", "c"]), b"-ERR syntax error\r\n");
    }

    #[test]
    fn auth_with_requirepass() {
        let mut n = Node::master();
        n.facts.requirepass = Some("secret".into());
        let wrongpass = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
        assert_eq!(n.bytes(&["auth", "wrong"]), wrongpass);
        assert_eq!(n.bytes(&["auth", "secre"]), wrongpass);
        assert_eq!(n.bytes(&["auth", "other", "secret"]), wrongpass);
        assert!(!n.session.authenticated);
        assert_eq!(n.bytes(&["auth", "secret"]), b"+OK\r\n");
        assert!(n.session.authenticated);
        assert_eq!(n.bytes(&["auth", "wrong"]), wrongpass);
        assert!(n.session.authenticated, "a failed AUTH keeps the old login");
        assert_eq!(n.bytes(&["auth", "default", "secret"]), b"+OK\r\n");
    }

    #[test]
    fn select_only_zero() {
        let mut n = Node::master();
        assert_eq!(n.bytes(&["select", "0"]), b"+OK\r\n");
        assert_eq!(
            n.bytes(&["select", "1"]),
            b"-ERR SELECT is not allowed in cluster mode\r\n"
        );
        assert_eq!(
            n.bytes(&["select", "x"]),
            b"-ERR value is not an integer or out of range\r\n"
        );
        assert_eq!(
            n.bytes(&["select", "99999999999"]),
            b"-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
        );
    }

    #[test]
    fn session_flags() {
        let mut n = Node::master();
        assert_eq!(n.bytes(&["readonly"]), b"+OK\r\n");
        assert!(n.session.readonly);
        assert_eq!(n.bytes(&["READWRITE"]), b"+OK\r\n");
        assert!(!n.session.readonly);
        assert_eq!(
            n.bytes(&["readonly", "x"]),
            b"-ERR wrong number of arguments for 'readonly' command\r\n"
        );
        assert_eq!(n.bytes(&["asking"]), b"+OK\r\n");
        assert!(n.session.asking);
        assert_eq!(n.bytes(&["ping"]), b"+PONG\r\n");
        assert!(!n.session.asking, "ASKING lasts for one command");
    }

    #[test]
    fn dbsize_and_flush() {
        let mut n = Node::master();
        n.set_key("a");
        n.set_key("b");
        assert_eq!(n.bytes(&["dbsize"]), b":2\r\n");
        assert_eq!(n.bytes(&["flushall", "x"]), b"-ERR syntax error\r\n");
        assert_eq!(n.bytes(&["flushdb", "sync", "x"]), b"-ERR syntax error\r\n");
        assert_eq!(
            n.run(&["flushall", "ASYNC"]),
            Outcome::Write {
                reply: Frame::ok(),
                propagate: vec![b"FLUSHALL".to_vec()],
            }
        );
        assert_eq!(n.bytes(&["dbsize"]), b":0\r\n");
        n.set_key("a");
        assert_eq!(
            n.run(&["flushdb"]),
            Outcome::Write {
                reply: Frame::ok(),
                propagate: vec![b"FLUSHDB".to_vec()],
            }
        );
        assert!(n.db.is_empty());
    }

    #[test]
    fn flush_on_a_replica_is_refused() {
        let mut n = Node::replica();
        assert_eq!(
            n.bytes(&["flushall"]),
            b"-READONLY You can't write against a read only replica.\r\n"
        );
    }
}
