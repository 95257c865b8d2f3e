//! The central coordinator's figures, measured in the simulator: 3 messages per entry of a
//! non-coordinator, none for the coordinator, 3(N−1)/N over a run where every node requests
//! equally often; synchronization delay 2T between two non-coordinators, T when the
//! coordinator leaves or enters.

use dme_central::Central;
use dme_core::{NodeId, cluster};
use dme_sim::{Config, Dist, Report, Scenario, Workload, run};

const T: u64 = 10;

fn nodes(n: usize) -> Vec<Central> {
    let members = cluster(n);
    members
        .iter()
        .map(|&id| Central::new(id, &members, NodeId(0)).unwrap())
        .collect()
}

fn simulate(n: usize, workload: Workload, requests: u32, fifo: bool, seed: u64) -> Report {
    let config = Config {
        seed,
        delay: Dist::Constant(T),
        fifo,
        workload,
        cs_time: 5,
        requests_per_node: requests,
        ..Config::default()
    };
    let report = run(nodes(n), &config).unwrap();
    assert!(report.is_ok(), "{report}");
    report
}

fn scripted(n: usize, script: &str) -> Report {
    simulate(
        n,
        Workload::Scripted(Scenario::parse(script).unwrap()),
        1,
        true,
        1,
    )
}

#[test]
fn three_messages_per_entry_of_a_non_coordinator_none_for_the_coordinator() {
    for n in [2, 5, 16] {
        let report = simulate(n, Workload::Light, 4, true, 7);
        assert_eq!(report.entries, 4 * n as u64);
        for (entry, messages) in report.entry_log.iter().zip(report.messages_per_request()) {
            let expected = if entry.node == NodeId(0) { 0 } else { 3 };
            assert_eq!(messages, expected, "N={n}: {entry:?}");
        }
        // Every node requests equally often: 3(N−1)/N per entry, exactly.
        assert_eq!(report.messages, 3 * 4 * (n as u64 - 1));
        let expected = 3.0 * (n as f64 - 1.0) / n as f64;
        assert_eq!(report.messages_per_entry(), expected, "N={n}");
        // The same at heavy load: the cost of an entry does not depend on contention.
        let heavy = simulate(n, Workload::Heavy, 4, true, 7);
        assert_eq!(heavy.messages_per_entry(), expected, "N={n} heavy");
        assert_eq!(heavy.messages_by_kind["GRANT"], 4 * (n as u64 - 1));
    }
}

#[test]
fn sync_delay_is_2t_between_two_non_coordinators_and_t_with_the_coordinator() {
    // n1 and n2 contend; n1's RELEASE reaches the coordinator, whose GRANT reaches n2.
    let others = scripted(3, "at 0 node 1 requests\nat 0 node 2 requests\n");
    assert_eq!(others.sync_delay.unwrap().mean, (2 * T) as f64);
    // The coordinator leaves: its GRANT goes straight to the waiting n1.
    let leaves = scripted(3, "at 0 node 0 requests cs 30\nat 0 node 1 requests\n");
    assert_eq!(leaves.sync_delay.unwrap().mean, T as f64);
    // n1 leaves and the coordinator, waiting, enters as soon as the RELEASE arrives.
    let enters = scripted(3, "at 0 node 1 requests cs 30\nat 25 node 0 requests\n");
    assert_eq!(enters.sync_delay.unwrap().mean, T as f64);
    // Heavy load mixes both: between T and 2T.
    let heavy = simulate(5, Workload::Heavy, 4, true, 1);
    let mean = heavy.sync_delay.unwrap().mean;
    assert!((T as f64) <= mean && mean <= (2 * T) as f64, "{mean}");
}

#[test]
fn random_delays_without_fifo_keep_every_check() {
    for seed in 0..200 {
        let config = Config {
            seed,
            delay: Dist::Uniform { lo: 1, hi: 30 },
            fifo: false,
            workload: Workload::Random {
                think: Dist::Exponential { mean: 15.0 },
            },
            cs_time: 5,
            requests_per_node: 3,
            ..Config::default()
        };
        let report = run(nodes(6), &config).unwrap();
        assert!(report.is_ok(), "seed {seed}: {report}");
        assert_eq!(report.entries, 18);
    }
}
