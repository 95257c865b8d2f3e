//! Helpers shared by the integration tests: a Ricart–Agrawala cluster on loopback and an
//! overlap checker.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dme_core::{Node, NodeId, Stamp, cluster};
use dme_net::{Config, Driver, Guard, Handle, Status};
use dme_ricart_agrawala::RicartAgrawala;
use tokio::net::TcpListener;

/// Every test body runs under this bound.
pub const TEST_BOUND: Duration = Duration::from_secs(60);

/// Binds one loopback listener per node (port 0), then starts a driver on each; node `i` of
/// `nodes` must have id `NodeId(i)`.
pub async fn spawn_cluster<N>(nodes: Vec<N>) -> Vec<Handle>
where
    N: Node + Send + 'static,
    N::Message: Send + 'static,
{
    let mut listeners = Vec::new();
    for _ in 0..nodes.len() {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("bind"));
    }
    let addrs: BTreeMap<NodeId, SocketAddr> = listeners
        .iter()
        .enumerate()
        .map(|(i, l)| (NodeId(i as u32), l.local_addr().expect("addr")))
        .collect();
    nodes
        .into_iter()
        .zip(listeners)
        .map(|(node, listener)| {
            let mut peers = addrs.clone();
            peers.remove(&node.id());
            Driver::spawn_on(node, listener, peers, Config::default()).expect("spawn")
        })
        .collect()
}

/// A Ricart–Agrawala cluster of `n` nodes on loopback.
pub async fn ra_cluster(n: usize) -> Vec<Handle> {
    let members = cluster(n);
    let nodes = members
        .iter()
        .map(|&me| RicartAgrawala::new(me, &members).expect("node"))
        .collect();
    spawn_cluster(nodes).await
}

/// Polls until `pred` holds for every handle's status.
pub async fn wait_until(handles: &[Handle], pred: impl Fn(&Status) -> bool) {
    loop {
        let mut all = true;
        for h in handles {
            all &= pred(&h.status().await.expect("status"));
        }
        if all {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls until every node is connected to every peer in both directions.
pub async fn wait_connected(handles: &[Handle]) {
    wait_until(handles, |s| s.disconnected.is_empty()).await;
}

/// Sums a counter over the cluster.
pub async fn total(handles: &[Handle], f: impl Fn(&Status) -> u64) -> u64 {
    let mut sum = 0;
    for h in handles {
        sum += f(&h.status().await.expect("status"));
    }
    sum
}

/// One grant as logged by the checker, in grant order.
#[derive(Clone, Copy, Debug)]
pub struct Grant {
    pub node: NodeId,
    pub fencing_token: u64,
    pub stamp: Option<Stamp>,
}

/// Proves that no two critical sections overlap: a shared flag set on entry and cleared on
/// exit; a second holder finds it set.
#[derive(Default)]
pub struct Checker {
    in_cs: AtomicBool,
    grants: Mutex<Vec<Grant>>,
}

impl Checker {
    pub fn enter(&self, guard: &Guard) {
        assert!(
            !self.in_cs.swap(true, Ordering::SeqCst),
            "{} entered while another node was in the critical section",
            guard.node()
        );
        self.grants.lock().unwrap().push(Grant {
            node: guard.node(),
            fencing_token: guard.fencing_token(),
            stamp: guard.stamp(),
        });
    }

    pub fn exit(&self) {
        assert!(
            self.in_cs.swap(false, Ordering::SeqCst),
            "exit without entry"
        );
    }

    pub fn grants(&self) -> Vec<Grant> {
        self.grants.lock().unwrap().clone()
    }

    /// Fencing tokens, and stamps where the algorithm has them, strictly increase in grant
    /// order.
    pub fn assert_monotonic(&self) {
        let grants = self.grants();
        for w in grants.windows(2) {
            assert!(
                w[0].fencing_token < w[1].fencing_token,
                "fencing tokens not increasing: {:?}",
                w
            );
            if w[0].stamp.is_some() || w[1].stamp.is_some() {
                assert!(w[0].stamp < w[1].stamp, "stamps not increasing: {:?}", w);
            }
        }
    }
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
