//! The central coordinator: the simplest distributed mutual exclusion algorithm, and the
//! baseline the others are measured against (Kshemkalyani and Singhal, *Distributed
//! Computing*, §9.1; Coulouris et al., *Distributed Systems*, "the central server algorithm").
//!
//! **What it does.** One node, the *coordinator* (node 0 in clusters built by dme's tools),
//! owns the single permission to enter. A node that wants the critical section sends REQUEST
//! to the coordinator and waits for GRANT; on leaving it sends RELEASE. The coordinator grants
//! the permission to one node at a time and queues the other requests in the order they
//! arrive (FIFO, not by timestamp: there are no timestamps). The coordinator's own requests
//! take the same queue, handled locally, without a message.
//!
//! **What it assumes.** Reliable channels: every message delivered exactly once. FIFO order is
//! *not* required: the only two messages that can share a channel are a node's RELEASE and its
//! next REQUEST, and a REQUEST that overtakes the RELEASE is simply queued behind the grant it
//! comes after. No crash: the coordinator is a single point of failure, and a node that crashes
//! holding the grant blocks everyone.
//!
//! **What it costs**, T the message delay:
//!
//! * 3 messages per entry of a non-coordinator (REQUEST, GRANT, RELEASE), 0 for the
//!   coordinator's own; over a run where every node requests equally often, 3(N−1)/N per
//!   entry, at light and at heavy load;
//! * synchronization delay 2T between two non-coordinators (RELEASE to the coordinator, GRANT
//!   to the next), T when the coordinator is the one leaving or entering;
//! * waiting time 2T at light load for a non-coordinator, 0 for the coordinator;
//! * the coordinator's memory grows with N (the members and the queue), every other node's is
//!   constant.
//!
//! ```
//! use dme_central::{Central, CentralMessage};
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//!
//! let members = cluster(2);
//! let mut coordinator = Central::new(NodeId(0), &members, NodeId(0)).unwrap();
//! let mut n1 = Central::new(NodeId(1), &members, NodeId(0)).unwrap();
//! let mut out = Outbox::new();
//!
//! n1.request(&mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(),
//!            vec![Effect::Send { to: NodeId(0), msg: CentralMessage::Request }]);
//! coordinator.on_message(NodeId(1), CentralMessage::Request, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(),
//!            vec![Effect::Send { to: NodeId(1), msg: CentralMessage::Grant }]);
//! n1.on_message(NodeId(0), CentralMessage::Grant, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! n1.release(&mut out).unwrap(); // RELEASE to the coordinator
//! ```

pub mod describe;

use std::collections::VecDeque;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, validate_members};
use serde::{Deserialize, Serialize};

/// The three messages of the algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum CentralMessage {
    /// To the coordinator: the sender asks for the critical section.
    Request,
    /// From the coordinator: the receiver may enter.
    Grant,
    /// To the coordinator: the sender has left the critical section.
    Release,
}

impl Message for CentralMessage {
    fn kind(&self) -> &'static str {
        match self {
            CentralMessage::Request => "REQUEST",
            CentralMessage::Grant => "GRANT",
            CentralMessage::Release => "RELEASE",
        }
    }
}

/// One node: the coordinator, or a node that asks it.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Central {
    me: NodeId,
    coordinator: NodeId,
    phase: Phase,
    /// The coordinator only: every member, sorted (empty elsewhere).
    members: Vec<NodeId>,
    /// The coordinator only: the node holding the permission.
    holder: Option<NodeId>,
    /// The coordinator only: the requests waiting, in arrival order.
    queue: VecDeque<NodeId>,
}

impl Central {
    /// Node `me` of the cluster `members`, whose coordinator is `coordinator` (a member).
    pub fn new(me: NodeId, members: &[NodeId], coordinator: NodeId) -> Result<Self, Error> {
        validate_members(me, members)?;
        validate_members(coordinator, members)?;
        let mut sorted = Vec::new();
        if me == coordinator {
            sorted = members.to_vec();
            sorted.sort_unstable();
        }
        Ok(Central {
            me,
            coordinator,
            phase: Phase::Idle,
            members: sorted,
            holder: None,
            queue: VecDeque::new(),
        })
    }

    /// Whether this node is the coordinator.
    pub fn is_coordinator(&self) -> bool {
        self.me == self.coordinator
    }

    /// The coordinator only: the node holding the permission.
    pub fn holder(&self) -> Option<NodeId> {
        self.holder
    }

    /// The coordinator only: the requests waiting, in arrival order.
    pub fn queue(&self) -> &VecDeque<NodeId> {
        &self.queue
    }

    /// The coordinator lends the permission to the next request in the queue, if it is free.
    fn grant_next(&mut self, out: &mut Outbox<CentralMessage>) {
        if self.holder.is_some() {
            return;
        }
        let Some(next) = self.queue.pop_front() else {
            return;
        };
        self.holder = Some(next);
        if next == self.me {
            self.phase = Phase::InCriticalSection;
            out.enter();
        } else {
            out.send(next, CentralMessage::Grant);
        }
    }
}

