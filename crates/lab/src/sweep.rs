//! A sweep: every algorithm over a list of cluster sizes and loads, one simulated run each, with
//! the figures `dme sweep` writes to `results.csv` and plots.
//!
//! Runs are independent and each is deterministic (its own seeded simulator), so a sweep may
//! spread them over several threads and still give the same rows, in the same order, every
//! time.

use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use dme_registry::{ClusterSpec, Registry};
use dme_sim::Config;

use crate::simulate::simulate;
use crate::textbook::Textbook;

/// One run of a sweep: an algorithm, a load and a cluster size.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    /// The cluster to build.
    pub spec: ClusterSpec,
    /// The run's configuration (workload included).
    pub config: Config,
}

/// What one run of a sweep measured.
#[derive(Clone, PartialEq, Debug)]
pub struct SweepRow {
    /// The algorithm's name.
    pub algorithm: &'static str,
    /// `light`, `heavy` or `random`.
    pub load: String,
    /// Number of nodes.
    pub nodes: usize,
    /// The tree or quorum construction, where the algorithm has one.
    pub structure: String,
    /// Critical-section entries.
    pub entries: u64,
    /// Network messages.
    pub messages: u64,
    /// Messages per entry.
    pub messages_per_entry: f64,
    /// The textbook's figure for this run.
    pub textbook: Textbook,
    /// Mean synchronization delay in units of the mean message delay T (`None`: nobody waited).
    pub sync_delay_t: Option<f64>,
    /// Mean waiting time (request to entry), in units of T.
    pub waiting_time_t: f64,
    /// Mean response time (request to exit), in units of T.
    pub response_time_t: f64,
    /// The run's seed.
    pub seed: u64,
    /// The trace digest, hex.
    pub digest: String,
    /// `ok` or what failed.
    pub safety: String,
    /// `ok` or what failed.
    pub liveness: String,
}

impl SweepRow {
    /// Whether every check of the run held.
    pub fn is_ok(&self) -> bool {
        self.safety == "ok" && self.liveness == "ok"
    }
}

/// Runs one point of a sweep.
pub fn run_point<R: Registry>(registry: &R, point: &SweepPoint) -> Result<SweepRow, String> {
    let summary = simulate(registry, &point.spec, &point.config)?;
    let report = &summary.report;
    let t = point.config.delay.mean();
    let in_t = |ticks: f64| if t > 0.0 { ticks / t } else { ticks };
    Ok(SweepRow {
        algorithm: point.spec.algorithm,
        load: point.config.workload.name().to_string(),
        nodes: point.spec.nodes,
        structure: summary.structure.clone().unwrap_or_default(),
        entries: report.entries,
        messages: report.messages,
        messages_per_entry: report.messages_per_entry(),
        textbook: summary.textbook.clone(),
        sync_delay_t: report.sync_delay.and_then(|s| dme_sim::ratio(s.mean, t)),
        waiting_time_t: in_t(report.waiting_time.mean),
        response_time_t: in_t(report.response_time.mean),
        seed: point.config.seed,
        digest: summary.digest.clone(),
        safety: summary.safety.clone(),
        liveness: summary.liveness.clone(),
    })
}

/// Runs every point on up to `jobs` threads (at least one), calling `done` after each run (from
/// whichever thread ran it). The rows come back in the order of `points`, whatever the number
/// of threads. The first error (a cluster that cannot be built) is returned.
pub fn run_points<R: Registry>(
    registry: &R,
    points: &[SweepPoint],
    jobs: usize,
    done: &(dyn Fn(&SweepRow) + Sync),
) -> Result<Vec<SweepRow>, String> {
    // The largest clusters first, so that the threads finish together.
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(points[i].spec.nodes));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SweepRow, String>>>> =
        Mutex::new(vec![None; points.len()]);
    let jobs = jobs.clamp(1, points.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let row = run_point(registry, &points[i]);
                    if let Ok(row) = &row {
                        done(row);
                    }
                    let failed = row.is_err();
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(row);
                    if failed {
                        // Stop handing out work; the error is reported below.
                        next.store(order.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut rows = Vec::with_capacity(points.len());
    let mut skipped = false;
    for r in results {
        match r {
            Some(Ok(row)) => rows.push(row),
            Some(Err(e)) => return Err(e),
            None => skipped = true,
        }
    }
    if skipped {
        return Err("sweep stopped early".into());
    }
    Ok(rows)
}

/// The least-squares slope of `ln y` against `ln x`: the growth exponent `a` of `y ≈ c·x^a`.
/// `None` with fewer than two distinct `x` or a non-positive value.
pub fn fit_exponent(points: &[(f64, f64)]) -> Option<f64> {
    if points.iter().any(|&(x, y)| x <= 0.0 || y <= 0.0) {
        return None;
    }
    let logs: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x.ln(), y.ln())).collect();
    let n = logs.len() as f64;
    let mx = logs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = logs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = logs.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 1e-12).then(|| sxy / sxx)
}

