//! Running a batch: prepare (settings, keys, targets, the gate, the report), execute (the bulk
//! run with progress), summarise (table, summary line, exit status).

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use disconnect::{
    BulkHandle, BulkOptions, ConfigError, Disconnector, DisconnectorBuilder, Job, Rate, Target,
    Vendor,
};
use futures_util::FutureExt;
use indicatif::ProgressBar;

use crate::confirm::{self, Plan, Stop};
use crate::journal::Journal;
use crate::keys::KeySource;
use crate::output::{Format, Output, Style, safe};
use crate::prepare::Prepared;
use crate::profile::{self, Selected};
use crate::report::{self, ReportLine, ReportStatus, ReportWriter};
use crate::{INTERRUPTED, LANE_STOPPED, REPORT_FAILED, RunArgs, USAGE, progress};

fn usage_error(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {}", safe(&message.to_string(), true));
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
    allow_insecure_http: bool,
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
            .or_else(|| std::env::var("LOGNAME").ok())
            .or_else(|| std::env::var("USERNAME").ok())
            .filter(|o| !o.trim().is_empty())
            .or_else(account_name)
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
            allow_insecure_http: args.allow_insecure_http || p.allow_insecure_http.unwrap_or(false),
            profile,
        }
    }

    fn apply(&self, args: &RunArgs, builder: DisconnectorBuilder) -> DisconnectorBuilder {
        let mut builder = builder
            .allow_insecure_http(self.allow_insecure_http)
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
            "allow_insecure_http": self.allow_insecure_http,
            "operation_id": args.operation_id,
            "resume": args.resume,
            "fake": fake,
            "config": self.profile.file.as_ref().map(|p| p.display().to_string()),
            "profile": self.profile.name,
        })
    }
}

/// The name of the account running this process (`/etc/passwd`), when no variable says it.
#[cfg(unix)]
fn account_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let id: u32 = fields.nth(1)?.parse().ok()?;
            (id == uid && !name.is_empty()).then(|| name.to_string())
        })
}

#[cfg(not(unix))]
fn account_name() -> Option<String> {
    None
}

/// Keys and base URLs from flags, environment and profile, as the facade's lookup wants them,
/// and where each key came from when it was not its environment variable.
struct Connection {
    vars: HashMap<String, String>,
    base_urls: BTreeMap<Vendor, String>,
    origins: BTreeMap<Vendor, String>,
}

/// How long a key command may take by default.
const KEY_CMD_TIMEOUT: Duration = Duration::from_secs(30);

