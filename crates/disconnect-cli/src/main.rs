//! `disconnect`: cut connections at Tartan, Persona and Leen.

mod demo;
mod input;
mod progress;
mod report;

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use disconnect::{BulkOptions, Disconnector, DisconnectorBuilder, Job, Rate, Target, Vendor};
use futures_util::StreamExt;

use crate::input::Item;
use crate::report::{Outcome, ReportLine, ReportWriter};

/// Exit code: a usage or configuration error (nothing was sent).
const USAGE: u8 = 2;
/// Exit code: interrupted by Ctrl-C.
const INTERRUPTED: u8 = 130;

/// Cut connections at Tartan HyperSync, Persona Connect and Leen.
///
/// Targets: tartan:<client_org>, persona:<connection-id>, leen:<organization_uuid>/<connection_uuid>.
/// Keys come from TARTAN_API_KEY, PERSONA_API_KEY, LEEN_API_KEY (or --*-key-file), base URLs
/// from TARTAN_BASE_URL, PERSONA_BASE_URL, LEEN_BASE_URL.
///
/// Exit status: 0 when every target is disconnected or already disconnected, 1 when any failed,
/// 2 for usage or configuration errors, 130 when interrupted.
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
    /// Print the JSON Schema of a report line (--report, --json).
    ReportSchema,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Targets to disconnect.
    targets: Vec<String>,
    /// Read more targets from FILE (one per line, `#` comments; or CSV with a `target` column;
    /// `-` for stdin).
    #[arg(long, value_name = "FILE")]
    input: Option<String>,
    /// Print one JSON object per target on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Print each request that would be sent (secrets redacted) and send nothing.
    #[arg(long)]
    dry_run: bool,
    /// Append one JSON line per finished target to FILE, flushed as each finishes.
    #[arg(long, value_name = "FILE.jsonl")]
    report: Option<PathBuf>,
    /// Skip targets the --report file already records as disconnected or already disconnected;
    /// failed Persona targets continue from the idempotency key the report recorded.
    #[arg(long, requires = "report")]
    resume: bool,
    /// Calls in flight at once in each vendor's lane (each vendor runs independently).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Calls in flight at once for one vendor, e.g. --per-vendor persona=2 (repeatable).
    #[arg(long, value_name = "VENDOR=N", value_parser = parse_per_vendor)]
    per_vendor: Vec<(Vendor, usize)>,
    /// A vendor's request rate, e.g. --rate persona=300/min or leen=50/10s (repeatable).
    /// Persona's RateLimit headers pace its lane in any case.
    #[arg(long, value_name = "VENDOR=N/PERIOD", value_parser = parse_rate)]
    rate: Vec<(Vendor, Rate)>,
    /// Stop a vendor's lane after this many consecutive 401/403 answers; its remaining targets
    /// are skipped (never sent) and --resume picks them up (0: never stop).
    #[arg(long, value_name = "N", default_value_t = 3)]
    breaker: u32,
    /// Show lane progress on stderr even when it is not a terminal (a line every 10 s) and the
    /// summary at the end.
    #[arg(long)]
    progress: bool,
    /// Time limit for each target, retries included (e.g. 30s, 2m).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    deadline: Duration,
    /// Wait up to this long for a running Tartan sync to end (e.g. 5m) instead of failing.
    #[arg(long, value_parser = humantime::parse_duration)]
    wait_for_sync: Option<Duration>,
    /// Count "not found" as already disconnected.
    #[arg(long)]
    not_found_ok: bool,
    /// Mixed into Persona idempotency keys (a new id makes a new operation).
    #[arg(long)]
    operation_id: Option<String>,
    /// Read the Tartan API key from FILE.
    #[arg(long, value_name = "FILE")]
    tartan_key_file: Option<PathBuf>,
    /// Read the Persona API key from FILE.
    #[arg(long, value_name = "FILE")]
    persona_key_file: Option<PathBuf>,
    /// Read the Leen API key from FILE.
    #[arg(long, value_name = "FILE")]
    leen_key_file: Option<PathBuf>,
}

fn parse_rate(text: &str) -> Result<(Vendor, Rate), String> {
    let (vendor, rate) = text
        .split_once('=')
        .ok_or("expected VENDOR=N/PERIOD, e.g. persona=300/min")?;
    let vendor = vendor
        .parse::<Vendor>()
        .map_err(|()| format!("unknown vendor `{vendor}` (tartan, persona, leen)"))?;
    Ok((vendor, rate.parse()?))
}

