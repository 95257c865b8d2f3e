//! A `dme node` killed and started again with the same arguments (issue 13, item 6): its peers
//! refuse it and tell it why, it says so once in a while instead of flooding its log, its
//! redial backoff grows instead of resetting, and its `lock` answers with the refusal instead
//! of waiting forever.
//!
//! Everything binds 127.0.0.1 only. Every wait is bounded; the assertions are on counts and
//! bounds, not durations.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const N: usize = 3;
const VICTIM: usize = 2;
/// The bound on any single wait for a line from a node.
const LINE_BOUND: Duration = Duration::from_secs(30);
/// How long the restarted node is watched.
const WATCH: Duration = Duration::from_secs(10);

/// One `dme node` process: its standard input, and its standard output and error as lines.
struct NodeProc {
    id: usize,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    err: Receiver<String>,
}

fn lines(from: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl NodeProc {
    fn start(id: usize, addrs: &[String]) -> NodeProc {
        let peers: Vec<String> = addrs
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != id)
            .map(|(j, a)| format!("{j}={a}"))
            .collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_dme"))
            .args(["node", "--algorithm", "ricart-agrawala"])
            .args(["--id", &id.to_string(), "--listen", &addrs[id]])
            .args(["--peers", &peers.join(",")])
            .arg("--die-with-parent")
            .env_remove("RUST_LOG") // the default: warnings only
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dme node starts");
        NodeProc {
            id,
            out: lines(child.stdout.take().expect("stdout")),
            err: lines(child.stderr.take().expect("stderr")),
            stdin: child.stdin.take(),
            child,
        }
    }

    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to node");
        stdin.flush().expect("flush");
    }

    /// The next line on standard output that starts with `prefix` (others are skipped).
    fn expect(&mut self, prefix: &str) -> String {
        let bound = Instant::now() + LINE_BOUND;
        loop {
            let left = bound.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(e) => panic!("n{}: no line starting with '{prefix}': {e}", self.id),
            }
        }
    }

    fn ask(&mut self, command: &str, prefix: &str) -> String {
        self.send(command);
        self.expect(prefix)
    }

    /// The warning lines written to standard error so far (and not collected before).
    fn warnings(&mut self) -> Vec<String> {
        self.err.try_iter().filter(|l| l.contains("WARN")).collect()
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `Duration`'s debug form (`20ms`, `1.28s`, `1s`) back into a duration.
fn parse_debug_duration(s: &str) -> Duration {
    let (number, unit) = s
        .find(|c: char| c.is_ascii_alphabetic() || c == 'µ')
        .map(|i| s.split_at(i))
        .unwrap_or_else(|| panic!("no unit in {s:?}"));
    let x: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("bad number in {s:?}"));
    let scale = match unit {
        "s" => 1e9,
        "ms" => 1e6,
        "µs" => 1e3,
        "ns" => 1.0,
        _ => panic!("unit {unit:?} in {s:?}"),
    };
    Duration::from_nanos((x * scale).round() as u64)
}

/// The redial backoff towards `peer` shown by a `status:` line, if `peer` refuses us.
fn refusal_backoff(status: &str, peer: &str) -> Option<Duration> {
    let rest = &status[status.find(&format!("{peer} refuses us: "))?..];
    let start = rest.find("(redial backoff ")? + "(redial backoff ".len();
    let end = start + rest[start..].find(')')?;
    Some(parse_debug_duration(&rest[start..end]))
}

