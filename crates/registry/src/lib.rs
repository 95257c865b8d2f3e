//! The algorithms dme knows, by name: one list ([`builtin`]) that every tool reads — the CLI,
//! the benches, the sweep, the checker, `dme node` and the tests.
//!
//! Each algorithm describes itself once, next to its code, in a descriptor implementing
//! [`Describe`] (name, aliases, parameters, assumptions, textbook figures, memory per node) and
//! [`Algorithm`] (how to build its nodes). A [`Registry`] is a list of descriptors; a user's
//! crate extends the built-in one with its own algorithm in one call:
//!
//! ```
//! use dme_registry::{ClusterSpec, ClusterVisitor, Registry, builtin};
//! use dme_core::Node;
//!
//! struct Count;
//! impl ClusterVisitor for Count {
//!     type Output = usize;
//!     fn visit<N: Node + Send + 'static>(self, nodes: Vec<N>, _structure: String) -> usize
//!     where
//!         N::Message: Send + 'static,
//!     {
//!         nodes.len()
//!     }
//! }
//!
//! let registry = builtin(); // or builtin().with(MyAlgorithm)
//! assert_eq!(registry.resolve("RA").unwrap(), "ricart-agrawala");
//! let spec = ClusterSpec::new("maekawa", 9).with_param("quorum", "grid");
//! assert_eq!(registry.cluster(&spec, Count).unwrap(), 9);
//! ```
//!
//! # Type erasure
//!
//! The simulator, the checker and the drivers are generic over the node type, so that stepping
//! a node is a direct call and the checker can hash and compare states. A name chosen at run
//! time is turned into a concrete type once per cluster: [`Registry::cluster`] builds the nodes
//! and hands them to a [`ClusterVisitor`], whose generic `visit` is then compiled for every
//! registered node type ([`Registry::node`] and [`NodeVisitor`] do the same for one node).
//! A boxed `dyn Node` would cost a virtual call and a boxed message per step, and would lose
//! `Eq + Hash` on states that the checker needs; the visitor costs nothing per step. A registry
//! is a chain of types ([`With`]), so a registry extended with a user's algorithm still visits
//! its nodes with their own type, and the tools built on it (`dme-cli`) are generic over the
//! registry.
//!
//! # Sizes
//!
//! Before anything is built, [`check_size`] refuses a cluster of fewer than 2 nodes, above the
//! algorithm's own limit ([`Describe::max_nodes`]), above [`MAX_NODES`], or whose memory
//! estimate ([`Describe::memory_per_node`] × N) exceeds the machine's available memory
//! ([`memory_limit`]), with the estimate and the limit in the message.

use std::fmt;

pub use dme_core::describe::{
    Algorithm, Assumptions, Describe, Facts, Figure, Figures, Formula, LoadFigures, NodeLimit,
    Parameter, Params,
};
use dme_core::{Node, NodeId};
use serde::Serialize;

/// The algorithms dme ships, in the order tools list them. **The one list**: adding an
/// algorithm is one line here (and its crate in `Cargo.toml`).
pub fn builtin() -> impl Registry + Clone {
    Empty
        .with(dme_lamport::describe::Classic)
        .with(dme_lamport::describe::SuppressReplies)
        .with(dme_ricart_agrawala::describe::Descriptor)
        .with(dme_maekawa::describe::Descriptor)
        .with(dme_maekawa::describe::NoDeadlockHandling)
        .with(dme_raymond::describe::Descriptor)
        .with(dme_roucairol_carvalho::describe::Descriptor)
        .with(dme_agrawal_el_abbadi::describe::Descriptor)
        .with(dme_suzuki_kasami::describe::Descriptor)
        .with(dme_naimi_trehel::describe::Descriptor)
        .with(dme_lodha_kshemkalyani::describe::Descriptor)
        .with(dme_central::describe::Descriptor)
}

/// The largest cluster any dme tool builds.
pub const MAX_NODES: usize = 1 << 20;

/// Something to do with a freshly built cluster, whatever its node type.
pub trait ClusterVisitor {
    /// What the visit produces.
    type Output;
    /// Receives the nodes (ids `0..n`) and a one-line description of the structure used (quorum
    /// construction, tree; empty when there is none). Every algorithm's nodes and messages are
    /// plain data, hence `Send + 'static`, so they can also be handed to the TCP driver.
    fn visit<N: Node + Send + 'static>(self, nodes: Vec<N>, structure: String) -> Self::Output
    where
        N::Message: Send + 'static;
}

