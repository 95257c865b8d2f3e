//! Every algorithm over the reliable link (`dme-link`) on a network that drops 20 % of the
//! frames, duplicates 10 % and reorders them (delays uniform over 1..=20 ticks), N = 5: every
//! message delivered exactly once and in order per pair, safety and liveness hold, and the same
//! seed gives the same digest. 200 seeds per algorithm here; 10,000 in the ignored test.

use dme_core::{Node, NodeId, cluster};
use dme_lamport::Lamport;
use dme_maekawa::{Maekawa, Quorums};
use dme_raymond::{Raymond, Tree};
use dme_ricart_agrawala::RicartAgrawala;
use dme_sim::overlink::{LinkedConfig, LinkedFailureKind, LinkedReport, run_over_link};

const N: usize = 5;

fn lamport() -> Vec<Lamport> {
    cluster(N)
        .iter()
        .map(|&i| Lamport::new(i, &cluster(N)).unwrap())
        .collect()
}
fn lamport_suppress_replies() -> Vec<Lamport> {
    let m = cluster(N);
    m.iter()
        .map(|&i| Lamport::with_reply_suppression(i, &m).unwrap())
        .collect()
}
fn ricart_agrawala() -> Vec<RicartAgrawala> {
    let m = cluster(N);
    m.iter()
        .map(|&i| RicartAgrawala::new(i, &m).unwrap())
        .collect()
}
fn maekawa() -> Vec<Maekawa> {
    Maekawa::cluster(&Quorums::auto(N).unwrap()).unwrap()
}
fn raymond() -> Vec<Raymond> {
    Raymond::cluster(&Tree::binary(N).unwrap(), NodeId(0)).unwrap()
}

fn run<Nd: Node>(nodes: Vec<Nd>, seed: u64) -> LinkedReport {
    let config = LinkedConfig {
        seed,
        ..LinkedConfig::default()
    };
    run_over_link(nodes, &config).unwrap()
}

/// Runs `seeds` for one algorithm; returns (frames dropped, frames duplicated, retransmitted,
/// duplicates dropped) summed, after asserting every check on every seed.
fn sweep<Nd: Node>(
    name: &str,
    build: impl Fn() -> Vec<Nd>,
    seeds: std::ops::Range<u64>,
) -> [u64; 5] {
    let mut sums = [0u64; 5];
    for seed in seeds {
        let r = run(build(), seed);
        assert!(r.is_ok(), "{name} seed {seed}: {}", r.failure.unwrap());
        assert_eq!(r.entries, 5 * N as u64, "{name} seed {seed}");
        assert_eq!(
            r.delivered, r.messages,
            "{name} seed {seed}: each message once"
        );
        sums[0] += r.messages;
        sums[1] += r.frames_dropped;
        sums[2] += r.frames_duplicated;
        sums[3] += r.retransmitted;
        sums[4] += r.duplicates_dropped;
    }
    println!(
        "{name}: messages {}, frames dropped {}, duplicated {}, retransmitted {}, duplicates dropped {}",
        sums[0], sums[1], sums[2], sums[3], sums[4]
    );
    sums
}

fn all(seeds: std::ops::Range<u64>) {
    for sums in [
        sweep("lamport", lamport, seeds.clone()),
        sweep(
            "lamport-suppress-replies",
            lamport_suppress_replies,
            seeds.clone(),
        ),
        sweep("ricart-agrawala", ricart_agrawala, seeds.clone()),
        sweep("maekawa", maekawa, seeds.clone()),
        sweep("raymond", raymond, seeds.clone()),
    ] {
        assert!(
            sums[1] > 0 && sums[2] > 0 && sums[3] > 0 && sums[4] > 0,
            "the faults happened"
        );
    }
}

#[test]
fn every_algorithm_over_the_link_on_a_lossy_network_200_seeds() {
    all(0..200);
}

#[test]
#[ignore = "10,000 seeds per algorithm; run with --ignored"]
fn every_algorithm_over_the_link_on_a_lossy_network_10000_seeds() {
    all(0..10_000);
}

#[test]
fn the_same_seed_gives_the_same_digest() {
    let a = run(ricart_agrawala(), 7);
    assert_eq!(a, run(ricart_agrawala(), 7));
    assert_ne!(a.digest, run(ricart_agrawala(), 8).digest);
    let r = run(raymond(), 3);
    assert_eq!(r.digest, run(raymond(), 3).digest);
    println!(
        "ricart-agrawala seed 7 digest {:016x}, raymond seed 3 digest {:016x}",
        a.digest, r.digest
    );
}

#[test]
fn a_receiver_without_de_duplication_is_caught() {
    let config = LinkedConfig {
        faulty_receiver: true,
        ..LinkedConfig::default()
    };
    let mut caught = 0;
    for seed in 0..20 {
        let r = run_over_link(
            ricart_agrawala(),
            &LinkedConfig {
                seed,
                ..config.clone()
            },
        )
        .unwrap();
        let failure = r.failure.expect("the broken receiver is caught");
        assert_eq!(
            failure.kind,
            LinkedFailureKind::Delivery,
            "seed {seed}: {failure}"
        );
        caught += 1;
    }
    assert_eq!(caught, 20);
}
