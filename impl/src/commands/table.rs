//! The command table: what the dispatcher needs to check a request before it
//! runs (arity, flags, where the keys are) and what `COMMAND` reports about
//! each command. One table, so the two can never disagree.
//!
//! The values (arity, flags, key positions, ACL categories, tips, docs) are
//! those redis-server 7.0.15 reports in `COMMAND INFO` and `COMMAND DOCS`
//! for the same commands.

/// Which module runs a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// [`super::server`]: connection and server commands, no keys.
    Server,
    /// [`super::data`]: commands on keys, routed by slot first.
    Data,
    /// [`super::cluster`]: the CLUSTER subcommands.
    Cluster,
}

/// One command as Redis describes it (`struct redisCommand`).
#[derive(Debug)]
pub struct CommandSpec {
    /// Lowercase name (`config|get` style for a subcommand's full name is
    /// built from the container's name and this).
    pub name: &'static str,
    /// Redis arity: `n` exactly n arguments (name included), `-n` at least n.
    pub arity: i64,
    /// Command flags as `COMMAND INFO` lists them (`write`, `readonly`, `no_auth`, ...).
    pub flags: &'static [&'static str],
    /// Position of the first key (0: no keys).
    pub first_key: i64,
    /// Position of the last key; negative counts from the end (-1: last argument).
    pub last_key: i64,
    /// Distance between keys.
    pub step: i64,
    /// ACL categories (`@read`, ...).
    pub acl: &'static [&'static str],
    /// Command tips (`request_policy:...`).
    pub tips: &'static [&'static str],
    /// Flags of the key spec (`RO`, `access`, ...), when the command has keys.
    pub key_flags: &'static [&'static str],
    /// Who runs it.
    pub family: Family,
    /// `COMMAND DOCS`: summary.
    pub summary: &'static str,
    /// `COMMAND DOCS`: first Redis version that had it.
    pub since: &'static str,
    /// `COMMAND DOCS`: command group.
    pub group: &'static str,
    /// `COMMAND DOCS`: complexity.
    pub complexity: &'static str,
    /// Subcommands of a container command (CONFIG, COMMAND, CLIENT), looked up by
    /// the dispatcher. CLUSTER's are resolved by [`super::cluster`] itself.
    pub subcommands: &'static [CommandSpec],
}

impl CommandSpec {
    /// Whether `COMMAND INFO` lists `flag` for this command.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// A write command (`CMD_WRITE`): refused on a replica, never served
    /// from a READONLY replica.
    pub fn is_write(&self) -> bool {
        self.has_flag("write")
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// The key arguments of a request (`getKeysFromCommand`): the range key
    /// spec's, or for MIGRATE, whose keys move (`movablekeys`), as
    /// `migrateGetKeys` finds them.
    pub fn key_args<'a>(&self, args: &'a [Vec<u8>]) -> Vec<&'a [u8]> {
        if self.name == "migrate" {
            return migrate_keys(args);
        }
        self.key_positions(args.len())
            .into_iter()
            .filter_map(|p| args.get(p).map(|k| k.as_slice()))
            .collect()
    }

    /// Positions of the key arguments in a request of `argc` arguments
    /// (`getKeysFromCommand` for a range key spec).
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 || self.step <= 0 {
            return Vec::new();
        }
        let argc = argc as i64;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key
        };
        let last = last.min(argc - 1);
        (self.first_key..=last)
            .step_by(self.step as usize)
            .map(|p| p as usize)
            .collect()
    }
}

/// MIGRATE's keys (`migrateGetKeys`): the key argument, or with KEYS (and
/// an empty key argument) the arguments after it; the arguments of AUTH
/// and AUTH2 are skipped while looking for KEYS. KEYS after a non-empty key
/// names no key (the command refuses it).
fn migrate_keys(args: &[Vec<u8>]) -> Vec<&[u8]> {
    let mut i = 6;
    while i < args.len() {
        let a = &args[i];
        if a.eq_ignore_ascii_case(b"auth") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"auth2") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"keys") {
            if args.get(3).is_some_and(|k| !k.is_empty()) {
                return Vec::new();
            }
            return args[i + 1..].iter().map(Vec::as_slice).collect();
        }
        i += 1;
    }
    args.get(3).map(|k| vec![k.as_slice()]).unwrap_or_default()
}

mod entries;
mod operator;

pub use entries::{COMMANDS, COMMAND_SUBCOMMANDS, CONFIG_SUBCOMMANDS};

/// The command named `name` (any case).
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    find(&COMMANDS, name)
}

/// The entry of `table` named `name` (any case).
pub fn find<'t>(table: &'t [CommandSpec], name: &[u8]) -> Option<&'t CommandSpec> {
    table
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case_and_arity_follows_redis_rules() {
        let set = lookup(b"SeT").map(|c| c.name);
        assert_eq!(set, Some("set"));
        let get = lookup(b"get").expect("get is in the table");
        assert!(get.arity_ok(2) && !get.arity_ok(1) && !get.arity_ok(3));
        let del = lookup(b"del").expect("del is in the table");
        assert!(del.arity_ok(2) && del.arity_ok(9) && !del.arity_ok(1));
        assert!(lookup(b"nosuch").is_none());
    }

    #[test]
    fn key_positions_follow_first_last_step() {
        let pos = |name: &[u8], argc| lookup(name).map(|c| c.key_positions(argc));
        assert_eq!(pos(b"get", 2), Some(vec![1]));
        assert_eq!(pos(b"set", 5), Some(vec![1]));
        assert_eq!(pos(b"del", 4), Some(vec![1, 2, 3]));
        assert_eq!(pos(b"mset", 5), Some(vec![1, 3]));
        // MSET with a missing value still names the key after it, as Redis.
        assert_eq!(pos(b"mset", 4), Some(vec![1, 3]));
        assert_eq!(pos(b"ping", 2), Some(vec![]));
    }

    #[test]
    fn every_name_is_lowercase_and_unique() {
        let mut names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
        assert!(names
            .iter()
            .all(|n| n.bytes().all(|b| !b.is_ascii_uppercase())));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), COMMANDS.len());
    }

    #[test]
    fn migrate_keys_are_found_as_migrate_get_keys_finds_them() {
        let spec = lookup(b"migrate").expect("MIGRATE is in the table");
        let keys = |words: &[&str]| -> Vec<String> {
            let args: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
            spec.key_args(&args)
                .iter()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .collect()
        };
        let m = ["MIGRATE", "h", "1"];
        let with = |rest: &[&'static str]| [&m[..], rest].concat();
        assert_eq!(keys(&with(&["k", "0", "5"])), ["k"]);
        assert_eq!(keys(&with(&["", "0", "5"])), [""]);
        assert_eq!(
            keys(&with(&["", "0", "5", "COPY", "KEYS", "a", "b"])),
            ["a", "b"]
        );
        // AUTH's password is not taken for KEYS.
        assert_eq!(
            keys(&with(&["", "0", "5", "AUTH", "keys", "KEYS", "a"])),
            ["a"]
        );
        assert_eq!(
            keys(&with(&["", "0", "5", "AUTH2", "u", "keys", "KEYS", "b"])),
            ["b"]
        );
        assert!(keys(&with(&["k", "0", "5", "KEYS", "a"])).is_empty());
    }
}
