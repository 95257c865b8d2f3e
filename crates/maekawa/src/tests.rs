//! Hand-driven unit tests: message by message, in orders chosen to hit the races.

use super::*;
use dme_core::{Effect, cluster};

type Msg = MaekawaMessage;

/// A tiny network: messages in flight, delivered in the order the test picks.
struct Net {
    nodes: Vec<Maekawa>,
    flight: Vec<(NodeId, NodeId, Msg)>,
    in_cs: Vec<bool>,
    sent: usize,
}

impl Net {
    fn new(nodes: Vec<Maekawa>) -> Net {
        let n = nodes.len();
        Net {
            nodes,
            flight: Vec::new(),
            in_cs: vec![false; n],
            sent: 0,
        }
    }

    fn absorb(&mut self, from: NodeId, out: &mut Outbox<Msg>) {
        for e in out.drain() {
            match e {
                Effect::Send { to, msg } => {
                    assert_ne!(to, from, "a node never sends to itself");
                    self.sent += 1;
                    self.flight.push((from, to, msg));
                }
                Effect::Enter => {
                    assert!(
                        self.in_cs.iter().all(|c| !c),
                        "{from} enters while another node is in the critical section"
                    );
                    self.in_cs[from.index()] = true;
                }
            }
        }
    }

    fn request(&mut self, i: u32) {
        let mut out = Outbox::new();
        self.nodes[i as usize].request(&mut out).unwrap();
        self.absorb(NodeId(i), &mut out);
    }

    fn release(&mut self, i: u32) {
        let mut out = Outbox::new();
        self.nodes[i as usize].release(&mut out).unwrap();
        self.in_cs[i as usize] = false;
        self.absorb(NodeId(i), &mut out);
    }

    /// Delivers the in-flight message at position `k`.
    fn deliver(&mut self, k: usize) {
        let (from, to, msg) = self.flight.remove(k);
        let mut out = Outbox::new();
        self.nodes[to.index()]
            .on_message(from, msg, &mut out)
            .unwrap_or_else(|e| panic!("{from} -> {to} {msg:?}: {e}"));
        self.absorb(to, &mut out);
    }

    fn kinds(&self) -> Vec<(u32, u32, &'static str)> {
        self.flight
            .iter()
            .map(|(f, t, m)| (f.0, t.0, m.kind()))
            .collect()
    }
}

fn ids(v: &[u32]) -> Vec<NodeId> {
    v.iter().map(|&i| NodeId(i)).collect()
}

/// Three nodes, each arbitrating for itself and the next: S0 = {0,1}, S1 = {1,2}, S2 = {2,0}.
fn triangle(handling: bool) -> Vec<Maekawa> {
    let sets = Quorums::from_sets(vec![ids(&[0, 1]), ids(&[1, 2]), ids(&[0, 2])]).unwrap();
    if handling {
        Maekawa::cluster(&sets).unwrap()
    } else {
        Maekawa::cluster_without_deadlock_handling(&sets).unwrap()
    }
}

