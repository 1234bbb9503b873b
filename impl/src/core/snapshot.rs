//! A core's whole protocol state as JSON, and back; and the events a
//! driver injects, as JSON.
//!
//! The test-control mode of the node binary answers with the state, so that
//! a replay driving live processes reads exactly the state the in-process
//! replay reads from its own cores, and projects it with the same code. It
//! takes the same core events the in-process replay hands its cores
//! (except deliveries, which come over the wire).
//! Node names travel as their 40-character text and slot bitmaps as ranges;
//! effects not yet taken out of the core are not part of the state.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::{NodeName, SlotBitmap};

use super::{name_from_str, name_str, Core, Event};

impl Core {
    /// This core's state as one JSON object.
    pub fn to_json(&self) -> String {
        // A map with string keys, strings and integers: cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A core from [`Core::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<Core, String> {
        serde_json::from_str(text).map_err(|e| format!("a core's state does not parse: {e}"))
    }
}

fn parse_name<E: serde::de::Error>(s: &str) -> Result<NodeName, E> {
    name_from_str(s).ok_or_else(|| E::custom(format!("{s:?} is not a 40-character node id")))
}

/// A `NodeName` as its text.
pub(crate) mod name {
    use super::*;
    pub fn serialize<S: Serializer>(n: &NodeName, s: S) -> Result<S::Ok, S::Error> {
        name_str(n).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NodeName, D::Error> {
        parse_name(&String::deserialize(d)?)
    }
}

/// An `Option<NodeName>` as text or null.
pub(crate) mod opt_name {
    use super::*;
    pub fn serialize<S: Serializer>(n: &Option<NodeName>, s: S) -> Result<S::Ok, S::Error> {
        n.as_ref().map(name_str).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NodeName>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse_name(&s))
            .transpose()
    }
}

/// Names as a list of texts.
fn serialize_names<'a, S: Serializer>(
    names: impl Iterator<Item = &'a NodeName>,
    s: S,
) -> Result<S::Ok, S::Error> {
    names.map(name_str).collect::<Vec<_>>().serialize(s)
}

/// A list of texts as names, into any collection.
fn deserialize_names<'de, D, C>(d: D) -> Result<C, D::Error>
where
    D: Deserializer<'de>,
    C: FromIterator<NodeName>,
{
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| parse_name(s))
        .collect()
}

