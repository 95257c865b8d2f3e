//! `dme check` as a user meets it: exit 0 without a violation (also when the bound stops the
//! search, said clearly), 1 with a shortest counterexample, 2 for bad arguments.

use std::process::Output;

mod common;
use common::{stderr, stdout};

/// `dme check ARGS`.
fn dme(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    common::dme(&all)
}

fn json(args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let mut all = args.to_vec();
    all.push("--json");
    let out = dme(&all);
    let v = serde_json::from_slice(&out.stdout).expect("valid JSON");
    (out.status.code(), v)
}

#[test]
fn no_violation_exits_0_with_the_figures() {
    let out = dme(&["-a", "ricart-agrawala", "-n", "3", "-r", "1"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("no violation: every reachable state explored"),
        "{text}"
    );
    for line in [
        "states explored   2101 distinct",
        "states generated  5546",
        "transitions       5545",
        "depth             19",
        "elapsed ",
        "states/second ",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[test]
fn a_violation_exits_1_with_the_shortest_counterexample() {
    let out = dme(&["--algorithm", "lamport", "--nodes", "2", "--no-fifo"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(
        text.contains("safety violation: n0 and n1 are in the critical section at once"),
        "{text}"
    );
    assert!(text.contains("shortest counterexample, 4 steps:"), "{text}");
    assert!(
        text.contains("1. n0 requests → sends REQUEST(ts=1) to n1"),
        "{text}"
    );
    assert!(text.contains("n0 in CS, n1 in CS"), "{text}");
    // The same algorithm over FIFO channels is safe.
    let out = dme(&["--algorithm", "lamport", "--nodes", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn partial_order_reduction_explores_fewer_states_and_still_finds_violations() {
    let out = dme(&["-a", "ricart-agrawala", "-n", "4", "-r", "1", "--por"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(
        text.contains("partial-order reduction on: the figures count the reduced state graph"),
        "{text}"
    );
    // 1,412,505 without reduction.
    assert!(
        text.contains("states explored   1078690 distinct"),
        "{text}"
    );
    let out = dme(&["-a", "maekawa-no-deadlock-handling", "-n", "3", "--por"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    assert!(text.contains("deadlock: no move left"), "{text}");
    assert!(
        text.contains(
            "counterexample (partial-order reduced: rerun without --por for a shortest one)"
        ),
        "{text}"
    );
}

#[test]
fn maekawa_without_deadlock_handling_deadlocks_and_with_it_does_not() {
    let out = dme(&["-a", "maekawa-no-deadlock-handling", "-n", "2"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("deadlock: no move left while requests are outstanding"),
        "{text}"
    );
    assert!(text.contains("shortest counterexample, 4 steps:"), "{text}");
    let out = dme(&["-a", "maekawa", "-n", "3", "--quorum", "grid"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("structure: "), "{}", stdout(&out));
}

#[test]
fn raymond_on_a_line_has_no_violation_and_checks_the_token() {
    let out = dme(&["-a", "raymond", "-n", "3", "--tree", "line", "-r", "2"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("token uniqueness"), "{text}");
}

#[test]
fn the_bound_stops_cleanly_with_exit_0_and_says_so() {
    let out = dme(&["-a", "ra", "-n", "3", "-r", "2", "--max-states", "1000"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("bound reached, no violation within it"),
        "{text}"
    );
    assert!(text.contains("NOT fully explored"), "{text}");
    assert!(text.contains("states explored   1000 distinct"), "{text}");
}

#[test]
fn json_reports_the_verdict_and_the_figures() {
    let (code, v) = json(&["-a", "ricart-agrawala", "-n", "2", "-r", "2", "--no-fifo"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["algorithm"], "ricart-agrawala");
    assert_eq!(v["verdict"], "no_violation");
    assert_eq!(v["nodes"], 2);
    assert_eq!(v["requests_per_node"], 2);
    assert_eq!(v["fifo"], false);
    assert_eq!(v["partial_order_reduction"], false);
    assert_eq!(v["distinct_states"], 179);
    assert_eq!(v["states_generated"], 259);
    assert_eq!(v["depth"], 17);
    assert!(v["violation"].is_null());
    for field in [
        "transitions",
        "elapsed_seconds",
        "states_per_second",
        "max_states",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }

    let (code, v) = json(&["-a", "lamport", "-n", "3", "--no-fifo"]);
    assert_eq!(code, Some(1));
    assert_eq!(v["verdict"], "violation");
    assert_eq!(v["violation"]["kind"], "safety");
    assert_eq!(v["violation"]["steps"], 7);
    assert!(v["violation"]["trace"].as_array().unwrap().len() > 6);

    let (code, v) = json(&["-a", "ra", "-n", "3", "-r", "2", "--max-states", "500"]);
    assert_eq!(code, Some(0));
    assert_eq!(v["verdict"], "bound_reached");
    assert_eq!(v["distinct_states"], 500);
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    for (args, says) in [
        (&["-a", "ra", "-n", "1"][..], "at least 2"),
        (&["-a", "ra", "-n", "9"][..], "exhaustive"),
        (
            &["-a", "ra", "-r", "0"][..],
            "--requests must be at least 1",
        ),
        (&["-a", "ra", "--max-states", "0"][..], "--max-states"),
        (&["-a", "paxos"][..], "unknown algorithm 'paxos'"),
        (
            &["-a", "raymond", "--holder", "7"][..],
            "not a node of the cluster",
        ),
        (&["-n", "3"][..], "--algorithm"),
    ] {
        let out = dme(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(
            stderr(&out).contains(says),
            "{args:?}: expected {says:?} in {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
}
