//! `ring-dme`: the `dme` command-line tool with the token ring registered.

fn main() -> std::process::ExitCode {
    use dme_registry::Registry;
    dme_cli::main_with(dme_registry::builtin().with(dme_example_token_ring_cli::Ring))
}
