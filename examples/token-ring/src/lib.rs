//! A token ring: the smallest token-based distributed mutual exclusion algorithm, written as a
//! user of dme would write their own — one crate depending on `dme-sim` (which re-exports the
//! node contract, `dme-core`) and `serde`.
//!
//! **What it does.** The members form a ring in increasing id order; one node holds the token
//! and only the holder may enter the critical section. A node that wants the token and does not
//! hold it sends `REQUEST(origin)` to its successor; every node that does not hold the token
//! passes a request on to its successor. The holder adds the origin to the token's list of
//! pending requesters and, as soon as it is outside the critical section, sends the `TOKEN` to
//! its successor. The token travels the ring: a requesting node enters when it arrives; every
//! node takes itself off the pending list; the token moves on while the list is not empty and
//! stays where it is when it is.
//!
//! **What it assumes.** Reliable channels (no FIFO needed: a request that overtakes the token and
//! comes back to its requester is simply sent round again). The ring order is the sorted member
//! list; the smallest id holds the token at the start.
//!
//! **What it costs.** At light load, N messages per entry when the requester does not hold the
//! token (the request goes from the requester to the holder, the token the rest of the way
//! round), none when it does. The token never moves while nobody asks for it.

use dme_sim::dme_core::{Error, Message, Node, NodeId, Outbox, Phase, validate_members};
use serde::{Deserialize, Serialize};

/// The messages of the token ring. `Serialize` and `Deserialize` are required by the
/// [`Message`] trait: traces and real transports carry messages as bytes.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum RingMessage {
    /// `origin` wants the token; passed along the ring to the holder.
    Request {
        /// The node that asked.
        origin: NodeId,
    },
    /// The token, with the requesters it still has to visit.
    Token {
        /// Requesters the token has heard of and not yet visited, in the order heard.
        pending: Vec<NodeId>,
    },
}

impl Message for RingMessage {
    fn kind(&self) -> &'static str {
        match self {
            RingMessage::Request { .. } => "REQUEST",
            RingMessage::Token { .. } => "TOKEN",
        }
    }

    fn carries_token(&self) -> bool {
        matches!(self, RingMessage::Token { .. })
    }
}

/// One member of a token ring.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct TokenRing {
    me: NodeId,
    successor: NodeId,
    predecessor: NodeId,
    phase: Phase,
    /// Whether this node holds the token.
    holder: bool,
    /// While holding: the requesters the token still has to visit.
    pending: Vec<NodeId>,
}

impl TokenRing {
    /// Node `me` of the ring `members` (any order, no duplicates, `me` among them).
    pub fn new(me: NodeId, members: &[NodeId]) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut ring = members.to_vec();
        ring.sort_unstable();
        let n = ring.len();
        let at = ring.iter().position(|&m| m == me).unwrap_or(0);
        Ok(TokenRing {
            me,
            successor: ring[(at + 1) % n],
            predecessor: ring[(at + n - 1) % n],
            phase: Phase::Idle,
            holder: at == 0,
            pending: Vec::new(),
        })
    }

    /// Sends the token on to the successor with the pending list.
    fn pass_token(&mut self, out: &mut Outbox<RingMessage>) {
        self.holder = false;
        let pending = std::mem::take(&mut self.pending);
        out.send(self.successor, RingMessage::Token { pending });
    }
}

