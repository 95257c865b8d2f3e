//! `dme check`: the exhaustive checker on a small cluster.

use std::fmt::Write as _;

use clap::Args;
use dme_core::Node;
use dme_registry::{ClusterVisitor, Registry};
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};

use super::{Algorithm, ClusterArgs, UsageError, parse_algorithm, spec};

/// The largest cluster `dme check` accepts: the state space grows exponentially with N.
const MAX_NODES: usize = 8;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The algorithm (ricart-agrawala, lamport, maekawa, raymond, …).
    #[arg(long, short, value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// Number of nodes (2 to 8; the search is exhaustive, 3 or 4 is typical).
    #[arg(long, short, default_value_t = 3, allow_negative_numbers = true, value_parser = super::parse_count::<usize>)]
    pub nodes: usize,
    /// Critical-section requests each node makes (R, at least 1).
    #[arg(long, short, default_value_t = 1, allow_negative_numbers = true, value_parser = super::parse_count::<u32>)]
    pub requests: u32,
    /// Let messages between two nodes overtake each other (channels are multisets).
    #[arg(long)]
    pub no_fifo: bool,
    /// Stop after this many distinct states ("bound reached, no violation within it").
    #[arg(long, value_name = "M", default_value_t = 10_000_000, allow_negative_numbers = true, value_parser = super::parse_count::<u64>)]
    pub max_states: u64,
    /// Do not report deadlocks (states where requests are outstanding and nothing can move).
    #[arg(long)]
    pub no_deadlock: bool,
    /// Partial-order reduction: explore one order of moves by different nodes that commute.
    /// Finds every violation and deadlock in fewer states, but the counterexample is not
    /// necessarily a shortest one. Needs FIFO channels to reduce anything.
    #[arg(long)]
    pub por: bool,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Seed for structures drawn at random (--tree random).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = super::parse_seed)]
    pub seed: u64,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// What one check produced, whatever the node type.
struct Checked {
    violation: bool,
    bound_reached: bool,
    text: String,
    json: serde_json::Value,
}

struct CheckVisitor(ClusterCheckConfig);

impl ClusterVisitor for CheckVisitor {
    type Output = Result<Checked, String>;

    fn visit<N: Node + Send + 'static>(self, nodes: Vec<N>, structure: String) -> Self::Output
    where
        N::Message: Send + 'static,
    {
        let outcome = check_cluster(nodes, &self.0).map_err(|e| e.to_string())?;
        let summary = outcome.summary();
        let mut json = serde_json::to_value(&summary).map_err(|e| e.to_string())?;
        json["structure"] = structure.clone().into();
        let s = outcome.stats;
        let mut text = String::new();
        if !structure.is_empty() {
            let _ = writeln!(text, "structure: {structure}");
        }
        match &outcome.verdict {
            Verdict::NoViolation => {
                let _ = writeln!(text, "no violation: every reachable state explored");
                let _ = writeln!(
                    text,
                    "checked in every state: mutual exclusion{}{}, protocol errors",
                    if N::TOKEN_BASED {
                        ", token uniqueness"
                    } else {
                        ""
                    },
                    if self.0.check_deadlock {
                        ", deadlock"
                    } else {
                        ""
                    },
                );
            }
            Verdict::BoundReached => {
                let _ = writeln!(
                    text,
                    "bound reached, no violation within it: stopped after {} distinct states \
                     (--max-states); the state space is larger and was NOT fully explored",
                    s.distinct_states
                );
            }
            Verdict::Violation(cx) => {
                let _ = writeln!(text, "{}", outcome.description().unwrap_or_default());
                let shortest = if self.0.partial_order_reduction {
                    "counterexample (partial-order reduced: rerun without --por for a shortest one)"
                } else {
                    "shortest counterexample"
                };
                let _ = writeln!(text, "{shortest}, {} steps:", cx.len());
                for line in &outcome.trace {
                    let _ = writeln!(text, "  {line}");
                }
            }
        }
        if self.0.partial_order_reduction {
            let _ = writeln!(
                text,
                "partial-order reduction on: the figures count the reduced state graph"
            );
        }
        let _ = writeln!(text, "states explored   {} distinct", s.distinct_states);
        let _ = writeln!(text, "states generated  {}", s.states_generated);
        let _ = writeln!(text, "transitions       {}", s.transitions);
        let _ = writeln!(text, "depth             {}", s.depth);
        let _ = writeln!(text, "elapsed           {:.3} s", s.elapsed.as_secs_f64());
        let _ = writeln!(text, "states/second     {:.0}", s.states_per_second());
        Ok(Checked {
            violation: outcome.is_violation(),
            bound_reached: outcome.verdict == Verdict::BoundReached,
            text,
            json,
        })
    }
}

/// Runs `dme check`: exit 0 when no violation is found (also when the bound stops the search,
/// which is said clearly), 1 with the counterexample when one is found, 2 for bad arguments.
pub fn exec<R: Registry>(registry: &R, args: CheckArgs) -> Result<bool, UsageError> {
    let n = args.nodes;
    if n < 2 {
        return Err(UsageError(format!(
            "--nodes must be at least 2, got {n} (mutual exclusion among fewer is trivial)"
        )));
    }
    if n > MAX_NODES {
        return Err(UsageError(format!(
            "--nodes must be at most {MAX_NODES}, got {n}: the check is exhaustive and its state \
             space grows exponentially with N (use `dme run` for large clusters)"
        )));
    }
    if args.requests == 0 {
        return Err(UsageError(
            "--requests must be at least 1 (with no request there is nothing to check)".into(),
        ));
    }
    if args.max_states == 0 {
        return Err(UsageError("--max-states must be at least 1".into()));
    }
    let config = ClusterCheckConfig {
        requests_per_node: args.requests,
        fifo: !args.no_fifo,
        max_states: Some(args.max_states),
        check_deadlock: !args.no_deadlock,
        partial_order_reduction: args.por,
    };
    let spec = spec(args.algorithm, n, &args.cluster, args.seed)?;
    let checked = registry.cluster(&spec, CheckVisitor(config))??;
    if args.json {
        let mut json = checked.json;
        json["algorithm"] = args.algorithm.name().into();
        println!(
            "{}",
            serde_json::to_string_pretty(&json).expect("summary serializes")
        );
    } else {
        println!(
            "dme check: {}, {n} nodes, {} request{} each, {} channels, at most {} states",
            args.algorithm,
            args.requests,
            if args.requests == 1 { "" } else { "s" },
            if config.fifo { "FIFO" } else { "non-FIFO" },
            args.max_states
        );
        print!("{}", checked.text);
        if checked.bound_reached {
            println!("(exit 0: no violation within the bound; raise --max-states to go further)");
        }
    }
    Ok(!checked.violation)
}
