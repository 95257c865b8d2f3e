//! Every algorithm dme ships, by name, and how to build a cluster of it.
//!
//! The simulator, the checker and the drivers are generic over the node type, so a name chosen
//! at run time is turned into a concrete type here, once, by [`ClusterSpec::build`], which hands
//! the nodes to a [`ClusterVisitor`].

use std::fmt;
use std::str::FromStr;

use dme_core::{Node, NodeId, cluster};
use dme_lamport::Lamport;
use dme_maekawa::{Maekawa, QuorumKind, Quorums};
use dme_raymond::{Raymond, TreeShape};
use dme_ricart_agrawala::RicartAgrawala;

/// An algorithm (or a named variant of one) that dme can run.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Algorithm {
    /// Lamport (1978), the classic form: REQUEST, REPLY, RELEASE to everyone.
    Lamport,
    /// Lamport (1978) with the optimisation that suppresses a REPLY when a later-stamped
    /// REQUEST of one's own was already sent to that node.
    LamportSuppressReplies,
    /// Ricart and Agrawala (1981).
    RicartAgrawala,
    /// Maekawa (1985) with its deadlock handling (FAILED, INQUIRE, YIELD).
    Maekawa,
    /// Maekawa (1985) without the deadlock-handling messages: arbiters simply queue requests.
    /// It can deadlock; it is here to show why the extra messages exist.
    MaekawaNoDeadlockHandling,
    /// Raymond's tree-based token algorithm (1989).
    Raymond,
}

impl Algorithm {
    /// Every algorithm and variant, in the order `compare` lists them.
    pub const ALL: &'static [Algorithm] = &[
        Algorithm::Lamport,
        Algorithm::LamportSuppressReplies,
        Algorithm::RicartAgrawala,
        Algorithm::Maekawa,
        Algorithm::MaekawaNoDeadlockHandling,
        Algorithm::Raymond,
    ];

    /// The algorithms `dme compare` shows by default (named variants excluded).
    pub const MAIN: &'static [Algorithm] = &[
        Algorithm::Lamport,
        Algorithm::RicartAgrawala,
        Algorithm::Maekawa,
        Algorithm::Raymond,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Lamport => "lamport",
            Algorithm::LamportSuppressReplies => "lamport-suppress-replies",
            Algorithm::RicartAgrawala => "ricart-agrawala",
            Algorithm::Maekawa => "maekawa",
            Algorithm::MaekawaNoDeadlockHandling => "maekawa-no-deadlock-handling",
            Algorithm::Raymond => "raymond",
        }
    }

    /// The textbook messages per critical-section entry, as a formula in N (and K), for reports.
    pub fn textbook_messages(self, load: &str) -> &'static str {
        match (self, load) {
            (Algorithm::Lamport, _) => "3(N-1)",
            (Algorithm::LamportSuppressReplies, "light") => "3(N-1)",
            (Algorithm::LamportSuppressReplies, _) => "2(N-1)..3(N-1)",
            (Algorithm::RicartAgrawala, _) => "2(N-1)",
            (Algorithm::Maekawa | Algorithm::MaekawaNoDeadlockHandling, "light") => "3(K-1)",
            (Algorithm::Maekawa, _) => "3(K-1)..5(K-1)",
            (Algorithm::MaekawaNoDeadlockHandling, _) => "3(K-1)",
            (Algorithm::Raymond, "light") => "2*mean dist",
            (Algorithm::Raymond, _) => "about 4",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "ra" | "ricart_agrawala" | "ricartagrawala" => "ricart-agrawala",
            other => other,
        };
        Algorithm::ALL
            .iter()
            .copied()
            .find(|a| a.name() == alias)
            .ok_or_else(|| {
                let names: Vec<&str> = Algorithm::ALL.iter().map(|a| a.name()).collect();
                format!("unknown algorithm '{s}' (available: {})", names.join(", "))
            })
    }
}

/// The largest cluster of an algorithm whose every node keeps state about every other node
/// (Lamport, Ricart–Agrawala): N² entries in all, about 0.7 GB for Lamport at this size.
pub const MAX_NODES_PER_PEER_STATE: usize = 4096;

/// What a cluster is: the algorithm, its size, and the algorithm-specific structure.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClusterSpec {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Number of nodes (at least 2).
    pub nodes: usize,
    /// Maekawa: the quorum construction.
    pub quorum: QuorumKind,
    /// Raymond: the tree's shape.
    pub tree: TreeShape,
    /// Raymond: the initial token holder (default: the tree's root).
    pub holder: Option<u32>,
    /// Seed for structures drawn at random (Raymond's random tree).
    pub seed: u64,
}

