//! `dme replay FILE`: re-runs a recorded trace from its configuration and checks that the run is
//! the same, event for event and digest for digest. Also what `run` and `trace` share to read
//! and write trace files (the cluster a file describes is `dme_lab::replay`'s).

use std::path::{Path, PathBuf};

use clap::Args;
use dme_lab::replay::spec_of;
use dme_lab::simulate;
use dme_registry::Registry;
use dme_sim::tracefile::{Source, TraceFile, first_divergence};

use super::UsageError;

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A trace file written by `dme run --trace-out` or `dme trace --trace-out`.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
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

/// Runs `dme replay`: true when the replay matches the recording.
pub fn exec<R: Registry>(registry: &R, args: ReplayArgs) -> Result<bool, UsageError> {
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
    let spec = spec_of(registry, &file)?;
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
    let summary = simulate(registry, &spec, &config)?;
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
