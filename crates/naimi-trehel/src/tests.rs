//! Hand-driven tests of the site: misuse, path reversal, the `next` queue.

use super::*;
use NtMessage::{Request, Token};
use dme_core::{Effect, cluster};

fn n(i: u32) -> NodeId {
    NodeId(i)
}

fn req(i: u32) -> NtMessage {
    Request { requester: n(i) }
}

/// A cluster with every message delivered by hand.
struct Net {
    sites: Vec<NaimiTrehel>,
    in_flight: Vec<(NodeId, NodeId, NtMessage)>,
    out: Outbox<NtMessage>,
    sent: usize,
    entries: Vec<NodeId>,
}

impl Net {
    fn new(size: usize, holder: u32) -> Net {
        Net {
            sites: NaimiTrehel::cluster(&cluster(size), n(holder)).unwrap(),
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
        self.sites[i as usize].request(&mut self.out).unwrap();
        self.apply(n(i));
    }

    fn release(&mut self, i: u32) {
        self.sites[i as usize].release(&mut self.out).unwrap();
        self.apply(n(i));
    }

    fn settle(&mut self) {
        while !self.in_flight.is_empty() {
            let (from, to, msg) = self.in_flight.remove(0);
            self.sites[to.index()]
                .on_message(from, msg, &mut self.out)
                .unwrap();
            self.apply(to);
        }
    }

    fn fathers(&self) -> Vec<Option<u32>> {
        self.sites.iter().map(|s| s.father().map(|f| f.0)).collect()
    }

    fn tokens(&self) -> usize {
        self.sites.iter().filter(|x| x.holds_token()).count()
            + self
                .in_flight
                .iter()
                .filter(|(_, _, m)| m.carries_token())
                .count()
    }
}

#[test]
fn constructors_validate_their_input_and_start_from_a_star() {
    assert!(NaimiTrehel::new(n(0), &[], n(0)).is_err());
    assert!(NaimiTrehel::new(n(3), &cluster(3), n(0)).is_err());
    assert!(NaimiTrehel::new(n(0), &cluster(3), n(3)).is_err());
    let net = Net::new(4, 2);
    assert_eq!(net.fathers(), vec![Some(2), Some(2), None, Some(2)]);
    assert_eq!(net.tokens(), 1);
    assert!(net.sites[2].holds_token());
}

#[test]
fn single_site_enters_without_messages() {
    let mut a = NaimiTrehel::new(n(0), &cluster(1), n(0)).unwrap();
    let mut out = Outbox::new();
    a.request(&mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
    a.release(&mut out).unwrap();
    assert!(out.is_empty());
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let mut net = Net::new(3, 0);
    let mut out = Outbox::new();
    assert_eq!(
        net.sites[1].release(&mut out),
        Err(Error::NotInCriticalSection)
    );
    net.request(1);
    let before = net.sites[1].clone();
    let site = &mut net.sites[1];
    assert_eq!(site.request(&mut out), Err(Error::AlreadyRequesting));
    assert_eq!(site.release(&mut out), Err(Error::NotInCriticalSection));
    assert_eq!(
        site.on_message(n(7), Token, &mut out),
        Err(Error::NotAMember(n(7)))
    );
    assert_eq!(
        site.on_message(n(1), Token, &mut out),
        Err(Error::NotAMember(n(1)))
    );
    let unexpected = |r: Result<(), Error>| matches!(r, Err(Error::UnexpectedMessage { .. }));
    assert!(
        unexpected(site.on_message(n(0), req(1), &mut out)),
        "own Req"
    );
    assert!(
        unexpected(site.on_message(n(0), req(9), &mut out)),
        "Req(non-member)"
    );
    assert_eq!(*site, before);
    assert!(out.is_empty());
    assert!(
        unexpected(net.sites[0].on_message(n(1), Token, &mut out)),
        "second token"
    );
    assert!(
        unexpected(net.sites[2].on_message(n(0), Token, &mut out)),
        "not requesting"
    );
    out.clear();
    assert_eq!(
        net.sites[2],
        NaimiTrehel::new(n(2), &cluster(3), n(0)).unwrap()
    );
}

#[test]
fn a_request_reverses_the_path_it_travels() {
    // Requests by 1, 2, 3 one at a time, from the star rooted at 0: each Req goes to 0, which
    // forwards it to the previous requester.
    let mut net = Net::new(4, 0);
    for i in [1, 2, 3] {
        net.request(i);
        net.settle();
        net.release(i);
    }
    assert_eq!(net.fathers(), vec![Some(3), Some(2), Some(3), None]);
    assert_eq!(
        net.sent,
        2 + 3 + 3,
        "1 hop + TOKEN, then 2 hops + TOKEN twice"
    );
    // 1 asks again: Req(1) 1 → 2 → 3, the TOKEN 3 → 1; 2 and 3 now point to 1, the new root.
    let before = net.sent;
    net.request(1);
    net.settle();
    assert_eq!(net.sent - before, 2 + 1);
    assert_eq!(net.fathers(), vec![Some(3), None, Some(1), Some(1)]);
    assert_eq!(net.entries.last(), Some(&n(1)));
    net.release(1);
    let before = net.sent;
    net.request(1);
    assert_eq!(net.sent, before, "the idle root re-enters for nothing");
    assert_eq!(net.entries.len(), 5);
    assert_eq!(net.tokens(), 1);
}

#[test]
fn next_pointers_queue_concurrent_requests() {
    // 0 in the critical section; 1, 2, 3 ask in turn: 1's Req reaches 0 (next = 1), 2's Req
    // reaches 0, which forwards it to its new father 1 (next = 2 at 1), 3's goes 0 → 2.
    let mut net = Net::new(4, 0);
    net.request(0);
    for i in [1, 2, 3] {
        net.request(i);
        net.settle();
    }
    let nexts: Vec<Option<NodeId>> = net.sites.iter().map(NaimiTrehel::next).collect();
    assert_eq!(nexts, vec![Some(n(1)), Some(n(2)), Some(n(3)), None]);
    assert_eq!(net.fathers(), vec![Some(3), Some(2), Some(3), None]);
    for i in [0, 1, 2, 3] {
        net.release(i);
        net.settle();
    }
    assert_eq!(net.entries, vec![n(0), n(1), n(2), n(3)]);
    // 1 + 2 + 2 Req hops, three TOKENs.
    assert_eq!(net.sent, 5 + 3);
    assert!(net.sites[3].holds_token());
    assert_eq!(net.tokens(), 1);
}
