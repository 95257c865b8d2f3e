//! The exhaustive checker on clusters of nodes under the node contract: Ricart–Agrawala's full
//! state spaces, and deliberately broken variants of it caught with shortest traces.

use dme_core::{Effect, Error, Node, NodeId, Outbox, Phase};
use dme_ricart_agrawala::{RaMessage, RicartAgrawala};
use dme_sim::check::{
    CheckOutcome, ClusterAction, ClusterCheckConfig, Verdict, ViolationKind, check_cluster,
    check_cluster_constrained,
};

mod common;
use common::{check_config as config, each};

fn ra(n: usize) -> Vec<RicartAgrawala> {
    each(n, RicartAgrawala::new)
}

/// (N, R, FIFO) → (distinct states, states generated, depth).
const RA_STATE_SPACES: [(usize, u32, bool, u64, u64, u64); 8] = [
    (2, 1, true, 31, 39, 9),
    (2, 1, false, 35, 47, 9),
    (2, 2, true, 154, 209, 17),
    (2, 2, false, 179, 259, 17),
    (3, 1, true, 2_101, 5_546, 19),
    (3, 1, false, 2_879, 9_071, 19),
    (3, 2, true, 31_888, 86_790, 37),
    (3, 2, false, 45_401, 147_461, 37),
];

#[test]
fn ricart_agrawala_has_no_violation_in_its_full_state_space() {
    for (n, r, fifo, distinct, generated, depth) in RA_STATE_SPACES {
        let outcome = check_cluster(ra(n), &config(r, fifo)).unwrap();
        assert_eq!(
            outcome.verdict,
            Verdict::NoViolation,
            "N={n} R={r} fifo={fifo}: {outcome}"
        );
        let s = outcome.stats;
        assert_eq!(
            (s.distinct_states, s.states_generated, s.depth),
            (distinct, generated, depth),
            "N={n} R={r} fifo={fifo}"
        );
        // One initial state; every other generated state is a transition (no constraint).
        assert_eq!(s.transitions, s.states_generated - 1);
        // The longest shortest path runs every request to completion one after the other:
        // each takes a request, N-1 REQUEST deliveries, N-1 REPLY deliveries and a release,
        // so N·R·2N steps, plus the initial state.
        assert_eq!(s.depth, 1 + (n as u64) * u64::from(r) * 2 * (n as u64));
    }
}

#[test]
fn non_fifo_channels_are_multisets() {
    // Two REQUESTs can never be in flight on one channel in Ricart–Agrawala, but the multiset
    // state must still not depend on the order messages were sent in: the non-FIFO state space
    // of N=3, R=1 is larger than the FIFO one only because deliveries are reordered.
    let fifo = check_cluster(ra(3), &config(1, true)).unwrap();
    let bag = check_cluster(ra(3), &config(1, false)).unwrap();
    assert!(bag.stats.distinct_states > fifo.stats.distinct_states);
    assert_eq!(bag.stats.depth, fifo.stats.depth);
}

#[test]
fn state_limit_stops_cleanly() {
    let cfg = ClusterCheckConfig {
        max_states: Some(1_000),
        ..config(2, true)
    };
    let outcome = check_cluster(ra(3), &cfg).unwrap();
    assert_eq!(outcome.verdict, Verdict::BoundReached);
    assert_eq!(outcome.stats.distinct_states, 1_000);
    assert!(!outcome.is_violation());
    assert!(
        outcome
            .to_string()
            .starts_with("bound reached, no violation within it")
    );
    assert_eq!(outcome.summary().verdict, "bound_reached");
}

#[test]
fn a_state_constraint_bounds_the_search() {
    // Keep only states where every Lamport clock is ≤ 1: the second round of requests (which
    // needs sequence number 2) is generated but never explored.
    let full = check_cluster(ra(2), &config(2, true)).unwrap();
    let bounded = check_cluster_constrained(ra(2), &config(2, true), |s| {
        s.nodes().all(|n| n.highest_sequence_number() <= 1)
    })
    .unwrap();
    assert_eq!(bounded.verdict, Verdict::NoViolation);
    assert!(bounded.stats.distinct_states < full.stats.distinct_states);
    assert!(bounded.stats.transitions < bounded.stats.states_generated - 1);
}

