//! Trace files: a whole run as one JSON document that people can read, diff, draw and replay.
//!
//! # Format (version 1)
//!
//! A JSON object: a header, then `"events"`, one event per line so that a trace diffs well and
//! can be edited by hand.
//!
//! ```text
//! {
//!   "format": "dme-trace",            // always this string
//!   "version": 1,                     // this format's version
//!   "source": "simulation",           // or "check": a counterexample of the exhaustive checker
//!   "algorithm": "ricart-agrawala",   // the name `dme --algorithm` takes
//!   "nodes": 3,                       // node ids are 0..nodes
//!   "structure": "",                  // the tree or quorums used, in words ("" when none)
//!   "parameters": { "seed": "1", "tree": "binary" },  // what rebuilds the same cluster
//!   "config": { "seed": 1, "delay": { "constant": 10 }, "fifo": true, "workload": "heavy",
//!               "cs_time": 5, "requests_per_node": 1, "max_time": null,
//!               "full_trace": true, "trace_tail": 40 },   // dme_sim::Config; null for "check"
//!   "seed": 1,                        // config.seed, repeated for people; null for "check"
//!   "digest": "5c0ffee5c0ffee00",     // Report::digest, 16 hex digits; null for "check"
//!   "failure": null,                  // or { "kind": "safety", "description": "...", "time": 57 }
//!   "events": [
//!     {"time":0,"event":"request","node":0},
//!     {"time":0,"event":"send","from":0,"to":1,"message":{"kind":"REQUEST","timestamp":1,"detail":"Request { .. }"},"deliver_at":10},
//!     {"time":10,"event":"deliver","from":0,"to":1,"message":{...},"sent_at":0,"overtook":false},
//!     {"time":20,"event":"enter","node":0},
//!     {"time":25,"event":"exit","node":0}
//!   ]
//! }
//! ```
//!
//! Events are [`TraceEvent`]s in the order they happened. For `"source": "check"` the times are
//! step numbers of the counterexample (step 1 is the first move), not ticks.
//!
//! [`TraceFile::parse`] rejects anything that is not such a document with an error that says
//! what is wrong and where: not JSON, truncated, another format or version, a node outside the
//! cluster, a simulation trace without its configuration.

use std::collections::BTreeMap;
use std::fmt;

use dme_core::{Effect, Node, NodeId, Outbox};
use serde::{Deserialize, Serialize};

use crate::check::{ClusterAction, ClusterState, Counterexample};
use crate::config::Config;
use crate::report::{FailureKind, Report};
use crate::trace::{EventKind, MessageInfo, TraceEvent};

/// The value of the `"format"` field.
pub const FORMAT: &str = "dme-trace";
/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;

/// Where a trace came from.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A simulated run: replayable from its configuration.
    Simulation,
    /// A counterexample of the exhaustive checker: times are step numbers.
    Check,
}

/// The check that failed in the traced run, if one did.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TracedFailure {
    /// Which check.
    pub kind: FailureKind,
    /// What happened, in words.
    pub description: String,
    /// When (a tick for a simulation, a step for a counterexample).
    pub time: u64,
}

/// A trace file (see the [module documentation](self) for the format).
#[derive(Clone, PartialEq, Debug, Serialize, Deserialize)]
pub struct TraceFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version, [`VERSION`].
    pub version: u32,
    /// Simulation or checker counterexample.
    pub source: Source,
    /// The algorithm's command-line name.
    pub algorithm: String,
    /// The number of nodes (ids `0..nodes`).
    pub nodes: usize,
    /// The structure (tree, quorums) in words; empty when the algorithm has none.
    #[serde(default)]
    pub structure: String,
    /// What the tool needs, besides algorithm and size, to build the same cluster again (tree
    /// shape, token holder, structure seed, …), as text.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// The simulator's configuration (`None` for a checker counterexample).
    pub config: Option<Config>,
    /// The run's seed (`config.seed`).
    pub seed: Option<u64>,
    /// [`Report::digest`] as 16 hex digits (`None` for a checker counterexample).
    pub digest: Option<String>,
    /// The failed check, if any.
    pub failure: Option<TracedFailure>,
    /// Every event, in order.
    pub events: Vec<TraceEvent>,
}

