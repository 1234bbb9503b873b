//! The entries of the command table, with the values redis-server 7.0.15
//! reports for the same commands in `COMMAND INFO` and `COMMAND DOCS`.

use super::operator::{
    BGSAVE, CLIENT, CONFIG_RESETSTAT, CONFIG_SET, DISCARD, EXEC, FUNCTION, LASTSAVE, MULTI, SAVE,
    SHUTDOWN, UNWATCH, WATCH,
};
use super::{CommandSpec, Family};

/// Shorthand for a command without keys.
pub(super) const fn plain(
    name: &'static str,
    arity: i64,
    flags: &'static [&'static str],
    acl: &'static [&'static str],
    docs: [&'static str; 4],
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: 0,
        last_key: 0,
        step: 0,
        acl,
        tips: &[],
        key_flags: &[],
        family: Family::Server,
        summary: docs[0],
        since: docs[1],
        group: docs[2],
        complexity: docs[3],
        subcommands: &[],
    }
}

/// Shorthand for a data command with keys `first..=last` every `step`.
#[allow(clippy::too_many_arguments)] // mirrors the columns of `COMMAND INFO`
const fn keyed(
    name: &'static str,
    arity: i64,
    flags: &'static [&'static str],
    keys: (i64, i64, i64),
    acl: &'static [&'static str],
    tips: &'static [&'static str],
    key_flags: &'static [&'static str],
    docs: [&'static str; 4],
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        acl,
        tips,
        key_flags,
        family: Family::Data,
        summary: docs[0],
        since: docs[1],
        group: docs[2],
        complexity: docs[3],
        subcommands: &[],
    }
}

const STALE: &[&str] = &["loading", "stale"];
const CONN: &[&str] = &["@fast", "@connection"];
/// The flags of AUTH and HELLO: allowed before AUTH, and while loading.
const HANDSHAKE: &[&str] = &[
    "noscript",
    "loading",
    "stale",
    "fast",
    "no_auth",
    "allow_busy",
];
const READ_FAST: &[&str] = &["readonly", "fast"];
const WRITE_FAST: &[&str] = &["write", "fast"];
const WRITE_OOM: &[&str] = &["write", "denyoom"];
const WRITE_OOM_FAST: &[&str] = &["write", "denyoom", "fast"];
const KS_READ_FAST: &[&str] = &["@keyspace", "@read", "@fast"];
const KS_WRITE_FAST: &[&str] = &["@keyspace", "@write", "@fast"];
const STR_WRITE_FAST: &[&str] = &["@write", "@string", "@fast"];
const STR_WRITE_SLOW: &[&str] = &["@write", "@string", "@slow"];
const ADMIN: &[&str] = &["@admin", "@slow", "@dangerous"];
const ONE: (i64, i64, i64) = (1, 1, 1);
const ALL: (i64, i64, i64) = (1, -1, 1);
const RW_UPDATE: &[&str] = &["RW", "update"];
const RW_ACCESS_UPDATE: &[&str] = &["RW", "access", "update"];
const RO_ACCESS: &[&str] = &["RO", "access"];
const O1: &str = "O(1)";
const OW_UPDATE: &[&str] = &["OW", "update"];
const RESTORE_ACL: &[&str] = &["@keyspace", "@write", "@slow", "@dangerous"];
const DUMP_COMPLEXITY: &str = "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).";
const RESTORE_COMPLEXITY: &str = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

/// CONFIG's subcommands this node has.
pub static CONFIG_SUBCOMMANDS: [CommandSpec; 3] = [
    CommandSpec {
        flags: &["admin", "noscript", "loading", "stale"],
        ..plain(
            "get",
            -3,
            &[],
            ADMIN,
            [
                "Get the values of configuration parameters",
                "2.0.0",
                "server",
                "O(N) when N is the number of configuration parameters provided",
            ],
        )
    },
    CONFIG_SET,
    CONFIG_RESETSTAT,
];

