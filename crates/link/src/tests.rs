use super::*;

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);

fn lossy() -> Config {
    Config {
        retransmit_after: Some(30),
        reconnect_initial: 20,
        reconnect_max: 1000,
    }
}

fn tcp() -> Config {
    Config {
        retransmit_after: None,
        ..lossy()
    }
}

/// A tiny deterministic generator (splitmix64), so the tests need no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Answers every `Dial` at once, as a transport without connections does.
fn pump_events(link: &mut Link<u32>, now: Time, delivered: &mut Vec<u32>) {
    while let Some(ev) = link.poll_event() {
        match ev {
            Event::Dial => link.on_connected(now).unwrap(),
            Event::Deliver { payload, .. } => delivered.push(payload),
            Event::Up { .. } | Event::Refused(_) => {}
        }
    }
}

/// Runs `a` → `b` over a network that drops 20 %, duplicates 10 % and reorders (delays of 1 to
/// 20 ticks), `k` messages each way; with `broken`, `b` takes every `Data` as the next one (no
/// de-duplication, no ordering). Returns what each side delivered.
fn run_lossy(seed: u64, k: u32, broken: bool) -> (Vec<u32>, Vec<u32>) {
    let mut rng = Rng(seed);
    let mut links = [
        Link::new(A, B, 1, lossy(), 0).unwrap(),
        Link::new(B, A, 2, lossy(), 0).unwrap(),
    ];
    let mut delivered = [Vec::new(), Vec::new()];
    // (arrival time, destination, direction at the destination, frame)
    let mut net: Vec<(Time, usize, Half, Frame<u32>)> = Vec::new();
    let mut sent = [0u32, 0u32];
    for now in 0..20_000u64 {
        for (i, count) in sent.iter_mut().enumerate() {
            if *count < k && rng.chance(5) {
                links[i].send(now, *count).unwrap();
                *count += 1;
            }
        }
        let (due, rest): (Vec<_>, Vec<_>) = net.drain(..).partition(|f| f.0 <= now);
        net = rest;
        for (_, to, via, mut frame) in due {
            if broken && to == 1 {
                if let Frame::Data { seq, .. } = &mut frame {
                    *seq = links[1].delivered() + 1;
                }
            }
            // Gaps and stale frames are errors the receiver drops; nothing else may fail.
            match links[to].on_frame(now, via, frame) {
                Ok(()) | Err(LinkError::Gap { .. }) => {}
                Err(_) if broken => {} // the broken receiver acknowledges too much
                Err(e) => panic!("seed {seed}: {e}"),
            }
        }
        for (i, link) in links.iter_mut().enumerate() {
            if link.poll_timeout().is_some_and(|t| t <= now) {
                link.handle_timeout(now).unwrap();
            }
            pump_events(link, now, &mut delivered[i]);
            while let Some(t) = link.poll_transmit() {
                let copies = if rng.chance(20) {
                    0
                } else if rng.chance(10) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    net.push((
                        now + 1 + rng.next() % 20,
                        1 - i,
                        t.half.opposite(),
                        t.frame.clone(),
                    ));
                }
            }
        }
        if sent == [k, k] && links.iter().all(|l| l.unacked() == 0) && net.is_empty() {
            break;
        }
    }
    (delivered[0].clone(), delivered[1].clone())
}

/// What the check below demands: each side delivered exactly the other's messages, in order.
fn exactly_once_in_order(got: &[u32], k: u32) -> Result<(), String> {
    let want: Vec<u32> = (0..k).collect();
    if got == want {
        Ok(())
    } else {
        Err(format!("delivered {got:?}, sent {want:?}"))
    }
}

#[test]
fn a_lossy_duplicating_reordering_network_delivers_exactly_once_in_order() {
    for seed in 0..200 {
        let (at_a, at_b) = run_lossy(seed, 12, false);
        exactly_once_in_order(&at_a, 12).unwrap();
        exactly_once_in_order(&at_b, 12).unwrap();
    }
}

#[test]
fn the_check_catches_a_receiver_without_de_duplication_or_ordering() {
    let caught = (0..50)
        .filter(|&seed| exactly_once_in_order(&run_lossy(seed, 12, true).1, 12).is_err())
        .count();
    assert_eq!(caught, 50, "every seed exposes the broken receiver");
}

