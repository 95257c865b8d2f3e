//! A tokio TCP driver that runs one node of any dme algorithm across processes and machines,
//! behind an API that looks like a mutex.
//!
//! The driver owns a [`dme_core::Node`] and its connections to the other members. The
//! application calls [`Handle::lock`] and gets a [`Guard`]; dropping the guard (or
//! [`Guard::unlock`]) leaves the critical section. The same node values run in the simulator.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use std::net::SocketAddr;
//! use dme_core::NodeId;
//! use dme_net::{Config, Driver};
//! use dme_ricart_agrawala::RicartAgrawala;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let me = NodeId(0); // this process; ids and addresses as in the cluster's config file
//!     let mut peers: BTreeMap<NodeId, SocketAddr> = BTreeMap::new();
//!     for (id, addr) in [(0, "127.0.0.1:7000"), (1, "127.0.0.1:7001"), (2, "127.0.0.1:7002")] {
//!         peers.insert(NodeId(id), addr.parse()?);
//!     }
//!     let members: Vec<NodeId> = peers.keys().copied().collect();
//!     let listen = peers.remove(&me).ok_or("me missing")?;
//!     let node = RicartAgrawala::new(me, &members)?;
//!     let mutex = Driver::spawn(node, listen, peers, Config::default()).await?;
//!     loop {
//!         let guard = mutex.lock().await?; // cluster-wide critical section
//!         println!("in the critical section, fencing token {}", guard.fencing_token());
//!         guard.unlock().await?; // or drop(guard)
//!         tokio::time::sleep(std::time::Duration::from_secs(1)).await;
//!     }
//! }
//! ```
//!
//! **Connections.** Every ordered pair of nodes (i, j) has its own TCP connection, dialled by i
//! to j's listening address: it carries i's `Hello` and algorithm messages to j, and j's
//! acknowledgements back. So each node dials every peer (its outgoing direction) and accepts
//! every peer's connection (its incoming direction); no tie-breaking between simultaneous
//! dials is needed. A lost outgoing connection is redialled after
//! [`Config::reconnect_initial`], doubling up to [`Config::reconnect_max`] while dialling
//! fails or the peer refuses us. A new connection from a peer replaces the previous one.
//!
//! **Wire.** Length-prefixed frames ([`wire::codec`]: 4-byte big-endian length, at most
//! [`Config::max_frame_len`] bytes), each a version byte ([`wire::WIRE_VERSION`]) and a
//! postcard-encoded [`wire::Frame`]: `Hello { from, to, incarnation }`, `Data { seq, clock,
//! msg }`, `Ack { seq }`, `Refuse { reason }` (the last one new; the others are encoded exactly
//! as before, so an older node still talks to a newer one, and only fails to decode a refusal). A garbage, oversized, truncated or wrong-version frame, a bad
//! handshake or a protocol violation closes that connection with a `warn!` log line ("rejected
//! connection: …") and counts in [`Status::rejected_connections`]; it never panics and never
//! reaches the node. [`wire::decode_frame`] is the pure decoder (fuzzed by proptest).
//!
//! **Delivery.** The algorithms assume reliable channels (Lamport's: reliable FIFO). The link
//! protocol is [`dme_link`]'s Sans-IO state machine, one [`dme_link::Link`] per peer, owned by
//! the driver task together with the node: messages from i to j are numbered 1, 2, 3, … and
//! kept by i until j acknowledges them; after a reconnection, j first acknowledges what it has
//! delivered, then i resends the rest in order, and j drops any number it has already
//! delivered. So a dropped connection loses, duplicates and reorders nothing: every message is
//! delivered exactly once, in sending order per pair. The tasks around it only move bytes: one
//! per connection (decode what it reads, write what it is given), one accepting, one per dial.
//!
//! **Restarts.** A peer that comes back with another `incarnation` (it restarted and lost its
//! state), or whose answer to our `Hello` acknowledges fewer messages than it had, is refused:
//! the classic algorithms do not tolerate crashes, and a restarted node would break them. The
//! refusing node sends a `Refuse` frame saying why before it closes; the refused node logs
//! `n0 refuses us: we restarted and lost our state; …`, [`Status`] shows it, and
//! [`Handle::lock`] fails with [`Error::Refused`] instead of waiting forever. The refused node
//! keeps redialling with a backoff that doubles up to [`Config::reconnect_max`] and is reset
//! only by a connection that made progress, and repeated warnings are logged once per peer and
//! reason per [`Config::warn_interval`], with a count of those left out. (Letting a restarted
//! node rejoin safely is future work.) The retransmission buffer is unbounded; it only holds
//! messages a peer has not yet acknowledged.
//!
//! **Timeouts.** [`Handle::try_lock_for`] gives up with [`Error::Timeout`], which names the
//! nodes this node still waits for ([`dme_core::Node::waiting_for`]) and the peers it has lost
//! contact with. None of the classic algorithms (Ricart–Agrawala, Lamport, Maekawa, Raymond)
//! has a message that withdraws a request, so the request is *abandoned*, not withdrawn: the
//! driver keeps it, and when it is granted, hands the critical section to the next local
//! `lock` call waiting, if any, or releases it at once ([`Status::abandoned`] counts these).
//! Safety is never at stake; the cost is one extra entry's messages.
//!
//! **Fencing tokens.** [`Guard::fencing_token`] is strictly greater than the token of every
//! grant that preceded it anywhere in the cluster, *for every algorithm*. The driver keeps a
//! Lamport clock over grants: it ticks at every grant (the token is the new value), travels in
//! every `Data` frame, and a receiver takes the maximum. For a safe algorithm, if grant A ends
//! before grant B begins, then A's exit happens-before B's entry through the algorithm's own
//! messages (otherwise some asynchronous execution would reach a state with both in the
//! critical section); those messages carry a clock at least A's token, so B's token is greater.
//! Timestamp algorithms (Ricart–Agrawala, Lamport) also expose their request stamp as
//! [`Guard::stamp`]; stamps `(clock, node)` grow with every grant, but the clock part alone
//! does not (two concurrent requests may carry the same clock, told apart by the node id), so
//! it is not a fencing token by itself. Maekawa and Raymond have no stamp; the driver's token
//! works for them too.
//!
//! **Observability.** `tracing` events (target `dme_net`, inside a span `dme{node=…}`):
//! `send`, `receive` (debug), `request` (debug), `enter`, `exit`, connection up/lost (info),
//! rejections (warn). [`Handle::status`] reports the node's phase, whom it waits for, which
//! peers are connected and the message counters: algorithm messages sent, in total and by
//! kind, counted once each however often retransmitted, so that messages per entry can be
//! compared with the simulator's.
//!
//! Test hooks: [`Handle::debug_disconnect`] cuts both connections with one peer;
//! [`Handle::shutdown`] stops a driver as a crash would.
//!
//! `cargo run -p dme-net --release --example loopback` runs five Ricart–Agrawala drivers in one
//! process over loopback and prints messages and wall time per entry (8 messages, a median of
//! about 0.15 ms per entry on a 2-core machine).

mod config;
mod conn;
mod core;
mod driver;
mod handle;
mod status;
mod throttle;
pub mod wire;

pub use config::{Config, Error};
pub use dme_link::Refusal;
pub use driver::Driver;
pub use handle::{Guard, Handle};
pub use status::{PeerStatus, Status};
pub use wire::{Frame, WireError, decode_frame, encode_frame};
