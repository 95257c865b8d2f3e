//! The wire format: length-prefixed frames, a version byte, a postcard-encoded [`Frame`].
//!
//! On the socket every frame is a 4-byte big-endian length followed by that many bytes of
//! payload ([`codec`], tokio-util's `LengthDelimitedCodec` with an explicit maximum). The
//! payload is [`WIRE_VERSION`] followed by the postcard encoding of a [`Frame`], with nothing
//! after it. [`decode_frame`] checks all of that and returns a [`WireError`] — never panics —
//! for anything else, so it can be fed arbitrary bytes.

use std::fmt;

use bytes::Bytes;
use dme_core::NodeId;
use dme_link::{self as link, Refusal};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_util::codec::LengthDelimitedCodec;

/// The version byte that starts every frame's payload. A frame with another version closes the
/// connection.
pub const WIRE_VERSION: u8 = 1;

/// The default maximum payload length of a frame (64 KiB): ample for every algorithm's
/// messages, small enough that a hostile length prefix cannot make a node allocate much.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// The length of the big-endian length prefix that precedes every payload on the socket.
pub const LENGTH_PREFIX_LEN: usize = 4;

/// One frame of the driver's protocol.
///
/// Each ordered pair of nodes (i, j) uses its own TCP connection, dialled by i: i sends
/// [`Hello`](Frame::Hello) and then [`Data`](Frame::Data); j answers with
/// [`Ack`](Frame::Ack)s only; either may send [`Refuse`](Frame::Refuse) before closing. The
/// protocol behind them is `dme_link`'s; these are its frames as they travel on TCP.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum Frame<M> {
    /// The first frame on a connection: who is dialling whom.
    Hello {
        /// The dialling node.
        from: NodeId,
        /// The node it believes it has reached (checked by the receiver).
        to: NodeId,
        /// A number drawn when the dialling driver started. A peer that comes back with another
        /// incarnation has restarted and lost its state; it is refused, since the classic
        /// algorithms do not tolerate crashes.
        incarnation: u64,
    },
    /// An algorithm message.
    Data {
        /// Per ordered pair of nodes, 1, 2, 3, …; used for acknowledgement, retransmission and
        /// de-duplication.
        seq: u64,
        /// The sender's fencing clock (a Lamport clock over grants), see the crate docs.
        clock: u64,
        /// The algorithm's message.
        msg: M,
    },
    /// Cumulative acknowledgement: every `Data` with a sequence number up to `seq` has been
    /// delivered. Sent once right after a `Hello` is accepted (so the dialler knows where to
    /// resume) and after every `Data`.
    Ack {
        /// The highest sequence number delivered so far (0: none).
        seq: u64,
    },
    /// Sent, on either connection, just before closing it: why this node refuses the peer
    /// (typically: the peer restarted and lost its state). The refused node logs it and
    /// answers `lock` with [`Error::Refused`](crate::Error::Refused). Added after the other
    /// three, which are encoded as before.
    Refuse {
        /// Why.
        reason: Refusal,
    },
}

/// What a `Data` frame carries through the link: the fencing clock and the message.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Stamped<M> {
    pub clock: u64,
    pub msg: M,
}

impl<M> From<Frame<M>> for link::Frame<Stamped<M>> {
    fn from(frame: Frame<M>) -> Self {
        match frame {
            Frame::Hello {
                from,
                to,
                incarnation,
            } => link::Frame::Hello {
                from,
                to,
                incarnation,
            },
            Frame::Data { seq, clock, msg } => link::Frame::Data {
                seq,
                payload: Stamped { clock, msg },
            },
            Frame::Ack { seq } => link::Frame::Ack { seq },
            Frame::Refuse { reason } => link::Frame::Refuse { reason },
        }
    }
}

impl<M> From<link::Frame<Stamped<M>>> for Frame<M> {
    fn from(frame: link::Frame<Stamped<M>>) -> Self {
        match frame {
            link::Frame::Hello {
                from,
                to,
                incarnation,
            } => Frame::Hello {
                from,
                to,
                incarnation,
            },
            link::Frame::Data {
                seq,
                payload: Stamped { clock, msg },
            } => Frame::Data { seq, clock, msg },
            link::Frame::Ack { seq } => Frame::Ack { seq },
            link::Frame::Refuse { reason } => Frame::Refuse { reason },
        }
    }
}