#[test]
fn a_single_node_enters_at_once_without_messages() {
    let mut nodes = Maekawa::cluster(&Quorums::new(1, QuorumKind::Auto).unwrap()).unwrap();
    let mut out = Outbox::new();
    nodes[0].request(&mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
    nodes[0].release(&mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(nodes[0].locked_for(), None);
}

#[test]
fn light_load_costs_3_k_minus_1_and_messages_to_oneself_are_never_sent() {
    let q = Quorums::grid(9).unwrap();
    let mut net = Net::new(Maekawa::cluster(&q).unwrap());
    net.request(4);
    assert_eq!(net.sent, 4, "K-1 REQUESTs: the node is its own arbiter");
    assert_eq!(net.nodes[4].locked_for(), Some(NodeId(4)));
    while !net.flight.is_empty() {
        net.deliver(0);
    }
    assert!(net.in_cs[4]);
    assert_eq!(net.sent, 8);
    net.release(4);
    while !net.flight.is_empty() {
        net.deliver(0);
    }
    assert_eq!(net.sent, 12, "3(K-1) with K = 5");
    assert!(net.nodes.iter().all(|n| n.locked_for().is_none()));
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let mut nodes = triangle(true);
    let mut out = Outbox::new();
    let a = &mut nodes[0];
    assert_eq!(a.release(&mut out), Err(Error::NotInCriticalSection));
    a.request(&mut out).unwrap();
    out.clear();
    let before = a.clone();
    let stamp = Stamp::new(1, NodeId(0));
    let bad: Vec<(NodeId, Msg)> = vec![
        (NodeId(7), Msg::Release { request: stamp }),
        (NodeId(0), Msg::Release { request: stamp }),
        // A REPLY from a node outside S0.
        (
            NodeId(2),
            Msg::Reply {
                request: stamp,
                grant: 1,
            },
        ),
        // A REPLY for a request that is not ours.
        (
            NodeId(1),
            Msg::Reply {
                request: Stamp::new(9, NodeId(0)),
                grant: 1,
            },
        ),
        // A RELEASE for a request n0 is not locked for.
        (
            NodeId(2),
            Msg::Release {
                request: Stamp::new(1, NodeId(2)),
            },
        ),
        // A YIELD of a grant n0 did not give.
        (
            NodeId(2),
            Msg::Yield {
                request: Stamp::new(1, NodeId(2)),
                grant: 1,
            },
        ),
        // A REQUEST stamped with someone else's id.
        (
            NodeId(2),
            Msg::Request {
                request: Stamp::new(1, NodeId(1)),
            },
        ),
    ];
    for (from, msg) in bad {
        assert!(a.on_message(from, msg, &mut out).is_err(), "{from} {msg:?}");
        assert_eq!(*a, before);
        assert!(out.is_empty());
    }
    assert_eq!(a.request(&mut out), Err(Error::AlreadyRequesting));
    assert_eq!(*a, before);
    // A second REQUEST from the same requester while its first waits.
    let mut b = nodes[1].clone();
    b.on_message(NodeId(0), Msg::Request { request: stamp }, &mut out)
        .unwrap();
    let b_before = b.clone();
    assert!(
        b.on_message(NodeId(0), Msg::Request { request: stamp }, &mut out)
            .is_err()
    );
    assert_eq!(b, b_before);
    // Bad clusters.
    assert!(Maekawa::new(NodeId(0), &cluster(2), vec![]).is_err());
    assert!(Maekawa::new(NodeId(0), &cluster(2), ids(&[0, 0])).is_err());
    assert!(Maekawa::new(NodeId(0), &cluster(2), ids(&[0, 5])).is_err());
    assert!(Maekawa::new(NodeId(3), &cluster(2), ids(&[0])).is_err());
    // Deadlock-handling messages to a node without it.
    let mut plain = triangle(false);
    assert!(
        plain[0]
            .on_message(
                NodeId(1),
                Msg::Failed {
                    request: stamp,
                    latest_grant: 0
                },
                &mut out
            )
            .is_err()
    );
}

/// The textbook deadlock: each node locks its own permission first, then waits for its
/// neighbour's. Without deadlock handling the three stay stuck forever, each waiting for the
/// next; with it, FAILED / INQUIRE / YIELD resolve it in priority order.
#[test]
fn the_cycle_deadlocks_without_handling_and_resolves_with_it() {
    for handling in [false, true] {
        let mut net = Net::new(triangle(handling));
        for i in 0..3 {
            net.request(i);
        }
        // Every node has locked itself; deliver the REQUESTs.
        assert_eq!(
            net.kinds(),
            vec![(0, 1, "REQUEST"), (1, 2, "REQUEST"), (2, 0, "REQUEST")]
        );
        while !net.flight.is_empty() {
            net.deliver(0);
            if !handling {
                continue;
            }
        }
        if !handling {
            for i in 0..3u32 {
                assert_eq!(net.nodes[i as usize].locked_for(), Some(NodeId(i)));
                assert_eq!(net.nodes[i as usize].phase(), Phase::Requesting);
            }
            assert_eq!(net.nodes[0].waiting_for(), vec![NodeId(1)]);
            assert_eq!(net.nodes[1].waiting_for(), vec![NodeId(2)]);
            assert_eq!(net.nodes[2].waiting_for(), vec![NodeId(0)]);
            continue;
        }
        // With handling, all three get in. Not in stamp order: n0's FAILED makes n2 yield its
        // own permission to n1, whose set {1, 2} is then complete, while n0 still waits for n1.
        let mut order = Vec::new();
        for _ in 0..3 {
            while !net.in_cs.iter().any(|&c| c) {
                assert!(!net.flight.is_empty(), "stuck: {:?}", net.nodes);
                net.deliver(0);
            }
            let who = net.in_cs.iter().position(|&c| c).unwrap() as u32;
            order.push(who);
            net.release(who);
        }
        assert_eq!(order, vec![1, 0, 2]);
        while !net.flight.is_empty() {
            net.deliver(0);
        }
        assert!(
            net.nodes
                .iter()
                .all(|n| n.locked_for().is_none() && n.queued().is_empty())
        );
    }
}

fn sends(out: &mut Outbox<Msg>) -> Vec<(NodeId, Msg)> {
    out.drain()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((to, msg)),
            Effect::Enter => None,
        })
        .collect()
}

