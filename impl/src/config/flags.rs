//! Node flag names as nodes.conf and `CLUSTER NODES` print them.

use crate::codec::flags;

/// Flag bits with the names Redis prints, in Redis's order (`redisNodeFlagsTable`).
/// `MEET` and `MIGRATE_TO` are never printed.
pub const FLAG_NAMES: [(u16, &str); 8] = [
    (flags::MYSELF, "myself"),
    (flags::MASTER, "master"),
    (flags::SLAVE, "slave"),
    (flags::PFAIL, "fail?"),
    (flags::FAIL, "fail"),
    (flags::HANDSHAKE, "handshake"),
    (flags::NOADDR, "noaddr"),
    (flags::NOFAILOVER, "nofailover"),
];

/// Comma-separated flag names, or `noflags` when none of the printable bits
/// is set. Mirrors `representClusterNodeFlags`.
pub fn flags_to_string(bits: u16) -> String {
    let names: Vec<&str> = FLAG_NAMES
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, name)| *name)
        .collect();
    if names.is_empty() {
        "noflags".to_string()
    } else {
        names.join(",")
    }
}

/// Flag bits from a comma-separated list, names matched case-insensitively
/// as `clusterLoadConfig` does; `noflags` adds nothing. On failure, the
/// unknown name is returned.
pub fn flags_from_str(text: &str) -> Result<u16, String> {
    text.split(',').try_fold(0u16, |acc, name| {
        if name.eq_ignore_ascii_case("noflags") {
            return Ok(acc);
        }
        FLAG_NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(bit, _)| acc | bit)
            .ok_or_else(|| name.to_string())
    })
}
