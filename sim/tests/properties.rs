//! proptest properties over every algorithm: random cluster sizes, delay distributions, FIFO on
//! (and off where the algorithm tolerates it), workloads and seeds. Safety, liveness, stamp
//! order and the token invariant are checked by the simulator on every run; a failing case
//! shrinks towards a small cluster and a simple schedule, and its message carries the seed and
//! configuration to replay it with `dme run`.

use dme_core::{Node, NodeId};
use dme_lamport::Lamport;
use dme_maekawa::{Maekawa, QuorumKind, Quorums};
use dme_raymond::{Raymond, TreeShape};
use dme_ricart_agrawala::RicartAgrawala;
use dme_sim::{Config, Dist, Workload, run};
use proptest::prelude::*;

mod common;
use common::each;

fn delay() -> impl Strategy<Value = Dist> {
    prop_oneof![
        (0u64..20).prop_map(Dist::Constant),
        (0u64..10, 0u64..30).prop_map(|(lo, span)| Dist::Uniform { lo, hi: lo + span }),
        (1u64..30).prop_map(|mean| Dist::Exponential { mean: mean as f64 }),
    ]
}

fn workload() -> impl Strategy<Value = Workload> {
    prop_oneof![
        Just(Workload::Light),
        Just(Workload::Heavy),
        delay().prop_map(|think| Workload::Random { think }),
    ]
}

prop_compose! {
    fn config(fifo: Option<bool>)(
        seed in any::<u64>(),
        delay in delay(),
        any_fifo in any::<bool>(),
        workload in workload(),
        cs_time in 0u64..20,
        requests_per_node in 1u32..4,
    ) -> Config {
        Config {
            seed,
            delay,
            fifo: fifo.unwrap_or(any_fifo),
            workload,
            cs_time,
            requests_per_node,
            trace_tail: 0,
            ..Config::default()
        }
    }
}

/// Runs `nodes` under `config` and asserts every check held and every request was served.
fn holds<N: Node>(name: &str, nodes: Vec<N>, config: &Config) -> Result<(), TestCaseError> {
    let n = nodes.len();
    let report = run(nodes, config).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let replay = format!(
        "replay: dme run --algorithm {name} --nodes {n} --load {} --delay {} --cs-time {} \
         --requests {}{} --seed {}",
        config.workload.name(),
        config.delay,
        config.cs_time,
        config.requests_per_node,
        if config.fifo { "" } else { " --no-fifo" },
        config.seed
    );
    prop_assert!(report.is_ok(), "{replay}\n{report}");
    prop_assert_eq!(
        report.entries,
        n as u64 * config.requests_per_node as u64,
        "{}",
        replay
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn ricart_agrawala_is_safe_and_live_with_or_without_fifo(
        n in 2usize..10, config in config(None),
    ) {
        holds("ricart-agrawala", each(n, RicartAgrawala::new), &config)?;
    }

    #[test]
    fn lamport_is_safe_live_and_ordered_with_fifo(n in 2usize..10, config in config(Some(true))) {
        holds("lamport", each(n, Lamport::new), &config)?;
        holds("lamport-suppress-replies", each(n, Lamport::with_reply_suppression), &config)?;
    }

    #[test]
    fn maekawa_is_safe_and_live_with_or_without_fifo(
        n in 2usize..14,
        kind in prop_oneof![Just(QuorumKind::Grid), Just(QuorumKind::ProjectivePlane), Just(QuorumKind::Auto)],
        config in config(None),
    ) {
        let quorums = Quorums::new(n, kind).unwrap();
        prop_assert!(quorums.validate().is_ok(), "{quorums}");
        holds("maekawa", Maekawa::cluster(&quorums).unwrap(), &config)?;
    }

    #[test]
    fn raymond_is_safe_live_and_keeps_one_token_with_or_without_fifo(
        n in 2usize..16,
        shape in prop_oneof![
            Just(TreeShape::Star), Just(TreeShape::Line), (1usize..4).prop_map(TreeShape::Kary),
            Just(TreeShape::Random),
        ],
        holder in any::<prop::sample::Index>(),
        config in config(None),
    ) {
        let tree = shape.build(n, config.seed).unwrap();
        let holder = NodeId(holder.index(n) as u32);
        holds("raymond", Raymond::cluster(&tree, holder).unwrap(), &config)?;
    }

    #[test]
    fn quorums_of_every_kind_pairwise_intersect(n in 1usize..120) {
        for kind in [QuorumKind::Grid, QuorumKind::ProjectivePlane, QuorumKind::Auto] {
            let q = Quorums::new(n, kind).unwrap();
            prop_assert!(q.validate().is_ok(), "{q}");
            let sets = q.sets();
            for (i, a) in sets.iter().enumerate() {
                prop_assert!(a.contains(&NodeId(i as u32)));
                for b in sets {
                    prop_assert!(a.iter().any(|x| b.contains(x)), "N={n} {kind}: {a:?} ∩ {b:?} = ∅");
                }
            }
        }
    }
}
