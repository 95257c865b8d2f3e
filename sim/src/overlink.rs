//! Any algorithm run *over the reliable link* ([`dme_link`]) on a network that loses,
//! duplicates and reorders frames, in virtual time.
//!
//! The engine in [`run`](crate::run) models the channels the algorithms assume (reliable, FIFO
//! or not). This module models what is below them: every ordered pair of nodes talks through a
//! [`dme_link::Link`] at each end, and the frames the links exchange cross a [`LossyNetwork`]
//! that drops some, duplicates some and delays each copy independently (so they overtake each
//! other). The links' retransmission timers are driven by the harness in virtual time: after
//! every step each link's [`poll_timeout`](dme_link::Link::poll_timeout) is scheduled as an
//! event. Nothing here reads a clock or iterates a hash map; the run is a pure function of the
//! nodes and the [`LinkedConfig`], and [`LinkedReport::digest`] fingerprints it.
//!
//! Checked on every run, the first failure ending it:
//!
//! * **safety**: never two nodes in the critical section;
//! * **delivery**: every algorithm message is handed to its receiver exactly once and in sending
//!   order per ordered pair (each carries a per-pair number the harness checks), and none is
//!   left undelivered at the end;
//! * **liveness**: every node is granted all its requests before [`LinkedConfig::max_time`];
//! * **protocol**: a node that rejects an input, or a link that rejects a frame for any reason
//!   other than a gap or a stale copy (which a lossy, reordering network produces), is a bug.
//!
//! It is meant to be reused by fault injection (crashes and partitions would be more event
//! kinds in [`Harness`]); [`LinkedConfig::faulty_receiver`] plants a deliberately broken receiver to
//! show the delivery check works.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::hash::{Hash, Hasher};

use dme_core::{Effect, Node, NodeId, Outbox, Phase};
use dme_link::{Event, Frame, Half, Link, LinkError};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::Dist;
use crate::engine::SimError;
use crate::trace::StableHasher;

/// A network below the links: each frame is dropped with probability `drop_percent` %, else
/// sent twice with probability `duplicate_percent` %, and each copy takes its own `delay`.
#[derive(Clone, PartialEq, Debug)]
pub struct LossyNetwork {
    /// Frames lost, in percent (0–100).
    pub drop_percent: u32,
    /// Frames (not lost) delivered twice, in percent (0–100).
    pub duplicate_percent: u32,
    /// The delay of each copy; a non-constant one reorders frames.
    pub delay: Dist,
}

/// Everything that defines a run over the link besides the nodes.
#[derive(Clone, PartialEq, Debug)]
pub struct LinkedConfig {
    /// The seed of the run's only source of randomness.
    pub seed: u64,
    /// The network below the links.
    pub network: LossyNetwork,
    /// Critical-section entries each node asks for; it asks again `think` after each release.
    pub requests_per_node: u32,
    /// The pause between a release and the next request.
    pub think: Dist,
    /// How long a node holds the critical section.
    pub cs_time: u64,
    /// The links' retransmission timeout, in ticks (at least 1).
    pub retransmit_after: u64,
    /// Virtual time after which outstanding work is a liveness failure.
    pub max_time: u64,
    /// Plant a broken receiver: every `Data` frame is taken as the next one (no
    /// de-duplication, no ordering). For showing that the delivery check catches it.
    pub faulty_receiver: bool,
}

impl Default for LinkedConfig {
    /// N = any, 20 % loss, 10 % duplication, delays uniform over 1..=20 ticks, 5 requests per
    /// node, heavy load.
    fn default() -> Self {
        LinkedConfig {
            seed: 0,
            network: LossyNetwork {
                drop_percent: 20,
                duplicate_percent: 10,
                delay: Dist::Uniform { lo: 1, hi: 20 },
            },
            requests_per_node: 5,
            think: Dist::Constant(0),
            cs_time: 5,
            retransmit_after: 50,
            max_time: 10_000_000,
            faulty_receiver: false,
        }
    }
}

/// Which check failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LinkedFailureKind {
    /// Two nodes in the critical section.
    Safety,
    /// A message delivered twice, out of order, or never.
    Delivery,
    /// Requests outstanding at the end.
    Liveness,
    /// A node or a link rejected an input.
    Protocol,
}

/// The first failed check of a run.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LinkedFailure {
    /// Which check.
    pub kind: LinkedFailureKind,
    /// When.
    pub time: u64,
    /// What happened.
    pub detail: String,
}

impl fmt::Display for LinkedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at t={}: {}", self.kind, self.time, self.detail)
    }
}

