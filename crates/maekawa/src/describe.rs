//! The descriptors of Maekawa's algorithm, with and without its deadlock handling, read by
//! the dme tools through the registry.

use dme_core::NodeId;
use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, Parameter,
    Params, param, per_entry,
};

use crate::{Maekawa, Member, QuorumKind, Quorums};

/// Maekawa (1985) with its deadlock handling (FAILED, INQUIRE, YIELD).
#[derive(Clone, Copy, Debug, Default)]
pub struct Descriptor;

/// Maekawa (1985) without the deadlock-handling messages: arbiters simply queue requests. It
/// can deadlock; it is there to show why the extra messages exist.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDeadlockHandling;

const PARAMETERS: &[Parameter] = &[Parameter {
    name: "quorum",
    help: "the request sets: grid, fpp (finite projective plane) or auto (smallest K)",
    default: Some("auto"),
    check: |s| s.parse::<QuorumKind>().map(|_| ()),
}];

/// The quorums `params` ask for.
fn quorums(nodes: usize, params: &Params) -> Result<Quorums, String> {
    let kind: QuorumKind = param(params, "quorum", "auto").parse()?;
    Quorums::new(nodes, kind).map_err(|e| e.to_string())
}

/// The sum, over a run's requests, of `times`·(K−1) for the requester's own request set (sets
/// may differ in size: partial grid, folded plane), per entry.
fn others(times: usize, f: &Facts<'_>) -> Option<f64> {
    let quorums = quorums(f.nodes, f.params).ok()?;
    let mut total = 0usize;
    for &e in f.requests {
        let set = quorums.quorum(e)?;
        total += set.iter().filter(|&&m| m != e).count();
    }
    per_entry(times * total, f)
}

const THREE_K_MINUS_1: Formula = Formula {
    text: "3(K-1)",
    value: |f| others(3, f),
};

const NOBODY_WAITS: Figure = Figure::NotApplicable("nobody waits at light load");

/// 2T: RELEASE to an arbiter, whose REPLY reaches the next node; T when that arbiter is the
/// leaving or the entering node itself.
const SYNC_DELAY: Figure = Figure::Range {
    low: Formula {
        text: "T",
        value: |_| Some(1.0),
    },
    high: Formula {
        text: "2T",
        value: |_| Some(2.0),
    },
};

fn assumptions(deadlock_free: bool) -> Assumptions {
    Assumptions {
        fifo: false,
        reliable_channels: true,
        token_based: false,
        grants_in_stamp_order: false,
        deadlock_free,
        crashes_tolerated: 0,
    }
}

/// Per node: every member's id (4 bytes each: anyone may have this node in its request set),
/// and per member of its request set (K ≤ 2⌈√N⌉ + 1): its id in the node and in the cluster's
/// quorums, the requester's state about it and a queued request at the arbiter.
fn memory(nodes: usize) -> u64 {
    let k = 2 * (nodes as f64).sqrt().ceil() as u64 + 1;
    let per_member = 8 + std::mem::size_of::<Member>() as u64 + 48;
    std::mem::size_of::<Maekawa>() as u64 + 4 * nodes as u64 + k * per_member
}

fn structure(quorums: &Quorums) -> String {
    let mut info = format!("{} quorums, K = {}", quorums.construction(), quorums.k());
    if let Some(note) = quorums.note() {
        info.push_str(&format!(" ({note})"));
    }
    info
}

/// A cluster's quorums and members.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The request sets.
    pub quorums: Quorums,
    /// The members, `0..N`.
    pub members: Vec<NodeId>,
}

fn setup(nodes: usize, params: &Params) -> Result<Setup, String> {
    Ok(Setup {
        quorums: quorums(nodes, params)?,
        members: dme_core::cluster(nodes),
    })
}

fn node(setup: &Setup, id: NodeId, deadlock_handling: bool) -> Result<Maekawa, String> {
    let set = setup
        .quorums
        .quorum(id)
        .ok_or_else(|| format!("{id} is not a node of the cluster"))?
        .to_vec();
    let node = if deadlock_handling {
        Maekawa::new(id, &setup.members, set)
    } else {
        Maekawa::without_deadlock_handling(id, &setup.members, set)
    };
    node.map_err(|e| e.to_string())
}

impl Describe for Descriptor {
    fn name(&self) -> &'static str {
        "maekawa"
    }
    fn summary(&self) -> &'static str {
        "Maekawa (1985): permission from every member of an intersecting request set of about √N nodes"
    }
    fn parameters(&self) -> &'static [Parameter] {
        PARAMETERS
    }
    fn assumptions(&self) -> Assumptions {
        assumptions(true)
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(THREE_K_MINUS_1),
                sync_delay: NOBODY_WAITS,
            },
            heavy: LoadFigures {
                // Under contention FAILED, INQUIRE and YIELD add up to 2(K−1) more.
                messages_per_entry: Figure::Range {
                    low: THREE_K_MINUS_1,
                    high: Formula {
                        text: "5(K-1)",
                        value: |f| others(5, f),
                    },
                },
                sync_delay: SYNC_DELAY,
            },
        }
    }
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        memory(nodes)
    }
}

impl Describe for NoDeadlockHandling {
    fn name(&self) -> &'static str {
        "maekawa-no-deadlock-handling"
    }
    fn summary(&self) -> &'static str {
        "Maekawa (1985) without FAILED, INQUIRE and YIELD: cheaper, and it deadlocks"
    }
    fn variant_of(&self) -> Option<&'static str> {
        Some("maekawa")
    }
    fn parameters(&self) -> &'static [Parameter] {
        PARAMETERS
    }
    fn assumptions(&self) -> Assumptions {
        assumptions(false)
    }
    fn figures(&self) -> Figures {
        Figures {
            light: LoadFigures {
                messages_per_entry: Figure::Exact(THREE_K_MINUS_1),
                sync_delay: NOBODY_WAITS,
            },
            heavy: LoadFigures {
                // REQUEST, REPLY and RELEASE to each other member of the set, whatever the load.
                messages_per_entry: Figure::Exact(THREE_K_MINUS_1),
                sync_delay: SYNC_DELAY,
            },
        }
    }
    fn memory_per_node(&self, nodes: usize, _: &Params) -> u64 {
        memory(nodes)
    }
}

impl Algorithm for Descriptor {
    type Node = Maekawa;
    type Setup = Setup;
    fn setup(&self, nodes: usize, params: &Params, _: u64) -> Result<Setup, String> {
        setup(nodes, params)
    }
    fn structure(&self, setup: &Setup) -> String {
        structure(&setup.quorums)
    }
    fn node(&self, setup: &Setup, id: NodeId) -> Result<Maekawa, String> {
        node(setup, id, true)
    }
}

impl Algorithm for NoDeadlockHandling {
    type Node = Maekawa;
    type Setup = Setup;
    fn setup(&self, nodes: usize, params: &Params, _: u64) -> Result<Setup, String> {
        setup(nodes, params)
    }
    fn structure(&self, setup: &Setup) -> String {
        structure(&setup.quorums)
    }
    fn node(&self, setup: &Setup, id: NodeId) -> Result<Maekawa, String> {
        node(setup, id, false)
    }
}
