//! `disconnect`: cut connections at Tartan, Persona and Leen.
//!
//! This file holds the arguments and the dispatch; each command lives in its own module:
//! [`run`] (a batch), [`demo`], [`summarize`] (`report summarize`), and the report format in
//! [`report`].

mod confirm;
mod demo;
mod input;
mod journal;
mod keys;
mod output;
mod prepare;
mod profile;
mod progress;
mod report;
mod run;
mod summarize;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use disconnect::{Rate, Vendor};

use crate::output::Format;

/// Exit code: a usage or configuration error, or a run not confirmed (nothing was sent).
const USAGE: u8 = 2;
/// Exit code: a vendor's lane was stopped by its circuit breaker (repeated 401/403: fix the
/// key); its remaining targets were skipped.
const LANE_STOPPED: u8 = 3;
/// Exit code: the report could not be written mid-run (a full disk, say): sending stopped, and
/// the results it misses were printed as JSON lines.
const REPORT_FAILED: u8 = 4;
/// Exit code: interrupted by Ctrl-C or SIGTERM.
const INTERRUPTED: u8 = 130;

/// Cut connections at the vendors of the vendor table ([`command`] writes their names, target
/// syntaxes and environment variables into the help).
///
/// Runs for more than 10 targets ask for confirmation on a terminal, and need --yes without one.
///
/// Ctrl-C (or SIGTERM) stops sending at once; requests on the wire get 10 s to finish and are
/// recorded; a second Ctrl-C records them as in doubt (they may have acted: --resume confirms
/// them).
///
/// Exit status: 0 when every target is disconnected or already disconnected, 1 when any failed,
/// was skipped, is in doubt or never started, 2 for usage or configuration errors or an
/// unconfirmed run (nothing sent), 3 when a vendor's lane was stopped for bad credentials, 4
/// when the report could not be written mid-run (sending stopped; the results it misses were
/// printed as JSON lines), 130 when interrupted.
#[derive(Parser, Debug)]
#[command(name = "disconnect", version, subcommand_precedence_over_arg = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
    /// Run against built-in fake vendors (no network, no keys): they are seeded with the given
    /// targets as live connections.
    #[arg(long, global = true)]
    fake: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// A scripted tour against the built-in fakes showing every kind of outcome.
    Demo,
    /// Read reports written by --report.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Print the JSON Schema of a report line (same as `report schema`).
    #[command(hide = true)]
    ReportSchema,
    /// Print a shell completion script, e.g. `disconnect completions bash > ~/.local/share/bash-completion/completions/disconnect`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `disconnect man > ~/.local/share/man/man1/disconnect.1`.
    Man,
}

#[derive(Subcommand, Debug)]
enum ReportCommand {
    /// Per run and per vendor: what a report records, including a run cut short by a crash.
    Summarize {
        /// The report (JSON lines).
        file: PathBuf,
    },
    /// Print the JSON Schema of every report line (header, target, summary).
    Schema,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Targets to disconnect.
    targets: Vec<String>,
    /// Read more targets from FILE (one per line, `#` comments; or CSV with a `target` column;
    /// `-` for stdin).
    #[arg(long, value_name = "FILE")]
    input: Option<String>,
    /// What to print on stdout: an aligned table at the end, or JSON lines / CSV rows as
    /// targets finish.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Same as --output json.
    #[arg(long)]
    json: bool,
    /// Allow plain http:// base URLs to hosts other than loopback (the key then travels
    /// unencrypted; loopback is always allowed). Also the profile's `allow_insecure_http`.
    #[arg(long)]
    allow_insecure_http: bool,
    /// How long a --<vendor>-key-cmd (or a profile's key_cmd) may take before it is stopped
    /// (`30s`, `2m`) [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    key_cmd_timeout: Option<Duration>,
    /// Run the valid targets even if some lines of the input are not targets (they are recorded
    /// as invalid); without it, one invalid line stops the run before anything is sent.
    #[arg(long)]
    skip_invalid: bool,
    /// Do not ask for confirmation (needed for more than 10 targets without a terminal).
    #[arg(long, short = 'y')]
    yes: bool,
    /// Who runs this, for the report header (default: the profile's operator,
    /// DISCONNECT_OPERATOR, or the login name).
    #[arg(long)]
    operator: Option<String>,
    /// Why, for the report header (e.g. a ticket id).
    #[arg(long)]
    reason: Option<String>,
    /// The config file with profiles (default: ~/.config/disconnect/config.toml if present).
    #[arg(long, value_name = "FILE", env = "DISCONNECT_CONFIG")]
    config: Option<PathBuf>,
    /// The profile to use (default: `default`, if the file has it).
    #[arg(long, env = "DISCONNECT_PROFILE")]
    profile: Option<String>,
    /// Print each request that would be sent (secrets redacted) and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Append the run to FILE (JSON lines): a header, an attempt line synced before each
    /// target's first request, a line per finished target, a summary.
    #[arg(long, value_name = "FILE.jsonl")]
    report: Option<PathBuf>,
    /// Skip targets the --report file already records as disconnected or already disconnected;
    /// failed Persona targets continue from the idempotency key the report recorded; targets
    /// in doubt (sent, answer lost) are confirmed: a "gone" answer makes them disconnected.
    #[arg(long, requires = "report")]
    resume: bool,
    /// Calls in flight at once in each vendor's lane (each vendor runs independently)
    /// [default: 8].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: Option<u16>,
    /// Calls in flight at once for one vendor, e.g. --per-vendor persona=2 (repeatable).
    #[arg(long, value_name = "VENDOR=N", value_parser = parse_per_vendor)]
    per_vendor: Vec<(Vendor, usize)>,
    /// A vendor's request rate, e.g. --rate persona=300/min or leen=50/10s (repeatable).
    /// Persona's RateLimit headers pace its lane in any case.
    #[arg(long, value_name = "VENDOR=N/PERIOD", value_parser = parse_rate)]
    rate: Vec<(Vendor, Rate)>,
    /// Stop a vendor's lane after this many consecutive 401/403 answers; its remaining targets
    /// are skipped (never sent) and --resume picks them up (0: never stop) [default: 3].
    #[arg(long, value_name = "N")]
    breaker: Option<u32>,
    /// Show lane progress on stderr even when it is not a terminal (a line every 10 s) and the
    /// summary at the end.
    #[arg(long)]
    progress: bool,
    /// Time limit for each target from its first request: retries and rate-limit waits
    /// included, time queued before it not (e.g. 30s, 2m) [default: 30s].
    #[arg(long, value_parser = humantime::parse_duration)]
    deadline: Option<Duration>,
    /// Wait up to this long for a running Tartan sync to end (e.g. 5m) instead of failing.
    #[arg(long, value_parser = humantime::parse_duration)]
    wait_for_sync: Option<Duration>,
    /// Count "not found" as already disconnected.
    #[arg(long)]
    not_found_ok: bool,
    /// Mixed into Persona idempotency keys (a new id makes a new operation).
    #[arg(long)]
    operation_id: Option<String>,
    /// `--<vendor>-key-file` and `--<vendor>-key-cmd` for each vendor.
    #[command(flatten)]
    keys: keys::KeyFlags,
}