/// A fitted growth exponent of messages per entry for one algorithm and load.
#[derive(Clone, PartialEq, Debug)]
pub struct Exponent {
    /// The algorithm's name.
    pub algorithm: &'static str,
    /// The load.
    pub load: String,
    /// The cluster sizes used in the fit.
    pub nodes: Vec<usize>,
    /// The slope of log messages per entry against log N (`None`: fewer than two sizes).
    pub exponent: Option<f64>,
}

/// The growth exponent of messages per entry for each algorithm and load of `rows` (in the
/// order they first appear), fitted over the sizes `lo ≤ N ≤ hi`.
pub fn exponents(rows: &[SweepRow], lo: usize, hi: usize) -> Vec<Exponent> {
    let mut series: Vec<(&'static str, String)> = Vec::new();
    for r in rows {
        if !series
            .iter()
            .any(|(a, l)| *a == r.algorithm && *l == r.load)
        {
            series.push((r.algorithm, r.load.clone()));
        }
    }
    series
        .into_iter()
        .map(|(algorithm, load)| {
            let pts: Vec<&SweepRow> = rows
                .iter()
                .filter(|r| r.algorithm == algorithm && r.load == load)
                .filter(|r| (lo..=hi).contains(&r.nodes))
                .collect();
            let xy: Vec<(f64, f64)> = pts
                .iter()
                .map(|r| (r.nodes as f64, r.messages_per_entry))
                .collect();
            Exponent {
                algorithm,
                load,
                nodes: pts.iter().map(|r| r.nodes).collect(),
                exponent: fit_exponent(&xy),
            }
        })
        .collect()
}

/// The columns of `results.csv`, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "algorithm",
    "load",
    "nodes",
    "entries",
    "messages",
    "messages_per_entry",
    "textbook_formula",
    "textbook_value",
    "textbook_exact",
    "textbook_low",
    "textbook_high",
    "sync_delay_T",
    "waiting_time_T",
    "response_time_T",
    "structure",
    "seed",
    "digest",
    "safety",
    "liveness",
];

/// Writes `rows` as CSV with a header line ([`CSV_COLUMNS`]); absent values are empty fields,
/// and fields holding commas or quotes are quoted.
pub fn write_csv(rows: &[SweepRow], mut w: impl Write) -> io::Result<()> {
    writeln!(w, "{}", CSV_COLUMNS.join(","))?;
    let opt = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
    for r in rows {
        let fields = [
            r.algorithm.to_string(),
            r.load.clone(),
            r.nodes.to_string(),
            r.entries.to_string(),
            r.messages.to_string(),
            format!("{}", r.messages_per_entry),
            r.textbook.formula.clone(),
            opt(r.textbook.value),
            r.textbook.exact.to_string(),
            opt(r.textbook.range.map(|r| r.0)),
            opt(r.textbook.range.map(|r| r.1)),
            opt(r.sync_delay_t),
            format!("{}", r.waiting_time_t),
            format!("{}", r.response_time_t),
            r.structure.clone(),
            r.seed.to_string(),
            r.digest.clone(),
            r.safety.clone(),
            r.liveness.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        writeln!(w, "{}", line.join(","))?;
    }
    w.flush()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dme_sim::{Dist, Workload};

    #[test]
    fn slopes_of_power_laws_are_recovered() {
        let pts: Vec<(f64, f64)> = [64.0, 256.0, 1024.0]
            .iter()
            .map(|&x: &f64| (x, 3.0 * x.sqrt()))
            .collect();
        assert!((fit_exponent(&pts).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(fit_exponent(&[(4.0, 1.0)]), None);
        assert_eq!(fit_exponent(&[(4.0, 0.0), (8.0, 1.0)]), None);
    }

    #[test]
    fn rows_come_back_in_order_whatever_the_threads() {
        let points: Vec<SweepPoint> = [3usize, 9, 5]
            .iter()
            .flat_map(|&n| {
                ["ricart-agrawala", "raymond"]
                    .map(|a| SweepPoint {
                        spec: ClusterSpec::new(a, n),
                        config: Config {
                            seed: 1,
                            delay: Dist::Constant(10),
                            workload: Workload::Heavy,
                            requests_per_node: 2,
                            ..Config::default()
                        },
                    })
                    .into_iter()
            })
            .collect();
        let registry = dme_registry::builtin();
        let one = run_points(&registry, &points, 1, &|_| {}).unwrap();
        let three = run_points(&registry, &points, 3, &|_| {}).unwrap();
        assert_eq!(one, three);
        assert_eq!(one.len(), 6);
        assert_eq!(one[0].nodes, 3);
        assert_eq!(one[2].messages_per_entry, 2.0 * 8.0); // RA, N = 9
        let exps = exponents(&one, 3, 9);
        assert_eq!(exps.len(), 2);
        assert!((exps[0].exponent.unwrap() - 1.0).abs() < 0.3);
    }

    #[test]
    fn csv_quotes_fields_with_commas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
