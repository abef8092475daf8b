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
    Bench {
        /// Only the build cost (cold builds, packages, what the fakes add), printed; the
        /// document is not written.
        #[arg(long)]
        build_cost: bool,
    },
    /// Classify how each published library crate (clients, runtime, vendor table, facade) changed since its last release
    /// (the commit that last set its version): `<crate>: none | additive | breaking`, then the
    /// items. Uses cargo-semver-checks, installing it when missing.
    Semver {
        /// Fail when a breaking change has no matching version bump, or an API change has no
        /// CHANGELOG.md entry.
        #[arg(long)]
        check: bool,
        /// Only this crate (repeatable).
        #[arg(long, short)]
        package: Vec<String>,
    },
    /// Add or change vendors.
    Vendor {
        #[command(subcommand)]
        action: VendorAction,
    },
    /// Work on the vendors' specs.
    Specs {
        /// Fetch each vendor's published spec (`upstream` in specs/vendors.toml) and report,
        /// per vendor, unchanged or what changed in the operation we use since
        /// specs/upstream.lock (a semantic diff), and the semver class of regenerating from
        /// the published version. Exits 1 when any vendor changed (0 with --update).
        #[arg(long)]
        check_upstream: bool,
        /// With --check-upstream: after reviewing the report, lock what was seen
        /// (specs/upstream.lock and specs/upstream/<vendor>.json), so that the next check
        /// reports only what changes after it.
        #[arg(long, requires = "check_upstream")]
        update: bool,
        /// Only this vendor.
        #[arg(long)]
        vendor: Option<String>,
    },
}

#[derive(Subcommand)]
enum VendorAction {
    /// Add a vendor from its published OpenAPI document: the spec (copied byte for byte), its
    /// vendors.toml entry (transforms detected), its client crate, the workspace dependency and
    /// the facade's feature; then generate. The vendor is served by the generic adapter and the
    /// generic fake; state what its answers mean in vendors.toml (see CONTRIBUTING.md).
    Add {
        /// Lower-case id (letters and digits): targets are `<id>:...`, keys `<ID>_API_KEY`.
        id: String,
        /// The vendor's OpenAPI document (YAML or JSON; 3.0 or 3.1).
        #[arg(long)]
        spec: std::path::PathBuf,
        /// The operation that cuts a connection: `METHOD /path`, as in the spec.
        #[arg(long)]
        operation: String,
        /// Display name (default: the id, capitalised).
        #[arg(long)]
        name: Option<String>,
        /// Where the vendor publishes the document (its URL), for
        /// `cargo xtask specs --check-upstream`.
        #[arg(long)]
        upstream: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Vendor {
            action:
                VendorAction::Add {
                    id,
                    spec,
                    operation,
                    name,
                    upstream,
                },
        } => {
            let request = xtask::vendor_add::AddVendor {
                id,
                spec,
                operation,
                name,
                upstream,
            };
            match xtask::vendor_add::add(&Layout::from_env(), &request) {
                Ok(written) => {
                    for w in written {
                        println!("wrote {w}");
                    }
                    println!(
                        "next: cargo build --workspace && cargo test --workspace; state what the \
                         vendor's answers mean in specs/vendors.toml ([vendors.{}.answers])",
                        request.id
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Specs {
            check_upstream,
            update,
            vendor,
        } => {
            if !check_upstream {
                eprintln!("nothing to do: pass --check-upstream");
                return ExitCode::from(2);
            }
            match xtask::upstream::check(&Layout::from_env(), vendor.as_deref(), update) {
                Ok(reports) => {
                    for r in &reports {
                        print!("{}", r.render());
                    }
                    if update {
                        println!("locked: specs/upstream.lock");
                    }
                    if reports.iter().any(|r| r.change.is_some()) && !update {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Semver { check, package } => {
            let root = Layout::workspace()
                .crates_dir
                .parent()
                .expect("crates/ has a parent")
                .to_path_buf();
            let opts = xtask::semver::Options {
                packages: package,
                ..xtask::semver::Options::new(&root)
            };
            let reports = xtask::semver::ensure_tool().and_then(|()| xtask::semver::run(&opts));
            match reports {
                Ok(reports) => {
                    for r in &reports {
                        print!("{}", r.render());
                    }
                    let problems: Vec<String> = reports.iter().flat_map(|r| r.problems()).collect();
                    for p in &problems {
                        eprintln!("{}: {p}", if check { "error" } else { "warning" });
                    }
                    if check && !problems.is_empty() {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Bench { build_cost } => match xtask::bench::bench(build_cost) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Generate { vendor, check } => {
            let layout = Layout::from_env();
            let gaps = match xtask::changelog_gaps(&layout, vendor.as_deref()) {
                Ok(gaps) => gaps,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            for gap in &gaps {
                eprintln!("{}: {gap}", if check { "error" } else { "warning" });
            }
            if check && !gaps.is_empty() {
                return ExitCode::FAILURE;
            }
            match xtask::generate(&layout, vendor.as_deref(), !check) {
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
