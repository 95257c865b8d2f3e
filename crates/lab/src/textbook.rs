//! The textbook's messages per critical-section entry as numbers, next to which the measured
//! figures are reported.
//!
//! DESIGN.md's table gives, with N nodes, constant delay and FIFO channels:
//!
//! | algorithm | light load | heavy load |
//! | --- | --- | --- |
//! | Lamport | 3(N−1) | 3(N−1) |
//! | Ricart–Agrawala | 2(N−1) | 2(N−1) |
//! | Maekawa | 3(K−1), K the requester's request set | 3(K−1) to 5(K−1) (3(K−1) without deadlock handling) |
//! | Raymond | 2 · (tree distance from the requester to the token) | about 4 |
//!
//! Where the formula is exact, [`messages_per_entry`] computes it for the very run measured, so
//! that a measurement can be compared with `==`: for Raymond at light load the token rests at
//! the previous requester, so the figure is 2·d(holder, requester) summed over the run's
//! requests (in [`Report::entry_log`] order, starting from the initial holder) and divided by the
//! entries. Where it is only an estimate (heavy load for Raymond, Lamport with suppressed
//! replies), the number is the estimate and [`Textbook::exact`] is false; where there is no
//! number at all, [`Textbook::value`] is `None`.

use dme_core::NodeId;
use dme_sim::{Report, Workload};

use crate::registry::{Algorithm, ClusterSpec};

/// The textbook's figure for one run.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct Textbook {
    /// The formula, as the registry names it (`3(N-1)`, `2*mean dist`, …).
    pub formula: String,
    /// Its value for this run, when the formula gives a number.
    pub value: Option<f64>,
    /// Whether the formula is exact for this run (then a correct implementation measures
    /// exactly `value`).
    pub exact: bool,
    /// Where the formula is a range (Maekawa at heavy load: 3(K−1) to 5(K−1)), its bounds for
    /// this run.
    pub range: Option<(f64, f64)>,
}

impl Textbook {
    /// The value formatted for a table: `3069`, `28.06`, `≈4`, or the formula when there is no
    /// number.
    pub fn display_value(&self) -> String {
        match (self.value, self.range) {
            (Some(v), _) if self.exact => format_number(v),
            (Some(v), _) => format!("≈{}", format_number(v)),
            (None, Some((lo, hi))) => format!("{}–{}", format_number(lo), format_number(hi)),
            (None, None) => self.formula.clone(),
        }
    }
}

/// `v` with at most three decimals and no trailing zeros (`3069`, `20.423`).
pub fn format_number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The textbook's messages per entry for the run `report` of the cluster `spec`.
pub fn messages_per_entry(spec: &ClusterSpec, report: &Report) -> Textbook {
    let load = report.config.workload.name();
    let formula = spec.algorithm.textbook_messages(load).to_string();
    let n = spec.nodes as f64;
    let light = matches!(report.config.workload, Workload::Light);
    let heavy = matches!(report.config.workload, Workload::Heavy);
    // Exact figures need a clean run (every request granted, no check failed).
    let mut range = None;
    let (value, exact) = match spec.algorithm {
        Algorithm::Lamport => (Some(3.0 * (n - 1.0)), true),
        Algorithm::LamportSuppressReplies if light => (Some(3.0 * (n - 1.0)), true),
        Algorithm::LamportSuppressReplies => (None, false),
        Algorithm::RicartAgrawala => (Some(2.0 * (n - 1.0)), true),
        Algorithm::Raymond if light => match raymond_light(spec, report) {
            Some(v) => (Some(v), true),
            None => (None, false),
        },
        Algorithm::Raymond if heavy => (Some(4.0), false),
        // Without contention, or without the deadlock-handling messages, a request costs
        // REQUEST, LOCKED and RELEASE to each other member of the requester's set.
        Algorithm::Maekawa | Algorithm::MaekawaNoDeadlockHandling
            if light || spec.algorithm == Algorithm::MaekawaNoDeadlockHandling =>
        {
            match maekawa_others(spec, report) {
                Some(k) => (Some(per_entry(3 * k, report)), true),
                None => (None, false),
            }
        }
        // Under contention FAILED, INQUIRE and YIELD add up to 2(K−1) more.
        Algorithm::Maekawa => {
            range = maekawa_others(spec, report)
                .map(|k| (per_entry(3 * k, report), per_entry(5 * k, report)));
            (None, false)
        }
        #[allow(unreachable_patterns)] // algorithms registered later have no number yet
        _ => (None, false),
    };
    Textbook {
        formula,
        value,
        exact: exact && report.is_ok() && report.entries > 0,
        range,
    }
}

