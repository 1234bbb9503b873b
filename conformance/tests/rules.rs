//! One rule, one function, on both sides: each Redis rule the model names
//! (`clusterbus_model::rules`) has a pure twin of the same name in the node's
//! core (`clusterbus_node::core::rules`). Each test here generates many
//! situations in the model's terms, asks the model's rule, translates the
//! same situation into the facts the core's rule weighs (as the node would
//! see it: a shard owned is `numslots > 0`, index order is id order, the
//! model's data is always fresh), asks the core's rule, and asserts they
//! decide alike. Each test also checks that both decisions occur, and the
//! rules with a seeded model bug are shown to disagree under it, so a test
//! that cannot tell the two apart would fail.

use clusterbus_model::message::{MAX_NODES, MAX_SHARDS};
use clusterbus_model::state::Election;
use clusterbus_model::{rules, Bug, Header, ModelCfg, Node, NodeIx, Peer, Shard};
use clusterbus_node::core::rules as core;

/// Situations generated per rule.
const CASES: usize = 50_000;

/// A splitmix64 stream: the same situations on every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }
    fn epoch(&mut self) -> u8 {
        self.below(6) as u8
    }
    fn node_ix(&mut self, n: usize) -> NodeIx {
        self.below(n as u64) as NodeIx
    }
}

/// One node's view of a cluster of `n` nodes, as the model holds it.
struct Situation {
    n: usize,
    me: NodeIx,
    node: Node,
}

impl Situation {
    fn generate(g: &mut Gen) -> Situation {
        let n = 3 + g.below((MAX_NODES - 2) as u64) as usize;
        let me = g.node_ix(n);
        let shards = 1 + g.below(MAX_SHARDS as u64) as usize;
        let mut node = Node {
            up: true,
            current_epoch: g.epoch(),
            last_vote_epoch: g.epoch(),
            config_epoch: g.epoch(),
            ..Node::default()
        };
        node.durable_last_vote_epoch = node.last_vote_epoch;
        node.master = g.coin().then(|| other(g, n, me));
        for _ in 0..shards {
            let owner = (g.below(4) != 0).then(|| g.node_ix(n));
            node.owners.push(owner);
        }
        for j in 0..n as NodeIx {
            let master = g.coin().then(|| other(g, n, j));
            node.peers.push(Peer {
                known: j != me,
                master,
                config_epoch: g.epoch(),
                pfail: g.coin(),
                fail: g.coin(),
                reports: (g.next() as u8) & mask(n) & !(1 << me),
                ..Peer::default()
            });
        }
        node.recently_voted = (g.next() as u8) & mask(n);
        node.unclaimed = (0..shards as Shard).filter(|_| g.below(4) == 0).collect();
        node.election = g.coin().then(|| Election {
            epoch: g.epoch(),
            votes: 0,
        });
        Situation { n, me, node }
    }

    /// A node other than me, for a sender.
    fn sender(&self, g: &mut Gen) -> NodeIx {
        other(g, self.n, self.me)
    }

    /// A header from `sender`, claiming some shards or none.
    fn header(&self, g: &mut Gen, sender: NodeIx) -> Header {
        let shards = (0..self.node.owners.len() as Shard)
            .filter(|_| g.below(3) == 0)
            .collect();
        Header {
            sender,
            current_epoch: g.epoch(),
            config_epoch: g.epoch(),
            master: self.node.peers[sender as usize].master,
            shards,
        }
    }

    /// Slots `j` serves in my view, as the core counts them: shards owned.
    fn numslots(&self, j: NodeIx) -> usize {
        self.node.owners.iter().filter(|o| **o == Some(j)).count()
    }

    fn is_master(&self, j: NodeIx) -> bool {
        if j == self.me {
            self.node.master.is_none()
        } else {
            self.node.peers[j as usize].master.is_none()
        }
    }

    /// configEpoch of `j` in my view (mine for me).
    fn epoch_of(&self, j: NodeIx) -> u64 {
        u64::from(self.node.epoch_of(self.me, j))
    }
}

fn other(g: &mut Gen, n: usize, not: NodeIx) -> NodeIx {
    let k = g.node_ix(n - 1);
    if k >= not {
        k + 1
    } else {
        k
    }
}

fn mask(n: usize) -> u8 {
    ((1u16 << n) - 1) as u8
}

fn cfg(bug: Option<Bug>) -> ModelCfg {
    ModelCfg::named("failover-3m1r")
        .expect("failover-3m1r")
        .with_bug(bug)
}

