//! The driver runs other algorithms unchanged: Lamport's (which needs FIFO channels) and
//! Raymond's token-based one, N = 5 on loopback.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Checker, TEST_BOUND, median, spawn_cluster, total, wait_connected};
use dme_core::cluster;
use dme_lamport::Lamport;
use dme_net::Handle;
use dme_raymond::{Raymond, Tree};
use tokio::time::timeout;

const N: usize = 5;
const ENTRIES: u64 = 20;

/// Light load (one lock call at a time in the cluster), then heavy load (every node locks
/// `ENTRIES` times concurrently); returns the messages sent during the light-load phase.
async fn exercise(name: &str, handles: &[Handle]) -> u64 {
    wait_connected(handles).await;
    let checker = Arc::new(Checker::default());
    let mut times = Vec::new();
    for _ in 0..ENTRIES {
        for h in handles {
            let t0 = Instant::now();
            let guard = h.lock().await.expect("lock");
            checker.enter(&guard);
            checker.exit();
            guard.unlock().await.expect("unlock");
            times.push(t0.elapsed());
        }
    }
    let light = total(handles, |s| s.messages_sent).await;
    let mut tasks = Vec::new();
    for h in handles {
        let (h, checker) = (h.clone(), Arc::clone(&checker));
        tasks.push(tokio::spawn(async move {
            for _ in 0..ENTRIES {
                let guard = h.lock().await.expect("lock");
                checker.enter(&guard);
                tokio::time::sleep(Duration::from_millis(1)).await;
                checker.exit();
                drop(guard);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    checker.assert_monotonic();
    let entries = 2 * N as u64 * ENTRIES;
    assert_eq!(checker.grants().len() as u64, entries);
    // Dropped guards release asynchronously; every entry is counted once it is granted.
    assert_eq!(total(handles, |s| s.entries).await, entries);
    println!(
        "{name}, N={N}, light load on loopback: {:.2} messages/entry, median lock+unlock {:?}",
        light as f64 / (N as u64 * ENTRIES) as f64,
        median(times)
    );
    light
}

fn nodes<T>(make: impl Fn(dme_core::NodeId) -> T) -> Vec<T> {
    cluster(N).into_iter().map(make).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lamport_over_tcp() {
    timeout(TEST_BOUND, async {
        let members = cluster(N);
        let handles = spawn_cluster(nodes(|me| Lamport::new(me, &members).expect("node"))).await;
        let light = exercise("Lamport", &handles).await;
        assert_eq!(
            light,
            N as u64 * ENTRIES * 3 * (N as u64 - 1),
            "3(N-1) per entry"
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raymond_over_tcp() {
    timeout(TEST_BOUND, async {
        let tree = Tree::star(N).expect("tree");
        let token_holder = tree.root();
        let handles = spawn_cluster(nodes(|me| {
            Raymond::from_tree(&tree, me, token_holder).expect("node")
        }))
        .await;
        exercise("Raymond (star)", &handles).await;
        // Once the last releases have been applied, exactly one node holds the token.
        while total(&handles, |s| s.holds_token as u64).await != 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("test timed out");
}
