//! Issue 13 item 1 (times wrap around): every time the simulator forms stays within
//! `MAX_TIME` (2^53 ticks) or the run is refused up front, or stopped with an error, naming what
//! is too large. Never a wrapped or saturated time in a report.

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, cluster};
use dme_lamport::Lamport;
use dme_raymond::{Raymond, TreeShape};
use dme_ricart_agrawala::RicartAgrawala;
use dme_sim::check::{Cluster, ClusterCheckConfig, check_cluster};
use dme_sim::{Config, Dist, MAX_TIME, Report, Scenario, ScriptedRequest, Workload, run};
use proptest::prelude::*;

fn lamport(n: usize) -> Vec<Lamport> {
    let members = cluster(n);
    members
        .iter()
        .map(|&id| Lamport::new(id, &members).unwrap())
        .collect()
}

fn ricart(n: usize) -> Vec<RicartAgrawala> {
    let members = cluster(n);
    members
        .iter()
        .map(|&id| RicartAgrawala::new(id, &members).unwrap())
        .collect()
}

fn raymond(n: usize) -> Vec<Raymond> {
    let tree = TreeShape::Kary(2).build(n, 0).unwrap();
    Raymond::cluster(&tree, tree.root()).unwrap()
}

fn err(result: Result<Report, dme_sim::SimError>) -> String {
    match result {
        Ok(report) => panic!("expected an error, got a report:\n{report}"),
        Err(e) => e.0,
    }
}

#[test]
fn the_issues_three_commands_are_refused_naming_the_setting_and_the_limit() {
    // dme run -a lamport -n 3 --cs-time 18446744073709551615 --requests 2
    let config = Config {
        cs_time: u64::MAX,
        requests_per_node: 2,
        ..Config::default()
    };
    let e = err(run(lamport(3), &config));
    assert!(
        e.contains("cs-time 18446744073709551615") && e.contains("9007199254740992"),
        "{e}"
    );
    // --delay constant:18446744073709551615 --requests 1
    let config = Config {
        delay: Dist::Constant(u64::MAX),
        requests_per_node: 1,
        ..Config::default()
    };
    let e = err(run(lamport(3), &config));
    assert!(
        e.starts_with("delay constant:18446744073709551615") && e.contains("2^53"),
        "{e}"
    );
    // Scenario lines `at 18446744073709551615 node 1 requests`, `... cs 18446744073709551615`.
    for line in [
        "at 18446744073709551615 node 1 requests",
        "at 0 node 1 requests cs 18446744073709551615",
    ] {
        let e = Scenario::parse(line).unwrap_err();
        assert!(
            e.contains("scenario line 1") && e.contains("9007199254740992"),
            "{e}"
        );
    }
    // The same scenario built in code, past the parser.
    for (at, cs_time) in [(u64::MAX, None), (0, Some(u64::MAX))] {
        let scenario = Scenario {
            requests: vec![ScriptedRequest {
                at,
                node: 1,
                cs_time,
            }],
        };
        let config = Config {
            workload: Workload::Scripted(scenario),
            ..Config::default()
        };
        let e = err(run(lamport(3), &config));
        assert!(e.contains("scenario") && e.contains("2^53"), "{e}");
    }
}

