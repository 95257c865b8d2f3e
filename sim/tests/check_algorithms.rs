//! The exhaustive checker on every algorithm: the violations it must find (classic Lamport
//! without FIFO channels, Maekawa without deadlock handling) with their shortest traces, and full
//! state spaces without a violation for small clusters.
//!
//! Figures (distinct states, states generated, depth) are asserted exactly; every FIFO space is
//! also checked with partial-order reduction, which must agree. About 30 s in release mode.
//! Classic Lamport, N = 3, R = 2 — too big for the cluster representation — is checked whole in
//! `lamport_full_space.rs`.

use dme_core::{Node, NodeId};
use dme_lamport::Lamport;
use dme_maekawa::{Maekawa, QuorumKind, Quorums};
use dme_raymond::{Raymond, Tree};
use dme_ricart_agrawala::RicartAgrawala;
use dme_sim::check::{
    CheckOutcome, ClusterCheckConfig, Verdict, ViolationKind, check_cluster,
    check_cluster_constrained,
};

mod common;
use common::{check_config as config, each};

fn lamport(n: usize) -> Vec<Lamport> {
    each(n, Lamport::new)
}

fn ricart_agrawala(n: usize) -> Vec<RicartAgrawala> {
    each(n, RicartAgrawala::new)
}

/// (distinct states, states generated, depth).
type Figures = (u64, u64, u64);

fn figures<N: Node>(outcome: &CheckOutcome<N>) -> Figures {
    let s = outcome.stats;
    (s.distinct_states, s.states_generated, s.depth)
}

/// Full state spaces expected to hold no violation: each is checked and printed, and every
/// difference from the expected figures is reported at the end, all at once.
#[derive(Default)]
struct FullSpaces {
    wrong: Vec<String>,
}

impl FullSpaces {
    /// Checks the space plainly and, with FIFO channels, with partial-order reduction too,
    /// which must agree (and explore no more states).
    fn check<N: Node + Clone>(
        &mut self,
        what: &str,
        nodes: Vec<N>,
        r: u32,
        fifo: bool,
        expected: Figures,
    ) {
        if fifo {
            let reduced = ClusterCheckConfig {
                partial_order_reduction: true,
                ..config(r, fifo)
            };
            let outcome = check_cluster(nodes.clone(), &reduced).unwrap();
            println!(
                "{what}, R={r}, FIFO, partial-order reduced: {}",
                outcome.stats
            );
            if outcome.verdict != Verdict::NoViolation || outcome.stats.distinct_states > expected.0
            {
                self.wrong
                    .push(format!("{what} R={r} partial-order reduced: {outcome}"));
            }
        }
        let outcome = check_cluster(nodes, &config(r, fifo)).unwrap();
        let channels = if fifo { "FIFO" } else { "non-FIFO" };
        println!("{what}, R={r}, {channels}: {}", outcome.stats);
        if outcome.verdict != Verdict::NoViolation {
            self.wrong
                .push(format!("{what} R={r} {channels}: {outcome}"));
        } else if figures(&outcome) != expected {
            self.wrong.push(format!(
                "{what} R={r} {channels}: got {:?}, expected {expected:?}",
                figures(&outcome)
            ));
        }
    }

    fn done(self) {
        assert!(self.wrong.is_empty(), "\n{}", self.wrong.join("\n"));
    }
}

fn print_trace<N: Node>(title: &str, outcome: &CheckOutcome<N>) {
    println!("{title}\n{outcome}\n");
}

// ---------------------------------------------------------------------------------------------
// Lamport

/// Without FIFO channels classic Lamport is unsafe, and the checker finds it with two nodes (4
/// steps) and with three (7 steps). At N = 2: both request at timestamp 1; n0 receives n1's
/// REQUEST — a later message from n1, and n0's (1, n0) heads its queue — so n0 acknowledges it
/// and enters; n0's REPLY (timestamp 2) overtakes n0's own REQUEST, so n1 has a later message
/// from n0 and sees only its own request in its queue, and enters too.
#[test]
fn lamport_without_fifo_is_unsafe_at_two_and_three_nodes() {
    for (n, steps) in [(2, 4), (3, 7)] {
        let outcome = check_cluster(lamport(n), &config(1, false)).unwrap();
        print_trace(&format!("classic Lamport, N={n}, R=1, non-FIFO:"), &outcome);
        let cx = outcome.counterexample().expect("a violation");
        assert_eq!(
            cx.kind,
            ViolationKind::Invariant {
                property: "mutual exclusion"
            }
        );
        assert_eq!(cx.len(), steps, "N={n}: {outcome}");
        assert_eq!(outcome.summary().violation.unwrap().kind, "safety");
        assert_eq!(cx.last_state().in_critical_section().len(), 2);
    }
    let outcome = check_cluster(lamport(2), &config(1, false)).unwrap();
    let steps: Vec<&str> = outcome
        .trace
        .iter()
        .filter(|l| !l.starts_with(' '))
        .map(String::as_str)
        .collect();
    assert_eq!(
        steps,
        [
            "0. start: all idle | nothing in flight",
            "1. n0 requests → sends REQUEST(ts=1) to n1",
            "2. n1 requests → sends REQUEST(ts=1) to n0",
            "3. n0 receives REQUEST(ts=1) from n1 → sends REPLY(ts=2) to n1, enters the critical section",
            "4. n1 receives REPLY(ts=2) from n0 → enters the critical section",
        ]
    );
}

