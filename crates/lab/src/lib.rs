//! The lab: what dme measures and checks on top of the simulator and the drivers, as a library,
//! so the `dme` binary only parses arguments and prints.
//!
//! * [`simulate`]: one simulated run of any registered algorithm, summarised ([`RunSummary`]);
//! * [`textbook`]: the descriptors' textbook figures evaluated for a run;
//! * [`sweep`]: many runs over cluster sizes and loads, on several threads, with growth
//!   exponents and `results.csv`;
//! * [`replay`]: the cluster a trace file describes, and the parameters that rebuild it.

pub mod replay;
pub mod simulate;
pub mod sweep;
pub mod textbook;

pub use simulate::{RunSummary, simulate};
