//! `dme node`: one member of a cluster as an OS process, talking TCP to the others through the
//! `dme-net` driver.
//!
//! Every process is given the same `--algorithm`, structure flags (`--quorum`, `--tree`,
//! `--holder`, `--param`, `--seed`) and member list, and builds node `--id` alone with the
//! registry, from the structure (quorums, tree) of the whole cluster, so that quorums and trees
//! agree across processes.
//!
//! Standard output is a line protocol, one answer per command:
//!
//! ```text
//! listening id=0 addr=127.0.0.1:7000 algorithm=ricart-agrawala nodes=3   (at start)
//! lock            -> locked token=5 entry=2      (when granted)
//! try-lock 300ms  -> locked token=… | error: no grant after 300ms: waiting for n2 (disconnected: n2)
//! unlock          -> unlocked
//! status          -> status: n0 requesting, waiting for n2; connected: n1; …
//! stats           -> stats id=0 phase=idle entries=2 sent=8 received=8 unacked=0 … kinds=REPLY:4,REQUEST:4
//! disconnect 2    -> disconnected n2             (test hook: cut both connections with n2)
//! quit            -> stats … then bye
//! ```
//!
//! A `--script` runs timed actions instead (see [`parse_script`]); the node first waits until
//! every peer is connected (`connected` line), runs the script (`done` line with the stats), then
//! keeps serving its peers for `--linger` before printing the final stats and exiting.
//!
//! `--log FILE` appends `request <ns> <id>`, `enter <ns> <id> <fencing-token>` and
//! `exit <ns> <id>` lines, `<ns>` being CLOCK_MONOTONIC in nanoseconds, which every process on
//! one machine shares, so the logs of a cluster can be merged and checked for overlap. An
//! `enter` line is written after the grant and the `exit` line before the release, so the logged
//! intervals lie inside the real critical sections.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use dme_core::{Node, NodeId, Phase};
use dme_net::{Config, Driver, Guard, Handle, Status};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use dme_registry::{NodeVisitor, Registry};

use super::{Algorithm, ClusterArgs, UsageError, parse_algorithm, spec};

/// `dme node`'s arguments.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// The algorithm (ricart-agrawala, lamport, maekawa, raymond, …).
    #[arg(long, short, value_parser = parse_algorithm)]
    pub algorithm: Algorithm,
    /// This node's id; the cluster's members are numbered 0..N.
    #[arg(long)]
    pub id: u32,
    /// The address to listen on, e.g. 127.0.0.1:7000.
    #[arg(long, value_parser = parse_addr)]
    pub listen: SocketAddr,
    /// The other members: ID=ADDR,ID=ADDR,… (e.g. 1=127.0.0.1:7001,2=127.0.0.1:7002).
    #[arg(long, value_parser = parse_peers)]
    pub peers: Peers,
    /// Number of nodes (default: the peers plus this node).
    #[arg(long, short)]
    pub nodes: Option<usize>,
    /// Run this script of timed actions instead of reading commands from standard input.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Append request/enter/exit lines with CLOCK_MONOTONIC timestamps to this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// After the script: keep serving the peers this long (e.g. 2000ms, 5s), or `until-quit`
    /// (until `quit` or the end of standard input).
    #[arg(long, default_value = "2s", value_parser = parse_linger)]
    pub linger: Linger,
    /// With a script: how long to wait for every peer to be connected before giving up.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub connect_timeout: Duration,
    /// Seed for structures drawn at random (Raymond's random tree); same on every node.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Die when the parent process dies (used by `dme cluster` so that no node is orphaned).
    #[arg(long, hide = true)]
    pub die_with_parent: bool,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// The peers given with `--peers`, by id.
#[derive(Clone, Debug)]
pub struct Peers(pub BTreeMap<NodeId, SocketAddr>);

/// What a node does once its script is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linger {
    /// Keep serving the peers this long, then exit.
    For(Duration),
    /// Keep serving (and answering commands) until `quit` or the end of standard input.
    UntilQuit,
}

fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    s.to_socket_addrs()
        .map_err(|e| format!("bad address '{s}': {e} (expected HOST:PORT, e.g. 127.0.0.1:7000)"))?
        .next()
        .ok_or_else(|| format!("bad address '{s}': it resolves to no address"))
}

