//! `dme compare`: every algorithm side by side.

use clap::Args;
use dme_lab::{RunSummary, simulate};
use dme_registry::Registry;

use super::{
    Algorithm, ClusterArgs, SimArgs, UsageError, config, main_algorithms, parse_algorithm, specs,
};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "4,16,64", allow_negative_numbers = true, value_parser = super::parse_count::<usize>)]
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
    println!(
        "{:<17} {:>5} {:<6} {:>10} {:>14} {:<15} {:>8} {:>9} {:>9}  checks",
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
        let sync = r
            .sync_delay
            .map_or("-".to_string(), |s| format!("{:.2}", s.mean / t));
        let checks = if r.is_ok() {
            "ok".to_string()
        } else {
            format!("FAILED: {} / {}", r.safety, r.liveness)
        };
        println!(
            "{:<17} {:>5} {:<6} {:>10.3} {:>14} {:<15} {:>8} {:>9.1} {:>9.1}  {}",
            r.algorithm,
            r.nodes,
            r.load,
            r.messages_per_entry,
            r.textbook.display_value(),
            r.textbook.formula,
            sync,
            r.waiting_time.mean,
            r.response_time.mean,
            checks
        );
    }
    println!(
        "\nsync (T): mean synchronization delay in units of the mean message delay; wait and \
         response: mean ticks from request to entry and to exit."
    );
    Ok(all_ok)
}
