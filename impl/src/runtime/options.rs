//! The node's settings, named as redis-server names them, from the command
//! line and optionally from a redis.conf-style file (`key value` lines).
//! Flags on the command line win over the file.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

use super::data_file::{parse_save_points, SavePoint, DEFAULT_SAVE_POINTS};

/// `clusterbus-node [CONFIG-FILE] [--flag value ...]`.
#[derive(Parser, Debug, Clone, PartialEq, Eq)]
#[command(
    name = "clusterbus-node",
    version,
    about = "The clusterbus reference node: a Redis 7.0 cluster bus node"
)]
pub struct Options {
    /// A redis.conf-style file: one `key value` per line, keys as the flags below.
    pub config_file: Option<PathBuf>,
    /// Client (RESP) port.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on (client and bus ports).
    #[arg(long)]
    pub bind: Option<String>,
    /// cluster-node-timeout, milliseconds.
    #[arg(long)]
    pub cluster_node_timeout: Option<u64>,
    /// nodes.conf file name, inside --dir.
    #[arg(long)]
    pub cluster_config_file: Option<String>,
    /// Working directory (nodes.conf lives here).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Bus port (default: port + 10000).
    #[arg(long)]
    pub cluster_port: Option<u16>,
    /// IP announced to the other nodes.
    #[arg(long)]
    pub cluster_announce_ip: Option<String>,
    /// Client port announced to the other nodes.
    #[arg(long)]
    pub cluster_announce_port: Option<u16>,
    /// Bus port announced to the other nodes.
    #[arg(long)]
    pub cluster_announce_bus_port: Option<u16>,
    /// cluster-replica-validity-factor (0: any replica may fail over).
    #[arg(long)]
    pub cluster_replica_validity_factor: Option<u64>,
    /// cluster-require-full-coverage (yes|no).
    #[arg(long)]
    pub cluster_require_full_coverage: Option<String>,
    /// Password clients must AUTH with.
    #[arg(long)]
    pub requirepass: Option<String>,
    /// Password a replica AUTHs with at its master.
    #[arg(long)]
    pub masterauth: Option<String>,
    /// debug, verbose, notice or warning.
    #[arg(long)]
    pub loglevel: Option<String>,
    /// Accepted for compatibility with redis-server command lines; the node
    /// is always a cluster node.
    #[arg(long)]
    pub cluster_enabled: Option<String>,
    /// The data file's name, inside --dir (dump.rdb).
    #[arg(long)]
    pub dbfilename: Option<String>,
    /// Save points, `<seconds> <changes>` pairs ("" for none; Redis's
    /// default "3600 1 300 100 60 10000").
    #[arg(long, allow_hyphen_values = true)]
    pub save: Option<String>,
    /// A testing mode (yes|no, default no), for conformance replay: the
    /// node's own timers stop, and `CLUSTERBUS.TEST` commands on the client
    /// port move its clock, inject protocol events and read its state.
    /// Refused unless the node binds a loopback address.
    #[arg(long)]
    pub cluster_test_control: Option<String>,
    /// In the testing mode, where the node's clock starts (Unix ms; default
    /// the time of the start).
    #[arg(long)]
    pub cluster_test_clock_ms: Option<u64>,
}

/// The settings after defaults, file and flags are merged and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub port: u16,
    pub bind: IpAddr,
    pub cluster_port: u16,
    pub node_timeout_ms: u64,
    pub config_path: PathBuf,
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub announce_bus_port: u16,
    pub replica_validity_factor: u64,
    pub require_full_coverage: bool,
    pub requirepass: Option<String>,
    pub masterauth: Option<String>,
    pub loglevel: String,
    /// The file the settings came from, if any (INFO's `config_file`).
    pub config_file: Option<PathBuf>,
    /// dump.rdb.
    pub data_path: PathBuf,
    pub save_points: Vec<SavePoint>,
    /// The testing mode: `Some(clock start)` when on (see
    /// `runtime::test_control`).
    pub test_control: Option<Option<u64>>,
}

/// Bus port offset from the client port (`CLUSTER_PORT_INCR`).
pub const CLUSTER_PORT_INCR: u16 = 10000;

impl Options {
    /// Merges the config file (if any) under the flags, then applies defaults.
    pub fn settings(&self) -> Result<Settings, String> {
        let mut merged = self.clone();
        if let Some(path) = &self.config_file {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let from_file = parse_config_text(&text)
                .map_err(|(line, e)| format!("{}:{line}: {e}", path.display()))?;
            merged = merged.or(from_file);
        }
        merged.resolve()
    }