#[test]
fn every_duration_setting_is_checked_before_the_run() {
    let over = MAX_TIME + 1;
    let cases: Vec<(Config, &str)> = vec![
        (
            Config {
                delay: Dist::Uniform { lo: 0, hi: over },
                ..Config::default()
            },
            "delay uniform",
        ),
        (
            Config {
                delay: Dist::Exponential { mean: 1e15 },
                ..Config::default()
            },
            "delay exp",
        ),
        (
            Config {
                delay: Dist::Exponential {
                    mean: f64::INFINITY,
                },
                ..Config::default()
            },
            "delay exp",
        ),
        (
            Config {
                workload: Workload::Random {
                    think: Dist::Constant(over),
                },
                ..Config::default()
            },
            "think constant",
        ),
        (
            Config {
                max_time: Some(over),
                ..Config::default()
            },
            "max-time",
        ),
        (
            Config {
                cs_time: over,
                ..Config::default()
            },
            "cs-time",
        ),
        // Each value fits, their sum does not: 3 nodes × 4 requests × 2^51 ticks of critical
        // section, one after the other.
        (
            Config {
                cs_time: 1 << 51,
                requests_per_node: 4,
                ..Config::default()
            },
            "the critical sections alone (3 nodes × 4 requests per node",
        ),
        (
            Config {
                cs_time: 1 << 40,
                requests_per_node: u32::MAX,
                ..Config::default()
            },
            "the critical sections alone",
        ),
    ];
    for (config, expected) in cases {
        let e = err(run(ricart(3), &config));
        assert!(
            e.contains(expected) && e.contains("9007199254740992"),
            "{expected}: {e}"
        );
    }
    // The largest values that fit are accepted: exp's mean up to MAX_TIME / 36.74.
    assert!(
        Dist::Exponential { mean: 2.4e14 }
            .check_limit("delay")
            .is_ok()
    );
    assert!(Dist::Constant(MAX_TIME).check_limit("delay").is_ok());
}

#[test]
fn a_run_whose_clock_would_pass_the_limit_stops_with_an_error() {
    // Each delay fits; two in a row do not: the REPLY would arrive after 2^53.
    let config = Config {
        delay: Dist::Constant(MAX_TIME / 2 + 1),
        requests_per_node: 1,
        ..Config::default()
    };
    let e = err(run(ricart(2), &config));
    assert!(
        e.contains("virtual time overflow at t=4503599627370497"),
        "{e}"
    );
    assert!(
        e.contains("a message delay of 4503599627370497 ticks"),
        "{e}"
    );
    // A critical section that would end past the limit.
    let scenario = Scenario {
        requests: vec![ScriptedRequest {
            at: MAX_TIME - 3,
            node: 0,
            cs_time: Some(4),
        }],
    };
    let config = Config {
        workload: Workload::Scripted(scenario),
        ..Config::default()
    };
    let e = err(run(raymond(3), &config));
    assert!(e.contains("a critical section of 4 ticks"), "{e}");
    // Exactly at the limit is fine, and every time in the report is the exact one.
    let scenario = Scenario {
        requests: vec![ScriptedRequest {
            at: MAX_TIME - 4,
            node: 0,
            cs_time: Some(4),
        }],
    };
    let config = Config {
        workload: Workload::Scripted(scenario),
        ..Config::default()
    };
    let report = run(raymond(3), &config).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.end_time, MAX_TIME);
    assert_eq!(report.entry_log[0].exited_at, Some(MAX_TIME));
    assert_eq!(report.response_time.mean, 4.0);
}

/// The invariants of a report: every entry after its request, every exit after its entry,
/// every time within the limit, the trace in time order, every figure finite.
fn assert_sane(report: &Report) {
    for e in &report.entry_log {
        if let Some(t) = e.entered_at {
            assert!(t >= e.requested_at, "{e:?}");
        }
        if let Some(t) = e.exited_at {
            assert!(t >= e.entered_at.expect("exit without entry"), "{e:?}");
            assert!(t <= MAX_TIME);
        }
    }
    assert!(report.end_time <= MAX_TIME);
    assert!(
        report.trace.windows(2).all(|w| w[0].time <= w[1].time),
        "trace out of order"
    );
    let mut figures = vec![
        report.messages_per_entry(),
        report.throughput(),
        report.response_time.mean,
        report.waiting_time.mean,
    ];
    if let Some(s) = report.sync_delay {
        figures.push(s.mean);
        assert!(s.max <= report.end_time);
    }
    assert!(figures.iter().all(|f| f.is_finite()), "{figures:?}");
    assert!(report.response_time.max <= report.end_time);
}

