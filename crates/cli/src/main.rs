//! `dme`: run, compare, sweep, check and trace distributed mutual exclusion algorithms.

fn main() -> std::process::ExitCode {
    dme_cli::main_with(dme_registry::builtin())
}
