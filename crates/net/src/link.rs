//! The outgoing direction to one peer: dial, say hello, send `Data` frames in sequence, keep
//! them until acknowledged, redial with backoff and resend after a loss.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use dme_core::{Message, NodeId};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use tracing::{debug, error, info, warn};

use crate::driver::Shared;
use crate::wire::{Frame, codec, decode_frame, encode_checked};

/// What the driver task tells a link.
pub(crate) enum LinkCmd<M> {
    /// Send an algorithm message, stamped with the sender's fencing clock.
    Send { clock: u64, msg: M },
    /// Test hook: drop the connection now.
    Cut,
}

/// Why a connection ended.
enum Ended {
    /// The driver is gone.
    Stop,
    /// The test hook cut it.
    Cut,
    /// It broke or the peer misbehaved.
    Lost(String),
}

type Conn = Framed<TcpStream, LengthDelimitedCodec>;

pub(crate) struct Link<M> {
    peer: NodeId,
    shared: Arc<Shared>,
    rx: mpsc::UnboundedReceiver<LinkCmd<M>>,
    /// The sequence number of the next `Data` frame.
    next_seq: u64,
    /// Sent (or to be sent) and not acknowledged, oldest first, already encoded.
    unacked: VecDeque<(u64, Bytes)>,
    /// The highest sequence number written to some connection.
    written_upto: u64,
    /// Whether a connection was ever established (the next one is a reconnection).
    was_up: bool,
}

