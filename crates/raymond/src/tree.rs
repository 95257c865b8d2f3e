//! Spanning trees over the members `0..n` of a cluster, for Raymond's algorithm and on their own.
//!
//! A [`Tree`] is an undirected tree on the nodes `NodeId(0)..NodeId(n)`, stored as a petgraph
//! [`UnGraph`] whose node index `i` is `NodeId(i)`. It is rooted at `NodeId(0)` for the
//! [`parent`](Tree::parent) / [`depth`](Tree::depth) queries; [`distance`](Tree::distance) and
//! [`next_hop`](Tree::next_hop) do not depend on the root.
//!
//! Builders: [`Tree::star`], [`Tree::line`], [`Tree::kary`] (balanced, level by level),
//! [`Tree::binary`], [`Tree::random`] (a random spanning tree of a random connected graph, drawn
//! from a seed) and [`Tree::from_edges`]. [`TreeShape`] names a builder and parses from the
//! strings `star`, `line`, `binary`, `kary:K` and `random`.
//!
//! ```
//! use dme_core::NodeId;
//! use dme_raymond::{Tree, TreeShape};
//!
//! let tree = Tree::binary(7).unwrap(); //        0
//! assert_eq!(tree.parent(NodeId(4)), Some(NodeId(1))); //   1       2
//! assert_eq!(tree.distance(NodeId(3), NodeId(6)), 4); // 3   4   5   6
//! assert_eq!(tree.next_hop(NodeId(3), NodeId(6)), Some(NodeId(1)));
//!
//! let shape: TreeShape = "kary:3".parse().unwrap();
//! assert_eq!(shape, TreeShape::Kary(3));
//! assert_eq!(shape.build(13, 0).unwrap().height(), 2);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use dme_core::{Error, NodeId};
use petgraph::algo::{is_cyclic_undirected, min_spanning_tree};
use petgraph::data::Element;
use petgraph::graph::{NodeIndex, UnGraph};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// An undirected spanning tree over the nodes `NodeId(0)..NodeId(n)`, `n ≥ 1`, rooted at
/// `NodeId(0)`.
#[derive(Clone, Debug)]
pub struct Tree {
    graph: UnGraph<(), ()>,
    /// `neighbours[i]`: the neighbours of node `i`, sorted.
    neighbours: Vec<Vec<NodeId>>,
    /// `parent[i]`: the neighbour of node `i` towards the root (`None` for the root).
    parent: Vec<Option<NodeId>>,
    /// `depth[i]`: the number of edges between node `i` and the root.
    depth: Vec<usize>,
}

impl PartialEq for Tree {
    fn eq(&self, other: &Self) -> bool {
        self.neighbours == other.neighbours
    }
}

impl Eq for Tree {}

impl Tree {
    /// The tree on `n` nodes with the given edges. Fails unless `n ≥ 1`, every edge joins two
    /// distinct nodes below `n`, no edge is listed twice, and the edges connect all nodes
    /// without a cycle (so there are exactly `n − 1` of them).
    pub fn from_edges(n: usize, edges: &[(NodeId, NodeId)]) -> Result<Tree, Error> {
        if n == 0 {
            return Err(Error::InvalidCluster(
                "a tree needs at least one node".into(),
            ));
        }
        if u32::try_from(n).is_err() {
            return Err(Error::InvalidCluster(format!("{n} nodes is too many")));
        }
        if edges.len() != n - 1 {
            return Err(Error::InvalidCluster(format!(
                "a tree on {n} nodes has {} edges, not {}",
                n - 1,
                edges.len()
            )));
        }
        let mut graph = UnGraph::<(), ()>::with_capacity(n, n - 1);
        for _ in 0..n {
            graph.add_node(());
        }
        for &(a, b) in edges {
            if a.index() >= n || b.index() >= n {
                return Err(Error::InvalidCluster(format!(
                    "edge {a}–{b} names a node outside 0..{n}"
                )));
            }
            if a == b {
                return Err(Error::InvalidCluster(format!("edge {a}–{b} is a loop")));
            }
            let (ia, ib) = (NodeIndex::new(a.index()), NodeIndex::new(b.index()));
            if graph.find_edge(ia, ib).is_some() {
                return Err(Error::InvalidCluster(format!("edge {a}–{b} listed twice")));
            }
            graph.add_edge(ia, ib, ());
        }
        // n − 1 edges and no cycle ⇔ connected and acyclic.
        if is_cyclic_undirected(&graph) {
            return Err(Error::InvalidCluster(
                "the edges contain a cycle (so they do not connect every node)".into(),
            ));
        }
        Ok(Tree::from_graph(graph))
    }

