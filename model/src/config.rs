//! Named configurations: how many masters and replicas, how the cluster starts,
//! which faults may happen and how often, and the bounds that make the state
//! space finite. Also the seeded bugs, each of which breaks one rule.

use crate::message::{Epoch, NodeIx, Shard, MAX_NODES, MAX_SHARDS};
use crate::network::MAX_IN_FLIGHT;
use crate::state::EPOCH_SLOTS;
use crate::symmetry::Swaps;
use serde::Serialize;

/// How the nodes start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Start {
    /// Every node knows only itself; the operator's `CLUSTER MEET`s are pending.
    Strangers,
    /// A formed cluster: everyone knows everyone, views agree, distinct configEpochs.
    Formed,
}

/// One configuration of the model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelCfg {
    pub name: &'static str,
    pub masters: u8,
    /// `replicas[k]` is the master (index) of replica `masters + k`.
    pub replicas: Vec<NodeIx>,
    pub start: Start,
    /// `CLUSTER MEET from to` commands the operator issues (for `Start::Strangers`).
    pub meets: Vec<(NodeIx, NodeIx)>,
    /// Nodes that may crash (and restart).
    pub crashable: Vec<NodeIx>,
    pub max_crashes: u8,
    pub max_link_breaks: u8,
    /// No election may push a currentEpoch past this.
    pub max_epoch: Epoch,
    /// Messages one directed link may hold; states beyond are not explored.
    pub max_queue: usize,
    /// Messages in flight on all links together; states beyond are not explored.
    pub max_in_flight: usize,
    /// Depth bound (stateright's, counting the initial state as 1) of the
    /// breadth-first searches that find conformance traces.
    pub max_depth: usize,
    /// `None`: `clusterbus check` visits every reachable state within the
    /// bounds above. `Some(d)`: the complete space is beyond the checker's
    /// time budget (`specs/model.md` gives the measurements), and the check
    /// visits every state within `d` steps, breadth-first, and says so.
    pub check_depth: Option<usize>,
    /// Whether nodes may time out a peer that is up and reachable (a slow
    /// network). Without it, NodeTimeout needs the peer down or the link broken.
    pub spurious_timeouts: bool,
    /// Whether failure reports may expire (2·NT without renewal).
    pub report_expiry: bool,
    /// Whether the old master's return as a replica fits in the depth bound
    /// (its Sometimes property is then required).
    pub rejoin_in_reach: bool,
    /// Whether a timely quiet cluster after a failover fits in the check
    /// (its Sometimes property, and the bounded liveness property it
    /// partners, are then listed).
    pub quiet_in_reach: bool,
    /// Pairs of interchangeable nodes: same role, same master, both crashable
    /// or neither. The checker visits one state of each set of states that
    /// differ only by swapping them (see `symmetry`).
    pub interchangeable: Vec<(NodeIx, NodeIx)>,
    /// A slot migration the operator runs, as `redis-cli --cluster reshard`
    /// does it; `None` for none.
    pub reshard: Option<Reshard>,
    /// Properties Redis 7.0 itself breaks in this configuration, each
    /// recorded in `specs/divergences.md`: the check leaves them out, and
    /// searches for each counterexample on its own (`focus`).
    pub findings: Vec<Finding>,
    /// `Some(p)`: only property `p` is checked (a finding's search).
    pub focus: Option<&'static str>,
    pub bug: Option<Bug>,
}

/// One shard moved from one master to another, in `redis-cli`'s order
/// (`clusterManagerMoveSlot`): `SETSLOT IMPORTING` on the target, then
/// `SETSLOT NODE` on the target, on the source, and on every other master.
/// (`SETSLOT MIGRATING` on the source and the `MIGRATE` of the keys change
/// only how clients are redirected, which the model does not have.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Reshard {
    pub shard: Shard,
    pub from: NodeIx,
    pub to: NodeIx,
    /// Whether the operator also runs `SETSLOT NODE` on the source and the
    /// other masters, as `redis-cli` does to spare clients a redirect;
    /// without it they learn the new owner from the target's claim.
    pub tell_all: bool,
}

