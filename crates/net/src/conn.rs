//! The sockets, and nothing else: dialling, accepting, and one task per connection that
//! decodes the frames it reads and writes the frames it is given. Every decision (what a frame
//! means, when to dial, what to answer) is the driver task's, through its links; these tasks
//! only report [`NetEvent`]s to it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use dme_core::{Message, NodeId};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_util::codec::Framed;
use tracing::{Instrument, debug, warn};

use crate::wire::{Frame, WireError, codec, decode_frame};

/// Numbers the connections of one driver, dialled and accepted alike.
pub(crate) type ConnId = u64;

/// Hands out [`ConnId`]s.
#[derive(Clone, Default)]
pub(crate) struct Ids(Arc<AtomicU64>);

impl Ids {
    pub fn next(&self) -> ConnId {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

/// What the driver task tells a connection's task.
pub(crate) enum Write {
    /// Write this encoded frame.
    Frame(Bytes),
    /// Flush and close the connection.
    Close,
}

/// Why a connection's task closed it on bad input: a category (the key for rate-limited
/// warnings) and the words of the warning.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub category: &'static str,
    pub text: String,
}

/// What the sockets report to the driver task.
pub(crate) enum NetEvent<M> {
    /// A dial to `peer` succeeded; `tx` writes to the new connection.
    Connected {
        id: ConnId,
        peer: NodeId,
        tx: mpsc::UnboundedSender<Write>,
    },
    /// A dial to `peer` failed.
    DialFailed {
        id: ConnId,
        peer: NodeId,
        why: String,
    },
    /// A connection from `addr` was accepted; who it is from, its `Hello` will say.
    Accepted {
        id: ConnId,
        addr: SocketAddr,
        tx: mpsc::UnboundedSender<Write>,
    },
    /// A frame arrived on a connection.
    Frame { id: ConnId, frame: Frame<M> },
    /// A connection ended: closed by the peer or by the driver (`None`), or on bad input.
    Closed {
        id: ConnId,
        rejected: Option<Rejection>,
    },
}

/// The socket-level limits a connection's task applies.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    pub max_frame_len: usize,
    pub connect_timeout: Duration,
    pub handshake_timeout: Duration,
}

/// A codec error in words: an oversized length prefix, or a connection closed mid-frame.
fn describe(e: &std::io::Error, max: usize) -> Rejection {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<tokio_util::codec::LengthDelimitedCodecError>())
    {
        Rejection {
            category: "oversized",
            text: format!("oversized frame: the length prefix exceeds the maximum of {max} bytes"),
        }
    } else if e.to_string().contains("bytes remaining on stream") {
        Rejection {
            category: "truncated",
            text: "truncated frame: the connection closed in the middle of a frame".into(),
        }
    } else {
        Rejection {
            category: "i/o",
            text: format!("bad frame: {e}"),
        }
    }
}

/// Dials `peer` at `addr`; on success serves the connection until it ends.
pub(crate) async fn dial<M: Message + Send + 'static>(
    id: ConnId,
    peer: NodeId,
    addr: SocketAddr,
    limits: Limits,
    events: mpsc::UnboundedSender<NetEvent<M>>,
) {
    let stream = match timeout(limits.connect_timeout, TcpStream::connect(addr)).await {
        Err(_) => Err(format!("connect to {addr} timed out")),
        Ok(Err(e)) => Err(format!("connect to {addr}: {e}")),
        Ok(Ok(stream)) => Ok(stream),
    };
    let stream = match stream {
        Ok(stream) => stream,
        Err(why) => {
            let _ = events.send(NetEvent::DialFailed { id, peer, why });
            return;
        }
    };
    let (tx, rx) = mpsc::unbounded_channel();
    if events.send(NetEvent::Connected { id, peer, tx }).is_ok() {
        serve(
            id,
            stream,
            rx,
            limits,
            "no acknowledgement of our Hello",
            events,
        )
        .await;
    }
}

/// Accepts connections until the driver stops (this task is aborted, which aborts the
/// connections' tasks too).
pub(crate) async fn listen<M: Message + Send + 'static>(
    listener: TcpListener,
    ids: Ids,
    limits: Limits,
    events: mpsc::UnboundedSender<NetEvent<M>>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => {
                    debug!(%addr, "accepted a connection");
                    let id = ids.next();
                    let (tx, rx) = mpsc::unbounded_channel();
                    if events.send(NetEvent::Accepted { id, addr, tx }).is_err() {
                        return;
                    }
                    conns.spawn(
                        serve(id, stream, rx, limits, "no Hello within the handshake timeout", events.clone())
                            .in_current_span(),
                    );
                }
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Pumps one connection: frames read are decoded and reported, frames given are written. The
/// first frame must come within the handshake timeout (`late` says what was missing).
async fn serve<M: Message + Send + 'static>(
    id: ConnId,
    stream: TcpStream,
    mut rx: mpsc::UnboundedReceiver<Write>,
    limits: Limits,
    late: &'static str,
    events: mpsc::UnboundedSender<NetEvent<M>>,
) {
    let _ = stream.set_nodelay(true);
    let max = limits.max_frame_len;
    let mut conn = Framed::new(stream, codec(max));
    let mut first = true;
    let rejected = loop {
        let read = async {
            if first {
                timeout(limits.handshake_timeout, conn.next()).await.ok()
            } else {
                Some(conn.next().await)
            }
        };
        tokio::select! {
            write = rx.recv() => match write {
                Some(Write::Frame(bytes)) => {
                    if let Err(e) = conn.send(bytes).await {
                        debug!(error = %e, "write failed");
                        break None;
                    }
                }
                Some(Write::Close) | None => {
                    let _ = SinkExt::<Bytes>::flush(&mut conn).await;
                    break None;
                }
            },
            frame = read => match frame {
                None => break Some(Rejection { category: "handshake timeout", text: late.into() }),
                Some(None) => break None,
                Some(Some(Err(e))) => break Some(describe(&e, max)),
                Some(Some(Ok(bytes))) => {
                    first = false;
                    match decode_frame::<M>(&bytes) {
                        Ok(frame) => {
                            if events.send(NetEvent::Frame { id, frame }).is_err() {
                                return;
                            }
                        }
                        Err(e) => break Some(Rejection {
                            category: match e {
                                WireError::Empty => "empty frame",
                                WireError::WrongVersion { .. } => "wrong version",
                                WireError::Malformed(_) => "malformed frame",
                                WireError::TrailingBytes(_) => "trailing bytes",
                                WireError::TooLong { .. } => "oversized",
                            },
                            text: format!("bad frame: {e}"),
                        }),
                    }
                }
            },
        }
    };
    let _ = events.send(NetEvent::Closed { id, rejected });
}
