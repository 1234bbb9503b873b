//! The tap's verbs as data: a rule matches frames by sender, receiver and
//! type, and drops, holds or delays them. The tap asks [`Rules::verdict`] for
//! every frame it reads, so a rule added now applies to the next frame on
//! every connection, old or new.

use std::time::Duration;

use clusterbus_node::codec::MessageType;

/// A set of node indices (at most 64 nodes), or every node.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Nodes(pub u64);

/// As traces show it: `all`, or the indices (`[0]`, `[1, 2, 3]`).
impl std::fmt::Debug for Nodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Nodes::ALL {
            return f.write_str("all");
        }
        let list: Vec<usize> = (0..64).filter(|i| self.0 & (1u64 << i) != 0).collect();
        write!(f, "{list:?}")
    }
}

impl Nodes {
    /// Every node, and frames whose end is not yet known.
    pub const ALL: Nodes = Nodes(u64::MAX);

    /// Just node `i`.
    pub fn one(i: usize) -> Nodes {
        Nodes(1u64 << (i % 64))
    }

    /// Every node of `n` not in `self`.
    pub fn complement(self, n: usize) -> Nodes {
        let all = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
        Nodes(!self.0 & all)
    }

    /// Whether node `i` (or an unknown end, which only ALL matches) is in the set.
    pub fn contains(self, i: Option<usize>) -> bool {
        match i {
            Some(i) => self.0 & (1u64 << (i % 64)) != 0,
            None => self == Nodes::ALL,
        }
    }
}

/// What a rule does to the frames it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Drop,
    /// Queue until the rule is removed, then forward in order.
    Hold,
    Delay(Duration),
}

/// Frames from `from` to `to`, of `types` (all types when empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub from: Nodes,
    pub to: Nodes,
    pub types: Vec<MessageType>,
    pub action: Action,
}

impl Rule {
    fn matches(&self, from: Option<usize>, to: Option<usize>, t: Option<MessageType>) -> bool {
        self.from.contains(from)
            && self.to.contains(to)
            && (self.types.is_empty() || t.is_some_and(|t| self.types.contains(&t)))
    }
}

/// Identifies a rule, to remove it later.
pub type RuleId = u64;

/// The rules in force, oldest first.
#[derive(Default)]
pub struct Rules {
    next: RuleId,
    rules: Vec<(RuleId, Rule)>,
}

/// What the tap does with one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    Drop,
    Hold(RuleId),
    Delay(Duration),
}

impl Rules {
    /// Adds a rule; it applies from the next frame on.
    pub fn add(&mut self, rule: Rule) -> RuleId {
        self.next += 1;
        self.rules.push((self.next, rule));
        self.next
    }

    /// Removes a rule; whether it was there.
    pub fn remove(&mut self, id: RuleId) -> bool {
        let before = self.rules.len();
        self.rules.retain(|(i, _)| *i != id);
        self.rules.len() != before
    }

    /// The verdict for a frame: drop beats hold beats delay beats forward.
    pub fn verdict(
        &self,
        from: Option<usize>,
        to: Option<usize>,
        t: Option<MessageType>,
    ) -> Verdict {
        let mut out = Verdict::Forward;
        for (id, r) in self.rules.iter().filter(|(_, r)| r.matches(from, to, t)) {
            out = match (r.action, out) {
                (Action::Drop, _) => return Verdict::Drop,
                (Action::Hold, Verdict::Hold(h)) => Verdict::Hold(h),
                (Action::Hold, _) => Verdict::Hold(*id),
                (Action::Delay(d), Verdict::Forward) => Verdict::Delay(d),
                (Action::Delay(d), Verdict::Delay(e)) => Verdict::Delay(d.max(e)),
                (Action::Delay(_), v) => v,
            };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_wins_and_unknown_ends_match_only_all() {
        let mut r = Rules::default();
        let hold = r.add(Rule {
            from: Nodes::one(1),
            to: Nodes::ALL,
            types: vec![],
            action: Action::Hold,
        });
        assert_eq!(r.verdict(Some(1), Some(2), None), Verdict::Hold(hold));
        assert_eq!(r.verdict(None, Some(2), None), Verdict::Forward);
        r.add(Rule {
            from: Nodes::ALL,
            to: Nodes::one(2),
            types: vec![MessageType::FailoverAuthAck],
            action: Action::Drop,
        });
        let ack = Some(MessageType::FailoverAuthAck);
        assert_eq!(r.verdict(Some(1), Some(2), ack), Verdict::Drop);
        assert_eq!(
            r.verdict(Some(1), Some(2), Some(MessageType::Ping)),
            Verdict::Hold(hold)
        );
        assert!(r.remove(hold));
        assert_eq!(r.verdict(Some(1), Some(2), None), Verdict::Forward);
        assert_eq!(Nodes::one(0).complement(3), Nodes(0b110));
        assert_eq!(format!("{:?} {:?}", Nodes(0b110), Nodes::ALL), "[1, 2] all");
    }
}
