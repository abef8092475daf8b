use std::process::ExitCode;

use clap::{Parser, Subcommand};
use xtask::config::Layout;

/// Workspace automation.
#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Regenerate the vendor clients from specs/ (src/generated.rs and API.md of each crate).
    Generate {
        /// Only this vendor (a key of specs/vendors.toml: tartan, persona, leen).
        #[arg(long)]
        vendor: Option<String>,
        /// Write nothing; print a diff and fail if any generated file is stale.
        #[arg(long)]
        check: bool,
    },
    /// Run the benchmarks and write docs/benchmarks.md (a few minutes; not part of the tests).
    Bench,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Bench => match xtask::bench::bench() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Generate { vendor, check } => {
            match xtask::generate(&Layout::workspace(), vendor.as_deref(), !check) {
                Ok(drifts) if check && !drifts.is_empty() => {
                    for d in &drifts {
                        print!("{}", d.diff);
                    }
                    eprintln!(
                        "error: {} generated file(s) are stale: {}\nrun `{}` and commit the result",
                        drifts.len(),
                        drifts
                            .iter()
                            .map(|d| d.path.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        xtask::FIX_COMMAND
                    );
                    ExitCode::FAILURE
                }
                Ok(drifts) => {
                    if check {
                        eprintln!("generated code is up to date");
                    } else if drifts.is_empty() {
                        eprintln!("nothing to do: generated code is up to date");
                    } else {
                        for d in &drifts {
                            eprintln!("wrote {}", d.path);
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
