//! Roucairol and Carvalho's improvement of the Ricart–Agrawala algorithm (CACM 26(2), 1983;
//! Kshemkalyani and Singhal, *Distributed Computing*, §9.4).
//!
//! **What it does.** As in Ricart–Agrawala, a site that wants the critical section stamps its
//! request with its Lamport clock (`our_sequence_number = highest_sequence_number + 1`) and
//! needs the permission (REPLY) of every other site; a site defers its REPLY to a request of
//! lower priority — larger [`Stamp`] `(sequence number, id)` — while it is itself requesting or
//! in the critical section. The improvement: **a permission, once received, is kept.** Site `i`
//! remembers in `A[j]` ("authorised by j") that it holds `j`'s permission, and may enter again
//! and again without asking `j` until it sends `j` a REPLY. So a REQUEST goes only to the sites
//! whose permission `i` lacks, and the permission of each pair of sites is a single object that
//! is either at one of them or in flight as a REPLY.
//!
//! The case the original Ricart–Agrawala never meets: a requesting site `i` that holds `j`'s
//! permission receives `j`'s REQUEST of *higher* priority. It must give the permission up — send
//! REPLY and clear `A[j]` — and, since it still wants the critical section, ask for it again
//! with a REQUEST carrying its *same* sequence number. That REQUEST is its only one outstanding
//! at `j` (it had none, since it held the permission), so nothing is duplicated, and `j`, whose
//! request outranks it, defers it until it leaves.
//!
//! Initially the permission of each pair `{i, j}` is at the site with the smaller id (any
//! assignment with exactly one holder per pair is correct; the paper leaves it open). A REQUEST
//! that reaches a site holding neither the permission nor a reason to defer is impossible in a
//! correct run and is reported as an [`Error::UnexpectedMessage`], like a REPLY not asked for.
//!
//! **What it assumes.** Reliable channels, every message delivered exactly once; FIFO order is
//! *not* required (per pair at most one REQUEST and one REPLY are in flight, and the re-request
//! that may overtake its REPLY finds the other site requesting with higher priority, so it is
//! deferred either way). No site crashes.
//!
//! **What it costs.** Between 0 and 2(N−1) messages per entry: 2 per permission missing — one
//! REQUEST, one REPLY — plus 2 more for each permission given up while waiting (REPLY and the
//! re-request) and won back. 0 when a site re-enters with no request from others in between;
//! exactly 2(N−1) for a site whose permission every other site has taken since its last entry.
//! Under light load in the simulator each request costs 2 × (sites that entered since this
//! site's last entry, or that held its permission from the start). Synchronization delay T (the
//! leaving site's deferred REPLY); waiting time 0 or 2T at light load.
//!
//! **Grant order.** Concurrent requests are *not* always granted in stamp order: a site holding
//! every permission enters at once, even if an older request from another site is still on its
//! way to it. So [`Node::GRANTS_IN_STAMP_ORDER`] is false (Ricart–Agrawala's is true).
//!
//! ```
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//! use dme_roucairol_carvalho::RoucairolCarvalho;
//!
//! let members = cluster(2);
//! let mut a = RoucairolCarvalho::new(NodeId(0), &members).unwrap();
//! let mut out = Outbox::new();
//! // n0 starts with n1's permission: it enters, and re-enters, without a message.
//! for _ in 0..3 {
//!     a.request(&mut out).unwrap();
//!     assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//!     a.release(&mut out).unwrap();
//!     assert!(out.is_empty());
//! }
//! ```

pub mod describe;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, Stamp, validate_members};
use serde::{Deserialize, Serialize};

/// The two messages of the algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RcMessage {
    /// "I want the critical section and lack your permission; my sequence number is …".
    Request {
        /// The requester's `our_sequence_number`.
        sequence_number: u64,
    },
    /// The sender's permission, handed over: the receiver keeps it until it replies in turn.
    Reply,
}

