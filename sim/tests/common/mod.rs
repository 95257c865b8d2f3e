//! Helpers shared by the simulator's integration tests (each test file uses some of them).
#![allow(dead_code)]

use dme_core::{NodeId, cluster};
use dme_sim::check::ClusterCheckConfig;
use dme_sim::{Config, Dist, Workload};

/// The message delay of the textbook figures.
pub const T: u64 = 10;
/// The critical-section time of the textbook figures.
pub const E: u64 = 5;

/// The textbook setting: constant delay T, critical section E, FIFO channels, seed 1.
pub fn constant(workload: Workload, requests: u32) -> Config {
    Config {
        seed: 1,
        delay: Dist::Constant(T),
        fifo: true,
        workload,
        cs_time: E,
        requests_per_node: requests,
        ..Config::default()
    }
}

/// The exhaustive checker's whole state space: `requests_per_node` requests each, deadlocks
/// checked, no state limit.
pub fn check_config(requests_per_node: u32, fifo: bool) -> ClusterCheckConfig {
    ClusterCheckConfig {
        requests_per_node,
        fifo,
        max_states: None,
        check_deadlock: true,
        partial_order_reduction: false,
    }
}

/// The simulated runs every mutant must fail within seeds `0..32`: random think times (so that
/// requests are sometimes concurrent and sometimes not), random delays, three requests per node.
pub fn mutant_config(seed: u64, fifo: bool) -> Config {
    Config {
        seed,
        delay: Dist::Uniform { lo: 1, hi: 20 },
        fifo,
        workload: Workload::Random {
            think: Dist::Exponential { mean: 15.0 },
        },
        cs_time: 5,
        requests_per_node: 3,
        trace_tail: 0,
        ..Config::default()
    }
}

/// A cluster of `n` nodes with ids `0..n`, node `i` built by `make(NodeId(i), members)`.
pub fn each<N>(n: usize, make: impl Fn(NodeId, &[NodeId]) -> Result<N, dme_core::Error>) -> Vec<N> {
    let members = cluster(n);
    members
        .iter()
        .map(|&id| make(id, &members).unwrap())
        .collect()
}
