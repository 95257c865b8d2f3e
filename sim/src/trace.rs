//! The events of a run, and the digest that fingerprints a whole trace.

use std::fmt;
use std::hash::{Hash, Hasher};

use dme_core::NodeId;
use serde::{Deserialize, Serialize};

/// A message as it appears in a trace.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MessageInfo {
    /// The message kind (REQUEST, REPLY, …).
    pub kind: String,
    /// The Lamport timestamp it carries, if any.
    pub timestamp: Option<u64>,
    /// The whole message, in Rust's debug notation.
    pub detail: String,
}

/// What happened in one event of a run.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A node's application asked for the critical section.
    Request {
        /// The requester.
        node: NodeId,
    },
    /// A node entered the critical section.
    Enter {
        /// The node.
        node: NodeId,
    },
    /// A node left the critical section.
    Exit {
        /// The node.
        node: NodeId,
    },
    /// A message was sent; it will be delivered at `deliver_at`.
    Send {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message.
        message: MessageInfo,
        /// Scheduled delivery time.
        deliver_at: u64,
    },
    /// A message was delivered.
    Deliver {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The message.
        message: MessageInfo,
        /// When it was sent.
        sent_at: u64,
        /// It overtook a message sent earlier on the same ordered pair that is still in flight
        /// (only possible without FIFO).
        overtook: bool,
    },
}

/// One event of a run, at a virtual time.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Virtual time of the event.
    pub time: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl fmt::Display for MessageInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.timestamp {
            Some(ts) => write!(f, "{}(ts={ts})", self.kind),
            None => f.write_str(&self.kind),
        }
    }
}

/// Width of the node column in the text form of a trace (ids up to n9999 line up).
const NODE_COLUMN: usize = 5;
/// Width of the message column ("REQUEST(ts=123)" and most kinds fit).
const MESSAGE_COLUMN: usize = 16;

impl fmt::Display for TraceEvent {
    /// One line, in columns so that a whole trace reads as a table:
    ///
    /// ```text
    /// t=0        n0    requests the critical section
    /// t=0        n0    sends    REQUEST(ts=1)    to   n1    arrives t=10
    /// t=10       n1    receives REQUEST(ts=1)    from n0    sent t=0
    /// t=20       n0    ENTERS   the critical section
    /// t=25       n0    leaves   the critical section
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let node = |id: &NodeId| format!("{id:<NODE_COLUMN$}", id = id.to_string());
        write!(f, "t={:<8} ", self.time)?;
        match &self.kind {
            EventKind::Request { node: n } => {
                write!(f, "{} requests the critical section", node(n))
            }
            EventKind::Enter { node: n } => write!(f, "{} ENTERS   the critical section", node(n)),
            EventKind::Exit { node: n } => write!(f, "{} leaves   the critical section", node(n)),
            EventKind::Send {
                from,
                to,
                message,
                deliver_at,
            } => write!(
                f,
                "{} sends    {:<MESSAGE_COLUMN$} to   {} arrives t={deliver_at}",
                node(from),
                message.to_string(),
                node(to)
            ),
            EventKind::Deliver {
                from,
                to,
                message,
                sent_at,
                overtook,
            } => {
                write!(
                    f,
                    "{} receives {:<MESSAGE_COLUMN$} from {} sent t={sent_at}",
                    node(to),
                    message.to_string(),
                    node(from)
                )?;
                if *overtook {
                    f.write_str("  << overtook an earlier message from the same sender")?;
                }
                Ok(())
            }
        }
    }
}

/// A 64-bit hasher whose output depends only on the values written, never on the platform, the
/// Rust version or the process: integers are folded in little-endian order (`usize` as `u64`).
/// Used for trace digests.
#[derive(Clone, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl StableHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        // FNV-style multiply on whole words, followed by a rotation to spread high bits.
        self.0 = (self.0 ^ word)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(29);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        // A final avalanche (splitmix64's) so that nearby inputs give unrelated digests.
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word) ^ ((chunk.len() as u64) << 56));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(i as u64);
    }
    fn write_u16(&mut self, i: u16) {
        self.mix(i as u64);
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(i as u64);
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_u128(&mut self, i: u128) {
        self.mix(i as u64);
        self.mix((i >> 64) as u64);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn write_i8(&mut self, i: i8) {
        self.mix(i as u64);
    }
    fn write_i16(&mut self, i: i16) {
        self.mix(i as u64);
    }
    fn write_i32(&mut self, i: i32) {
        self.mix(i as u64);
    }
    fn write_i64(&mut self, i: i64) {
        self.mix(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.mix(i as u64);
    }
}

/// Hashes `value` with a [`StableHasher`].
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = StableHasher::default();
    value.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PINNED: u64 = 8_613_670_419_702_727_803;

    #[test]
    fn the_text_form_is_aligned_in_columns() {
        let msg = |kind: &str, ts| MessageInfo {
            kind: kind.into(),
            timestamp: ts,
            detail: String::new(),
        };
        let events = [
            TraceEvent {
                time: 0,
                kind: EventKind::Request { node: NodeId(3) },
            },
            TraceEvent {
                time: 0,
                kind: EventKind::Send {
                    from: NodeId(3),
                    to: NodeId(12),
                    message: msg("REQUEST", Some(1)),
                    deliver_at: 10,
                },
            },
            TraceEvent {
                time: 10,
                kind: EventKind::Deliver {
                    from: NodeId(3),
                    to: NodeId(12),
                    message: msg("REQUEST", Some(1)),
                    sent_at: 0,
                    overtook: false,
                },
            },
            TraceEvent {
                time: 1234,
                kind: EventKind::Deliver {
                    from: NodeId(12),
                    to: NodeId(3),
                    message: msg("REPLY", None),
                    sent_at: 10,
                    overtook: true,
                },
            },
            TraceEvent {
                time: 1234,
                kind: EventKind::Enter { node: NodeId(3) },
            },
        ];
        let lines: Vec<String> = events.iter().map(ToString::to_string).collect();
        assert_eq!(lines[0], "t=0        n3    requests the critical section");
        assert_eq!(
            lines[1],
            "t=0        n3    sends    REQUEST(ts=1)    to   n12   arrives t=10"
        );
        assert_eq!(
            lines[2],
            "t=10       n12   receives REQUEST(ts=1)    from n3    sent t=0"
        );
        assert!(lines[3].starts_with(
            "t=1234     n3    receives REPLY            from n12   sent t=10  << overtook"
        ));
        assert_eq!(lines[4], "t=1234     n3    ENTERS   the critical section");
    }

    #[test]
    fn stable_hash_is_fixed_across_builds() {
        // The digest format is part of the trace-file format: changing it is a breaking change.
        assert_eq!(
            stable_hash(&(1u64, 2u32, "abc")),
            stable_hash(&(1u64, 2u32, "abc"))
        );
        assert_ne!(stable_hash(&(1u64, 2u32)), stable_hash(&(2u64, 1u32)));
        assert_eq!(stable_hash(&42u64), PINNED);
    }
}
