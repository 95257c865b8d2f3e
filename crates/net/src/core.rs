//! The driver task: it owns the node, one [`Link`] per peer and the table of connections, and
//! is the only place where anything is decided. Sockets report to it ([`NetEvent`]); it feeds
//! the links and the node, and writes what they produce.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use dme_core::{Effect, Message, Node, NodeId, Outbox, Phase};
use dme_link::{Event, Half, Link, LinkError, Transmit};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};
use tracing::{Instrument, debug, error, info, warn};

use crate::config::{Config, Error};
use crate::conn::{self, ConnId, Ids, Limits, NetEvent, Rejection, Write};
use crate::handle::{Command, Guard};
use crate::status::{PeerStatus, Status};
use crate::throttle::Throttle;
use crate::wire::{Frame, Stamped, encode_checked};

/// One peer: where it listens, the link with it, and its current connections.
struct Peer<M> {
    addr: SocketAddr,
    link: Link<Stamped<M>>,
    /// The dial in progress, if any.
    dialling: Option<ConnId>,
    /// The connection this node dialled, once connected.
    out: Option<ConnId>,
    /// The peer's connection to this node, once its `Hello` was accepted.
    inc: Option<ConnId>,
}

/// A live connection.
struct Conn {
    half: Half,
    /// Known for dialled connections, and for accepted ones after their `Hello`.
    peer: Option<NodeId>,
    addr: Option<SocketAddr>,
    tx: mpsc::UnboundedSender<Write>,
}

/// Everything the driver task owns.
pub(crate) struct Core<N: Node> {
    pub node: N,
    pub out: Outbox<N::Message>,
    pub me: NodeId,
    pub config: Config,
    pub start: Instant,
    peers: BTreeMap<NodeId, Peer<N::Message>>,
    conns: BTreeMap<ConnId, Conn>,
    ids: Ids,
    net_tx: mpsc::UnboundedSender<NetEvent<N::Message>>,
    tasks: JoinSet<()>,
    span: tracing::Span,
    pub cmds: mpsc::WeakUnboundedSender<Command>,
    /// Local `lock` calls, oldest first.
    waiters: VecDeque<oneshot::Sender<Result<Guard, Error>>>,
    /// The fencing clock (a Lamport clock ticked at every grant).
    clock: u64,
    entries: u64,
    /// The entry held by a local guard.
    current: Option<u64>,
    abandoned: u64,
    messages_sent: u64,
    messages_by_kind: BTreeMap<&'static str, u64>,
    messages_received: u64,
    rejected_connections: u64,
    throttle: Throttle,
}

/// Microseconds since `start`: the links' time.
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The link configuration for a driver's: no timer retransmission (TCP is reliable while
/// connected), backoff in microseconds.
pub(crate) fn link_config(config: &Config) -> dme_link::Config {
    dme_link::Config {
        retransmit_after: None,
        reconnect_initial: micros(config.reconnect_initial).max(1),
        reconnect_max: micros(config.reconnect_max).max(1),
    }
}

