//! The reliable, ordered link between two dme nodes, as a Sans-IO state machine.
//!
//! The algorithms assume reliable channels (Lamport's: reliable FIFO channels). A [`Link`] is
//! one node's end of the channels with one peer, both directions: it numbers the messages this
//! node sends to the peer, keeps them until the peer acknowledges them, sends them again after
//! a timeout or a reconnection, and on the other direction delivers the peer's messages exactly
//! once and in order, dropping duplicates. It is the same kind of value as an algorithm node
//! (`dme_core::Node`): no socket, no clock, no task. Inputs are method calls, each given the
//! current time; outputs are polled:
//!
//! * frames in: [`Link::on_frame`]; connection events in: [`Link::on_connected`],
//!   [`Link::on_dial_failed`], [`Link::on_disconnected`]; messages in: [`Link::send`]; time in:
//!   [`Link::handle_timeout`];
//! * frames out: [`Link::poll_transmit`]; deliveries and requests out: [`Link::poll_event`]
//!   ([`Event::Deliver`], [`Event::Dial`], …); the next deadline: [`Link::poll_timeout`].
//!
//! Time is a plain `u64` in the caller's unit (the simulator's ticks, the TCP driver's
//! microseconds since it started), never read from a clock. It must never go backwards.
//!
//! # The protocol
//!
//! Each ordered pair (i, j) has a *direction*: i's [`Half::Outgoing`], j's [`Half::Incoming`].
//! Over TCP it is one connection, dialled by i; in the simulator it is just the frames from i to
//! j and back. i opens the direction with [`Frame::Hello`] (carrying i's *incarnation*, a
//! number drawn when i started); j answers with [`Frame::Ack`] naming the last message it
//! delivered, and from then on acknowledges every [`Frame::Data`] cumulatively. When the answer
//! to a `Hello` arrives, i sends (again) everything not acknowledged, in order.
//!
//! * **Sequence numbers.** i numbers its messages to j 1, 2, 3, …; j delivers number `d + 1`
//!   after `d` and nothing else: a lower number is a duplicate (acknowledged again and
//!   dropped), a higher one is a gap ([`LinkError::Gap`]; the frame is dropped, the sender will
//!   send the missing ones again).
//! * **Retransmission.** After a reconnection (the answer to a new `Hello`) every
//!   unacknowledged message is sent again; with [`Config::retransmit_after`] set, also whenever
//!   that long passes without the acknowledgement advancing (go-back-N). The `Hello` itself is
//!   repeated on that timer until answered, so a link works over a network that loses frames.
//! * **Reconnection.** A direction that is down is dialled again after a backoff that doubles
//!   from [`Config::reconnect_initial`] to [`Config::reconnect_max`] after every failure: a
//!   failed dial, a connection refused or closed during the handshake, or one that closed
//!   without having made progress. It is reset only once a connection has made progress
//!   (acknowledged a message) or stayed up for `reconnect_max`, so a peer that accepts TCP
//!   connections and refuses them at once is not hammered.
//! * **Incarnations.** The first `Hello` fixes the peer's incarnation. A `Hello` with another
//!   one comes from a peer that restarted and lost its state; it is refused
//!   ([`LinkError::PeerRestarted`], whose [`refusal`](LinkError::refusal) the caller sends as a
//!   [`Frame::Refuse`] before closing). The same holds the other way round: an answer to our
//!   `Hello` that acknowledges fewer messages than the peer had already acknowledged means the
//!   peer lost its state ([`LinkError::PeerForgot`]). A [`Frame::Refuse`] received is reported
//!   as [`Event::Refused`] and kept ([`Link::refused`]) until a handshake succeeds. The classic
//!   algorithms do not tolerate crashes; letting a restarted node rejoin is not this crate's job.
//!
//! # Invariants
//!
//! 1. The messages delivered from the peer are exactly its first `delivered()` messages, in
//!    sending order, each once.
//! 2. [`Link::unacked`] holds exactly the messages numbered `acked() + 1 .. next_seq()`, in
//!    order: nothing is forgotten before the peer has acknowledged it.
//! 3. An input that returns an error changes nothing (the link is equal to what it was before).
//! 4. Deadlines never wrap: a time that does not fit is refused ([`LinkError::TimeOverflow`]).
//!
//! The simulator runs every algorithm over this link on a network that loses, duplicates and
//! reorders frames, and the exhaustive checker checks invariant 1 for two endpoints
//! (`dme_sim::overlink` and `dme_sim::check::link`).