#[test]
fn bad_clusters_are_rejected() {
    let mut nodes = ra(3);
    nodes.swap(0, 1);
    assert!(matches!(
        check_cluster(nodes, &config(1, true)),
        Err(Error::InvalidCluster(_))
    ));
    assert!(matches!(
        check_cluster(Vec::<RicartAgrawala>::new(), &config(1, true)),
        Err(Error::InvalidCluster(_))
    ));
}

/// How a [`Broken`] Ricart–Agrawala node misbehaves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Bug {
    /// Replies at once to a REQUEST received in the critical section (instead of deferring).
    RepliesInCriticalSection,
    /// Forgets its deferred REPLYs when it leaves the critical section.
    DropsDeferredReplies,
    /// Sends every REPLY twice.
    RepliesTwice,
}

/// A Ricart–Agrawala node with a deliberate bug.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Broken {
    inner: RicartAgrawala,
    bug: Bug,
}

fn broken(n: usize, bug: Bug) -> Vec<Broken> {
    ra(n)
        .into_iter()
        .map(|inner| Broken { inner, bug })
        .collect()
}

impl Node for Broken {
    type Message = RaMessage;

    fn id(&self) -> NodeId {
        self.inner.id()
    }

    fn request(&mut self, out: &mut Outbox<RaMessage>) -> Result<(), Error> {
        self.inner.request(out)
    }

