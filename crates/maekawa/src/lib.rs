//! Maekawa's √N algorithm for mutual exclusion (ACM TOCS 3(2), 1985), with the deadlock
//! handling of the textbook version (Singhal; Kshemkalyani and Singhal, *Distributed
//! Computing*, §9.8).
//!
//! **What it does.** Every node `i` has a *request set* (quorum) `S_i`; any two request sets
//! intersect (see [`Quorums`]). Every node is also an *arbiter* with a single permission that it
//! lends to one requester at a time ("locked for" that request). To enter the critical section
//! node `i` sends REQUEST, stamped with its Lamport clock, to every member of `S_i` and enters
//! once every one of them has sent a REPLY (its permission); on leaving, it sends RELEASE to
//! them all. Two nodes can never hold all their permissions at once, because their request
//! sets share an arbiter, and an arbiter is locked for one request at a time.
//!
//! Requests are served by priority: the [`Stamp`] `(timestamp, id)`, smaller first. Because a
//! node locks its permission for whichever request reaches it first, locks can form a cycle
//! (each requester holding a permission the next one waits for): a **deadlock**. The textbook
//! version breaks it with three more messages:
//!
//! * an arbiter locked for a request of higher priority than a newly arrived one, or with a
//!   higher-priority request already waiting, answers the newcomer with **FAILED** ("you will
//!   not get my permission soon");
//! * an arbiter that receives a request of higher priority than the one it is locked for and all
//!   those waiting sends **INQUIRE** to the requester it is locked for ("can you give it
//!   back?"), once per grant;
//! * a requester that has been told FAILED by some arbiter (or that has already yielded a
//!   permission it has not got back) answers INQUIRE with **YIELD** (RELINQUISH): it returns the
//!   permission, and the arbiter lends it to the highest-priority waiting request and queues the
//!   yielder's again. A requester that might still succeed defers the INQUIRE: it yields later if
//!   a FAILED arrives, and otherwise its RELEASE answers it.
//!
//! Two refinements make this correct with any message order (both are needed; the textbook's
//! prose assumes FIFO channels and glosses over them):
//!
//! * **Every message names the request and the grant it is about.** REPLY, INQUIRE and YIELD
//!   carry the request's stamp and the arbiter's *grant number* (an arbiter numbers its grants
//!   1, 2, 3, …); RELEASE carries the stamp; FAILED carries the stamp and the number of the
//!   arbiter's latest grant when it was sent. So a requester can recognise an INQUIRE that
//!   arrives before the REPLY it refers to (it is kept and acted on when the REPLY comes), an
//!   INQUIRE about a request it has already finished (ignored: its RELEASE answers it), and a
//!   FAILED that was overtaken by a later REPLY from the same arbiter (ignored: FAILED numbered
//!   below the grant held). An arbiter accepts YIELD and RELEASE only for the grant it is
//!   locked for; a REQUEST that overtakes its sender's previous RELEASE is simply queued.
//! * **A waiting request that is overtaken is told.** When a request arrives that outranks the
//!   request at the head of an arbiter's queue, the old head is sent FAILED too (the textbook
//!   only answers the newcomer). This keeps the invariant the deadlock-freedom argument needs:
//!   a request that waits at an arbiter without having been told FAILED is the highest there,
//!   above the request the arbiter is locked for, which has been sent INQUIRE. Then in any
//!   stuck state the highest-priority waiting request would wait on a lower one that deferred an
//!   INQUIRE, which waits on a lower one still, … a descending chain that must end at a request
//!   that can enter or must yield: so no state is stuck.
//!
//! [`Maekawa::without_deadlock_handling`] builds the original algorithm with neither FAILED,
//! INQUIRE nor YIELD: an arbiter simply queues requests (by priority) and passes its permission
//! on at RELEASE. It is cheaper, and it deadlocks; the simulator shows the cycle (see
//! [`Node::waiting_for`] and [`Node::locked_for`]).
//!
//! A node is normally in its own request set: what it owes itself as an arbiter (and itself as a
//! requester) is handled at once, locally, and never sent.
//!
//! **What it assumes.** Reliable channels: every message delivered exactly once. FIFO order is
//! *not* required. No node crashes. Any two request sets intersect (checked by
//! [`Quorums::validate`]; a constructor given a single node's set cannot check it).
//!
//! **What it costs**, with K = |S_i| (the node itself included), T the message delay and E the
//! critical-section time:
//!
//! * light load: 3(K−1) messages per entry — K−1 REQUESTs, REPLYs and RELEASEs; waiting time
//!   2T.
//! * heavy load: from 3(K−1) up to about 5(K−1) in the textbook's count (FAILED, INQUIRE, YIELD
//!   and the REPLY that follows a YIELD). Measured in the simulator (`sim/tests/maekawa.rs`,
//!   N = 4 … 91, constant and random delays): 3.97(K−1) to 3.99(K−1) — about K−1 FAILEDs per
//!   entry on top of 3(K−1), and almost no INQUIRE or YIELD, because a node's next request
//!   carries a larger timestamp than any it has seen and so rarely outranks a lock.
//! * synchronization delay 2T: the leaving node's RELEASE reaches an arbiter, whose REPLY
//!   reaches the next node; T when that arbiter is the leaving or the next node itself (one hop
//!   is local). Measured at heavy load with constant T: 2T on the grids, 1.4T to 1.9T on
//!   average on the projective planes.
//!
//! **How it is checked.** Besides the unit tests here, the simulator's exhaustive checker
//! explores every interleaving of small clusters, with FIFO channels and without (3 nodes with 1
//! and 2 requests each, and the 2×2 grid with 1): no safety violation, deadlock or protocol
//! error; and 1,000 random-delay seeds per size for N ∈ {4, 7, 9, 13}, FIFO on and off, pass.
//!
//! Grid request sets give K = 2√N − 1, finite projective planes K = q + 1 ≈ √N ([`Quorums`]).
//!
//! ```
//! use dme_core::{Effect, Node, NodeId, Outbox, Phase};
//! use dme_maekawa::{Maekawa, QuorumKind, Quorums};
//!
//! // Three nodes; deliver node 2's messages, and the answers, one by one.
//! let quorums = Quorums::new(3, QuorumKind::Auto).unwrap();
//! let mut nodes = Maekawa::cluster(&quorums).unwrap();
//! let mut out = Outbox::new();
//! nodes[2].request(&mut out).unwrap();
//! // Deliver every message until nothing is in flight.
//! let mut pending: Vec<(NodeId, NodeId, _)> = Vec::new();
//! loop {
//!     for e in out.drain() {
//!         if let Effect::Send { to, msg } = e {
//!             pending.push((NodeId(2), to, msg));
//!         }
//!     }
//!     let Some((from, to, msg)) = pending.pop() else { break };
//!     let mut reply = Outbox::new();
//!     nodes[to.index()].on_message(from, msg, &mut reply).unwrap();
//!     for e in reply.drain() {
//!         if let Effect::Send { to: next, msg } = e {
//!             pending.push((to, next, msg));
//!         }
//!     }
//! }
//! assert_eq!(nodes[2].phase(), Phase::InCriticalSection);
//! ```

