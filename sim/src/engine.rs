//! The event loop.

use std::cmp::Ordering;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};

use dme_core::{Effect, Message, Node, NodeId, Outbox, Phase};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::config::{Config, MAX_TIME, Workload};
use crate::report::{EntryRecord, Failure, FailureKind, Report, Stats};
use crate::trace::{EventKind, MessageInfo, StableHasher, TraceEvent};
use crate::waits::wait_for_cycle;

/// A configuration that cannot be run with the nodes given.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SimError(pub String);

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SimError {}

/// Runs `nodes` (node `i` must have id `NodeId(i)`) under `config` to completion: until no
/// event is left, the first failed check, or `config.max_time`.
///
/// The same nodes and configuration always give the same run, event for event; the report's
/// [`digest`](Report::digest) fingerprints it.
///
/// Errors: a configuration [`Config::validate`] refuses, nodes not numbered `0..n` or not idle,
/// and a run whose virtual clock would pass [`MAX_TIME`] (it stops there: no report is made
/// of a run whose times cannot be represented).
pub fn run<N: Node>(nodes: Vec<N>, config: &Config) -> Result<Report, SimError> {
    let mut sim = Sim::new(nodes, config)?;
    sim.start();
    sim.event_loop();
    if let Some(why) = sim.overflow.take() {
        return Err(SimError(why));
    }
    Ok(sim.finish())
}

/// A scheduled event. The queue pops the smallest `(time, seq)` first, so simultaneous events
/// run in the order they were scheduled.
struct Queued<M> {
    time: u64,
    seq: u64,
    event: Event<M>,
}

enum Event<M> {
    Deliver {
        from: u32,
        to: u32,
        msg: M,
        sent_at: u64,
        pair_seq: u32,
    },
    Request {
        node: u32,
        cs_time: u64,
    },
    Release {
        node: u32,
    },
}

impl<M> PartialEq for Queued<M> {
    fn eq(&self, other: &Self) -> bool {
        (self.time, self.seq) == (other.time, other.seq)
    }
}
impl<M> Eq for Queued<M> {}
impl<M> PartialOrd for Queued<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Queued<M> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest event.
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A value per ordered pair of nodes (`from * n + to`), zero until set: a flat array for
/// clusters of up to [`DENSE_PAIRS`] pairs, a map holding only the pairs that ever exchanged a
/// message above that (a million-node tree would otherwise need a trillion entries). The map is
/// only ever looked up, never iterated, so it cannot make a run depend on hashing order.
enum PairTable<T> {
    Dense(Vec<T>),
    Sparse(HashMap<usize, T>),
}

/// Pairs kept in a flat array: 4096 nodes, 128 MiB of `u64`s at most.
const DENSE_PAIRS: usize = 4096 * 4096;

impl<T: Copy + Default> PairTable<T> {
    fn new(pairs: usize) -> Self {
        if pairs <= DENSE_PAIRS {
            PairTable::Dense(vec![T::default(); pairs])
        } else {
            PairTable::Sparse(HashMap::new())
        }
    }

    #[inline]
    fn get(&self, pair: usize) -> T {
        match self {
            PairTable::Dense(v) => v[pair],
            PairTable::Sparse(m) => m.get(&pair).copied().unwrap_or_default(),
        }
    }

    #[inline]
    fn set(&mut self, pair: usize, value: T) {
        match self {
            PairTable::Dense(v) => v[pair] = value,
            PairTable::Sparse(m) => {
                m.insert(pair, value);
            }
        }
    }
}

/// An event as recorded in the trace, before it is rendered for people.
#[derive(Clone, Hash)]
enum Logged<M> {
    Request(u32),
    Enter(u32),
    Exit(u32),
    Send {
        from: u32,
        to: u32,
        msg: M,
        deliver_at: u64,
    },
    Deliver {
        from: u32,
        to: u32,
        msg: M,
        sent_at: u64,
        overtook: bool,
    },
}

