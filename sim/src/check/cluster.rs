//! A cluster of nodes under the node contract, as a [`TransitionSystem`].

use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use dme_core::{Effect, Error, Message, Node, NodeId, Outbox, Phase};
use serde::Serialize;

use super::engine::{
    CheckOptions, Counterexample, Property, Stats, StepFailure, TransitionSystem, Verdict,
    ViolationKind, check,
};
use super::hash::fingerprint;

/// The largest cluster the checker's model can number: every channel `from * n + to` fits in
/// a `u32`.
const MAX_CHECK_NODES: usize = 65_535;

/// How [`check_cluster`] explores a cluster.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct ClusterCheckConfig {
    /// How many times each node requests the critical section (R).
    pub requests_per_node: u32,
    /// Per-pair FIFO channels (only the oldest message of a channel can be delivered). When
    /// `false`, a channel is a multiset and any pending message can be delivered next.
    pub fifo: bool,
    /// Stop cleanly after this many distinct states ("bound reached, no violation within it").
    pub max_states: Option<u64>,
    /// Report deadlocks: no move left while a request is outstanding.
    pub check_deadlock: bool,
    /// Partial-order reduction (see [`Cluster`]): every violation and deadlock is still found,
    /// in fewer states, but the counterexample is not necessarily a shortest one and the
    /// figures count the reduced state graph. It reduces nothing without FIFO channels.
    pub partial_order_reduction: bool,
}

impl Default for ClusterCheckConfig {
    fn default() -> Self {
        ClusterCheckConfig {
            requests_per_node: 1,
            fifo: true,
            max_states: Some(10_000_000),
            check_deadlock: true,
            partial_order_reduction: false,
        }
    }
}

/// One node's place in a [`ClusterState`]: the node (shared between states: a step copies
/// only the node it changes), its fingerprint, where it stands as its driver sees it, and how
/// many requests it has left.
#[derive(Clone, Debug)]
struct Slot<N> {
    node: Arc<N>,
    /// The node's fingerprint, so that hashing a state does not walk every node.
    fp: u64,
    phase: Phase,
    remaining: u32,
}

impl<N: Node> Slot<N> {
    fn new(node: N, remaining: u32) -> Self {
        Slot {
            fp: fingerprint(&node).0,
            node: Arc::new(node),
            phase: Phase::Idle,
            remaining,
        }
    }

    /// The node, to be changed (copied first if shared); call [`Slot::rehash`] afterwards.
    fn node_mut(&mut self) -> &mut N {
        Arc::make_mut(&mut self.node)
    }

    fn rehash(&mut self) {
        self.fp = fingerprint(&*self.node).0;
    }
}

impl<N: Node> PartialEq for Slot<N> {
    fn eq(&self, other: &Self) -> bool {
        self.fp == other.fp
            && self.phase == other.phase
            && self.remaining == other.remaining
            && self.node == other.node
    }
}

impl<N: Node> Eq for Slot<N> {}

impl<N: Node> Hash for Slot<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fp);
        self.phase.hash(state);
        state.write_u32(self.remaining);
    }
}

/// One state of a cluster: every node's state, every channel's pending messages, where each
/// node stands as its driver sees it (idle, requesting, or in the critical section since it
/// emitted [`Effect::Enter`]) and how many requests each node has left.
///
/// With FIFO channels a channel is a sequence; without, a multiset, kept in a canonical order
/// (by message fingerprint), so two states whose channels hold the same messages are equal and
/// hash equal whatever order the messages were sent in.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ClusterState<N: Node> {
    fifo: bool,
    slots: Vec<Slot<N>>,
    /// The messages in flight as `(from * n + to, message)`, sorted by channel; within a
    /// channel oldest first (FIFO) or in canonical order (multiset).
    flight: Vec<(u32, N::Message)>,
}

impl<N: Node> ClusterState<N> {
    fn n(&self) -> usize {
        self.slots.len()
    }

