//! Hand-driven unit tests: message by message, in orders chosen to hit the races.

use super::*;
use dme_core::{Effect, cluster};

fn sites(n: usize) -> Vec<LodhaKshemkalyani> {
    let members = cluster(n);
    members
        .iter()
        .map(|&m| LodhaKshemkalyani::new(m, &members).unwrap())
        .collect()
}

fn sends(out: &mut Outbox<LkMessage>) -> Vec<(NodeId, LkMessage)> {
    out.drain()
        .filter_map(|e| match e {
            Effect::Send { to, msg } => Some((to, msg)),
            Effect::Enter => None,
        })
        .collect()
}

fn req(sequence_number: u64, previous: u64) -> LkMessage {
    LkMessage::Request {
        sequence_number,
        previous,
    }
}

#[test]
fn misuse_is_an_error_and_changes_nothing() {
    let mut s = sites(3);
    let mut out = Outbox::new();
    assert_eq!(s[0].release(&mut out), Err(Error::NotInCriticalSection));
    s[0].request(&mut out).unwrap();
    out.clear();
    let before = s[0].clone();
    assert_eq!(s[0].request(&mut out), Err(Error::AlreadyRequesting));
    assert_eq!(
        s[0].on_message(NodeId(9), req(1, 0), &mut out),
        Err(Error::NotAMember(NodeId(9)))
    );
    let answer = LkMessage::Flush {
        sequence_number: 1,
        answers: 5,
    };
    assert!(s[0].on_message(NodeId(1), answer, &mut out).is_err());
    assert!(s[0].on_message(NodeId(1), req(3, 3), &mut out).is_err());
    s[0].on_message(NodeId(1), req(1, 0), &mut out).unwrap();
    let before_second = s[0].clone();
    assert!(s[0].on_message(NodeId(1), req(1, 0), &mut out).is_err());
    assert_eq!(s[0], before_second);
    assert_ne!(s[0], before);
    assert!(out.is_empty());
    assert!(LodhaKshemkalyani::new(NodeId(3), &cluster(3)).is_err());
}

/// Two concurrent requests answer each other: no REPLY; the first served hands the critical
/// section on with one FLUSH. 2 REQUESTs + 1 FLUSH for two entries.
#[test]
fn concurrent_requests_answer_each_other_and_one_flush_hands_over() {
    let mut s = sites(2);
    let mut out = Outbox::new();
    s[1].request(&mut out).unwrap();
    assert_eq!(sends(&mut out), vec![(NodeId(0), req(1, 0))]);
    s[0].request(&mut out).unwrap();
    assert_eq!(sends(&mut out), vec![(NodeId(1), req(1, 0))]);
    // Each REQUEST reaches a requesting site: it is the sender's answer.
    s[1].on_message(NodeId(0), req(1, 0), &mut out).unwrap();
    assert!(out.is_empty(), "(1, n0) is ahead of (1, n1): n1 waits");
    assert_eq!(s[1].waiting_for(), vec![NodeId(0)]);
    assert_eq!(
        s[1].local_request_queue(),
        vec![Stamp::new(1, NodeId(0)), Stamp::new(1, NodeId(1))]
    );
    s[0].on_message(NodeId(1), req(1, 0), &mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
    s[0].release(&mut out).unwrap();
    let flush = LkMessage::Flush {
        sequence_number: 1,
        answers: 1,
    };
    assert_eq!(sends(&mut out), vec![(NodeId(1), flush)]);
    s[1].on_message(NodeId(0), flush, &mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
}

/// A REQUEST from a site that has already answered (its next request, not concurrent) is
/// kept and answered with REPLY at the exit; a late answer to a request already served is
/// ignored.
#[test]
fn a_next_request_is_kept_until_the_exit_and_late_answers_are_ignored() {
    let mut s = sites(2);
    let mut out = Outbox::new();
    s[0].request(&mut out).unwrap();
    out.clear();
    s[1].on_message(NodeId(0), req(1, 0), &mut out).unwrap();
    let reply = LkMessage::Reply {
        sequence_number: 0,
        answers: 1,
    };
    assert_eq!(sends(&mut out), vec![(NodeId(0), reply)]);
    s[1].request(&mut out).unwrap();
    assert_eq!(sends(&mut out), vec![(NodeId(0), req(2, 0))]);
    s[0].on_message(NodeId(1), reply, &mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
    s[0].on_message(NodeId(1), req(2, 0), &mut out).unwrap();
    assert!(out.is_empty(), "kept");
    s[0].release(&mut out).unwrap();
    let answer = LkMessage::Reply {
        sequence_number: 1,
        answers: 2,
    };
    assert_eq!(sends(&mut out), vec![(NodeId(1), answer)]);
    // A stale answer (to n0's request 1, already served) changes nothing.
    let before = s[0].clone();
    let stale = LkMessage::Flush {
        sequence_number: 7,
        answers: 1,
    };
    s[0].on_message(NodeId(1), stale, &mut out).unwrap();
    assert_eq!(s[0], before);
    s[1].on_message(NodeId(0), answer, &mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
}

/// The previous request named in a REQUEST is served, and so is every request ahead of it: a
/// site waiting behind one of those stops waiting.
#[test]
fn a_request_naming_a_served_previous_request_unblocks_the_queue() {
    let mut s = sites(3);
    let mut out = Outbox::new();
    // n1 requests (3, n1) and learns of n0's concurrent (2, n0), which is ahead of it.
    s[1].highest_sequence_number = 2;
    s[1].request(&mut out).unwrap();
    out.clear();
    s[1].on_message(NodeId(0), req(2, 0), &mut out).unwrap();
    s[1].on_message(NodeId(2), req(4, 0), &mut out).unwrap();
    assert!(out.is_empty());
    assert_eq!(s[1].waiting_for(), vec![NodeId(0)]);
    // n2's next REQUEST says its previous request (4, n2)... no: n2 says (2, n2) was served,
    // so (2, n0), ahead of it, was too.
    let mut t = sites(3);
    t[1].highest_sequence_number = 2;
    t[1].request(&mut out).unwrap();
    out.clear();
    t[1].on_message(NodeId(0), req(2, 0), &mut out).unwrap();
    t[1].on_message(NodeId(2), req(4, 2), &mut out).unwrap();
    assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
    assert_eq!(
        t[1].local_request_queue(),
        vec![Stamp::new(3, NodeId(1)), Stamp::new(4, NodeId(2))]
    );
}
