//! Maekawa's mistakes (the full version, with deadlock handling), each a wrapper over the real
//! node of `crates/maekawa` (see `dme_conformance::mutant`).

use dme_conformance::mutant::{Mistake, Mutant, keep_new, mutants, send};
use dme_core::{Effect, Error, Node, NodeId, Outbox};
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

/// Every node of the cluster described by `quorums`, with deadlock handling, and `bug`.
pub fn cluster(quorums: &Quorums, bug: Bug) -> Vec<Mutant<Maekawa, Bug>> {
    mutants(Maekawa::cluster(quorums).expect("valid quorums"), bug)
}

impl Mistake<Maekawa> for Bug {
    fn release(
        &mut self,
        node: &mut Maekawa,
        out: &mut Outbox<MaekawaMessage>,
    ) -> Result<(), Error> {
        let before = out.len();
        node.release(out)?;
        if *self == Bug::ForgetsARelease {
            let last = out.effects()[before..]
                .iter()
                .rposition(|e| matches!(e, Effect::Send { .. }));
            let mut i = 0;
            keep_new(out, before, |_| {
                i += 1;
                Some(i - 1) != last
            });
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        node: &mut Maekawa,
        from: NodeId,
        msg: MaekawaMessage,
        out: &mut Outbox<MaekawaMessage>,
    ) -> Result<(), Error> {
        let locked = node.locked_request();
        match (*self, msg) {
            (Bug::IgnoresInquire, MaekawaMessage::Inquire { .. }) => Ok(()),
            (Bug::GrantsTwice, MaekawaMessage::Request { request }) if locked.is_some() => {
                node.on_message(from, msg, out)?;
                // Any grant number above the requester's last one for this request is accepted.
                send(out, from, MaekawaMessage::Reply { request, grant: 1 });
                Ok(())
            }
            (Bug::NoRegrantAfterRelease, MaekawaMessage::Release { .. }) => {
                let before = out.len();
                node.on_message(from, msg, out)?;
                keep_new(out, before, |e| {
                    !matches!(
                        e,
                        Effect::Send {
                            msg: MaekawaMessage::Reply { .. },
                            ..
                        }
                    )
                });
                Ok(())
            }
            _ => node.on_message(from, msg, out),
        }
    }
}