    /// The nodes, node `i` having id `NodeId(i)`.
    pub fn nodes(&self) -> impl Iterator<Item = &N> {
        self.slots.iter().map(|s| &*s.node)
    }

    /// Node `id`, if it is a member.
    pub fn node(&self, id: NodeId) -> Option<&N> {
        self.slots.get(id.index()).map(|s| &*s.node)
    }

    /// Where node `id` stands as the checker sees it: it is in the critical section from its
    /// [`Effect::Enter`] to its release. `None` for a node outside the cluster.
    pub fn phase(&self, id: NodeId) -> Option<Phase> {
        self.slots.get(id.index()).map(|s| s.phase)
    }

    /// The nodes in the critical section.
    pub fn in_critical_section(&self) -> Vec<NodeId> {
        self.ids_where(|p| p == Phase::InCriticalSection)
    }

    /// The nodes with a request outstanding (not yet granted).
    pub fn requesting(&self) -> Vec<NodeId> {
        self.ids_where(|p| p == Phase::Requesting)
    }

    fn ids_where(&self, f: impl Fn(Phase) -> bool) -> Vec<NodeId> {
        (0..self.n())
            .filter(|&i| f(self.slots[i].phase))
            .map(|i| NodeId(i as u32))
            .collect()
    }

    /// The requests node `id` has not issued yet.
    pub fn requests_left(&self, id: NodeId) -> u32 {
        self.slots.get(id.index()).map_or(0, |s| s.remaining)
    }

    /// The messages in flight from `from` to `to`, oldest first (in canonical order without
    /// FIFO).
    pub fn in_flight(&self, from: NodeId, to: NodeId) -> Vec<&N::Message> {
        let n = self.n();
        if from.index() >= n || to.index() >= n {
            return Vec::new();
        }
        let c = (from.index() * n + to.index()) as u32;
        self.flight
            .iter()
            .filter(|(ch, _)| *ch == c)
            .map(|(_, m)| m)
            .collect()
    }

    /// The number of messages in flight.
    pub fn messages_in_flight(&self) -> usize {
        self.flight.len()
    }

    /// Puts `msg` in flight on channel `c`: after the channel's other messages (FIFO), or at
    /// its place in the canonical order (multiset).
    fn send(&mut self, c: u32, msg: N::Message) {
        let end = self.flight.partition_point(|(ch, _)| *ch <= c);
        let at = if self.fifo {
            end
        } else {
            let start = self.flight.partition_point(|(ch, _)| *ch < c);
            let key = fingerprint(&msg);
            start + self.flight[start..end].partition_point(|(_, m)| fingerprint(m) <= key)
        };
        self.flight.insert(at, (c, msg));
    }

    /// A one-line summary: who is not idle, and what is in flight.
    fn summary(&self) -> String {
        let mut s = String::new();
        for (i, slot) in self.slots.iter().enumerate() {
            let id = NodeId(i as u32);
            match slot.phase {
                Phase::Idle => {}
                Phase::Requesting => {
                    let waits = slot.node.waiting_for();
                    if waits.is_empty() {
                        let _ = write!(s, "{id} requesting, ");
                    } else {
                        let _ = write!(s, "{id} requesting (waits for {}), ", list(&waits));
                    }
                }
                Phase::InCriticalSection => {
                    let _ = write!(s, "{id} in CS, ");
                }
            }
        }
        if s.is_empty() {
            s.push_str("all idle");
        } else {
            s.truncate(s.len() - 2);
        }
        let n = self.n() as u32;
        let mut flight: Vec<(u32, Vec<String>)> = Vec::new();
        for (c, m) in &self.flight {
            match flight.last_mut() {
                Some((last, msgs)) if last == c => msgs.push(label(m)),
                _ => flight.push((*c, vec![label(m)])),
            }
        }
        if flight.is_empty() {
            s.push_str(" | nothing in flight");
        } else {
            let parts: Vec<String> = flight
                .iter()
                .map(|(c, msgs)| {
                    format!("{}→{} [{}]", NodeId(c / n), NodeId(c % n), msgs.join(", "))
                })
                .collect();
            let _ = write!(s, " | in flight: {}", parts.join(", "));
        }
        s
    }
}

