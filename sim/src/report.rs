//! What a run measured and whether its checks held.

use std::collections::BTreeMap;
use std::fmt;

use dme_core::NodeId;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::trace::TraceEvent;

/// Summary statistics of a sample of durations, in ticks.
#[derive(Clone, Copy, PartialEq, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Number of samples.
    pub count: u64,
    /// Smallest sample.
    pub min: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub p50: u64,
    /// 99th percentile (nearest rank).
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
}

impl Stats {
    /// Statistics of `samples` (all zero when empty).
    pub fn of(mut samples: Vec<u64>) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        samples.sort_unstable();
        let n = samples.len();
        let rank = |p: f64| samples[((p * n as f64).ceil() as usize).clamp(1, n) - 1];
        Stats {
            count: n as u64,
            min: samples[0],
            mean: samples.iter().map(|&s| s as f64).sum::<f64>() / n as f64,
            p50: rank(0.50),
            p99: rank(0.99),
            max: samples[n - 1],
        }
    }
}

impl Stats {
    /// The mean, `None` when there are no samples (then `mean` is a placeholder 0).
    pub fn sample_mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }

    /// These statistics, `None` when there are no samples.
    pub fn if_any(self) -> Option<Stats> {
        (self.count > 0).then_some(self)
    }
}

/// The mark of a figure with nothing to show (no sample, or a ratio to zero).
pub const NO_FIGURE: &str = "–";

/// A figure as people read it: `value` with `decimals` decimals, or [`NO_FIGURE`] when there is
/// none or it is not a finite number. The one formatter of every figure `dme` prints (in JSON
/// the same absence is `null`).
pub fn figure(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => NO_FIGURE.to_string(),
    }
}

/// `num / den`, `None` when `den` is zero or the quotient is not finite: a ratio with nothing
/// to divide by is no figure, not 0 and not NaN.
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    let q = num / den;
    (den != 0.0 && q.is_finite()).then_some(q)
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count == 0 {
            return write!(f, "{NO_FIGURE} (n=0)");
        }
        write!(
            f,
            "mean {}  min {}  p50 {}  p99 {}  max {}  (n={})",
            figure(Some(self.mean), 2),
            self.min,
            self.p50,
            self.p99,
            self.max,
            self.count
        )
    }
}

/// One critical-section entry, from request to exit.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct EntryRecord {
    /// The node.
    pub node: NodeId,
    /// When it asked.
    pub requested_at: u64,
    /// When it entered (`None`: never granted).
    pub entered_at: Option<u64>,
    /// When it left (`None`: never granted or the run stopped first).
    pub exited_at: Option<u64>,
    /// Network messages sent in the whole run before this request was issued. Under light load
    /// the messages of entry `k` are `entry_log[k + 1].messages_before -
    /// entry_log[k].messages_before` (and `messages - messages_before` for the last).
    pub messages_before: u64,
}

/// The kind of check that failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Two nodes in the critical section at once.
    Safety,
    /// A request never granted: deadlock, starvation, or the time limit reached.
    Liveness,
    /// A grant out of (timestamp, id) order in an algorithm that promises that order.
    Order,
    /// Not exactly one token in the system (token-based algorithms).
    Token,
    /// A node rejected an input as misuse or sent a message to itself or a non-member: a bug in
    /// the algorithm.
    Protocol,
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FailureKind::Safety => "safety",
            FailureKind::Liveness => "liveness",
            FailureKind::Order => "order",
            FailureKind::Token => "token",
            FailureKind::Protocol => "protocol",
        })
    }
}

/// A failed check, with what it takes to understand and replay it.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Failure {
    /// Which check failed.
    pub kind: FailureKind,
    /// What happened, naming the nodes involved.
    pub description: String,
    /// The virtual time of the failure.
    pub time: u64,
    /// The seed that replays it (with the same configuration).
    pub seed: u64,
    /// The last events before the failure, oldest first.
    pub last_events: Vec<TraceEvent>,
    /// For a deadlock: a cycle of nodes each waiting for the next (and the last for the first),
    /// from the wait-for graph built from `Node::waiting_for` and `Node::locked_for`.
    pub wait_for_cycle: Option<Vec<NodeId>>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} check FAILED at t={} (seed {}): {}",
            self.kind, self.time, self.seed, self.description
        )?;
        if let Some(cycle) = &self.wait_for_cycle {
            let names: Vec<String> = cycle.iter().map(|n| n.to_string()).collect();
            writeln!(f, "wait-for cycle: {} -> {}", names.join(" -> "), names[0])?;
        }
        if !self.last_events.is_empty() {
            writeln!(f, "last {} events:", self.last_events.len())?;
            for e in &self.last_events {
                writeln!(f, "  {e}")?;
            }
        }
        Ok(())
    }
}

