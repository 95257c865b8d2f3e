//! `dme cluster`: launches N `dme node` processes on loopback, has each enter the critical
//! section K times, checks from their logs that no two critical sections overlapped and that
//! every entry was served, and compares the messages the drivers counted with the simulator's.
//!
//! Two load shapes:
//!
//! * **heavy** (default): every node runs the script `wait-go` / `entries K hold H`; once every
//!   node is connected to all its peers, `dme cluster` sends `go` to all of them — concurrent
//!   requests, real contention.
//! * **light**: one entry at a time in the whole cluster. `dme cluster` drives the nodes through
//!   their standard input (`lock`, `unlock`), in the order the simulator's light-load run with
//!   the same `--seed` chose, and before each entry waits until the cluster is quiet: every
//!   message sent has been delivered and handled. Quiet is detected with the counters of the
//!   `stats` lines (Mattern's four-counter method: two consecutive polls of every node with the
//!   same totals and as many messages received as sent). Each entry then costs exactly what it
//!   costs in the simulator, entry by entry, which is checked (exit 1 on any difference).
//!
//! Ports: N listeners are bound on 127.0.0.1 port 0 to find free ports, closed, and their ports
//! handed to the nodes; if a node still finds its port taken (another program raced for it), the
//! whole launch is retried with fresh ports. Every node is started with a parent-death signal
//! and is killed if anything fails or times out: no process outlives `dme cluster`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use clap::Args;
use dme_lab::simulate;
use dme_registry::{ClusterSpec, Registry};
use dme_sim::{Dist, Workload};
use serde::Serialize;

use super::node::parse_duration;
use super::{Algorithm, ClusterArgs, UsageError, parse_algorithm, spec};

/// `dme cluster`'s arguments.
#[derive(Args, Debug)]
pub struct ClusterCmdArgs {
    /// The algorithm (ricart-agrawala, lamport, maekawa, raymond, …).
    #[arg(long, short, value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// Number of node processes (at least 2).
    #[arg(long, short, default_value_t = 5)]
    pub nodes: usize,
    /// Critical-section entries per node.
    #[arg(long, short, default_value_t = 20)]
    pub entries: u32,
    /// How long each entry holds the critical section (e.g. 1ms).
    #[arg(long, default_value = "0ms", value_parser = parse_duration)]
    pub hold: Duration,
    /// heavy: every node enters K times at once; light: one entry at a time, in the simulator's
    /// order, each in a quiet cluster (messages per entry then match the simulator exactly).
    #[arg(long, default_value = "heavy", value_parser = ["light", "heavy"])]
    pub load: String,
    /// Seed of the simulator's run (light: the order of the entries) and of random structures.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to keep the nodes' logs, scripts and standard error (default: a new directory
    /// under the system's temporary directory).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Give up (and kill every node) after this long, e.g. 120s.
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// What `dme cluster` found, as `--json` prints it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClusterReport {
    /// The algorithm.
    pub algorithm: String,
    /// Number of node processes.
    pub nodes: usize,
    /// Quorums or tree, where the algorithm has one.
    pub structure: String,
    /// `light` or `heavy`.
    pub load: String,
    /// Entries asked of each node.
    pub entries_per_node: u32,
    /// Hold time per entry, in milliseconds.
    pub hold_ms: f64,
    /// The seed.
    pub seed: u64,
    /// Where the logs are.
    pub dir: String,
    /// Critical sections found in the logs.
    pub entries: u64,
    /// Nodes that entered fewer (or more) times than asked, described.
    pub missing: Vec<String>,
    /// Overlapping critical sections, described (empty when mutual exclusion held).
    pub overlaps: Vec<String>,
    /// Fencing tokens that did not grow from one critical section to the next, described.
    pub fencing_violations: Vec<String>,
    /// Malformed or inconsistent log lines, nodes that failed, and the like.
    pub problems: Vec<String>,
    /// Algorithm messages sent, as counted by the drivers.
    pub messages: u64,
    /// `messages` by kind.
    pub messages_by_kind: BTreeMap<String, u64>,
    /// `messages / entries`.
    pub messages_per_entry: f64,
    /// The simulator's messages for the same algorithm, N, entries and load shape.
    pub sim_messages: u64,
    /// The simulator's messages by kind.
    pub sim_messages_by_kind: BTreeMap<String, u64>,
    /// The simulator's messages per entry.
    pub sim_messages_per_entry: f64,
    /// The simulator's own checks (`ok` or what failed).
    pub sim_checks: String,
    /// Whether the drivers' count equals the simulator's (and, at light load, entry by entry).
    pub matches_simulator: bool,
    /// Light load: the first entry whose message count differs from the simulator's.
    pub first_difference: Option<String>,
    /// Median time from a `lock` call to the grant, in milliseconds.
    pub acquire_median_ms: f64,
    /// Median time between two consecutive entries in the cluster, in milliseconds.
    pub entry_interval_median_ms: f64,
    /// From the first request to the last exit, in milliseconds.
    pub wall_ms: f64,
    /// Frames retransmitted after a lost connection (all nodes).
    pub retransmitted: u64,
    /// Connections rejected for bad input (all nodes).
    pub rejected_connections: u64,
    /// What stopped the run early, if anything.
    pub error: Option<String>,
    /// When something stopped the run: every node's `status` line (whom it waits for).
    pub node_status: Vec<String>,
    /// Whether every check held.
    pub ok: bool,
}

