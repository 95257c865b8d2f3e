//! Lamport's distributed mutual exclusion algorithm ("Time, Clocks, and the Ordering of Events
//! in a Distributed System", CACM 21(7), 1978), in its textbook form.
//!
//! **What it does.** Every process keeps a Lamport clock and a `request_queue` of
//! "`Tm:Pi` requests resource" messages, ordered by the total order ⇒ on (timestamp, process
//! id) — the [`Stamp`]s. The paper's five rules:
//!
//! 1. To request the resource, `Pi` puts `Tm:Pi` on its own `request_queue` and sends the
//!    REQUEST to every other process.
//! 2. A process receiving a REQUEST puts it on its `request_queue` and sends a timestamped
//!    acknowledgement, here called REPLY.
//! 3. To release the resource, `Pi` removes its request from its queue and sends a timestamped
//!    RELEASE to every other process.
//! 4. A process receiving `Pi`'s RELEASE removes any request of `Pi` from its queue.
//! 5. `Pi` is granted the resource when (i) its own request is ordered before every other
//!    request in its queue and (ii) it has received a message from every other process
//!    timestamped later than its request.
//!
//! "Later" compares stamps, so a process's message `(t, Pk)` is later than the request
//! `(Tm, Pi)` when `t > Tm`, or `t = Tm` and `Pk > Pi`. The clock follows the paper's
//! implementation rules: it ticks before each local request or release, and on receipt of a
//! message timestamped `t` it becomes `max(clock, t) + 1` — so every REPLY carries a timestamp
//! later than the REQUEST it acknowledges. Concurrent requests are granted in stamp order.
//!
//! **What it assumes.** Reliable channels that are **FIFO** per ordered pair of processes, and
//! no crashes. Condition (ii) is only a proof that `Pk` has no earlier request pending *because*
//! of FIFO: a later-stamped message from `Pk` can only have been sent after any earlier REQUEST
//! of `Pk`, so under FIFO that REQUEST has already been received and queued. Without FIFO the
//! algorithm breaks, and the simulator finds it:
//!
//! * *a REPLY overtakes a REQUEST*: `Pk` requests at `(3, Pk)`, then acknowledges `Pi`'s request
//!   `(5, Pi)` with a REPLY timestamped 6. If the REPLY reaches `Pi` before `Pk`'s REQUEST, `Pi`
//!   sees its own request at the head of its queue and a later message from `Pk`, and enters —
//!   while `Pk`, whose request is older, enters too;
//! * *a RELEASE is overtaken by the next REQUEST*: `Pk` leaves, sends RELEASE, then requests
//!   again. If the new REQUEST arrives first, the late RELEASE removes *both* of `Pk`'s requests
//!   (rule 4), and `Pi` no longer knows that `Pk` waits.
//!
//! This crate implements the rules as written, with no defence against reordering: it does not
//! reject a second REQUEST from the same process or a RELEASE without a request, which FIFO
//! channels never produce.
//!
//! **What it costs.** 3(N−1) messages per critical-section entry, at light and at heavy load:
//! N−1 REQUESTs, N−1 REPLYs and N−1 RELEASEs. Synchronization delay T (the RELEASE of the
//! leaving process); waiting time 2T and response time 2T + E at light load (REQUEST out,
//! REPLY back).
//!
//! **Reply suppression.** [`Lamport::with_reply_suppression`] builds the well-known variant in
//! which a process that receives `Pj`'s REQUEST does not acknowledge it when its own outstanding
//! REQUEST, already sent to `Pj`, carries a later stamp: that REQUEST is itself the later message
//! `Pj` needs for condition (ii). (The paper allows more: no acknowledgement is needed when *any*
//! later-stamped message was already sent; the variant here is the one textbooks describe.) It
//! saves REPLYs only between requests that are concurrent *and* reach each other out of stamp
//! order, so the saving is small. Measured in the simulator (`sim/tests/lamport.rs`):
//!
//! * light load: exactly 3(N−1), as nothing else is outstanding when a REQUEST arrives;
//! * heavy load, constant delay: exactly 3(N−1)·entries − N(N−1)/2 messages. Only the first
//!   round saves (everyone asks at once; of each pair the later stamp skips its REPLY); after
//!   that a node re-requesting on exit holds the latest stamp and every peer acknowledges it.
//!   With 5 requests per node: 2.9, 5.8, 11.6, 20.3, 43.5, 92.8 messages per entry for
//!   N = 2, 3, 5, 8, 16, 33 (classic: 3, 6, 12, 21, 45, 96);
//! * heavy load, uniform delays 1..20, N = 8: 20.12 per entry on average over 50 seeds
//!   (classic: 21). The synchronization delay stays T.
//!
//! ```
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//! use dme_lamport::{Lamport, LamportMessage};
//!
//! let members = cluster(2);
//! let mut a = Lamport::new(NodeId(0), &members).unwrap();
//! let mut b = Lamport::new(NodeId(1), &members).unwrap();
//! let mut out = Outbox::new();
//!
//! a.request(&mut out).unwrap(); // REQUEST (1, n0) to n1
//! let Some(Effect::Send { msg, .. }) = out.drain().next() else { unreachable!() };
//! b.on_message(NodeId(0), msg, &mut out).unwrap(); // queued and acknowledged
//! let Some(Effect::Send { msg, .. }) = out.drain().next() else { unreachable!() };
//! assert_eq!(msg, LamportMessage::Reply { timestamp: 2 });
//! a.on_message(NodeId(1), msg, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! a.release(&mut out).unwrap(); // RELEASE to n1
//! ```

