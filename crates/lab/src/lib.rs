//! The lab: what dme measures and checks on top of the simulator and the drivers, as a library,
//! so the `dme` binary only parses arguments and prints.

pub mod registry;
pub mod simulate;
pub mod sweep;
pub mod textbook;

pub use registry::{Algorithm, ClusterSpec, ClusterVisitor};
pub use simulate::{RunSummary, simulate};
