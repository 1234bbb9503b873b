//! What a client can learn about the server: `COMMAND` (with COUNT, INFO,
//! DOCS, LIST; cluster clients read key positions from it, redis-cli 7
//! reads `COMMAND DOCS` for its hints) and `CONFIG GET`. Mirrors
//! `commandCommand` and friends and `configGetCommand` of Redis 7.0.
//!
//! `COMMAND DOCS` gives summary, since, group and complexity, without the
//! argument trees; `CONFIG GET` knows only the parameters listed in
//! [`config_params`].

use super::table::{self, CommandSpec, COMMANDS};
use super::{server::syntax_error, unknown_subcommand, Context};
use crate::resp::Frame;

/// COMMAND [COUNT | INFO [name...] | DOCS [name...] | LIST]. The arity was
/// checked by the dispatcher against [`table::COMMAND_SUBCOMMANDS`].
pub fn command(args: &[Vec<u8>]) -> Frame {
    let Some(sub) = args.get(1) else {
        return Frame::Array(COMMANDS.iter().map(|c| info_entry(c, c.name)).collect());
    };
    let names = &args[2..];
    match sub.to_ascii_lowercase().as_slice() {
        b"count" => Frame::Integer(COMMANDS.len() as i64),
        b"info" if names.is_empty() => command(&args[..1]),
        b"info" => Frame::Array(
            names
                .iter()
                .map(|n| match lookup_full(n) {
                    Some((spec, full)) => info_entry(spec, &full),
                    None => Frame::Null,
                })
                .collect(),
        ),
        b"docs" => docs(names),
        b"list" if names.is_empty() => {
            Frame::Array(all_full_names().into_iter().map(Frame::bulk).collect())
        }
        b"list" => syntax_error(),
        _ => unknown_subcommand(&args[0], sub),
    }
}

/// A command by its full name: `get`, or `config|get` for a subcommand.
fn lookup_full(name: &[u8]) -> Option<(&'static CommandSpec, String)> {
    let lower = name.to_ascii_lowercase();
    match lower.iter().position(|b| *b == b'|') {
        None => table::lookup(&lower).map(|c| (c, c.name.to_string())),
        Some(bar) => {
            let top = table::lookup(&lower[..bar])?;
            let sub = table::find(top.subcommands, &lower[bar + 1..])?;
            Some((sub, format!("{}|{}", top.name, sub.name)))
        }
    }
}

/// Every command's full name, subcommands after their container.
fn all_full_names() -> Vec<String> {
    let mut out = Vec::new();
    for c in COMMANDS.iter() {
        out.push(c.name.to_string());
        out.extend(
            c.subcommands
                .iter()
                .map(|s| format!("{}|{}", c.name, s.name)),
        );
    }
    out
}

/// A set of simple strings (flags, ACL categories: `addReplyStatus` items).
fn simple_set(items: &[&str]) -> Frame {
    Frame::Set(items.iter().map(|s| Frame::Simple(s.to_string())).collect())
}

/// A set of bulk strings (tips).
fn bulk_set(items: &[&str]) -> Frame {
    Frame::Set(items.iter().map(|s| Frame::bulk(*s)).collect())
}

/// One `COMMAND INFO` entry (`addReplyCommandInfo`): name, arity, flags,
/// first key, last key, step, ACL categories, tips, key specs, subcommands.
fn info_entry(spec: &CommandSpec, full_name: &str) -> Frame {
    // No subcommands is an empty set; subcommands are an array
    // (`addReplyCommandSubCommands` without a map).
    let subcommands = if spec.subcommands.is_empty() {
        Frame::Set(Vec::new())
    } else {
        Frame::Array(
            spec.subcommands
                .iter()
                .map(|s| info_entry(s, &format!("{}|{}", spec.name, s.name)))
                .collect(),
        )
    };
    Frame::Array(vec![
        Frame::bulk(full_name),
        Frame::Integer(spec.arity),
        simple_set(spec.flags),
        Frame::Integer(spec.first_key),
        Frame::Integer(spec.last_key),
        Frame::Integer(spec.step),
        simple_set(spec.acl),
        bulk_set(spec.tips),
        key_specs(spec),
        subcommands,
    ])
}

/// The key specs of a command: one range spec starting at the first key
/// (`addReplyCommandKeySpecs`), its `lastkey` relative to the first key.
fn key_specs(spec: &CommandSpec) -> Frame {
    if spec.first_key == 0 {
        return Frame::Set(Vec::new());
    }
    let lastkey = if spec.last_key < 0 {
        spec.last_key
    } else {
        spec.last_key - spec.first_key
    };
    let begin = Frame::map(vec![
        ("type", Frame::bulk("index")),
        (
            "spec",
            Frame::map(vec![("index", Frame::Integer(spec.first_key))]),
        ),
    ]);
    let find = Frame::map(vec![
        ("type", Frame::bulk("range")),
        (
            "spec",
            Frame::map(vec![
                ("lastkey", Frame::Integer(lastkey)),
                ("keystep", Frame::Integer(spec.step)),
                ("limit", Frame::Integer(0)),
            ]),
        ),
    ]);
    Frame::Set(vec![Frame::map(vec![
        ("flags", simple_set(spec.key_flags)),
        ("begin_search", begin),
        ("find_keys", find),
    ])])
}

