//! The delivery layer against a scripted peer over raw TCP on loopback: retransmission after a
//! lost connection, de-duplication, resumption, and the fencing clock carried in frames.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use dme_core::{NodeId, Phase, cluster};
use dme_net::wire::codec;
use dme_net::{Config, Driver, Frame, decode_frame, encode_frame};
use dme_ricart_agrawala::{RaMessage, RicartAgrawala};
use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

type Conn = Framed<TcpStream, LengthDelimitedCodec>;

fn framed(stream: TcpStream) -> Conn {
    Framed::new(stream, codec(64 * 1024))
}

async fn next_frame(conn: &mut Conn) -> Frame<RaMessage> {
    let bytes = conn.next().await.expect("a frame").expect("no i/o error");
    decode_frame(&bytes).expect("a valid frame")
}

async fn send(conn: &mut Conn, frame: Frame<RaMessage>) {
    conn.send(Bytes::from(encode_frame(&frame).unwrap()))
        .await
        .expect("send");
}

/// Reads until the node closes the connection.
async fn closed(conn: &mut Conn) {
    while let Some(Ok(_)) = conn.next().await {}
}

#[tokio::test]
async fn unacknowledged_frames_are_resent_and_duplicates_dropped() {
    timeout(Duration::from_secs(30), async {
        let fake = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (n0, n1) = (NodeId(0), NodeId(1));
        let node = RicartAgrawala::new(n0, &cluster(2)).unwrap();
        let config = Config {
            reconnect_initial: Duration::from_millis(10),
            ..Config::default()
        };
        let peers = BTreeMap::from([(n1, fake.local_addr().unwrap())]);
        let h = Driver::spawn(node, "127.0.0.1:0".parse().unwrap(), peers, config)
            .await
            .unwrap();
        let locker = tokio::spawn({
            let h = h.clone();
            async move { h.lock().await }
        });

        // n0 dials us (playing n1) and sends its REQUEST; we never acknowledge and hang up.
        let mut a = framed(fake.accept().await.unwrap().0);
        let Frame::Hello {
            from,
            to,
            incarnation,
        } = next_frame(&mut a).await
        else {
            panic!("expected a Hello");
        };
        assert_eq!((from, to), (n0, n1));
        send(&mut a, Frame::Ack { seq: 0 }).await;
        let request = Frame::Data {
            seq: 1,
            clock: 0,
            msg: RaMessage::Request { sequence_number: 1 },
        };
        assert_eq!(next_frame(&mut a).await, request);
        drop(a);

        // It redials, says hello with the same incarnation, and resends the same frame.
        let mut b = framed(fake.accept().await.unwrap().0);
        assert_eq!(
            next_frame(&mut b).await,
            Frame::Hello {
                from: n0,
                to: n1,
                incarnation
            }
        );
        send(&mut b, Frame::Ack { seq: 0 }).await;
        assert_eq!(next_frame(&mut b).await, request);
        send(&mut b, Frame::Ack { seq: 1 }).await;

        // We dial n0 and reply, carrying a fencing clock of 41.
        let mut c = framed(TcpStream::connect(h.local_addr()).await.unwrap());
        let hello = Frame::Hello {
            from: n1,
            to: n0,
            incarnation: 7,
        };
        send(&mut c, hello.clone()).await;
        assert_eq!(next_frame(&mut c).await, Frame::Ack { seq: 0 });
        let reply = Frame::Data {
            seq: 1,
            clock: 41,
            msg: RaMessage::Reply,
        };
        send(&mut c, reply.clone()).await;
        assert_eq!(next_frame(&mut c).await, Frame::Ack { seq: 1 });
        let guard = locker.await.unwrap().expect("granted");
        assert_eq!(guard.fencing_token(), 42, "max(own 0, received 41) + 1");

        // The same REPLY again (as after a retransmission) is acknowledged and dropped.
        send(&mut c, reply).await;
        assert_eq!(next_frame(&mut c).await, Frame::Ack { seq: 1 });

        // A new connection from n1 replaces the old one and learns where to resume.
        let mut d = framed(TcpStream::connect(h.local_addr()).await.unwrap());
        send(&mut d, hello).await;
        assert_eq!(next_frame(&mut d).await, Frame::Ack { seq: 1 });
        closed(&mut c).await;

        // A gap in the sequence is a protocol violation: the connection is closed.
        send(
            &mut d,
            Frame::Data {
                seq: 3,
                clock: 0,
                msg: RaMessage::Reply,
            },
        )
        .await;
        closed(&mut d).await;

        // A peer that comes back with another incarnation has restarted: refused.
        let mut e = framed(TcpStream::connect(h.local_addr()).await.unwrap());
        send(
            &mut e,
            Frame::Hello {
                from: n1,
                to: n0,
                incarnation: 8,
            },
        )
        .await;
        closed(&mut e).await;

        // Our acknowledgement of the resent frame reaches n0 eventually.
        while h.status().await.unwrap().peers[0].unacked != 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let s = h.status().await.unwrap();
        assert_eq!(s.phase, Phase::InCriticalSection);
        assert_eq!(s.entries, 1);
        assert_eq!(s.messages_sent, 1);
        assert_eq!(
            s.messages_received, 1,
            "the duplicate never reached the node"
        );
        assert_eq!(s.duplicates_dropped, 1);
        assert_eq!(s.frames_retransmitted, 1);
        assert_eq!(s.reconnects, 1);
        assert_eq!(s.rejected_connections, 2);
        guard.unlock().await.unwrap();
        assert_eq!(h.status().await.unwrap().phase, Phase::Idle);
    })
    .await
    .expect("test timed out");
}