/// One `stats` line, parsed.
#[derive(Clone, Debug, Default)]
struct NodeStats {
    phase: String,
    sent: u64,
    received: u64,
    connected: bool,
    retransmitted: u64,
    rejected: u64,
    kinds: BTreeMap<String, u64>,
}

fn parse_stats(line: &str) -> Result<NodeStats, String> {
    let mut fields = BTreeMap::new();
    for word in line.split_whitespace().skip(1) {
        if let Some((k, v)) = word.split_once('=') {
            fields.insert(k, v);
        }
    }
    let num = |k: &str| -> Result<u64, String> {
        fields
            .get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("malformed stats line (no {k}): {line}"))
    };
    let mut kinds = BTreeMap::new();
    if let Some(list) = fields.get("kinds").filter(|l| **l != "-") {
        for item in list.split(',') {
            let (k, v) = item
                .split_once(':')
                .and_then(|(k, v)| Some((k, v.parse::<u64>().ok()?)))
                .ok_or_else(|| format!("malformed kinds in stats line: {line}"))?;
            kinds.insert(k.to_string(), v);
        }
    }
    let connected = fields
        .get("connected")
        .and_then(|c| c.split_once('/'))
        .is_some_and(|(a, b)| a == b);
    Ok(NodeStats {
        phase: fields.get("phase").unwrap_or(&"?").to_string(),
        sent: num("sent")?,
        received: num("received")?,
        connected,
        retransmitted: num("retransmitted")?,
        rejected: num("rejected")?,
        kinds,
    })
}

/// One `dme node` child process and the lines of its standard output.
struct Proc {
    id: u32,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    err_path: PathBuf,
    exited: Option<std::process::ExitStatus>,
}

impl Proc {
    fn send(&mut self, command: &str) -> Result<(), String> {
        let id = self.id;
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| format!("n{id}: its standard input is closed"))?;
        writeln!(stdin, "{command}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("n{id}: cannot send '{command}': {e}{}", self.stderr_tail()))
    }

    /// The next line starting with `prefix`; an `error:` line, the end of output or the
    /// deadline is an error.
    fn expect(&mut self, prefix: &str, deadline: Instant) -> Result<String, String> {
        let id = self.id;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(line) if line.starts_with("error:") => return Err(format!("n{id}: {line}")),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!("n{id}: no '{prefix}' line before the deadline"));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    self.exited = status;
                    return Err(format!(
                        "n{id} exited ({}) before printing '{prefix}'{}",
                        status.map_or("?".to_string(), |s| s.to_string()),
                        self.stderr_tail()
                    ));
                }
            }
        }
    }

    fn stats(&mut self, deadline: Instant) -> Result<NodeStats, String> {
        self.send("stats")?;
        parse_stats(&self.expect("stats ", deadline)?)
    }

    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.err_path).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        if tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = tail.into_iter().rev().collect();
            format!(": {}", lines.join(" | "))
        }
    }

    fn kill(&mut self) {
        self.stdin = None;
        if self.exited.is_none() {
            if let Ok(None) = self.child.try_wait() {
                let _ = self.child.kill();
            }
            self.exited = self.child.wait().ok();
        }
    }
}

