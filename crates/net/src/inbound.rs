//! The incoming direction: accept connections, check the `Hello`, deliver `Data` frames to the
//! driver task exactly once and in order, acknowledge them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use dme_core::{Message, NodeId};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_util::codec::Framed;
use tracing::{Instrument, debug, info, warn};

use crate::driver::{Delivery, Shared};
use crate::wire::{Frame, codec, decode_frame, encode_checked};

/// Accepts connections until the driver stops (this task is aborted, which aborts the
/// connections' tasks too).
pub(crate) async fn listen<M: Message + Send + 'static>(
    listener: TcpListener,
    shared: Arc<Shared>,
    deliveries: mpsc::UnboundedSender<Delivery<M>>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, addr)) => {
                    debug!(%addr, "accepted a connection");
                    conns.spawn(
                        serve(stream, addr, Arc::clone(&shared), deliveries.clone())
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

/// A codec error in words: an oversized length prefix, or a connection closed mid-frame.
fn describe(e: &std::io::Error, max: usize) -> String {
    if e.get_ref()
        .is_some_and(|inner| inner.is::<tokio_util::codec::LengthDelimitedCodecError>())
    {
        format!("oversized frame: the length prefix exceeds the maximum of {max} bytes")
    } else if e.to_string().contains("bytes remaining on stream") {
        "truncated frame: the connection closed in the middle of a frame".into()
    } else {
        format!("bad frame: {e}")
    }
}

fn reject(shared: &Shared, addr: SocketAddr, peer: Option<NodeId>, reason: &str) {
    shared.rejected_connections.fetch_add(1, Ordering::Relaxed);
    match peer {
        Some(peer) => warn!(%addr, peer = %peer, "rejected connection: {reason}"),
        None => warn!(%addr, "rejected connection: {reason}"),
    }
}

async fn serve<M: Message + Send + 'static>(
    stream: TcpStream,
    addr: SocketAddr,
    shared: Arc<Shared>,
    deliveries: mpsc::UnboundedSender<Delivery<M>>,
) {
    let _ = stream.set_nodelay(true);
    let max = shared.config.max_frame_len;
    let mut conn = Framed::new(stream, codec(max));

    // The handshake.
    let first = match timeout(shared.config.handshake_timeout, conn.next()).await {
        Err(_) => return reject(&shared, addr, None, "no Hello within the handshake timeout"),
        Ok(None) => return debug!(%addr, "closed before saying hello"),
        Ok(Some(Err(e))) => return reject(&shared, addr, None, &describe(&e, max)),
        Ok(Some(Ok(bytes))) => bytes,
    };
    let (from, incarnation) = match decode_frame::<M>(&first) {
        Ok(Frame::Hello {
            from,
            to,
            incarnation,
        }) => {
            if to != shared.me {
                let why = format!("Hello addressed to {to}, but this is {}", shared.me);
                return reject(&shared, addr, Some(from), &why);
            }
            (from, incarnation)
        }
        Ok(_) => return reject(&shared, addr, None, "the first frame is not a Hello"),
        Err(e) => return reject(&shared, addr, None, &format!("bad frame: {e}")),
    };
    let Some(peer) = shared.peers.get(&from) else {
        let why = format!("Hello from {from}, which is not a peer");
        return reject(&shared, addr, Some(from), &why);
    };
    let (cancel_tx, mut cancel_rx) = oneshot::channel::<()>();
    let (generation, last) = {
        let mut st = peer.inbound();
        if st.incarnation.is_some_and(|known| known != incarnation) {
            drop(st);
            return reject(
                &shared,
                addr,
                Some(from),
                "the peer restarted and lost its state (the algorithms do not tolerate crashes)",
            );
        }
        st.incarnation = Some(incarnation);
        st.generation += 1;
        // Replacing the sender closes the previous connection from this peer, if any.
        st.conn = Some((st.generation, cancel_tx));
        (st.generation, st.last_delivered)
    };
    let unregister = || {
        let mut st = peer.inbound();
        if st.conn.as_ref().is_some_and(|(g, _)| *g == generation) {
            st.conn = None;
        }
    };
    let Ok(ack) = encode_checked(&Frame::<M>::Ack { seq: last }, max) else {
        return unregister();
    };
    if conn.send(ack).await.is_err() {
        return unregister();
    }
    info!(peer = %from, %addr, last_delivered = last, "incoming connection up");

    loop {
        tokio::select! {
            _ = &mut cancel_rx => {
                debug!(peer = %from, "incoming connection closed (cut or replaced)");
                break;
            }
            frame = conn.next() => match frame {
                None => {
                    debug!(peer = %from, "incoming connection closed by the peer");
                    break;
                }
                Some(Err(e)) => {
                    reject(&shared, addr, Some(from), &describe(&e, max));
                    break;
                }
                Some(Ok(bytes)) => match decode_frame::<M>(&bytes) {
                    Ok(Frame::Data { seq, clock, msg }) => {
                        let ack = {
                            let mut st = peer.inbound();
                            if seq <= st.last_delivered {
                                shared.duplicates_dropped.fetch_add(1, Ordering::Relaxed);
                                debug!(peer = %from, seq, "duplicate frame dropped");
                                Ok(st.last_delivered)
                            } else if seq == st.last_delivered + 1 {
                                if deliveries.send(Delivery { from, clock, msg }).is_err() {
                                    break; // the driver is stopping
                                }
                                st.last_delivered = seq;
                                Ok(seq)
                            } else {
                                Err(format!(
                                    "frame {seq} after frame {}: a gap in the sequence",
                                    st.last_delivered
                                ))
                            }
                        };
                        match ack {
                            Ok(seq) => {
                                let Ok(bytes) = encode_checked(&Frame::<M>::Ack { seq }, max) else {
                                    break;
                                };
                                if conn.send(bytes).await.is_err() {
                                    break;
                                }
                            }
                            Err(why) => {
                                reject(&shared, addr, Some(from), &why);
                                break;
                            }
                        }
                    }
                    Ok(Frame::Hello { .. }) => {
                        reject(&shared, addr, Some(from), "a second Hello");
                        break;
                    }
                    Ok(Frame::Ack { .. }) => {
                        reject(&shared, addr, Some(from), "an Ack on the peer's own connection");
                        break;
                    }
                    Err(e) => {
                        reject(&shared, addr, Some(from), &format!("bad frame: {e}"));
                        break;
                    }
                },
            },
        }
    }
    unregister();
}