/// Parses `ID=ADDR,ID=ADDR,…`.
pub fn parse_peers(s: &str) -> Result<Peers, String> {
    let mut peers = BTreeMap::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (id, addr) = item
            .split_once('=')
            .ok_or_else(|| format!("bad peer '{item}': expected ID=ADDR, e.g. 1=127.0.0.1:7001"))?;
        let id: u32 = id.trim().parse().map_err(|_| {
            format!("bad peer '{item}': the id '{id}' is not a non-negative integer")
        })?;
        let addr = parse_addr(addr).map_err(|e| format!("bad peer '{item}': {e}"))?;
        if peers.insert(NodeId(id), addr).is_some() {
            return Err(format!("peer {id} is listed twice"));
        }
    }
    if peers.is_empty() {
        return Err("no peers given (expected ID=ADDR,ID=ADDR,…)".into());
    }
    Ok(Peers(peers))
}

/// Parses a duration: `250ms`, `2s`, `1.5s`, `500us`, or a bare number of milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let bad =
        || format!("bad duration '{s}' (expected e.g. 250ms, 2s or a number of milliseconds)");
    let value: f64 = number.parse().map_err(|_| bad())?;
    let ms = match unit.trim() {
        "" | "ms" => value,
        "s" => value * 1000.0,
        "us" => value / 1000.0,
        _ => return Err(bad()),
    };
    if !(ms.is_finite() && (0.0..=1e12).contains(&ms)) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(ms / 1000.0))
}

fn parse_linger(s: &str) -> Result<Linger, String> {
    if s.trim() == "until-quit" {
        Ok(Linger::UntilQuit)
    } else {
        parse_duration(s).map(Linger::For)
    }
}

/// One step of a script.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Wait for the critical section.
    Lock,
    /// Wait for the critical section at most this long (an `error:` line if not granted).
    TryLock(Duration),
    /// Leave the critical section.
    Unlock,
    /// Wait (`sleep` or `hold`, the same thing).
    Sleep(Duration),
    /// Print the `status:` line.
    Status,
    /// Print the `stats` line.
    Stats,
    /// Test hook: cut both connections with this peer (they are re-established).
    Disconnect(NodeId),
    /// Run the body this many times.
    Repeat(u32, Vec<Action>),
    /// Wait for a `go` line on standard input (launchers use it to start every node at once).
    WaitGo,
}

