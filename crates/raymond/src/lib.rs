//! Raymond's tree-based token algorithm (ACM TOCS 7(1), 1989).
//!
//! **What it does.** The nodes are arranged in an unrooted spanning [`Tree`]; a single token,
//! the PRIVILEGE, grants the critical section. Each node keeps `HOLDER`, the neighbour in the
//! direction of the token (itself when it holds it), so the `HOLDER` pointers always form a tree
//! directed towards the token. A node also keeps a FIFO `REQUEST_Q` of the neighbours (and
//! possibly itself) that asked it for the token, a flag `USING` (it is in the critical section)
//! and a flag `ASKED` (it has sent a REQUEST to its `HOLDER` and not yet had the token back).
//! Every event — the wish to enter, a REQUEST from neighbour X (`X` is enqueued), the PRIVILEGE
//! arriving (`HOLDER := self`), leaving the critical section (`USING := false`) — is followed by
//! the paper's two procedures:
//!
//! * `ASSIGN_PRIVILEGE`: if `HOLDER = self`, not `USING` and `REQUEST_Q` is not empty, dequeue
//!   its head into `HOLDER` and clear `ASKED`; if the head is self, set `USING` and enter,
//!   otherwise send the PRIVILEGE to it;
//! * `MAKE_REQUEST`: if `HOLDER ≠ self`, `REQUEST_Q` is not empty and not `ASKED`, send a
//!   REQUEST to `HOLDER` and set `ASKED`.
//!
//! A REQUEST thus climbs hop by hop towards the token, each node on the way asking once on
//! behalf of its whole subtree, and the PRIVILEGE comes back down the same path, served at
//! every node in the FIFO order of its `REQUEST_Q`. Messages are named "REQUEST" and "TOKEN"
//! (the PRIVILEGE).
//!
//! **What it assumes.** Reliable channels between tree neighbours: every message is delivered
//! exactly once. FIFO order is *not* required: a node has at most one REQUEST in flight to a
//! neighbour (`ASKED`), and there is one token, so the only two messages that can share a channel
//! are a PRIVILEGE followed by the sender's own REQUEST (when it still has requests queued after
//! passing the token on). If that REQUEST overtakes the PRIVILEGE, the receiver — whose `HOLDER`
//! is the sender and whose `ASKED` is set, since it asked for the token — only enqueues the
//! sender, and serves it in turn once the PRIVILEGE arrives. No node crashes; the tree is fixed.
//!
//! **What it costs.** At light load an entry costs 2·d messages, d being the tree distance from
//! the requester to the token (d REQUESTs up, d TOKEN hops down; 0 when it already holds the
//! token); on a balanced tree d = O(log N). At heavy load a REQUEST is answered near its sender:
//! every hop of the token costs one REQUEST and one TOKEN, and because the request queues are
//! FIFO the token tours the tree depth first, 2(N − 1) hops for N entries — about 4 messages
//! per entry whatever N (3.72 at N = 15, 3.99 at N = 1023 on balanced binary trees in the
//! simulator). The synchronization delay is T·d, d being the distance between consecutive
//! holders: about 2T at heavy load by the same tour argument, below the T·(log N)/2 that
//! textbooks quote for a balanced tree (measured 1.87T at N = 15, 2.0T at N = 1023).
//!
//! ```
//! use dme_core::{Effect, Node, NodeId, Outbox};
//! use dme_raymond::{Raymond, RaymondMessage, Tree};
//!
//! // The line 0 – 1, the token at 0.
//! let tree = Tree::line(2).unwrap();
//! let mut nodes = Raymond::cluster(&tree, NodeId(0)).unwrap();
//! let mut out = Outbox::new();
//!
//! nodes[1].request(&mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(),
//!            vec![Effect::Send { to: NodeId(0), msg: RaymondMessage::Request }]);
//! nodes[0].on_message(NodeId(1), RaymondMessage::Request, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(),
//!            vec![Effect::Send { to: NodeId(1), msg: RaymondMessage::Privilege }]);
//! nodes[1].on_message(NodeId(0), RaymondMessage::Privilege, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! assert!(nodes[1].holds_token());
//! nodes[1].release(&mut out).unwrap();
//! assert!(out.is_empty(), "the token stays where it was last used");
//! ```

pub mod describe;
mod tree;

use std::collections::VecDeque;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase};
use serde::{Deserialize, Serialize};

pub use tree::{ParseTreeShapeError, Tree, TreeShape};

/// The two messages of the algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RaymondMessage {
    /// "Someone on my side of the tree wants the token" (kind "REQUEST").
    Request,
    /// The token itself (kind "TOKEN").
    Privilege,
}

impl Message for RaymondMessage {
    fn kind(&self) -> &'static str {
        match self {
            RaymondMessage::Request => "REQUEST",
            RaymondMessage::Privilege => "TOKEN",
        }
    }

    fn carries_token(&self) -> bool {
        matches!(self, RaymondMessage::Privilege)
    }
}

/// One node of Raymond's algorithm. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Raymond {
    me: NodeId,
    /// The tree neighbours, sorted.
    neighbours: Vec<NodeId>,
    /// `HOLDER`: the neighbour towards the token, or `me` when this node holds it.
    holder: NodeId,
    /// `USING`: this node is in the critical section.
    using: bool,
    /// `REQUEST_Q`: neighbours (and possibly `me`) waiting for the token, oldest first.
    request_q: VecDeque<NodeId>,
    /// `ASKED`: a REQUEST has been sent to `HOLDER` for the current queue.
    asked: bool,
}

