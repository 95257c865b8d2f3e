//! The textbook's messages per critical-section entry as numbers, next to which the measured
//! figures are reported.
//!
//! Each algorithm's descriptor states its figures ([`dme_registry::Figures`]): at light load
//! and at heavy load, exact, a range, an estimate, or not applicable. Here they are evaluated
//! for the very run measured, so that a measurement can be compared with `==` where the formula
//! is exact: for Raymond at light load the token rests at the previous requester, so the figure
//! is 2·d(holder, requester) summed over the run's requests (in [`Report::entry_log`] order,
//! starting from the initial holder) and divided by the entries. A run under any other load
//! (random, scripted) is compared with the heavy-load figure, except an estimate, which holds
//! at heavy load only. Where there is no number at all, [`Textbook::value`] is `None`.

use dme_core::NodeId;
use dme_registry::{ClusterSpec, Describe, Figure};
use dme_sim::{Report, Workload};

/// The textbook's figure for one run.
#[derive(Clone, PartialEq, Debug, serde::Serialize)]
pub struct Textbook {
    /// The formula, as the descriptor states it (`3(N-1)`, `2*mean dist`, …).
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

/// The descriptor's figure for a run under `workload`: the light-load one at light load, the
/// heavy-load one otherwise.
fn at_load(light: Figure, heavy: Figure, workload: &Workload) -> Figure {
    match workload {
        Workload::Light => light,
        _ => heavy,
    }
}

/// The textbook's messages per entry for the run `report` of the cluster `spec` of the
/// algorithm `describe`.
pub fn messages_per_entry(
    describe: &dyn Describe,
    spec: &ClusterSpec,
    report: &Report,
) -> Textbook {
    let figures = describe.figures();
    let workload = &report.config.workload;
    let figure = at_load(
        figures.light.messages_per_entry,
        figures.heavy.messages_per_entry,
        workload,
    );
    let requests: Vec<NodeId> = report.entry_log.iter().map(|e| e.node).collect();
    let facts = spec.facts(&requests, report.entries);
    let value = match figure {
        // An estimate is stated for its load only.
        Figure::Estimate(_) if !matches!(workload, Workload::Light | Workload::Heavy) => None,
        _ => figure.value(&facts),
    };
    // Exact figures need a clean run (every request granted, no check failed).
    let exact = matches!(figure, Figure::Exact(_))
        && value.is_some()
        && report.is_ok()
        && report.entries > 0;
    Textbook {
        formula: figure.text(),
        value,
        exact,
        range: figure.range(&facts),
    }
}

/// The textbook's synchronization delay for a run under `workload`, in units of T.
pub fn sync_delay(describe: &dyn Describe, workload: &Workload) -> Figure {
    let figures = describe.figures();
    at_load(figures.light.sync_delay, figures.heavy.sync_delay, workload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate;
    use dme_registry::{Registry, builtin};
    use dme_sim::{Config, Dist};

    fn run(algorithm: &'static str, n: usize, workload: Workload) -> (ClusterSpec, Report) {
        let spec = ClusterSpec::new(algorithm, n);
        let config = Config {
            seed: 3,
            delay: Dist::Constant(10),
            workload,
            requests_per_node: 2,
            ..Config::default()
        };
        let summary = simulate(&builtin(), &spec, &config).unwrap();
        (spec, summary.report)
    }

    #[test]
    fn exact_formulas_match_the_simulator() {
        let registry = builtin();
        for describe in registry.descriptors() {
            let algorithm = describe.name();
            for workload in [Workload::Light, Workload::Heavy] {
                for n in [2, 5, 16] {
                    let (spec, report) = run(algorithm, n, workload.clone());
                    let t = messages_per_entry(describe, &spec, &report);
                    let must_be_exact = matches!(
                        (algorithm, &workload),
                        ("lamport" | "ricart-agrawala", _)
                            | ("maekawa" | "raymond", Workload::Light)
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
        let (spec, report) = run("raymond", 15, Workload::Light);
        let t = messages_per_entry(builtin().find("raymond").unwrap(), &spec, &report);
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
