//! Mutants of the permission- and quorum-based algorithms of issue #12: each a real mistake,
//! written as a wrapper over the real node's public API that changes one decision, and each
//! caught both by the exhaustive checker (a cluster of at most 4 nodes) and by the simulator
//! within [`SEED_BOUND`] seeds (the same simulated runs as `mutants.rs`).
//!
//! The kind of violation, the length of the shortest counterexample, the states explored until
//! it was found and the first failing seed are asserted exactly;
//! `cargo test --release -p dme-sim --test mutants_permission -- --nocapture` prints them.

use dme_agrawal_el_abbadi::Tree;
use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase};
use dme_lodha_kshemkalyani::{LkMessage, LodhaKshemkalyani};
use dme_maekawa::{Maekawa, Quorums};
use dme_roucairol_carvalho::{RcMessage, RoucairolCarvalho};
use dme_sim::check::{ClusterCheckConfig, check_cluster};
use dme_sim::{FailureKind, run};

#[allow(dead_code)] // not every Maekawa bug is used here
#[path = "mutants/maekawa.rs"]
mod maekawa;

mod common;
use common::each;

/// Every mutant must fail one of the simulated runs with seeds `0..SEED_BOUND`.
const SEED_BOUND: u64 = 32;

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
        let report = run(nodes(), &common::mutant_config(seed, fifo)).unwrap();
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

// ---------------------------------------------------------------------------------------------
// Agrawal–El Abbadi

/// A deliberate mistake in the tree-quorum construction.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TreeBug {
    /// A failed node is replaced by a path through *one* child (the requester's side) instead
    /// of both.
    SubstitutesOneChild,
    /// The paper's "∅ means unsuccessful" check is forgotten: a failed leaf (or a failed node
    /// missing a child) is substituted by nothing.
    EmptySubstitute,
}

/// `GetQuorum` on the heap-ordered tree of `n` nodes with one bug, as node `requester` would
/// compute it believing the nodes in `down` failed: written here as the crate's construction
/// with the mistake (the crate has no switch for it).
fn buggy_quorum(
    n: usize,
    v: usize,
    requester: usize,
    down: &[usize],
    bug: TreeBug,
) -> Option<Vec<usize>> {
    if v >= n {
        return (bug == TreeBug::EmptySubstitute).then(Vec::new);
    }
    let (l, r) = (2 * v + 1, 2 * v + 2);
    let towards = |c: usize| {
        let mut x = requester;
        while x > c {
            x = (x - 1) / 2;
        }
        x == c
    };
    let order = if towards(r) { [r, l] } else { [l, r] };
    if !down.contains(&v) {
        for c in order {
            if c >= n {
                return Some(vec![v]);
            }
            if let Some(mut q) = buggy_quorum(n, c, requester, down, bug) {
                q.push(v);
                return Some(q);
            }
        }
        return None;
    }
    match bug {
        TreeBug::SubstitutesOneChild => order
            .into_iter()
            .find_map(|c| buggy_quorum(n, c, requester, down, bug)),
        TreeBug::EmptySubstitute => {
            let mut q = buggy_quorum(n, l, requester, down, bug)?;
            q.extend(buggy_quorum(n, r, requester, down, bug)?);
            Some(q)
        }
    }
}

/// The 3-node tree (0 above 1 and 2) run with every node up, but each node building its
/// quorum around the failures it *suspects* (`views[i]`), with the construction bug. With the
/// real construction every quorum built this way intersects every other.
fn tree_mutants(views: &[&[usize]], bug: TreeBug) -> Vec<Maekawa> {
    let n = views.len();
    let members = dme_core::cluster(n);
    let sets: Vec<Vec<NodeId>> = (0..n)
        .map(|i| {
            let q = buggy_quorum(n, 0, i, views[i], bug).expect("a quorum");
            q.into_iter().map(|x| NodeId(x as u32)).collect()
        })
        .collect();
    (0..n)
        .map(|i| Maekawa::new(NodeId(i as u32), &members, sets[i].clone()).unwrap())
        .collect()
}

