//! One bus connection as a pair of tasks: a reader that frames bytes into
//! messages and hands them to the node task, and a writer that sends what
//! the node task queues. Framing follows `clusterReadHandler`: 8 bytes
//! first, a bad signature or length closes the link with one log line; a
//! frame that frames but does not decode is dropped, the link stays.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::codec::{decode, frame_length};

use super::Input;

/// Most bytes queued for one peer that has stopped reading before the
/// link is freed (Redis 7.0's `cluster-link-sendbuf-limit`, which is
/// unlimited by default; here a bound, so a peer that never reads cannot
/// grow memory without limit). Ordinary traffic is a few KiB at a time.
pub const CLUSTER_LINK_SENDBUF_LIMIT_BYTES: usize = 16 << 20;

/// What the node task holds for a connection: the queue of its writer.
/// Dropping it closes the connection at once, discarding what is still
/// queued, as Redis's `freeClusterLink` does.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    /// Bytes queued and not yet written (the writer lowers it).
    queued: Arc<AtomicUsize>,
    _close: oneshot::Sender<()>,
}

impl Outbox {
    /// Queues bytes for the peer; `false` when the peer is
    /// [`CLUSTER_LINK_SENDBUF_LIMIT_BYTES`] behind (nothing is queued then:
    /// the link is to be freed).
    pub fn send(&self, bytes: Vec<u8>) -> bool {
        let len = bytes.len();
        if self.queued.load(Ordering::Relaxed) + len > CLUSTER_LINK_SENDBUF_LIMIT_BYTES {
            return false;
        }
        self.queued.fetch_add(len, Ordering::Relaxed);
        let _ = self.tx.send(bytes);
        true
    }

    /// A handle that tells, without keeping the link open, when everything
    /// queued so far has been written (or the link is gone).
    pub fn probe(&self) -> Drained {
        Drained {
            queued: self.queued.clone(),
            tx: self.tx.downgrade(),
        }
    }
}

/// See [`Outbox::probe`].
#[derive(Debug)]
pub struct Drained {
    queued: Arc<AtomicUsize>,
    tx: mpsc::WeakUnboundedSender<Vec<u8>>,
}

impl Drained {
    /// Whether the link's writer has written all it was given, or ended.
    pub fn done(&self) -> bool {
        self.queued.load(Ordering::Acquire) == 0 || self.tx.upgrade().is_none_or(|t| t.is_closed())
    }
}

/// The connection tasks' end of an [`Outbox`].
#[derive(Debug)]
pub struct LinkInbox {
    rx: mpsc::UnboundedReceiver<Vec<u8>>,
    queued: Arc<AtomicUsize>,
    /// Resolves (with an error) when the node task drops the Outbox.
    pub closed: oneshot::Receiver<()>,
}

/// A new outbox and the inbox its connection tasks read.
pub fn channel() -> (Outbox, LinkInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (close_tx, close_rx) = oneshot::channel();
    let queued = Arc::new(AtomicUsize::new(0));
    let outbox = Outbox {
        tx,
        queued: queued.clone(),
        _close: close_tx,
    };
    (
        outbox,
        LinkInbox {
            rx,
            queued,
            closed: close_rx,
        },
    )
}

/// Runs a connected bus link until either side closes it, then reports
/// `Input::BusClosed`. Frames go to `inputs` as `Input::BusFrame`; each
/// frame written counts in `written` (the node's total, which the testing
/// mode reports).
pub async fn run(
    conn: u64,
    stream: TcpStream,
    inbox: LinkInbox,
    inputs: mpsc::Sender<Input>,
    written: Arc<AtomicU64>,
) {
    let peer_ip = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let reader = {
        let inputs = inputs.clone();
        async move {
            loop {
                match read_frame(&mut rd).await {
                    Ok(Some(frame)) => match decode(&frame) {
                        Ok(msg) => {
                            let ip = peer_ip.clone();
                            if inputs
                                .send(Input::BusFrame {
                                    conn,
                                    msg,
                                    peer_ip: ip,
                                })
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Err(e) if e.closes_link() => {
                            tracing::warn!("bus link {conn} from {peer_ip}: {e}; closing it");
                            return;
                        }
                        Err(e) => {
                            tracing::info!("bus link {conn} from {peer_ip}: dropped a frame: {e}")
                        }
                    },
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!("bus link {conn} from {peer_ip}: {e}; closing it");
                        return;
                    }
                }
            }
        }
    };
    let LinkInbox {
        rx: mut outbox,
        queued,
        closed,
    } = inbox;
    let writer = async move {
        while let Some(bytes) = outbox.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
            // The count goes up before the queue goes down: whoever sees
            // the queue drained sees every frame counted.
            written.fetch_add(1, Ordering::Relaxed);
            queued.fetch_sub(bytes.len(), Ordering::Release);
        }
        let _ = wr.shutdown().await;
    };
    tokio::select! {
        _ = reader => {}
        _ = writer => {}
        _ = closed => {}
    }
    let _ = inputs.send(Input::BusClosed { conn }).await;
}

/// Why a stream could not be framed.
#[derive(Debug)]
enum FrameError {
    Io(std::io::Error),
    Bad(crate::codec::DecodeError),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "read error: {e}"),
            FrameError::Bad(e) => write!(f, "{e}"),
        }
    }
}

/// Reads one whole frame; `Ok(None)` at a clean end of stream.
async fn read_frame<R: AsyncReadExt + Unpin>(rd: &mut R) -> Result<Option<Vec<u8>>, FrameError> {
    let mut head = [0u8; 8];
    match rd.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(FrameError::Io(e)),
    }
    let len = match frame_length(&head) {
        Ok(Some(len)) => len,
        Ok(None) => return Ok(None),
        Err(e) => return Err(FrameError::Bad(e)),
    };
    let mut frame = vec![0u8; len];
    frame[..8].copy_from_slice(&head);
    rd.read_exact(&mut frame[8..])
        .await
        .map_err(FrameError::Io)?;
    Ok(Some(frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outbox_refuses_bytes_past_the_limit() {
        let (outbox, mut inbox) = channel();
        let chunk = vec![0u8; CLUSTER_LINK_SENDBUF_LIMIT_BYTES / 4];
        for _ in 0..4 {
            assert!(outbox.send(chunk.clone()));
        }
        assert!(
            !outbox.send(vec![0u8; 1]),
            "a full outbox takes nothing more"
        );
        // What the writer has written no longer counts.
        let written = inbox.rx.try_recv().expect("queued bytes");
        inbox.queued.fetch_sub(written.len(), Ordering::Relaxed);
        assert!(outbox.send(vec![0u8; 1]));
    }
}
