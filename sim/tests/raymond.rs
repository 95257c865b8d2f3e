//! Raymond's tree-based token algorithm in the simulator: 2·distance messages per entry at light
//! load, entry by entry; a small constant (about 4) at heavy load on balanced binary trees up to
//! 1023 nodes; a sync delay of T·(distance between consecutive holders), about 2T at heavy load;
//! and no failure over random trees, delays and channel orders. Run with `--nocapture` to see the measured figures.

use dme_core::NodeId;
use dme_raymond::{Raymond, Tree};
use dme_sim::{Config, Dist, FailureKind, Report, Workload, run};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::T;

fn constant(seed: u64, workload: Workload, requests: u32) -> Config {
    Config {
        seed,
        ..common::constant(workload, requests)
    }
}

fn simulate(tree: &Tree, holder: NodeId, config: &Config) -> Report {
    let report = run(Raymond::cluster(tree, holder).unwrap(), config).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, report.requests, "{report}");
    report
}

/// Light load: entry `k` costs exactly 2 × the distance from its requester to the node that
/// entered before it (the token stays where it was last used), 0 when that is the requester
/// itself; the waiting time is that distance × 2T; REQUESTs and TOKEN hops are equally many.
/// Returns the tree-computed mean of the distances.
fn check_light_run(tree: &Tree, holder: NodeId, report: &Report) -> f64 {
    let per_entry = report.messages_per_request();
    let mut token_at = holder;
    let mut hops = 0u64;
    for (k, e) in report.entry_log.iter().enumerate() {
        let d = tree.distance(e.node, token_at) as u64;
        assert_eq!(
            per_entry[k],
            2 * d,
            "entry {k} by {} (token at {token_at})",
            e.node
        );
        let waited = e.entered_at.unwrap() - e.requested_at;
        assert_eq!(waited, 2 * d * T, "entry {k} by {}", e.node);
        hops += d;
        token_at = e.node;
    }
    assert_eq!(report.messages, 2 * hops);
    assert_eq!(
        report.messages_by_kind.get("REQUEST").copied().unwrap_or(0),
        hops
    );
    assert_eq!(
        report.messages_by_kind.get("TOKEN").copied().unwrap_or(0),
        hops
    );
    assert_eq!(report.sync_delay, None, "nobody waits at light load");
    let mean = hops as f64 / report.entries as f64;
    assert_eq!(report.messages_per_entry(), 2.0 * mean);
    mean
}

#[test]
fn light_load_each_entry_costs_twice_the_distance_to_the_holder() {
    for n in [1usize, 2, 3, 7, 16, 31] {
        let trees = [
            ("star", Tree::star(n).unwrap()),
            ("line", Tree::line(n).unwrap()),
            ("binary", Tree::binary(n).unwrap()),
        ];
        for (name, tree) in &trees {
            for holder in [tree.root(), NodeId(n as u32 - 1)] {
                let report = simulate(tree, holder, &constant(n as u64, Workload::Light, 4));
                assert_eq!(report.entries, 4 * n as u64);
                check_light_run(tree, holder, &report);
                if n > 1 {
                    assert!(report.messages > 0, "{name} N={n}: the token must move");
                }
            }
        }
    }
}

/// Over a long light-load run the requesters are close to uniform and independent, so the
/// average cost approaches 2 × the tree's mean distance between two uniform nodes.
#[test]
fn light_load_average_matches_the_mean_tree_distance() {
    for (name, tree) in [
        ("star", Tree::star(16).unwrap()),
        ("line", Tree::line(16).unwrap()),
        ("binary", Tree::binary(31).unwrap()),
        ("binary", Tree::binary(127).unwrap()),
    ] {
        let n = tree.node_count();
        let report = simulate(&tree, tree.root(), &constant(3, Workload::Light, 40));
        let measured = check_light_run(&tree, tree.root(), &report);
        let expected = tree.mean_distance();
        println!(
            "light {name:<6} N={n:<4} messages/entry {:.3}, 2 × mean tree distance {:.3}",
            report.messages_per_entry(),
            2.0 * expected
        );
        assert!(
            (measured - expected).abs() <= 0.05 * expected,
            "{name} N={n}: mean distance measured {measured:.3}, from the tree {expected:.3}"
        );
    }
}