impl RunArgs {
    /// `--output`, with `--json` as its alias.
    fn format(&self) -> Format {
        if self.json { Format::Json } else { self.output }
    }
}

fn parse_rate(text: &str) -> Result<(Vendor, Rate), String> {
    let (vendor, rate) = text.split_once('=').ok_or_else(|| {
        format!(
            "expected VENDOR=N/PERIOD, e.g. {}=300/min",
            Vendor::ALL[0].id()
        )
    })?;
    let vendor = vendor.parse::<Vendor>().map_err(|e| e.to_string())?;
    Ok((vendor, rate.parse()?))
}

fn parse_per_vendor(text: &str) -> Result<(Vendor, usize), String> {
    let (vendor, n) = text
        .split_once('=')
        .ok_or_else(|| format!("expected VENDOR=N, e.g. {}=2", Vendor::ALL[0].id()))?;
    let vendor = vendor.parse::<Vendor>().map_err(|e| e.to_string())?;
    let n = n
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or("N must be a positive number")?;
    Ok((vendor, n))
}

/// The vendors' part of the help, from the vendor table: a vendor added to it appears here
/// without an edit.
fn vendors_help() -> (String, String) {
    let and = |items: Vec<String>| match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => format!("{} and {last}", first.join(", ")),
    };
    let about = format!(
        "Cut connections at {}.",
        and(Vendor::ALL.iter().map(|v| v.name().to_string()).collect())
    );
    let targets = Vendor::ALL
        .iter()
        .map(|v| format!("{}:{}", v.id(), v.facts().operation.syntax))
        .collect::<Vec<_>>()
        .join(", ");
    let keys = Vendor::ALL.map(|v| v.api_key_var()).join(", ");
    let urls = Vendor::ALL.map(|v| v.base_url_var()).join(", ");
    let vendors = format!(
        "Targets: {targets}. Keys come from --<vendor>-key-file or --<vendor>-key-cmd, else \
         {keys}, else the profile; base URLs from {urls}, else the profile. Profiles live in \
         ~/.config/disconnect/config.toml (or --config FILE)."
    );
    (about, vendors)
}

/// The CLI's clap command, its help naming the vendors of the vendor table.
fn command() -> clap::Command {
    let (about, vendors) = vendors_help();
    let cmd = Cli::command();
    let rest = cmd
        .get_long_about()
        .map(|text| text.to_string())
        .unwrap_or_default();
    // The derive's long help is the summary line, then the rest; the vendors go between.
    let rest = rest.split_once("\n\n").map_or("", |(_, r)| r).to_string();
    cmd.about(about.clone())
        .long_about(format!("{about}\n\n{vendors}\n\n{rest}"))
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DISCONNECT_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let code = match cli.command {
        Some(Command::ReportSchema | Command::Report(ReportCommand::Schema)) => {
            print_out(format!("{}\n", report::schema()).as_bytes());
            0
        }
        Some(Command::Report(ReportCommand::Summarize { file })) => {
            let style = output::Style::for_stream(std::io::stdout().is_terminal());
            match summarize::summarize(&file, style) {
                Ok(text) => {
                    print_out(text.as_bytes());
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    USAGE
                }
            }
        }
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "disconnect", &mut script);
            print_out(&script);
            0
        }
        Some(Command::Man) => {
            let mut page = Vec::new();
            match clap_mangen::Man::new(command()).render(&mut page) {
                Ok(()) => {
                    print_out(&page);
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    USAGE
                }
            }
        }
        Some(Command::Demo) => runtime().block_on(demo::run(cli.run.format())),
        None => runtime().block_on(run::run(cli.run, cli.fake)),
    };
    ExitCode::from(code)
}

/// Write to stdout. `false` when the reader went away (`disconnect man | head`): that ends the
/// output quietly, as for any Unix tool, instead of an error.
fn print_out(bytes: &[u8]) -> bool {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            false
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
