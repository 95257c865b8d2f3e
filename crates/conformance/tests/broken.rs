//! The kit's checks can fail: each deliberately broken algorithm below is refused by the check
//! named after its mistake.

use std::sync::atomic::{AtomicU64, Ordering};

use dme_conformance::mutant::{Mistake, Mutant};
use dme_conformance::{Suite, conform};
use dme_core::describe::{Algorithm, Assumptions, Describe, Figures, Params};
use dme_core::{Error, Node, NodeId, Outbox, Phase};
use dme_lamport::LamportMessage;
use dme_ricart_agrawala::RaMessage;

/// A real descriptor whose nodes carry a mistake, and whose claims can be overridden.
struct Broken<D, M> {
    real: D,
    mistake: fn() -> M,
    memory: Option<u64>,
    deadlock_free: Option<bool>,
}

impl<D: Describe, M: Send + Sync> Describe for Broken<D, M> {
    fn name(&self) -> &'static str {
        self.real.name()
    }
    fn summary(&self) -> &'static str {
        "broken on purpose"
    }
    fn assumptions(&self) -> Assumptions {
        let mut a = self.real.assumptions();
        a.deadlock_free = self.deadlock_free.unwrap_or(a.deadlock_free);
        a
    }
    fn figures(&self) -> Figures {
        self.real.figures()
    }
    fn memory_per_node(&self, nodes: usize, params: &Params) -> u64 {
        self.memory
            .unwrap_or_else(|| self.real.memory_per_node(nodes, params))
    }
}

impl<D, M> Algorithm for Broken<D, M>
where
    D: Algorithm,
    M: Mistake<D::Node> + Send + Sync + 'static,
{
    type Node = Mutant<D::Node, M>;
    type Setup = D::Setup;
    fn setup(&self, nodes: usize, params: &Params, seed: u64) -> Result<D::Setup, String> {
        self.real.setup(nodes, params, seed)
    }
    fn node(&self, setup: &D::Setup, id: NodeId) -> Result<Self::Node, String> {
        Ok(Mutant {
            node: self.real.node(setup, id)?,
            mistake: (self.mistake)(),
        })
    }
}

fn broken<D, M>(real: D, mistake: fn() -> M) -> Broken<D, M> {
    Broken {
        real,
        mistake,
        memory: None,
        deadlock_free: None,
    }
}

/// The failures of the suite that name `check`.
fn fails<A: Algorithm>(alg: &A, check: &str) -> Vec<String> {
    let suite = Suite {
        seeds: 50,
        exhaustive: vec![(2, 2)],
        ..Suite::default()
    };
    let failed = conform(alg, &suite).expect_err("a broken algorithm passed the suite");
    for f in &failed {
        println!("{f}");
    }
    let named: Vec<String> = failed
        .into_iter()
        .filter(|f| f.contains(&format!(": {check}: ")))
        .collect();
    assert!(!named.is_empty(), "the {check} check did not fail");
    named
}

/// No mistake at all (the control: the wrapper alone passes).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct None_;
impl<N: Node> Mistake<N> for None_ {}

#[test]
fn the_wrapper_alone_passes() {
    let alg = broken(dme_ricart_agrawala::describe::Descriptor, || None_);
    conform(
        &alg,
        &Suite {
            seeds: 50,
            ..Suite::default()
        },
    )
    .unwrap();
}

/// Answers every REQUEST at once, whatever its stamp: its peers enter without its permission.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct GrantsEverything;
impl Mistake<dme_ricart_agrawala::RicartAgrawala> for GrantsEverything {
    fn on_message(
        &mut self,
        node: &mut dme_ricart_agrawala::RicartAgrawala,
        from: NodeId,
        msg: RaMessage,
        out: &mut Outbox<RaMessage>,
    ) -> Result<(), Error> {
        let msg = match msg {
            RaMessage::Request { .. } => RaMessage::Request { sequence_number: 0 },
            m => m,
        };
        node.on_message(from, msg, out)
    }
}