/// Something to do with one node of a cluster, whatever its type.
pub trait NodeVisitor {
    /// What the visit produces.
    type Output;
    /// Receives the node and the cluster's structure in one line (empty when there is none).
    fn visit<N: Node + Send + 'static>(self, node: N, structure: String) -> Self::Output
    where
        N::Message: Send + 'static;
}

/// Something to do with an algorithm's typed descriptor: the most general visit, on which
/// [`Registry::cluster`] and [`Registry::node`] are built.
pub trait Dispatch: Sized {
    /// What it produces.
    type Output;
    /// Receives the descriptor of the algorithm asked for.
    fn apply<A: Algorithm>(self, algorithm: &A) -> Self::Output;
}

/// A list of algorithms, by name.
pub trait Registry: Sync {
    /// Every algorithm, in the order tools list them.
    fn descriptors(&self) -> Vec<&dyn Describe>;

    /// Applies `d` to the algorithm whose canonical name is `name`, or gives `d` back when
    /// there is none.
    fn dispatch<D: Dispatch>(&self, name: &str, d: D) -> Result<D::Output, D>;

    /// This registry with `algorithm` added at the end of the list.
    fn with<A: Algorithm>(self, algorithm: A) -> With<Self, A>
    where
        Self: Sized,
    {
        With {
            base: self,
            algorithm,
        }
    }

    /// The descriptor named `name` (an alias, any case, surrounding spaces ignored).
    fn find(&self, name: &str) -> Result<&dyn Describe, String> {
        find(&self.descriptors(), name)
    }

    /// The canonical name of the algorithm `name` (or alias) names.
    fn resolve(&self, name: &str) -> Result<&'static str, String> {
        self.find(name).map(|d| d.name())
    }

    /// Every canonical name, in order.
    fn names(&self) -> Vec<&'static str> {
        self.descriptors().iter().map(|d| d.name()).collect()
    }

    /// The algorithms that are not named variants of another (what comparisons show by
    /// default), in order.
    fn main_names(&self) -> Vec<&'static str> {
        self.descriptors()
            .iter()
            .filter(|d| d.variant_of().is_none())
            .map(|d| d.name())
            .collect()
    }

    /// Checks the list: every name and alias lower case, without spaces, and used once. Tools
    /// call it once at start.
    fn validate(&self) -> Result<(), String> {
        let mut seen: Vec<&str> = Vec::new();
        for d in self.descriptors() {
            for name in std::iter::once(d.name()).chain(d.aliases().iter().copied()) {
                if name.is_empty() || name != name.to_ascii_lowercase() || name.contains(' ') {
                    return Err(format!(
                        "algorithm name '{name}' must be lower case, without spaces"
                    ));
                }
                if seen.contains(&name) {
                    return Err(format!("two algorithms are named '{name}'"));
                }
                seen.push(name);
            }
        }
        Ok(())
    }

    /// Builds the nodes of `spec` (ids `0..nodes`) and hands them to `visitor`. Errors describe
    /// a cluster that cannot be built: unknown algorithm, too few or too many nodes, more memory
    /// than the machine has, a parameter the algorithm does not have or a bad value.
    fn cluster<V: ClusterVisitor>(
        &self,
        spec: &ClusterSpec,
        visitor: V,
    ) -> Result<V::Output, String> {
        let describe = self.find(spec.algorithm)?;
        check_size(describe, spec.nodes, &spec.params)?;
        struct Build<'a, V>(&'a ClusterSpec, V);
        impl<V: ClusterVisitor> Dispatch for Build<'_, V> {
            type Output = Result<V::Output, String>;
            fn apply<A: Algorithm>(self, a: &A) -> Self::Output {
                let Build(spec, visitor) = self;
                let setup = a.setup(spec.nodes, &spec.params, spec.seed)?;
                let structure = a.structure(&setup);
                let nodes = dme_core::cluster(spec.nodes)
                    .into_iter()
                    .map(|id| a.node(&setup, id))
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(visitor.visit(nodes, structure))
            }
        }
        check_params(describe, &spec.params)?;
        self.dispatch(describe.name(), Build(spec, visitor))
            .unwrap_or_else(|_| Err(format!("unknown algorithm '{}'", spec.algorithm)))
    }

    /// Builds node `id` of the cluster `spec` alone (the structure — quorums, tree — is that of
    /// the whole cluster, so that every process of a real cluster agrees on it) and hands it to
    /// `visitor`.
    fn node<V: NodeVisitor>(
        &self,
        spec: &ClusterSpec,
        id: NodeId,
        visitor: V,
    ) -> Result<V::Output, String> {
        let describe = self.find(spec.algorithm)?;
        check_size(describe, spec.nodes, &spec.params)?;
        if id.index() >= spec.nodes {
            return Err(format!(
                "node {} is not in the cluster (ids 0..{})",
                id.0,
                spec.nodes - 1
            ));
        }
        struct Build<'a, V>(&'a ClusterSpec, NodeId, V);
        impl<V: NodeVisitor> Dispatch for Build<'_, V> {
            type Output = Result<V::Output, String>;
            fn apply<A: Algorithm>(self, a: &A) -> Self::Output {
                let Build(spec, id, visitor) = self;
                let setup = a.setup(spec.nodes, &spec.params, spec.seed)?;
                let structure = a.structure(&setup);
                Ok(visitor.visit(a.node(&setup, id)?, structure))
            }
        }
        check_params(describe, &spec.params)?;
        self.dispatch(describe.name(), Build(spec, id, visitor))
            .unwrap_or_else(|_| Err(format!("unknown algorithm '{}'", spec.algorithm)))
    }
}

