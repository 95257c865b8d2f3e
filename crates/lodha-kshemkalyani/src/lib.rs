//! Lodha and Kshemkalyani's fair mutual exclusion algorithm (IEEE TPDS 11(6), 2000; Kshemkalyani
//! and Singhal, *Distributed Computing*, §9.6).
//!
//! **What it does.** A site `S_i` that wants the critical section stamps its request with its
//! Lamport clock, `R_i = (ts_i, i)` (a [`Stamp`]; smaller is higher priority), puts it in its
//! *local request queue* `LRQ_i` (kept sorted) and sends REQUEST(`ts_i`) to every other site. It
//! keeps a *reply vector* `RV_i`: `RV_i[j]` is set once `S_j` has answered the current request,
//! by any message. The answers:
//!
//! * a site that is not requesting answers at once with **REPLY**;
//! * a site that is requesting (or in the critical section) sends nothing: **its own REQUEST,
//!   which it has sent to `S_i` already, counts as its reply**. The two requests are
//!   *concurrent*, and each site puts the other's request in its LRQ — the LRQ holds the
//!   requests concurrent with the site's own;
//! * a REQUEST that reaches a requesting site that already has an answer from the sender (the
//!   sender's *next* request, not concurrent with this one) is kept and answered with REPLY when
//!   the site leaves the critical section.
//!
//! `S_i` enters when it has an answer from every site (`RV_i` all set) and its own request heads
//! `LRQ_i`. On leaving, it removes its request and sends **FLUSH**(`ts_i`) to the site whose
//! request is now first in `LRQ_i` — the next concurrent request in priority order — and REPLY
//! to the requests it kept. A FLUSH or REPLY carrying `ts_j` from `S_j` sets `RV[j]` and removes
//! from the receiver's LRQ every request of priority up to `(ts_j, j)`: those have been served,
//! in priority order, before `S_j`'s. So concurrent requests are served in stamp order
//! ([`Node::GRANTS_IN_STAMP_ORDER`]), each FLUSH handing the critical section to the next.
//!
//! **Three precisions** the exhaustive checker showed necessary (each omission gives a
//! deadlock or a protocol error at N = 3, R ≤ 2, FIFO; `sim/tests/check_permission.rs`):
//!
//! * FLUSH and REPLY name the request they answer (`answers`): an answer can arrive after its
//!   request was already served on another answer (a REPLY covering the same requests
//!   overtook the FLUSH), and must then be ignored, not taken for an answer to the next one.
//! * A REQUEST names the sender's previous request (`previous`), served, and every request of
//!   higher priority with it: they are removed from the LRQ. Without it a site can wait for
//!   ever behind a served request whose FLUSH went to a site that never learnt of its own.
//! * A REQUEST arriving late, at or below a request already known served, is only an answer:
//!   it is not queued (it would block the queue for ever).
//!
//! **What it assumes.** Reliable **FIFO** channels: a site's REPLY must reach the requester
//! before that site's own next REQUEST, or the REQUEST is taken for a concurrent one (the
//! exhaustive checker finds a protocol error at N = 2, R = 2 and a deadlock at N = 3, R = 1
//! without FIFO). No site crashes.
//!
//! **What it costs.** Between N−1 and 2(N−1) messages per entry, fixed by the concurrency: a
//! request concurrent with all others costs its N−1 REQUESTs and at most one FLUSH handing on
//! the critical section; a request concurrent with none (light load) costs N−1 REQUESTs and
//! N−1 REPLYs, **2(N−1)**, as Ricart–Agrawala. Under heavy load, where nearly every request is
//! concurrent with the others, the cost approaches N−1 + 1 per entry (measured in
//! `sim/tests/lodha_kshemkalyani.rs`). Synchronization delay T (the FLUSH), waiting time 2T at
//! light load.
//!
//! ```
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//! use dme_lodha_kshemkalyani::{LkMessage, LodhaKshemkalyani};
//!
//! let members = cluster(2);
//! let mut a = LodhaKshemkalyani::new(NodeId(0), &members).unwrap();
//! let mut b = LodhaKshemkalyani::new(NodeId(1), &members).unwrap();
//! let mut out = Outbox::new();
//! a.request(&mut out).unwrap();
//! let Some(Effect::Send { msg, .. }) = out.drain().next() else { unreachable!() };
//! b.on_message(NodeId(0), msg, &mut out).unwrap(); // b is idle: REPLY
//! let Some(Effect::Send { msg, .. }) = out.drain().next() else { unreachable!() };
//! assert_eq!(msg, LkMessage::Reply { sequence_number: 0, answers: 1 });
//! a.on_message(NodeId(1), msg, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! a.release(&mut out).unwrap();
//! assert!(out.is_empty(), "nothing concurrent, nothing kept: nothing to send");
//! ```

