//! Trace files and space-time diagrams as a user meets them: `dme run --trace-out`, `dme replay`,
//! `dme trace`.

use std::path::Path;

mod common;
use common::{Algorithm, dme, scratch, stderr, stdout};

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// `dme run ARGS --trace-out FILE --json`: the run's JSON and the trace file's JSON.
fn record(args: &[&str], file: &Path) -> (serde_json::Value, serde_json::Value) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--trace-out", path(file), "--json"]);
    let out = dme(&all);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        stderr(&out)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("run JSON");
    let text = std::fs::read_to_string(file).expect("trace file written");
    (
        run,
        serde_json::from_str(&text).expect("trace file is JSON"),
    )
}

#[test]
fn trace_out_then_replay_gives_the_same_digest_for_every_algorithm() {
    let dir = scratch("roundtrip");
    for algorithm in Algorithm::all() {
        for fifo in [true, false] {
            let file = dir.join(format!("{algorithm}-{fifo}.json"));
            let mut args = vec![
                "-a",
                algorithm.name(),
                "-n",
                "4",
                "--requests",
                "3",
                "--delay",
                "uniform:5..15",
                "--seed",
                "11",
            ];
            if !fifo {
                args.push("--no-fifo");
            }
            let (run, trace) = record(&args, &file);
            assert_eq!(trace["format"], "dme-trace");
            assert_eq!(trace["version"], 1);
            assert_eq!(trace["source"], "simulation");
            assert_eq!(trace["algorithm"], algorithm.name());
            assert_eq!(trace["nodes"], 4);
            assert_eq!(trace["seed"], 11);
            assert_eq!(trace["config"]["fifo"], fifo);
            assert_eq!(trace["digest"], run["digest"], "{algorithm}");
            let events = trace["events"].as_array().expect("events");
            let sends = events.iter().filter(|e| e["event"] == "send").count();
            assert_eq!(
                sends as u64,
                run["messages"].as_u64().unwrap(),
                "{algorithm}"
            );
            let out = dme(&["replay", path(&file)]);
            let text = stdout(&out);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{algorithm} fifo={fifo}: {text}"
            );
            let digest = run["digest"].as_str().unwrap();
            assert!(
                text.contains(&format!(
                    "same run: {} events and digest {digest} match",
                    events.len()
                )),
                "{text}"
            );
        }
    }
}

