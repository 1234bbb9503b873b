//! The operator commands on a real `clusterbus-node` process: CLIENT
//! SETNAME / LIST / ID / KILL over two connections, INFO's counters
//! (`connected_clients` counts the connections open now), CONFIG SET of
//! the node timeout read back with CONFIG GET, and SHUTDOWN, which closes
//! the connection without a reply and ends the process with status 0 and
//! nodes.conf saved.

mod common;
mod procs;

use std::time::Duration;

use common::{Conn, Reply};
use procs::{require_redis_tools, wait_until, Kind, Proc};

const LIMIT: Duration = Duration::from_secs(10);

/// A connection that fails the test on I/O errors.
struct Client(Conn);

impl Client {
    fn open(port: u16) -> Client {
        Client(Conn::open(port).expect("connect to the node"))
    }

    fn try_call(&mut self, words: &[&str]) -> std::io::Result<Reply> {
        self.0.call(words)
    }

    fn call(&mut self, words: &[&str]) -> Reply {
        self.try_call(words)
            .unwrap_or_else(|e| panic!("{words:?}: {e}"))
    }

    fn text(&mut self, words: &[&str]) -> String {
        self.call(words).text()
    }

    fn int(&mut self, words: &[&str]) -> i64 {
        match self.call(words) {
            Reply::Int(n) => n,
            other => panic!("{words:?}: {other:?}"),
        }
    }
}

/// `field:value` of an INFO text.
fn info_field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim_end().to_string())
}

#[test]
fn client_info_config_and_shutdown_on_a_live_node() {
    require_redis_tools();
    let root = tempfile::tempdir().expect("temp dir");
    let mut node = Proc::start(Kind::Clusterbus, &root.path().join("n0"), 15_000);
    let (mut a, mut b) = (Client::open(node.port), Client::open(node.port));
    assert_eq!(b.text(&["CLIENT", "SETNAME", "worker-b"]), "OK");
    assert_eq!(a.text(&["CLIENT", "SETNAME", "admin-a"]), "OK");
    let (id_a, id_b) = (a.int(&["CLIENT", "ID"]), b.int(&["CLIENT", "ID"]));
    assert_ne!(id_a, id_b);
    assert_eq!(b.text(&["CLIENT", "GETNAME"]), "worker-b");

    let info = a.text(&["INFO"]);
    assert_eq!(info_field(&info, "connected_clients").as_deref(), Some("2"));
    let processed: u64 = info_field(&info, "total_commands_processed")
        .and_then(|v| v.parse().ok())
        .expect("total_commands_processed");
    assert!(processed >= 6, "{processed} commands counted");
    assert!(info_field(&info, "used_memory_rss").is_some_and(|v| v != "0"));

    let list = a.text(&["CLIENT", "LIST"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    let line_of = |id: i64| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("id={id} ")))
            .unwrap_or_else(|| panic!("no line for client {id} in {list}"))
            .to_string()
    };
    assert!(
        line_of(id_a).contains(" name=admin-a ") && line_of(id_a).contains(" cmd=client|list ")
    );
    assert!(
        line_of(id_b).contains(" name=worker-b ") && line_of(id_b).contains(" cmd=client|getname ")
    );
    let info_b = b.text(&["CLIENT", "INFO"]);
    assert!(
        info_b.starts_with(&format!("id={id_b} addr=127.0.0.1:")),
        "{info_b}"
    );

    // KILL by id: b's connection is closed, and no longer counted.
    assert_eq!(a.int(&["CLIENT", "KILL", "ID", &id_b.to_string()]), 1);
    assert!(
        b.try_call(&["PING"]).is_err(),
        "b still served after CLIENT KILL"
    );
    let refs = [&node];
    wait_until("connected_clients back to 1", LIMIT, &refs, || {
        info_field(&a.text(&["INFO", "clients"]), "connected_clients").as_deref() == Some("1")
    });
    assert_eq!(a.int(&["CLIENT", "KILL", "ID", &id_b.to_string()]), 0);

    // CONFIG SET changes the node timeout the core runs with.
    assert_eq!(
        a.text(&["CONFIG", "SET", "cluster-node-timeout", "3000"]),
        "OK"
    );
    assert_eq!(
        a.call(&["CONFIG", "GET", "cluster-node-timeout"]),
        Reply::Array(vec![
            Reply::Bulk(Some(b"cluster-node-timeout".to_vec())),
            Reply::Bulk(Some(b"3000".to_vec()))
        ])
    );

    // SHUTDOWN: no reply, the process ends cleanly, nodes.conf is there.
    assert_eq!(
        a.call(&["SHUTDOWN", "ABORT"]),
        Reply::Error("ERR No shutdown in progress.".into())
    );
    assert!(
        a.try_call(&["SHUTDOWN", "NOSAVE"]).is_err(),
        "SHUTDOWN replied"
    );
    let status = node
        .wait_exit(LIMIT)
        .expect("the node exited after SHUTDOWN");
    assert!(status.success(), "exit status {status}: {}", node.log());
    assert!(node.dir.join("nodes.conf").exists());
    assert!(
        !node.dir.join("dump.rdb").exists(),
        "NOSAVE wrote no dump.rdb"
    );
    assert!(node.log().contains("nodes.conf saved; shutting down"));
}
