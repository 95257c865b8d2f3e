//! `dme`: run, compare, sweep, check and trace distributed mutual exclusion algorithms.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

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
}

/// Exit codes: 0 when every check holds, 1 when a check fails, 2 for bad arguments.
fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::exec(args),
        Command::Compare(args) => cmd::compare::exec(args),
        Command::Sweep(args) => cmd::sweep::exec(args),
        Command::Check(args) => cmd::check::exec(args),
        Command::Trace(args) => cmd::trace::exec(args),
        Command::Replay(args) => cmd::replay::exec(args),
        Command::Node(args) => cmd::node::exec(args),
        Command::Cluster(args) => cmd::cluster::exec(args),
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
