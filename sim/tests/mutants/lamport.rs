//! Lamport's mistakes (the classic form), each a wrapper over the real node of `crates/lamport`
//! (see `dme_conformance::mutant`).

use dme_conformance::mutant::{Mistake, Mutant, mutants};
use dme_core::{Error, Node, NodeId, Outbox, Phase, Stamp, cluster as members};
use dme_lamport::{Lamport, LamportMessage};

/// A deliberate bug.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Bug {
    /// Rule 5(ii) weakened: enters once *some* peer (not every peer) has sent a message
    /// timestamped later than the request. Identical to the real rule at N = 2. The real node
    /// is made to enter by a made-up REPLY from each peer not heard from (timestamped just after
    /// the request), which also ticks its clock once per made-up REPLY.
    EntersWithoutHearingFromEveryone,
    /// Rule 5(i) dropped: enters without its request heading the queue. The real node is made
    /// to enter by a made-up RELEASE from each node whose request is ahead of its own, which
    /// also ticks its clock once each and forgets those requests.
    IgnoresQueueHead,
    /// Rule 4 dropped: a RELEASE does not remove the releaser's request from the queue. The
    /// real node is handed the RELEASE as a REPLY with the same timestamp (which it treats
    /// exactly as a RELEASE, except for the removal).
    KeepsReleasedRequests,
    /// Not a bug: answers every RELEASE with a REPLY as well, timestamped by its clock as any
    /// REPLY (see `a_redundant_reply_is_not_a_bug_the_checks_can_see`).
    RepliesToRelease,
}

/// A bug and what the node has heard: `latest[p]`, the latest timestamp received from node `p`
/// (as the real node's `latest_timestamp_received`, over the real messages only).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Broken {
    bug: Bug,
    latest: Vec<u64>,
}

/// The cluster `0..n`, every node with `bug`.
pub fn cluster(n: usize, bug: Bug) -> Vec<Mutant<Lamport, Broken>> {
    let ids = members(n);
    let real = ids
        .iter()
        .map(|&i| Lamport::new(i, &ids).expect("a valid cluster"))
        .collect();
    mutants(
        real,
        Broken {
            bug,
            latest: vec![0; n],
        },
    )
}

impl Broken {
    /// The peers of `node` and whether each has sent a message timestamped later than `ours`.
    fn heard(&self, node: &Lamport, ours: Stamp) -> Vec<(NodeId, bool)> {
        (0..self.latest.len() as u32)
            .map(NodeId)
            .filter(|&p| p != node.id())
            .map(|p| (p, Stamp::new(self.latest[p.index()], p) > ours))
            .collect()
    }

    /// Applies the weakened entry rule after the real node has taken an input.
    fn enter_by_mistake(
        &self,
        node: &mut Lamport,
        out: &mut Outbox<LamportMessage>,
    ) -> Result<(), Error> {
        let (Phase::Requesting, Some(ours)) = (node.phase(), node.request_stamp()) else {
            return Ok(());
        };
        let heard = self.heard(node, ours);
        match self.bug {
            Bug::EntersWithoutHearingFromEveryone => {
                let heads_queue = node.request_queue().next() == Some(ours);
                if heads_queue && heard.iter().any(|h| h.1) {
                    for (peer, _) in heard.into_iter().filter(|h| !h.1) {
                        let timestamp = ours.clock + 1;
                        node.on_message(peer, LamportMessage::Reply { timestamp }, out)?;
                    }
                }
            }
            Bug::IgnoresQueueHead => {
                if heard.iter().all(|h| h.1) {
                    let ahead: Vec<Stamp> =
                        node.request_queue().take_while(|&s| s < ours).collect();
                    for s in ahead {
                        let timestamp = self.latest[s.node.index()];
                        node.on_message(s.node, LamportMessage::Release { timestamp }, out)?;
                    }
                }
            }
            Bug::KeepsReleasedRequests | Bug::RepliesToRelease => {}
        }
        Ok(())
    }
}

impl Mistake<Lamport> for Broken {
    fn request(
        &mut self,
        node: &mut Lamport,
        out: &mut Outbox<LamportMessage>,
    ) -> Result<(), Error> {
        node.request(out)?;
        self.enter_by_mistake(node, out)
    }

    fn on_message(
        &mut self,
        node: &mut Lamport,
        from: NodeId,
        msg: LamportMessage,
        out: &mut Outbox<LamportMessage>,
    ) -> Result<(), Error> {
        let msg = match (self.bug, msg) {
            (Bug::KeepsReleasedRequests, LamportMessage::Release { timestamp }) => {
                LamportMessage::Reply { timestamp }
            }
            (_, msg) => msg,
        };
        let timestamp = msg.stamp_value();
        let release = matches!(msg, LamportMessage::Release { .. });
        node.on_message(from, msg, out)?;
        if self.bug == Bug::RepliesToRelease && release {
            let timestamp = node.clock();
            out.send(from, LamportMessage::Reply { timestamp });
        }
        if let Some(latest) = self.latest.get_mut(from.index()) {
            *latest = (*latest).max(timestamp);
        }
        self.enter_by_mistake(node, out)
    }
}