/// Mostly ordinary durations, one in four extreme, so that both sound reports and refusals
/// are common.
fn extreme() -> impl Strategy<Value = u64> {
    prop_oneof![
        24 => 0u64..30,
        1 => Just(MAX_TIME / 4),
        1 => Just(MAX_TIME / 2),
        1 => Just(MAX_TIME - 1),
        1 => Just(MAX_TIME),
        1 => Just(MAX_TIME + 1),
        1 => Just(u64::MAX / 2),
        1 => Just(u64::MAX),
        1 => any::<u64>(),
    ]
}

fn dist() -> impl Strategy<Value = Dist> {
    prop_oneof![
        extreme().prop_map(Dist::Constant),
        (extreme(), extreme()).prop_map(|(a, b)| Dist::Uniform {
            lo: a.min(b),
            hi: a.max(b)
        }),
        extreme().prop_map(|m| Dist::Exponential { mean: m as f64 }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Extreme values of every numeric setting: an error that names the limit, or a report
    /// whose invariants hold.
    #[test]
    fn extreme_settings_give_an_error_or_a_sound_report(
        n in 2usize..5,
        seed in any::<u64>(),
        delay in dist(),
        think in dist(),
        cs_time in extreme(),
        max_time in proptest::option::of(extreme()),
        requests in prop_oneof![4 => 1u32..4, 1 => Just(u32::MAX)],
        load in 0..4,
        at in extreme(),
        cs in proptest::option::of(extreme()),
        fifo in any::<bool>(),
        algorithm in 0..2,
    ) {
        let workload = match load {
            0 => Workload::Light,
            1 => Workload::Heavy,
            2 => Workload::Random { think },
            _ => Workload::Scripted(Scenario { requests: vec![
                ScriptedRequest { at, node: 1, cs_time: cs },
                ScriptedRequest { at: 0, node: 0, cs_time: None },
            ]}),
        };
        // u32::MAX requests only where the critical sections alone pass the limit, so that
        // the case is refused rather than run for hours.
        let requests = if requests == u32::MAX && cs_time < MAX_TIME / 1000 { 2 } else { requests };
        let config = Config { seed, delay, fifo, workload, cs_time, requests_per_node: requests,
            max_time, full_trace: true, ..Config::default() };
        let result = if algorithm == 0 { run(ricart(n), &config) } else { run(raymond(n), &config) };
        match result {
            Ok(report) => assert_sane(&report),
            Err(e) => prop_assert!(e.0.contains("9007199254740992 ticks (2^53)"), "{}", e.0),
        }
    }
}

/// A node that never sends, to build clusters the checker cannot number.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Mute(NodeId);

#[derive(Clone, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
struct Nothing;

impl Message for Nothing {
    fn kind(&self) -> &'static str {
        "NOTHING"
    }
}

impl Node for Mute {
    type Message = Nothing;
    fn id(&self) -> NodeId {
        self.0
    }
    fn request(&mut self, out: &mut Outbox<Nothing>) -> Result<(), Error> {
        out.enter();
        Ok(())
    }
    fn release(&mut self, _: &mut Outbox<Nothing>) -> Result<(), Error> {
        Ok(())
    }
    fn on_message(&mut self, _: NodeId, _: Nothing, _: &mut Outbox<Nothing>) -> Result<(), Error> {
        Ok(())
    }
    fn phase(&self) -> Phase {
        Phase::Idle
    }
    fn waiting_for(&self) -> Vec<NodeId> {
        Vec::new()
    }
}

#[test]
fn the_checker_refuses_a_cluster_whose_channels_it_cannot_number() {
    // Channels are numbered from * n + to in 32 bits: 65,536 nodes would wrap.
    let nodes: Vec<Mute> = (0..65_536).map(|i| Mute(NodeId(i))).collect();
    let Err(e) = Cluster::new(nodes, 1, true) else {
        panic!("65,536 nodes accepted")
    };
    assert!(e.to_string().contains("at most 65535 nodes"), "{e}");
    let nodes = (0..70_000).map(|i| Mute(NodeId(i))).collect();
    let Err(e) = check_cluster(nodes, &ClusterCheckConfig::default()) else {
        panic!("70,000 nodes accepted")
    };
    assert!(e.to_string().contains("65535"), "{e}");
}