    /// Builds the lookup tables from a graph known to be a tree on `0..n`.
    fn from_graph(graph: UnGraph<(), ()>) -> Tree {
        let n = graph.node_count();
        let mut neighbours: Vec<Vec<NodeId>> = (0..n)
            .map(|i| {
                let mut ns: Vec<NodeId> = graph
                    .neighbors(NodeIndex::new(i))
                    .map(|j| NodeId(j.index() as u32))
                    .collect();
                ns.sort_unstable();
                ns
            })
            .collect();
        neighbours.shrink_to_fit();
        let mut parent = vec![None; n];
        let mut depth = vec![0; n];
        let mut seen = vec![false; n];
        let mut queue = VecDeque::from([0usize]);
        seen[0] = true;
        while let Some(u) = queue.pop_front() {
            for &v in &neighbours[u] {
                if !seen[v.index()] {
                    seen[v.index()] = true;
                    parent[v.index()] = Some(NodeId(u as u32));
                    depth[v.index()] = depth[u] + 1;
                    queue.push_back(v.index());
                }
            }
        }
        Tree {
            graph,
            neighbours,
            parent,
            depth,
        }
    }

    /// The tree in which node `i > 0` has parent `parent_of(i) < i`.
    fn from_parent_fn(n: usize, parent_of: impl Fn(usize) -> usize) -> Result<Tree, Error> {
        let edges: Vec<(NodeId, NodeId)> = (1..n)
            .map(|i| (NodeId(parent_of(i) as u32), NodeId(i as u32)))
            .collect();
        Tree::from_edges(n, &edges)
    }

    /// The star: node 0 in the centre, every other node a leaf attached to it.
    pub fn star(n: usize) -> Result<Tree, Error> {
        Tree::from_parent_fn(n, |_| 0)
    }

    /// The line (chain) `0 – 1 – 2 – … – n−1`.
    pub fn line(n: usize) -> Result<Tree, Error> {
        Tree::from_parent_fn(n, |i| i - 1)
    }

    /// The balanced `k`-ary tree filled level by level: node `i > 0` has parent `(i − 1) / k`.
    /// `k = 1` is the line. Fails for `k = 0`.
    pub fn kary(n: usize, k: usize) -> Result<Tree, Error> {
        if k == 0 {
            return Err(Error::InvalidCluster("a k-ary tree needs k ≥ 1".into()));
        }
        Tree::from_parent_fn(n, |i| (i - 1) / k)
    }

    /// The balanced binary tree: [`kary`](Tree::kary) with `k = 2`.
    pub fn binary(n: usize) -> Result<Tree, Error> {
        Tree::kary(n, 2)
    }

