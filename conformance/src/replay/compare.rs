//! After a step: bring the links in line with the model's mapping rules
//! (`settle`), then compare every node and every link (`differences`).

use super::project::NodeView;
use super::{Replayer, StepError};
use clusterbus_model::{Action, Body, Msg, NodeIx, State};
use serde::Serialize;

/// How many rounds of at-once PONG deliveries one step may take before the
/// replayer gives up (each round can only be caused by the one before).
const SETTLE_ROUNDS: usize = 8;

/// Where the node and the model part ways.
#[derive(Clone, Debug, Serialize)]
pub struct Disagreement {
    /// The step, from 1 (0: the initial state).
    pub step: usize,
    pub action: String,
    /// One line per differing field or link.
    pub differences: Vec<String>,
    /// Both sides' views of every node after the step.
    pub model: Vec<NodeView>,
    pub node: Vec<NodeView>,
    /// The node's log lines of the step.
    pub logs: Vec<String>,
}

impl Replayer {
    /// The messages on `from → to`, in the model's terms.
    fn projected(&self, from: NodeIx, to: NodeIx) -> Result<Vec<Msg>, String> {
        let n = self.n();
        self.queues[from as usize * n + to as usize]
            .iter()
            .map(|m| m.projected.clone())
            .collect()
    }

    /// Applies the mapping rules until the links hold what the model's do:
    /// PONGs the model did not queue are delivered at once, AUTH_REQUESTs to
    /// nodes the sender sees as replicas are dropped. Anything else the two
    /// disagree on is left for `differences` to report.
    pub(super) fn settle(&mut self, after: &State) -> Result<(), String> {
        for _ in 0..SETTLE_ROUNDS {
            let mut at_once = Vec::new();
            let n = self.n() as NodeIx;
            for from in 0..n {
                for to in (0..n).filter(|&to| to != from) {
                    let ours = self.projected(from, to)?;
                    let model = after.link(from, to);
                    let (mut m, mut dropped) = (0, Vec::new());
                    for (k, msg) in ours.iter().enumerate() {
                        if model.get(m) == Some(msg) {
                            m += 1;
                        } else if matches!(msg.body, Body::Pong { .. }) {
                            dropped.push((k, true));
                        } else if matches!(msg.body, Body::AuthRequest)
                            && after.nodes[from as usize].peers[to as usize]
                                .master
                                .is_some()
                        {
                            dropped.push((k, false));
                        } else {
                            break;
                        }
                    }
                    for &(k, pong) in dropped.iter().rev() {
                        if let Some(item) = self.queue(from, to).remove(k) {
                            let what = ours[k].to_string();
                            self.logs.push(format!(
                                "n{from}->n{to}: {what} {}",
                                if pong { "delivered at once" } else { "dropped" }
                            ));
                            if pong {
                                at_once.push((to, k, item));
                            } else {
                                *self
                                    .mapped
                                    .entry("AUTH_REQUEST to a replica dropped")
                                    .or_default() += 1;
                            }
                        }
                    }
                }
            }
            if at_once.is_empty() {
                return Ok(());
            }
            at_once.sort_by_key(|(to, k, _)| (*k, *to));
            for (to, _, item) in at_once {
                *self.mapped.entry("PONG delivered at once").or_default() += 1;
                self.deliver(to, item)?;
            }
        }
        Err("PONGs kept causing PONGs: the step does not settle".into())
    }

    /// Every field and link where the node differs from the model in `st`.
    pub(super) fn differences(&self, st: &State) -> Vec<String> {
        let mut out = Vec::new();
        let n = self.n() as NodeIx;
        for i in 0..n {
            let model = NodeView::of_model(i, &st.nodes[i as usize]);
            let node = self.view(i);
            for d in model.differences(&node) {
                out.push(format!("n{i} {d}"));
            }
        }
        for from in 0..n {
            for to in (0..n).filter(|&to| to != from) {
                let model = st.link(from, to);
                match self.projected(from, to) {
                    Ok(ours) if ours == *model => {}
                    Ok(ours) => out.push(format!(
                        "link n{from}->n{to}: model [{}], node [{}]",
                        list(model),
                        list(&ours)
                    )),
                    Err(e) => out.push(e),
                }
            }
        }
        out
    }