pub mod describe;

use std::collections::BTreeSet;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, Stamp, validate_members};
use serde::{Deserialize, Serialize};

/// The three messages of the algorithm, each timestamped with the sender's Lamport clock.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum LamportMessage {
    /// "`Tm:Pi` requests resource".
    Request {
        /// `Tm`, the requester's clock when it asked.
        timestamp: u64,
    },
    /// The acknowledgement of a REQUEST.
    Reply {
        /// The acknowledger's clock, later than the acknowledged request's.
        timestamp: u64,
    },
    /// "`Pi` releases resource".
    Release {
        /// The releaser's clock when it left the critical section.
        timestamp: u64,
    },
}

impl LamportMessage {
    /// The sender's Lamport timestamp.
    pub fn stamp_value(&self) -> u64 {
        match *self {
            LamportMessage::Request { timestamp }
            | LamportMessage::Reply { timestamp }
            | LamportMessage::Release { timestamp } => timestamp,
        }
    }
}

impl Message for LamportMessage {
    fn kind(&self) -> &'static str {
        match self {
            LamportMessage::Request { .. } => "REQUEST",
            LamportMessage::Reply { .. } => "REPLY",
            LamportMessage::Release { .. } => "RELEASE",
        }
    }

    fn timestamp(&self) -> Option<u64> {
        Some(self.stamp_value())
    }
}

/// One process of Lamport's algorithm. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Lamport {
    me: NodeId,
    /// The other members, sorted; per-peer vectors below are indexed like this list.
    peers: Vec<NodeId>,
    /// Skip the REPLY to a REQUEST stamped earlier than our own outstanding REQUEST.
    suppress_replies: bool,
    /// The Lamport clock.
    clock: u64,
    /// Every request this process knows of, its own included, in ⇒ order.
    request_queue: BTreeSet<Stamp>,
    /// The stamp of our own request, while requesting or in the critical section.
    our_request: Option<Stamp>,
    phase: Phase,
    /// `latest_timestamp_received[k]`: the largest timestamp of any message received from
    /// `peers[k]` (0: none yet; every real timestamp is at least 1).
    latest_timestamp_received: Vec<u64>,
    /// `queued[k]`: the requests of `peers[k]` now in `request_queue`, so that a RELEASE
    /// removes them without scanning the whole queue (derived from `request_queue`; kept for
    /// speed: a RELEASE costs O(log N) instead of O(N)).
    queued: Vec<Vec<Stamp>>,
    /// While requesting: how many peers have not yet sent a message stamped later than our
    /// request (rule 5 (ii) holds when it is 0). Derived from `latest_timestamp_received`;
    /// kept so that checking rule 5 costs O(1) instead of O(N) per message.
    unheard: usize,
}