/// With FIFO channels: no violation in the full state space of N = 3, R = 1, and of N = 2 with
/// R = 1, 2, 3. (N = 3, R = 2: `lamport_full_space.rs`.)
#[test]
fn lamport_with_fifo_is_safe_in_its_full_state_space() {
    let mut spaces = FullSpaces::default();
    for (n, r, expected) in [
        (2, 1, (79, 102, 11)),
        (2, 2, (1_656, 2_624, 21)),
        (2, 3, (14_338, 25_122, 31)),
        (3, 1, (949_199, 2_159_715, 25)),
    ] {
        spaces.check(
            &format!("classic Lamport, N={n}"),
            lamport(n),
            r,
            true,
            expected,
        );
    }
    spaces.done();
}

/// A state constraint, as in TLC, keeps N = 3, R = 2 to a bounded slice that the default test
/// suite can afford: states where some Lamport clock exceeds C are generated and checked but not
/// explored. Sound for what it explores, silent about the rest. (Measured, too slow for the
/// default suite: every clock ≤ 10, 6,047,949 states, 26,468,172 generated, depth 31, 60 s;
/// ≤ 12, 75,516,378 states, 339,119,143 generated, depth 37, 578 s, on a shared machine.)
#[test]
fn lamport_n3_r2_on_a_bounded_slice() {
    for (max_clock, expected) in [
        (4, (2_549, 10_853, 13)),
        (6, (41_489, 176_247, 19)),
        (8, (508_345, 2_170_500, 25)),
    ] {
        let outcome = check_cluster_constrained(lamport(3), &config(2, true), move |s| {
            s.nodes().all(|n| n.clock() <= max_clock)
        })
        .unwrap();
        println!(
            "classic Lamport, N=3, R=2, FIFO, every clock ≤ {max_clock}: {}",
            outcome.stats
        );
        assert_eq!(outcome.verdict, Verdict::NoViolation, "{outcome}");
        assert_eq!(figures(&outcome), expected, "clock ≤ {max_clock}");
    }
}

/// N = 3, R = 2 with FIFO, the full state space, on the real nodes: too big for the cluster
/// representation (the breadth-first frontier of whole states passed 23 GB, this machine's
/// memory, within three minutes). `lamport_full_space.rs` checks the same model whole.
#[test]
#[ignore = "needs more memory than the machine has"]
fn lamport_with_fifo_n3_r2_on_the_cluster() {
    let outcome = check_cluster(lamport(3), &config(2, true)).unwrap();
    assert_eq!(outcome.verdict, Verdict::NoViolation, "{outcome}");
}

// ---------------------------------------------------------------------------------------------
// Maekawa

fn maekawa(n: usize, deadlock_handling: bool) -> Vec<Maekawa> {
    let q = Quorums::new(n, QuorumKind::Auto).unwrap();
    if deadlock_handling {
        Maekawa::cluster(&q).unwrap()
    } else {
        Maekawa::cluster_without_deadlock_handling(&q).unwrap()
    }
}

/// Maekawa without deadlock handling deadlocks already at N = 2, where both request sets are
/// {n0, n1} (a one-node cluster has nothing to deadlock on): each node locks its own permission
/// and its REQUEST then waits at the other, 4 steps. The full version has no violation there.
#[test]
fn maekawa_without_deadlock_handling_deadlocks_at_two_nodes() {
    let one = check_cluster(maekawa(1, false), &config(2, true)).unwrap();
    assert_eq!(one.verdict, Verdict::NoViolation, "{one}");
    for (n, fifo, steps) in [(2, true, 4), (2, false, 4), (3, true, 6), (4, true, 12)] {
        let outcome = check_cluster(maekawa(n, false), &config(1, fifo)).unwrap();
        print_trace(
            &format!("Maekawa without deadlock handling, N={n}, R=1, fifo={fifo}:"),
            &outcome,
        );
        let cx = outcome.counterexample().expect("a deadlock");
        assert_eq!(cx.kind, ViolationKind::Deadlock, "{outcome}");
        assert_eq!(cx.len(), steps, "N={n}");
        let reduced = ClusterCheckConfig {
            partial_order_reduction: true,
            ..config(1, fifo)
        };
        let outcome = check_cluster(maekawa(n, false), &reduced).unwrap();
        let cx = outcome.counterexample().expect("a deadlock, reduced too");
        assert_eq!(cx.kind, ViolationKind::Deadlock, "{outcome}");
    }
    let outcome = check_cluster(maekawa(2, false), &config(1, true)).unwrap();
    assert!(
        outcome
            .description()
            .unwrap()
            .contains("n0 waits for n1; n1 waits for n0"),
        "{outcome}"
    );
}

