//! Cross-check of the exhaustive checker's engine against a published TLC result.
//!
//! Stephan Merz's TLA+ specification of Lamport's mutual-exclusion algorithm (tlaplus/Examples,
//! `specifications/lamport_mutex/LamportMutex.tla`, model `MCLamportMutex.cfg`: N = 3,
//! maxClock = 6, `CONSTRAINT ClockConstraint`, `INVARIANTS TypeOK BoundedNetwork Mutex`) is
//! written here directly as a [`TransitionSystem`]. The repository's manifest publishes TLC's
//! figures for that model: 724,274 distinct states, 2,729,079 states generated, depth 61. The
//! engine must reproduce all three exactly.
//!
//! The spec, action by action (processes are 1..N there, 0..N here; only their order matters,
//! in `beats`):
//!
//! * `Request(p)`: `req[p][p] = 0`; then `req[p][p] := clock[p]`, broadcast `ReqMessage(clock[p])`
//!   to every other process, `ack[p] := {p}`. The clock does not change.
//! * `ReceiveRequest(p, q)`: the head of `network[q][p]` is a request with clock `c`;
//!   `req[p][q] := c`, `clock[p] := IF c > clock[p] THEN c + 1 ELSE clock[p] + 1`, pop it, append
//!   an `AckMessage` (no clock) to `network[p][q]`.
//! * `ReceiveAck(p, q)`: the head of `network[q][p]` is an ack; `ack[p] := ack[p] ∪ {q}`, pop it.
//! * `Enter(p)`: `ack[p] = Proc` and `beats(p, q)` for every other `q`; `crit := crit ∪ {p}`.
//!   (Nothing stops `Enter(p)` when `p` is already in `crit`: that successor is the state itself,
//!   and TLC generates — and counts — it.)
//! * `Exit(p)`: `p ∈ crit`; `crit := crit \ {p}`, broadcast `RelMessage`, `req[p][p] := 0`,
//!   `ack[p] := {}`.
//! * `ReceiveRelease(p, q)`: the head of `network[q][p]` is a release; `req[p][q] := 0`, pop it.
//!
//! `beats(p, q) == req[p][q] = 0 ∨ req[p][p] < req[p][q] ∨ (req[p][p] = req[p][q] ∧ p < q)`.
//! Initially every clock is 1, `req` is 0, `ack` and `crit` are empty, channels are empty.
//! TLC also checks for deadlock by default (no `CHECK_DEADLOCK FALSE` in the model), so every
//! state without a successor would be an error: `work_outstanding` is always true here.

use dme_sim::check::{
    CheckOptions, Property, StepFailure, TransitionSystem, Verdict, ViolationKind, check,
};

const N: usize = 3;
const MAX_CLOCK: u8 = 6;
const ALL: u8 = (1 << N) - 1;

/// A message, in 4 bits: a request carries its clock (1..=13); acks and releases carry none.
const ACK: u8 = 14;
const REL: u8 = 15;

/// A FIFO channel of up to 4 messages (the spec's `BoundedNetwork` invariant says 3; the fourth
/// slot lets a violation of it be observed), one nibble each, head in the lowest nibble, 0 for an
/// empty slot.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
struct Chan(u16);

impl Chan {
    fn len(self) -> usize {
        (0..4)
            .take_while(|k| (self.0 >> (4 * k)) & 0xf != 0)
            .count()
    }

    fn head(self) -> Option<u8> {
        let m = (self.0 & 0xf) as u8;
        (m != 0).then_some(m)
    }

    fn pop(self) -> Chan {
        Chan(self.0 >> 4)
    }