pub mod describe;
pub mod gf;
pub mod quorums;

use std::collections::BTreeMap;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, Stamp, validate_members};
use serde::{Deserialize, Serialize};

pub use quorums::{Construction, QuorumKind, Quorums};

/// The messages of the algorithm. Kinds: `REQUEST`, `REPLY`, `RELEASE`, `FAILED`, `INQUIRE`,
/// `YIELD`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum MaekawaMessage {
    /// Requester → arbiter: "may I?", with the request's priority.
    Request {
        /// The request's stamp (the sender's Lamport clock and id).
        request: Stamp,
    },
    /// Arbiter → requester: the arbiter's permission, now locked for `request`.
    Reply {
        /// The request granted.
        request: Stamp,
        /// The arbiter's number for this grant.
        grant: u64,
    },
    /// Requester → arbiter: the requester left the critical section; the permission is free.
    Release {
        /// The request that was served.
        request: Stamp,
    },
    /// Arbiter → requester: a request of higher priority holds or waits for the permission.
    Failed {
        /// The request that must wait.
        request: Stamp,
        /// The arbiter's latest grant number when it was sent (a REPLY numbered above it
        /// supersedes it).
        latest_grant: u64,
    },
    /// Arbiter → requester: a request of higher priority waits; please yield grant `grant`.
    Inquire {
        /// The request the arbiter is locked for.
        request: Stamp,
        /// The grant asked back.
        grant: u64,
    },
    /// Requester → arbiter (RELINQUISH): grant `grant` is given back; queue `request` again.
    Yield {
        /// The yielding request.
        request: Stamp,
        /// The grant given back.
        grant: u64,
    },
}

