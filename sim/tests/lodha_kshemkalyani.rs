//! Lodha–Kshemkalyani in the simulator: exactly 2(N−1) messages per entry when no request is
//! concurrent with another (light load: N−1 REQUESTs, N−1 REPLYs), the heavy-load figure
//! measured (towards N−1 + 1: concurrent REQUESTs answer each other, one FLUSH hands the critical
//! section on), grants in stamp order, and no failure over many seeds with FIFO channels (the
//! algorithm needs them). Run with `--nocapture` to see the measured figures.

use dme_lodha_kshemkalyani::LodhaKshemkalyani;
use dme_sim::{Config, Dist, Report, Workload, run};

mod common;
use common::{T, constant, each};

fn lk(n: usize) -> Vec<LodhaKshemkalyani> {
    each(n, LodhaKshemkalyani::new)
}

/// Light load, constant delay T: every entry costs exactly 2(N−1) — N−1 REQUESTs, N−1 REPLYs,
/// no FLUSH (nothing is concurrent) — and waits exactly 2T.
#[test]
fn light_load_costs_exactly_2n_minus_2() {
    for n in [2usize, 3, 5, 8, 16, 33] {
        let r = run(lk(n), &constant(Workload::Light, 4)).unwrap();
        assert!(r.is_ok(), "{r}");
        assert_eq!(r.entries, 4 * n as u64);
        let expect = 2 * (n as u64 - 1);
        assert!(
            r.messages_per_request().iter().all(|&m| m == expect),
            "N={n}"
        );
        assert_eq!(r.messages_by_kind.get("FLUSH"), None);
        assert_eq!((r.waiting_time.min, r.waiting_time.max), (2 * T, 2 * T));
    }
}

/// Heavy load, constant delay T (10 requests per site, seed 1). Measured messages per entry:
/// N = 2: 1.950, 3: 3.867, 5: 7.680, 8: 13.387, 16: 28.594, 33: 60.897 — close to 2(N−1), not
/// N−1. Only the first round of requests is concurrent (one FLUSH per site but the last, N−1 in
/// all); every later request reaches sites that have already answered the sender, so it is
/// kept and answered by REPLY at their exit, as in Ricart–Agrawala. Sync delay exactly T.
#[test]
fn heavy_load_figures() {
    for (n, expected) in [
        (2usize, 39u64),
        (3, 116),
        (5, 384),
        (8, 1_071),
        (16, 4_575),
        (33, 20_096),
    ] {
        let r = run(lk(n), &constant(Workload::Heavy, 10)).unwrap();
        assert!(r.is_ok(), "{r}");
        let by = |kind: &str| r.messages_by_kind.get(kind).copied().unwrap_or(0);
        let per_entry = r.messages_per_entry();
        let sync = r.sync_delay.expect("sites wait under heavy load");
        println!(
            "heavy N={n:<3} messages/entry {per_entry:.3} (N-1 = {}, 2(N-1) = {}); REQUEST {} \
             REPLY {} FLUSH {} in {} entries; sync delay mean {:.2}T (min {}T, max {}T); \
             messages {}",
            n - 1,
            2 * (n - 1),
            by("REQUEST"),
            by("REPLY"),
            by("FLUSH"),
            r.entries,
            sync.mean / T as f64,
            sync.min as f64 / T as f64,
            sync.max as f64 / T as f64,
            r.messages
        );
        assert_eq!(by("REQUEST"), (n as u64 - 1) * r.entries);
        assert!(per_entry >= n as f64 - 1.0 && per_entry <= 2.0 * (n as f64 - 1.0));
        assert_eq!(r.messages, expected, "N={n}");
    }
}

fn sweep_config(seed: u64, load: usize) -> Config {
    let workload = match load {
        0 => Workload::Light,
        1 => Workload::Heavy,
        _ => Workload::Random {
            think: Dist::Exponential { mean: 15.0 },
        },
    };
    Config {
        seed,
        delay: Dist::Uniform { lo: 1, hi: 30 },
        fifo: true,
        workload,
        cs_time: 3,
        requests_per_node: 3,
        trace_tail: 0,
        ..Config::default()
    }
}

fn sweep(seeds: std::ops::Range<u64>) -> u64 {
    let mut runs = 0;
    for n in 2..=16usize {
        for load in 0..3 {
            for seed in seeds.clone() {
                let r: Report = run(lk(n), &sweep_config(seed, load)).unwrap();
                assert!(r.is_ok(), "N={n} load={load} seed={seed}\n{r}");
                assert_eq!(r.entries, 3 * n as u64);
                runs += 1;
            }
        }
    }
    runs
}

/// N = 2..=16, FIFO channels, light, heavy and random load, random delays (uniform 1..30),
/// 3 requests per site, every check (safety, liveness, stamp order, protocol): seeds 0..20.
#[test]
fn random_delays_with_fifo_never_break_safety_liveness_or_order() {
    assert_eq!(sweep(0..20), 20 * 15 * 3);
}

/// The whole sweep: 1,000 seeds × N = 2..=16 × light, heavy, random (FIFO) = 45,000 runs.
#[test]
#[ignore = "the full sweep; the default suite runs 20 seeds"]
fn random_delays_with_fifo_never_break_safety_liveness_or_order_1000_seeds() {
    assert_eq!(sweep(0..1000), 45_000);
}
