//! The standard suite, run on any algorithm from its descriptor.

use std::fmt::Write as _;
use std::time::Instant;

use dme_core::describe::{Algorithm, Facts, Figure, Params};
use dme_core::{Effect, Error, Node, NodeId, Outbox};
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};
use dme_sim::tracefile::TraceFile;
use dme_sim::{Config, Dist, Report, Workload, run};

/// The message delay of the textbook comparisons.
pub const T: u64 = 10;

/// How much of the suite to run. The default is the default test suite's (a few seconds per
/// algorithm in release); raise `seeds`, `sizes` and `exhaustive` for a longer run.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The parameters of the algorithm (`quorum`, `tree`, …; empty: its defaults).
    pub params: Params,
    /// Cluster sizes of the simulated checks.
    pub sizes: Vec<usize>,
    /// Random seeds per size, load and channel kind (`0..seeds`).
    pub seeds: u64,
    /// Requests per node in the simulated runs.
    pub requests: u32,
    /// The exhaustive checks: (nodes, requests per node).
    pub exhaustive: Vec<(usize, u32)>,
    /// The exhaustive checker's state limit (reaching it fails the suite: make the space
    /// smaller).
    pub max_states: u64,
}

impl Default for Suite {
    fn default() -> Self {
        Suite {
            params: Params::new(),
            sizes: vec![3],
            seeds: 1_000,
            requests: 2,
            exhaustive: vec![(2, 2), (3, 1)],
            max_states: 3_000_000,
        }
    }
}

/// What the suite measured, one line per check.
#[derive(Clone, Debug, Default)]
pub struct Passed {
    /// One line per check: what it ran and what it found.
    pub lines: Vec<String>,
}

fn fail(what: impl Into<String>) -> String {
    what.into()
}

fn build<A: Algorithm>(
    alg: &A,
    n: usize,
    params: &Params,
    seed: u64,
) -> Result<Vec<A::Node>, String> {
    let setup = alg.setup(n, params, seed)?;
    (0..n as u32).map(|i| alg.node(&setup, NodeId(i))).collect()
}

fn config(seed: u64, workload: Workload, fifo: bool, requests: u32) -> Config {
    Config {
        seed,
        delay: Dist::Uniform { lo: 1, hi: 20 },
        fifo,
        workload,
        cs_time: 5,
        requests_per_node: requests,
        trace_tail: 0,
        ..Config::default()
    }
}

fn textbook(requests: u32, workload: Workload) -> Config {
    Config {
        seed: 1,
        delay: Dist::Constant(T),
        fifo: true,
        workload,
        cs_time: 5,
        requests_per_node: requests,
        ..Config::default()
    }
}

/// One check of the suite: a line saying what it measured, or why it failed.
pub type Check<A> = fn(&A, &Suite) -> Result<String, String>;

/// Runs the whole standard suite on `alg`; `Err` lists every check that failed.
///
/// ```
/// let passed = dme_conformance::conform(&dme_ricart_agrawala::describe::Descriptor, &dme_conformance::Suite {
///     seeds: 20,
///     ..Default::default()
/// })
/// .unwrap();
/// assert!(passed.lines.iter().any(|l| l.starts_with("exhaustive")));
/// ```
pub fn conform<A: Algorithm>(alg: &A, suite: &Suite) -> Result<Passed, Vec<String>> {
    let mut passed = Passed::default();
    let mut failed = Vec::new();
    let checks: [(&str, Check<A>); 7] = [
        ("misuse", misuse),
        ("determinism", determinism),
        ("seeds", seeds),
        ("textbook", figures),
        ("exhaustive", exhaustive),
        ("trace", trace_round_trip),
        ("memory", memory),
    ];
    for (name, check) in checks {
        let start = Instant::now();
        match check(alg, suite) {
            Ok(line) => passed.lines.push(format!(
                "{name}: {line} ({:.2} s)",
                start.elapsed().as_secs_f64()
            )),
            Err(e) => failed.push(format!("{}: {name}: {e}", alg.name())),
        }
    }
    if failed.is_empty() {
        Ok(passed)
    } else {
        Err(failed)
    }
}

