//! Mutants of the permission- and quorum-based algorithms of issue #12: each a real mistake,
//! written as a wrapper over the real node's public API that changes one decision, and each
//! caught both by the exhaustive checker (a cluster of at most 4 nodes) and by the simulator
//! within [`SEED_BOUND`] seeds (the same simulated runs as `mutants.rs`).
//!
//! The kind of violation, the length of the shortest counterexample, the states explored until
//! it was found and the first failing seed are asserted exactly;
//! `cargo test --release -p dme-sim --test mutants_permission -- --nocapture` prints them.

use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase};
use dme_roucairol_carvalho::{RcMessage, RoucairolCarvalho};
use dme_sim::check::{ClusterCheckConfig, check_cluster};
use dme_sim::{Config, Dist, FailureKind, Workload, run};

mod common;
use common::each;

/// Every mutant must fail one of the simulated runs with seeds `0..SEED_BOUND`.
const SEED_BOUND: u64 = 32;

/// The simulated runs of `mutants.rs`: random think times, random delays, three requests each.
fn sim_config(seed: u64, fifo: bool) -> Config {
    Config {
        seed,
        delay: Dist::Uniform { lo: 1, hi: 20 },
        fifo,
        workload: Workload::Random {
            think: Dist::Exponential { mean: 15.0 },
        },
        cs_time: 5,
        requests_per_node: 3,
        trace_tail: 0,
        ..Config::default()
    }
}

/// What a mutant is caught by: the checker's verdict kind, shortest counterexample length and
/// distinct states explored, and the simulator's first failing seed and failure kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Caught {
    check: &'static str,
    steps: usize,
    states: u64,
    seed: Option<u64>,
    sim: Option<FailureKind>,
}

/// Runs the checker (N nodes, `requests` each, `fifo`) and the simulator on one mutant.
fn catch<N: Node>(nodes: impl Fn() -> Vec<N>, requests: u32, fifo: bool) -> (Caught, Vec<String>) {
    let config = ClusterCheckConfig {
        requests_per_node: requests,
        fifo,
        max_states: Some(5_000_000),
        check_deadlock: true,
        partial_order_reduction: false,
    };
    let outcome = check_cluster(nodes(), &config).unwrap();
    let summary = outcome.summary();
    let (check, steps, trace) = match summary.violation {
        Some(v) => (v.kind, v.steps, v.trace),
        None => ("none", 0, Vec::new()),
    };
    let failure = (0..SEED_BOUND).find_map(|seed| {
        let report = run(nodes(), &sim_config(seed, fifo)).unwrap();
        report.failure.map(|f| (seed, f.kind))
    });
    let caught = Caught {
        check,
        steps,
        states: outcome.stats.distinct_states,
        seed: failure.map(|f| f.0),
        sim: failure.map(|f| f.1),
    };
    (caught, trace)
}

