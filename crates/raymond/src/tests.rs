//! Hand-driven tests of the node, and a small in-crate network that delivers messages in random
//! order (no FIFO) to check the token's uniqueness and that every request is served.

use super::*;
use RaymondMessage::{Privilege, Request};
use dme_core::Effect;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn n(i: u32) -> NodeId {
    NodeId(i)
}

/// The effects in `out`, drained: sends as `Some((to, msg))`, Enter as `None`.
fn effects(out: &mut Outbox<RaymondMessage>) -> Vec<Option<(NodeId, RaymondMessage)>> {
    out.drain()
        .map(|e| match e {
            Effect::Send { to, msg } => Some((to, msg)),
            Effect::Enter => None,
        })
        .collect()
}

/// A network of in-flight messages `(from, to, msg)`, delivered in the order asked for.
struct Net {
    nodes: Vec<Raymond>,
    in_flight: Vec<(NodeId, NodeId, RaymondMessage)>,
    out: Outbox<RaymondMessage>,
    sent: usize,
    entries: Vec<NodeId>,
}

impl Net {
    fn new(tree: &Tree, holder: NodeId) -> Net {
        Net {
            nodes: Raymond::cluster(tree, holder).unwrap(),
            in_flight: Vec::new(),
            out: Outbox::new(),
            sent: 0,
            entries: Vec::new(),
        }
    }

    fn apply(&mut self, from: NodeId) {
        for e in self.out.drain() {
            match e {
                Effect::Send { to, msg } => {
                    assert_ne!(to, from, "a message to oneself");
                    self.sent += 1;
                    self.in_flight.push((from, to, msg));
                }
                Effect::Enter => self.entries.push(from),
            }
        }
    }

    fn request(&mut self, i: u32) {
        self.nodes[i as usize].request(&mut self.out).unwrap();
        self.apply(n(i));
    }

    fn release(&mut self, i: u32) {
        self.nodes[i as usize].release(&mut self.out).unwrap();
        self.apply(n(i));
    }

    /// Delivers the `k`-th in-flight message.
    fn deliver(&mut self, k: usize) {
        let (from, to, msg) = self.in_flight.remove(k);
        self.nodes[to.index()]
            .on_message(from, msg, &mut self.out)
            .unwrap();
        self.apply(to);
    }

    /// Delivers messages oldest first until none is in flight.
    fn settle(&mut self) {
        while !self.in_flight.is_empty() {
            self.deliver(0);
        }
    }

    fn tokens(&self) -> usize {
        self.nodes.iter().filter(|x| x.holds_token()).count()
            + self
                .in_flight
                .iter()
                .filter(|(_, _, m)| m.carries_token())
                .count()
    }
}