impl Message for RcMessage {
    fn kind(&self) -> &'static str {
        match self {
            RcMessage::Request { .. } => "REQUEST",
            RcMessage::Reply => "REPLY",
        }
    }

    fn timestamp(&self) -> Option<u64> {
        match self {
            RcMessage::Request { sequence_number } => Some(*sequence_number),
            RcMessage::Reply => None,
        }
    }
}

/// One Roucairol–Carvalho site. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RoucairolCarvalho {
    me: NodeId,
    /// The other members, sorted; the per-peer flags below are indexed like this list.
    peers: Vec<NodeId>,
    our_sequence_number: u64,
    highest_sequence_number: u64,
    phase: Phase,
    /// `authorized[k]` (the paper's `A[j]`): this site holds `peers[k]`'s permission.
    authorized: Vec<bool>,
    /// `reply_deferred[k]`: a REPLY to `peers[k]` is owed when this site leaves the critical
    /// section.
    reply_deferred: Vec<bool>,
}

impl RoucairolCarvalho {
    /// Site `me` of the cluster `members` (which includes `me`). It starts with the permission
    /// of every member with a larger id.
    pub fn new(me: NodeId, members: &[NodeId]) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut peers: Vec<NodeId> = members.iter().copied().filter(|&m| m != me).collect();
        peers.sort_unstable();
        let n = peers.len();
        let authorized = peers.iter().map(|&p| me < p).collect();
        Ok(RoucairolCarvalho {
            me,
            peers,
            our_sequence_number: 0,
            highest_sequence_number: 0,
            phase: Phase::Idle,
            authorized,
            reply_deferred: vec![false; n],
        })
    }

    /// The site's Lamport clock: the highest sequence number seen so far.
    pub fn highest_sequence_number(&self) -> u64 {
        self.highest_sequence_number
    }

    /// The members whose permission this site holds (the paper's `A[j]` true), sorted.
    pub fn authorized_by(&self) -> Vec<NodeId> {
        self.peers
            .iter()
            .zip(&self.authorized)
            .filter(|(_, a)| **a)
            .map(|(p, _)| *p)
            .collect()
    }

    fn peer_index(&self, from: NodeId) -> Result<usize, Error> {
        self.peers
            .binary_search(&from)
            .map_err(|_| Error::NotAMember(from))
    }

    fn our_stamp(&self) -> Stamp {
        Stamp::new(self.our_sequence_number, self.me)
    }

    fn request_message(&self) -> RcMessage {
        RcMessage::Request {
            sequence_number: self.our_sequence_number,
        }
    }
}

