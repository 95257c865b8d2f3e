//! Helpers shared by the token algorithms' tests (`suzuki_kasami.rs`, `naimi_trehel.rs`,
//! `singhal.rs`): the random sweep, the exhaustive spaces, and catching a mutant.
#![allow(dead_code)]

use dme_core::Node;
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};
use dme_sim::{Config, Dist, FailureKind, Workload, run};

/// One random run: delays uniform or exponential, the channel order as given, the load light
/// (`load` 0), heavy (1) or random (2); three requests per site.
pub fn random_config(seed: u64, fifo: bool, load: usize) -> Config {
    Config {
        seed,
        delay: if seed % 2 == 0 {
            Dist::Uniform { lo: 1, hi: 30 }
        } else {
            Dist::Exponential { mean: 10.0 }
        },
        fifo,
        workload: match load {
            0 => Workload::Light,
            1 => Workload::Heavy,
            _ => Workload::Random {
                think: Dist::Exponential { mean: 20.0 },
            },
        },
        cs_time: seed % 11,
        requests_per_node: 3,
        trace_tail: 0,
        ..Config::default()
    }
}

/// Runs `seeds` × N ∈ 2..=16 × FIFO on and off × light, heavy and random load, asserting that
/// every run passes every check and serves every request; returns (runs, entries).
pub fn sweep<N: Node>(seeds: std::ops::Range<u64>, sites: impl Fn(usize) -> Vec<N>) -> (u64, u64) {
    let (mut runs, mut entries) = (0, 0);
    for seed in seeds {
        for n in 2..=16usize {
            for fifo in [true, false] {
                for load in 0..3 {
                    let config = random_config(seed, fifo, load);
                    let report = run(sites(n), &config).unwrap();
                    assert!(report.is_ok(), "N={n}, {config}\n{report}");
                    assert_eq!(report.entries, 3 * n as u64, "N={n}, {config}");
                    runs += 1;
                    entries += report.entries;
                }
            }
        }
    }
    (runs, entries)
}

/// (distinct states, states generated, depth).
pub type Figures = (u64, u64, u64);

/// Checks the whole state space of `nodes` with R = `r`, prints its figures and returns them;
/// panics on a violation.
pub fn check_space<N: Node>(what: &str, nodes: Vec<N>, r: u32, fifo: bool) -> Figures {
    let outcome = check_cluster(nodes, &crate::common::check_config(r, fifo)).unwrap();
    let channels = if fifo { "FIFO" } else { "non-FIFO" };
    println!("{what}, R={r}, {channels}: {}", outcome.stats);
    assert_eq!(outcome.verdict, Verdict::NoViolation, "{outcome}");
    let s = outcome.stats;
    (s.distinct_states, s.states_generated, s.depth)
}

/// What catching a mutant found: (the checker's violation kind, its steps, the distinct states
/// explored, the first failing seed of the simulator, the simulator's failed check).
pub type Caught = (&'static str, usize, u64, u64, FailureKind);

/// Checks a mutant exhaustively (`small`, R = 1, at most 5,000,000 states) and in the simulator
/// (`sim`, seeds 0..32); panics if either misses it.
pub fn catch<N: Node>(what: &str, small: Vec<N>, sim: impl Fn() -> Vec<N>, fifo: bool) -> Caught {
    let config = ClusterCheckConfig {
        max_states: Some(5_000_000),
        ..crate::common::check_config(1, fifo)
    };
    let outcome = check_cluster(small, &config).unwrap();
    println!("{what}, fifo={fifo}:\n{outcome}\n");
    let v = outcome
        .summary()
        .violation
        .unwrap_or_else(|| panic!("{what}: the checker finds no violation"));
    let (seed, failure) = (0..32)
        .find_map(|seed| {
            let report = run(sim(), &crate::common::mutant_config(seed, fifo)).unwrap();
            report.failure.map(|f| (seed, f.kind))
        })
        .unwrap_or_else(|| panic!("{what}: no failing seed below 32"));
    let row = (
        v.kind,
        v.steps,
        outcome.stats.distinct_states,
        seed,
        failure,
    );
    println!("{what}, fifo={fifo}: {row:?}");
    row
}
