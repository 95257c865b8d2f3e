//! Ricart–Agrawala in the simulator: the textbook figures, exactly, and the simulator's checks
//! proven able to fail.

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, Stamp};
use dme_ricart_agrawala::RicartAgrawala;
use dme_sim::{Config, Dist, FailureKind, Report, Workload, run};
use serde::{Deserialize, Serialize};

mod common;
use common::{E, T, constant, each};

fn ra(n: usize) -> Vec<RicartAgrawala> {
    each(n, RicartAgrawala::new)
}

#[test]
fn light_load_is_exactly_2n_minus_2_messages_2t_waiting_2t_plus_e_response() {
    for n in [2usize, 3, 5, 8, 16, 33] {
        let r = run(ra(n), &constant(Workload::Light, 4)).unwrap();
        assert!(r.is_ok(), "{r}");
        let expect = 2 * (n as u64 - 1);
        assert_eq!(r.entries, 4 * n as u64);
        assert_eq!(r.messages, expect * r.entries, "N={n}");
        assert!(r.messages_per_request().iter().all(|&m| m == expect));
        assert_eq!(r.messages_by_kind["REQUEST"], r.messages_by_kind["REPLY"]);
        assert_eq!(
            (r.waiting_time.min, r.waiting_time.max),
            (2 * T, 2 * T),
            "N={n}"
        );
        assert_eq!(
            (r.response_time.min, r.response_time.max),
            (2 * T + E, 2 * T + E)
        );
        assert_eq!(r.sync_delay, None, "nobody ever waits under light load");
    }
}

#[test]
fn heavy_load_is_exactly_2n_minus_2_messages_with_sync_delay_t() {
    for n in [2usize, 3, 5, 8, 16, 33] {
        let r = run(ra(n), &constant(Workload::Heavy, 5)).unwrap();
        assert!(r.is_ok(), "{r}");
        assert_eq!(r.entries, 5 * n as u64);
        assert_eq!(r.messages, 2 * (n as u64 - 1) * r.entries, "N={n}");
        let sync = r.sync_delay.expect("nodes wait under heavy load");
        assert_eq!((sync.min, sync.max), (T, T), "N={n}");
        assert_eq!(
            sync.count,
            r.entries - 1,
            "every entry but the first follows an exit"
        );
    }
}

#[test]
fn random_delays_without_fifo_never_break_safety_or_liveness() {
    for n in 2..=8usize {
        for seed in 0..1000 {
            let config = Config {
                seed,
                delay: Dist::Uniform { lo: 1, hi: 30 },
                fifo: false,
                workload: if seed % 2 == 0 {
                    Workload::Heavy
                } else {
                    Workload::Random {
                        think: Dist::Exponential { mean: 15.0 },
                    }
                },
                cs_time: 3,
                requests_per_node: 3,
                trace_tail: 0,
                ..Config::default()
            };
            let r = run(ra(n), &config).unwrap();
            assert!(r.is_ok(), "N={n} seed={seed}\n{r}");
            assert_eq!(r.entries, 3 * n as u64);
        }
    }
}

fn random_run(seed: u64) -> Report {
    let config = Config {
        seed,
        delay: Dist::Exponential { mean: 10.0 },
        fifo: false,
        workload: Workload::Random {
            think: Dist::Uniform { lo: 0, hi: 40 },
        },
        requests_per_node: 5,
        ..Config::default()
    };
    run(ra(6), &config).unwrap()
}

#[test]
fn same_seed_same_digest_different_seed_different_digest() {
    let a = random_run(42);
    let b = random_run(42);
    assert_eq!(a.digest, b.digest);
    assert_eq!(a, b, "the whole report is reproduced, not just the digest");
    let mut digests: Vec<u64> = (0..50).map(|s| random_run(s).digest).collect();
    digests.sort_unstable();
    digests.dedup();
    assert_eq!(digests.len(), 50, "50 seeds give 50 different traces");
}