/// Parses a script, one action per line (`#` starts a comment):
///
/// ```text
/// lock | unlock | try-lock 300ms | hold 5ms | sleep 10ms | status | stats | disconnect 2
/// repeat 10 {
///   lock
///   hold 2ms
///   unlock
/// }
/// entries 20 hold 1ms think 3ms   # = repeat 20 { lock; hold 1ms; unlock; sleep 3ms }
/// wait-go                         # wait for a `go` line on standard input
/// ```
pub fn parse_script(text: &str) -> Result<Vec<Action>, String> {
    // The open blocks: the outermost list, then one per `repeat K {` (with its K).
    let mut frames: Vec<(u32, Vec<Action>)> = vec![(1, Vec::new())];
    let mut open_lines = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| format!("script line {}: {why}: '{line}'", number + 1);
        let words: Vec<&str> = line.split_whitespace().collect();
        let count = |w: &str| -> Result<u32, String> {
            w.parse().map_err(|_| bad(format!("'{w}' is not a count")))
        };
        let action = match words.as_slice() {
            ["repeat", k, "{"] => {
                frames.push((count(k)?, Vec::new()));
                open_lines.push(number + 1);
                continue;
            }
            ["wait-go"] => Action::WaitGo,
            ["}"] => {
                if frames.len() == 1 {
                    return Err(bad("'}' without 'repeat K {'".into()));
                }
                open_lines.pop();
                let (k, body) = frames.pop().unwrap_or_default();
                Action::Repeat(k, body)
            }
            ["entries", k, rest @ ..] => {
                let k = count(k)?;
                let (mut hold, mut think) = (Duration::ZERO, Duration::ZERO);
                let mut rest = rest.iter();
                while let Some(&word) = rest.next() {
                    let value = rest
                        .next()
                        .ok_or_else(|| bad(format!("'{word}' needs a duration")))?;
                    let d = parse_duration(value).map_err(bad)?;
                    match word {
                        "hold" => hold = d,
                        "think" => think = d,
                        _ => return Err(bad(format!("unknown option '{word}' (hold, think)"))),
                    }
                }
                let mut body = vec![Action::Lock];
                if !hold.is_zero() {
                    body.push(Action::Sleep(hold));
                }
                body.push(Action::Unlock);
                if !think.is_zero() {
                    body.push(Action::Sleep(think));
                }
                Action::Repeat(k, body)
            }
            ["repeat", ..] => {
                return Err(bad(
                    "'repeat' takes a count and an opening brace: repeat K {".into(),
                ));
            }
            _ => match parse_command_of(line, SCRIPT_ACTIONS).map_err(bad)? {
                Command::Lock => Action::Lock,
                Command::TryLock(d) => Action::TryLock(d),
                Command::Unlock => Action::Unlock,
                Command::Sleep(d) => Action::Sleep(d),
                Command::Status => Action::Status,
                Command::Stats => Action::Stats,
                Command::Disconnect(p) => Action::Disconnect(p),
                Command::Quit | Command::Help => {
                    return Err(bad(format!(
                        "not a script action (script actions: {SCRIPT_ACTIONS})"
                    )));
                }
            },
        };
        if let Some((_, list)) = frames.last_mut() {
            list.push(action);
        }
    }
    if let Some(line) = open_lines.last() {
        return Err(format!(
            "script line {line}: 'repeat' block never closed with '}}'"
        ));
    }
    Ok(frames.pop().map(|(_, list)| list).unwrap_or_default())
}

/// One command line of the interactive protocol (or a simple script line).
#[derive(Clone, Debug, PartialEq)]
enum Command {
    Lock,
    TryLock(Duration),
    Unlock,
    Sleep(Duration),
    Status,
    Stats,
    Disconnect(NodeId),
    Quit,
    Help,
}

const COMMANDS: &str = "lock, try-lock DURATION, unlock, status, stats, disconnect ID, quit";

/// Every action a `--script` accepts, for its error messages.
const SCRIPT_ACTIONS: &str = "lock, try-lock DURATION, unlock, hold DURATION, sleep DURATION, \
     status, stats, disconnect ID, repeat K { … }, entries K [hold DURATION] [think DURATION], \
     wait-go";

fn parse_command(line: &str) -> Result<Command, String> {
    parse_command_of(line, COMMANDS)
}

/// Parses one command; an unknown one is answered with `listing`, what the caller accepts.
fn parse_command_of(line: &str, listing: &str) -> Result<Command, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&first, rest)) = words.split_first() else {
        return Err("empty command".into());
    };
    let arg = rest.concat();
    let no_arg = |c: Command| {
        if rest.is_empty() {
            Ok(c)
        } else {
            Err(format!("'{first}' takes no argument"))
        }
    };
    let duration = || {
        if rest.is_empty() {
            Err(format!("'{first}' needs a duration, e.g. {first} 300ms"))
        } else {
            parse_duration(&arg)
        }
    };
    match first {
        "lock" => no_arg(Command::Lock),
        "try-lock" | "trylock" | "try_lock" => duration().map(Command::TryLock),
        "unlock" => no_arg(Command::Unlock),
        "sleep" | "hold" => duration().map(Command::Sleep),
        "status" => no_arg(Command::Status),
        "stats" => no_arg(Command::Stats),
        "disconnect" => arg
            .trim_start_matches('n')
            .parse()
            .map(|id| Command::Disconnect(NodeId(id)))
            .map_err(|_| "'disconnect' needs a peer id, e.g. disconnect 2".to_string()),
        "quit" | "exit" => no_arg(Command::Quit),
        "help" | "?" => Ok(Command::Help),
        other => Err(format!("unknown command '{other}' (commands: {listing})")),
    }
}