/// Misuse is an error and changes nothing: release while idle, request twice, a message from
/// a node outside the cluster.
pub fn misuse<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let mut nodes = build(alg, 3, &suite.params, 0)?;
    let mut out = Outbox::new();
    let unchanged = |what: &str, before: &A::Node, after: &A::Node, r: Result<(), Error>| match r {
        Ok(()) => Err(fail(format!("{what} was accepted"))),
        Err(_) if before != after => Err(fail(format!("{what} was refused but changed the node"))),
        Err(_) => Ok(()),
    };
    let before = nodes[1].clone();
    let r = nodes[1].release(&mut out);
    unchanged("a release while idle", &before, &nodes[1], r)?;
    nodes[1]
        .request(&mut out)
        .map_err(|e| format!("a first request: {e}"))?;
    let before = nodes[1].clone();
    let r = nodes[1].request(&mut out);
    unchanged("a second request", &before, &nodes[1], r)?;
    // A message of the algorithm's own, from an id outside the cluster.
    let msg = out.drain().find_map(|e| match e {
        Effect::Send { msg, .. } => Some(msg),
        Effect::Enter => None,
    });
    let Some(msg) = msg else {
        return Ok("release while idle, second request refused unchanged".into());
    };
    let before = nodes[0].clone();
    let r = nodes[0].on_message(NodeId(1_000_000), msg, &mut out);
    unchanged("a message from a non-member", &before, &nodes[0], r)?;
    Ok("release while idle, second request, message from a non-member: refused, unchanged".into())
}

/// The same seed gives the same digest; different seeds give different runs.
pub fn determinism<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let n = suite.sizes.first().copied().unwrap_or(3);
    let random = Workload::Random {
        think: Dist::Exponential { mean: 15.0 },
    };
    let go = |seed| -> Result<Report, String> {
        run(
            build(alg, n, &suite.params, 0)?,
            &config(seed, random.clone(), true, suite.requests),
        )
        .map_err(|e| e.to_string())
    };
    let (a, b, c) = (go(7)?, go(7)?, go(8)?);
    if a.digest != b.digest {
        return Err(fail(format!(
            "seed 7 twice: digests {:016x} and {:016x}",
            a.digest, b.digest
        )));
    }
    if a.digest == c.digest {
        return Err(fail(format!(
            "seeds 7 and 8: the same digest {:016x}",
            a.digest
        )));
    }
    Ok(format!(
        "seed 7 twice {:016x}, seed 8 {:016x}",
        a.digest, c.digest
    ))
}

/// `0..seeds` random seeds at light, heavy and random load, FIFO channels and, when the
/// algorithm does not need them, non-FIFO channels: every check of the simulator holds, except
/// that an algorithm that is not deadlock-free must deadlock in some run.
pub fn seeds<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let assumptions = alg.assumptions();
    let fifos: &[bool] = if assumptions.fifo {
        &[true]
    } else {
        &[true, false]
    };
    let loads = [
        Workload::Light,
        Workload::Heavy,
        Workload::Random {
            think: Dist::Exponential { mean: 15.0 },
        },
    ];
    let mut runs = 0u64;
    let mut failures = 0u64;
    for &n in &suite.sizes {
        let nodes = build(alg, n, &suite.params, 0)?;
        for &fifo in fifos {
            for load in &loads {
                for seed in 0..suite.seeds {
                    let report = run(
                        nodes.clone(),
                        &config(seed, load.clone(), fifo, suite.requests),
                    )
                    .map_err(|e| e.to_string())?;
                    runs += 1;
                    if let Some(f) = &report.failure {
                        failures += 1;
                        if assumptions.deadlock_free {
                            return Err(fail(format!(
                                "N={n}, {}, {}, seed {seed}: {} — {}",
                                load.name(),
                                if fifo { "FIFO" } else { "non-FIFO" },
                                f.kind,
                                f.description
                            )));
                        }
                    }
                }
            }
        }
    }
    if !assumptions.deadlock_free && failures == 0 {
        return Err(fail(format!(
            "claims to deadlock, but {runs} runs all passed"
        )));
    }
    Ok(format!(
        "{runs} runs, {failures} failed (sizes {:?})",
        suite.sizes
    ))
}

fn compare(
    what: &str,
    figure: &Figure,
    facts: &Facts<'_>,
    measured: Option<f64>,
) -> Result<String, String> {
    let shown = |m: Option<f64>| m.map_or("none".to_string(), |m| format!("{m:.3}"));
    match (figure, measured) {
        (Figure::Exact(_), m) => {
            let want = figure.value(facts);
            match (want, m) {
                (Some(w), Some(m)) if (w - m).abs() > 1e-9 => Err(fail(format!(
                    "{what}: measured {m:.3}, textbook {} = {w:.3}",
                    figure.text()
                ))),
                _ => Ok(format!("{what} {} = {}", figure.text(), shown(m))),
            }
        }
        (Figure::Range { .. }, Some(m)) => match figure.range(facts) {
            Some((lo, hi)) if m < lo - 1e-9 || m > hi + 1e-9 => Err(fail(format!(
                "{what}: measured {m:.3}, outside {} = {lo:.3}..{hi:.3}",
                figure.text()
            ))),
            _ => Ok(format!("{what} {} ∋ {}", figure.text(), shown(Some(m)))),
        },
        _ => Ok(format!("{what} {} ~ {}", figure.text(), shown(measured))),
    }
}