/// A move of the cluster.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
pub enum ClusterAction<M> {
    /// An idle node with requests left asks for the critical section.
    Request(NodeId),
    /// The node in the critical section leaves it.
    Release(NodeId),
    /// A pending message is delivered.
    Deliver {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message.
        msg: M,
    },
}

/// "REQUEST(ts=2)" or "REPLY".
fn label<M: Message>(msg: &M) -> String {
    match msg.timestamp() {
        Some(ts) => format!("{}(ts={ts})", msg.kind()),
        None => msg.kind().to_string(),
    }
}

fn list(ids: &[NodeId]) -> String {
    let names: Vec<String> = ids.iter().map(NodeId::to_string).collect();
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        k => format!("{} and {}", names[..k - 1].join(", "), names[k - 1]),
    }
}

impl<M: Message> fmt::Display for ClusterAction<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterAction::Request(id) => write!(f, "{id} requests"),
            ClusterAction::Release(id) => write!(f, "{id} releases"),
            ClusterAction::Deliver { from, to, msg } => {
                write!(f, "{to} receives {} from {from}", label(msg))
            }
        }
    }
}

/// A state constraint on a cluster.
type Constraint<N> = Box<dyn Fn(&ClusterState<N>) -> bool + Send + Sync>;

/// A cluster of nodes as a transition system: the moves are "deliver a pending message" (the
/// oldest of each channel with FIFO, any distinct pending message without), "an idle node with
/// requests left requests" and "the node in the critical section releases".
///
/// Properties: mutual exclusion (at most one node in the critical section) and, for
/// [token-based](Node::TOKEN_BASED) algorithms, token uniqueness (exactly one token, held or in
/// flight). A node returning an error, entering without a request outstanding, or sending to
/// itself or a non-member is a failed step. Work is outstanding while a request is.
///
/// **Partial-order reduction.** Moves of different nodes commute: a move of node `x` (a
/// request, a release, or the delivery of a channel's head to `x`) changes only `x`, removes
/// the head of a channel into `x` and appends to channels out of `x`, and on a non-empty FIFO
/// channel appending at the tail commutes with taking the head. So the [ample
/// set](TransitionSystem::ample) of a state is every enabled move of a set `C` of nodes closed
/// under "if `x` is in `C` and the channel from `k` to `x` is empty, `k` is in `C`" — the only
/// way a move of `x` not enabled now can become enabled is a message from such a `k`, and only
/// `k`'s own moves send one (persistence, C1). A set is usable if it is not every node, has an
/// enabled move (C0), and none of its moves enters or leaves the critical section or changes
/// the number of tokens (invisibility, C2); the usable set with the fewest moves is taken.
/// Without FIFO every node can always send a message not yet deliverable, so `C` is every node
/// and nothing is reduced.
pub struct Cluster<N: Node> {
    initial: ClusterState<N>,
    requests_per_node: u32,
    constraint: Option<Constraint<N>>,
}

impl<N: Node> Cluster<N> {
    /// The cluster of `nodes` (node `i` must have id `NodeId(i)`), each to request
    /// `requests_per_node` times, over FIFO channels or not.
    pub fn new(nodes: Vec<N>, requests_per_node: u32, fifo: bool) -> Result<Self, Error> {
        if nodes.is_empty() {
            return Err(Error::InvalidCluster("no nodes".into()));
        }
        // Channels are numbered `from * n + to` in 32 bits.
        if nodes.len() > MAX_CHECK_NODES {
            return Err(Error::InvalidCluster(format!(
                "{} nodes: the checker's channels are numbered in 32 bits, so at most \
                 {MAX_CHECK_NODES} nodes",
                nodes.len()
            )));
        }
        if let Some((i, node)) = nodes
            .iter()
            .enumerate()
            .find(|(i, node)| node.id() != NodeId(*i as u32))
        {
            return Err(Error::InvalidCluster(format!(
                "node at position {i} has id {}, expected n{i}",
                node.id()
            )));
        }
        Ok(Cluster {
            initial: ClusterState {
                fifo,
                slots: nodes
                    .into_iter()
                    .map(|node| Slot::new(node, requests_per_node))
                    .collect(),
                flight: Vec::new(),
            },
            requests_per_node,
            constraint: None,
        })
    }