/// The full version (FAILED, INQUIRE, YIELD), with the quorums `dme` builds by default
/// (`--quorum auto`: at N = 2 and 3 the projective plane of order 2 folded onto N nodes, K = 2 —
/// {n0, n1}, {n0, n1}, {n0, n2} —, at N = 4 the 2×2 grid, K = 3): no violation in the full state
/// spaces below.
#[test]
fn maekawa_has_no_violation_for_two_to_four_nodes() {
    let mut spaces = FullSpaces::default();
    for (n, r, fifo, expected) in [
        (2, 1, true, (49, 64, 12)),
        (2, 2, true, (263, 393, 23)),
        (2, 2, false, (1_551, 4_040, 23)),
        (3, 1, true, (403, 775, 17)),
        (3, 1, false, (654, 1_468, 19)),
        (3, 2, true, (7_725, 17_147, 33)),
        (3, 2, false, (136_608, 531_225, 38)),
        (4, 1, true, (378_910, 1_371_167, 42)),
    ] {
        spaces.check(
            &format!("Maekawa, N={n}"),
            maekawa(n, true),
            r,
            fifo,
            expected,
        );
    }
    spaces.done();
}

/// N = 4 (the 2×2 grid) without FIFO channels, the same figures as in `maekawa.rs`. About 7 s in
/// release mode.
#[test]
fn maekawa_n4_without_fifo() {
    let mut spaces = FullSpaces::default();
    let expected = (1_600_844, 7_817_152, 43);
    spaces.check("Maekawa, N=4", maekawa(4, true), 1, false, expected);
    spaces.done();
}

// ---------------------------------------------------------------------------------------------
// Raymond and Ricart–Agrawala

/// Raymond on small trees, the token at the root and at a leaf: no violation (safety, token
/// uniqueness, deadlock, protocol) with FIFO channels and without, R = 1 and 2.
#[test]
fn raymond_has_no_violation_on_small_trees() {
    let mut spaces = FullSpaces::default();
    #[rustfmt::skip]
    let cases: [(&str, Tree, u32, [Figures; 4]); 7] = [
        ("line of 2", Tree::line(2).unwrap(), 0,
         [(20, 26, 9), (21, 28, 9), (64, 94, 13), (69, 104, 13)]),
        ("line of 3", Tree::line(3).unwrap(), 0,
         [(142, 252, 15), (158, 288, 15), (860, 1_720, 22), (1_012, 2_072, 22)]),
        ("star of 3", Tree::star(3).unwrap(), 0,
         [(136, 238, 15), (150, 272, 15), (854, 1_706, 21), (1_004, 2_056, 22)]),
        ("line of 4", Tree::line(4).unwrap(), 0,
         [(981, 2_206, 22), (1_144, 2_630, 23), (11_109, 27_908, 31), (13_994, 35_768, 31)]),
        ("star of 4", Tree::star(4).unwrap(), 0,
         [(920, 1_986, 21), (1_049, 2_352, 21), (11_056, 26_877, 29), (13_942, 34_443, 30)]),
        ("star of 4", Tree::star(4).unwrap(), 3,
         [(960, 2_102, 21), (1_111, 2_500, 21), (11_096, 26_993, 30), (14_004, 34_591, 30)]),
        ("binary tree of 5", Tree::binary(5).unwrap(), 0,
         [(6_331, 16_647, 27), (7_597, 20_461, 27), (137_572, 402_740, 38), (182_762, 540_700, 39)]),
    ];
    for (name, tree, holder, expected) in cases {
        let holder = NodeId(holder);
        let configs = [(1, true), (1, false), (2, true), (2, false)];
        for ((r, fifo), expected) in configs.into_iter().zip(expected) {
            spaces.check(
                &format!("Raymond, {name}, token at {holder}"),
                Raymond::cluster(&tree, holder).unwrap(),
                r,
                fifo,
                expected,
            );
        }
    }
    spaces.done();
}

/// Ricart–Agrawala at N = 4, R = 1 (N = 2 and 3 with R = 1 and 2 are in `check_cluster.rs`).
#[test]
fn ricart_agrawala_has_no_violation_at_four_nodes() {
    let mut spaces = FullSpaces::default();
    let expected = (1_412_505, 7_430_855, 33);
    spaces.check(
        "Ricart–Agrawala, N=4",
        ricart_agrawala(4),
        1,
        true,
        expected,
    );
    spaces.done();
}

/// About 8 s in release mode.
#[test]
fn ricart_agrawala_at_four_nodes_without_fifo() {
    let mut spaces = FullSpaces::default();
    let expected = (2_084_955, 13_433_285, 33);
    spaces.check(
        "Ricart–Agrawala, N=4",
        ricart_agrawala(4),
        1,
        false,
        expected,
    );
    spaces.done();
}
