//! Real OS processes on loopback: `dme cluster` for every main algorithm (N = 5, 20 entries
//! each) at light load — where the messages the drivers count equal the simulator's, entry by
//! entry — and at heavy load; and `dme node` processes driven by hand: a lock that times out
//! while another node holds it, and a node killed inside its critical section, which its
//! survivors must never grant around.
//!
//! Everything binds 127.0.0.1 only. Every wait is bounded; nothing asserts a duration.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

mod common;
use common::Algorithm;
use dme_core::NodeId;
use dme_maekawa::{QuorumKind, Quorums};
use dme_raymond::TreeShape;

const N: usize = 5;
const ENTRIES: u64 = 20;
/// The bound on any single wait for a line from a node.
const LINE_BOUND: Duration = Duration::from_secs(30);

fn dme() -> &'static str {
    env!("CARGO_BIN_EXE_dme")
}

/// A scratch directory under the target directory, fresh for each call.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cluster-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Runs `dme cluster … --json`, killing it if it outlives a generous bound.
fn cluster(algorithm: Algorithm, load: &str) -> (i32, serde_json::Value) {
    let dir = scratch(&format!("{}-{load}", algorithm.name()));
    let mut child = Command::new(dme())
        .args(["cluster", "--algorithm", algorithm.name(), "--load", load])
        .args(["--nodes", &N.to_string(), "--entries", &ENTRIES.to_string()])
        .args(["--timeout", "90s", "--json", "--dir"])
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dme cluster starts");
    let stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut text);
        text
    });
    let bound = Instant::now() + Duration::from_secs(150);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("dme cluster {algorithm} {load} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().expect("reader");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{algorithm} {load}: not JSON ({e}): {text}"));
    (status.code().unwrap_or(-1), json)
}

fn u(v: &serde_json::Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
}

fn assert_served_without_overlap(what: &str, v: &serde_json::Value) {
    assert_eq!(v["error"], serde_json::Value::Null, "{what}: {v}");
    assert_eq!(u(v, "entries"), N as u64 * ENTRIES, "{what}: {v}");
    assert_eq!(v["overlaps"], serde_json::json!([]), "{what}: {v}");
    assert_eq!(v["missing"], serde_json::json!([]), "{what}: {v}");
    assert_eq!(v["problems"], serde_json::json!([]), "{what}: {v}");
    assert_eq!(
        v["fencing_violations"],
        serde_json::json!([]),
        "{what}: {v}"
    );
}

#[test]
fn light_load_messages_equal_the_simulator_entry_by_entry_for_every_algorithm() {
    for algorithm in Algorithm::main() {
        let (code, v) = cluster(algorithm, "light");
        let what = format!("{algorithm} light");
        assert_served_without_overlap(&what, &v);
        assert_eq!(v["matches_simulator"], true, "{what}: {v}");
        assert_eq!(u(&v, "messages"), u(&v, "sim_messages"), "{what}");
        assert_eq!(v["messages_by_kind"], v["sim_messages_by_kind"], "{what}");
        assert_eq!(v["first_difference"], serde_json::Value::Null, "{what}");
        assert_eq!(code, 0, "{what}: {v}");
        let entries = N as u64 * ENTRIES;
        // The textbook figures, where they do not depend on the structure.
        match algorithm.name() {
            "ricart-agrawala" => {
                assert_eq!(u(&v, "messages"), entries * 2 * (N as u64 - 1))
            }
            "lamport" => assert_eq!(u(&v, "messages"), entries * 3 * (N as u64 - 1)),
            _ => {}
        }
        println!(
            "{what}: {} messages ({:.3}/entry), simulator {}; median {:.3} ms lock→grant",
            u(&v, "messages"),
            v["messages_per_entry"],
            u(&v, "sim_messages"),
            v["acquire_median_ms"]
        );
    }
}