pub mod describe;

use std::collections::BTreeSet;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, Stamp, validate_members};
use serde::{Deserialize, Serialize};

/// The three messages of the algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum LkMessage {
    /// "I want the critical section with sequence number …" — also the answer to a concurrent
    /// request.
    Request {
        /// The requester's sequence number (Lamport clock).
        sequence_number: u64,
        /// The sequence number of the requester's previous request, served (0: none).
        previous: u64,
    },
    /// The answer of a site not requesting, or kept until its exit; it carries the sender's
    /// last sequence number (its requests up to it are served).
    Reply {
        /// The sender's latest sequence number (0: it never requested).
        sequence_number: u64,
        /// The sequence number of the request answered.
        answers: u64,
    },
    /// "My request, with this sequence number, is served; yours is next."
    Flush {
        /// The sequence number of the request just served.
        sequence_number: u64,
        /// The sequence number of the request answered (the next one).
        answers: u64,
    },
}

impl Message for LkMessage {
    fn kind(&self) -> &'static str {
        match self {
            LkMessage::Request { .. } => "REQUEST",
            LkMessage::Reply { .. } => "REPLY",
            LkMessage::Flush { .. } => "FLUSH",
        }
    }

    fn timestamp(&self) -> Option<u64> {
        match *self {
            LkMessage::Request {
                sequence_number, ..
            }
            | LkMessage::Reply {
                sequence_number, ..
            }
            | LkMessage::Flush {
                sequence_number, ..
            } => Some(sequence_number),
        }
    }
}

/// One Lodha–Kshemkalyani site. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LodhaKshemkalyani {
    me: NodeId,
    /// The other members, sorted; the per-peer flags below are indexed like this list.
    peers: Vec<NodeId>,
    our_sequence_number: u64,
    highest_sequence_number: u64,
    phase: Phase,
    /// The paper's `RV`: `rv[k]`, `peers[k]` has answered the current request.
    rv: Vec<bool>,
    /// The paper's `LRQ`: the current request and those concurrent with it, by priority.
    lrq: BTreeSet<Stamp>,
    /// `kept[k]`: the sequence number of a REQUEST from `peers[k]`, not concurrent with ours,
    /// answered at the exit.
    kept: Vec<Option<u64>>,
    /// The highest request known served while the current one waits (from the FLUSHes and
    /// REPLYs received): every request up to it is served, so a REQUEST at or below it that
    /// arrives late is only an answer, not a request to queue.
    served: Option<Stamp>,
}

impl LodhaKshemkalyani {
    /// Site `me` of the cluster `members` (which includes `me`).
    pub fn new(me: NodeId, members: &[NodeId]) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut peers: Vec<NodeId> = members.iter().copied().filter(|&m| m != me).collect();
        peers.sort_unstable();
        let n = peers.len();
        Ok(LodhaKshemkalyani {
            me,
            peers,
            our_sequence_number: 0,
            highest_sequence_number: 0,
            phase: Phase::Idle,
            rv: vec![false; n],
            lrq: BTreeSet::new(),
            kept: vec![None; n],
            served: None,
        })
    }

    /// The site's Lamport clock: the highest sequence number seen so far.
    pub fn highest_sequence_number(&self) -> u64 {
        self.highest_sequence_number
    }

    /// The local request queue: the current request and those concurrent with it still
    /// pending, highest priority first (empty when idle).
    pub fn local_request_queue(&self) -> Vec<Stamp> {
        self.lrq.iter().copied().collect()
    }

    fn peer_index(&self, from: NodeId) -> Result<usize, Error> {
        self.peers
            .binary_search(&from)
            .map_err(|_| Error::NotAMember(from))
    }

    fn our_stamp(&self) -> Stamp {
        Stamp::new(self.our_sequence_number, self.me)
    }

    /// Enters when every site has answered and our request heads the LRQ.
    fn try_enter(&mut self, out: &mut Outbox<LkMessage>) {
        if self.phase == Phase::Requesting
            && self.rv.iter().all(|&r| r)
            && self.lrq.first() == Some(&self.our_stamp())
        {
            self.phase = Phase::InCriticalSection;
            out.enter();
        }
    }
}