/// Why a trace file could not be read.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TraceFileError(pub String);

impl fmt::Display for TraceFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceFileError {}

/// The header fields, in the order they are written.
#[derive(Serialize)]
struct Header<'a> {
    format: &'a str,
    version: u32,
    source: Source,
    algorithm: &'a str,
    nodes: usize,
    structure: &'a str,
    parameters: &'a BTreeMap<String, String>,
    config: &'a Option<Config>,
    seed: Option<u64>,
    digest: &'a Option<String>,
    failure: &'a Option<TracedFailure>,
}

impl TraceFile {
    /// The trace file of a simulated run. `report` must come from a run with
    /// [`Config::full_trace`] set, or the event list is empty.
    pub fn from_report(
        algorithm: &str,
        structure: &str,
        parameters: BTreeMap<String, String>,
        report: &Report,
    ) -> TraceFile {
        TraceFile {
            format: FORMAT.into(),
            version: VERSION,
            source: Source::Simulation,
            algorithm: algorithm.into(),
            nodes: report.nodes,
            structure: structure.into(),
            parameters,
            config: Some(report.config.clone()),
            seed: Some(report.config.seed),
            digest: Some(format!("{:016x}", report.digest)),
            failure: report.failure.as_ref().map(|f| TracedFailure {
                kind: f.kind,
                description: f.description.clone(),
                time: f.time,
            }),
            events: report.trace.clone(),
        }
    }

    /// The trace file of a checker counterexample, its events from
    /// [`counterexample_events`]; `failure` says what was violated.
    pub fn from_counterexample<N: Node>(
        algorithm: &str,
        structure: &str,
        parameters: BTreeMap<String, String>,
        cx: &Counterexample<ClusterAction<N::Message>, ClusterState<N>>,
        failure: TracedFailure,
    ) -> TraceFile {
        TraceFile {
            format: FORMAT.into(),
            version: VERSION,
            source: Source::Check,
            algorithm: algorithm.into(),
            nodes: count(cx.initial.nodes()),
            structure: structure.into(),
            parameters,
            config: None,
            seed: None,
            digest: None,
            failure: Some(failure),
            events: counterexample_events(cx),
        }
    }

    /// The digest as a number, if the file has a well-formed one.
    pub fn digest_value(&self) -> Option<u64> {
        self.digest
            .as_deref()
            .and_then(|d| u64::from_str_radix(d, 16).ok())
    }