    /// A random spanning tree of a random connected graph, both drawn from `seed`
    /// (`ChaCha8Rng::seed_from_u64`, so the same seed gives the same tree everywhere).
    ///
    /// The graph joins the nodes, in a random order, each to a random earlier one (so it is
    /// connected), then adds up to `n` random extra edges; the tree is its minimum spanning tree
    /// under random edge weights (Kruskal, petgraph's `min_spanning_tree`).
    pub fn random(n: usize, seed: u64) -> Result<Tree, Error> {
        if n == 0 {
            return Err(Error::InvalidCluster(
                "a tree needs at least one node".into(),
            ));
        }
        if u32::try_from(n).is_err() {
            return Err(Error::InvalidCluster(format!("{n} nodes is too many")));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let mut graph = UnGraph::<(), u64>::with_capacity(n, 2 * n);
        for _ in 0..n {
            graph.add_node(());
        }
        for pos in 1..n {
            let earlier = order[rng.random_range(0..pos)];
            let weight = rng.random::<u64>();
            graph.add_edge(NodeIndex::new(order[pos]), NodeIndex::new(earlier), weight);
        }
        if n > 2 {
            for _ in 0..n {
                let a = NodeIndex::new(rng.random_range(0..n));
                let b = NodeIndex::new(rng.random_range(0..n));
                let weight = rng.random::<u64>();
                if a != b && graph.find_edge(a, b).is_none() {
                    graph.add_edge(a, b, weight);
                }
            }
        }
        let edges: Vec<(NodeId, NodeId)> = min_spanning_tree(&graph)
            .filter_map(|element| match element {
                Element::Edge { source, target, .. } => {
                    Some((NodeId(source as u32), NodeId(target as u32)))
                }
                Element::Node { .. } => None,
            })
            .collect();
        Tree::from_edges(n, &edges)
    }

    /// The number of nodes (at least 1).
    pub fn node_count(&self) -> usize {
        self.neighbours.len()
    }

    /// The nodes `NodeId(0)..NodeId(n)`.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.node_count() as u32).map(NodeId)
    }

    /// Whether `id` is a node of the tree.
    pub fn contains(&self, id: NodeId) -> bool {
        id.index() < self.node_count()
    }

    /// The root, `NodeId(0)`: the default initial token holder.
    pub fn root(&self) -> NodeId {
        NodeId(0)
    }

    /// The neighbours of `id`, sorted (empty for a node not in the tree).
    pub fn neighbours(&self, id: NodeId) -> &[NodeId] {
        self.neighbours.get(id.index()).map_or(&[], Vec::as_slice)
    }

