//! In-process clusters of Ricart–Agrawala drivers on loopback (127.0.0.1, port 0).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{Checker, TEST_BOUND, median, ra_cluster, total, wait_connected, wait_until};
use dme_core::{NodeId, Phase};
use dme_net::{Error, Handle};
use tokio::time::timeout;

const N: usize = 5;
const ENTRIES: u64 = 20;

/// Each node locks `ENTRIES` times concurrently with the others; returns the checker.
async fn contend(handles: &[Handle], done: Arc<AtomicU64>) -> Arc<Checker> {
    let checker = Arc::new(Checker::default());
    let mut tasks = Vec::new();
    for h in handles {
        let (h, checker, done) = (h.clone(), Arc::clone(&checker), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut served = 0;
            for _ in 0..ENTRIES {
                let guard = h.lock().await.expect("lock");
                checker.enter(&guard);
                tokio::time::sleep(Duration::from_millis(1)).await;
                checker.exit();
                guard.unlock().await.expect("unlock");
                served += 1;
                done.fetch_add(1, Ordering::SeqCst);
            }
            served
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), ENTRIES);
    }
    checker
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn light_load_costs_2_n_minus_1_messages_per_entry() {
    timeout(TEST_BOUND, async {
        let handles = ra_cluster(N).await;
        wait_connected(&handles).await;
        let checker = Checker::default();
        let mut lock_times = Vec::new();
        let mut entry_times = Vec::new();
        let start = Instant::now();
        // One lock call at a time in the whole cluster: light load.
        for _ in 0..ENTRIES {
            for h in &handles {
                let t0 = Instant::now();
                let guard = h.lock().await.expect("lock");
                lock_times.push(t0.elapsed());
                checker.enter(&guard);
                checker.exit();
                guard.unlock().await.expect("unlock");
                entry_times.push(t0.elapsed());
            }
        }
        let elapsed = start.elapsed();
        let entries = N as u64 * ENTRIES;
        checker.assert_monotonic();
        assert_eq!(checker.grants().len() as u64, entries);
        let sent = total(&handles, |s| s.messages_sent).await;
        assert_eq!(sent, entries * 2 * (N as u64 - 1), "2(N-1) per entry");
        assert_eq!(total(&handles, |s| s.messages_received).await, sent);
        for h in &handles {
            let s = h.status().await.unwrap();
            assert_eq!(s.entries, ENTRIES);
            assert_eq!(s.abandoned, 0);
            assert_eq!(s.messages_by_kind["REQUEST"], ENTRIES * (N as u64 - 1));
            assert_eq!(s.messages_by_kind["REPLY"], ENTRIES * (N as u64 - 1));
            assert_eq!(s.phase, Phase::Idle);
        }
        println!(
            "N={N} light load on loopback: {entries} entries in {elapsed:?}, {:.1} messages/entry, \
             median lock {:?}, median lock+unlock {:?}, mean wall time per entry {:?}",
            sent as f64 / entries as f64,
            median(lock_times),
            median(entry_times),
            elapsed / entries as u32
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contending_nodes_never_overlap_and_tokens_grow() {
    timeout(TEST_BOUND, async {
        let handles = ra_cluster(N).await;
        wait_connected(&handles).await;
        let start = Instant::now();
        let checker = contend(&handles, Arc::new(AtomicU64::new(0))).await;
        let elapsed = start.elapsed();
        let entries = N as u64 * ENTRIES;
        checker.assert_monotonic();
        assert_eq!(checker.grants().len() as u64, entries);
        // Ricart–Agrawala costs 2(N-1) at any load.
        let sent = total(&handles, |s| s.messages_sent).await;
        assert_eq!(sent, entries * 2 * (N as u64 - 1));
        assert_eq!(total(&handles, |s| s.entries).await, entries);
        println!(
            "N={N} heavy load on loopback (1 ms in the critical section): {entries} entries in \
             {elapsed:?}, mean wall time per entry {:?}",
            elapsed / entries as u32
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_lose_and_duplicate_nothing() {
    timeout(TEST_BOUND, async {
        let handles = ra_cluster(N).await;
        wait_connected(&handles).await;
        let done = Arc::new(AtomicU64::new(0));
        let entries = N as u64 * ENTRIES;
        // Cut a different pair every 10 entries while the nodes contend.
        let cutter = {
            let (handles, done) = (handles.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                let mut cuts = 0;
                for k in 1..entries / 10 {
                    while done.load(Ordering::SeqCst) < k * 10 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    let i = (k as usize) % N;
                    let j = (i + 1 + k as usize % (N - 1)) % N;
                    handles[i]
                        .debug_disconnect(NodeId(j as u32))
                        .await
                        .expect("cut");
                    cuts += 1;
                }
                cuts
            })
        };
        let checker = contend(&handles, Arc::clone(&done)).await;
        let cuts = cutter.await.expect("cutter");
        assert_eq!(cuts, entries / 10 - 1);
        checker.assert_monotonic();
        // Every request served exactly once, nothing delivered twice.
        assert_eq!(checker.grants().len() as u64, entries);
        assert_eq!(total(&handles, |s| s.entries).await, entries);
        assert_eq!(total(&handles, |s| s.abandoned).await, 0);
        let sent = total(&handles, |s| s.messages_sent).await;
        assert_eq!(sent, entries * 2 * (N as u64 - 1));
        assert_eq!(total(&handles, |s| s.messages_received).await, sent);
        // Everything acknowledged and reconnected in the end.
        wait_connected(&handles).await;
        wait_until(&handles, |s| s.peers.iter().all(|p| p.unacked == 0)).await;
        // Each cut makes the cutting side redial; the other side notices and redials too.
        let reconnects = total(&handles, |s| s.reconnects).await;
        assert!(
            reconnects >= cuts,
            "{reconnects} reconnects for {cuts} cuts"
        );
        println!(
            "{cuts} cuts: {reconnects} reconnects, {} frames retransmitted, {} duplicates dropped",
            total(&handles, |s| s.frames_retransmitted).await,
            total(&handles, |s| s.duplicates_dropped).await
        );
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_node_blocks_the_survivors_safely() {
    timeout(TEST_BOUND, async {
        let handles = ra_cluster(N).await;
        wait_connected(&handles).await;
        for h in &handles {
            h.lock()
                .await
                .expect("lock")
                .unlock()
                .await
                .expect("unlock");
        }
        let dead = NodeId(N as u32 - 1);
        handles[N - 1].shutdown().await.expect("shutdown");
        assert!(matches!(handles[N - 1].lock().await, Err(Error::Stopped)));
        let survivors = &handles[..N - 1];
        wait_until(survivors, |s| s.disconnected == vec![dead]).await;

        // n0 asks first: every survivor replies, the dead node never does.
        match survivors[0].try_lock_for(Duration::from_millis(300)).await {
            Err(Error::Timeout { waiting_for, .. }) => assert!(waiting_for.contains(&dead)),
            Err(other) => panic!("expected a timeout, got {other}"),
            Ok(guard) => panic!("{} granted while n4 is dead", guard.node()),
        }
        // The request is kept; once the survivors' replies are in, only n4 is missing.
        wait_until(&survivors[..1], |s| s.waiting_for == vec![dead]).await;
        let err = survivors[0]
            .try_lock_for(Duration::from_millis(100))
            .await
            .expect_err("no grant without the dead node");
        match &err {
            Error::Timeout {
                waiting_for,
                disconnected,
                ..
            } => {
                assert_eq!(waiting_for, &vec![dead]);
                assert_eq!(disconnected, &vec![dead]);
            }
            other => panic!("expected a timeout, got {other}"),
        }
        let text = err.to_string();
        assert!(text.contains("waiting for n4 (disconnected: n4)"), "{text}");
        let status = survivors[0].status().await.unwrap();
        assert_eq!(status.phase, Phase::Requesting, "the request is kept");
        assert_eq!(status.waiting_for, vec![dead]);
        assert!(status.to_string().contains("waiting for n4"), "{status}");

        // The other survivors cannot get in either: n0's request precedes theirs, and n4 is gone.
        for h in &survivors[1..] {
            match h.try_lock_for(Duration::from_millis(100)).await {
                Err(Error::Timeout { waiting_for, .. }) => {
                    assert!(waiting_for.contains(&dead), "{waiting_for:?}")
                }
                Err(other) => panic!("expected a timeout, got {other}"),
                Ok(guard) => panic!("{} granted while n4 is dead", guard.node()),
            }
        }
        assert_eq!(total(survivors, |s| s.entries).await, N as u64 - 1);
    })
    .await
    .expect("test timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn try_lock_for_times_out_while_another_node_holds_the_lock() {
    timeout(TEST_BOUND, async {
        let handles = ra_cluster(3).await;
        wait_connected(&handles).await;
        let held = handles[1].lock().await.expect("lock");
        let err = handles[0]
            .try_lock_for(Duration::from_millis(200))
            .await
            .expect_err("n1 holds the lock");
        assert!(
            matches!(&err, Error::Timeout { waiting_for, .. } if waiting_for.contains(&NodeId(1))),
            "{err}"
        );
        // The request is kept; once n2's reply is in, only the holder is missing.
        wait_until(&handles[..1], |s| s.waiting_for == vec![NodeId(1)]).await;
        let err = handles[0]
            .try_lock_for(Duration::from_millis(50))
            .await
            .expect_err("n1 still holds the lock");
        assert!(
            matches!(&err, Error::Timeout { waiting_for, disconnected, .. }
                if waiting_for == &vec![NodeId(1)] && disconnected.is_empty()),
            "{err}"
        );
        assert_eq!(err.to_string(), "no grant after 50ms: waiting for n1");
        // A second lock call while the abandoned request is outstanding takes over its grant.
        let waiter = tokio::spawn({
            let h = handles[0].clone();
            async move { h.lock().await }
        });
        wait_until(&handles[..1], |s| s.local_waiters == 1).await;
        drop(held);
        let guard = waiter.await.expect("task").expect("lock after release");
        assert_eq!(guard.node(), NodeId(0));
        let s0 = handles[0].status().await.unwrap();
        assert_eq!((s0.entries, s0.abandoned), (1, 0));
        guard.unlock().await.unwrap();
        // Two requests in all, 2(N-1) messages each: no extra request for the second call.
        assert_eq!(total(&handles, |s| s.messages_sent).await, 2 * 2 * 2);

        // Without a second caller, the abandoned request is released as soon as it is granted.
        let held = handles[2].lock().await.expect("lock");
        assert!(
            handles[0]
                .try_lock_for(Duration::from_millis(100))
                .await
                .is_err()
        );
        held.unlock().await.unwrap();
        wait_until(&handles[..1], |s| {
            s.abandoned == 1 && s.phase == Phase::Idle
        })
        .await;
        let guard = handles[1]
            .lock()
            .await
            .expect("lock after the abandoned grant");
        guard.unlock().await.unwrap();
    })
    .await
    .expect("test timed out");
}
