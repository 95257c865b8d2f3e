//! The dme conformance kit.
//!
//! * [`conform`]: the standard suite for any algorithm, driven by its descriptor
//!   ([`dme_core::describe::Algorithm`]): misuse is refused and changes nothing; the same seed
//!   gives the same digest and different seeds differ; light and heavy load against the
//!   descriptor's textbook figures; `0..seeds` random seeds at light, heavy and random load with
//!   FIFO channels, and without where the algorithm does not need them; the exhaustive checker at
//!   small N and R; the trace file round trip; a node's size within the memory estimate. An
//!   algorithm that says it is not deadlock-free must deadlock, not pass.
//! * [`mutant`]: deliberately broken nodes, as wrappers over a real node's public API, for
//!   proving that the checks catch what they are named after.
//!
//! It is a crate of its own, used as a dev-dependency, because it is test policy (what every
//! algorithm must show, with which sizes) over the simulator and checker of `dme-sim`, which stay
//! libraries without it; it needs nothing but `dme-core`'s descriptor traits, so any
//! algorithm with a descriptor — in the registry or in a user's crate — is checked by one call.

pub mod kit;
pub mod mutant;

pub use kit::{Passed, Suite, conform};