impl Node for LodhaKshemkalyani {
    type Message = LkMessage;
    const GRANTS_IN_STAMP_ORDER: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<LkMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        let previous = self.our_sequence_number;
        self.our_sequence_number = self.highest_sequence_number + 1;
        self.highest_sequence_number = self.our_sequence_number;
        self.phase = Phase::Requesting;
        self.rv.fill(false);
        self.lrq.clear();
        self.lrq.insert(self.our_stamp());
        self.served = None;
        let msg = LkMessage::Request {
            sequence_number: self.our_sequence_number,
            previous,
        };
        for &peer in &self.peers {
            out.send(peer, msg);
        }
        self.try_enter(out);
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<LkMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        self.phase = Phase::Idle;
        let sequence_number = self.our_sequence_number;
        self.lrq.remove(&self.our_stamp());
        if let Some(next) = self.lrq.first() {
            let answers = next.clock;
            out.send(
                next.node,
                LkMessage::Flush {
                    sequence_number,
                    answers,
                },
            );
        }
        self.lrq.clear();
        self.rv.fill(false);
        self.served = None;
        for k in 0..self.peers.len() {
            if let Some(answers) = self.kept[k].take() {
                out.send(
                    self.peers[k],
                    LkMessage::Reply {
                        sequence_number,
                        answers,
                    },
                );
            }
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: LkMessage,
        out: &mut Outbox<LkMessage>,
    ) -> Result<(), Error> {
        let k = self.peer_index(from)?;
        let unexpected = |reason: &str| {
            Err(Error::UnexpectedMessage {
                from,
                reason: reason.to_string(),
            })
        };
        match msg {
            LkMessage::Request {
                sequence_number,
                previous,
            } => {
                let theirs = Stamp::new(sequence_number, from);
                if self.kept[k].is_some() || self.lrq.contains(&theirs) {
                    return unexpected("a second REQUEST before our answer to the first");
                }
                if previous >= sequence_number {
                    return unexpected("a REQUEST whose previous request is not older");
                }
                self.highest_sequence_number = self.highest_sequence_number.max(sequence_number);
                // A site has one request at a time: its new REQUEST says its previous one is
                // served, and with it every request of higher priority (served before it).
                if previous > 0 && self.phase != Phase::Idle {
                    let served = Stamp::new(previous, from);
                    self.served = self.served.max(Some(served));
                    let own = self.our_stamp();
                    self.lrq.retain(|s| *s == own || *s > served);
                }
                if self.phase == Phase::Idle {
                    out.send(
                        from,
                        LkMessage::Reply {
                            sequence_number: self.our_sequence_number,
                            answers: sequence_number,
                        },
                    );
                } else if self.served.is_some_and(|s| theirs <= s) {
                    // Overtaken by the FLUSHes that followed its service: only an answer.
                    self.rv[k] = true;
                    self.try_enter(out);
                } else if !self.rv[k] {
                    // Concurrent with ours: it is also the sender's answer.
                    self.rv[k] = true;
                    self.lrq.insert(theirs);
                    self.try_enter(out);
                } else {
                    self.kept[k] = Some(sequence_number);
                    // Its older request may have been what we waited behind.
                    self.try_enter(out);
                }
            }
            LkMessage::Reply {
                sequence_number,
                answers,
            }
            | LkMessage::Flush {
                sequence_number,
                answers,
            } => {
                if answers > self.our_sequence_number {
                    return unexpected("an answer to a request we never made");
                }
                if self.phase != Phase::Requesting || answers < self.our_sequence_number {
                    // About a request already served (ours went ahead on another answer).
                    return Ok(());
                }
                self.highest_sequence_number = self.highest_sequence_number.max(sequence_number);
                self.rv[k] = true;
                let served = Stamp::new(sequence_number, from);
                self.served = self.served.max(Some(served));
                let own = self.our_stamp();
                self.lrq.retain(|s| *s == own || *s > served);
                self.try_enter(out);
            }
        }
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    /// The sites that have not answered yet, and those whose concurrent requests are ahead of
    /// ours.
    fn waiting_for(&self) -> Vec<NodeId> {
        if self.phase != Phase::Requesting {
            return Vec::new();
        }
        let own = self.our_stamp();
        let mut waits: Vec<NodeId> = self
            .peers
            .iter()
            .zip(&self.rv)
            .filter(|(_, r)| !**r)
            .map(|(p, _)| *p)
            .chain(self.lrq.range(..own).map(|s| s.node))
            .collect();
        waits.sort_unstable();
        waits.dedup();
        waits
    }

    fn request_stamp(&self) -> Option<Stamp> {
        (self.phase != Phase::Idle).then(|| self.our_stamp())
    }
}

#[cfg(test)]
mod tests;
