//! The breadth-first search, generic over a [`TransitionSystem`].

use std::collections::VecDeque;
use std::fmt;
use std::hash::Hash;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::hash::{ROOT, Store, fingerprint};

/// A finite-state transition system to be checked exhaustively.
///
/// The engine explores it breadth-first from its [initial states](TransitionSystem::initial_states),
/// storing every distinct state once. Its vocabulary follows TLC's: a state outside the
/// [constraint](TransitionSystem::within_constraint) is *generated* (counted, and checked against
/// the properties) but neither stored nor explored.
pub trait TransitionSystem {
    /// A state. Equality decides which states are "the same" (and so stored once).
    type State: Clone + Eq + Hash + fmt::Debug;
    /// A move from one state to another, as shown in counterexample traces.
    type Action: Clone + fmt::Debug;

    /// The initial states.
    fn initial_states(&self) -> Vec<Self::State>;

    /// Appends to `out` every successor of `state`, each with the action that leads to it, in a
    /// deterministic order. `out` is empty on entry.
    ///
    /// An action that cannot be taken because the system itself is broken (for a cluster, a
    /// node returning an error) is returned as a [`StepFailure`], which the engine reports as a
    /// violation.
    fn next_states(
        &self,
        state: &Self::State,
        out: &mut Vec<(Self::Action, Self::State)>,
    ) -> Result<(), StepFailure<Self::Action>>;

    /// The invariants, checked in every state the search generates.
    fn properties(&self) -> Vec<Property<Self>>
    where
        Self: Sized;

    /// Whether work is outstanding in `state`: a state without successors is a deadlock exactly
    /// when this holds. The default (`false`) never reports a deadlock.
    fn work_outstanding(&self, _state: &Self::State) -> bool {
        false
    }

    /// The state constraint: a generated state for which this is `false` is counted and checked
    /// against the properties, but not stored and not explored (TLC's `CONSTRAINT`). The
    /// default keeps every state.
    fn within_constraint(&self, _state: &Self::State) -> bool {
        true
    }

    /// Partial-order reduction: which of `successors` (as [`next_states`] returned them for
    /// `state`) suffice to explore, or `None` to explore them all. The engine calls it only
    /// when [`CheckOptions::partial_order_reduction`] is on; the default never reduces.
    ///
    /// The subset must be an *ample set* in the sense of Clarke, Grumberg and Peled (*Model
    /// Checking*, ch. 10), conditions C0–C2: it is not empty (C0); no action outside it that
    /// depends on an action in it can be taken from `state` before one of the subset's actions
    /// is (C1, persistence); and none of its actions changes anything a [property](Property)
    /// reads (C2, invisibility). The engine adds the cycle condition C3 itself (see [`check`]).
    /// Under these conditions every reachable violation of a property, and every reachable
    /// state without successors, is still reached.
    ///
    /// [`next_states`]: TransitionSystem::next_states
    fn ample(
        &self,
        _state: &Self::State,
        _successors: &[(Self::Action, Self::State)],
    ) -> Option<Vec<usize>> {
        None
    }
}

/// An invariant: a named predicate that must hold in every state.
pub struct Property<T: TransitionSystem> {
    /// The property's name, as reported when it fails.
    pub name: &'static str,
    /// Whether the property holds in a state.
    pub holds: fn(&T, &T::State) -> bool,
}

impl<T: TransitionSystem> Property<T> {
    /// The property `name`, holding where `holds` says so.
    pub fn new(name: &'static str, holds: fn(&T, &T::State) -> bool) -> Self {
        Property { name, holds }
    }
}

/// An action that failed in a state: the system reports itself broken.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StepFailure<A> {
    /// The action that failed.
    pub action: A,
    /// What went wrong.
    pub reason: String,
}

/// How the search is run.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct CheckOptions {
    /// Stop cleanly ("bound reached, no violation within it") once this many distinct states
    /// are stored. `None`: no limit.
    pub max_states: Option<u64>,
    /// Report states without successors where [`TransitionSystem::work_outstanding`] holds.
    pub check_deadlock: bool,
    /// Explore only the [ample](TransitionSystem::ample) successors of a state where the system
    /// names some. Every reachable violation is still found, in fewer states; but the
    /// counterexample is the shortest *in the reduced graph*, not necessarily in the full one,
    /// and the figures count the reduced graph. Not meant for use with a state constraint: a
    /// move the reduction postpones may pass outside the constraint first, so a reduced slice
    /// need not cover the plain one.
    pub partial_order_reduction: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            max_states: None,
            check_deadlock: true,
            partial_order_reduction: false,
        }
    }
}