/// What a run over the link did.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct LinkedReport {
    /// Critical-section entries.
    pub entries: u64,
    /// Algorithm messages sent by the nodes.
    pub messages: u64,
    /// Algorithm messages delivered to the nodes (exactly once each when the run is ok).
    pub delivered: u64,
    /// Frames the links handed to the network.
    pub frames: u64,
    /// Frames the network lost.
    pub frames_dropped: u64,
    /// Frames the network delivered twice.
    pub frames_duplicated: u64,
    /// Data frames the links sent again after a timeout.
    pub retransmitted: u64,
    /// Data frames the links dropped as duplicates.
    pub duplicates_dropped: u64,
    /// When the last event happened.
    pub end_time: u64,
    /// A fingerprint of every event of the run.
    pub digest: u64,
    /// The first failed check, if any.
    pub failure: Option<LinkedFailure>,
}

impl LinkedReport {
    /// Whether every check held.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
}

/// What a `Data` frame carries: the harness's per-pair number (checked at delivery) and the
/// algorithm's message.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Tagged<M> {
    /// 1, 2, 3, … per ordered pair, in sending order.
    pub n: u64,
    /// The message.
    pub msg: M,
}

enum What<M> {
    Frame {
        from: u32,
        to: u32,
        frame: Frame<Tagged<M>>,
    },
    Timer {
        node: u32,
        peer: u32,
    },
    Request {
        node: u32,
    },
    Release {
        node: u32,
    },
}

/// Runs `nodes` (node `i` must have id `NodeId(i)`) over links on `config.network` until no
/// event is left, the first failed check, or `config.max_time`.
pub fn run_over_link<N: Node>(
    nodes: Vec<N>,
    config: &LinkedConfig,
) -> Result<LinkedReport, SimError> {
    let n = nodes.len();
    for (i, node) in nodes.iter().enumerate() {
        if node.id() != NodeId(i as u32) {
            return Err(SimError(format!("node {i} has id {}", node.id())));
        }
    }
    if config.network.drop_percent > 100 || config.network.duplicate_percent > 100 {
        return Err(SimError("percentages must be at most 100".into()));
    }
    if config.retransmit_after == 0 {
        return Err(SimError("retransmit_after must be at least 1".into()));
    }
    let link_config = dme_link::Config {
        retransmit_after: Some(config.retransmit_after),
        reconnect_initial: 1,
        reconnect_max: 1,
    };
    let mut links = Vec::with_capacity(n);
    for i in 0..n {
        let mut row = BTreeMap::new();
        for j in 0..n {
            if i != j {
                let link = Link::new(NodeId(i as u32), NodeId(j as u32), i as u64, link_config, 0)
                    .map_err(|e| SimError(e.to_string()))?;
                row.insert(j as u32, link);
            }
        }
        links.push(row);
    }
    let mut h = Harness {
        config: config.clone(),
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        queue: BinaryHeap::new(),
        events: BTreeMap::new(),
        next_id: 0,
        now: 0,
        out: Outbox::new(),
        nodes,
        links,
        sent_n: BTreeMap::new(),
        got_n: BTreeMap::new(),
        granted: vec![0; n],
        requested: vec![0; n],
        in_cs: None,
        hasher: StableHasher::default(),
        report: LinkedReport::default(),
    };
    h.run();
    Ok(h.finish())
}

/// The harness's state: the nodes, their links, the event queue, the checks' bookkeeping.
struct Harness<N: Node> {
    config: LinkedConfig,
    rng: ChaCha8Rng,
    /// (time, id) of every pending event, earliest first; ids break ties in scheduling order.
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    events: BTreeMap<u64, What<N::Message>>,
    next_id: u64,
    now: u64,
    out: Outbox<N::Message>,
    nodes: Vec<N>,
    links: Vec<BTreeMap<u32, Link<Tagged<N::Message>>>>,
    sent_n: BTreeMap<(u32, u32), u64>,
    got_n: BTreeMap<(u32, u32), u64>,
    granted: Vec<u32>,
    requested: Vec<u32>,
    in_cs: Option<u32>,
    hasher: StableHasher,
    report: LinkedReport,
}

impl<N: Node> Harness<N> {
    fn schedule(&mut self, at: u64, what: What<N::Message>) {
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push(Reverse((at, id)));
        self.events.insert(id, what);
    }

    fn fail(&mut self, kind: LinkedFailureKind, detail: String) {
        if self.report.failure.is_none() {
            self.report.failure = Some(LinkedFailure {
                kind,
                time: self.now,
                detail,
            });
        }
    }