#[test]
fn heavy_load_serves_every_entry_without_overlap_for_every_algorithm() {
    for algorithm in Algorithm::main() {
        let (code, v) = cluster(algorithm, "heavy");
        let what = format!("{algorithm} heavy");
        assert_served_without_overlap(&what, &v);
        assert_eq!(code, 0, "{what}: {v}");
        // Ricart–Agrawala and Lamport cost the same whatever the interleaving.
        if matches!(algorithm.name(), "ricart-agrawala" | "lamport") {
            assert_eq!(u(&v, "messages"), u(&v, "sim_messages"), "{what}: {v}");
            assert_eq!(v["matches_simulator"], true, "{what}: {v}");
        }
        println!(
            "{what}: {:.3} messages/entry (simulator {:.3}); median {:.3} ms between entries",
            v["messages_per_entry"], v["sim_messages_per_entry"], v["entry_interval_median_ms"]
        );
    }
}

#[test]
fn cluster_rejects_bad_arguments_with_exit_2() {
    for args in [
        &["cluster", "--algorithm", "nonesuch"][..],
        &["cluster", "--algorithm", "raymond", "--nodes", "1"],
        &["cluster", "--algorithm", "raymond", "--entries", "0"],
        &["cluster", "--algorithm", "raymond", "--holder", "9"],
        &["cluster", "--algorithm", "raymond", "--load", "medium"],
    ] {
        let out = Command::new(dme()).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error"),
            "{args:?}"
        );
    }
}

/// One `dme node` process driven through its standard input.
struct NodeProc {
    id: usize,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl NodeProc {
    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write to node");
        stdin.flush().expect("flush");
    }

    /// The next line that starts with `prefix` (other lines are skipped).
    fn expect(&mut self, prefix: &str) -> String {
        let bound = Instant::now() + LINE_BOUND;
        loop {
            let left = bound.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(e) => panic!("n{}: no line starting with '{prefix}': {e}", self.id),
            }
        }
    }

    /// Sends `command` and returns its one-line answer.
    fn ask(&mut self, command: &str, prefix: &str) -> String {
        self.send(command);
        self.expect(prefix)
    }

    fn quit(&mut self) {
        self.send("quit");
        self.expect("bye");
        self.stdin = None;
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "n{} exited with {status}", self.id);
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `n` interactive nodes of `algorithm` on free loopback ports, each logging to `dir`,
/// and waits until they are all connected. Retries with fresh ports if one was taken.
fn start_nodes(algorithm: Algorithm, n: usize, dir: &Path) -> Vec<NodeProc> {
    start_nodes_with(algorithm, n, dir, |_| Vec::new())
}

/// Like [`start_nodes`], with extra arguments for node `id` from `extra(id)`.
fn start_nodes_with(
    algorithm: Algorithm,
    n: usize,
    dir: &Path,
    extra: impl Fn(usize) -> Vec<String>,
) -> Vec<NodeProc> {
    'attempt: for _ in 0..5 {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
            .collect();
        let addrs: Vec<String> = listeners
            .iter()
            .map(|l| l.local_addr().expect("addr").to_string())
            .collect();
        drop(listeners);
        let mut nodes = Vec::new();
        for (id, addr) in addrs.iter().enumerate() {
            let peers: Vec<String> = addrs
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != id)
                .map(|(j, a)| format!("{j}={a}"))
                .collect();
            let mut child = Command::new(dme())
                .args(["node", "--algorithm", algorithm.name()])
                .args(["--id", &id.to_string(), "--listen", addr])
                .args(["--peers", &peers.join(",")])
                .arg("--log")
                .arg(dir.join(format!("node-{id}.log")))
                .arg("--die-with-parent")
                .args(extra(id))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("dme node starts");
            let stdout = child.stdout.take().expect("stdout");
            let (tx, lines) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            nodes.push(NodeProc {
                id,
                stdin: child.stdin.take(),
                child,
                lines,
            });
        }
        for node in &mut nodes {
            match node.lines.recv_timeout(LINE_BOUND) {
                Ok(line) if line.starts_with("listening ") => {}
                _ => continue 'attempt, // a port was taken meanwhile: `nodes` drop, killed
            }
        }
        let bound = Instant::now() + LINE_BOUND;
        for node in &mut nodes {
            while !node
                .ask("stats", "stats ")
                .contains(&format!("connected={}/{}", n - 1, n - 1))
            {
                assert!(Instant::now() < bound, "n{} never connected", node.id);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        return nodes;
    }
    panic!("could not start the nodes");
}

