//! `dme trace`: a space-time diagram (SVG) of a simulated run, of a checker counterexample, or
//! of a trace file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use dme_core::Node;
use dme_lab::simulate;
use dme_registry::{ClusterSpec, ClusterVisitor, Registry};
use dme_sim::check::{ClusterCheckConfig, check_cluster};
use dme_sim::tracefile::{Source, TraceFile, TracedFailure};
use dme_sim::{EventKind, FailureKind};

use super::{
    Algorithm, ClusterArgs, SimArgs, UsageError, all_algorithms, config, parse_algorithm,
    read_scenario, replay, spec, specs,
};
use crate::svg::{self, Diagram};

#[derive(Args, Debug)]
pub struct TraceArgs {
    /// The algorithm to simulate (or to check, with --counterexample).
    #[arg(long, short, value_parser = parse_algorithm, required_unless_present_any = ["from", "every_algorithm"])]
    pub algorithm: Option<Algorithm>,
    /// Number of nodes (a diagram reads well up to about 8).
    #[arg(long, short, default_value_t = 4, allow_negative_numbers = true, value_parser = super::parse_count::<usize>)]
    pub nodes: usize,
    /// Workload: light, heavy or random.
    #[arg(long, default_value = "heavy", value_parser = ["light", "heavy", "random"])]
    pub load: String,
    /// A scripted workload file ('at T node I requests [cs D]' per line); overrides --load.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Where to write the SVG (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Draw this trace file (from `dme run --trace-out` or `dme trace --trace-out`) instead of
    /// running anything.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["algorithm", "counterexample", "scenario", "trace_out"])]
    pub from: Option<PathBuf>,
    /// Draw every registered algorithm with the other flags given, each to DIR/trace-NAME.svg
    /// (how docs/ is regenerated).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["algorithm", "from", "out", "trace_out", "counterexample"])]
    pub every_algorithm: Option<PathBuf>,
    /// Draw the shortest counterexample of the exhaustive checker (uses --nodes, --requests and
    /// --no-fifo; keep them small, e.g. -n 3 --requests 1) instead of a simulated run.
    #[arg(long)]
    pub counterexample: bool,
    /// With --counterexample: stop the search after this many distinct states.
    #[arg(long, default_value_t = 2_000_000, value_name = "STATES", allow_negative_numbers = true, value_parser = super::parse_count::<u64>)]
    pub max_states: u64,
    /// Also write the trace file (JSON) of what is drawn.
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    /// Draw even a run too large to read (more than 8 nodes or 100 messages).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Runs `dme trace`: true once the diagram is written (whatever the run's outcome; the diagram
/// and the message on standard error show it).
pub fn exec<R: Registry>(registry: &R, args: TraceArgs) -> Result<bool, UsageError> {
    if let Some(dir) = &args.every_algorithm {
        let algorithms = all_algorithms();
        for (algorithm, spec) in algorithms.iter().zip(specs(
            &algorithms,
            args.nodes,
            &args.cluster,
            args.sim.seed,
        )?) {
            let file = simulated(registry, &args, spec)?;
            let out = dir.join(format!("trace-{}.svg", algorithm.name()));
            draw(&file, Some(&out), args.force)?;
        }
        return Ok(true);
    }
    let file = if let Some(path) = &args.from {
        replay::read(path)?
    } else {
        let algorithm = args
            .algorithm
            .ok_or_else(|| UsageError("--algorithm or --from is needed".into()))?;
        if args.counterexample {
            let spec = spec(algorithm, args.nodes, &args.cluster, args.sim.seed)?;
            match counterexample(registry, &args, &spec)? {
                Ok(file) => file,
                Err(verdict) => {
                    eprintln!("nothing to draw: {verdict}");
                    return Ok(false);
                }
            }
        } else {
            let spec = spec(algorithm, args.nodes, &args.cluster, args.sim.seed)?;
            simulated(registry, &args, spec)?
        }
    };
    svg::check_size(file.nodes, &file.events, args.force).map_err(UsageError)?;
    if let Some(path) = &args.trace_out {
        replay::write(path, &file.to_json(), "trace file")?;
    }
    draw(&file, args.out.as_deref(), args.force)?;
    Ok(true)
}

/// The trace file of a simulated run of the cluster `spec` under the flags.
fn simulated<R: Registry>(
    registry: &R,
    args: &TraceArgs,
    spec: ClusterSpec,
) -> Result<TraceFile, UsageError> {
    let scenario = read_scenario(args.scenario.as_deref())?;
    let mut config = config(&args.sim, &args.load, scenario);
    config.full_trace = true;
    let summary = simulate(registry, &spec, &config)?;
    Ok(dme_lab::replay::record(registry, &spec, &summary)?)
}

/// Draws `file` to `out` (standard output when `None`) and says so on standard error.
fn draw(file: &TraceFile, out: Option<&Path>, force: bool) -> Result<(), UsageError> {
    svg::check_size(file.nodes, &file.events, force).map_err(UsageError)?;
    let drawing = svg::render(&diagram(file));
    match out {
        Some(path) => replay::write(path, &drawing, "diagram")?,
        None => std::io::stdout()
            .write_all(drawing.as_bytes())
            .map_err(|e| UsageError(format!("cannot write the diagram: {e}")))?,
    }
    let (messages, entries) = counts(file);
    let outcome = match &file.failure {
        None => "every check holds".to_string(),
        Some(f) => format!("{} check FAILED: {}", f.kind, f.description),
    };
    eprintln!(
        "{}: {}, {} nodes, {messages} messages, {entries} critical-section entries; {outcome}",
        out.map_or("diagram".to_string(), |p| format!("wrote {}", p.display())),
        file.algorithm,
        file.nodes
    );
    Ok(())
}

fn counts(file: &TraceFile) -> (usize, usize) {
    let messages = file
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Send { .. }))
        .count();
    let entries = file
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Enter { .. }))
        .count();
    (messages, entries)
}