    /// Fields of `self`, and where unset, of `other`.
    fn or(self, other: Options) -> Options {
        Options {
            config_file: self.config_file,
            port: self.port.or(other.port),
            bind: self.bind.or(other.bind),
            cluster_node_timeout: self.cluster_node_timeout.or(other.cluster_node_timeout),
            cluster_config_file: self.cluster_config_file.or(other.cluster_config_file),
            dir: self.dir.or(other.dir),
            cluster_port: self.cluster_port.or(other.cluster_port),
            cluster_announce_ip: self.cluster_announce_ip.or(other.cluster_announce_ip),
            cluster_announce_port: self.cluster_announce_port.or(other.cluster_announce_port),
            cluster_announce_bus_port: self
                .cluster_announce_bus_port
                .or(other.cluster_announce_bus_port),
            cluster_replica_validity_factor: self
                .cluster_replica_validity_factor
                .or(other.cluster_replica_validity_factor),
            cluster_require_full_coverage: self
                .cluster_require_full_coverage
                .or(other.cluster_require_full_coverage),
            requirepass: self.requirepass.or(other.requirepass),
            masterauth: self.masterauth.or(other.masterauth),
            loglevel: self.loglevel.or(other.loglevel),
            cluster_enabled: self.cluster_enabled.or(other.cluster_enabled),
            dbfilename: self.dbfilename.or(other.dbfilename),
            save: self.save.or(other.save),
            cluster_test_control: self.cluster_test_control.or(other.cluster_test_control),
            cluster_test_clock_ms: self.cluster_test_clock_ms.or(other.cluster_test_clock_ms),
        }
    }

    fn resolve(self) -> Result<Settings, String> {
        let port = self.port.unwrap_or(6379);
        let bind_text = self.bind.unwrap_or_else(|| "127.0.0.1".into());
        // redis.conf allows several addresses; the node listens on the first.
        let first = bind_text.split_whitespace().next().unwrap_or("127.0.0.1");
        let bind: IpAddr = first
            .parse()
            .map_err(|_| format!("bind: {first:?} is not an IP address"))?;
        let cluster_port = match self.cluster_port {
            Some(p) if p != 0 => p,
            _ => port.checked_add(CLUSTER_PORT_INCR).ok_or_else(|| {
                format!("port {port}: port + 10000 is not a port; set --cluster-port")
            })?,
        };
        let require_full_coverage = match self.cluster_require_full_coverage.as_deref() {
            None | Some("yes") => true,
            Some("no") => false,
            Some(other) => {
                return Err(format!(
                    "cluster-require-full-coverage: {other:?} is not yes or no"
                ))
            }
        };
        let loglevel = self.loglevel.unwrap_or_else(|| "notice".into());
        if !["debug", "verbose", "notice", "warning"].contains(&loglevel.as_str()) {
            return Err(format!(
                "loglevel: {loglevel:?} is not debug, verbose, notice or warning"
            ));
        }
        let dir = self.dir.unwrap_or_else(|| PathBuf::from("."));
        let file = self
            .cluster_config_file
            .unwrap_or_else(|| "nodes.conf".into());
        let save_points = match &self.save {
            Some(text) => parse_save_points(text)?,
            None => DEFAULT_SAVE_POINTS.to_vec(),
        };
        let dbfilename = self.dbfilename.unwrap_or_else(|| "dump.rdb".into());
        if dbfilename.is_empty() || dbfilename.contains('/') {
            return Err(format!("dbfilename: {dbfilename:?} is not a file name"));
        }
        let test_control = match self.cluster_test_control.as_deref() {
            None | Some("no") => None,
            // Any client of the port could drive the protocol: never on an
            // address other hosts can reach.
            Some("yes") if bind.is_loopback() => Some(self.cluster_test_clock_ms),
            Some("yes") => {
                return Err(format!(
                    "cluster-test-control: a testing mode, refused on bind {bind}: \
                     only a loopback address may run it"
                ))
            }
            Some(other) => return Err(format!("cluster-test-control: {other:?} is not yes or no")),
        };
        let node_timeout_ms = self.cluster_node_timeout.unwrap_or(15_000);
        if node_timeout_ms == 0 {
            return Err("cluster-node-timeout: must be at least 1 ms".into());
        }
        Ok(Settings {
            port,
            bind,
            cluster_port,
            node_timeout_ms,
            config_path: dir.join(file),
            data_path: dir.join(dbfilename),
            save_points,
            announce_ip: self.cluster_announce_ip.filter(|s| !s.is_empty()),
            announce_port: self
                .cluster_announce_port
                .filter(|p| *p != 0)
                .unwrap_or(port),
            announce_bus_port: self
                .cluster_announce_bus_port
                .filter(|p| *p != 0)
                .unwrap_or(cluster_port),
            replica_validity_factor: self.cluster_replica_validity_factor.unwrap_or(10),
            require_full_coverage,
            requirepass: self.requirepass.filter(|s| !s.is_empty()),
            masterauth: self.masterauth.filter(|s| !s.is_empty()),
            loglevel,
            config_file: self.config_file,
            test_control,
        })
    }
}

/// Parses redis.conf-style text into options; an error names the line.
/// Keys this node does not know are refused, as redis-server refuses them.
fn parse_config_text(text: &str) -> Result<Options, (usize, String)> {
    let mut o = Options::parse_from(["clusterbus-node"]);
    for (k, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k.to_ascii_lowercase(), unquote(v.trim())),
            None => return Err((k + 1, format!("{line:?}: a key needs a value"))),
        };
        set_option(&mut o, &key, value).map_err(|e| (k + 1, e))?;
    }
    Ok(o)
}

