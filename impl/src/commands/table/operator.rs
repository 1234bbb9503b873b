//! The entries of the operator commands: CLIENT and its subcommands,
//! CONFIG SET / RESETSTAT, SHUTDOWN, SAVE, BGSAVE and LASTSAVE, with the
//! values redis-server 7.0.15 reports for them in `COMMAND INFO` and
//! `COMMAND DOCS`.

use super::entries::plain;
use super::CommandSpec;

const SCRIPTLESS: &[&str] = &["noscript", "loading", "stale"];
const ADMIN_SCRIPTLESS: &[&str] = &["admin", "noscript", "loading", "stale"];
const SLOW_CONN: &[&str] = &["@slow", "@connection"];
const ADMIN_CONN: &[&str] = &["@admin", "@slow", "@dangerous", "@connection"];
const ADMIN: &[&str] = &["@admin", "@slow", "@dangerous"];
const O1: &str = "O(1)";
const CONNECTION: &str = "connection";

/// CLIENT's subcommands this node has.
pub static CLIENT_SUBCOMMANDS: [CommandSpec; 9] = [
    plain(
        "id",
        2,
        SCRIPTLESS,
        SLOW_CONN,
        [
            "Returns the client ID for the current connection",
            "5.0.0",
            CONNECTION,
            O1,
        ],
    ),
    plain(
        "getname",
        2,
        SCRIPTLESS,
        SLOW_CONN,
        ["Get the current connection name", "2.6.9", CONNECTION, O1],
    ),
    plain(
        "setname",
        3,
        SCRIPTLESS,
        SLOW_CONN,
        ["Set the current connection name", "2.6.9", CONNECTION, O1],
    ),
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..plain(
            "list",
            -2,
            ADMIN_SCRIPTLESS,
            ADMIN_CONN,
            [
                "Get the list of client connections",
                "2.4.0",
                CONNECTION,
                "O(N) where N is the number of client connections",
            ],
        )
    },
    CommandSpec {
        tips: &["nondeterministic_output"],
        ..plain(
            "info",
            2,
            SCRIPTLESS,
            SLOW_CONN,
            [
                "Returns information about the current client connection.",
                "6.2.0",
                CONNECTION,
                O1,
            ],
        )
    },
    plain(
        "kill",
        -3,
        ADMIN_SCRIPTLESS,
        ADMIN_CONN,
        [
            "Kill the connection of a client",
            "2.4.0",
            CONNECTION,
            "O(N) where N is the number of client connections",
        ],
    ),
    plain(
        "pause",
        -3,
        ADMIN_SCRIPTLESS,
        ADMIN_CONN,
        [
            "Stop processing commands from clients for some time",
            "2.9.50",
            CONNECTION,
            O1,
        ],
    ),
    plain(
        "unpause",
        2,
        ADMIN_SCRIPTLESS,
        ADMIN_CONN,
        [
            "Resume processing of clients that were paused",
            "6.2.0",
            CONNECTION,
            "O(N) Where N is the number of paused clients",
        ],
    ),
    plain(
        "help",
        2,
        &["loading", "stale"],
        SLOW_CONN,
        [
            "Show helpful text about the different subcommands",
            "5.0.0",
            CONNECTION,
            O1,
        ],
    ),
];

/// CLIENT: a container.
pub const CLIENT: CommandSpec = CommandSpec {
    subcommands: &CLIENT_SUBCOMMANDS,
    ..plain(
        "client",
        -2,
        &[],
        &["@slow"],
        [
            "A container for client connection commands",
            "2.4.0",
            CONNECTION,
            "Depends on subcommand.",
        ],
    )
};

/// CONFIG SET.
pub const CONFIG_SET: CommandSpec = CommandSpec {
    tips: &["request_policy:all_nodes", "response_policy:all_succeeded"],
    ..plain(
        "set",
        -4,
        ADMIN_SCRIPTLESS,
        ADMIN,
        [
            "Set configuration parameters to the given values",
            "2.0.0",
            "server",
            "O(N) when N is the number of configuration parameters provided",
        ],
    )
};

/// CONFIG RESETSTAT.
pub const CONFIG_RESETSTAT: CommandSpec = plain(
    "resetstat",
    2,
    ADMIN_SCRIPTLESS,
    ADMIN,
    ["Reset the stats returned by INFO", "2.0.0", "server", O1],
);

