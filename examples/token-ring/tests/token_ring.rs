//! The example algorithm under dme's tools, through the public API only, and the example
//! program itself run as a user would run it.

use std::process::Command;

use dme_example_token_ring::ring;
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};
use dme_sim::{Config, Dist, Workload, run};

#[test]
fn light_load_costs_n_messages_per_entry_or_none_for_the_holder() {
    let n = 6;
    let config = Config {
        workload: Workload::Light,
        delay: Dist::Constant(10),
        requests_per_node: 5,
        seed: 3,
        ..Config::default()
    };
    let report = run(ring(n).unwrap(), &config).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, 30);
    let log = &report.entry_log;
    let mut costs: Vec<u64> = log
        .windows(2)
        .map(|w| w[1].messages_before - w[0].messages_before)
        .collect();
    costs.push(report.messages - log[log.len() - 1].messages_before);
    // The requester is the holder (0 messages) or the request and the token together go
    // once round the ring (N messages).
    assert!(costs.iter().all(|&c| c == 0 || c == n as u64), "{costs:?}");
    let free = costs.iter().filter(|&&c| c == 0).count();
    assert!(free > 0 && free < costs.len(), "{costs:?}");
}

#[test]
fn random_seeds_without_fifo_pass_every_check() {
    for seed in 0..300 {
        let config = Config {
            workload: Workload::Random {
                think: Dist::Exponential { mean: 15.0 },
            },
            delay: Dist::Uniform { lo: 1, hi: 30 },
            fifo: false,
            requests_per_node: 4,
            seed,
            ..Config::default()
        };
        let report = run(ring(5).unwrap(), &config).unwrap();
        assert!(report.is_ok(), "seed {seed}: {report}");
        assert_eq!(report.entries, 20, "seed {seed}");
    }
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let config = Config {
        delay: Dist::Exponential { mean: 10.0 },
        seed: 11,
        ..Config::default()
    };
    let a = run(ring(4).unwrap(), &config).unwrap();
    let b = run(ring(4).unwrap(), &config).unwrap();
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.messages, b.messages);
}

#[test]
fn the_exhaustive_checker_finds_no_violation() {
    for (n, r, fifo, states) in [
        (2, 2, true, 64u64),
        (3, 1, false, 419),
        (3, 2, false, 12408),
    ] {
        let config = ClusterCheckConfig {
            requests_per_node: r,
            fifo,
            ..ClusterCheckConfig::default()
        };
        let outcome = check_cluster(ring(n).unwrap(), &config).unwrap();
        assert!(
            matches!(outcome.verdict, Verdict::NoViolation),
            "n={n} r={r}: {outcome}"
        );
        assert_eq!(outcome.stats.distinct_states, states, "n={n} r={r}");
    }
}

#[test]
fn the_example_program_runs_and_reports_every_check_passing() {
    let output = Command::new(env!("CARGO_BIN_EXE_dme-example-token-ring"))
        .output()
        .expect("the example binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.matches("safety ok, liveness ok").count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains("checker, 3 nodes, 2 requests each, no FIFO: 12408 distinct states"),
        "{stdout}"
    );
    assert!(stdout.contains("no violation"), "{stdout}");
}