fn token(locked: &str) -> u64 {
    locked
        .split_whitespace()
        .find_map(|w| w.strip_prefix("token="))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no token in '{locked}'"))
}

/// The nodes named after "waiting for " in an error or status line.
fn waited_for(line: &str) -> BTreeSet<String> {
    let Some(rest) = line.split("waiting for ").nth(1) else {
        return BTreeSet::new();
    };
    let list = rest.split([';', '(']).next().unwrap_or("");
    list.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn enters(dir: &Path, id: usize) -> usize {
    std::fs::read_to_string(dir.join(format!("node-{id}.log")))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("enter "))
        .count()
}

#[test]
fn try_lock_times_out_while_another_node_holds_the_lock_and_lock_succeeds_after() {
    let dir = scratch("try-lock");
    let mut nodes = start_nodes(Algorithm::RICART_AGRAWALA, 3, &dir);
    let first = nodes[0].ask("lock", "locked");
    let refused = nodes[1].ask("try-lock 200ms", "error:");
    assert!(refused.contains("no grant after 200ms"), "{refused}");
    assert!(waited_for(&refused).contains("n0"), "{refused}");
    let status = nodes[1].ask("status", "status:");
    assert!(status.contains("requesting"), "{status}");
    assert!(waited_for(&status).contains("n0"), "{status}");
    assert_eq!(nodes[0].ask("unlock", "unlocked"), "unlocked");
    // The abandoned request is still outstanding; its grant goes to this lock call.
    let second = nodes[1].ask("lock", "locked");
    assert!(token(&second) > token(&first), "{first} then {second}");
    assert_eq!(nodes[1].ask("unlock", "unlocked"), "unlocked");
    assert!(nodes[2].ask("fly", "error:").contains("unknown command"));
    assert!(nodes[2].ask("unlock", "error:").contains("not holding"));
    for node in &mut nodes {
        node.quit();
    }
    assert_eq!(
        (enters(&dir, 0), enters(&dir, 1), enters(&dir, 2)),
        (1, 1, 0)
    );
}

/// The survivors that wait for `victim` directly once it holds the critical section.
fn direct_dependants(algorithm: Algorithm, victim: usize) -> Vec<usize> {
    let survivors = (0..N).filter(|&s| s != victim);
    match algorithm.name() {
        "maekawa" => {
            let quorums = Quorums::new(N, QuorumKind::default()).expect("quorums");
            survivors
                .filter(|&s| {
                    quorums
                        .quorum(NodeId(s as u32))
                        .expect("quorum")
                        .contains(&NodeId(victim as u32))
                })
                .collect()
        }
        "agrawal-el-abbadi" => {
            let quorums = dme_agrawal_el_abbadi::Tree::new(N)
                .and_then(|tree| tree.quorums())
                .expect("tree quorums");
            survivors
                .filter(|&s| {
                    quorums
                        .quorum(NodeId(s as u32))
                        .expect("quorum")
                        .contains(&NodeId(victim as u32))
                })
                .collect()
        }
        // Everyone asks the coordinator, n0, which knows whom it granted.
        "central" => vec![0],
        // A requester of these token algorithms does not know where the token is (Suzuki–Kasami
        // broadcasts; Naimi–Tréhel's requester becomes a root): nobody can name the holder.
        "suzuki-kasami" | "naimi-trehel" => Vec::new(),
        "raymond" => {
            let tree = TreeShape::default().build(N, 0).expect("tree");
            tree.neighbours(NodeId(victim as u32))
                .iter()
                .map(|n| n.index())
                .collect()
        }
        _ => survivors.collect(),
    }
}

