//! Runs the token ring of this crate's library in dme's simulator and exhaustive checker,
//! through their public API, and prints what they found. Exit 0 when every check holds.

use std::process::ExitCode;

use dme_example_token_ring::ring;
use dme_sim::check::{ClusterCheckConfig, Verdict, check_cluster};
use dme_sim::{Config, Dist, Workload, run};

fn main() -> ExitCode {
    match try_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn try_main() -> Result<bool, Box<dyn std::error::Error>> {
    let mut ok = true;

    // The simulator: 5 nodes, each asking 20 times, under light and heavy load. Every run checks
    // safety, liveness and the token's uniqueness (the node says `TOKEN_BASED = true`).
    for workload in [Workload::Light, Workload::Heavy] {
        let config = Config {
            workload,
            delay: Dist::Constant(10),
            requests_per_node: 20,
            seed: 7,
            ..Config::default()
        };
        let report = run(ring(5)?, &config)?;
        println!(
            "simulator, {} load: {} entries, {:.2} messages per entry, safety {}, liveness {}, digest {:016x}",
            config.workload.name(),
            report.entries,
            report.messages_per_entry(),
            report.safety(),
            report.liveness(),
            report.digest
        );
        if let Some(failure) = &report.failure {
            println!("{failure}");
        }
        ok &= report.is_ok();
    }

    // The exhaustive checker: every interleaving of 3 nodes each asking twice, without FIFO.
    let config = ClusterCheckConfig {
        requests_per_node: 2,
        fifo: false,
        ..ClusterCheckConfig::default()
    };
    let outcome = check_cluster(ring(3)?, &config)?;
    println!(
        "checker, 3 nodes, 2 requests each, no FIFO: {} distinct states, depth {}, {}",
        outcome.stats.distinct_states,
        outcome.stats.depth,
        match &outcome.verdict {
            Verdict::NoViolation => "no violation",
            Verdict::BoundReached => "state bound reached",
            Verdict::Violation(_) => "VIOLATION",
        }
    );
    if !matches!(outcome.verdict, Verdict::NoViolation) {
        println!("{outcome}");
        ok = false;
    }
    Ok(ok)
}
