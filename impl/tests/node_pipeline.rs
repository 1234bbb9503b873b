//! Pipelines: many requests in one write, answered in order with the
//! session threaded through (the node runs a pipeline as one batch), the
//! same bytes as an unmodified redis-server 7.0 answers, up to QUIT or a
//! malformed request, after which nothing more is answered.

mod procs;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use procs::{side_by_side, Proc};

/// Everything `node` writes back to `pipeline` until it closes the connection.
fn answer(node: &Proc, pipeline: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", node.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(pipeline).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn a_pipeline_is_answered_as_redis_answers_it() {
    let both = side_by_side();
    let (redis, ours) = (&both.redis, &both.ours);
    let mut long = Vec::new();
    for i in 0..3000 {
        long.extend_from_slice(format!("SET k{i} v{i}\r\nGET k{i}\r\n").as_bytes());
    }
    long.extend_from_slice(b"QUIT\r\n");
    let pipelines: [&[u8]; 11] = [
        // QUIT before a malformed request: no protocol error after it.
        b"PING\r\nQUIT\r\n*1\r\n$x\r\n",
        // Transactions: queued and run together, errors inside EXEC's reply.
        b"MULTI\r\nSET t 1\r\nINCR t\r\nGET t\r\nSET s abc\r\nINCR s\r\nEXEC\r\nGET t\r\nQUIT\r\n",
        // Outside MULTI, nested MULTI, a failed check aborts EXEC.
        b"EXEC\r\nDISCARD\r\nMULTI\r\nMULTI\r\nNOSUCH\r\nSET u 1\r\nEXEC\r\nGET u\r\nQUIT\r\n",
        b"MULTI\r\nGET\r\nEXEC\r\nMULTI\r\nSAVE\r\nEXEC\r\nQUIT\r\n",
        // Keys of two slots in one transaction, DISCARD, CLUSTER inside.
        b"MULTI\r\nSET {a}1 x\r\nSET {b}2 y\r\nEXEC\r\nEXISTS {a}1\r\nMULTI\r\nSET w 1\r\nDISCARD\r\nGET w\r\n\
          MULTI\r\nCLUSTER KEYSLOT w\r\nCLUSTER COUNTKEYSINSLOT 0\r\nEXEC\r\nMULTI x\r\nQUIT\r\n",
        // QUIT inside MULTI closes as outside.
        b"MULTI\r\nSET q 1\r\nQUIT\r\nEXEC\r\n",
        b"GET q\r\nQUIT\r\n",
        // The session changes mid-pipeline, and QUIT ends it.
        b"SET a 1\r\nGET a\r\nCLIENT SETNAME x\r\nCLIENT GETNAME\r\nREADONLY\r\n\
          INCR a\r\nDEL a\r\nGET a\r\nQUIT\r\nGET a\r\nPING\r\n",
        // Errors are replies; a malformed request ends the connection after
        // the replies before it.
        b"PING\r\nGET\r\nNOSUCH x\r\nSET b 2\r\nECHO hi\r\n*1\r\n$x\r\nPING\r\n",
        // Inline and multibulk requests mixed.
        b"*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\n3\r\nGET c\r\n*2\r\n$3\r\nGET\r\n$1\r\nc\r\nQUIT\r\n",
        &long,
    ];
    for p in pipelines {
        let (theirs, mine) = (answer(redis, p), answer(ours, p));
        assert_eq!(
            String::from_utf8_lossy(&mine),
            String::from_utf8_lossy(&theirs),
            "pipeline {:?}",
            String::from_utf8_lossy(&p[..p.len().min(120)])
        );
    }
}
