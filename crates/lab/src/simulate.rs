//! One simulated run of a named algorithm, and its summary for people and for JSON.

use std::collections::BTreeMap;
use std::fmt;

use dme_core::Node;
use dme_registry::{ClusterSpec, ClusterVisitor, Describe, Registry};
use dme_sim::{Config, Failure, Report, Stats, run};
use serde::Serialize;

use crate::textbook::{self, Textbook};

/// The result of one run, as `dme run --json` prints it.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// The algorithm's name.
    pub algorithm: String,
    /// Number of nodes.
    pub nodes: usize,
    /// The quorum construction or tree used, where the algorithm has one.
    pub structure: Option<String>,
    /// `light`, `heavy`, `random` or `scripted`.
    pub load: String,
    /// The run's seed.
    pub seed: u64,
    /// The message delay distribution.
    pub delay: String,
    /// Whether channels were FIFO.
    pub fifo: bool,
    /// Critical-section time.
    pub cs_time: u64,
    /// Requests per node.
    pub requests_per_node: u32,
    /// Critical-section entries.
    pub entries: u64,
    /// Network messages.
    pub messages: u64,
    /// Messages per entry (`null` when nothing was entered).
    pub messages_per_entry: Option<f64>,
    /// The textbook's messages per entry for this run: formula, value, whether it is exact.
    pub textbook: Textbook,
    /// Messages by kind.
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Synchronization delay (`null` when no node ever waited).
    pub sync_delay: Option<Stats>,
    /// Response time (`null` when no request was served).
    pub response_time: Option<Stats>,
    /// Waiting time (`null` when no request was granted).
    pub waiting_time: Option<Stats>,
    /// Entries per 1,000 ticks (`null` when no virtual time passed).
    pub throughput: Option<f64>,
    /// Virtual end time.
    pub end_time: u64,
    /// Trace digest, hex.
    pub digest: String,
    /// `"ok"` or what failed.
    pub safety: String,
    /// `"ok"` or what failed.
    pub liveness: String,
    /// The failure in full (seed, last events, wait-for cycle), if any.
    pub failure: Option<Failure>,
    #[serde(skip)]
    /// The whole report, for the text form.
    pub report: Report,
}

impl RunSummary {
    /// Whether every check held.
    pub fn is_ok(&self) -> bool {
        self.report.is_ok()
    }
}

/// Runs the cluster `spec` of one of `registry`'s algorithms under `config` in the simulator.
pub fn simulate<R: Registry>(
    registry: &R,
    spec: &ClusterSpec,
    config: &Config,
) -> Result<RunSummary, String> {
    struct Visit<'a> {
        config: &'a Config,
        spec: &'a ClusterSpec,
        describe: &'a dyn Describe,
    }
    impl ClusterVisitor for Visit<'_> {
        type Output = Result<RunSummary, String>;
        fn visit<N: Node>(self, nodes: Vec<N>, structure: String) -> Self::Output {
            let report = run(nodes, self.config).map_err(|e| e.to_string())?;
            Ok(summarize(self.describe, self.spec, structure, report))
        }
    }
    let describe = registry.find(spec.algorithm)?;
    registry.cluster(
        spec,
        Visit {
            config,
            spec,
            describe,
        },
    )?
}

fn summarize(
    describe: &dyn Describe,
    spec: &ClusterSpec,
    structure: String,
    report: Report,
) -> RunSummary {
    let textbook = textbook::messages_per_entry(describe, spec, &report);
    let c = &report.config;
    RunSummary {
        algorithm: describe.name().into(),
        nodes: report.nodes,
        structure: (!structure.is_empty()).then_some(structure),
        load: c.workload.name().into(),
        seed: c.seed,
        delay: c.delay.to_string(),
        fifo: c.fifo,
        cs_time: c.cs_time,
        requests_per_node: c.requests_per_node,
        entries: report.entries,
        messages: report.messages,
        messages_per_entry: report.messages_per_entry_if_any(),
        textbook,
        messages_by_kind: report.messages_by_kind.clone(),
        sync_delay: report.sync_delay,
        response_time: report.response_time.if_any(),
        waiting_time: report.waiting_time.if_any(),
        throughput: report.throughput_if_any(),
        end_time: report.end_time,
        digest: format!("{:016x}", report.digest),
        safety: report.safety(),
        liveness: report.liveness(),
        failure: report.failure.clone(),
        report,
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "algorithm           {}", self.algorithm)?;
        if let Some(s) = &self.structure {
            writeln!(f, "structure           {s}")?;
        }
        write!(f, "{}", self.report)?;
        if let Some(failure) = &self.failure {
            writeln!(
                f,
                "\nreplay with the same arguments and --seed {} (add --trace for every event)",
                failure.seed
            )?;
        }
        Ok(())
    }
}