/// The figures of a search, in TLC's terms.
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize)]
pub struct Stats {
    /// Distinct states stored (all within the constraint).
    pub distinct_states: u64,
    /// States generated: the initial states plus every successor computed from an explored
    /// state, whether new, already seen, or outside the constraint (TLC's "states generated").
    pub states_generated: u64,
    /// Transitions: successors computed from explored states that are within the constraint
    /// (edges of the stored state graph, self-loops and repeats included).
    pub transitions: u64,
    /// The depth in TLC's sense: the number of states on the longest of the shortest paths from
    /// an initial state, counting the initial state (so a system whose only state is initial
    /// has depth 1). When the search stops early, the depth reached so far.
    pub depth: u64,
    /// Wall-clock time of the search. Reported, never part of a result that tests compare.
    #[serde(serialize_with = "serialize_secs")]
    pub elapsed: Duration,
}

fn serialize_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Stats {
    /// Distinct states per second of wall-clock time.
    pub fn states_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.distinct_states as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} distinct states, {} states generated, {} transitions, depth {}, {:.3} s ({:.0} states/s)",
            self.distinct_states,
            self.states_generated,
            self.transitions,
            self.depth,
            self.elapsed.as_secs_f64(),
            self.states_per_second()
        )
    }
}

/// What was violated.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ViolationKind<A> {
    /// An invariant does not hold in the trace's last state.
    Invariant {
        /// The property's name.
        property: &'static str,
    },
    /// The trace's last state has no successor while work is outstanding.
    Deadlock,
    /// An action failed in the trace's last state.
    StepFailed(StepFailure<A>),
}

/// One step of a trace: an action and the state after it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Step<A, S> {
    /// The action taken.
    pub action: A,
    /// The state it led to.
    pub state: S,
}

/// A shortest counterexample: a path from an initial state to a violation.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Counterexample<A, S> {
    /// What was violated at the end of the path.
    pub kind: ViolationKind<A>,
    /// The initial state the path starts from.
    pub initial: S,
    /// The steps, in order.
    pub steps: Vec<Step<A, S>>,
}

impl<A, S> Counterexample<A, S> {
    /// The trace's length in actions: the steps, plus the failing action of a
    /// [`ViolationKind::StepFailed`].
    pub fn len(&self) -> usize {
        self.steps.len() + usize::from(matches!(self.kind, ViolationKind::StepFailed(_)))
    }

    /// Whether the violation is in an initial state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state the violation is in (for a failed step, the state before it).
    pub fn last_state(&self) -> &S {
        self.steps.last().map_or(&self.initial, |s| &s.state)
    }
}

impl<A: fmt::Debug, S: fmt::Debug> fmt::Display for Counterexample<A, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ViolationKind::Invariant { property } => writeln!(f, "invariant {property} violated")?,
            ViolationKind::Deadlock => writeln!(f, "deadlock")?,
            ViolationKind::StepFailed(fail) => {
                writeln!(f, "step failed: {:?}: {}", fail.action, fail.reason)?
            }
        }
        writeln!(f, "0. initial state: {:?}", self.initial)?;
        for (i, step) in self.steps.iter().enumerate() {
            writeln!(f, "{}. {:?}: {:?}", i + 1, step.action, step.state)?;
        }
        if let ViolationKind::StepFailed(fail) = &self.kind {
            writeln!(f, "{}. {:?} fails", self.steps.len() + 1, fail.action)?;
        }
        Ok(())
    }
}

/// How a search ended.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Verdict<A, S> {
    /// Every reachable state (within the constraint) was explored; no violation.
    NoViolation,
    /// The state limit was reached: no violation among the states explored, but not every
    /// reachable state was explored.
    BoundReached,
    /// A violation, with a shortest path to it.
    Violation(Counterexample<A, S>),
}

