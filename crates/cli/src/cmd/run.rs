//! `dme run`: one simulated run.

use std::path::PathBuf;

use clap::Args;
use dme_lab::simulate;
use dme_registry::Registry;

use super::{
    Algorithm, ClusterArgs, SimArgs, UsageError, config, parse_algorithm, read_scenario, spec,
};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The algorithm (ricart-agrawala, raymond, …).
    #[arg(long, short, value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// Number of nodes (at least 2).
    #[arg(long, short, default_value_t = 5, allow_negative_numbers = true, value_parser = super::parse_count::<usize>)]
    pub nodes: usize,
    /// Workload: light, heavy or random.
    #[arg(long, default_value = "heavy", value_parser = ["light", "heavy", "random"])]
    pub load: String,
    /// A scripted workload file ('at T node I requests [cs D]' per line); overrides --load.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Print every event of the run, one line each.
    #[arg(long)]
    pub trace: bool,
    /// Write every event to this trace file (JSON; `dme replay FILE` re-runs it).
    #[arg(long, value_name = "FILE")]
    pub trace_out: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Runs `dme run`.
pub fn exec<R: Registry>(registry: &R, args: RunArgs) -> Result<bool, UsageError> {
    let scenario = read_scenario(args.scenario.as_deref())?;
    let mut config = config(&args.sim, &args.load, scenario);
    config.full_trace = args.trace || args.trace_out.is_some();
    let spec = spec(args.algorithm, args.nodes, &args.cluster, args.sim.seed)?;
    let summary = simulate(registry, &spec, &config)?;
    if let Some(path) = &args.trace_out {
        let file = dme_lab::replay::record(registry, &spec, &summary)?;
        super::replay::write(path, &file.to_json(), "trace file")?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("summary serializes")
        );
    } else {
        if args.trace {
            for event in &summary.report.trace {
                println!("{event}");
            }
            println!();
        }
        print!("{summary}");
    }
    Ok(summary.is_ok())
}