impl Node for Central {
    type Message = CentralMessage;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<CentralMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        self.phase = Phase::Requesting;
        if self.is_coordinator() {
            self.queue.push_back(self.me);
            self.grant_next(out);
        } else {
            out.send(self.coordinator, CentralMessage::Request);
        }
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<CentralMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        self.phase = Phase::Idle;
        if self.is_coordinator() {
            self.holder = None;
            self.grant_next(out);
        } else {
            out.send(self.coordinator, CentralMessage::Release);
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: CentralMessage,
        out: &mut Outbox<CentralMessage>,
    ) -> Result<(), Error> {
        let unexpected = |reason: String| Err(Error::UnexpectedMessage { from, reason });
        if from == self.me {
            return Err(Error::NotAMember(from));
        }
        if !self.is_coordinator() {
            if from != self.coordinator {
                return unexpected(format!(
                    "only the coordinator {} sends to other nodes",
                    self.coordinator
                ));
            }
            return match msg {
                CentralMessage::Grant if self.phase == Phase::Requesting => {
                    self.phase = Phase::InCriticalSection;
                    out.enter();
                    Ok(())
                }
                CentralMessage::Grant => unexpected(format!("GRANT while {}", self.phase)),
                other => unexpected(format!("{} is sent to the coordinator only", other.kind())),
            };
        }
        if self.members.binary_search(&from).is_err() {
            return Err(Error::NotAMember(from));
        }
        match msg {
            CentralMessage::Request => {
                if self.queue.contains(&from) {
                    return unexpected("a second REQUEST while the first waits".into());
                }
                // From the holder itself, it is its next request, which overtook its RELEASE.
                self.queue.push_back(from);
                self.grant_next(out);
                Ok(())
            }
            CentralMessage::Release => {
                if self.holder != Some(from) {
                    return unexpected("RELEASE without holding the permission".into());
                }
                self.holder = None;
                self.grant_next(out);
                Ok(())
            }
            CentralMessage::Grant => unexpected("GRANT sent to the coordinator".into()),
        }
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        match (self.phase, self.is_coordinator()) {
            (Phase::Requesting, false) => vec![self.coordinator],
            (Phase::Requesting, true) => self.holder.into_iter().collect(),
            _ => Vec::new(),
        }
    }

    fn locked_for(&self) -> Option<NodeId> {
        self.holder.filter(|&h| h != self.me)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_core::{Effect, cluster};

    fn nodes(n: usize) -> Vec<Central> {
        let members = cluster(n);
        members
            .iter()
            .map(|&id| Central::new(id, &members, NodeId(0)).unwrap())
            .collect()
    }

    fn sends(out: &mut Outbox<CentralMessage>) -> Vec<Effect<CentralMessage>> {
        out.drain().collect()
    }

    #[test]
    fn the_coordinator_grants_in_arrival_order_and_its_own_requests_cost_nothing() {
        let mut c = nodes(4);
        let mut out = Outbox::new();
        c[0].request(&mut out).unwrap();
        assert_eq!(sends(&mut out), vec![Effect::Enter]);
        for from in [3, 1, 2] {
            c[0].on_message(NodeId(from), CentralMessage::Request, &mut out)
                .unwrap();
        }
        assert!(out.is_empty());
        assert_eq!(
            c[0].queue().iter().map(|n| n.0).collect::<Vec<_>>(),
            [3, 1, 2]
        );
        c[0].release(&mut out).unwrap();
        assert_eq!(
            sends(&mut out),
            vec![Effect::Send {
                to: NodeId(3),
                msg: CentralMessage::Grant
            }]
        );
        c[0].on_message(NodeId(3), CentralMessage::Release, &mut out)
            .unwrap();
        assert_eq!(
            sends(&mut out),
            vec![Effect::Send {
                to: NodeId(1),
                msg: CentralMessage::Grant
            }]
        );
        assert_eq!(c[0].waiting_for(), Vec::<NodeId>::new());
        c[0].request(&mut out).unwrap();
        assert_eq!(c[0].waiting_for(), vec![NodeId(1)]);
        assert_eq!(c[0].locked_for(), Some(NodeId(1)));
    }

    #[test]
    fn misuse_is_an_error_and_changes_nothing() {
        let mut c = nodes(3);
        let mut out = Outbox::new();
        let before = c.clone();
        assert_eq!(c[1].release(&mut out), Err(Error::NotInCriticalSection));
        assert!(
            c[1].on_message(NodeId(2), CentralMessage::Grant, &mut out)
                .is_err()
        );
        assert!(
            c[1].on_message(NodeId(0), CentralMessage::Grant, &mut out)
                .is_err()
        );
        assert!(
            c[0].on_message(NodeId(1), CentralMessage::Release, &mut out)
                .is_err()
        );
        assert!(
            c[0].on_message(NodeId(1), CentralMessage::Grant, &mut out)
                .is_err()
        );
        assert_eq!(
            c[0].on_message(NodeId(7), CentralMessage::Request, &mut out),
            Err(Error::NotAMember(NodeId(7)))
        );
        assert_eq!(c, before);
        assert!(out.is_empty());
        c[0].request(&mut out).unwrap();
        let inside = c.clone();
        assert_eq!(c[0].request(&mut out), Err(Error::AlreadyRequesting));
        c[0].on_message(NodeId(1), CentralMessage::Request, &mut out)
            .unwrap();
        let queued = c.clone();
        assert!(
            c[0].on_message(NodeId(1), CentralMessage::Request, &mut out)
                .is_err()
        );
        assert_eq!(c, queued);
        assert_ne!(c, inside);
        assert!(Central::new(NodeId(0), &cluster(3), NodeId(5)).is_err());
    }
}