/// Checks every row, prints the table and every counterexample, and reports all differences.
fn verify(algorithm: &str, rows: Vec<(&str, String, Caught, Vec<String>, Caught)>) {
    let mut wrong = Vec::new();
    println!("| algorithm | mutant | scope | checker | steps | states | first seed | simulator |");
    for (mutant, scope, got, trace, expected) in &rows {
        println!(
            "| {algorithm} | {mutant} | {scope} | {} | {} | {} | {} | {} |",
            got.check,
            got.steps,
            got.states,
            got.seed.map_or("not caught".into(), |s| s.to_string()),
            got.sim.map_or("—".into(), |k| k.to_string()),
        );
        for line in trace {
            println!("    {line}");
        }
        if got.check == "none" || got.sim.is_none() || got != expected {
            wrong.push(format!(
                "{algorithm} / {mutant}: expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn scope(n: usize, r: u32, fifo: bool) -> String {
    format!("N={n}, R={r}, {}", if fifo { "FIFO" } else { "non-FIFO" })
}

/// Moves `from`'s effects into `out`, keeping those `keep` accepts.
fn pass<M>(from: &mut Outbox<M>, out: &mut Outbox<M>, mut keep: impl FnMut(&Effect<M>) -> bool) {
    for e in from.drain() {
        if keep(&e) {
            match e {
                Effect::Send { to, msg } => out.send(to, msg),
                Effect::Enter => out.enter(),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Roucairol–Carvalho

/// A deliberate Roucairol–Carvalho bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum RcBug {
    /// The pitfall: a waiting site that gives a permission up to a higher-priority REQUEST
    /// forgets to ask for it again.
    NoReRequest,
    /// The other half of the pitfall: the waiting site keeps the permission (defers the
    /// higher-priority REQUEST as if it were in the critical section) until it has entered.
    KeepsPermissionWhileWaiting,
    /// Asks every site, as in Ricart–Agrawala, instead of only those whose permission it lacks:
    /// a site holding no permission is asked for one.
    AsksEveryone,
    /// Leaving the critical section forgets the deferred REPLYs: the permissions are lost.
    ForgetsDeferredReplies,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct RcMutant {
    inner: RoucairolCarvalho,
    bug: RcBug,
    n: u32,
    /// Requests held back by `KeepsPermissionWhileWaiting`, handed to the real node at release.
    held_back: Vec<(NodeId, RcMessage)>,
}

fn rc_mutants(n: usize, bug: RcBug) -> Vec<RcMutant> {
    each(n, RoucairolCarvalho::new)
        .into_iter()
        .map(|inner| RcMutant {
            inner,
            bug,
            n: n as u32,
            held_back: Vec::new(),
        })
        .collect()
}

impl Node for RcMutant {
    type Message = RcMessage;

    fn id(&self) -> NodeId {
        self.inner.id()
    }

    fn request(&mut self, out: &mut Outbox<RcMessage>) -> Result<(), Error> {
        let mut mine = Outbox::new();
        self.inner.request(&mut mine)?;
        let asked: Vec<NodeId> = mine
            .effects()
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, .. } => Some(*to),
                Effect::Enter => None,
            })
            .collect();
        pass(&mut mine, out, |_| true);
        if self.bug == RcBug::AsksEveryone
            && let Some(stamp) = self.inner.request_stamp()
        {
            let me = self.id();
            for j in (0..self.n).map(NodeId) {
                if j != me && !asked.contains(&j) {
                    out.send(
                        j,
                        RcMessage::Request {
                            sequence_number: stamp.clock,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<RcMessage>) -> Result<(), Error> {
        let mut mine = Outbox::new();
        self.inner.release(&mut mine)?;
        let forget = self.bug == RcBug::ForgetsDeferredReplies;
        pass(&mut mine, out, |_| !forget);
        for (from, msg) in std::mem::take(&mut self.held_back) {
            self.inner.on_message(from, msg, &mut mine)?;
            pass(&mut mine, out, |_| true);
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RcMessage,
        out: &mut Outbox<RcMessage>,
    ) -> Result<(), Error> {
        if self.bug == RcBug::KeepsPermissionWhileWaiting
            && let RcMessage::Request { sequence_number } = msg
            && self.inner.phase() == Phase::Requesting
            && self.inner.authorized_by().contains(&from)
            && self
                .inner
                .request_stamp()
                .is_some_and(|s| dme_core::Stamp::new(sequence_number, from) < s)
        {
            self.held_back.push((from, msg));
            return Ok(());
        }
        let mut mine = Outbox::new();
        self.inner.on_message(from, msg, &mut mine)?;
        let no_re_request = self.bug == RcBug::NoReRequest;
        pass(&mut mine, out, |e| {
            !(no_re_request
                && matches!(
                    e,
                    Effect::Send {
                        msg: RcMessage::Request { .. },
                        ..
                    }
                ))
        });
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.inner.phase()
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        self.inner.waiting_for()
    }

    fn request_stamp(&self) -> Option<dme_core::Stamp> {
        self.inner.request_stamp()
    }
}

#[test]
fn roucairol_carvalho_mutants_are_caught() {
    let cases = [
        (
            "no re-request after giving a permission up",
            RcBug::NoReRequest,
            3,
            1,
            true,
        ),
        (
            "keeps a permission a higher-priority request asks for",
            RcBug::KeepsPermissionWhileWaiting,
            3,
            1,
            true,
        ),
        ("asks every site", RcBug::AsksEveryone, 2, 1, true),
        (
            "forgets the deferred REPLYs",
            RcBug::ForgetsDeferredReplies,
            2,
            1,
            true,
        ),
    ];
    let caught = |check, steps, states, seed, sim| Caught {
        check,
        steps,
        states,
        seed: Some(seed),
        sim: Some(sim),
    };
    use FailureKind::{Liveness, Protocol};
    let expected = [
        caught("deadlock", 13, 481, 0, Liveness),
        caught("deadlock", 8, 287, 16, Liveness),
        caught("protocol", 2, 3, 0, Protocol),
        caught("deadlock", 4, 15, 0, Liveness),
    ];
    let rows = cases
        .into_iter()
        .zip(expected)
        .map(|((name, bug, n, r, fifo), expected)| {
            let (got, trace) = catch(|| rc_mutants(n, bug), r, fifo);
            (name, scope(n, r, fifo), got, trace, expected)
        })
        .collect();
    verify("Roucairol–Carvalho", rows);
}