impl<M: Message + Send + 'static> Link<M> {
    pub fn new(peer: NodeId, shared: Arc<Shared>, rx: mpsc::UnboundedReceiver<LinkCmd<M>>) -> Self {
        Link {
            peer,
            shared,
            rx,
            next_seq: 1,
            unacked: VecDeque::new(),
            written_upto: 0,
            was_up: false,
        }
    }

    pub async fn run(mut self) {
        let cfg = self.shared.config.clone();
        let mut backoff = cfg.reconnect_initial;
        loop {
            match self.connect().await {
                Ok(conn) => {
                    backoff = cfg.reconnect_initial;
                    self.set_up(true);
                    info!(peer = %self.peer, unacked = self.unacked.len(), "outgoing connection up");
                    let ended = self.serve(conn).await;
                    self.set_up(false);
                    match ended {
                        Ended::Stop => return,
                        Ended::Cut => {
                            info!(peer = %self.peer, "outgoing connection cut (test hook)")
                        }
                        Ended::Lost(why) => {
                            info!(peer = %self.peer, reason = %why, "outgoing connection lost")
                        }
                    }
                }
                Err(why) => {
                    debug!(peer = %self.peer, reason = %why, retry_in = ?backoff, "dialling failed");
                }
            }
            // Wait before redialling, keeping new messages meanwhile.
            let deadline = Instant::now() + backoff;
            backoff = (backoff * 2).min(cfg.reconnect_max);
            loop {
                tokio::select! {
                    _ = sleep_until(deadline) => break,
                    cmd = self.rx.recv() => match cmd {
                        None => return,
                        Some(LinkCmd::Send { clock, msg }) => {
                            self.enqueue(clock, msg);
                        }
                        Some(LinkCmd::Cut) => {}
                    },
                }
            }
        }
    }

    fn set_up(&self, up: bool) {
        if let Some(p) = self.shared.peers.get(&self.peer) {
            p.outgoing_up.store(up, Ordering::Relaxed);
        }
    }

    fn set_unacked(&self) {
        if let Some(p) = self.shared.peers.get(&self.peer) {
            p.unacked.store(self.unacked.len(), Ordering::Relaxed);
        }
    }

    /// Encodes the next `Data` frame and keeps it until acknowledged.
    fn enqueue(&mut self, clock: u64, msg: M) -> Option<Bytes> {
        let seq = self.next_seq;
        let kind = msg.kind();
        match encode_checked(
            &Frame::Data { seq, clock, msg },
            self.shared.config.max_frame_len,
        ) {
            Ok(bytes) => {
                self.next_seq += 1;
                self.unacked.push_back((seq, bytes.clone()));
                self.set_unacked();
                Some(bytes)
            }
            Err(e) => {
                error!(peer = %self.peer, kind, error = %e, "cannot encode a message; it is dropped (raise max_frame_len)");
                None
            }
        }
    }

    /// Drops every frame the peer has acknowledged.
    fn acked(&mut self, seq: u64) -> Result<(), String> {
        if seq >= self.next_seq {
            return Err(format!(
                "acknowledgement of frame {seq}, but only {} were sent",
                self.next_seq - 1
            ));
        }
        while self.unacked.front().is_some_and(|(s, _)| *s <= seq) {
            self.unacked.pop_front();
        }
        self.set_unacked();
        Ok(())
    }

    /// Dials, says hello, waits for the first acknowledgement and resends what is unacked.
    async fn connect(&mut self) -> Result<Conn, String> {
        let cfg = &self.shared.config;
        let addr = self
            .shared
            .peers
            .get(&self.peer)
            .map(|p| p.addr)
            .ok_or("unknown peer")?;
        let stream = timeout(cfg.connect_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| format!("connect to {addr} timed out"))?
            .map_err(|e| format!("connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let mut conn = Framed::new(stream, codec(cfg.max_frame_len));
        let hello = encode_checked(
            &Frame::<M>::Hello {
                from: self.shared.me,
                to: self.peer,
                incarnation: self.shared.incarnation,
            },
            cfg.max_frame_len,
        )
        .map_err(|e| e.to_string())?;
        conn.send(hello).await.map_err(|e| e.to_string())?;
        let first = timeout(cfg.handshake_timeout, conn.next())
            .await
            .map_err(|_| "no acknowledgement of our hello".to_string())?;
        match first {
            None => return Err("closed during the handshake (refused?)".into()),
            Some(Err(e)) => return Err(e.to_string()),
            Some(Ok(bytes)) => match decode_frame::<M>(&bytes) {
                Ok(Frame::Ack { seq }) => self.acked(seq)?,
                Ok(_) => return Err("expected an Ack in answer to our Hello".into()),
                Err(e) => return Err(e.to_string()),
            },
        }
        // Counted before resending, so that whoever receives a resent frame sees the counters.
        if self.was_up {
            self.shared.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        self.was_up = true;
        let resent = self
            .unacked
            .iter()
            .filter(|(s, _)| *s <= self.written_upto)
            .count() as u64;
        if resent > 0 {
            self.shared
                .frames_retransmitted
                .fetch_add(resent, Ordering::Relaxed);
            info!(peer = %self.peer, frames = resent, "retransmitting unacknowledged frames");
        }
        for (_, bytes) in &self.unacked {
            conn.feed(bytes.clone()).await.map_err(|e| e.to_string())?;
        }
        SinkExt::<Bytes>::flush(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        if let Some((last, _)) = self.unacked.back() {
            self.written_upto = self.written_upto.max(*last);
        }
        Ok(conn)
    }

    /// Sends new messages and takes acknowledgements until the connection ends.
    async fn serve(&mut self, mut conn: Conn) -> Ended {
        loop {
            tokio::select! {
                cmd = self.rx.recv() => match cmd {
                    None => return Ended::Stop,
                    Some(LinkCmd::Cut) => return Ended::Cut,
                    Some(LinkCmd::Send { clock, msg }) => {
                        if let Some(bytes) = self.enqueue(clock, msg) {
                            if let Err(e) = conn.send(bytes).await {
                                return Ended::Lost(e.to_string());
                            }
                            self.written_upto = self.next_seq - 1;
                        }
                    }
                },
                frame = conn.next() => match frame {
                    None => return Ended::Lost("closed by the peer".into()),
                    Some(Err(e)) => {
                        warn!(peer = %self.peer, error = %e, "bad frame from peer on our connection; closing it");
                        return Ended::Lost(e.to_string());
                    }
                    Some(Ok(bytes)) => match decode_frame::<M>(&bytes) {
                        Ok(Frame::Ack { seq }) => {
                            if let Err(why) = self.acked(seq) {
                                warn!(peer = %self.peer, reason = %why, "protocol violation; closing the connection");
                                return Ended::Lost(why);
                            }
                        }
                        Ok(_) => {
                            warn!(peer = %self.peer, "peer sent something other than an Ack on our connection; closing it");
                            return Ended::Lost("unexpected frame".into());
                        }
                        Err(e) => {
                            warn!(peer = %self.peer, error = %e, "rejected frame; closing the connection");
                            return Ended::Lost(e.to_string());
                        }
                    },
                },
            }
        }
    }
}
