//! The descriptor of Suzuki and Kasami's algorithm, read by the dme tools through the registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, NodeLimit,
    Params, per_entry,
};
use dme_core::{NodeId, cluster};

use crate::SuzukiKasami;

/// Suzuki and Kasami (1985), the token initially at n0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

/// At light load (requests one at a time, so in the order of the entries): N for every request
/// by a site that does not hold the token (the previous requester's, or n0's at the start), 0
/// for a re-entry of the idle holder, per entry. A site without the token broadcasts N − 1
/// REQUESTs and receives it once; the idle holder enters without a message.
fn moves(f: &Facts<'_>) -> Option<f64> {
    let mut holder = NodeId(0);
    let mut total = 0usize;
    for &e in f.requests {
        if e != holder {
            total += f.nodes;
        }
        holder = e;
    }
    per_entry(total, f)
}

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "suzuki-kasami"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["sk", "suzuki_kasami", "suzukikasami"]
    }
    fn summary(&self) -> &'static str {
        "Suzuki and Kasami (1985): a token carrying LN and a queue Q, requested by broadcast"
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
        let n_per_move = Formula {
            text: "N (0 for the idle holder)",
            value: moves,
        };
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(n_per_move),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                // N per move of the token; the holder's re-entries (before the first REQUESTs
                // arrive, or once every other site is done) cost nothing.
                messages_per_entry: Figure::Range {
                    low: Formula {
                        text: "0",
                        value: |_| Some(0.0),
                    },
                    high: Formula {
                        text: "N",
                        value: |f| Some(f.nodes as f64),
                    },
                },
                sync_delay: Figure::Range {
                    low: Formula {
                        text: "0",
                        value: |_| Some(0.0),
                    },
                    high: Formula {
                        text: "T",
                        value: |_| Some(1.0),
                    },
                },
            },
        }
    }
    /// The site (its `RN` and the member list: 12 bytes per member) and its share of the
    /// token (`LN` and `Q`: 12 bytes per member, one token per cluster).
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        std::mem::size_of::<SuzukiKasami>() as u64 + 12 * nodes as u64 + 12
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(NodeLimit {
            max: 4096,
            why: "keeps a request number for every peer in every site and broadcasts every request",
        })
    }
}

impl Algorithm for Descriptor {
    type Node = SuzukiKasami;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn structure(&self, _: &Vec<NodeId>) -> String {
        "token at n0".into()
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<SuzukiKasami, String> {
        SuzukiKasami::new(id, members, NodeId(0)).map_err(|e| e.to_string())
    }
}
