//! The subcommands, one module each, and what they share.

use std::fmt;
use std::sync::RwLock;

use clap::Args;
use dme_registry::{ClusterSpec, Describe, Params, parameter_names};
use dme_sim::{Config, Dist, MAX_TIME, Scenario, Workload};

pub mod algorithms;
pub mod check;
pub mod cluster;
pub mod compare;
pub mod node;
pub mod replay;
pub mod run;
pub mod sweep;
pub mod trace;

/// An algorithm named on the command line: its canonical name in the registry.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Algorithm(pub &'static str);

impl Algorithm {
    /// The canonical name.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// Its descriptor.
    pub fn describe(self) -> &'static dyn Describe {
        let catalog = catalog();
        dme_registry::find(&catalog, self.0).expect("parsed names are registered")
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The registry's descriptors, for clap's value parsers, which run before any subcommand sees
/// the registry. Set once by [`crate::main_with`].
static CATALOG: RwLock<Vec<&'static dyn Describe>> = RwLock::new(Vec::new());

/// Makes `descriptors` the algorithms the argument parsers know.
pub fn set_catalog(descriptors: Vec<&'static dyn Describe>) {
    *CATALOG.write().unwrap_or_else(|e| e.into_inner()) = descriptors;
}

/// The algorithms the argument parsers know.
pub fn catalog() -> Vec<&'static dyn Describe> {
    CATALOG.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Which cluster to build: the parameters of the chosen algorithm. `dme algorithms` lists
/// every algorithm's parameters; a parameter the algorithm does not have is refused (exit 2).
#[derive(Args, Debug, Clone, Default)]
pub struct ClusterArgs {
    /// Maekawa: quorum construction: grid, fpp (finite projective plane) or auto (smallest K)
    /// [default: auto].
    #[arg(long, value_parser = parse_quorum)]
    pub quorum: Option<String>,
    /// Raymond: tree shape: star, line, binary, kary:K or random [default: binary].
    #[arg(long, value_parser = parse_tree)]
    pub tree: Option<String>,
    /// Raymond: the initial token holder (default: the tree's root).
    #[arg(long, value_name = "ID", allow_negative_numbers = true, value_parser = parse_holder)]
    pub holder: Option<String>,
    /// Any parameter of the algorithm, NAME=VALUE (repeatable; `dme algorithms` lists them).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

impl ClusterArgs {
    /// The parameters given, by name, each with the flag that gave it.
    fn given(&self) -> Vec<(String, String, String)> {
        let mut given = Vec::new();
        for (name, value) in [
            ("quorum", &self.quorum),
            ("tree", &self.tree),
            ("holder", &self.holder),
        ] {
            if let Some(v) = value {
                given.push((name.to_string(), v.clone(), format!("--{name}")));
            }
        }
        for (name, value) in &self.params {
            given.push((name.clone(), value.clone(), format!("--param {name}")));
        }
        given
    }

    /// The flags that pass the same parameters on to another `dme` process.
    pub fn forwarded(&self) -> Vec<String> {
        self.given()
            .into_iter()
            .flat_map(|(name, value, _)| ["--param".to_string(), format!("{name}={value}")])
            .collect()
    }

    /// The parameters given that `describe` declares, and the flags of the others.
    fn split(&self, describe: &dyn Describe) -> (Params, Vec<String>) {
        let mut kept = Params::new();
        let mut foreign = Vec::new();
        for (name, value, flag) in self.given() {
            if describe.parameters().iter().any(|p| p.name == name) {
                kept.insert(name, value);
            } else {
                foreign.push(flag);
            }
        }
        (kept, foreign)
    }
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

/// A registered algorithm's name or alias.
pub fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    dme_registry::find(&catalog(), s).map(|d| Algorithm(d.name()))
}

/// Checks `value` for the parameter `name` with the check of an algorithm that declares it
/// (any value when none does: the algorithm chosen then refuses the flag).
fn check_param(name: &str, value: &str) -> Result<String, String> {
    for d in catalog() {
        if let Some(p) = d.parameters().iter().find(|p| p.name == name) {
            (p.check)(value)?;
            break;
        }
    }
    Ok(value.to_string())
}

pub fn parse_quorum(s: &str) -> Result<String, String> {
    check_param("quorum", s)
}
pub fn parse_tree(s: &str) -> Result<String, String> {
    check_param("tree", s)
}
pub fn parse_holder(s: &str) -> Result<String, String> {
    check_param("holder", s)
}

/// `NAME=VALUE`, NAME a parameter of some registered algorithm.
pub fn parse_param(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got '{s}'"))?;
    let name = name.trim();
    if !catalog()
        .iter()
        .any(|d| d.parameters().iter().any(|p| p.name == name))
    {
        return Err(format!(
            "no algorithm has a parameter '{name}' (`dme algorithms` lists them)"
        ));
    }
    Ok((name.to_string(), check_param(name, value)?))
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

/// The cluster of `nodes` nodes of `algorithm` with the parameters given; a parameter the
/// algorithm does not have is an error (exit 2): the run would not be what was asked for.
pub fn spec(
    algorithm: Algorithm,
    nodes: usize,
    cluster: &ClusterArgs,
    seed: u64,
) -> Result<ClusterSpec, UsageError> {
    let describe = algorithm.describe();
    let (params, foreign) = cluster.split(describe);
    if let Some(flag) = foreign.first() {
        return Err(UsageError(format!(
            "{flag} does not apply to {algorithm} ({})",
            parameter_names(describe)
        )));
    }
    Ok(ClusterSpec {
        params,
        seed,
        ..ClusterSpec::new(algorithm.name(), nodes)
    })
}

/// The clusters of several algorithms with the same flags (compare, sweep): each gets the
/// parameters it has. A parameter none of them has is an error (exit 2).
pub fn specs(
    algorithms: &[Algorithm],
    nodes: usize,
    cluster: &ClusterArgs,
    seed: u64,
) -> Result<Vec<ClusterSpec>, UsageError> {
    let mut specs = Vec::new();
    let mut unused: Option<Vec<String>> = None;
    for &algorithm in algorithms {
        let (params, foreign) = cluster.split(algorithm.describe());
        unused = Some(match unused {
            None => foreign,
            Some(u) => u.into_iter().filter(|f| foreign.contains(f)).collect(),
        });
        specs.push(ClusterSpec {
            params,
            seed,
            ..ClusterSpec::new(algorithm.name(), nodes)
        });
    }
    if let Some(flag) = unused.unwrap_or_default().first() {
        let names: Vec<&str> = algorithms.iter().map(|a| a.name()).collect();
        return Err(UsageError(format!(
            "{flag} applies to none of the algorithms chosen ({})",
            names.join(", ")
        )));
    }
    Ok(specs)
}

/// The registry's algorithms without named variants, as `compare` and `sweep` show by default.
pub fn main_algorithms() -> Vec<Algorithm> {
    catalog()
        .iter()
        .filter(|d| d.variant_of().is_none())
        .map(|d| Algorithm(d.name()))
        .collect()
}

/// Every registered algorithm, in order.
pub fn all_algorithms() -> Vec<Algorithm> {
    catalog().iter().map(|d| Algorithm(d.name())).collect()
}