    fn push(self, msg: u8) -> Chan {
        let len = self.len();
        assert!(
            len < 4,
            "channel overflow: BoundedNetwork is violated first"
        );
        Chan(self.0 | (u16::from(msg) << (4 * len)))
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct State {
    clock: [u8; N],
    /// `req[p][q]`: the clock of q's request as p knows it, 0 for none.
    req: [[u8; N]; N],
    /// `ack[p]` as a bit set.
    ack: [u8; N],
    /// `crit` as a bit set.
    crit: u8,
    /// `network[p][q]`: messages from p to q.
    network: [[Chan; N]; N],
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Action {
    Request(usize),
    Enter(usize),
    Exit(usize),
    ReceiveRequest(usize, usize),
    ReceiveAck(usize, usize),
    ReceiveRelease(usize, usize),
}

/// The spec, with a switch for a deliberately broken variant.
struct LamportMutex {
    /// Enter without checking `beats` (the broken variant): only acks are required.
    ignore_priority: bool,
}

impl LamportMutex {
    fn beats(s: &State, p: usize, q: usize) -> bool {
        s.req[p][q] == 0 || s.req[p][p] < s.req[p][q] || (s.req[p][p] == s.req[p][q] && p < q)
    }

    fn broadcast(s: &mut State, from: usize, msg: u8) {
        for r in 0..N {
            if r != from {
                s.network[from][r] = s.network[from][r].push(msg);
            }
        }
    }
}

impl TransitionSystem for LamportMutex {
    type State = State;
    type Action = Action;

    fn initial_states(&self) -> Vec<State> {
        vec![State {
            clock: [1; N],
            req: [[0; N]; N],
            ack: [0; N],
            crit: 0,
            network: [[Chan::default(); N]; N],
        }]
    }

    fn next_states(
        &self,
        s: &State,
        out: &mut Vec<(Action, State)>,
    ) -> Result<(), StepFailure<Action>> {
        for p in 0..N {
            // Request(p)
            if s.req[p][p] == 0 {
                let mut t = s.clone();
                t.req[p][p] = s.clock[p];
                Self::broadcast(&mut t, p, s.clock[p]);
                t.ack[p] = 1 << p;
                out.push((Action::Request(p), t));
            }
            // Enter(p)
            if s.ack[p] == ALL
                && (self.ignore_priority || (0..N).all(|q| q == p || Self::beats(s, p, q)))
            {
                let mut t = s.clone();
                t.crit |= 1 << p;
                out.push((Action::Enter(p), t));
            }
            // Exit(p)
            if s.crit & (1 << p) != 0 {
                let mut t = s.clone();
                t.crit &= !(1 << p);
                Self::broadcast(&mut t, p, REL);
                t.req[p][p] = 0;
                t.ack[p] = 0;
                out.push((Action::Exit(p), t));
            }
            // The three receive actions: p receives the head of network[q][p].
            for q in 0..N {
                if q == p {
                    continue;
                }
                let Some(m) = s.network[q][p].head() else {
                    continue;
                };
                let mut t = s.clone();
                t.network[q][p] = s.network[q][p].pop();
                match m {
                    ACK => {
                        t.ack[p] |= 1 << q;
                        out.push((Action::ReceiveAck(p, q), t));
                    }
                    REL => {
                        t.req[p][q] = 0;
                        out.push((Action::ReceiveRelease(p, q), t));
                    }
                    c => {
                        t.req[p][q] = c;
                        t.clock[p] = if c > s.clock[p] {
                            c + 1
                        } else {
                            s.clock[p] + 1
                        };
                        t.network[p][q] = s.network[p][q].push(ACK);
                        out.push((Action::ReceiveRequest(p, q), t));
                    }
                }
            }
        }
        Ok(())
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::new("TypeOK", |_, s: &State| s.clock.iter().all(|&c| c >= 1)),
            Property::new("BoundedNetwork", |_, s: &State| {
                s.network.iter().flatten().all(|ch| ch.len() <= 3)
            }),
            Property::new("Mutex", |_, s: &State| s.crit.count_ones() <= 1),
        ]
    }

    fn work_outstanding(&self, _: &State) -> bool {
        true
    }

    fn within_constraint(&self, s: &State) -> bool {
        s.clock.iter().all(|&c| c <= MAX_CLOCK)
    }
}

#[test]
fn reproduces_tlc_figures_for_merz_lamport_mutex() {
    let spec = LamportMutex {
        ignore_priority: false,
    };
    let result = check(&spec, &CheckOptions::default());
    eprintln!("LamportMutex N=3 maxClock=6: {}", result.stats);
    assert_eq!(result.verdict, Verdict::NoViolation);
    assert_eq!(result.stats.distinct_states, 724_274);
    assert_eq!(result.stats.states_generated, 2_729_079);
    assert_eq!(result.stats.depth, 61);
}

#[test]
fn entering_without_priority_is_caught_with_a_shortest_trace() {
    let spec = LamportMutex {
        ignore_priority: true,
    };
    let result = check(&spec, &CheckOptions::default());
    let cx = result.counterexample().expect("two processes can enter");
    assert_eq!(cx.kind, ViolationKind::Invariant { property: "Mutex" });
    // Two requests, four request receipts, four ack receipts, two entries.
    assert_eq!(cx.len(), 12);
    assert_eq!(cx.last_state().crit.count_ones(), 2);
    let requests = cx
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Request(_)))
        .count();
    assert_eq!(requests, 2);
}

#[test]
fn state_limit_stops_cleanly() {
    let spec = LamportMutex {
        ignore_priority: false,
    };
    let options = CheckOptions {
        max_states: Some(10_000),
        ..CheckOptions::default()
    };
    let result = check(&spec, &options);
    assert_eq!(result.verdict, Verdict::BoundReached);
    assert_eq!(result.stats.distinct_states, 10_000);
}
