//! The descriptor of Raymond's algorithm, read by the dme tools through the registry.

use dme_core::NodeId;
use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, Parameter,
    Params, param, per_entry,
};

use crate::{Raymond, Tree, TreeShape};

/// Raymond's tree-based token algorithm (1989).
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

const PARAMETERS: &[Parameter] = &[
    Parameter {
        name: "tree",
        help: "the tree's shape: star, line, binary, kary:K or random (drawn from --seed)",
        default: Some("binary"),
        check: |s| {
            s.parse::<TreeShape>()
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    },
    Parameter {
        name: "holder",
        help: "the node that holds the token at the start (default: the tree's root)",
        default: None,
        check: |s| {
            s.trim()
                .parse::<u32>()
                .map(|_| ())
                .map_err(|_| format!("invalid node id '{s}' (expected a non-negative integer)"))
        },
    },
];

/// A cluster's tree and initial token holder.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The tree.
    pub tree: Tree,
    /// Its shape, as asked for.
    pub shape: TreeShape,
    /// The node holding the token at the start.
    pub holder: NodeId,
}

fn setup(nodes: usize, params: &Params, seed: u64) -> Result<Setup, String> {
    let shape: TreeShape = param(params, "tree", "binary")
        .parse()
        .map_err(|e: crate::ParseTreeShapeError| e.to_string())?;
    let tree = shape.build(nodes, seed).map_err(|e| e.to_string())?;
    let holder = match params.get("holder") {
        None => tree.root(),
        Some(h) => NodeId(
            h.trim()
                .parse()
                .map_err(|_| format!("invalid token holder '{h}' (expected a node id)"))?,
        ),
    };
    if holder.index() >= nodes {
        return Err(format!(
            "token holder {} is not a node of the cluster (0..{})",
            holder.0,
            nodes - 1
        ));
    }
    Ok(Setup {
        tree,
        shape,
        holder,
    })
}

/// At light load the token rests at the previous requester: 2·d(holder, requester) per
/// request, summed over the run in entry order from the initial holder, per entry.
fn light(f: &Facts<'_>) -> Option<f64> {
    let Setup {
        tree, mut holder, ..
    } = setup(f.nodes, f.params, f.seed).ok()?;
    let mut total = 0usize;
    for &e in f.requests {
        total += 2 * tree.distance(holder, e);
        holder = e;
    }
    per_entry(total, f)
}

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "raymond"
    }
    fn summary(&self) -> &'static str {
        "Raymond (1989): a token on a spanning tree; requests climb towards it, it comes back down"
    }
    fn parameters(&self) -> &'static [Parameter] {
        PARAMETERS
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
                    text: "2*mean dist",
                    value: light,
                }),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Estimate(Formula {
                    text: "about 4",
                    value: |_| Some(4.0),
                }),
                // The textbooks' figure for a balanced tree; measured about 2T (the token
                // tours the tree depth first).
                sync_delay: Figure::Estimate(Formula {
                    text: "T·(log N)/2",
                    value: |f| Some((f.nodes as f64).log2() / 2.0),
                }),
            },
        }
    }
    /// The node (its neighbours and request queue: two on average in a tree) and its share of
    /// the tree (a graph node, an edge, the adjacency lists).
    fn memory_per_node(&self, _: usize, _: &Params) -> u64 {
        std::mem::size_of::<Raymond>() as u64 + 160
    }
}

impl Algorithm for Descriptor {
    type Node = Raymond;
    type Setup = Setup;
    fn setup(&self, nodes: usize, params: &Params, seed: u64) -> Result<Setup, String> {
        setup(nodes, params, seed)
    }
    fn structure(&self, s: &Setup) -> String {
        format!(
            "{} tree, height {}, token at {}, mean distance to it {:.3}",
            s.shape,
            s.tree.height(),
            s.holder,
            s.tree.mean_distance_to(s.holder)
        )
    }
    fn node(&self, s: &Setup, id: NodeId) -> Result<Raymond, String> {
        Raymond::from_tree(&s.tree, id, s.holder).map_err(|e| e.to_string())
    }
}
