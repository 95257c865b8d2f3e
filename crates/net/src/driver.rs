//! The driver task that owns the node, the handle and guard the application holds, and the
//! status report.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dme_core::{Effect, Message, Node, NodeId, Outbox, Phase, Stamp};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{Instrument, debug, info, warn};

use crate::inbound;
use crate::link::{Link, LinkCmd};
use crate::wire::DEFAULT_MAX_FRAME_LEN;

/// Tunables of a driver. `Config::default()` suits loopback and LANs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The largest frame payload accepted or sent, in bytes. A peer announcing a longer frame
    /// is disconnected before the payload is read.
    pub max_frame_len: usize,
    /// The first pause before redialling a peer after a failed attempt or a lost connection;
    /// doubled after every failure up to `reconnect_max`.
    pub reconnect_initial: Duration,
    /// The longest pause between two dialling attempts.
    pub reconnect_max: Duration,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
    /// How long either side waits for the handshake (the `Hello`, and the first `Ack` that
    /// answers it) before closing the connection.
    pub handshake_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            reconnect_initial: Duration::from_millis(20),
            reconnect_max: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(2),
        }
    }
}

/// What went wrong, for the application.
#[derive(Debug)]
pub enum Error {
    /// Binding the listening socket failed.
    Io(std::io::Error),
    /// The arguments of [`Driver::spawn`] are inconsistent, or it was called outside a tokio
    /// runtime.
    InvalidConfig(String),
    /// [`Handle::try_lock_for`] gave up. The request is not withdrawn (the classic algorithms
    /// have no cancel message): the driver keeps it and releases the critical section at once
    /// when it is granted, unless another local `lock` call is waiting, which then gets it.
    Timeout {
        /// How long it waited.
        after: Duration,
        /// The nodes this node was still waiting for ([`Node::waiting_for`]).
        waiting_for: Vec<NodeId>,
        /// The peers this node had no connection to at that moment.
        disconnected: Vec<NodeId>,
    },
    /// The driver has stopped ([`Handle::shutdown`], or every handle was dropped).
    Stopped,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "i/o error: {e}"),
            Error::InvalidConfig(why) => write!(f, "invalid driver configuration: {why}"),
            Error::Timeout {
                after,
                waiting_for,
                disconnected,
            } => {
                write!(
                    f,
                    "no grant after {after:?}: waiting for {}",
                    list(waiting_for)
                )?;
                if !disconnected.is_empty() {
                    write!(f, " (disconnected: {})", list(disconnected))?;
                }
                Ok(())
            }
            Error::Stopped => f.write_str("the driver has stopped"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

fn list(ids: &[NodeId]) -> String {
    if ids.is_empty() {
        return "nobody".into();
    }
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One peer as seen by [`Handle::status`].
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PeerStatus {
    /// The peer.
    pub id: NodeId,
    /// Where this node dials it.
    pub addr: SocketAddr,
    /// Whether this node's outgoing connection to it is up (handshake done).
    pub outgoing: bool,
    /// Whether its connection to this node is up (handshake done).
    pub incoming: bool,
    /// Messages to it that it has not acknowledged yet (kept for retransmission).
    pub unacked: usize,
}

/// A snapshot of one driver: the node's phase, whom it waits for, connections and counters.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Where the node stands ([`Node::phase`]).
    pub phase: Phase,
    /// The nodes it waits for before it can enter ([`Node::waiting_for`]).
    pub waiting_for: Vec<NodeId>,
    /// For arbiter-based algorithms, the requester this node has lent its permission to.
    pub locked_for: Option<NodeId>,
    /// The stamp of the outstanding request, for timestamp-based algorithms.
    pub request_stamp: Option<Stamp>,
    /// Whether this node holds the token (token-based algorithms).
    pub holds_token: bool,
    /// Every peer, by id.
    pub peers: Vec<PeerStatus>,
    /// Peers with both connections up.
    pub connected: Vec<NodeId>,
    /// Peers with at least one connection down.
    pub disconnected: Vec<NodeId>,
    /// Critical-section entries granted to this node so far (abandoned ones included).
    pub entries: u64,
    /// Entries granted to a request whose caller had given up, released at once.
    pub abandoned: u64,
    /// Local `lock` calls waiting (including the one whose request is outstanding).
    pub local_waiters: usize,
    /// The fencing clock: the highest fencing token seen or issued.
    pub fence: u64,
    /// Algorithm messages sent (each counted once, however often it was retransmitted).
    pub messages_sent: u64,
    /// `messages_sent` by [`Message::kind`].
    pub messages_by_kind: BTreeMap<String, u64>,
    /// Algorithm messages delivered to the node (after de-duplication).
    pub messages_received: u64,
    /// Frames sent again on a new connection because the old one died before acknowledging.
    pub frames_retransmitted: u64,
    /// Frames received twice (after a retransmission) and dropped.
    pub duplicates_dropped: u64,
    /// Outgoing connections re-established after a loss.
    pub reconnects: u64,
    /// Connections closed because of bad input (garbage, oversized or truncated frames, wrong
    /// version, bad handshake, protocol violations).
    pub rejected_connections: u64,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id, self.phase)?;
        if self.phase == Phase::Requesting {
            write!(f, ", waiting for {}", list(&self.waiting_for))?;
        }
        if let Some(stamp) = self.request_stamp {
            write!(f, ", stamp {stamp}")?;
        }
        if let Some(r) = self.locked_for {
            write!(f, ", locked for {r}")?;
        }
        if self.holds_token {
            f.write_str(", holds the token")?;
        }
        write!(
            f,
            "; connected: {}; disconnected: {}; entries {}, messages sent {}",
            list(&self.connected),
            list(&self.disconnected),
            self.entries,
            self.messages_sent
        )?;
        for (kind, n) in &self.messages_by_kind {
            write!(f, " {kind}={n}")?;
        }
        Ok(())
    }
}