#[test]
fn heavy_load_on_balanced_binary_trees_costs_a_small_constant() {
    for (n, requests) in [(15usize, 40u32), (63, 20), (255, 8), (1023, 4)] {
        let tree = Tree::binary(n).unwrap();
        let report = simulate(&tree, tree.root(), &constant(1, Workload::Heavy, requests));
        assert_eq!(report.entries, requests as u64 * n as u64);
        let per_entry = report.messages_per_entry();

        // Synchronization delay: the token goes straight from one holder to the next along the
        // tree path, one T per hop. Checked entry by entry once the start-up requests have
        // climbed the tree (a request at t = 0 needs up to T × height to reach the token).
        let mut entries: Vec<_> = report.entry_log.iter().collect();
        entries.sort_by_key(|e| e.entered_at);
        let settled = T * tree.height() as u64;
        let (mut checked, mut hops) = (0u64, 0u64);
        for w in entries.windows(2) {
            let (prev, next) = (w[0], w[1]);
            let exit = prev.exited_at.unwrap();
            let d = tree.distance(prev.node, next.node) as u64;
            let gap = next.entered_at.unwrap() - exit;
            assert!(gap >= d * T, "N={n}: the token cannot outrun the tree");
            if next.requested_at + settled <= exit {
                assert_eq!(gap, d * T, "N={n}: {} to {}", prev.node, next.node);
                checked += 1;
                hops += d;
            }
        }
        assert!(checked as f64 >= 0.9 * report.entries as f64, "N={n}");
        let sync = report.sync_delay.expect("nodes wait at heavy load");
        println!(
            "heavy binary N={n:<5} messages/entry {per_entry:.3} ({:?}), sync delay {sync}, \
             mean hops between holders {:.3} (log2 N / 2 = {:.2})",
            report.messages_by_kind,
            hops as f64 / checked as f64,
            (n as f64).log2() / 2.0
        );
        assert!(per_entry <= 5.0, "N={n}: {per_entry:.3} messages per entry");
        assert!(per_entry >= 3.5, "N={n}: {per_entry:.3} messages per entry");
        assert_eq!(
            report.messages_by_kind["REQUEST"],
            report.messages_by_kind["TOKEN"]
        );
        // With every node always waiting, the FIFO request queues make the token tour the tree
        // depth first: 2(N − 1) hops per round of N entries, so about 2 hops between holders.
        let tour = 2.0 * (n as f64 - 1.0) / n as f64;
        let mean_hops = hops as f64 / checked as f64;
        assert!(
            (mean_hops - tour).abs() <= 0.1,
            "N={n}: {mean_hops:.3} hops, tour {tour:.3}"
        );
    }
}

/// Random trees of 2..=16 nodes with a random initial holder, random delays, FIFO on and off,
/// heavy and random load: never a safety, liveness, token or protocol failure.
#[test]
fn random_trees_and_delays_with_and_without_fifo_never_fail() {
    let mut entries = 0;
    for seed in 0..1000u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..=16usize);
        let tree = Tree::random(n, seed).unwrap();
        let holder = NodeId(rng.random_range(0..n as u32));
        for fifo in [true, false] {
            let config = Config {
                seed,
                delay: if seed % 2 == 0 {
                    Dist::Uniform { lo: 1, hi: 30 }
                } else {
                    Dist::Exponential { mean: 10.0 }
                },
                fifo,
                workload: if seed % 3 == 0 {
                    Workload::Heavy
                } else {
                    Workload::Random {
                        think: Dist::Exponential { mean: 20.0 },
                    }
                },
                cs_time: rng.random_range(0..=10),
                requests_per_node: 3,
                ..Config::default()
            };
            let report = run(Raymond::cluster(&tree, holder).unwrap(), &config).unwrap();
            assert!(report.is_ok(), "N={n}, holder {holder}, {config}\n{report}");
            assert_eq!(report.entries, 3 * n as u64, "{config}");
            entries += report.entries;
        }
    }
    assert!(entries > 30_000);
}

#[test]
fn runs_are_deterministic() {
    let tree = Tree::random(12, 5).unwrap();
    let config = Config {
        seed: 9,
        delay: Dist::Exponential { mean: 10.0 },
        fifo: false,
        ..Config::default()
    };
    let a = simulate(&tree, NodeId(3), &config);
    let b = simulate(&tree, NodeId(3), &config);
    assert_eq!(a.digest, b.digest);
    assert_eq!(a, b);
}

/// The token check can fail: two nodes that both believe they hold the token are caught.
#[test]
fn the_simulator_catches_a_duplicated_token() {
    let nodes = vec![
        Raymond::new(NodeId(0), &[NodeId(1)], NodeId(0)).unwrap(),
        Raymond::new(NodeId(1), &[NodeId(0)], NodeId(1)).unwrap(),
    ];
    let report = run(nodes, &constant(0, Workload::Heavy, 2)).unwrap();
    let failure = report.failure.expect("two tokens");
    assert_eq!(failure.kind, FailureKind::Token, "{failure}");
}

/// Above 4096 nodes the simulator keeps per-pair channel state only for pairs that talk; the
/// figures are the same as with the flat table (2 · distance per light-load entry).
#[test]
fn clusters_beyond_the_flat_pair_table_run_the_same_way() {
    for fifo in [true, false] {
        let tree = Tree::star(5000).unwrap();
        let config = Config {
            fifo,
            ..constant(3, Workload::Light, 1)
        };
        let report = simulate(&tree, NodeId(0), &config);
        assert_eq!(report.entries, 5000);
        let expected: u64 = report
            .entry_log
            .windows(2)
            .map(|w| 2 * tree.distance(w[0].node, w[1].node) as u64)
            .sum::<u64>()
            + 2 * tree.distance(NodeId(0), report.entry_log[0].node) as u64;
        assert_eq!(report.messages, expected);
    }
}