/// A property Redis 7.0 itself breaks in a configuration, and the depth
/// within which the checker finds a counterexample of Redis's behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub property: &'static str,
    pub within: usize,
}

/// One step of the operator's migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveStep {
    /// `CLUSTER SETSLOT <shard> IMPORTING <from>` on `node`.
    Importing { node: NodeIx },
    /// `CLUSTER SETSLOT <shard> NODE <to>` on `node`.
    Node { node: NodeIx },
}

impl Reshard {
    /// The operator's steps, in order, in a cluster of `masters` masters.
    pub fn steps(&self, masters: u8) -> Vec<MoveStep> {
        let mut steps = vec![
            MoveStep::Importing { node: self.to },
            MoveStep::Node { node: self.to },
        ];
        if !self.tell_all {
            return steps;
        }
        steps.push(MoveStep::Node { node: self.from });
        steps.extend(
            (0..masters)
                .filter(|m| *m != self.to && *m != self.from)
                .map(|node| MoveStep::Node { node }),
        );
        steps
    }
}

/// A seeded bug: a switch that breaks exactly one rule, so tests can show the
/// checker catches it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Bug {
    /// A master replies AUTH_ACK before lastVoteEpoch is on disk; a crash forgets the vote.
    VoteNotPersisted,
    /// FAIL is declared with a single failure report instead of size/2+1.
    FailOnMinority,
    /// A master votes without checking lastVoteEpoch.
    VoteIgnoresLastVoteEpoch,
    /// A replica counts an AUTH_ACK from an earlier election towards the current one.
    StaleAckCounted,
    /// Masters with equal configEpochs never resolve the collision.
    NoCollisionHandling,
    /// A replica starts an election when its master is only PFAIL.
    ElectionOnPfail,
    /// A replica with a quorum of votes takes over without checking again
    /// that its master is still FAIL and serves slots.
    NoRecheckBeforePromotion,
    /// A failure report gossiped by a replica is counted (Redis counts
    /// reports from masters only).
    ReportFromReplicaCounted,
    /// A replica counts itself among the reporters, as only a master may.
    ReplicaCountsOwnReport,
    /// currentEpoch is not saved: a restart brings it back as the greatest
    /// configEpoch in nodes.conf (`clusterGetMaxEpoch`).
    CurrentEpochNotPersisted,
    /// A node declares FAIL from others' reports without having timed the
    /// node out itself (no PFAIL of its own).
    FailWithoutOwnTimeout,
    /// `SETSLOT NODE` of an imported shard takes it without a new
    /// configEpoch (`clusterBumpConfigEpochWithoutConsensus` not called).
    SetSlotNoBump,
}