/// The titles and contents of the diagram of `file`.
fn diagram(file: &TraceFile) -> Diagram<'_> {
    let (messages, entries) = counts(file);
    let mut title = format!("{} · {} nodes", file.algorithm, file.nodes);
    if !file.structure.is_empty() {
        title.push_str(" · ");
        title.push_str(&file.structure);
    }
    let subtitle = match (file.source, &file.config) {
        (Source::Simulation, Some(config)) => format!(
            "{config} · {messages} messages, {entries} entries · digest {}",
            file.digest.as_deref().unwrap_or("-")
        ),
        _ => {
            title.push_str(" · shortest counterexample of the exhaustive checker");
            let steps = file.events.last().map_or(0, |e| e.time);
            format!(
                "{} · {steps} steps, {messages} messages, {entries} entries",
                file.parameters
                    .get("check")
                    .map_or("exhaustive search", String::as_str)
            )
        }
    };
    Diagram {
        title,
        subtitle,
        nodes: file.nodes,
        events: &file.events,
        failure: file.failure.as_ref(),
        steps: file.source == Source::Check,
        cs_time: file.config.as_ref().map(|c| c.cs_time),
    }
}

/// Runs the exhaustive checker on the cluster and returns the trace file of its shortest
/// counterexample, or (inner `Err`) the verdict when there is none.
fn counterexample<R: Registry>(
    registry: &R,
    args: &TraceArgs,
    spec: &ClusterSpec,
) -> Result<Result<TraceFile, String>, UsageError> {
    let check = ClusterCheckConfig {
        requests_per_node: args.sim.requests,
        fifo: !args.sim.no_fifo,
        max_states: Some(args.max_states),
        ..ClusterCheckConfig::default()
    };
    struct Visit {
        check: ClusterCheckConfig,
        algorithm: &'static str,
        parameters: std::collections::BTreeMap<String, String>,
    }
    impl ClusterVisitor for Visit {
        type Output = Result<Result<TraceFile, String>, String>;
        fn visit<N: Node>(self, nodes: Vec<N>, structure: String) -> Self::Output {
            let outcome = check_cluster(nodes, &self.check).map_err(|e| e.to_string())?;
            let Some(cx) = outcome.counterexample() else {
                return Ok(Err(outcome
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string()));
            };
            let summary = outcome.summary();
            let violation = summary.violation.as_ref();
            let kind = match violation.map(|v| v.kind) {
                Some("token") => FailureKind::Token,
                Some("deadlock") => FailureKind::Liveness,
                Some("protocol") => FailureKind::Protocol,
                _ => FailureKind::Safety,
            };
            let failure = TracedFailure {
                kind,
                description: outcome.description().unwrap_or_default(),
                time: cx.len() as u64,
            };
            let mut parameters = self.parameters;
            parameters.insert(
                "check".into(),
                format!(
                    "{} request{} per node, {} channels",
                    self.check.requests_per_node,
                    if self.check.requests_per_node == 1 {
                        ""
                    } else {
                        "s"
                    },
                    if self.check.fifo { "FIFO" } else { "non-FIFO" }
                ),
            );
            Ok(Ok(TraceFile::from_counterexample::<N>(
                self.algorithm,
                &structure,
                parameters,
                cx,
                failure,
            )))
        }
    }
    Ok(registry.cluster(
        spec,
        Visit {
            check,
            algorithm: spec.algorithm,
            parameters: dme_lab::replay::parameters(registry, spec)?,
        },
    )??)
}