use std::collections::VecDeque;
use std::fmt;
use std::hash::{Hash, Hasher};

use dme_core::NodeId;
use serde::{Deserialize, Serialize};

/// A point in time, in the caller's unit.
pub type Time = u64;

/// The link's tunables, in the caller's time unit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Config {
    /// Send unacknowledged frames (or the unanswered `Hello`) again after this long without
    /// progress. `None`: only after a reconnection, which suits a transport that is reliable
    /// while connected (TCP). `Some(0)` lets the timer fire at any step (the exhaustive
    /// checker's abstraction of "some time later").
    pub retransmit_after: Option<u64>,
    /// The first pause before dialling again after a failure; doubled after each failure.
    pub reconnect_initial: u64,
    /// The longest pause between two dialling attempts.
    pub reconnect_max: u64,
}

impl Config {
    /// Checks `0 < reconnect_initial <= reconnect_max`.
    pub fn validate(&self) -> Result<(), LinkError> {
        if self.reconnect_initial == 0 || self.reconnect_max < self.reconnect_initial {
            return Err(LinkError::InvalidConfig(format!(
                "reconnect delays must satisfy 0 < reconnect_initial ({}) <= reconnect_max ({})",
                self.reconnect_initial, self.reconnect_max
            )));
        }
        Ok(())
    }
}

/// One of the two directions between this node and its peer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Half {
    /// The direction this node opens: it carries this node's `Hello` and `Data` to the peer and
    /// the peer's `Ack`s back. Over TCP, the connection this node dials.
    Outgoing,
    /// The direction the peer opens: its `Hello` and `Data` in, this node's `Ack`s out.
    Incoming,
}

impl Half {
    /// The same direction seen from the other end.
    pub fn opposite(self) -> Half {
        match self {
            Half::Outgoing => Half::Incoming,
            Half::Incoming => Half::Outgoing,
        }
    }
}

/// Why a node refuses a peer.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Refusal {
    /// The peer said hello with another incarnation than before: it restarted.
    Restarted,
    /// The peer acknowledged fewer messages than it already had: it lost its state.
    Forgot,
}

impl fmt::Display for Refusal {
    /// In the refused node's words (it prints "n0 refuses us: …").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Restarted => f.write_str(
                "we restarted and lost our state (we said hello with a new incarnation); \
                 the algorithms do not tolerate crashes, so a restarted node cannot rejoin",
            ),
            Refusal::Forgot => f.write_str(
                "we restarted and lost our state (we acknowledged fewer of its messages than \
                 before); the algorithms do not tolerate crashes, so a restarted node cannot rejoin",
            ),
        }
    }
}

/// A frame of the link protocol, carrying payloads of type `P`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
pub enum Frame<P> {
    /// Opens a direction: who is sending to whom, and the sender's incarnation.
    Hello {
        /// The node opening the direction.
        from: NodeId,
        /// The node it believes it talks to.
        to: NodeId,
        /// A number drawn when `from` started; another one later means it restarted.
        incarnation: u64,
    },
    /// A message, numbered per direction 1, 2, 3, …
    Data {
        /// The message's number.
        seq: u64,
        /// The message.
        payload: P,
    },
    /// Cumulative acknowledgement: every message up to `seq` has been delivered (0: none).
    Ack {
        /// The highest number delivered.
        seq: u64,
    },
    /// Sent before closing a direction: why this node will not talk to the peer.
    Refuse {
        /// Why.
        reason: Refusal,
    },
}

