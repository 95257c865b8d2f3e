//! Suzuki and Kasami's broadcast token algorithm (ACM TOCS 3(4), 1985).
//!
//! **What it does.** A single token, the PRIVILEGE, grants the critical section. Each site `i`
//! keeps `RN[1..N]`, `RN[j]` being the largest request number it has received from site `j`;
//! the token carries `LN[1..N]`, `LN[j]` being the number of site `j`'s request executed most
//! recently, and the queue `Q` of sites waiting for it. To enter, a site that does not hold the
//! token increments `RN[i]` and broadcasts REQUEST(i, `RN[i]`) to every other site; a site that
//! holds it idle enters at once. On REQUEST(j, n) a site sets `RN[j] := max(RN[j], n)`, and if it
//! holds the token idle and the request is outstanding — `RN[j] = LN[j] + 1` (a request with a
//! smaller number is outdated: it was already served) — it sends the token to `j`. On leaving
//! the critical section the holder sets `LN[i] := RN[i]`, appends to `Q` every site `j` not
//! already in it whose request is outstanding (`RN[j] = LN[j] + 1`, in id order), and if `Q` is
//! not empty sends the token, with the rest of `Q`, to its head; otherwise it keeps the token.
//! A site has at most one request outstanding, the holder is never in `Q` and `Q` holds no
//! duplicates: a received PRIVILEGE that breaks one of these is refused as
//! [`Error::UnexpectedMessage`]. Messages are named "REQUEST" and "TOKEN" (the PRIVILEGE).
//!
//! **What it assumes.** Reliable channels: every message is delivered exactly once. FIFO order is
//! *not* required: request numbers tell an outdated REQUEST from a current one whatever the
//! order of arrival. No site crashes. Sites are the members given at construction; the token is
//! initially at one of them (by default the smallest id).
//!
//! **What it costs.** N messages per critical-section entry when the requester does not hold the
//! token (N − 1 REQUESTs and one PRIVILEGE), at light and heavy load alike, and 0 when the idle
//! holder requests again. Synchronization delay T (the leaving site sends the token straight to
//! the next one), or 0 when the holder re-enters; waiting time 2T at light load. The token
//! carries O(N) integers, and each site stores O(N).
//!
//! ```
//! use dme_core::{cluster, Effect, Node, NodeId, Outbox};
//! use dme_suzuki_kasami::{SkMessage, SuzukiKasami};
//!
//! let mut nodes = SuzukiKasami::cluster(&cluster(2), NodeId(0)).unwrap();
//! let mut out = Outbox::new();
//!
//! nodes[1].request(&mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(),
//!            vec![Effect::Send { to: NodeId(0), msg: SkMessage::Request { sn: 1 } }]);
//! nodes[0].on_message(NodeId(1), SkMessage::Request { sn: 1 }, &mut out).unwrap();
//! let Some(Effect::Send { to, msg }) = out.drain().next() else { unreachable!() };
//! assert_eq!(to, NodeId(1));
//! nodes[1].on_message(NodeId(0), msg, &mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter]);
//! nodes[1].release(&mut out).unwrap();
//! assert!(out.is_empty(), "nobody else asked: the token stays");
//! nodes[1].request(&mut out).unwrap();
//! assert_eq!(out.drain().collect::<Vec<_>>(), vec![Effect::Enter], "the idle holder re-enters");
//! ```

pub mod describe;

use std::collections::VecDeque;

use dme_core::{Error, Message, Node, NodeId, Outbox, Phase, validate_members};
use serde::{Deserialize, Serialize};

/// The PRIVILEGE's contents: `LN` and `Q`.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Token {
    /// `LN[k]`: the number of the request of the `k`-th member (in id order) executed most
    /// recently.
    pub ln: Vec<u64>,
    /// `Q`: the sites waiting for the token, in the order they will get it.
    pub q: VecDeque<NodeId>,
}

/// The two messages of the algorithm.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum SkMessage {
    /// REQUEST(i, sn): the sender's `sn`-th request for the critical section (kind "REQUEST").
    Request {
        /// The request number, `RN[i]` at the sender.
        sn: u64,
    },
    /// PRIVILEGE(Q, LN): the token itself (kind "TOKEN").
    Privilege(Token),
}

impl Message for SkMessage {
    fn kind(&self) -> &'static str {
        match self {
            SkMessage::Request { .. } => "REQUEST",
            SkMessage::Privilege(_) => "TOKEN",
        }
    }

    fn carries_token(&self) -> bool {
        matches!(self, SkMessage::Privilege(_))
    }
}

/// One site of Suzuki–Kasami. The field names follow the paper.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SuzukiKasami {
    me: NodeId,
    /// The members, sorted; `RN` and the token's `LN` are indexed like this list.
    members: Vec<NodeId>,
    /// This site's index in `members`.
    index: usize,
    /// `RN[k]`: the largest request number received from `members[k]` (own for `k = index`).
    rn: Vec<u64>,
    /// The token, while this site holds it (`havePrivilege`).
    token: Option<Token>,
    /// Idle, requesting (waiting for the PRIVILEGE) or in the critical section.
    phase: Phase,
}

impl SuzukiKasami {
    /// Site `me` of the cluster `members` (which includes `me`), the token initially at
    /// `holder`.
    pub fn new(me: NodeId, members: &[NodeId], holder: NodeId) -> Result<Self, Error> {
        validate_members(me, members)?;
        let mut sorted = members.to_vec();
        sorted.sort_unstable();
        if sorted.binary_search(&holder).is_err() {
            return Err(Error::InvalidCluster(format!(
                "the token holder {holder} is not a member"
            )));
        }
        let index = sorted
            .binary_search(&me)
            .map_err(|_| Error::InvalidCluster(format!("{me} is not a member")))?;
        let n = sorted.len();
        Ok(SuzukiKasami {
            me,
            members: sorted,
            index,
            rn: vec![0; n],
            token: (me == holder).then(|| Token {
                ln: vec![0; n],
                q: VecDeque::new(),
            }),
            phase: Phase::Idle,
        })
    }

