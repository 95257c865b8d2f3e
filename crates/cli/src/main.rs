//! `dme`: run, compare, sweep, check and trace distributed mutual exclusion algorithms.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use dme_cli::{Algorithm, ClusterSpec, RunSummary, simulate};
use dme_raymond::TreeShape;
use dme_sim::{Config, Dist, Scenario, Workload};

/// Distributed mutual exclusion algorithms: simulate, compare, check.
#[derive(Parser, Debug)]
#[command(name = "dme", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// One simulated run with a readable report (exit 1 if a check fails).
    Run(RunArgs),
    /// Every algorithm side by side over several cluster sizes and loads.
    Compare(CompareArgs),
}

/// Which cluster to build.
#[derive(Args, Debug, Clone)]
struct ClusterArgs {
    /// Raymond: tree shape: star, line, binary, kary:K or random.
    #[arg(long, default_value = "binary", value_parser = parse_tree)]
    tree: TreeShape,
    /// Raymond: the initial token holder (default: the tree's root).
    #[arg(long, value_name = "ID")]
    holder: Option<u32>,
}

/// The network and the workload.
#[derive(Args, Debug, Clone)]
struct SimArgs {
    /// Critical-section entries each node asks for.
    #[arg(long, default_value_t = 10)]
    requests: u32,
    /// Seed of the run's randomness; the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Message delay: constant:T, uniform:LO..HI or exp:MEAN (ticks).
    #[arg(long, default_value = "constant:10", value_parser = parse_dist)]
    delay: Dist,
    /// Time a node holds the critical section (ticks).
    #[arg(long, default_value_t = 5)]
    cs_time: u64,
    /// Think time between requests under `--load random`.
    #[arg(long, default_value = "exp:20", value_parser = parse_dist)]
    think: Dist,
    /// Let messages between two nodes overtake each other.
    #[arg(long)]
    no_fifo: bool,
    /// Stop at this virtual time; requests outstanding then fail the liveness check.
    #[arg(long, value_name = "TICKS")]
    max_time: Option<u64>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// The algorithm (ricart-agrawala, raymond, …).
    #[arg(long, short, value_parser = parse_algorithm)]
    algorithm: Algorithm,
    /// Number of nodes (at least 2).
    #[arg(long, short, default_value_t = 5)]
    nodes: usize,
    /// Workload: light, heavy or random.
    #[arg(long, default_value = "heavy", value_parser = ["light", "heavy", "random"])]
    load: String,
    /// A scripted workload file ('at T node I requests [cs D]' per line); overrides --load.
    #[arg(long, value_name = "FILE")]
    scenario: Option<PathBuf>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
    /// Print every event of the run, one line each.
    #[arg(long)]
    trace: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    sim: SimArgs,
}

#[derive(Args, Debug)]
struct CompareArgs {
    /// Cluster sizes.
    #[arg(long, value_delimiter = ',', default_value = "4,16,64")]
    nodes: Vec<usize>,
    /// Loads.
    #[arg(long, value_delimiter = ',', default_value = "light,heavy", value_parser = ["light", "heavy", "random"])]
    load: Vec<String>,
    /// Algorithms (default: every algorithm, without named variants).
    #[arg(long, value_delimiter = ',', value_parser = parse_algorithm)]
    algorithms: Vec<Algorithm>,
    /// Print a JSON array of run objects instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cluster: ClusterArgs,
    #[command(flatten)]
    sim: SimArgs,
}

fn parse_dist(s: &str) -> Result<Dist, String> {
    s.parse()
}
fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
}
fn parse_tree(s: &str) -> Result<TreeShape, String> {
    s.parse()
        .map_err(|e: dme_raymond::ParseTreeShapeError| e.to_string())
}

/// A failure of the command itself (bad arguments, unreadable files): exit code 2.
struct UsageError(String);

impl From<String> for UsageError {
    fn from(s: String) -> Self {
        UsageError(s)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd_run(args),
        Command::Compare(args) => cmd_compare(args),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(UsageError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn config(sim: &SimArgs, load: &str, scenario: Option<Scenario>) -> Config {
    let workload = match (scenario, load) {
        (Some(s), _) => Workload::Scripted(s),
        (None, "light") => Workload::Light,
        (None, "random") => Workload::Random { think: sim.think },
        (None, _) => Workload::Heavy,
    };
    Config {
        seed: sim.seed,
        delay: sim.delay,
        fifo: !sim.no_fifo,
        workload,
        cs_time: sim.cs_time,
        requests_per_node: sim.requests,
        max_time: sim.max_time,
        ..Config::default()
    }
}

fn spec(algorithm: Algorithm, nodes: usize, cluster: &ClusterArgs, seed: u64) -> ClusterSpec {
    ClusterSpec {
        tree: cluster.tree,
        holder: cluster.holder,
        seed,
        ..ClusterSpec::new(algorithm, nodes)
    }
}

fn cmd_run(args: RunArgs) -> Result<bool, UsageError> {
    let scenario = match &args.scenario {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                UsageError(format!("cannot read scenario file {}: {e}", path.display()))
            })?;
            Some(Scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let mut config = config(&args.sim, &args.load, scenario);
    config.full_trace = args.trace;
    let spec = spec(args.algorithm, args.nodes, &args.cluster, args.sim.seed);
    let summary = simulate(&spec, &config)?;
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

fn cmd_compare(args: CompareArgs) -> Result<bool, UsageError> {
    let algorithms = if args.algorithms.is_empty() {
        Algorithm::MAIN.to_vec()
    } else {
        args.algorithms.clone()
    };
    let mut rows: Vec<RunSummary> = Vec::new();
    for &n in &args.nodes {
        for load in &args.load {
            for &algorithm in &algorithms {
                let config = config(&args.sim, load, None);
                let spec = spec(algorithm, n, &args.cluster, args.sim.seed);
                rows.push(simulate(&spec, &config)?);
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
    println!(
        "dme compare: {} requests per node, delay {}, cs-time {}, {}, seed {}",
        args.sim.requests,
        args.sim.delay,
        args.sim.cs_time,
        if args.sim.no_fifo { "no FIFO" } else { "FIFO" },
        args.sim.seed
    );
    println!(
        "{:<17} {:>5} {:<6} {:>10} {:<12} {:>11} {:>9} {:>9}  checks",
        "algorithm", "N", "load", "msgs/entry", "textbook", "sync (T)", "wait", "response"
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
            "{:<17} {:>5} {:<6} {:>10.3} {:<12} {:>11} {:>9.1} {:>9.1}  {}",
            r.algorithm,
            r.nodes,
            r.load,
            r.messages_per_entry,
            r.textbook_messages,
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