/// The races of non-FIFO channels, message by message at one requester with S0 = {0, 1, 2}:
/// an INQUIRE that overtakes the REPLY it refers to is kept and acted on when the REPLY comes;
/// a FAILED overtaken by a later REPLY is ignored; an INQUIRE in or after the critical section
/// is ignored (the RELEASE answers it).
#[test]
fn late_and_early_messages_are_recognised_by_request_and_grant() {
    let mut a = Maekawa::new(NodeId(0), &cluster(3), ids(&[0, 1, 2])).unwrap();
    let mut out = Outbox::new();
    let me = Stamp::new(1, NodeId(0));
    a.request(&mut out).unwrap();
    let req = Msg::Request { request: me };
    assert_eq!(sends(&mut out), vec![(NodeId(1), req), (NodeId(2), req)]);
    assert_eq!(
        a.locked_for(),
        Some(NodeId(0)),
        "its own permission, locally"
    );
    assert_eq!(a.waiting_for(), ids(&[1, 2]));

    // n1's INQUIRE about grant 5 overtakes n1's REPLY 5: kept, nothing to do yet.
    let inquire = Msg::Inquire {
        request: me,
        grant: 5,
    };
    a.on_message(NodeId(1), inquire, &mut out).unwrap();
    assert!(out.is_empty());
    // n2 says FAILED: the request is failing, but grant 5 has not arrived.
    let failed = Msg::Failed {
        request: me,
        latest_grant: 3,
    };
    a.on_message(NodeId(2), failed, &mut out).unwrap();
    assert!(out.is_empty());
    // REPLY 5 arrives: it is yielded at once.
    a.on_message(
        NodeId(1),
        Msg::Reply {
            request: me,
            grant: 5,
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(1),
            Msg::Yield {
                request: me,
                grant: 5
            }
        )]
    );
    assert_eq!(a.waiting_for(), ids(&[1, 2]));

    // n2 grants (grant 4); its older FAILED (numbered 2 < 4) arrives after it: ignored.
    a.on_message(
        NodeId(2),
        Msg::Reply {
            request: me,
            grant: 4,
        },
        &mut out,
    )
    .unwrap();
    assert!(
        out.is_empty(),
        "still failing at n1 (yielded), but nothing asked back"
    );
    let stale = Msg::Failed {
        request: me,
        latest_grant: 2,
    };
    a.on_message(NodeId(2), stale, &mut out).unwrap();
    assert_eq!(a.waiting_for(), ids(&[1]));
    // n2 asks grant 4 back: the request is still failing (n1's grant was yielded): yield.
    a.on_message(
        NodeId(2),
        Msg::Inquire {
            request: me,
            grant: 4,
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(2),
            Msg::Yield {
                request: me,
                grant: 4
            }
        )]
    );
    // Both grant again; the second completes the set.
    a.on_message(
        NodeId(1),
        Msg::Reply {
            request: me,
            grant: 6,
        },
        &mut out,
    )
    .unwrap();
    assert!(
        out.is_empty(),
        "n2's grant is missing; nothing was asked back"
    );
    a.on_message(
        NodeId(2),
        Msg::Reply {
            request: me,
            grant: 7,
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
    // An INQUIRE in the critical section is ignored, and so is one after it.
    let late = Msg::Inquire {
        request: me,
        grant: 7,
    };
    a.on_message(NodeId(2), late, &mut out).unwrap();
    assert!(out.is_empty());
    a.release(&mut out).unwrap();
    let rel = Msg::Release { request: me };
    assert_eq!(sends(&mut out), vec![(NodeId(1), rel), (NodeId(2), rel)]);
    a.on_message(NodeId(2), late, &mut out).unwrap();
    a.on_message(
        NodeId(1),
        Msg::Failed {
            request: me,
            latest_grant: 9,
        },
        &mut out,
    )
    .unwrap();
    assert!(out.is_empty());
    assert_eq!(a.phase(), Phase::Idle);
    // But a REPLY for a finished request is a protocol error.
    assert!(
        a.on_message(
            NodeId(1),
            Msg::Reply {
                request: me,
                grant: 8
            },
            &mut out
        )
        .is_err()
    );
}

/// As an arbiter: a newcomer that outranks everything triggers one INQUIRE per grant, and the
/// request it overtakes at the head of the queue is told FAILED; YIELD passes the permission to
/// the best waiting request; a REQUEST that overtakes its sender's RELEASE is queued.
#[test]
fn an_arbiter_inquires_once_and_tells_the_overtaken_head() {
    let members = cluster(5);
    let mut arb = Maekawa::new(NodeId(0), &members, ids(&[0])).unwrap();
    let mut out = Outbox::new();
    let s = |c: u64, n: u32| Stamp::new(c, NodeId(n));
    arb.on_message(NodeId(4), Msg::Request { request: s(5, 4) }, &mut out)
        .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(4),
            Msg::Reply {
                request: s(5, 4),
                grant: 1
            }
        )]
    );
    // (3, n3) outranks the lock and nobody waits: INQUIRE to n4.
    arb.on_message(NodeId(3), Msg::Request { request: s(3, 3) }, &mut out)
        .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(4),
            Msg::Inquire {
                request: s(5, 4),
                grant: 1
            }
        )]
    );
    // (2, n2) outranks everything: n3 (the old head) is told FAILED; no second INQUIRE.
    arb.on_message(NodeId(2), Msg::Request { request: s(2, 2) }, &mut out)
        .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(3),
            Msg::Failed {
                request: s(3, 3),
                latest_grant: 1
            }
        )]
    );
    // (4, n1) is below the head: FAILED at once.
    arb.on_message(NodeId(1), Msg::Request { request: s(4, 1) }, &mut out)
        .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(1),
            Msg::Failed {
                request: s(4, 1),
                latest_grant: 1
            }
        )]
    );
    assert_eq!(arb.queued(), vec![s(2, 2), s(3, 3), s(4, 1)]);
    // n4 yields: the permission goes to (2, n2), grant 2; n4 waits again.
    arb.on_message(
        NodeId(4),
        Msg::Yield {
            request: s(5, 4),
            grant: 1,
        },
        &mut out,
    )
    .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(2),
            Msg::Reply {
                request: s(2, 2),
                grant: 2
            }
        )]
    );
    assert_eq!(arb.locked_for(), Some(NodeId(2)));
    assert_eq!(arb.queued(), vec![s(3, 3), s(4, 1), s(5, 4)]);
    // n2's next REQUEST overtakes its RELEASE: queued (and told FAILED, being lower).
    arb.on_message(NodeId(2), Msg::Request { request: s(9, 2) }, &mut out)
        .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(2),
            Msg::Failed {
                request: s(9, 2),
                latest_grant: 2
            }
        )]
    );
    arb.on_message(NodeId(2), Msg::Release { request: s(2, 2) }, &mut out)
        .unwrap();
    assert_eq!(
        sends(&mut out),
        vec![(
            NodeId(3),
            Msg::Reply {
                request: s(3, 3),
                grant: 3
            }
        )]
    );
    assert_eq!(arb.clock(), 9);
}

