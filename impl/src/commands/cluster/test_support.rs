//! A node for the CLUSTER unit tests: a core, a data set, and a way to run
//! a subcommand through the core as the runtime would.

use crate::commands::{core_reply, Context, Outcome, ServerFacts, Session};
use crate::core::{Core, Effect, Event};
use crate::db::{Db, Entry};
use crate::resp::Frame;

/// One node's state, owned, so each test builds a [`Context`] from it.
pub(crate) struct Fixture {
    pub core: Core,
    pub db: Db,
    pub session: Session,
    pub facts: ServerFacts,
    pub entropy: u64,
}

impl Fixture {
    /// A fresh master `aaaa...` at 127.0.0.1:7000 (bus 17000).
    pub fn new() -> Fixture {
        Fixture::with_core(crate::core::tests::core(b'a', 7000, 15_000))
    }

    /// A fixture around a given core.
    pub fn with_core(core: Core) -> Fixture {
        Fixture {
            core,
            db: Db::new(),
            session: Session::default(),
            facts: ServerFacts::default(),
            entropy: 42,
        }
    }

    /// Runs `CLUSTER <words>` and returns the outcome, core untouched.
    pub fn run(&mut self, words: &[&str]) -> Outcome {
        let args: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        let mut ctx = Context {
            core: &self.core,
            db: &mut self.db,
            now_ms: 1_000,
            entropy: self.entropy,
            session: &mut self.session,
            facts: &self.facts,
        };
        super::execute(&mut ctx, &args)
    }

    /// Runs `CLUSTER <words>` to the end, as the runtime does: a command
    /// for the core is handled by it, and its reply is returned.
    pub fn reply(&mut self, words: &[&str]) -> Frame {
        match self.run(words) {
            Outcome::Reply(f) => f,
            Outcome::Cluster(cmd) => self.apply(cmd),
            other => panic!("unexpected outcome {other:?}"),
        }
    }

    /// Hands `cmd` to the core and returns its reply.
    pub fn apply(&mut self, cmd: crate::core::ClusterCommand) -> Frame {
        let effects = self.core.handle(1_000, Event::Command(cmd));
        effects
            .iter()
            .find_map(|e| match e {
                Effect::Reply(r) => Some(core_reply(r)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("the core gave no reply: {effects:?}"))
    }

    /// Stores a key with no expiry.
    pub fn set_key(&mut self, key: &str) {
        let entry = Entry {
            value: b"v".to_vec(),
            expires_at_ms: None,
        };
        self.db.set(key.as_bytes().to_vec(), entry);
    }

    /// The text of a bulk (or verbatim) reply.
    pub fn bulk_text(&mut self, words: &[&str]) -> String {
        match self.reply(words) {
            Frame::Bulk(b) | Frame::Verbatim(b) => String::from_utf8_lossy(&b).into_owned(),
            other => panic!("expected a bulk reply to {words:?}, got {other:?}"),
        }
    }
}

/// `a` pings `b` and gets its PONG, so each learns the other's role,
/// slots and epoch from the headers.
pub(crate) fn exchange_pings(a: &mut Core, b: &mut Core) {
    use crate::core::tests::{deliver, msgs};
    use crate::core::LinkId;
    let peer = b.id();
    let ping = msgs(&a.handle(
        1_000,
        Event::PingDue {
            peer,
            gossip: vec![],
        },
    ));
    for (_, msg) in ping {
        for (_, pong) in msgs(&b.handle(1_000, deliver(LinkId::Inbound(7), msg))) {
            a.handle(1_000, deliver(LinkId::Outbound(peer), pong));
        }
    }
}
