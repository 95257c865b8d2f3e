//! The driver's tunables and errors.

use std::fmt;
use std::time::Duration;

use dme_core::NodeId;
use dme_link::Refusal;

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
    /// Repeated warnings (a rejected connection, a refusal) are logged at most once per peer
    /// and reason in this interval; the next line says how many were left out.
    pub warn_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            reconnect_initial: Duration::from_millis(20),
            reconnect_max: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(2),
            handshake_timeout: Duration::from_secs(2),
            warn_interval: Duration::from_secs(5),
        }
    }
}

/// What went wrong, for the application.
#[derive(Debug)]
pub enum Error {
    /// Binding the listening socket failed.
    Io(std::io::Error),
    /// The arguments of [`Driver::spawn`](crate::Driver::spawn) are inconsistent, or it was called outside a tokio
    /// runtime.
    InvalidConfig(String),
    /// [`Handle::try_lock_for`](crate::Handle::try_lock_for) gave up. The request is not withdrawn (the classic algorithms
    /// have no cancel message): the driver keeps it and releases the critical section at once
    /// when it is granted, unless another local `lock` call is waiting, which then gets it.
    Timeout {
        /// How long it waited.
        after: Duration,
        /// The nodes this node was still waiting for ([`Node::waiting_for`](dme_core::Node::waiting_for)).
        waiting_for: Vec<NodeId>,
        /// The peers this node had no connection to at that moment.
        disconnected: Vec<NodeId>,
    },
    /// The driver has stopped ([`Handle::shutdown`](crate::Handle::shutdown), or every handle was dropped).
    Stopped,
    /// A peer refuses this node, so no grant can come: typically this node restarted and lost
    /// its state, which the classic algorithms do not tolerate.
    Refused {
        /// The peer.
        by: NodeId,
        /// Its reason, in this node's words.
        reason: Refusal,
    },
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
            Error::Refused { by, reason } => write!(f, "{by} refuses us: {reason}"),
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

pub(crate) fn list(ids: &[NodeId]) -> String {
    if ids.is_empty() {
        return "nobody".into();
    }
    ids.iter()
        .map(|id| id.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
