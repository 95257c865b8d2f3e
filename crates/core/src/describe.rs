//! How an algorithm describes itself to the tools: one descriptor per algorithm (or named
//! variant), written once next to the algorithm and read by every tool through the registry
//! (`dme-registry`).
//!
//! A descriptor has two halves:
//!
//! * [`Describe`], what the algorithm *is*: its name and aliases, a one-line summary, the
//!   parameters it accepts, what it assumes of the network ([`Assumptions`]), its textbook
//!   figures ([`Figures`]) and its memory per node. This half is object-safe, so tools can list
//!   and compare algorithms without knowing their node types.
//! * [`Algorithm`], how to *build* it: the parameters parsed and validated once for a cluster
//!   ([`Algorithm::setup`]), then any single node by id ([`Algorithm::node`]).
//!
//! Every figure must be given: [`Figures`] has no default and [`Figure`] no catch-all, so a
//! descriptor without its light- and heavy-load messages per entry and synchronization delays
//! does not compile. A figure that means nothing (the synchronization delay at light load, when
//! nobody waits) says so with [`Figure::NotApplicable`] and a reason.
//!
//! ```
//! use dme_core::describe::{Facts, Figure, Formula};
//! use dme_core::NodeId;
//!
//! // Ricart–Agrawala's 2(N−1) messages per entry, evaluated for a run of 5 nodes.
//! let figure = Figure::Exact(Formula { text: "2(N-1)", value: |f| Some(2.0 * (f.nodes as f64 - 1.0)) });
//! let params = Default::default();
//! let facts = Facts { nodes: 5, params: &params, seed: 0, requests: &[NodeId(0)], entries: 1 };
//! assert_eq!(figure.value(&facts), Some(8.0));
//! assert_eq!(figure.text(), "2(N-1)");
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::{Node, NodeId};

/// Parameter values as given by the user (`--quorum grid` is `"quorum" → "grid"`), by name.
/// Parameters not given are absent; the algorithm applies its own defaults.
pub type Params = BTreeMap<String, String>;

/// A parameter an algorithm accepts (the CLI flag `--NAME VALUE` or `--param NAME=VALUE`).
#[derive(Clone, Copy, Debug)]
pub struct Parameter {
    /// The name (`quorum`, `tree`, `holder`, …).
    pub name: &'static str,
    /// What it means and which values it takes, in one line.
    pub help: &'static str,
    /// The value used when it is not given (`None`: the help says what happens then).
    pub default: Option<&'static str>,
    /// Checks one value, before anything is built; the error says what is accepted.
    pub check: fn(&str) -> Result<(), String>,
}

impl Serialize for Parameter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Parameter", 3)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("help", self.help)?;
        st.serialize_field("default", &self.default)?;
        st.end()
    }
}

/// What an algorithm assumes of its network and promises about its grants.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize)]
pub struct Assumptions {
    /// It needs FIFO channels between each pair of nodes (the exhaustive checker finds a
    /// violation without them).
    pub fifo: bool,
    /// It needs reliable channels: every message delivered exactly once.
    pub reliable_channels: bool,
    /// It circulates a unique token (must equal [`Node::TOKEN_BASED`]).
    pub token_based: bool,
    /// It grants concurrent requests in [`Stamp`](crate::Stamp) order (must equal
    /// [`Node::GRANTS_IN_STAMP_ORDER`]).
    pub grants_in_stamp_order: bool,
    /// It never deadlocks (a variant shown for what goes wrong without its deadlock handling
    /// says `false`).
    pub deadlock_free: bool,
    /// How many crashed nodes it tolerates (0: one crash can block the others forever).
    pub crashes_tolerated: u32,
}

/// What a figure is evaluated from: the cluster and the run.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// Number of nodes.
    pub nodes: usize,
    /// The cluster's parameters as given (defaults not filled in).
    pub params: &'a Params,
    /// The seed of structures drawn at random.
    pub seed: u64,
    /// The nodes that requested the critical section, one per request, in the order the
    /// requests were issued (at light load, the order of the entries).
    pub requests: &'a [NodeId],
    /// The critical-section entries of the run (the requests granted).
    pub entries: u64,
}

