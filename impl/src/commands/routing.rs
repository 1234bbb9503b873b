//! Cluster routing of a keyed command: serve it here, or tell the client
//! where to go. Mirrors `getNodeByQuery` and `clusterRedirectClient` of
//! Redis 7.0's `src/cluster.c`.
//!
//! The checks, in Redis's order:
//! 1. the first key's slot must have an owner (`CLUSTERDOWN Hash slot not
//!    served`), and every other key must hash to that slot (`CROSSSLOT`);
//! 2. with keys, `cluster_state` must be ok (`CLUSTERDOWN The cluster is
//!    down`; `cluster-allow-reads-when-down` is not supported, it is `no`);
//! 3. slot migration: MIGRATE is served wherever the slot is open; a
//!    migrating slot sends a request for keys it lacks on with `ASK` (or
//!    `TRYAGAIN` when it has some of them); an importing slot serves a
//!    request after `ASKING` (`TRYAGAIN` if a multi-key one lacks a key);
//! 4. a READONLY client of a replica reads its master's slots here;
//! 5. any other slot not mine: `MOVED <slot> <ip>:<port>` to its owner.

use crate::core::{ClusterState, Core};
use crate::resp::Frame;
use crate::slots::key_hash_slot;

/// Why a command is not served here (`CLUSTER_REDIR_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// Keys of one request in different slots (`CLUSTER_REDIR_CROSS_SLOT`).
    CrossSlot,
    /// The first key's slot has no owner (`CLUSTER_REDIR_DOWN_UNBOUND`).
    Unbound,
    /// `cluster_state` is not ok (`CLUSTER_REDIR_DOWN_STATE`).
    Down,
    /// Some keys of a request on a slot being moved are here and some are
    /// not (`CLUSTER_REDIR_UNSTABLE`).
    TryAgain,
    /// The slot is migrating and the keys are gone: ask the node it is
    /// moving to, once (`CLUSTER_REDIR_ASK`).
    Ask {
        /// The slot of the keys.
        slot: u16,
        /// The target's announced IP.
        ip: String,
        /// The target's client port.
        port: u16,
    },
    /// The slot is served by the node at `ip:port` (`CLUSTER_REDIR_MOVED`).
    Moved {
        /// The slot of the keys.
        slot: u16,
        /// The owner's announced IP.
        ip: String,
        /// The owner's client port.
        port: u16,
    },
}

impl Redirect {
    /// The error reply, as `clusterRedirectClient` words it.
    pub fn reply(&self) -> Frame {
        Frame::error(match self {
            Redirect::CrossSlot => "CROSSSLOT Keys in request don't hash to the same slot".into(),
            Redirect::Unbound => "CLUSTERDOWN Hash slot not served".into(),
            Redirect::Down => "CLUSTERDOWN The cluster is down".into(),
            Redirect::TryAgain => "TRYAGAIN Multiple keys request during rehashing of slot".into(),
            Redirect::Ask { slot, ip, port } => format!("ASK {slot} {ip}:{port}"),
            Redirect::Moved { slot, ip, port } => format!("MOVED {slot} {ip}:{port}"),
        })
    }
}

/// What the routing needs to know about the request and its client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// The command writes (`CMD_WRITE`).
    pub write: bool,
    /// The client sent READONLY (`CLIENT_READONLY`).
    pub readonly: bool,
    /// The client sent ASKING, or the command is flagged `asking`
    /// (RESTORE-ASKING): an importing slot is served.
    pub asking: bool,
    /// The command is MIGRATE, which works wherever the slot is open.
    pub migrate: bool,
}

/// Where a command with `keys` is served: `Ok(Some(slot))` here, `Ok(None)`
/// here because it has no keys, or the redirection. `has_key` says whether
/// a key exists here (asked only for a slot being moved). Mirrors
/// `getNodeByQuery`.
pub fn route<'k>(
    core: &Core,
    keys: impl IntoIterator<Item = &'k [u8]>,
    query: Query,
    mut has_key: impl FnMut(&[u8]) -> bool,
) -> Result<Option<u16>, Redirect> {
    let mut keys = keys.into_iter();
    let Some(first) = keys.next() else {
        return Ok(None);
    };
    let slot = key_hash_slot(first);
    // Redis looks at the owner of the first key's slot before the others.
    let Some(owner) = core.slot_owner(slot) else {
        return Err(Redirect::Unbound);
    };
    let migrating = owner == core.id() && core.migrating_to(slot).is_some();
    let importing = !migrating && core.importing_from(slot).is_some();
    let (mut present, mut missing, mut multiple) = (0, 0, false);
    let mut count = |key: &[u8]| {
        if migrating || importing {
            if has_key(key) {
                present += 1;
            } else {
                missing += 1;
            }
        }
    };
    count(first);
    for key in keys {
        // Keys equal to the first are not hashed again, as in Redis.
        if key != first {
            if key_hash_slot(key) != slot {
                return Err(Redirect::CrossSlot);
            }
            multiple = true;
        }
        count(key);
    }
    if core.cluster_state() != ClusterState::Ok {
        return Err(Redirect::Down);
    }
    if (migrating || importing) && query.migrate {
        return Ok(Some(slot));
    }
    if migrating && missing > 0 {
        if present > 0 {
            return Err(Redirect::TryAgain);
        }
        // A slot migrating to myself is served here (`processCommand`
        // redirects only to another node).
        let to = core.migrating_to(slot);
        if to == Some(core.id()) {
            return Ok(Some(slot));
        }
        let target = to.and_then(|t| core.node(&t));
        return match target {
            Some(n) => Err(Redirect::Ask {
                slot,
                ip: n.ip.clone(),
                port: n.port,
            }),
            // Open slots are closed with their node (`clusterDelNode`).
            None => Err(Redirect::Unbound),
        };
    }
    if importing && query.asking {
        if multiple && missing > 0 {
            return Err(Redirect::TryAgain);
        }
        return Ok(Some(slot));
    }
    if owner == core.id() || replica_may_read(core, owner, query) {
        return Ok(Some(slot));
    }
    match core.node(&owner) {
        Some(n) => Err(Redirect::Moved {
            slot,
            ip: n.ip.clone(),
            port: n.port,
        }),
        // An owner missing from the table cannot happen (slots are removed
        // with their node); treat it as an unassigned slot.
        None => Err(Redirect::Unbound),
    }
}