/// The running nodes. Dropping it kills whatever still runs.
struct Procs(Vec<Proc>);

impl Drop for Procs {
    fn drop(&mut self) {
        for p in &mut self.0 {
            p.kill();
        }
    }
}

impl Procs {
    /// Polls every node until the cluster is quiet: two consecutive rounds with the same totals,
    /// as many messages received as sent, every node idle. Returns the last round.
    fn wait_quiet(&mut self, deadline: Instant) -> Result<Vec<NodeStats>, String> {
        let mut previous: Option<(u64, u64)> = None;
        loop {
            let round = self
                .0
                .iter_mut()
                .map(|p| p.stats(deadline))
                .collect::<Result<Vec<_>, _>>()?;
            let sent: u64 = round.iter().map(|s| s.sent).sum();
            let received: u64 = round.iter().map(|s| s.received).sum();
            let idle = round.iter().all(|s| s.phase == "idle");
            let totals = (sent, received);
            if sent == received && idle && previous == Some(totals) {
                return Ok(round);
            }
            previous = (sent == received && idle).then_some(totals);
            if previous.is_none() {
                std::thread::sleep(Duration::from_micros(200));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the cluster never became quiet ({sent} messages sent, {received} received)"
                ));
            }
        }
    }

    fn wait_connected(&mut self, deadline: Instant) -> Result<(), String> {
        loop {
            let mut all = true;
            for p in &mut self.0 {
                all &= p.stats(deadline)?.connected;
            }
            if all {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err("the nodes never all connected to each other".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Asks every node to quit and waits for them; a node that does not exit by the deadline
    /// is killed. Returns a description of every node that did not exit cleanly.
    fn quit(&mut self, deadline: Instant) -> Vec<String> {
        for p in &mut self.0 {
            let _ = p.send("quit");
            p.stdin = None;
        }
        let mut problems = Vec::new();
        for p in &mut self.0 {
            let status = loop {
                match p.child.try_wait() {
                    Ok(Some(status)) => break Some(status),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    _ => break None,
                }
            };
            match status {
                Some(s) => {
                    p.exited = Some(s);
                    if !s.success() {
                        problems.push(format!("n{} exited with {s}{}", p.id, p.stderr_tail()));
                    }
                }
                None => {
                    p.kill();
                    problems.push(format!("n{} did not exit after 'quit'; killed", p.id));
                }
            }
        }
        problems
    }
}

/// Free ports on 127.0.0.1: bound at once (so they are distinct), then released.
fn free_addrs(n: usize) -> std::io::Result<Vec<SocketAddr>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners.iter().map(|l| l.local_addr()).collect()
}

/// Starts the nodes; retries with fresh ports if one of them finds its port taken.
fn launch(
    args: &ClusterCmdArgs,
    dir: &Path,
    deadline: Instant,
    script: Option<&str>,
) -> Result<Procs, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the dme executable to launch the nodes: {e}"))?;
    let n = args.nodes;
    const ATTEMPTS: u32 = 5;
    for attempt in 1..=ATTEMPTS {
        let addrs = free_addrs(n).map_err(|e| format!("cannot find free ports: {e}"))?;
        let mut procs = Procs(Vec::new());
        for (i, addr) in addrs.iter().enumerate() {
            let peers: Vec<String> = addrs
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(j, a)| format!("{j}={a}"))
                .collect();
            let log = dir.join(format!("node-{i}.log"));
            let _ = std::fs::remove_file(&log);
            let err_path = dir.join(format!("node-{i}.err"));
            let err = std::fs::File::create(&err_path)
                .map_err(|e| format!("cannot create {}: {e}", err_path.display()))?;
            let mut cmd = Command::new(&exe);
            cmd.arg("node")
                .args(["--algorithm", args.algorithm.name()])
                .args(["--id", &i.to_string()])
                .args(["--listen", &addr.to_string()])
                .args(["--peers", &peers.join(",")])
                .args(["--nodes", &n.to_string()])
                .arg("--log")
                .arg(&log)
                .args(["--seed", &args.seed.to_string()])
                .args(args.cluster.forwarded())
                .args(["--linger", "until-quit"])
                .arg("--die-with-parent")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::from(err));
            if let Some(text) = script {
                let path = dir.join(format!("node-{i}.script"));
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                cmd.arg("--script").arg(&path);
            }
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            let stdin = child.stdin.take();
            let stdout = child.stdout.take();
            let (tx, lines) = channel();
            if let Some(stdout) = stdout {
                std::thread::spawn(move || {
                    for line in BufReader::new(stdout).lines() {
                        let Ok(line) = line else { break };
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                });
            }
            procs.0.push(Proc {
                id: i as u32,
                child,
                stdin,
                lines,
                err_path,
                exited: None,
            });
        }
        let mut port_taken = false;
        let mut failure = None;
        for p in &mut procs.0 {
            if let Err(e) = p.expect("listening ", deadline) {
                port_taken = e.contains("cannot listen");
                failure = Some(e);
                break;
            }
        }
        match failure {
            None => return Ok(procs),
            Some(_) if port_taken && attempt < ATTEMPTS => continue, // `procs` dropped: killed
            Some(e) => return Err(e),
        }
    }
    Err("cannot launch the nodes".into())
}

