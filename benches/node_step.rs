//! Time of one node step: nanoseconds per handled message, for every registered algorithm at
//! N = 64.
//!
//! A minimal driver (no simulator: a FIFO queue of messages in flight and one reusable
//! [`Outbox`]) runs light-load rounds: a node requests, every message is handed to its
//! destination until none is left, the node (now in the critical section) releases, and again
//! every message is delivered. Requesters go round the cluster in a fixed order (so Raymond's
//! token travels). One criterion iteration is one delivered message, `Node::on_message` with
//! the outbox drained into the queue, plus its share of the `request`/`release` calls that
//! start and end each round: the time per iteration is the cost of a node step as a driver
//! sees it.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use dme_core::{Effect, Node, NodeId, Outbox, Phase};
use dme_registry::{ClusterSpec, ClusterVisitor, Registry, builtin};

/// Light-load rounds, one message at a time.
struct Driver<N: Node> {
    nodes: Vec<N>,
    queue: VecDeque<(NodeId, NodeId, N::Message)>,
    out: Outbox<N::Message>,
    /// The node whose request is being served.
    current: Option<usize>,
    /// Requests issued so far (picks the next requester).
    rounds: usize,
}

impl<N: Node> Driver<N> {
    fn new(nodes: Vec<N>) -> Self {
        Driver {
            nodes,
            queue: VecDeque::new(),
            out: Outbox::new(),
            current: None,
            rounds: 0,
        }
    }

    /// Moves what node `from` just emitted into the queue.
    fn absorb(&mut self, from: usize) {
        for effect in self.out.drain() {
            if let Effect::Send { to, msg } = effect {
                self.queue.push_back((NodeId(from as u32), to, msg));
            }
        }
    }

    /// Delivers exactly one message, issuing requests and releases as rounds start and end.
    fn step(&mut self) {
        loop {
            if let Some((from, to, msg)) = self.queue.pop_front() {
                self.nodes[to.index()]
                    .on_message(from, msg, &mut self.out)
                    .expect("a correct node accepts the message");
                self.absorb(to.index());
                return;
            }
            match self.current {
                Some(r) => {
                    assert_eq!(
                        self.nodes[r].phase(),
                        Phase::InCriticalSection,
                        "no message left but node {r} was not granted"
                    );
                    self.nodes[r]
                        .release(&mut self.out)
                        .expect("release in the critical section");
                    self.absorb(r);
                    self.current = None;
                }
                None => {
                    // A stride coprime with 64 visits every node.
                    let n = self.nodes.len();
                    let r = (self.rounds * 37 + 1) % n;
                    self.rounds += 1;
                    self.nodes[r]
                        .request(&mut self.out)
                        .expect("an idle node may request");
                    self.absorb(r);
                    self.current = Some(r);
                }
            }
        }
    }
}

struct Bench<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    name: &'static str,
}

impl ClusterVisitor for Bench<'_, '_> {
    type Output = ();
    fn visit<N: Node>(self, nodes: Vec<N>, _structure: String) {
        let mut driver = Driver::new(nodes);
        self.group.bench_function(self.name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    driver.step();
                }
                black_box(&driver.queue);
                started.elapsed()
            })
        });
    }
}

fn node_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("node_step/N=64");
    group
        .throughput(Throughput::Elements(1))
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let registry = builtin();
    for algorithm in registry.main_names() {
        let bench = Bench {
            group: &mut group,
            name: algorithm,
        };
        registry
            .cluster(&ClusterSpec::new(algorithm, 64), bench)
            .expect("the cluster builds");
    }
    group.finish();
}

criterion_group!(benches, node_step);
criterion_main!(benches);
