//! The descriptor of Ricart and Agrawala's algorithm, read by the dme tools through the
//! registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, NodeLimit,
    Params,
};
use dme_core::{NodeId, cluster};

use crate::RicartAgrawala;

/// Ricart and Agrawala (1981).
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

const TWO_N_MINUS_1: Formula = Formula {
    text: "2(N-1)",
    value: |f: &Facts<'_>| Some(2.0 * (f.nodes as f64 - 1.0)),
};

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "ricart-agrawala"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["ra", "ricart_agrawala", "ricartagrawala"]
    }
    fn summary(&self) -> &'static str {
        "Ricart and Agrawala (1981): REQUEST to everyone, REPLY at once or deferred until the exit"
    }
    fn assumptions(&self) -> Assumptions {
        Assumptions {
            fifo: false,
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
                messages_per_entry: Figure::Exact(TWO_N_MINUS_1),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Exact(TWO_N_MINUS_1),
                sync_delay: Figure::Exact(Formula {
                    text: "T",
                    value: |_| Some(1.0),
                }),
            },
        }
    }
    /// The peers (4 bytes each) and two flags per peer.
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        std::mem::size_of::<RicartAgrawala>() as u64 + 6 * nodes as u64
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(NodeLimit {
            max: 4096,
            why: "keeps state about every peer in every node",
        })
    }
}

impl Algorithm for Descriptor {
    type Node = RicartAgrawala;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<RicartAgrawala, String> {
        RicartAgrawala::new(id, members).map_err(|e| e.to_string())
    }
}