const TRANSACTION: &str = "transactions";

/// FUNCTION's subcommands this node has: LIST (it has no functions).
pub static FUNCTION_SUBCOMMANDS: [CommandSpec; 1] = [CommandSpec {
    tips: &["nondeterministic_output_order"],
    ..plain(
        "list",
        -2,
        &["noscript"],
        &["@slow", "@scripting"],
        [
            "List information about all the functions",
            "7.0.0",
            "scripting",
            "O(N) where N is the number of functions",
        ],
    )
}];

/// FUNCTION.
pub const FUNCTION: CommandSpec = CommandSpec {
    subcommands: &FUNCTION_SUBCOMMANDS,
    ..plain(
        "function",
        -2,
        &[],
        &["@slow"],
        [
            "A container for function commands",
            "7.0.0",
            "scripting",
            "Depends on subcommand.",
        ],
    )
};

const TRANSACTION_FLAGS: &[&str] = &["noscript", "loading", "stale", "fast", "allow_busy"];

/// WATCH.
pub const WATCH: CommandSpec = CommandSpec {
    first_key: 1,
    last_key: -1,
    step: 1,
    key_flags: &["RO"],
    ..plain(
        "watch",
        -2,
        TRANSACTION_FLAGS,
        &["@fast", "@transaction"],
        [
            "Watch the given keys to determine execution of the MULTI/EXEC block",
            "2.2.0",
            TRANSACTION,
            "O(1) for every key.",
        ],
    )
};

/// UNWATCH.
pub const UNWATCH: CommandSpec = plain(
    "unwatch",
    1,
    TRANSACTION_FLAGS,
    &["@fast", "@transaction"],
    ["Forget about all watched keys", "2.2.0", TRANSACTION, O1],
);

/// MULTI.
pub const MULTI: CommandSpec = plain(
    "multi",
    1,
    &["noscript", "loading", "stale", "fast", "allow_busy"],
    &["@fast", "@transaction"],
    [
        "Mark the start of a transaction block",
        "1.2.0",
        TRANSACTION,
        O1,
    ],
);

/// EXEC.
pub const EXEC: CommandSpec = plain(
    "exec",
    1,
    &["noscript", "loading", "stale", "skip_slowlog"],
    &["@slow", "@transaction"],
    [
        "Execute all commands issued after MULTI",
        "1.2.0",
        TRANSACTION,
        "Depends on commands in the transaction",
    ],
);

/// DISCARD.
pub const DISCARD: CommandSpec = plain(
    "discard",
    1,
    &["noscript", "loading", "stale", "fast", "allow_busy"],
    &["@fast", "@transaction"],
    [
        "Discard all commands issued after MULTI",
        "2.0.0",
        TRANSACTION,
        "O(N), when N is the number of queued commands",
    ],
);

/// SAVE.
pub const SAVE: CommandSpec = plain(
    "save",
    1,
    &["admin", "noscript", "no_async_loading", "no_multi"],
    ADMIN,
    [
        "Synchronously save the dataset to disk",
        "1.0.0",
        "server",
        "O(N) where N is the total number of keys in all databases",
    ],
);

/// BGSAVE.
pub const BGSAVE: CommandSpec = plain(
    "bgsave",
    -1,
    &["admin", "noscript", "no_async_loading"],
    ADMIN,
    [
        "Asynchronously save the dataset to disk",
        "1.0.0",
        "server",
        O1,
    ],
);

/// LASTSAVE.
pub const LASTSAVE: CommandSpec = CommandSpec {
    tips: &["nondeterministic_output"],
    ..plain(
        "lastsave",
        1,
        &["loading", "stale", "fast"],
        &["@admin", "@fast", "@dangerous"],
        [
            "Get the UNIX time stamp of the last successful save to disk",
            "1.0.0",
            "server",
            O1,
        ],
    )
};

/// SHUTDOWN.
pub const SHUTDOWN: CommandSpec = plain(
    "shutdown",
    -1,
    &[
        "admin",
        "noscript",
        "loading",
        "stale",
        "no_multi",
        "allow_busy",
    ],
    ADMIN,
    [
        "Synchronously save the dataset to disk and then shut down the server",
        "1.0.0",
        "server",
        "O(N) when saving, where N is the total number of keys in all databases when saving \
         data, otherwise O(1)",
    ],
);
