//! The exhaustive checker: a breadth-first search over every reachable state of a small system.
//!
//! Two layers:
//!
//! * [`check`] explores any [`TransitionSystem`] — initial states, successors with the action
//!   leading to each, invariants ([`Property`]), a deadlock predicate and an optional state
//!   constraint — and returns a [`Verdict`] with a *shortest* [`Counterexample`] and TLC-style
//!   [`Stats`] (distinct states, states generated, transitions, depth, states per second).
//!   Visited states are stored by 128-bit fingerprint (a fixed two-lane Fx-style hash, as TLC
//!   and stateright store 64-bit ones) with their parent's number, in an open-addressing table;
//!   only the states still to be explored are kept whole, and a trace is rebuilt by replaying
//!   the system along the path's fingerprints. Nothing depends on a random seed or on the
//!   iteration order of a hash table. A state limit ([`CheckOptions::max_states`]) stops the search cleanly with
//!   [`Verdict::BoundReached`]. The engine is validated against a published TLC result
//!   (Merz's `LamportMutex`, N = 3, maxClock = 6) in `sim/tests/check_lamport_mutex.rs`.
//! * [`Cluster`] is a cluster of nodes under the node contract as such a system, and
//!   [`check_cluster`] checks one: every order of message deliveries (per-pair FIFO or not),
//!   requests (R per node) and releases; safety (mutual exclusion, and token uniqueness for
//!   token-based algorithms) in every state; deadlocks; and protocol errors returned by nodes.
//!   The [`CheckOutcome`] prints the counterexample as numbered steps a person can follow and
//!   converts to a serializable [`CheckSummary`].
//!
//! By default every interleaving is explored, so the state counts are those of the plain model
//! (comparable with TLC's and stateright's). [`CheckOptions::partial_order_reduction`]
//! (`dme check --por`) explores instead, in each state, only the moves of a set of nodes that
//! commute with everything the others can do ([`TransitionSystem::ample`]; for a cluster, see
//! [`Cluster`]): every violation and deadlock is still found, in fewer states, but the
//! counterexample is no longer guaranteed shortest. No symmetry reduction: every algorithm
//! breaks ties by node id, so permuting ids is not a symmetry.
//!
//! ```
//! use dme_core::cluster;
//! use dme_ricart_agrawala::RicartAgrawala;
//! use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};
//!
//! let members = cluster(2);
//! let nodes = members.iter().map(|&id| RicartAgrawala::new(id, &members).unwrap()).collect();
//! let config = ClusterCheckConfig { requests_per_node: 1, ..ClusterCheckConfig::default() };
//! let outcome = check_cluster(nodes, &config).unwrap();
//! assert_eq!(outcome.verdict, Verdict::NoViolation);
//! assert!(outcome.stats.distinct_states > 0);
//! ```

mod cluster;
mod engine;
mod hash;
pub mod link;

pub use cluster::{
    CheckOutcome, CheckSummary, Cluster, ClusterAction, ClusterCheckConfig, ClusterState,
    ViolationSummary, check_cluster, check_cluster_constrained,
};
pub use engine::{
    CheckOptions, CheckResult, Counterexample, Property, Stats, Step, StepFailure,
    TransitionSystem, Verdict, ViolationKind, check,
};
