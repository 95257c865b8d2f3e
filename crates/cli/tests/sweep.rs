//! `dme sweep` as a user meets it: the files it writes, their columns and rows, exit codes.

use std::path::PathBuf;

mod common;
use common::dme;

/// A fresh directory under the system's temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("dme-sweep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 temp path")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Splits a CSV line, honouring quoted fields.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn sweep_writes_the_csv_and_both_plots() {
    let dir = TempDir::new("ok");
    let out = dme(&[
        "sweep",
        "--nodes",
        "4,9",
        "--requests",
        "3",
        "--out-dir",
        dir.path(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = std::fs::read_to_string(dir.0.join("results.csv")).expect("results.csv written");
    let mut lines = csv.lines();
    let header = fields(lines.next().expect("header"));
    assert_eq!(header, dme_lab::sweep::CSV_COLUMNS);
    let rows: Vec<Vec<String>> = lines.map(fields).collect();
    let algorithms = common::Algorithm::main();
    // One row per algorithm × load × N, in that order: load, then algorithm, then N.
    assert_eq!(rows.len(), algorithms.len() * 2 * 2);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        assert_eq!(row[col("safety")], "ok");
        assert_eq!(row[col("liveness")], "ok");
        assert_eq!(row[col("entries")].parse::<u64>().unwrap() % 3, 0);
    }
    assert_eq!(rows[0][col("load")], "light");
    assert_eq!(rows[0][col("algorithm")], algorithms[0].name());
    assert_eq!(rows[0][col("nodes")], "4");
    assert_eq!(rows[1][col("nodes")], "9");
    // Ricart–Agrawala: 2(N−1) exactly, at both loads, as the textbook says.
    let ra: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[col("algorithm")] == "ricart-agrawala")
        .collect();
    assert_eq!(ra.len(), 4);
    for r in ra {
        let n: f64 = r[col("nodes")].parse().unwrap();
        assert_eq!(r[col("messages_per_entry")], format!("{}", 2.0 * (n - 1.0)));
        assert_eq!(r[col("textbook_value")], r[col("messages_per_entry")]);
        assert_eq!(r[col("textbook_exact")], "true");
        // Nobody waits at light load, so there is no synchronization delay there.
        let sync = &r[col("sync_delay_T")];
        if r[col("load")] == "light" {
            assert_eq!(sync, "");
        } else {
            assert_eq!(sync, "1");
        }
    }
    for svg in ["messages_per_entry.svg", "sync_delay.svg"] {
        let text = std::fs::read_to_string(dir.0.join(svg)).expect("plot written");
        assert!(text.starts_with("<svg"), "{svg}");
        assert!(text.contains("ricart-agrawala (heavy)"), "{svg}");
    }
    assert!(stdout.contains("growth exponents"));
    // Two sizes, both outside the default fit range 64..=1024: no exponent can be fitted.
    assert!(stdout.contains("fewer than two sizes"));
}

#[test]
fn the_same_sweep_gives_the_same_csv_whatever_the_threads() {
    let a = TempDir::new("jobs1");
    let b = TempDir::new("jobs2");
    for (dir, jobs) in [(&a, "1"), (&b, "2")] {
        let out = dme(&[
            "sweep",
            "--nodes",
            "3,5,8",
            "--load",
            "heavy",
            "--requests",
            "2",
            "--fit-from",
            "3",
            "--jobs",
            jobs,
            "--out-dir",
            dir.path(),
        ]);
        assert_eq!(out.status.code(), Some(0));
    }
    let read = |d: &TempDir| std::fs::read_to_string(d.0.join("results.csv")).unwrap();
    assert_eq!(read(&a), read(&b));
}

#[test]
fn markdown_tables_show_measured_and_textbook() {
    let dir = TempDir::new("md");
    let out = dme(&[
        "sweep",
        "--nodes",
        "4",
        "--algorithms",
        "ra,lamport",
        "--requests",
        "2",
        "--markdown",
        "--out-dir",
        dir.path(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("| N | ricart-agrawala — 2(N-1) | lamport — 3(N-1) |"),
        "{stdout}"
    );
    assert!(stdout.contains("| 4 | 6 (6) | 9 (9) |"), "{stdout}");
}

#[test]
fn bad_arguments_exit_2() {
    let dir = TempDir::new("bad");
    let file = dir.0.with_extension("file");
    std::fs::write(&file, "not a directory").unwrap();
    let file_str = file.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["sweep", "--nodes", "1,4"], "at least 2 nodes"),
        (&["sweep", "--nodes", "4,x"], "invalid value"),
        (&["sweep", "--load", "medium"], "invalid value 'medium'"),
        (
            &["sweep", "--algorithms", "bogus"],
            "unknown algorithm 'bogus'",
        ),
        (&["sweep", "--jobs", "0"], "--jobs must be at least 1"),
        (
            &["sweep", "--fit-from", "100", "--fit-to", "10"],
            "larger than --fit-to",
        ),
        (
            &["sweep", "--nodes", "4", "--out-dir", file_str],
            "cannot create output directory",
        ),
    ];
    for (args, message) in cases {
        let out = dme(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    std::fs::remove_file(&file).ok();
}

#[test]
fn a_failed_check_exits_1_and_is_in_the_csv() {
    let dir = TempDir::new("fail");
    // Stopping the runs at t = 5 leaves requests ungranted: a liveness failure.
    let out = dme(&[
        "sweep",
        "--nodes",
        "4",
        "--algorithms",
        "ra",
        "--max-time",
        "5",
        "--out-dir",
        dir.path(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED"));
    let csv = std::fs::read_to_string(dir.0.join("results.csv")).unwrap();
    let header = fields(csv.lines().next().unwrap());
    let liveness = header.iter().position(|h| h == "liveness").unwrap();
    for line in csv.lines().skip(1) {
        assert!(fields(line)[liveness].starts_with("liveness"), "{line}");
    }
}