/// A formula of the textbook: its text and, where it gives a number for a run, the number.
#[derive(Clone, Copy)]
pub struct Formula {
    /// The formula as reports show it (`3(N-1)`, `2*mean dist`, `T`).
    pub text: &'static str,
    /// Its value for a run (`None`: the formula has no number for it, e.g. no entries, or it
    /// is only stated in words). Messages per entry are per entry of the run; delays are in
    /// units of the message delay T.
    pub value: fn(&Facts<'_>) -> Option<f64>,
}

impl fmt::Debug for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text)
    }
}

impl Formula {
    /// A formula with no number, only words.
    pub const fn words(text: &'static str) -> Formula {
        Formula {
            text,
            value: |_| None,
        }
    }
}

/// One textbook figure.
#[derive(Clone, Copy, Debug)]
pub enum Figure {
    /// The formula is exact: a correct implementation measures exactly its value (in a run
    /// where every check holds).
    Exact(Formula),
    /// The measurement lies between two formulas.
    Range {
        /// The lower bound.
        low: Formula,
        /// The upper bound.
        high: Formula,
    },
    /// The formula is an estimate (an average over runs, an approximation).
    Estimate(Formula),
    /// The figure means nothing here; the text says why.
    NotApplicable(&'static str),
}

impl Figure {
    /// The figure as reports show it: the formula, `LOW..HIGH` for a range, the reason when
    /// it does not apply.
    pub fn text(&self) -> String {
        match self {
            Figure::Exact(f) | Figure::Estimate(f) => f.text.to_string(),
            Figure::Range { low, high } => format!("{}..{}", low.text, high.text),
            Figure::NotApplicable(why) => format!("n/a ({why})"),
        }
    }

    /// The value of an exact figure or an estimate for a run (`None` for a range and for a
    /// figure that does not apply).
    pub fn value(&self, facts: &Facts<'_>) -> Option<f64> {
        match self {
            Figure::Exact(f) | Figure::Estimate(f) => (f.value)(facts),
            Figure::Range { .. } | Figure::NotApplicable(_) => None,
        }
    }

    /// The bounds of a range for a run (`None` unless both bounds have a number).
    pub fn range(&self, facts: &Facts<'_>) -> Option<(f64, f64)> {
        match self {
            Figure::Range { low, high } => Some(((low.value)(facts)?, (high.value)(facts)?)),
            _ => None,
        }
    }

    /// `"exact"`, `"range"`, `"estimate"` or `"not applicable"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Figure::Exact(_) => "exact",
            Figure::Range { .. } => "range",
            Figure::Estimate(_) => "estimate",
            Figure::NotApplicable(_) => "not applicable",
        }
    }
}

impl Serialize for Figure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Figure", 2)?;
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("formula", &self.text())?;
        st.end()
    }
}

/// The figures at one load.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct LoadFigures {
    /// Network messages per critical-section entry.
    pub messages_per_entry: Figure,
    /// Synchronization delay (one node leaves, the next enters), in units of T.
    pub sync_delay: Figure,
}

/// The textbook figures: at light load (one request at a time in the whole cluster) and at
/// heavy load (every node always requesting). Runs under any other load are compared with the
/// heavy-load figures, except estimates, which hold at heavy load only.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Figures {
    /// One request at a time.
    pub light: LoadFigures,
    /// Every node always requesting.
    pub heavy: LoadFigures,
}

/// A hard limit on the cluster size, with the reason.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct NodeLimit {
    /// The largest cluster accepted.
    pub max: usize,
    /// Why, completing "NAME …: at most MAX nodes" (`keeps state about every peer in every
    /// node`).
    pub why: &'static str,
}

