//! Regression tests for tracker issue 13, items 10–12: the documentation a newcomer pastes.
//! Each was checked to fail on commit cb665af and to pass after the fix.

mod common;

use std::path::{Path, PathBuf};

use common::dme;

/// The repository's root (this crate lives in `crates/cli`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// The arguments after `--` of the first `cargo run … -- …` command in the shell block that
/// follows `heading` in the README (continuation lines joined, comments dropped).
fn readme_command(heading: &str) -> Vec<String> {
    let text = readme();
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?} in README"));
    let block = &text[start..];
    let open = block.find("```sh\n").expect("a shell block") + "```sh\n".len();
    let close = open + block[open..].find("```").expect("the block ends");
    let command = block[open..close]
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join(" ")
        .replace('\\', " ");
    let (_, args) = command.split_once(" -- ").expect("cargo run … -- ARGS");
    args.split_whitespace().map(str::to_owned).collect()
}

/// Item 10: "Replaying a failure" shows a run that really fails (exit 1), and the same seed
/// fails the same way twice.
#[test]
fn item10_the_replay_example_really_fails_and_replays() {
    let args = readme_command("### Replaying a failure");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = dme(&args);
    assert_eq!(
        first.status.code(),
        Some(1),
        "{args:?} must fail its checks"
    );
    let second = dme(&args);
    assert_eq!(
        first.stdout, second.stdout,
        "the same seed replays the same run"
    );
}

/// Item 11: the README says where the binary is and how to install it.
#[test]
fn item11_the_readme_says_where_the_binary_is_and_how_to_install_it() {
    let text = readme();
    assert!(text.contains("target/release/dme"), "binary location");
    assert!(
        text.contains("cargo install --path\ncrates/cli")
            || text.contains("cargo install --path crates/cli")
    );
}

/// Item 12: nothing in the repository's docs or sources cites design notes that live outside
/// it.
#[test]
fn item12_no_file_cites_notes_outside_the_repository() {
    fn walk(dir: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                walk(&path, found);
            } else if ["md", "rs", "toml", "sh", "py"]
                .iter()
                .any(|ext| name.ends_with(&format!(".{ext}")))
            {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                // Spelled in two pieces so that this file does not match itself.
                if text.contains(concat!("DESIGN", ".md")) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(&root(), &mut found);
    assert!(
        found.is_empty(),
        "cite notes outside the repository: {found:?}"
    );
}
