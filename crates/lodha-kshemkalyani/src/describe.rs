//! The descriptor of Lodha and Kshemkalyani's algorithm, read by the dme tools through the
//! registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Figure, Figures, Formula, LoadFigures, NodeLimit, Params,
};
use dme_core::{NodeId, cluster};

use crate::LodhaKshemkalyani;

/// Lodha and Kshemkalyani (2000).
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

const TWO_N_MINUS_1: Formula = Formula {
    text: "2(N-1)",
    value: |f| Some(2.0 * (f.nodes as f64 - 1.0)),
};

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "lodha-kshemkalyani"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["lk", "lodha_kshemkalyani", "lodhakshemkalyani"]
    }
    fn summary(&self) -> &'static str {
        "Lodha and Kshemkalyani (2000): concurrent REQUESTs answer each other, FLUSH hands the critical section on"
    }
    fn assumptions(&self) -> Assumptions {
        Assumptions {
            fifo: true,
            reliable_channels: true,
            token_based: false,
            grants_in_stamp_order: true,
            deadlock_free: true,
            crashes_tolerated: 0,
        }
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                // No request is concurrent with another: N−1 REQUESTs and N−1 REPLYs.
                messages_per_entry: Figure::Exact(TWO_N_MINUS_1),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Range {
                    low: Formula {
                        text: "N-1",
                        value: |f| Some(f.nodes as f64 - 1.0),
                    },
                    high: TWO_N_MINUS_1,
                },
                // The FLUSH (or the kept REPLY) from the leaving site.
                sync_delay: Figure::Exact(Formula {
                    text: "T",
                    value: |_| Some(1.0),
                }),
            },
        }
    }
    /// The peers (4 bytes each), two flags per peer, and up to N stamps (16 bytes, plus the
    /// B-tree's overhead, about 32 bytes each) in the local request queue.
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        std::mem::size_of::<LodhaKshemkalyani>() as u64 + 6 * nodes as u64 + 32 * nodes as u64
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(NodeLimit {
            max: 4096,
            why: "keeps state about every peer in every node",
        })
    }
}

impl Algorithm for Descriptor {
    type Node = LodhaKshemkalyani;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<LodhaKshemkalyani, String> {
        LodhaKshemkalyani::new(id, members).map_err(|e| e.to_string())
    }
}
