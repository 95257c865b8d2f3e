//! The `dme` command-line tool as a library: [`main_with`] runs it on any [`Registry`], so a
//! crate with an algorithm of its own gets every subcommand for it (run, compare, sweep, check,
//! trace, replay, node, cluster, algorithms) with a three-line `main`:
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     // dme_registry::builtin().with(my_crate::MyAlgorithm)
//!     dme_cli::main_with(dme_registry::builtin())
//! }
//! ```
//!
//! The binary (`src/main.rs`) is exactly that, with the built-in registry. The subcommands
//! parse arguments and print; what they compute lives in the libraries (`dme-lab`,
//! `dme-registry`, `dme-sim`, `dme-net`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dme_registry::Registry;

mod cmd;
pub mod plot;
pub mod svg;

use cmd::UsageError;

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
    Run(cmd::run::RunArgs),
    /// Every algorithm side by side over several cluster sizes and loads.
    Compare(cmd::compare::CompareArgs),
    /// Every algorithm over a list of N and loads: results.csv, SVG plots, growth exponents.
    Sweep(cmd::sweep::SweepArgs),
    /// Exhaustive check of a small cluster: every interleaving, a shortest counterexample (exit 1).
    Check(cmd::check::CheckArgs),
    /// A space-time diagram (SVG) of a run, a checker counterexample or a trace file.
    Trace(cmd::trace::TraceArgs),
    /// Re-run a trace file and confirm the same run, or show where it diverges (exit 1).
    Replay(cmd::replay::ReplayArgs),
    /// Run one node as a process, over TCP: interactive (lock, unlock, status, quit) or scripted.
    Node(cmd::node::NodeArgs),
    /// Launch N `dme node` processes on loopback, check their logs, compare with the simulator.
    Cluster(cmd::cluster::ClusterCmdArgs),
    /// Every registered algorithm: its parameters, assumptions and textbook figures.
    Algorithms(cmd::algorithms::AlgorithmsArgs),
}

/// Runs `dme` with the algorithms of `registry` on the process's arguments and returns the exit
/// code: 0 when every check holds, 1 when a check fails, 2 for bad arguments (or a registry
/// whose names clash).
pub fn main_with<R: Registry + 'static>(registry: R) -> ExitCode {
    quiet_on_closed_pipe();
    if let Err(e) = registry.validate() {
        eprintln!("error: the algorithm registry is invalid: {e}");
        return ExitCode::from(2);
    }
    // The registry lives as long as the process: clap's value parsers read its names.
    let registry: &'static R = Box::leak(Box::new(registry));
    cmd::set_catalog(registry.descriptors());
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::exec(registry, args),
        Command::Compare(args) => cmd::compare::exec(registry, args),
        Command::Sweep(args) => cmd::sweep::exec(registry, args),
        Command::Check(args) => cmd::check::exec(registry, args),
        Command::Trace(args) => cmd::trace::exec(registry, args),
        Command::Replay(args) => cmd::replay::exec(registry, args),
        Command::Node(args) => cmd::node::exec(registry, args),
        Command::Cluster(args) => cmd::cluster::exec(registry, args),
        Command::Algorithms(args) => cmd::algorithms::exec(registry, args),
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

/// `dme run --trace | head` closes standard output early; that is the reader's choice, not a
/// failure of dme. `println!` panics on a closed pipe, so exit quietly instead of printing a
/// panic message, and keep the usual message for every other panic.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// The README's Rust examples, compiled and run as doctests so they never rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