impl MaekawaMessage {
    /// The request the message is about.
    pub fn request(&self) -> Stamp {
        match *self {
            MaekawaMessage::Request { request }
            | MaekawaMessage::Reply { request, .. }
            | MaekawaMessage::Release { request }
            | MaekawaMessage::Failed { request, .. }
            | MaekawaMessage::Inquire { request, .. }
            | MaekawaMessage::Yield { request, .. } => request,
        }
    }
}

impl Message for MaekawaMessage {
    fn kind(&self) -> &'static str {
        match self {
            MaekawaMessage::Request { .. } => "REQUEST",
            MaekawaMessage::Reply { .. } => "REPLY",
            MaekawaMessage::Release { .. } => "RELEASE",
            MaekawaMessage::Failed { .. } => "FAILED",
            MaekawaMessage::Inquire { .. } => "INQUIRE",
            MaekawaMessage::Yield { .. } => "YIELD",
        }
    }

    fn timestamp(&self) -> Option<u64> {
        Some(self.request().clock)
    }
}

/// What a requester knows about one member of its request set, for its current request.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
struct Member {
    /// The grant held from this arbiter, if any.
    held: Option<u64>,
    /// The highest grant number received from it for the current request (0: none yet).
    last_grant: u64,
    /// It sent FAILED after its last grant to us, and has not granted since.
    failed: bool,
    /// We yielded its grant `last_grant` and have not been granted again.
    yielded: bool,
    /// It asked back grant `inquired` (held now, or not yet arrived); not yet answered.
    inquired: Option<u64>,
}

/// The arbiter's lock: the request it lent its permission to, under which grant number.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Lock {
    request: Stamp,
    grant: u64,
    /// An INQUIRE has been sent for this grant.
    inquired: bool,
}

/// One node of Maekawa's algorithm: a requester with its request set, and an arbiter.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Maekawa {
    me: NodeId,
    /// All members, sorted (anyone may have this node in its request set).
    members: Vec<NodeId>,
    /// This node's request set, sorted; `state` is indexed like it.
    quorum: Vec<NodeId>,
    deadlock_handling: bool,
    clock: u64,
    phase: Phase,
    // Requester side.
    request: Option<Stamp>,
    state: Vec<Member>,
    // Arbiter side.
    lock: Option<Lock>,
    grants: u64,
    /// Waiting requests by priority, each with whether it has been told FAILED (or yielded)
    /// since its last grant from here.
    queue: BTreeMap<Stamp, bool>,
}

/// Messages this node owes itself, processed in order before a call returns.
type Local = Vec<MaekawaMessage>;

impl Maekawa {
    /// Node `me` of the cluster `members`, with request set `quorum` (members of the cluster,
    /// normally including `me`; any order, no duplicates), with deadlock handling.
    pub fn new(me: NodeId, members: &[NodeId], quorum: Vec<NodeId>) -> Result<Self, Error> {
        Maekawa::build(me, members, quorum, true)
    }

    /// Like [`new`](Maekawa::new) but **without deadlock handling**: Maekawa's basic algorithm,
    /// with no FAILED, INQUIRE or YIELD. Arbiters queue requests by priority and pass their
    /// permission on at RELEASE. It can deadlock.
    pub fn without_deadlock_handling(
        me: NodeId,
        members: &[NodeId],
        quorum: Vec<NodeId>,
    ) -> Result<Self, Error> {
        Maekawa::build(me, members, quorum, false)
    }

    /// Every node of the cluster `0..N` described by `quorums`, with deadlock handling.
    pub fn cluster(quorums: &Quorums) -> Result<Vec<Self>, Error> {
        Maekawa::build_cluster(quorums, true)
    }

    /// Every node of the cluster `0..N` described by `quorums`, **without** deadlock handling
    /// (see [`without_deadlock_handling`](Maekawa::without_deadlock_handling)).
    pub fn cluster_without_deadlock_handling(quorums: &Quorums) -> Result<Vec<Self>, Error> {
        Maekawa::build_cluster(quorums, false)
    }

    fn build_cluster(quorums: &Quorums, deadlock_handling: bool) -> Result<Vec<Self>, Error> {
        let members = dme_core::cluster(quorums.len());
        quorums
            .sets()
            .iter()
            .zip(&members)
            .map(|(s, &me)| Maekawa::build(me, &members, s.clone(), deadlock_handling))
            .collect()
    }

