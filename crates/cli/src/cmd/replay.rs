//! `dme replay FILE`: re-runs a recorded trace from its configuration and checks that the run is
//! the same, event for event and digest for digest. Also what `run` and `trace` share to write
//! trace files: the cluster parameters that rebuild the same cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use dme_cli::{Algorithm, ClusterSpec, RunSummary, simulate};
use dme_sim::tracefile::{Source, TraceFile, first_divergence};

use super::{UsageError, parse_quorum, parse_tree};

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A trace file written by `dme run --trace-out` or `dme trace --trace-out`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// The cluster parameters of `spec` besides algorithm and size, as written in a trace file.
/// Every field is written, whether the algorithm uses it or not, so that replay rebuilds
/// exactly the same [`ClusterSpec`].
pub fn parameters(spec: &ClusterSpec) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    p.insert("quorum".to_string(), spec.quorum.to_string());
    p.insert("tree".to_string(), spec.tree.to_string());
    if let Some(h) = spec.holder {
        p.insert("holder".to_string(), h.to_string());
    }
    p.insert("seed".to_string(), spec.seed.to_string());
    p
}

/// The trace file of a simulated run (the run must have had `full_trace` set).
pub fn record(spec: &ClusterSpec, summary: &RunSummary) -> TraceFile {
    TraceFile::from_report(
        spec.algorithm.name(),
        summary.structure.as_deref().unwrap_or(""),
        parameters(spec),
        &summary.report,
    )
}

/// Writes `text` to `path`, or explains why it could not.
pub fn write(path: &Path, text: &str, what: &str) -> Result<(), UsageError> {
    std::fs::write(path, text)
        .map_err(|e| UsageError(format!("cannot write {what} {}: {e}", path.display())))
}

/// Reads and checks a trace file; every problem is a usage error (exit 2) naming the file.
pub fn read(path: &Path) -> Result<TraceFile, UsageError> {
    let bytes = std::fs::read(path)
        .map_err(|e| UsageError(format!("cannot read trace file {}: {e}", path.display())))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        UsageError(format!(
            "{}: the trace file is not UTF-8 text",
            path.display()
        ))
    })?;
    TraceFile::parse(&text).map_err(|e| UsageError(format!("{}: {e}", path.display())))
}

/// The cluster a trace file describes.
pub fn spec_of(file: &TraceFile) -> Result<ClusterSpec, UsageError> {
    let algorithm: Algorithm = file.algorithm.parse().map_err(|e: String| UsageError(e))?;
    let mut spec = ClusterSpec::new(algorithm, file.nodes);
    let bad = |key: &str, value: &str, why: String| {
        UsageError(format!(
            "the trace file's parameter \"{key}\" = {value:?} is invalid: {why}"
        ))
    };
    for (key, value) in &file.parameters {
        match key.as_str() {
            "quorum" => spec.quorum = parse_quorum(value).map_err(|e| bad(key, value, e))?,
            "tree" => spec.tree = parse_tree(value).map_err(|e| bad(key, value, e))?,
            "holder" => {
                spec.holder = Some(
                    value
                        .parse()
                        .map_err(|_| bad(key, value, "not a node id".into()))?,
                )
            }
            "seed" => {
                spec.seed = value
                    .parse()
                    .map_err(|_| bad(key, value, "not a number".into()))?
            }
            other => {
                return Err(UsageError(format!(
                    "the trace file has an unknown cluster parameter \"{other}\" (this dme knows quorum, tree, holder, seed)"
                )));
            }
        }
    }
    Ok(spec)
}

/// Runs `dme replay`: true when the replay matches the recording.
pub fn exec(args: ReplayArgs) -> Result<bool, UsageError> {
    let path = &args.file;
    let file = read(path)?;
    if file.source == Source::Check {
        return Err(UsageError(format!(
            "{} is a counterexample of the exhaustive checker, not a simulated run: there is \
             nothing to replay (draw it with `dme trace --from {}`)",
            path.display(),
            path.display()
        )));
    }
    let spec = spec_of(&file)?;
    let mut config = file
        .config
        .clone()
        .ok_or_else(|| UsageError("the trace file has no configuration".into()))?;
    config.full_trace = true;
    println!(
        "replaying {}: {}, {} nodes, {}",
        path.display(),
        file.algorithm,
        file.nodes,
        config
    );
    let summary = simulate(&spec, &config)?;
    let replayed = &summary.report.trace;
    let recorded_digest = file.digest.clone().unwrap_or_default();
    let replayed_digest = format!("{:016x}", summary.report.digest);
    if let Some(d) = first_divergence(&file.events, replayed) {
        println!(
            "DIVERGES at event {} (0-based index into \"events\"; {} events recorded, {} replayed)",
            d.index,
            file.events.len(),
            replayed.len()
        );
        for (k, e) in file.events[..d.index]
            .iter()
            .enumerate()
            .skip(d.index.saturating_sub(3))
        {
            println!("  {k:>6}  same      {e}");
        }
        let show = |e: &Option<dme_sim::TraceEvent>, end: &str| {
            e.as_ref().map_or(end.to_string(), ToString::to_string)
        };
        println!(
            "  {:>6}  recorded  {}",
            d.index,
            show(&d.recorded, "(the recording ends here)")
        );
        println!(
            "  {:>6}  replayed  {}",
            d.index,
            show(&d.replayed, "(the replay ends here)")
        );
        let why = if recorded_digest == replayed_digest {
            "equal: the simulator ran the recorded run; the recorded events were changed"
        } else {
            "different: the run itself changed (another version of dme or of the algorithm?)"
        };
        println!("digest: recorded {recorded_digest}, replayed {replayed_digest} ({why})");
        return Ok(false);
    }
    if recorded_digest != replayed_digest {
        println!(
            "DIVERGES: all {} events match but the digest differs (recorded {recorded_digest}, \
             replayed {replayed_digest}): the header was edited, or the messages' contents \
             changed in a way their kind, timestamp and detail do not show",
            replayed.len()
        );
        return Ok(false);
    }
    let outcome = match &summary.report.failure {
        None => "every check holds".to_string(),
        Some(f) => format!(
            "the run fails again as recorded: {} check FAILED at t={}: {}",
            f.kind, f.time, f.description
        ),
    };
    println!(
        "same run: {} events and digest {replayed_digest} match; {outcome}",
        replayed.len()
    );
    Ok(true)
}