/// Nanoseconds on CLOCK_MONOTONIC: one clock for every process of the machine, so the logs of
/// a cluster on one host can be merged. Elsewhere than Unix, the wall clock (which can jump).
pub fn monotonic_ns() -> u64 {
    #[cfg(unix)]
    {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
        (t.tv_sec as u64)
            .saturating_mul(1_000_000_000)
            .saturating_add(t.tv_nsec as u64)
    }
    #[cfg(not(unix))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    }
}

/// The `--log` file.
struct Log {
    id: u32,
    file: Option<File>,
}

impl Log {
    fn write(&mut self, what: &str, token: Option<u64>) {
        let Some(file) = &mut self.file else { return };
        let mut line = format!("{what} {} {}", monotonic_ns(), self.id);
        if let Some(t) = token {
            line.push_str(&format!(" {t}"));
        }
        line.push('\n');
        // One write per line on a file opened for appending: lines never interleave.
        if let Err(e) = file.write_all(line.as_bytes()) {
            eprintln!("error: cannot write the log: {e}");
            self.file = None;
        }
    }
}

fn say(line: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    // A closed standard output (the parent died) must not stop the node from serving.
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

fn ids(ids: &[NodeId]) -> String {
    if ids.is_empty() {
        "-".into()
    } else {
        ids.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The machine-readable `stats` line.
fn stats_line(st: &Status) -> String {
    let phase = match st.phase {
        Phase::Idle => "idle",
        Phase::Requesting => "requesting",
        Phase::InCriticalSection => "in-cs",
    };
    let unacked: usize = st.peers.iter().map(|p| p.unacked).sum();
    let kinds = if st.messages_by_kind.is_empty() {
        "-".to_string()
    } else {
        st.messages_by_kind
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "stats id={} phase={phase} entries={} abandoned={} sent={} received={} unacked={unacked} \
         connected={}/{} waiting_for={} fence={} retransmitted={} duplicates={} reconnects={} \
         rejected={} kinds={kinds}",
        st.id.0,
        st.entries,
        st.abandoned,
        st.messages_sent,
        st.messages_received,
        st.connected.len(),
        st.peers.len(),
        ids(&st.waiting_for),
        st.fence,
        st.frames_retransmitted,
        st.duplicates_dropped,
        st.reconnects,
        st.rejected_connections,
    )
}

/// Lines of standard input, read by a plain thread (so that exiting never waits for it).
struct Input {
    lines: mpsc::UnboundedReceiver<String>,
    closed: bool,
}

impl Input {
    fn stdin() -> Input {
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                match line {
                    Ok(l) => {
                        if tx.send(l).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        });
        Input {
            lines,
            closed: false,
        }
    }

    /// The next line; `None` once standard input is closed (then pending forever if called
    /// again — callers check `closed`).
    async fn next(&mut self) -> Option<String> {
        if self.closed {
            return std::future::pending().await;
        }
        let line = self.lines.recv().await;
        if line.is_none() {
            self.closed = true;
        }
        line
    }
}

/// A `try-lock` that timed out leaves its request in place (the classic algorithms cannot
/// withdraw one): how long it waited, until the next lock call or the grant. Shared with the
/// `status` answers given while a script runs.
#[derive(Clone, Default)]
struct Abandoned(std::sync::Arc<std::sync::Mutex<Option<Duration>>>);

impl Abandoned {
    fn set(&self, after: Option<Duration>) {
        if let Ok(mut a) = self.0.lock() {
            *a = after;
        }
    }

    /// Records the outcome of a lock call.
    fn record<T>(&self, result: &Result<T, dme_net::Error>) {
        match result {
            Err(dme_net::Error::Timeout { after, .. }) => self.set(Some(*after)),
            Ok(_) => self.set(None),
            Err(_) => {}
        }
    }

    /// The `status:` line: the driver's status, and why the node is still requesting when its
    /// last `try-lock` gave up.
    fn status_line(&self, st: &Status) -> String {
        let after = self.0.lock().ok().and_then(|a| *a);
        match after {
            Some(after) if st.phase == Phase::Requesting => format!(
                "status: {st}; request abandoned: try-lock gave up after {after:?}, the grant is \
                 released as soon as it comes"
            ),
            _ => format!("status: {st}"),
        }
    }
}

/// The application side of the node: the driver's handle, the guard while held, the log.
struct Session {
    handle: Handle,
    held: Option<Guard>,
    abandoned: Abandoned,
    log: Log,
    /// Becomes true when `go` is read on standard input.
    go: watch::Receiver<bool>,
}

impl Session {
    fn granted(&mut self, guard: Guard) -> String {
        self.log.write("enter", Some(guard.fencing_token()));
        let line = format!(
            "locked token={} entry={}",
            guard.fencing_token(),
            guard.entry()
        );
        self.held = Some(guard);
        line
    }

    async fn unlock(&mut self) -> Result<String, String> {
        match self.held.take() {
            None => Ok("error: not holding the lock".into()),
            Some(guard) => {
                self.log.write("exit", None);
                guard
                    .unlock()
                    .await
                    .map(|()| "unlocked".to_string())
                    .map_err(|e| e.to_string())
            }
        }
    }

    async fn status(&self) -> Result<Status, String> {
        self.handle.status().await.map_err(|e| e.to_string())
    }

    async fn disconnect(&self, peer: NodeId) -> String {
        match self.handle.debug_disconnect(peer).await {
            Ok(()) => format!("disconnected {peer}"),
            Err(e) => format!("error: {e}"),
        }
    }

    /// One script action; `Err` only when the driver is gone.
    async fn act(&mut self, action: &Action) -> Result<(), String> {
        match action {
            Action::Lock | Action::TryLock(_) => {
                if self.held.is_some() {
                    say("error: already holding the lock (unlock first)");
                    return Ok(());
                }
                self.log.write("request", None);
                self.abandoned.set(None);
                let result = match action {
                    Action::TryLock(d) => self.handle.try_lock_for(*d).await,
                    _ => self.handle.lock().await,
                };
                self.abandoned.record(&result);
                match result {
                    Ok(guard) => say(self.granted(guard)),
                    Err(dme_net::Error::Stopped) => return Err("the driver has stopped".into()),
                    Err(e) => say(format!("error: {e}")),
                }
            }
            Action::Unlock => say(self.unlock().await?),
            Action::Sleep(d) => tokio::time::sleep(*d).await,
            Action::Status => say(self.abandoned.status_line(&self.status().await?)),
            Action::Stats => say(stats_line(&self.status().await?)),
            Action::Disconnect(p) => say(self.disconnect(*p).await),
            Action::WaitGo => {
                if self.go.wait_for(|go| *go).await.is_err() {
                    return Err("standard input closed before 'go'".into());
                }
            }
            Action::Repeat(..) => {} // expanded by `run_script`
        }
        Ok(())
    }
}

/// Runs the script's actions in order, repeats included.
async fn run_script(session: &mut Session, script: &[Action]) -> Result<(), String> {
    // (body, next index, repetitions left including the current one)
    let mut stack: Vec<(&[Action], usize, u32)> = vec![(script, 0, 1)];
    while let Some(top) = stack.last_mut() {
        let (body, i, reps) = (top.0, top.1, top.2);
        if i == body.len() {
            if reps > 1 {
                *top = (body, 0, reps - 1);
            } else {
                stack.pop();
            }
            continue;
        }
        top.1 += 1;
        match &body[i] {
            Action::Repeat(k, inner) => {
                if *k > 0 && !inner.is_empty() {
                    stack.push((inner, 0, *k));
                }
            }
            action => session.act(action).await?,
        }
    }
    Ok(())
}

/// Waits until both connections with every peer are up.
async fn wait_connected(handle: &Handle, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let st = handle.status().await.map_err(|e| e.to_string())?;
        if st.disconnected.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "peers {} not connected after {timeout:?}",
                ids(&st.disconnected)
            ));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How an interactive session ended.
enum End {
    Quit,
    Deadline,
}

/// Serves commands from standard input until `quit`, the end of input (when `deadline` is
/// `None`) or the deadline.
async fn interactive(
    session: &mut Session,
    input: &mut Input,
    deadline: Option<Instant>,
) -> Result<End, String> {
    type Pending = JoinHandle<Result<Guard, dme_net::Error>>;
    let mut pending: Option<Pending> = None;
    let end = loop {
        let until = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = until => break End::Deadline,
            result = async { pending.as_mut().expect("guarded by the condition").await },
                if pending.is_some() =>
            {
                pending = None;
                if let Ok(r) = &result {
                    session.abandoned.record(r);
                }
                match result {
                    Ok(Ok(guard)) => say(session.granted(guard)),
                    Ok(Err(dme_net::Error::Stopped)) => {
                        return Err("the driver has stopped".into());
                    }
                    Ok(Err(e)) => say(format!("error: {e}")),
                    Err(e) => say(format!("error: {e}")),
                }
            }
            line = input.next() => {
                let Some(line) = line else {
                    if deadline.is_none() {
                        break End::Quit;
                    }
                    continue;
                };
                if line.trim().is_empty() {
                    continue;
                }
                match parse_command(&line) {
                    Ok(Command::Lock) | Ok(Command::TryLock(_)) if session.held.is_some() => {
                        say("error: already holding the lock (unlock first)");
                    }
                    Ok(Command::Lock) | Ok(Command::TryLock(_)) if pending.is_some() => {
                        say("error: a lock call is already pending");
                    }
                    Ok(Command::Lock) => {
                        session.log.write("request", None);
                        session.abandoned.set(None);
                        let h = session.handle.clone();
                        pending = Some(tokio::spawn(async move { h.lock().await }));
                    }
                    Ok(Command::TryLock(d)) => {
                        session.log.write("request", None);
                        session.abandoned.set(None);
                        let h = session.handle.clone();
                        pending = Some(tokio::spawn(async move { h.try_lock_for(d).await }));
                    }
                    Ok(Command::Unlock) => say(session.unlock().await?),
                    Ok(Command::Status) => {
                        say(session.abandoned.status_line(&session.status().await?));
                    }
                    Ok(Command::Stats) => say(stats_line(&session.status().await?)),
                    Ok(Command::Disconnect(p)) => say(session.disconnect(p).await),
                    Ok(Command::Quit) => break End::Quit,
                    Ok(Command::Help) => say(format!("commands: {COMMANDS}")),
                    Ok(Command::Sleep(_)) => say("error: sleep is for scripts"),
                    Err(e) => say(format!("error: {e}")),
                }
            }
        }
    };
    if let Some(p) = pending {
        // Dropping a lock call is safe: the driver releases the grant when it comes.
        p.abort();
    }
    Ok(end)
}

/// Runs the script while answering `status`, `stats` and `quit` on standard input. `Ok(false)`
/// when `quit` interrupted it.
async fn scripted(
    session: &mut Session,
    input: &mut Input,
    script: &[Action],
    connect_timeout: Duration,
    go: watch::Sender<bool>,
) -> Result<bool, String> {
    let handle = session.handle.clone();
    let abandoned = session.abandoned.clone();
    let id = handle.id();
    let work = async {
        wait_connected(&session.handle, connect_timeout).await?;
        say(format!("connected {id}"));
        run_script(session, script).await
    };
    tokio::pin!(work);
    loop {
        tokio::select! {
            result = &mut work => return result.map(|()| true),
            line = input.next() => {
                let Some(line) = line else { continue };
                match parse_command(&line) {
                    _ if line.trim().is_empty() => {}
                    Ok(Command::Status) => match handle.status().await {
                        Ok(st) => say(abandoned.status_line(&st)),
                        Err(e) => say(format!("error: {e}")),
                    },
                    Ok(Command::Stats) => match handle.status().await {
                        Ok(st) => say(stats_line(&st)),
                        Err(e) => say(format!("error: {e}")),
                    },
                    Ok(Command::Quit) => return Ok(false),
                    _ if line.trim() == "go" => {
                        let _ = go.send(true);
                    }
                    _ => say("error: while the script runs, only status, stats, go and quit are accepted"),
                }
            }
        }
    }
}

/// Everything `exec` checked, for the visitor.
struct Launch {
    args: NodeArgs,
    peers: BTreeMap<NodeId, SocketAddr>,
    script: Option<Vec<Action>>,
    log: Log,
}

impl NodeVisitor for Launch {
    type Output = Result<bool, UsageError>;

    fn visit<N: Node + Send + 'static>(self, node: N, structure: String) -> Self::Output
    where
        N::Message: Send + 'static,
    {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| UsageError(format!("cannot start the runtime: {e}")))?;
        runtime.block_on(serve(node, self, structure))
    }
}