#[test]
fn a_node_killed_inside_its_critical_section_is_never_granted_around() {
    for algorithm in Algorithm::main() {
        // A leaf of Agrawal and El Abbadi's tree is in no other node's quorum, so nobody would
        // wait for it directly: crash an inner node there instead.
        let victim = if algorithm.name() == "agrawal-el-abbadi" {
            1
        } else {
            4
        };
        let dir = scratch(&format!("kill-{}", algorithm.name()));
        let mut nodes = start_nodes(algorithm, N, &dir);
        // Everyone enters once, one at a time.
        for node in &mut nodes {
            node.ask("lock", "locked");
            node.ask("unlock", "unlocked");
        }
        // The victim enters and crashes there.
        nodes[victim].ask("lock", "locked");
        let mut crashed = nodes.remove(victim);
        crashed.child.kill().expect("kill");
        crashed.child.wait().expect("reaped");
        let dependants = direct_dependants(algorithm, victim);
        let holder_unknown = matches!(algorithm.name(), "suzuki-kasami" | "naimi-trehel");
        assert_eq!(dependants.is_empty(), holder_unknown, "{algorithm}");
        let victim_name = format!("n{victim}");
        for node in &mut nodes {
            // Nobody may enter: the crashed node never left.
            let answer = node.ask("try-lock 300ms", "");
            assert!(
                answer.starts_with("error: no grant after 300ms"),
                "{algorithm}: n{} was granted while n{victim} held the lock: {answer}",
                node.id
            );
            let status = node.ask("status", "status:");
            if holder_unknown {
                assert!(
                    answer.contains("waiting for nobody"),
                    "{algorithm}: n{}: {answer}",
                    node.id
                );
            }
            if dependants.contains(&node.id) {
                assert!(
                    waited_for(&answer).contains(&victim_name),
                    "{algorithm}: n{}: {answer}",
                    node.id
                );
                assert!(
                    waited_for(&status).contains(&victim_name),
                    "{algorithm}: n{}: {status}",
                    node.id
                );
            }
            // The lost connection is reported too (as soon as the OS closes it).
            let bound = Instant::now() + LINE_BOUND;
            let mut status = status;
            while !status.contains(&format!("disconnected: {victim_name}")) {
                assert!(Instant::now() < bound, "{algorithm}: {status}");
                std::thread::sleep(Duration::from_millis(20));
                status = node.ask("status", "status:");
            }
        }
        for node in &mut nodes {
            node.quit();
        }
        // The logs agree: one entry each before the crash, none after.
        for id in 0..N {
            let expected = if id == victim { 2 } else { 1 };
            assert_eq!(enters(&dir, id), expected, "{algorithm}: n{id}'s log");
        }
        println!("{algorithm}: survivors waiting directly for n{victim}: {dependants:?}");
    }
}

