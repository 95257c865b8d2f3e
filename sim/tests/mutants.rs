//! Mutants: deliberately broken variants of every algorithm, each of which must be caught both
//! by the exhaustive checker (on a cluster of at most 4 nodes) and by the random simulator
//! within [`SEED_BOUND`] seeds. The point is trust: "no violation found" means something because
//! the same machinery finds these.
//!
//! The mutants live in `sim/tests/mutants/`, one file per algorithm: each mistake is a wrapper
//! over the real node's public API (`dme_conformance::mutant`), so a mutant differs from the real
//! algorithm by its mistake and nothing else, and the algorithm crates carry no trace of it.
//!
//! `cargo test --release -p dme-sim --test mutants -- --nocapture` prints the table that
//! `docs/checking.md` shows.

use std::time::Instant;

use dme_core::Node;
use dme_maekawa::{QuorumKind, Quorums};
use dme_raymond::Tree;
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};
use dme_sim::{FailureKind, run};

mod common;

#[path = "mutants/lamport.rs"]
mod lamport;
#[path = "mutants/maekawa.rs"]
mod maekawa;
#[path = "mutants/raymond.rs"]
mod raymond;
#[path = "mutants/ricart_agrawala.rs"]
mod ricart_agrawala;

/// Every mutant must fail one of the simulated runs with seeds `0..SEED_BOUND`.
const SEED_BOUND: u64 = 32;

fn check_config(requests_per_node: u32, fifo: bool) -> ClusterCheckConfig {
    ClusterCheckConfig {
        requests_per_node,
        fifo,
        max_states: Some(5_000_000),
        check_deadlock: true,
        partial_order_reduction: false,
    }
}

/// What is expected of a mutant: the kind of violation the exhaustive checker reports, the
/// length of its shortest counterexample, and the check that fails in the simulator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Expected {
    check: &'static str,
    steps: usize,
    states: u64,
    sim: FailureKind,
}