    /// Every site of the cluster `members`, in `members`' order, the token at `holder`.
    pub fn cluster(members: &[NodeId], holder: NodeId) -> Result<Vec<Self>, Error> {
        members
            .iter()
            .map(|&me| SuzukiKasami::new(me, members, holder))
            .collect()
    }

    /// The members, sorted: `RN` and `LN` are indexed like this list.
    pub fn members(&self) -> &[NodeId] {
        &self.members
    }

    /// `RN`, indexed like [`members`](Self::members).
    pub fn rn(&self) -> &[u64] {
        &self.rn
    }

    /// The token (`LN` and `Q`), while this site holds it.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    fn index_of(&self, id: NodeId) -> Option<usize> {
        self.members.binary_search(&id).ok()
    }

    /// Why a received PRIVILEGE cannot be accepted, if it cannot.
    fn refuse_privilege(&self, token: &Token) -> Option<String> {
        if self.token.is_some() {
            return Some("a second token: this site already holds the PRIVILEGE".into());
        }
        if self.phase != Phase::Requesting {
            return Some("the PRIVILEGE without an outstanding request".into());
        }
        if token.ln.len() != self.members.len() {
            return Some(format!(
                "LN has {} entries for {} members",
                token.ln.len(),
                self.members.len()
            ));
        }
        if token.ln[self.index].checked_add(1) != Some(self.rn[self.index]) {
            return Some(format!(
                "LN[{}] = {} does not precede the outstanding request {}",
                self.me, token.ln[self.index], self.rn[self.index]
            ));
        }
        let mut seen = vec![false; self.members.len()];
        for &j in &token.q {
            if j == self.me {
                return Some(format!("Q contains the new holder {j}"));
            }
            match self.index_of(j) {
                None => return Some(format!("Q contains {j}, which is not a member")),
                Some(k) if seen[k] => return Some(format!("Q contains {j} twice")),
                Some(k) => seen[k] = true,
            }
        }
        None
    }

    /// Whether `members[k]`'s request is outstanding according to `RN` and `ln`.
    fn outstanding(&self, ln: &[u64], k: usize) -> bool {
        ln[k].checked_add(1) == Some(self.rn[k])
    }
}

impl Node for SuzukiKasami {
    type Message = SkMessage;
    const TOKEN_BASED: bool = true;

    fn id(&self) -> NodeId {
        self.me
    }

    fn request(&mut self, out: &mut Outbox<SkMessage>) -> Result<(), Error> {
        if self.phase != Phase::Idle {
            return Err(Error::AlreadyRequesting);
        }
        if self.token.is_some() {
            self.phase = Phase::InCriticalSection;
            out.enter();
            return Ok(());
        }
        let sn = self.rn[self.index].checked_add(1).ok_or_else(|| {
            Error::InvalidCluster(format!("{}'s request numbers are exhausted", self.me))
        })?;
        self.rn[self.index] = sn;
        self.phase = Phase::Requesting;
        for &j in &self.members {
            if j != self.me {
                out.send(j, SkMessage::Request { sn });
            }
        }
        Ok(())
    }

    fn release(&mut self, out: &mut Outbox<SkMessage>) -> Result<(), Error> {
        if self.phase != Phase::InCriticalSection {
            return Err(Error::NotInCriticalSection);
        }
        let Some(mut token) = self.token.take() else {
            return Err(Error::NotInCriticalSection);
        };
        self.phase = Phase::Idle;
        token.ln[self.index] = self.rn[self.index];
        for k in 0..self.members.len() {
            let j = self.members[k];
            if k != self.index && !token.q.contains(&j) && self.outstanding(&token.ln, k) {
                token.q.push_back(j);
            }
        }
        match token.q.pop_front() {
            Some(head) => out.send(head, SkMessage::Privilege(token)),
            None => self.token = Some(token),
        }
        Ok(())
    }

    fn on_message(
        &mut self,
        from: NodeId,
        msg: SkMessage,
        out: &mut Outbox<SkMessage>,
    ) -> Result<(), Error> {
        let k = match self.index_of(from) {
            Some(k) if k != self.index => k,
            _ => return Err(Error::NotAMember(from)),
        };
        match msg {
            SkMessage::Request { sn } => {
                if sn == 0 {
                    return Err(Error::UnexpectedMessage {
                        from,
                        reason: "REQUEST with number 0 (request numbers start at 1)".into(),
                    });
                }
                self.rn[k] = self.rn[k].max(sn);
                if self.phase == Phase::Idle {
                    if let Some(token) = self.token.take() {
                        if self.outstanding(&token.ln, k) {
                            out.send(from, SkMessage::Privilege(token));
                        } else {
                            self.token = Some(token);
                        }
                    }
                }
            }
            SkMessage::Privilege(token) => {
                if let Some(reason) = self.refuse_privilege(&token) {
                    return Err(Error::UnexpectedMessage { from, reason });
                }
                self.token = Some(token);
                self.phase = Phase::InCriticalSection;
                out.enter();
            }
        }
        Ok(())
    }

    fn phase(&self) -> Phase {
        self.phase
    }

    /// Empty: a requesting site waits for the token, which may come from any site.
    fn waiting_for(&self) -> Vec<NodeId> {
        Vec::new()
    }

    fn holds_token(&self) -> bool {
        self.token.is_some()
    }
}

#[cfg(test)]
mod tests;