/// One critical section found in a node's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The node.
    pub node: u32,
    /// When its `lock` call was made, if logged.
    pub request: Option<u64>,
    /// When it entered.
    pub enter: u64,
    /// When it left (`None`: never, e.g. the process was killed inside).
    pub exit: Option<u64>,
    /// The fencing token of the grant.
    pub token: Option<u64>,
}

/// Parses one node's log; malformed or inconsistent lines are described in `problems`.
pub fn parse_log(node: u32, text: &str, problems: &mut Vec<String>) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut request = None;
    let mut open: Option<Section> = None;
    for (number, line) in text.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = |why: &str| format!("n{node} log line {}: {why}: '{line}'", number + 1);
        let (kind, t, id) = match words.as_slice() {
            [kind, t, id, ..] => match (t.parse::<u64>(), id.parse::<u32>()) {
                (Ok(t), Ok(id)) => (*kind, t, id),
                _ => {
                    problems.push(bad("malformed"));
                    continue;
                }
            },
            [] => continue,
            _ => {
                problems.push(bad("malformed"));
                continue;
            }
        };
        if id != node {
            problems.push(bad("another node's line"));
            continue;
        }
        match kind {
            "request" => request = Some(t),
            "enter" => {
                if let Some(s) = open.take() {
                    problems.push(bad("enter while already inside"));
                    sections.push(s);
                }
                open = Some(Section {
                    node,
                    request: request.take(),
                    enter: t,
                    exit: None,
                    token: words.get(3).and_then(|w| w.parse().ok()),
                });
            }
            "exit" => match open.take() {
                Some(mut s) => {
                    s.exit = Some(t);
                    sections.push(s);
                }
                None => problems.push(bad("exit without enter")),
            },
            _ => problems.push(bad("unknown line")),
        }
    }
    sections.extend(open);
    sections
}

/// What the merged logs show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    /// Pairs of overlapping critical sections, described.
    pub overlaps: Vec<String>,
    /// Consecutive critical sections whose fencing tokens did not grow, described.
    pub fencing_violations: Vec<String>,
}