/// Everything one run measured, and the outcome of its checks.
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Number of nodes.
    pub nodes: usize,
    /// The configuration that produced this run.
    pub config: Config,
    /// Requests issued.
    pub requests: u64,
    /// Critical-section entries.
    pub entries: u64,
    /// Network messages sent (messages a node owes itself are never sent, so never counted).
    pub messages: u64,
    /// Network messages sent, by kind.
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Messages delivered.
    pub delivered: u64,
    /// From a node leaving the critical section to the next entry, counted only when some node
    /// was waiting at the exit. `None` when no node ever waited.
    pub sync_delay: Option<Stats>,
    /// From request to the end of the critical section.
    pub response_time: Stats,
    /// From request to entry.
    pub waiting_time: Stats,
    /// Virtual time at which the run ended.
    pub end_time: u64,
    /// Events processed.
    pub events: u64,
    /// A digest of the whole trace: equal digests mean equal runs.
    pub digest: u64,
    /// The first failed check, if any (the run stops there).
    pub failure: Option<Failure>,
    /// Every request of the run, in the order issued.
    pub entry_log: Vec<EntryRecord>,
    /// Every event, when [`Config::full_trace`] was set (empty otherwise).
    pub trace: Vec<TraceEvent>,
}

impl Report {
    /// Whether every check held.
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }

    /// Network messages per critical-section entry (0 when nothing was entered).
    pub fn messages_per_entry(&self) -> f64 {
        if self.entries == 0 {
            0.0
        } else {
            self.messages as f64 / self.entries as f64
        }
    }

    /// Network messages per critical-section entry, `None` when nothing was entered.
    pub fn messages_per_entry_if_any(&self) -> Option<f64> {
        self.per_entry(self.messages)
    }

    /// `count` per critical-section entry, `None` when nothing was entered.
    pub fn per_entry(&self, count: u64) -> Option<f64> {
        ratio(count as f64, self.entries as f64)
    }

    /// Critical-section entries per 1,000 ticks, `None` when no virtual time passed.
    pub fn throughput_if_any(&self) -> Option<f64> {
        ratio(self.entries as f64 * 1000.0, self.end_time as f64)
    }

    /// Critical-section entries per 1,000 ticks of virtual time.
    pub fn throughput(&self) -> f64 {
        if self.end_time == 0 {
            0.0
        } else {
            self.entries as f64 * 1000.0 / self.end_time as f64
        }
    }

    /// Under light load, the network messages that served each entry, in request order.
    pub fn messages_per_request(&self) -> Vec<u64> {
        let mut per = Vec::with_capacity(self.entry_log.len());
        for (k, e) in self.entry_log.iter().enumerate() {
            let next = self
                .entry_log
                .get(k + 1)
                .map_or(self.messages, |n| n.messages_before);
            per.push(next - e.messages_before);
        }
        per
    }

    /// The outcome of one check kind: `"ok"` or the failure's description.
    pub fn check(&self, kinds: &[FailureKind]) -> String {
        match &self.failure {
            Some(f) if kinds.contains(&f.kind) => format!("{}: {}", f.kind, f.description),
            _ => "ok".into(),
        }
    }

    /// The outcome of the safety-type checks (mutual exclusion, order, token, protocol).
    pub fn safety(&self) -> String {
        self.check(&[
            FailureKind::Safety,
            FailureKind::Order,
            FailureKind::Token,
            FailureKind::Protocol,
        ])
    }

    /// The outcome of the liveness check.
    pub fn liveness(&self) -> String {
        self.check(&[FailureKind::Liveness])
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "nodes               {}", self.nodes)?;
        writeln!(f, "config              {}", self.config)?;
        writeln!(
            f,
            "entries             {} of {} requests",
            self.entries, self.requests
        )?;
        writeln!(
            f,
            "messages            {} ({} per entry)",
            self.messages,
            figure(self.messages_per_entry_if_any(), 3)
        )?;
        for (kind, count) in &self.messages_by_kind {
            let per = figure(self.per_entry(*count), 3);
            writeln!(f, "  {kind:<17} {count} ({per} per entry)")?;
        }
        match &self.sync_delay {
            Some(s) => writeln!(f, "sync delay          {s}")?,
            None => writeln!(f, "sync delay          {NO_FIGURE} (no node ever waited)")?,
        }
        writeln!(f, "waiting time        {}", self.waiting_time)?;
        writeln!(f, "response time       {}", self.response_time)?;
        writeln!(
            f,
            "throughput          {} entries per 1000 ticks (run ended at t={})",
            figure(self.throughput_if_any(), 3),
            self.end_time
        )?;
        writeln!(f, "trace digest        {:016x}", self.digest)?;
        // The line names the check already: only what failed follows it ("liveness  deadlock:
        // …", not "liveness  liveness: deadlock: …").
        let outcome = |kinds: &[FailureKind]| match &self.failure {
            Some(x) if kinds == [FailureKind::Liveness] && x.kind == FailureKind::Liveness => {
                x.description.clone()
            }
            _ => self.check(kinds),
        };
        writeln!(f, "safety              {}", self.safety())?;
        writeln!(
            f,
            "liveness            {}",
            outcome(&[FailureKind::Liveness])
        )?;
        if let Some(failure) = &self.failure {
            write!(f, "\n{failure}")?;
        }
        Ok(())
    }
}