impl ClusterSpec {
    /// A cluster of `nodes` nodes of `algorithm` with default structure.
    pub fn new(algorithm: Algorithm, nodes: usize) -> Self {
        ClusterSpec {
            algorithm,
            nodes,
            quorum: QuorumKind::default(),
            tree: TreeShape::default(),
            holder: None,
            seed: 0,
        }
    }

    /// Builds the nodes (ids `0..nodes`) and hands them to `visitor`. Errors describe a cluster
    /// that cannot be built (too few nodes, a holder outside the cluster, …).
    pub fn build<V: ClusterVisitor>(&self, visitor: V) -> Result<V::Output, String> {
        let n = self.nodes;
        if n < 2 {
            return Err(format!(
                "a cluster needs at least 2 nodes, got {n} (mutual exclusion among fewer is trivial)"
            ));
        }
        let per_peer_state = matches!(
            self.algorithm,
            Algorithm::Lamport | Algorithm::LamportSuppressReplies | Algorithm::RicartAgrawala
        );
        if per_peer_state && n > MAX_NODES_PER_PEER_STATE {
            return Err(format!(
                "{} keeps state about every peer in every node: at most {MAX_NODES_PER_PEER_STATE} \
                 nodes (got {n})",
                self.algorithm
            ));
        }
        if n > 1 << 20 {
            return Err(format!(
                "{n} nodes is more than dme supports (at most 1048576)"
            ));
        }
        let members = cluster(n);
        let err = |e: dme_core::Error| e.to_string();
        match self.algorithm {
            Algorithm::Lamport => Ok(visitor.visit(each(&members, Lamport::new)?, String::new())),
            Algorithm::LamportSuppressReplies => Ok(visitor.visit(
                each(&members, Lamport::with_reply_suppression)?,
                String::new(),
            )),
            Algorithm::RicartAgrawala => {
                Ok(visitor.visit(each(&members, RicartAgrawala::new)?, String::new()))
            }
            Algorithm::Maekawa | Algorithm::MaekawaNoDeadlockHandling => {
                let quorums = Quorums::new(n, self.quorum).map_err(err)?;
                let nodes = if self.algorithm == Algorithm::Maekawa {
                    Maekawa::cluster(&quorums)
                } else {
                    Maekawa::cluster_without_deadlock_handling(&quorums)
                }
                .map_err(err)?;
                let mut info = format!("{} quorums, K = {}", quorums.construction(), quorums.k());
                if let Some(note) = quorums.note() {
                    info.push_str(&format!(" ({note})"));
                }
                Ok(visitor.visit(nodes, info))
            }
            Algorithm::Raymond => {
                let tree = self.tree.build(n, self.seed).map_err(err)?;
                let holder = NodeId(self.holder.unwrap_or(tree.root().0));
                if holder.index() >= n {
                    return Err(format!(
                        "token holder {} is not a node of the cluster (0..{})",
                        holder.0,
                        n - 1
                    ));
                }
                let nodes = Raymond::cluster(&tree, holder).map_err(err)?;
                let info = format!(
                    "{} tree, height {}, token at {holder}, mean distance to it {:.3}",
                    self.tree,
                    tree.height(),
                    tree.mean_distance_to(holder)
                );
                Ok(visitor.visit(nodes, info))
            }
        }
    }
}

/// One node per member, each built by `make(id, members)`.
fn each<N>(
    members: &[NodeId],
    make: impl Fn(NodeId, &[NodeId]) -> Result<N, dme_core::Error>,
) -> Result<Vec<N>, String> {
    members
        .iter()
        .map(|&id| make(id, members).map_err(|e| e.to_string()))
        .collect()
}

/// Something to do with a freshly built cluster, whatever its node type.
pub trait ClusterVisitor {
    /// What the visit produces.
    type Output;
    /// Receives the nodes (ids `0..n`) and a one-line description of the structure used (quorum
    /// construction, tree; empty when there is none). Every algorithm's nodes and messages are
    /// plain data, hence `Send + 'static`, so they can also be handed to the TCP driver.
    fn visit<N: Node + Send + 'static>(self, nodes: Vec<N>, structure: String) -> Self::Output
    where
        N::Message: Send + 'static;
}