/// A list of names as a list of texts.
pub(crate) mod name_list {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[NodeName], s: S) -> Result<S::Ok, S::Error> {
        serialize_names(v.iter(), s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NodeName>, D::Error> {
        deserialize_names(d)
    }
}

/// A set of names as a list of texts.
pub(crate) mod name_set {
    use super::*;
    pub fn serialize<S: Serializer>(v: &BTreeSet<NodeName>, s: S) -> Result<S::Ok, S::Error> {
        serialize_names(v.iter(), s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeSet<NodeName>, D::Error> {
        deserialize_names(d)
    }
}

/// A map keyed by name, with text keys.
pub(crate) mod name_keys {
    use super::*;
    pub fn serialize<S, V>(v: &BTreeMap<NodeName, V>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        V: Serialize,
    {
        let m: BTreeMap<String, &V> = v.iter().map(|(k, v)| (name_str(k), v)).collect();
        m.serialize(s)
    }
    pub fn deserialize<'de, D, V>(d: D) -> Result<BTreeMap<NodeName, V>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de>,
    {
        BTreeMap::<String, V>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| Ok((parse_name(&k)?, v)))
            .collect()
    }
}

/// A map whose values are names (slot → node, link → node).
pub(crate) mod name_values {
    use super::*;
    pub fn serialize<S, K>(v: &BTreeMap<K, NodeName>, s: S) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        K: Serialize + Ord,
    {
        let m: BTreeMap<&K, String> = v.iter().map(|(k, n)| (k, name_str(n))).collect();
        m.serialize(s)
    }
    pub fn deserialize<'de, D, K>(d: D) -> Result<BTreeMap<K, NodeName>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord,
    {
        BTreeMap::<K, String>::deserialize(d)?
            .into_iter()
            .map(|(k, n)| Ok((k, parse_name(&n)?)))
            .collect()
    }
}

/// The slot → owner table, as runs of one owner (`[start, end, id]`).
pub(crate) mod slot_owners {
    use super::*;
    pub fn serialize<S: Serializer>(v: &[Option<NodeName>], s: S) -> Result<S::Ok, S::Error> {
        let mut runs: Vec<(usize, usize, String)> = Vec::new();
        for (slot, owner) in v.iter().enumerate() {
            let Some(owner) = owner else { continue };
            let owner = name_str(owner);
            match runs.last_mut() {
                Some(run) if run.1 + 1 == slot && run.2 == owner => run.1 = slot,
                _ => runs.push((slot, slot, owner)),
            }
        }
        (v.len(), runs).serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<NodeName>>, D::Error> {
        use serde::de::Error;
        let (len, runs) = <(usize, Vec<(usize, usize, String)>)>::deserialize(d)?;
        if len != crate::core::CLUSTER_SLOTS {
            return Err(D::Error::custom(format!("a slot table of {len} slots")));
        }
        let mut out = vec![None; len];
        for (start, end, owner) in runs {
            let owner = parse_name::<D::Error>(&owner)?;
            let run = out
                .get_mut(start..=end)
                .ok_or_else(|| D::Error::custom(format!("slots {start}-{end} out of range")))?;
            run.iter_mut().for_each(|o| *o = Some(owner));
        }
        Ok(out)
    }
}

/// A slot bitmap as ascending `[start, end]` ranges.
pub(crate) mod bitmap {
    use super::*;
    pub fn serialize<S: Serializer>(v: &SlotBitmap, s: S) -> Result<S::Ok, S::Error> {
        let mut runs: Vec<(u16, u16)> = Vec::new();
        for slot in v.iter() {
            match runs.last_mut() {
                Some(run) if run.1 + 1 == slot => run.1 = slot,
                _ => runs.push((slot, slot)),
            }
        }
        runs.serialize(s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SlotBitmap, D::Error> {
        let mut b = SlotBitmap::empty();
        for (start, end) in Vec::<(u16, u16)>::deserialize(d)? {
            (start..=end).for_each(|slot| b.insert(slot));
        }
        Ok(b)
    }
}

impl Event {
    /// An event from [`Event::to_json`]'s text.
    pub fn from_json(text: &str) -> Result<Event, String> {
        serde_json::from_str(text).map_err(|e| format!("an event does not parse: {e}"))
    }

    /// The event as JSON; a delivery has none (it comes over the wire).
    pub fn to_json(&self) -> Option<String> {
        match self {
            Event::Deliver { .. } => None,
            e => serde_json::to_string(e).ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{ClusterCommand, CoreConfig, Event, NodeIdentity};

    fn id(i: u8) -> NodeName {
        let mut n = [b'0'; 40];
        n[39] = b'a' + i;
        n
    }

    #[test]
    fn a_core_survives_the_trip_through_json() {
        let me = NodeIdentity {
            id: id(0),
            ip: "127.0.0.1".into(),
            port: 7000,
            cport: 17000,
        };
        let mut core = Core::new(me, CoreConfig::default(), 5_000);
        let _ = core.handle(
            5_000,
            Event::Command(ClusterCommand::AddSlots((0..100).chain(200..300).collect())),
        );
        let _ = core.handle(
            5_010,
            Event::Command(ClusterCommand::Meet {
                ip: "127.0.0.1".into(),
                port: 7001,
                cport: 17001,
                handshake_id: id(1),
            }),
        );
        let text = core.to_json();
        let back = Core::from_json(&text).expect("parses");
        assert_eq!(back.to_json(), text);
        assert_eq!(back.summary(), core.summary());
        assert_eq!(back.persisted(), core.persisted());
        assert_eq!(back.slot_owner(250), Some(id(0)));
        assert_eq!(back.slot_owner(150), None);
        assert!(back.nodes().any(|e| e.cport == 17001));
    }

    #[test]
    fn events_survive_the_trip_through_json() {
        use crate::core::migration::SetSlot;
        let events = [
            Event::PingDue {
                peer: id(1),
                gossip: vec![id(2)],
            },
            Event::ScheduleElection { jitter_ms: 7 },
            Event::ElectionDue,
            Event::LinkUp {
                peer: id(3),
                gossip: crate::core::GossipChoice::Explicit(vec![id(4)]),
            },
            Event::Command(ClusterCommand::SetSlot {
                slot: 5,
                action: SetSlot::Node(name_str(&id(1))),
                keys_in_slot: 0,
                entropy: 9,
            }),
        ];
        for e in events {
            let text = e.to_json().expect("not a delivery");
            assert_eq!(Event::from_json(&text), Ok(e), "{text}");
        }
        assert!(Event::from_json("{\"NoSuchEvent\":1}").is_err());
    }

    #[test]
    fn a_bad_id_in_a_state_is_an_error() {
        let me = NodeIdentity {
            id: id(0),
            ip: "127.0.0.1".into(),
            port: 7000,
            cport: 17000,
        };
        let core = Core::new(me, CoreConfig::default(), 5_000);
        let text = core.to_json().replace(&name_str(&id(0)), "not-an-id");
        let err = Core::from_json(&text).expect_err("refused");
        assert!(err.contains("not a 40-character node id"), "{err}");
    }
}