fn unquote(v: &str) -> String {
    let quoted = v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    if quoted {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

fn set_option(o: &mut Options, key: &str, value: String) -> Result<(), String> {
    fn num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T, String> {
        v.parse()
            .map_err(|_| format!("{key}: {v:?} is not a valid number"))
    }
    match key {
        "port" => o.port = Some(num(key, &value)?),
        "bind" => o.bind = Some(value),
        "cluster-node-timeout" => o.cluster_node_timeout = Some(num(key, &value)?),
        "cluster-config-file" => o.cluster_config_file = Some(value),
        "dir" => o.dir = Some(PathBuf::from(value)),
        "cluster-port" => o.cluster_port = Some(num(key, &value)?),
        "cluster-announce-ip" => o.cluster_announce_ip = Some(value),
        "cluster-announce-port" => o.cluster_announce_port = Some(num(key, &value)?),
        "cluster-announce-bus-port" => o.cluster_announce_bus_port = Some(num(key, &value)?),
        "cluster-replica-validity-factor" | "cluster-slave-validity-factor" => {
            o.cluster_replica_validity_factor = Some(num(key, &value)?)
        }
        "cluster-require-full-coverage" => o.cluster_require_full_coverage = Some(value),
        "requirepass" => o.requirepass = Some(value),
        "masterauth" => o.masterauth = Some(value),
        "loglevel" => o.loglevel = Some(value),
        "cluster-enabled" => o.cluster_enabled = Some(value),
        "cluster-test-control" => o.cluster_test_control = Some(value),
        "dbfilename" => o.dbfilename = Some(value),
        // redis.conf may give several `save` lines; they add up.
        "save" => {
            o.save = Some(match o.save.take() {
                Some(before) if !before.is_empty() && !value.is_empty() => {
                    format!("{before} {value}")
                }
                _ => value,
            })
        }
        other => return Err(format!("unknown setting {other:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_redis() {
        let s = Options::parse_from(["clusterbus-node", "--port", "7000"])
            .settings()
            .unwrap();
        assert_eq!(s.cluster_port, 17000);
        assert_eq!(s.announce_bus_port, 17000);
        assert_eq!(s.node_timeout_ms, 15_000);
        assert_eq!(s.config_path, PathBuf::from("./nodes.conf"));
        assert!(s.require_full_coverage);
        assert_eq!(s.bind.to_string(), "127.0.0.1");
        assert_eq!(s.data_path, PathBuf::from("./dump.rdb"));
        assert_eq!(s.save_points, DEFAULT_SAVE_POINTS.to_vec());
        let none = Options::parse_from(["clusterbus-node", "--save", ""]);
        assert_eq!(none.settings().unwrap().save_points, vec![]);
        let file = parse_config_text("save 900 1\nsave 60 5\n").unwrap();
        assert_eq!(file.resolve().unwrap().save_points.len(), 2);
    }

    #[test]
    fn flags_win_over_the_file_and_errors_name_the_line() {
        let o = parse_config_text("# c\nport 7001\ncluster-node-timeout 900\n").unwrap();
        let flags = Options::parse_from(["clusterbus-node", "--port", "7002"]);
        let s = flags.or(o).resolve().unwrap();
        assert_eq!((s.port, s.node_timeout_ms), (7002, 900));
        let err = parse_config_text("port 1\nbogus-key 3\n").unwrap_err();
        assert_eq!(err.0, 2);
        let err = parse_config_text("port x\n").unwrap_err();
        assert_eq!(err, (1, "port: \"x\" is not a valid number".into()));
    }

    #[test]
    fn bad_values_are_refused() {
        let bad = |args: &[&str]| {
            let mut v = vec!["clusterbus-node"];
            v.extend_from_slice(args);
            Options::parse_from(v).settings().unwrap_err()
        };
        assert!(bad(&["--bind", "nowhere"]).contains("bind"));
        assert!(bad(&["--cluster-require-full-coverage", "maybe"]).contains("yes or no"));
        assert!(bad(&["--port", "60000"]).contains("--cluster-port"));
        assert!(bad(&["--cluster-test-control", "maybe"]).contains("yes or no"));
    }

    #[test]
    fn the_testing_mode_runs_on_loopback_only() {
        let settings = |args: &[&str]| {
            let mut v = vec!["clusterbus-node"];
            v.extend_from_slice(args);
            Options::parse_from(v).settings()
        };
        let on = settings(&[
            "--cluster-test-control",
            "yes",
            "--cluster-test-clock-ms",
            "5",
        ]);
        assert_eq!(on.unwrap().test_control, Some(Some(5)));
        assert_eq!(settings(&[]).unwrap().test_control, None);
        let err = settings(&["--bind", "0.0.0.0", "--cluster-test-control", "yes"]).unwrap_err();
        assert!(err.contains("only a loopback address"), "{err}");
        let v6 = settings(&["--bind", "::1", "--cluster-test-control", "yes"]);
        assert_eq!(v6.unwrap().test_control, Some(None));
    }
}