/// The result of [`check`]: the verdict and the figures.
#[derive(Clone, PartialEq, Debug)]
pub struct CheckResult<A, S> {
    /// How the search ended.
    pub verdict: Verdict<A, S>,
    /// States, transitions, depth, time.
    pub stats: Stats,
}

impl<A, S> CheckResult<A, S> {
    /// The counterexample, if a violation was found.
    pub fn counterexample(&self) -> Option<&Counterexample<A, S>> {
        match &self.verdict {
            Verdict::Violation(c) => Some(c),
            _ => None,
        }
    }
}

/// A violation found but not yet reported (the current BFS level is finished first, in case it
/// holds a shorter one).
struct Pending<T: TransitionSystem> {
    kind: ViolationKind<T::Action>,
    /// The number of the stored state the path ends at (for a state outside the constraint, its
    /// parent's).
    at: usize,
    /// A violating successor of `at` that was not stored (outside the constraint).
    unstored: Option<T::State>,
}

/// Explores `system` breadth-first and returns the verdict with a shortest counterexample.
///
/// Properties are checked in every initial state and in every generated successor that is new
/// or outside the constraint (as TLC does); deadlocks and failing actions are found when a
/// state is explored. Because states are explored level by level, and a violation found in a
/// successor is reported only once the current level is finished, the counterexample is a
/// shortest one: no violation of any kind is reachable in fewer steps.
///
/// Visited states are stored as 128-bit fingerprints with the number of their parent; only the
/// states still to be explored are kept whole. A trace is rebuilt by replaying the system from
/// an initial state along the fingerprints of the path.
///
/// With [`CheckOptions::partial_order_reduction`], a state whose system names an
/// [ample](TransitionSystem::ample) subset of its successors is explored through that subset
/// only — unless one of those successors was already found at this state's breadth-first level
/// or an earlier one; then every successor is explored. That is the cycle condition C3: on any
/// cycle of the explored graph some edge leads to a state found no later than its source's
/// level, and that source, being explored after the target was found, is explored fully. In an
/// acyclic system where every path to a state has the same length (a cluster whose every move
/// consumes or produces work, such as classic Lamport), it never fires.
///
/// The result does not depend on anything but `system` and `options` (the hash is fixed, and no
/// iteration order of a hash table is ever observed), except for `stats.elapsed`.
pub fn check<T: TransitionSystem>(
    system: &T,
    options: &CheckOptions,
) -> CheckResult<T::Action, T::State> {
    let start = Instant::now();
    let props = system.properties();
    let violated = |s: &T::State| props.iter().find(|p| !(p.holds)(system, s)).map(|p| p.name);
    let max_states = options.max_states.unwrap_or(u64::from(u32::MAX - 1));
    let max_states = max_states.min(u64::from(u32::MAX - 1)) as usize;

    let mut store = Store::new();
    // The states still to explore, with their numbers, in breadth-first order.
    let mut frontier: VecDeque<(usize, T::State)> = VecDeque::new();
    let mut stats = Stats::default();
    let mut bound_reached = false;
    let mut pending: Option<Pending<T>> = None;

    // Initial states: a violation here is a counterexample of length 0, reported at once.
    for s in system.initial_states() {
        stats.states_generated += 1;
        if !system.within_constraint(&s) {
            if let Some(property) = violated(&s) {
                return initial_violation(property, s, &store, stats, start);
            }
            continue;
        }
        let fp = fingerprint(&s);
        if store.contains(fp) {
            continue;
        }
        if store.len() >= max_states {
            bound_reached = true;
            break;
        }
        if let Some(property) = violated(&s) {
            return initial_violation(property, s, &store, stats, start);
        }
        if let Some(index) = store.insert(fp, ROOT) {
            frontier.push_back((index, s));
        }
    }

    let mut level_end = store.len();
    let mut depth = u64::from(store.len() > 0);
    let mut succ: Vec<(T::Action, T::State)> = Vec::new();

    while !bound_reached {
        let Some((here, state)) = frontier.pop_front() else {
            break;
        };
        if here == level_end {
            if pending.is_some() {
                break;
            }
            depth += 1;
            level_end = store.len();
        }
        succ.clear();
        if let Err(fail) = system.next_states(&state, &mut succ) {
            // A failed action ends a path one step longer than `here`'s: as long as anything
            // pending (found at the same length, earlier), so only report it if nothing is.
            if pending.is_none() {
                pending = Some(Pending {
                    kind: ViolationKind::StepFailed(fail),
                    at: here,
                    unstored: None,
                });
            }
            continue;
        }
        if succ.is_empty() && options.check_deadlock && system.work_outstanding(&state) {
            // Shorter than anything pending (which is one step past this level).
            pending = Some(Pending {
                kind: ViolationKind::Deadlock,
                at: here,
                unstored: None,
            });
            break;
        }
        if pending.is_some() {
            // Only a deadlock (shorter) can still beat what is pending.
            continue;
        }
        if options.partial_order_reduction {
            reduce(system, &state, &mut succ, &store, level_end);
        }
        for (_, next) in succ.drain(..) {
            stats.states_generated += 1;
            if !system.within_constraint(&next) {
                if let Some(property) = violated(&next) {
                    pending = Some(Pending {
                        kind: ViolationKind::Invariant { property },
                        at: here,
                        unstored: Some(next),
                    });
                    break;
                }
                continue;
            }
            stats.transitions += 1;
            let fp = fingerprint(&next);
            if store.len() >= max_states {
                if !store.contains(fp) {
                    bound_reached = true;
                    break;
                }
                continue;
            }
            if let Some(index) = store.insert(fp, here as u32) {
                if let Some(property) = violated(&next) {
                    pending = Some(Pending {
                        kind: ViolationKind::Invariant { property },
                        at: index,
                        unstored: None,
                    });
                    break;
                }
                frontier.push_back((index, next));
            }
        }
    }

    stats.distinct_states = store.len() as u64;
    stats.depth = depth;
    drop(frontier);
    let verdict = match pending {
        Some(p) => Verdict::Violation(trace(system, &store, p)),
        None if bound_reached => Verdict::BoundReached,
        None => Verdict::NoViolation,
    };
    stats.elapsed = start.elapsed();
    CheckResult { verdict, stats }
}

