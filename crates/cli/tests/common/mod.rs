//! Helpers shared by the `dme` binary's integration tests (each test file uses some of them).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs `dme ARGS` to completion.
pub fn dme(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dme"))
        .args(args)
        .output()
        .expect("dme runs")
}

/// Standard output, as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh, empty scratch directory for one test of one test binary, under the target
/// directory (so runs do not litter the system's temporary directory).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dme-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// An algorithm of the built-in registry, by name: what the tests iterate over.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Algorithm(pub &'static str);

impl Algorithm {
    /// Ricart and Agrawala.
    pub const RICART_AGRAWALA: Algorithm = Algorithm("ricart-agrawala");

    /// Every registered algorithm, in the registry's order.
    pub fn all() -> Vec<Algorithm> {
        use dme_registry::Registry;
        dme_registry::builtin()
            .names()
            .into_iter()
            .map(Algorithm)
            .collect()
    }

    /// The algorithms `compare` and `sweep` show by default (no named variants).
    pub fn main() -> Vec<Algorithm> {
        use dme_registry::Registry;
        dme_registry::builtin()
            .main_names()
            .into_iter()
            .map(Algorithm)
            .collect()
    }

    /// The name.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}
