//! The dme conformance kit.
//!
//! * [`mutant`]: deliberately broken nodes, as wrappers over a real node's public API, for
//!   proving that the checks catch what they are named after.

pub mod mutant;
