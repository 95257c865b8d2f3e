//! Raymond's tree algorithm, copied compactly from `crates/raymond` with a switch for each bug.
//! With `bug: None` it is the real algorithm (checked by `the_copies_are_faithful`).

use std::collections::VecDeque;

use dme_core::{Error, Node, NodeId, Outbox, Phase};
use dme_raymond::{RaymondMessage, Tree};

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// `ASSIGN_PRIVILEGE` sends the token on without setting `HOLDER` to the new holder: the
    /// node still believes it holds the token.
    KeepsHolderWhenPassingToken,
    /// `ASSIGN_PRIVILEGE` ignores `USING`: a REQUEST arriving in the critical section takes the
    /// token away.
    PassesTokenWhileUsing,
    /// `ASSIGN_PRIVILEGE` never resets `ASKED`: after passing the token on, a node with
    /// requests still queued never asks for it again.
    NeverResetsAsked,
    /// Leaving the critical section runs `ASSIGN_PRIVILEGE` but not `MAKE_REQUEST`: when the
    /// token goes to one neighbour while another still waits, nobody asks for it back.
    NoRequestAfterRelease,
    /// Serves `REQUEST_Q` last-in first-out. Not a safety or liveness bug with finitely many
    /// requests (see `a_lifo_queue_is_not_a_bug_the_checks_can_see`).
    LifoQueue,
}

/// One node: the paper's variables.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Raymond {
    me: NodeId,
    neighbours: Vec<NodeId>,
    bug: Option<Bug>,
    holder: NodeId,
    using: bool,
    request_q: VecDeque<NodeId>,
    asked: bool,
}

/// Every node of `tree`, the token at `token_holder`.
pub fn cluster(tree: &Tree, token_holder: NodeId, bug: Option<Bug>) -> Vec<Raymond> {
    tree.nodes()
        .map(|me| Raymond {
            me,
            neighbours: tree.neighbours(me).to_vec(),
            bug,
            holder: tree.next_hop(me, token_holder).unwrap_or(me),
            using: false,
            request_q: VecDeque::new(),
            asked: false,
        })
        .collect()
}

impl Raymond {
    fn assign_privilege(&mut self, out: &mut Outbox<RaymondMessage>) {
        if self.holder != self.me || (self.using && self.bug != Some(Bug::PassesTokenWhileUsing)) {
            return;
        }
        let head = if self.bug == Some(Bug::LifoQueue) {
            self.request_q.pop_back()
        } else {
            self.request_q.pop_front()
        };
        let Some(head) = head else { return };
        if self.bug != Some(Bug::KeepsHolderWhenPassingToken) || head == self.me {
            self.holder = head;
        }
        if self.bug != Some(Bug::NeverResetsAsked) {
            self.asked = false;
        }
        if head == self.me {
            self.using = true;
            out.enter();
        } else {
            out.send(head, RaymondMessage::Privilege);
        }
    }

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
        if self.bug != Some(Bug::NoRequestAfterRelease) {
            self.make_request(out);
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RaymondMessage,
        out: &mut Outbox<RaymondMessage>,
    ) -> Result<(), Error> {
        if !self.neighbours.contains(&from) {
            return Err(Error::NotAMember(from));
        }
        let unexpected = |reason: &str| {
            Err(Error::UnexpectedMessage {
                from,
                reason: reason.into(),
            })
        };
        match msg {
            RaymondMessage::Request if self.request_q.contains(&from) => {
                return unexpected("a second REQUEST while the first is still in REQUEST_Q");
            }
            RaymondMessage::Request => self.request_q.push_back(from),
            RaymondMessage::Privilege if self.holder == self.me => {
                return unexpected("a second token: this node already holds the PRIVILEGE");
            }
            RaymondMessage::Privilege if from != self.holder => {
                return unexpected("the PRIVILEGE from a neighbour that is not HOLDER");
            }
            RaymondMessage::Privilege if !self.asked => {
                return unexpected("the PRIVILEGE without having ASKED for it");
            }
            RaymondMessage::Privilege => self.holder = self.me,
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