    fn build(
        me: NodeId,
        members: &[NodeId],
        mut quorum: Vec<NodeId>,
        deadlock_handling: bool,
    ) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut members = members.to_vec();
        members.sort_unstable();
        quorum.sort_unstable();
        if quorum.is_empty() {
            return Err(Error::InvalidCluster(format!(
                "{me}'s request set is empty"
            )));
        }
        if let Some(w) = quorum.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::InvalidCluster(format!(
                "{} listed twice in {me}'s request set",
                w[0]
            )));
        }
        if let Some(x) = quorum.iter().find(|x| members.binary_search(x).is_err()) {
            return Err(Error::InvalidCluster(format!(
                "{x} in {me}'s request set is not a member"
            )));
        }
        let k = quorum.len();
        Ok(Maekawa {
            me,
            members,
            quorum,
            deadlock_handling,
            clock: 0,
            phase: Phase::Idle,
            request: None,
            state: vec![Member::default(); k],
            lock: None,
            grants: 0,
            queue: BTreeMap::new(),
        })
    }

    /// This node's request set, sorted.
    pub fn quorum(&self) -> &[NodeId] {
        &self.quorum
    }

    /// Whether this node runs the deadlock handling (FAILED, INQUIRE, YIELD).
    pub fn handles_deadlocks(&self) -> bool {
        self.deadlock_handling
    }

    /// The Lamport clock: the highest timestamp seen or issued.
    pub fn clock(&self) -> u64 {
        self.clock
    }

    /// As an arbiter, the request this node's permission is lent to.
    pub fn locked_request(&self) -> Option<Stamp> {
        self.lock.map(|l| l.request)
    }

    /// As an arbiter, the requests waiting for this node's permission, highest priority first.
    pub fn queued(&self) -> Vec<Stamp> {
        self.queue.keys().copied().collect()
    }

    fn slot(&self, arbiter: NodeId) -> Option<usize> {
        self.quorum.binary_search(&arbiter).ok()
    }

    /// Sends `msg` to `to`, or keeps it for local handling when `to` is this node.
    fn send(
        &self,
        to: NodeId,
        msg: MaekawaMessage,
        out: &mut Outbox<MaekawaMessage>,
        local: &mut Local,
    ) {
        if to == self.me {
            local.push(msg);
        } else {
            out.send(to, msg);
        }
    }

    /// Whether the current request is known not to succeed soon: some arbiter said FAILED, or
    /// we yielded a permission not yet given back.
    fn failing(&self) -> bool {
        self.state.iter().any(|m| m.failed || m.yielded)
    }

    /// Checks a message without changing anything: the misuse that is an [`Error`]. Messages
    /// that can legitimately arrive late (stale INQUIRE and FAILED) pass and are ignored.
    fn check(&self, from: NodeId, msg: &MaekawaMessage) -> Result<(), Error> {
        if from != self.me && self.members.binary_search(&from).is_err() {
            return Err(Error::NotAMember(from));
        }
        let unexpected = |reason: &str| {
            Err(Error::UnexpectedMessage {
                from,
                reason: reason.to_string(),
            })
        };
        let request = msg.request();
        match *msg {
            MaekawaMessage::Request { .. }
            | MaekawaMessage::Release { .. }
            | MaekawaMessage::Yield { .. } => {
                if request.node != from {
                    return unexpected("a request stamped with another node's id");
                }
            }
            _ => {
                if self.slot(from).is_none() {
                    return Err(Error::NotAMember(from));
                }
                if request.node != self.me {
                    return unexpected("an answer about another node's request");
                }
            }
        }
        if !self.deadlock_handling
            && matches!(
                msg,
                MaekawaMessage::Failed { .. }
                    | MaekawaMessage::Inquire { .. }
                    | MaekawaMessage::Yield { .. }
            )
        {
            return unexpected("deadlock handling message to a node without deadlock handling");
        }
        match *msg {
            MaekawaMessage::Request { request } => {
                if self.lock.is_some_and(|l| l.request == request)
                    || self.queue.keys().any(|s| s.node == from)
                {
                    return unexpected("a second REQUEST while one is outstanding here");
                }
            }
            MaekawaMessage::Release { request } => {
                if self.lock.is_none_or(|l| l.request != request) {
                    return unexpected("a RELEASE for a request this arbiter is not locked for");
                }
            }
            MaekawaMessage::Yield { request, grant } => {
                if self
                    .lock
                    .is_none_or(|l| l.request != request || l.grant != grant)
                {
                    return unexpected("a YIELD of a grant this arbiter is not locked for");
                }
            }
            MaekawaMessage::Reply { request, grant } => {
                let fresh = self.phase == Phase::Requesting
                    && self.request == Some(request)
                    && self.slot(from).is_some_and(|k| {
                        self.state[k].held.is_none() && grant > self.state[k].last_grant
                    });
                if !fresh {
                    return unexpected("a REPLY we were not waiting for");
                }
            }
            MaekawaMessage::Failed { .. } | MaekawaMessage::Inquire { .. } => {}
        }
        Ok(())
    }

    /// Handles one (checked) message, then whatever it makes this node owe itself.
    fn handle(
        &mut self,
        from: NodeId,
        msg: MaekawaMessage,
        out: &mut Outbox<MaekawaMessage>,
        local: &mut Local,
    ) {
        match msg {
            MaekawaMessage::Request { request } => self.on_request(request, out, local),
            MaekawaMessage::Release { .. } => {
                self.lock = None;
                self.grant_next(out, local);
            }
            MaekawaMessage::Yield { request, .. } => {
                self.lock = None;
                self.queue.insert(request, true);
                self.grant_next(out, local);
            }
            MaekawaMessage::Reply { grant, .. } => self.on_reply(from, grant, out, local),
            MaekawaMessage::Failed {
                request,
                latest_grant,
            } => {
                if self.phase != Phase::Requesting || self.request != Some(request) {
                    return; // about a request already served
                }
                let Some(k) = self.slot(from) else { return };
                let m = &mut self.state[k];
                if m.held.is_some() || latest_grant < m.last_grant {
                    return; // overtaken by a later REPLY
                }
                m.failed = true;
                self.yield_inquired(out, local);
            }
            MaekawaMessage::Inquire { request, grant } => {
                if self.phase != Phase::Requesting || self.request != Some(request) {
                    return; // in the critical section or done: our RELEASE answers it
                }
                let Some(k) = self.slot(from) else { return };
                let m = &mut self.state[k];
                if grant < m.last_grant || (grant == m.last_grant && m.held.is_none()) {
                    return; // about a grant already yielded
                }
                m.inquired = Some(grant);
                if m.held == Some(grant) && self.failing() {
                    self.yield_inquired(out, local);
                }
            }
        }
    }

    fn on_request(&mut self, request: Stamp, out: &mut Outbox<MaekawaMessage>, local: &mut Local) {
        self.clock = self.clock.max(request.clock);
        let from = request.node;
        let Some(lock) = self.lock else {
            self.grants += 1;
            self.lock = Some(Lock {
                request,
                grant: self.grants,
                inquired: false,
            });
            let grant = self.grants;
            self.send(from, MaekawaMessage::Reply { request, grant }, out, local);
            return;
        };
        if !self.deadlock_handling {
            self.queue.insert(request, false);
            return;
        }
        let head = self.queue.first_key_value().map(|(s, told)| (*s, *told));
        let outranks_all = request < lock.request && head.is_none_or(|(h, _)| request < h);
        let latest_grant = self.grants;
        if !outranks_all {
            self.queue.insert(request, true);
            self.send(
                from,
                MaekawaMessage::Failed {
                    request,
                    latest_grant,
                },
                out,
                local,
            );
            return;
        }
        self.queue.insert(request, false);
        if let Some((h, false)) = head {
            // The old head is overtaken: it must know, or it would hold on to its other
            // permissions.
            self.queue.insert(h, true);
            self.send(
                h.node,
                MaekawaMessage::Failed {
                    request: h,
                    latest_grant,
                },
                out,
                local,
            );
        }
        if !lock.inquired {
            self.lock = Some(Lock {
                inquired: true,
                ..lock
            });
            self.send(
                lock.request.node,
                MaekawaMessage::Inquire {
                    request: lock.request,
                    grant: lock.grant,
                },
                out,
                local,
            );
        }
    }

    /// Lends the free permission to the highest-priority waiting request, if any.
    fn grant_next(&mut self, out: &mut Outbox<MaekawaMessage>, local: &mut Local) {
        let Some((request, _)) = self.queue.pop_first() else {
            return;
        };
        self.grants += 1;
        let grant = self.grants;
        self.lock = Some(Lock {
            request,
            grant,
            inquired: false,
        });
        self.send(
            request.node,
            MaekawaMessage::Reply { request, grant },
            out,
            local,
        );
    }

    fn on_reply(
        &mut self,
        from: NodeId,
        grant: u64,
        out: &mut Outbox<MaekawaMessage>,
        local: &mut Local,
    ) {
        let Some(k) = self.slot(from) else { return };
        let m = &mut self.state[k];
        m.held = Some(grant);
        m.last_grant = grant;
        m.failed = false;
        m.yielded = false;
        if m.inquired.is_some_and(|g| g < grant) {
            m.inquired = None;
        }
        if self.state.iter().all(|m| m.held.is_some()) {
            self.phase = Phase::InCriticalSection;
            out.enter();
            return;
        }
        if self.state[k].inquired == Some(grant) && self.failing() {
            self.yield_inquired(out, local);
        }
    }

    /// When the request is failing, gives back every held permission that was asked back.
    fn yield_inquired(&mut self, out: &mut Outbox<MaekawaMessage>, local: &mut Local) {
        let Some(request) = self.request else { return };
        if self.phase != Phase::Requesting || !self.failing() {
            return;
        }
        for k in 0..self.quorum.len() {
            let m = &mut self.state[k];
            if let (Some(held), Some(asked)) = (m.held, m.inquired)
                && held == asked
            {
                m.held = None;
                m.inquired = None;
                m.yielded = true;
                let to = self.quorum[k];
                self.send(
                    to,
                    MaekawaMessage::Yield {
                        request,
                        grant: held,
                    },
                    out,
                    local,
                );
            }
        }
    }

    /// Delivers the messages this node owes itself, in order, until none is left.
    fn drain_local(&mut self, out: &mut Outbox<MaekawaMessage>, local: &mut Local) {
        let mut next = 0;
        while next < local.len() {
            let msg = local[next];
            next += 1;
            // Our own messages are consistent by construction; check anyway, and drop one that
            // is not rather than corrupt the state.
            if self.check(self.me, &msg).is_ok() {
                self.handle(self.me, msg, out, local);
            } else {
                debug_assert!(false, "{} sent itself an invalid {msg:?}", self.me);
            }
        }
        local.clear();
    }
}

