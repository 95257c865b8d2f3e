//! The exhaustive checker's speed: distinct states per second, for every registered algorithm
//! on a 3-node cluster, each node requesting once (FIFO channels, deadlock checking on), the
//! search bounded at 200,000 distinct states.
//!
//! One iteration is one complete search (`dme_sim::check::check_cluster`); the throughput is
//! the search's distinct states, so criterion's `thrpt:` line reads in states per second
//! (`Kelem/s`, `Melem/s`: one element is one distinct state). The state counts themselves are
//! deterministic and are printed once before the measurements.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use dme_core::Node;
use dme_registry::{ClusterSpec, ClusterVisitor, Registry, builtin};
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};

const NODES: usize = 3;
const MAX_STATES: u64 = 200_000;

fn config() -> ClusterCheckConfig {
    ClusterCheckConfig {
        requests_per_node: 1,
        fifo: true,
        // Lamport's clocks make its space large (about 950,000 states): the search stops at
        // this bound, which still measures the rate.
        max_states: Some(MAX_STATES),
        check_deadlock: true,
        partial_order_reduction: false,
    }
}

struct Bench<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    name: &'static str,
}

impl ClusterVisitor for Bench<'_, '_> {
    type Output = ();
    fn visit<N: Node>(self, nodes: Vec<N>, _structure: String) {
        let config = config();
        let first = check_cluster(nodes.clone(), &config).expect("the cluster is valid");
        let verdict = match first.verdict {
            Verdict::NoViolation => "no violation",
            Verdict::BoundReached => "bound reached, no violation within it",
            _ => panic!("{}: the exhaustive check found a violation", self.name),
        };
        let states = first.stats.distinct_states;
        println!(
            "checker/{}: N={NODES}, 1 request each: {verdict}; {states} distinct states, {} transitions, depth {}",
            self.name, first.stats.transitions, first.stats.depth
        );
        self.group.throughput(Throughput::Elements(states));
        self.group.bench_function(self.name, |b| {
            b.iter(|| {
                let outcome = check_cluster(nodes.clone(), &config).expect("valid");
                assert_eq!(outcome.stats.distinct_states, states);
                outcome.stats.transitions
            })
        });
    }
}

fn checker(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("checker/N={NODES},R=1"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let registry = builtin();
    for algorithm in registry.main_names() {
        let bench = Bench {
            group: &mut group,
            name: algorithm,
        };
        registry
            .cluster(&ClusterSpec::new(algorithm, NODES), bench)
            .expect("the cluster builds");
    }
    group.finish();
}

criterion_group!(benches, checker);
criterion_main!(benches);