/// Runs `decide` (which returns the model's and the core's decision) on
/// `CASES` situations; returns how many disagreed, and asserts the core
/// took both decisions.
fn compare(rule: &str, seed: u64, mut decide: impl FnMut(&mut Gen) -> (bool, bool)) -> usize {
    let mut g = Gen(seed);
    let (mut yes, mut no, mut differ) = (0, 0, 0);
    for _ in 0..CASES {
        let (model, node) = decide(&mut g);
        if node {
            yes += 1;
        } else {
            no += 1;
        }
        differ += usize::from(model != node);
    }
    assert!(
        yes > 0 && no > 0,
        "{rule}: only one decision ({yes} yes, {no} no)"
    );
    differ
}

fn failure_quorum(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("failure_quorum", 1, |g| {
        let s = Situation::generate(g);
        let reports = g.below(6) as usize;
        let model = reports >= rules::failure_quorum(&cfg, &s.node);
        let node = reports >= core::failure_quorum(s.node.cluster_size());
        (model, node)
    })
}

#[test]
fn failure_quorum_decides_alike() {
    assert_eq!(failure_quorum(None), 0);
    assert!(failure_quorum(Some(Bug::FailOnMinority)) > 0);
}

fn failure_count(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("failure_count", 2, |g| {
        let s = Situation::generate(g);
        let about = s.sender(g);
        let needed = 1 + g.below(4) as usize;
        let reports = s.node.peers[about as usize].reports.count_ones() as usize;
        let model = rules::failure_count(&cfg, s.me, &s.node, about) >= needed;
        let node = core::failure_count(reports, s.is_master(s.me)) >= needed;
        (model, node)
    })
}

#[test]
fn failure_count_decides_alike() {
    assert_eq!(failure_count(None), 0);
    assert!(failure_count(Some(Bug::ReplicaCountsOwnReport)) > 0);
}

fn report_counts(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("report_counts", 3, |g| {
        let s = Situation::generate(g);
        let sender = s.sender(g);
        let model = rules::report_counts(&cfg, &s.node, sender);
        let node = core::report_counts(s.is_master(sender));
        (model, node)
    })
}

#[test]
fn report_counts_decides_alike() {
    assert_eq!(report_counts(None), 0);
    assert!(report_counts(Some(Bug::ReportFromReplicaCounted)) > 0);
}

#[test]
fn gossip_wanted_decides_alike() {
    for table in 0..5_000 {
        assert_eq!(
            rules::gossip_wanted(table),
            core::gossip_wanted(table),
            "gossip_wanted({table})"
        );
    }
}

#[test]
fn election_quorum_decides_alike() {
    let differ = compare("election_quorum", 4, |g| {
        let s = Situation::generate(g);
        let votes = g.below(5) as usize;
        let model = votes >= rules::election_quorum(&s.node);
        let node = votes >= core::election_quorum(s.node.cluster_size());
        (model, node)
    });
    assert_eq!(differ, 0);
}

fn may_vote_for(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("may_vote_for", 5, |g| {
        let mut s = Situation::generate(g);
        // Votes are asked of masters that serve slots, by replicas of a
        // FAIL master, often enough for both decisions to be common.
        if g.coin() {
            s.node.master = None;
            s.node.owners[0] = Some(s.me);
        }
        let candidate = s.sender(g);
        let mut request = s.header(g, candidate);
        if g.coin() {
            request.current_epoch = s.node.current_epoch;
        }
        let master = s.node.peers[candidate as usize].master;
        let facts = core::VoteFacts {
            i_am_voter: s.is_master(s.me) && s.numslots(s.me) > 0,
            request_epoch: u64::from(request.current_epoch),
            current_epoch: u64::from(s.node.current_epoch),
            last_vote_epoch: u64::from(s.node.last_vote_epoch),
            requester_is_replica: master.is_some(),
            // I am never FAIL in my own view.
            master_failed: master.is_some_and(|m| m != s.me && s.node.peers[m as usize].fail),
            force_ack: false,
            voted_recently: master.is_some_and(|m| s.node.recently_voted & (1 << m) != 0),
            stale_claim: request.shards.iter().any(|sh| {
                !s.node.unclaimed.contains(sh)
                    && s.node.owners[sh as usize]
                        .is_some_and(|o| s.epoch_of(o) > u64::from(request.config_epoch))
            }),
        };
        let model = rules::may_vote_for(&cfg, s.me, &s.node, &request);
        let ignore_last_vote = false;
        let node = core::may_vote_for(&facts, ignore_last_vote).is_ok();
        (model, node)
    })
}

