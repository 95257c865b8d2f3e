//! A seeded, deterministic discrete-event simulator for distributed mutual exclusion, and the
//! checkers that run on it.
//!
//! [`run`] drives any cluster of [`dme_core::Node`]s over a modelled network and returns a
//! [`Report`]: the figures defined in `docs/simulator.md` (messages per entry, by kind;
//! synchronization delay; waiting and response time; throughput) and the outcome of the checks
//! made on every run:
//!
//! * **safety** at every entry: never two nodes in the critical section;
//! * **liveness** at the end: every request granted; a stuck run is reported as a deadlock that
//!   names each waiting node, what it waits for, and a cycle of the wait-for graph;
//! * **order**, for algorithms that promise it ([`Node::GRANTS_IN_STAMP_ORDER`]): no node enters
//!   while a request with a smaller (timestamp, id) stamp waits;
//! * **token**, for token-based algorithms ([`Node::TOKEN_BASED`]): exactly one token, held or in
//!   flight, after every step;
//! * **protocol**: a node that rejects an input as misuse, or sends to itself, is a bug.
//!
//! Time is virtual (integer ticks); events are ordered by (time, sequence number); the only
//! randomness is one `ChaCha8Rng` seeded from [`Config::seed`]. The same nodes and configuration
//! give the same run on every machine, and [`Report::digest`] fingerprints the whole trace.
//!
//! ```
//! use dme_core::{cluster, NodeId};
//! use dme_ricart_agrawala::RicartAgrawala;
//! use dme_sim::{run, Config, Dist, Workload};
//!
//! let nodes = (0..5)
//!     .map(|i| RicartAgrawala::new(NodeId(i), &cluster(5)))
//!     .collect::<Result<Vec<_>, _>>()
//!     .unwrap();
//! let config = Config { workload: Workload::Light, delay: Dist::Constant(10), ..Config::default() };
//! let report = run(nodes, &config).unwrap();
//! assert!(report.is_ok());
//! assert_eq!(report.messages_per_entry(), 8.0); // 2(N−1)
//! assert_eq!(report.waiting_time.mean, 20.0);   // 2T
//! ```
//!
//! [`Node::GRANTS_IN_STAMP_ORDER`]: dme_core::Node::GRANTS_IN_STAMP_ORDER
//! [`Node::TOKEN_BASED`]: dme_core::Node::TOKEN_BASED

/// The node contract, re-exported so that a crate writing its own algorithm and running it
/// here needs only `dme-sim` (and `serde`, for its message type's derive).
pub use dme_core;

pub mod check;
mod config;
mod engine;
pub mod overlink;
mod report;
pub mod trace;
pub mod tracefile;
mod waits;

pub use config::{Config, Dist, MAX_TIME, Scenario, ScriptedRequest, Workload};
pub use engine::{SimError, run};
pub use report::{EntryRecord, Failure, FailureKind, NO_FIGURE, Report, Stats, figure, ratio};
pub use trace::{EventKind, MessageInfo, TraceEvent};
pub use waits::{wait_for_cycle, wait_for_graph};
