//! Running a batch: prepare (settings, keys, targets, the gate, the report), execute (the bulk
//! run with progress), summarise (table, summary line, exit status).

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use disconnect::{BulkOptions, Disconnector, DisconnectorBuilder, Job, Rate, Target, Vendor};
use futures_util::StreamExt;

use crate::confirm::{self, Plan, Stop};
use crate::input::Item;
use crate::keys::KeySource;
use crate::output::{Format, Output, Style, counts_table};
use crate::profile::{self, Selected};
use crate::report::{self, ReportLine, ReportStatus, ReportWriter};
use crate::{INTERRUPTED, LANE_STOPPED, RunArgs, USAGE, progress};

type Items = Box<dyn Iterator<Item = std::io::Result<Item>> + Send>;

fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    USAGE
}

/// The settings of a run once flags, environment, profile and defaults are merged.
struct Settings {
    concurrency: u16,
    deadline: Duration,
    wait_for_sync: Option<Duration>,
    breaker: u32,
    per_vendor: BTreeMap<Vendor, usize>,
    rates: BTreeMap<Vendor, Rate>,
    operator: String,
    profile: Selected,
}

impl Settings {
    fn merge(args: &RunArgs, profile: Selected) -> Self {
        let p = &profile.profile;
        let mut per_vendor: BTreeMap<Vendor, usize> = p
            .vendors
            .iter()
            .filter_map(|(v, s)| s.concurrency.map(|n| (*v, n)))
            .collect();
        per_vendor.extend(args.per_vendor.iter().copied());
        let mut rates: BTreeMap<Vendor, Rate> = p
            .vendors
            .iter()
            .filter_map(|(v, s)| s.rate.map(|r| (*v, r)))
            .collect();
        rates.extend(args.rate.iter().copied());
        let operator = args
            .operator
            .clone()
            .or_else(|| p.operator.clone())
            .or_else(|| std::env::var("DISCONNECT_OPERATOR").ok())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("USERNAME").ok())
            .filter(|o| !o.trim().is_empty())
            .unwrap_or_else(|| "unknown".into());
        Self {
            concurrency: args.concurrency.or(p.concurrency).unwrap_or(8).max(1),
            deadline: args
                .deadline
                .or(p.deadline)
                .unwrap_or(Duration::from_secs(30)),
            wait_for_sync: args.wait_for_sync.or(p.wait_for_sync),
            breaker: args.breaker.or(p.breaker).unwrap_or(3),
            per_vendor,
            rates,
            operator,
            profile,
        }
    }

    fn apply(&self, args: &RunArgs, builder: DisconnectorBuilder) -> DisconnectorBuilder {
        let mut builder = builder
            .deadline(self.deadline)
            .wait_for_sync(self.wait_for_sync)
            .not_found_is_gone(args.not_found_ok);
        if let Some(id) = &args.operation_id {
            builder = builder.operation_id(id.clone());
        }
        builder
    }

    /// The options as recorded in the report header.
    fn record(&self, args: &RunArgs, fake: bool) -> serde_json::Value {
        serde_json::json!({
            "concurrency": self.concurrency,
            "per_vendor": self.per_vendor.iter().map(|(v, n)| (v.id(), n)).collect::<BTreeMap<_, _>>(),
            "rates": self.rates.iter().map(|(v, r)| (v.id(), r.to_string())).collect::<BTreeMap<_, _>>(),
            "breaker": self.breaker,
            "deadline": humantime::format_duration(self.deadline).to_string(),
            "wait_for_sync": self.wait_for_sync.map(|d| humantime::format_duration(d).to_string()),
            "not_found_ok": args.not_found_ok,
            "operation_id": args.operation_id,
            "resume": args.resume,
            "fake": fake,
            "config": self.profile.file.as_ref().map(|p| p.display().to_string()),
            "profile": self.profile.name,
        })
    }
}