/// A connected pair over a perfect in-memory channel (TCP's view), handshakes done.
fn connected_pair(config: Config) -> (Link<u32>, Link<u32>) {
    let mut a = Link::new(A, B, 1, config, 0).unwrap();
    let mut b = Link::new(B, A, 2, config, 0).unwrap();
    fn open(x: &mut Link<u32>, y: &mut Link<u32>) {
        x.handle_timeout(0).unwrap();
        assert_eq!(x.poll_event(), Some(Event::Dial));
        x.on_connected(0).unwrap();
        let hello = x.poll_transmit().unwrap();
        y.on_frame(0, Half::Incoming, hello.frame).unwrap();
        let ack = y.poll_transmit().unwrap();
        assert_eq!(ack.frame, Frame::Ack { seq: 0 });
        x.on_frame(0, Half::Outgoing, ack.frame).unwrap();
        assert_eq!(x.poll_event(), Some(Event::Up { resent: 0 }));
    }
    open(&mut a, &mut b);
    open(&mut b, &mut a);
    (a, b)
}

/// Moves every frame from `x` to `y` and back until both are quiet.
fn exchange(x: &mut Link<u32>, y: &mut Link<u32>, now: Time) {
    loop {
        let mut moved = false;
        while let Some(t) = x.poll_transmit() {
            y.on_frame(now, t.half.opposite(), t.frame).unwrap();
            moved = true;
        }
        while let Some(t) = y.poll_transmit() {
            x.on_frame(now, t.half.opposite(), t.frame).unwrap();
            moved = true;
        }
        if !moved {
            return;
        }
    }
}

#[test]
fn a_reconnection_resends_what_was_not_acknowledged_and_duplicates_are_dropped() {
    let (mut a, mut b) = connected_pair(tcp());
    assert_eq!(a.send(1, 10).unwrap(), 1);
    exchange(&mut a, &mut b, 1);
    assert_eq!(
        b.poll_event(),
        Some(Event::Deliver {
            seq: 1,
            payload: 10
        })
    );
    assert_eq!((a.acked(), a.unacked()), (1, 0));
    // Two more go out, the connection dies before they are acknowledged.
    a.send(2, 11).unwrap();
    a.send(2, 12).unwrap();
    let lost: Vec<_> = std::iter::from_fn(|| a.poll_transmit()).collect();
    assert_eq!(lost.len(), 2);
    b.on_frame(2, Half::Incoming, lost[0].frame.clone())
        .unwrap(); // 11 arrives, its ack is lost
    b.poll_transmit();
    a.on_disconnected(3).unwrap();
    assert!(!a.is_up());
    assert_eq!(a.poll_timeout(), Some(3 + 20));
    a.handle_timeout(23).unwrap();
    assert_eq!(a.poll_event(), Some(Event::Dial));
    a.on_connected(23).unwrap();
    exchange(&mut a, &mut b, 23);
    assert_eq!(a.poll_event(), Some(Event::Up { resent: 1 }));
    let mut got = Vec::new();
    pump_events(&mut b, 23, &mut got);
    assert_eq!(got, vec![11, 12], "11 once, then 12");
    assert_eq!(
        a.stats().retransmitted,
        1,
        "12 only: 11's ack came with the hello's answer"
    );
    assert_eq!(a.stats().reconnects, 1);
    assert_eq!(b.stats().duplicates, 0);
    // A duplicate of 12 is acknowledged again and dropped.
    b.on_frame(24, Half::Incoming, lost[1].frame.clone())
        .unwrap();
    assert_eq!(b.poll_transmit().unwrap().frame, Frame::Ack { seq: 3 });
    assert_eq!(b.poll_event(), None);
    assert_eq!(b.stats().duplicates, 1);
}

/// Calls `f` on a clone of `link` and checks it fails with `want` and changes nothing.
fn refused_unchanged(
    link: &Link<u32>,
    want: LinkError,
    f: impl FnOnce(&mut Link<u32>) -> Result<(), LinkError>,
) {
    let mut copy = link.clone();
    assert_eq!(f(&mut copy), Err(want));
    assert_eq!(&copy, link, "state changed by a rejected input");
    assert_eq!(copy.stats(), link.stats());
}

