//! Agrawal and El Abbadi's tree quorums for mutual exclusion (ACM TOCS 9(1), 1991), arbitrated
//! as in Maekawa's algorithm.
//!
//! **What it does.** The N nodes are arranged in a binary tree — here the complete binary tree in
//! heap order: node 0 is the root and node `i`'s children are `2i + 1` and `2i + 2` ([`Tree`]).
//! A *quorum* is built by the paper's `GetQuorum`: starting at the root, a node that is up
//! contributes itself and continues with a quorum of *one* of its subtrees (the path goes on
//! towards a leaf); a node that has failed is **substituted by quorums of *both* its subtrees**
//! (two paths, one through each child). A failed leaf cannot be substituted (it has no
//! subtrees), so its branch fails and another is tried; when none is left, no quorum exists
//! ([`Tree::quorum_for`] returns `None`). With every node up a quorum is a root-to-leaf path.
//! Any two quorums intersect, whatever failures they were built around: by induction on the
//! tree, either both contain the root, or one replaced it by quorums of both subtrees and so
//! meets the other in the subtree that the other descended into.
//!
//! Node `i` uses the quorum that goes through itself when it can: the path from the root to `i`,
//! continued from `i` to a leaf by left children ([`Tree::quorums`]); around failures, the
//! branch towards `i` is tried first at every node, then the other.
//!
//! **Arbitration** is Maekawa's, with its deadlock handling (FAILED, INQUIRE, YIELD): the nodes
//! are [`dme_maekawa::Maekawa`] nodes whose request sets are these quorums ([`cluster`]). Nothing
//! in `dme-maekawa` had to change: its node accepts any request set.
//!
//! **What it assumes.** Reliable channels, every message delivered exactly once; FIFO order not
//! required (as for Maekawa). Here every node is up while the algorithm runs; the substitution
//! of failed nodes is provided as a quorum construction ([`Tree::quorum_for`] given the failed
//! nodes) for whoever detects failures.
//!
//! **What it costs**, with |Q| the quorum's size (the requester included): with everyone up on a
//! complete tree |Q| = ⌈log₂(N+1)⌉ for every path that reaches the last level (every path when
//! N = 2^k − 1), one less for a path ending one level higher. Light load: 3(|Q| − 1) messages per
//! entry — REQUEST, REPLY and RELEASE to every member but the requester itself — waiting time 2T.
//! Heavy load: as Maekawa, 3(|Q|−1) plus FAILED, INQUIRE and YIELD. Every quorum contains the
//! root, which arbitrates every request: the algorithm's cost is a bottleneck at the root, the
//! price of its logarithmic quorums. Synchronization delay 2T (RELEASE, then REPLY), T when the
//! arbiter that completes the next quorum is the leaving or the next node itself.
//!
//! ```
//! use dme_agrawal_el_abbadi::Tree;
//! use dme_core::NodeId;
//!
//! let tree = Tree::new(7).unwrap(); //        0
//! //                                      1       2
//! //                                    3   4   5   6
//! let ids = |v: &[u32]| v.iter().map(|&i| NodeId(i)).collect::<Vec<_>>();
//! assert_eq!(tree.quorum_for(NodeId(4), &[]).unwrap(), Some(ids(&[0, 1, 4])));
//! // The root failed: paths through both its children.
//! assert_eq!(tree.quorum_for(NodeId(4), &ids(&[0])).unwrap(), Some(ids(&[1, 2, 4, 5])));
//! // The root and node 1 failed; node 1's leaves 3 and 4 replace it.
//! assert_eq!(tree.quorum_for(NodeId(4), &ids(&[0, 1])).unwrap(), Some(ids(&[2, 3, 4, 5])));
//! // The root and both leaves under node 1 failed: no quorum exists.
//! assert_eq!(tree.quorum_for(NodeId(4), &ids(&[0, 3, 4])).unwrap(), None);
//! ```

pub mod describe;

use dme_core::{Error, NodeId};
use dme_maekawa::{Maekawa, Quorums};

/// The node type: a Maekawa node (with deadlock handling) whose request set is a tree quorum.
pub type AgrawalElAbbadi = Maekawa;

