//! The token ring of `dme-example-token-ring`, described for dme's tools: with this descriptor
//! and a three-line `main` (`src/main.rs`), `ring-dme` is a `dme` that knows the ring besides
//! every built-in algorithm — `ring-dme run -a token-ring`, `check`, `trace`, `compare`,
//! `sweep`, `replay`, `node`, `cluster`, `algorithms`.
//!
//! A descriptor says once what the algorithm is ([`Describe`]: name, assumptions, textbook
//! figures, memory per node) and how to build one node of a cluster ([`Algorithm`]).

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, Params,
    per_entry,
};
use dme_core::{NodeId, cluster};
use dme_example_token_ring::TokenRing;

/// The token ring, as dme's tools see it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ring;

/// At light load: N messages for a request while another node holds the token (the request
/// reaches the holder, the token goes the rest of the way round), none when the requester
/// holds it; the token stays with the last requester (node 0 holds it at the start).
fn light(f: &Facts<'_>) -> Option<f64> {
    let mut holder = NodeId(0);
    let mut total = 0;
    for &r in f.requests {
        if r != holder {
            total += f.nodes;
        }
        holder = r;
    }
    per_entry(total, f)
}

impl Describe for Ring {
    fn name(&self) -> &'static str {
        "token-ring"
    }
    fn summary(&self) -> &'static str {
        "A token ring (an example of a user's own algorithm): requests travel to the holder, the token round the ring"
    }
    fn assumptions(&self) -> Assumptions {
        Assumptions {
            fifo: false,
            reliable_channels: true,
            token_based: true,
            grants_in_stamp_order: false,
            deadlock_free: true,
            crashes_tolerated: 0,
        }
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(Formula {
                    text: "N per move",
                    value: light,
                }),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Range {
                    low: Formula::words("1"),
                    high: Formula::words("N"),
                },
                sync_delay: Figure::Range {
                    low: Formula::words("T"),
                    high: Formula::words("(N-1)T"),
                },
            },
        }
    }
    /// The members (4 bytes each) and the token's pending list (at most N).
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        std::mem::size_of::<TokenRing>() as u64 + 8 * nodes as u64
    }
}

impl Algorithm for Ring {
    type Node = TokenRing;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<TokenRing, String> {
        TokenRing::new(id, members).map_err(|e| e.to_string())
    }
}