/// Merges every node's critical sections by entry time and checks that each begins after every
/// earlier one ended (a section never left lasts for ever), and that fencing tokens grow.
pub fn check(sections: &mut [Section]) -> Verdict {
    sections.sort_by_key(|s| (s.enter, s.node));
    let mut verdict = Verdict::default();
    // The latest end so far, and whose it is (`None` end: never left).
    let mut latest: Option<(Option<u64>, usize)> = None;
    let mut last_token: Option<(u64, usize)> = None;
    for (k, s) in sections.iter().enumerate() {
        if let Some((end, j)) = latest {
            if end.is_none_or(|e| s.enter < e) {
                let other = &sections[j];
                verdict.overlaps.push(format!(
                    "n{} entered at {} ns while n{} was inside (entered {} ns, {})",
                    s.node,
                    s.enter,
                    other.node,
                    other.enter,
                    other
                        .exit
                        .map_or("never left".to_string(), |e| format!("left {e} ns"))
                ));
            }
        }
        let ends_later = match latest {
            None => true,
            Some((None, _)) => false,
            Some((Some(e), _)) => s.exit.is_none_or(|x| x > e),
        };
        if ends_later {
            latest = Some((s.exit, k));
        }
        if let Some(t) = s.token {
            if let Some((prev, j)) = last_token {
                if t <= prev {
                    verdict.fencing_violations.push(format!(
                        "n{} got fencing token {t} after n{} got {prev}",
                        s.node, sections[j].node
                    ));
                }
            }
            last_token = Some((t, k));
        }
    }
    verdict
}

fn median_ms(mut values: Vec<u64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_unstable();
    values[values.len() / 2] as f64 / 1e6
}

/// The simulator's figures for the same cluster and load shape.
struct SimFigures {
    messages: u64,
    by_kind: BTreeMap<String, u64>,
    /// Light load: the requesting node and the messages of each entry, in order.
    entries: Vec<(u32, u64)>,
    checks: String,
    structure: String,
}

fn simulator<R: Registry>(
    registry: &R,
    args: &ClusterCmdArgs,
    spec: &ClusterSpec,
) -> Result<SimFigures, String> {
    let config = dme_sim::Config {
        seed: args.seed,
        delay: Dist::Constant(10),
        fifo: true,
        workload: if args.load == "light" {
            Workload::Light
        } else {
            Workload::Heavy
        },
        cs_time: 5,
        requests_per_node: args.entries,
        ..dme_sim::Config::default()
    };
    let summary = simulate(registry, spec, &config)?;
    let report = &summary.report;
    let log = &report.entry_log;
    let entries = log
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let next = log
                .get(k + 1)
                .map_or(report.messages, |n| n.messages_before);
            (e.node.0, next - e.messages_before)
        })
        .collect();
    let checks = if summary.is_ok() {
        "ok".to_string()
    } else {
        format!("safety {}, liveness {}", summary.safety, summary.liveness)
    };
    Ok(SimFigures {
        messages: report.messages,
        by_kind: report.messages_by_kind.clone(),
        entries,
        checks,
        structure: summary.structure.clone().unwrap_or_default(),
    })
}

fn default_dir() -> PathBuf {
    let stamp = super::node::monotonic_ns();
    std::env::temp_dir().join(format!("dme-cluster-{}-{stamp}", std::process::id()))
}