/// The complete binary tree of nodes `0..N` in heap order: node `i`'s children are `2i + 1` and
/// `2i + 2` (those below N).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Tree {
    n: usize,
}

impl Tree {
    /// The tree of `n` nodes (at least one, ids fitting a [`NodeId`]).
    pub fn new(n: usize) -> Result<Tree, Error> {
        if n == 0 {
            return Err(Error::InvalidCluster("no nodes".into()));
        }
        if n > u32::MAX as usize {
            return Err(Error::InvalidCluster(format!(
                "{n} nodes do not fit 32-bit node ids"
            )));
        }
        Ok(Tree { n })
    }

    /// The number of nodes N.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a tree has at least one node.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The number of levels, ⌈log₂(N+1)⌉: the size of a root-to-leaf path reaching the last
    /// level.
    pub fn levels(&self) -> usize {
        (usize::BITS - self.n.leading_zeros()) as usize
    }

    /// Node `i`'s parent (`None` for the root or a node not in the tree).
    pub fn parent(&self, i: NodeId) -> Option<NodeId> {
        (i.index() < self.n && i.0 > 0).then(|| NodeId((i.0 - 1) / 2))
    }

    /// Node `i`'s children in the tree (zero, one or two), left first.
    pub fn children(&self, i: NodeId) -> Vec<NodeId> {
        if i.index() >= self.n {
            return Vec::new();
        }
        [2 * i.index() + 1, 2 * i.index() + 2]
            .into_iter()
            .filter(|&c| c < self.n)
            .map(|c| NodeId(c as u32))
            .collect()
    }

    /// The quorum node `requester` uses when the nodes in `failed` are down, sorted: the
    /// paper's `GetQuorum`, trying at every node first the subtree that contains `requester`
    /// (then the left one). `Ok(None)`: no quorum exists. An id outside the tree is an error.
    pub fn quorum_for(
        &self,
        requester: NodeId,
        failed: &[NodeId],
    ) -> Result<Option<Vec<NodeId>>, Error> {
        self.check(requester)?;
        let mut down = vec![false; self.n];
        for &f in failed {
            self.check(f)?;
            down[f.index()] = true;
        }
        let mut quorum = Vec::new();
        if !self.get_quorum(0, requester.index(), &down, &mut quorum) {
            return Ok(None);
        }
        quorum.sort_unstable();
        Ok(Some(quorum.into_iter().map(|i| NodeId(i as u32)).collect()))
    }

