//! The subcommands, one module each, and what they share.

use clap::Args;
use dme_cli::{Algorithm, ClusterSpec};
use dme_maekawa::QuorumKind;
use dme_raymond::TreeShape;
use dme_sim::{Config, Dist, MAX_TIME, Scenario, Workload};

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
    #[arg(long, value_name = "ID", allow_negative_numbers = true, value_parser = parse_id)]
    pub holder: Option<u32>,
}

/// The network and the workload.
#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Critical-section entries each node asks for.
    #[arg(long, default_value_t = 10, allow_negative_numbers = true, value_parser = parse_requests)]
    pub requests: u32,
    /// Seed of the run's randomness; the same seed replays the same run.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: u64,
    /// Message delay: constant:T, uniform:LO..HI or exp:MEAN (ticks).
    #[arg(long, default_value = "constant:10", allow_negative_numbers = true, value_parser = parse_dist)]
    pub delay: Dist,
    /// Time a node holds the critical section (ticks).
    #[arg(long, default_value_t = 5, allow_negative_numbers = true, value_parser = parse_ticks)]
    pub cs_time: u64,
    /// Think time between requests under `--load random`.
    #[arg(long, default_value = "exp:20", allow_negative_numbers = true, value_parser = parse_dist)]
    pub think: Dist,
    /// Let messages between two nodes overtake each other.
    #[arg(long)]
    pub no_fifo: bool,
    /// Stop at this virtual time; requests outstanding then fail the liveness check.
    #[arg(long, value_name = "TICKS", allow_negative_numbers = true, value_parser = parse_ticks)]
    pub max_time: Option<u64>,
}

// Every numeric flag parses through one of these, with `allow_negative_numbers` so that a
// negative value reaches the parser and gets its message (not clap's "unexpected argument").

/// A distribution of durations (`--delay`, `--think`) whose every draw is within the
/// simulator's time limit.
pub fn parse_dist(s: &str) -> Result<Dist, String> {
    let dist: Dist = s.parse()?;
    dist.check_limit("distribution")?;
    Ok(dist)
}

/// A duration in ticks (`--cs-time`, `--max-time`): a whole number from 0 to the simulator's
/// time limit.
pub fn parse_ticks(s: &str) -> Result<u64, String> {
    let ticks: u64 = s.trim().parse().map_err(|_| {
        format!("a duration is a whole number of ticks from 0 to {MAX_TIME}, got '{s}'")
    })?;
    if ticks > MAX_TIME {
        return Err(format!(
            "{ticks} ticks is beyond the simulator's time limit of {MAX_TIME} ticks (2^53)"
        ));
    }
    Ok(ticks)
}

/// A seed: any whole number from 0 to 2^64 - 1.
pub fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("a seed is a whole number from 0 to {}, got '{s}'", u64::MAX))
}

/// Critical-section requests per node (`--requests`): at least 1.
pub fn parse_requests(s: &str) -> Result<u32, String> {
    let r: u32 = s.trim().parse().map_err(|_| {
        format!(
            "the number of requests is a whole number from 1 to {}, got '{s}'",
            u32::MAX
        )
    })?;
    if r == 0 {
        return Err(
            "at least 1 request per node is needed (with none there is nothing to run)".into(),
        );
    }
    Ok(r)
}

/// A count (`--nodes`, `--jobs`, `--max-states`, …): a whole number from 0 up.
pub fn parse_count<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("expected a whole number from 0 up, got '{s}'"))
}

/// A node id (`--holder`): a whole number from 0 up.
pub fn parse_id(s: &str) -> Result<u32, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "a node id is a whole number from 0 to {}, got '{s}'",
            u32::MAX
        )
    })
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