#[test]
fn agrawal_el_abbadi_mutants_are_caught() {
    use FailureKind::{Liveness, Safety};
    let tree = Tree::new(3).unwrap();
    let real = tree.quorums().unwrap();
    // The real construction under the same suspicions gives intersecting quorums, or none.
    let q = |r: u32, f: &[u32]| {
        let f: Vec<NodeId> = f.iter().map(|&i| NodeId(i)).collect();
        tree.quorum_for(NodeId(r), &f).unwrap()
    };
    assert_eq!(q(1, &[0]), Some(vec![NodeId(1), NodeId(2)]));
    assert_eq!(q(2, &[0, 1]), None);
    // Every node suspects the root: one child instead of both gives {1}, {1}, {2}.
    let one_child = || tree_mutants(&[&[0], &[0], &[0]], TreeBug::SubstitutesOneChild);
    assert_eq!(one_child()[2].quorum(), &[NodeId(2)]);
    // n2 suspects n0 and n1: the failed leaf n1 replaced by nothing gives {2}, beside {0, 1}.
    let empty = || tree_mutants(&[&[], &[], &[0, 1]], TreeBug::EmptySubstitute);
    assert_eq!(empty()[2].quorum(), &[NodeId(2)]);
    // Without suspicions the buggy construction builds the real quorums, and the real one
    // around the suspected root ({1, 2} for everyone) has no violation.
    for bug in [TreeBug::SubstitutesOneChild, TreeBug::EmptySubstitute] {
        let sets: Vec<Vec<NodeId>> = tree_mutants(&[&[], &[], &[]], bug)
            .iter()
            .map(|m| m.quorum().to_vec())
            .collect();
        assert_eq!(sets, real.sets());
    }
    let members = dme_core::cluster(3);
    let around_root: Vec<Maekawa> = (0..3)
        .map(|r| Maekawa::new(NodeId(r), &members, q(r, &[0]).unwrap()).unwrap())
        .collect();
    let (real_around_root, _) = catch(|| around_root.clone(), 1, true);
    assert_eq!(
        (real_around_root.check, real_around_root.seed),
        ("none", None)
    );
    let tree4 = Tree::new(4).unwrap().quorums().unwrap();
    let caught = |check, steps, states, seed, sim| Caught {
        check,
        steps,
        states,
        seed: Some(seed),
        sim: Some(sim),
    };
    let without_handling = |q: &Quorums| Maekawa::cluster_without_deadlock_handling(q).unwrap();
    let rows = vec![
        {
            let (got, trace) = catch(one_child, 1, true);
            let e = caught("safety", 2, 8, 0, Safety);
            (
                "a failed node replaced by one child's path",
                scope(3, 1, true),
                got,
                trace,
                e,
            )
        },
        {
            let (got, trace) = catch(empty, 1, true);
            let e = caught("safety", 4, 28, 0, Safety);
            (
                "a failed leaf replaced by nothing",
                scope(3, 1, true),
                got,
                trace,
                e,
            )
        },
        {
            let (got, trace) = catch(|| without_handling(&real), 1, true);
            let e = caught("deadlock", 6, 96, 1, Liveness);
            (
                "Maekawa without deadlock handling",
                scope(3, 1, true),
                got,
                trace,
                e,
            )
        },
        {
            let (got, trace) = catch(
                || maekawa::cluster(&tree4, maekawa::Bug::IgnoresInquire),
                1,
                true,
            );
            let e = caught("deadlock", 18, 83_075, 0, Liveness);
            (
                "ignores INQUIRE (never yields)",
                scope(4, 1, true),
                got,
                trace,
                e,
            )
        },
    ];
    verify("Agrawal–El Abbadi", rows);
}

// ---------------------------------------------------------------------------------------------
// Lodha–Kshemkalyani

