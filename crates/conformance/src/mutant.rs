//! Mutants: a real node with one deliberate mistake, written as a wrapper over the node's public
//! API. The algorithm crates carry no switch, hook or copy for their mutants; a mistake is a
//! small value that sits between the driver and the real node and changes what goes in, what
//! comes out, or what the node reports.
//!
//! A [`Mistake`] overrides any of the [`Node`] calls (each default delegates to the real node),
//! and [`Mutant`] is the node that applies it. The tools for the usual edits are here too:
//! [`keep_new`] drops some of the effects a call produced (a forgotten REPLY, a RELEASE that was
//! never sent), [`send`] and [`enter`] add one; a doctored input is just a different message
//! passed on to the real node.
//!
//! # Adding a mutant
//!
//! 1. Name the mistake after what a programmer would get wrong ("replies while in the critical
//!    section", "forgets one RELEASE"), as a variant of an enum (or a struct, if it needs state).
//! 2. Implement [`Mistake`] for it: override only the calls the mistake changes, using the real
//!    node's public accessors to see its state. The usual forms:
//!    * drop an effect: call the real node, then [`keep_new`] with what survives;
//!    * add an effect: call the real node, then [`send`] / [`enter`];
//!    * a wrong decision inside the node: hand the real node a doctored message that makes it
//!      decide the wrong way (and say in the doc comment what else the doctored message changes);
//!    * a wrong belief the node reports: override [`Mistake::phase`], [`Mistake::holds_token`], …
//!
//!    State the mistake keeps (a flag, a per-peer table) is part of the node's state, so the
//!    exhaustive checker sees it: keep it to what the mistake needs.
//! 3. Build the cluster with [`mutants`] (the real nodes and the mistake) and assert, in
//!    `sim/tests/mutants*.rs`, the kind of violation the exhaustive checker reports, the length of
//!    its shortest counterexample, the states explored and the simulator's first failing seed.
//!    A mutant no check catches is a finding: either the checks are blind to it or it is not a
//!    bug (say which, as `a_redundant_reply_is_not_a_bug_the_checks_can_see` does).
//!
//! ```
//! use dme_conformance::mutant::{Mistake, keep_new, mutants};
//! use dme_core::{Effect, Error, Node, Outbox, cluster};
//! use dme_ricart_agrawala::{RaMessage, RicartAgrawala};
//!
//! /// Leaving the critical section forgets the deferred REPLYs.
//! #[derive(Clone, PartialEq, Eq, Hash, Debug)]
//! struct ForgetsDeferredReplies;
//!
//! impl Mistake<RicartAgrawala> for ForgetsDeferredReplies {
//!     fn release(&mut self, node: &mut RicartAgrawala, out: &mut Outbox<RaMessage>) -> Result<(), Error> {
//!         let before = out.len();
//!         node.release(out)?;
//!         keep_new(out, before, |e| !matches!(e, Effect::Send { msg: RaMessage::Reply, .. }));
//!         Ok(())
//!     }
//! }
//!
//! let ids = cluster(2);
//! let real: Vec<_> = ids.iter().map(|&i| RicartAgrawala::new(i, &ids).unwrap()).collect();
//! let broken = mutants(real, ForgetsDeferredReplies);
//! assert_eq!(broken.len(), 2);
//! ```

use std::fmt;
use std::hash::Hash;

use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase, Stamp};

/// One deliberate mistake of a node of type `N`. Every method receives the real node and by
/// default does exactly what the real node does; override the ones the mistake changes.
pub trait Mistake<N: Node>: Clone + Eq + Hash + fmt::Debug {
    /// [`Node::request`], with the mistake.
    fn request(&mut self, node: &mut N, out: &mut Outbox<N::Message>) -> Result<(), Error> {
        node.request(out)
    }

    /// [`Node::release`], with the mistake.
    fn release(&mut self, node: &mut N, out: &mut Outbox<N::Message>) -> Result<(), Error> {
        node.release(out)
    }

    /// [`Node::on_message`], with the mistake.
    fn on_message(
        &mut self,
        node: &mut N,
        from: NodeId,
        msg: N::Message,
        out: &mut Outbox<N::Message>,
    ) -> Result<(), Error> {
        node.on_message(from, msg, out)
    }