    /// Adds a state constraint (TLC's `CONSTRAINT`): states for which it is false are counted
    /// and checked but not explored — for example "every Lamport clock ≤ C".
    pub fn with_constraint(
        mut self,
        constraint: impl Fn(&ClusterState<N>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.constraint = Some(Box::new(constraint));
        self
    }

    /// The initial state.
    pub fn initial_state(&self) -> &ClusterState<N> {
        &self.initial
    }

    /// Takes `action` in `state`, leaving the effects it caused in `out`.
    pub fn step(
        &self,
        state: &ClusterState<N>,
        action: &ClusterAction<N::Message>,
        out: &mut Outbox<N::Message>,
    ) -> Result<ClusterState<N>, String> {
        let mut next = state.clone();
        out.clear();
        let n = next.n();
        let actor = match action {
            ClusterAction::Request(id) => {
                let i = id.index();
                let slot = &mut next.slots[i];
                slot.node_mut()
                    .request(out)
                    .map_err(|e| format!("{id} rejected the request: {e}"))?;
                slot.phase = Phase::Requesting;
                slot.remaining = slot.remaining.saturating_sub(1);
                i
            }
            ClusterAction::Release(id) => {
                let i = id.index();
                let slot = &mut next.slots[i];
                slot.node_mut()
                    .release(out)
                    .map_err(|e| format!("{id} rejected the release: {e}"))?;
                slot.phase = Phase::Idle;
                i
            }
            ClusterAction::Deliver { from, to, msg } => {
                let (f, t) = (from.index(), to.index());
                let c = (f * n + t) as u32;
                let at = next
                    .flight
                    .iter()
                    .position(|(ch, m)| *ch == c && m == msg)
                    .ok_or_else(|| format!("no {} in flight from {from} to {to}", label(msg)))?;
                let (_, msg) = next.flight.remove(at);
                next.slots[t]
                    .node_mut()
                    .on_message(*from, msg, out)
                    .map_err(|e| format!("{to} rejected it: {e}"))?;
                t
            }
        };
        next.slots[actor].rehash();
        let me = NodeId(actor as u32);
        for effect in out.effects() {
            match effect {
                Effect::Send { to, msg } => {
                    if *to == me {
                        return Err(format!("{me} sent {} to itself", label(msg)));
                    }
                    if to.index() >= n {
                        return Err(format!("{me} sent {} to {to}, not a member", label(msg)));
                    }
                    next.send((actor * n + to.index()) as u32, msg.clone());
                }
                Effect::Enter => {
                    let slot = &mut next.slots[actor];
                    if slot.phase != Phase::Requesting {
                        return Err(format!(
                            "{me} entered the critical section while {}",
                            slot.phase
                        ));
                    }
                    slot.phase = Phase::InCriticalSection;
                }
            }
        }
        Ok(next)
    }

    /// The enabled actions in `state`, in a fixed order: requests, releases, then deliveries by
    /// channel (sender, then receiver).
    pub fn actions(&self, state: &ClusterState<N>) -> Vec<ClusterAction<N::Message>> {
        let n = state.n() as u32;
        let mut actions = Vec::new();
        for (i, slot) in state.slots.iter().enumerate() {
            if slot.phase == Phase::Idle && slot.remaining > 0 {
                actions.push(ClusterAction::Request(NodeId(i as u32)));
            }
        }
        for (i, slot) in state.slots.iter().enumerate() {
            if slot.phase == Phase::InCriticalSection {
                actions.push(ClusterAction::Release(NodeId(i as u32)));
            }
        }
        let mut previous: Option<&(u32, N::Message)> = None;
        for entry in &state.flight {
            let (c, msg) = entry;
            let deliverable = match previous {
                // The head of its channel.
                None => true,
                Some((pc, _)) if pc != c => true,
                // Without FIFO, any message unlike the one before it (equal messages are
                // adjacent in the canonical order).
                Some((_, pm)) => !state.fifo && pm != msg,
            };
            if deliverable {
                actions.push(ClusterAction::Deliver {
                    from: NodeId(c / n),
                    to: NodeId(c % n),
                    msg: msg.clone(),
                });
            }
            previous = Some(entry);
        }
        actions
    }
}

impl<N: Node> TransitionSystem for Cluster<N> {
    type State = ClusterState<N>;
    type Action = ClusterAction<N::Message>;