    /// The file's text: the header pretty-printed, then one event per line.
    pub fn to_json(&self) -> String {
        let header = Header {
            format: &self.format,
            version: self.version,
            source: self.source,
            algorithm: &self.algorithm,
            nodes: self.nodes,
            structure: &self.structure,
            parameters: &self.parameters,
            config: &self.config,
            seed: self.seed,
            digest: &self.digest,
            failure: &self.failure,
        };
        let head = serde_json::to_string_pretty(&header).expect("a trace header serializes");
        // `head` ends with "\n}"; the events go in before the closing brace.
        let mut text = head[..head.len() - 2].to_string();
        text.push_str(",\n  \"events\": [");
        for (i, event) in self.events.iter().enumerate() {
            text.push_str(if i == 0 { "\n    " } else { ",\n    " });
            text.push_str(&serde_json::to_string(event).expect("a trace event serializes"));
        }
        text.push_str(if self.events.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        text
    }

    /// Reads a trace file, checking that it is one this version understands and that it is
    /// consistent (node ids inside the cluster, the configuration present for a simulation).
    pub fn parse(text: &str) -> Result<TraceFile, TraceFileError> {
        let bad = |why: String| Err(TraceFileError(why));
        if text.trim().is_empty() {
            return bad("the trace file is empty".into());
        }
        // Look at the format first, so that another kind of JSON gets a better message than a
        // missing field.
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str(text) {
            match map.get("format") {
                Some(serde_json::Value::String(f)) if f == FORMAT => {}
                Some(other) => {
                    return bad(format!(
                        "not a dme trace file: \"format\" is {other}, expected \"{FORMAT}\""
                    ));
                }
                None => {
                    return bad(format!(
                        "not a dme trace file: no \"format\": \"{FORMAT}\" field"
                    ));
                }
            }
            if let Some(v) = map.get("version").and_then(serde_json::Value::as_u64) {
                if v != u64::from(VERSION) {
                    return bad(format!(
                        "trace format version {v} is not supported (this dme reads version {VERSION})"
                    ));
                }
            }
        }
        let file: TraceFile = serde_json::from_str(text).map_err(|e| {
            use serde_json::error::Category;
            TraceFileError(match e.classify() {
                Category::Eof => format!(
                    "the trace file is truncated: it ends in the middle of the JSON document (line {}, column {})",
                    e.line(),
                    e.column()
                ),
                Category::Syntax => format!("the trace file is not valid JSON: {e}"),
                Category::Data => format!("the trace file is malformed: {e}"),
                Category::Io => format!("the trace file could not be read: {e}"),
            })
        })?;
        file.validate()?;
        Ok(file)
    }

    fn validate(&self) -> Result<(), TraceFileError> {
        let bad = |why: String| {
            Err(TraceFileError(format!(
                "the trace file is malformed: {why}"
            )))
        };
        if self.nodes == 0 {
            return bad("\"nodes\" is 0".into());
        }
        if self.source == Source::Simulation {
            let Some(config) = &self.config else {
                return bad("a simulation trace needs its \"config\" to be replayed".into());
            };
            if self.seed.is_some_and(|s| s != config.seed) {
                return bad(format!(
                    "\"seed\" is {} but \"config\".\"seed\" is {}",
                    self.seed.unwrap_or(0),
                    config.seed
                ));
            }
            match &self.digest {
                None => return bad("a simulation trace needs its \"digest\"".into()),
                Some(d) if d.len() != 16 || self.digest_value().is_none() => {
                    return bad(format!("\"digest\" {d:?} is not 16 hex digits"));
                }
                Some(_) => {}
            }
        }
        let n = self.nodes;
        for (i, e) in self.events.iter().enumerate() {
            let ids: &[NodeId] = match &e.kind {
                EventKind::Request { node }
                | EventKind::Enter { node }
                | EventKind::Exit { node } => std::slice::from_ref(node),
                EventKind::Send { from, to, .. } | EventKind::Deliver { from, to, .. } => {
                    &[*from, *to]
                }
            };
            if let Some(id) = ids.iter().find(|id| id.index() >= n) {
                return bad(format!(
                    "event {i} names {id}, but the cluster has {n} nodes (n0..n{})",
                    n - 1
                ));
            }
        }
        Ok(())
    }
}

/// Where a replayed run first differs from a recorded one.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Divergence {
    /// The 0-based index, into both event lists, of the first difference.
    pub index: usize,
    /// The recorded event there (`None`: the recording ends before).
    pub recorded: Option<TraceEvent>,
    /// The replayed event there (`None`: the replay ends before).
    pub replayed: Option<TraceEvent>,
}

/// The first index at which two traces differ, if they do.
pub fn first_divergence(recorded: &[TraceEvent], replayed: &[TraceEvent]) -> Option<Divergence> {
    let index = recorded
        .iter()
        .zip(replayed)
        .position(|(a, b)| a != b)
        .or_else(|| {
            (recorded.len() != replayed.len()).then(|| recorded.len().min(replayed.len()))
        })?;
    Some(Divergence {
        index,
        recorded: recorded.get(index).cloned(),
        replayed: replayed.get(index).cloned(),
    })
}

