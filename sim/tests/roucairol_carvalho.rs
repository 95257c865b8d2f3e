//! Roucairol–Carvalho in the simulator: exactly 0 messages for a repeated solo re-entry, exactly
//! 2(N−1) for a request after every other site has taken its permission, and at light load
//! exactly 2 per permission missing (predicted from the order of entries alone); the heavy-load
//! figure measured; no failure over many seeds, FIFO on and off. Run with `--nocapture` to see
//! the measured figures.

use dme_roucairol_carvalho::RoucairolCarvalho;
use dme_sim::{Config, Dist, Report, Scenario, Workload, run};

mod common;
use common::{E, T, constant, each};

fn rc(n: usize) -> Vec<RoucairolCarvalho> {
    each(n, RoucairolCarvalho::new)
}

fn scripted(text: &str) -> Config {
    Config {
        workload: Workload::Scripted(Scenario::parse(text).unwrap()),
        ..constant(Workload::Light, 0)
    }
}

/// Site 0 (which starts with every permission) enters three times alone: 0 messages each time,
/// waiting time 0. Then every other site enters once in turn, each taking site 0's permission
/// (and those of the sites before it), and site 0 asks again: exactly 2(N−1) messages, N−1
/// REQUESTs and N−1 REPLYs, waiting time 2T.
#[test]
fn solo_re_entry_costs_0_and_a_request_after_everyone_took_its_permission_costs_2n_minus_2() {
    for n in [2usize, 3, 5, 8, 16, 33] {
        let mut text = String::new();
        let gap = 4 * T + E; // longer than any entry: the requests never overlap
        let mut at = 0;
        for _ in 0..3 {
            text.push_str(&format!("at {at} node 0 requests\n"));
            at += gap;
        }
        for i in 1..n {
            text.push_str(&format!("at {at} node {i} requests\n"));
            at += gap;
        }
        text.push_str(&format!("at {at} node 0 requests\n"));
        let r = run(rc(n), &scripted(&text)).unwrap();
        assert!(r.is_ok(), "{r}");
        let per = r.messages_per_request();
        assert_eq!(&per[..3], &[0, 0, 0], "N={n}: solo re-entries");
        assert_eq!(*per.last().unwrap(), 2 * (n as u64 - 1), "N={n}");
        let waits: Vec<u64> = r
            .entry_log
            .iter()
            .map(|e| e.entered_at.unwrap() - e.requested_at)
            .collect();
        assert_eq!(&waits[..3], &[0, 0, 0]);
        assert_eq!(*waits.last().unwrap(), 2 * T);
        // Site i (1 ≤ i < N) lacks only the permissions of the sites below it: 2i messages.
        for i in 1..n {
            assert_eq!(per[2 + i], 2 * i as u64, "N={n}: site {i}'s first entry");
        }
    }
}

/// Light load (one request at a time, random requesters): each request costs exactly 2 × the
/// permissions its site lacks, predicted from the order of entries alone — a site lacks j's
/// permission iff j entered after its last entry (or, neither having entered, j < it).
#[test]
fn light_load_costs_exactly_two_per_missing_permission() {
    for n in [2usize, 3, 5, 8, 16, 33] {
        for seed in 0..5 {
            let config = Config {
                seed,
                ..constant(Workload::Light, 6)
            };
            let r = run(rc(n), &config).unwrap();
            assert!(r.is_ok(), "{r}");
            assert_eq!(r.entries, 6 * n as u64);
            // holder[a][b]: who holds the permission of the pair {a, b}.
            let mut holder: Vec<Vec<usize>> =
                (0..n).map(|a| (0..n).map(|b| a.min(b)).collect()).collect();
            for (e, messages) in r.entry_log.iter().zip(r.messages_per_request()) {
                let i = e.node.index();
                let missing = (0..n).filter(|&j| j != i && holder[i][j] != i).count() as u64;
                assert_eq!(
                    messages,
                    2 * missing,
                    "N={n} seed={seed}: entry by {}",
                    e.node
                );
                let wait = e.entered_at.unwrap() - e.requested_at;
                assert_eq!(wait, if missing == 0 { 0 } else { 2 * T });
                holder[i].fill(i);
                for row in &mut holder {
                    row[i] = i;
                }
            }
            if seed == 0 {
                println!(
                    "light N={n:<3} messages/entry {:.3} (2(N-1) = {})",
                    r.messages_per_entry(),
                    2 * (n - 1)
                );
            }
        }
    }
}

