//! The descriptor of Naimi and Tréhel's algorithm, read by the dme tools through the registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, Params,
    per_entry,
};
use dme_core::{NodeId, cluster};

use crate::NaimiTrehel;

/// Naimi and Tréhel (1987), the token initially at n0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

/// At light load, each request's Req hops (the requester's depth in the `father` tree, which
/// the run's requests, one at a time, determine: a star rooted at n0, each request reversing its path) plus the
/// TOKEN when the requester is not the root, per entry. The mean over uniformly random
/// requesters is H(N−1).
fn path_reversals(f: &Facts<'_>) -> Option<f64> {
    let mut father: Vec<Option<usize>> = vec![Some(0); f.nodes];
    *father.first_mut()? = None;
    let mut total = 0usize;
    let mut path = Vec::new();
    for e in f.requests {
        let x = e.index();
        path.clear();
        let mut y = *father.get(x)?;
        while let Some(z) = y {
            if path.len() >= f.nodes {
                return None;
            }
            path.push(z);
            y = father[z];
        }
        for &z in &path {
            father[z] = Some(x);
        }
        father[x] = None;
        total += path.len() + usize::from(!path.is_empty());
    }
    per_entry(total, f)
}

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "naimi-trehel"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["nt", "naimi_trehel", "naimitrehel"]
    }
    fn summary(&self) -> &'static str {
        "Naimi and Tréhel (1987): a token and a tree of last requesters, reversed along each request's path"
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
        let zero = Formula {
            text: "0",
            value: |_| Some(0.0),
        };
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(Formula {
                    text: "depth in the father tree + 1 (mean H(N-1))",
                    value: path_reversals,
                }),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Range {
                    low: zero,
                    high: Formula {
                        text: "N",
                        value: |f| Some(f.nodes as f64),
                    },
                },
                sync_delay: Figure::Range {
                    low: zero,
                    high: Formula {
                        text: "T",
                        value: |_| Some(1.0),
                    },
                },
            },
        }
    }
    /// The site: two pointers and three flags, and its share of the member list.
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        std::mem::size_of::<NaimiTrehel>() as u64 + 4 * nodes as u64
    }
}

impl Algorithm for Descriptor {
    type Node = NaimiTrehel;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn structure(&self, _: &Vec<NodeId>) -> String {
        "star rooted at n0, which holds the token".into()
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<NaimiTrehel, String> {
        NaimiTrehel::new(id, members, NodeId(0)).map_err(|e| e.to_string())
    }
}
