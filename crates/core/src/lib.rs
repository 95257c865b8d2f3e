//! The contract every dme algorithm implements.
//!
//! A distributed mutual exclusion (DME) algorithm is written here as a **Sans-IO state machine**:
//! a plain value that owns no socket, no clock, no thread and no random number generator. It
//! reacts to exactly three inputs:
//!
//! * the local application asks for the critical section — [`Node::request`];
//! * the local application leaves the critical section — [`Node::release`];
//! * a message arrives from another member of the cluster — [`Node::on_message`];
//!
//! and writes its reactions as [`Effect`]s into a reusable [`Outbox`]: *send message M to node j*,
//! or *enter the critical section*. Whoever drives the node — the simulator in `dme-sim`, the
//! TCP driver in `dme-net`, or your own transport — applies the effects. Messages are counted
//! where effects are applied, never inside an algorithm.
//!
//! Rules every implementation follows:
//!
//! * A node never sends a message to itself; whatever it owes itself it handles locally.
//! * Misuse (requesting twice, releasing outside the critical section, a message from a node
//!   that is not a member) is returned as an [`Error`], never a panic, and leaves the node's
//!   state unchanged.
//! * Node state and messages are `Clone + Eq + Hash + Debug`, so the exhaustive checker can
//!   store visited states; messages are also serde-serializable for traces and real transports.
//!
//! ```
//! use dme_core::{Effect, NodeId, Outbox};
//!
//! let mut out: Outbox<&'static str> = Outbox::new();
//! out.send(NodeId(2), "REQUEST");
//! out.enter();
//! let effects: Vec<_> = out.drain().collect();
//! assert_eq!(effects, vec![Effect::Send { to: NodeId(2), msg: "REQUEST" }, Effect::Enter]);
//! assert!(out.is_empty());
//! ```

pub mod describe;

use std::fmt;
use std::hash::Hash;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The identity of one member of a cluster.
///
/// Clusters built by dme's own tools number their members `0..n`, but an algorithm must not
/// rely on that: it is given its peers' ids explicitly.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The id as an index, for clusters numbered `0..n`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl From<u32> for NodeId {
    fn from(id: u32) -> Self {
        NodeId(id)
    }
}

/// The priority of a request in the timestamp-ordered algorithms: a Lamport timestamp with the
/// requester's id breaking ties. Smaller is served first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub struct Stamp {
    /// The Lamport clock value at which the request was issued.
    pub clock: u64,
    /// The requesting node, which breaks ties between equal clocks.
    pub node: NodeId,
}

impl Stamp {
    /// A stamp for `node`'s request at logical time `clock`.
    pub fn new(clock: u64, node: NodeId) -> Self {
        Stamp { clock, node }
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.clock, self.node)
    }
}

/// A message exchanged between the members of a cluster.
pub trait Message: Clone + Eq + Hash + fmt::Debug + Serialize + DeserializeOwned {
    /// The message's kind as named in the paper (`"REQUEST"`, `"REPLY"`, `"TOKEN"`, …), used to
    /// break metrics and traces down by kind.
    fn kind(&self) -> &'static str;

    /// The Lamport timestamp the message carries, if it carries one (shown in traces).
    fn timestamp(&self) -> Option<u64> {
        None
    }

    /// Whether this message carries the token, for token-based algorithms.
    fn carries_token(&self) -> bool {
        false
    }
}

/// One reaction of a node, to be applied by whoever drives it.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum Effect<M> {
    /// Send `msg` to node `to` over the network (never to oneself).
    Send {
        /// The destination.
        to: NodeId,
        /// The message.
        msg: M,
    },
    /// The local application may now enter the critical section.
    Enter,
}

/// A reusable buffer of effects that a node writes into.
///
/// Drivers keep one `Outbox` and [`drain`](Outbox::drain) it after every call, so that stepping
/// a node does not allocate.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Outbox<M> {
    effects: Vec<Effect<M>>,
}

impl<M> Default for Outbox<M> {
    fn default() -> Self {
        Outbox::new()
    }
}

impl<M> Outbox<M> {
    /// An empty outbox.
    pub fn new() -> Self {
        Outbox {
            effects: Vec::new(),
        }
    }

    /// Queues a network message to `to`.
    pub fn send(&mut self, to: NodeId, msg: M) {
        self.effects.push(Effect::Send { to, msg });
    }

    /// Queues the grant of the critical section to the local application.
    pub fn enter(&mut self) {
        self.effects.push(Effect::Enter);
    }

    /// The queued effects, oldest first.
    pub fn effects(&self) -> &[Effect<M>] {
        &self.effects
    }

    /// Removes and yields the queued effects, oldest first, keeping the buffer's capacity.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Effect<M>> {
        self.effects.drain(..)
    }

    /// Discards every queued effect.
    pub fn clear(&mut self) {
        self.effects.clear();
    }

    /// The number of queued effects.
    pub fn len(&self) -> usize {
        self.effects.len()
    }

    /// Whether no effect is queued.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}

/// Where a node stands with respect to the critical section.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Phase {
    /// Not requesting and not in the critical section.
    Idle,
    /// A request is outstanding; the node waits for permission.
    Requesting,
    /// The node is in the critical section.
    InCriticalSection,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Idle => "idle",
            Phase::Requesting => "requesting",
            Phase::InCriticalSection => "in critical section",
        })
    }
}