async fn serve<N>(node: N, launch: Launch, structure: String) -> Result<bool, UsageError>
where
    N: Node + Send + 'static,
    N::Message: Send + 'static,
{
    let Launch {
        args,
        peers,
        script,
        log,
    } = launch;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| UsageError(format!("cannot listen on {}: {e}", args.listen)))?;
    let n = peers.len() + 1;
    let handle = Driver::spawn_on(node, listener, peers, Config::default())
        .map_err(|e| UsageError(e.to_string()))?;
    let mut line = format!(
        "listening id={} addr={} algorithm={} nodes={n}",
        args.id,
        handle.local_addr(),
        args.algorithm
    );
    if !structure.is_empty() {
        line.push_str(&format!(" structure={}", structure.replace(' ', "_")));
    }
    say(line);
    let mut input = Input::stdin();
    let (go_tx, go) = watch::channel(false);
    let mut session = Session {
        handle: handle.clone(),
        held: None,
        abandoned: Abandoned::default(),
        log,
        go,
    };
    let mut ok = true;
    let outcome = match &script {
        None => interactive(&mut session, &mut input, None)
            .await
            .map(|_| ()),
        Some(script) => {
            match scripted(
                &mut session,
                &mut input,
                script,
                args.connect_timeout,
                go_tx,
            )
            .await
            {
                Ok(true) => {
                    match session.status().await {
                        Ok(st) => say(format!("done {}", stats_line(&st))),
                        Err(e) => say(format!("error: {e}")),
                    }
                    let deadline = match args.linger {
                        Linger::For(d) => Some(Instant::now() + d),
                        Linger::UntilQuit => None,
                    };
                    interactive(&mut session, &mut input, deadline)
                        .await
                        .map(|_: End| ())
                }
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = outcome {
        say(format!("error: {e}"));
        ok = false;
    }
    if session.held.is_some() {
        if let Err(e) = session.unlock().await {
            say(format!("error: {e}"));
        }
    }
    match handle.status().await {
        Ok(st) => say(stats_line(&st)),
        Err(e) => say(format!("error: {e}")),
    }
    let _ = handle.shutdown().await;
    say("bye");
    Ok(ok)
}

/// Runs `dme node`.
pub fn exec<R: Registry>(registry: &R, args: NodeArgs) -> Result<bool, UsageError> {
    #[cfg(target_os = "linux")]
    if args.die_with_parent {
        let _ =
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL));
    }
    init_tracing();
    let me = NodeId(args.id);
    let mut peers = args.peers.0.clone();
    if peers.contains_key(&me) {
        return Err(UsageError(format!(
            "--peers lists this node's own id {}: give only the other members",
            args.id
        )));
    }
    let n = args.nodes.unwrap_or(peers.len() + 1);
    if n != peers.len() + 1 {
        return Err(UsageError(format!(
            "--nodes {n} but --peers names {} other members (expected {})",
            peers.len(),
            n - 1
        )));
    }
    if args.id as usize >= n {
        return Err(UsageError(format!(
            "id {} is not in the cluster: members are numbered 0..{}",
            args.id,
            n - 1
        )));
    }
    if let Some(bad) = peers.keys().find(|p| p.index() >= n) {
        return Err(UsageError(format!(
            "peer id {} is out of range: a cluster of {n} nodes is numbered 0..{}",
            bad.0,
            n - 1
        )));
    }
    // Rust resolves "localhost:7001" and friends; normalise nothing else.
    for addr in peers.values_mut() {
        if addr.ip().is_unspecified() {
            return Err(UsageError(format!(
                "peer address {addr} is unspecified (0.0.0.0 or ::): give an address to dial"
            )));
        }
    }
    check_addresses(args.listen, &peers)?;
    let script = match &args.script {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| UsageError(format!("cannot read script {}: {e}", path.display())))?;
            Some(parse_script(&text).map_err(|e| format!("{}: {e}", path.display()))?)
        }
    };
    let file = match &args.log {
        None => None,
        Some(path) => Some(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| UsageError(format!("cannot open log {}: {e}", path.display())))?,
        ),
    };
    let log = Log { id: args.id, file };
    let spec = spec(args.algorithm, n, &args.cluster, args.seed)?;
    let launch = Launch {
        peers,
        script,
        log,
        args,
    };
    registry.node(&spec, me, launch)?
}

