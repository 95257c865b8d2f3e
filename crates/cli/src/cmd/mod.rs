//! The subcommands, one module each, and what they share.

use clap::Args;
use dme_cli::{Algorithm, ClusterSpec};
use dme_maekawa::QuorumKind;
use dme_raymond::TreeShape;
use dme_sim::{Config, Dist, Scenario, Workload};

pub mod check;
pub mod cluster;
pub mod compare;
pub mod node;
pub mod replay;
pub mod run;
pub mod sweep;
pub mod trace;

/// Which cluster to build.
#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Maekawa: quorum construction: grid, fpp (finite projective plane) or auto (smallest K).
    #[arg(long, default_value = "auto", value_parser = parse_quorum)]
    pub quorum: QuorumKind,
    /// Raymond: tree shape: star, line, binary, kary:K or random.
    #[arg(long, default_value = "binary", value_parser = parse_tree)]
    pub tree: TreeShape,
    /// Raymond: the initial token holder (default: the tree's root).
    #[arg(long, value_name = "ID")]
    pub holder: Option<u32>,
}

/// The network and the workload.
#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Critical-section entries each node asks for.
    #[arg(long, default_value_t = 10)]
    pub requests: u32,
    /// Seed of the run's randomness; the same seed replays the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Message delay: constant:T, uniform:LO..HI or exp:MEAN (ticks).
    #[arg(long, default_value = "constant:10", value_parser = parse_dist)]
    pub delay: Dist,
    /// Time a node holds the critical section (ticks).
    #[arg(long, default_value_t = 5)]
    pub cs_time: u64,
    /// Think time between requests under `--load random`.
    #[arg(long, default_value = "exp:20", value_parser = parse_dist)]
    pub think: Dist,
    /// Let messages between two nodes overtake each other.
    #[arg(long)]
    pub no_fifo: bool,
    /// Stop at this virtual time; requests outstanding then fail the liveness check.
    #[arg(long, value_name = "TICKS")]
    pub max_time: Option<u64>,
}

pub fn parse_dist(s: &str) -> Result<Dist, String> {
    s.parse()
}
pub fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    s.parse()
}
pub fn parse_quorum(s: &str) -> Result<QuorumKind, String> {
    s.parse()
}
pub fn parse_tree(s: &str) -> Result<TreeShape, String> {
    s.parse()
        .map_err(|e: dme_raymond::ParseTreeShapeError| e.to_string())
}

impl SimArgs {
    /// One line for a table's heading: requests, delay, cs-time, FIFO, seed.
    pub fn describe(&self) -> String {
        format!(
            "{} requests per node, delay {}, cs-time {}, {}, seed {}",
            self.requests,
            self.delay,
            self.cs_time,
            if self.no_fifo { "no FIFO" } else { "FIFO" },
            self.seed
        )
    }
}

/// Reads and parses a scenario file (`--scenario`); `None` when no file is given.
pub fn read_scenario(path: Option<&std::path::Path>) -> Result<Option<Scenario>, UsageError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read scenario file {}: {e}", path.display())))?;
    let scenario = Scenario::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(scenario))
}

/// A failure of the command itself (bad arguments, unreadable files): exit code 2.
pub struct UsageError(pub String);

impl From<String> for UsageError {
    fn from(s: String) -> Self {
        UsageError(s)
    }
}

pub fn config(sim: &SimArgs, load: &str, scenario: Option<Scenario>) -> Config {
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

pub fn spec(algorithm: Algorithm, nodes: usize, cluster: &ClusterArgs, seed: u64) -> ClusterSpec {
    ClusterSpec {
        quorum: cluster.quorum,
        tree: cluster.tree,
        holder: cluster.holder,
        seed,
        ..ClusterSpec::new(algorithm, nodes)
    }
}