impl Lamport {
    /// Process `me` of the cluster `members` (which includes `me`), running the classic
    /// algorithm: every REQUEST is acknowledged.
    pub fn new(me: NodeId, members: &[NodeId]) -> Result<Self, Error> {
        Self::build(me, members, false)
    }

    /// Process `me` of the cluster `members`, with the reply-suppression optimisation: a
    /// REQUEST stamped earlier than our own outstanding REQUEST (which its sender will receive,
    /// and which is later) is queued but not acknowledged.
    pub fn with_reply_suppression(me: NodeId, members: &[NodeId]) -> Result<Self, Error> {
        Self::build(me, members, true)
    }

    fn build(me: NodeId, members: &[NodeId], suppress_replies: bool) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut peers: Vec<NodeId> = members.iter().copied().filter(|&m| m != me).collect();
        peers.sort_unstable();
        let n = peers.len();
        Ok(Lamport {
            me,
            peers,
            suppress_replies,
            clock: 0,
            request_queue: BTreeSet::new(),
            our_request: None,
            phase: Phase::Idle,
            latest_timestamp_received: vec![0; n],
            queued: vec![Vec::new(); n],
            unheard: 0,
        })
    }

    /// Whether this process runs the reply-suppression variant.
    pub fn suppresses_replies(&self) -> bool {
        self.suppress_replies
    }

    /// The process's Lamport clock.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// The request queue, in ⇒ order (smallest stamp first), own request included.
    pub fn request_queue(&self) -> impl Iterator<Item = Stamp> + '_ {
        self.request_queue.iter().copied()
    }

    fn peer_index(&self, from: NodeId) -> Result<usize, Error> {
        self.peers
            .binary_search(&from)
            .map_err(|_| Error::NotAMember(from))
    }

    /// Ticks the clock for a local event and returns the new value.
    fn tick(&mut self) -> u64 {
        self.clock = self.clock.saturating_add(1);
        self.clock
    }

    /// Whether `peers[k]` has sent a message timestamped later than `ours`.
    fn heard_later(&self, k: usize, ours: Stamp) -> bool {
        Stamp::new(self.latest_timestamp_received[k], self.peers[k]) > ours
    }

    /// Rule 5: enter when our request heads the queue and every peer has sent a later message.
    fn try_enter(&mut self, out: &mut Outbox<LamportMessage>) {
        let Some(ours) = self.our_request else {
            return;
        };
        if self.phase != Phase::Requesting {
            return;
        }
        let heads_queue = self.request_queue.first() == Some(&ours);
        if heads_queue && self.unheard == 0 {
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
        let timestamp = self.tick();
        let ours = Stamp::new(timestamp, self.me);
        self.request_queue.insert(ours);
        self.our_request = Some(ours);
        self.unheard = (0..self.peers.len())
            .filter(|&k| !self.heard_later(k, ours))
            .count();
        self.phase = Phase::Requesting;
        for &peer in &self.peers {
            out.send(peer, LamportMessage::Request { timestamp });
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
        let timestamp = self.tick();
        for &peer in &self.peers {
            out.send(peer, LamportMessage::Release { timestamp });
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: LamportMessage,
        out: &mut Outbox<LamportMessage>,
    ) -> Result<(), Error> {
        let k = self.peer_index(from)?;
        let timestamp = msg.stamp_value();
        self.clock = self.clock.max(timestamp).saturating_add(1);
        let before = self.our_request.map(|o| self.heard_later(k, o));
        self.latest_timestamp_received[k] = self.latest_timestamp_received[k].max(timestamp);
        if let (Some(false), Some(o)) = (before, self.our_request) {
            if self.heard_later(k, o) {
                self.unheard -= 1;
            }
        }
        match msg {
            LamportMessage::Request { timestamp } => {
                let theirs = Stamp::new(timestamp, from);
                self.request_queue.insert(theirs);
                self.queued[k].push(theirs);
                let suppressed =
                    self.suppress_replies && self.our_request.is_some_and(|ours| ours > theirs);
                if !suppressed {
                    out.send(
                        from,
                        LamportMessage::Reply {
                            timestamp: self.clock,
                        },
                    );
                }
            }
            LamportMessage::Reply { .. } => {}
            LamportMessage::Release { .. } => {
                // Rule 4: remove *any* request of the releaser. Under FIFO there is exactly one.
                for s in std::mem::take(&mut self.queued[k]) {
                    self.request_queue.remove(&s);
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
        let mut waits: Vec<NodeId> = (0..self.peers.len())
            .filter(|&k| !self.heard_later(k, ours))
            .map(|k| self.peers[k])
            .collect();
        waits.extend(
            self.request_queue
                .range(..ours)
                .map(|s| s.node)
                .filter(|&n| n != self.me),
        );
        waits.sort_unstable();
        waits.dedup();
        waits
    }

    fn request_stamp(&self) -> Option<Stamp> {
        self.our_request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_core::{Effect, cluster};

    type Sends = Vec<(NodeId, LamportMessage)>;

    /// Drains `out`: the sends, and whether an Enter was among the effects.
    fn drain(out: &mut Outbox<LamportMessage>) -> (Sends, bool) {
        let mut sends = Vec::new();
        let mut entered = false;
        for e in out.drain() {
            match e {
                Effect::Send { to, msg } => sends.push((to, msg)),
                Effect::Enter => entered = true,
            }
        }
        (sends, entered)
    }

    fn nodes(n: usize, suppress: bool) -> Vec<Lamport> {
        (0..n as u32)
            .map(|i| {
                if suppress {
                    Lamport::with_reply_suppression(NodeId(i), &cluster(n)).unwrap()
                } else {
                    Lamport::new(NodeId(i), &cluster(n)).unwrap()
                }
            })
            .collect()
    }

    /// Delivers every message in `pending` (FIFO overall, so FIFO per pair), collecting new sends,
    /// until nothing is in flight. Returns who entered, in order, and the messages delivered.
    fn settle(
        ns: &mut [Lamport],
        pending: &mut Vec<(NodeId, NodeId, LamportMessage)>,
    ) -> (Vec<NodeId>, usize) {
        let mut out = Outbox::new();
        let mut entered = Vec::new();
        let mut delivered = 0;
        while !pending.is_empty() {
            let (from, to, msg) = pending.remove(0);
            delivered += 1;
            ns[to.index()].on_message(from, msg, &mut out).unwrap();
            let (sends, e) = drain(&mut out);
            pending.extend(sends.into_iter().map(|(t, m)| (to, t, m)));
            if e {
                entered.push(to);
            }
        }
        (entered, delivered)
    }

    #[test]
    fn single_node_enters_at_once() {
        let mut a = Lamport::new(NodeId(0), &cluster(1)).unwrap();
        let mut out = Outbox::new();
        a.request(&mut out).unwrap();
        assert_eq!(out.effects(), &[Effect::Enter]);
        assert_eq!(a.phase(), Phase::InCriticalSection);
        assert_eq!(a.request_stamp(), Some(Stamp::new(1, NodeId(0))));
        out.clear();
        a.release(&mut out).unwrap();
        assert!(out.is_empty(), "nobody to tell");
        assert_eq!(a.request_queue().count(), 0);
        assert_eq!(a.request_stamp(), None);
    }

    #[test]
    fn misuse_is_an_error_and_changes_nothing() {
        let mut a = Lamport::new(NodeId(0), &cluster(3)).unwrap();
        let mut out = Outbox::new();
        assert_eq!(a.release(&mut out), Err(Error::NotInCriticalSection));
        a.request(&mut out).unwrap();
        out.clear();
        let before = a.clone();
        assert_eq!(a.request(&mut out), Err(Error::AlreadyRequesting));
        assert_eq!(a.release(&mut out), Err(Error::NotInCriticalSection));
        let reply = LamportMessage::Reply { timestamp: 9 };
        assert_eq!(
            a.on_message(NodeId(7), reply, &mut out),
            Err(Error::NotAMember(NodeId(7)))
        );
        assert_eq!(
            a.on_message(NodeId(0), reply, &mut out),
            Err(Error::NotAMember(NodeId(0)))
        );
        assert_eq!(a, before);
        assert!(out.is_empty());
        assert!(Lamport::new(NodeId(3), &cluster(3)).is_err());
        assert!(Lamport::with_reply_suppression(NodeId(0), &[]).is_err());
    }

    #[test]
    fn a_huge_peer_timestamp_saturates_instead_of_panicking() {
        let mut a = Lamport::new(NodeId(0), &cluster(2)).unwrap();
        let mut out = Outbox::new();
        let msg = LamportMessage::Request {
            timestamp: u64::MAX,
        };
        a.on_message(NodeId(1), msg, &mut out).unwrap();
        assert_eq!(a.clock(), u64::MAX);
        a.request(&mut out).unwrap();
    }

    #[test]
    fn one_entry_costs_three_times_n_minus_one_messages() {
        let mut ns = nodes(3, false);
        let mut out = Outbox::new();
        ns[1].request(&mut out).unwrap();
        let (sends, entered) = drain(&mut out);
        assert!(!entered);
        assert_eq!(ns[1].waiting_for(), vec![NodeId(0), NodeId(2)]);
        let mut pending: Vec<_> = sends.into_iter().map(|(t, m)| (NodeId(1), t, m)).collect();
        let (who, delivered) = settle(&mut ns, &mut pending);
        assert_eq!(who, vec![NodeId(1)]);
        assert_eq!(delivered, 4, "2 REQUESTs and 2 REPLYs");
        assert!(ns[1].waiting_for().is_empty());
        // Every process queued n1's request.
        for n in &ns {
            assert_eq!(
                n.request_queue().collect::<Vec<_>>(),
                vec![Stamp::new(1, NodeId(1))]
            );
        }
        ns[1].release(&mut out).unwrap();
        let (sends, _) = drain(&mut out);
        assert!(
            sends
                .iter()
                .all(|(_, m)| matches!(m, LamportMessage::Release { .. }))
        );
        let mut pending: Vec<_> = sends.into_iter().map(|(t, m)| (NodeId(1), t, m)).collect();
        let (who, delivered) = settle(&mut ns, &mut pending);
        assert!(who.is_empty());
        assert_eq!(delivered, 2, "2 RELEASEs: 6 = 3(N−1) in all");
        assert!(ns.iter().all(|n| n.request_queue().count() == 0));
    }

    #[test]
    fn concurrent_requests_are_granted_in_stamp_order() {
        for suppress in [false, true] {
            let mut ns = nodes(3, suppress);
            let mut out = Outbox::new();
            let mut pending = Vec::new();
            // n2 then n0 ask before hearing from anyone: equal clocks, (1, n0) < (1, n2).
            for i in [2usize, 0] {
                ns[i].request(&mut out).unwrap();
                let (sends, entered) = drain(&mut out);
                assert!(!entered);
                pending.extend(sends.into_iter().map(|(t, m)| (NodeId(i as u32), t, m)));
            }
            let (who, delivered) = settle(&mut ns, &mut pending);
            assert_eq!(who, vec![NodeId(0)], "suppress={suppress}");
            // n2's request waits behind n0's.
            assert_eq!(ns[2].waiting_for(), vec![NodeId(0)]);
            // Suppression: n2 does not acknowledge n0's earlier request.
            assert_eq!(
                delivered,
                if suppress { 7 } else { 8 },
                "suppress={suppress}"
            );
            ns[0].release(&mut out).unwrap();
            let (sends, _) = drain(&mut out);
            pending.extend(sends.into_iter().map(|(t, m)| (NodeId(0), t, m)));
            let (who, _) = settle(&mut ns, &mut pending);
            assert_eq!(who, vec![NodeId(2)]);
        }
    }

    #[test]
    fn a_later_request_stands_in_for_the_acknowledgement() {
        // n0 requests (1, n0); n1 requests (1, n1) before seeing it. Once n1's REQUEST reaches
        // n0, n0 has a later message from n1 and enters without waiting for n1's REPLY.
        let mut ns = nodes(2, false);
        let mut out = Outbox::new();
        ns[0].request(&mut out).unwrap();
        out.clear();
        ns[1].request(&mut out).unwrap();
        let (sends, _) = drain(&mut out);
        ns[0].on_message(NodeId(1), sends[0].1, &mut out).unwrap();
        let (sends, entered) = drain(&mut out);
        assert!(entered);
        assert_eq!(
            sends,
            vec![(NodeId(1), LamportMessage::Reply { timestamp: 2 })]
        );
    }

    #[test]
    fn without_fifo_a_reply_overtaking_a_request_breaks_mutual_exclusion() {
        // The textbook algorithm trusts FIFO channels. n0 requests (1, n0); n1 requests (1, n1)
        // concurrently. n0 receives n1's later REQUEST and enters; its REPLY (timestamp 2) then
        // overtakes its own REQUEST on the way to n1, so n1 never learns that (1, n0) is ahead.
        let mut ns = nodes(2, false);
        let mut out = Outbox::new();
        ns[0].request(&mut out).unwrap();
        let (request0, _) = drain(&mut out);
        ns[1].request(&mut out).unwrap();
        let (request1, _) = drain(&mut out);
        ns[0]
            .on_message(NodeId(1), request1[0].1, &mut out)
            .unwrap();
        let (reply, entered0) = drain(&mut out);
        assert!(entered0, "(1, n0) heads n0's queue and (1, n1) is later");
        assert_eq!(reply[0].1, LamportMessage::Reply { timestamp: 2 });
        ns[1].on_message(NodeId(0), reply[0].1, &mut out).unwrap();
        let (_, entered1) = drain(&mut out);
        assert!(entered1, "the REPLY overtook the REQUEST: n1 enters too");
        assert_eq!(ns[0].phase(), Phase::InCriticalSection);
        assert_eq!(ns[1].phase(), Phase::InCriticalSection);
        // Under FIFO the REQUEST comes first and holds n1 back.
        let mut fifo = nodes(2, false);
        fifo[0].request(&mut out).unwrap();
        fifo[1].request(&mut out).unwrap();
        out.clear();
        fifo[0]
            .on_message(NodeId(1), request1[0].1, &mut out)
            .unwrap();
        out.clear();
        fifo[1]
            .on_message(NodeId(0), request0[0].1, &mut out)
            .unwrap();
        fifo[1].on_message(NodeId(0), reply[0].1, &mut out).unwrap();
        assert!(!drain(&mut out).1);
        assert_eq!(fifo[1].waiting_for(), vec![NodeId(0)]);
    }

    #[test]
    fn without_fifo_a_late_release_erases_the_next_request() {
        let mut ns = nodes(2, false);
        let mut out = Outbox::new();
        let mut pending = Vec::new();
        ns[1].request(&mut out).unwrap();
        pending.extend(
            drain(&mut out)
                .0
                .into_iter()
                .map(|(t, m)| (NodeId(1), t, m)),
        );
        assert_eq!(settle(&mut ns, &mut pending).0, vec![NodeId(1)]);
        ns[1].release(&mut out).unwrap();
        let (release, _) = drain(&mut out);
        ns[1].request(&mut out).unwrap();
        let (request, _) = drain(&mut out);
        // The second REQUEST arrives first, then the RELEASE removes both requests of n1.
        ns[0].on_message(NodeId(1), request[0].1, &mut out).unwrap();
        ns[0].on_message(NodeId(1), release[0].1, &mut out).unwrap();
        assert_eq!(ns[0].request_queue().count(), 0, "n1's new request is lost");
    }
}