fn parse_per_vendor(text: &str) -> Result<(Vendor, usize), String> {
    let (vendor, n) = text
        .split_once('=')
        .ok_or("expected VENDOR=N, e.g. persona=2")?;
    let vendor = vendor
        .parse::<Vendor>()
        .map_err(|()| format!("unknown vendor `{vendor}` (tartan, persona, leen)"))?;
    let n = n
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or("N must be a positive number")?;
    Ok((vendor, n))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DISCONNECT_LOG")
                .unwrap_or_else(|_| "off".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = runtime.block_on(async move {
        match cli.command {
            Some(Command::ReportSchema) => {
                println!("{}", report::schema());
                0
            }
            Some(Command::Demo) => demo::run(cli.run.json).await,
            None => run(cli.run, cli.fake).await,
        }
    });
    ExitCode::from(code)
}

fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    USAGE
}

/// Build the disconnector from the environment; a `--*-key-file` stands in for its
/// `*_API_KEY` variable (not used with --fake).
fn configure(args: &RunArgs, builder: DisconnectorBuilder) -> Result<DisconnectorBuilder, String> {
    let mut files = std::collections::HashMap::new();
    for (vendor, file) in [
        (Vendor::Tartan, &args.tartan_key_file),
        (Vendor::Persona, &args.persona_key_file),
        (Vendor::Leen, &args.leen_key_file),
    ] {
        if let Some(path) = file {
            let key = std::fs::read_to_string(path).map_err(|e| {
                format!("cannot read the {vendor} key file {}: {e}", path.display())
            })?;
            files.insert(
                vendor.api_key_var(),
                key.trim_end_matches(['\n', '\r']).to_string(),
            );
        }
    }
    builder
        .from_lookup(|name| {
            files
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })
        .map_err(|e| e.to_string())
}

fn settings(args: &RunArgs, builder: DisconnectorBuilder) -> DisconnectorBuilder {
    let mut builder = builder
        .deadline(args.deadline)
        .wait_for_sync(args.wait_for_sync)
        .not_found_is_gone(args.not_found_ok);
    if let Some(id) = &args.operation_id {
        builder = builder.operation_id(id.clone());
    }
    builder
}