    /// Every node's quorum with every node up: node `i`'s is the path from the root to `i`,
    /// continued to a leaf by left children. Checked by [`Quorums::validate`] (every node in its
    /// own set, every two sets intersecting).
    pub fn quorums(&self) -> Result<Quorums, Error> {
        let sets = (0..self.n)
            .map(|i| {
                self.quorum_for(NodeId(i as u32), &[])?
                    .ok_or_else(|| Error::InvalidCluster("no quorum with every node up".into()))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Quorums::from_sets(sets)
    }

    fn check(&self, i: NodeId) -> Result<(), Error> {
        if i.index() < self.n {
            Ok(())
        } else {
            Err(Error::InvalidCluster(format!(
                "{i} is not one of the tree's {} nodes",
                self.n
            )))
        }
    }

    /// Whether `r` is `v` or below it.
    fn in_subtree(v: usize, mut r: usize) -> bool {
        while r > v {
            r = (r - 1) / 2;
        }
        r == v
    }

    /// `GetQuorum` on the subtree rooted at `v` (which exists): appends a quorum of it to
    /// `quorum` and returns true, or leaves `quorum` as it was and returns false.
    fn get_quorum(
        &self,
        v: usize,
        requester: usize,
        down: &[bool],
        quorum: &mut Vec<usize>,
    ) -> bool {
        let (left, right) = (2 * v + 1, 2 * v + 2);
        let start = quorum.len();
        if !down[v] {
            // Up: v, then a quorum of one subtree — the requester's first. An empty subtree
            // gives the empty quorum (the path ends at v).
            let order = if right < self.n && Tree::in_subtree(right, requester) {
                [right, left]
            } else {
                [left, right]
            };
            quorum.push(v);
            for c in order {
                if c >= self.n || self.get_quorum(c, requester, down, quorum) {
                    return true;
                }
            }
            quorum.truncate(start);
            false
        } else {
            // Failed: substituted by quorums of both subtrees; an empty one cannot substitute.
            let both = right < self.n
                && self.get_quorum(left, requester, down, quorum)
                && self.get_quorum(right, requester, down, quorum);
            if !both {
                quorum.truncate(start);
            }
            both
        }
    }
}

/// Every node of the cluster `0..n` on the tree of `n` nodes, everyone up: Maekawa nodes with
/// deadlock handling whose request sets are [`Tree::quorums`].
pub fn cluster(n: usize) -> Result<Vec<AgrawalElAbbadi>, Error> {
    Maekawa::cluster(&Tree::new(n)?.quorums()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(v: &[u32]) -> Vec<NodeId> {
        v.iter().map(|&i| NodeId(i)).collect()
    }

    /// Every tree quorum of the subtree rooted at `v`, by the definition: `v` with a quorum of
    /// one subtree (or alone, when that subtree is empty), or quorums of both subtrees.
    fn all_quorums(n: usize, v: usize) -> Vec<BTreeSet<usize>> {
        let sub = |c: usize| {
            if c < n { Some(all_quorums(n, c)) } else { None }
        };
        let (l, r) = (sub(2 * v + 1), sub(2 * v + 2));
        let mut out = Vec::new();
        for side in [&l, &r] {
            match side {
                None => out.push(BTreeSet::from([v])),
                Some(qs) => out.extend(qs.iter().map(|q| {
                    let mut q = q.clone();
                    q.insert(v);
                    q
                })),
            }
        }
        if let (Some(l), Some(r)) = (&l, &r) {
            for a in l {
                for b in r {
                    out.push(a.union(b).copied().collect());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn levels_and_shape() {
        let sizes: Vec<usize> = [1, 2, 3, 4, 7, 8, 15, 16]
            .iter()
            .map(|&n| Tree::new(n).unwrap().levels())
            .collect();
        assert_eq!(sizes, vec![1, 2, 2, 3, 3, 4, 4, 5]);
        let t = Tree::new(6).unwrap();
        assert_eq!(t.children(NodeId(2)), ids(&[5]));
        assert_eq!(t.children(NodeId(1)), ids(&[3, 4]));
        assert!(t.children(NodeId(3)).is_empty());
        assert_eq!(t.parent(NodeId(5)), Some(NodeId(2)));
        assert_eq!(t.parent(NodeId(0)), None);
        assert!(Tree::new(0).is_err());
    }

    #[test]
    fn with_everyone_up_each_node_uses_the_path_through_itself() {
        let t = Tree::new(7).unwrap();
        let q = t.quorums().unwrap();
        let expected: Vec<Vec<NodeId>> = [
            [0, 1, 3],
            [0, 1, 3],
            [0, 2, 5],
            [0, 1, 3],
            [0, 1, 4],
            [0, 2, 5],
            [0, 2, 6],
        ]
        .iter()
        .map(|s| ids(s))
        .collect();
        assert_eq!(q.sets(), &expected[..]);
        // A complete tree with every node up: |Q| = ⌈log₂(N+1)⌉ for paths to the last level.
        for n in [1usize, 3, 7, 15, 31, 63, 127] {
            let t = Tree::new(n).unwrap();
            let q = t.quorums().unwrap();
            assert!(q.sets().iter().all(|s| s.len() == t.levels()), "N={n}");
            assert_eq!(t.levels(), (n as f64 + 1.0).log2().ceil() as usize);
        }
        // N = 4: node 2 is a leaf one level up, so its path is one shorter.
        let q = Tree::new(4).unwrap().quorums().unwrap();
        let sizes: Vec<usize> = q.sets().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![3, 3, 2, 3]);
    }

    #[test]
    fn failed_nodes_are_substituted_by_paths_through_both_children() {
        let t = Tree::new(7).unwrap();
        let q = |r: u32, f: &[u32]| t.quorum_for(NodeId(r), &ids(f)).unwrap();
        // A failed leaf on the preferred path: its sibling's path instead.
        assert_eq!(q(3, &[3]), Some(ids(&[0, 1, 4])));
        // Node 1 failed (its leaves replace it); then also leaf 4: node 1's subtree has no
        // quorum, so the path goes right.
        assert_eq!(q(3, &[1]), Some(ids(&[0, 3, 4])));
        assert_eq!(q(3, &[1, 4]), Some(ids(&[0, 2, 5])));
        // The root failed: paths through both children, each towards the requester first.
        assert_eq!(q(6, &[0]), Some(ids(&[1, 2, 3, 6])));
        // Root and both children failed: all four leaves.
        assert_eq!(q(6, &[0, 1, 2]), Some(ids(&[3, 4, 5, 6])));
        // Root failed and a whole side without a quorum: none exists.
        assert_eq!(q(6, &[0, 3, 4]), None);
        assert_eq!(q(6, &[0, 1, 4]), None);
        // Every leaf failed: no path can end.
        assert_eq!(q(0, &[3, 4, 5, 6]), None);
        // N = 2 and 3: a node with one child cannot be substituted.
        let t2 = Tree::new(2).unwrap();
        assert_eq!(t2.quorum_for(NodeId(1), &[]).unwrap(), Some(ids(&[0, 1])));
        assert_eq!(
            t2.quorum_for(NodeId(1), &ids(&[1])).unwrap(),
            Some(ids(&[0]))
        );
        assert_eq!(t2.quorum_for(NodeId(1), &ids(&[0])).unwrap(), None);
        let t3 = Tree::new(3).unwrap();
        assert_eq!(
            t3.quorum_for(NodeId(0), &ids(&[0])).unwrap(),
            Some(ids(&[1, 2]))
        );
        assert_eq!(t3.quorum_for(NodeId(0), &ids(&[1, 2])).unwrap(), None);
        // Bad ids are errors.
        assert!(t.quorum_for(NodeId(7), &[]).is_err());
        assert!(t.quorum_for(NodeId(0), &ids(&[9])).is_err());
    }

    /// For every failure set on trees of 1 to 7 nodes and every requester: a quorum is found iff
    /// some tree quorum avoids the failed nodes, and the one found is a tree quorum avoiding
    /// them; and all quorums found, across all failure sets, pairwise intersect.
    #[test]
    fn the_construction_matches_the_definition_and_quorums_always_intersect() {
        for n in 1..=7usize {
            let t = Tree::new(n).unwrap();
            let every = all_quorums(n, 0);
            let mut found: Vec<BTreeSet<usize>> = Vec::new();
            for mask in 0u32..(1 << n) {
                let failed: Vec<NodeId> = (0..n as u32)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(NodeId)
                    .collect();
                let avoids = |q: &BTreeSet<usize>| q.iter().all(|&i| mask & (1 << i) == 0);
                let exists = every.iter().any(avoids);
                for r in 0..n as u32 {
                    let q = t.quorum_for(NodeId(r), &failed).unwrap();
                    assert_eq!(q.is_some(), exists, "N={n} failed={failed:?}");
                    if let Some(q) = q {
                        let q: BTreeSet<usize> = q.iter().map(|i| i.index()).collect();
                        assert!(avoids(&q) && every.contains(&q), "N={n} {q:?}");
                        found.push(q);
                    }
                }
            }
            found.sort();
            found.dedup();
            for a in &found {
                for b in &found {
                    assert!(!a.is_disjoint(b), "N={n}: {a:?} and {b:?}");
                }
            }
        }
    }

    #[test]
    fn the_cluster_is_maekawa_on_the_tree_quorums() {
        use dme_core::Node;
        let nodes = cluster(7).unwrap();
        assert_eq!(nodes[4].quorum(), &ids(&[0, 1, 4])[..]);
        assert!(nodes.iter().all(|m| m.handles_deadlocks()));
        assert_eq!(nodes[6].id(), NodeId(6));
        assert!(cluster(0).is_err());
    }
}