    fn release(&mut self, out: &mut Outbox<RaMessage>) -> Result<(), Error> {
        self.inner.release(out)?;
        if self.bug == Bug::DropsDeferredReplies {
            out.clear();
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: RaMessage,
        out: &mut Outbox<RaMessage>,
    ) -> Result<(), Error> {
        let in_cs = self.inner.phase() == Phase::InCriticalSection;
        let before = out.len();
        self.inner.on_message(from, msg, out)?;
        let is_request = matches!(msg, RaMessage::Request { .. });
        match self.bug {
            Bug::RepliesInCriticalSection if in_cs && is_request && out.len() == before => {
                out.send(from, RaMessage::Reply);
            }
            Bug::RepliesTwice => {
                let replies = out.effects()[before..]
                    .iter()
                    .filter(|e| {
                        matches!(
                            e,
                            Effect::Send {
                                msg: RaMessage::Reply,
                                ..
                            }
                        )
                    })
                    .count();
                for _ in 0..replies {
                    out.send(from, RaMessage::Reply);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.inner.phase()
    }

    fn waiting_for(&self) -> Vec<NodeId> {
        self.inner.waiting_for()
    }
}

fn actions<N: Node>(outcome: &CheckOutcome<N>) -> Vec<ClusterAction<N::Message>> {
    outcome
        .counterexample()
        .expect("a violation")
        .steps
        .iter()
        .map(|s| s.action.clone())
        .collect()
}

#[test]
fn replying_in_the_critical_section_breaks_safety_in_six_steps() {
    for fifo in [true, false] {
        let outcome =
            check_cluster(broken(2, Bug::RepliesInCriticalSection), &config(1, fifo)).unwrap();
        let cx = outcome.counterexample().expect("caught");
        assert_eq!(
            cx.kind,
            ViolationKind::Invariant {
                property: "mutual exclusion"
            }
        );
        // n0 requests, n1 replies, n0 enters; n1 requests, n0 (in the CS) replies, n1 enters.
        assert_eq!(cx.len(), 6, "{outcome}");
        assert_eq!(
            cx.last_state().in_critical_section(),
            vec![NodeId(0), NodeId(1)]
        );
        let summary = outcome.summary();
        assert_eq!(summary.verdict, "violation");
        assert_eq!(summary.violation.as_ref().unwrap().kind, "safety");
    }
    // At N = 3 the same bug needs more steps: every REPLY must arrive.
    let outcome =
        check_cluster(broken(3, Bug::RepliesInCriticalSection), &config(1, true)).unwrap();
    assert_eq!(outcome.counterexample().expect("caught").len(), 10);
}

#[test]
fn dropping_deferred_replies_deadlocks() {
    let outcome = check_cluster(broken(2, Bug::DropsDeferredReplies), &config(1, true)).unwrap();
    let cx = outcome.counterexample().expect("caught");
    assert_eq!(cx.kind, ViolationKind::Deadlock);
    // Both request, n1 replies to n0's higher-priority request, n0 defers n1's, n0 enters and
    // leaves without replying: n1 waits forever.
    assert_eq!(cx.len(), 6, "{outcome}");
    assert_eq!(
        actions(&outcome).last(),
        Some(&ClusterAction::Release(NodeId(0)))
    );
    assert_eq!(cx.last_state().requesting(), vec![NodeId(1)]);
    assert!(
        outcome.description().unwrap().contains("n1 waits for n0"),
        "{outcome}"
    );
    // Without deadlock detection the same search finds nothing.
    let cfg = ClusterCheckConfig {
        check_deadlock: false,
        partial_order_reduction: false,
        ..config(1, true)
    };
    let quiet = check_cluster(broken(2, Bug::DropsDeferredReplies), &cfg).unwrap();
    assert_eq!(quiet.verdict, Verdict::NoViolation);
}

#[test]
fn a_duplicate_reply_is_a_protocol_error() {
    let outcome = check_cluster(broken(2, Bug::RepliesTwice), &config(1, true)).unwrap();
    let cx = outcome.counterexample().expect("caught");
    let ViolationKind::StepFailed(fail) = &cx.kind else {
        panic!("expected a protocol error: {outcome}")
    };
    // n0 requests, n1 replies twice, n0 enters on the first REPLY, the second is rejected.
    assert_eq!(cx.len(), 4, "{outcome}");
    assert_eq!(
        fail.action,
        ClusterAction::Deliver {
            from: NodeId(1),
            to: NodeId(0),
            msg: RaMessage::Reply
        }
    );
    assert!(
        fail.reason.contains("REPLY we were not waiting for"),
        "{}",
        fail.reason
    );
    assert_eq!(outcome.summary().violation.unwrap().kind, "protocol");
}

#[test]
fn the_report_is_a_trace_a_person_can_follow() {
    let outcome =
        check_cluster(broken(2, Bug::RepliesInCriticalSection), &config(1, true)).unwrap();
    let text = outcome.to_string();
    let expected_steps = [
        "1. n0 requests → sends REQUEST(ts=1) to n1",
        "2. n1 receives REQUEST(ts=1) from n0 → sends REPLY to n0",
        "3. n1 requests → sends REQUEST(ts=2) to n0",
        "4. n0 receives REPLY from n1 → enters the critical section",
        "5. n0 receives REQUEST(ts=2) from n1 → sends REPLY to n1",
        "6. n1 receives REPLY from n0 → enters the critical section",
    ];
    let steps: Vec<&str> = outcome
        .trace
        .iter()
        .map(String::as_str)
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()) && !l.starts_with("0."))
        .collect();
    assert_eq!(steps, expected_steps, "{text}");
    assert!(
        text.starts_with("safety violation: n0 and n1 are in the critical section at once"),
        "{text}"
    );
    assert!(
        text.contains(
            "n0 requesting (waits for n1), n1 requesting (waits for n0) \
             | in flight: n1→n0 [REPLY, REQUEST(ts=2)]"
        ),
        "{text}"
    );
    assert!(
        text.contains("n0 in CS, n1 in CS | nothing in flight"),
        "{text}"
    );
    let json = serde_json::to_value(outcome.summary()).unwrap();
    assert_eq!(json["verdict"], "violation");
    assert_eq!(json["violation"]["steps"], 6);
    assert_eq!(json["distinct_states"], outcome.stats.distinct_states);
}