#[test]
fn misuse_and_bad_frames_are_errors_that_change_nothing() {
    let (mut a, b) = connected_pair(tcp());
    a.send(5, 1).unwrap();
    a.poll_transmit();
    refused_unchanged(&a, LinkError::TimeWentBackwards { now: 4, last: 5 }, |l| {
        l.handle_timeout(4)
    });
    refused_unchanged(&a, LinkError::NotDialling, |l| l.on_connected(6));
    refused_unchanged(&a, LinkError::NotDialling, |l| l.on_dial_failed(6));
    refused_unchanged(&a, LinkError::AckBeyondSent { seq: 2, sent: 1 }, |l| {
        l.on_frame(6, Half::Outgoing, Frame::Ack { seq: 2 })
    });
    refused_unchanged(
        &a,
        LinkError::WrongDirection {
            kind: "Ack",
            half: Half::Incoming,
        },
        |l| l.on_frame(6, Half::Incoming, Frame::Ack { seq: 1 }),
    );
    refused_unchanged(
        &a,
        LinkError::WrongDirection {
            kind: "Data",
            half: Half::Outgoing,
        },
        |l| l.on_frame(6, Half::Outgoing, Frame::Data { seq: 1, payload: 0 }),
    );
    refused_unchanged(
        &a,
        LinkError::Gap {
            seq: 3,
            delivered: 0,
        },
        |l| l.on_frame(6, Half::Incoming, Frame::Data { seq: 3, payload: 0 }),
    );
    refused_unchanged(&a, LinkError::Misaddressed { from: A, to: B }, |l| {
        let hello = Frame::Hello {
            from: A,
            to: B,
            incarnation: 2,
        };
        l.on_frame(6, Half::Incoming, hello)
    });
    refused_unchanged(&a, LinkError::PeerRestarted { known: 2, got: 9 }, |l| {
        let hello = Frame::Hello {
            from: B,
            to: A,
            incarnation: 9,
        };
        l.on_frame(6, Half::Incoming, hello)
    });
    refused_unchanged(&a, LinkError::TimeOverflow, |l| l.on_disconnected(u64::MAX));
    let fresh = Link::<u32>::new(B, A, 3, tcp(), 0).unwrap();
    refused_unchanged(&fresh, LinkError::DataBeforeHello { seq: 1 }, |l| {
        l.on_frame(1, Half::Incoming, Frame::Data { seq: 1, payload: 0 })
    });
    refused_unchanged(&fresh, LinkError::NotConnected, |l| l.on_disconnected(1));
    refused_unchanged(&fresh, LinkError::UnexpectedAck, |l| {
        l.on_frame(1, Half::Outgoing, Frame::Ack { seq: 0 })
    });
    assert!(Link::<u32>::new(A, A, 1, tcp(), 0).is_err());
    let bad = Config {
        reconnect_initial: 0,
        ..tcp()
    };
    assert!(matches!(
        Link::<u32>::new(A, B, 1, bad, 0),
        Err(LinkError::InvalidConfig(_))
    ));
    assert_eq!(
        LinkError::PeerRestarted { known: 1, got: 2 }.refusal(),
        Some(Refusal::Restarted)
    );
    drop(b);
}

