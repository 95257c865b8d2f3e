//! Maekawa's algorithm (the full version, with deadlock handling) broken by a wrapper around the
//! real node from `crates/maekawa` that intercepts its inputs or its effects.

use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase, Stamp};
use dme_maekawa::{Maekawa, MaekawaMessage, Quorums};

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// An arbiter already locked for one request answers another REQUEST with a REPLY as well:
    /// it lends its single permission twice.
    GrantsTwice,
    /// An arbiter freed by a RELEASE does not lend its permission to the next waiting request
    /// (it locks for it, but the REPLY is never sent).
    NoRegrantAfterRelease,
    /// A requester ignores INQUIRE, so it never yields a permission it holds.
    IgnoresInquire,
    /// Leaving the critical section, a node forgets the RELEASE to the last remote member of
    /// its request set, which stays locked.
    ForgetsARelease,
}

/// A real Maekawa node with a bug.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Mutant {
    inner: Maekawa,
    bug: Bug,
}

/// Every node of the cluster described by `quorums`, with deadlock handling, and `bug`.
pub fn cluster(quorums: &Quorums, bug: Bug) -> Vec<Mutant> {
    Maekawa::cluster(quorums)
        .expect("valid quorums")
        .into_iter()
        .map(|inner| Mutant { inner, bug })
        .collect()
}

impl Node for Mutant {
    type Message = MaekawaMessage;

    fn id(&self) -> NodeId {
        self.inner.id()
    }

    fn request(&mut self, out: &mut Outbox<MaekawaMessage>) -> Result<(), Error> {
        self.inner.request(out)
    }

    fn release(&mut self, out: &mut Outbox<MaekawaMessage>) -> Result<(), Error> {
        let before = out.len();
        self.inner.release(out)?;
        if self.bug == Bug::ForgetsARelease {
            let effects: Vec<_> = out.drain().collect();
            let last = effects
                .iter()
                .rposition(|e| matches!(e, Effect::Send { .. }))
                .filter(|&i| i >= before);
            for (i, e) in effects.into_iter().enumerate() {
                if Some(i) != last {
                    push(out, e);
                }
            }
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: MaekawaMessage,
        out: &mut Outbox<MaekawaMessage>,
    ) -> Result<(), Error> {
        let locked = self.inner.locked_request();
        match (self.bug, msg) {
            (Bug::IgnoresInquire, MaekawaMessage::Inquire { .. }) => Ok(()),
            (Bug::GrantsTwice, MaekawaMessage::Request { request }) if locked.is_some() => {
                self.inner.on_message(from, msg, out)?;
                // Any grant number above the requester's last one for this request is accepted.
                out.send(from, MaekawaMessage::Reply { request, grant: 1 });
                Ok(())
            }
            (Bug::NoRegrantAfterRelease, MaekawaMessage::Release { .. }) => {
                let before = out.len();
                self.inner.on_message(from, msg, out)?;
                let effects: Vec<_> = out.drain().collect();
                for (i, e) in effects.into_iter().enumerate() {
                    let reply = matches!(
                        e,
                        Effect::Send {
                            msg: MaekawaMessage::Reply { .. },
                            ..
                        }
                    );
                    if i < before || !reply {
                        push(out, e);
                    }
                }
                Ok(())
            }
            _ => self.inner.on_message(from, msg, out),
        }
    }

    fn phase(&self) -> Phase {
        self.inner.phase()
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        self.inner.waiting_for()
    }

    fn locked_for(&self) -> Option<NodeId> {
        self.inner.locked_for()
    }

    fn request_stamp(&self) -> Option<Stamp> {
        self.inner.request_stamp()
    }
}

fn push(out: &mut Outbox<MaekawaMessage>, e: Effect<MaekawaMessage>) {
    match e {
        Effect::Send { to, msg } => out.send(to, msg),
        Effect::Enter => out.enter(),
    }
}
