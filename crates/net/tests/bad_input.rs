//! Bad input from a raw TCP peer on loopback: each kind is rejected with a log line, and the
//! node keeps serving the others.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Checker, TEST_BOUND, ra_cluster, wait_connected};
use dme_core::NodeId;
use dme_net::wire::{WIRE_VERSION, to_wire};
use dme_net::{Frame, encode_frame};
use dme_ricart_agrawala::RaMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tracing_subscriber::fmt::MakeWriter;

/// Log lines, captured.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// Sends `bytes` (then half-closes if asked) and waits until the node closes the connection.
async fn attack(addr: std::net::SocketAddr, bytes: &[u8], half_close: bool) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    if half_close {
        s.shutdown().await.expect("shutdown");
    }
    let mut buf = [0u8; 256];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return, // closed (or reset) by the node
            Ok(_) => {}
        }
    }
}

fn with_prefix(payload: &[u8]) -> Vec<u8> {
    let mut v = (payload.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

// Current-thread runtime: every task runs on the test's thread, under its log subscriber.
#[tokio::test]
async fn bad_frames_are_rejected_with_a_log_line_and_the_node_keeps_serving() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _log_guard = tracing::subscriber::set_default(subscriber);

    timeout(TEST_BOUND, async {
        let handles = ra_cluster(3).await;
        wait_connected(&handles).await;
        let addr = handles[0].local_addr();

        let hello = |from: u32| Frame::<RaMessage>::Hello {
            from: NodeId(from),
            to: NodeId(0),
            incarnation: 1,
        };
        let mut wrong_version = encode_frame(&hello(1)).unwrap();
        assert_eq!(wrong_version[0], WIRE_VERSION);
        wrong_version[0] = WIRE_VERSION + 1;
        let mut oversized = (1u32 << 20).to_be_bytes().to_vec();
        oversized.extend_from_slice(&[0; 64]);
        let mut truncated = 100u32.to_be_bytes().to_vec();
        truncated.extend_from_slice(&[WIRE_VERSION, 0, 1, 2]);
        let data_first = to_wire(&Frame::Data {
            seq: 1,
            clock: 0,
            msg: RaMessage::Reply,
        })
        .unwrap();

        let cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
            (
                "garbage",
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                false,
                "oversized frame: the length prefix exceeds the maximum of 65536 bytes",
            ),
            ("oversized length", oversized, false, "oversized frame"),
            ("truncated frame", truncated, true, "truncated frame"),
            (
                "wrong version",
                with_prefix(&wrong_version),
                false,
                "wrong wire version 2",
            ),
            (
                "malformed payload",
                with_prefix(&[WIRE_VERSION, 0xff, 0xff]),
                false,
                "malformed frame",
            ),
            (
                "trailing bytes",
                with_prefix(&[encode_frame(&hello(1)).unwrap(), vec![0]].concat()),
                false,
                "trailing bytes",
            ),
            ("data before hello", data_first, false, "not a Hello"),
            (
                "hello from a non-member",
                to_wire(&hello(9)).unwrap(),
                false,
                "n9, which is not a peer",
            ),
            (
                "impostor of n1 (another incarnation)",
                to_wire(&hello(1)).unwrap(),
                false,
                "restarted",
            ),
        ];
        for (k, (name, bytes, half_close, reason)) in cases.into_iter().enumerate() {
            attack(addr, &bytes, half_close).await;
            let status = handles[0].status().await.unwrap();
            assert_eq!(status.rejected_connections, k as u64 + 1, "{name}");
            let text = logs.text();
            let line = text
                .lines()
                .rev()
                .find(|l| l.contains("rejected connection"))
                .unwrap_or_default();
            println!("{name}: {line}");
            assert!(
                line.contains("WARN") && line.contains(reason),
                "{name}: expected a warning with {reason:?}, last rejection line: {line:?}"
            );
        }

        // Nothing reached the node, the real peers are still connected, the cluster still works.
        wait_connected(&handles).await;
        let checker = Checker::default();
        for h in handles.iter().chain(handles.iter()) {
            let guard = h.lock().await.expect("lock");
            checker.enter(&guard);
            checker.exit();
            guard.unlock().await.unwrap();
        }
        checker.assert_monotonic();
        let s0 = handles[0].status().await.unwrap();
        assert_eq!(s0.entries, 2);
        assert_eq!(
            s0.messages_received,
            2 * 2 + 4,
            "only the real peers' messages"
        );
        assert!(!logs.text().contains("panic"));
    })
    .await
    .expect("test timed out");
}