#[test]
fn a_peer_that_lost_its_state_is_detected_on_the_answer_to_our_hello() {
    let (mut a, mut b) = connected_pair(tcp());
    a.send(1, 7).unwrap();
    exchange(&mut a, &mut b, 1);
    assert_eq!(a.acked(), 1);
    // b restarts: a fresh link that acknowledges nothing.
    let mut b2 = Link::<u32>::new(B, A, 99, tcp(), 2).unwrap();
    a.on_disconnected(2).unwrap();
    a.handle_timeout(22).unwrap();
    assert_eq!(a.poll_event(), Some(Event::Dial));
    a.on_connected(22).unwrap();
    b2.on_frame(22, Half::Incoming, a.poll_transmit().unwrap().frame)
        .unwrap();
    let answer = b2.poll_transmit().unwrap().frame;
    let before = a.clone();
    let err = a.on_frame(22, Half::Outgoing, answer).unwrap_err();
    assert_eq!(err, LinkError::PeerForgot { acked: 1, got: 0 });
    assert_eq!(err.refusal(), Some(Refusal::Forgot));
    assert_eq!(a, before);
    // The refused side learns why.
    b2.on_frame(
        22,
        Half::Incoming,
        Frame::Refuse {
            reason: Refusal::Forgot,
        },
    )
    .unwrap();
    assert_eq!(b2.poll_event(), Some(Event::Refused(Refusal::Forgot)));
    assert_eq!(b2.refused(), Some(Refusal::Forgot));
    assert!(
        Refusal::Forgot
            .to_string()
            .starts_with("we restarted and lost our state")
    );
}

#[test]
fn the_backoff_keeps_growing_while_the_peer_refuses_and_resets_after_progress() {
    let mut a = Link::<u32>::new(A, B, 1, tcp(), 0).unwrap();
    let mut now = 0;
    let mut pauses = Vec::new();
    for attempt in 0..9 {
        a.handle_timeout(now).unwrap();
        assert_eq!(a.poll_event(), Some(Event::Dial));
        if attempt % 3 == 0 {
            a.on_dial_failed(now).unwrap();
        } else {
            // The TCP connect succeeds, the peer refuses the hello and closes at once.
            a.on_connected(now).unwrap();
            a.poll_transmit();
            a.on_frame(
                now,
                Half::Outgoing,
                Frame::Refuse {
                    reason: Refusal::Restarted,
                },
            )
            .unwrap();
            assert_eq!(a.poll_event(), Some(Event::Refused(Refusal::Restarted)));
            a.on_disconnected(now + 1).unwrap();
            now += 1;
        }
        let at = a.poll_timeout().unwrap();
        pauses.push(at - now);
        now = at;
    }
    assert_eq!(pauses, [20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
    assert_eq!(a.stats().refusals, 6);
    // A handshake that then makes progress resets it.
    a.handle_timeout(now).unwrap();
    a.poll_event();
    a.on_connected(now).unwrap();
    a.poll_transmit();
    a.on_frame(now, Half::Outgoing, Frame::Ack { seq: 0 })
        .unwrap();
    assert_eq!(
        a.refused(),
        None,
        "a successful handshake clears the refusal"
    );
    a.send(now, 1).unwrap();
    a.on_frame(now, Half::Outgoing, Frame::Ack { seq: 1 })
        .unwrap();
    a.on_disconnected(now + 1).unwrap();
    assert_eq!(a.poll_timeout(), Some(now + 1 + 20));
}

#[test]
fn hellos_and_data_are_retransmitted_on_the_timer_only_when_configured() {
    let mut a = Link::<u32>::new(A, B, 1, lossy(), 0).unwrap();
    a.handle_timeout(0).unwrap();
    a.poll_event();
    a.on_connected(0).unwrap();
    assert!(matches!(
        a.poll_transmit().unwrap().frame,
        Frame::Hello { .. }
    ));
    assert_eq!(a.poll_timeout(), Some(30));
    a.handle_timeout(30).unwrap();
    assert!(matches!(
        a.poll_transmit().unwrap().frame,
        Frame::Hello { .. }
    ));
    a.on_frame(31, Half::Outgoing, Frame::Ack { seq: 0 })
        .unwrap();
    assert_eq!(a.poll_timeout(), None, "nothing unacknowledged");
    a.send(32, 5).unwrap();
    a.poll_transmit();
    assert_eq!(a.poll_timeout(), Some(62));
    a.handle_timeout(62).unwrap();
    assert_eq!(
        a.poll_transmit().unwrap().frame,
        Frame::Data { seq: 1, payload: 5 }
    );
    assert_eq!(a.stats().retransmitted, 1);

    let (mut t, _) = connected_pair(tcp());
    t.send(1, 5).unwrap();
    assert_eq!(
        t.poll_timeout(),
        None,
        "over TCP only a reconnection resends"
    );
}