/// State shared by the driver's tasks.
pub(crate) struct Shared {
    pub me: NodeId,
    pub incarnation: u64,
    pub config: Config,
    pub peers: BTreeMap<NodeId, PeerShared>,
    pub frames_retransmitted: AtomicU64,
    pub duplicates_dropped: AtomicU64,
    pub reconnects: AtomicU64,
    pub rejected_connections: AtomicU64,
}

/// What the tasks share about one peer.
pub(crate) struct PeerShared {
    pub addr: SocketAddr,
    pub outgoing_up: AtomicBool,
    pub unacked: AtomicUsize,
    pub inbound: Mutex<Inbound>,
}

/// The receiving side of the peer's connection to us.
#[derive(Default)]
pub(crate) struct Inbound {
    /// The incarnation of the peer's driver, once it has said hello.
    pub incarnation: Option<u64>,
    /// The highest sequence number delivered to the node.
    pub last_delivered: u64,
    /// Numbers the incoming connections.
    pub generation: u64,
    /// The connection in use: its generation, and a sender whose drop tells its task to close.
    pub conn: Option<(u64, oneshot::Sender<()>)>,
}

impl PeerShared {
    pub fn inbound(&self) -> MutexGuard<'_, Inbound> {
        self.inbound.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An algorithm message handed to the driver task by a connection.
pub(crate) struct Delivery<M> {
    pub from: NodeId,
    pub clock: u64,
    pub msg: M,
}

enum Command {
    Lock(oneshot::Sender<Guard>),
    Release {
        entry: u64,
        done: Option<oneshot::Sender<()>>,
    },
    Status(oneshot::Sender<Status>),
    Disconnect(NodeId, oneshot::Sender<bool>),
    Shutdown(oneshot::Sender<()>),
}

/// Starts drivers. See the [crate documentation](crate) for the connection scheme and an
/// example.
#[derive(Debug)]
pub struct Driver;

impl Driver {
    /// Binds `listen` and starts a driver for `node`, whose peers (every other member of its
    /// cluster, not the node itself) listen at `peers`. Must be called inside a tokio runtime;
    /// the driver runs as tasks on it until [`Handle::shutdown`] or until every [`Handle`] and
    /// [`Guard`] is dropped.
    pub async fn spawn<N>(
        node: N,
        listen: SocketAddr,
        peers: BTreeMap<NodeId, SocketAddr>,
        config: Config,
    ) -> Result<Handle, Error>
    where
        N: Node + Send + 'static,
        N::Message: Send + 'static,
    {
        let listener = TcpListener::bind(listen).await?;
        Driver::spawn_on(node, listener, peers, config)
    }