impl<P> Frame<P> {
    /// The frame's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Frame::Hello { .. } => "Hello",
            Frame::Data { .. } => "Data",
            Frame::Ack { .. } => "Ack",
            Frame::Refuse { .. } => "Refuse",
        }
    }

    /// The direction, as seen by the frame's *receiver*, on which it may arrive (`None`: on
    /// either). `Hello` and `Data` arrive on the receiver's incoming direction, `Ack` on its
    /// outgoing one.
    pub fn arrives_on(&self) -> Option<Half> {
        match self {
            Frame::Hello { .. } | Frame::Data { .. } => Some(Half::Incoming),
            Frame::Ack { .. } => Some(Half::Outgoing),
            Frame::Refuse { .. } => None,
        }
    }
}

/// A frame to send, and the direction it belongs to (over TCP: the connection to write it to).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Transmit<P> {
    /// The direction, seen from this node.
    pub half: Half,
    /// The frame.
    pub frame: Frame<P>,
}

/// Something the caller must act on.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Event<P> {
    /// A message from the peer, in order, exactly once.
    Deliver {
        /// Its number.
        seq: u64,
        /// The message.
        payload: P,
    },
    /// Open the outgoing direction now (dial), then call [`Link::on_connected`] or
    /// [`Link::on_dial_failed`]. A transport without connections calls `on_connected` at once.
    Dial,
    /// The outgoing direction's handshake completed; `resent` frames were sent again.
    Up {
        /// Frames that had been sent before and were sent again.
        resent: u64,
    },
    /// The peer refuses this node, and says why.
    Refused(Refusal),
}

/// A misuse of the link or a frame it rejects. The link is unchanged by the call that returned
/// it; for a bad frame the caller drops it (a stream transport closes the connection, first
/// sending [`refusal`](LinkError::refusal) if there is one).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum LinkError {
    /// The configuration is inconsistent.
    InvalidConfig(String),
    /// `now` is earlier than a time already given.
    TimeWentBackwards {
        /// The time given.
        now: Time,
        /// The latest time given before.
        last: Time,
    },
    /// A deadline would not fit in a `u64`.
    TimeOverflow,
    /// Message numbers are exhausted (2⁶⁴ − 1 messages sent).
    SequenceExhausted,
    /// `on_connected` or `on_dial_failed` without an [`Event::Dial`] pending.
    NotDialling,
    /// `on_disconnected` while the outgoing direction is not connected.
    NotConnected,
    /// A frame on a direction where it does not belong.
    WrongDirection {
        /// The frame's kind.
        kind: &'static str,
        /// The direction it arrived on.
        half: Half,
    },
    /// A `Hello` not from this link's peer, or not to this node.
    Misaddressed {
        /// Its `from`.
        from: NodeId,
        /// Its `to`.
        to: NodeId,
    },
    /// A `Hello` with another incarnation than the peer's first: it restarted.
    PeerRestarted {
        /// The incarnation known.
        known: u64,
        /// The one in the `Hello`.
        got: u64,
    },
    /// `Data` before the peer said hello.
    DataBeforeHello {
        /// Its number.
        seq: u64,
    },
    /// `Data` that skips numbers.
    Gap {
        /// Its number.
        seq: u64,
        /// The last number delivered.
        delivered: u64,
    },
    /// An acknowledgement of messages never sent.
    AckBeyondSent {
        /// The number acknowledged.
        seq: u64,
        /// The last number sent.
        sent: u64,
    },
    /// The answer to our `Hello` acknowledges fewer messages than the peer already had.
    PeerForgot {
        /// What it had acknowledged.
        acked: u64,
        /// What it acknowledges now.
        got: u64,
    },
    /// An acknowledgement while the outgoing direction is not connected.
    UnexpectedAck,
}