/// One line of the table.
struct Row {
    algorithm: &'static str,
    mutant: &'static str,
    scope: String,
    check: &'static str,
    steps: usize,
    states: u64,
    secs: f64,
    rate: f64,
    trace: Vec<String>,
    seed: Option<u64>,
    sim: Option<FailureKind>,
    sim_secs: f64,
    /// What the exhaustive checker reports with partial-order reduction, and after how many
    /// states.
    reduced: (&'static str, u64),
}

/// Runs both checks on one mutant. `structure` names the quorums or the tree, if any.
fn catch<N: Node>(
    algorithm: &'static str,
    mutant: &'static str,
    structure: &str,
    nodes: impl Fn() -> Vec<N>,
    requests: u32,
    fifo: bool,
) -> Row {
    let n = nodes().len();
    let outcome = check_cluster(nodes(), &check_config(requests, fifo)).unwrap();
    let summary = outcome.summary();
    let (check, steps) = match &summary.violation {
        Some(v) => (v.kind, v.steps),
        None => ("none", 0),
    };
    let reduced = check_cluster(
        nodes(),
        &ClusterCheckConfig {
            partial_order_reduction: true,
            ..check_config(requests, fifo)
        },
    )
    .unwrap();
    let reduced = (
        reduced.summary().violation.map_or("none", |v| v.kind),
        reduced.stats.distinct_states,
    );
    let start = Instant::now();
    let failure = (0..SEED_BOUND).find_map(|seed| {
        let report = run(nodes(), &common::mutant_config(seed, fifo)).unwrap();
        report.failure.map(|f| (seed, f.kind))
    });
    let sim_secs = start.elapsed().as_secs_f64();
    Row {
        algorithm,
        mutant,
        scope: format!(
            "N={n}{structure}, R={requests}, {}",
            if fifo { "FIFO" } else { "non-FIFO" }
        ),
        check,
        steps,
        states: outcome.stats.distinct_states,
        secs: outcome.stats.elapsed.as_secs_f64(),
        rate: outcome.stats.states_per_second(),
        trace: outcome.trace.clone(),
        seed: failure.map(|f| f.0),
        sim: failure.map(|f| f.1),
        sim_secs,
        reduced,
    }
}

fn ricart_agrawala_rows() -> Vec<(Row, Expected)> {
    use FailureKind::*;
    use ricart_agrawala::{Bug, cluster};
    let m = |name, bug, n, expected| {
        let row = catch("Ricart–Agrawala", name, "", || cluster(n, bug), 1, true);
        (row, expected)
    };
    vec![
        m(
            "replies while in the CS",
            Bug::RepliesInCriticalSection,
            2,
            Expected {
                check: "safety",
                steps: 6,
                states: 25,
                sim: Safety,
            },
        ),
        m(
            "defers by sequence number only (no id tie-break)",
            Bug::IgnoresTieBreak,
            2,
            Expected {
                check: "safety",
                steps: 6,
                states: 25,
                sim: Order,
            },
        ),
        m(
            "forgets deferred REPLYs on release",
            Bug::ForgetsDeferredReplies,
            2,
            Expected {
                check: "deadlock",
                steps: 6,
                states: 27,
                sim: Liveness,
            },
        ),
        m(
            "no clock update on REQUEST",
            Bug::NoClockUpdate,
            2,
            Expected {
                check: "safety",
                steps: 6,
                states: 24,
                sim: Order,
            },
        ),
    ]
}

fn lamport_rows() -> Vec<(Row, Expected)> {
    use FailureKind::*;
    use lamport::{Bug, cluster};
    let m = |name, bug, n, expected| {
        let row = catch("Lamport", name, "", || cluster(n, bug), 1, true);
        (row, expected)
    };
    vec![
        m(
            "enters without hearing from everyone",
            Bug::EntersWithoutHearingFromEveryone,
            3,
            Expected {
                check: "safety",
                steps: 5,
                states: 126,
                sim: Safety,
            },
        ),
        m(
            "ignores the queue head",
            Bug::IgnoresQueueHead,
            2,
            Expected {
                check: "safety",
                steps: 5,
                states: 20,
                sim: Safety,
            },
        ),
        m(
            "does not remove on RELEASE",
            Bug::KeepsReleasedRequests,
            2,
            Expected {
                check: "deadlock",
                steps: 8,
                states: 56,
                sim: Liveness,
            },
        ),
    ]
}

fn maekawa_rows() -> Vec<(Row, Expected)> {
    use FailureKind::*;
    use maekawa::{Bug, cluster};
    let grid = Quorums::new(4, QuorumKind::Grid).unwrap();
    let m = |name, bug, quorums: &Quorums, structure: &str, expected| {
        let row = catch(
            "Maekawa",
            name,
            structure,
            || cluster(quorums, bug),
            1,
            true,
        );
        (row, expected)
    };
    vec![
        m(
            "a locked arbiter grants a second request",
            Bug::GrantsTwice,
            &grid,
            " (2×2 grid)",
            Expected {
                check: "protocol",
                steps: 7,
                states: 1678,
                sim: Protocol,
            },
        ),
        m(
            "no re-grant after RELEASE",
            Bug::NoRegrantAfterRelease,
            &grid,
            " (2×2 grid)",
            Expected {
                check: "deadlock",
                steps: 23,
                states: 289371,
                sim: Liveness,
            },
        ),
        m(
            "ignores INQUIRE (never yields)",
            Bug::IgnoresInquire,
            &grid,
            " (2×2 grid)",
            Expected {
                check: "deadlock",
                steps: 20,
                states: 216820,
                sim: Liveness,
            },
        ),
        m(
            "forgets one RELEASE",
            Bug::ForgetsARelease,
            &grid,
            " (2×2 grid)",
            Expected {
                check: "deadlock",
                steps: 22,
                states: 202785,
                sim: Liveness,
            },
        ),
    ]
}

fn raymond_rows() -> Vec<(Row, Expected)> {
    use FailureKind::*;
    use raymond::{Bug, cluster};
    let star = Tree::star(3).unwrap();
    let m = |name, bug, expected| {
        let row = catch(
            "Raymond",
            name,
            " (star, token at the centre)",
            || cluster(&star, star.root(), bug),
            1,
            true,
        );
        (row, expected)
    };
    vec![
        m(
            "forwards the token without clearing HOLDER",
            Bug::KeepsHolderWhenPassingToken,
            Expected {
                check: "token",
                steps: 2,
                states: 9,
                sim: Token,
            },
        ),
        m(
            "passes the token on while in the CS",
            Bug::PassesTokenWhileUsing,
            Expected {
                check: "safety",
                steps: 4,
                states: 26,
                sim: Safety,
            },
        ),
        m(
            "never resets ASKED",
            Bug::NeverResetsAsked,
            Expected {
                check: "deadlock",
                steps: 11,
                states: 130,
                sim: Liveness,
            },
        ),
        m(
            "no MAKE_REQUEST after release",
            Bug::NoRequestAfterRelease,
            Expected {
                check: "deadlock",
                steps: 8,
                states: 116,
                sim: Liveness,
            },
        ),
    ]
}

fn table(rows: &[&Row]) -> String {
    let mut s = String::from(
        "| algorithm | mutant | exhaustive check on | caught by | shortest trace | states explored | time | states/s | with partial-order reduction | first failing seed | simulator check | time to catch |\n\
         | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} steps | {} | {:.1} ms | {:.0} | {} after {} states | {} | {} | {:.2} ms |\n",
            r.algorithm,
            r.mutant,
            r.scope,
            r.check,
            r.steps,
            r.states,
            r.secs * 1e3,
            r.rate,
            r.reduced.0,
            r.reduced.1,
            r.seed.map_or("not caught".into(), |s| s.to_string()),
            r.sim.map_or("—".into(), |k| k.to_string()),
            r.sim_secs * 1e3,
        ));
    }
    s
}