async fn run(args: RunArgs, fake: bool) -> u8 {
    if args.targets.is_empty() && args.input.is_none() {
        return usage_error("no targets: give TARGET arguments or --input FILE (see --help)");
    }
    // Targets on the command line are checked before anything is sent.
    let mut given = Vec::new();
    for raw in &args.targets {
        match raw.parse::<Target>() {
            Ok(t) => given.push(t),
            Err(e) => return usage_error(format!("invalid target `{raw}`: {e}")),
        }
    }
    let from_file: Box<dyn Iterator<Item = std::io::Result<Item>> + Send> = match &args.input {
        Some(path) => match input::read(path) {
            Ok(items) => items,
            Err(e) => return usage_error(format!("cannot read --input {path}: {e}")),
        },
        None => Box::new(std::iter::empty()),
    };
    let items = given
        .into_iter()
        .map(|t| Ok(Item::Target(t)))
        .chain(from_file);

    // --fake: in-process fakes seeded with every target (read up front for seeding).
    let mut _fakes = None;
    let (builder, items): (
        DisconnectorBuilder,
        Box<dyn Iterator<Item = std::io::Result<Item>> + Send>,
    ) = if fake {
        let items: Vec<_> = items.collect();
        let targets: Vec<&Target> = items
            .iter()
            .filter_map(|i| match i {
                Ok(Item::Target(t)) => Some(t),
                _ => None,
            })
            .collect();
        let fakes = match demo::start_fakes(&targets, disconnect_fakes::FakeConfig::default()).await
        {
            Ok(f) => f,
            Err(e) => return usage_error(format!("cannot start the fakes: {e}")),
        };
        let builder = demo::pointed_at(&fakes);
        _fakes = Some(fakes);
        (builder, Box::new(items.into_iter()))
    } else {
        match configure(&args, Disconnector::builder()) {
            Ok(b) => (b, Box::new(items)),
            Err(message) => return usage_error(message),
        }
    };

    if args.dry_run {
        return dry_run(&args, builder, items);
    }
    let disconnector = match settings(&args, builder).build() {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    // A command-line target for a vendor without a key is a configuration error: say which
    // variable before sending anything. (Targets read from --input are reported per line.)
    for raw in &args.targets {
        if let Ok(t) = raw.parse::<Target>()
            && !disconnector.configured_vendors().contains(&t.vendor())
        {
            return usage_error(format!(
                "{} is not configured for `{t}`: set {} (or --{}-key-file)",
                t.vendor(),
                t.vendor().api_key_var(),
                t.vendor().id()
            ));
        }
    }

    let (mut report, resume) = match &args.report {
        Some(path) => match ReportWriter::open(path, args.resume) {
            Ok((w, resume)) => (Some(w), resume),
            Err(e) => return usage_error(format!("cannot use --report {}: {e}", path.display())),
        },
        None => (None, Default::default()),
    };

    // Lines that are not targets (and read errors) bypass the calls: they are reported as the
    // stream pulls them.
    let side: Arc<std::sync::Mutex<Vec<ReportLine>>> = Arc::default();
    let side_in = side.clone();
    let already = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let already_in = already.clone();
    let report::Resume { done, mut previous } = resume;
    let targets = items.filter_map(move |item| match item {
        Ok(Item::Target(t)) if done.contains(&t.to_string()) => {
            already_in.fetch_add(1, Ordering::Relaxed);
            None
        }
        Ok(Item::Target(t)) => {
            // A target an earlier run left failed continues from its last request.
            let before = previous.remove(&t.to_string()).unwrap_or_default();
            Some(Job::new(t, before))
        }
        Ok(Item::Invalid { raw, message }) => {
            side_in
                .lock()
                .unwrap()
                .push(ReportLine::invalid_target(&raw, message));
            None
        }
        Err(e) => {
            side_in.lock().unwrap().push(ReportLine::invalid_target(
                "",
                format!("cannot read the input: {e}"),
            ));
            None
        }
    });
    let options = BulkOptions {
        concurrency: usize::from(args.concurrency),
        per_vendor: args.per_vendor.iter().copied().collect::<BTreeMap<_, _>>(),
        rates: args.rate.iter().copied().collect(),
        breaker: args.breaker,
        ..BulkOptions::default()
    };
    let started = std::time::Instant::now();
    let started_at = report::now();
    let mut results = disconnector.disconnect_all(targets, options);
    let handle = results.handle();

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (flag, handle) = (interrupted.clone(), handle.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
                handle.stop();
                eprintln!("\ninterrupted: finishing the calls in flight, starting no new ones");
            }
        });
    }

    // Progress on a terminal (or with --progress): per-vendor counts, lane states, ETA.
    let show_progress = std::io::stderr().is_terminal() || args.progress;
    let progress = progress_bar(show_progress && std::io::stderr().is_terminal());
    let ticker = show_progress.then(|| {
        let (handle, bar) = (handle.clone(), progress.clone());
        let plain = !std::io::stderr().is_terminal();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(if plain {
                Duration::from_secs(10)
            } else {
                Duration::from_millis(250)
            });
            loop {
                tick.tick().await;
                let text = progress::describe(&handle.lanes());
                if plain {
                    if !text.is_empty() {
                        eprintln!("{text}");
                    }
                } else {
                    bar.set_message(text);
                }
            }
        })
    });

    let mut out = Output::new(args.json);
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut failed, mut skipped, mut count) = (0usize, 0usize, 0usize);
    let mut emit = |line: ReportLine,
                    out: &mut Output,
                    report: &mut Option<ReportWriter>|
     -> Result<(), String> {
        match line.outcome {
            Outcome::Failed => failed += 1,
            Outcome::Skipped => skipped += 1,
            _ => {}
        }
        count += 1;
        *counts
            .entry(line.vendor.clone().unwrap_or_else(|| "invalid".into()))
            .or_default()
            .entry(line.outcome.as_str().to_string())
            .or_default() += 1;
        if let Some(w) = report {
            w.write(&line)
                .map_err(|e| format!("cannot write the report: {e}"))?;
        }
        progress.suspend(|| out.print(&line));
        progress.inc(1);
        Ok(())
    };
    loop {
        let next = results.next().await;
        let pending: Vec<ReportLine> = std::mem::take(&mut *side.lock().unwrap());
        for line in pending {
            if let Err(e) = emit(line, &mut out, &mut report) {
                return usage_error(e);
            }
        }
        let Some(result) = next else { break };
        if let Err(e) = emit(ReportLine::from_result(&result), &mut out, &mut report) {
            return usage_error(e);
        }
    }
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    progress.finish_and_clear();
    let stopped: BTreeMap<String, String> = handle
        .lanes()
        .into_iter()
        .filter_map(|lane| match lane.state {
            disconnect::LaneState::Stopped { reason } => {
                Some((lane.vendor.id().to_string(), reason))
            }
            _ => None,
        })
        .collect();
    if let Some(w) = &mut report {
        let summary = report::SummaryLine {
            summary: report::RunSummary {
                started_at,
                finished_at: report::now(),
                duration_ms: started.elapsed().as_millis() as u64,
                counts: counts.clone(),
                interrupted: interrupted.load(Ordering::SeqCst),
                stopped_lanes: stopped.clone(),
            },
        };
        if let Err(e) = w.finish(&summary) {
            return usage_error(format!("cannot write the report: {e}"));
        }
    }
    // A stopped lane is an error to act on: always said.
    for (vendor, reason) in &stopped {
        eprintln!("error: {vendor}: {reason}");
    }
    let already = already.load(Ordering::Relaxed);
    if show_progress && !args.json {
        let mut summary = format!(
            "{count} target(s) in {}: {} done, {failed} failed, {skipped} skipped",
            progress::short(started.elapsed()),
            count - failed - skipped
        );
        if already > 0 {
            summary.push_str(&format!(", {already} already done in the report"));
        }
        for (vendor, outcomes) in &counts {
            let parts: Vec<String> = outcomes.iter().map(|(o, n)| format!("{n} {o}")).collect();
            summary.push_str(&format!("\n  {vendor}: {}", parts.join(", ")));
        }
        eprintln!("{summary}");
    }
    if interrupted.load(Ordering::SeqCst) {
        INTERRUPTED
    } else if failed > 0 || skipped > 0 {
        1
    } else {
        0
    }
}