impl LinkError {
    /// What to tell the peer before closing, for the errors that refuse it.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            LinkError::PeerRestarted { .. } => Some(Refusal::Restarted),
            LinkError::PeerForgot { .. } => Some(Refusal::Forgot),
            _ => None,
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::InvalidConfig(why) => write!(f, "invalid link configuration: {why}"),
            LinkError::TimeWentBackwards { now, last } => {
                write!(f, "time went backwards: {now} after {last}")
            }
            LinkError::TimeOverflow => f.write_str("a deadline does not fit in 64 bits"),
            LinkError::SequenceExhausted => f.write_str("message numbers exhausted"),
            LinkError::NotDialling => f.write_str("no dial was requested"),
            LinkError::NotConnected => f.write_str("the outgoing direction is not connected"),
            LinkError::WrongDirection { kind, half } => {
                let half = match half {
                    Half::Outgoing => "our own connection",
                    Half::Incoming => "the peer's connection",
                };
                write!(f, "{kind} frame on {half}")
            }
            LinkError::Misaddressed { from, to } => {
                write!(f, "Hello from {from} to {to} reached the wrong link")
            }
            LinkError::PeerRestarted { .. } => f.write_str(
                "the peer restarted and lost its state (the algorithms do not tolerate crashes)",
            ),
            LinkError::DataBeforeHello { seq } => write!(f, "frame {seq} before any Hello"),
            LinkError::Gap { seq, delivered } => {
                write!(
                    f,
                    "frame {seq} after frame {delivered}: a gap in the sequence"
                )
            }
            LinkError::AckBeyondSent { seq, sent } => {
                write!(
                    f,
                    "acknowledgement of frame {seq}, but only {sent} were sent"
                )
            }
            LinkError::PeerForgot { acked, got } => write!(
                f,
                "the peer lost its state: it acknowledges {got} after {acked} (it restarted)"
            ),
            LinkError::UnexpectedAck => f.write_str("an acknowledgement while not connected"),
        }
    }
}

impl std::error::Error for LinkError {}

/// Counters of a link (not part of its protocol state: [`Link`]'s equality ignores them).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct LinkStats {
    /// Messages given to [`Link::send`].
    pub sent: u64,
    /// Data frames sent again (after a timeout or a reconnection).
    pub retransmitted: u64,
    /// Messages delivered from the peer.
    pub delivered: u64,
    /// Data frames from the peer dropped as duplicates.
    pub duplicates: u64,
    /// Handshakes completed after the first.
    pub reconnects: u64,
    /// Refusals received from the peer.
    pub refusals: u64,
}

/// The outgoing direction's state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Out {
    /// Not connected; dial at `retry_at`.
    Down { retry_at: Time },
    /// [`Event::Dial`] emitted; waiting for the caller's answer.
    Dialling,
    /// `Hello` sent, waiting for its answer.
    Handshaking { retransmit_at: Option<Time> },
    /// Connected.
    Up {
        retransmit_at: Option<Time>,
        since: Time,
        progressed: bool,
    },
}

/// One node's end of the link with one peer, both directions. See the [crate docs](crate).
#[derive(Clone, Debug)]
pub struct Link<P> {
    me: NodeId,
    peer: NodeId,
    incarnation: u64,
    config: Config,
    now: Time,
    out: Out,
    /// The pause before the next redial after a failure.
    backoff: u64,
    next_seq: u64,
    acked: u64,
    unacked: VecDeque<(u64, P)>,
    /// The highest number ever transmitted.
    written_upto: u64,
    ever_up: bool,
    refused: Option<Refusal>,
    peer_incarnation: Option<u64>,
    delivered: u64,
    transmits: VecDeque<Transmit<P>>,
    events: VecDeque<Event<P>>,
    stats: LinkStats,
}

impl<P: PartialEq> PartialEq for Link<P> {
    fn eq(&self, o: &Self) -> bool {
        (
            self.me,
            self.peer,
            self.incarnation,
            self.config,
            self.now,
            self.out,
        ) == (o.me, o.peer, o.incarnation, o.config, o.now, o.out)
            && (
                self.backoff,
                self.next_seq,
                self.acked,
                self.written_upto,
                self.ever_up,
                self.refused,
                self.peer_incarnation,
                self.delivered,
            ) == (
                o.backoff,
                o.next_seq,
                o.acked,
                o.written_upto,
                o.ever_up,
                o.refused,
                o.peer_incarnation,
                o.delivered,
            )
            && self.unacked == o.unacked
            && self.transmits == o.transmits
            && self.events == o.events
    }
}