    fn initial_states(&self) -> Vec<ClusterState<N>> {
        vec![self.initial.clone()]
    }

    fn next_states(
        &self,
        state: &ClusterState<N>,
        out: &mut Vec<(Self::Action, ClusterState<N>)>,
    ) -> Result<(), StepFailure<Self::Action>> {
        let mut outbox = Outbox::new();
        for action in self.actions(state) {
            match self.step(state, &action, &mut outbox) {
                Ok(next) => out.push((action, next)),
                Err(reason) => return Err(StepFailure { action, reason }),
            }
        }
        Ok(())
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut props = vec![Property::new(
            MUTUAL_EXCLUSION,
            |_: &Self, s: &ClusterState<N>| {
                s.slots
                    .iter()
                    .filter(|slot| slot.phase == Phase::InCriticalSection)
                    .count()
                    <= 1
            },
        )];
        if N::TOKEN_BASED {
            props.push(Property::new(
                TOKEN_UNIQUENESS,
                |_: &Self, s: &ClusterState<N>| token_count(s) == 1,
            ));
        }
        props
    }

    fn work_outstanding(&self, state: &ClusterState<N>) -> bool {
        state.slots.iter().any(|s| s.phase == Phase::Requesting)
    }

    fn within_constraint(&self, state: &ClusterState<N>) -> bool {
        self.constraint.as_ref().is_none_or(|c| c(state))
    }