impl Connection {
    /// Resolve each vendor's key and base URL; keys are read (key files, key commands) only for
    /// the vendors in `needed`.
    fn resolve(args: &RunArgs, settings: &Settings, needed: &[Vendor]) -> Result<Self, String> {
        let profile_name = settings.profile.name.as_deref().unwrap_or("default");
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let timeout = args.key_cmd_timeout.unwrap_or(KEY_CMD_TIMEOUT);
        let mut vars = HashMap::new();
        let mut base_urls = BTreeMap::new();
        let mut origins = BTreeMap::new();
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
            if let Some(source) = source.filter(|_| needed.contains(&vendor)) {
                let key = source.read(vendor, timeout, &mut |w| {
                    eprintln!("warning: {}", safe(&w, true));
                })?;
                vars.insert(vendor.api_key_var().to_string(), key);
                origins.insert(vendor, source.origin());
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
        Ok(Self {
            vars,
            base_urls,
            origins,
        })
    }

    fn builder(&self) -> Result<DisconnectorBuilder, String> {
        Disconnector::builder()
            .from_lookup(|name| self.vars.get(name).cloned())
            .map_err(|e| config_error(&e, &self.origins))
    }
}

/// A configuration error as an operator should read it: a key names where it really came from
/// (a key file or command, not the variable it was passed on as), and a refused `http://` URL
/// names the flag and the profile key that allow it.
fn config_error(e: &ConfigError, origins: &BTreeMap<Vendor, String>) -> String {
    match e {
        ConfigError::InvalidApiKey { vendor, .. } if origins.contains_key(vendor) => format!(
            "invalid {vendor} API key (from {}): it is empty or holds characters other than \
             visible ASCII",
            origins[vendor]
        ),
        ConfigError::InsecureBaseUrl { .. } => format!(
            "{e}: pass --allow-insecure-http, or set `allow_insecure_http = true` in the profile"
        ),
        other => other.to_string(),
    }
}

pub async fn run(args: RunArgs, fake: bool) -> u8 {
    if args.targets.is_empty() && args.input.is_none() {
        return usage_error("no targets: give TARGET arguments or --input FILE (see --help)");
    }
    let profile = match profile::select(args.config.as_deref(), args.profile.as_deref()) {
        Ok(p) => p,
        Err(e) => return usage_error(e),
    };
    let settings = Settings::merge(&args, profile);
    // Every target, of the arguments and the whole input, is checked before anything is sent
    // (and before any key command runs).
    let prepared = match Prepared::read(&args.targets, args.input.as_deref()) {
        Ok(p) => p,
        Err(e) => return usage_error(e),
    };
    if !prepared.invalid.is_empty() && !args.skip_invalid {
        return usage_error(prepared.refusal());
    }

    // --fake: in-process fakes seeded with every target.
    let mut _fakes = None;
    let mut origins = BTreeMap::new();
    let (builder, base_urls): (DisconnectorBuilder, BTreeMap<Vendor, String>) = if fake {
        let targets: Vec<Target> = match prepared.targets() {
            Ok(targets) => targets.filter_map(Result::ok).collect(),
            Err(e) => return usage_error(e),
        };
        let seeded: Vec<&Target> = targets.iter().collect();
        let fakes = match crate::demo::start_fakes(&seeded, disconnect_fakes::FakeConfig::default())
            .await
        {
            Ok(f) => f,
            Err(e) => return usage_error(format!("cannot start the fakes: {e}")),
        };
        let builder = crate::demo::pointed_at(&fakes);
        let urls = crate::demo::base_urls(&fakes);
        _fakes = Some(fakes);
        (builder, urls)
    } else {
        let needed: Vec<Vendor> = prepared.vendors().collect();
        let connection = match Connection::resolve(&args, &settings, &needed) {
            Ok(c) => c,
            Err(message) => return usage_error(message),
        };
        match connection.builder() {
            Ok(b) => {
                origins = connection.origins;
                (b, connection.base_urls)
            }
            Err(message) => return usage_error(message),
        }
    };

    if args.dry_run {
        return dry_run(&args, &settings, builder, &prepared);
    }
    let disconnector = match settings.apply(&args, builder).build() {
        Ok(d) => d,
        Err(e) => return usage_error(config_error(&e, &origins)),
    };
    // A target at a vendor without a key is a configuration error: say which variable before
    // sending anything.
    let configured = disconnector.configured_vendors();
    if let Some(vendor) = prepared.vendors().find(|v| !configured.contains(v)) {
        return usage_error(format!(
            "{vendor} is not configured for the {} {vendor} target(s): set {} (or --{}-key-file, \
             --{}-key-cmd, or a profile's key_file / key_cmd)",
            prepared.counts[&vendor],
            vendor.api_key_var(),
            vendor.id(),
            vendor.id()
        ));
    }

    let report_existed = args.report.as_ref().is_some_and(|p| p.exists());
    if let Some(path) = &args.report
        && let Err(e) = report::check_path(path, args.input.as_deref(), args.resume)
    {
        return usage_error(format!("cannot use --report {}: {e}", path.display()));
    }
    let (report, resume) = match &args.report {
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

    // What would be sent: the distinct targets the report does not already have.
    let (counts, already_done) = if resume.done.is_empty() {
        (prepared.counts.clone(), 0)
    } else {
        let mut counts: BTreeMap<Vendor, usize> = BTreeMap::new();
        let mut done = 0;
        match prepared.targets() {
            Ok(targets) => {
                for t in targets.filter_map(Result::ok) {
                    if resume.done.contains(&t.to_string()) {
                        done += 1;
                    } else {
                        *counts.entry(t.vendor()).or_default() += 1;
                    }
                }
            }
            Err(e) => {
                forget_report(report);
                return usage_error(e);
            }
        }
        (counts, done)
    };
    let plan = Plan {
        counts,
        duplicates: prepared.duplicates,
        already_done,
        invalid: prepared.invalid.len(),
        base_urls: base_urls.clone(),
    };
    // The gate: a large real run is confirmed first.
    if !fake {
        match confirm::gate(&plan, args.yes, args.input.as_deref() == Some("-")) {
            Ok(()) => {}
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
    }
    if report.is_none() && plan.total() > confirm::GATE {
        eprintln!(
            "warning: no --report: this run of {} targets leaves no audit trail, and cannot be \
             resumed if it is cut short",
            plan.total()
        );
    }
    let input_sha256 = prepared.sha256.clone();
    let spooled = match prepared.targets() {
        Ok(targets) => targets,
        Err(e) => {
            forget_report(report);
            return usage_error(e);
        }
    };

    let run_id = uuid::Uuid::new_v4().to_string();
    let started = std::time::Instant::now();
    let started_at = report::now();
    let journal = Arc::new(Journal::new(report, run_id.clone()));
    if journal.has_report() {
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
                    arguments: args.targets.len(),
                    file: args.input.clone(),
                    sha256: input_sha256,
                    targets: prepared.total() as u64,
                    duplicates: prepared.duplicates as u64,
                    invalid: prepared.invalid.len() as u64,
                },
                options: settings.record(&args, fake),
            },
        };
        if let Err(e) = journal.start(&header) {
            return usage_error(format!("cannot write the report: {e} (nothing was sent)"));
        }
    }

