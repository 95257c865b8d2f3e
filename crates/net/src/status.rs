//! What [`Handle::status`](crate::Handle::status) reports.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use dme_core::{NodeId, Phase, Stamp};
use dme_link::Refusal;

use crate::config::list;

/// One peer as seen by [`Handle::status`](crate::Handle::status).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PeerStatus {
    /// The peer.
    pub id: NodeId,
    /// Where this node dials it.
    pub addr: SocketAddr,
    /// Whether this node's outgoing connection to it is up (handshake done).
    pub outgoing: bool,
    /// Whether its connection to this node is up (handshake done).
    pub incoming: bool,
    /// Messages to it that it has not acknowledged yet (kept for retransmission).
    pub unacked: usize,
    /// Whether it refuses this node (it told us why) since the last successful handshake.
    pub refuses_us: Option<Refusal>,
    /// The pause before the next redial should the outgoing connection fail now: it doubles
    /// after every failed or refused attempt, up to `Config::reconnect_max`.
    pub backoff: Duration,
}

/// A snapshot of one driver: the node's phase, whom it waits for, connections and counters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Where the node stands ([`Node::phase`](dme_core::Node::phase)).
    pub phase: Phase,
    /// The nodes it waits for before it can enter ([`Node::waiting_for`](dme_core::Node::waiting_for)).
    pub waiting_for: Vec<NodeId>,
    /// For arbiter-based algorithms, the requester this node has lent its permission to.
    pub locked_for: Option<NodeId>,
    /// The stamp of the outstanding request, for timestamp-based algorithms.
    pub request_stamp: Option<Stamp>,
    /// Whether this node holds the token (token-based algorithms).
    pub holds_token: bool,
    /// Every peer, by id.
    pub peers: Vec<PeerStatus>,
    /// Peers with both connections up.
    pub connected: Vec<NodeId>,
    /// Peers with at least one connection down.
    pub disconnected: Vec<NodeId>,
    /// Critical-section entries granted to this node so far (abandoned ones included).
    pub entries: u64,
    /// Entries granted to a request whose caller had given up, released at once.
    pub abandoned: u64,
    /// Local `lock` calls waiting (including the one whose request is outstanding).
    pub local_waiters: usize,
    /// The fencing clock: the highest fencing token seen or issued.
    pub fence: u64,
    /// Algorithm messages sent (each counted once, however often it was retransmitted).
    pub messages_sent: u64,
    /// `messages_sent` by [`Message::kind`](dme_core::Message::kind).
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Algorithm messages delivered to the node (after de-duplication).
    pub messages_received: u64,
    /// Frames sent again on a new connection because the old one died before acknowledging.
    pub frames_retransmitted: u64,
    /// Frames received twice (after a retransmission) and dropped.
    pub duplicates_dropped: u64,
    /// Outgoing connections re-established after a loss.
    pub reconnects: u64,
    /// Connections closed because of bad input (garbage, oversized or truncated frames, wrong
    /// version, bad handshake, protocol violations).
    pub rejected_connections: u64,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.phase)?;
        if self.phase == Phase::Requesting {
            write!(f, ", waiting for {}", list(&self.waiting_for))?;
        }
        if let Some(stamp) = self.request_stamp {
            write!(f, ", stamp {stamp}")?;
        }
        if let Some(r) = self.locked_for {
            write!(f, ", locked for {r}")?;
        }
        if self.holds_token {
            f.write_str(", holds the token")?;
        }
        write!(
            f,
            "; connected: {}; disconnected: {}; entries {}, messages sent {}",
            list(&self.connected),
            list(&self.disconnected),
            self.entries,
            self.messages_sent
        )?;
        for (kind, n) in &self.messages_by_kind {
            write!(f, " {kind}={n}")?;
        }
        for p in &self.peers {
            if let Some(reason) = p.refuses_us {
                write!(
                    f,
                    "; {} refuses us: {reason} (redial backoff {:?})",
                    p.id, p.backoff
                )?;
            }
        }
        Ok(())
    }
}