    fn ample(
        &self,
        state: &ClusterState<N>,
        successors: &[(Self::Action, ClusterState<N>)],
    ) -> Option<Vec<usize>> {
        let n = state.n();
        // Who moves in each successor, and whether the move is visible to the invariants.
        let movers: Vec<usize> = successors
            .iter()
            .map(|(action, _)| match action {
                ClusterAction::Request(id) | ClusterAction::Release(id) => id.index(),
                ClusterAction::Deliver { to, .. } => to.index(),
            })
            .collect();
        let tokens = N::TOKEN_BASED.then(|| token_count(state));
        let in_cs = |s: &ClusterState<N>, i: usize| s.slots[i].phase == Phase::InCriticalSection;
        let visible: Vec<bool> = successors
            .iter()
            .zip(&movers)
            .map(|((_, next), &i)| {
                in_cs(state, i) != in_cs(next, i) || tokens.is_some_and(|t| token_count(next) != t)
            })
            .collect();
        // fed[k * n + x]: a message from k to x is in flight.
        let mut fed = vec![false; n * n];
        for (c, _) in &state.flight {
            fed[*c as usize] = true;
        }
        let mut best: Option<Vec<usize>> = None;
        let mut members = vec![false; n];
        let mut todo = Vec::with_capacity(n);
        for seed in 0..n {
            members.fill(false);
            members[seed] = true;
            todo.push(seed);
            let mut size = 1;
            while let Some(x) = todo.pop() {
                for k in 0..n {
                    if !members[k] && k != x && (!state.fifo || !fed[k * n + x]) {
                        members[k] = true;
                        size += 1;
                        todo.push(k);
                    }
                }
            }
            if size == n {
                continue;
            }
            let chosen: Vec<usize> = (0..successors.len())
                .filter(|&i| members[movers[i]])
                .collect();
            if chosen.is_empty() || chosen.iter().any(|&i| visible[i]) {
                continue;
            }
            if best.as_ref().is_none_or(|b| chosen.len() < b.len()) {
                best = Some(chosen);
            }
        }
        best
    }
}

const MUTUAL_EXCLUSION: &str = "mutual exclusion";
const TOKEN_UNIQUENESS: &str = "token uniqueness";

fn token_count<N: Node>(s: &ClusterState<N>) -> usize {
    let held = s.nodes().filter(|n| n.holds_token()).count();
    let flying = s.flight.iter().filter(|(_, m)| m.carries_token()).count();
    held + flying
}

/// Checks every reachable state of the cluster `nodes` (node `i` must have id `NodeId(i)`),
/// each requesting `config.requests_per_node` times.
pub fn check_cluster<N: Node>(
    nodes: Vec<N>,
    config: &ClusterCheckConfig,
) -> Result<CheckOutcome<N>, Error> {
    let cluster = Cluster::new(nodes, config.requests_per_node, config.fifo)?;
    Ok(check_cluster_system(cluster, config))
}

/// [`check_cluster`] with a state constraint: states where `constraint` is false are counted
/// and checked but not explored (TLC's `CONSTRAINT`), so that protocols with unbounded
/// counters can be checked on a bounded slice.
pub fn check_cluster_constrained<N: Node>(
    nodes: Vec<N>,
    config: &ClusterCheckConfig,
    constraint: impl Fn(&ClusterState<N>) -> bool + Send + Sync + 'static,
) -> Result<CheckOutcome<N>, Error> {
    let cluster =
        Cluster::new(nodes, config.requests_per_node, config.fifo)?.with_constraint(constraint);
    Ok(check_cluster_system(cluster, config))
}

fn check_cluster_system<N: Node>(
    cluster: Cluster<N>,
    config: &ClusterCheckConfig,
) -> CheckOutcome<N> {
    cluster.check(&CheckOptions {
        max_states: config.max_states,
        check_deadlock: config.check_deadlock,
        partial_order_reduction: config.partial_order_reduction,
    })
}

impl<N: Node> Cluster<N> {
    /// Checks every reachable state of this cluster (as [`check_cluster`] does), with its
    /// constraint if it has one.
    pub fn check(&self, options: &CheckOptions) -> CheckOutcome<N> {
        let result = check(self, options);
        let trace = match &result.verdict {
            Verdict::Violation(cx) => render_trace(self, cx),
            _ => Vec::new(),
        };
        CheckOutcome {
            nodes: self.initial.n(),
            config: ClusterCheckConfig {
                requests_per_node: self.requests_per_node,
                fifo: self.initial.fifo,
                max_states: options.max_states,
                check_deadlock: options.check_deadlock,
                partial_order_reduction: options.partial_order_reduction,
            },
            verdict: result.verdict,
            stats: result.stats,
            trace,
        }
    }
}

/// One numbered line per step ("3. n1 receives REQUEST(ts=2) from n0 → sends REPLY to n0"),
/// each followed by an indented summary of the state after it.
fn render_trace<N: Node>(
    cluster: &Cluster<N>,
    cx: &Counterexample<ClusterAction<N::Message>, ClusterState<N>>,
) -> Vec<String> {
    let mut lines = vec![format!("0. start: {}", cx.initial.summary())];
    let mut out = Outbox::new();
    let mut before = &cx.initial;
    for (i, step) in cx.steps.iter().enumerate() {
        let _ = cluster.step(before, &step.action, &mut out);
        lines.push(format!(
            "{}. {}{}",
            i + 1,
            step.action,
            effects(out.effects())
        ));
        lines.push(format!("     {}", step.state.summary()));
        before = &step.state;
    }
    if let ViolationKind::StepFailed(fail) = &cx.kind {
        lines.push(format!(
            "{}. {} ✗ {}",
            cx.steps.len() + 1,
            fail.action,
            fail.reason
        ));
    }
    lines
}

/// " → sends REQUEST(ts=1) to n1 and n2, enters the critical section".
fn effects<M: Message>(effects: &[Effect<M>]) -> String {
    let mut parts: Vec<(String, Vec<NodeId>)> = Vec::new();
    let mut entered = false;
    for e in effects {
        match e {
            Effect::Send { to, msg } => {
                let l = label(msg);
                match parts.iter_mut().find(|(x, _)| *x == l) {
                    Some((_, tos)) => tos.push(*to),
                    None => parts.push((l, vec![*to])),
                }
            }
            Effect::Enter => entered = true,
        }
    }
    let mut words: Vec<String> = parts
        .into_iter()
        .map(|(l, tos)| format!("sends {l} to {}", list(&tos)))
        .collect();
    if entered {
        words.push("enters the critical section".into());
    }
    if words.is_empty() {
        String::new()
    } else {
        format!(" → {}", words.join(", "))
    }
}

/// The result of [`check_cluster`]. Its `Display` is a report a person can follow: the verdict,
/// the shortest counterexample step by step, and the figures.
pub struct CheckOutcome<N: Node> {
    /// The number of nodes.
    pub nodes: usize,
    /// The configuration checked.
    pub config: ClusterCheckConfig,
    /// How the search ended, with the counterexample if any.
    pub verdict: Verdict<ClusterAction<N::Message>, ClusterState<N>>,
    /// States, transitions, depth, time.
    pub stats: Stats,
    /// The counterexample as numbered lines (empty without a violation).
    pub trace: Vec<String>,
}

impl<N: Node> CheckOutcome<N> {
    /// Whether a violation was found (a reached bound is not a violation).
    pub fn is_violation(&self) -> bool {
        matches!(self.verdict, Verdict::Violation(_))
    }