impl Bug {
    pub const ALL: [Bug; 12] = [
        Bug::VoteNotPersisted,
        Bug::FailOnMinority,
        Bug::VoteIgnoresLastVoteEpoch,
        Bug::StaleAckCounted,
        Bug::NoCollisionHandling,
        Bug::ElectionOnPfail,
        Bug::NoRecheckBeforePromotion,
        Bug::ReportFromReplicaCounted,
        Bug::ReplicaCountsOwnReport,
        Bug::CurrentEpochNotPersisted,
        Bug::FailWithoutOwnTimeout,
        Bug::SetSlotNoBump,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Bug::VoteNotPersisted => "vote-not-persisted",
            Bug::FailOnMinority => "fail-on-minority",
            Bug::VoteIgnoresLastVoteEpoch => "vote-ignores-last-vote-epoch",
            Bug::StaleAckCounted => "stale-ack-counted",
            Bug::NoCollisionHandling => "no-collision-handling",
            Bug::ElectionOnPfail => "election-on-pfail",
            Bug::NoRecheckBeforePromotion => "no-recheck-before-promotion",
            Bug::ReportFromReplicaCounted => "report-from-replica-counted",
            Bug::ReplicaCountsOwnReport => "replica-counts-own-report",
            Bug::CurrentEpochNotPersisted => "current-epoch-not-persisted",
            Bug::FailWithoutOwnTimeout => "fail-without-own-timeout",
            Bug::SetSlotNoBump => "setslot-no-bump",
        }
    }

    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The configuration in which this bug shows.
    pub fn config(self) -> &'static str {
        match self {
            Bug::VoteNotPersisted => "crash-restart-3m2r",
            Bug::FailOnMinority => "failover-3m1r",
            Bug::VoteIgnoresLastVoteEpoch => "failover-3m2r",
            Bug::StaleAckCounted => "retry-3m1r",
            Bug::NoCollisionHandling => "handshake-3",
            Bug::ElectionOnPfail => "failover-3m1r",
            Bug::NoRecheckBeforePromotion => "crash-restart-3m1r",
            Bug::ReportFromReplicaCounted => "failover-3m1r",
            Bug::ReplicaCountsOwnReport => "failover-3m1r",
            Bug::CurrentEpochNotPersisted => "crash-restart-3m1r",
            Bug::FailWithoutOwnTimeout => "failover-3m1r",
            Bug::SetSlotNoBump => "reshard-3m1r",
        }
    }

    /// What the bug breaks, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Bug::VoteNotPersisted => "a master replies AUTH_ACK before lastVoteEpoch is fsynced",
            Bug::FailOnMinority => "FAIL is declared on one failure report",
            Bug::VoteIgnoresLastVoteEpoch => "a master votes twice in one epoch",
            Bug::StaleAckCounted => "an AUTH_ACK of an earlier election is counted",
            Bug::NoCollisionHandling => "equal configEpochs are never resolved",
            Bug::ElectionOnPfail => "a replica runs for a master that is only PFAIL",
            Bug::NoRecheckBeforePromotion => {
                "a replica takes over after its master's FAIL was cleared"
            }
            Bug::ReportFromReplicaCounted => "a replica's failure report is counted",
            Bug::ReplicaCountsOwnReport => "a replica counts its own failure report",
            Bug::CurrentEpochNotPersisted => "currentEpoch is lost on restart",
            Bug::FailWithoutOwnTimeout => "FAIL is declared without a timeout of its own",
            Bug::SetSlotNoBump => "an imported shard is taken without a configEpoch bump",
        }
    }
}

impl ModelCfg {
    pub fn node_count(&self) -> usize {
        self.masters as usize + self.replicas.len()
    }

    /// The master of node `n` in the initial configuration.
    pub fn initial_master(&self, n: NodeIx) -> Option<NodeIx> {
        n.checked_sub(self.masters)
            .map(|k| self.replicas[k as usize])
    }

    /// Majority of the masters that own slots: `size/2 + 1` (the model's
    /// cluster always has one shard per initial master).
    pub fn quorum(&self) -> usize {
        self.masters as usize / 2 + 1
    }

    pub fn with_bug(mut self, bug: Option<Bug>) -> Self {
        self.bug = bug;
        self
    }

    /// The configuration with only `property` checked.
    pub fn focused_on(mut self, property: &'static str) -> Self {
        self.focus = Some(property);
        self
    }

    /// The bounds that make the state space finite, in words.
    pub fn bounds(&self) -> String {
        format!(
            "epoch <= {}, crashes <= {}, link breaks <= {}, in flight <= {}, per link <= {}",
            self.max_epoch,
            self.max_crashes,
            self.max_link_breaks,
            self.max_in_flight,
            self.max_queue
        )
    }

    /// The configuration without symmetry reduction (every state its own orbit).
    pub fn without_symmetry(mut self) -> Self {
        self.interchangeable.clear();
        self
    }