struct Sim<'c, N: Node> {
    config: &'c Config,
    n: usize,
    nodes: Vec<N>,
    out: Outbox<N::Message>,
    rng: ChaCha8Rng,
    queue: BinaryHeap<Queued<N::Message>>,
    seq: u64,
    now: u64,
    events: u64,

    // Network.
    in_flight: u64,
    /// With FIFO: the latest delivery time scheduled on each ordered pair (`from * n + to`).
    fifo_last: PairTable<u64>,
    /// Without FIFO: messages sent so far on each pair, the oldest still in flight, and the
    /// messages delivered ahead of it (to mark overtaking deliveries in the trace).
    pair_sent: PairTable<u32>,
    pair_next: PairTable<u32>,
    delivered_ahead: BTreeSet<(usize, u32)>,

    // Workload.
    remaining: Vec<u32>,
    script_backlog: Vec<VecDeque<u64>>,
    cs_time: Vec<u64>,
    light_request_scheduled: bool,
    active: usize,
    waiting: usize,

    // Checks.
    in_cs: Option<u32>,
    holding: Vec<bool>,
    tokens_held: usize,
    tokens_in_flight: usize,
    failure: Option<(FailureKind, String)>,
    stopped_at_limit: bool,
    /// The clock would have passed [`MAX_TIME`]: what, and when. The run stops.
    overflow: Option<String>,

    // Metrics.
    messages: u64,
    by_kind: Vec<(&'static str, u64)>,
    delivered: u64,
    entries: u64,
    last_exit_with_waiters: Option<u64>,
    sync: Vec<u64>,
    response: Vec<u64>,
    waiting_samples: Vec<u64>,
    open_entry: Vec<Option<usize>>,
    entry_log: Vec<EntryRecord>,

    // Trace.
    digest: StableHasher,
    tail: VecDeque<(u64, Logged<N::Message>)>,
    full: Vec<(u64, Logged<N::Message>)>,
}

