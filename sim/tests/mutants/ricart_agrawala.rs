//! Ricart–Agrawala's mistakes, each a wrapper over the real node of `crates/ricart-agrawala`
//! (see `dme_conformance::mutant`).

use dme_conformance::mutant::{Mistake, Mutant, keep_new, mutants};
use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase, cluster as members};
use dme_ricart_agrawala::{RaMessage, RicartAgrawala};

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// A REQUEST that arrives while in the critical section is answered at once instead of
    /// being deferred (only a *requesting* node defers). The real node takes the REQUEST (and
    /// defers it); the REPLY is sent at once, and the one the real node sends on leaving is
    /// dropped.
    RepliesInCriticalSection,
    /// The deferral test compares sequence numbers only, forgetting the id tie-break: two
    /// requests with equal sequence numbers both get a REPLY. The real node is handed a tie as
    /// a REQUEST one lower, which it answers (its clock is at least ours, so it is unchanged).
    IgnoresTieBreak,
    /// Leaving the critical section forgets the deferred REPLYs (dropped from the effects).
    ForgetsDeferredReplies,
    /// A received REQUEST does not advance `highest_sequence_number` (no Lamport clock): a node
    /// that replied to a request can later ask with a smaller sequence number. The real node is
    /// handed the REQUEST with its number lowered to the node's clock, where that keeps its
    /// decision; where it would not (a requesting node whose own number is its clock, behind a
    /// lower id), the REQUEST goes through unchanged.
    NoClockUpdate,
}

/// A bug and, for `RepliesInCriticalSection`, the peers answered early (their REPLY is still
/// deferred in the real node), sorted.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Broken {
    bug: Bug,
    answered: Vec<NodeId>,
}

/// The cluster `0..n`, every node with `bug`.
pub fn cluster(n: usize, bug: Bug) -> Vec<Mutant<RicartAgrawala, Broken>> {
    let ids = members(n);
    let real = ids
        .iter()
        .map(|&i| RicartAgrawala::new(i, &ids).expect("a valid cluster"))
        .collect();
    mutants(
        real,
        Broken {
            bug,
            answered: Vec::new(),
        },
    )
}

impl Mistake<RicartAgrawala> for Broken {
    fn release(
        &mut self,
        node: &mut RicartAgrawala,
        out: &mut Outbox<RaMessage>,
    ) -> Result<(), Error> {
        let before = out.len();
        node.release(out)?;
        let answered = std::mem::take(&mut self.answered);
        let forgets = self.bug == Bug::ForgetsDeferredReplies;
        keep_new(out, before, |e| match e {
            Effect::Send {
                to,
                msg: RaMessage::Reply,
            } => !forgets && !answered.contains(to),
            _ => true,
        });
        Ok(())
    }

    fn on_message(
        &mut self,
        node: &mut RicartAgrawala,
        from: NodeId,
        msg: RaMessage,
        out: &mut Outbox<RaMessage>,
    ) -> Result<(), Error> {
        let RaMessage::Request { sequence_number } = msg else {
            return node.on_message(from, msg, out);
        };
        let ours = node.request_stamp();
        let highest = node.highest_sequence_number();
        if self.bug == Bug::RepliesInCriticalSection && node.phase() == Phase::InCriticalSection {
            node.on_message(from, msg, out)?;
            out.send(from, RaMessage::Reply);
            self.answered.push(from);
            self.answered.sort_unstable();
            return Ok(());
        }
        let doctored = match (self.bug, ours) {
            (Bug::IgnoresTieBreak, Some(ours)) if ours.clock == sequence_number => {
                sequence_number.saturating_sub(1)
            }
            (Bug::NoClockUpdate, _) if sequence_number <= highest => sequence_number,
            (Bug::NoClockUpdate, None) => 0,
            (Bug::NoClockUpdate, Some(ours)) if ours.clock < highest || node.id() < from => highest,
            _ => sequence_number,
        };
        node.on_message(
            from,
            RaMessage::Request {
                sequence_number: doctored,
            },
            out,
        )
    }
}