fn dry_run(
    args: &RunArgs,
    builder: DisconnectorBuilder,
    items: impl Iterator<Item = std::io::Result<Item>>,
) -> u8 {
    // Vendors without a key still get a plan, with a placeholder key (redacted anyway).
    let mut builder = builder;
    let configured = builder
        .clone()
        .build()
        .map(|d| d.configured_vendors())
        .unwrap_or_default();
    for vendor in Vendor::ALL {
        if !configured.contains(&vendor) {
            builder = builder.api_key(vendor, "dry-run-placeholder");
        }
    }
    let disconnector = match settings(args, builder).build() {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    let mut status = 0;
    for item in items {
        match item {
            Ok(Item::Target(t)) => {
                let plan = disconnector
                    .plan(&t)
                    .expect("every vendor has a key in a dry run");
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({"target": t.to_string(), "dry_run": true, "request": plan})
                    );
                } else {
                    let note = if configured.contains(&t.vendor()) {
                        String::new()
                    } else {
                        format!("   ({} not set)", t.vendor().api_key_var())
                    };
                    println!("# {t}{note}\n{plan}");
                }
            }
            Ok(Item::Invalid { raw, message }) => {
                status = 1;
                eprintln!("invalid target `{raw}`: {message}");
            }
            Err(e) => return usage_error(format!("cannot read the input: {e}")),
        }
    }
    status
}

fn progress_bar(show: bool) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} finished  {elapsed}\n{msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

/// The table or JSON lines on stdout.
struct Output {
    json: bool,
    header_done: bool,
    stdout: std::io::Stdout,
}

impl Output {
    fn new(json: bool) -> Self {
        Self {
            json,
            header_done: false,
            stdout: std::io::stdout(),
        }
    }

    fn print(&mut self, line: &ReportLine) {
        let mut out = self.stdout.lock();
        if self.json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string(line).expect("serializable")
            );
            return;
        }
        if !self.header_done {
            let _ = writeln!(
                out,
                "{:<44} {:<21} {:>4} {:>8}  {:<24} MESSAGE",
                "TARGET", "OUTCOME", "HTTP", "ATTEMPTS", "REQUEST ID"
            );
            self.header_done = true;
        }
        let outcome = match line.outcome {
            Outcome::Failed => format!(
                "failed: {}",
                line.error.as_ref().map(|e| e.kind.as_str()).unwrap_or("?")
            ),
            other => other.as_str().to_string(),
        };
        let message = line
            .error
            .as_ref()
            .map(|e| e.message.as_str())
            .unwrap_or("");
        let _ = writeln!(
            out,
            "{:<44} {:<21} {:>4} {:>8}  {:<24} {}",
            line.target,
            outcome,
            line.http_status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            line.attempts,
            clip(line.request_id.as_deref().unwrap_or("-"), 24),
            message
        );
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('…');
        s
    }
}