/// Misuse of a node, reported instead of a panic. The node's state is unchanged.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Error {
    /// `request` was called while a request is outstanding or the node is in the critical
    /// section.
    AlreadyRequesting,
    /// `release` was called while the node is not in the critical section.
    NotInCriticalSection,
    /// A message arrived from a node that is not a member of this node's cluster (or from the
    /// node itself).
    NotAMember(NodeId),
    /// A message arrived that the algorithm cannot accept in its current state (for example a
    /// second token). The string says what was wrong.
    UnexpectedMessage {
        /// The sender.
        from: NodeId,
        /// What was wrong with it.
        reason: String,
    },
    /// The cluster description given to a constructor is invalid (empty, the node not in it,
    /// duplicate ids, a quorum or tree that does not fit, …).
    InvalidCluster(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyRequesting => {
                f.write_str("request while a request is outstanding or in the critical section")
            }
            Error::NotInCriticalSection => f.write_str("release while not in the critical section"),
            Error::NotAMember(id) => write!(f, "message from {id}, which is not a member"),
            Error::UnexpectedMessage { from, reason } => {
                write!(f, "unexpected message from {from}: {reason}")
            }
            Error::InvalidCluster(why) => write!(f, "invalid cluster: {why}"),
        }
    }
}

impl std::error::Error for Error {}

/// A member of a cluster running one distributed mutual exclusion algorithm.
///
/// See the [crate documentation](crate) for the rules. The three inputs are `request`,
/// `release` and `on_message`; the remaining methods let drivers and checkers observe the node
/// (for reports, deadlock diagnosis and invariants) and never change it.
pub trait Node: Clone + Eq + Hash + fmt::Debug {
    /// The algorithm's message type.
    type Message: Message;

    /// Whether the algorithm promises to grant concurrent requests in [`Stamp`] order; the
    /// simulator then checks it at every entry.
    const GRANTS_IN_STAMP_ORDER: bool = false;

    /// Whether the algorithm circulates a unique token; the simulator then checks that exactly
    /// one token exists (held by a node or in flight) at every step.
    const TOKEN_BASED: bool = false;

    /// This node's id.
    fn id(&self) -> NodeId;

    /// The local application asks for the critical section. [`Effect::Enter`] is emitted, now or
    /// in a later step, when it is granted.
    fn request(&mut self, out: &mut Outbox<Self::Message>) -> Result<(), Error>;

    /// The local application leaves the critical section.
    fn release(&mut self, out: &mut Outbox<Self::Message>) -> Result<(), Error>;

    /// A message from `from` arrives.
    fn on_message(
        &mut self,
        from: NodeId,
        msg: Self::Message,
        out: &mut Outbox<Self::Message>,
    ) -> Result<(), Error>;

    /// Where the node stands.
    fn phase(&self) -> Phase;

    /// The nodes this node is waiting for before it can enter, for deadlock reports (empty when
    /// not requesting).
    fn waiting_for(&self) -> Vec<NodeId>;

    /// For algorithms whose nodes act as arbiters that lend their single permission to one
    /// requester at a time (Maekawa's "locked for"), the requester currently holding it. Used,
    /// with [`waiting_for`](Node::waiting_for), to build the wait-for graph of a deadlock.
    fn locked_for(&self) -> Option<NodeId> {
        None
    }

    /// The stamp of the outstanding request, while requesting or in the critical section, for
    /// algorithms that stamp their requests.
    fn request_stamp(&self) -> Option<Stamp> {
        None
    }

    /// Whether this node holds the token (token-based algorithms only).
    fn holds_token(&self) -> bool {
        false
    }
}

/// Checks a cluster description: `members` non-empty, without duplicates, and containing `me`.
/// Algorithm constructors share it so that every crate rejects the same bad input the same way.
pub fn validate_members(me: NodeId, members: &[NodeId]) -> Result<(), Error> {
    if members.is_empty() {
        return Err(Error::InvalidCluster("no members".into()));
    }
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::InvalidCluster(format!("{} listed twice", w[0])));
    }
    if sorted.binary_search(&me).is_err() {
        return Err(Error::InvalidCluster(format!("{me} is not a member")));
    }
    Ok(())
}

/// The ids `0..n`, the members of a cluster built by dme's tools.
pub fn cluster(n: usize) -> Vec<NodeId> {
    (0..n as u32).map(NodeId).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_members_rejects_bad_clusters() {
        assert!(validate_members(NodeId(0), &[]).is_err());
        assert!(validate_members(NodeId(0), &[NodeId(1), NodeId(1), NodeId(0)]).is_err());
        assert!(validate_members(NodeId(5), &cluster(3)).is_err());
        assert!(validate_members(NodeId(2), &cluster(3)).is_ok());
    }

    #[test]
    fn stamps_order_by_clock_then_node() {
        assert!(Stamp::new(1, NodeId(9)) < Stamp::new(2, NodeId(0)));
        assert!(Stamp::new(3, NodeId(1)) < Stamp::new(3, NodeId(2)));
    }

    #[test]
    fn outbox_drains_in_order_and_keeps_capacity() {
        let mut out = Outbox::new();
        out.send(NodeId(1), 7u8);
        out.enter();
        assert_eq!(out.len(), 2);
        let drained: Vec<_> = out.drain().collect();
        assert_eq!(
            drained[0],
            Effect::Send {
                to: NodeId(1),
                msg: 7
            }
        );
        assert!(out.is_empty());
    }
}