/// Runs `dme cluster`.
pub fn exec<R: Registry>(registry: &R, args: ClusterCmdArgs) -> Result<bool, UsageError> {
    if args.entries == 0 {
        return Err(UsageError("--entries must be at least 1".into()));
    }
    if args.nodes > 64 {
        return Err(UsageError(format!(
            "{} processes is more than dme cluster launches on one machine (at most 64)",
            args.nodes
        )));
    }
    let spec = spec(args.algorithm, args.nodes, &args.cluster, args.seed)?;
    // Also validates the cluster (size, quorums, holder): exit 2 before starting anything.
    let sim = simulator(registry, &args, &spec)?;
    let dir = args.dir.clone().unwrap_or_else(default_dir);
    std::fs::create_dir_all(&dir)
        .map_err(|e| UsageError(format!("cannot create {}: {e}", dir.display())))?;
    let mut report = ClusterReport {
        algorithm: args.algorithm.name().into(),
        nodes: args.nodes,
        structure: sim.structure.clone(),
        load: args.load.clone(),
        entries_per_node: args.entries,
        hold_ms: args.hold.as_secs_f64() * 1e3,
        seed: args.seed,
        dir: dir.display().to_string(),
        sim_messages: sim.messages,
        sim_messages_by_kind: sim.by_kind.clone(),
        sim_checks: sim.checks.clone(),
        ..ClusterReport::default()
    };
    let expected = args.entries as u64 * args.nodes as u64;
    report.sim_messages_per_entry = sim.messages as f64 / expected as f64;

    let deadline = Instant::now() + args.timeout;
    let mut per_entry = Vec::new();
    let outcome = run(&args, &dir, deadline, &sim, &mut per_entry);
    report.error = outcome.error;
    report.node_status = outcome.statuses;
    report.problems.extend(outcome.problems);
    for s in &outcome.stats {
        report.messages += s.sent;
        report.retransmitted += s.retransmitted;
        report.rejected_connections += s.rejected;
        for (k, v) in &s.kinds {
            *report.messages_by_kind.entry(k.clone()).or_insert(0) += v;
        }
    }

    // The logs.
    let mut sections = Vec::new();
    for i in 0..args.nodes as u32 {
        let path = dir.join(format!("node-{i}.log"));
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mine = parse_log(i, &text, &mut report.problems);
        let entered = mine.len() as u64;
        if entered != args.entries as u64 {
            report
                .missing
                .push(format!("n{i} entered {entered} times of {}", args.entries));
        }
        sections.extend(mine);
    }
    let verdict = check(&mut sections);
    report.entries = sections.len() as u64;
    report.overlaps = verdict.overlaps;
    report.fencing_violations = verdict.fencing_violations;
    report.messages_per_entry = if report.entries == 0 {
        0.0
    } else {
        report.messages as f64 / report.entries as f64
    };
    report.acquire_median_ms = median_ms(
        sections
            .iter()
            .filter_map(|s| s.request.map(|r| s.enter.saturating_sub(r)))
            .collect(),
    );
    report.entry_interval_median_ms = median_ms(
        sections
            .windows(2)
            .map(|w| w[1].enter.saturating_sub(w[0].enter))
            .collect(),
    );
    let start = sections.iter().filter_map(|s| s.request).min();
    let end = sections.iter().filter_map(|s| s.exit).max();
    if let (Some(a), Some(b)) = (start, end) {
        report.wall_ms = b.saturating_sub(a) as f64 / 1e6;
    }
    report.matches_simulator = report.error.is_none()
        && report.messages == sim.messages
        && report.messages_by_kind == sim.by_kind;
    if args.load == "light" && report.error.is_none() {
        let first = per_entry
            .iter()
            .zip(&sim.entries)
            .enumerate()
            .find(|(_, (ours, theirs))| ours != theirs);
        if let Some((k, ((node, ours), (_, theirs)))) = first {
            report.matches_simulator = false;
            report.first_difference = Some(format!(
                "entry {} (n{node}): {ours} messages, simulator {theirs}",
                k + 1
            ));
        }
    }
    report.ok = report.error.is_none()
        && report.missing.is_empty()
        && report.overlaps.is_empty()
        && report.fencing_violations.is_empty()
        && report.problems.is_empty()
        && report.entries == expected
        && (args.load != "light" || report.matches_simulator);

    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("the report serializes")
        );
    } else {
        print!("{}", text(&report));
    }
    Ok(report.ok)
}

/// What happened to the processes.
#[derive(Default)]
struct Outcome {
    /// The last `stats` of every node that answered.
    stats: Vec<NodeStats>,
    /// Nodes that did not exit cleanly.
    problems: Vec<String>,
    /// On failure: every node's `status` line, to show who waits for whom.
    statuses: Vec<String>,
    /// What stopped the run early.
    error: Option<String>,
}

/// Launches the nodes, drives them, and makes them quit (or kills them on failure).
/// `per_entry` gets (node, messages) for each light-load entry.
fn run(
    args: &ClusterCmdArgs,
    dir: &Path,
    deadline: Instant,
    sim: &SimFigures,
    per_entry: &mut Vec<(u32, u64)>,
) -> Outcome {
    let light = args.load == "light";
    let script = (!light).then(|| {
        format!(
            "wait-go\nentries {} hold {}us\n",
            args.entries,
            args.hold.as_micros()
        )
    });
    let mut procs = match launch(args, dir, deadline, script.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            return Outcome {
                error: Some(e),
                ..Outcome::default()
            };
        }
    };
    match drive(&mut procs, args, deadline, sim, per_entry) {
        Ok(stats) => Outcome {
            stats,
            problems: procs.quit(Instant::now() + Duration::from_secs(10)),
            ..Outcome::default()
        },
        Err(e) => {
            // Ask whoever still answers where it stands, then kill everyone (`procs` drops).
            let grace = Instant::now() + Duration::from_secs(1);
            let mut outcome = Outcome {
                error: Some(e),
                ..Outcome::default()
            };
            for p in &mut procs.0 {
                if let Ok(st) = p.stats(grace) {
                    outcome.stats.push(st);
                }
                let status = p.send("status").and_then(|()| p.expect("status:", grace));
                outcome.statuses.push(match status {
                    Ok(line) => line,
                    Err(e) => format!("n{}: {e}", p.id),
                });
            }
            outcome
        }
    }
}

