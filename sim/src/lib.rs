//! The dme simulator and checkers (work in progress).

pub mod check;