#[test]
fn entering_without_permission_is_caught() {
    let alg = broken(dme_ricart_agrawala::describe::Descriptor, || {
        GrantsEverything
    });
    // The simulator sees the grant out of stamp order first, the checker the overlap.
    let seeds = fails(&alg, "seeds");
    assert!(seeds[0].contains(": order — "), "{seeds:?}");
    let textbook = fails(&alg, "textbook");
    assert!(textbook[0].contains("safety"), "{textbook:?}");
    let exhaustive = fails(&alg, "exhaustive");
    assert!(exhaustive[0].contains("safety"), "{exhaustive:?}");
}

/// Accepts a second request while requesting (and does nothing with it).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct AcceptsASecondRequest;
impl Mistake<dme_ricart_agrawala::RicartAgrawala> for AcceptsASecondRequest {
    fn request(
        &mut self,
        node: &mut dme_ricart_agrawala::RicartAgrawala,
        out: &mut Outbox<RaMessage>,
    ) -> Result<(), Error> {
        if node.phase() != Phase::Idle {
            return Ok(());
        }
        node.request(out)
    }
}

#[test]
fn accepting_misuse_is_caught() {
    let alg = broken(dme_ricart_agrawala::describe::Descriptor, || {
        AcceptsASecondRequest
    });
    let misuse = fails(&alg, "misuse");
    assert!(
        misuse[0].contains("a second request was accepted"),
        "{misuse:?}"
    );
}

/// Every node built counts; a node built an odd time also answers every RELEASE with a REPLY
/// (harmless, but the run then depends on how many clusters were built before, not only on the
/// seed).
static BUILT: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct DependsOnTheBuildCount(bool);
impl Mistake<dme_lamport::Lamport> for DependsOnTheBuildCount {
    fn on_message(
        &mut self,
        node: &mut dme_lamport::Lamport,
        from: NodeId,
        msg: LamportMessage,
        out: &mut Outbox<LamportMessage>,
    ) -> Result<(), Error> {
        let release = matches!(msg, LamportMessage::Release { .. });
        node.on_message(from, msg, out)?;
        if self.0 && release {
            out.send(
                from,
                LamportMessage::Reply {
                    timestamp: node.clock(),
                },
            );
        }
        Ok(())
    }
}

#[test]
fn a_digest_that_depends_on_more_than_the_seed_is_caught() {
    // Nodes are built in clusters of 3; every second cluster is chatty.
    let alg = broken(dme_lamport::describe::Classic, || {
        DependsOnTheBuildCount(BUILT.fetch_add(1, Ordering::Relaxed) / 3 % 2 == 1)
    });
    let determinism = fails(&alg, "determinism");
    assert!(determinism[0].contains("seed 7 twice"), "{determinism:?}");
    // The extra REPLYs also break the exact light-load figure 3(N−1).
    let textbook = fails(&alg, "textbook");
    assert!(
        textbook[0].contains("textbook 3(N-1) = 6.000"),
        "{textbook:?}"
    );
}

#[test]
fn a_node_over_its_memory_estimate_is_caught() {
    let alg = Broken {
        memory: Some(8),
        ..broken(dme_raymond::describe::Descriptor, || None_)
    };
    let memory = fails(&alg, "memory");
    assert!(memory[0].contains("the estimate 8"), "{memory:?}");
}

#[test]
fn a_wrong_deadlock_claim_is_caught_both_ways() {
    // Maekawa without deadlock handling, claimed deadlock-free: the checks find its deadlock.
    let alg = Broken {
        deadlock_free: Some(true),
        ..broken(dme_maekawa::describe::NoDeadlockHandling, || None_)
    };
    let seeds = fails(&alg, "seeds");
    assert!(seeds[0].contains("liveness"), "{seeds:?}");
    let exhaustive = fails(&alg, "exhaustive");
    assert!(exhaustive[0].contains("deadlock"), "{exhaustive:?}");
    // Ricart–Agrawala, claimed to deadlock: it never does, and the kit says so.
    let alg = Broken {
        deadlock_free: Some(false),
        ..broken(dme_ricart_agrawala::describe::Descriptor, || None_)
    };
    let seeds = fails(&alg, "seeds");
    assert!(seeds[0].contains("claims to deadlock"), "{seeds:?}");
}
