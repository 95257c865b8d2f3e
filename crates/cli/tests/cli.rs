//! The `dme` binary as a user meets it: exit codes, JSON fields, reproducibility across
//! processes.

use std::process::Command;

mod common;
use common::dme;

fn json(args: &[&str]) -> serde_json::Value {
    let out = dme(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn run_json_has_every_documented_field() {
    let v = json(&[
        "run",
        "--algorithm",
        "ricart-agrawala",
        "--nodes",
        "16",
        "--load",
        "heavy",
        "--requests",
        "20",
        "--seed",
        "7",
        "--delay",
        "constant:10",
        "--cs-time",
        "5",
        "--json",
    ]);
    for field in [
        "algorithm",
        "nodes",
        "load",
        "seed",
        "entries",
        "messages",
        "messages_per_entry",
        "messages_by_kind",
        "sync_delay",
        "response_time",
        "waiting_time",
        "safety",
        "liveness",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["algorithm"], "ricart-agrawala");
    assert_eq!(v["entries"], 320);
    assert_eq!(v["messages_per_entry"], 30.0);
    assert_eq!(v["messages_by_kind"]["REQUEST"], 320 * 15);
    for stat in ["mean", "p50", "p99", "max"] {
        assert!(v["response_time"][stat].is_number(), "{stat}");
    }
    assert_eq!(v["sync_delay"]["mean"], 10.0);
    assert_eq!(v["safety"], "ok");
    assert_eq!(v["liveness"], "ok");
}

#[test]
fn sync_delay_is_null_when_nobody_waited() {
    let v = json(&["run", "-a", "ra", "-n", "3", "--load", "light", "--json"]);
    assert!(v["sync_delay"].is_null());
}

#[test]
fn the_same_seed_gives_the_same_digest_in_two_processes() {
    let args = [
        "run",
        "-a",
        "ra",
        "-n",
        "6",
        "--load",
        "random",
        "--delay",
        "exp:10",
        "--no-fifo",
        "--seed",
        "1234",
        "--json",
    ];
    let a = json(&args);
    let b = json(&args);
    assert_eq!(a["digest"], b["digest"]);
    let mut other = args;
    other[11] = "1235";
    assert_ne!(a["digest"], json(&other)["digest"]);
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--algorithm", "bogus"],
            "unknown algorithm 'bogus'",
        ),
        (&["run", "-a", "ra", "--nodes", "1"], "at least 2 nodes"),
        (&["run", "-a", "ra", "--nodes", "0"], "at least 2 nodes"),
        (
            &["run", "-a", "ra", "--delay", "uniform:5"],
            "malformed distribution",
        ),
        (
            &["run", "-a", "ra", "--delay", "gauss:3"],
            "malformed distribution",
        ),
        (
            &["run", "-a", "ra", "--scenario", "/no/such/file"],
            "cannot read scenario file",
        ),
        (
            &["run", "-a", "ra", "--load", "medium"],
            "invalid value 'medium'",
        ),
        (&["compare", "--nodes", "4,x"], "invalid value"),
        (
            &["run", "-a", "ra", "--nodes", "5000"],
            "at most 4096 nodes (got 5000)",
        ),
    ];
    for (args, message) in cases {
        let out = dme(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn a_malformed_scenario_names_its_line() {
    let dir = common::scratch("scenario");
    let path = dir.join("bad.scenario");
    std::fs::write(&path, "at 0 node 1 requests\nat soon node 2 requests\n").unwrap();
    let out = dme(&["run", "-a", "ra", "--scenario", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));
    let good = dir.join("good.scenario");
    std::fs::write(&good, "at 0 node 1 requests\nat 0 node 2 requests cs 20\n").unwrap();
    let v = json(&[
        "run",
        "-a",
        "ra",
        "-n",
        "3",
        "--scenario",
        good.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(v["load"], "scripted");
    assert_eq!(v["entries"], 2);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compare_lists_every_algorithm() {
    let v = json(&["compare", "--nodes", "4", "--load", "light", "--json"]);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["algorithm"].as_str().unwrap())
        .collect();
    for algorithm in common::Algorithm::main() {
        assert!(names.contains(&algorithm.name()), "{names:?}");
    }
    for row in v.as_array().unwrap() {
        if row["textbook"]["exact"] == true {
            assert_eq!(row["textbook"]["value"], row["messages_per_entry"], "{row}");
        }
    }
    let text = dme(&["compare", "--nodes", "4,8"]);
    assert_eq!(text.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&text.stdout).contains("msgs/entry"));
}

#[test]
fn lamport_without_fifo_fails_with_a_replayable_report() {
    let args = [
        "run",
        "-a",
        "lamport",
        "-n",
        "3",
        "--no-fifo",
        "--delay",
        "uniform:1..30",
        "--seed",
        "1",
        "--requests",
        "3",
    ];
    let out = dme(&args);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("safety check FAILED"), "{text}");
    assert!(text.contains("(seed 1)"), "{text}");
    assert!(text.contains("overtook an earlier message"), "{text}");
    assert!(text.contains("--seed 1"), "{text}");
    assert_eq!(
        dme(&args).stdout,
        out.stdout,
        "the seed replays the same report"
    );
    let mut fifo = args.to_vec();
    fifo.retain(|a| *a != "--no-fifo");
    assert_eq!(
        dme(&fifo).status.code(),
        Some(0),
        "with FIFO the same seed passes"
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dme"))
        .args(["run", "-a", "ra", "-n", "8", "--requests", "50", "--trace"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dme runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("requests the critical section"), "{first}");
    // The reader is gone: dme's next writes hit a closed pipe.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn a_parameter_the_algorithm_does_not_have_exits_2_and_says_so() {
    for (args, says) in [
        (
            &["run", "-a", "lamport", "--quorum", "grid"][..],
            "--quorum does not apply to lamport (it has no parameters)",
        ),
        (
            &["check", "-a", "maekawa", "--tree", "star"][..],
            "--tree does not apply to maekawa (its parameters: quorum)",
        ),
        (
            &["compare", "--algorithms", "lamport,ra", "--holder", "1"][..],
            "--holder applies to none of the algorithms chosen (lamport, ricart-agrawala)",
        ),
        (
            &["run", "-a", "raymond", "--param", "colour=red"][..],
            "no algorithm has a parameter 'colour'",
        ),
    ] {
        let out = dme(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    // Where it applies, the generic form is the same as the named flag.
    let a = dme(&[
        "run", "-a", "maekawa", "-n", "9", "--quorum", "grid", "--json",
    ]);
    let b = dme(&[
        "run",
        "-a",
        "maekawa",
        "-n",
        "9",
        "--param",
        "quorum=grid",
        "--json",
    ]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_size_whose_memory_estimate_exceeds_the_limit_is_refused_at_once() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dme"))
        .args([
            "run",
            "-a",
            "maekawa",
            "-n",
            "100000",
            "--requests",
            "1",
            "--load",
            "light",
        ])
        .env("DME_MEMORY_LIMIT", "16G")
        .output()
        .expect("dme runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("maekawa with 100000 nodes needs about 43.4 GB of memory")
            && stderr.contains("more than the 16.0 GB DME_MEMORY_LIMIT"),
        "{stderr}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_dme"))
        .args(["run", "-a", "ra"])
        .env("DME_MEMORY_LIMIT", "plenty")
        .output()
        .expect("dme runs");
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn algorithms_lists_every_descriptor() {
    let out = dme(&["algorithms", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for algorithm in common::Algorithm::all() {
        assert!(names.contains(&algorithm.name()), "{names:?}");
    }
    let maekawa = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "maekawa")
        .unwrap();
    assert_eq!(maekawa["parameters"][0]["name"], "quorum");
    assert_eq!(maekawa["assumptions"]["fifo"], false);
    assert_eq!(
        maekawa["figures"]["heavy"]["messages_per_entry"]["formula"],
        "3(K-1)..5(K-1)"
    );
    let text = dme(&["algorithms"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("ricart-agrawala (also ra,"));
}