/// A count for the whole run divided by its entries, computed as the simulator computes
/// messages per entry (so that equal counts give equal values).
fn per_entry(count: usize, report: &Report) -> f64 {
    count as f64 / report.entries as f64
}

/// Maekawa: the sum, over the run's requests, of K−1 for the requester's own request set (sets
/// may differ in size: partial grid, folded plane).
fn maekawa_others(spec: &ClusterSpec, report: &Report) -> Option<usize> {
    let quorums = dme_maekawa::Quorums::new(spec.nodes, spec.quorum).ok()?;
    if report.entries == 0 {
        return None;
    }
    let mut total = 0usize;
    for e in &report.entry_log {
        let set = quorums.quorum(e.node)?;
        total += set.iter().filter(|&&m| m != e.node).count();
    }
    Some(total)
}

/// Raymond at light load: 2·d(token, requester) per request, the token moving to each requester.
fn raymond_light(spec: &ClusterSpec, report: &Report) -> Option<f64> {
    let tree = spec.tree.build(spec.nodes, spec.seed).ok()?;
    let mut holder = NodeId(spec.holder.unwrap_or(tree.root().0));
    if holder.index() >= spec.nodes || report.entries == 0 {
        return None;
    }
    let mut total = 0usize;
    for e in &report.entry_log {
        total += 2 * tree.distance(holder, e.node);
        holder = e.node;
    }
    Some(total as f64 / report.entries as f64)
}

/// The textbook's synchronization delay in units of the message delay T, as a formula, for
/// reports (`None` when the registry's algorithm has no entry here).
pub fn sync_delay_formula(algorithm: Algorithm) -> Option<&'static str> {
    #[allow(unreachable_patterns)]
    match algorithm {
        Algorithm::Lamport | Algorithm::LamportSuppressReplies | Algorithm::RicartAgrawala => {
            Some("T")
        }
        Algorithm::Raymond => Some("T·(log N)/2"),
        Algorithm::Maekawa | Algorithm::MaekawaNoDeadlockHandling => Some("2T"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate;
    use dme_sim::{Config, Dist};

    fn run(algorithm: Algorithm, n: usize, workload: Workload) -> (ClusterSpec, Report) {
        let spec = ClusterSpec::new(algorithm, n);
        let config = Config {
            seed: 3,
            delay: Dist::Constant(10),
            workload,
            requests_per_node: 2,
            ..Config::default()
        };
        let summary = simulate(&spec, &config).unwrap();
        (spec, summary.report)
    }

    #[test]
    fn exact_formulas_match_the_simulator() {
        for &algorithm in Algorithm::ALL {
            for workload in [Workload::Light, Workload::Heavy] {
                for n in [2, 5, 16] {
                    let (spec, report) = run(algorithm, n, workload.clone());
                    let t = messages_per_entry(&spec, &report);
                    let must_be_exact = matches!(
                        (algorithm, &workload),
                        (Algorithm::Lamport | Algorithm::RicartAgrawala, _)
                            | (Algorithm::Maekawa | Algorithm::Raymond, Workload::Light)
                    );
                    assert!(t.exact || !must_be_exact, "{algorithm} {}", workload.name());
                    if let Some((lo, hi)) = t.range {
                        let m = report.messages_per_entry();
                        assert!(
                            lo <= m && m <= hi,
                            "{algorithm} N={n}: {m} not in {lo}..{hi}"
                        );
                    }
                    if t.exact {
                        assert_eq!(
                            Some(report.messages_per_entry()),
                            t.value,
                            "{algorithm} {} N={n}",
                            workload.name()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn raymond_light_follows_the_token() {
        let (spec, report) = run(Algorithm::Raymond, 15, Workload::Light);
        let t = messages_per_entry(&spec, &report);
        assert!(t.exact);
        assert_eq!(t.value, Some(report.messages_per_entry()));
        // Not the same as the mean distance to the root: the token moves.
        assert_eq!(t.formula, "2*mean dist");
    }

    #[test]
    fn numbers_format_without_noise() {
        assert_eq!(format_number(3069.0), "3069");
        assert_eq!(format_number(20.42265625), "20.423");
        assert_eq!(format_number(2.5), "2.5");
        let t = Textbook {
            formula: "about 4".into(),
            value: Some(4.0),
            exact: false,
            range: None,
        };
        assert_eq!(t.display_value(), "≈4");
        let t = Textbook {
            formula: "3(K-1)..5(K-1)".into(),
            value: None,
            exact: false,
            range: Some((12.0, 20.0)),
        };
        assert_eq!(t.display_value(), "12–20");
    }
}