/// Starts the cluster on free ports (retrying if one was taken meanwhile) and waits until every
/// node is connected.
fn start_cluster() -> (Vec<String>, Vec<NodeProc>) {
    'attempt: for _ in 0..5 {
        let listeners: Vec<TcpListener> = (0..N)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let addrs: Vec<String> = listeners
            .iter()
            .map(|l| l.local_addr().expect("addr").to_string())
            .collect();
        drop(listeners);
        let mut nodes: Vec<NodeProc> = (0..N).map(|id| NodeProc::start(id, &addrs)).collect();
        for node in &mut nodes {
            match node.out.recv_timeout(LINE_BOUND) {
                Ok(line) if line.starts_with("listening ") => {}
                _ => continue 'attempt,
            }
        }
        let bound = Instant::now() + LINE_BOUND;
        for node in &mut nodes {
            while !node
                .ask("stats", "stats ")
                .contains(&format!("connected={}/{}", N - 1, N - 1))
            {
                assert!(Instant::now() < bound, "n{} never connected", node.id);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        return (addrs, nodes);
    }
    panic!("could not start the nodes");
}

#[test]
fn a_restarted_node_is_refused_with_a_reason_and_neither_floods_nor_hangs() {
    let (addrs, mut nodes) = start_cluster();
    // Every pair exchanges (and acknowledges) messages, so each survivor has state with n2.
    for node in &mut nodes {
        node.ask("lock", "locked ");
        node.ask("unlock", "unlocked");
    }
    for node in &mut nodes {
        assert_eq!(
            node.warnings(),
            Vec::<String>::new(),
            "n{}: no warning yet",
            node.id
        );
    }

    // Kill n2 and start it again with the same arguments.
    let mut old = nodes.pop().expect("n2");
    old.child.kill().expect("kill");
    old.child.wait().expect("reaped");
    drop(old);
    let mut restarted = NodeProc::start(VICTIM, &addrs);
    restarted.expect("listening ");

    // Watch it for a while: its status shows the refusal and the redial backoff.
    let mut backoffs = Vec::new();
    let watch_end = Instant::now() + WATCH;
    while Instant::now() < watch_end {
        let status = restarted.ask("status", "status: ");
        if let Some(b) = refusal_backoff(&status, "n0") {
            if backoffs.last() != Some(&b) {
                backoffs.push(b);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // `lock` answers with the refusal instead of waiting.
    let answer = restarted.ask("lock", "error: ");
    println!("lock on the restarted node: {answer}");
    assert!(
        answer.starts_with("error: n0 refuses us: we restarted and lost our state")
            || answer.starts_with("error: n1 refuses us: we restarted and lost our state"),
        "{answer}"
    );

    let warnings_restarted = restarted.warnings();
    let warnings_survivors: Vec<Vec<String>> = nodes.iter_mut().map(|n| n.warnings()).collect();
    println!("redial backoffs towards n0 seen on the restarted node: {backoffs:?}");
    println!(
        "warning lines in {WATCH:?}: restarted n2 {}, n0 {}, n1 {}",
        warnings_restarted.len(),
        warnings_survivors[0].len(),
        warnings_survivors[1].len()
    );
    for line in warnings_restarted
        .iter()
        .chain(warnings_survivors.iter().flatten())
    {
        println!("  {line}");
    }

    // It said why, in its own log.
    assert!(
        warnings_restarted
            .iter()
            .any(|l| l.contains("n0 refuses us: we restarted and lost our state")),
        "{warnings_restarted:#?}"
    );
    // Bounded: one line per peer and reason per 5 s interval (two peers, at most two reasons
    // each, three intervals started in 10 s), against hundreds before the fix.
    assert!(
        warnings_restarted.len() <= 12,
        "{} warning lines: {warnings_restarted:#?}",
        warnings_restarted.len()
    );
    for (id, w) in warnings_survivors.iter().enumerate() {
        assert!(!w.is_empty(), "n{id} says it refuses n2");
        assert!(w.len() <= 12, "n{id}: {} warning lines: {w:#?}", w.len());
    }
    // The backoff grew while n0 kept refusing, up to the cap, and never fell back.
    assert!(backoffs.len() >= 2, "backoffs seen: {backoffs:?}");
    assert!(
        backoffs.windows(2).all(|w| w[0] < w[1]),
        "backoff never shrinks: {backoffs:?}"
    );
    assert_eq!(
        backoffs.last(),
        Some(&Duration::from_secs(1)),
        "{backoffs:?}"
    );

    // The survivors are safe, and say whom they wait for: n2, never let back in.
    let answer = nodes[0].ask("try-lock 300ms", "error: ");
    assert!(
        answer.contains("waiting for n2") && answer.contains("disconnected: n2"),
        "{answer}"
    );
}
