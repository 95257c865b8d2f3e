//! Naimi and Tréhel's path-reversal token algorithm (1987; Naimi, Tréhel and Arnold, JPDC
//! 34(1), 1996).
//!
//! **What it does.** A single token grants the critical section. Each site keeps `father` (the
//! site it believes to be the last requester, `nil` at the root of the `father` tree), `next`
//! (the site it must pass the token to after its own critical section, `nil` if none),
//! `token_present` and `requesting_c_s`. Initially the `father` pointers form a star rooted at
//! the site holding the token. To enter, a site sets `requesting_c_s`; if it is the root it holds
//! the token and enters at once, otherwise it sends Req(i) to `father` and becomes the root
//! (`father := nil`). A site receiving Req(k) — k being the original requester, whoever
//! forwarded it — does, if it is the root: when requesting, `next := k` (k gets the token after
//! it); when idle, it sends the token to k. If it is not the root it forwards Req(k) to its
//! `father`. In both cases it then sets `father := k`: the path a request travels is reversed
//! towards its requester, who becomes the new root. On leaving the critical section a site
//! sends the token to `next`, if any, and otherwise keeps it. The `next` pointers thus form a
//! distributed queue of waiting sites. Messages are named "REQUEST" (Req) and "TOKEN".
//!
//! **What it assumes.** Reliable channels: every message is delivered exactly once. FIFO order is
//! *not* required: a site has at most one request outstanding, and the `father` tree is changed
//! only along the path a request has travelled. No site crashes.
//!
//! **What it costs.** A request costs the number of Req hops from the requester along `father`
//! pointers to the root, plus one TOKEN (0 when the requester is the idle root, which holds the
//! token). Under uniformly random, one-at-a-time requests the mean number of hops (the cost of
//! a path reversal, in edges) is exactly the harmonic number H(N−1) = 1 + 1/2 + … + 1/(N−1)
//! (Lavault, LNCS 634, 1992), O(log N); the messages per entry are that plus the TOKEN of every
//! request not made by the root. Synchronization delay T (the token goes straight to `next`);
//! waiting time (hops + 1)·T at light load. Each site stores two pointers and three flags (and
//! the member list, to refuse messages from strangers).
//!
//! ```
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//! use dme_naimi_trehel::{NaimiTrehel, NtMessage};
//!
//! let mut sites = NaimiTrehel::cluster(&cluster(3), NodeId(0)).unwrap();
//! let mut out = Outbox::new();
//!
//! sites[2].request(&mut out).unwrap();
//! let req = NtMessage::Request { requester: NodeId(2) };
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Send { to: NodeId(0), msg: req }]);
//! sites[0].on_message(NodeId(2), req, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(),
//!            vec![Effect::Send { to: NodeId(2), msg: NtMessage::Token }]);
//! assert_eq!(sites[0].father(), Some(NodeId(2)), "the path is reversed towards n2");
//! sites[2].on_message(NodeId(0), NtMessage::Token, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! sites[2].release(&mut out).unwrap();
//! assert!(out.is_empty(), "no next: n2 keeps the token");
//! ```

pub mod describe;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, validate_members};
use serde::{Deserialize, Serialize};

/// The two messages of the algorithm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum NtMessage {
    /// Req(k): site k asks for the token; forwarded along `father` pointers to the root (kind
    /// "REQUEST").
    Request {
        /// The original requester k (not the site that forwarded it).
        requester: NodeId,
    },
    /// The token itself (kind "TOKEN").
    Token,
}

impl Message for NtMessage {
    fn kind(&self) -> &'static str {
        match self {
            NtMessage::Request { .. } => "REQUEST",
            NtMessage::Token => "TOKEN",
        }
    }

    fn carries_token(&self) -> bool {
        matches!(self, NtMessage::Token)
    }
}

/// One site of Naimi–Tréhel. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct NaimiTrehel {
    me: NodeId,
    /// The members, sorted.
    members: Vec<NodeId>,
    /// `father`: the probable last requester; `None` (nil) at the root.
    father: Option<NodeId>,
    /// `next`: who gets the token after this site's critical section.
    next: Option<NodeId>,
    /// `token_present`.
    token_present: bool,
    /// `requesting_c_s`: from the request until the exit.
    requesting_c_s: bool,
    /// In the critical section.
    in_cs: bool,
}

