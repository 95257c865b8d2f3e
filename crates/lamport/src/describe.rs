//! The descriptors of Lamport's algorithm and of its reply-suppression variant, read by the
//! dme tools through the registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, NodeLimit,
    Params,
};
use dme_core::{NodeId, cluster};

use crate::Lamport;

/// Lamport (1978), the classic form: every REQUEST is acknowledged.
#[derive(Clone, Copy, Debug, Default)]
pub struct Classic;

/// Lamport (1978) with the REPLY suppressed when a later-stamped REQUEST of one's own was
/// already sent to the requester ([`Lamport::with_reply_suppression`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct SuppressReplies;

const THREE_N_MINUS_1: Formula = Formula {
    text: "3(N-1)",
    value: |f: &Facts<'_>| Some(3.0 * (f.nodes as f64 - 1.0)),
};

const ONE_T: Formula = Formula {
    text: "T",
    value: |_| Some(1.0),
};

const NOBODY_WAITS: Figure = Figure::NotApplicable("nobody waits at light load");

const ASSUMPTIONS: Assumptions = Assumptions {
    fifo: true,
    reliable_channels: true,
    token_based: false,
    grants_in_stamp_order: true,
    deadlock_free: true,
    crashes_tolerated: 0,
};

const PER_PEER: NodeLimit = NodeLimit {
    max: 4096,
    why: "keeps state about every peer in every node",
};

/// Per node: the peers (4 bytes), their latest timestamps (8), their queued requests (a
/// 24-byte vector each, 16 per stamp) and the request queue (at most one stamp per node, about
/// 32 bytes each in a B-tree).
fn memory(nodes: usize) -> u64 {
    std::mem::size_of::<Lamport>() as u64 + 84 * nodes as u64
}

impl Describe for Classic {
    fn name(&self) -> &'static str {
        "lamport"
    }
    fn summary(&self) -> &'static str {
        "Lamport (1978): timestamped REQUEST, REPLY and RELEASE to everyone; a request queue in every node"
    }
    fn assumptions(&self) -> Assumptions {
        ASSUMPTIONS
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(THREE_N_MINUS_1),
                sync_delay: NOBODY_WAITS,
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Exact(THREE_N_MINUS_1),
                sync_delay: Figure::Exact(ONE_T),
            },
        }
    }
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        memory(nodes)
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(PER_PEER)
    }
}

impl Describe for SuppressReplies {
    fn name(&self) -> &'static str {
        "lamport-suppress-replies"
    }
    fn summary(&self) -> &'static str {
        "Lamport (1978) without the REPLY that a later-stamped REQUEST of one's own already answers"
    }
    fn variant_of(&self) -> Option<&'static str> {
        Some("lamport")
    }
    fn assumptions(&self) -> Assumptions {
        ASSUMPTIONS
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(THREE_N_MINUS_1),
                sync_delay: NOBODY_WAITS,
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Range {
                    low: Formula::words("2(N-1)"),
                    high: Formula::words("3(N-1)"),
                },
                sync_delay: Figure::Exact(ONE_T),
            },
        }
    }
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        memory(nodes)
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(PER_PEER)
    }
}

impl Algorithm for Classic {
    type Node = Lamport;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<Lamport, String> {
        Lamport::new(id, members).map_err(|e| e.to_string())
    }
}

impl Algorithm for SuppressReplies {
    type Node = Lamport;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<Lamport, String> {
        Lamport::with_reply_suppression(id, members).map_err(|e| e.to_string())
    }
}
