//! `dme sweep`: every algorithm over a list of N and loads; results.csv, two SVG plots and the
//! fitted growth exponents.

use std::fs::File;
use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use dme_lab::sweep::{SweepPoint, SweepRow, exponents, run_points, write_csv};
use dme_lab::textbook::format_number;
use dme_registry::Registry;

use crate::plot;
use indicatif::{ProgressBar, ProgressStyle};

use super::{
    Algorithm, ClusterArgs, SimArgs, UsageError, config, main_algorithms, parse_algorithm, specs,
};

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Cluster sizes.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "4,9,16,36,64,144,256,576,1024"
    )]
    pub nodes: Vec<usize>,
    /// Loads.
    #[arg(long, value_delimiter = ',', default_value = "light,heavy", value_parser = ["light", "heavy", "random"])]
    pub load: Vec<String>,
    /// Algorithms (default: every algorithm, without named variants).
    #[arg(long, value_delimiter = ',', value_parser = parse_algorithm)]
    pub algorithms: Vec<Algorithm>,
    /// Where to write results.csv, messages_per_entry.svg and sync_delay.svg (created if
    /// missing).
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Runs in parallel (default: the number of CPUs). The results do not depend on it.
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Smallest N of the growth-exponent fit.
    #[arg(long, default_value_t = 64)]
    pub fit_from: usize,
    /// Largest N of the growth-exponent fit.
    #[arg(long, default_value_t = 1024)]
    pub fit_to: usize,
    /// Print the tables as Markdown (as in docs/results.md) instead of plain text.
    #[arg(long)]
    pub markdown: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub sim: SimArgs,
}

/// The files a sweep writes into `--out-dir`.
pub const CSV_FILE: &str = "results.csv";
/// The messages-per-entry plot.
pub const MESSAGES_SVG: &str = "messages_per_entry.svg";
/// The synchronization-delay plot.
pub const SYNC_SVG: &str = "sync_delay.svg";