/// The descriptor in `descriptors` named `name` (an alias, any case, surrounding spaces
/// ignored), or an error listing the names.
pub fn find<'a>(descriptors: &[&'a dyn Describe], name: &str) -> Result<&'a dyn Describe, String> {
    let wanted = name.trim().to_ascii_lowercase();
    descriptors
        .iter()
        .find(|d| d.name() == wanted || d.aliases().contains(&wanted.as_str()))
        .copied()
        .ok_or_else(|| {
            let names: Vec<&str> = descriptors.iter().map(|d| d.name()).collect();
            format!(
                "unknown algorithm '{name}' (available: {})",
                names.join(", ")
            )
        })
}

/// The empty registry, the start of every list.
#[derive(Clone, Copy, Debug, Default)]
pub struct Empty;

impl Registry for Empty {
    fn descriptors(&self) -> Vec<&dyn Describe> {
        Vec::new()
    }
    fn dispatch<D: Dispatch>(&self, _: &str, d: D) -> Result<D::Output, D> {
        Err(d)
    }
}

/// A registry `base` with `algorithm` added at the end ([`Registry::with`]).
#[derive(Clone, Copy, Debug)]
pub struct With<B, A> {
    base: B,
    algorithm: A,
}

impl<B: Registry, A: Algorithm> Registry for With<B, A> {
    fn descriptors(&self) -> Vec<&dyn Describe> {
        let mut all = self.base.descriptors();
        all.push(&self.algorithm);
        all
    }
    fn dispatch<D: Dispatch>(&self, name: &str, d: D) -> Result<D::Output, D> {
        if self.algorithm.name() == name {
            Ok(d.apply(&self.algorithm))
        } else {
            self.base.dispatch(name, d)
        }
    }
}

/// What a cluster is: the algorithm, its size, its parameters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClusterSpec {
    /// The algorithm's canonical name ([`Registry::resolve`]).
    pub algorithm: &'static str,
    /// Number of nodes (at least 2).
    pub nodes: usize,
    /// The parameters given (the algorithm's defaults fill in the others).
    pub params: Params,
    /// Seed for structures drawn at random (Raymond's random tree).
    pub seed: u64,
}

impl ClusterSpec {
    /// A cluster of `nodes` nodes of `algorithm` with default parameters and seed 0.
    pub fn new(algorithm: &'static str, nodes: usize) -> Self {
        ClusterSpec {
            algorithm,
            nodes,
            params: Params::new(),
            seed: 0,
        }
    }

    /// The same with parameter `name` set to `value`.
    pub fn with_param(mut self, name: &str, value: &str) -> Self {
        self.params.insert(name.to_string(), value.to_string());
        self
    }

