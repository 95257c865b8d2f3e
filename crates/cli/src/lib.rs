//! The library behind the `dme` command-line tool: the registry of algorithms and the pieces
//! the subcommands share. The binary (`src/main.rs`) is a thin clap front end over it.

pub mod plot;
pub mod svg;

pub use dme_lab::{registry, simulate, sweep, textbook};
pub use registry::{Algorithm, ClusterSpec, ClusterVisitor};
pub use simulate::RunSummary;

/// The README's Rust examples, compiled and run as doctests so they never rot.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