/// Keys and base URLs from flags, environment and profile, as the facade's lookup wants them.
struct Connection {
    vars: HashMap<String, String>,
    base_urls: BTreeMap<Vendor, String>,
}

impl Connection {
    fn resolve(args: &RunArgs, settings: &Settings) -> Result<Self, String> {
        let profile_name = settings.profile.name.as_deref().unwrap_or("default");
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut vars = HashMap::new();
        let mut base_urls = BTreeMap::new();
        for vendor in Vendor::ALL {
            let vp = settings.profile.profile.vendors.get(&vendor);
            let (file, cmd) = args.keys.get(vendor);
            let source = KeySource::choose(
                vendor,
                file,
                cmd,
                env(vendor.api_key_var()).is_some(),
                vp,
                profile_name,
            );
            if let Some(source) = source {
                let key = source.read(vendor, &mut |w| eprintln!("warning: {w}"))?;
                vars.insert(vendor.api_key_var().to_string(), key);
            } else if let Some(key) = env(vendor.api_key_var()) {
                vars.insert(vendor.api_key_var().to_string(), key);
            }
            let url = env(vendor.base_url_var()).or_else(|| vp.and_then(|p| p.base_url.clone()));
            if let Some(url) = &url {
                vars.insert(vendor.base_url_var().to_string(), url.clone());
            }
            base_urls.insert(
                vendor,
                url.unwrap_or_else(|| vendor.default_base_url().to_string()),
            );
        }
        Ok(Self { vars, base_urls })
    }

    fn builder(&self) -> Result<DisconnectorBuilder, String> {
        Disconnector::builder()
            .from_lookup(|name| self.vars.get(name).cloned())
            .map_err(|e| e.to_string())
    }
}

fn sha256_file(path: &str) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path)?;
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Count what would be sent, per vendor, for the gate. A file is read once more for it; from
/// stdin only the first targets are taken (and kept for the run).
fn plan(
    args: &RunArgs,
    given: &[Target],
    items: Items,
    done: &std::collections::HashSet<String>,
    base_urls: BTreeMap<Vendor, String>,
) -> Result<(Plan, Items), String> {
    let mut counts: BTreeMap<Vendor, usize> = BTreeMap::new();
    let count = |counts: &mut BTreeMap<Vendor, usize>, t: &Target| {
        if !done.contains(&t.to_string()) {
            *counts.entry(t.vendor()).or_default() += 1;
        }
    };
    for t in given {
        count(&mut counts, t);
    }
    let mut at_least = false;
    let items: Items = match args.input.as_deref() {
        Some("-") => {
            let mut items = items;
            let mut head = Vec::new();
            for item in items.by_ref() {
                if let Ok(Item::Target(t)) = &item {
                    count(&mut counts, t);
                }
                head.push(item);
                if counts.values().sum::<usize>() > confirm::GATE {
                    at_least = true;
                    break;
                }
            }
            Box::new(head.into_iter().chain(items))
        }
        Some(path) => {
            let again =
                crate::input::read(path).map_err(|e| format!("cannot read --input {path}: {e}"))?;
            for item in again {
                if let Ok(Item::Target(t)) = item {
                    count(&mut counts, &t);
                }
            }
            items
        }
        None => items,
    };
    Ok((
        Plan {
            counts,
            at_least,
            base_urls,
        },
        items,
    ))
}