/// Light and heavy load with constant delay T against the descriptor's textbook figures: exact
/// figures must be met exactly, ranges must hold, estimates are reported.
pub fn figures<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let n = suite.sizes.first().copied().unwrap_or(3);
    let figures = alg.figures();
    let mut line = String::new();
    for (name, workload, load) in [
        ("light", Workload::Light, figures.light),
        ("heavy", Workload::Heavy, figures.heavy),
    ] {
        let report = run(build(alg, n, &suite.params, 1)?, &textbook(4, workload))
            .map_err(|e| e.to_string())?;
        if let Some(f) = &report.failure {
            if alg.assumptions().deadlock_free {
                return Err(fail(format!("{name} load: {} — {}", f.kind, f.description)));
            }
            continue;
        }
        let requests: Vec<NodeId> = report.entry_log.iter().map(|e| e.node).collect();
        let facts = Facts {
            nodes: n,
            params: &suite.params,
            seed: 1,
            requests: &requests,
            entries: report.entries,
        };
        let messages = Some(report.messages_per_entry());
        let sync = report.sync_delay.as_ref().map(|s| s.mean / T as f64);
        let m = compare(
            &format!("{name} messages/entry"),
            &load.messages_per_entry,
            &facts,
            messages,
        )?;
        let s = compare(
            &format!("{name} sync delay/T"),
            &load.sync_delay,
            &facts,
            sync,
        )?;
        let _ = write!(line, "{m}; {s}; ");
    }
    Ok(line.trim_end_matches("; ").to_string())
}

/// The exhaustive checker on the `exhaustive` sizes, FIFO channels (and non-FIFO where the
/// algorithm claims not to need them): no violation, or, for an algorithm that is not
/// deadlock-free, a deadlock.
pub fn exhaustive<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let fifos: &[bool] = if alg.assumptions().fifo {
        &[true]
    } else {
        &[true, false]
    };
    let mut line = Vec::new();
    for &(n, r) in &suite.exhaustive {
        for &fifo in fifos {
            let cfg = ClusterCheckConfig {
                requests_per_node: r,
                fifo,
                max_states: Some(suite.max_states),
                check_deadlock: true,
                partial_order_reduction: false,
            };
            let outcome =
                check_cluster(build(alg, n, &suite.params, 0)?, &cfg).map_err(|e| e.to_string())?;
            let summary = outcome.summary();
            let kind = summary.violation.as_ref().map_or("none", |v| v.kind);
            let states = outcome.stats.distinct_states;
            let scope = format!("N={n} R={r} {}", if fifo { "FIFO" } else { "non-FIFO" });
            let expected = if alg.assumptions().deadlock_free {
                "none"
            } else {
                "deadlock"
            };
            if kind != expected
                || (kind == "none" && !matches!(outcome.verdict, Verdict::NoViolation))
            {
                return Err(fail(format!(
                    "{scope}: {kind} ({:?}) after {states} states, expected {expected}",
                    summary.verdict
                )));
            }
            line.push(format!("{scope} {kind} ({states} states)"));
        }
    }
    Ok(line.join(", "))
}

/// A run's trace file, written and read back, is the same trace file with the run's digest.
pub fn trace_round_trip<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let n = suite.sizes.first().copied().unwrap_or(3);
    let cfg = Config {
        full_trace: true,
        ..config(3, Workload::Heavy, true, suite.requests)
    };
    let report = run(build(alg, n, &suite.params, 0)?, &cfg).map_err(|e| e.to_string())?;
    let file = TraceFile::from_report(alg.name(), "", suite.params.clone(), &report);
    let text = file.to_json();
    let back = TraceFile::parse(&text).map_err(|e| e.0)?;
    if back != file {
        return Err(fail(
            "the trace file read back differs from the one written",
        ));
    }
    if back.digest_value() != Some(report.digest) || report.trace.is_empty() {
        return Err(fail(
            "the trace file does not carry the run's digest and events",
        ));
    }
    Ok(format!(
        "{} events, {} bytes",
        report.trace.len(),
        text.len()
    ))
}

/// A node's own size (its inline state; what it owns on the heap is not counted) is within the
/// descriptor's memory estimate per node, at every size of the suite.
pub fn memory<A: Algorithm>(alg: &A, suite: &Suite) -> Result<String, String> {
    let mut line = Vec::new();
    for &n in suite
        .sizes
        .iter()
        .chain(suite.exhaustive.iter().map(|(n, _)| n))
    {
        let size = std::mem::size_of::<A::Node>() as u64;
        let estimate = alg.memory_per_node(n, &suite.params);
        if size > estimate {
            return Err(fail(format!(
                "N={n}: a node is {size} bytes, the estimate {estimate}"
            )));
        }
        line.push(format!("N={n} {size} ≤ {estimate} B"));
    }
    line.dedup();
    Ok(line.join(", "))
}
