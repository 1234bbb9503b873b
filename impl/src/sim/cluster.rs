//! Building a cluster in the simulator the way `redis-cli --cluster create`
//! does, so tests, conformance and benches start from the same shape.

use crate::core::{ClusterCommand, Reply};

use super::Sim;

/// The slot ranges `redis-cli --cluster create` gives `masters` masters:
/// equal shares, the last one taking the remainder.
pub fn slot_split(masters: usize) -> Vec<(u16, u16)> {
    let per = 16384 / masters.max(1);
    (0..masters)
        .map(|i| {
            let start = i * per;
            let end = if i + 1 == masters {
                16383
            } else {
                (i + 1) * per - 1
            };
            (start as u16, end as u16)
        })
        .collect()
}

impl Sim {
    /// Nodes `0..masters` take the slots and config epochs `1..=masters`
    /// (the replicas `masters + 1..` after them), everyone meets node 0, and
    /// once all know all, replica `masters + k` replicates master
    /// `k % masters`. Returns the virtual time at which every node saw every
    /// replica's master and said `cluster_state:ok`, or an error naming the
    /// step that did not finish by `deadline_ms`.
    pub fn create_cluster(&mut self, masters: usize, deadline_ms: u64) -> Result<u64, String> {
        let n = self.len();
        for (i, (s, e)) in slot_split(masters).into_iter().enumerate() {
            expect_ok(self.add_slots(i, s, e), "ADDSLOTS")?;
        }
        for i in 0..n {
            expect_ok(
                self.command(i, ClusterCommand::SetConfigEpoch(i as u64 + 1)),
                "SET-CONFIG-EPOCH",
            )?;
        }
        for i in 1..n {
            expect_ok(self.meet(i, 0), "MEET")?;
        }
        let all_known = |s: &Sim| {
            (0..n).all(|i| {
                s.core(i)
                    .map(|c| c.nodes().filter(|e| !e.in_handshake()).count() == n)
                    .unwrap_or(false)
            })
        };
        self.run_until(deadline_ms, all_known)
            .ok_or("nodes did not all meet in time")?;
        for r in masters..n {
            expect_ok(self.replicate(r, (r - masters) % masters), "REPLICATE")?;
        }
        let settled = |s: &Sim| {
            s.all_ok()
                && (masters..n).all(|r| {
                    let (rid, mid) = (s.id(r), s.id((r - masters) % masters));
                    (0..n).all(|i| {
                        s.core(i)
                            .and_then(|c| c.node(&rid))
                            .map(|e| e.master == Some(mid))
                            .unwrap_or(false)
                    })
                })
        };
        self.run_until(deadline_ms, settled)
            .ok_or_else(|| "cluster did not reach cluster_state:ok in time".to_string())
    }
}

fn expect_ok(r: Reply, what: &str) -> Result<(), String> {
    match r {
        Reply::Ok => Ok(()),
        other => Err(format!("{what} failed: {other:?}")),
    }
}