impl Node for Maekawa {
    type Message = MaekawaMessage;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<MaekawaMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        self.clock += 1;
        let request = Stamp::new(self.clock, self.me);
        self.request = Some(request);
        self.phase = Phase::Requesting;
        self.state.fill(Member::default());
        let mut local = Local::new();
        for k in 0..self.quorum.len() {
            self.send(
                self.quorum[k],
                MaekawaMessage::Request { request },
                out,
                &mut local,
            );
        }
        self.drain_local(out, &mut local);
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<MaekawaMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        let Some(request) = self.request.take() else {
            return Err(Error::NotInCriticalSection);
        };
        self.phase = Phase::Idle;
        self.state.fill(Member::default());
        let mut local = Local::new();
        for k in 0..self.quorum.len() {
            self.send(
                self.quorum[k],
                MaekawaMessage::Release { request },
                out,
                &mut local,
            );
        }
        self.drain_local(out, &mut local);
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: MaekawaMessage,
        out: &mut Outbox<MaekawaMessage>,
    ) -> Result<(), Error> {
        if from == self.me {
            return Err(Error::NotAMember(from));
        }
        self.check(from, &msg)?;
        let mut local = Local::new();
        self.handle(from, msg, out, &mut local);
        self.drain_local(out, &mut local);
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    /// The members of the request set (possibly this node itself, as an arbiter) whose
    /// permission the outstanding request does not hold.
    fn waiting_for(&self) -> Vec<NodeId> {
        if self.phase != Phase::Requesting {
            return Vec::new();
        }
        self.quorum
            .iter()
            .zip(&self.state)
            .filter(|(_, m)| m.held.is_none())
            .map(|(q, _)| *q)
            .collect()
    }

    fn locked_for(&self) -> Option<NodeId> {
        self.lock.map(|l| l.request.node)
    }

    fn request_stamp(&self) -> Option<Stamp> {
        self.request
    }
}

#[cfg(test)]
mod tests;
