//! Forming a cluster by hand, as an operator would without redis-cli:
//! ADDSLOTSRANGE and SET-CONFIG-EPOCH on each master (redis-cli's slot
//! split and epochs), CLUSTER MEET through the tap, CLUSTER REPLICATE for
//! the replicas, then a bounded wait until every node agrees.

use std::time::Duration;

use super::cluster::Cluster;
use super::error::LiveError;
use super::snapshot::Snapshot;

/// How long a formation may take (redis-server: about 1.5 s for 3m3r).
pub const FORM_LIMIT: Duration = Duration::from_secs(30);

/// The slot ranges redis-cli `--cluster create` gives `masters` masters
/// (`clusterManagerCommandCreate`: a float cursor, rounded).
pub fn slot_ranges(masters: usize) -> Vec<(u16, u16)> {
    let per = 16384.0 / masters as f64;
    let mut cursor = 0.0f64;
    let mut first = 0i64;
    let mut out = Vec::new();
    for i in 0..masters {
        let mut last = (cursor + per - 1.0).round() as i64;
        if last > 16383 || i == masters - 1 {
            last = 16383;
        }
        last = last.max(first);
        out.push((first as u16, last as u16));
        first = last + 1;
        cursor += per;
    }
    out
}

/// Forms nodes `0..masters` as masters and node `masters + k` as a replica
/// of `replica_of[k]`; waits until everyone sees the same cluster.
pub fn form(c: &Cluster, masters: usize, replica_of: &[usize]) -> Result<(), LiveError> {
    let n = masters + replica_of.len();
    if n != c.len() || replica_of.iter().any(|m| *m >= masters) {
        return Err(LiveError::Usage(format!(
            "{masters} masters and replicas of {replica_of:?} do not fit {} nodes",
            c.len()
        )));
    }
    for (i, (a, b)) in slot_ranges(masters).into_iter().enumerate() {
        c.cmd(
            i,
            &["CLUSTER", "ADDSLOTSRANGE", &a.to_string(), &b.to_string()],
        )?;
        c.cmd(i, &["CLUSTER", "SET-CONFIG-EPOCH", &(i + 1).to_string()])?;
    }
    let announced = c.nodes.first().map_or(0, |p| p.spec.tap_port);
    let (p0, t0) = (c.port(0)?.to_string(), announced.to_string());
    for i in 1..n {
        c.cmd(i, &["CLUSTER", "MEET", "127.0.0.1", &p0, &t0])?;
    }
    c.rec.note("CLUSTER MEET sent");
    c.wait_until("every node to know every other", FORM_LIMIT, |c| {
        (0..n).all(|i| c.view(i).is_some_and(|v| knows_all(&v, n)))
    })?;
    let ids = c.ids();
    for (k, m) in replica_of.iter().enumerate() {
        c.cmd(masters + k, &["CLUSTER", "REPLICATE", &ids[*m]])?;
    }
    wait_formed(c, masters, replica_of)
}

/// Every node is known, out of handshake, and connected.
fn knows_all(v: &Snapshot, n: usize) -> bool {
    v.nodes.len() == n
        && v.nodes.iter().all(|l| {
            !l.flags.iter().any(|f| f == "handshake" || f == "noaddr")
                && (l.link == "connected" || l.flags.iter().any(|f| f == "myself"))
        })
}

/// Waits until every node has `cluster_state:ok`, sees each replica as a
/// replica of its master, and every replica's replication link is up.
pub fn wait_formed(c: &Cluster, masters: usize, replica_of: &[usize]) -> Result<(), LiveError> {
    let ids = c.ids();
    c.wait_until("the formed cluster to agree", FORM_LIMIT, |c| {
        (0..c.len()).all(|i| {
            c.view(i).is_some_and(|v| {
                v.cluster_state == "ok"
                    && replica_of
                        .iter()
                        .enumerate()
                        .all(|(k, m)| replica_in(&v, &ids[masters + k], &ids[*m]))
                    && (i < masters || v.master_link_status.as_deref() == Some("up"))
            })
        })
    })?;
    c.rec.note("cluster formed");
    c.snapshot_all();
    Ok(())
}

/// In view `v`, node `id` is a replica of `master`.
pub fn replica_in(v: &Snapshot, id: &str, master: &str) -> bool {
    v.nodes.iter().any(|l| {
        l.id == id && l.flags.iter().any(|f| f == "slave") && l.master.as_deref() == Some(master)
    })
}

/// In view `v`, node `id` is a master holding every slot of `slots`
/// (as CLUSTER NODES prints ranges).
pub fn master_with_slots(v: &Snapshot, id: &str, slots: &[String]) -> bool {
    v.nodes.iter().any(|l| {
        l.id == id
            && l.flags.iter().any(|f| f == "master")
            && !l.flags.iter().any(|f| f == "fail" || f == "fail?")
            && slots.iter().all(|s| l.slots.contains(s))
    })
}

/// The slot fields node `id` has in view `v`.
pub fn slots_of(v: &Snapshot, id: &str) -> Vec<String> {
    v.nodes
        .iter()
        .find(|l| l.id == id)
        .map(|l| l.slots.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slot_ranges_are_redis_clis() {
        assert_eq!(
            super::slot_ranges(3),
            vec![(0, 5460), (5461, 10922), (10923, 16383)]
        );
        assert_eq!(super::slot_ranges(1), vec![(0, 16383)]);
    }
}