/// A READONLY client of a replica may read the slots of its master
/// (the `CLIENT_READONLY` branch of `getNodeByQuery`).
fn replica_may_read(core: &Core, owner: crate::codec::NodeName, query: Query) -> bool {
    query.readonly && !query.write && !core.is_master() && core.master() == Some(owner)
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{lone_master, two_shards};
    use super::*;
    use crate::core::{ClusterCommand, CoreConfig, Event};

    const READ: Query = Query {
        write: false,
        readonly: false,
        asking: false,
        migrate: false,
    };
    const WRITE: Query = Query {
        write: true,
        ..READ
    };
    const READONLY_READ: Query = Query {
        readonly: true,
        ..READ
    };

    fn keys<'a>(list: &'a [&'a str]) -> impl Iterator<Item = &'a [u8]> + 'a {
        list.iter().map(|k| k.as_bytes())
    }

    #[test]
    fn keys_of_my_slots_are_served_here() {
        let core = lone_master(0..=16383);
        let slot = key_hash_slot(b"foo");
        assert_eq!(slot, 12182);
        assert_eq!(
            route(&core, keys(&["foo"]), WRITE, |_| false),
            Ok(Some(slot))
        );
        assert_eq!(
            route(&core, keys(&["{foo}a", "{foo}b"]), READ, |_| false),
            Ok(Some(slot))
        );
        assert_eq!(route(&core, keys(&[]), WRITE, |_| false), Ok(None));
    }

    #[test]
    fn the_first_keys_owner_is_checked_before_cross_slot() {
        assert_eq!((key_hash_slot(b"a"), key_hash_slot(b"b")), (15495, 3300));
        let all = lone_master(0..=16383);
        assert_eq!(
            route(&all, keys(&["a", "b"]), READ, |_| false),
            Err(Redirect::CrossSlot)
        );
        assert_eq!(
            route(&all, keys(&["a", "a"]), READ, |_| false),
            Ok(Some(15495))
        );
        // Redis 7.0.15 without slots answers `MSET a 1 b 2` "not served".
        let none = lone_master(0..=0);
        assert_eq!(
            route(&none, keys(&["a", "b"]), WRITE, |_| false),
            Err(Redirect::Unbound)
        );
        let low = lone_master(0..=8191);
        assert_eq!(
            route(&low, keys(&["b", "a"]), WRITE, |_| false),
            Err(Redirect::CrossSlot)
        );
        assert_eq!(
            Redirect::CrossSlot.reply().to_bytes(),
            b"-CROSSSLOT Keys in request don't hash to the same slot\r\n".to_vec()
        );
    }

    #[test]
    fn unbound_slot_then_cluster_down() {
        let core = lone_master(0..=8191);
        // 16383 slots short of full coverage: cluster_state is fail.
        assert_eq!(core.cluster_state(), ClusterState::Fail);
        assert_eq!(
            route(&core, keys(&["foo"]), READ, |_| false),
            Err(Redirect::Unbound)
        );
        assert_eq!(
            route(&core, keys(&["b"]), READ, |_| false),
            Err(Redirect::Down)
        );
        assert_eq!(
            Redirect::Unbound.reply().to_bytes(),
            b"-CLUSTERDOWN Hash slot not served\r\n".to_vec()
        );
        assert_eq!(
            Redirect::Down.reply().to_bytes(),
            b"-CLUSTERDOWN The cluster is down\r\n".to_vec()
        );
    }

    #[test]
    fn without_full_coverage_the_served_slots_stay_up() {
        let mut core = Core::new(
            crate::core::NodeIdentity {
                id: [b'a'; 40],
                ip: "127.0.0.1".into(),
                port: 7000,
                cport: 17000,
            },
            CoreConfig {
                require_full_coverage: false,
                ..CoreConfig::default()
            },
            0,
        );
        core.handle(
            0,
            Event::Command(ClusterCommand::AddSlots((0..=8191).collect())),
        );
        assert_eq!(core.cluster_state(), ClusterState::Ok);
        assert_eq!(route(&core, keys(&["b"]), WRITE, |_| false), Ok(Some(3300)));
        assert_eq!(
            route(&core, keys(&["foo"]), WRITE, |_| false),
            Err(Redirect::Unbound)
        );
    }

    #[test]
    fn other_masters_slots_are_moved_and_replicas_read_only_on_request() {
        let (m0, m1, r0) = two_shards();
        let (low, high) = (key_hash_slot(b"b"), key_hash_slot(b"foo"));
        assert!(low <= 8191 && high > 8191);
        let at = |core: &Core| core.node(&core.id()).map(|n| n.port).unwrap_or(0);
        let moved = |slot, core: &Core| {
            Err(Redirect::Moved {
                slot,
                ip: "127.0.0.1".into(),
                port: at(core),
            })
        };
        assert_eq!(route(&m0, keys(&["b"]), WRITE, |_| false), Ok(Some(low)));
        assert_eq!(
            route(&m0, keys(&["foo"]), READ, |_| false),
            moved(high, &m1)
        );
        assert_eq!(route(&m1, keys(&["b"]), READ, |_| false), moved(low, &m0));
        // The replica of m0: reads of m0's slots with READONLY, else MOVED.
        assert_eq!(
            route(&r0, keys(&["b"]), READONLY_READ, |_| false),
            Ok(Some(low))
        );
        assert_eq!(route(&r0, keys(&["b"]), READ, |_| false), moved(low, &m0));
        let readonly_write = Query {
            write: true,
            ..READONLY_READ
        };
        assert_eq!(
            route(&r0, keys(&["b"]), readonly_write, |_| false),
            moved(low, &m0)
        );
        assert_eq!(
            route(&r0, keys(&["foo"]), READONLY_READ, |_| false),
            moved(high, &m1)
        );
        let text = Redirect::Moved {
            slot: 3300,
            ip: "127.0.0.1".into(),
            port: 30000,
        };
        assert_eq!(
            text.reply().to_bytes(),
            b"-MOVED 3300 127.0.0.1:30000\r\n".to_vec()
        );
    }

    fn open(core: &mut Core, slot: u16, action: crate::core::migration::SetSlot) {
        core.handle(
            0,
            Event::Command(ClusterCommand::SetSlot {
                slot,
                action,
                keys_in_slot: 1,
                entropy: 0,
            }),
        );
    }

    #[test]
    fn a_migrating_slot_asks_for_missing_keys_and_an_importing_one_serves_asking_clients() {
        use crate::core::migration::SetSlot;
        use crate::core::name_str;
        let (mut m0, mut m1, _) = two_shards();
        let slot = key_hash_slot(b"foo");
        open(&mut m1, slot, SetSlot::Migrating(name_str(&m0.id())));
        open(&mut m0, slot, SetSlot::Importing(name_str(&m1.id())));
        let port = |core: &Core| core.node(&core.id()).map(|n| n.port).unwrap_or(0);
        let ask = Err(Redirect::Ask {
            slot,
            ip: "127.0.0.1".into(),
            port: port(&m0),
        });
        // The source: its own keys here, the others are asked for there.
        assert_eq!(route(&m1, keys(&["foo"]), WRITE, |_| true), Ok(Some(slot)));
        assert_eq!(route(&m1, keys(&["foo"]), READ, |_| false), ask);
        let only_a = |k: &[u8]| k == b"{foo}a";
        assert_eq!(
            route(&m1, keys(&["{foo}a", "{foo}b"]), READ, only_a),
            Err(Redirect::TryAgain)
        );
        let migrate = Query {
            migrate: true,
            ..WRITE
        };
        assert_eq!(
            route(&m1, keys(&["foo"]), migrate, |_| false),
            Ok(Some(slot))
        );
        // The target: MOVED back without ASKING, served with it.
        let moved = Err(Redirect::Moved {
            slot,
            ip: "127.0.0.1".into(),
            port: port(&m1),
        });
        assert_eq!(route(&m0, keys(&["foo"]), WRITE, |_| false), moved);
        let asking = Query {
            asking: true,
            ..WRITE
        };
        assert_eq!(
            route(&m0, keys(&["foo"]), asking, |_| false),
            Ok(Some(slot))
        );
        assert_eq!(
            route(&m0, keys(&["{foo}a", "{foo}b"]), asking, only_a),
            Err(Redirect::TryAgain)
        );
        assert_eq!(
            route(&m0, keys(&["{foo}a", "{foo}a"]), asking, |_| false),
            Ok(Some(slot)),
            "one key named twice is not a multi-key request"
        );
        assert_eq!(
            Redirect::TryAgain.reply().to_bytes(),
            b"-TRYAGAIN Multiple keys request during rehashing of slot\r\n".to_vec()
        );
        let text = Redirect::Ask {
            slot: 12182,
            ip: "127.0.0.1".into(),
            port: 30000,
        };
        assert_eq!(
            text.reply().to_bytes(),
            b"-ASK 12182 127.0.0.1:30000\r\n".to_vec()
        );
    }
}
