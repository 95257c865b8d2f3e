//! Issue 13 items 1 and 5: numbers that do not fit are refused with a message naming the flag
//! (or scenario line) and the limit, never wrapped into a plausible report; every numeric flag
//! of every simulating subcommand validates the same way (a negative value, `--requests 0`).

mod common;

use common::{dme, scratch, stderr, stdout};
use proptest::prelude::*;

const LIMIT: &str = "9007199254740992";

fn refused(args: &[&str]) -> String {
    let out = dme(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "dme {args:?}\nstdout: {}\nstderr: {err}",
        stdout(&out)
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn the_issues_wrapping_commands_are_refused_naming_the_flag_and_the_limit() {
    let e = refused(&[
        "run",
        "-a",
        "lamport",
        "-n",
        "3",
        "--cs-time",
        "18446744073709551615",
        "--requests",
        "2",
        "--trace",
    ]);
    assert!(e.contains("--cs-time") && e.contains(LIMIT), "{e}");
    let e = refused(&[
        "run",
        "-a",
        "lamport",
        "-n",
        "3",
        "--delay",
        "constant:18446744073709551615",
        "--requests",
        "1",
    ]);
    assert!(e.contains("--delay") && e.contains(LIMIT), "{e}");
    let dir = scratch("wrap-scenario");
    for (line, field) in [
        ("at 18446744073709551615 node 1 requests", "time"),
        (
            "at 0 node 1 requests cs 18446744073709551615",
            "critical-section time",
        ),
    ] {
        let path = dir.join("s.txt");
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let e = refused(&[
            "run",
            "-a",
            "lamport",
            "-n",
            "3",
            "--scenario",
            path.to_str().unwrap(),
        ]);
        assert!(
            e.contains("scenario line 1") && e.contains(field) && e.contains(LIMIT),
            "{e}"
        );
    }
    // Sums: each value fits, the critical sections of all requests together do not.
    let e = refused(&[
        "run",
        "-a",
        "lamport",
        "-n",
        "3",
        "--cs-time",
        "4503599627370496",
        "--requests",
        "2",
    ]);
    assert!(
        e.contains("critical sections alone") && e.contains(LIMIT),
        "{e}"
    );
    // A run whose clock would pass the limit stops with an error, not a report.
    let e = refused(&[
        "run",
        "-a",
        "lamport",
        "-n",
        "3",
        "--delay",
        "constant:4503599627370497",
        "--requests",
        "1",
    ]);
    assert!(
        e.contains("virtual time overflow") && e.contains(LIMIT),
        "{e}"
    );
    let e = refused(&[
        "compare",
        "--nodes",
        "3",
        "--algorithms",
        "lamport",
        "--delay",
        "constant:4503599627370497",
    ]);
    assert!(e.contains("virtual time overflow"), "{e}");
}

#[test]
fn zero_requests_are_refused_by_every_subcommand_that_simulates() {
    let dir = scratch("zero");
    let svg = dir.join("x.svg");
    for args in [
        vec!["run", "-a", "lamport", "--requests", "0"],
        vec!["compare", "--nodes", "4", "--requests", "0"],
        vec![
            "sweep",
            "--nodes",
            "4",
            "--requests",
            "0",
            "--out-dir",
            dir.to_str().unwrap(),
        ],
        vec![
            "trace",
            "-a",
            "lamport",
            "--requests",
            "0",
            "-o",
            svg.to_str().unwrap(),
        ],
        vec!["check", "-a", "lamport", "-r", "0"],
    ] {
        let e = refused(&args);
        assert!(
            e.contains("--requests") || e.contains("requests must be at least 1"),
            "{args:?}: {e}"
        );
        assert!(e.contains("at least 1"), "{args:?}: {e}");
    }
}

#[test]
fn a_negative_value_of_every_numeric_flag_gets_a_clear_message() {
    let dir = scratch("negative");
    let out = dir.to_str().unwrap().to_string();
    let svg = dir.join("x.svg").to_str().unwrap().to_string();
    let mut cases: Vec<(Vec<&str>, &str)> = Vec::new();
    // The flags every simulating subcommand shares.
    for flag in [
        "--requests",
        "--seed",
        "--delay",
        "--cs-time",
        "--think",
        "--max-time",
        "--holder",
    ] {
        cases.push((vec!["run", "-a", "raymond", flag, "-5"], flag));
        cases.push((vec!["compare", flag, "-5"], flag));
        cases.push((vec!["sweep", "--out-dir", &out, flag, "-5"], flag));
        cases.push((vec!["trace", "-a", "raymond", "-o", &svg, flag, "-5"], flag));
    }
    cases.extend([
        (vec!["run", "-a", "lamport", "--nodes", "-5"], "--nodes"),
        (vec!["compare", "--nodes", "4,-5"], "--nodes"),
        (vec!["sweep", "--out-dir", &out, "--nodes", "-5"], "--nodes"),
        (vec!["sweep", "--out-dir", &out, "--jobs", "-5"], "--jobs"),
        (
            vec!["sweep", "--out-dir", &out, "--fit-from", "-5"],
            "--fit-from",
        ),
        (
            vec!["sweep", "--out-dir", &out, "--fit-to", "-5"],
            "--fit-to",
        ),
        (
            vec!["trace", "-a", "lamport", "-o", &svg, "--nodes", "-5"],
            "--nodes",
        ),
        (
            vec!["trace", "-a", "lamport", "-o", &svg, "--max-states", "-5"],
            "--max-states",
        ),
        (vec!["check", "-a", "lamport", "--nodes", "-5"], "--nodes"),
        (
            vec!["check", "-a", "lamport", "--requests", "-5"],
            "--requests",
        ),
        (
            vec!["check", "-a", "lamport", "--max-states", "-5"],
            "--max-states",
        ),
        (vec!["check", "-a", "lamport", "--seed", "-5"], "--seed"),
    ]);
    for (args, flag) in cases {
        let e = refused(&args);
        assert!(!e.contains("unexpected argument"), "{args:?}: {e}");
        assert!(e.contains(&format!("'-5' for '{flag}")), "{args:?}: {e}");
    }
}

/// Extreme values for a numeric flag: mostly ordinary, often at or past a limit.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..25).prop_map(|v| v.to_string()),
        1 => Just("4503599627370497".to_string()),
        1 => Just(LIMIT.to_string()),
        1 => Just("9007199254740993".to_string()),
        1 => Just(u64::MAX.to_string()),
        1 => Just("18446744073709551616".to_string()),
        1 => Just("-1".to_string()),
    ]
}