    // A spooled target that cannot be read back (an I/O error) bypasses the calls: it is
    // reported as the stream pulls it.
    let side: Arc<std::sync::Mutex<Vec<ReportLine>>> = Arc::default();
    let side_in = side.clone();
    let already = Arc::new(AtomicUsize::new(0));
    let already_in = already.clone();
    let input_read = Arc::new(AtomicBool::new(false));
    let input_read_in = input_read.clone();
    let report::Resume { done, mut previous } = resume;
    let targets = spooled
        .filter_map(move |target| match target {
            Ok(t) if done.contains(&t.to_string()) => {
                already_in.fetch_add(1, Ordering::Relaxed);
                None
            }
            Ok(t) => {
                // A target an earlier run left unfinished continues from its last request.
                let before = previous.remove(&t.to_string()).unwrap_or_default();
                Some(Job::new(t, before))
            }
            Err(e) => {
                side_in.lock().unwrap().push(ReportLine::invalid_target(
                    "",
                    format!("cannot read the input back: {e}"),
                ));
                None
            }
        })
        // Reached only when the whole input was read.
        .chain(std::iter::from_fn(move || {
            input_read_in.store(true, Ordering::SeqCst);
            None
        }));
    let options = BulkOptions::default()
        .concurrency(usize::from(settings.concurrency))
        .per_vendor(settings.per_vendor.clone())
        .rates(settings.rates.clone())
        .breaker(settings.breaker)
        .write_ahead(Some(journal.clone()));
    let mut results = disconnector.disconnect_all(targets, options);
    let handle = results.handle();

    // Progress on a terminal (or with --progress): per-vendor counts, lane states, ETA.
    let show_progress = std::io::stderr().is_terminal() || args.progress;
    let progress = progress_bar(show_progress && std::io::stderr().is_terminal());
    let interrupt = Interrupt::install(handle.clone(), journal.clone(), progress.clone());
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
                let text = progress::describe(&handle.lanes(), Style::for_stream(true).width);
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

