//! The descriptor of Agrawal and El Abbadi's tree quorums, read by the dme tools through the
//! registry.

use dme_core::NodeId;
use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, NodeLimit,
    Params, per_entry,
};
use dme_maekawa::{Maekawa, Quorums};

use crate::Tree;

/// Agrawal and El Abbadi (1991), every node up, with Maekawa's arbitration.
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

/// `times` × (quorum members other than the requester), summed over the run's entries, per
/// entry.
fn others(times: usize, f: &Facts<'_>) -> Option<f64> {
    let quorums = Tree::new(f.nodes).ok()?.quorums().ok()?;
    let mut total = 0usize;
    for &e in f.requests {
        total += quorums.quorum(e)?.iter().filter(|&&m| m != e).count();
    }
    per_entry(times * total, f)
}

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "agrawal-el-abbadi"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["aea", "agrawal_el_abbadi", "tree-quorum", "tree-quorums"]
    }
    fn summary(&self) -> &'static str {
        "Agrawal and El Abbadi (1991): root-to-leaf tree quorums of ⌈log₂(N+1)⌉ nodes, arbitrated as in Maekawa"
    }
    fn assumptions(&self) -> Assumptions {
        Assumptions {
            fifo: false,
            reliable_channels: true,
            token_based: false,
            grants_in_stamp_order: false,
            deadlock_free: true,
            // The construction substitutes failed nodes, but the running cluster is built with
            // every node up.
            crashes_tolerated: 0,
        }
    }
    fn figures(&self) -> Figures {
        let three = Formula {
            text: "3(|Q|-1)",
            value: |f| others(3, f),
        };
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(three),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Range {
                    low: three,
                    high: Formula {
                        text: "5(|Q|-1)",
                        value: |f| others(5, f),
                    },
                },
                sync_delay: Figure::Range {
                    low: Formula {
                        text: "T",
                        value: |_| Some(1.0),
                    },
                    high: Formula {
                        text: "2T",
                        value: |_| Some(2.0),
                    },
                },
            },
        }
    }
    /// A Maekawa node: every member's id (4 bytes each) and, per quorum member
    /// (⌈log₂(N+1)⌉ of them), about 100 bytes of requester and arbiter state.
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        let levels = (usize::BITS - nodes.leading_zeros()) as u64;
        std::mem::size_of::<Maekawa>() as u64 + 4 * nodes as u64 + 100 * levels
    }
    fn max_nodes(&self) -> Option<NodeLimit> {
        Some(NodeLimit {
            max: 4096,
            why: "checks that every two quorums intersect (N² pairs) and keeps every member's id in every node",
        })
    }
}

/// A cluster's quorums and members.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The quorums, node `i`'s the path from the root through `i` to a leaf.
    pub quorums: Quorums,
    /// The members, `0..N`.
    pub members: Vec<NodeId>,
}

impl Algorithm for Descriptor {
    type Node = Maekawa;
    type Setup = Setup;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Setup, String> {
        let tree = Tree::new(nodes).map_err(|e| e.to_string())?;
        Ok(Setup {
            quorums: tree.quorums().map_err(|e| e.to_string())?,
            members: dme_core::cluster(nodes),
        })
    }
    fn structure(&self, setup: &Setup) -> String {
        let tree = Tree::new(setup.quorums.len()).map_or(0, |t| t.levels());
        format!(
            "complete binary tree, {tree} levels, |Q| = {}",
            setup.quorums.k()
        )
    }
    fn node(&self, setup: &Setup, id: NodeId) -> Result<Maekawa, String> {
        let set = setup
            .quorums
            .quorum(id)
            .ok_or_else(|| format!("{id} is not a node of the cluster"))?
            .to_vec();
        Maekawa::new(id, &setup.members, set).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_light_load_figure_is_three_per_other_member() {
        let params = Params::new();
        let entries = [NodeId(4), NodeId(2), NodeId(0)];
        let facts = Facts {
            nodes: 7,
            params: &params,
            seed: 0,
            requests: &entries,
            entries: entries.len() as u64,
        };
        let figures = Descriptor.figures();
        assert_eq!(figures.light.messages_per_entry.value(&facts), Some(6.0));
        let setup = Descriptor.setup(7, &params, 0).unwrap();
        assert_eq!(
            Descriptor.structure(&setup),
            "complete binary tree, 3 levels, |Q| = 3"
        );
        assert!(Descriptor.setup(0, &params, 0).is_err());
    }
}