    /// The interchangeable pairs, as the state carries them.
    pub fn symmetry(&self) -> Swaps {
        Swaps::new(&self.interchangeable, self.masters)
    }

    /// Whether the configuration fits the state's fixed capacities, and its
    /// interchangeable pairs are really alike.
    pub fn validate(&self) -> Result<(), String> {
        let n = self.node_count();
        if n > MAX_NODES || self.masters as usize > MAX_SHARDS {
            return Err(format!("{n} nodes, {} masters: too many", self.masters));
        }
        if self.max_epoch as usize >= EPOCH_SLOTS {
            return Err(format!(
                "max_epoch {} beyond {}",
                self.max_epoch,
                EPOCH_SLOTS - 1
            ));
        }
        let links = n * (n - 1) * self.max_queue;
        if self.max_in_flight.min(links) > MAX_IN_FLIGHT {
            return Err(format!(
                "more than {MAX_IN_FLIGHT} messages may be in flight"
            ));
        }
        if let Some(r) = self.reshard {
            let ok = r.from != r.to
                && r.from < self.masters
                && r.to < self.masters
                && r.shard < self.masters
                && self
                    .interchangeable
                    .iter()
                    .all(|&(a, b)| ![a, b].iter().any(|v| *v == r.from || *v == r.to));
            if !ok {
                return Err(format!("reshard {r:?} does not fit the configuration"));
            }
        }
        if self.interchangeable.len() > 2 {
            return Err("at most two interchangeable pairs".into());
        }
        for &(a, b) in &self.interchangeable {
            let alike = a != b
                && (a as usize) < n
                && (b as usize) < n
                && (a < self.masters) == (b < self.masters)
                && self.initial_master(a) == self.initial_master(b)
                && self.crashable.contains(&a) == self.crashable.contains(&b)
                && self
                    .meets
                    .iter()
                    .all(|&(x, y)| ![x, y].iter().any(|v| *v == a || *v == b));
            if !alike {
                return Err(format!("n{a} and n{b} are not interchangeable"));
            }
        }
        Ok(())
    }

    /// Every configuration's name, in the order `check --all` runs them.
    pub const NAMES: [&'static str; 8] = [
        "handshake-3",
        "failover-3m1r",
        "failover-3m2r",
        "retry-3m1r",
        "crash-restart-3m1r",
        "crash-restart-3m2r",
        "reshard-3m1r",
        "reshard-source-3m1r",
    ];

    /// The configurations `check --all` runs, in order.
    pub fn all() -> Vec<ModelCfg> {
        ModelCfg::NAMES
            .into_iter()
            .filter_map(ModelCfg::named)
            .collect()
    }

    /// The configuration `check` runs when none is named.
    pub const DEFAULT: &'static str = "failover-3m1r";

