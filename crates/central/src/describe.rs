//! The descriptor of the central coordinator, read by the dme tools through the registry.

use dme_core::describe::{
    Algorithm, Assumptions, Describe, Figure, Figures, Formula, LoadFigures, Params, per_entry,
};
use dme_core::{NodeId, cluster};

use crate::Central;

/// The central coordinator, node 0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

/// The coordinator of clusters built by dme's tools.
pub const COORDINATOR: NodeId = NodeId(0);

/// 3 messages per request of a non-coordinator, none for the coordinator's own, per entry:
/// 3(N−1)/N when every node requests equally often.
const MESSAGES: Formula = Formula {
    text: "3(N-1)/N",
    value: |f| {
        per_entry(
            3 * f.requests.iter().filter(|&&r| r != COORDINATOR).count(),
            f,
        )
    },
};

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "central"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["central-coordinator", "coordinator"]
    }
    fn summary(&self) -> &'static str {
        "A central coordinator (node 0) grants the critical section in FIFO order: REQUEST, GRANT, RELEASE"
    }
    fn assumptions(&self) -> Assumptions {
        Assumptions {
            fifo: false,
            reliable_channels: true,
            token_based: false,
            grants_in_stamp_order: false,
            deadlock_free: true,
            crashes_tolerated: 0,
        }
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(MESSAGES),
                sync_delay: Figure::NotApplicable("nobody waits at light load"),
            },
            heavy: LoadFigures {
                messages_per_entry: Figure::Exact(MESSAGES),
                // 2T between two other nodes (RELEASE, then GRANT); T when the coordinator
                // leaves or enters.
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
    /// The coordinator's member list and queue (4 bytes per member each), shared out over the
    /// nodes, plus each node's own state.
    fn memory_per_node(&self, _: usize, _: &Params) -> u64 {
        std::mem::size_of::<Central>() as u64 + 8
    }
}

impl Algorithm for Descriptor {
    type Node = Central;
    type Setup = Vec<NodeId>;
    fn setup(&self, nodes: usize, _: &Params, _: u64) -> Result<Vec<NodeId>, String> {
        Ok(cluster(nodes))
    }
    fn node(&self, members: &Vec<NodeId>, id: NodeId) -> Result<Central, String> {
        Central::new(id, members, COORDINATOR).map_err(|e| e.to_string())
    }
}
