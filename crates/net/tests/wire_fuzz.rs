//! Fuzzing the frame decoder and the length-delimited codec with arbitrary bytes: errors,
//! never panics; and every frame survives an encode/decode round trip.

use bytes::BytesMut;
use dme_core::NodeId;
use dme_net::wire::{WIRE_VERSION, codec};
use dme_net::{Frame, WireError, decode_frame, encode_frame};
use dme_ricart_agrawala::RaMessage;
use proptest::prelude::*;
use tokio_util::codec::Decoder;

fn message() -> impl Strategy<Value = RaMessage> {
    prop_oneof![
        any::<u64>().prop_map(|sequence_number| RaMessage::Request { sequence_number }),
        Just(RaMessage::Reply),
    ]
}

fn frame() -> impl Strategy<Value = Frame<RaMessage>> {
    prop_oneof![
        (any::<u32>(), any::<u32>(), any::<u64>()).prop_map(|(from, to, incarnation)| {
            Frame::Hello {
                from: NodeId(from),
                to: NodeId(to),
                incarnation,
            }
        }),
        (any::<u64>(), any::<u64>(), message()).prop_map(|(seq, clock, msg)| Frame::Data {
            seq,
            clock,
            msg
        }),
        any::<u64>().prop_map(|seq| Frame::Ack { seq }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4096,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_frame::<RaMessage>(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_the_version_byte_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..64)
    ) {
        let mut payload = vec![WIRE_VERSION];
        payload.extend_from_slice(&bytes);
        if let Ok(frame) = decode_frame::<RaMessage>(&payload) {
            // Whatever decodes is canonical: it re-encodes to the same bytes.
            prop_assert_eq!(encode_frame(&frame).unwrap(), payload);
        }
    }

    #[test]
    fn frames_round_trip(f in frame()) {
        let payload = encode_frame(&f).unwrap();
        prop_assert_eq!(decode_frame::<RaMessage>(&payload), Ok(f));
    }

    #[test]
    fn a_mangled_frame_is_an_error_or_another_frame(f in frame(), at in any::<usize>(), byte in any::<u8>()) {
        let mut payload = encode_frame(&f).unwrap();
        let i = at % payload.len();
        payload[i] = byte;
        match decode_frame::<RaMessage>(&payload) {
            Ok(_) => prop_assert!(i > 0 || byte == WIRE_VERSION),
            Err(WireError::WrongVersion { found }) => prop_assert_eq!((i, found), (0, byte)),
            Err(_) => {}
        }
    }

    #[test]
    fn the_codec_survives_arbitrary_streams(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let max = 32;
        let mut codec = codec(max);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            prop_assert!(frame.len() <= max);
            let _ = decode_frame::<RaMessage>(&frame);
        }
        let _ = codec.decode_eof(&mut buf);
    }
}