pub async fn run(args: RunArgs, fake: bool) -> u8 {
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
    let profile = match profile::select(args.config.as_deref(), args.profile.as_deref()) {
        Ok(p) => p,
        Err(e) => return usage_error(e),
    };
    let settings = Settings::merge(&args, profile);
    let input_sha256 = match args.input.as_deref() {
        Some(path) if path != "-" => match sha256_file(path) {
            Ok(sha) => Some(sha),
            Err(e) => return usage_error(format!("cannot read --input {path}: {e}")),
        },
        _ => None,
    };
    let from_file: Items = match &args.input {
        Some(path) => match crate::input::read(path) {
            Ok(items) => items,
            Err(e) => return usage_error(format!("cannot read --input {path}: {e}")),
        },
        None => Box::new(std::iter::empty()),
    };
    let items: Items = Box::new(
        given
            .clone()
            .into_iter()
            .map(|t| Ok(Item::Target(t)))
            .chain(from_file),
    );

    // --fake: in-process fakes seeded with every target (read up front for seeding).
    let mut _fakes = None;
    let (builder, items, base_urls): (DisconnectorBuilder, Items, BTreeMap<Vendor, String>) =
        if fake {
            let items: Vec<_> = items.collect();
            let targets: Vec<&Target> = items
                .iter()
                .filter_map(|i| match i {
                    Ok(Item::Target(t)) => Some(t),
                    _ => None,
                })
                .collect();
            let fakes =
                match crate::demo::start_fakes(&targets, disconnect_fakes::FakeConfig::default())
                    .await
                {
                    Ok(f) => f,
                    Err(e) => return usage_error(format!("cannot start the fakes: {e}")),
                };
            let builder = crate::demo::pointed_at(&fakes);
            let urls = crate::demo::base_urls(&fakes);
            _fakes = Some(fakes);
            (builder, Box::new(items.into_iter()), urls)
        } else {
            let connection = match Connection::resolve(&args, &settings) {
                Ok(c) => c,
                Err(message) => return usage_error(message),
            };
            match connection.builder() {
                Ok(b) => (b, items, connection.base_urls),
                Err(message) => return usage_error(message),
            }
        };

    if args.dry_run {
        return dry_run(&args, &settings, builder, items);
    }
    let disconnector = match settings.apply(&args, builder).build() {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    // A command-line target for a vendor without a key is a configuration error: say which
    // variable before sending anything. (Targets read from --input are reported per line.)
    for t in &given {
        if !disconnector.configured_vendors().contains(&t.vendor()) {
            return usage_error(format!(
                "{} is not configured for `{t}`: set {} (or --{}-key-file, --{}-key-cmd, or a \
                 profile's key_file / key_cmd)",
                t.vendor(),
                t.vendor().api_key_var(),
                t.vendor().id(),
                t.vendor().id()
            ));
        }
    }

    let report_existed = args.report.as_ref().is_some_and(|p| p.exists());
    let (mut report, resume) = match &args.report {
        Some(path) => match ReportWriter::open(path, args.resume) {
            Ok((w, resume)) => (Some(w), resume),
            Err(e) => return usage_error(format!("cannot use --report {}: {e}", path.display())),
        },
        None => (None, Default::default()),
    };
    let forget_report = |report: Option<ReportWriter>| {
        drop(report);
        if let Some(path) = &args.report
            && !report_existed
        {
            let _ = std::fs::remove_file(path);
        }
    };

    // The gate: a large real run is confirmed first (--yes: no need to count).
    let items = if fake || args.yes {
        items
    } else {
        let (plan, items) = match plan(&args, &given, items, &resume.done, base_urls.clone()) {
            Ok(p) => p,
            Err(e) => {
                forget_report(report);
                return usage_error(e);
            }
        };
        match confirm::gate(&plan, args.yes, args.input.as_deref() == Some("-")) {
            Ok(()) => items,
            Err(Stop::Refused(message)) => {
                forget_report(report);
                return usage_error(message);
            }
            Err(Stop::Declined) => {
                forget_report(report);
                eprintln!("aborted: nothing was sent");
                return USAGE;
            }
        }
    };

    let run_id = uuid::Uuid::new_v4().to_string();
    let started = std::time::Instant::now();
    let started_at = report::now();
    if let Some(w) = &mut report {
        let configured = disconnector.configured_vendors();
        let header = report::HeaderLine {
            run: report::RunHeader {
                run_id: run_id.clone(),
                started_at: started_at.clone(),
                operator: settings.operator.clone(),
                reason: args.reason.clone(),
                tool: format!("disconnect {}", env!("CARGO_PKG_VERSION")),
                vendors: Vendor::ALL
                    .into_iter()
                    .map(|v| {
                        (
                            v.id().to_string(),
                            report::VendorRecord {
                                spec_sha256: disconnect::Disconnector::spec_sha256(v)
                                    .map(str::to_string),
                                base_url: base_urls.get(&v).cloned().unwrap_or_default(),
                                configured: configured.contains(&v),
                            },
                        )
                    })
                    .collect(),
                input: report::InputRecord {
                    arguments: given.len(),
                    file: args.input.clone(),
                    sha256: input_sha256,
                },
                options: settings.record(&args, fake),
            },
        };
        if let Err(e) = w.start(&header) {
            return usage_error(format!("cannot write the report: {e}"));
        }
    }

    // Lines that are not targets (and read errors) bypass the calls: they are reported as the
    // stream pulls them.
    let side: Arc<std::sync::Mutex<Vec<ReportLine>>> = Arc::default();
    let side_in = side.clone();
    let already = Arc::new(AtomicUsize::new(0));
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
        concurrency: usize::from(settings.concurrency),
        per_vendor: settings.per_vendor.clone(),
        rates: settings.rates.clone(),
        breaker: settings.breaker,
        ..BulkOptions::default()
    };
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

    let mut out = Output::new(args.format());
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let (mut failed, mut skipped, mut count) = (0usize, 0usize, 0usize);
    let mut emit = |mut line: ReportLine,
                    out: &mut Output,
                    report: &mut Option<ReportWriter>|
     -> Result<(), String> {
        line.run_id = Some(run_id.clone());
        match line.outcome {
            ReportStatus::Failed => failed += 1,
            ReportStatus::Skipped => skipped += 1,
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
    out.finish();
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
    let elapsed = started.elapsed();
    if let Some(w) = &mut report {
        let summary = report::SummaryLine {
            summary: report::RunSummary {
                run_id: Some(run_id.clone()),
                started_at,
                finished_at: report::now(),
                duration_ms: elapsed.as_millis() as u64,
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
    summarise(
        count,
        failed,
        skipped,
        already.load(Ordering::Relaxed),
        elapsed,
        &counts,
        args.report.as_deref(),
    );
    if interrupted.load(Ordering::SeqCst) {
        INTERRUPTED
    } else if !stopped.is_empty() {
        LANE_STOPPED
    } else if failed > 0 || skipped > 0 {
        1
    } else {
        0
    }
}

/// The summary on stderr after every run: totals, duration, counts per vendor and outcome,
/// and where the report is.
fn summarise(
    count: usize,
    failed: usize,
    skipped: usize,
    already: usize,
    elapsed: Duration,
    counts: &BTreeMap<String, BTreeMap<String, u64>>,
    report: Option<&Path>,
) {
    let mut text = format!(
        "{count} target(s) in {}: {} done, {failed} failed, {skipped} skipped",
        progress::short(elapsed),
        count - failed - skipped
    );
    if already > 0 {
        text.push_str(&format!(", {already} already done in the report"));
    }
    if !counts.is_empty() {
        let style = Style::for_stream(std::io::stderr().is_terminal());
        text.push_str(&format!("\n{}", counts_table(counts, style)));
    }
    if let Some(path) = report {
        text.push_str(&format!("\nreport: {}", path.display()));
    }
    eprintln!("{text}");
}

fn dry_run(args: &RunArgs, settings: &Settings, builder: DisconnectorBuilder, items: Items) -> u8 {
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
    let disconnector = match settings.apply(args, builder).build() {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    let json = args.format() == Format::Json;
    let mut status = 0;
    for item in items {
        match item {
            Ok(Item::Target(t)) => {
                let plan = disconnector
                    .plan(&t)
                    .expect("every vendor has a key in a dry run");
                if json {
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