    fn run(&mut self) {
        for i in 0..self.nodes.len() as u32 {
            self.schedule(0, What::Request { node: i });
            let peers: Vec<u32> = self.links[i as usize].keys().copied().collect();
            for j in peers {
                self.schedule(0, What::Timer { node: i, peer: j });
            }
        }
        while let Some(Reverse((at, id))) = self.queue.pop() {
            if self.report.failure.is_some() {
                return;
            }
            if at > self.config.max_time {
                self.now = self.config.max_time;
                break;
            }
            self.now = at;
            let Some(what) = self.events.remove(&id) else {
                continue;
            };
            self.step(what);
        }
        if self.report.failure.is_some() {
            return;
        }
        // The end: liveness and delivery.
        let unfinished: Vec<String> = (0..self.nodes.len())
            .filter(|&i| {
                self.granted[i] < self.config.requests_per_node
                    || self.nodes[i].phase() != Phase::Idle
            })
            .map(|i| {
                format!(
                    "n{i} ({} of {} granted)",
                    self.granted[i], self.config.requests_per_node
                )
            })
            .collect();
        if !unfinished.is_empty() {
            let detail = format!("requests outstanding: {}", unfinished.join(", "));
            return self.fail(LinkedFailureKind::Liveness, detail);
        }
        for (&(from, to), &sent) in &self.sent_n {
            let got = self.got_n.get(&(from, to)).copied().unwrap_or(0);
            if got != sent {
                let detail = format!("n{from} sent {sent} messages to n{to}, {got} delivered");
                return self.fail(LinkedFailureKind::Delivery, detail);
            }
        }
    }

    fn step(&mut self, what: What<N::Message>) {
        let now = self.now;
        match what {
            What::Request { node } => {
                1u8.hash(&mut self.hasher);
                (now, node).hash(&mut self.hasher);
                self.requested[node as usize] += 1;
                if let Err(e) = self.nodes[node as usize].request(&mut self.out) {
                    return self.fail(LinkedFailureKind::Protocol, format!("n{node} request: {e}"));
                }
                self.effects(node);
            }
            What::Release { node } => {
                2u8.hash(&mut self.hasher);
                (now, node).hash(&mut self.hasher);
                self.in_cs = None;
                if let Err(e) = self.nodes[node as usize].release(&mut self.out) {
                    return self.fail(LinkedFailureKind::Protocol, format!("n{node} release: {e}"));
                }
                self.effects(node);
                if self.requested[node as usize] < self.config.requests_per_node {
                    let think = self.config.think.sample(&mut self.rng);
                    match now.checked_add(think) {
                        Some(at) => self.schedule(at, What::Request { node }),
                        None => self.fail(LinkedFailureKind::Protocol, "time overflow".into()),
                    }
                }
            }
            What::Timer { node, peer } => {
                let Some(link) = self.links[node as usize].get_mut(&peer) else {
                    return;
                };
                if link.poll_timeout().is_some_and(|t| t <= now) {
                    3u8.hash(&mut self.hasher);
                    (now, node, peer).hash(&mut self.hasher);
                    if let Err(e) = link.handle_timeout(now) {
                        return self.fail(
                            LinkedFailureKind::Protocol,
                            format!("n{node} link timer: {e}"),
                        );
                    }
                    self.service(node, peer);
                }
            }
            What::Frame {
                from,
                to,
                mut frame,
            } => {
                4u8.hash(&mut self.hasher);
                (now, from, to, &frame).hash(&mut self.hasher);
                let Some(link) = self.links[to as usize].get_mut(&from) else {
                    return;
                };
                if self.config.faulty_receiver {
                    if let Frame::Data { seq, .. } = &mut frame {
                        *seq = link.delivered() + 1;
                    }
                }
                let via = frame.arrives_on().unwrap_or(Half::Incoming);
                match link.on_frame(now, via, frame) {
                    Ok(()) | Err(LinkError::Gap { .. }) => {}
                    Err(_) if self.config.faulty_receiver => {}
                    Err(e) => {
                        return self.fail(
                            LinkedFailureKind::Protocol,
                            format!("n{to} from n{from}: {e}"),
                        );
                    }
                }
                self.service(to, from);
            }
        }
    }

