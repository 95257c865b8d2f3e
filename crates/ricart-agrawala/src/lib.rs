//! Ricart and Agrawala's distributed mutual exclusion algorithm (CACM 24(1), 1981).
//!
//! **What it does.** A node that wants the critical section increments its Lamport clock
//! (`our_sequence_number = highest_sequence_number + 1`) and sends a REQUEST carrying that
//! sequence number to every other node. It enters once every other node has sent a REPLY. A node
//! receiving a REQUEST replies at once unless it is itself requesting or in the critical section
//! with a request of higher priority — smaller `(sequence number, node id)` — in which case the
//! REPLY is deferred (`reply_deferred[j]`) until it leaves the critical section. Priorities are
//! the [`Stamp`]s `(sequence number, id)`, so concurrent requests are granted in stamp order.
//!
//! **What it assumes.** Reliable channels: every message is delivered exactly once. FIFO order is
//! *not* required (each pair exchanges at most one REQUEST and one REPLY per request). No node
//! crashes.
//!
//! **What it costs.** 2(N−1) messages per critical-section entry, at light and at heavy load:
//! N−1 REQUESTs and N−1 REPLYs. Synchronization delay T (one message delay: the leaving node's
//! deferred REPLY), waiting time 2T at light load, response time 2T + E.
//!
//! ```
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//! use dme_ricart_agrawala::RicartAgrawala;
//!
//! let members = cluster(2);
//! let mut a = RicartAgrawala::new(NodeId(0), &members).unwrap();
//! let mut b = RicartAgrawala::new(NodeId(1), &members).unwrap();
//! let mut out = Outbox::new();
//!
//! a.request(&mut out).unwrap();
//! let Some(Effect::Send { msg, .. }) = out.drain().next() else { unreachable!() };
//! b.on_message(NodeId(0), msg, &mut out).unwrap(); // b is idle: it replies at once
//! let Some(Effect::Send { msg, .. }) = out.drain().next() else { unreachable!() };
//! a.on_message(NodeId(1), msg, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! a.release(&mut out).unwrap();
//! ```

pub mod describe;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, Stamp, validate_members};
use serde::{Deserialize, Serialize};

/// The two messages of the algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RaMessage {
    /// "I want the critical section; my sequence number is …".
    Request {
        /// The requester's `our_sequence_number`.
        sequence_number: u64,
    },
    /// Permission to enter, sent at once or after leaving the critical section (deferred).
    Reply,
}

impl Message for RaMessage {
    fn kind(&self) -> &'static str {
        match self {
            RaMessage::Request { .. } => "REQUEST",
            RaMessage::Reply => "REPLY",
        }
    }

    fn timestamp(&self) -> Option<u64> {
        match self {
            RaMessage::Request { sequence_number } => Some(*sequence_number),
            RaMessage::Reply => None,
        }
    }
}

/// One Ricart–Agrawala node. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RicartAgrawala {
    me: NodeId,
    /// The other members, sorted; per-peer flags below are indexed like this list.
    peers: Vec<NodeId>,
    our_sequence_number: u64,
    highest_sequence_number: u64,
    outstanding_reply_count: usize,
    phase: Phase,
    /// `awaiting_reply[k]`: no REPLY yet from `peers[k]` for the current request.
    awaiting_reply: Vec<bool>,
    /// `reply_deferred[k]`: a REPLY to `peers[k]` is owed when we leave the critical section.
    reply_deferred: Vec<bool>,
}

impl RicartAgrawala {
    /// Node `me` of the cluster `members` (which includes `me`).
    pub fn new(me: NodeId, members: &[NodeId]) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut peers: Vec<NodeId> = members.iter().copied().filter(|&m| m != me).collect();
        peers.sort_unstable();
        let n = peers.len();
        Ok(RicartAgrawala {
            me,
            peers,
            our_sequence_number: 0,
            highest_sequence_number: 0,
            outstanding_reply_count: 0,
            phase: Phase::Idle,
            awaiting_reply: vec![false; n],
            reply_deferred: vec![false; n],
        })
    }

    /// The node's Lamport clock: the highest sequence number seen so far.
    pub fn highest_sequence_number(&self) -> u64 {
        self.highest_sequence_number
    }

    fn peer_index(&self, from: NodeId) -> Result<usize, Error> {
        self.peers
            .binary_search(&from)
            .map_err(|_| Error::NotAMember(from))
    }

    fn our_stamp(&self) -> Stamp {
        Stamp::new(self.our_sequence_number, self.me)
    }
}