#[test]
fn the_trace_tail_is_bounded_and_the_full_trace_is_kept_on_request() {
    let config = Config {
        full_trace: true,
        trace_tail: 8,
        ..constant(Workload::Heavy, 3)
    };
    let r = run(ra(4), &config).unwrap();
    assert_eq!(
        r.trace.len() as u64,
        r.events + r.messages + r.entries,
        "one line per queued event, per send and per entry"
    );
    assert!(r.trace.len() > 8);
    let quiet = run(ra(4), &constant(Workload::Heavy, 3)).unwrap();
    assert!(quiet.trace.is_empty());
    assert_eq!(
        quiet.digest, r.digest,
        "keeping the trace does not change the run"
    );
}

// ---------------------------------------------------------------------------------------------
// Deliberately broken nodes: each check must catch the bug it is named after.

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Fault {
    /// Enters as soon as it asks, without waiting for anyone's permission.
    EntersWithoutPermission,
    /// Never replies to anyone.
    NeverReplies,
    /// Serves the newest request first: safe, but not in timestamp order.
    NewestFirst,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
enum Msg {
    Request(u64),
    Reply,
}

impl Message for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Request(_) => "REQUEST",
            Msg::Reply => "REPLY",
        }
    }
}

/// A small Ricart–Agrawala with one fault switched on.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct Faulty {
    me: NodeId,
    n: u32,
    fault: Fault,
    clock: u64,
    mine: u64,
    phase: Phase,
    replies: u32,
    deferred: Vec<NodeId>,
}

fn faulty(n: u32, fault: Fault) -> Vec<Faulty> {
    (0..n)
        .map(|i| Faulty {
            me: NodeId(i),
            n,
            fault,
            clock: 0,
            mine: 0,
            phase: Phase::Idle,
            replies: 0,
            deferred: Vec::new(),
        })
        .collect()
}

impl Node for Faulty {
    type Message = Msg;
    const GRANTS_IN_STAMP_ORDER: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }
    fn request(&mut self, out: &mut Outbox<Msg>) -> Result<(), Error> {
        self.clock += 1;
        self.mine = self.clock;
        self.replies = 0;
        self.phase = Phase::Requesting;
        for j in (0..self.n).map(NodeId).filter(|j| *j != self.me) {
            out.send(j, Msg::Request(self.mine));
        }
        if self.fault == Fault::EntersWithoutPermission {
            self.phase = Phase::InCriticalSection;
            out.enter();
        }
        Ok(())
    }
    fn release(&mut self, out: &mut Outbox<Msg>) -> Result<(), Error> {
        self.phase = Phase::Idle;
        for j in self.deferred.drain(..) {
            out.send(j, Msg::Reply);
        }
        Ok(())
    }
    fn on_message(&mut self, from: NodeId, msg: Msg, out: &mut Outbox<Msg>) -> Result<(), Error> {
        match msg {
            Msg::Request(ts) => {
                self.clock = self.clock.max(ts);
                let mine = Stamp::new(self.mine, self.me);
                let theirs = Stamp::new(ts, from);
                let defer = match self.fault {
                    Fault::NeverReplies => true,
                    Fault::NewestFirst => self.phase != Phase::Idle && mine > theirs,
                    Fault::EntersWithoutPermission => self.phase != Phase::Idle && mine < theirs,
                };
                if defer && self.fault != Fault::NeverReplies {
                    self.deferred.push(from);
                } else if !defer {
                    out.send(from, Msg::Reply);
                }
            }
            Msg::Reply => {
                self.replies += 1;
                if self.phase == Phase::Requesting && self.replies == self.n - 1 {
                    self.phase = Phase::InCriticalSection;
                    out.enter();
                }
            }
        }
        Ok(())
    }
    fn phase(&self) -> Phase {
        self.phase
    }
    fn waiting_for(&self) -> Vec<NodeId> {
        if self.phase == Phase::Requesting {
            (0..self.n).map(NodeId).filter(|j| *j != self.me).collect()
        } else {
            Vec::new()
        }
    }
    fn request_stamp(&self) -> Option<Stamp> {
        (self.phase != Phase::Idle).then(|| Stamp::new(self.mine, self.me))
    }
}