/// How many nodes a state's node list has, whatever collection it comes as.
fn count<'a, N: 'a>(nodes: impl IntoIterator<Item = &'a N>) -> usize {
    nodes.into_iter().count()
}

/// The `k`th node of a state's node list, whatever collection the list comes as.
fn nth<'a, N: 'a>(nodes: impl IntoIterator<Item = &'a N>, k: usize) -> Option<&'a N> {
    nodes.into_iter().nth(k)
}

fn info<M: dme_core::Message>(m: &M) -> MessageInfo {
    MessageInfo {
        kind: m.kind().to_string(),
        timestamp: m.timestamp(),
        detail: format!("{m:?}"),
    }
}

/// A checker counterexample as trace events, so that it can be printed and drawn like a
/// simulated run. Step `k` of the counterexample happens at time `k`; within a step the events
/// come in the simulator's order (the action, then the messages the node sends and its entry).
/// A message still in flight at the end is given `deliver_at` one step after the last.
pub fn counterexample_events<N: Node>(
    cx: &Counterexample<ClusterAction<N::Message>, ClusterState<N>>,
) -> Vec<TraceEvent> {
    let mut events = Vec::new();
    // Messages in flight: (from, to, message, index of its Send event).
    let mut flying: Vec<(NodeId, NodeId, N::Message, usize)> = Vec::new();
    let mut before = &cx.initial;
    let mut out = Outbox::new();
    let failed = match &cx.kind {
        crate::check::ViolationKind::StepFailed(f) => Some(&f.action),
        _ => None,
    };
    let actions = cx
        .steps
        .iter()
        .map(|s| (&s.action, Some(&s.state)))
        .chain(failed.map(|a| (a, None)));
    for (k, (action, after)) in actions.enumerate() {
        let time = k as u64 + 1;
        let actor = match action {
            ClusterAction::Request(id) | ClusterAction::Release(id) => *id,
            ClusterAction::Deliver { to, .. } => *to,
        };
        let Some(node) = nth(before.nodes(), actor.index()) else {
            break;
        };
        let mut node = node.clone();
        out.clear();
        let ok = match action {
            ClusterAction::Request(id) => {
                events.push(TraceEvent {
                    time,
                    kind: EventKind::Request { node: *id },
                });
                node.request(&mut out).is_ok()
            }
            ClusterAction::Release(id) => {
                events.push(TraceEvent {
                    time,
                    kind: EventKind::Exit { node: *id },
                });
                node.release(&mut out).is_ok()
            }
            ClusterAction::Deliver { from, to, msg } => {
                let pos = flying
                    .iter()
                    .position(|(f, t, m, _)| f == from && t == to && m == msg);
                let (sent_at, overtook) = match pos {
                    Some(p) => {
                        let overtook = flying[..p].iter().any(|(f, t, _, _)| f == from && t == to);
                        let (_, _, _, send) = flying.remove(p);
                        if let EventKind::Send { deliver_at, .. } = &mut events[send].kind {
                            *deliver_at = time;
                        }
                        (events[send].time, overtook)
                    }
                    None => (0, false),
                };
                events.push(TraceEvent {
                    time,
                    kind: EventKind::Deliver {
                        from: *from,
                        to: *to,
                        message: info(msg),
                        sent_at,
                        overtook,
                    },
                });
                node.on_message(*from, msg.clone(), &mut out).is_ok()
            }
        };
        if !ok || after.is_none() {
            break;
        }
        for effect in out.drain() {
            match effect {
                Effect::Send { to, msg } => {
                    flying.push((actor, to, msg.clone(), events.len()));
                    events.push(TraceEvent {
                        time,
                        kind: EventKind::Send {
                            from: actor,
                            to,
                            message: info(&msg),
                            deliver_at: 0,
                        },
                    });
                }
                Effect::Enter => events.push(TraceEvent {
                    time,
                    kind: EventKind::Enter { node: actor },
                }),
            }
        }
        if let Some(state) = after {
            before = state;
        }
    }
    let end = events.last().map_or(0, |e| e.time) + 1;
    for (_, _, _, send) in flying {
        if let EventKind::Send { deliver_at, .. } = &mut events[send].kind {
            *deliver_at = end;
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Workload;

    fn sample() -> TraceFile {
        let msg = MessageInfo {
            kind: "REQUEST".into(),
            timestamp: Some(1),
            detail: "Request { ts: 1 }".into(),
        };
        TraceFile {
            format: FORMAT.into(),
            version: VERSION,
            source: Source::Simulation,
            algorithm: "demo".into(),
            nodes: 2,
            structure: String::new(),
            parameters: BTreeMap::from([("seed".to_string(), "3".to_string())]),
            config: Some(Config {
                seed: 3,
                workload: Workload::Light,
                ..Config::default()
            }),
            seed: Some(3),
            digest: Some("00000000000000ff".into()),
            failure: None,
            events: vec![
                TraceEvent {
                    time: 0,
                    kind: EventKind::Request { node: NodeId(0) },
                },
                TraceEvent {
                    time: 0,
                    kind: EventKind::Send {
                        from: NodeId(0),
                        to: NodeId(1),
                        message: msg.clone(),
                        deliver_at: 10,
                    },
                },
                TraceEvent {
                    time: 10,
                    kind: EventKind::Deliver {
                        from: NodeId(0),
                        to: NodeId(1),
                        message: msg,
                        sent_at: 0,
                        overtook: false,
                    },
                },
            ],
        }
    }

    #[test]
    fn a_trace_file_round_trips_with_one_event_per_line() {
        let file = sample();
        let text = file.to_json();
        assert_eq!(TraceFile::parse(&text), Ok(file.clone()));
        let event_lines: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("{\"time\""))
            .collect();
        assert_eq!(event_lines.len(), 3);
        assert!(text.starts_with("{\n  \"format\": \"dme-trace\",\n  \"version\": 1,"));
        assert_eq!(file.digest_value(), Some(255));
        let empty = TraceFile {
            events: Vec::new(),
            ..file
        };
        assert_eq!(TraceFile::parse(&empty.to_json()), Ok(empty));
    }

    #[test]
    fn bad_files_get_errors_that_say_what_is_wrong() {
        let text = sample().to_json();
        let err = |t: &str| TraceFile::parse(t).unwrap_err().0;
        assert!(err("").contains("empty"));
        assert!(err(&text[..text.len() / 2]).contains("truncated"));
        assert!(err("{\"format\": \"dme-trace\", ").contains("truncated"));
        assert!(err("hello").contains("not valid JSON"));
        assert!(err("[1, 2]").contains("malformed"));
        assert!(err("{\"a\": 1}").contains("no \"format\""));
        assert!(err(&text.replace("dme-trace", "other")).contains("\"other\""));
        assert!(err(&text.replace("\"version\": 1", "\"version\": 9")).contains("version 9"));
        assert!(err(&text.replace("\"to\":1", "\"to\":7")).contains("event 1 names n7"));
        assert!(err(&text.replace("00000000000000ff", "xyz")).contains("16 hex digits"));
        assert!(err(&text.replace("\"time\":10", "\"time\":\"10\"")).contains("malformed"));
    }

    #[test]
    fn divergence_is_the_first_differing_index() {
        let a = sample().events;
        assert_eq!(first_divergence(&a, &a), None);
        let mut b = a.clone();
        b.swap(1, 2);
        assert_eq!(first_divergence(&a, &b).map(|d| d.index), Some(1));
        let d = first_divergence(&a, &a[..2]).unwrap();
        assert_eq!((d.index, d.replayed), (2, None));
    }
}
