//! Test-only changes to single protocol rules, so that conformance can show
//! it notices a node that breaks one. Compiled only with the `alterations`
//! feature; without it [`Core::altered`] is a constant `false`.

/// One protocol rule, broken on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alteration {
    /// A master votes again in an epoch it already voted in (lastVoteEpoch ignored).
    VoteIgnoresLastVoteEpoch,
    /// FAIL is declared on a single failure report.
    FailOnOneReport,
    /// A slot claim wins against an owner with a newer configEpoch.
    StaleClaimWins,
    /// The PONG that ends a handshake does not rename the handshake node.
    NoHandshakeRename,
    /// `CLUSTER SETSLOT NODE` of an imported slot takes it without a new
    /// configEpoch.
    SetSlotNoBump,
}

impl Alteration {
    pub const ALL: [Alteration; 5] = [
        Alteration::VoteIgnoresLastVoteEpoch,
        Alteration::FailOnOneReport,
        Alteration::StaleClaimWins,
        Alteration::NoHandshakeRename,
        Alteration::SetSlotNoBump,
    ];
}

impl super::Core {
    /// Breaks one rule of this core, for tests.
    pub fn alter(&mut self, alteration: Alteration) {
        self.alteration = Some(alteration);
    }
}