#[test]
fn safety_check_catches_a_node_that_enters_without_permission() {
    let config = Config {
        seed: 99,
        ..constant(Workload::Heavy, 2)
    };
    let r = run(faulty(3, Fault::EntersWithoutPermission), &config).unwrap();
    let f = r.failure.clone().expect("caught");
    assert_eq!(f.kind, FailureKind::Safety);
    assert_eq!(f.seed, 99);
    assert_eq!(
        f.description,
        "n1 entered the critical section while n0 is in it"
    );
    assert!(!f.last_events.is_empty());
    assert!(r.safety().starts_with("safety:"));
    assert_eq!(r.liveness(), "ok");
}

#[test]
fn liveness_check_reports_a_node_that_never_grants_as_a_deadlock() {
    let r = run(
        faulty(3, Fault::NeverReplies),
        &constant(Workload::Heavy, 1),
    )
    .unwrap();
    let f = r.failure.clone().expect("caught");
    assert_eq!(f.kind, FailureKind::Liveness);
    assert!(f.description.starts_with("deadlock"), "{}", f.description);
    for waits in [
        "n0 waits for [n1, n2]",
        "n1 waits for [n0, n2]",
        "n2 waits for [n0, n1]",
    ] {
        assert!(f.description.contains(waits), "{}", f.description);
    }
    assert_eq!(f.wait_for_cycle, Some(vec![NodeId(0), NodeId(1)]));
    assert_eq!(r.entries, 0);
}

#[test]
fn order_check_catches_newest_first_grants() {
    // Newest-first is still mutually exclusive, so only the order check can catch it.
    let r = run(faulty(3, Fault::NewestFirst), &constant(Workload::Heavy, 2)).unwrap();
    let f = r.failure.clone().expect("caught");
    assert_eq!(f.kind, FailureKind::Order, "{f}");
    assert!(
        f.description.contains("earlier request"),
        "{}",
        f.description
    );
}

#[test]
fn misconfigured_runs_are_errors_not_panics() {
    assert!(run(Vec::<RicartAgrawala>::new(), &Config::default()).is_err());
    let mut swapped = ra(2);
    swapped.swap(0, 1);
    assert!(run(swapped, &Config::default()).is_err());
    let scenario = dme_sim::Scenario::parse("at 0 node 5 requests").unwrap();
    let err = run(
        ra(3),
        &Config {
            workload: Workload::Scripted(scenario),
            ..Config::default()
        },
    )
    .unwrap_err();
    assert!(err.0.contains("node 5"), "{err}");
}

#[test]
fn a_scripted_scenario_replays_a_hand_made_race() {
    // n1 and n2 ask at the same time; equal clocks, so n1 (smaller id) goes first. n0 asks
    // while n1 is inside and is served after n2, whose request is older.
    let text = "at 0 node 1 requests cs 20\nat 0 node 2 requests\nat 25 node 0 requests\n";
    let config = Config {
        workload: Workload::Scripted(dme_sim::Scenario::parse(text).unwrap()),
        ..constant(Workload::Light, 0)
    };
    let r = run(ra(3), &config).unwrap();
    assert!(r.is_ok(), "{r}");
    let order: Vec<u32> = r.entry_log.iter().map(|e| e.node.0).collect();
    assert_eq!(order, vec![1, 2, 0], "requests in the order issued");
    let entered: Vec<u64> = r.entry_log.iter().map(|e| e.entered_at.unwrap()).collect();
    // n1 enters at 2T; n2 gets n1's deferred REPLY T after n1 leaves (20 + 20 + 10);
    // n0 waits for n2's deferred REPLY: n2 leaves at 55, n0 enters at 65.
    assert_eq!(entered, vec![20, 50, 65]);
}
