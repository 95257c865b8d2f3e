//! Simulator throughput: delivered messages per second of wall time, Ricart–Agrawala, N = 64,
//! heavy load.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dme_core::{NodeId, cluster};
use dme_ricart_agrawala::RicartAgrawala;
use dme_sim::{Config, Dist, Workload, run};

fn nodes(n: usize) -> Vec<RicartAgrawala> {
    (0..n as u32)
        .map(|i| RicartAgrawala::new(NodeId(i), &cluster(n)).expect("valid cluster"))
        .collect()
}

fn simulator_throughput(c: &mut Criterion) {
    let config = Config {
        seed: 1,
        delay: Dist::Uniform { lo: 5, hi: 15 },
        workload: Workload::Heavy,
        requests_per_node: 20,
        trace_tail: 0,
        ..Config::default()
    };
    let delivered = run(nodes(64), &config).expect("runs").delivered;
    let mut group = c.benchmark_group("simulator");
    group.throughput(Throughput::Elements(delivered));
    group.sample_size(20);
    group.bench_function("ricart-agrawala/N=64/heavy (delivered messages)", |b| {
        b.iter(|| {
            let report = run(black_box(nodes(64)), black_box(&config)).expect("runs");
            assert_eq!(report.delivered, delivered);
            report.digest
        })
    });
    group.finish();
}

criterion_group!(benches, simulator_throughput);
criterion_main!(benches);
