//! The library behind the `dme` command-line tool: the registry of algorithms and the pieces
//! the subcommands share. The binary (`src/main.rs`) is a thin clap front end over it.

pub mod registry;
pub mod simulate;

pub use registry::{Algorithm, ClusterSpec, ClusterVisitor};
pub use simulate::{RunSummary, simulate};
