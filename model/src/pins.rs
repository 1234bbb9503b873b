//! The checker's results, pinned: how many unique states the complete check
//! of each configuration visits, with and without symmetry reduction, and
//! the length of each finding's shortest counterexample.
//! `clusterbus check --all` fails when a count differs, so a change to the
//! state space is a visible, reviewed change of this file.

/// `(configuration, unique states with symmetry, unique states without)`,
/// for the check `clusterbus check --config NAME` runs (complete, or bounded
/// at the configuration's own depth). For a configuration without
/// interchangeable nodes the two are equal; `None` where the run without
/// symmetry is too large to repeat.
pub const UNIQUE_STATES: &[(&str, usize, Option<usize>)] = &[
    ("handshake-3", 7_349_808, Some(7_349_808)),
    ("failover-3m1r", 1_320_593, Some(1_320_593)),
    ("failover-3m2r", 3_078_248, Some(6_145_715)),
    ("retry-3m1r", 2_049_556, Some(2_049_556)),
    ("crash-restart-3m1r", 5_285_670, Some(5_285_670)),
    ("crash-restart-3m2r", 4_065_626, None),
    ("reshard-3m1r", 3_904_708, Some(3_904_708)),
    ("reshard-source-3m1r", 3_641_886, Some(3_641_886)),
];

/// `(configuration, property, steps)`: the length of the shortest
/// counterexample of each finding, a property Redis 7.0 itself breaks in
/// that configuration (`ModelCfg::findings`, `specs/divergences.md`).
pub const FINDING_STEPS: &[(&str, &str, usize)] = &[
    ("reshard-3m1r", "FAIL only with a majority of reports", 16),
    (
        "reshard-3m1r",
        "no shard claimed twice with one configEpoch",
        15,
    ),
];

/// The pinned length of `property`'s shortest counterexample in `config`.
pub fn finding_steps(config: &str, property: &str) -> Option<usize> {
    FINDING_STEPS
        .iter()
        .find(|p| p.0 == config && p.1 == property)
        .map(|p| p.2)
}

/// The pinned count of the default check of `config`.
pub fn unique_states(config: &str, symmetry: bool) -> Option<usize> {
    let pin = UNIQUE_STATES.iter().find(|p| p.0 == config)?;
    if symmetry {
        Some(pin.1)
    } else {
        pin.2
    }
}