    /// Every configuration by name, including those only seeded bugs use.
    pub fn named(name: &str) -> Option<ModelCfg> {
        let formed = |name, replicas: Vec<NodeIx>| ModelCfg {
            name,
            masters: 3,
            replicas,
            start: Start::Formed,
            meets: vec![],
            crashable: vec![0],
            max_crashes: 1,
            max_link_breaks: 0,
            max_epoch: 5,
            max_queue: 1,
            max_in_flight: 2,
            max_depth: 24,
            spurious_timeouts: false,
            report_expiry: false,
            rejoin_in_reach: true,
            quiet_in_reach: true,
            check_depth: None,
            // n1 and n2 are told apart by their configEpochs (2 and 3), so
            // only replicas of one master are interchangeable.
            interchangeable: vec![],
            reshard: None,
            findings: vec![],
            focus: None,
            bug: None,
        };
        let cfg = match name {
            "handshake-3" => ModelCfg {
                name: "handshake-3",
                masters: 3,
                replicas: vec![],
                start: Start::Strangers,
                meets: vec![(0, 1), (0, 2)],
                crashable: vec![],
                max_crashes: 0,
                max_link_breaks: 1,
                max_epoch: 3,
                max_queue: 2,
                max_in_flight: 99,
                max_depth: 36,
                spurious_timeouts: false,
                report_expiry: false,
                rejoin_in_reach: false,
                quiet_in_reach: true,
                check_depth: None,
                // Index order decides configEpoch collisions, which this
                // configuration is about: no two nodes are interchangeable.
                interchangeable: vec![],
                reshard: None,
                findings: vec![],
                focus: None,
                bug: None,
            },
            "failover-3m1r" => formed("failover-3m1r", vec![0]),
            "failover-3m2r" => ModelCfg {
                max_epoch: 4,
                max_in_flight: 3,
                max_depth: 18,
                check_depth: Some(17),
                rejoin_in_reach: false,
                // A quiet cluster after a failover is ~20 steps away.
                quiet_in_reach: false,
                interchangeable: vec![(3, 4)],
                ..formed("failover-3m2r", vec![0, 0])
            },
            "crash-restart-3m1r" => ModelCfg {
                crashable: vec![0, 1],
                max_crashes: 2,
                max_depth: 18,
                check_depth: Some(18),
                ..formed("crash-restart-3m1r", vec![0])
            },
            "retry-3m1r" => ModelCfg {
                max_in_flight: 3,
                max_depth: 18,
                check_depth: Some(20),
                rejoin_in_reach: false,
                ..formed("retry-3m1r", vec![0])
            },
            "crash-restart-3m2r" => ModelCfg {
                crashable: vec![0, 1],
                max_crashes: 2,
                max_epoch: 4,
                max_in_flight: 4,
                max_depth: 20,
                check_depth: Some(12),
                rejoin_in_reach: false,
                quiet_in_reach: false,
                interchangeable: vec![(3, 4)],
                ..formed("crash-restart-3m2r", vec![0, 0])
            },
            // n1's shard moves to n0, whose replica n3 may fail over in the
            // middle of it: the target's failover races the move.
            // Redis's own findings (see `resharding`) need the target to
            // crash after its bump, which only this configuration allows.
            "reshard-3m1r" => ModelCfg {
                findings: vec![
                    Finding {
                        property: "FAIL only with a majority of reports",
                        within: 16,
                    },
                    Finding {
                        property: "no shard claimed twice with one configEpoch",
                        within: 16,
                    },
                ],
                ..resharding(formed("reshard-3m1r", vec![0]), 1, 1, 0)
            },
            // n0's shard moves to n1 while n0's replica n3 may fail over:
            // the source's failover races the move.
            "reshard-source-3m1r" => resharding(formed("reshard-source-3m1r", vec![0]), 0, 0, 1),
            _ => return None,
        };
        Some(cfg)
    }
}

/// `base` with `shard` moved from master `from` to master `to` by the
/// operator, target first (`Reshard::tell_all` off: the others learn the
/// new owner from the target's claim). Where the target may crash, two
/// behaviours of Redis 7.0 itself break properties the other
/// configurations hold, so they are findings there
/// (`specs/divergences.md`): a failure report made by a master that has
/// since lost its last slot still counts towards FAIL, and the configEpoch
/// a node takes without consensus can collide with a failover's until
/// collision handling settles it. The complete space is beyond the
/// checker's budget (`specs/model.md`); the check is bounded.
fn resharding(base: ModelCfg, shard: Shard, from: NodeIx, to: NodeIx) -> ModelCfg {
    ModelCfg {
        max_epoch: 4,
        max_in_flight: 3,
        max_depth: 16,
        check_depth: Some(15),
        rejoin_in_reach: false,
        // `quiet_means_failed_over` reads shard `m` as master `m`'s; a move
        // breaks that, and `quiet_means_one_owner` judges quiet clusters here.
        quiet_in_reach: false,
        reshard: Some(Reshard {
            shard,
            from,
            to,
            tell_all: false,
        }),
        ..base
    }
}