impl Node for RicartAgrawala {
    type Message = RaMessage;
    const GRANTS_IN_STAMP_ORDER: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<RaMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        self.our_sequence_number = self.highest_sequence_number + 1;
        self.highest_sequence_number = self.our_sequence_number;
        self.phase = Phase::Requesting;
        self.outstanding_reply_count = self.peers.len();
        self.awaiting_reply.fill(true);
        let msg = RaMessage::Request {
            sequence_number: self.our_sequence_number,
        };
        for &peer in &self.peers {
            out.send(peer, msg);
        }
        if self.outstanding_reply_count == 0 {
            self.phase = Phase::InCriticalSection;
            out.enter();
        }
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<RaMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        self.phase = Phase::Idle;
        for (k, deferred) in self.reply_deferred.iter_mut().enumerate() {
            if std::mem::take(deferred) {
                out.send(self.peers[k], RaMessage::Reply);
            }
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RaMessage,
        out: &mut Outbox<RaMessage>,
    ) -> Result<(), Error> {
        let k = self.peer_index(from)?;
        match msg {
            RaMessage::Request { sequence_number } => {
                if self.reply_deferred[k] {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a second REQUEST before our REPLY to the first".into(),
                    });
                }
                self.highest_sequence_number = self.highest_sequence_number.max(sequence_number);
                let defer = self.phase != Phase::Idle
                    && self.our_stamp() < Stamp::new(sequence_number, from);
                if defer {
                    self.reply_deferred[k] = true;
                } else {
                    out.send(from, RaMessage::Reply);
                }
            }
            RaMessage::Reply => {
                if self.phase != Phase::Requesting || !self.awaiting_reply[k] {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a REPLY we were not waiting for".into(),
                    });
                }
                self.awaiting_reply[k] = false;
                self.outstanding_reply_count -= 1;
                if self.outstanding_reply_count == 0 {
                    self.phase = Phase::InCriticalSection;
                    out.enter();
                }
            }
        }
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        if self.phase != Phase::Requesting {
            return Vec::new();
        }
        self.peers
            .iter()
            .zip(&self.awaiting_reply)
            .filter(|(_, waiting)| **waiting)
            .map(|(p, _)| *p)
            .collect()
    }

    fn request_stamp(&self) -> Option<Stamp> {
        (self.phase != Phase::Idle).then(|| self.our_stamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_core::{Effect, cluster};

    fn sends(out: &mut Outbox<RaMessage>) -> Vec<(NodeId, RaMessage)> {
        out.drain()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((to, msg)),
                Effect::Enter => None,
            })
            .collect()
    }

    #[test]
    fn single_node_enters_at_once() {
        let mut a = RicartAgrawala::new(NodeId(0), &cluster(1)).unwrap();
        let mut out = Outbox::new();
        a.request(&mut out).unwrap();
        assert_eq!(out.effects(), &[Effect::Enter]);
        assert_eq!(a.phase(), Phase::InCriticalSection);
    }

    #[test]
    fn misuse_is_an_error_and_changes_nothing() {
        let mut a = RicartAgrawala::new(NodeId(0), &cluster(3)).unwrap();
        let mut out = Outbox::new();
        assert_eq!(a.release(&mut out), Err(Error::NotInCriticalSection));
        a.request(&mut out).unwrap();
        let before = a.clone();
        out.clear();
        assert_eq!(a.request(&mut out), Err(Error::AlreadyRequesting));
        assert_eq!(
            a.on_message(NodeId(7), RaMessage::Reply, &mut out),
            Err(Error::NotAMember(NodeId(7)))
        );
        assert_eq!(
            a.on_message(NodeId(0), RaMessage::Reply, &mut out),
            Err(Error::NotAMember(NodeId(0)))
        );
        assert_eq!(a, before);
        assert!(out.is_empty());
        assert!(RicartAgrawala::new(NodeId(3), &cluster(3)).is_err());
    }

    #[test]
    fn lower_stamp_wins_and_deferred_reply_is_sent_on_release() {
        let members = cluster(2);
        let mut a = RicartAgrawala::new(NodeId(0), &members).unwrap();
        let mut b = RicartAgrawala::new(NodeId(1), &members).unwrap();
        let mut out = Outbox::new();
        a.request(&mut out).unwrap();
        let to_b = sends(&mut out);
        b.request(&mut out).unwrap();
        let to_a = sends(&mut out);
        // Equal sequence numbers (1, n0) < (1, n1): b must reply, a must defer.
        b.on_message(NodeId(0), to_b[0].1, &mut out).unwrap();
        let reply = sends(&mut out);
        assert_eq!(reply, vec![(NodeId(0), RaMessage::Reply)]);
        a.on_message(NodeId(1), to_a[0].1, &mut out).unwrap();
        assert!(out.is_empty(), "a defers its reply");
        assert_eq!(a.waiting_for(), vec![NodeId(1)]);
        a.on_message(NodeId(1), RaMessage::Reply, &mut out).unwrap();
        assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
        a.release(&mut out).unwrap();
        assert_eq!(sends(&mut out), vec![(NodeId(1), RaMessage::Reply)]);
        b.on_message(NodeId(0), RaMessage::Reply, &mut out).unwrap();
        assert_eq!(b.phase(), Phase::InCriticalSection);
    }
}