impl<'c, N: Node> Sim<'c, N> {
    fn new(nodes: Vec<N>, config: &'c Config) -> Result<Self, SimError> {
        let n = nodes.len();
        if n == 0 {
            return Err(SimError("a cluster needs at least one node".into()));
        }
        if n > u32::MAX as usize / 2 {
            return Err(SimError(format!("{n} nodes is too many")));
        }
        for (i, node) in nodes.iter().enumerate() {
            if node.id() != NodeId(i as u32) {
                return Err(SimError(format!(
                    "node at position {i} has id {}; the simulator needs ids 0..{n} in order",
                    node.id()
                )));
            }
            if node.phase() != Phase::Idle {
                return Err(SimError(format!("{} does not start idle", node.id())));
            }
        }
        config.validate(n).map_err(SimError)?;
        if let Workload::Scripted(s) = &config.workload {
            if let Some(r) = s.requests.iter().find(|r| r.node as usize >= n) {
                return Err(SimError(format!(
                    "scenario names node {} but the cluster has {n} nodes (0..{})",
                    r.node,
                    n - 1
                )));
            }
        }
        let pairs = n.saturating_mul(n);
        let holding: Vec<bool> = if N::TOKEN_BASED {
            nodes.iter().map(|x| x.holds_token()).collect()
        } else {
            Vec::new()
        };
        Ok(Sim {
            config,
            n,
            out: Outbox::new(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            queue: BinaryHeap::new(),
            seq: 0,
            now: 0,
            events: 0,
            in_flight: 0,
            fifo_last: PairTable::new(if config.fifo { pairs } else { 0 }),
            pair_sent: PairTable::new(if config.fifo { 0 } else { pairs }),
            pair_next: PairTable::new(if config.fifo { 0 } else { pairs }),
            delivered_ahead: BTreeSet::new(),
            remaining: vec![config.requests_per_node; n],
            script_backlog: vec![VecDeque::new(); n],
            cs_time: vec![config.cs_time; n],
            light_request_scheduled: false,
            active: 0,
            waiting: 0,
            in_cs: None,
            tokens_held: holding.iter().filter(|h| **h).count(),
            holding,
            tokens_in_flight: 0,
            failure: None,
            stopped_at_limit: false,
            overflow: None,
            messages: 0,
            by_kind: Vec::new(),
            delivered: 0,
            entries: 0,
            last_exit_with_waiters: None,
            sync: Vec::new(),
            response: Vec::new(),
            waiting_samples: Vec::new(),
            open_entry: vec![None; n],
            entry_log: Vec::new(),
            digest: StableHasher::default(),
            tail: VecDeque::with_capacity(config.trace_tail.min(1 << 16)),
            full: Vec::new(),
            nodes,
        })
    }

    fn schedule(&mut self, time: u64, event: Event<N::Message>) {
        self.seq += 1;
        self.queue.push(Queued {
            time,
            seq: self.seq,
            event,
        });
    }

    fn log(&mut self, what: Logged<N::Message>) {
        self.now.hash(&mut self.digest);
        what.hash(&mut self.digest);
        if self.config.full_trace {
            self.full.push((self.now, what.clone()));
        }
        if self.config.trace_tail > 0 {
            if self.tail.len() == self.config.trace_tail {
                self.tail.pop_front();
            }
            self.tail.push_back((self.now, what));
        }
    }

    /// The time `delta` ticks from now, or `None` (and the run stopped with an error) when it
    /// is beyond [`MAX_TIME`].
    #[inline]
    fn later(&mut self, delta: u64, what: &str) -> Option<u64> {
        match self.now.checked_add(delta) {
            Some(t) if t <= MAX_TIME => Some(t),
            _ => {
                self.time_overflow(delta, what);
                None
            }
        }
    }

    #[cold]
    fn time_overflow(&mut self, delta: u64, what: &str) {
        if self.overflow.is_none() {
            self.overflow = Some(format!(
                "virtual time overflow at t={}: {what} of {delta} ticks would end beyond the \
                 simulator's time limit of {MAX_TIME} ticks (2^53); the run is stopped \
                 (shorter delays, cs-time or think times, or fewer requests keep it within)",
                self.now
            ));
        }
    }

    fn fail(&mut self, kind: FailureKind, description: String) {
        if self.failure.is_none() {
            self.failure = Some((kind, description));
        }
    }

    fn start(&mut self) {
        if N::TOKEN_BASED && self.tokens_held != 1 {
            let holders = self.tokens_held;
            self.fail(
                FailureKind::Token,
                format!("{holders} nodes hold the token at the start; exactly one must"),
            );
            return;
        }
        let cs = self.config.cs_time;
        match &self.config.workload {
            Workload::Light => self.schedule_next_light(),
            Workload::Heavy => {
                for i in 0..self.n {
                    if self.take_remaining(i) {
                        self.schedule(
                            0,
                            Event::Request {
                                node: i as u32,
                                cs_time: cs,
                            },
                        );
                    }
                }
            }
            Workload::Random { think } => {
                let think = *think;
                for i in 0..self.n {
                    if self.take_remaining(i) {
                        let think = think.sample(&mut self.rng);
                        let Some(at) = self.later(think, "a think time") else {
                            return;
                        };
                        self.schedule(
                            at,
                            Event::Request {
                                node: i as u32,
                                cs_time: cs,
                            },
                        );
                    }
                }
            }
            Workload::Scripted(scenario) => {
                for r in &scenario.requests {
                    self.seq += 1;
                    self.queue.push(Queued {
                        time: r.at,
                        seq: self.seq,
                        event: Event::Request {
                            node: r.node,
                            cs_time: r.cs_time.unwrap_or(cs),
                        },
                    });
                }
            }
        }
    }

    fn take_remaining(&mut self, i: usize) -> bool {
        if self.remaining[i] == 0 {
            return false;
        }
        self.remaining[i] -= 1;
        true
    }

    /// Light load: once the cluster is quiet, a random node with requests left asks.
    fn schedule_next_light(&mut self) {
        let candidates: Vec<u32> = (0..self.n as u32)
            .filter(|&i| self.remaining[i as usize] > 0)
            .collect();
        if candidates.is_empty() {
            return;
        }
        let pick = candidates[rand::RngExt::random_range(&mut self.rng, 0..candidates.len())];
        self.remaining[pick as usize] -= 1;
        self.light_request_scheduled = true;
        let cs_time = self.config.cs_time;
        self.schedule(
            self.now,
            Event::Request {
                node: pick,
                cs_time,
            },
        );
    }

    fn event_loop(&mut self) {
        while let Some(q) = self.queue.pop() {
            if self.config.max_time.is_some_and(|limit| q.time > limit) {
                self.stopped_at_limit = true;
                self.queue.push(q);
                break;
            }
            self.now = q.time;
            self.events += 1;
            match q.event {
                Event::Deliver {
                    from,
                    to,
                    msg,
                    sent_at,
                    pair_seq,
                } => self.deliver(from, to, msg, sent_at, pair_seq),
                Event::Request { node, cs_time } => {
                    if matches!(self.config.workload, Workload::Light) {
                        self.light_request_scheduled = false;
                    }
                    if self.nodes[node as usize].phase() == Phase::Idle {
                        self.request(node, cs_time);
                    } else {
                        // Scripted requests for a busy node wait until it is idle again.
                        self.script_backlog[node as usize].push_back(cs_time);
                    }
                }
                Event::Release { node } => self.release(node),
            }
            if self.failure.is_some() || self.overflow.is_some() {
                break;
            }
            if matches!(self.config.workload, Workload::Light)
                && self.in_flight == 0
                && self.active == 0
                && !self.light_request_scheduled
            {
                self.schedule_next_light();
            }
        }
    }

    fn deliver(&mut self, from: u32, to: u32, msg: N::Message, sent_at: u64, pair_seq: u32) {
        self.in_flight -= 1;
        self.delivered += 1;
        let overtook = if self.config.fifo {
            false
        } else {
            let pair = from as usize * self.n + to as usize;
            if pair_seq == self.pair_next.get(pair) {
                let mut next = pair_seq + 1;
                while self.delivered_ahead.remove(&(pair, next)) {
                    next += 1;
                }
                self.pair_next.set(pair, next);
                false
            } else {
                self.delivered_ahead.insert((pair, pair_seq));
                true
            }
        };
        if N::TOKEN_BASED && msg.carries_token() {
            self.tokens_in_flight -= 1;
        }
        self.log(Logged::Deliver {
            from,
            to,
            msg: msg.clone(),
            sent_at,
            overtook,
        });
        let mut out = std::mem::take(&mut self.out);
        let result = self.nodes[to as usize].on_message(NodeId(from), msg, &mut out);
        self.apply(to, out, result, "a message");
    }

    fn request(&mut self, node: u32, cs_time: u64) {
        let i = node as usize;
        self.log(Logged::Request(node));
        self.open_entry[i] = Some(self.entry_log.len());
        self.entry_log.push(EntryRecord {
            node: NodeId(node),
            requested_at: self.now,
            entered_at: None,
            exited_at: None,
            messages_before: self.messages,
        });
        self.active += 1;
        self.waiting += 1;
        self.cs_time[i] = cs_time;
        let mut out = std::mem::take(&mut self.out);
        let result = self.nodes[i].request(&mut out);
        self.apply(node, out, result, "a request");
    }

    fn release(&mut self, node: u32) {
        let i = node as usize;
        self.log(Logged::Exit(node));
        self.in_cs = None;
        self.active -= 1;
        if let Some(k) = self.open_entry[i].take() {
            let record = &mut self.entry_log[k];
            record.exited_at = Some(self.now);
            self.response.push(self.now - record.requested_at);
        }
        if self.waiting > 0 {
            self.last_exit_with_waiters = Some(self.now);
        }
        let mut out = std::mem::take(&mut self.out);
        let result = self.nodes[i].release(&mut out);
        self.apply(node, out, result, "a release");
        if self.failure.is_some() {
            return;
        }
        // What the workload does next for this node.
        let cs = self.config.cs_time;
        if let Some(cs_time) = self.script_backlog[i].pop_front() {
            self.schedule(self.now, Event::Request { node, cs_time });
        } else {
            match self.config.workload {
                Workload::Heavy => {
                    if self.take_remaining(i) {
                        self.schedule(self.now, Event::Request { node, cs_time: cs });
                    }
                }
                Workload::Random { think } => {
                    if self.take_remaining(i) {
                        let think = think.sample(&mut self.rng);
                        if let Some(at) = self.later(think, "a think time") {
                            self.schedule(at, Event::Request { node, cs_time: cs });
                        }
                    }
                }
                Workload::Light | Workload::Scripted(_) => {}
            }
        }
    }

    /// Applies the effects a node wrote while handling `input`, and checks the token.
    fn apply(
        &mut self,
        node: u32,
        mut out: Outbox<N::Message>,
        result: Result<(), dme_core::Error>,
        input: &str,
    ) {
        if let Err(e) = result {
            out.clear();
            self.out = out;
            self.fail(
                FailureKind::Protocol,
                format!("n{node} rejected {input}: {e}"),
            );
            return;
        }
        for effect in out.drain() {
            match effect {
                Effect::Send { to, msg } => self.send(node, to, msg),
                Effect::Enter => self.enter(node),
            }
        }
        self.out = out;
        if N::TOKEN_BASED {
            let holds = self.nodes[node as usize].holds_token();
            let held = &mut self.holding[node as usize];
            if holds != *held {
                *held = holds;
                if holds {
                    self.tokens_held += 1;
                } else {
                    self.tokens_held -= 1;
                }
            }
            let total = self.tokens_held + self.tokens_in_flight;
            if total != 1 {
                self.fail(
                    FailureKind::Token,
                    format!(
                        "{total} tokens after n{node} handled {input} ({} held by nodes, {} in flight)",
                        self.tokens_held, self.tokens_in_flight
                    ),
                );
            }
        }
    }

    fn send(&mut self, from: u32, to: NodeId, msg: N::Message) {
        if to.index() >= self.n || to.0 == from {
            let what = if to.0 == from {
                "itself"
            } else {
                "a non-member"
            };
            self.fail(
                FailureKind::Protocol,
                format!("n{from} sent {} to {what} ({to})", msg.kind()),
            );
            return;
        }
        let kind = msg.kind();
        self.messages += 1;
        match self.by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, count)) => *count += 1,
            None => self.by_kind.push((kind, 1)),
        }
        if N::TOKEN_BASED && msg.carries_token() {
            self.tokens_in_flight += 1;
        }
        let pair = from as usize * self.n + to.index();
        let delay = self.config.delay.sample(&mut self.rng);
        let Some(mut deliver_at) = self.later(delay, "a message delay") else {
            return;
        };
        let mut pair_seq = 0;
        if self.config.fifo {
            // Never before the previous message on this pair; equal times keep send order
            // because the queue breaks ties by sequence number.
            deliver_at = deliver_at.max(self.fifo_last.get(pair));
            self.fifo_last.set(pair, deliver_at);
        } else {
            pair_seq = self.pair_sent.get(pair);
            self.pair_sent.set(pair, pair_seq + 1);
        }
        self.in_flight += 1;
        self.log(Logged::Send {
            from,
            to: to.0,
            msg: msg.clone(),
            deliver_at,
        });
        self.schedule(
            deliver_at,
            Event::Deliver {
                from,
                to: to.0,
                msg,
                sent_at: self.now,
                pair_seq,
            },
        );
    }

    fn enter(&mut self, node: u32) {
        let i = node as usize;
        self.log(Logged::Enter(node));
        if let Some(other) = self.in_cs {
            self.fail(
                FailureKind::Safety,
                format!("n{node} entered the critical section while n{other} is in it"),
            );
            return;
        }
        if N::GRANTS_IN_STAMP_ORDER {
            if let Some(mine) = self.nodes[i].request_stamp() {
                let earlier = self
                    .nodes
                    .iter()
                    .filter(|x| x.id().0 != node && x.phase() == Phase::Requesting)
                    .filter_map(|x| x.request_stamp())
                    .filter(|s| *s < mine)
                    .min();
                if let Some(s) = earlier {
                    self.fail(
                        FailureKind::Order,
                        format!(
                            "n{node} entered with request {mine} while {}'s earlier request {s} waits",
                            s.node
                        ),
                    );
                    return;
                }
            }
        }
        self.in_cs = Some(node);
        self.waiting -= 1;
        self.entries += 1;
        if let Some(t) = self.last_exit_with_waiters.take() {
            self.sync.push(self.now - t);
        }
        if let Some(k) = self.open_entry[i] {
            let record = &mut self.entry_log[k];
            record.entered_at = Some(self.now);
            self.waiting_samples.push(self.now - record.requested_at);
        }
        if let Some(at) = self.later(self.cs_time[i], "a critical section") {
            self.schedule(at, Event::Release { node });
        }
    }

    fn liveness(&mut self) {
        if self.failure.is_some() {
            return;
        }
        let backlog: usize = self.script_backlog.iter().map(VecDeque::len).sum();
        if self.waiting == 0 && backlog == 0 {
            return;
        }
        let mut waits = Vec::new();
        for x in &self.nodes {
            if x.phase() == Phase::Requesting {
                let on: Vec<String> = x.waiting_for().iter().map(|w| w.to_string()).collect();
                waits.push(format!("{} waits for [{}]", x.id(), on.join(", ")));
            }
            if let Some(k) = x.locked_for() {
                if k != x.id() {
                    waits.push(format!("{} is locked for {k}", x.id()));
                }
            }
        }
        let what = if self.stopped_at_limit {
            format!(
                "time limit t={} reached with {} requests not granted",
                self.config.max_time.unwrap_or(0),
                self.waiting + backlog
            )
        } else {
            format!(
                "deadlock: no event left while {} requests are not granted",
                self.waiting + backlog
            )
        };
        self.fail(
            FailureKind::Liveness,
            format!("{what}; {}", waits.join("; ")),
        );
    }

    fn finish(mut self) -> Report {
        self.liveness();
        let render = |(time, what): (u64, Logged<N::Message>)| -> TraceEvent {
            let info = |m: &N::Message| MessageInfo {
                kind: m.kind().to_string(),
                timestamp: m.timestamp(),
                detail: format!("{m:?}"),
            };
            let kind = match what {
                Logged::Request(n) => EventKind::Request { node: NodeId(n) },
                Logged::Enter(n) => EventKind::Enter { node: NodeId(n) },
                Logged::Exit(n) => EventKind::Exit { node: NodeId(n) },
                Logged::Send {
                    from,
                    to,
                    msg,
                    deliver_at,
                } => EventKind::Send {
                    from: NodeId(from),
                    to: NodeId(to),
                    message: info(&msg),
                    deliver_at,
                },
                Logged::Deliver {
                    from,
                    to,
                    msg,
                    sent_at,
                    overtook,
                } => EventKind::Deliver {
                    from: NodeId(from),
                    to: NodeId(to),
                    message: info(&msg),
                    sent_at,
                    overtook,
                },
            };
            TraceEvent { time, kind }
        };
        let failure = self.failure.take().map(|(kind, description)| Failure {
            kind,
            description,
            time: self.now,
            seed: self.config.seed,
            last_events: self.tail.drain(..).map(render).collect(),
            wait_for_cycle: if kind == FailureKind::Liveness {
                wait_for_cycle(&self.nodes)
            } else {
                None
            },
        });
        let mut by_kind: Vec<_> = self
            .by_kind
            .iter()
            .map(|(k, c)| (k.to_string(), *c))
            .collect();
        by_kind.sort();
        Report {
            nodes: self.n,
            config: self.config.clone(),
            requests: self.entry_log.len() as u64,
            entries: self.entries,
            messages: self.messages,
            messages_by_kind: by_kind.into_iter().collect(),
            delivered: self.delivered,
            sync_delay: (!self.sync.is_empty()).then(|| Stats::of(std::mem::take(&mut self.sync))),
            response_time: Stats::of(std::mem::take(&mut self.response)),
            waiting_time: Stats::of(std::mem::take(&mut self.waiting_samples)),
            end_time: self.now,
            events: self.events,
            digest: self.digest.finish(),
            failure,
            entry_log: std::mem::take(&mut self.entry_log),
            trace: std::mem::take(&mut self.full)
                .into_iter()
                .map(render)
                .collect(),
        }
    }
}
