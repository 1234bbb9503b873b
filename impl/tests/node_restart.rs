//! Starting from nodes.conf: a restart on new ports announces the new ones
//! (the settings win over the file, as in Redis), and a nodes.conf that does
//! not parse stops the start with the file and line, leaving it untouched.

mod procs;

use procs::{failed_start, free_port, require_redis_tools, Kind, Proc};

#[test]
fn a_restart_on_new_ports_announces_them() {
    require_redis_tools();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut node = Proc::start(Kind::Clusterbus, dir.path(), 1000);
    let id = node.id();
    node.kill9();
    let (port, bus) = (free_port(), free_port());
    let moved = Proc::start_on(Kind::Clusterbus, dir.path(), port, bus, 1000);
    assert_eq!(moved.id(), id, "same node, from its nodes.conf");
    let me = moved.view_of(&id).unwrap_or_default();
    assert!(
        me.contains(&format!(" 127.0.0.1:{port}@{bus} ")),
        "myself after the move: {me:?}"
    );
}

#[test]
fn a_nodes_conf_that_does_not_parse_stops_the_start_and_is_kept() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("nodes.conf");
    let text = "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460\nthis is not a node line\n";
    std::fs::write(&conf, text).expect("write nodes.conf");
    let (code, stderr) = failed_start(dir.path());
    assert_eq!(code, Some(1), "the start must fail");
    assert!(
        stderr.contains(&format!("{}:2", conf.display())),
        "the error names the file and line 2: {stderr}"
    );
    let after = std::fs::read_to_string(&conf).expect("read nodes.conf");
    assert_eq!(after, text, "nodes.conf must not be overwritten");
}
