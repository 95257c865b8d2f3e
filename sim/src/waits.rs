//! Wait-for graphs, for deadlock reports.

use dme_core::{Node, NodeId, Phase};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// The wait-for graph of a cluster: an edge `i → j` when requesting node `i` waits for `j`
/// ([`Node::waiting_for`]), and when arbiter `i` is locked for requester `j`
/// ([`Node::locked_for`]).
pub fn wait_for_graph<N: Node>(nodes: &[N]) -> DiGraph<NodeId, ()> {
    let mut g = DiGraph::new();
    let ix: Vec<NodeIndex> = nodes.iter().map(|x| g.add_node(x.id())).collect();
    let find = |id: NodeId| nodes.iter().position(|x| x.id() == id);
    for (i, x) in nodes.iter().enumerate() {
        if x.phase() == Phase::Requesting {
            for w in x.waiting_for() {
                if let Some(j) = find(w) {
                    g.add_edge(ix[i], ix[j], ());
                }
            }
        }
        if let Some(j) = x.locked_for().and_then(find) {
            if j != i {
                g.add_edge(ix[i], ix[j], ());
            }
        }
    }
    g
}

/// A cycle in the wait-for graph, if there is one: nodes each waiting for the next, the last
/// waiting for the first. The cycle found is the one through the smallest node id in the first
/// strongly connected component (in petgraph's deterministic order) with more than one node.
pub fn wait_for_cycle<N: Node>(nodes: &[N]) -> Option<Vec<NodeId>> {
    let g = wait_for_graph(nodes);
    let scc = tarjan_scc(&g).into_iter().find(|c| c.len() > 1)?;
    let inside = |v: NodeIndex| scc.contains(&v);
    let start = *scc.iter().min_by_key(|v| g[**v])?;
    // Breadth-first from `start` inside the component until an edge leads back to it.
    let mut parent = vec![None; g.node_count()];
    let mut queue = std::collections::VecDeque::from([start]);
    let mut seen = vec![false; g.node_count()];
    seen[start.index()] = true;
    while let Some(v) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g.neighbors(v).filter(|w| inside(*w)).collect();
        next.sort_by_key(|w| g[*w]);
        for w in next {
            if w == start {
                let mut cycle = vec![g[v]];
                let mut cur = v;
                while let Some(p) = parent[cur.index()] {
                    cycle.push(g[p]);
                    cur = p;
                }
                cycle.reverse();
                return Some(cycle);
            }
            if !seen[w.index()] {
                seen[w.index()] = true;
                parent[w.index()] = Some(v);
                queue.push_back(w);
            }
        }
    }
    None
}
