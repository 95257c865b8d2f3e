//! Our exhaustive checker against stateright's breadth-first checker, on the same model.
//!
//! The model is `dme_sim::check::Cluster` of Ricart–Agrawala nodes (FIFO channels, R requests
//! per node): stateright is handed the very same states, actions and step function through its
//! `Model` trait, so the two searches explore identical state graphs and any difference in
//! speed is the engines' (stateright single-threaded, as ours is).
//!
//! `cargo bench -p dme-sim --bench check_vs_stateright` first prints a side-by-side table (one
//! run each: distinct states, states generated, depth, time, states per second), then runs
//! criterion on the smaller configurations, with throughput in distinct states per second.
//! Set `DME_BENCH_N4R2=1` to include N = 4, R = 2 in the table (tens of millions of states).

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use dme_core::{Outbox, cluster};
use dme_ricart_agrawala::{RaMessage, RicartAgrawala};
use dme_sim::check::{
    CheckOptions, Cluster, ClusterAction, ClusterState, TransitionSystem, Verdict, check,
};
use stateright::{Checker, Model};

fn ra_cluster(n: usize, r: u32) -> Cluster<RicartAgrawala> {
    let members = cluster(n);
    let nodes = members
        .iter()
        .map(|&id| RicartAgrawala::new(id, &members).expect("valid cluster"))
        .collect();
    Cluster::new(nodes, r, true).expect("valid cluster")
}

/// The same cluster, as a stateright model.
struct StaterightModel(Cluster<RicartAgrawala>);

impl Model for StaterightModel {
    type State = ClusterState<RicartAgrawala>;
    type Action = ClusterAction<RaMessage>;

    fn init_states(&self) -> Vec<Self::State> {
        self.0.initial_states()
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        actions.extend(self.0.actions(state));
    }

    fn next_state(&self, last: &Self::State, action: Self::Action) -> Option<Self::State> {
        self.0.step(last, &action, &mut Outbox::new()).ok()
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        vec![stateright::Property::always(
            "mutual exclusion",
            |_, s: &Self::State| s.in_critical_section().len() <= 1,
        )]
    }
}

/// (distinct states, states generated, depth, seconds).
fn ours(n: usize, r: u32) -> (u64, u64, u64, f64) {
    let result = check(&ra_cluster(n, r), &CheckOptions::default());
    assert_eq!(result.verdict, Verdict::NoViolation);
    let s = result.stats;
    (
        s.distinct_states,
        s.states_generated,
        s.depth,
        s.elapsed.as_secs_f64(),
    )
}

fn theirs(n: usize, r: u32) -> (u64, u64, u64, f64) {
    let start = Instant::now();
    let checker = StaterightModel(ra_cluster(n, r))
        .checker()
        .threads(1)
        .spawn_bfs()
        .join();
    let secs = start.elapsed().as_secs_f64();
    checker.assert_properties();
    (
        checker.unique_state_count() as u64,
        checker.state_count() as u64,
        checker.max_depth() as u64,
        secs,
    )
}

fn table() {
    let mut configs = vec![(3, 1), (3, 2), (4, 1)];
    if std::env::var_os("DME_BENCH_N4R2").is_some() {
        configs.push((4, 2));
    }
    println!("Ricart-Agrawala, FIFO, one core: our checker vs stateright 0.31 (BFS, 1 thread)");
    println!(
        "{:>5} {:>3} | {:>10} {:>11} {:>5} {:>8} {:>11} | {:>10} {:>11} {:>5} {:>8} {:>11} | {:>6}",
        "N",
        "R",
        "distinct",
        "generated",
        "depth",
        "secs",
        "states/s",
        "distinct",
        "generated",
        "depth",
        "secs",
        "states/s",
        "speed"
    );
    for (n, r) in configs {
        let (d1, g1, depth1, t1) = ours(n, r);
        let (d2, g2, depth2, t2) = theirs(n, r);
        let (rate1, rate2) = (d1 as f64 / t1, d2 as f64 / t2);
        println!(
            "{n:>5} {r:>3} | {d1:>10} {g1:>11} {depth1:>5} {t1:>8.3} {rate1:>11.0} | {d2:>10} {g2:>11} {depth2:>5} {t2:>8.3} {rate2:>11.0} | {:>5.2}x",
            rate1 / rate2
        );
    }
    println!(
        "(stateright's depth counts the initial state as 1, like ours; its state count is the\n \
         initial states plus every successor computed, like our states generated.)"
    );
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("check_ra_fifo");
    group.sample_size(10);
    for (n, r) in [(3usize, 1u32), (3, 2)] {
        let (distinct, ..) = ours(n, r);
        group.throughput(Throughput::Elements(distinct));
        let id = format!("N{n}_R{r}");
        group.bench_with_input(BenchmarkId::new("dme_check", &id), &(n, r), |b, &(n, r)| {
            b.iter(|| black_box(check(&ra_cluster(n, r), &CheckOptions::default())))
        });
        group.bench_with_input(
            BenchmarkId::new("stateright", &id),
            &(n, r),
            |b, &(n, r)| {
                b.iter(|| {
                    black_box(
                        StaterightModel(ra_cluster(n, r))
                            .checker()
                            .threads(1)
                            .spawn_bfs()
                            .join()
                            .unique_state_count(),
                    )
                })
            },
        );
    }
    group.finish();
}

fn main() {
    table();
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
