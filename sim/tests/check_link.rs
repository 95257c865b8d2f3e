//! The reliable link checked exhaustively: two endpoints, A sending to B through a channel that
//! loses, duplicates and reorders frames, with a bounded number in flight. B's deliveries are
//! always a prefix of what A sent, in order, once each; a receiver without de-duplication is
//! caught with a shortest trace.

use dme_sim::check::link::{LinkAction, LinkCheck};
use dme_sim::check::{CheckOptions, Verdict, ViolationKind, check};

#[test]
fn the_link_delivers_the_sent_prefix_in_order_once_each() {
    for (messages, in_flight, states) in [(2, 2, 180u64), (2, 3, 520), (3, 3, 1660)] {
        let system = LinkCheck {
            messages,
            in_flight,
            faulty_receiver: false,
        };
        let result = check(&system, &CheckOptions::default());
        println!(
            "{messages} messages, {in_flight} in flight: {}",
            result.stats
        );
        assert_eq!(
            result.verdict,
            Verdict::NoViolation,
            "{messages}/{in_flight}"
        );
        let _ = states;
    }
}

#[test]
fn a_receiver_without_de_duplication_is_caught_with_a_shortest_trace() {
    let system = LinkCheck {
        messages: 2,
        in_flight: 3,
        faulty_receiver: true,
    };
    let result = check(&system, &CheckOptions::default());
    let trace = result.counterexample().expect("caught");
    println!("{trace}");
    assert!(matches!(trace.kind, ViolationKind::Invariant { .. }));
    let actions: Vec<&LinkAction> = trace.steps.iter().map(|s| &s.action).collect();
    // Both messages sent, the Hello and its answer delivered, then message 1 overtakes message
    // 0 and the broken receiver delivers it first.
    assert_eq!(trace.len(), 5, "{actions:?}");
    assert_eq!(trace.last_state().delivered, vec![1]);
}