#[test]
fn may_vote_for_decides_alike() {
    assert_eq!(may_vote_for(None), 0);
    assert!(may_vote_for(Some(Bug::VoteIgnoresLastVoteEpoch)) > 0);
}

fn ack_counts(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("ack_counts", 6, |g| {
        let s = Situation::generate(g);
        let voter = s.sender(g);
        let ack = s.header(g, voter);
        let election_epoch = g.epoch();
        let model = rules::ack_counts(&cfg, &s.node, &ack, election_epoch);
        let node = core::ack_counts(
            s.is_master(voter),
            s.numslots(voter),
            u64::from(ack.current_epoch),
            u64::from(election_epoch),
        );
        (model, node)
    })
}

#[test]
fn ack_counts_decides_alike() {
    assert_eq!(ack_counts(None), 0);
    assert!(ack_counts(Some(Bug::StaleAckCounted)) > 0);
}

/// The facts of a replica's failover guards; the model's data is always fresh.
fn failover_facts(s: &Situation) -> core::FailoverFacts {
    let master = s.node.master;
    core::FailoverFacts {
        i_am_replica: master.is_some(),
        master_failed: master.is_some_and(|m| s.node.peers[m as usize].fail),
        master_numslots: master.map_or(0, |m| s.numslots(m)),
        manual: false,
        data_fresh: true,
    }
}

fn may_fail_over(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("may_fail_over", 7, |g| {
        let s = Situation::generate(g);
        let model = rules::may_fail_over(&cfg, &s.node);
        let node = core::may_fail_over(&failover_facts(&s));
        (model, node)
    })
}

#[test]
fn may_fail_over_decides_alike() {
    assert_eq!(may_fail_over(None), 0);
    assert!(may_fail_over(Some(Bug::ElectionOnPfail)) > 0);
}

#[test]
fn may_start_election_decides_alike() {
    let cfg = cfg(None);
    let differ = compare("may_start_election", 8, |g| {
        let s = Situation::generate(g);
        let model = rules::may_start_election(&cfg, &s.node);
        // The model's election lasts until its auth timeout: that is the
        // time within which the core will not plan another.
        let planned = s.node.election.is_some();
        let node = core::may_start_election(core::may_fail_over(&failover_facts(&s)), planned);
        (model, node)
    });
    assert_eq!(differ, 0);
}

fn must_resolve_collision(bug: Option<Bug>) -> usize {
    let cfg = cfg(bug);
    compare("must_resolve_collision", 9, |g| {
        let mut s = Situation::generate(g);
        let sender = s.sender(g);
        let mut header = s.header(g, sender);
        // Collisions need equal epochs: make them common.
        if g.coin() {
            header.config_epoch = s.node.config_epoch;
            s.node.peers[sender as usize].config_epoch = s.node.config_epoch;
        }
        let facts = core::CollisionFacts {
            i_am_master: s.is_master(s.me),
            sender_is_master: s.is_master(sender),
            header_config_epoch: u64::from(header.config_epoch),
            sender_config_epoch: s.epoch_of(sender),
            my_config_epoch: u64::from(s.node.config_epoch),
            sender_id_greater: sender > s.me,
        };
        let model = rules::must_resolve_collision(&cfg, s.me, &s.node, &header);
        let node = core::must_resolve_collision(&facts);
        (model, node)
    })
}

#[test]
fn must_resolve_collision_decides_alike() {
    assert_eq!(must_resolve_collision(None), 0);
    assert!(must_resolve_collision(Some(Bug::NoCollisionHandling)) > 0);
}

fn must_bump_without_consensus() -> usize {
    compare("must_bump_without_consensus", 10, |g| {
        let mut s = Situation::generate(g);
        // Reachable views only: configEpoch at most currentEpoch; and the
        // maximum is often mine, so both decisions are common.
        s.node.config_epoch = s.node.config_epoch.min(s.node.current_epoch);
        if g.coin() {
            s.node.current_epoch = s.node.config_epoch;
            for p in s.node.peers.iter_mut() {
                p.config_epoch = p.config_epoch.min(s.node.config_epoch);
            }
        }
        let max_epoch = (0..s.n as NodeIx)
            .filter(|&j| j != s.me)
            .map(|j| s.epoch_of(j))
            .fold(
                u64::from(s.node.current_epoch.max(s.node.config_epoch)),
                u64::max,
            );
        let model = rules::must_bump_without_consensus(&s.node);
        let node = core::must_bump_without_consensus(u64::from(s.node.config_epoch), max_epoch);
        (model, node)
    })
}

#[test]
fn must_bump_without_consensus_decides_alike() {
    assert_eq!(must_bump_without_consensus(), 0);
}