fn drive(
    procs: &mut Procs,
    args: &ClusterCmdArgs,
    deadline: Instant,
    sim: &SimFigures,
    per_entry: &mut Vec<(u32, u64)>,
) -> Result<Vec<NodeStats>, String> {
    if args.load == "light" {
        procs.wait_connected(deadline)?;
        let mut sent = procs
            .wait_quiet(deadline)?
            .iter()
            .map(|s| s.sent)
            .sum::<u64>();
        for &(node, _) in &sim.entries {
            let p = procs
                .0
                .get_mut(node as usize)
                .ok_or_else(|| format!("the simulator named node {node}"))?;
            p.send("lock")?;
            p.expect("locked", deadline)?;
            if !args.hold.is_zero() {
                std::thread::sleep(args.hold);
            }
            p.send("unlock")?;
            p.expect("unlocked", deadline)?;
            let now: u64 = procs.wait_quiet(deadline)?.iter().map(|s| s.sent).sum();
            per_entry.push((node, now - sent));
            sent = now;
        }
        procs.wait_quiet(deadline)
    } else {
        // Every node connected to every other, then all start at once.
        for p in &mut procs.0 {
            p.expect("connected ", deadline)?;
        }
        for p in &mut procs.0 {
            p.send("go")?;
        }
        for p in &mut procs.0 {
            p.expect("done ", deadline)?;
        }
        procs.wait_quiet(deadline)
    }
}