impl NaimiTrehel {
    /// Site `me` of the cluster `members` (which includes `me`), in the initial state: the
    /// `father` pointers a star rooted at `holder`, which holds the token.
    pub fn new(me: NodeId, members: &[NodeId], holder: NodeId) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        if sorted.binary_search(&holder).is_err() {
            return Err(Error::InvalidCluster(format!(
                "the token holder {holder} is not a member"
            )));
        }
        Ok(NaimiTrehel {
            me,
            members: sorted,
            father: (me != holder).then_some(holder),
            next: None,
            token_present: me == holder,
            requesting_c_s: false,
            in_cs: false,
        })
    }

    /// Every site of the cluster `members`, in `members`' order, the token at `holder`.
    pub fn cluster(members: &[NodeId], holder: NodeId) -> Result<Vec<Self>, Error> {
        members
            .iter()
            .map(|&me| NaimiTrehel::new(me, members, holder))
            .collect()
    }

    /// `father`: the probable last requester, `None` at the root of the `father` tree.
    pub fn father(&self) -> Option<NodeId> {
        self.father
    }

    /// `next`: the site that gets the token after this one's critical section.
    pub fn next(&self) -> Option<NodeId> {
        self.next
    }

    /// `requesting_c_s`: requesting or in the critical section.
    pub fn requesting_c_s(&self) -> bool {
        self.requesting_c_s
    }

    fn is_member(&self, id: NodeId) -> bool {
        self.members.binary_search(&id).is_ok()
    }

    fn unexpected(from: NodeId, reason: impl Into<String>) -> Error {
        Error::UnexpectedMessage {
            from,
            reason: reason.into(),
        }
    }
}

impl Node for NaimiTrehel {
    type Message = NtMessage;
    const TOKEN_BASED: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<NtMessage>) -> Result<(), Error> {
        if self.requesting_c_s {
            return Err(Error::AlreadyRequesting);
        }
        if self.token_present {
            // The idle root: enter at once.
            self.requesting_c_s = true;
            self.in_cs = true;
            out.enter();
            return Ok(());
        }
        let Some(father) = self.father else {
            // A root without the token is always requesting: unreachable from a valid state.
            return Err(Error::InvalidCluster(format!(
                "{} is the root of the father tree but holds no token",
                self.me
            )));
        };
        self.requesting_c_s = true;
        out.send(father, NtMessage::Request { requester: self.me });
        self.father = None;
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<NtMessage>) -> Result<(), Error> {
        if !self.in_cs {
            return Err(Error::NotInCriticalSection);
        }
        self.in_cs = false;
        self.requesting_c_s = false;
        if let Some(next) = self.next.take() {
            self.token_present = false;
            out.send(next, NtMessage::Token);
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: NtMessage,
        out: &mut Outbox<NtMessage>,
    ) -> Result<(), Error> {
        if from == self.me || !self.is_member(from) {
            return Err(Error::NotAMember(from));
        }
        match msg {
            NtMessage::Request { requester: k } => {
                if k == self.me {
                    return Err(Self::unexpected(from, "our own Req came back to us"));
                }
                if !self.is_member(k) {
                    return Err(Self::unexpected(from, format!("Req({k}): not a member")));
                }
                match self.father {
                    None if self.requesting_c_s => {
                        if let Some(next) = self.next {
                            return Err(Self::unexpected(
                                from,
                                format!("Req({k}) at a root whose next is already {next}"),
                            ));
                        }
                        self.next = Some(k);
                    }
                    None => {
                        if !self.token_present {
                            return Err(Self::unexpected(
                                from,
                                format!("Req({k}) at an idle root without the token"),
                            ));
                        }
                        self.token_present = false;
                        out.send(k, NtMessage::Token);
                    }
                    Some(father) => out.send(father, NtMessage::Request { requester: k }),
                }
                self.father = Some(k);
            }
            NtMessage::Token => {
                if self.token_present {
                    return Err(Self::unexpected(from, "a second token"));
                }
                if !self.requesting_c_s {
                    return Err(Self::unexpected(from, "the token without a request"));
                }
                self.token_present = true;
                self.in_cs = true;
                out.enter();
            }
        }
        Ok(())
    }

    fn phase(&self) -> Phase {
        if self.in_cs {
            Phase::InCriticalSection
        } else if self.requesting_c_s {
            Phase::Requesting
        } else {
            Phase::Idle
        }
    }

    /// Empty: a requesting site waits for the token from a site it does not know.
    fn waiting_for(&self) -> Vec<NodeId> {
        Vec::new()
    }

    fn holds_token(&self) -> bool {
        self.token_present
    }
}

#[cfg(test)]
mod tests;
