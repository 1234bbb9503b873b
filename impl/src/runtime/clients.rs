//! The client connections the node task knows of: what CLIENT LIST shows
//! of each, and the switch that closes one (CLIENT KILL). Each client task
//! registers when it starts and deregisters when it ends; the node task
//! updates an entry after each request.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::commands::client::ClientView;
use crate::commands::Session;

/// One connection, as accepted.
#[derive(Debug)]
pub struct ClientOpened {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i64,
    /// Notified to close the connection.
    pub kill: Arc<Notify>,
}

#[derive(Debug)]
struct Entry {
    opened: ClientOpened,
    created_ms: u64,
    last_ms: u64,
    name: Vec<u8>,
    last_cmd: String,
    resp: i64,
}

/// The registry of client connections.
#[derive(Debug, Default)]
pub struct Clients {
    entries: BTreeMap<u64, Entry>,
    /// Connections accepted since the start (`total_connections_received`).
    pub accepted: u64,
}

impl Clients {
    /// A connection was accepted at `now_ms`.
    pub fn open(&mut self, opened: ClientOpened, now_ms: u64) {
        self.accepted += 1;
        let entry = Entry {
            opened,
            created_ms: now_ms,
            last_ms: now_ms,
            name: Vec::new(),
            last_cmd: "NULL".into(),
            resp: 2,
        };
        self.entries.insert(entry.opened.id, entry);
    }

    /// A connection ended (or became a replica's feed).
    pub fn close(&mut self, id: u64) {
        self.entries.remove(&id);
    }

    /// Client connections open now (`connected_clients`).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no client is connected.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Client `id` sent command `name` (its container and subcommand, as
    /// [`crate::commands::command_name`] gives them) at `now_ms`.
    pub fn touch(&mut self, id: u64, name: (&str, Option<&str>), now_ms: u64) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.last_ms = now_ms;
            let same = match (e.last_cmd.strip_prefix(name.0), name.1) {
                (Some(rest), None) => rest.is_empty(),
                (Some(rest), Some(sub)) => rest.strip_prefix('|') == Some(sub),
                (None, _) => false,
            };
            if !same {
                e.last_cmd = match name.1 {
                    None => name.0.to_string(),
                    Some(sub) => format!("{}|{sub}", name.0),
                };
            }
        }
    }

    /// After a request: the name and protocol the session now has.
    pub fn update(&mut self, session: &Session) {
        if let Some(e) = self.entries.get_mut(&session.id) {
            if e.name != session.name {
                e.name = session.name.clone();
            }
            e.resp = session.protocol.version();
        }
    }

    /// Closes connection `id` (its task ends; it deregisters then).
    pub fn kill(&mut self, id: u64) {
        if let Some(e) = self.entries.get(&id) {
            e.opened.kill.notify_one();
        }
    }

    /// Every connection, as CLIENT LIST shows it at `now_ms`.
    pub fn views(&self, now_ms: u64) -> Vec<ClientView> {
        self.entries
            .values()
            .map(|e| ClientView {
                id: e.opened.id,
                addr: e.opened.addr.clone(),
                laddr: e.opened.laddr.clone(),
                fd: e.opened.fd,
                name: e.name.clone(),
                age_s: now_ms.saturating_sub(e.created_ms) / 1000,
                idle_s: now_ms.saturating_sub(e.last_ms) / 1000,
                last_cmd: e.last_cmd.clone(),
                resp: e.resp,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_touch_update_kill_close() {
        let mut c = Clients::default();
        let kill = Arc::new(Notify::new());
        let opened = ClientOpened {
            id: 4,
            addr: "127.0.0.1:5000".into(),
            laddr: "127.0.0.1:7000".into(),
            fd: 9,
            kill: kill.clone(),
        };
        c.open(opened, 1_000);
        let mut s = Session {
            id: 4,
            ..Session::default()
        };
        c.touch(4, ("client", Some("setname")), 3_500);
        s.name = b"app".to_vec();
        s.protocol = crate::resp::Protocol::Resp3;
        c.update(&s);
        let v = &c.views(5_000)[0];
        assert_eq!((v.age_s, v.idle_s, v.resp), (4, 1, 3));
        assert_eq!(
            (v.name.as_slice(), v.last_cmd.as_str()),
            (&b"app"[..], "client|setname")
        );
        assert_eq!((c.len(), c.accepted), (1, 1));
        c.kill(4);
        // The permit is stored: the task sees it at its next wait.
        let fut = kill.notified();
        tokio::pin!(fut);
        assert!(fut.as_mut().enable(), "kill notified");
        c.close(4);
        assert!(c.is_empty());
    }
}
