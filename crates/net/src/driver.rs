//! Starting a driver: binds, spawns the listener and the driver task.

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use dme_core::{Node, NodeId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{Instrument, info};

use crate::config::{Config, Error};
use crate::conn::{self, Ids, Limits};
use crate::core::Core;
use crate::handle::Handle;

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
        let span = tracing::info_span!("dme", node = %me);
        let ids = Ids::default();
        let (net_tx, net_rx) = mpsc::unbounded_channel();
        let limits = Limits {
            max_frame_len: config.max_frame_len,
            connect_timeout: config.connect_timeout,
            handshake_timeout: config.handshake_timeout,
        };
        let mut tasks = JoinSet::new();
        tasks.spawn(
            conn::listen::<N::Message>(listener, ids.clone(), limits, net_tx.clone())
                .instrument(span.clone()),
        );
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let core = Core::new(
            node,
            fresh_incarnation(),
            config,
            &peers,
            ids,
            net_tx,
            tasks,
            span.clone(),
            cmd_tx.downgrade(),
        )?;
        info!(node = %me, %local_addr, peers = peers.len(), "driver started");
        tokio::spawn(core.run(cmd_rx, net_rx).instrument(span));
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