/// COMMAND DOCS [name...]: a flat map from name to docs; unknown names are
/// left out.
fn docs(names: &[Vec<u8>]) -> Frame {
    let found: Vec<(&CommandSpec, String)> = if names.is_empty() {
        COMMANDS.iter().map(|c| (c, c.name.to_string())).collect()
    } else {
        names.iter().filter_map(|n| lookup_full(n)).collect()
    };
    Frame::Map(
        found
            .into_iter()
            .map(|(spec, full)| (Frame::bulk(full), docs_entry(spec)))
            .collect(),
    )
}

/// The docs of one command (`addReplyCommandDocs`), subcommands included.
fn docs_entry(spec: &CommandSpec) -> Frame {
    let mut fields = vec![
        ("summary", Frame::bulk(spec.summary)),
        ("since", Frame::bulk(spec.since)),
        ("group", Frame::bulk(spec.group)),
        ("complexity", Frame::bulk(spec.complexity)),
    ];
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|s| {
                (
                    Frame::bulk(format!("{}|{}", spec.name, s.name)),
                    docs_entry(s),
                )
            })
            .collect();
        fields.push(("subcommands", Frame::Map(subs)));
    }
    Frame::map(fields)
}

/// The parameters CONFIG GET knows, with their values on this node, in
/// the order a pattern lists them.
pub fn config_params(ctx: &Context) -> Vec<(&'static str, String)> {
    let f = ctx.facts;
    let cfg = ctx.core.config();
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    vec![
        ("port", f.tcp_port.to_string()),
        ("bind", f.bind.clone()),
        ("dir", f.dir.clone()),
        ("requirepass", f.requirepass.clone().unwrap_or_default()),
        ("appendonly", "no".into()),
        ("save", String::new()),
        ("cluster-enabled", "yes".into()),
        ("cluster-config-file", f.cluster_config_file.clone()),
        ("cluster-node-timeout", cfg.node_timeout_ms.to_string()),
        ("cluster-port", f.cluster_port.to_string()),
        ("cluster-announce-ip", f.announce_ip.clone()),
        ("cluster-announce-port", f.announce_port.to_string()),
        ("cluster-announce-bus-port", f.announce_bus_port.to_string()),
        (
            "cluster-require-full-coverage",
            yes_no(cfg.require_full_coverage),
        ),
        (
            "cluster-replica-validity-factor",
            cfg.replica_validity_factor.to_string(),
        ),
        (
            "cluster-slave-validity-factor",
            cfg.replica_validity_factor.to_string(),
        ),
        ("cluster-allow-reads-when-down", "no".into()),
        ("cluster-replica-no-failover", "no".into()),
        ("cluster-slave-no-failover", "no".into()),
    ]
}

/// CONFIG GET parameter [parameter ...]: name/value pairs of every
/// parameter named or matched by a glob pattern (any case), each once.
pub fn config_get(ctx: &Context, patterns: &[Vec<u8>]) -> Frame {
    let params = config_params(ctx);
    let mut picked: Vec<usize> = Vec::new();
    for pattern in patterns {
        let pattern = pattern.to_ascii_lowercase();
        let is_glob = pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        for (i, (name, _)) in params.iter().enumerate() {
            let hit = if is_glob {
                glob_match(&pattern, name.as_bytes())
            } else {
                pattern == name.as_bytes()
            };
            if hit && !picked.contains(&i) {
                picked.push(i);
            }
        }
    }
    Frame::Map(
        picked
            .into_iter()
            .map(|i| (Frame::bulk(params[i].0), Frame::bulk(params[i].1.clone())))
            .collect(),
    )
}

/// Glob matching as Redis's `stringmatchlen`: `*`, `?`, `[abc]`, `[^a-z]`
/// and `\x` escapes. Greedy with one backtrack point, so linear in practice.
pub fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if pattern.get(p) == Some(&b'*') {
            star = Some((p, t));
            p += 1;
            continue;
        }
        if let Some(next) = match_one(pattern, p, text[t]) {
            p = next;
            t += 1;
            continue;
        }
        match star {
            Some((sp, st)) => {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|b| *b == b'*')
}

/// Whether the single-character item of `pattern` at `p` matches `c`;
/// where the next item starts.
fn match_one(pattern: &[u8], p: usize, c: u8) -> Option<usize> {
    match *pattern.get(p)? {
        b'?' => Some(p + 1),
        b'[' => match_class(pattern, p + 1, c),
        b'\\' if p + 1 < pattern.len() => (pattern[p + 1] == c).then_some(p + 2),
        literal => (literal == c).then_some(p + 1),
    }
}

/// A `[...]` class whose body starts at `p`; an unclosed class runs to the end.
fn match_class(pattern: &[u8], mut p: usize, c: u8) -> Option<usize> {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut hit = false;
    while p < pattern.len() && pattern[p] != b']' {
        if pattern[p] == b'\\' && p + 1 < pattern.len() {
            hit |= pattern[p + 1] == c;
            p += 2;
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' && pattern[p + 2] != b']' {
            let (lo, hi) = (
                pattern[p].min(pattern[p + 2]),
                pattern[p].max(pattern[p + 2]),
            );
            hit |= (lo..=hi).contains(&c);
            p += 3;
        } else {
            hit |= pattern[p] == c;
            p += 1;
        }
    }
    (hit != negate).then_some((p + 1).min(pattern.len()))
}

#[cfg(test)]
#[path = "introspect_tests.rs"]
mod tests;
