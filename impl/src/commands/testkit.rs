//! Nodes for the command unit tests: a core in a known cluster position, a
//! data set, a session, and a way to run a request as a client would.

use std::sync::OnceLock;

use super::{execute, Context, Outcome, Request, ServerFacts, Session};
use crate::core::{ClusterCommand, Core, CoreConfig, Event};
use crate::db::{Db, Entry};
use crate::sim::Sim;

/// The virtual time of every test request, ms.
pub(crate) const NOW_MS: u64 = 1_700_000_000_000;

/// A lone master `aaaa...` at 127.0.0.1:7000 owning `slots`.
pub(crate) fn lone_master(slots: std::ops::RangeInclusive<u16>) -> Core {
    let mut core = crate::core::tests::core(b'a', 7000, 15_000);
    core.handle(0, Event::Command(ClusterCommand::AddSlots(slots.collect())));
    core
}

/// Cores 0 and 1 of a settled simulated cluster of two masters (slots
/// 0..=8191 and 8192..=16383, client ports 30000 and 30001) and core 2,
/// the replica of master 0 (port 30002). Built once.
pub(crate) fn two_shards() -> (Core, Core, Core) {
    static CORES: OnceLock<(Core, Core, Core)> = OnceLock::new();
    CORES
        .get_or_init(|| {
            let cfg = CoreConfig {
                node_timeout_ms: 1_000,
                ..CoreConfig::default()
            };
            let mut sim = Sim::new(4, cfg, 11);
            if let Err(e) = sim.create_cluster(2, 60_000) {
                panic!("cluster not created: {e}");
            }
            let core = |i| sim.core(i).cloned().expect("simulated node is up");
            (core(0), core(1), core(2))
        })
        .clone()
}

/// One node's state, owned, so each request builds a [`Context`] from it.
pub(crate) struct Node {
    pub core: Core,
    pub db: Db,
    pub session: Session,
    pub facts: ServerFacts,
    pub now_ms: u64,
}

impl Node {
    /// A node around `core`, with the facts of a redis-server 7.0.15 on
    /// port 7000.
    pub fn with_core(core: Core) -> Node {
        let facts = ServerFacts {
            version: "7.0.15".into(),
            run_id: "b00f7bf67f065647b451ea0ad2dc131f4c8a37df".into(),
            process_id: 8342,
            tcp_port: 7000,
            uptime_s: 119,
            connected_clients: 1,
            ..ServerFacts::default()
        };
        Node {
            core,
            db: Db::new(),
            session: Session::default(),
            facts,
            now_ms: NOW_MS,
        }
    }

    /// A lone master owning every slot (`cluster_state:ok`).
    pub fn master() -> Node {
        Node::with_core(lone_master(0..=16383))
    }

    /// The replica of [`two_shards`].
    pub fn replica() -> Node {
        Node::with_core(two_shards().2)
    }

    /// Runs `words` as one client request.
    pub fn run(&mut self, words: &[&str]) -> Outcome {
        let req = Request {
            args: words.iter().map(|w| w.as_bytes().to_vec()).collect(),
        };
        let mut ctx = Context {
            core: &self.core,
            db: &mut self.db,
            now_ms: self.now_ms,
            entropy: 7,
            session: &mut self.session,
            facts: &self.facts,
        };
        execute(&mut ctx, &req)
    }

    /// The wire bytes of the reply to `words` (whatever the outcome kind).
    pub fn bytes(&mut self, words: &[&str]) -> Vec<u8> {
        match self.run(words) {
            Outcome::Reply(f) | Outcome::ReplyAndClose(f) | Outcome::Write { reply: f, .. } => {
                f.to_bytes_as(self.session.protocol)
            }
            Outcome::Cluster(cmd) => panic!("{words:?} went to the core: {cmd:?}"),
            other => panic!("{words:?} is the runtime's to answer: {other:?}"),
        }
    }

    /// Stores `key` = `v` without expiry.
    pub fn set_key(&mut self, key: &str) {
        let entry = Entry {
            value: b"v".to_vec(),
            expires_at_ms: None,
        };
        self.db.set(key.as_bytes().to_vec(), entry);
    }
}
