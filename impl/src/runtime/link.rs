//! One bus connection as a pair of tasks: a reader that frames bytes into
//! messages and hands them to the node task, and a writer that sends what
//! the node task queues. Framing follows `clusterReadHandler`: 8 bytes
//! first, a bad signature or length closes the link with one log line; a
//! frame that frames but does not decode is dropped, the link stays.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::codec::{decode, frame_length};

use super::Input;

/// What the node task holds for a connection: the queue of its writer.
/// Dropping it closes the connection at once, discarding what is still
/// queued, as Redis's `freeClusterLink` does.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    _close: oneshot::Sender<()>,
}

impl Outbox {
    /// Queues bytes for the peer.
    pub fn send(&self, bytes: Vec<u8>) {
        let _ = self.tx.send(bytes);
    }
}

/// The connection tasks' end of an [`Outbox`].
#[derive(Debug)]
pub struct LinkInbox {
    rx: mpsc::UnboundedReceiver<Vec<u8>>,
    /// Resolves (with an error) when the node task drops the Outbox.
    pub closed: oneshot::Receiver<()>,
}

/// A new outbox and the inbox its connection tasks read.
pub fn channel() -> (Outbox, LinkInbox) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (close_tx, close_rx) = oneshot::channel();
    let outbox = Outbox {
        tx,
        _close: close_tx,
    };
    (
        outbox,
        LinkInbox {
            rx,
            closed: close_rx,
        },
    )
}

/// Runs a connected bus link until either side closes it, then reports
/// `Input::BusClosed`. Frames go to `inputs` as `Input::BusFrame`.
pub async fn run(
    conn: u64,
    stream: TcpStream,
    inbox: LinkInbox,
    inputs: mpsc::UnboundedSender<Input>,
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
        closed,
    } = inbox;
    let writer = async move {
        while let Some(bytes) = outbox.recv().await {
            if wr.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    };
    tokio::select! {
        _ = reader => {}
        _ = writer => {}
        _ = closed => {}
    }
    let _ = inputs.send(Input::BusClosed { conn });
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