    /// The neighbour of `id` towards the root (`None` for the root or a node not in the tree).
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.parent.get(id.index()).copied().flatten()
    }

    /// The neighbours of `id` away from the root, sorted.
    pub fn children(&self, id: NodeId) -> Vec<NodeId> {
        let parent = self.parent(id);
        self.neighbours(id)
            .iter()
            .copied()
            .filter(|&n| Some(n) != parent)
            .collect()
    }

    /// The number of edges between `id` and the root.
    ///
    /// # Panics
    /// If `id` is not a node of the tree.
    pub fn depth(&self, id: NodeId) -> usize {
        self.depth[id.index()]
    }

    /// The largest depth of any node.
    pub fn height(&self) -> usize {
        self.depth.iter().copied().max().unwrap_or(0)
    }

    /// The number of edges on the path between `a` and `b`.
    ///
    /// # Panics
    /// If `a` or `b` is not a node of the tree.
    pub fn distance(&self, a: NodeId, b: NodeId) -> usize {
        let (mut a, mut b) = (a, b);
        let mut d = 0;
        while self.depth(a) > self.depth(b) {
            a = self.parent[a.index()].unwrap_or(a);
            d += 1;
        }
        while self.depth(b) > self.depth(a) {
            b = self.parent[b.index()].unwrap_or(b);
            d += 1;
        }
        while a != b {
            a = self.parent[a.index()].unwrap_or(a);
            b = self.parent[b.index()].unwrap_or(b);
            d += 2;
        }
        d
    }

    /// The neighbour of `from` on the path to `to` (`None` when `from == to` or either is not
    /// a node of the tree). This is the initial `HOLDER` of `from` when `to` holds the token.
    pub fn next_hop(&self, from: NodeId, to: NodeId) -> Option<NodeId> {
        if from == to || !self.contains(from) || !self.contains(to) {
            return None;
        }
        // `to` lies below `from` iff climbing from `to` to `from`'s depth reaches `from`;
        // the hop is then the child of `from` on that climb, otherwise `from`'s parent.
        let mut x = to;
        if self.depth(x) <= self.depth(from) {
            return self.parent(from);
        }
        while self.depth(x) > self.depth(from) + 1 {
            x = self.parent(x)?;
        }
        if self.parent(x) == Some(from) {
            Some(x)
        } else {
            self.parent(from)
        }
    }

    /// The tree's edges as `(parent, child)` pairs, ordered by child.
    pub fn edges(&self) -> Vec<(NodeId, NodeId)> {
        self.nodes()
            .filter_map(|c| self.parent(c).map(|p| (p, c)))
            .collect()
    }

    /// The underlying petgraph graph; node index `i` is `NodeId(i)`.
    pub fn graph(&self) -> &UnGraph<(), ()> {
        &self.graph
    }

    /// The mean distance from every node (the target itself included, at distance 0) to
    /// `target`: half the expected light-load messages per entry when the token rests at
    /// `target` and the requester is drawn uniformly.
    ///
    /// # Panics
    /// If `target` is not a node of the tree.
    pub fn mean_distance_to(&self, target: NodeId) -> f64 {
        let total: usize = self.nodes().map(|a| self.distance(a, target)).sum();
        total as f64 / self.node_count() as f64
    }

    /// The mean distance between two nodes drawn independently and uniformly (equal nodes
    /// included, at distance 0): half the expected light-load messages per entry when each
    /// requester is drawn uniformly, independently of the previous one (who holds the token).
    pub fn mean_distance(&self) -> f64 {
        // Each edge separating s nodes from n − s lies on the paths of 2·s·(n − s) ordered pairs.
        let n = self.node_count();
        let mut size = vec![1usize; n];
        let mut by_depth: Vec<usize> = (0..n).collect();
        by_depth.sort_unstable_by_key(|&i| std::cmp::Reverse(self.depth[i]));
        let mut pairs = 0usize;
        for i in by_depth {
            if let Some(p) = self.parent[i] {
                pairs += 2 * size[i] * (n - size[i]);
                size[p.index()] += size[i];
            }
        }
        pairs as f64 / (n * n) as f64
    }
}

/// The shape of a [`Tree`], as chosen on a command line.
///
/// Parses from `star`, `line` (or `chain`), `binary` (= `kary:2`), `kary:K` (`K ≥ 1`) and
/// `random`; displays back in the same form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TreeShape {
    /// [`Tree::star`].
    Star,
    /// [`Tree::line`].
    Line,
    /// [`Tree::kary`] with the given `k`.
    Kary(usize),
    /// [`Tree::random`], drawn from the run's seed.
    Random,
}

impl Default for TreeShape {
    /// The balanced binary tree.
    fn default() -> Self {
        TreeShape::Kary(2)
    }
}

impl TreeShape {
    /// The tree of this shape on `n` nodes; `seed` is used by [`TreeShape::Random`] only.
    pub fn build(self, n: usize, seed: u64) -> Result<Tree, Error> {
        match self {
            TreeShape::Star => Tree::star(n),
            TreeShape::Line => Tree::line(n),
            TreeShape::Kary(k) => Tree::kary(n, k),
            TreeShape::Random => Tree::random(n, seed),
        }
    }
}

impl fmt::Display for TreeShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeShape::Star => f.write_str("star"),
            TreeShape::Line => f.write_str("line"),
            TreeShape::Kary(2) => f.write_str("binary"),
            TreeShape::Kary(k) => write!(f, "kary:{k}"),
            TreeShape::Random => f.write_str("random"),
        }
    }
}

/// A string that names no [`TreeShape`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ParseTreeShapeError {
    input: String,
    reason: &'static str,
}

impl fmt::Display for ParseTreeShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid tree shape {:?}: {}; expected star, line, binary, kary:K (K ≥ 1) or random",
            self.input, self.reason
        )
    }
}