    /// The value of every parameter the algorithm declares (given, or its default when it has
    /// one), the way trace files record a cluster.
    pub fn effective_params(&self, describe: &dyn Describe) -> Params {
        describe
            .parameters()
            .iter()
            .filter_map(|p| {
                let value = self
                    .params
                    .get(p.name)
                    .cloned()
                    .or(p.default.map(String::from))?;
                Some((p.name.to_string(), value))
            })
            .collect()
    }

    /// The facts a textbook figure is evaluated from, for a run of this cluster whose requests
    /// were made by `requests` (in the order issued) and granted `entries` times.
    pub fn facts<'a>(&'a self, requests: &'a [NodeId], entries: u64) -> Facts<'a> {
        Facts {
            nodes: self.nodes,
            params: &self.params,
            seed: self.seed,
            requests,
            entries,
        }
    }
}

/// Checks every parameter of `params` against what `describe` declares: an undeclared name or a
/// value its check refuses is an error naming it.
pub fn check_params(describe: &dyn Describe, params: &Params) -> Result<(), String> {
    for (name, value) in params {
        let Some(p) = describe.parameters().iter().find(|p| p.name == name) else {
            return Err(format!(
                "{} has no parameter '{name}' ({})",
                describe.name(),
                parameter_names(describe)
            ));
        };
        (p.check)(value).map_err(|e| format!("invalid {name} '{value}': {e}"))?;
    }
    Ok(())
}

/// `its parameters: quorum` or `it has no parameters`, for messages.
pub fn parameter_names(describe: &dyn Describe) -> String {
    let names: Vec<&str> = describe.parameters().iter().map(|p| p.name).collect();
    if names.is_empty() {
        "it has no parameters".to_string()
    } else {
        format!("its parameters: {}", names.join(", "))
    }
}

/// Splits `params` into those `describe` declares and the names of the others (for tools that
/// apply one set of flags to several algorithms and say which did not apply).
pub fn applicable(describe: &dyn Describe, params: &Params) -> (Params, Vec<String>) {
    let mut kept = Params::new();
    let mut dropped = Vec::new();
    for (name, value) in params {
        if describe.parameters().iter().any(|p| p.name == name) {
            kept.insert(name.clone(), value.clone());
        } else {
            dropped.push(name.clone());
        }
    }
    (kept, dropped)
}

/// A memory limit and where it comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MemoryLimit {
    /// Bytes.
    pub bytes: u64,
    /// Where the figure comes from, for messages.
    pub source: &'static str,
}

/// The memory a cluster may take: `DME_MEMORY_LIMIT` (bytes, or with a K, M, G or T suffix,
/// powers of 1024) if set, else the memory the machine has available (`MemAvailable` in
/// `/proc/meminfo`); `None` where neither is known. A malformed `DME_MEMORY_LIMIT` is an error.
pub fn memory_limit() -> Result<Option<MemoryLimit>, String> {
    if let Ok(text) = std::env::var("DME_MEMORY_LIMIT") {
        return parse_size(&text)
            .map(|bytes| {
                Some(MemoryLimit {
                    bytes,
                    source: "DME_MEMORY_LIMIT",
                })
            })
            .ok_or_else(|| {
                format!("DME_MEMORY_LIMIT={text:?} is not a size (e.g. 8G, 512M, 1000000)")
            });
    }
    let Ok(meminfo) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(None);
    };
    Ok(meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| MemoryLimit {
            bytes: kb.saturating_mul(1024),
            source: "available on this machine",
        }))
}

