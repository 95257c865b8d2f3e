//! `dme algorithms`: every registered algorithm with its parameters, assumptions and textbook
//! figures, from the descriptors.

use clap::Args;
use dme_registry::{Listing, Registry};

use super::UsageError;

#[derive(Args, Debug)]
pub struct AlgorithmsArgs {
    /// Print a JSON array instead of the text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `dme algorithms`.
pub fn exec<R: Registry>(registry: &R, args: AlgorithmsArgs) -> Result<bool, UsageError> {
    let listings: Vec<Listing> = registry
        .descriptors()
        .into_iter()
        .map(Listing::of)
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&listings).expect("listings serialize")
        );
    } else {
        let texts: Vec<String> = listings.iter().map(ToString::to_string).collect();
        print!("{}", texts.join("\n"));
        println!(
            "\nfigures: messages per critical-section entry and synchronization delay (units of the \
             message delay T), N nodes, K the requester's request set; exact, a range, an \
             estimate, or not applicable. Memory is an estimate per node: runs whose estimate \
             exceeds the available memory are refused."
        );
    }
    Ok(true)
}