#[test]
fn a_failing_run_replays_to_the_same_failure() {
    let dir = scratch("failing");
    let file = dir.join("lamport-no-fifo.json");
    let args = [
        "-a",
        "lamport",
        "-n",
        "3",
        "--no-fifo",
        "--delay",
        "uniform:5..15",
        "--seed",
        "137",
        "--requests",
        "1",
    ];
    let (run, trace) = record(&args, &file);
    assert_eq!(run["failure"]["kind"], "safety");
    assert_eq!(trace["failure"]["kind"], "safety");
    assert_eq!(trace["failure"]["time"], 11);
    let out = dme(&["replay", path(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("the run fails again as recorded: safety check FAILED at t=11"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_hand_edited_delivery_order_is_reported_at_the_first_changed_event() {
    let dir = scratch("edited");
    let file = dir.join("ra.json");
    record(
        &["-a", "ra", "-n", "3", "--requests", "1", "--seed", "2"],
        &file,
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first_event = lines
        .iter()
        .position(|l| l.trim_start().starts_with("{\"time\""))
        .expect("events, one per line");
    // Two deliveries in a row to different nodes at the same time: swap them, as a person
    // editing the file would to try another order.
    let is_delivery = |l: &str| l.contains("\"event\":\"deliver\"");
    let at = (first_event..lines.len() - 1)
        .find(|&i| {
            is_delivery(lines[i])
                && is_delivery(lines[i + 1])
                && lines[i].split(',').next() == lines[i + 1].split(',').next()
                && lines[i] != lines[i + 1]
        })
        .expect("two simultaneous deliveries");
    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let strip = |l: &str| l.trim_end_matches(',').to_string();
    let comma = |i: usize| if lines[i].ends_with(',') { "," } else { "" };
    edited[at] = format!("{}{}", strip(lines[at + 1]), comma(at));
    edited[at + 1] = format!("{}{}", strip(lines[at]), comma(at + 1));
    let edited_file = dir.join("ra-edited.json");
    std::fs::write(&edited_file, edited.join("\n")).unwrap();
    let out = dme(&["replay", path(&edited_file)]);
    let report = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{report}{}", stderr(&out));
    let index = at - first_event;
    assert!(
        report.contains(&format!(
            "DIVERGES at event {index} (0-based index into \"events\""
        )),
        "expected a divergence at event {index}: {report}"
    );
    // The recorded (edited) event and what the simulator really did there are both shown.
    let event = |line: &str| serde_json::from_str::<dme_sim::TraceEvent>(&strip(line)).unwrap();
    let recorded = format!("{index:>6}  recorded  {}", event(&edited[at]));
    let replayed = format!("{index:>6}  replayed  {}", event(lines[at]));
    assert!(report.contains(&recorded), "{recorded}\n{report}");
    assert!(report.contains(&replayed), "{replayed}\n{report}");
    assert!(
        report.contains("(equal: the simulator ran the recorded run"),
        "{report}"
    );
    // The unedited file replays cleanly.
    assert_eq!(dme(&["replay", path(&file)]).status.code(), Some(0));
    // A changed digest in the header is a divergence too.
    let digest_edited = dir.join("ra-digest.json");
    let digest = serde_json::from_str::<serde_json::Value>(&text).unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(&digest_edited, text.replace(&digest, "0123456789abcdef")).unwrap();
    let out = dme(&["replay", path(&digest_edited)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("the digest differs"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn malformed_or_truncated_trace_files_exit_2_with_a_clear_error() {
    let dir = scratch("malformed");
    let good = dir.join("good.json");
    record(&["-a", "ra", "-n", "3", "--requests", "1"], &good);
    let text = std::fs::read_to_string(&good).unwrap();
    // (name, content, expected error, also for `trace --from`)
    let cases: Vec<(&str, String, &str, bool)> = vec![
        (
            "truncated",
            text[..text.len() * 2 / 3].to_string(),
            "truncated",
            true,
        ),
        ("empty", String::new(), "empty", true),
        (
            "not-json",
            "this is not a trace\n".into(),
            "not valid JSON",
            true,
        ),
        (
            "other-json",
            "{\"hello\": 1}".into(),
            "not a dme trace file",
            true,
        ),
        (
            "version",
            text.replace("\"version\": 1", "\"version\": 7"),
            "version 7 is not supported",
            true,
        ),
        (
            "bad-node",
            text.replacen("\"node\":0", "\"node\":9", 1),
            "names n9, but the cluster has 3 nodes",
            true,
        ),
        (
            "bad-field",
            text.replacen("\"time\":0", "\"time\":-4", 1),
            "malformed",
            true,
        ),
        (
            "algorithm",
            text.replace("\"ricart-agrawala\"", "\"bakery\""),
            "unknown algorithm 'bakery'",
            false,
        ),
    ];
    for (name, content, expected, drawn) in cases {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, content).unwrap();
        let mut commands = vec![vec!["replay", path(&file)]];
        if drawn {
            commands.push(vec!["trace", "--from", path(&file)]);
        }
        for command in commands {
            let out = dme(&command);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{name} {command:?}: {err}");
            assert!(err.starts_with("error: "), "{name}: {err}");
            assert!(
                err.contains(expected),
                "{name}: expected {expected:?} in {err}"
            );
            assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
        }
    }
    let missing = dme(&["replay", path(&dir.join("nope.json"))]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read trace file"));
}

#[test]
fn the_diagram_has_one_arrow_per_message_and_one_bar_per_critical_section() {
    let dir = scratch("diagram");
    let svg_file = dir.join("ra.svg");
    let trace_file = dir.join("ra.json");
    let out = dme(&[
        "trace",
        "-a",
        "ra",
        "-n",
        "4",
        "--requests",
        "2",
        "--out",
        path(&svg_file),
        "--trace-out",
        path(&trace_file),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("48 messages, 8 critical-section entries"));
    let svg = std::fs::read_to_string(&svg_file).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    // 2(N-1) = 6 messages for each of the 8 entries.
    assert_eq!(count(&svg, "class=\"msg\""), 48);
    assert_eq!(
        count(&svg, "class=\"msg "),
        0,
        "nothing highlighted with FIFO"
    );
    assert_eq!(count(&svg, "class=\"cs\""), 8);
    assert_eq!(count(&svg, "class=\"req\""), 8);
    // One label per REPLY, or per batch of REPLYs a node sends at once.
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&trace_file).unwrap()).unwrap();
    let mut batches: Vec<(u64, u64)> = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "send" && e["message"]["kind"] == "REPLY")
        .map(|e| (e["from"].as_u64().unwrap(), e["time"].as_u64().unwrap()))
        .collect();
    assert_eq!(batches.len(), 24);
    batches.sort_unstable();
    batches.dedup();
    assert_eq!(
        count(&svg, ">REPLY<"),
        batches.len() + 1,
        "and once in the legend"
    );
    for node in ["n0", "n1", "n2", "n3"] {
        assert_eq!(
            count(&svg, &format!(">{node}</text>")),
            2,
            "{node} at both ends"
        );
    }
    assert!(!svg.contains("FAILED"));
    // Drawing the trace file gives the same picture.
    let again = dir.join("again.svg");
    let out = dme(&["trace", "--from", path(&trace_file), "--out", path(&again)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), svg);
    // Without --out the SVG goes to standard output.
    let out = dme(&["trace", "--from", path(&trace_file)]);
    assert_eq!(stdout(&out), svg);
}

#[test]
fn runs_too_large_to_read_are_refused_unless_forced() {
    let dir = scratch("large");
    let file = dir.join("big.svg");
    let big = [
        "trace",
        "-a",
        "ra",
        "-n",
        "9",
        "--requests",
        "1",
        "--out",
        path(&file),
    ];
    let out = dme(&big);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("the run has 9 nodes and 144 messages") && err.contains("--force"),
        "{err}"
    );
    assert!(!file.exists(), "nothing written");
    let many = dme(&[
        "trace",
        "-a",
        "ra",
        "-n",
        "4",
        "--requests",
        "5",
        "--out",
        path(&file),
    ]);
    assert_eq!(many.status.code(), Some(2), "120 messages");
    let mut forced = big.to_vec();
    forced.push("--force");
    let out = dme(&forced);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        count(&std::fs::read_to_string(&file).unwrap(), "class=\"msg\""),
        144
    );
}

#[test]
fn lamport_without_fifo_is_drawn_with_the_overtaking_and_the_overlap_highlighted() {
    let dir = scratch("lamport");
    // The simulator: n0's REPLY overtakes n0's REQUEST on the way to n1, so n1 enters while n0
    // is in the critical section.
    let file = dir.join("sim.svg");
    let out = dme(&[
        "trace",
        "-a",
        "lamport",
        "-n",
        "3",
        "--no-fifo",
        "--delay",
        "uniform:5..15",
        "--seed",
        "137",
        "--requests",
        "1",
        "--out",
        path(&file),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains(
        "safety check FAILED at t=11: n1 entered the critical section while n0 is in it"
    ));
    assert_eq!(count(&svg, "class=\"msg overtook\""), 1);
    assert_eq!(count(&svg, "class=\"msg overtaken\""), 1);
    assert!(svg.contains(">REPLY(ts=2) overtook<"));
    assert!(svg.contains(">REQUEST(ts=1) overtaken<"));
    assert_eq!(count(&svg, "class=\"cs overlap\""), 2);
    assert!(svg.contains("n0 and n1 both in the critical section"));

    // The exhaustive checker's shortest counterexample, drawn the same way.
    let file = dir.join("check.svg");
    let json = dir.join("check.json");
    let out = dme(&[
        "trace",
        "--counterexample",
        "-a",
        "lamport",
        "-n",
        "3",
        "--requests",
        "1",
        "--no-fifo",
        "--out",
        path(&file),
        "--trace-out",
        path(&json),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains("shortest counterexample of the exhaustive checker"));
    assert!(svg.contains("safety check FAILED at step 7"));
    assert_eq!(count(&svg, "class=\"cs overlap\""), 2);
    assert!(count(&svg, "class=\"msg overtook\"") >= 1);
    assert!(count(&svg, "class=\"msg overtaken\"") >= 1);
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(trace["source"], "check");
    assert!(trace["config"].is_null());
    // A counterexample is drawn, not replayed.
    let out = dme(&["replay", path(&json)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("counterexample of the exhaustive checker"));

    // With FIFO there is none: nothing to draw.
    let out = dme(&[
        "trace",
        "--counterexample",
        "-a",
        "lamport",
        "-n",
        "3",
        "--requests",
        "1",
        "--out",
        path(&dir.join("none.svg")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to draw: no violation"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_text_trace_is_aligned_in_columns() {
    let out = dme(&["run", "-a", "ra", "-n", "12", "--requests", "1", "--trace"]);
    let text = stdout(&out);
    let events: Vec<&str> = text.lines().take_while(|l| l.starts_with("t=")).collect();
    assert_eq!(
        events.len(),
        12 * 3 + 2 * (12 * 2 * 11),
        "request, enter and exit per node, a send and a delivery per message"
    );
    // The verb always starts in the same column, whatever the node's name length.
    for line in &events {
        let verb = &line[17..];
        assert!(
            ["requests", "ENTERS  ", "leaves  ", "sends   ", "receives"]
                .iter()
                .any(|v| verb.starts_with(v)),
            "{line}"
        );
    }
}

#[test]
fn every_algorithm_in_the_registry_gets_a_diagram() {
    let dir = scratch("every");
    let out = dme(&[
        "trace",
        "--every-algorithm",
        path(&dir),
        "-n",
        "4",
        "--requests",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for algorithm in Algorithm::all() {
        let svg = std::fs::read_to_string(dir.join(format!("trace-{}.svg", algorithm.name())))
            .unwrap_or_else(|e| panic!("{algorithm}: {e}"));
        assert!(
            svg.contains(&format!(">{} · 4 nodes", algorithm.name())),
            "{algorithm}"
        );
        assert!(count(&svg, "class=\"msg") > 0, "{algorithm}");
    }
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        Algorithm::all().len()
    );
}