impl Node for TokenRing {
    type Message = RingMessage;
    const TOKEN_BASED: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<RingMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        if self.holder {
            // A holder outside the critical section has an empty pending list: it would have
            // passed the token on otherwise.
            self.phase = Phase::InCriticalSection;
            out.enter();
        } else {
            self.phase = Phase::Requesting;
            out.send(self.successor, RingMessage::Request { origin: self.me });
        }
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<RingMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        self.phase = Phase::Idle;
        if !self.pending.is_empty() {
            self.pass_token(out);
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RingMessage,
        out: &mut Outbox<RingMessage>,
    ) -> Result<(), Error> {
        // Validate first, so that a rejected message changes nothing.
        if from == self.me {
            return Err(Error::NotAMember(from));
        }
        if from != self.predecessor {
            return Err(Error::UnexpectedMessage {
                from,
                reason: format!("only {} sends to {} on the ring", self.predecessor, self.me),
            });
        }
        match msg {
            RingMessage::Request { origin } => {
                if self.holder {
                    if !self.pending.contains(&origin) {
                        self.pending.push(origin);
                    }
                    if self.phase == Phase::Idle {
                        self.pass_token(out);
                    }
                } else if origin != self.me || self.phase == Phase::Requesting {
                    // Someone else's request, or our own that went round while the token was
                    // moving: on to the successor. Our own once we are served is dropped.
                    out.send(self.successor, RingMessage::Request { origin });
                }
            }
            RingMessage::Token { mut pending } => {
                if self.holder {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a second token".into(),
                    });
                }
                pending.retain(|&p| p != self.me);
                if self.phase == Phase::Requesting {
                    self.holder = true;
                    self.pending = pending;
                    self.phase = Phase::InCriticalSection;
                    out.enter();
                } else if pending.is_empty() {
                    self.holder = true;
                } else {
                    out.send(self.successor, RingMessage::Token { pending });
                }
            }
        }
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        if self.phase == Phase::Requesting {
            // The token can only come from the predecessor.
            vec![self.predecessor]
        } else {
            Vec::new()
        }
    }

    fn holds_token(&self) -> bool {
        self.holder
    }
}

/// The ring `0..n`, numbered as the simulator and the checker require (node `i` has id
/// `NodeId(i)`, at position `i`).
pub fn ring(n: usize) -> Result<Vec<TokenRing>, Error> {
    let members = dme_sim::dme_core::cluster(n);
    members
        .iter()
        .map(|&id| TokenRing::new(id, &members))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_sim::dme_core::Effect;

    fn effects(out: &mut Outbox<RingMessage>) -> Vec<Effect<RingMessage>> {
        out.drain().collect()
    }

    #[test]
    fn the_holder_enters_without_a_message_and_a_request_reaches_it() {
        let mut nodes = ring(3).unwrap();
        let mut out = Outbox::new();
        nodes[0].request(&mut out).unwrap();
        assert_eq!(effects(&mut out), vec![Effect::Enter]);
        nodes[0].release(&mut out).unwrap();
        assert!(out.is_empty(), "nobody waits: the token stays");

        nodes[1].request(&mut out).unwrap();
        let request = RingMessage::Request { origin: NodeId(1) };
        assert_eq!(
            effects(&mut out),
            vec![Effect::Send {
                to: NodeId(2),
                msg: request.clone()
            }]
        );
        nodes[2]
            .on_message(NodeId(1), request.clone(), &mut out)
            .unwrap();
        assert_eq!(
            effects(&mut out),
            vec![Effect::Send {
                to: NodeId(0),
                msg: request.clone()
            }]
        );
        nodes[0].on_message(NodeId(2), request, &mut out).unwrap();
        let token = RingMessage::Token {
            pending: vec![NodeId(1)],
        };
        assert_eq!(
            effects(&mut out),
            vec![Effect::Send {
                to: NodeId(1),
                msg: token.clone()
            }]
        );
        nodes[1].on_message(NodeId(0), token, &mut out).unwrap();
        assert_eq!(effects(&mut out), vec![Effect::Enter]);
        assert!(nodes[1].holds_token() && !nodes[0].holds_token());
    }

    #[test]
    fn misuse_is_an_error_and_changes_nothing() {
        let mut nodes = ring(3).unwrap();
        let mut out = Outbox::new();
        let before = nodes.clone();
        assert_eq!(nodes[1].release(&mut out), Err(Error::NotInCriticalSection));
        let token = RingMessage::Token { pending: vec![] };
        assert!(
            nodes[0]
                .on_message(NodeId(2), token.clone(), &mut out)
                .is_err()
        );
        assert!(
            nodes[1].on_message(NodeId(2), token, &mut out).is_err(),
            "not the predecessor"
        );
        assert!(
            nodes[1]
                .on_message(
                    NodeId(1),
                    RingMessage::Request { origin: NodeId(1) },
                    &mut out
                )
                .is_err()
        );
        assert_eq!(nodes, before);
        assert!(out.is_empty());
        nodes[1].request(&mut out).unwrap();
        out.clear();
        let requesting = nodes[1].clone();
        assert_eq!(nodes[1].request(&mut out), Err(Error::AlreadyRequesting));
        assert_eq!(nodes[1], requesting);
        assert!(TokenRing::new(NodeId(5), &dme_sim::dme_core::cluster(3)).is_err());
    }
}