impl Raymond {
    /// Node `me` with tree neighbours `neighbours` and initial `HOLDER` `holder`: `me` if it
    /// starts with the token, otherwise the neighbour on the path to the token.
    ///
    /// Fails if `neighbours` contains `me` or a duplicate, or if `holder` is neither `me` nor a
    /// neighbour (a node without neighbours is a one-node cluster and must hold the token).
    pub fn new(me: NodeId, neighbours: &[NodeId], holder: NodeId) -> Result<Self, Error> {
        let mut sorted = neighbours.to_vec();
        sorted.sort_unstable();
        if sorted.binary_search(&me).is_ok() {
            return Err(Error::InvalidCluster(format!(
                "{me} is listed as its own neighbour"
            )));
        }
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::InvalidCluster(format!(
                "neighbour {} listed twice",
                w[0]
            )));
        }
        if holder != me && sorted.binary_search(&holder).is_err() {
            return Err(Error::InvalidCluster(format!(
                "HOLDER {holder} of {me} is neither {me} nor one of its neighbours"
            )));
        }
        Ok(Raymond {
            me,
            neighbours: sorted,
            holder,
            using: false,
            request_q: VecDeque::new(),
            asked: false,
        })
    }

    /// Node `me` of `tree` when `token_holder` initially holds the token.
    pub fn from_tree(tree: &Tree, me: NodeId, token_holder: NodeId) -> Result<Self, Error> {
        if !tree.contains(me) || !tree.contains(token_holder) {
            return Err(Error::InvalidCluster(format!(
                "{me} or the token holder {token_holder} is not in the tree of {} nodes",
                tree.node_count()
            )));
        }
        let holder = tree.next_hop(me, token_holder).unwrap_or(me);
        Raymond::new(me, tree.neighbours(me), holder)
    }

    /// All nodes of `tree`, node `i` at index `i`, with the token initially at `token_holder`
    /// (use [`Tree::root`] for the default, `NodeId(0)`).
    pub fn cluster(tree: &Tree, token_holder: NodeId) -> Result<Vec<Self>, Error> {
        tree.nodes()
            .map(|me| Raymond::from_tree(tree, me, token_holder))
            .collect()
    }

    /// The tree neighbours, sorted.
    pub fn neighbours(&self) -> &[NodeId] {
        &self.neighbours
    }

    /// `HOLDER`: the neighbour towards the token, or this node's id when it holds the token.
    pub fn holder(&self) -> NodeId {
        self.holder
    }

    /// `REQUEST_Q`, oldest first.
    pub fn request_queue(&self) -> &VecDeque<NodeId> {
        &self.request_q
    }

    /// `USING`: whether this node is in the critical section.
    pub fn using(&self) -> bool {
        self.using
    }

    /// `ASKED`: whether a REQUEST has been sent to `HOLDER` and the token has not come back.
    pub fn asked(&self) -> bool {
        self.asked
    }

    /// The paper's `ASSIGN_PRIVILEGE`.
    fn assign_privilege(&mut self, out: &mut Outbox<RaymondMessage>) {
        if self.holder == self.me && !self.using {
            if let Some(head) = self.request_q.pop_front() {
                self.holder = head;
                self.asked = false;
                if head == self.me {
                    self.using = true;
                    out.enter();
                } else {
                    out.send(head, RaymondMessage::Privilege);
                }
            }
        }
    }

    /// The paper's `MAKE_REQUEST`.
    fn make_request(&mut self, out: &mut Outbox<RaymondMessage>) {
        if self.holder != self.me && !self.request_q.is_empty() && !self.asked {
            out.send(self.holder, RaymondMessage::Request);
            self.asked = true;
        }
    }
}

impl Node for Raymond {
    type Message = RaymondMessage;
    const TOKEN_BASED: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<RaymondMessage>) -> Result<(), Error> {
        if self.phase() != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        self.request_q.push_back(self.me);
        self.assign_privilege(out);
        self.make_request(out);
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<RaymondMessage>) -> Result<(), Error> {
        if !self.using {
            return Err(Error::NotInCriticalSection);
        }
        self.using = false;
        self.assign_privilege(out);
        self.make_request(out);
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RaymondMessage,
        out: &mut Outbox<RaymondMessage>,
    ) -> Result<(), Error> {
        if self.neighbours.binary_search(&from).is_err() {
            return Err(Error::NotAMember(from));
        }
        match msg {
            RaymondMessage::Request => {
                if self.request_q.contains(&from) {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a second REQUEST while the first is still in REQUEST_Q".into(),
                    });
                }
                self.request_q.push_back(from);
            }
            RaymondMessage::Privilege => {
                let reason = if self.holder == self.me {
                    Some("a second token: this node already holds the PRIVILEGE")
                } else if from != self.holder {
                    Some("the PRIVILEGE from a neighbour that is not HOLDER")
                } else if !self.asked {
                    Some("the PRIVILEGE without having ASKED for it")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: reason.into(),
                    });
                }
                self.holder = self.me;
            }
        }
        self.assign_privilege(out);
        self.make_request(out);
        Ok(())
    }

    fn phase(&self) -> Phase {
        if self.using {
            Phase::InCriticalSection
        } else if self.request_q.contains(&self.me) {
            Phase::Requesting
        } else {
            Phase::Idle
        }
    }

    /// The `HOLDER` neighbour, while requesting (the token comes from there).
    fn waiting_for(&self) -> Vec<NodeId> {
        if self.phase() == Phase::Requesting && self.holder != self.me {
            vec![self.holder]
        } else {
            Vec::new()
        }
    }

    fn holds_token(&self) -> bool {
        self.holder == self.me
    }
}

#[cfg(test)]
mod tests;
