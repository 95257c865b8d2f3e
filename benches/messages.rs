//! Messages per critical-section entry, measured, for every registered algorithm (the `dme`
//! registry's algorithms without named variants) at N ∈ {4, 9, 16, 36, 64, 144, 256} (add 576 and 1024 with
//! `DME_BENCH_FULL=1`), one criterion group per load:
//!
//! * `messages/light`: one request outstanding in the whole cluster at a time, each node asking
//!   once (N entries per run);
//! * `messages/heavy`: every node asks at time 0 (N entries per run, all contending).
//!
//! The measurement is [`dme_benches::Messages`]: `time:` is the messages of one simulated run,
//! `thrpt:` the messages per entry. Runs are seeded (seed 1, constant delay T = 10, FIFO), so the
//! figures are the same on every run of the benchmark. Before benchmarking a configuration, one
//! run is compared with the textbook's figure where it is exact (Lamport 3(N−1), Ricart–Agrawala
//! 2(N−1), Maekawa 3(K−1) at light load, Raymond 2·distance at light load): a mismatch stops
//! the benchmark. At the end a side-by-side table per load is printed.

use std::time::{Duration, Instant};

use criterion::{AxisScale, BenchmarkId, Criterion, PlotConfiguration, SamplingMode, Throughput};
use dme_benches::{Messages, exact};
use dme_lab::simulate;
use dme_lab::textbook::Textbook;
use dme_registry::{ClusterSpec, Registry, builtin};
use dme_sim::{Config, Dist, Workload};

const SIZES: &[usize] = &[4, 9, 16, 36, 64, 144, 256];
const FULL_SIZES: &[usize] = &[4, 9, 16, 36, 64, 144, 256, 576, 1024];

fn sizes() -> &'static [usize] {
    match std::env::var("DME_BENCH_FULL") {
        Ok(v) if !v.is_empty() && v != "0" => FULL_SIZES,
        _ => SIZES,
    }
}

fn config(workload: Workload) -> Config {
    Config {
        seed: 1,
        delay: Dist::Constant(10),
        fifo: true,
        workload,
        cs_time: 5,
        requests_per_node: 1,
        trace_tail: 0,
        ..Config::default()
    }
}

struct Measured {
    algorithm: &'static str,
    nodes: usize,
    per_entry: f64,
    textbook: Textbook,
}

fn bench_load(
    c: &mut Criterion<Messages>,
    load: &str,
    workload: Workload,
    table: &mut Vec<Measured>,
) {
    let mut group = c.benchmark_group(format!("messages/{load}"));
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .plot_config(PlotConfiguration::default().summary_scale(AxisScale::Logarithmic));
    let config = config(workload);
    let registry = builtin();
    for algorithm in registry.main_names() {
        for &n in sizes() {
            let spec = ClusterSpec {
                seed: 1,
                ..ClusterSpec::new(algorithm, n)
            };
            // One run outside criterion: the expected count, the textbook check, and how long a
            // run takes (to size criterion's sampling: about 2.5 runs per sample, so that a slower run
            // still fits).
            let started = Instant::now();
            let first = simulate(&registry, &spec, &config).expect("the cluster builds");
            let took = started.elapsed();
            let report = &first.report;
            assert!(report.is_ok(), "{algorithm} N={n} {load}: {report}");
            let tb = first.textbook.clone();
            if tb.exact {
                assert_eq!(
                    Some(report.messages_per_entry()),
                    tb.value,
                    "{algorithm} N={n} {load}: measured {} messages per entry, textbook {} = {:?}",
                    report.messages_per_entry(),
                    tb.formula,
                    tb.value
                );
            }
            let expected = report.messages;
            table.push(Measured {
                algorithm,
                nodes: n,
                per_entry: report.messages_per_entry(),
                textbook: tb,
            });
            group
                .measurement_time((took * 25).max(Duration::from_millis(20)))
                .throughput(Throughput::Elements(report.entries));
            group.bench_with_input(BenchmarkId::new(algorithm, n), &n, |b, _| {
                b.iter_custom(|iters| {
                    let mut total = 0;
                    for _ in 0..iters {
                        let run = simulate(&registry, &spec, &config).expect("the cluster builds");
                        assert_eq!(run.messages, expected, "a deterministic run changed");
                        total += run.messages;
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

fn print_table(load: &str, rows: &[Measured]) {
    let algorithms = builtin().main_names();
    println!("\nmessages per entry, {load} load: measured (textbook)");
    print!("{:>6}", "N");
    for a in &algorithms {
        print!("  {a:>30}");
    }
    println!();
    for &n in sizes() {
        print!("{n:>6}");
        for a in &algorithms {
            let cell = rows
                .iter()
                .find(|r| r.algorithm == *a && r.nodes == n)
                .map_or("-".to_string(), |r| {
                    format!("{} ({})", exact(r.per_entry), r.textbook.display_value())
                });
            print!("  {cell:>30}");
        }
        println!();
    }
}

fn main() {
    // Message counts are deterministic, so there is nothing to compare with a previous run, and
    // criterion 0.8.2 panics comparing two zero-variance samples (its Welch t-test distribution
    // is empty). Naming a baseline that is never saved turns comparisons off: results still go
    // to `new/` and into the HTML report.
    let mut c = Criterion::default()
        .with_measurement(Messages)
        .configure_from_args()
        .retain_baseline("never-compared".into(), false);
    let mut light = Vec::new();
    let mut heavy = Vec::new();
    bench_load(&mut c, "light", Workload::Light, &mut light);
    bench_load(&mut c, "heavy", Workload::Heavy, &mut heavy);
    c.final_summary();
    print_table("light", &light);
    print_table("heavy", &heavy);
}
