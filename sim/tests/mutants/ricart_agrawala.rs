//! Ricart–Agrawala, copied compactly from `crates/ricart-agrawala` with a switch for each bug.
//! With `bug: None` it is the real algorithm (the test `the_copies_are_faithful` checks that its
//! state spaces and simulated runs are identical to the crate's).

use dme_core::{Error, Node, NodeId, Outbox, Phase, Stamp};
use dme_ricart_agrawala::RaMessage;

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// A REQUEST that arrives while in the critical section is answered at once instead of
    /// being deferred (only a *requesting* node defers).
    RepliesInCriticalSection,
    /// The deferral test compares sequence numbers only, forgetting the id tie-break: two
    /// requests with equal sequence numbers both get a REPLY.
    IgnoresTieBreak,
    /// Leaving the critical section forgets the deferred REPLYs.
    ForgetsDeferredReplies,
    /// A received REQUEST does not advance `highest_sequence_number` (no Lamport clock): a node
    /// that replied to a request can later ask with a smaller sequence number.
    NoClockUpdate,
}

/// One node: the paper's variables, per-peer flags indexed by node id.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Ra {
    me: NodeId,
    n: usize,
    bug: Option<Bug>,
    our_sequence_number: u64,
    highest_sequence_number: u64,
    phase: Phase,
    awaiting_reply: Vec<bool>,
    reply_deferred: Vec<bool>,
}

/// The cluster `0..n`.
pub fn cluster(n: usize, bug: Option<Bug>) -> Vec<Ra> {
    (0..n)
        .map(|i| Ra {
            me: NodeId(i as u32),
            n,
            bug,
            our_sequence_number: 0,
            highest_sequence_number: 0,
            phase: Phase::Idle,
            awaiting_reply: vec![false; n],
            reply_deferred: vec![false; n],
        })
        .collect()
}

impl Ra {
    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let me = self.me;
        (0..self.n as u32).map(NodeId).filter(move |&p| p != me)
    }

    fn member(&self, from: NodeId) -> Result<usize, Error> {
        (from != self.me && from.index() < self.n)
            .then_some(from.index())
            .ok_or(Error::NotAMember(from))
    }

    fn bug(&self, bug: Bug) -> bool {
        self.bug == Some(bug)
    }
}

impl Node for Ra {
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
        for peer in self.peers() {
            self.awaiting_reply[peer.index()] = true;
            out.send(
                peer,
                RaMessage::Request {
                    sequence_number: self.our_sequence_number,
                },
            );
        }
        if self.n == 1 {
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
        for peer in self.peers() {
            if std::mem::take(&mut self.reply_deferred[peer.index()])
                && !self.bug(Bug::ForgetsDeferredReplies)
            {
                out.send(peer, RaMessage::Reply);
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
        let k = self.member(from)?;
        match msg {
            RaMessage::Request { sequence_number } => {
                if self.reply_deferred[k] {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "a second REQUEST before our REPLY to the first".into(),
                    });
                }
                if !self.bug(Bug::NoClockUpdate) {
                    self.highest_sequence_number =
                        self.highest_sequence_number.max(sequence_number);
                }
                let ours = Stamp::new(self.our_sequence_number, self.me);
                let theirs = Stamp::new(sequence_number, from);
                let defer = match self.bug {
                    Some(Bug::RepliesInCriticalSection) => {
                        self.phase == Phase::Requesting && ours < theirs
                    }
                    Some(Bug::IgnoresTieBreak) => {
                        self.phase != Phase::Idle && ours.clock < theirs.clock
                    }
                    _ => self.phase != Phase::Idle && ours < theirs,
                };
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
                if !self.awaiting_reply.contains(&true) {
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
        self.peers()
            .filter(|p| self.awaiting_reply[p.index()])
            .collect()
    }

    fn request_stamp(&self) -> Option<Stamp> {
        (self.phase != Phase::Idle).then(|| Stamp::new(self.our_sequence_number, self.me))
    }
}