impl<P: Eq> Eq for Link<P> {}

impl<P: Hash> Hash for Link<P> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        (
            self.me,
            self.peer,
            self.incarnation,
            self.config,
            self.now,
            self.out,
        )
            .hash(h);
        (
            self.backoff,
            self.next_seq,
            self.acked,
            self.written_upto,
            self.ever_up,
            self.refused,
            self.peer_incarnation,
            self.delivered,
        )
            .hash(h);
        self.unacked.hash(h);
        self.transmits.hash(h);
        self.events.hash(h);
    }
}

impl<P: Clone> Link<P> {
    /// `me`'s end of the link with `peer`; `incarnation` is `me`'s (drawn when it started). The
    /// outgoing direction asks to be dialled at `now` ([`Link::poll_timeout`]).
    pub fn new(
        me: NodeId,
        peer: NodeId,
        incarnation: u64,
        config: Config,
        now: Time,
    ) -> Result<Self, LinkError> {
        config.validate()?;
        if me == peer {
            return Err(LinkError::InvalidConfig(format!(
                "a link from {me} to itself"
            )));
        }
        Ok(Link {
            me,
            peer,
            incarnation,
            config,
            now,
            out: Out::Down { retry_at: now },
            backoff: config.reconnect_initial,
            next_seq: 1,
            acked: 0,
            unacked: VecDeque::new(),
            written_upto: 0,
            ever_up: false,
            refused: None,
            peer_incarnation: None,
            delivered: 0,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: LinkStats::default(),
        })
    }

    /// This node.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// The peer.
    pub fn peer(&self) -> NodeId {
        self.peer
    }

    /// This node's incarnation.
    pub fn incarnation(&self) -> u64 {
        self.incarnation
    }

    /// The peer's incarnation, once it has said hello.
    pub fn peer_incarnation(&self) -> Option<u64> {
        self.peer_incarnation
    }

    /// Whether the outgoing direction's handshake is done and it is not known to be lost.
    pub fn is_up(&self) -> bool {
        matches!(self.out, Out::Up { .. })
    }

    /// Messages sent to the peer and not acknowledged yet.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// The highest number the peer has acknowledged.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// The number the next message will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The highest number delivered from the peer.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// The pause before the next redial, should the outgoing direction fail now.
    pub fn backoff(&self) -> u64 {
        self.backoff
    }

    /// The peer's refusal, if it refused this node since the last successful handshake.
    pub fn refused(&self) -> Option<Refusal> {
        self.refused
    }

    /// The link's counters.
    pub fn stats(&self) -> &LinkStats {
        &self.stats
    }