/// Keeps only the ample successors of `state`, if the system names some and none of them closes
/// a cycle (C3: none was found at `state`'s level or earlier, i.e. numbered below `level_end`).
fn reduce<T: TransitionSystem>(
    system: &T,
    state: &T::State,
    succ: &mut Vec<(T::Action, T::State)>,
    store: &Store,
    level_end: usize,
) {
    let Some(mut keep) = system.ample(state, succ) else {
        return;
    };
    keep.sort_unstable();
    keep.dedup();
    if keep.is_empty() || keep.len() >= succ.len() || keep[keep.len() - 1] >= succ.len() {
        return;
    }
    let closes_cycle = keep.iter().any(|&k| {
        store
            .index_of(fingerprint(&succ[k].1))
            .is_some_and(|i| i < level_end)
    });
    if closes_cycle {
        return;
    }
    let mut k = keep.into_iter().peekable();
    let mut i = 0;
    succ.retain(|_| {
        let hit = k.next_if_eq(&i).is_some();
        i += 1;
        hit
    });
}

fn initial_violation<A, S>(
    property: &'static str,
    initial: S,
    store: &Store,
    mut stats: Stats,
    start: Instant,
) -> CheckResult<A, S> {
    stats.distinct_states = store.len() as u64;
    stats.depth = u64::from(store.len() > 0);
    stats.elapsed = start.elapsed();
    let cx = Counterexample {
        kind: ViolationKind::Invariant { property },
        initial,
        steps: Vec::new(),
    };
    CheckResult {
        verdict: Verdict::Violation(cx),
        stats,
    }
}

