//! `dme compare`: every algorithm side by side.

use clap::Args;
use dme_lab::{RunSummary, simulate};
use dme_registry::Registry;
use dme_sim::{figure, ratio};

use super::{
    Algorithm, ClusterArgs, SimArgs, UsageError, config, main_algorithms, parse_algorithm, specs,
};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "4,16,64")]
    pub nodes: Vec<usize>,
    /// Loads.
    #[arg(long, value_delimiter = ',', default_value = "light,heavy", value_parser = ["light", "heavy", "random"])]
    pub load: Vec<String>,
    /// Algorithms (default: every algorithm, without named variants).
    #[arg(long, value_delimiter = ',', value_parser = parse_algorithm)]
    pub algorithms: Vec<Algorithm>,
    /// Print a JSON array of run objects instead of the table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub sim: SimArgs,
}

/// Runs `dme compare`.
pub fn exec<R: Registry>(registry: &R, args: CompareArgs) -> Result<bool, UsageError> {
    let algorithms = if args.algorithms.is_empty() {
        main_algorithms()
    } else {
        args.algorithms.clone()
    };
    let mut rows: Vec<RunSummary> = Vec::new();
    for &n in &args.nodes {
        for load in &args.load {
            for spec in specs(&algorithms, n, &args.cluster, args.sim.seed)? {
                let config = config(&args.sim, load, None);
                rows.push(simulate(registry, &spec, &config)?);
            }
        }
    }
    let all_ok = rows.iter().all(RunSummary::is_ok);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("summaries serialize")
        );
        return Ok(all_ok);
    }
    let t = args.sim.delay.mean();
    println!("dme compare: {}", args.sim.describe());
    // The columns fit the longest name and formula, so that long variant names keep them aligned.
    let aw = rows
        .iter()
        .map(|r| r.algorithm.len())
        .max()
        .unwrap_or(0)
        .max(9);
    let tw = rows
        .iter()
        .map(|r| r.textbook.display_value().chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let fw = rows
        .iter()
        .map(|r| r.textbook.formula.chars().count())
        .max()
        .unwrap_or(0)
        .max(7);
    println!(
        "{:<aw$} {:>5} {:<6} {:>10} {:>tw$} {:<fw$} {:>8} {:>9} {:>9}  checks",
        "algorithm",
        "N",
        "load",
        "msgs/entry",
        "textbook",
        "formula",
        "sync (T)",
        "wait",
        "response"
    );
    for r in &rows {
        let sync = figure(r.sync_delay.and_then(|s| ratio(s.mean, t)), 2);
        let wait = figure(r.waiting_time.map(|s| s.mean), 1);
        let response = figure(r.response_time.map(|s| s.mean), 1);
        let checks = if r.is_ok() {
            "ok".to_string()
        } else {
            format!("FAILED: {} / {}", r.safety, r.liveness)
        };
        let textbook = r.textbook.display_value();
        // A range is its own formula: say it once.
        let formula = if textbook == r.textbook.formula {
            ""
        } else {
            r.textbook.formula.as_str()
        };
        println!(
            "{:<aw$} {:>5} {:<6} {:>10} {:>tw$} {:<fw$} {:>8} {:>9} {:>9}  {}",
            r.algorithm,
            r.nodes,
            r.load,
            figure(r.messages_per_entry, 3),
            textbook,
            formula,
            sync,
            wait,
            response,
            checks
        );
    }
    println!(
        "\ntextbook: the messages per entry the textbook analysis predicts for this run (a \
         number when exact, ≈ for an estimate, a range where it gives one), from the formula \
         beside it; msgs/entry is what the simulator measured."
    );
    println!(
        "sync (T): mean synchronization delay in units of the mean message delay; wait and \
         response: mean ticks from request to entry and to exit."
    );
    Ok(all_ok)
}
