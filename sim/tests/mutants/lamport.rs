//! Lamport's 1978 algorithm, copied compactly from `crates/lamport` (the classic form) with a
//! switch for each bug. With `bug: None` it is the real algorithm (checked by
//! `the_copies_are_faithful`).

use std::collections::BTreeSet;

use dme_core::{Error, Node, NodeId, Outbox, Phase, Stamp};
use dme_lamport::LamportMessage;

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// Rule 5(ii) weakened: enters once *some* peer (not every peer) has sent a message
    /// timestamped later than the request. Identical to the real rule at N = 2.
    EntersWithoutHearingFromEveryone,
    /// Rule 5(i) dropped: enters without its request heading the queue.
    IgnoresQueueHead,
    /// Rule 4 dropped: a RELEASE does not remove the releaser's request from the queue.
    KeepsReleasedRequests,
}

/// One process: the paper's variables, per-peer timestamps indexed by node id.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Lamport {
    me: NodeId,
    n: usize,
    bug: Option<Bug>,
    clock: u64,
    request_queue: BTreeSet<Stamp>,
    our_request: Option<Stamp>,
    phase: Phase,
    latest_timestamp_received: Vec<u64>,
}

/// The cluster `0..n`.
pub fn cluster(n: usize, bug: Option<Bug>) -> Vec<Lamport> {
    (0..n)
        .map(|i| Lamport {
            me: NodeId(i as u32),
            n,
            bug,
            clock: 0,
            request_queue: BTreeSet::new(),
            our_request: None,
            phase: Phase::Idle,
            latest_timestamp_received: vec![0; n],
        })
        .collect()
}

impl Lamport {
    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let me = self.me;
        (0..self.n as u32).map(NodeId).filter(move |&p| p != me)
    }

    fn heard_later(&self, peer: NodeId, ours: Stamp) -> bool {
        Stamp::new(self.latest_timestamp_received[peer.index()], peer) > ours
    }

    /// Rule 5.
    fn try_enter(&mut self, out: &mut Outbox<LamportMessage>) {
        let (Phase::Requesting, Some(ours)) = (self.phase, self.our_request) else {
            return;
        };
        let heads_queue = self.request_queue.first() == Some(&ours);
        let mut peers = self.peers();
        let heard = match self.bug {
            Some(Bug::EntersWithoutHearingFromEveryone) => peers.any(|p| self.heard_later(p, ours)),
            _ => peers.all(|p| self.heard_later(p, ours)),
        };
        if (heads_queue || self.bug == Some(Bug::IgnoresQueueHead)) && heard {
            self.phase = Phase::InCriticalSection;
            out.enter();
        }
    }
}

impl Node for Lamport {
    type Message = LamportMessage;
    const GRANTS_IN_STAMP_ORDER: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<LamportMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        self.clock += 1;
        let ours = Stamp::new(self.clock, self.me);
        self.request_queue.insert(ours);
        self.our_request = Some(ours);
        self.phase = Phase::Requesting;
        for peer in self.peers() {
            out.send(
                peer,
                LamportMessage::Request {
                    timestamp: self.clock,
                },
            );
        }
        self.try_enter(out);
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<LamportMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        if let Some(ours) = self.our_request.take() {
            self.request_queue.remove(&ours);
        }
        self.phase = Phase::Idle;
        self.clock += 1;
        for peer in self.peers() {
            out.send(
                peer,
                LamportMessage::Release {
                    timestamp: self.clock,
                },
            );
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: LamportMessage,
        out: &mut Outbox<LamportMessage>,
    ) -> Result<(), Error> {
        if from == self.me || from.index() >= self.n {
            return Err(Error::NotAMember(from));
        }
        let timestamp = msg.stamp_value();
        self.clock = self.clock.max(timestamp) + 1;
        let latest = &mut self.latest_timestamp_received[from.index()];
        *latest = (*latest).max(timestamp);
        match msg {
            LamportMessage::Request { timestamp } => {
                self.request_queue.insert(Stamp::new(timestamp, from));
                out.send(
                    from,
                    LamportMessage::Reply {
                        timestamp: self.clock,
                    },
                );
            }
            LamportMessage::Reply { .. } => {}
            LamportMessage::Release { .. } => {
                if self.bug != Some(Bug::KeepsReleasedRequests) {
                    self.request_queue.retain(|s| s.node != from);
                }
            }
        }
        self.try_enter(out);
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        let (Phase::Requesting, Some(ours)) = (self.phase, self.our_request) else {
            return Vec::new();
        };
        let mut waits: Vec<NodeId> = self
            .peers()
            .filter(|&p| !self.heard_later(p, ours))
            .collect();
        waits.extend(self.request_queue.range(..ours).map(|s| s.node));
        waits.sort_unstable();
        waits.dedup();
        waits
    }

    fn request_stamp(&self) -> Option<Stamp> {
        self.our_request
    }
}