    /// The next frame to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit<P>> {
        self.transmits.pop_front()
    }

    /// The next event to act on, if any.
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Link::handle_timeout) must be called next, if ever (while
    /// dialling: not until the caller answers [`Event::Dial`]).
    pub fn poll_timeout(&self) -> Option<Time> {
        match self.out {
            Out::Down { retry_at } => Some(retry_at),
            Out::Dialling => None,
            Out::Handshaking { retransmit_at } | Out::Up { retransmit_at, .. } => retransmit_at,
        }
    }

    fn check_time(&self, now: Time) -> Result<(), LinkError> {
        if now < self.now {
            return Err(LinkError::TimeWentBackwards {
                now,
                last: self.now,
            });
        }
        Ok(())
    }

    fn after(now: Time, d: u64) -> Result<Time, LinkError> {
        now.checked_add(d).ok_or(LinkError::TimeOverflow)
    }

    fn retransmit_deadline(&self, now: Time) -> Result<Option<Time>, LinkError> {
        self.config
            .retransmit_after
            .map(|d| Self::after(now, d))
            .transpose()
    }

    fn hello(&self) -> Transmit<P> {
        Transmit {
            half: Half::Outgoing,
            frame: Frame::Hello {
                from: self.me,
                to: self.peer,
                incarnation: self.incarnation,
            },
        }
    }

    /// Sends every unacknowledged message again; returns how many had been sent before.
    fn resend_all(&mut self) -> u64 {
        let mut resent = 0;
        for (seq, payload) in &self.unacked {
            if *seq <= self.written_upto {
                resent += 1;
            }
            self.transmits.push_back(Transmit {
                half: Half::Outgoing,
                frame: Frame::Data {
                    seq: *seq,
                    payload: payload.clone(),
                },
            });
        }
        if let Some((last, _)) = self.unacked.back() {
            self.written_upto = self.written_upto.max(*last);
        }
        self.stats.retransmitted += resent;
        resent
    }

    /// Time passes: dials when the backoff is over, retransmits when the timer expires.
    pub fn handle_timeout(&mut self, now: Time) -> Result<(), LinkError> {
        self.check_time(now)?;
        match self.out {
            Out::Down { retry_at } if retry_at <= now => {
                self.out = Out::Dialling;
                self.events.push_back(Event::Dial);
            }
            Out::Handshaking {
                retransmit_at: Some(at),
            } if at <= now => {
                let next = self.retransmit_deadline(now)?;
                self.out = Out::Handshaking {
                    retransmit_at: next,
                };
                self.transmits.push_back(self.hello());
            }
            Out::Up {
                retransmit_at: Some(at),
                since,
                progressed,
            } if at <= now => {
                let next = self.retransmit_deadline(now)?;
                self.out = Out::Up {
                    retransmit_at: next.filter(|_| !self.unacked.is_empty()),
                    since,
                    progressed,
                };
                self.resend_all();
            }
            _ => {}
        }
        self.now = now;
        Ok(())
    }

    /// The outgoing direction is connected (answer to [`Event::Dial`]): the `Hello` goes out.
    pub fn on_connected(&mut self, now: Time) -> Result<(), LinkError> {
        self.check_time(now)?;
        if self.out != Out::Dialling {
            return Err(LinkError::NotDialling);
        }
        let retransmit_at = self.retransmit_deadline(now)?;
        self.out = Out::Handshaking { retransmit_at };
        self.transmits.push_back(self.hello());
        self.now = now;
        Ok(())
    }

    /// Dialling failed (answer to [`Event::Dial`]): dial again after the backoff, which doubles.
    pub fn on_dial_failed(&mut self, now: Time) -> Result<(), LinkError> {
        self.check_time(now)?;
        if self.out != Out::Dialling {
            return Err(LinkError::NotDialling);
        }
        self.retry_later(now, false)
    }

    /// The outgoing direction was lost (closed, broken, or closed by the caller after an
    /// error). Unacknowledged messages are kept and sent again after the next handshake.
    pub fn on_disconnected(&mut self, now: Time) -> Result<(), LinkError> {
        self.check_time(now)?;
        let healthy = match self.out {
            Out::Handshaking { .. } => false,
            Out::Up {
                since, progressed, ..
            } => progressed || now - since >= self.config.reconnect_max,
            Out::Down { .. } | Out::Dialling => return Err(LinkError::NotConnected),
        };
        self.retry_later(now, healthy)
    }

    fn retry_later(&mut self, now: Time, reset: bool) -> Result<(), LinkError> {
        let pause = if reset {
            self.config.reconnect_initial
        } else {
            self.backoff
        };
        let retry_at = Self::after(now, pause)?;
        self.out = Out::Down { retry_at };
        self.backoff = pause.saturating_mul(2).min(self.config.reconnect_max);
        self.now = now;
        Ok(())
    }

    /// The local node sends `payload` to the peer; returns its number. It goes out now if the
    /// outgoing direction is up, after the next handshake otherwise.
    pub fn send(&mut self, now: Time, payload: P) -> Result<u64, LinkError> {
        self.check_time(now)?;
        let seq = self.next_seq;
        let next = seq.checked_add(1).ok_or(LinkError::SequenceExhausted)?;
        if let Out::Up {
            retransmit_at,
            since,
            progressed,
        } = self.out
        {
            let retransmit_at = match retransmit_at {
                Some(at) => Some(at),
                None => self.retransmit_deadline(now)?,
            };
            self.out = Out::Up {
                retransmit_at,
                since,
                progressed,
            };
            self.transmits.push_back(Transmit {
                half: Half::Outgoing,
                frame: Frame::Data {
                    seq,
                    payload: payload.clone(),
                },
            });
            self.written_upto = seq;
        }
        self.next_seq = next;
        self.unacked.push_back((seq, payload));
        self.stats.sent += 1;
        self.now = now;
        Ok(seq)
    }

    /// A frame from the peer arrives on direction `via` (this node's view).
    pub fn on_frame(&mut self, now: Time, via: Half, frame: Frame<P>) -> Result<(), LinkError> {
        self.check_time(now)?;
        if frame.arrives_on().is_some_and(|h| h != via) {
            return Err(LinkError::WrongDirection {
                kind: frame.kind(),
                half: via,
            });
        }
        match frame {
            Frame::Hello {
                from,
                to,
                incarnation,
            } => {
                if from != self.peer || to != self.me {
                    return Err(LinkError::Misaddressed { from, to });
                }
                if let Some(known) = self.peer_incarnation.filter(|&k| k != incarnation) {
                    return Err(LinkError::PeerRestarted {
                        known,
                        got: incarnation,
                    });
                }
                self.peer_incarnation = Some(incarnation);
                self.ack(self.delivered);
            }
            Frame::Data { seq, payload } => {
                if self.peer_incarnation.is_none() {
                    return Err(LinkError::DataBeforeHello { seq });
                }
                if seq <= self.delivered {
                    self.stats.duplicates += 1;
                } else if seq == self.delivered + 1 {
                    self.delivered = seq;
                    self.stats.delivered += 1;
                    self.events.push_back(Event::Deliver { seq, payload });
                } else {
                    return Err(LinkError::Gap {
                        seq,
                        delivered: self.delivered,
                    });
                }
                self.ack(self.delivered);
            }
            Frame::Ack { seq } => self.on_ack(now, seq)?,
            Frame::Refuse { reason } => {
                self.refused = Some(reason);
                self.stats.refusals += 1;
                self.events.push_back(Event::Refused(reason));
            }
        }
        self.now = now;
        Ok(())
    }

    fn ack(&mut self, seq: u64) {
        self.transmits.push_back(Transmit {
            half: Half::Incoming,
            frame: Frame::Ack { seq },
        });
    }

    fn forget_acked(&mut self, seq: u64) {
        self.acked = seq;
        while self.unacked.front().is_some_and(|(s, _)| *s <= seq) {
            self.unacked.pop_front();
        }
    }

    fn on_ack(&mut self, now: Time, seq: u64) -> Result<(), LinkError> {
        let sent = self.next_seq - 1;
        if seq > sent {
            return Err(LinkError::AckBeyondSent { seq, sent });
        }
        match self.out {
            Out::Handshaking { .. } => {
                if seq < self.acked {
                    return Err(LinkError::PeerForgot {
                        acked: self.acked,
                        got: seq,
                    });
                }
                let retransmit = self.retransmit_deadline(now)?;
                self.forget_acked(seq);
                self.out = Out::Up {
                    retransmit_at: retransmit.filter(|_| !self.unacked.is_empty()),
                    since: now,
                    progressed: false,
                };
                if self.ever_up {
                    self.stats.reconnects += 1;
                }
                self.ever_up = true;
                self.refused = None;
                let resent = self.resend_all();
                self.events.push_back(Event::Up { resent });
            }
            Out::Up { since, .. } => {
                if seq <= self.acked {
                    return Ok(()); // an old acknowledgement, overtaken by a newer one
                }
                let retransmit = self.retransmit_deadline(now)?;
                self.forget_acked(seq);
                self.out = Out::Up {
                    retransmit_at: retransmit.filter(|_| !self.unacked.is_empty()),
                    since,
                    progressed: true,
                };
            }
            Out::Down { .. } | Out::Dialling => return Err(LinkError::UnexpectedAck),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
