//! The exhaustive checker (work in progress).