    /// Applies node `i`'s effects: messages into its links, entries checked for safety.
    fn effects(&mut self, i: u32) {
        let effects: Vec<_> = self.out.drain().collect();
        for effect in effects {
            match effect {
                Effect::Send { to, msg } => {
                    let n = self.sent_n.entry((i, to.0)).or_insert(0);
                    *n += 1;
                    let tagged = Tagged { n: *n, msg };
                    self.report.messages += 1;
                    let Some(link) = self.links[i as usize].get_mut(&to.0) else {
                        return self.fail(
                            LinkedFailureKind::Protocol,
                            format!("n{i} sent to {to}, not a peer"),
                        );
                    };
                    if let Err(e) = link.send(self.now, tagged) {
                        return self.fail(LinkedFailureKind::Protocol, format!("n{i} link: {e}"));
                    }
                    self.service(i, to.0);
                }
                Effect::Enter => {
                    5u8.hash(&mut self.hasher);
                    (self.now, i).hash(&mut self.hasher);
                    if let Some(other) = self.in_cs {
                        return self.fail(
                            LinkedFailureKind::Safety,
                            format!("n{i} enters while n{other} is inside"),
                        );
                    }
                    self.in_cs = Some(i);
                    self.granted[i as usize] += 1;
                    self.report.entries += 1;
                    match self.now.checked_add(self.config.cs_time) {
                        Some(at) => self.schedule(at, What::Release { node: i }),
                        None => self.fail(LinkedFailureKind::Protocol, "time overflow".into()),
                    }
                }
            }
        }
    }

    /// Moves what link (i → j) produced: frames onto the network, deliveries into node i, dials
    /// answered at once (no connections here); then schedules its next deadline.
    fn service(&mut self, i: u32, j: u32) {
        loop {
            let Some(link) = self.links[i as usize].get_mut(&j) else {
                return;
            };
            if let Some(t) = link.poll_transmit() {
                self.transmit(i, j, t.frame);
                continue;
            }
            match link.poll_event() {
                Some(Event::Dial) => {
                    if let Err(e) = link.on_connected(self.now) {
                        return self.fail(LinkedFailureKind::Protocol, format!("n{i} link: {e}"));
                    }
                }
                Some(Event::Deliver { payload, .. }) => {
                    self.report.delivered += 1;
                    let got = self.got_n.entry((j, i)).or_insert(0);
                    if payload.n != *got + 1 {
                        let detail = format!(
                            "n{i} got message {} from n{j} after {} ({})",
                            payload.n,
                            *got,
                            if payload.n <= *got {
                                "a duplicate"
                            } else {
                                "out of order"
                            }
                        );
                        return self.fail(LinkedFailureKind::Delivery, detail);
                    }
                    *got = payload.n;
                    6u8.hash(&mut self.hasher);
                    (self.now, j, i, payload.n).hash(&mut self.hasher);
                    if let Err(e) =
                        self.nodes[i as usize].on_message(NodeId(j), payload.msg, &mut self.out)
                    {
                        return self.fail(
                            LinkedFailureKind::Protocol,
                            format!("n{i} on a message from n{j}: {e}"),
                        );
                    }
                    self.effects(i);
                    if self.report.failure.is_some() {
                        return;
                    }
                }
                Some(Event::Up { .. }) | Some(Event::Refused(_)) => {}
                None => break,
            }
        }
        if let Some(at) = self.links[i as usize]
            .get(&j)
            .and_then(|l| l.poll_timeout())
        {
            // One timer event per deadline; a stale one finds nothing due and does nothing.
            self.schedule(at.max(self.now), What::Timer { node: i, peer: j });
        }
    }

    fn transmit(&mut self, from: u32, to: u32, frame: Frame<Tagged<N::Message>>) {
        self.report.frames += 1;
        let net = &self.config.network;
        if self.rng.random_range(0..100) < net.drop_percent {
            self.report.frames_dropped += 1;
            return;
        }
        let copies = if self.rng.random_range(0..100) < net.duplicate_percent {
            self.report.frames_duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.config.network.delay.sample(&mut self.rng);
            match self.now.checked_add(delay) {
                Some(at) => self.schedule(
                    at,
                    What::Frame {
                        from,
                        to,
                        frame: frame.clone(),
                    },
                ),
                None => self.fail(LinkedFailureKind::Protocol, "time overflow".into()),
            }
        }
    }

    fn finish(mut self) -> LinkedReport {
        for row in &self.links {
            for link in row.values() {
                self.report.retransmitted += link.stats().retransmitted;
                self.report.duplicates_dropped += link.stats().duplicates;
            }
        }
        self.report.end_time = self.now;
        self.report.entries.hash(&mut self.hasher);
        self.report.digest = self.hasher.finish();
        self.report
    }
}
