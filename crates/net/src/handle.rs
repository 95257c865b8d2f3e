//! What the application holds: the [`Handle`] on a running driver and the [`Guard`] of a
//! grant, and the commands they send to the driver task.

use std::net::SocketAddr;
use std::time::Duration;

use dme_core::{NodeId, Stamp};
use tokio::sync::{mpsc, oneshot};

use crate::config::Error;
use crate::status::Status;

/// A request from the application to the driver task.
pub(crate) enum Command {
    Lock(oneshot::Sender<Result<Guard, Error>>),
    Release {
        entry: u64,
        done: Option<oneshot::Sender<()>>,
    },
    Status(oneshot::Sender<Status>),
    Disconnect(NodeId, oneshot::Sender<bool>),
    Shutdown(oneshot::Sender<()>),
}

/// The application's handle on a running driver. Cheap to clone; every clone drives the same
/// node. Local `lock` calls are served one at a time, each by its own request of the algorithm.
#[derive(Clone, Debug)]
pub struct Handle {
    pub(crate) id: NodeId,
    pub(crate) local_addr: SocketAddr,
    pub(crate) cmds: mpsc::UnboundedSender<Command>,
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
    /// [`unlock`](Guard::unlock)ed. Fails with [`Error::Refused`] at once, or as soon as it
    /// happens, when a peer refuses this node (after this node restarted, typically): no
    /// grant can come then.
    ///
    /// Cancel-safe: if this future is dropped before it completes, the request is not lost
    /// track of — the driver releases the critical section as soon as it is granted (see
    /// [`Error::Timeout`]), so safety and the other nodes' progress are unaffected.
    pub async fn lock(&self) -> Result<Guard, Error> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Command::Lock(tx))
            .map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
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
    pub(crate) cmds: mpsc::UnboundedSender<Command>,
    pub(crate) node: NodeId,
    pub(crate) entry: u64,
    pub(crate) fencing_token: u64,
    pub(crate) stamp: Option<Stamp>,
    pub(crate) armed: bool,
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
    /// algorithms ([`Node::request_stamp`](dme_core::Node::request_stamp)); stamps also grow with every grant for those.
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