#[test]
fn every_mutant_is_caught_by_the_checker_and_the_simulator() {
    let rows: Vec<(Row, Expected)> = [
        ricart_agrawala_rows(),
        lamport_rows(),
        maekawa_rows(),
        raymond_rows(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let all: Vec<&Row> = rows.iter().map(|(r, _)| r).collect();
    println!("{}", table(&all));
    for (r, _) in &rows {
        println!("{} / {}:", r.algorithm, r.mutant);
        for line in &r.trace {
            println!("    {line}");
        }
    }
    let mut wrong = Vec::new();
    for (r, e) in &rows {
        let got = Expected {
            check: r.check,
            steps: r.steps,
            states: r.states,
            sim: r.sim.unwrap_or(FailureKind::Protocol),
        };
        if r.sim.is_none() || got != *e {
            wrong.push(format!(
                "{} / {}: expected {e:?}, got {got:?} (simulator: {:?})",
                r.algorithm, r.mutant, r.seed
            ));
        }
        if r.reduced.0 != e.check {
            wrong.push(format!(
                "{} / {}: with partial-order reduction the checker reports {}, expected {}",
                r.algorithm, r.mutant, r.reduced.0, e.check
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A calibration in the other direction: a Lamport process that also answers every RELEASE with
/// a REPLY (timestamped by its clock, as any REPLY) sends messages the algorithm does not need,
/// but a later-timestamped message from a peer is all rule 5(ii) asks for, so it is neither
/// unsafe nor deadlocking, and neither check reports it — the checks do not cry wolf.
#[test]
fn a_redundant_reply_is_not_a_bug_the_checks_can_see() {
    // N = 3 is checked by the simulator only (its whole space, R = 1, is about a million states).
    for (n, configs) in [(2, &[(1, true), (2, true)][..]), (3, &[][..])] {
        let nodes = || lamport::cluster(n, lamport::Bug::RepliesToRelease);
        for &(r, fifo) in configs {
            let outcome = check_cluster(
                nodes(),
                &ClusterCheckConfig {
                    max_states: None,
                    ..check_config(r, fifo)
                },
            )
            .unwrap();
            assert_eq!(
                outcome.verdict,
                Verdict::NoViolation,
                "N={n} R={r}: {outcome}"
            );
        }
        for seed in 0..SEED_BOUND {
            let report = run(nodes(), &common::mutant_config(seed, true)).unwrap();
            assert!(report.is_ok(), "N={n} seed {seed}: {report}");
            // The mistake is really there: one more message per RELEASE received.
            let ids = dme_core::cluster(n);
            let real = ids
                .iter()
                .map(|&i| dme_lamport::Lamport::new(i, &ids).unwrap())
                .collect();
            let real = run(real, &common::mutant_config(seed, true)).unwrap();
            let entries = (n * 3) as u64;
            assert_eq!(report.messages, real.messages + entries * (n as u64 - 1));
        }
    }
}
