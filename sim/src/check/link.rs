//! The reliable link itself ([`dme_link::Link`]) checked exhaustively: two endpoints, a sender
//! A and a receiver B, A sending `messages` messages to B through a channel that loses,
//! duplicates and reorders frames and holds at most `in_flight` of them.
//!
//! The channel is a multiset of frames in flight (both directions). A step is one of: A sends
//! its next message; the channel delivers any frame in flight, drops it, or duplicates it (when
//! there is room); A's retransmission timer fires (the link's timeout is 0, so it may fire
//! whenever it is armed: "some time later", without a clock in the state). A frame a link emits
//! when the channel is full is lost. The property: B's deliveries are exactly a prefix of what
//! A sent, in order, each once.
//!
//! [`LinkCheck::faulty_receiver`] plants a broken receiver (every `Data` frame taken as the
//! next one: no de-duplication, no ordering), which the check must catch with a shortest trace.

use dme_core::NodeId;
use dme_link::{Config, Event, Frame, Half, Link, LinkError};

use super::engine::{Property, StepFailure, TransitionSystem};

/// The bounds of the check.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LinkCheck {
    /// Messages A sends (numbered 0, 1, …).
    pub messages: u8,
    /// Frames the channel holds at most.
    pub in_flight: usize,
    /// Plant a broken receiver.
    pub faulty_receiver: bool,
}

/// A frame in flight: `true` if from A to B.
pub type InFlight = (bool, Frame<u8>);

/// A state: both endpoints, the channel, and what B delivered.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LinkCheckState {
    /// A's end.
    pub a: Link<u8>,
    /// B's end.
    pub b: Link<u8>,
    /// The frames in flight, sorted (a multiset).
    pub channel: Vec<InFlight>,
    /// Messages A has sent.
    pub sent: u8,
    /// Messages B has delivered, in delivery order.
    pub delivered: Vec<u8>,
}

/// A step.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum LinkAction {
    /// A sends its next message.
    Send(u8),
    /// The channel delivers this frame.
    Deliver(InFlight),
    /// The channel loses this frame.
    Drop(InFlight),
    /// The channel duplicates this frame.
    Duplicate(InFlight),
    /// A's retransmission timer fires.
    Timeout,
}

const A: NodeId = NodeId(0);
const B: NodeId = NodeId(1);
const CONFIG: Config = Config {
    retransmit_after: Some(0),
    reconnect_initial: 1,
    reconnect_max: 1,
};

impl LinkCheck {
    /// Moves what the links produced: frames into the channel (lost when it is full), A's dial
    /// answered at once, B's deliveries recorded.
    fn settle(&self, s: &mut LinkCheckState) -> Result<(), String> {
        loop {
            let mut moved = false;
            for from_a in [true, false] {
                let link = if from_a { &mut s.a } else { &mut s.b };
                while let Some(t) = link.poll_transmit() {
                    moved = true;
                    if s.channel.len() < self.in_flight {
                        s.channel.push((from_a, t.frame));
                    }
                }
                while let Some(ev) = link.poll_event() {
                    moved = true;
                    match ev {
                        Event::Dial => link.on_connected(0).map_err(|e| e.to_string())?,
                        Event::Deliver { payload, .. } => s.delivered.push(payload),
                        Event::Up { .. } | Event::Refused(_) => {}
                    }
                }
            }
            if !moved {
                s.channel.sort();
                return Ok(());
            }
        }
    }

    fn apply(&self, s: &LinkCheckState, action: &LinkAction) -> Result<LinkCheckState, String> {
        let mut s = s.clone();
        match action {
            LinkAction::Send(m) => {
                s.a.send(0, *m).map_err(|e| e.to_string())?;
                s.sent += 1;
            }
            LinkAction::Timeout => s.a.handle_timeout(0).map_err(|e| e.to_string())?,
            LinkAction::Drop(f) | LinkAction::Deliver(f) => {
                let i = s
                    .channel
                    .iter()
                    .position(|x| x == f)
                    .ok_or("not in flight")?;
                let (to_b, mut frame) = s.channel.remove(i);
                if matches!(action, LinkAction::Deliver(_)) {
                    let link = if to_b { &mut s.b } else { &mut s.a };
                    if self.faulty_receiver && to_b {
                        if let Frame::Data { seq, .. } = &mut frame {
                            *seq = link.delivered() + 1;
                        }
                    }
                    let via = frame.arrives_on().unwrap_or(Half::Incoming);
                    match link.on_frame(0, via, frame) {
                        Ok(()) | Err(LinkError::Gap { .. }) => {}
                        Err(_) if self.faulty_receiver => {}
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            LinkAction::Duplicate(f) => s.channel.push(f.clone()),
        }
        self.settle(&mut s)?;
        Ok(s)
    }
}

impl TransitionSystem for LinkCheck {
    type State = LinkCheckState;
    type Action = LinkAction;

    fn initial_states(&self) -> Vec<LinkCheckState> {
        let (Ok(mut a), Ok(b)) = (Link::new(A, B, 1, CONFIG, 0), Link::new(B, A, 2, CONFIG, 0))
        else {
            return Vec::new();
        };
        // A opens its direction; B's own direction is not exercised.
        if a.handle_timeout(0).is_err() {
            return Vec::new();
        }
        let mut s = LinkCheckState {
            a,
            b,
            channel: Vec::new(),
            sent: 0,
            delivered: Vec::new(),
        };
        match self.settle(&mut s) {
            Ok(()) => vec![s],
            Err(_) => Vec::new(),
        }
    }

    fn next_states(
        &self,
        s: &LinkCheckState,
        out: &mut Vec<(LinkAction, LinkCheckState)>,
    ) -> Result<(), StepFailure<LinkAction>> {
        let mut actions = Vec::new();
        if s.sent < self.messages {
            actions.push(LinkAction::Send(s.sent));
        }
        if s.a.poll_timeout().is_some() {
            actions.push(LinkAction::Timeout);
        }
        let mut distinct = s.channel.clone();
        distinct.dedup();
        for f in distinct {
            actions.push(LinkAction::Deliver(f.clone()));
            actions.push(LinkAction::Drop(f.clone()));
            if s.channel.len() < self.in_flight {
                actions.push(LinkAction::Duplicate(f));
            }
        }
        for action in actions {
            match self.apply(s, &action) {
                Ok(next) => out.push((action, next)),
                Err(reason) => return Err(StepFailure { action, reason }),
            }
        }
        Ok(())
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![Property::new(
            "deliveries are the sent prefix, in order, once each",
            |_: &LinkCheck, s: &LinkCheckState| {
                s.delivered.len() <= usize::from(s.sent)
                    && s.delivered
                        .iter()
                        .enumerate()
                        .all(|(i, &m)| usize::from(m) == i)
            },
        )]
    }
}