fn dist() -> impl Strategy<Value = String> {
    prop_oneof![
        value().prop_map(|v| format!("constant:{v}")),
        (value(), value()).prop_map(|(a, b)| format!("uniform:{a}..{b}")),
        value().prop_map(|v| format!("exp:{v}")),
    ]
}

/// Every figure in a JSON run object is a finite number, or `null` exactly where it has no
/// samples (issue 13 item 2): no entries, a run of zero duration (throughput: entries per 1,000 ticks, 0 when nothing entered in a run that lasted), nobody waiting at
/// an exit (the sync delay).
fn assert_finite(run: &serde_json::Value) {
    let entries = run["entries"].as_u64().expect("entries");
    let end_time = run["end_time"].as_u64().expect("end_time");
    let figure = |value: &serde_json::Value, absent: bool, key: &str| {
        if absent {
            assert!(value.is_null(), "{key} must be null without samples: {run}");
        } else {
            assert!(value.as_f64().is_some_and(f64::is_finite), "{key}: {run}");
        }
    };
    figure(
        &run["messages_per_entry"],
        entries == 0,
        "messages_per_entry",
    );
    figure(&run["throughput"], end_time == 0, "throughput");
    // Every entry is a waiting-time sample; a response time needs the critical section to be
    // over, which a --max-time may cut off.
    if entries == 0 {
        assert!(
            run["waiting_time"].is_null(),
            "waiting_time without samples: {run}"
        );
    } else {
        figure(&run["waiting_time"]["mean"], false, "waiting_time");
    }
    let response = &run["response_time"];
    if !response.is_null() {
        assert!(response["count"].as_u64().is_some_and(|c| c >= 1), "{run}");
        figure(&response["mean"], false, "response_time");
    }
    if !run["sync_delay"].is_null() {
        assert!(
            run["sync_delay"]["mean"]
                .as_f64()
                .is_some_and(f64::is_finite),
            "{run}"
        );
    }
    assert!(
        run["end_time"].as_u64().is_some_and(|t| t <= 1 << 53),
        "{run}"
    );
}