    /// The counterexample, if a violation was found.
    pub fn counterexample(
        &self,
    ) -> Option<&Counterexample<ClusterAction<N::Message>, ClusterState<N>>> {
        match &self.verdict {
            Verdict::Violation(cx) => Some(cx),
            _ => None,
        }
    }

    /// What was violated, in words, if anything was.
    pub fn description(&self) -> Option<String> {
        let cx = self.counterexample()?;
        let last = cx.last_state();
        Some(match &cx.kind {
            ViolationKind::Invariant { property } if *property == MUTUAL_EXCLUSION => format!(
                "safety violation: {} are in the critical section at once",
                list(&last.in_critical_section())
            ),
            ViolationKind::Invariant { property } if *property == TOKEN_UNIQUENESS => format!(
                "token violation: {} tokens exist (held or in flight)",
                token_count(last)
            ),
            ViolationKind::Invariant { property } => format!("{property} violated"),
            ViolationKind::Deadlock => {
                let waits: Vec<String> = last
                    .requesting()
                    .into_iter()
                    .map(|id| {
                        let on = last.node(id).map(Node::waiting_for).unwrap_or_default();
                        if on.is_empty() {
                            format!("{id} waits")
                        } else {
                            format!("{id} waits for {}", list(&on))
                        }
                    })
                    .collect();
                format!(
                    "deadlock: no move left while requests are outstanding ({})",
                    waits.join("; ")
                )
            }
            ViolationKind::StepFailed(fail) => {
                format!("protocol error: {}: {}", fail.action, fail.reason)
            }
        })
    }

