//! Regression tests for tracker issue 13 ("no silent nonsense"), one per item, each named after
//! the item it covers. Each was checked to fail on commit cb665af and to pass after the fix.

mod common;

use std::io::Write as _;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{dme, scratch, stderr, stdout};

fn json(args: &[&str]) -> serde_json::Value {
    let out = dme(args);
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// Item 2: a figure with no samples is `–` in text and `null` in JSON, in `run` and `compare`.
#[test]
fn item2_a_figure_without_samples_is_a_dash_or_null_never_a_number() {
    let run = [
        "run",
        "-a",
        "maekawa-no-deadlock-handling",
        "-n",
        "4",
        "--load",
        "random",
    ];
    let text = stdout(&dme(&run));
    assert!(text.contains("waiting time        – (n=0)"), "{text}");
    assert!(text.contains("response time       – (n=0)"), "{text}");
    assert!(text.contains("(– per entry)"), "{text}");
    assert!(!text.contains("0.000 per entry"), "{text}");
    let v = json(&[&run[..], &["--json"]].concat());
    for field in ["waiting_time", "response_time", "messages_per_entry"] {
        assert!(v[field].is_null(), "{field}: {}", v[field]);
    }
    let compare = [
        "compare",
        "--nodes",
        "4",
        "--delay",
        "constant:0",
        "--load",
        "heavy",
    ];
    let text = stdout(&dme(&compare));
    assert!(!text.contains("NaN"), "{text}");
    assert!(
        text.lines().filter(|l| l.contains(" – ")).count() >= 4,
        "{text}"
    );
}

/// Item 7: `dme node` refuses two peers on one address and its own address as a peer.
#[test]
fn item7_node_refuses_a_shared_peer_address_and_itself_as_a_peer() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let own = l.local_addr().expect("addr").to_string();
    drop(l);
    for (peers, why) in [
        (
            "1=127.0.0.1:9,2=127.0.0.1:9".to_string(),
            "the same address",
        ),
        (format!("1={own},2=127.0.0.1:9"), "own --listen"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_dme"))
            .args([
                "node",
                "-a",
                "ricart-agrawala",
                "--id",
                "0",
                "--listen",
                &own,
            ])
            .args(["--peers", &peers])
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{peers}: {}", stderr(&out));
        assert!(stderr(&out).contains(why), "{peers}: {}", stderr(&out));
    }
}

/// Item 7: log lines on standard error carry no ANSI colour when it is not a terminal.
#[test]
fn item7_log_lines_are_plain_text_when_standard_error_is_a_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_dme"))
        .args([
            "node",
            "-a",
            "ricart-agrawala",
            "--id",
            "0",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--peers", "1=127.0.0.1:9"])
        .env("RUST_LOG", "trace")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert!(!err.is_empty(), "no log line to look at");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// Item 14: a script error lists every script action.
#[test]
fn item14_a_script_error_lists_every_script_action() {
    let dir = scratch("script-error");
    let script = dir.join("bad.script");
    std::fs::write(&script, "lock\nfly\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_dme"))
        .args([
            "node",
            "-a",
            "ricart-agrawala",
            "--id",
            "0",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--peers", "1=127.0.0.1:9", "--script"])
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    for action in ["hold", "sleep", "repeat", "entries", "wait-go", "try-lock"] {
        assert!(stderr(&out).contains(action), "{action}: {}", stderr(&out));
    }
}

/// Item 14: after `try-lock` times out, `status` says the request was abandoned.
#[test]
fn item14_status_after_a_timed_out_try_lock_says_the_request_is_abandoned() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dme"))
        .args([
            "node",
            "-a",
            "ricart-agrawala",
            "--id",
            "0",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(["--peers", "1=127.0.0.1:9"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "try-lock 100ms").expect("write");
    std::thread::sleep(Duration::from_millis(600));
    writeln!(stdin, "status").expect("write");
    writeln!(stdin, "quit").expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("exits");
    let text = String::from_utf8_lossy(&out.stdout);
    let status = text
        .lines()
        .find(|l| l.starts_with("status:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(status.contains("requesting"), "{status}");
    assert!(status.contains("request abandoned"), "{status}");
}

/// Item 14: a scripted run says how many requests it has, in the singular for one, and not the
/// `--requests` it ignores; the liveness line does not repeat its own name.
#[test]
fn item14_run_report_reads_right_with_a_scenario_and_a_deadlock() {
    let dir = scratch("scenario-words");
    let scenario = dir.join("one.txt");
    std::fs::write(&scenario, "at 0 node 1 requests\n").expect("write");
    let text = stdout(&dme(&[
        "run",
        "-a",
        "lamport",
        "-n",
        "3",
        "--scenario",
        scenario.to_str().expect("utf-8"),
    ]));
    assert!(text.contains("scripted (1 request)"), "{text}");
    assert!(!text.contains("requests per node"), "{text}");
    let text = stdout(&dme(&[
        "run",
        "-a",
        "maekawa-no-deadlock-handling",
        "-n",
        "4",
        "--load",
        "random",
    ]));
    assert!(text.contains("liveness            deadlock:"), "{text}");
}

/// Item 14: `dme compare` keeps its columns aligned for long names, says a range formula once,
/// explains the textbook column; the top-level help lists every subcommand.
#[test]
fn item14_compare_columns_align_and_help_lists_every_subcommand() {
    let text = stdout(&dme(&[
        "compare",
        "--nodes",
        "4",
        "--load",
        "heavy",
        "--algorithms",
        "lamport-suppress-replies,maekawa-no-deadlock-handling,raymond",
    ]));
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.starts_with("algorithm"))
        .expect("header");
    let col = header.find(" N ").expect("N column") + 1;
    for l in lines.iter().filter(|l| l.contains(" heavy ")) {
        assert_eq!(l.chars().nth(col), Some('4'), "misaligned:\n{text}");
    }
    assert!(!text.contains("2(N-1)..3(N-1) 2(N-1)..3(N-1)"), "{text}");
    assert!(text.contains("\ntextbook: "), "{text}");
    let help = stdout(&dme(&["--help"]));
    for sub in [
        "run", "compare", "sweep", "check", "trace", "replay", "node", "cluster",
    ] {
        assert!(help.contains(&format!("  {sub} ")), "{sub}: {help}");
    }
}