/// A deliberate Lodha–Kshemkalyani bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum LkBug {
    /// Leaving the critical section, the FLUSH to the next concurrent request is not sent.
    ForgetsTheFlush,
    /// Leaving the critical section, the kept (non-concurrent) REQUESTs are not answered.
    ForgetsKeptReplies,
    /// A requesting site also answers a REQUEST with REPLY at once, as in Ricart–Agrawala: the
    /// REPLY says the sender's request is served when it is not.
    RepliesWhileRequesting,
    /// The textbook's REQUEST without the sender's previous request: a site can wait for ever
    /// behind a served request.
    IgnoresPreviousRequest,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct LkMutant {
    inner: LodhaKshemkalyani,
    bug: LkBug,
}

fn lk_mutants(n: usize, bug: LkBug) -> Vec<LkMutant> {
    each(n, LodhaKshemkalyani::new)
        .into_iter()
        .map(|inner| LkMutant { inner, bug })
        .collect()
}

impl Node for LkMutant {
    type Message = LkMessage;
    const GRANTS_IN_STAMP_ORDER: bool = true;

    fn id(&self) -> NodeId {
        self.inner.id()
    }

    fn request(&mut self, out: &mut Outbox<LkMessage>) -> Result<(), Error> {
        self.inner.request(out)
    }

    fn release(&mut self, out: &mut Outbox<LkMessage>) -> Result<(), Error> {
        let mut mine = Outbox::new();
        self.inner.release(&mut mine)?;
        let bug = self.bug;
        pass(&mut mine, out, |e| match e {
            Effect::Send {
                msg: LkMessage::Flush { .. },
                ..
            } => bug != LkBug::ForgetsTheFlush,
            Effect::Send {
                msg: LkMessage::Reply { .. },
                ..
            } => bug != LkBug::ForgetsKeptReplies,
            _ => true,
        });
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: LkMessage,
        out: &mut Outbox<LkMessage>,
    ) -> Result<(), Error> {
        let msg = match msg {
            LkMessage::Request {
                sequence_number, ..
            } if self.bug == LkBug::IgnoresPreviousRequest => LkMessage::Request {
                sequence_number,
                previous: 0,
            },
            other => other,
        };
        let active = self.inner.phase() != Phase::Idle;
        self.inner.on_message(from, msg, out)?;
        if let (
            LkBug::RepliesWhileRequesting,
            true,
            LkMessage::Request {
                sequence_number, ..
            },
        ) = (self.bug, active, msg)
        {
            let mine = self.inner.request_stamp().map_or(0, |s| s.clock);
            out.send(
                from,
                LkMessage::Reply {
                    sequence_number: mine,
                    answers: sequence_number,
                },
            );
        }
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
fn lodha_kshemkalyani_mutants_are_caught() {
    let cases = [
        ("forgets the FLUSH", LkBug::ForgetsTheFlush, 2, 1),
        ("forgets the kept REPLYs", LkBug::ForgetsKeptReplies, 2, 2),
        (
            "replies while requesting",
            LkBug::RepliesWhileRequesting,
            2,
            1,
        ),
        (
            "REQUEST without the previous request",
            LkBug::IgnoresPreviousRequest,
            3,
            2,
        ),
    ];
    let caught = |check, steps, states, seed, sim| Caught {
        check,
        steps,
        states,
        seed: Some(seed),
        sim: Some(sim),
    };
    use FailureKind::{Liveness, Safety};
    let expected = [
        caught("deadlock", 5, 23, 1, Liveness),
        caught("deadlock", 10, 131, 1, Liveness),
        caught("safety", 5, 20, 5, Safety),
        caught("deadlock", 19, 24_385, 23, Liveness),
    ];
    let rows = cases
        .into_iter()
        .zip(expected)
        .map(|((name, bug, n, r), expected)| {
            let (got, trace) = catch(|| lk_mutants(n, bug), r, true);
            (name, scope(n, r, true), got, trace, expected)
        })
        .collect();
    verify("Lodha–Kshemkalyani", rows);
}