impl Node for RoucairolCarvalho {
    type Message = RcMessage;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<RcMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        self.our_sequence_number = self.highest_sequence_number + 1;
        self.highest_sequence_number = self.our_sequence_number;
        let msg = self.request_message();
        let mut missing = 0;
        for (k, &peer) in self.peers.iter().enumerate() {
            if !self.authorized[k] {
                out.send(peer, msg);
                missing += 1;
            }
        }
        if missing == 0 {
            self.phase = Phase::InCriticalSection;
            out.enter();
        } else {
            self.phase = Phase::Requesting;
        }
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<RcMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        self.phase = Phase::Idle;
        for k in 0..self.peers.len() {
            if std::mem::take(&mut self.reply_deferred[k]) {
                self.authorized[k] = false;
                out.send(self.peers[k], RcMessage::Reply);
            }
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RcMessage,
        out: &mut Outbox<RcMessage>,
    ) -> Result<(), Error> {
        let k = self.peer_index(from)?;
        match msg {
            RcMessage::Request { sequence_number } => {
                if self.reply_deferred[k] {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a second REQUEST before our REPLY to the first".into(),
                    });
                }
                let theirs = Stamp::new(sequence_number, from);
                let defer = match self.phase {
                    Phase::Idle => false,
                    Phase::InCriticalSection => true,
                    Phase::Requesting => self.our_stamp() < theirs,
                };
                if !defer && !self.authorized[k] {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a REQUEST for a permission we do not hold".into(),
                    });
                }
                self.highest_sequence_number = self.highest_sequence_number.max(sequence_number);
                if defer {
                    self.reply_deferred[k] = true;
                } else {
                    self.authorized[k] = false;
                    out.send(from, RcMessage::Reply);
                    if self.phase == Phase::Requesting {
                        // We gave up a permission we still need: ask for it back, with the
                        // same request. `from` outranks us and will defer it.
                        out.send(from, self.request_message());
                    }
                }
            }
            RcMessage::Reply => {
                if self.phase != Phase::Requesting || self.authorized[k] {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a REPLY we were not waiting for".into(),
                    });
                }
                self.authorized[k] = true;
                if self.authorized.iter().all(|&a| a) {
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
            .zip(&self.authorized)
            .filter(|(_, a)| !**a)
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

    fn sends(out: &mut Outbox<RcMessage>) -> Vec<(NodeId, RcMessage)> {
        out.drain()
            .filter_map(|e| match e {
                Effect::Send { to, msg } => Some((to, msg)),
                Effect::Enter => None,
            })
            .collect()
    }

    fn sites(n: usize) -> Vec<RoucairolCarvalho> {
        let members = cluster(n);
        members
            .iter()
            .map(|&m| RoucairolCarvalho::new(m, &members).unwrap())
            .collect()
    }

    fn req(sequence_number: u64) -> RcMessage {
        RcMessage::Request { sequence_number }
    }

    #[test]
    fn each_pair_starts_with_one_permission_at_the_smaller_id() {
        let s = sites(4);
        assert_eq!(s[0].authorized_by(), vec![NodeId(1), NodeId(2), NodeId(3)]);
        assert_eq!(s[2].authorized_by(), vec![NodeId(3)]);
        assert!(s[3].authorized_by().is_empty());
    }

    #[test]
    fn single_site_enters_at_once() {
        let mut a = RoucairolCarvalho::new(NodeId(0), &cluster(1)).unwrap();
        let mut out = Outbox::new();
        a.request(&mut out).unwrap();
        assert_eq!(out.effects(), &[Effect::Enter]);
        assert_eq!(a.phase(), Phase::InCriticalSection);
    }

    #[test]
    fn misuse_is_an_error_and_changes_nothing() {
        let mut s = sites(3);
        let mut out = Outbox::new();
        assert_eq!(s[2].release(&mut out), Err(Error::NotInCriticalSection));
        s[2].request(&mut out).unwrap();
        assert_eq!(sends(&mut out).len(), 2);
        let before = s[2].clone();
        assert_eq!(s[2].request(&mut out), Err(Error::AlreadyRequesting));
        assert_eq!(
            s[2].on_message(NodeId(7), RcMessage::Reply, &mut out),
            Err(Error::NotAMember(NodeId(7)))
        );
        assert_eq!(
            s[2].on_message(NodeId(2), RcMessage::Reply, &mut out),
            Err(Error::NotAMember(NodeId(2)))
        );
        // n2 holds no permission, and n1's (0, n1) outranks n2's (1, n2): n2 would have to
        // answer without the permission, which cannot happen in a correct run.
        assert!(matches!(
            s[2].on_message(NodeId(1), req(0), &mut out),
            Err(Error::UnexpectedMessage { .. })
        ));
        assert_eq!(s[2], before);
        assert!(out.is_empty());
        // A REPLY to an idle site, and a REPLY for a permission already held.
        let before = s[0].clone();
        assert!(
            s[0].on_message(NodeId(1), RcMessage::Reply, &mut out)
                .is_err()
        );
        assert_eq!(s[0], before);
        assert!(RoucairolCarvalho::new(NodeId(3), &cluster(3)).is_err());
    }

    #[test]
    fn a_second_request_before_the_reply_is_an_error() {
        let mut s = sites(2);
        let mut out = Outbox::new();
        s[0].request(&mut out).unwrap(); // enters: holds n1's permission
        out.clear();
        s[0].on_message(NodeId(1), req(1), &mut out).unwrap(); // deferred
        assert!(out.is_empty());
        let before = s[0].clone();
        assert!(s[0].on_message(NodeId(1), req(1), &mut out).is_err());
        assert_eq!(s[0], before);
        s[0].release(&mut out).unwrap();
        assert_eq!(sends(&mut out), vec![(NodeId(1), RcMessage::Reply)]);
        assert!(s[0].authorized_by().is_empty());
    }

    #[test]
    fn permissions_are_kept_and_only_missing_ones_are_asked_for() {
        let mut s = sites(3);
        let mut out = Outbox::new();
        // n2 holds nothing: it asks n0 and n1, who are idle and hand their permissions over.
        s[2].request(&mut out).unwrap();
        let asked = sends(&mut out);
        assert_eq!(asked, vec![(NodeId(0), req(1)), (NodeId(1), req(1))]);
        for (to, msg) in asked {
            s[to.index()].on_message(NodeId(2), msg, &mut out).unwrap();
            assert_eq!(sends(&mut out), vec![(NodeId(2), RcMessage::Reply)]);
            s[2].on_message(to, RcMessage::Reply, &mut out).unwrap();
        }
        assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
        s[2].release(&mut out).unwrap();
        assert!(out.is_empty());
        // Re-entering costs nothing.
        s[2].request(&mut out).unwrap();
        assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
        s[2].release(&mut out).unwrap();
        // n1 (clock 1, from n2's REQUEST) lacks n0's permission, as at the start, and n2's.
        s[1].request(&mut out).unwrap();
        assert_eq!(
            sends(&mut out),
            vec![(NodeId(0), req(2)), (NodeId(2), req(2))]
        );
    }

    /// A tiny network: messages in flight, delivered in the order the test picks.
    struct Net {
        sites: Vec<RoucairolCarvalho>,
        flight: Vec<(NodeId, NodeId, RcMessage)>,
        entered: Vec<NodeId>,
    }

    impl Net {
        fn new(n: usize) -> Net {
            Net {
                sites: sites(n),
                flight: Vec::new(),
                entered: Vec::new(),
            }
        }
        fn absorb(
            &mut self,
            from: NodeId,
            out: &mut Outbox<RcMessage>,
        ) -> Vec<(NodeId, RcMessage)> {
            let mut sent = Vec::new();
            for e in out.drain() {
                match e {
                    Effect::Send { to, msg } => {
                        sent.push((to, msg));
                        self.flight.push((from, to, msg));
                    }
                    Effect::Enter => self.entered.push(from),
                }
            }
            sent
        }
        fn request(&mut self, i: u32) -> Vec<(NodeId, RcMessage)> {
            let mut out = Outbox::new();
            self.sites[i as usize].request(&mut out).unwrap();
            self.absorb(NodeId(i), &mut out)
        }
        fn release(&mut self, i: u32) -> Vec<(NodeId, RcMessage)> {
            let mut out = Outbox::new();
            self.sites[i as usize].release(&mut out).unwrap();
            self.absorb(NodeId(i), &mut out)
        }
        /// Delivers the oldest (or, with `newest`, the newest) message in flight from `from`
        /// to `to`, and returns what the receiver sends.
        fn deliver(&mut self, from: u32, to: u32, newest: bool) -> Vec<(NodeId, RcMessage)> {
            let mut on_pair = (0..self.flight.len())
                .filter(|&k| self.flight[k].0 == NodeId(from) && self.flight[k].1 == NodeId(to));
            let k = if newest {
                on_pair.next_back()
            } else {
                on_pair.next()
            };
            let k = k.expect("a message in flight");
            let (from, to, msg) = self.flight.remove(k);
            let mut out = Outbox::new();
            self.sites[to.index()]
                .on_message(from, msg, &mut out)
                .unwrap();
            self.absorb(to, &mut out)
        }
    }

    /// n1 waits for (3, n1) holding n2's permission, and n2's older (1, n2) is in flight to it.
    fn n1_waits_holding_the_permission_n2_asks_for() -> Net {
        let mut net = Net::new(3);
        // n1 takes n0's permission (n1 starts with n2's), then n0 takes it back: n1's clock is 2.
        net.request(1);
        net.deliver(1, 0, false);
        net.deliver(0, 1, false);
        net.release(1);
        net.request(0);
        assert_eq!(
            net.deliver(0, 1, false),
            vec![(NodeId(0), RcMessage::Reply)]
        );
        net.deliver(1, 0, false);
        net.release(0);
        assert_eq!(net.entered, vec![NodeId(1), NodeId(0)]);
        // n2 (clock 0) asks for (1, n2); n1 asks for (3, n1), lacking only n0's permission.
        assert_eq!(
            net.request(2),
            vec![(NodeId(0), req(1)), (NodeId(1), req(1))]
        );
        assert_eq!(net.request(1), vec![(NodeId(0), req(3))]);
        assert_eq!(net.sites[1].authorized_by(), vec![NodeId(2)]);
        // n2's older request reaches n1: reply, drop the permission, ask again with (3, n1).
        assert_eq!(
            net.deliver(2, 1, false),
            vec![(NodeId(2), RcMessage::Reply), (NodeId(2), req(3))]
        );
        assert!(net.sites[1].authorized_by().is_empty());
        assert_eq!(net.sites[1].waiting_for(), vec![NodeId(0), NodeId(2)]);
        assert_eq!(net.sites[1].request_stamp(), Some(Stamp::new(3, NodeId(1))));
        assert_eq!(
            net.deliver(2, 0, false),
            vec![(NodeId(2), RcMessage::Reply)]
        );
        assert_eq!(
            net.deliver(1, 0, false),
            vec![(NodeId(1), RcMessage::Reply)]
        );
        net
    }

    /// The pitfall: a waiting site holding j's permission receives j's higher-priority REQUEST.
    /// It replies, drops the permission and asks again, once, with its own sequence number;
    /// j defers that REQUEST until it leaves.
    #[test]
    fn a_waiting_site_gives_up_a_permission_to_a_higher_priority_request_and_asks_again() {
        let mut net = n1_waits_holding_the_permission_n2_asks_for();
        net.deliver(0, 2, false);
        net.deliver(1, 2, false); // the REPLY: n2 enters
        assert_eq!(net.entered.last(), Some(&NodeId(2)));
        assert!(
            net.deliver(1, 2, false).is_empty(),
            "(1, n2) < (3, n1): deferred"
        );
        net.deliver(0, 1, false);
        assert_eq!(net.release(2), vec![(NodeId(1), RcMessage::Reply)]);
        net.deliver(2, 1, false);
        assert_eq!(net.entered.last(), Some(&NodeId(1)));
        assert!(net.flight.is_empty());
    }

    /// Without FIFO channels the re-request can overtake the REPLY it follows: the outranking
    /// requester, still waiting for that REPLY, defers it all the same.
    #[test]
    fn a_re_request_that_overtakes_its_reply_is_deferred() {
        let mut net = n1_waits_holding_the_permission_n2_asks_for();
        net.deliver(0, 2, false);
        assert!(
            net.deliver(1, 2, true).is_empty(),
            "the re-request first: deferred"
        );
        assert_eq!(net.sites[2].phase(), Phase::Requesting);
        net.deliver(1, 2, true); // the REPLY: n2 enters
        assert_eq!(net.entered.last(), Some(&NodeId(2)));
        net.deliver(0, 1, false);
        assert_eq!(net.release(2), vec![(NodeId(1), RcMessage::Reply)]);
        net.deliver(2, 1, false);
        assert_eq!(net.entered.last(), Some(&NodeId(1)));
        assert!(net.flight.is_empty());
    }

    #[test]
    fn a_site_in_the_critical_section_defers_every_request() {
        let mut net = Net::new(2);
        net.request(0); // (1, n0), enters at once
        net.request(1); // (1, n1)
        assert!(
            net.deliver(1, 0, false).is_empty(),
            "deferred until n0 leaves"
        );
        assert_eq!(net.sites[0].highest_sequence_number(), 1);
        assert_eq!(net.release(0), vec![(NodeId(1), RcMessage::Reply)]);
        assert!(net.sites[0].authorized_by().is_empty());
        net.deliver(0, 1, false);
        assert_eq!(net.entered, vec![NodeId(0), NodeId(1)]);
    }
}
