//! Hand-driven tests of the site: misuse, outdated requests, the queue's order, the refused
//! tokens.

use super::*;
use dme_core::{Effect, cluster};

fn n(i: u32) -> NodeId {
    NodeId(i)
}

/// The effects in `out`, drained: sends as `Some((to, msg))`, Enter as `None`.
fn effects(out: &mut Outbox<SkMessage>) -> Vec<Option<(NodeId, SkMessage)>> {
    out.drain()
        .map(|e| match e {
            Effect::Send { to, msg } => Some((to, msg)),
            Effect::Enter => None,
        })
        .collect()
}

fn privilege(ln: &[u64], q: &[u32]) -> SkMessage {
    SkMessage::Privilege(Token {
        ln: ln.to_vec(),
        q: q.iter().map(|&i| n(i)).collect(),
    })
}

/// A cluster of `size` sites, token at n0, with every message delivered by hand.
struct Net {
    nodes: Vec<SuzukiKasami>,
    in_flight: Vec<(NodeId, NodeId, SkMessage)>,
    out: Outbox<SkMessage>,
    sent: usize,
    entries: Vec<NodeId>,
}

impl Net {
    fn new(size: usize) -> Net {
        Net {
            nodes: SuzukiKasami::cluster(&cluster(size), n(0)).unwrap(),
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

    /// Delivers the first in-flight message from `from` to `to`.
    fn deliver(&mut self, from: u32, to: u32) {
        let k = self
            .in_flight
            .iter()
            .position(|(f, t, _)| (f.0, t.0) == (from, to))
            .expect("a message in flight");
        let (from, to, msg) = self.in_flight.remove(k);
        self.nodes[to.index()]
            .on_message(from, msg, &mut self.out)
            .unwrap();
        self.apply(to);
    }

    fn settle(&mut self) {
        while let Some(&(from, to, _)) = self.in_flight.first() {
            self.deliver(from.0, to.0);
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
fn constructors_validate_their_input() {
    assert!(SuzukiKasami::new(n(0), &[], n(0)).is_err());
    assert!(SuzukiKasami::new(n(3), &cluster(3), n(0)).is_err());
    assert!(SuzukiKasami::new(n(0), &cluster(3), n(3)).is_err());
    assert!(SuzukiKasami::new(n(0), &[n(0), n(1), n(0)], n(0)).is_err());
    let a = SuzukiKasami::new(n(5), &[n(9), n(5), n(2)], n(9)).unwrap();
    assert_eq!(a.members(), &[n(2), n(5), n(9)]);
    assert_eq!(a.rn(), &[0, 0, 0]);
    assert!(!a.holds_token());
    let nodes = SuzukiKasami::cluster(&[n(9), n(5), n(2)], n(9)).unwrap();
    assert_eq!(nodes.iter().filter(|x| x.holds_token()).count(), 1);
    assert!(nodes[0].holds_token(), "in the order given");
}

#[test]
fn single_site_enters_without_messages() {
    let mut a = SuzukiKasami::new(n(0), &cluster(1), n(0)).unwrap();
    let mut out = Outbox::new();
    for _ in 0..3 {
        a.request(&mut out).unwrap();
        assert_eq!(effects(&mut out), vec![None]);
        a.release(&mut out).unwrap();
        assert!(out.is_empty());
    }
    assert_eq!(
        a.rn(),
        &[0],
        "the holder does not number its own re-entries"
    );
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let mut nodes = SuzukiKasami::cluster(&cluster(3), n(0)).unwrap();
    let mut out = Outbox::new();
    assert_eq!(nodes[1].release(&mut out), Err(Error::NotInCriticalSection));
    nodes[1].request(&mut out).unwrap();
    out.clear();
    let before = nodes[1].clone();
    assert_eq!(nodes[1].request(&mut out), Err(Error::AlreadyRequesting));
    assert_eq!(nodes[1].release(&mut out), Err(Error::NotInCriticalSection));
    let unexpected = |r: Result<(), Error>| matches!(r, Err(Error::UnexpectedMessage { .. }));
    let cases = [
        (
            n(7),
            SkMessage::Request { sn: 1 },
            Some(Error::NotAMember(n(7))),
        ),
        (
            n(1),
            SkMessage::Request { sn: 1 },
            Some(Error::NotAMember(n(1))),
        ),
        (n(2), SkMessage::Request { sn: 0 }, None),
        (n(0), privilege(&[0, 0], &[]), None),
        (n(0), privilege(&[0, 1, 0], &[]), None),
        (n(0), privilege(&[0, 0, 0], &[1]), None),
        (n(0), privilege(&[0, 0, 0], &[2, 2]), None),
        (n(0), privilege(&[0, 0, 0], &[8]), None),
    ];
    for (from, msg, err) in cases {
        let r = nodes[1].on_message(from, msg.clone(), &mut out);
        match err {
            Some(err) => assert_eq!(r, Err(err), "{msg:?}"),
            None => assert!(unexpected(r), "{msg:?}"),
        }
    }
    assert_eq!(nodes[1], before);
    assert!(out.is_empty());

    // A second token at the holder; a token at a site that did not ask.
    let before = nodes[0].clone();
    assert!(unexpected(nodes[0].on_message(
        n(1),
        privilege(&[0, 0, 0], &[]),
        &mut out
    )));
    assert_eq!(nodes[0], before);
    let before = nodes[2].clone();
    assert!(unexpected(nodes[2].on_message(
        n(0),
        privilege(&[0, 0, 0], &[]),
        &mut out
    )));
    assert_eq!(nodes[2], before);
    assert!(out.is_empty());
}

#[test]
fn a_request_costs_n_messages_and_the_idle_holder_re_enters_for_none() {
    let mut net = Net::new(4);
    net.request(2);
    assert_eq!(net.sent, 3, "N − 1 REQUESTs");
    net.settle();
    assert_eq!(net.entries, vec![n(2)]);
    assert_eq!(net.sent, 4, "and one PRIVILEGE");
    net.release(2);
    net.request(2);
    assert_eq!(net.entries, vec![n(2), n(2)]);
    assert_eq!(net.sent, 4, "the idle holder enters at once");
    net.release(2);
    let holder = &net.nodes[2];
    assert_eq!(holder.token().unwrap().ln, vec![0, 0, 1, 0]);
    assert_eq!(holder.rn(), &[0, 0, 1, 0]);
    assert_eq!(net.tokens(), 1);
}

#[test]
fn an_outdated_request_does_not_move_the_token() {
    // n1's REQUEST to n2 is still in flight when n1 has been served and n2 holds the token.
    let mut net = Net::new(3);
    net.request(1);
    net.deliver(1, 0);
    net.deliver(0, 1);
    net.release(1);
    net.request(2);
    net.settle_except(1, 2);
    assert_eq!(net.entries, vec![n(1), n(2)]);
    net.release(2);
    assert!(net.nodes[2].holds_token());
    net.deliver(1, 2);
    assert!(
        net.in_flight.is_empty() && net.nodes[2].holds_token(),
        "RN[1] = LN[1]: the request was already served"
    );
    assert_eq!(net.nodes[2].rn(), &[0, 1, 1]);
}

impl Net {
    /// Delivers everything in flight except REQUESTs from `from` to `to`.
    fn settle_except(&mut self, from: u32, to: u32) {
        while let Some(k) = self
            .in_flight
            .iter()
            .position(|(f, t, m)| m.carries_token() || (f.0, t.0) != (from, to))
        {
            let (f, t, msg) = self.in_flight.remove(k);
            self.nodes[t.index()]
                .on_message(f, msg, &mut self.out)
                .unwrap();
            self.apply(t);
        }
    }
}

#[test]
fn the_queue_is_served_first_in_first_out_and_never_holds_the_holder() {
    // n0 holds the token in its critical section while n3, n1, n2 ask, in that order of
    // arrival; each is appended in id order at n0's exit, then the queue travels with the token.
    let mut net = Net::new(4);
    net.request(0);
    net.request(3);
    net.request(1);
    net.settle();
    net.request(2);
    net.settle();
    net.release(0);
    let Some((_, to, SkMessage::Privilege(token))) = net.in_flight.first().cloned() else {
        panic!("the token is passed: {:?}", net.in_flight);
    };
    assert_eq!(
        to,
        n(1),
        "appended in id order: 1, 2, 3; the head gets the token"
    );
    assert_eq!(token.q, VecDeque::from([n(2), n(3)]));
    assert_eq!(
        token.ln,
        vec![0, 0, 0, 0],
        "the holder's own re-entry is not numbered"
    );
    for next in [1, 2, 3] {
        net.settle();
        assert_eq!(net.entries.last(), Some(&n(next)));
        assert!(
            !net.nodes[next as usize]
                .token()
                .unwrap()
                .q
                .contains(&n(next))
        );
        net.release(next);
    }
    net.settle();
    assert_eq!(net.entries, vec![n(0), n(1), n(2), n(3)]);
    assert_eq!(net.sent, 3 * 3 + 3, "three broadcasts and three PRIVILEGEs");
    assert!(net.nodes[3].holds_token());
    // A request arriving while the holder is in the critical section joins Q at its exit,
    // behind those already queued, and nobody is queued twice.
    net.request(3);
    net.request(0);
    net.request(1);
    net.settle();
    net.release(3);
    let Some((_, to, SkMessage::Privilege(token))) = net.in_flight.first().cloned() else {
        panic!("the token is passed");
    };
    assert_eq!((to, token.q), (n(0), VecDeque::from([n(1)])));
    net.settle();
    net.release(0);
    net.settle();
    net.release(1);
    assert_eq!(
        net.entries[4..],
        [n(3), n(0), n(1)],
        "the holder re-entered, then 0 and 1"
    );
    assert_eq!(net.tokens(), 1);
}
