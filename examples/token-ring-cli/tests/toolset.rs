//! The user's algorithm through the whole toolset: `run`, `check` and `trace` of `ring-dme`
//! (the `dme` CLI library with the token ring registered) work on it like on the built-ins.

use std::process::{Command, Output};

fn ring_dme(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ring-dme"))
        .args(args)
        .output()
        .expect("ring-dme runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn run_check_and_trace_know_the_users_algorithm() {
    // run: the report names it, every check holds, and the light-load figure is exact.
    let out = ring_dme(&[
        "run",
        "-a",
        "token-ring",
        "-n",
        "5",
        "--load",
        "light",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["algorithm"], "token-ring");
    assert_eq!(v["safety"], "ok");
    assert_eq!(v["liveness"], "ok");
    assert_eq!(v["entries"], 50);
    assert_eq!(v["textbook"]["exact"], true);
    assert_eq!(v["textbook"]["value"], v["messages_per_entry"]);

    // check: the exhaustive checker, token uniqueness included (the node is token-based).
    let out = ring_dme(&["check", "-a", "token-ring", "-n", "3", "-r", "1"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("no violation: every reachable state explored"),
        "{stdout}"
    );
    assert!(stdout.contains("token uniqueness"), "{stdout}");

    // trace: a space-time diagram of a run.
    let out = ring_dme(&["trace", "-a", "token-ring", "-n", "3", "--requests", "2"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let svg = text(&out.stdout);
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..80.min(svg.len())]
    );
    assert!(
        svg.contains("token-ring · 3 nodes"),
        "the title names the algorithm"
    );

    // The built-ins are still there, and the listing shows the newcomer.
    let out = ring_dme(&["algorithms"]);
    let listing = text(&out.stdout);
    assert!(listing.contains("token-ring") && listing.contains("ricart-agrawala"));
}