/// Rebuilds the path to a pending violation: the parent numbers give the path's fingerprints,
/// and replaying the system from the initial state with the first fingerprint, choosing at
/// each step the (first) successor with the next fingerprint, gives its states and actions.
fn trace<T: TransitionSystem>(
    system: &T,
    store: &Store,
    pending: Pending<T>,
) -> Counterexample<T::Action, T::State> {
    let mut path = vec![store.fingerprint(pending.at)];
    let mut at = pending.at;
    while store.parent(at) != ROOT {
        at = store.parent(at) as usize;
        path.push(store.fingerprint(at));
    }
    path.reverse();
    let initial = system
        .initial_states()
        .into_iter()
        .find(|s| fingerprint(s) == path[0])
        .expect("the path starts at an initial state");
    let mut succ = Vec::new();
    let mut steps: Vec<Step<T::Action, T::State>> = Vec::with_capacity(path.len());
    let mut current = initial.clone();
    for &fp in &path[1..] {
        succ.clear();
        // The state was explored without failing, so this recomputation succeeds too; a
        // partial list would still hold the successor that was stored.
        let _ = system.next_states(&current, &mut succ);
        let (action, state) = succ
            .drain(..)
            .find(|(_, s)| fingerprint(s) == fp)
            .expect("a stored state is a successor of its parent");
        current = state.clone();
        steps.push(Step { action, state });
    }
    if let Some(last) = pending.unstored {
        succ.clear();
        let _ = system.next_states(&current, &mut succ);
        let (action, state) = succ
            .drain(..)
            .find(|(_, s)| *s == last)
            .expect("the violating state is a successor of its parent");
        steps.push(Step { action, state });
    }
    Counterexample {
        kind: pending.kind,
        initial,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter modulo `m`, incremented by 1 or 2; property: it never equals `bad`.
    struct Counter {
        m: u32,
        bad: u32,
        stuck_at: Option<u32>,
        limit: u32,
    }

    impl TransitionSystem for Counter {
        type State = u32;
        type Action = &'static str;

        fn initial_states(&self) -> Vec<u32> {
            vec![0]
        }

        fn next_states(
            &self,
            s: &u32,
            out: &mut Vec<(&'static str, u32)>,
        ) -> Result<(), StepFailure<&'static str>> {
            if Some(*s) == self.stuck_at {
                return Ok(());
            }
            out.push(("+1", (s + 1) % self.m));
            out.push(("+2", (s + 2) % self.m));
            Ok(())
        }

        fn properties(&self) -> Vec<Property<Self>> {
            vec![Property::new("not bad", |c, s| *s != c.bad)]
        }

        fn work_outstanding(&self, _: &u32) -> bool {
            true
        }

        fn within_constraint(&self, s: &u32) -> bool {
            *s <= self.limit
        }
    }

    fn counter(m: u32) -> Counter {
        Counter {
            m,
            bad: u32::MAX,
            stuck_at: None,
            limit: u32::MAX,
        }
    }

    #[test]
    fn full_search_counts_like_tlc() {
        let r = check(&counter(10), &CheckOptions::default());
        assert_eq!(r.verdict, Verdict::NoViolation);
        assert_eq!(r.stats.distinct_states, 10);
        assert_eq!(r.stats.states_generated, 1 + 20);
        assert_eq!(r.stats.transitions, 20);
        // 0; 1,2; 3,4; 5,6; 7,8; 9 -> six levels.
        assert_eq!(r.stats.depth, 6);
    }

    #[test]
    fn shortest_trace_to_an_invariant_violation() {
        let sys = Counter {
            bad: 7,
            ..counter(10)
        };
        let r = check(&sys, &CheckOptions::default());
        let cx = r.counterexample().expect("7 is reachable");
        assert_eq!(
            cx.kind,
            ViolationKind::Invariant {
                property: "not bad"
            }
        );
        assert_eq!(cx.len(), 4);
        assert_eq!(*cx.last_state(), 7);
        let actions: Vec<_> = cx.steps.iter().map(|s| s.action).collect();
        assert_eq!(actions, vec!["+1", "+2", "+2", "+2"]);
    }

    #[test]
    fn constraint_drops_states_but_counts_them_and_checks_them() {
        let sys = Counter {
            limit: 4,
            ..counter(10)
        };
        let r = check(&sys, &CheckOptions::default());
        assert_eq!(r.verdict, Verdict::NoViolation);
        assert_eq!(r.stats.distinct_states, 5); // 0..=4
        assert_eq!(r.stats.states_generated, 1 + 10);
        assert_eq!(r.stats.transitions, 7); // 5 and 6 dropped: from 3 (+2), 4 (+1, +2)
        // A violation outside the constraint is still found.
        let sys = Counter {
            limit: 4,
            bad: 6,
            ..counter(10)
        };
        let cx = check(&sys, &CheckOptions::default()).verdict;
        let Verdict::Violation(cx) = cx else {
            panic!("6 is generated")
        };
        assert_eq!(cx.len(), 3);
        assert_eq!(*cx.last_state(), 6);
    }

    #[test]
    fn deadlock_and_bound() {
        let sys = Counter {
            stuck_at: Some(5),
            ..counter(10)
        };
        let r = check(&sys, &CheckOptions::default());
        let cx = r.counterexample().expect("5 is stuck");
        assert_eq!(cx.kind, ViolationKind::Deadlock);
        assert_eq!(cx.len(), 3);
        let off = CheckOptions {
            check_deadlock: false,
            ..CheckOptions::default()
        };
        assert_eq!(check(&sys, &off).verdict, Verdict::NoViolation);

        let bounded = CheckOptions {
            max_states: Some(4),
            ..CheckOptions::default()
        };
        let r = check(&counter(10), &bounded);
        assert_eq!(r.verdict, Verdict::BoundReached);
        assert_eq!(r.stats.distinct_states, 4);
    }

    /// Two independent processes: A toggles a bit forever (invisible), B sets a flag once
    /// (visible: the property forbids it). {A} is a valid ample set everywhere by C0–C2, so a
    /// search without the cycle condition would go round A's cycle and never try B.
    struct Toggle;

    impl TransitionSystem for Toggle {
        type State = (bool, bool);
        type Action = &'static str;

        fn initial_states(&self) -> Vec<(bool, bool)> {
            vec![(false, false)]
        }

        fn next_states(
            &self,
            &(a, b): &(bool, bool),
            out: &mut Vec<(&'static str, (bool, bool))>,
        ) -> Result<(), StepFailure<&'static str>> {
            out.push(("A", (!a, b)));
            if !b {
                out.push(("B", (a, true)));
            }
            Ok(())
        }

        fn properties(&self) -> Vec<Property<Self>> {
            vec![Property::new("B never moves", |_, s: &(bool, bool)| !s.1)]
        }

        fn ample(
            &self,
            _: &(bool, bool),
            _: &[(&'static str, (bool, bool))],
        ) -> Option<Vec<usize>> {
            Some(vec![0])
        }
    }

    #[test]
    fn the_cycle_condition_keeps_reduction_from_ignoring_a_move() {
        let reduced = CheckOptions {
            partial_order_reduction: true,
            ..CheckOptions::default()
        };
        let r = check(&Toggle, &reduced);
        let cx = r.counterexample().expect("B's move is explored");
        let actions: Vec<_> = cx.steps.iter().map(|s| s.action).collect();
        // (false, false) is reduced to A; (true, false) closes A's cycle, so it is expanded
        // fully and B is taken there.
        assert_eq!(actions, vec!["A", "B"]);
        // Without reduction the shortest trace is B alone.
        let plain = check(&Toggle, &CheckOptions::default());
        assert_eq!(plain.counterexample().unwrap().len(), 1);
    }

    #[test]
    fn deadlock_in_this_level_beats_a_violation_in_the_next() {
        // From 0: +1 -> 1, +2 -> 2. 2 is bad (found while exploring level 0, length 1);
        // nothing shorter exists, so the bad state is reported.
        let sys = Counter {
            bad: 2,
            stuck_at: Some(1),
            ..counter(10)
        };
        let cx = check(&sys, &CheckOptions::default()).verdict;
        let Verdict::Violation(cx) = cx else {
            panic!("violation expected")
        };
        // Both have length 1; the invariant violation is found first.
        assert_eq!(cx.len(), 1);
        assert_eq!(
            cx.kind,
            ViolationKind::Invariant {
                property: "not bad"
            }
        );
        // 3 is bad (length 2, found while exploring level 1 = {1, 2}); 1 is stuck (length 1).
        let sys = Counter {
            bad: 3,
            stuck_at: Some(2),
            ..counter(10)
        };
        let Verdict::Violation(cx) = check(&sys, &CheckOptions::default()).verdict else {
            panic!("violation expected")
        };
        assert_eq!(cx.kind, ViolationKind::Deadlock);
        assert_eq!(cx.len(), 1);
    }
}