/// Runs `dme sweep`.
pub fn exec<R: Registry>(registry: &R, args: SweepArgs) -> Result<bool, UsageError> {
    if let Some(&n) = args.nodes.iter().find(|&&n| n < 2) {
        return Err(UsageError(format!(
            "a cluster needs at least 2 nodes, got {n} in --nodes"
        )));
    }
    if args.jobs == Some(0) {
        return Err(UsageError("--jobs must be at least 1".into()));
    }
    if args.fit_from > args.fit_to {
        return Err(UsageError(format!(
            "--fit-from {} is larger than --fit-to {}",
            args.fit_from, args.fit_to
        )));
    }
    std::fs::create_dir_all(&args.out_dir).map_err(|e| {
        UsageError(format!(
            "cannot create output directory {}: {e}",
            args.out_dir.display()
        ))
    })?;
    let algorithms = if args.algorithms.is_empty() {
        main_algorithms()
    } else {
        args.algorithms.clone()
    };
    let mut points = Vec::new();
    for load in &args.load {
        for k in 0..algorithms.len() {
            for &n in &args.nodes {
                let spec = specs(&algorithms, n, &args.cluster, args.sim.seed)?.swap_remove(k);
                points.push(SweepPoint {
                    spec,
                    config: config(&args.sim, load, None),
                });
            }
        }
    }

    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(points.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs  {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let started = Instant::now();
    let rows = run_points(registry, &points, jobs, &|row: &SweepRow| {
        progress.set_message(format!("{} {} N={}", row.algorithm, row.load, row.nodes));
        progress.inc(1);
    });
    progress.finish_and_clear();
    let rows = rows?;
    let elapsed = started.elapsed();

    let csv_path = args.out_dir.join(CSV_FILE);
    let file = File::create(&csv_path)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", csv_path.display())))?;
    write_csv(&rows, BufWriter::new(file))
        .map_err(|e| UsageError(format!("cannot write {}: {e}", csv_path.display())))?;
    plot::messages_plot(&rows, &args.out_dir.join(MESSAGES_SVG))?;
    plot::sync_delay_plot(&rows, &args.out_dir.join(SYNC_SVG))?;

    if args.markdown {
        print_markdown(&args, &algorithms, &rows);
    } else {
        print_text(&args, &rows);
    }
    let exps = exponents(&rows, args.fit_from, args.fit_to);
    println!(
        "\ngrowth exponents (least-squares slope of log messages per entry against log N, \
         {} ≤ N ≤ {}):",
        args.fit_from, args.fit_to
    );
    for e in &exps {
        let slope = e
            .exponent
            .map_or("- (fewer than two sizes in range)".to_string(), |s| {
                format!("{s:.3}")
            });
        println!("  {:<26} {:<6} {}", e.algorithm, e.load, slope);
    }
    let all_ok = rows.iter().all(SweepRow::is_ok);
    if !all_ok {
        println!("\nsome runs FAILED a check: see the safety and liveness columns");
    }
    eprintln!(
        "{} runs in {:.1} s on {} threads; wrote {}, {} and {} in {}",
        rows.len(),
        elapsed.as_secs_f64(),
        jobs.min(points.len().max(1)),
        CSV_FILE,
        MESSAGES_SVG,
        SYNC_SVG,
        args.out_dir.display()
    );
    Ok(all_ok)
}

fn print_text(args: &SweepArgs, rows: &[SweepRow]) {
    println!("dme sweep: {}", args.sim.describe());
    println!(
        "{:<17} {:<6} {:>5} {:>10} {:>14} {:<15} {:>9}  checks",
        "algorithm", "load", "N", "msgs/entry", "textbook", "formula", "sync (T)"
    );
    for r in rows {
        let sync = dme_sim::figure(r.sync_delay_t, 2);
        let checks = if r.is_ok() {
            "ok".to_string()
        } else {
            format!("FAILED: {} / {}", r.safety, r.liveness)
        };
        println!(
            "{:<17} {:<6} {:>5} {:>10} {:>14} {:<15} {:>9}  {}",
            r.algorithm,
            r.load,
            r.nodes,
            format_number(r.messages_per_entry),
            r.textbook.display_value(),
            r.textbook.formula,
            sync,
            checks
        );
    }
}

/// One Markdown table per load: a row per N, for each algorithm the measured messages per entry
/// and the textbook's figure.
fn print_markdown(args: &SweepArgs, algorithms: &[Algorithm], rows: &[SweepRow]) {
    for load in &args.load {
        println!("\n**{load} load**: messages per critical-section entry, measured (textbook)\n");
        let mut header = String::from("| N |");
        let mut rule = String::from("| ---: |");
        for a in algorithms {
            let formula = rows
                .iter()
                .find(|r| r.algorithm == a.name() && &r.load == load)
                .map_or(String::new(), |r| r.textbook.formula.clone());
            header.push_str(&format!(" {} — {} |", a.name(), formula));
            rule.push_str(" ---: |");
        }
        println!("{header}\n{rule}");
        for &n in &args.nodes {
            let mut line = format!("| {n} |");
            for a in algorithms {
                let cell = rows
                    .iter()
                    .find(|r| r.algorithm == a.name() && &r.load == load && r.nodes == n)
                    .map_or("-".to_string(), |r| {
                        let mark = if r.is_ok() { "" } else { " FAILED" };
                        format!(
                            "{} ({}){mark}",
                            format_number(r.messages_per_entry),
                            r.textbook.display_value()
                        )
                    });
                line.push_str(&format!(" {cell} |"));
            }
            println!("{line}");
        }
    }
    let with_sync: Vec<&SweepRow> = rows.iter().filter(|r| r.sync_delay_t.is_some()).collect();
    if !with_sync.is_empty() {
        println!("\n**synchronization delay** (units of T), where nodes waited\n");
        let mut header = String::from("| N |");
        let mut rule = String::from("| ---: |");
        let mut series: Vec<(&'static str, String)> = Vec::new();
        for r in &with_sync {
            if !series
                .iter()
                .any(|(a, l)| *a == r.algorithm && *l == r.load)
            {
                series.push((r.algorithm, r.load.clone()));
            }
        }
        for (a, l) in &series {
            header.push_str(&format!(" {a} ({l}) |"));
            rule.push_str(" ---: |");
        }
        println!("{header}\n{rule}");
        for &n in &args.nodes {
            let mut line = format!("| {n} |");
            for (a, l) in &series {
                let cell = dme_sim::figure(
                    with_sync
                        .iter()
                        .find(|r| r.algorithm == *a && r.load == *l && r.nodes == n)
                        .and_then(|r| r.sync_delay_t),
                    2,
                );
                line.push_str(&format!(" {cell} |"));
            }
            println!("{line}");
        }
    }
}
