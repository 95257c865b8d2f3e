//! The standard suite on every registered algorithm, from its descriptor.

use dme_conformance::{Suite, conform};
use dme_core::describe::Algorithm;

fn passes<A: Algorithm>(alg: &A, suite: Suite) {
    match conform(alg, &suite) {
        Ok(passed) => {
            for line in passed.lines {
                println!("{}: {line}", alg.name());
            }
        }
        Err(failed) => panic!("{}", failed.join("\n")),
    }
}

#[test]
fn ricart_agrawala() {
    passes(&dme_ricart_agrawala::describe::Descriptor, Suite::default());
}

/// Lamport's N = 3, R = 1 space is 949,199 states (16 s in release): in the ignored tests.
fn lamport_suite() -> Suite {
    Suite {
        exhaustive: vec![(2, 2), (2, 3)],
        ..Suite::default()
    }
}

#[test]
fn lamport() {
    passes(&dme_lamport::describe::Classic, lamport_suite());
}

#[test]
fn lamport_suppress_replies() {
    passes(&dme_lamport::describe::SuppressReplies, lamport_suite());
}

#[test]
#[ignore = "about 30 s in release: Lamport's N = 3 spaces"]
fn lamport_at_three_nodes() {
    let suite = Suite {
        exhaustive: vec![(3, 1)],
        ..Suite::default()
    };
    passes(&dme_lamport::describe::Classic, suite.clone());
    passes(&dme_lamport::describe::SuppressReplies, suite);
}

#[test]
fn maekawa() {
    passes(&dme_maekawa::describe::Descriptor, Suite::default());
}

#[test]
fn maekawa_no_deadlock_handling_deadlocks() {
    passes(&dme_maekawa::describe::NoDeadlockHandling, Suite::default());
}

#[test]
fn raymond() {
    passes(&dme_raymond::describe::Descriptor, Suite::default());
}

#[test]
fn lodha_kshemkalyani() {
    passes(
        &dme_lodha_kshemkalyani::describe::Descriptor,
        Suite::default(),
    );
}

#[test]
fn central() {
    passes(&dme_central::describe::Descriptor, Suite::default());
}

#[test]
fn roucairol_carvalho() {
    passes(
        &dme_roucairol_carvalho::describe::Descriptor,
        Suite::default(),
    );
}

#[test]
fn agrawal_el_abbadi() {
    passes(
        &dme_agrawal_el_abbadi::describe::Descriptor,
        Suite::default(),
    );
}

#[test]
fn suzuki_kasami() {
    passes(&dme_suzuki_kasami::describe::Descriptor, Suite::default());
}

#[test]
fn naimi_trehel() {
    passes(&dme_naimi_trehel::describe::Descriptor, Suite::default());
}
