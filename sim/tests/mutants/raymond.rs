//! Raymond's mistakes, each a wrapper over the real node of `crates/raymond` (see
//! `dme_conformance::mutant`).

use dme_conformance::mutant::{Mistake, Mutant, keep_new, mutants, produced, send};
use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase};
use dme_raymond::{Raymond, RaymondMessage, Tree};

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// `ASSIGN_PRIVILEGE` sends the token on without setting `HOLDER` to the new holder: the
    /// node still believes it holds the token (it says so from then on).
    KeepsHolderWhenPassingToken,
    /// `ASSIGN_PRIVILEGE` ignores `USING`: a REQUEST arriving in the critical section takes the
    /// token away. The real node is released early (which runs `ASSIGN_PRIVILEGE` and
    /// `MAKE_REQUEST` exactly as the mistaken one would) while the node still says it is in the
    /// critical section, until it leaves.
    PassesTokenWhileUsing,
    /// `ASSIGN_PRIVILEGE` never resets `ASKED`: once a node has asked for the token, it never
    /// asks again (every later REQUEST it would send is dropped).
    NeverResetsAsked,
    /// Leaving the critical section runs `ASSIGN_PRIVILEGE` but not `MAKE_REQUEST`: when the
    /// token goes to one neighbour while another still waits, nobody asks for it back. The
    /// REQUEST of the release is dropped and sent at the node's next step instead, when the
    /// mistaken node's `MAKE_REQUEST` runs.
    NoRequestAfterRelease,
}

/// A bug and its one flag: for `KeepsHolderWhenPassingToken`, the node has passed the token on
/// (and still believes it holds it); `PassesTokenWhileUsing`, the node is in the critical section
/// though the real node has left it; `NeverResetsAsked`, the node has asked once;
/// `NoRequestAfterRelease`, a REQUEST is owed to `HOLDER`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Broken {
    bug: Bug,
    flag: bool,
}

/// Every node of `tree`, the token at `token_holder`, with `bug`.
pub fn cluster(tree: &Tree, token_holder: NodeId, bug: Bug) -> Vec<Mutant<Raymond, Broken>> {
    let real = Raymond::cluster(tree, token_holder).expect("a valid tree");
    mutants(real, Broken { bug, flag: false })
}

fn is_request(e: &Effect<RaymondMessage>) -> bool {
    matches!(
        e,
        Effect::Send {
            msg: RaymondMessage::Request,
            ..
        }
    )
}

fn is_token(e: &Effect<RaymondMessage>) -> bool {
    matches!(
        e,
        Effect::Send {
            msg: RaymondMessage::Privilege,
            ..
        }
    )
}

impl Broken {
    /// What the mistake does after the real node took an input whose effects start at `before`.
    fn after(&mut self, node: &Raymond, out: &mut Outbox<RaymondMessage>, before: usize) {
        match self.bug {
            Bug::KeepsHolderWhenPassingToken => self.flag |= produced(out, before, is_token),
            Bug::NeverResetsAsked => {
                if self.flag {
                    keep_new(out, before, |e| !is_request(e));
                } else {
                    self.flag = produced(out, before, is_request);
                }
            }
            Bug::NoRequestAfterRelease if self.flag => {
                self.flag = false;
                send(out, node.holder(), RaymondMessage::Request);
            }
            _ => {}
        }
    }
}

impl Mistake<Raymond> for Broken {
    fn request(
        &mut self,
        node: &mut Raymond,
        out: &mut Outbox<RaymondMessage>,
    ) -> Result<(), Error> {
        if self.phase(node) != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        let before = out.len();
        node.request(out)?;
        self.after(node, out, before);
        Ok(())
    }

    fn release(
        &mut self,
        node: &mut Raymond,
        out: &mut Outbox<RaymondMessage>,
    ) -> Result<(), Error> {
        if self.bug == Bug::PassesTokenWhileUsing && self.flag {
            self.flag = false;
            return Ok(());
        }
        let before = out.len();
        node.release(out)?;
        if self.bug == Bug::NoRequestAfterRelease {
            self.flag = produced(out, before, is_request);
            keep_new(out, before, |e| !is_request(e));
        } else {
            self.after(node, out, before);
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        node: &mut Raymond,
        from: NodeId,
        msg: RaymondMessage,
        out: &mut Outbox<RaymondMessage>,
    ) -> Result<(), Error> {
        let before = out.len();
        node.on_message(from, msg, out)?;
        if self.bug == Bug::PassesTokenWhileUsing && node.using() && msg == RaymondMessage::Request
        {
            node.release(out)?;
            self.flag = true;
        }
        self.after(node, out, before);
        Ok(())
    }

    fn phase(&self, node: &Raymond) -> Phase {
        if self.bug == Bug::PassesTokenWhileUsing && self.flag {
            Phase::InCriticalSection
        } else {
            node.phase()
        }
    }

    fn holds_token(&self, node: &Raymond) -> bool {
        node.holds_token() || (self.bug == Bug::KeepsHolderWhenPassingToken && self.flag)
    }
}