/// Why a frame was rejected.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum WireError {
    /// The payload was empty (no version byte).
    Empty,
    /// The version byte was not [`WIRE_VERSION`].
    WrongVersion {
        /// The version byte found.
        found: u8,
    },
    /// The bytes after the version byte are not a postcard-encoded frame.
    Malformed(String),
    /// A frame decoded but bytes were left after it.
    TrailingBytes(usize),
    /// The frame does not fit the maximum frame length (when encoding).
    TooLong {
        /// The payload's length.
        len: usize,
        /// The maximum.
        max: usize,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Empty => f.write_str("empty frame"),
            WireError::WrongVersion { found } => {
                write!(f, "wrong wire version {found} (expected {WIRE_VERSION})")
            }
            WireError::Malformed(why) => write!(f, "malformed frame: {why}"),
            WireError::TrailingBytes(n) => write!(f, "{n} trailing bytes after the frame"),
            WireError::TooLong { len, max } => {
                write!(f, "frame of {len} bytes exceeds the maximum of {max}")
            }
        }
    }
}

impl std::error::Error for WireError {}

/// The payload of `frame`: [`WIRE_VERSION`] followed by its postcard encoding (without the
/// length prefix, which the [`codec`] adds).
pub fn encode_frame<M: Serialize>(frame: &Frame<M>) -> Result<Vec<u8>, WireError> {
    let buf = vec![WIRE_VERSION];
    postcard::to_extend(frame, buf).map_err(|e| WireError::Malformed(e.to_string()))
}

/// Decodes a frame's payload (the bytes after the length prefix). Never panics; any input that
/// is not exactly a version byte and one postcard-encoded frame is an error.
pub fn decode_frame<M: DeserializeOwned>(payload: &[u8]) -> Result<Frame<M>, WireError> {
    let (&version, rest) = payload.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::WrongVersion { found: version });
    }
    let (frame, left) =
        postcard::take_from_bytes(rest).map_err(|e| WireError::Malformed(e.to_string()))?;
    if !left.is_empty() {
        return Err(WireError::TrailingBytes(left.len()));
    }
    Ok(frame)
}

/// [`encode_frame`], checked against `max_frame_len`, as `Bytes` ready for the codec.
pub(crate) fn encode_checked<M: Serialize>(
    frame: &Frame<M>,
    max_frame_len: usize,
) -> Result<Bytes, WireError> {
    let payload = encode_frame(frame)?;
    if payload.len() > max_frame_len {
        return Err(WireError::TooLong {
            len: payload.len(),
            max: max_frame_len,
        });
    }
    Ok(Bytes::from(payload))
}

/// The length-delimited codec of the wire: a 4-byte big-endian length prefix, payloads of at
/// most `max_frame_len` bytes. A longer length prefix is a decoding error (the connection is
/// closed before the payload is read).
pub fn codec(max_frame_len: usize) -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_length(LENGTH_PREFIX_LEN)
        .max_frame_length(max_frame_len)
        .new_codec()
}

/// A complete frame as it travels on the socket: length prefix and payload. Handy for tests
/// that play a peer over a raw `TcpStream`.
pub fn to_wire<M: Serialize>(frame: &Frame<M>) -> Result<Vec<u8>, WireError> {
    let payload = encode_frame(frame)?;
    let len = u32::try_from(payload.len()).map_err(|_| WireError::TooLong {
        len: payload.len(),
        max: u32::MAX as usize,
    })?;
    let mut wire = len.to_be_bytes().to_vec();
    wire.extend_from_slice(&payload);
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let f: Frame<u32> = Frame::Data {
            seq: 3,
            clock: 9,
            msg: 77,
        };
        let payload = encode_frame(&f).unwrap();
        assert_eq!(payload[0], WIRE_VERSION);
        assert_eq!(decode_frame::<u32>(&payload), Ok(f));
        assert_eq!(decode_frame::<u32>(&[]), Err(WireError::Empty));
        let mut wrong = payload.clone();
        wrong[0] = 9;
        assert_eq!(
            decode_frame::<u32>(&wrong),
            Err(WireError::WrongVersion { found: 9 })
        );
        let mut trailing = payload.clone();
        trailing.push(0);
        assert_eq!(
            decode_frame::<u32>(&trailing),
            Err(WireError::TrailingBytes(1))
        );
        assert!(matches!(
            decode_frame::<u32>(&payload[..payload.len() - 1]),
            Err(WireError::Malformed(_))
        ));
        assert!(matches!(
            encode_checked(&Frame::<Vec<u8>>::Ack { seq: 1 }, 1),
            Err(WireError::TooLong { .. })
        ));
        let wire = to_wire(&Frame::<u32>::Ack { seq: 5 }).unwrap();
        assert_eq!(&wire[..4], &(wire.len() as u32 - 4).to_be_bytes());
    }
}