    let mut recorder = Recorder {
        run_id: run_id.clone(),
        journal: journal.clone(),
        handle: handle.clone(),
        progress: progress.clone(),
        out: Output::new(args.format()),
        json_on_stdout: args.format() == Format::Json,
        report: args.report.clone(),
        tally: Tally::default(),
    };
    // With --skip-invalid, the lines that are not targets are recorded first.
    for bad in &prepared.invalid {
        recorder.record(ReportLine::invalid_target(
            &bad.raw,
            format!("{}: {}", bad.origin, bad.reason),
        ));
    }
    let mut abandoned = false;
    loop {
        let next = tokio::select! {
            biased;
            () = interrupt.abandoned() => {
                abandoned = true;
                None
            }
            next = results.next() => next,
        };
        let pending: Vec<ReportLine> = std::mem::take(&mut *side.lock().unwrap());
        for line in pending {
            recorder.record(line);
        }
        let Some(result) = next else { break };
        recorder.record(ReportLine::from_result(&result));
    }
    if abandoned {
        // What finished meanwhile is recorded; what is still on the wire may have acted.
        while let Some(Some(result)) = results.next().now_or_never() {
            recorder.record(ReportLine::from_result(&result));
        }
        for intent in journal.in_flight() {
            recorder.record(ReportLine::abandoned(
                &intent,
                "the run was stopped while this request was in flight: it may have acted \
                 (--resume confirms it)",
            ));
        }
    }
    interrupt.task.abort();
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    progress.finish_and_clear();
    let Recorder {
        mut out, mut tally, ..
    } = recorder;
    out.finish();
    let lanes = handle.lanes();
    let stopped: BTreeMap<String, String> = lanes
        .iter()
        .filter_map(|lane| match &lane.state {
            disconnect::LaneState::Stopped { reason } => {
                Some((lane.vendor.id().to_string(), reason.clone()))
            }
            _ => None,
        })
        .collect();
    tally.not_started =
        tally.unsent as u64 + tally.unsent_unwritten + lanes.iter().map(|l| l.queued).sum::<u64>();
    tally.input_unread = !input_read.load(Ordering::SeqCst);
    tally.already = already.load(Ordering::Relaxed);
    tally.duplicates = prepared.duplicates;
    tally.interrupted = interrupt.interrupted.load(Ordering::SeqCst);
    let elapsed = started.elapsed();
    let summary = report::SummaryLine {
        summary: report::RunSummary {
            run_id: Some(run_id.clone()),
            started_at,
            finished_at: report::now(),
            duration_ms: elapsed.as_millis() as u64,
            counts: tally.counts.clone(),
            interrupted: tally.interrupted,
            stopped_lanes: stopped.clone(),
            not_started: tally.not_started,
            input_unread: tally.input_unread && tally.stopped_early(),
            in_doubt: tally.in_doubt,
            unrecorded: tally.unrecorded,
        },
    };
    let report_failed = journal.finish(&summary).is_err();
    // A stopped lane is an error to act on: always said.
    for (vendor, reason) in &stopped {
        eprintln!("error: {vendor}: {reason}");
    }
    tally.summarise(elapsed, args.report.as_deref());
    if let (true, Some(error), Some(path)) = (report_failed, journal.failure(), &args.report) {
        eprintln!(
            "error: cannot write the report {}: {error}. Sending stopped at the first failed \
             write. {} target(s) were sent whose result is not in the report: their results are \
             printed above as JSON lines{}. Free the disk, then run the same command with \
             --resume: targets sent without a recorded result are in doubt, and the vendors \
             confirm them.",
            safe(&path.display().to_string(), false),
            tally.sent_unrecorded,
            if args.format() == Format::Json {
                " (on stdout)"
            } else {
                " (on stderr)"
            }
        );
        REPORT_FAILED
    } else if tally.interrupted {
        INTERRUPTED
    } else if !stopped.is_empty() {
        LANE_STOPPED
    } else if tally.failed > 0 || tally.skipped > 0 || tally.in_doubt > 0 || tally.not_started > 0 {
        1
    } else {
        0
    }
}

/// How long calls on the wire may finish after the first Ctrl-C before the run stops waiting.
const GRACE: Duration = Duration::from_secs(10);