impl<N> Core<N>
where
    N: Node + Send + 'static,
    N::Message: Send + 'static,
{
    /// Builds the task's state; `listener_task` must already run `conn::listen` with `ids` and
    /// the sender of `net_rx`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        node: N,
        incarnation: u64,
        config: Config,
        addrs: &BTreeMap<NodeId, SocketAddr>,
        ids: Ids,
        net_tx: mpsc::UnboundedSender<NetEvent<N::Message>>,
        tasks: JoinSet<()>,
        span: tracing::Span,
        cmds: mpsc::WeakUnboundedSender<Command>,
    ) -> Result<Self, Error> {
        let me = node.id();
        let lc = link_config(&config);
        let mut peers = BTreeMap::new();
        for (&id, &addr) in addrs {
            let link = Link::new(me, id, incarnation, lc, 0)
                .map_err(|e| Error::InvalidConfig(e.to_string()))?;
            peers.insert(
                id,
                Peer {
                    addr,
                    link,
                    dialling: None,
                    out: None,
                    inc: None,
                },
            );
        }
        Ok(Core {
            node,
            out: Outbox::new(),
            me,
            throttle: Throttle::new(config.warn_interval),
            config,
            start: Instant::now(),
            peers,
            conns: BTreeMap::new(),
            ids,
            net_tx,
            tasks,
            span,
            cmds,
            waiters: VecDeque::new(),
            clock: 0,
            entries: 0,
            current: None,
            abandoned: 0,
            messages_sent: 0,
            messages_by_kind: BTreeMap::new(),
            messages_received: 0,
            rejected_connections: 0,
        })
    }

    fn now(&self) -> u64 {
        micros(self.start.elapsed())
    }

    fn limits(&self) -> Limits {
        Limits {
            max_frame_len: self.config.max_frame_len,
            connect_timeout: self.config.connect_timeout,
            handshake_timeout: self.config.handshake_timeout,
        }
    }

    /// The earliest link deadline, as an instant.
    fn next_deadline(&self) -> Option<Instant> {
        self.peers
            .values()
            .filter_map(|p| p.link.poll_timeout())
            .min()
            .map(|t| self.start + Duration::from_micros(t))
    }

    pub async fn run(
        mut self,
        mut cmds: mpsc::UnboundedReceiver<Command>,
        mut net: mpsc::UnboundedReceiver<NetEvent<N::Message>>,
    ) {
        loop {
            self.service();
            let deadline = self.next_deadline();
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(done)) => {
                        self.tasks.shutdown().await;
                        info!("driver stopped");
                        let _ = done.send(());
                        return;
                    }
                    Some(cmd) => self.command(cmd),
                },
                Some(ev) = net.recv() => self.net(ev),
                () = async { sleep_until(deadline.unwrap_or_else(Instant::now)).await },
                    if deadline.is_some() => self.timeouts(),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
            }
        }
        self.tasks.shutdown().await;
        info!("driver stopped: every handle was dropped");
    }

    fn timeouts(&mut self) {
        let now = self.now();
        for (id, p) in &mut self.peers {
            if p.link.poll_timeout().is_some_and(|t| t <= now) {
                if let Err(e) = p.link.handle_timeout(now) {
                    error!(peer = %id, error = %e, "link timer");
                }
            }
        }
    }

    /// Applies what the links produced until none has anything left: frames to write, events
    /// to act on (a delivery makes the node send, which feeds other links).
    fn service(&mut self) {
        loop {
            let mut busy = false;
            let ids: Vec<NodeId> = self.peers.keys().copied().collect();
            for id in ids {
                while let Some(t) = self.peers.get_mut(&id).and_then(|p| p.link.poll_transmit()) {
                    busy = true;
                    self.transmit(id, t);
                }
                while let Some(ev) = self.peers.get_mut(&id).and_then(|p| p.link.poll_event()) {
                    busy = true;
                    self.link_event(id, ev);
                }
            }
            if !busy {
                return;
            }
        }
    }

    fn transmit(&mut self, peer: NodeId, t: Transmit<Stamped<N::Message>>) {
        let Some(p) = self.peers.get(&peer) else {
            return;
        };
        let conn = match t.half {
            Half::Outgoing => p.out,
            Half::Incoming => p.inc,
        };
        let Some(conn) = conn.and_then(|c| self.conns.get(&c)) else {
            return; // the connection is gone; the link sends again after the next handshake
        };
        match encode_checked(&Frame::from(t.frame), self.config.max_frame_len) {
            Ok(bytes) => {
                let _ = conn.tx.send(Write::Frame(bytes));
            }
            Err(e) => error!(peer = %peer, error = %e, "cannot encode a frame"),
        }
    }

    fn link_event(&mut self, peer: NodeId, ev: Event<Stamped<N::Message>>) {
        match ev {
            Event::Deliver { payload, .. } => self.deliver(peer, payload),
            Event::Dial => {
                let id = self.ids.next();
                let Some(p) = self.peers.get_mut(&peer) else {
                    return;
                };
                p.dialling = Some(id);
                let task = conn::dial(id, peer, p.addr, self.limits(), self.net_tx.clone());
                self.tasks.spawn(task.instrument(self.span.clone()));
            }
            Event::Up { resent } => {
                if resent > 0 {
                    info!(peer = %peer, frames = resent, "retransmitting unacknowledged frames");
                }
                let unacked = self.peers.get(&peer).map_or(0, |p| p.link.unacked());
                info!(peer = %peer, unacked, "outgoing connection up");
            }
            Event::Refused(reason) => {
                let backoff = self.peers.get(&peer).map_or(0, |p| p.link.backoff());
                if let Some(more) = self.throttle.admit(Some(peer), "refused") {
                    warn!(
                        peer = %peer,
                        "{peer} refuses us: {reason}; redialling with backoff {:?}{more}",
                        Duration::from_micros(backoff)
                    );
                }
                while let Some(w) = self.waiters.pop_front() {
                    let _ = w.send(Err(Error::Refused { by: peer, reason }));
                }
            }
        }
    }

    /// Counts and logs (rate-limited) a connection closed for bad input.
    fn rejected(&mut self, peer: Option<NodeId>, addr: Option<SocketAddr>, r: &Rejection) {
        self.rejected_connections += 1;
        if let Some(more) = self.throttle.admit(peer, r.category) {
            let addr = addr.map(|a| a.to_string()).unwrap_or_default();
            match peer {
                Some(peer) => {
                    warn!(%addr, peer = %peer, "rejected connection: {}{more}", r.text)
                }
                None => warn!(%addr, "rejected connection: {}{more}", r.text),
            }
        }
    }

    /// Closes connection `id` after a link error, telling the peer why first if it is refused.
    fn reject_conn(&mut self, id: ConnId, e: &LinkError) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        if let Some(reason) = e.refusal() {
            if let Ok(bytes) = encode_checked(
                &Frame::<N::Message>::Refuse { reason },
                self.config.max_frame_len,
            ) {
                let _ = conn.tx.send(Write::Frame(bytes));
            }
        }
        let _ = conn.tx.send(Write::Close);
        let category = match e {
            LinkError::PeerRestarted { .. } => "restarted",
            LinkError::PeerForgot { .. } => "forgot",
            LinkError::Gap { .. } => "gap",
            _ => "protocol",
        };
        let r = Rejection {
            category,
            text: e.to_string(),
        };
        self.rejected(conn.peer, conn.addr, &r);
        self.detach(id, &conn);
    }

    /// Forgets connection `id` (already removed from the table) in its peer's state.
    fn detach(&mut self, id: ConnId, conn: &Conn) {
        let now = self.now();
        let Some(p) = conn.peer.and_then(|peer| self.peers.get_mut(&peer)) else {
            return;
        };
        if p.out == Some(id) {
            p.out = None;
            let _ = p.link.on_disconnected(now);
        }
        if p.inc == Some(id) {
            p.inc = None;
        }
    }

    fn net(&mut self, ev: NetEvent<N::Message>) {
        let now = self.now();
        match ev {
            NetEvent::Connected { id, peer, tx } => {
                let Some(p) = self.peers.get_mut(&peer) else {
                    return;
                };
                if p.dialling != Some(id) {
                    let _ = tx.send(Write::Close);
                    return;
                }
                p.dialling = None;
                p.out = Some(id);
                let conn = Conn {
                    half: Half::Outgoing,
                    peer: Some(peer),
                    addr: Some(p.addr),
                    tx,
                };
                self.conns.insert(id, conn);
                if let Err(e) = p.link.on_connected(now) {
                    error!(peer = %peer, error = %e, "link");
                }
            }
            NetEvent::DialFailed { id, peer, why } => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    if p.dialling == Some(id) {
                        p.dialling = None;
                        let _ = p.link.on_dial_failed(now);
                        let retry_in = p
                            .link
                            .poll_timeout()
                            .map(|t| Duration::from_micros(t.saturating_sub(now)));
                        debug!(peer = %peer, reason = %why, ?retry_in, "dialling failed");
                    }
                }
            }
            NetEvent::Accepted { id, addr, tx } => {
                let conn = Conn {
                    half: Half::Incoming,
                    peer: None,
                    addr: Some(addr),
                    tx,
                };
                self.conns.insert(id, conn);
            }
            NetEvent::Frame { id, frame } => self.frame(id, frame),
            NetEvent::Closed { id, rejected } => {
                let Some(conn) = self.conns.remove(&id) else {
                    return;
                };
                if let Some(r) = &rejected {
                    self.rejected(conn.peer, conn.addr, r);
                }
                if let Some(peer) = conn.peer {
                    let out = self.peers.get(&peer).is_some_and(|p| p.out == Some(id));
                    if out {
                        info!(peer = %peer, "outgoing connection lost");
                    } else {
                        debug!(peer = %peer, "incoming connection closed");
                    }
                }
                self.detach(id, &conn);
            }
        }
    }

    fn frame(&mut self, id: ConnId, frame: Frame<N::Message>) {
        let now = self.now();
        let Some(conn) = self.conns.get(&id) else {
            return; // closed meanwhile
        };
        let (half, known) = (conn.half, conn.peer);
        let peer = match (half, known) {
            (Half::Incoming, None) => {
                // The handshake: the first frame says who this is.
                let Frame::Hello { from, to, .. } = &frame else {
                    return self.reject_plain(
                        id,
                        None,
                        "not a Hello",
                        "the first frame is not a Hello",
                    );
                };
                let (from, to) = (*from, *to);
                if to != self.me {
                    let why = format!("Hello addressed to {to}, but this is {}", self.me);
                    return self.reject_plain(id, Some(from), "misaddressed", &why);
                }
                if !self.peers.contains_key(&from) {
                    let why = format!("Hello from {from}, which is not a peer");
                    return self.reject_plain(id, Some(from), "not a peer", &why);
                }
                let Some(p) = self.peers.get_mut(&from) else {
                    return;
                };
                if let Err(e) = p.link.on_frame(now, Half::Incoming, frame.into()) {
                    if let Some(c) = self.conns.get_mut(&id) {
                        c.peer = Some(from);
                    }
                    return self.reject_conn(id, &e);
                }
                // Accepted: this connection replaces the previous one from the peer, if any.
                let previous = p.inc.replace(id);
                let delivered = p.link.delivered();
                if let Some(c) = self.conns.get_mut(&id) {
                    c.peer = Some(from);
                    info!(peer = %from, addr = ?c.addr, last_delivered = delivered, "incoming connection up");
                }
                if let Some(old) = previous.and_then(|old| self.conns.remove(&old)) {
                    debug!(peer = %from, "incoming connection replaced");
                    let _ = old.tx.send(Write::Close);
                }
                return;
            }
            (_, Some(peer)) => peer,
            (Half::Outgoing, None) => return,
        };
        let Some(p) = self.peers.get_mut(&peer) else {
            return;
        };
        let current = match half {
            Half::Outgoing => p.out,
            Half::Incoming => p.inc,
        };
        if current != Some(id) {
            return; // a frame from a connection already replaced
        }
        if half == Half::Incoming && matches!(frame, Frame::Hello { .. }) {
            return self.reject_plain(id, Some(peer), "second Hello", "a second Hello");
        }
        if let Err(e) = p.link.on_frame(now, half, frame.into()) {
            self.reject_conn(id, &e);
        }
    }

    fn reject_plain(
        &mut self,
        id: ConnId,
        peer: Option<NodeId>,
        category: &'static str,
        why: &str,
    ) {
        let Some(conn) = self.conns.remove(&id) else {
            return;
        };
        let _ = conn.tx.send(Write::Close);
        let r = Rejection {
            category,
            text: why.to_string(),
        };
        self.rejected(peer, conn.addr, &r);
        self.detach(id, &conn);
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Lock(reply) => {
                if let Some((by, reason)) = self
                    .peers
                    .iter()
                    .find_map(|(&id, p)| p.link.refused().map(|r| (id, r)))
                {
                    let _ = reply.send(Err(Error::Refused { by, reason }));
                    return;
                }
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
                let known = self.peers.contains_key(&peer);
                if known {
                    warn!(peer = %peer, "test hook: cutting both connections");
                    let ids: Vec<ConnId> = self
                        .peers
                        .get(&peer)
                        .map(|p| p.out.into_iter().chain(p.inc).collect())
                        .unwrap_or_default();
                    for id in ids {
                        if let Some(conn) = self.conns.remove(&id) {
                            let _ = conn.tx.send(Write::Close);
                            self.detach(id, &conn);
                        }
                    }
                }
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

    fn deliver(&mut self, from: NodeId, d: Stamped<N::Message>) {
        self.clock = self.clock.max(d.clock);
        self.messages_received += 1;
        debug!(from = %from, kind = d.msg.kind(), clock = d.clock, "receive");
        if let Err(e) = self.node.on_message(from, d.msg, &mut self.out) {
            warn!(from = %from, error = %e, "the node rejected a message");
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
        let now = self.now();
        let Some(p) = self.peers.get_mut(&to) else {
            warn!(to = %to, kind, "the node sent a message to a non-peer; dropped");
            return;
        };
        // Refuse up front what could never be written (the largest sequence number).
        let probe = Frame::Data {
            seq: u64::MAX,
            clock: self.clock,
            msg,
        };
        if let Err(e) = encode_checked(&probe, self.config.max_frame_len) {
            error!(peer = %to, kind, error = %e, "cannot encode a message; it is dropped (raise max_frame_len)");
            return;
        }
        let Frame::Data { clock, msg, .. } = probe else {
            return;
        };
        match p.link.send(now, Stamped { clock, msg }) {
            Ok(_) => {
                self.messages_sent += 1;
                *self.messages_by_kind.entry(kind).or_insert(0) += 1;
                debug!(to = %to, kind, clock, "send");
            }
            Err(e) => error!(peer = %to, kind, error = %e, "the link refused a message"),
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
                    node: self.me,
                    entry,
                    fencing_token: self.clock,
                    stamp,
                    armed: true,
                };
                match waiter.send(Ok(guard)) {
                    Ok(()) => {
                        self.current = Some(entry);
                        return;
                    }
                    Err(result) => {
                        if let Ok(mut guard) = result {
                            guard.armed = false;
                        }
                    }
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
        let (mut retransmitted, mut duplicates, mut reconnects) = (0, 0, 0);
        for (&id, p) in &self.peers {
            let outgoing = p.out.is_some() && p.link.is_up();
            let incoming = p.inc.is_some();
            if outgoing && incoming {
                connected.push(id);
            } else {
                disconnected.push(id);
            }
            let stats = p.link.stats();
            retransmitted += stats.retransmitted;
            duplicates += stats.duplicates;
            reconnects += stats.reconnects;
            peers.push(PeerStatus {
                id,
                addr: p.addr,
                outgoing,
                incoming,
                unacked: p.link.unacked(),
                refuses_us: p.link.refused(),
                backoff: Duration::from_micros(p.link.backoff()),
            });
        }
        Status {
            id: self.me,
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
            frames_retransmitted: retransmitted,
            duplicates_dropped: duplicates,
            reconnects,
            rejected_connections: self.rejected_connections,
        }
    }
}