/// `123`, `64K`, `512M`, `8G`, `1T` (powers of 1024; a trailing `B` or `iB` is allowed).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_uppercase();
    let t = t
        .strip_suffix("IB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(&t);
    let (digits, shift) = match t.chars().last()? {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// `1.5 GB`, `640.0 KB`, `12 B` (powers of 1024).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The estimated memory of a whole cluster of `describe` with `nodes` nodes, in bytes
/// (saturating: a size too large to count is too large to build).
pub fn cluster_memory(describe: &dyn Describe, nodes: usize, params: &Params) -> u64 {
    describe
        .memory_per_node(nodes, params)
        .saturating_mul(nodes as u64)
}

/// Refuses a cluster dme cannot build: fewer than 2 nodes, above the algorithm's limit or
/// [`MAX_NODES`], or an estimated memory above [`memory_limit`].
pub fn check_size(describe: &dyn Describe, nodes: usize, params: &Params) -> Result<(), String> {
    check_size_within(describe, nodes, params, memory_limit()?)
}

/// [`check_size`] against an explicit memory limit (`None`: no memory check).
pub fn check_size_within(
    describe: &dyn Describe,
    nodes: usize,
    params: &Params,
    limit: Option<MemoryLimit>,
) -> Result<(), String> {
    if nodes < 2 {
        return Err(format!(
            "a cluster needs at least 2 nodes, got {nodes} (mutual exclusion among fewer is trivial)"
        ));
    }
    if let Some(l) = describe.max_nodes()
        && nodes > l.max
    {
        return Err(format!(
            "{} {}: at most {} nodes (got {nodes})",
            describe.name(),
            l.why,
            l.max
        ));
    }
    if nodes > MAX_NODES {
        return Err(format!(
            "{nodes} nodes is more than dme supports (at most {MAX_NODES})"
        ));
    }
    if let Some(limit) = limit {
        let need = cluster_memory(describe, nodes, params);
        if need > limit.bytes {
            return Err(format!(
                "{} with {nodes} nodes needs about {} of memory ({} per node, estimated), more \
                 than the {} {} (set DME_MEMORY_LIMIT to change the limit)",
                describe.name(),
                format_bytes(need),
                format_bytes(describe.memory_per_node(nodes, params)),
                format_bytes(limit.bytes),
                limit.source
            ));
        }
    }
    Ok(())
}

/// Everything a descriptor says, as `dme algorithms` lists it (text with `Display`, JSON
/// with serde).
#[derive(Clone, Debug, Serialize)]
pub struct Listing {
    /// The name.
    pub name: &'static str,
    /// Other names accepted.
    pub aliases: &'static [&'static str],
    /// One line.
    pub summary: &'static str,
    /// The algorithm this is a variant of.
    pub variant_of: Option<&'static str>,
    /// Its parameters.
    pub parameters: &'static [Parameter],
    /// What it assumes.
    pub assumptions: Assumptions,
    /// Its textbook figures.
    pub figures: Figures,
    /// Its hard size limit, if any.
    pub max_nodes: Option<NodeLimit>,
    /// Estimated bytes per node at a few sizes: `(N, bytes)`.
    pub memory_per_node: Vec<(usize, u64)>,
}

impl Listing {
    /// The listing of `describe`.
    pub fn of(describe: &dyn Describe) -> Listing {
        let params = Params::new();
        Listing {
            name: describe.name(),
            aliases: describe.aliases(),
            summary: describe.summary(),
            variant_of: describe.variant_of(),
            parameters: describe.parameters(),
            assumptions: describe.assumptions(),
            figures: describe.figures(),
            max_nodes: describe.max_nodes(),
            memory_per_node: [16, 1024, 65536]
                .iter()
                .map(|&n| (n, describe.memory_per_node(n, &params)))
                .collect(),
        }
    }
}

impl fmt::Display for Listing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if !self.aliases.is_empty() {
            write!(f, " (also {})", self.aliases.join(", "))?;
        }
        if let Some(v) = self.variant_of {
            write!(f, " — a variant of {v}")?;
        }
        writeln!(f)?;
        writeln!(f, "  {}", self.summary)?;
        for p in self.parameters {
            let default = p
                .default
                .map_or(String::new(), |d| format!(" [default: {d}]"));
            writeln!(f, "  --{:<10} {}{default}", p.name, p.help)?;
        }
        let a = &self.assumptions;
        let yes_no = |b: bool, yes: &'static str, no: &'static str| if b { yes } else { no };
        writeln!(
            f,
            "  assumes     {}, {}; {} crash{} tolerated",
            yes_no(a.fifo, "FIFO channels", "any message order"),
            yes_no(a.reliable_channels, "reliable channels", "lossy channels"),
            a.crashes_tolerated,
            if a.crashes_tolerated == 1 { "" } else { "es" }
        )?;
        writeln!(
            f,
            "  promises    {}{}{}",
            yes_no(a.deadlock_free, "no deadlock", "CAN DEADLOCK"),
            yes_no(a.token_based, ", a unique token", ""),
            yes_no(a.grants_in_stamp_order, ", grants in stamp order", "")
        )?;
        for (load, figures) in [
            ("light", &self.figures.light),
            ("heavy", &self.figures.heavy),
        ] {
            writeln!(
                f,
                "  {load} load  messages/entry {} ({}), sync delay {} ({})",
                figures.messages_per_entry.text(),
                figures.messages_per_entry.kind(),
                figures.sync_delay.text(),
                figures.sync_delay.kind()
            )?;
        }
        let memory: Vec<String> = self
            .memory_per_node
            .iter()
            .map(|&(n, b)| format!("{} at N={n}", format_bytes(b)))
            .collect();
        write!(f, "  memory      per node about {}", memory.join(", "))?;
        if let Some(l) = self.max_nodes {
            write!(f, "; at most {} nodes ({})", l.max, l.why)?;
        }
        writeln!(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks what a descriptor says against its node type, and that a node built alone is
    /// the same as the one built with its cluster.
    struct Consistent<'a>(&'a ClusterSpec);

    impl Dispatch for Consistent<'_> {
        type Output = ();
        fn apply<A: Algorithm>(self, a: &A) {
            let spec = self.0;
            let assumptions = a.assumptions();
            assert_eq!(
                assumptions.token_based,
                <A::Node as Node>::TOKEN_BASED,
                "{}",
                a.name()
            );
            assert_eq!(
                assumptions.grants_in_stamp_order,
                <A::Node as Node>::GRANTS_IN_STAMP_ORDER,
                "{}",
                a.name()
            );
            let setup = a.setup(spec.nodes, &spec.params, spec.seed).unwrap();
            for id in dme_core::cluster(spec.nodes) {
                let node = a.node(&setup, id).unwrap();
                assert_eq!(node.id(), id);
            }
        }
    }

    struct Nodes;
    impl ClusterVisitor for Nodes {
        type Output = Vec<String>;
        fn visit<N: Node + Send + 'static>(self, nodes: Vec<N>, structure: String) -> Vec<String>
        where
            N::Message: Send + 'static,
        {
            let mut v: Vec<String> = nodes.iter().map(|n| format!("{n:?}")).collect();
            v.push(structure);
            v
        }
    }
    struct One;
    impl NodeVisitor for One {
        type Output = (String, String);
        fn visit<N: Node + Send + 'static>(self, node: N, structure: String) -> (String, String)
        where
            N::Message: Send + 'static,
        {
            (format!("{node:?}"), structure)
        }
    }

    #[test]
    fn every_builtin_is_consistent_and_builds_one_node_like_the_cluster() {
        let registry = builtin();
        registry.validate().unwrap();
        // The first six, in the order tools have always listed them; later ones follow.
        let names = registry.names();
        assert!(
            names.starts_with(&[
                "lamport",
                "lamport-suppress-replies",
                "ricart-agrawala",
                "maekawa",
                "maekawa-no-deadlock-handling",
                "raymond"
            ]),
            "{names:?}"
        );
        let main = registry.main_names();
        assert!(
            main.starts_with(&["lamport", "ricart-agrawala", "maekawa", "raymond"]),
            "{main:?}"
        );
        for variant in ["lamport-suppress-replies", "maekawa-no-deadlock-handling"] {
            assert!(names.contains(&variant) && !main.contains(&variant));
        }
        for name in registry.names() {
            let spec = ClusterSpec::new(name, 7);
            registry
                .dispatch(name, Consistent(&spec))
                .unwrap_or_else(|_| panic!("{name} dispatches"));
            let all = registry.cluster(&spec, Nodes).unwrap();
            for id in 0..7u32 {
                let (node, structure) = registry.node(&spec, NodeId(id), One).unwrap();
                assert_eq!(node, all[id as usize], "{name} node {id}");
                assert_eq!(&structure, all.last().unwrap());
            }
            assert!(registry.node(&spec, NodeId(7), One).is_err());
        }
    }

    #[test]
    fn names_aliases_and_unknown_names() {
        let registry = builtin();
        for alias in [
            "ra",
            "RA",
            " ricart_agrawala ",
            "ricartagrawala",
            "ricart-agrawala",
        ] {
            assert_eq!(registry.resolve(alias).unwrap(), "ricart-agrawala");
        }
        let err = registry.resolve("paxos").unwrap_err();
        assert!(err.starts_with("unknown algorithm 'paxos' (available: lamport, "));
        let doubled = builtin().with(dme_lamport::describe::Classic);
        assert_eq!(
            doubled.validate().unwrap_err(),
            "two algorithms are named 'lamport'"
        );
    }

    #[test]
    fn parameters_are_checked_by_their_algorithm() {
        let registry = builtin();
        let spec = ClusterSpec::new("maekawa", 9).with_param("quorum", "grid");
        let structure = registry.cluster(&spec, Nodes).unwrap().pop().unwrap();
        assert_eq!(structure, "grid 3x3 quorums, K = 5");
        let bad = ClusterSpec::new("maekawa", 9).with_param("quorum", "cube");
        let err = registry.cluster(&bad, Nodes).unwrap_err();
        assert!(
            err.starts_with("invalid quorum 'cube': unknown quorum construction"),
            "{err}"
        );
        let foreign = ClusterSpec::new("lamport", 3).with_param("quorum", "grid");
        assert_eq!(
            registry.cluster(&foreign, Nodes).unwrap_err(),
            "lamport has no parameter 'quorum' (it has no parameters)"
        );
        let holder = ClusterSpec::new("raymond", 4).with_param("holder", "7");
        assert_eq!(
            registry.cluster(&holder, Nodes).unwrap_err(),
            "token holder 7 is not a node of the cluster (0..3)"
        );
        let (kept, dropped) = applicable(
            registry.find("raymond").unwrap(),
            &ClusterSpec::new("raymond", 4)
                .with_param("quorum", "grid")
                .with_param("tree", "star")
                .params,
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(dropped, ["quorum"]);
        let effective =
            ClusterSpec::new("raymond", 4).effective_params(registry.find("raymond").unwrap());
        assert_eq!(effective.get("tree").map(String::as_str), Some("binary"));
        assert_eq!(effective.get("holder"), None);
    }

    #[test]
    fn sizes_beyond_limits_or_memory_are_refused() {
        let registry = builtin();
        let ra = registry.find("ra").unwrap();
        let none = Params::new();
        assert_eq!(
            check_size_within(ra, 5000, &none, None).unwrap_err(),
            "ricart-agrawala keeps state about every peer in every node: at most 4096 nodes (got 5000)"
        );
        assert!(
            check_size_within(ra, 1, &none, None)
                .unwrap_err()
                .contains("at least 2 nodes")
        );
        let raymond = registry.find("raymond").unwrap();
        assert!(check_size_within(raymond, 1 << 20, &none, None).is_ok());
        assert!(check_size_within(raymond, (1 << 20) + 1, &none, None).is_err());
        let maekawa = registry.find("maekawa").unwrap();
        let sixteen_gb = MemoryLimit {
            bytes: 16 << 30,
            source: "available on this machine",
        };
        // Every node keeps the member list: 4N bytes each, N² in all.
        let err = check_size_within(maekawa, 100_000, &none, Some(sixteen_gb)).unwrap_err();
        assert!(
            err.starts_with("maekawa with 100000 nodes needs about 43.4 GB of memory"),
            "{err}"
        );
        assert!(
            err.contains("more than the 16.0 GB available on this machine"),
            "{err}"
        );
        assert!(check_size_within(maekawa, 10_000, &none, Some(sixteen_gb)).is_ok());
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("512 MiB"), Some(512 << 20));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("99999999999T"), None);
        assert_eq!(format_bytes(12), "12 B");
        assert_eq!(format_bytes(3 << 29), "1.5 GB");
    }

    #[test]
    fn listings_show_every_figure() {
        let registry = builtin();
        let text = Listing::of(registry.find("maekawa").unwrap()).to_string();
        assert!(text.contains("--quorum"), "{text}");
        assert!(
            text.contains(
                "heavy load  messages/entry 3(K-1)..5(K-1) (range), sync delay T..2T (range)"
            ),
            "{text}"
        );
        let json = serde_json::to_value(Listing::of(registry.find("raymond").unwrap())).unwrap();
        assert_eq!(json["assumptions"]["token_based"], true);
        assert_eq!(
            json["figures"]["light"]["messages_per_entry"]["kind"],
            "exact"
        );
        assert_eq!(json["parameters"][1]["name"], "holder");
    }
}