impl std::error::Error for ParseTreeShapeError {}

impl FromStr for TreeShape {
    type Err = ParseTreeShapeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseTreeShapeError {
            input: s.to_owned(),
            reason,
        };
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "star" => Ok(TreeShape::Star),
            "line" | "chain" => Ok(TreeShape::Line),
            "binary" => Ok(TreeShape::Kary(2)),
            "random" => Ok(TreeShape::Random),
            other => {
                let Some(k) = other.strip_prefix("kary:") else {
                    return Err(err("unknown shape"));
                };
                match k.trim().parse::<usize>() {
                    Ok(0) => Err(err("K must be at least 1")),
                    Ok(k) => Ok(TreeShape::Kary(k)),
                    Err(_) => Err(err("K is not a positive integer")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().copied().map(NodeId).collect()
    }

    /// Distances by breadth-first search, to check `distance` against.
    fn bfs_distances(tree: &Tree, from: NodeId) -> Vec<usize> {
        let mut dist = vec![usize::MAX; tree.node_count()];
        dist[from.index()] = 0;
        let mut queue = VecDeque::from([from]);
        while let Some(u) = queue.pop_front() {
            for &v in tree.neighbours(u) {
                if dist[v.index()] == usize::MAX {
                    dist[v.index()] = dist[u.index()] + 1;
                    queue.push_back(v);
                }
            }
        }
        dist
    }

    #[test]
    fn star_line_and_binary_have_the_expected_shape() {
        let star = Tree::star(5).unwrap();
        assert_eq!(star.neighbours(NodeId(0)), ids(&[1, 2, 3, 4]).as_slice());
        assert_eq!(star.neighbours(NodeId(3)), ids(&[0]).as_slice());
        assert_eq!(star.distance(NodeId(1), NodeId(4)), 2);
        assert_eq!(star.height(), 1);

        let line = Tree::line(5).unwrap();
        assert_eq!(line.neighbours(NodeId(2)), ids(&[1, 3]).as_slice());
        assert_eq!(line.distance(NodeId(0), NodeId(4)), 4);
        assert_eq!(line.distance(NodeId(3), NodeId(1)), 2);
        assert_eq!(line.parent(NodeId(4)), Some(NodeId(3)));

        let bin = Tree::binary(15).unwrap();
        assert_eq!(bin.height(), 3);
        assert_eq!(bin.children(NodeId(2)), ids(&[5, 6]));
        assert_eq!(bin.parent(NodeId(14)), Some(NodeId(6)));
        assert_eq!(bin.distance(NodeId(7), NodeId(14)), 6);
        assert_eq!(bin.distance(NodeId(7), NodeId(8)), 2);
        assert_eq!(bin.edges().len(), 14);

        let single = Tree::binary(1).unwrap();
        assert_eq!(single.node_count(), 1);
        assert!(single.neighbours(NodeId(0)).is_empty());
        assert_eq!(single.mean_distance(), 0.0);
    }

    #[test]
    fn distance_and_next_hop_agree_with_bfs_on_random_trees() {
        for seed in 0..40 {
            let n = 1 + (seed as usize % 17);
            let tree = Tree::random(n, seed).unwrap();
            assert_eq!(tree.edges().len(), n - 1);
            for a in tree.nodes() {
                let dist = bfs_distances(&tree, a);
                for b in tree.nodes() {
                    assert_eq!(tree.distance(a, b), dist[b.index()], "seed {seed}");
                    assert_eq!(tree.distance(b, a), dist[b.index()]);
                    match tree.next_hop(b, a) {
                        None => assert_eq!(a, b),
                        Some(h) => {
                            assert!(tree.neighbours(b).contains(&h));
                            assert_eq!(dist[h.index()] + 1, dist[b.index()]);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn random_trees_are_deterministic_and_vary_with_the_seed() {
        assert_eq!(Tree::random(30, 7).unwrap(), Tree::random(30, 7).unwrap());
        let distinct: std::collections::BTreeSet<Vec<(NodeId, NodeId)>> = (0..20)
            .map(|s| Tree::random(30, s).unwrap().edges())
            .collect();
        assert!(
            distinct.len() > 15,
            "only {} distinct trees",
            distinct.len()
        );
    }

    #[test]
    fn mean_distances_match_brute_force() {
        for tree in [
            Tree::star(9).unwrap(),
            Tree::line(6).unwrap(),
            Tree::binary(15).unwrap(),
            Tree::random(12, 3).unwrap(),
        ] {
            let n = tree.node_count();
            let brute: usize = tree
                .nodes()
                .flat_map(|a| tree.nodes().map(move |b| (a, b)))
                .map(|(a, b)| tree.distance(a, b))
                .sum();
            let expected = brute as f64 / (n * n) as f64;
            assert!((tree.mean_distance() - expected).abs() < 1e-12);
        }
        // Star of 9: from the centre, 8 leaves at distance 1, itself at 0.
        assert_eq!(
            Tree::star(9).unwrap().mean_distance_to(NodeId(0)),
            8.0 / 9.0
        );
        assert_eq!(Tree::line(3).unwrap().mean_distance_to(NodeId(0)), 1.0);
    }

    #[test]
    fn from_edges_rejects_what_is_not_a_tree() {
        let e = |a, b| (NodeId(a), NodeId(b));
        assert!(Tree::from_edges(0, &[]).is_err());
        assert!(Tree::from_edges(1, &[]).is_ok());
        assert!(Tree::from_edges(3, &[e(0, 1)]).is_err(), "too few edges");
        assert!(
            Tree::from_edges(3, &[e(0, 1), e(1, 3)]).is_err(),
            "out of range"
        );
        assert!(Tree::from_edges(3, &[e(0, 1), e(1, 1)]).is_err(), "loop");
        assert!(Tree::from_edges(3, &[e(0, 1), e(1, 0)]).is_err(), "twice");
        assert!(
            Tree::from_edges(4, &[e(0, 1), e(1, 2), e(2, 0)]).is_err(),
            "cycle, 3 unreached"
        );
        assert!(Tree::kary(5, 0).is_err());
        assert!(Tree::star(0).is_err());
        assert!(Tree::random(0, 1).is_err());
        let t = Tree::from_edges(4, &[e(2, 3), e(0, 2), e(1, 2)]).unwrap();
        assert_eq!(t.parent(NodeId(3)), Some(NodeId(2)));
        assert_eq!(t.depth(NodeId(3)), 2);
    }

    #[test]
    fn shapes_parse_display_and_build() {
        assert_eq!("star".parse(), Ok(TreeShape::Star));
        assert_eq!("line".parse(), Ok(TreeShape::Line));
        assert_eq!("chain".parse(), Ok(TreeShape::Line));
        assert_eq!(" Binary ".parse(), Ok(TreeShape::Kary(2)));
        assert_eq!("kary:4".parse(), Ok(TreeShape::Kary(4)));
        assert_eq!("random".parse(), Ok(TreeShape::Random));
        for bad in ["", "tree", "kary:", "kary:0", "kary:x", "kary:-2"] {
            let err = bad.parse::<TreeShape>().unwrap_err().to_string();
            assert!(err.contains("expected star, line"), "{err}");
        }
        assert!(
            "kary:0"
                .parse::<TreeShape>()
                .unwrap_err()
                .to_string()
                .contains("at least 1")
        );
        for shape in [
            TreeShape::Star,
            TreeShape::Line,
            TreeShape::Kary(2),
            TreeShape::Kary(5),
            TreeShape::Random,
        ] {
            assert_eq!(shape.to_string().parse(), Ok(shape));
            assert_eq!(shape.build(10, 1).unwrap().node_count(), 10);
        }
        assert_eq!(TreeShape::default(), TreeShape::Kary(2));
        assert_eq!(TreeShape::Kary(3).build(13, 0).unwrap().height(), 2);
    }
}