#[test]
fn single_node_cluster_enters_without_messages() {
    let mut a = Raymond::new(n(0), &[], n(0)).unwrap();
    let mut out = Outbox::new();
    a.request(&mut out).unwrap();
    assert_eq!(effects(&mut out), vec![None]);
    assert_eq!(a.phase(), Phase::InCriticalSection);
    assert!(a.holds_token() && a.using());
    a.release(&mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(a.phase(), Phase::Idle);
}

#[test]
fn constructors_validate_their_input() {
    assert!(
        Raymond::new(n(0), &[n(1), n(0)], n(0)).is_err(),
        "self as neighbour"
    );
    assert!(
        Raymond::new(n(0), &[n(1), n(1)], n(0)).is_err(),
        "duplicate"
    );
    assert!(
        Raymond::new(n(0), &[n(1)], n(2)).is_err(),
        "HOLDER not a neighbour"
    );
    assert!(
        Raymond::new(n(0), &[], n(1)).is_err(),
        "lone node without token"
    );
    let a = Raymond::new(n(3), &[n(5), n(1)], n(5)).unwrap();
    assert_eq!(a.neighbours(), &[n(1), n(5)]);
    assert_eq!(a.holder(), n(5));
    assert!(!a.holds_token());

    let tree = Tree::binary(7).unwrap();
    assert!(Raymond::cluster(&tree, n(7)).is_err());
    assert!(Raymond::from_tree(&tree, n(9), n(0)).is_err());
    let nodes = Raymond::cluster(&tree, n(4)).unwrap();
    let holders: Vec<NodeId> = nodes.iter().map(Raymond::holder).collect();
    // The HOLDER pointers lead to 4: 0→1, 1→4, 2→0, 3→1, 4 itself, 5→2, 6→2.
    assert_eq!(holders, vec![n(1), n(4), n(0), n(1), n(4), n(2), n(2)]);
    assert_eq!(nodes.iter().filter(|x| x.holds_token()).count(), 1);
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    // Line 0 – 1 – 2, token at 0; node 1 has asked 0 on behalf of itself.
    let tree = Tree::line(3).unwrap();
    let mut nodes = Raymond::cluster(&tree, n(0)).unwrap();
    let mut out = Outbox::new();
    assert_eq!(nodes[1].release(&mut out), Err(Error::NotInCriticalSection));
    nodes[1].request(&mut out).unwrap();
    assert_eq!(effects(&mut out), vec![Some((n(0), Request))]);
    nodes[1].on_message(n(2), Request, &mut out).unwrap();
    assert!(out.is_empty(), "already ASKED");
    let before = nodes[1].clone();
    let bad = [
        (n(1), Request, Error::NotAMember(n(1))),
        (n(7), Request, Error::NotAMember(n(7))),
        (n(3), Privilege, Error::NotAMember(n(3))),
    ];
    for (from, msg, err) in bad {
        assert_eq!(nodes[1].on_message(from, msg, &mut out), Err(err));
    }
    assert_eq!(nodes[1].request(&mut out), Err(Error::AlreadyRequesting));
    let unexpected = |r: Result<(), Error>| matches!(r, Err(Error::UnexpectedMessage { .. }));
    assert!(
        unexpected(nodes[1].on_message(n(2), Request, &mut out)),
        "REQUEST twice"
    );
    assert!(
        unexpected(nodes[1].on_message(n(2), Privilege, &mut out)),
        "token not from HOLDER"
    );
    assert_eq!(nodes[1], before);
    assert!(out.is_empty());

    // A second token at the holder, and a token nobody asked for.
    assert!(unexpected(nodes[0].on_message(n(1), Privilege, &mut out)));
    let mut idle = Raymond::cluster(&tree, n(0)).unwrap();
    assert!(unexpected(idle[1].on_message(n(0), Privilege, &mut out)));
    assert_eq!(idle, Raymond::cluster(&tree, n(0)).unwrap());
    assert!(out.is_empty());
}

#[test]
fn light_load_costs_two_messages_per_hop_on_a_line() {
    let tree = Tree::line(4).unwrap();
    let mut net = Net::new(&tree, n(0));
    net.request(3);
    assert_eq!(net.nodes[3].waiting_for(), vec![n(2)]);
    net.settle();
    assert_eq!(net.entries, vec![n(3)]);
    assert_eq!(net.sent, 6, "3 REQUESTs up, 3 TOKEN hops down");
    net.release(3);
    assert_eq!(net.sent, 6, "the token stays at 3");
    let pointers: Vec<NodeId> = net.nodes.iter().map(Raymond::holder).collect();
    assert_eq!(pointers, vec![n(1), n(2), n(3), n(3)]);

    net.request(3);
    assert_eq!(net.sent, 6, "the holder enters without messages");
    assert_eq!(net.entries, vec![n(3), n(3)]);
    assert!(net.nodes[3].waiting_for().is_empty());
    net.release(3);
    net.request(1);
    net.settle();
    assert_eq!(net.sent, 6 + 4);
    assert_eq!(net.entries.last(), Some(&n(1)));
    assert_eq!(net.tokens(), 1);
}

#[test]
fn request_queue_is_served_in_fifo_order_and_the_holder_asks_back() {
    // Star with centre 0 holding the token; 0 is in the critical section.
    let tree = Tree::star(4).unwrap();
    let mut net = Net::new(&tree, n(0));
    net.request(0);
    for leaf in [2, 3, 1] {
        net.request(leaf);
    }
    net.settle();
    assert_eq!(
        net.nodes[0]
            .request_queue()
            .iter()
            .copied()
            .collect::<Vec<_>>(),
        vec![n(2), n(3), n(1)]
    );
    let mut out = Outbox::new();
    let mut centre = net.nodes[0].clone();
    centre.release(&mut out).unwrap();
    // PRIVILEGE to the head, then at once a REQUEST after it for the rest of the queue.
    assert_eq!(
        effects(&mut out),
        vec![Some((n(2), Privilege)), Some((n(2), Request))]
    );
    assert!(centre.asked());
    assert_eq!(centre.holder(), n(2));

    net.release(0);
    for leaf in [2, 3, 1] {
        net.settle();
        assert_eq!(net.entries.last(), Some(&n(leaf)));
        net.release(leaf);
    }
    net.settle();
    assert_eq!(net.entries, vec![n(0), n(2), n(3), n(1)]);
    // 3 REQUESTs; 0→2 PRIVILEGE+REQUEST; 2→0; 0→3 PRIVILEGE+REQUEST; 3→0; 0→1.
    assert_eq!(net.sent, 3 + 2 + 1 + 2 + 1 + 1);
    assert_eq!(net.tokens(), 1);
}

#[test]
fn a_request_overtaking_the_privilege_is_harmless() {
    // Line 0 – 1 – 2, token at 1, which is in the critical section; 0 and 2 both ask 1.
    let tree = Tree::line(3).unwrap();
    let mut net = Net::new(&tree, n(1));
    net.request(1);
    net.request(0);
    net.request(2);
    net.settle();
    net.release(1);
    // 1 sends PRIVILEGE to 0 and then a REQUEST on behalf of 2; deliver the REQUEST first.
    assert_eq!(
        net.in_flight,
        vec![(n(1), n(0), Privilege), (n(1), n(0), Request)]
    );
    net.deliver(1);
    // 0 has ASKED already: it only enqueues 1 and sends nothing.
    assert_eq!(net.in_flight, vec![(n(1), n(0), Privilege)]);
    assert_eq!(net.nodes[0].request_queue(), &VecDeque::from([n(0), n(1)]));
    net.deliver(0);
    assert_eq!(net.entries, vec![n(1), n(0)]);
    net.release(0);
    net.settle();
    assert_eq!(net.entries, vec![n(1), n(0), n(2)]);
    assert_eq!(net.tokens(), 1);
}

/// Random requests and releases, messages delivered in random order (no FIFO): at every step
/// at most one node is in the critical section and exactly one token exists; at the end every
/// request has been served.
#[test]
fn random_schedules_keep_one_token_and_serve_every_request() {
    for seed in 0..300u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let size = rng.random_range(1..=9usize);
        let tree = Tree::random(size, seed).unwrap();
        let holder = n(rng.random_range(0..size as u32));
        let mut net = Net::new(&tree, holder);
        let mut budget = 4 * size;
        let mut requests = 0;
        loop {
            let in_cs: Vec<u32> = (0..size as u32)
                .filter(|&i| net.nodes[i as usize].phase() == Phase::InCriticalSection)
                .collect();
            assert!(in_cs.len() <= 1, "seed {seed}: safety");
            assert_eq!(net.tokens(), 1, "seed {seed}: token");
            let idle: Vec<u32> = (0..size as u32)
                .filter(|&i| net.nodes[i as usize].phase() == Phase::Idle)
                .collect();
            let mut moves = net.in_flight.len();
            let can_request = budget > 0 && !idle.is_empty();
            moves += usize::from(can_request) + in_cs.len();
            if moves == 0 {
                break;
            }
            let pick = rng.random_range(0..moves);
            if pick < net.in_flight.len() {
                net.deliver(pick);
            } else if can_request && pick == net.in_flight.len() {
                net.request(idle[rng.random_range(0..idle.len())]);
                budget -= 1;
                requests += 1;
            } else {
                net.release(in_cs[0]);
            }
        }
        assert_eq!(net.entries.len(), requests, "seed {seed}: liveness");
        assert!(
            net.nodes
                .iter()
                .all(|x| x.phase() == Phase::Idle && x.request_queue().is_empty()),
            "seed {seed}"
        );
    }
}
