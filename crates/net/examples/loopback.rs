//! Five Ricart–Agrawala nodes in one process, talking TCP over loopback; each enters the
//! critical section 20 times, one lock call at a time in the cluster (light load). Prints the
//! messages per entry counted by the drivers and the wall time per entry.
//!
//! `cargo run -p dme-net --release --example loopback [N] [ENTRIES]`

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dme_core::{NodeId, cluster};
use dme_net::{Config, Driver};
use dme_ricart_agrawala::RicartAgrawala;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let entries: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);

    // Bind every listener first (port 0), then give each driver the others' addresses.
    let mut listeners = Vec::new();
    for _ in 0..n {
        listeners.push(TcpListener::bind("127.0.0.1:0").await?);
    }
    let mut addrs: BTreeMap<NodeId, SocketAddr> = BTreeMap::new();
    for (i, l) in listeners.iter().enumerate() {
        addrs.insert(NodeId(i as u32), l.local_addr()?);
    }
    let members = cluster(n);
    let mut handles = Vec::new();
    for (listener, &me) in listeners.into_iter().zip(&members) {
        let mut peers = addrs.clone();
        peers.remove(&me);
        let node = RicartAgrawala::new(me, &members)?;
        handles.push(Driver::spawn_on(node, listener, peers, Config::default())?);
    }
    // Wait until everyone is connected.
    for h in &handles {
        while !h.status().await?.disconnected.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    let mut times = Vec::new();
    let start = Instant::now();
    for _ in 0..entries {
        for h in &handles {
            let t0 = Instant::now();
            let guard = h.lock().await?;
            guard.unlock().await?;
            times.push(t0.elapsed());
        }
    }
    let elapsed = start.elapsed();
    let mut messages = 0;
    for h in &handles {
        messages += h.status().await?.messages_sent;
    }
    times.sort();
    let total = times.len();
    println!(
        "Ricart-Agrawala, N={n}, {total} entries at light load on loopback: \
         {:.2} messages/entry, wall time per entry: median {:?}, p99 {:?}, mean {:?}",
        messages as f64 / total as f64,
        times[total / 2],
        times[(total * 99 / 100).min(total - 1)],
        elapsed / total as u32,
    );
    for h in &handles {
        h.shutdown().await?;
    }
    Ok(())
}