    /// Like [`spawn`](Driver::spawn) on an already bound listener — handy with port 0: bind
    /// every node's listener first, then give each driver the others' addresses.
    pub fn spawn_on<N>(
        node: N,
        listener: TcpListener,
        peers: BTreeMap<NodeId, SocketAddr>,
        config: Config,
    ) -> Result<Handle, Error>
    where
        N: Node + Send + 'static,
        N::Message: Send + 'static,
    {
        let me = node.id();
        if peers.contains_key(&me) {
            return Err(Error::InvalidConfig(format!(
                "{me} is listed among its own peers"
            )));
        }
        if config.max_frame_len == 0 {
            return Err(Error::InvalidConfig("max_frame_len is 0".into()));
        }
        if config.reconnect_initial.is_zero() || config.reconnect_max < config.reconnect_initial {
            return Err(Error::InvalidConfig(
                "reconnect delays must satisfy 0 < reconnect_initial <= reconnect_max".into(),
            ));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::InvalidConfig(
                "Driver::spawn must be called inside a tokio runtime".into(),
            ));
        }
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            me,
            incarnation: fresh_incarnation(),
            config,
            peers: peers
                .iter()
                .map(|(&id, &addr)| {
                    (
                        id,
                        PeerShared {
                            addr,
                            outgoing_up: AtomicBool::new(false),
                            unacked: AtomicUsize::new(0),
                            inbound: Mutex::new(Inbound::default()),
                        },
                    )
                })
                .collect(),
            frames_retransmitted: AtomicU64::new(0),
            duplicates_dropped: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
        });
        let span = tracing::info_span!("dme", node = %me);
        let mut tasks = JoinSet::new();
        let (delivery_tx, delivery_rx) = mpsc::unbounded_channel();
        tasks.spawn(
            inbound::listen::<N::Message>(listener, Arc::clone(&shared), delivery_tx)
                .instrument(span.clone()),
        );
        let mut links = BTreeMap::new();
        for &peer in peers.keys() {
            let (tx, rx) = mpsc::unbounded_channel();
            links.insert(peer, tx);
            let link = Link::new(peer, Arc::clone(&shared), rx);
            tasks.spawn(link.run().instrument(span.clone()));
        }
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let core = Core {
            node,
            out: Outbox::new(),
            shared,
            links,
            cmds: cmd_tx.downgrade(),
            waiters: VecDeque::new(),
            clock: 0,
            entries: 0,
            current: None,
            abandoned: 0,
            messages_sent: 0,
            messages_by_kind: BTreeMap::new(),
            messages_received: 0,
        };
        info!(node = %me, %local_addr, peers = peers.len(), "driver started");
        tokio::spawn(core.run(cmd_rx, delivery_rx, tasks).instrument(span));
        Ok(Handle {
            id: me,
            local_addr,
            cmds: cmd_tx,
        })
    }
}

fn fresh_incarnation() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    RandomState::new().hash_one((std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed)))
}

/// The application's handle on a running driver. Cheap to clone; every clone drives the same
/// node. Local `lock` calls are served one at a time, each by its own request of the algorithm.
#[derive(Clone, Debug)]
pub struct Handle {
    id: NodeId,
    local_addr: SocketAddr,
    cmds: mpsc::UnboundedSender<Command>,
}

impl Handle {
    /// The node this driver runs.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The address the driver listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Waits for the critical section. The returned [`Guard`] holds it until dropped or
    /// [`unlock`](Guard::unlock)ed.
    ///
    /// Cancel-safe: if this future is dropped before it completes, the request is not lost
    /// track of — the driver releases the critical section as soon as it is granted (see
    /// [`Error::Timeout`]), so safety and the other nodes' progress are unaffected.
    pub async fn lock(&self) -> Result<Guard, Error> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Command::Lock(tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Like [`lock`](Handle::lock), but gives up after `timeout` with [`Error::Timeout`], which
    /// names the nodes this node was waiting for and those it had lost contact with.
    pub async fn try_lock_for(&self, timeout: Duration) -> Result<Guard, Error> {
        match tokio::time::timeout(timeout, self.lock()).await {
            Ok(result) => result,
            Err(_) => {
                let status = self.status().await?;
                Err(Error::Timeout {
                    after: timeout,
                    waiting_for: status.waiting_for,
                    disconnected: status.disconnected,
                })
            }
        }
    }

    /// A snapshot of the driver's state and counters.
    pub async fn status(&self) -> Result<Status, Error> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Command::Status(tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Test hook: closes both TCP connections with `peer` at once, as a network fault would.
    /// Unacknowledged messages are retransmitted after the driver redials. Returns an error
    /// if `peer` is not a peer.
    pub async fn debug_disconnect(&self, peer: NodeId) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Command::Disconnect(peer, tx))
            .map_err(|_| Error::Stopped)?;
        match rx.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::InvalidConfig(format!("{peer} is not a peer"))),
            Err(_) => Err(Error::Stopped),
        }
    }

    /// Stops the driver: every connection is closed, the listener too, pending `lock` calls
    /// fail with [`Error::Stopped`]. To its peers this looks like a crash.
    pub async fn shutdown(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Command::Shutdown(tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }
}