fn kinds(map: &BTreeMap<String, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn text(r: &ClusterReport) -> String {
    let mut s = String::new();
    let expected = r.entries_per_node as u64 * r.nodes as u64;
    let _ = writeln!(
        s,
        "cluster          {}, {} processes on 127.0.0.1, {} load, {} entries each, hold {} ms",
        r.algorithm, r.nodes, r.load, r.entries_per_node, r.hold_ms
    );
    if !r.structure.is_empty() {
        let _ = writeln!(s, "structure        {}", r.structure);
    }
    let _ = writeln!(s, "logs             {}", r.dir);
    if let Some(e) = &r.error {
        let _ = writeln!(s, "error            {e}");
    }
    for line in &r.node_status {
        let _ = writeln!(s, "  {line}");
    }
    let _ = writeln!(
        s,
        "mutual exclusion {}",
        if r.overlaps.is_empty() {
            format!("ok: {} critical sections, none overlapped", r.entries)
        } else {
            format!(
                "VIOLATED: {} overlaps; first: {}",
                r.overlaps.len(),
                r.overlaps[0]
            )
        }
    );
    let _ = writeln!(
        s,
        "entries          {}",
        if r.missing.is_empty() && r.entries == expected {
            format!("ok: every node entered {} times", r.entries_per_node)
        } else {
            format!(
                "MISSING: {} of {expected}; {}",
                r.entries,
                r.missing.join("; ")
            )
        }
    );
    let _ = writeln!(
        s,
        "fencing tokens   {}",
        match r.fencing_violations.first() {
            None => "ok: they grow with every entry".to_string(),
            Some(v) => format!("VIOLATED: {v}"),
        }
    );
    for p in &r.problems {
        let _ = writeln!(s, "problem          {p}");
    }
    let _ = writeln!(
        s,
        "messages         {} counted by the drivers: {:.3} per entry ({})",
        r.messages,
        r.messages_per_entry,
        kinds(&r.messages_by_kind)
    );
    let verdict = if r.matches_simulator {
        if r.load == "light" {
            "equal, entry by entry"
        } else {
            "equal"
        }
    } else if r.load == "light" {
        "DIFFERENT"
    } else {
        "different (timing decides at heavy load)"
    };
    let _ = writeln!(
        s,
        "simulator        {} at {} load: {:.3} per entry ({}); {verdict}",
        r.sim_messages,
        r.load,
        r.sim_messages_per_entry,
        kinds(&r.sim_messages_by_kind)
    );
    if r.sim_checks != "ok" {
        let _ = writeln!(
            s,
            "                 (the simulator's own checks: {})",
            r.sim_checks
        );
    }
    if let Some(d) = &r.first_difference {
        let _ = writeln!(s, "first difference {d}");
    }
    let _ = writeln!(
        s,
        "wall time        median {:.3} ms from lock to grant, median {:.3} ms between entries, {:.1} ms in all",
        r.acquire_median_ms, r.entry_interval_median_ms, r.wall_ms
    );
    if r.retransmitted > 0 || r.rejected_connections > 0 {
        let _ = writeln!(
            s,
            "network          {} frames retransmitted, {} connections rejected",
            r.retransmitted, r.rejected_connections
        );
    }
    let _ = writeln!(s, "result           {}", if r.ok { "ok" } else { "FAILED" });
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(node: u32, enter: u64, exit: Option<u64>, token: u64) -> Section {
        Section {
            node,
            request: Some(enter.saturating_sub(1)),
            enter,
            exit,
            token: Some(token),
        }
    }

    #[test]
    fn disjoint_sections_pass() {
        let mut s = vec![
            section(1, 30, Some(40), 3),
            section(0, 10, Some(20), 1),
            section(2, 20, Some(25), 2),
        ];
        assert_eq!(check(&mut s), Verdict::default());
    }

    #[test]
    fn overlaps_and_endless_sections_are_caught() {
        let mut s = vec![section(0, 10, Some(50), 1), section(1, 20, Some(30), 2)];
        assert_eq!(check(&mut s).overlaps.len(), 1);
        // A long section followed by a short one and then one that starts inside the long one.
        let mut s = vec![
            section(0, 10, Some(100), 1),
            section(1, 20, Some(30), 2),
            section(2, 40, Some(50), 3),
        ];
        assert_eq!(check(&mut s).overlaps.len(), 2);
        // A node killed inside: nobody may enter after it.
        let mut s = vec![section(4, 10, None, 1), section(0, 1000, Some(1001), 2)];
        let v = check(&mut s);
        assert_eq!(v.overlaps.len(), 1);
        assert!(v.overlaps[0].contains("never left"), "{:?}", v.overlaps);
    }

    #[test]
    fn shrinking_fencing_tokens_are_caught() {
        let mut s = vec![section(0, 10, Some(20), 5), section(1, 30, Some(40), 5)];
        assert_eq!(check(&mut s).fencing_violations.len(), 1);
    }

    #[test]
    fn logs_parse_and_inconsistencies_are_reported() {
        let mut problems = Vec::new();
        let s = parse_log(
            3,
            "request 5 3\nenter 7 3 11\nexit 9 3\nrequest 10 3\nenter 12 3 14\n",
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0],
            Section {
                node: 3,
                request: Some(5),
                enter: 7,
                exit: Some(9),
                token: Some(11)
            }
        );
        assert_eq!(s[1].exit, None);
        parse_log(
            3,
            "exit 1 3\nenter x 3\nenter 2 4\nfly 3 3\n",
            &mut problems,
        );
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn stats_lines_parse() {
        let st = parse_stats(
            "stats id=0 phase=idle entries=2 abandoned=0 sent=8 received=7 unacked=0 \
             connected=4/4 waiting_for=- fence=3 retransmitted=1 duplicates=0 reconnects=0 \
             rejected=0 kinds=REPLY:4,REQUEST:4",
        )
        .expect("parses");
        assert_eq!((st.sent, st.received, st.retransmitted), (8, 7, 1));
        assert!(st.connected);
        assert_eq!(st.kinds.get("REPLY"), Some(&4));
        assert!(parse_stats("stats id=0").is_err());
    }
}
