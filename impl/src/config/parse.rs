//! Text → [`NodesConf`]. Mirrors the line grammar of `clusterLoadConfig`,
//! but reports every defect as an error naming the line instead of exiting.

use super::error::{ConfigError, ConfigErrorKind as Kind};
use super::flags::flags_from_str;
use super::{NodeRecord, NodesConf, SlotRange};
use crate::codec::{flags, CLUSTER_SLOTS};
use crate::slots::is_valid_node_id;

/// Offset from the client port to the bus port, used when an old nodes.conf
/// lacks `@cport` (`CLUSTER_PORT_INCR`).
pub const CLUSTER_PORT_INCR: u16 = 10000;

/// Parse a whole nodes.conf. Blank lines are skipped (Redis pads with
/// newlines); unknown `vars` names are skipped, as Redis does.
pub fn parse(text: &str) -> Result<NodesConf, ConfigError> {
    if text.is_empty() {
        return Err(ConfigError::whole(Kind::Empty));
    }
    let mut conf = NodesConf {
        nodes: Vec::new(),
        current_epoch: 0,
        last_vote_epoch: 0,
    };
    let mut have_myself = false;
    for (index, line) in text.lines().enumerate() {
        let at = |kind| ConfigError::at(index + 1, kind);
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        match fields.first() {
            None => continue,
            Some(first) if first.eq_ignore_ascii_case("vars") => {
                parse_vars(&fields[1..], &mut conf).map_err(at)?
            }
            Some(_) => {
                let node = parse_node_line(&fields).map_err(at)?;
                if node.flags & flags::MYSELF != 0 {
                    if have_myself {
                        return Err(at(Kind::DuplicateMyself));
                    }
                    have_myself = true;
                }
                if conf.nodes.iter().any(|n| n.id == node.id) {
                    return Err(at(Kind::DuplicateNode { id: node.id }));
                }
                conf.nodes.push(node);
            }
        }
    }
    if !have_myself {
        return Err(ConfigError::whole(Kind::NoMyself));
    }
    Ok(conf)
}

/// `vars name value ...`: `currentEpoch` and `lastVoteEpoch`, names matched
/// case-insensitively.
fn parse_vars(pairs: &[&str], conf: &mut NodesConf) -> Result<(), Kind> {
    let chunks = pairs.chunks_exact(2);
    if !chunks.remainder().is_empty() {
        let reason = format!(
            "{} words after vars; expected name/value pairs",
            pairs.len()
        );
        return Err(Kind::BadVars { reason });
    }
    for pair in chunks {
        let (name, value) = (pair[0], pair[1]);
        if name.eq_ignore_ascii_case("currentEpoch") {
            conf.current_epoch = number("currentEpoch", value)?;
        } else if name.eq_ignore_ascii_case("lastVoteEpoch") {
            conf.last_vote_epoch = number("lastVoteEpoch", value)?;
        }
    }
    Ok(())
}

/// One node line: 8 fixed fields, then slots and migration entries.
fn parse_node_line(fields: &[&str]) -> Result<NodeRecord, Kind> {
    if fields.len() < 8 {
        return Err(Kind::TooFewFields {
            found: fields.len(),
        });
    }
    let id = node_id("node id", fields[0])?;
    let (ip, port, cport, hostname) = parse_address(fields[1])?;
    let flags = flags_from_str(fields[2]).map_err(|value| Kind::UnknownFlag { value })?;
    let master = match fields[3] {
        "-" => None,
        m => Some(node_id("master id", m)?),
    };
    let link_connected = match fields[7] {
        "connected" => true,
        "disconnected" => false,
        other => {
            return Err(Kind::BadLinkState {
                value: other.to_string(),
            })
        }
    };
    let mut node = NodeRecord {
        id,
        ip,
        port,
        cport,
        hostname,
        flags,
        master,
        ping_sent_ms: number("ping_sent", fields[4])?,
        pong_received_ms: number("pong_recv", fields[5])?,
        config_epoch: number("configEpoch", fields[6])?,
        link_connected,
        slots: Vec::new(),
        migrating: Vec::new(),
        importing: Vec::new(),
    };
    fields[8..]
        .iter()
        .try_for_each(|entry| parse_slot_entry(entry, &mut node))?;
    Ok(node)
}

fn node_id(field: &'static str, value: &str) -> Result<String, Kind> {
    if is_valid_node_id(value) {
        Ok(value.to_string())
    } else {
        Err(Kind::BadNodeId {
            field,
            value: value.to_string(),
        })
    }
}

fn number(field: &'static str, value: &str) -> Result<u64, Kind> {
    value.parse().map_err(|_| Kind::BadNumber {
        field,
        value: value.to_string(),
    })
}

/// `ip:port[@cport][,hostname]`; the port is after the last `:` so IPv6
/// addresses work. A missing `@cport` means port + 10000, as in old files.
fn parse_address(value: &str) -> Result<(String, u16, u16, Option<String>), Kind> {
    let bad = || Kind::BadAddress {
        value: value.to_string(),
    };
    let (addr, hostname) = match value.split_once(',') {
        Some((a, h)) => (a, (!h.is_empty()).then(|| h.to_string())),
        None => (value, None),
    };
    let (ip, ports) = addr.rsplit_once(':').ok_or_else(bad)?;
    let (port, cport) = match ports.split_once('@') {
        Some((p, c)) => (p.parse().map_err(|_| bad())?, c.parse().map_err(|_| bad())?),
        None => {
            let p: u16 = ports.parse().map_err(|_| bad())?;
            (p, p.checked_add(CLUSTER_PORT_INCR).ok_or_else(bad)?)
        }
    };
    Ok((ip.to_string(), port, cport, hostname))
}

/// `N`, `N-M`, `[N->-id]` (migrating to id) or `[N-<-id]` (importing from id).
fn parse_slot_entry(entry: &str, node: &mut NodeRecord) -> Result<(), Kind> {
    let bad = || Kind::BadSlot {
        value: entry.to_string(),
    };
    if let Some(inner) = entry.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or_else(bad)?;
        if let Some((slot, id)) = inner.split_once("->-") {
            node.migrating.push((
                slot_number(slot).ok_or_else(bad)?,
                migration_peer(id, entry)?,
            ));
        } else if let Some((slot, id)) = inner.split_once("-<-") {
            node.importing.push((
                slot_number(slot).ok_or_else(bad)?,
                migration_peer(id, entry)?,
            ));
        } else {
            return Err(bad());
        }
        return Ok(());
    }
    let (start, end) = match entry.split_once('-') {
        Some((a, b)) => (slot_number(a), slot_number(b)),
        None => (slot_number(entry), slot_number(entry)),
    };
    match (start, end) {
        (Some(start), Some(end)) if start <= end => {
            node.slots.push(SlotRange { start, end });
            Ok(())
        }
        _ => Err(bad()),
    }
}

fn migration_peer(id: &str, entry: &str) -> Result<String, Kind> {
    if is_valid_node_id(id) {
        Ok(id.to_string())
    } else {
        Err(Kind::BadSlot {
            value: entry.to_string(),
        })
    }
}

fn slot_number(text: &str) -> Option<u16> {
    text.parse::<u16>()
        .ok()
        .filter(|s| (*s as usize) < CLUSTER_SLOTS)
}