/// Refuses two peers on one address and a peer on this node's own listening address: either
/// would only ever connect a node to the wrong member (and be rejected forever).
fn check_addresses(
    listen: SocketAddr,
    peers: &BTreeMap<NodeId, SocketAddr>,
) -> Result<(), UsageError> {
    let mut seen: BTreeMap<SocketAddr, NodeId> = BTreeMap::new();
    for (&id, &addr) in peers {
        if let Some(other) = seen.insert(addr, id) {
            return Err(UsageError(format!(
                "--peers gives {other} and {id} the same address {addr}: every member needs its own"
            )));
        }
        let own = addr == listen
            || (listen.ip().is_unspecified()
                && addr.port() == listen.port()
                && addr.ip().is_loopback());
        if own {
            return Err(UsageError(format!(
                "--peers gives {id} the address {addr}, which is this node's own --listen \
                 {listen}: a node cannot be its own peer"
            )));
        }
    }
    Ok(())
}

/// `tracing` output on standard error: `RUST_LOG` (e.g. `RUST_LOG=dme_net=debug`), by default
/// warnings only (rejected connections and the like); in colour only when standard error is a
/// terminal (a log file gets plain text).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_with_blocks_and_shorthands() {
        let s = parse_script(
            "# warm-up\nlock\nhold 5ms\nunlock\nrepeat 2 {\n  try-lock 1s\n  repeat 3 {\n sleep 1\n }\n}\nentries 4 hold 2ms think 1ms\nstats\n",
        )
        .expect("parses");
        assert_eq!(s.len(), 6);
        assert_eq!(s[1], Action::Sleep(Duration::from_millis(5)));
        assert_eq!(
            s[3],
            Action::Repeat(
                2,
                vec![
                    Action::TryLock(Duration::from_secs(1)),
                    Action::Repeat(3, vec![Action::Sleep(Duration::from_millis(1))])
                ]
            )
        );
        assert_eq!(
            s[4],
            Action::Repeat(
                4,
                vec![
                    Action::Lock,
                    Action::Sleep(Duration::from_millis(2)),
                    Action::Unlock,
                    Action::Sleep(Duration::from_millis(1))
                ]
            )
        );
        assert_eq!(
            parse_script("entries 3").expect("parses"),
            vec![Action::Repeat(3, vec![Action::Lock, Action::Unlock])]
        );
    }

    #[test]
    fn bad_scripts_name_the_line() {
        for (text, line) in [
            ("lock\nfly\n", "line 2"),
            ("repeat 2 {\nlock\n", "line 1"),
            ("}\n", "line 1"),
            ("hold soon\n", "line 1"),
            ("entries x\n", "line 1"),
            ("quit\n", "line 1"),
        ] {
            let err = parse_script(text).expect_err(text);
            assert!(err.contains(line), "{text:?}: {err}");
        }
    }

    #[test]
    fn peers_and_durations_parse() {
        let p = parse_peers("1=127.0.0.1:7001, 2=127.0.0.1:7002").expect("parses");
        assert_eq!(p.0.len(), 2);
        assert!(parse_peers("1:127.0.0.1:7001").is_err());
        assert!(parse_peers("x=127.0.0.1:7001").is_err());
        assert!(parse_peers("1=127.0.0.1").is_err());
        assert!(parse_peers("1=127.0.0.1:1,1=127.0.0.1:2").is_err());
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_millis(7)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("3 weeks").is_err());
        assert_eq!(parse_linger("until-quit"), Ok(Linger::UntilQuit));
    }

    #[test]
    fn monotonic_clock_does_not_go_back() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(b >= a && a > 0);
    }
}