/// Delivering newest-first (the opposite of FIFO) through a contended run still serves all.
#[test]
fn newest_first_delivery_serves_everyone() {
    let mut net = Net::new(triangle(true));
    for i in [2, 0, 1] {
        net.request(i);
    }
    let mut served = 0;
    while !net.flight.is_empty() {
        let last = net.flight.len() - 1;
        net.deliver(last);
        for i in 0..3 {
            if net.in_cs[i] {
                served += 1;
                net.release(i as u32);
            }
        }
    }
    assert_eq!(served, 3);
    assert!(net.nodes.iter().all(|n| n.phase() == Phase::Idle));
}

/// Small deterministic generator for the randomized test below.
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// Random delivery orders (no FIFO), random request times: never two nodes in the critical
/// section (checked at every Enter), never a stuck state, every request served.
#[test]
fn random_orders_never_break_safety_or_get_stuck() {
    for n in [2usize, 3, 4, 5, 7, 9] {
        for seed in 1..=300u64 {
            let q = Quorums::new(n, QuorumKind::Auto).unwrap();
            let mut net = Net::new(Maekawa::cluster(&q).unwrap());
            let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) + n as u64);
            let mut left = vec![3u32; n];
            loop {
                let idle: Vec<usize> = (0..n)
                    .filter(|&i| left[i] > 0 && net.nodes[i].phase() == Phase::Idle)
                    .collect();
                let in_cs: Vec<usize> = (0..n).filter(|&i| net.in_cs[i]).collect();
                let choices = net.flight.len() + idle.len() + in_cs.len();
                if choices == 0 {
                    break;
                }
                let c = rng.below(choices);
                if c < net.flight.len() {
                    net.deliver(c);
                } else if c < net.flight.len() + idle.len() {
                    let i = idle[c - net.flight.len()];
                    left[i] -= 1;
                    net.request(i as u32);
                } else {
                    let i = in_cs[c - net.flight.len() - idle.len()];
                    net.release(i as u32);
                }
            }
            assert!(
                net.nodes.iter().all(|x| x.phase() == Phase::Idle),
                "N={n} seed {seed}: stuck with {:?}",
                net.nodes
            );
            assert!(left.iter().all(|&l| l == 0));
            assert!(net.nodes.iter().all(|x| x.locked_for().is_none()));
        }
    }
}