/// COMMAND's subcommands this node has.
pub static COMMAND_SUBCOMMANDS: [CommandSpec; 4] = [
    plain(
        "count",
        2,
        STALE,
        &["@slow", "@connection"],
        ["Get total number of Redis commands", "2.8.13", "server", O1],
    ),
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..plain(
            "docs",
            -2,
            STALE,
            &["@slow", "@connection"],
            [
                "Get array of specific Redis command documentation",
                "7.0.0",
                "server",
                "O(N) where N is the number of commands to look up",
            ],
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..plain(
            "info",
            -2,
            STALE,
            &["@slow", "@connection"],
            [
                "Get array of specific Redis command details, or all when no argument is given.",
                "2.8.13",
                "server",
                "O(N) where N is the number of commands to look up",
            ],
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        ..plain(
            "list",
            -2,
            STALE,
            &["@slow", "@connection"],
            [
                "Get an array of Redis command names",
                "7.0.0",
                "server",
                "O(N) where N is the total number of Redis commands",
            ],
        )
    },
];

/// Every command of the client port, in `COMMAND` order.
pub static COMMANDS: [CommandSpec; 48] = [
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..plain(
            "ping",
            -1,
            &["fast"],
            CONN,
            ["Ping the server", "1.0.0", "connection", O1],
        )
    },
    plain(
        "echo",
        2,
        &["loading", "stale", "fast"],
        CONN,
        ["Echo the given string", "1.0.0", "connection", O1],
    ),
    plain(
        "auth",
        -2,
        HANDSHAKE,
        CONN,
        [
            "Authenticate to the server",
            "1.0.0",
            "connection",
            "O(N) where N is the number of passwords defined for the user",
        ],
    ),
    plain(
        "hello",
        -1,
        HANDSHAKE,
        CONN,
        ["Handshake with Redis", "6.0.0", "connection", O1],
    ),
    plain(
        "quit",
        -1,
        &[
            "allow_busy",
            "noscript",
            "loading",
            "stale",
            "fast",
            "no_auth",
        ],
        CONN,
        ["Close the connection", "1.0.0", "connection", O1],
    ),
    plain(
        "select",
        2,
        &["loading", "stale", "fast"],
        CONN,
        [
            "Change the selected database for the current connection",
            "1.0.0",
            "connection",
            O1,
        ],
    ),
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:agg_sum"],
        ..plain(
            "dbsize",
            1,
            READ_FAST,
            &["@keyspace", "@read", "@fast"],
            [
                "Return the number of keys in the selected database",
                "1.0.0",
                "server",
                O1,
            ],
        )
    },
    plain(
        "readonly",
        1,
        &["fast", "loading", "stale"],
        CONN,
        [
            "Enables read queries for a connection to a cluster replica node",
            "3.0.0",
            "cluster",
            O1,
        ],
    ),
    plain(
        "readwrite",
        1,
        &["fast", "loading", "stale"],
        CONN,
        [
            "Disables read queries for a connection to a cluster replica node",
            "3.0.0",
            "cluster",
            O1,
        ],
    ),
    plain(
        "asking",
        1,
        &["fast"],
        CONN,
        [
            "Sent by cluster clients after an -ASK redirect",
            "3.0.0",
            "cluster",
            O1,
        ],
    ),
    CommandSpec {
        tips: &["nondeterministic_output_order"],
        subcommands: &COMMAND_SUBCOMMANDS,
        ..plain(
            "command",
            -1,
            STALE,
            &["@slow", "@connection"],
            [
                "Get array of Redis command details",
                "2.8.13",
                "server",
                "O(N) where N is the total number of Redis commands",
            ],
        )
    },
    CommandSpec {
        subcommands: &CONFIG_SUBCOMMANDS,
        ..plain(
            "config",
            -2,
            &[],
            &["@slow"],
            [
                "A container for server configuration commands",
                "2.0.0",
                "server",
                "Depends on subcommand.",
            ],
        )
    },
    CommandSpec {
        tips: &[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ],
        ..plain(
            "info",
            -1,
            STALE,
            &["@slow", "@dangerous"],
            [
                "Get information and statistics about the server",
                "1.0.0",
                "server",
                O1,
            ],
        )
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..plain(
            "flushall",
            -1,
            &["write"],
            &["@keyspace", "@write", "@slow", "@dangerous"],
            [
                "Remove all keys from all databases",
                "1.0.0",
                "server",
                "O(N) where N is the total number of keys in all databases",
            ],
        )
    },
    CommandSpec {
        tips: &["request_policy:all_shards", "response_policy:all_succeeded"],
        ..plain(
            "flushdb",
            -1,
            &["write"],
            &["@keyspace", "@write", "@slow", "@dangerous"],
            [
                "Remove all keys from the current database",
                "1.0.0",
                "server",
                "O(N) where N is the number of keys in the selected database",
            ],
        )
    },
    keyed(
        "get",
        2,
        READ_FAST,
        ONE,
        &["@read", "@string", "@fast"],
        &[],
        RO_ACCESS,
        ["Get the value of a key", "1.0.0", "string", O1],
    ),
    keyed(
        "set",
        -3,
        WRITE_OOM,
        ONE,
        STR_WRITE_SLOW,
        &[],
        &["RW", "access", "update", "variable_flags"],
        ["Set the string value of a key", "1.0.0", "string", O1],
    ),
    keyed(
        "del",
        -2,
        &["write"],
        ALL,
        &["@keyspace", "@write", "@slow"],
        &["request_policy:multi_shard", "response_policy:agg_sum"],
        &["RM", "delete"],
        [
            "Delete a key",
            "1.0.0",
            "generic",
            "O(N) where N is the number of keys that will be removed.",
        ],
    ),
    keyed(
        "exists",
        -2,
        READ_FAST,
        ALL,
        KS_READ_FAST,
        &["request_policy:multi_shard", "response_policy:agg_sum"],
        &["RO"],
        [
            "Determine if a key exists",
            "1.0.0",
            "generic",
            "O(N) where N is the number of keys to check.",
        ],
    ),
    keyed(
        "incr",
        2,
        WRITE_OOM_FAST,
        ONE,
        STR_WRITE_FAST,
        &[],
        RW_ACCESS_UPDATE,
        [
            "Increment the integer value of a key by one",
            "1.0.0",
            "string",
            O1,
        ],
    ),
    keyed(
        "incrby",
        3,
        WRITE_OOM_FAST,
        ONE,
        STR_WRITE_FAST,
        &[],
        RW_ACCESS_UPDATE,
        [
            "Increment the integer value of a key by the given amount",
            "1.0.0",
            "string",
            O1,
        ],
    ),
    keyed(
        "decr",
        2,
        WRITE_OOM_FAST,
        ONE,
        STR_WRITE_FAST,
        &[],
        RW_ACCESS_UPDATE,
        [
            "Decrement the integer value of a key by one",
            "1.0.0",
            "string",
            O1,
        ],
    ),
    keyed(
        "decrby",
        3,
        WRITE_OOM_FAST,
        ONE,
        STR_WRITE_FAST,
        &[],
        RW_ACCESS_UPDATE,
        [
            "Decrement the integer value of a key by the given number",
            "1.0.0",
            "string",
            O1,
        ],
    ),
    keyed(
        "mget",
        -2,
        READ_FAST,
        ALL,
        &["@read", "@string", "@fast"],
        &["request_policy:multi_shard"],
        RO_ACCESS,
        [
            "Get the values of all the given keys",
            "1.0.0",
            "string",
            "O(N) where N is the number of keys to retrieve.",
        ],
    ),
    keyed(
        "mset",
        -3,
        WRITE_OOM,
        (1, -1, 2),
        STR_WRITE_SLOW,
        &[
            "request_policy:multi_shard",
            "response_policy:all_succeeded",
        ],
        &["OW", "update"],
        [
            "Set multiple keys to multiple values",
            "1.0.1",
            "string",
            "O(N) where N is the number of keys to set.",
        ],
    ),
    keyed(
        "ttl",
        2,
        READ_FAST,
        ONE,
        KS_READ_FAST,
        &["nondeterministic_output"],
        RO_ACCESS,
        [
            "Get the time to live for a key in seconds",
            "1.0.0",
            "generic",
            O1,
        ],
    ),
    keyed(
        "pttl",
        2,
        READ_FAST,
        ONE,
        KS_READ_FAST,
        &["nondeterministic_output"],
        RO_ACCESS,
        [
            "Get the time to live for a key in milliseconds",
            "2.6.0",
            "generic",
            O1,
        ],
    ),
    keyed(
        "expire",
        -3,
        WRITE_FAST,
        ONE,
        KS_WRITE_FAST,
        &[],
        RW_UPDATE,
        [
            "Set a key's time to live in seconds",
            "1.0.0",
            "generic",
            O1,
        ],
    ),
    keyed(
        "pexpire",
        -3,
        WRITE_FAST,
        ONE,
        KS_WRITE_FAST,
        &[],
        RW_UPDATE,
        [
            "Set a key's time to live in milliseconds",
            "2.6.0",
            "generic",
            O1,
        ],
    ),
    keyed(
        "expireat",
        -3,
        WRITE_FAST,
        ONE,
        KS_WRITE_FAST,
        &[],
        RW_UPDATE,
        [
            "Set the expiration for a key as a UNIX timestamp",
            "1.2.0",
            "generic",
            O1,
        ],
    ),
    keyed(
        "pexpireat",
        -3,
        WRITE_FAST,
        ONE,
        KS_WRITE_FAST,
        &[],
        RW_UPDATE,
        [
            "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
            "2.6.0",
            "generic",
            O1,
        ],
    ),
    keyed(
        "persist",
        2,
        WRITE_FAST,
        ONE,
        KS_WRITE_FAST,
        &[],
        RW_UPDATE,
        ["Remove the expiration from a key", "2.2.0", "generic", O1],
    ),
    keyed(
        "dump",
        2,
        &["readonly"],
        ONE,
        &["@keyspace", "@read", "@slow"],
        &["nondeterministic_output"],
        RO_ACCESS,
        [
            "Return a serialized version of the value stored at the specified key.",
            "2.6.0",
            "generic",
            DUMP_COMPLEXITY,
        ],
    ),
    keyed(
        "restore",
        -4,
        WRITE_OOM,
        ONE,
        RESTORE_ACL,
        &[],
        OW_UPDATE,
        [
            "Create a key using the provided serialized value, previously obtained using DUMP.",
            "2.6.0",
            "generic",
            RESTORE_COMPLEXITY,
        ],
    ),
    keyed(
        "restore-asking",
        -4,
        &["write", "denyoom", "asking"],
        ONE,
        RESTORE_ACL,
        &[],
        OW_UPDATE,
        [
            "An internal command for migrating keys in a cluster",
            "3.0.0",
            "server",
            RESTORE_COMPLEXITY,
        ],
    ),
    keyed(
        "migrate",
        -6,
        &["write", "movablekeys"],
        (3, 3, 1),
        RESTORE_ACL,
        &["nondeterministic_output"],
        &["RW", "access", "delete"],
        [
            "Atomically transfer a key from a Redis instance to another one.",
            "2.6.0",
            "generic",
            "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
        ],
    ),
    CLIENT,
    SHUTDOWN,
    SAVE,
    BGSAVE,
    LASTSAVE,
    MULTI,
    EXEC,
    DISCARD,
    WATCH,
    UNWATCH,
    FUNCTION,
    CommandSpec {
        family: Family::Cluster,
        ..plain(
            "cluster",
            -2,
            &[],
            &["@slow"],
            [
                "A container for cluster commands",
                "3.0.0",
                "cluster",
                "Depends on subcommand.",
            ],
        )
    },
];