    /// A serializable summary, for `dme check --json`.
    pub fn summary(&self) -> CheckSummary {
        let violation = self.counterexample().map(|cx| ViolationSummary {
            kind: match &cx.kind {
                ViolationKind::Invariant { property } if *property == MUTUAL_EXCLUSION => "safety",
                ViolationKind::Invariant { property } if *property == TOKEN_UNIQUENESS => "token",
                ViolationKind::Invariant { .. } => "invariant",
                ViolationKind::Deadlock => "deadlock",
                ViolationKind::StepFailed(_) => "protocol",
            },
            description: self.description().unwrap_or_default(),
            steps: cx.len(),
            trace: self.trace.clone(),
        });
        CheckSummary {
            nodes: self.nodes,
            requests_per_node: self.config.requests_per_node,
            fifo: self.config.fifo,
            partial_order_reduction: self.config.partial_order_reduction,
            max_states: self.config.max_states,
            verdict: match self.verdict {
                Verdict::NoViolation => "no_violation",
                Verdict::BoundReached => "bound_reached",
                Verdict::Violation(_) => "violation",
            },
            violation,
            distinct_states: self.stats.distinct_states,
            states_generated: self.stats.states_generated,
            transitions: self.stats.transitions,
            depth: self.stats.depth,
            elapsed_seconds: self.stats.elapsed.as_secs_f64(),
            states_per_second: self.stats.states_per_second(),
        }
    }
}

impl<N: Node> fmt::Display for CheckOutcome<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = format!(
            "{} nodes, {} request{} each, {} channels",
            self.nodes,
            self.config.requests_per_node,
            if self.config.requests_per_node == 1 {
                ""
            } else {
                "s"
            },
            if self.config.fifo { "FIFO" } else { "non-FIFO" }
        );
        match &self.verdict {
            Verdict::NoViolation => {
                writeln!(f, "no violation: every reachable state explored ({scope})")?
            }
            Verdict::BoundReached => writeln!(
                f,
                "bound reached, no violation within it: stopped at {} distinct states ({scope})",
                self.stats.distinct_states
            )?,
            Verdict::Violation(cx) => {
                writeln!(f, "{}", self.description().unwrap_or_default())?;
                let shortest = if self.config.partial_order_reduction {
                    "counterexample (partial-order reduced, not necessarily shortest)"
                } else {
                    "shortest counterexample"
                };
                writeln!(f, "{shortest}, {} steps ({scope}):", cx.len())?;
                for line in &self.trace {
                    writeln!(f, "  {line}")?;
                }
            }
        }
        write!(f, "{}", self.stats)
    }
}

impl<N: Node> fmt::Debug for CheckOutcome<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The serializable summary of a [`CheckOutcome`].
#[derive(Clone, PartialEq, Debug, Serialize)]
pub struct CheckSummary {
    /// The number of nodes.
    pub nodes: usize,
    /// Requests per node.
    pub requests_per_node: u32,
    /// Whether channels were FIFO.
    pub fifo: bool,
    /// Whether partial-order reduction was on (the figures then count the reduced graph).
    pub partial_order_reduction: bool,
    /// The state limit, if any.
    pub max_states: Option<u64>,
    /// `"no_violation"`, `"bound_reached"` or `"violation"`.
    pub verdict: &'static str,
    /// The violation, if one was found.
    pub violation: Option<ViolationSummary>,
    /// Distinct states stored.
    pub distinct_states: u64,
    /// States generated (TLC's count: every successor computed, plus the initial state).
    pub states_generated: u64,
    /// Transitions explored.
    pub transitions: u64,
    /// Depth in TLC's sense (the initial state is depth 1).
    pub depth: u64,
    /// Wall-clock seconds.
    pub elapsed_seconds: f64,
    /// Distinct states per second.
    pub states_per_second: f64,
}

/// A violation, for [`CheckSummary`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct ViolationSummary {
    /// `"safety"`, `"token"`, `"deadlock"`, `"protocol"` or `"invariant"`.
    pub kind: &'static str,
    /// What was violated, in words.
    pub description: String,
    /// The counterexample's length in steps.
    pub steps: usize,
    /// The counterexample, one line per step (each followed by a state summary line).
    pub trace: Vec<String>,
}