    /// Node `i` projected (down when its process is gone).
    pub fn view(&self, i: NodeIx) -> NodeView {
        match self.core(i) {
            Some(core) => NodeView::of_core(&self.map, core, self.clocks[i as usize]),
            None => NodeView::down(self.n(), self.map.cfg.masters as usize),
        }
    }

    pub(super) fn compare(
        &self,
        step: usize,
        action: &Action,
        after: &State,
    ) -> Result<(), StepError> {
        let diffs = self.differences(after);
        if diffs.is_empty() {
            Ok(())
        } else if let Some(why) = self.only_expired_reports(after) {
            Err(StepError::BeyondRealTime(why))
        } else {
            Err(StepError::Disagreement(
                self.disagreement(step, action, after, diffs),
            ))
        }
    }

    /// When the only difference is failure reports whose age the model does
    /// not track, says which: reports the model holds and the node's clock
    /// has expired, and reports the node kept from while its subject was
    /// FAIL, which the model drops (`specs/traces.md`).
    fn only_expired_reports(&self, st: &State) -> Option<String> {
        let validity = 2 * super::mapping::NODE_TIMEOUT_MS;
        let mut expired = Vec::new();
        let mut kept = Vec::new();
        for i in 0..self.n() as NodeIx {
            let mut model = NodeView::of_model(i, &st.nodes[i as usize]);
            let node = self.view(i);
            for (j, (m, n)) in model.peers.iter_mut().zip(&node.peers).enumerate() {
                for r in (0..8u8).filter(|r| (n.reports & !m.reports) & (1 << r) != 0) {
                    if !self.reports_while_fail.contains(&(i, j as NodeIx, r)) {
                        return None;
                    }
                    kept.push(format!("n{i} keeps n{r}'s report about n{j} from its FAIL"));
                }
                for r in (0..8u8).filter(|r| (m.reports & !n.reports) & (1 << r) != 0) {
                    let seen = self.reports_seen.get(&(i, j as NodeIx, r))?;
                    if self.clocks[i as usize].saturating_sub(*seen) <= validity {
                        return None;
                    }
                    expired.push(format!("n{i}'s report from n{r} about n{j}"));
                }
                m.reports = n.reports;
            }
            if model != node {
                return None;
            }
        }
        let links_agree = (0..self.n() as NodeIx).all(|from| {
            (0..self.n() as NodeIx)
                .filter(|&to| to != from)
                .all(|to| self.projected(from, to).ok().as_deref() == Some(st.link(from, to)))
        });
        if !links_agree {
            return None;
        }
        let mut why = Vec::new();
        if !expired.is_empty() {
            why.push(format!(
                "the model still counts {}, older than 2·NT on the node's clock",
                expired.join(", ")
            ));
        }
        if !kept.is_empty() {
            why.push(format!(
                "the model keeps no reports about a FAIL node: {}",
                kept.join(", ")
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    pub(super) fn disagreement(
        &self,
        step: usize,
        action: &Action,
        after: &State,
        differences: Vec<String>,
    ) -> Box<Disagreement> {
        let n = self.n() as NodeIx;
        Box::new(Disagreement {
            step,
            action: if step == 0 {
                "initial state".into()
            } else {
                action.to_string()
            },
            differences,
            model: (0..n)
                .map(|i| NodeView::of_model(i, &after.nodes[i as usize]))
                .collect(),
            node: (0..n).map(|i| self.view(i)).collect(),
            logs: self.logs.clone(),
        })
    }
}

fn list(msgs: &[Msg]) -> String {
    msgs.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