/// Ctrl-C and SIGTERM: the first stops every request not yet sent and lets those on the wire
/// finish, for [`GRACE`] at most; the second (or the end of the grace) abandons them.
struct Interrupt {
    interrupted: Arc<AtomicBool>,
    abandon: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Interrupt {
    fn install(handle: BulkHandle, journal: Arc<Journal>, progress: ProgressBar) -> Self {
        let interrupted = Arc::new(AtomicBool::new(false));
        let abandon = Arc::new(tokio::sync::Notify::new());
        let (flag, notify) = (interrupted.clone(), abandon.clone());
        let task = tokio::spawn(async move {
            let mut signals = Signals::new();
            signals.next().await;
            flag.store(true, Ordering::SeqCst);
            handle.stop();
            // Calls running (an intent recorded ahead but not sent is not on the wire).
            let on_the_wire: u32 = handle.lanes().iter().map(|l| l.in_flight).sum();
            notice(
                &progress,
                &if on_the_wire == 0 {
                    "interrupted: no new requests are sent".to_string()
                } else {
                    format!(
                        "interrupted: no new requests are sent; waiting up to {}s for the \
                         {on_the_wire} request(s) on the wire (Ctrl-C again to stop waiting: \
                         they are then recorded as in doubt)",
                        GRACE.as_secs()
                    )
                },
            );
            tokio::select! {
                () = signals.next() => {}
                () = tokio::time::sleep(GRACE) => {}
            }
            let left = journal.in_flight().len();
            if left > 0 {
                notice(
                    &progress,
                    &format!("stopped waiting: {left} request(s) in doubt"),
                );
            }
            notify.notify_one();
        });
        Self {
            interrupted,
            abandon,
            task,
        }
    }

    /// Resolves when the run is abandoned.
    async fn abandoned(&self) {
        self.abandon.notified().await;
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, each delivery once.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                () = recv(&mut self.int) => {}
                () = recv(&mut self.term) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// A line that stays above the progress display (or on stderr without one).
fn notice(progress: &ProgressBar, text: &str) {
    let text = safe(text, true);
    if progress.is_hidden() {
        eprintln!("{text}");
    } else {
        progress.println(text);
    }
}

/// What a run did, for its summary line and the summary on stderr.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<String, BTreeMap<String, u64>>,
    count: usize,
    failed: usize,
    skipped: usize,
    in_doubt: u64,
    /// Target lines of targets stopped before their first request (`skipped: interrupted`),
    /// written only to close an attempt line (the stop came while the intent was written).
    unsent: usize,
    /// Targets stopped before their first request, without an attempt line: not written.
    unsent_unwritten: u64,
    /// Those and the targets still queued when the run ended.
    not_started: u64,
    input_unread: bool,
    already: usize,
    /// Targets left out because the input named their connection again.
    duplicates: usize,
    interrupted: bool,
    /// Lines that could not be written to the report.
    unrecorded: u64,
    /// Of those, targets that were sent.
    sent_unrecorded: u64,
}

impl Tally {
    /// Count a line written. A target stopped before its first request was never started: it
    /// counts there, not among the outcomes.
    fn add(&mut self, line: &ReportLine) {
        if line.is_unsent() {
            self.unsent += 1;
            return;
        }
        match line.outcome {
            ReportStatus::Failed => self.failed += 1,
            ReportStatus::Skipped => self.skipped += 1,
            ReportStatus::Unknown => self.in_doubt += 1,
            _ => {}
        }
        self.count += 1;
        *self
            .counts
            .entry(line.vendor.clone().unwrap_or_else(|| "invalid".into()))
            .or_default()
            .entry(line.outcome.as_str().to_string())
            .or_default() += 1;
    }

    /// The run ended before every target was tried.
    fn stopped_early(&self) -> bool {
        self.interrupted || self.sent_unrecorded > 0 || self.unrecorded > 0
    }

    /// The summary on stderr after every run: totals, duration, counts per vendor and
    /// outcome, what was left in doubt or never started, and where the report is.
    fn summarise(&self, elapsed: Duration, report: Option<&Path>) {
        let finished = self.count;
        let done = finished - self.failed - self.skipped - self.in_doubt as usize;
        let mut text = if self.interrupted {
            format!(
                "interrupted after {}: {finished} target(s) finished: {done} done, {} failed, {} \
                 skipped",
                progress::short(elapsed),
                self.failed,
                self.skipped
            )
        } else {
            format!(
                "{finished} target(s) in {}: {done} done, {} failed, {} skipped",
                progress::short(elapsed),
                self.failed,
                self.skipped
            )
        };
        if self.in_doubt > 0 {
            text.push_str(&format!(
                ", {} in doubt (may have acted: --resume confirms them)",
                self.in_doubt
            ));
        }
        if self.not_started > 0 || (self.input_unread && self.stopped_early()) {
            text.push_str(&format!(
                "; {} never started{} (--resume runs them)",
                self.not_started,
                if self.input_unread && self.stopped_early() {
                    " and the rest of the input not read"
                } else {
                    ""
                }
            ));
        }
        if self.already > 0 {
            text.push_str(&format!(", {} already done in the report", self.already));
        }
        if self.duplicates > 0 {
            text.push_str(&format!(
                ", {} duplicate(s) left out (sent once)",
                self.duplicates
            ));
        }
        if !self.counts.is_empty() {
            let style = Style::for_stream(std::io::stderr().is_terminal());
            text.push_str(&format!("\n{}", crate::output::counts(&self.counts, style)));
        }
        if let Some(path) = report {
            text.push_str(&format!(
                "\nreport: {}",
                safe(&path.display().to_string(), false)
            ));
        }
        eprintln!("{text}");
    }
}

/// Records each finished target: the report (through the journal), stdout, the tally. A line
/// the report cannot take stops the run's sending and is printed as a JSON line instead.
struct Recorder {
    run_id: String,
    journal: Arc<Journal>,
    handle: BulkHandle,
    progress: ProgressBar,
    out: Output,
    json_on_stdout: bool,
    report: Option<std::path::PathBuf>,
    tally: Tally,
}

impl Recorder {
    fn record(&mut self, mut line: ReportLine) {
        // A target stopped before its first request is never started, as a queued one: no
        // line, unless one must close its attempt line.
        if line.is_unsent() && !self.journal.is_in_flight(&line.target) {
            self.tally.unsent_unwritten += 1;
            return;
        }
        line.run_id = Some(self.run_id.clone());
        self.tally.add(&line);
        if let Err(error) = self.journal.result(&line) {
            if self.tally.unrecorded == 0 {
                self.handle.stop();
                notice(
                    &self.progress,
                    &format!(
                        "error: cannot write the report {}: {error}: no more requests are sent; \
                         results the report misses follow as JSON lines{}",
                        self.report
                            .as_deref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        if self.json_on_stdout {
                            " on stdout"
                        } else {
                            ""
                        }
                    ),
                );
            }
            self.tally.unrecorded += 1;
            if line.attempts > 0 {
                self.tally.sent_unrecorded += 1;
            }
            if !self.json_on_stdout {
                let json = serde_json::to_string(&line).expect("a report line serializes");
                self.progress.suspend(|| eprintln!("{json}"));
            }
        }
        let out = &mut self.out;
        self.progress.suspend(|| out.print(&line));
        self.progress.inc(1);
    }
}

fn dry_run(
    args: &RunArgs,
    settings: &Settings,
    builder: DisconnectorBuilder,
    prepared: &Prepared,
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
    let disconnector = match settings.apply(args, builder).build() {
        Ok(d) => d,
        Err(e) => return usage_error(e),
    };
    let targets = match prepared.targets() {
        Ok(targets) => targets,
        Err(e) => return usage_error(e),
    };
    let json = args.format() == Format::Json;
    let mut status = 0;
    for bad in &prepared.invalid {
        status = 1;
        eprintln!("invalid target {}: {}", bad.origin, bad.reason);
    }
    for target in targets {
        let t = match target {
            Ok(t) => t,
            Err(e) => return usage_error(format!("cannot read the input back: {e}")),
        };
        let Ok(plan) = disconnector.plan(&t) else {
            continue; // every vendor has a key in a dry run
        };
        let text = if json {
            serde_json::json!({"target": t.to_string(), "dry_run": true, "request": plan})
                .to_string()
        } else {
            let note = if configured.contains(&t.vendor()) {
                String::new()
            } else {
                format!("   ({} not set)", t.vendor().api_key_var())
            };
            format!("# {t}{note}\n{plan}")
        };
        if !crate::print_out(format!("{text}\n").as_bytes()) {
            return status; // stdout closed (`| head`): stop quietly
        }
    }
    if prepared.duplicates > 0 {
        eprintln!(
            "{} duplicate target(s) left out (the same connection named again)",
            prepared.duplicates
        );
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