/// The `--trace` lines of a run: times never go back, and every node leaves only after it
/// entered.
fn assert_trace_in_order(trace: &str) {
    let mut last = 0u64;
    let mut inside = std::collections::BTreeSet::new();
    for line in trace.lines().take_while(|l| l.starts_with("t=")) {
        let mut words = line.split_whitespace();
        let t: u64 = words.next().unwrap()[2..].parse().unwrap();
        assert!(t >= last, "time goes back: {line}");
        last = t;
        let node = words.next().unwrap().to_string();
        match words.next() {
            Some("ENTERS") => assert!(inside.insert(node), "{line}"),
            Some("leaves") => assert!(inside.remove(&node), "leaves before it enters: {line}"),
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Every subcommand that takes times, with extreme values of each numeric flag: exit 2
    /// with a message, or a report whose invariants hold.
    #[test]
    fn extreme_flags_give_a_message_or_a_sound_report(
        requests in prop_oneof![4 => 1u32..4, 1 => Just(0)],
        seed in value(),
        delay in dist(),
        cs_time in value(),
        think in dist(),
        max_time in proptest::option::of(value()),
        load in prop_oneof![Just("light"), Just("heavy"), Just("random")],
        algorithm in prop_oneof![Just("lamport"), Just("raymond"), Just("maekawa")],
        at in value(),
        cs in value(),
        scripted in any::<bool>(),
    ) {
        let dir = scratch("extreme");
        let requests = requests.to_string();
        let mut shared: Vec<String> = [
            "--requests", &requests, "--seed", &seed, "--delay", &delay, "--cs-time", &cs_time,
            "--think", &think,
        ].iter().map(|s| s.to_string()).collect();
        if let Some(m) = &max_time {
            shared.extend(["--max-time".to_string(), m.clone()]);
        }
        let scenario = dir.join("scenario.txt");
        std::fs::write(&scenario, format!("at {at} node 1 requests cs {cs}\nat 0 node 2 requests\n")).unwrap();
        let svg = dir.join("x.svg").to_str().unwrap().to_string();
        let out_dir = dir.to_str().unwrap().to_string();
        let mut run_args = vec!["run", "-a", algorithm, "-n", "3", "--load", load, "--json"];
        if scripted {
            run_args.extend(["--scenario", scenario.to_str().unwrap()]);
        }
        let commands: Vec<Vec<&str>> = vec![
            run_args,
            vec!["run", "-a", algorithm, "-n", "3", "--load", load, "--trace"],
            vec!["compare", "--nodes", "3", "--algorithms", algorithm, "--load", load, "--json"],
            vec!["sweep", "--nodes", "4", "--algorithms", algorithm, "--load", load, "--out-dir", &out_dir, "--jobs", "1"],
            vec!["trace", "-a", algorithm, "-n", "3", "--load", load, "-o", &svg, "--force"],
        ];
        for mut args in commands {
            let what = args.clone();
            args.extend(shared.iter().map(String::as_str));
            let out = dme(&args);
            let (text, err) = (stdout(&out), stderr(&out));
            prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
            match out.status.code() {
                Some(2) => prop_assert!(
                    err.starts_with("error: ") && !err.contains("unexpected argument"),
                    "{args:?}: {err}"
                ),
                Some(0) | Some(1) => {
                    if what.contains(&"--json") {
                        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                        match v.as_array() {
                            Some(runs) => runs.iter().for_each(assert_finite),
                            None => assert_finite(&v),
                        }
                    }
                    if what.contains(&"--trace") {
                        assert_trace_in_order(&text);
                    }
                }
                other => prop_assert!(false, "{args:?}: exit {other:?}: {err}"),
            }
        }
    }
}