/// What an algorithm is: everything the tools show and check without building a node.
pub trait Describe: Send + Sync {
    /// The name used on the command line and in reports (lower case, `-` between words).
    fn name(&self) -> &'static str;

    /// Other names accepted on the command line.
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }

    /// One line saying what it is (paper, year, idea).
    fn summary(&self) -> &'static str;

    /// For a named variant of another algorithm, that algorithm's name (variants are left out
    /// of default comparisons).
    fn variant_of(&self) -> Option<&'static str> {
        None
    }

    /// The parameters it accepts.
    fn parameters(&self) -> &'static [Parameter] {
        &[]
    }

    /// What it assumes and promises.
    fn assumptions(&self) -> Assumptions;

    /// Its textbook figures.
    fn figures(&self) -> Figures;

    /// An upper estimate of the memory of one node, in bytes, averaged over the nodes of a
    /// cluster of `nodes` (state, queues at their largest, its share of the cluster's
    /// structure), so that a tool can refuse a cluster that will not fit in memory.
    fn memory_per_node(&self, nodes: usize, params: &Params) -> u64;

    /// A hard limit on the cluster size, if the algorithm has one besides memory.
    fn max_nodes(&self) -> Option<NodeLimit> {
        None
    }
}

/// How to build an algorithm's nodes.
pub trait Algorithm: Describe {
    /// The node type. Nodes and messages are plain data, hence `Send + 'static`, so any
    /// driver (the TCP one included) can run them.
    type Node: Node<Message: Send + 'static> + Send + 'static;

    /// The parameters parsed and validated for one cluster, with whatever structure the
    /// nodes share (quorums, a tree), computed once.
    type Setup;

    /// Parses and validates `params` for a cluster of `nodes` nodes (ids `0..nodes`); `seed`
    /// draws any random structure. The error is a sentence for the user.
    fn setup(&self, nodes: usize, params: &Params, seed: u64) -> Result<Self::Setup, String>;

    /// The structure in one line for reports (`grid quorums, K = 5`); empty when there is none.
    fn structure(&self, _setup: &Self::Setup) -> String {
        String::new()
    }

    /// Node `id` of the cluster.
    fn node(&self, setup: &Self::Setup, id: NodeId) -> Result<Self::Node, String>;
}

/// A parameter value or its default: `params[name]`, else `default`.
pub fn param<'a>(params: &'a Params, name: &str, default: &'a str) -> &'a str {
    params.get(name).map_or(default, String::as_str)
}

/// `count` over a run, per entry (`None` without entries): how per-run figures are computed,
/// as the simulator computes messages per entry, so that equal counts give equal values.
pub fn per_entry(count: usize, facts: &Facts<'_>) -> Option<f64> {
    (facts.entries > 0).then(|| count as f64 / facts.entries as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_evaluate_and_print() {
        let params = Params::new();
        let requests = [NodeId(1), NodeId(2)];
        let facts = Facts {
            nodes: 4,
            params: &params,
            seed: 0,
            requests: &requests,
            entries: 2,
        };
        let range = Figure::Range {
            low: Formula {
                text: "3(K-1)",
                value: |f| per_entry(3 * f.requests.len(), f),
            },
            high: Formula {
                text: "5(K-1)",
                value: |f| per_entry(5 * f.requests.len(), f),
            },
        };
        assert_eq!(range.text(), "3(K-1)..5(K-1)");
        assert_eq!(range.range(&facts), Some((3.0, 5.0)));
        assert_eq!(range.value(&facts), None);
        let words = Figure::Range {
            low: Formula::words("2(N-1)"),
            high: Formula::words("3(N-1)"),
        };
        assert_eq!(words.range(&facts), None);
        assert_eq!(
            Figure::NotApplicable("nobody waits").text(),
            "n/a (nobody waits)"
        );
        let none = Facts {
            entries: 0,
            ..facts
        };
        assert_eq!(per_entry(3, &none), None);
    }
}