/// Heavy load, constant delay T: every site always wants the critical section, so permissions
/// travel on almost every entry. Measured (T = 10, E = 5, 10 requests per site, seed 1),
/// messages per entry: N = 2: 1.700 (2(N−1) = 2), 3: 3.533 (4), 5: 7.280 (8), 8: 12.950 (14),
/// 16: 28.125 (30), 33: 60.412 (64) — below 2(N−1) because a site that leaves before the next
/// REQUEST reaches it re-enters with the permissions it kept (sync delay 0 then; otherwise T,
/// the leaving site's deferred REPLY).
#[test]
fn heavy_load_costs_at_most_2n_minus_2_and_sync_delay_is_t() {
    for (n, messages) in [
        (2usize, 34),
        (3, 106),
        (5, 364),
        (8, 1_036),
        (16, 4_500),
        (33, 19_936),
    ] {
        let r = run(rc(n), &constant(Workload::Heavy, 10)).unwrap();
        assert!(r.is_ok(), "{r}");
        assert_eq!(r.entries, 10 * n as u64);
        let by = |kind: &str| r.messages_by_kind.get(kind).copied().unwrap_or(0);
        assert_eq!(by("REQUEST"), by("REPLY"), "every REQUEST is answered once");
        let per_entry = r.messages_per_entry();
        let sync = r.sync_delay.expect("sites wait under heavy load");
        println!(
            "heavy N={n:<3} messages/entry {per_entry:.3} (2(N-1) = {}); sync delay mean {:.2}T \
             (min {}T, max {}T)",
            2 * (n - 1),
            sync.mean / T as f64,
            sync.min as f64 / T as f64,
            sync.max as f64 / T as f64,
        );
        assert!(per_entry <= 2.0 * (n as f64 - 1.0), "N={n}: {per_entry}");
        assert_eq!(r.messages, messages, "N={n}");
        assert_eq!(sync.max, T, "N={n}");
        assert!(sync.min == 0 || sync.min == T, "N={n}: {sync}");
    }
}

fn sweep_config(seed: u64, fifo: bool, load: usize) -> Config {
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
        fifo,
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
        for fifo in [true, false] {
            for load in 0..3 {
                for seed in seeds.clone() {
                    let r: Report = run(rc(n), &sweep_config(seed, fifo, load)).unwrap();
                    assert!(r.is_ok(), "N={n} fifo={fifo} load={load} seed={seed}\n{r}");
                    assert_eq!(r.entries, 3 * n as u64);
                    runs += 1;
                }
            }
        }
    }
    runs
}

/// N = 2..=16, FIFO on and off, light, heavy and random load, random delays (uniform 1..30),
/// 3 requests per site: seeds 0..20 in the default suite.
#[test]
fn random_delays_never_break_safety_or_liveness() {
    assert_eq!(sweep(0..20), 20 * 15 * 2 * 3);
}

/// The whole sweep: 1,000 seeds × N = 2..=16 × FIFO on/off × light, heavy, random = 90,000
/// runs, no failure.
#[test]
#[ignore = "the full sweep; the default suite runs 20 seeds"]
fn random_delays_never_break_safety_or_liveness_1000_seeds() {
    assert_eq!(sweep(0..1000), 90_000);
}

/// The permission of the pair {0, 1} starts at site 0: site 1's first entry costs 2, site 0's
/// next one 2 (it takes it back), site 1's next 2, and site 1 again, alone, nothing.
#[test]
fn the_initial_permissions_are_at_the_smaller_ids() {
    let r = run(
        rc(2),
        &scripted(
            "at 0 node 1 requests\nat 100 node 0 requests\nat 200 node 1 requests\n\
             at 300 node 1 requests\n",
        ),
    )
    .unwrap();
    assert!(r.is_ok(), "{r}");
    assert_eq!(r.messages_per_request(), vec![2, 2, 2, 0]);
}

/// The registry's light-load figure (replaying who holds each permission from the entries) is
/// what the simulator measures, exactly.
#[test]
fn the_descriptor_light_figure_equals_the_simulator() {
    use dme_core::describe::{Describe, Facts, Params};
    for n in [2usize, 5, 16] {
        let r = run(rc(n), &constant(Workload::Light, 5)).unwrap();
        assert!(r.is_ok(), "{r}");
        let entries: Vec<_> = r.entry_log.iter().map(|e| e.node).collect();
        let params = Params::new();
        let facts = Facts {
            nodes: n,
            params: &params,
            seed: 0,
            requests: &entries,
            entries: entries.len() as u64,
        };
        let figure = dme_roucairol_carvalho::describe::Descriptor.figures();
        assert_eq!(
            figure.light.messages_per_entry.value(&facts),
            Some(r.messages_per_entry()),
            "N={n}"
        );
    }
}
