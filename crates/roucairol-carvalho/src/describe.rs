//! The descriptor of Roucairol and Carvalho's algorithm, read by the dme tools through the
//! registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, NodeLimit,
    Params, per_entry,
};
use dme_core::{NodeId, cluster};

use crate::RoucairolCarvalho;

/// Roucairol and Carvalho (1983).
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

/// The messages of a run's entries when requests never overlap (light load): 2 for every
/// permission the requester lacks, replaying who holds each pair's permission from the order
/// of entries (initially the smaller id; after an entry, the one who entered).
fn missing_permissions(f: &Facts<'_>) -> Option<f64> {
    let n = f.nodes;
    if n > 4096 {
        return None;
    }
    // last[i]: the position of i's last entry; a pair's permission is at the one who entered
    // last, or at the smaller id when neither has.
    let mut last: Vec<Option<usize>> = vec![None; n];
    let mut total = 0usize;
    for (k, e) in f.requests.iter().enumerate() {
        let i = e.index();
        if i >= n {
            return None;
        }
        let lacks = |j: usize| match (last[i], last[j]) {
            (None, None) => j < i,
            (None, Some(_)) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b > a,
        };
        total += 2 * (0..n).filter(|&j| j != i && lacks(j)).count();
        last[i] = Some(k);
    }
    per_entry(total, f)
}

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "roucairol-carvalho"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["rc", "roucairol_carvalho", "roucairolcarvalho"]
    }
    fn summary(&self) -> &'static str {
        "Roucairol and Carvalho (1983): Ricart–Agrawala keeping each permission until asked for it"
    }
    fn assumptions(&self) -> Assumptions {
        Assumptions {
            fifo: false,
            reliable_channels: true,
            token_based: false,
            // A site holding every permission enters at once, even with an older request on
            // its way to it.
            grants_in_stamp_order: false,
            deadlock_free: true,
            crashes_tolerated: 0,
        }
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(Formula {
                    text: "2 per missing permission (0..2(N-1))",
                    value: missing_permissions,
                }),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Range {
                    low: Formula {
                        text: "0",
                        value: |_| Some(0.0),
                    },
                    high: Formula {
                        text: "2(N-1)",
                        value: |f| Some(2.0 * (f.nodes as f64 - 1.0)),
                    },
                },
                // The deferred REPLY, or 0 when the leaving site re-enters with the
                // permissions it kept.
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
    /// The peers (4 bytes each) and two flags per peer.
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        std::mem::size_of::<RoucairolCarvalho>() as u64 + 6 * nodes as u64
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(NodeLimit {
            max: 4096,
            why: "keeps state about every peer in every node",
        })
    }
}

impl Algorithm for Descriptor {
    type Node = RoucairolCarvalho;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<RoucairolCarvalho, String> {
        RoucairolCarvalho::new(id, members).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_light_load_figure_replays_who_holds_each_permission() {
        let params = Params::new();
        let value = |nodes, entries: &[u32]| {
            let entries: Vec<NodeId> = entries.iter().map(|&i| NodeId(i)).collect();
            let facts = Facts {
                nodes,
                params: &params,
                seed: 0,
                requests: &entries,
                entries: entries.len() as u64,
            };
            missing_permissions(&facts).map(|v| v * entries.len() as f64)
        };
        // Node 0 alone: nothing. Then 1 (lacks 0's), 2 (lacks 0's and 1's), 0 again (lacks 1's
        // and 2's), 0 again (nothing): 0 + 0 + 2 + 4 + 4 + 0.
        assert_eq!(value(3, &[0, 0, 1, 2, 0, 0]), Some(10.0));
        // Every other node entered since node 0's last entry: 2(N−1).
        assert_eq!(value(4, &[0, 1, 2, 3, 0]), Some(2.0 + 4.0 + 6.0 + 6.0));
        assert_eq!(value(2, &[]), None);
    }
}