#[test]
fn connections_cut_mid_run_lose_and_duplicate_nothing() {
    // Every node enters 20 times at once; nodes 0 and 1 cut their connections to a peer after
    // each of their first entries. Retransmission must make the cut invisible to the algorithm.
    let dir = scratch("cut");
    let scripts: Vec<PathBuf> = (0..N)
        .map(|id| {
            let cut = match id {
                0 => "repeat 5 {\n lock\n unlock\n disconnect 3\n}\nentries 15\n",
                1 => "repeat 5 {\n lock\n disconnect 2\n unlock\n}\nentries 15\n",
                _ => "entries 20\n",
            };
            let path = dir.join(format!("node-{id}.script"));
            std::fs::write(&path, format!("wait-go\n{cut}")).expect("script");
            path
        })
        .collect();
    let mut nodes = start_nodes_with(Algorithm::RICART_AGRAWALA, N, &dir, |id| {
        vec![
            "--script".into(),
            scripts[id].display().to_string(),
            "--linger".into(),
            "until-quit".into(),
        ]
    });
    for node in &mut nodes {
        node.send("go");
    }
    for node in &mut nodes {
        let done = node.expect("done ");
        assert!(done.contains(&format!("entries={ENTRIES}")), "{done}");
    }
    // Wait until every message is delivered, then count.
    let bound = Instant::now() + LINE_BOUND;
    let (sent, received, stats) = loop {
        let stats: Vec<String> = nodes.iter_mut().map(|n| n.ask("stats", "stats ")).collect();
        let total = |key: &str| -> u64 {
            stats
                .iter()
                .flat_map(|s| s.split_whitespace())
                .filter_map(|w| w.strip_prefix(key))
                .map(|v| v.parse::<u64>().expect("count"))
                .sum()
        };
        let (sent, received) = (total("sent="), total("received="));
        if sent == received {
            break (sent, received, stats);
        }
        assert!(Instant::now() < bound, "{stats:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    for node in &mut nodes {
        node.quit();
    }
    // 2(N-1) per entry whatever the interleaving: nothing lost, nothing counted twice.
    let entries = N as u64 * ENTRIES;
    assert_eq!(sent, entries * 2 * (N as u64 - 1));
    assert_eq!(received, sent);
    // Each cut was followed by traffic on that link, so each was repaired.
    for id in [0, 1] {
        let reconnects: u64 = stats[id]
            .split_whitespace()
            .find_map(|w| w.strip_prefix("reconnects="))
            .and_then(|v| v.parse().ok())
            .expect("reconnects");
        assert!(reconnects >= 5, "n{id}: {}", stats[id]);
    }
    println!("after the cuts: {}\n{}", stats[0], stats[1]);
    let mut sections = Vec::new();
    for id in 0..N {
        assert_eq!(enters(&dir, id), ENTRIES as usize, "n{id}");
        sections.extend(intervals(&dir, id));
    }
    sections.sort();
    for pair in sections.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlap: {pair:?}");
    }
}

/// (enter, exit) of every critical section in node `id`'s log.
fn intervals(dir: &Path, id: usize) -> Vec<(u64, u64)> {
    let text = std::fs::read_to_string(dir.join(format!("node-{id}.log"))).unwrap_or_default();
    let mut out = Vec::new();
    let mut enter = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (kind, t) = (
            words.next(),
            words.next().and_then(|t| t.parse::<u64>().ok()),
        );
        match (kind, t) {
            (Some("enter"), Some(t)) => enter = Some(t),
            (Some("exit"), Some(t)) => out.push((enter.take().expect("enter before exit"), t)),
            _ => {}
        }
    }
    out
}

#[test]
fn node_rejects_bad_arguments_with_exit_2_and_says_why() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind"); // keeps the port taken
    let taken = holder.local_addr().expect("addr").to_string();
    let peers = "1=127.0.0.1:9,2=127.0.0.1:10";
    for (args, why) in [
        (
            vec!["--algorithm", "nonesuch", "--id", "0"],
            "unknown algorithm",
        ),
        (
            vec!["--algorithm", "raymond", "--id", "7"],
            "not in the cluster",
        ),
        (vec!["--algorithm", "raymond", "--id", "1"], "own id"),
        (
            vec!["--algorithm", "raymond", "--id", "0", "--nodes", "4"],
            "--nodes 4",
        ),
    ] {
        let out = Command::new(dme())
            .arg("node")
            .args(&args)
            .args(["--listen", "127.0.0.1:0", "--peers", peers])
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    for (peers, listen, why) in [
        ("1:127.0.0.1:9", "127.0.0.1:0", "expected ID=ADDR"),
        ("1=127.0.0.1", "127.0.0.1:0", "bad peer"),
        (peers, taken.as_str(), "cannot listen"),
    ] {
        let out = Command::new(dme())
            .args(["node", "--algorithm", "ricart-agrawala", "--id", "0"])
            .args(["--listen", listen, "--peers", peers])
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{peers} {listen}: {stderr}");
        assert!(stderr.contains(why), "{peers} {listen}: {stderr}");
    }
    drop(holder);
}