    /// [`Node::phase`], as the mistaken node reports it.
    fn phase(&self, node: &N) -> Phase {
        node.phase()
    }

    /// [`Node::waiting_for`], as the mistaken node reports it.
    fn waiting_for(&self, node: &N) -> Vec<NodeId> {
        node.waiting_for()
    }

    /// [`Node::locked_for`], as the mistaken node reports it.
    fn locked_for(&self, node: &N) -> Option<NodeId> {
        node.locked_for()
    }

    /// [`Node::request_stamp`], as the mistaken node reports it.
    fn request_stamp(&self, node: &N) -> Option<Stamp> {
        node.request_stamp()
    }

    /// [`Node::holds_token`], as the mistaken node reports it.
    fn holds_token(&self, node: &N) -> bool {
        node.holds_token()
    }
}

/// A real node and its mistake: a [`Node`] like any other, for the simulator and the checker.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Mutant<N, M> {
    /// The real node.
    pub node: N,
    /// The mistake, with whatever state it keeps.
    pub mistake: M,
}

/// The cluster `nodes`, each with its own copy of `mistake`.
pub fn mutants<N: Node, M: Mistake<N>>(nodes: Vec<N>, mistake: M) -> Vec<Mutant<N, M>> {
    nodes
        .into_iter()
        .map(|node| Mutant {
            node,
            mistake: mistake.clone(),
        })
        .collect()
}

impl<N: Node, M: Mistake<N>> Node for Mutant<N, M> {
    type Message = N::Message;
    const GRANTS_IN_STAMP_ORDER: bool = N::GRANTS_IN_STAMP_ORDER;
    const TOKEN_BASED: bool = N::TOKEN_BASED;

    fn id(&self) -> NodeId {
        self.node.id()
    }

    fn request(&mut self, out: &mut Outbox<N::Message>) -> Result<(), Error> {
        self.mistake.request(&mut self.node, out)
    }

    fn release(&mut self, out: &mut Outbox<N::Message>) -> Result<(), Error> {
        self.mistake.release(&mut self.node, out)
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: N::Message,
        out: &mut Outbox<N::Message>,
    ) -> Result<(), Error> {
        self.mistake.on_message(&mut self.node, from, msg, out)
    }

    fn phase(&self) -> Phase {
        self.mistake.phase(&self.node)
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        self.mistake.waiting_for(&self.node)
    }

    fn locked_for(&self) -> Option<NodeId> {
        self.mistake.locked_for(&self.node)
    }

    fn request_stamp(&self) -> Option<Stamp> {
        self.mistake.request_stamp(&self.node)
    }

    fn holds_token(&self) -> bool {
        self.mistake.holds_token(&self.node)
    }
}

/// Keeps, of the effects at index `from` and after (those the last call produced, when `from`
/// is `out.len()` before it), only those `keep` accepts, in order; earlier effects stay.
pub fn keep_new<M>(out: &mut Outbox<M>, from: usize, mut keep: impl FnMut(&Effect<M>) -> bool) {
    let effects: Vec<Effect<M>> = out.drain().collect();
    for (i, e) in effects.into_iter().enumerate() {
        if i < from || keep(&e) {
            push(out, e);
        }
    }
}

/// Whether the effects at index `from` and after include one `matches` accepts.
pub fn produced<M>(out: &Outbox<M>, from: usize, matches: impl FnMut(&Effect<M>) -> bool) -> bool {
    out.effects()
        .get(from..)
        .is_some_and(|new| new.iter().any(matches))
}

/// Adds a send of `msg` to `to`.
pub fn send<M>(out: &mut Outbox<M>, to: NodeId, msg: M) {
    out.send(to, msg);
}

/// Adds an entry into the critical section.
pub fn enter<M>(out: &mut Outbox<M>) {
    out.enter();
}

/// Appends one effect.
pub fn push<M>(out: &mut Outbox<M>, e: Effect<M>) {
    match e {
        Effect::Send { to, msg } => out.send(to, msg),
        Effect::Enter => out.enter(),
    }
}