/// The critical section, held. Dropping it releases the critical section (asynchronously);
/// [`unlock`](Guard::unlock) releases it and waits until the driver has done so.
#[derive(Debug)]
#[must_use = "dropping the guard releases the critical section at once"]
pub struct Guard {
    cmds: mpsc::UnboundedSender<Command>,
    node: NodeId,
    entry: u64,
    fencing_token: u64,
    stamp: Option<Stamp>,
    armed: bool,
}

impl Guard {
    /// The fencing token of this grant: strictly greater than the token of every grant that
    /// preceded it anywhere in the cluster (see the [crate documentation](crate)). Give it to
    /// the protected resource, which rejects requests carrying a token lower than one it has
    /// already seen.
    pub fn fencing_token(&self) -> u64 {
        self.fencing_token
    }

    /// The algorithm's stamp of the request this grant answers, for timestamp-based
    /// algorithms ([`Node::request_stamp`]); stamps also grow with every grant for those.
    pub fn stamp(&self) -> Option<Stamp> {
        self.stamp
    }

    /// The node holding the critical section.
    pub fn node(&self) -> NodeId {
        self.node
    }

    /// This node's entry number (1, 2, …; abandoned grants count).
    pub fn entry(&self) -> u64 {
        self.entry
    }

    /// Releases the critical section and waits until the driver has handed the release
    /// messages to the network.
    pub async fn unlock(mut self) -> Result<(), Error> {
        self.armed = false;
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Command::Release {
                entry: self.entry,
                done: Some(tx),
            })
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.cmds.send(Command::Release {
                entry: self.entry,
                done: None,
            });
        }
    }
}

/// The driver task's state: the node and everything around it.
struct Core<N: Node> {
    node: N,
    out: Outbox<N::Message>,
    shared: Arc<Shared>,
    links: BTreeMap<NodeId, mpsc::UnboundedSender<LinkCmd<N::Message>>>,
    cmds: mpsc::WeakUnboundedSender<Command>,
    /// Local `lock` calls, oldest first.
    waiters: VecDeque<oneshot::Sender<Guard>>,
    /// The fencing clock (a Lamport clock ticked at every grant).
    clock: u64,
    entries: u64,
    /// The entry held by a local guard.
    current: Option<u64>,
    abandoned: u64,
    messages_sent: u64,
    messages_by_kind: BTreeMap<&'static str, u64>,
    messages_received: u64,
}

impl<N> Core<N>
where
    N: Node + Send + 'static,
    N::Message: Send + 'static,
{
    async fn run(
        mut self,
        mut cmds: mpsc::UnboundedReceiver<Command>,
        mut deliveries: mpsc::UnboundedReceiver<Delivery<N::Message>>,
        mut tasks: JoinSet<()>,
    ) {
        loop {
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(done)) => {
                        tasks.shutdown().await;
                        info!("driver stopped");
                        let _ = done.send(());
                        return;
                    }
                    Some(cmd) => self.command(cmd),
                },
                Some(delivery) = deliveries.recv() => self.deliver(delivery),
            }
        }
        tasks.shutdown().await;
        info!("driver stopped: every handle was dropped");
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Lock(reply) => {
                self.waiters.push_back(reply);
                self.maybe_request();
            }
            Command::Release { entry, done } => {
                if self.current == Some(entry) {
                    self.current = None;
                    self.release_node(entry);
                    self.pump();
                } else {
                    warn!(entry, "release of an entry that is not held; ignored");
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
                self.maybe_request();
            }
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::Disconnect(peer, reply) => {
                let known = match (self.links.get(&peer), self.shared.peers.get(&peer)) {
                    (Some(link), Some(p)) => {
                        warn!(peer = %peer, "test hook: cutting both connections");
                        let _ = link.send(LinkCmd::Cut);
                        p.inbound().conn = None;
                        true
                    }
                    _ => false,
                };
                let _ = reply.send(known);
            }
            Command::Shutdown(_) => {} // handled in run
        }
    }

    /// Issues a request for the oldest live local waiter, if the node is idle.
    fn maybe_request(&mut self) {
        if self.node.phase() != Phase::Idle {
            return;
        }
        self.waiters.retain(|w| !w.is_closed());
        if self.waiters.is_empty() {
            return;
        }
        match self.node.request(&mut self.out) {
            Ok(()) => debug!(stamp = ?self.node.request_stamp(), "request"),
            Err(e) => {
                warn!(error = %e, "the node refused a request");
                self.out.clear();
            }
        }
        self.pump();
    }

    fn deliver(&mut self, d: Delivery<N::Message>) {
        self.clock = self.clock.max(d.clock);
        self.messages_received += 1;
        debug!(from = %d.from, kind = d.msg.kind(), clock = d.clock, "receive");
        if let Err(e) = self.node.on_message(d.from, d.msg, &mut self.out) {
            warn!(from = %d.from, error = %e, "the node rejected a message");
            self.out.clear();
        }
        self.pump();
    }

    /// Applies the node's effects until none is left (a grant nobody wants releases at once,
    /// which produces more).
    fn pump(&mut self) {
        while !self.out.is_empty() {
            let effects: Vec<_> = self.out.drain().collect();
            for effect in effects {
                match effect {
                    Effect::Send { to, msg } => self.send(to, msg),
                    Effect::Enter => self.enter(),
                }
            }
        }
    }

    fn send(&mut self, to: NodeId, msg: N::Message) {
        let kind = msg.kind();
        match self.links.get(&to) {
            Some(link) => {
                self.messages_sent += 1;
                *self.messages_by_kind.entry(kind).or_insert(0) += 1;
                debug!(to = %to, kind, clock = self.clock, "send");
                let _ = link.send(LinkCmd::Send {
                    clock: self.clock,
                    msg,
                });
            }
            None => warn!(to = %to, kind, "the node sent a message to a non-peer; dropped"),
        }
    }

    fn enter(&mut self) {
        self.clock += 1;
        self.entries += 1;
        let entry = self.entries;
        let stamp = self.node.request_stamp();
        info!(entry, fencing_token = self.clock, ?stamp, "enter");
        if let Some(cmds) = self.cmds.upgrade() {
            while let Some(waiter) = self.waiters.pop_front() {
                let guard = Guard {
                    cmds: cmds.clone(),
                    node: self.shared.me,
                    entry,
                    fencing_token: self.clock,
                    stamp,
                    armed: true,
                };
                match waiter.send(guard) {
                    Ok(()) => {
                        self.current = Some(entry);
                        return;
                    }
                    Err(mut guard) => guard.armed = false,
                }
            }
        }
        self.abandoned += 1;
        info!(
            entry,
            "nobody waits for this grant any more (abandoned request): releasing"
        );
        self.release_node(entry);
    }

    fn release_node(&mut self, entry: u64) {
        match self.node.release(&mut self.out) {
            Ok(()) => info!(entry, "exit"),
            Err(e) => {
                warn!(entry, error = %e, "the node refused a release");
                self.out.clear();
            }
        }
    }

    fn status(&self) -> Status {
        let mut peers = Vec::new();
        let (mut connected, mut disconnected) = (Vec::new(), Vec::new());
        for (&id, p) in &self.shared.peers {
            let outgoing = p.outgoing_up.load(Ordering::Relaxed);
            let incoming = p.inbound().conn.is_some();
            if outgoing && incoming {
                connected.push(id);
            } else {
                disconnected.push(id);
            }
            peers.push(PeerStatus {
                id,
                addr: p.addr,
                outgoing,
                incoming,
                unacked: p.unacked.load(Ordering::Relaxed),
            });
        }
        Status {
            id: self.shared.me,
            phase: self.node.phase(),
            waiting_for: self.node.waiting_for(),
            locked_for: self.node.locked_for(),
            request_stamp: self.node.request_stamp(),
            holds_token: self.node.holds_token(),
            peers,
            connected,
            disconnected,
            entries: self.entries,
            abandoned: self.abandoned,
            local_waiters: self.waiters.iter().filter(|w| !w.is_closed()).count(),
            fence: self.clock,
            messages_sent: self.messages_sent,
            messages_by_kind: self
                .messages_by_kind
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            messages_received: self.messages_received,
            frames_retransmitted: self.shared.frames_retransmitted.load(Ordering::Relaxed),
            duplicates_dropped: self.shared.duplicates_dropped.load(Ordering::Relaxed),
            reconnects: self.shared.reconnects.load(Ordering::Relaxed),
            rejected_connections: self.shared.rejected_connections.load(Ordering::Relaxed),
        }
    }
}
