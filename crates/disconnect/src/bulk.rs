//! Bulk runs: one independent lane per vendor.
//!
//! A dispatcher reads the input once, as fast as it comes, and routes each job to its vendor's
//! queue. Each queue keeps up to [`BulkOptions::queue_in_memory`] jobs in memory and spills the
//! rest to an anonymous temporary file, so memory stays flat whatever the input's size or
//! source (a file or stdin), and a vendor that is slow, paused or stopped never holds back the
//! reading of another vendor's targets. Each lane has its own workers (its concurrency), its own
//! pacing (a client-side [`Rate`], the vendor's `RateLimit-*` budget, a 429's pause) and its own
//! circuit breaker: after [`BulkOptions::breaker`] consecutive 401/403 answers the lane stops
//! and every remaining target of that vendor is reported as [`DisconnectError::Skipped`]
//! without being sent.
//!
//! [`BulkRun::stop`] stops every request not yet on the wire, at the lanes too: a call waiting
//! for a window, a pause, the pace or a retry's backoff ends at once. With a [`WriteAhead`] log
//! ([`BulkOptions::write_ahead`]), a target's first request waits until its [`Intent`] is
//! durable, intents arriving together are recorded in one batch (group commit), and a log that
//! fails stops the run.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use futures_util::Stream;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::engine::Keys;
use crate::lane::{Hold, Pace, Rate};
use crate::{DisconnectError, Disconnector, ErrorContext, Previous, Receipt, Target, Vendor};

/// One item of [`Disconnector::disconnect_all`]: a target, and what an earlier run recorded of
/// it (nothing for a first run). A [`Target`] converts into a job with no history.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Job {
    /// The connection to cut.
    pub target: Target,
    /// What an earlier run recorded.
    pub previous: Previous,
}

impl Job {
    /// A target with what an earlier run recorded of it.
    pub fn new(target: Target, previous: Previous) -> Self {
        Self { target, previous }
    }
}

impl From<Target> for Job {
    fn from(target: Target) -> Self {
        Self {
            target,
            previous: Previous::default(),
        }
    }
}

/// Options of [`Disconnector::disconnect_all`]. Non-exhaustive: build them from
/// `BulkOptions::default()` with the setters (`BulkOptions::default().concurrency(4)`), so an
/// option added later is one more setter.
#[derive(Clone)]
#[non_exhaustive]
pub struct BulkOptions {
    /// Calls in flight at once in each vendor's lane (at least 1). Default 8.
    pub concurrency: usize,
    /// A vendor's own concurrency, instead of `concurrency`.
    pub per_vendor: BTreeMap<Vendor, usize>,
    /// A client-side request rate per vendor (e.g. Persona `300/min`): requests are spaced to
    /// stay inside it. Vendors that send `RateLimit-*` headers (Persona) are also paced by
    /// what those say, with or without a rate here.
    pub rates: BTreeMap<Vendor, Rate>,
    /// Consecutive 401/403 answers after which a vendor's lane stops and its remaining targets
    /// are skipped (0: never). Default 3.
    pub breaker: u32,
    /// Jobs each lane keeps in memory before spilling to a temporary file. Default 1,024.
    pub queue_in_memory: usize,
    /// Where each target's intent is made durable before its first request (see
    /// [`WriteAhead`]). Default none.
    pub write_ahead: Option<Arc<dyn WriteAhead>>,
}

impl std::fmt::Debug for BulkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkOptions")
            .field("concurrency", &self.concurrency)
            .field("per_vendor", &self.per_vendor)
            .field("rates", &self.rates)
            .field("breaker", &self.breaker)
            .field("queue_in_memory", &self.queue_in_memory)
            .field("write_ahead", &self.write_ahead.is_some())
            .finish()
    }
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            per_vendor: BTreeMap::new(),
            rates: BTreeMap::new(),
            breaker: 3,
            queue_in_memory: 1024,
            write_ahead: None,
        }
    }
}

impl BulkOptions {
    /// See [`BulkOptions::concurrency`](#structfield.concurrency) (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// See [`BulkOptions::per_vendor`](#structfield.per_vendor).
    pub fn per_vendor(mut self, per_vendor: BTreeMap<Vendor, usize>) -> Self {
        self.per_vendor = per_vendor;
        self
    }

    /// See [`BulkOptions::rates`](#structfield.rates).
    pub fn rates(mut self, rates: BTreeMap<Vendor, Rate>) -> Self {
        self.rates = rates;
        self
    }

    /// See [`BulkOptions::breaker`](#structfield.breaker).
    pub fn breaker(mut self, consecutive: u32) -> Self {
        self.breaker = consecutive;
        self
    }

    /// See [`BulkOptions::queue_in_memory`](#structfield.queue_in_memory).
    pub fn queue_in_memory(mut self, jobs: usize) -> Self {
        self.queue_in_memory = jobs;
        self
    }

    /// See [`BulkOptions::write_ahead`](#structfield.write_ahead).
    pub fn write_ahead(mut self, log: Option<Arc<dyn WriteAhead>>) -> Self {
        self.write_ahead = log;
        self
    }
}

/// A target about to get its first request in a bulk run: what a [`WriteAhead`] log records.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Intent {
    /// The target.
    pub target: Target,
    /// The `Idempotency-Key` its first request carries (Persona), so that a run resumed after
    /// a crash continues the same key chain. Not a secret.
    pub idempotency_key: Option<String>,
}

/// A durable record of what a bulk run is about to send, so that nothing is sent that cannot be
/// accounted for: a crash between a request and its recorded result leaves an intent with no
/// result, which a resumed run treats as in doubt ([`crate::Previous::in_doubt`]).
///
/// [`WriteAhead::record`] runs on a thread of its own, one batch at a time: every intent that
/// arrives while a batch is being written goes into the next one (group commit), so that one
/// sync serves many targets. A target is sent only after the batch holding its intent was
/// recorded. An error stops the run as [`BulkRun::stop`] does: that batch's targets and every
/// later one come back as [`DisconnectError::Interrupted`], never sent, while requests already
/// on the wire finish and are reported.
///
/// ```
/// use std::io::Write;
/// use std::sync::Mutex;
/// use disconnect::{Intent, WriteAhead};
///
/// struct Journal(Mutex<std::fs::File>);
///
/// impl WriteAhead for Journal {
///     fn record(&self, batch: &[Intent]) -> std::io::Result<()> {
///         let mut file = self.0.lock().unwrap();
///         for intent in batch {
///             writeln!(file, "attempt {}", intent.target)?;
///         }
///         file.sync_data() // one sync for the whole batch
///     }
/// }
/// ```
pub trait WriteAhead: Send + Sync {
    /// Make these intents durable (write and sync them) before returning.
    fn record(&self, batch: &[Intent]) -> std::io::Result<()>;
}

/// What a lane is doing.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LaneState {
    /// Waiting for its first target, or sending as targets come.
    Running,
    /// Spacing requests at the configured rate.
    Pacing(Rate),
    /// Held by a 429 until then.
    Paused {
        /// When the pause ends.
        until: SystemTime,
    },
    /// The vendor's announced budget for this window is spent; it resets then.
    WaitingForWindow {
        /// When the window resets.
        until: SystemTime,
    },
    /// Stopped by its circuit breaker; the remaining targets are skipped.
    Stopped {
        /// Why, naming the variable to fix.
        reason: String,
    },
    /// Every target is done.
    Finished,
}

/// Renamed [`LaneSnapshot`] (beside [`LaneState`], the two read as one).
#[deprecated(since = "0.3.0", note = "renamed `LaneSnapshot`")]
pub type LaneStatus = LaneSnapshot;

/// A snapshot of one vendor's lane: its [`LaneState`] and its counts.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LaneSnapshot {
    /// The vendor.
    pub vendor: Vendor,
    /// What the lane is doing.
    pub state: LaneState,
    /// Targets read and not yet started.
    pub queued: u64,
    /// Calls running: sending a request, or held at the lane ([`LaneSnapshot::held`]).
    pub in_flight: u32,
    /// Of the calls running, those held at the lane: waiting for a window, a 429's pause, the
    /// pace or a retry's backoff (the others are sending a request).
    pub held: u32,
    /// Receipt or already disconnected.
    pub done: u64,
    /// Failed (not skipped).
    pub failed: u64,
    /// Skipped without being sent (the lane was stopped).
    pub skipped: u64,
    /// The vendor's announced limit per window (`RateLimit-Limit`), once it said.
    pub announced_limit: Option<u32>,
    /// The vendor's window, as far as its answers' `RateLimit-Reset` showed it (the longest
    /// reset seen).
    pub window: Option<Duration>,
    /// Finished results per second since the lane's first result.
    pub per_second: f64,
}

impl LaneSnapshot {
    /// A lane of `vendor` in `state` with nothing counted yet, for testing a progress display
    /// of your own; set the counts you need.
    ///
    /// ```
    /// use disconnect::{LaneState, LaneSnapshot, Vendor};
    /// let mut lane = LaneSnapshot::new(Vendor::Persona, LaneState::Running);
    /// lane.queued = 90;
    /// lane.done = 10;
    /// lane.per_second = 5.0;
    /// assert_eq!(lane.eta(), Some(std::time::Duration::from_secs(18)));
    /// ```
    pub fn new(vendor: Vendor, state: LaneState) -> Self {
        Self {
            vendor,
            state,
            queued: 0,
            in_flight: 0,
            held: 0,
            done: 0,
            failed: 0,
            skipped: 0,
            announced_limit: None,
            window: None,
            per_second: 0.0,
        }
    }

    /// Time to finish the queued and running targets at the lane's rate so far.
    pub fn eta(&self) -> Option<Duration> {
        let left = self.queued + u64::from(self.in_flight);
        if left == 0 {
            return Some(Duration::ZERO);
        }
        (self.per_second > 0.0).then(|| Duration::from_secs_f64(left as f64 / self.per_second))
    }
}

// ------------------------------------------------------------------------------ the queue

/// A FIFO that keeps `cap` jobs in memory and spills the rest to a temporary file.
struct Queue {
    inner: Mutex<QueueInner>,
    notify: Notify,
}

struct QueueInner {
    mem: VecDeque<Job>,
    cap: usize,
    spill: Option<Spill>,
    closed: bool,
    len: u64,
}

/// Spilled jobs, one `target \t idempotency key \t status` line each (targets hold no tabs or
/// newlines: they are validated).
struct Spill {
    file: File,
    read_at: u64,
    write_at: u64,
    error: Option<String>,
}

impl Spill {
    fn is_empty(&self) -> bool {
        self.read_at == self.write_at
    }

    fn write(&mut self, job: &Job) -> std::io::Result<()> {
        let line = format!(
            "{}\t{}\t{}\n",
            job.target,
            job.previous.idempotency_key.as_deref().unwrap_or(""),
            job.previous
                .http_status
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        self.file.seek(SeekFrom::Start(self.write_at))?;
        self.file.write_all(line.as_bytes())?;
        self.write_at += line.len() as u64;
        Ok(())
    }

    /// Read up to `max` jobs back, in order.
    fn read(&mut self, max: usize, into: &mut VecDeque<Job>) -> std::io::Result<()> {
        let mut chunk = vec![0u8; 64 * 1024];
        self.file.seek(SeekFrom::Start(self.read_at))?;
        let want = usize::try_from(self.write_at - self.read_at)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let n = self.file.read(&mut chunk[..want])?;
        let mut used = 0;
        for line in chunk[..n].split_inclusive(|b| *b == b'\n') {
            if !line.ends_with(b"\n") || into.len() >= max {
                break;
            }
            used += line.len();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            let mut parts = text.split('\t');
            let target = parts.next().unwrap_or_default().parse::<Target>();
            let key = parts.next().filter(|k| !k.is_empty()).map(str::to_string);
            let status = parts.next().and_then(|s| s.parse().ok());
            match target {
                Ok(target) => into.push_back(Job::new(target, Previous::new(key, status))),
                Err(e) => {
                    return Err(std::io::Error::other(format!(
                        "spilled target unreadable: {e}"
                    )));
                }
            }
        }
        if used == 0 && n > 0 {
            return Err(std::io::Error::other("a spilled line longer than 64 KiB"));
        }
        self.read_at += used as u64;
        if self.is_empty() {
            // All read back: reuse the space.
            self.read_at = 0;
            self.write_at = 0;
            self.file.set_len(0)?;
        }
        Ok(())
    }
}

impl QueueInner {
    /// The next job there is now, from memory, else read back from the spill file.
    fn next(&mut self) -> Option<Job> {
        if self.mem.is_empty() {
            let cap = self.cap;
            let QueueInner { mem, spill, .. } = self;
            if let Some(spill) = spill.as_mut().filter(|s| !s.is_empty())
                && let Err(e) = spill.read(cap, mem)
            {
                tracing::error!("cannot read spilled jobs back: {e}");
                spill.error.get_or_insert_with(|| e.to_string());
                // Unreadable: drop what is left rather than loop forever.
                spill.read_at = spill.write_at;
            }
        }
        let job = self.mem.pop_front()?;
        self.len = self.len.saturating_sub(1);
        Some(job)
    }
}

impl Queue {
    fn new(cap: usize) -> Self {
        Self {
            inner: Mutex::new(QueueInner {
                mem: VecDeque::new(),
                cap: cap.max(1),
                spill: None,
                closed: false,
                len: 0,
            }),
            notify: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn len(&self) -> u64 {
        self.lock().len
    }

    /// Add a job; spills when memory is full. An I/O error keeps the job in memory (the
    /// memory bound gives way rather than the job being lost) and is reported by `pop`.
    fn push(&self, job: Job) {
        let mut q = self.lock();
        q.len += 1;
        let spilling = q.spill.as_ref().is_some_and(|s| !s.is_empty());
        if !spilling && q.mem.len() < q.cap {
            q.mem.push_back(job);
        } else {
            if q.spill.is_none() {
                match tempfile::tempfile() {
                    Ok(file) => {
                        q.spill = Some(Spill {
                            file,
                            read_at: 0,
                            write_at: 0,
                            error: None,
                        })
                    }
                    Err(e) => {
                        tracing::warn!("cannot create a spill file, keeping jobs in memory: {e}");
                    }
                }
            }
            match q.spill.as_mut() {
                Some(spill) => {
                    if let Err(e) = spill.write(&job) {
                        spill.error.get_or_insert_with(|| e.to_string());
                        q.mem.push_back(job);
                    }
                }
                None => q.mem.push_back(job),
            }
        }
        drop(q);
        self.notify.notify_waiters();
    }

    /// Move up to `n` jobs that are ready now (no waiting) into `into`.
    fn take_ready(&self, n: usize, into: &mut Vec<Job>) {
        let mut q = self.lock();
        for _ in 0..n {
            match q.next() {
                Some(job) => into.push(job),
                None => return,
            }
        }
    }

    fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }

    /// The next job, waiting for one; `None` when closed and empty, or when the run is stopped.
    async fn pop(&self, control: &Control) -> Option<Job> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut q = self.lock();
                if control.is_stopped() {
                    return None;
                }
                if let Some(job) = q.next() {
                    return Some(job);
                }
                if q.closed && q.spill.as_ref().is_none_or(Spill::is_empty) {
                    return None;
                }
            }
            notified.await;
        }
    }
}

// ------------------------------------------------------------------------------ the lanes

#[derive(Default)]
struct Counters {
    done: AtomicU64,
    failed: AtomicU64,
    skipped: AtomicU64,
    in_flight: AtomicU32,
    unauthorized_in_a_row: AtomicU32,
}

struct LaneRun {
    vendor: Vendor,
    queue: Queue,
    /// Jobs whose intents are recorded, with their key chains, for the lane's workers to start.
    recorded: Mutex<VecDeque<(Job, Option<Keys>)>>,
    /// Jobs whose intents the log refused: reported, never sent.
    refused: Mutex<Vec<Job>>,
    /// Held by the worker recording the next batch of intents.
    recording: tokio::sync::Mutex<()>,
    /// The lane's workers: the most intents one batch records.
    workers: usize,
    pace: Option<Pace>,
    counters: Counters,
    stopped: Mutex<Option<String>>,
    first_result: Mutex<Option<Instant>>,
    finished: AtomicBool,
}

impl LaneRun {
    /// The next job to start, its intent recorded when the run has a write-ahead log. Intents
    /// are recorded a batch at a time, ahead of the workers: while the recorded jobs last, the
    /// worker that finds them running low records the next batch of the jobs ready in the
    /// queue (up to the lane's concurrency), so that the others never wait for the log; when
    /// none are left, one worker records the next batch and the others wait for it. While the
    /// lane holds its requests back (a window, a pause, a pace), a batch is one job, so that
    /// an intent waits for the lane as little as possible. `None` when the queue is done or
    /// the run stopped. Jobs whose intents the log refused go to `refused`.
    async fn next_job(
        &self,
        control: &Control,
        lane: &crate::lane::Lane,
        disconnector: &Disconnector,
    ) -> Option<(Job, Option<Keys>)> {
        if !control.has_log() {
            let job = self.queue.pop(control).await?;
            let keys = disconnector.keys(&job.target, &job.previous);
            return Some((job, keys));
        }
        let batches = self.pace.is_none() && lane.hold() == Hold::None;
        loop {
            let (job, low) = {
                let mut recorded = self.recorded.lock().unwrap_or_else(|p| p.into_inner());
                let job = recorded.pop_front();
                (job, recorded.len() < self.workers)
            };
            if let Some(job) = job {
                if low
                    && batches
                    && !control.is_stopped()
                    && let Ok(_recording) = self.recording.try_lock()
                {
                    let mut batch = Vec::new();
                    self.queue.take_ready(2 * self.workers, &mut batch);
                    self.record_intents(batch, control, disconnector).await;
                }
                return Some(job);
            }
            let _recording = self.recording.lock().await;
            if !self
                .recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_empty()
            {
                continue;
            }
            let mut batch = vec![self.queue.pop(control).await?];
            if batches {
                self.queue.take_ready(2 * self.workers - 1, &mut batch);
            }
            self.record_intents(batch, control, disconnector).await;
        }
    }

    /// Record the batch's intents: its jobs join the recorded ones, or the refused ones.
    async fn record_intents(
        &self,
        batch: Vec<Job>,
        control: &Control,
        disconnector: &Disconnector,
    ) {
        if batch.is_empty() {
            return;
        }
        let keys: Vec<Option<Keys>> = batch
            .iter()
            .map(|job| disconnector.keys(&job.target, &job.previous))
            .collect();
        let intents: Vec<Intent> = batch
            .iter()
            .zip(&keys)
            .map(|(job, keys)| Intent {
                target: job.target.clone(),
                idempotency_key: keys.as_ref().map(|k| k.current().into_owned()),
            })
            .collect();
        match control.record_intents(intents).await {
            Ok(()) => self
                .recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(batch.into_iter().zip(keys)),
            Err(_) => self
                .refused
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(batch),
        }
    }

    fn take_refused(&self) -> Vec<Job> {
        std::mem::take(&mut *self.refused.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn take_recorded(&self) -> Option<Job> {
        self.recorded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front()
            .map(|(job, _)| job)
    }

    fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Count a result; trips the breaker after `breaker` consecutive 401/403.
    fn record(&self, result: &Result<Receipt, DisconnectError>, breaker: u32) {
        let c = &self.counters;
        self.first_result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(Instant::now);
        match result {
            Ok(_) => {
                c.done.fetch_add(1, Ordering::Relaxed);
                c.unauthorized_in_a_row.store(0, Ordering::Relaxed);
            }
            Err(DisconnectError::Skipped { .. }) => {
                c.skipped.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                c.failed.fetch_add(1, Ordering::Relaxed);
                if matches!(
                    e,
                    DisconnectError::Unauthorized { .. } | DisconnectError::Forbidden { .. }
                ) {
                    let n = c.unauthorized_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                    if breaker > 0 && n >= breaker {
                        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
                        if stopped.is_none() {
                            let reason = format!(
                                "stopped after {n} consecutive {} answers from {}: check {} (the remaining {} targets are skipped; rerun with --resume after fixing the key)",
                                if matches!(e, DisconnectError::Forbidden { .. }) {
                                    "403"
                                } else {
                                    "401"
                                },
                                self.vendor,
                                self.vendor.api_key_var(),
                                self.vendor
                            );
                            tracing::warn!(vendor = %self.vendor, "{reason}");
                            *stopped = Some(reason);
                        }
                    }
                } else {
                    c.unauthorized_in_a_row.store(0, Ordering::Relaxed);
                }
            }
        }
    }

    fn status(&self, lane: &crate::lane::Lane) -> LaneSnapshot {
        let c = &self.counters;
        let (done, failed, skipped) = (
            c.done.load(Ordering::Relaxed),
            c.failed.load(Ordering::Relaxed),
            c.skipped.load(Ordering::Relaxed),
        );
        let in_flight = c.in_flight.load(Ordering::Relaxed);
        let queued = self.queue.len()
            + self
                .recorded
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .len() as u64;
        let state = if let Some(reason) = self.stopped() {
            LaneState::Stopped { reason }
        } else if self.finished.load(Ordering::SeqCst) {
            LaneState::Finished
        } else {
            match lane.hold() {
                Hold::Paused(until) => LaneState::Paused { until },
                Hold::BudgetSpent(until) => LaneState::WaitingForWindow { until },
                Hold::None => match &self.pace {
                    Some(pace) => LaneState::Pacing(pace.rate()),
                    None => LaneState::Running,
                },
            }
        };
        let per_second = self
            .first_result
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|first| {
                let secs = first.elapsed().as_secs_f64().max(1.0);
                (done + failed) as f64 / secs
            })
            .unwrap_or(0.0);
        LaneSnapshot {
            vendor: self.vendor,
            state,
            queued,
            in_flight,
            held: in_flight.saturating_sub(lane.sending()),
            done,
            failed,
            skipped,
            announced_limit: lane.announced_limit(),
            window: lane.window(),
            per_second,
        }
    }
}

/// Where workers send their results.
type Results = mpsc::Sender<Result<Receipt, DisconnectError>>;

/// A batch of intents waiting for the write-ahead log, with where to say whether it was
/// recorded.
type Pending = (Vec<Intent>, oneshot::Sender<Result<(), String>>);

/// Intents recorded in one write at most.
const MAX_BATCH: usize = 4096;

/// A bulk run's stop signal and write-ahead log, as its calls see them.
pub(crate) struct Control {
    stopped: AtomicBool,
    reason: Mutex<Option<String>>,
    notify: Notify,
    ahead: Option<std_mpsc::Sender<Pending>>,
}

impl Control {
    /// A control without a log (`run` gives it one when the options have a log).
    pub(crate) fn new() -> Self {
        Self {
            stopped: AtomicBool::new(false),
            reason: Mutex::new(None),
            notify: Notify::new(),
            ahead: None,
        }
    }

    /// Stop every request not yet sent; the first reason is kept.
    fn stop(&self, reason: &str) {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(|| reason.to_string());
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Why the run stopped.
    pub(crate) fn reason(&self) -> String {
        self.reason
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| STOPPED.to_string())
    }

    /// Resolves once the run is stopped.
    pub(crate) async fn stopped(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }

    /// Whether the run has a write-ahead log.
    fn has_log(&self) -> bool {
        self.ahead.is_some()
    }

    /// Wait until these intents are recorded (one batch); `Err(reason)` when they cannot be
    /// (the log failed: the run is stopped).
    async fn record_intents(&self, intents: Vec<Intent>) -> Result<(), String> {
        let Some(ahead) = &self.ahead else {
            return Ok(());
        };
        let (reply, recorded) = oneshot::channel();
        if ahead.send((intents, reply)).is_err() {
            return Err(self.reason());
        }
        recorded
            .await
            .unwrap_or_else(|_| Err("the write-ahead log stopped".to_string()))
    }
}

/// Why a run stopped by [`BulkRun::stop`] did not send a target.
const STOPPED: &str = "the run was stopped";

/// Record batches of intents on a thread of its own until every sender is gone; after a
/// failure, refuse every intent and stop the run.
fn commit_intents(
    log: Arc<dyn WriteAhead>,
    rx: std_mpsc::Receiver<Pending>,
    shared: std::sync::Weak<Shared>,
) {
    let mut failed: Option<String> = None;
    let (mut intents, mut replies) = (Vec::new(), Vec::new());
    while let Ok(first) = rx.recv() {
        // Every batch that arrived meanwhile goes into the same write.
        for (batch, reply) in std::iter::once(first).chain(rx.try_iter()) {
            intents.extend(batch);
            replies.push(reply);
            if intents.len() >= MAX_BATCH {
                break;
            }
        }
        let result = match &failed {
            Some(reason) => Err(reason.clone()),
            None => log.record(&intents).map_err(|e| {
                let reason = format!("the write-ahead log could not record intents: {e}");
                tracing::error!("{reason}");
                if let Some(shared) = shared.upgrade() {
                    shared.stop(&reason);
                }
                failed = Some(reason.clone());
                reason
            }),
        };
        intents.clear();
        for reply in replies.drain(..) {
            let _ = reply.send(result.clone());
        }
    }
}

struct Shared {
    disconnector: Disconnector,
    lanes: BTreeMap<Vendor, LaneRun>,
    control: Control,
    breaker: u32,
}

/// A running [`Disconnector::disconnect_all`]: a stream of one result per target, in
/// completion order, plus each lane's status and a way to stop starting new calls.
///
/// The work starts when the stream is first polled (inside a Tokio runtime). Dropping it stops
/// starting new calls.
#[must_use = "a bulk run does nothing until its stream is polled"]
pub struct BulkRun {
    shared: Arc<Shared>,
    start: Option<Box<dyn FnOnce(Results) + Send>>,
    rx: Option<mpsc::Receiver<Result<Receipt, DisconnectError>>>,
}

impl std::fmt::Debug for BulkRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkRun")
            .field("lanes", &self.lanes())
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lanes(&self) -> Vec<LaneSnapshot> {
        self.lanes
            .values()
            .map(|l| l.status(self.disconnector.lane(l.vendor)))
            .collect()
    }

    fn stop(&self, reason: &str) {
        self.control.stop(reason);
        for lane in self.lanes.values() {
            lane.queue.notify.notify_waiters();
        }
    }
}

impl BulkRun {
    /// The next result, in completion order; `None` when every target is reported. The same
    /// as `StreamExt::next` (the run is also a `futures::Stream`), without a crate to import:
    ///
    /// ```no_run
    /// # async fn run(d: disconnect::Disconnector, targets: Vec<disconnect::Target>) {
    /// let mut run = d.disconnect_all(targets, disconnect::BulkOptions::default());
    /// while let Some(result) = run.next().await {
    ///     match result {
    ///         Ok(receipt) => println!("{}: {:?}", receipt.target, receipt.status),
    ///         Err(e) => eprintln!("{e}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn next(&mut self) -> Option<Result<Receipt, DisconnectError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Each vendor's lane, now.
    pub fn lanes(&self) -> Vec<LaneSnapshot> {
        self.shared.lanes()
    }

    /// Send no new request: reading the input stops; queued targets are not started (nor
    /// reported: [`LaneSnapshot::queued`] counts them); a call waiting at its lane (for a
    /// window, a 429's pause, the pace) or for a retry ends at once as
    /// [`DisconnectError::Interrupted`]; requests already on the wire finish and are reported;
    /// then the stream ends.
    pub fn stop(&self) {
        self.shared.stop(STOPPED);
    }

    /// A handle for other tasks (a progress display, a Ctrl-C handler): lane status and stop.
    pub fn handle(&self) -> BulkHandle {
        BulkHandle {
            shared: self.shared.clone(),
        }
    }
}

/// See [`BulkRun::handle`]. Cheap to clone.
#[derive(Clone)]
pub struct BulkHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for BulkHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkHandle").finish_non_exhaustive()
    }
}

impl BulkHandle {
    /// Each vendor's lane, now.
    pub fn lanes(&self) -> Vec<LaneSnapshot> {
        self.shared.lanes()
    }

    /// See [`BulkRun::stop`].
    pub fn stop(&self) {
        self.shared.stop(STOPPED);
    }

    /// Whether the run was stopped ([`BulkRun::stop`], or its write-ahead log failed).
    pub fn is_stopped(&self) -> bool {
        self.shared.control.is_stopped()
    }
}

impl Drop for BulkRun {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Stream for BulkRun {
    type Item = Result<Receipt, DisconnectError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(start) = this.start.take() {
            let (tx, rx) = mpsc::channel(256);
            this.rx = Some(rx);
            start(tx);
        }
        match this.rx.as_mut() {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }
}

pub(crate) fn run<I>(disconnector: &Disconnector, jobs: I, options: BulkOptions) -> BulkRun
where
    I: IntoIterator,
    I::Item: Into<Job>,
    I::IntoIter: Send + 'static,
{
    // A lane per vendor compiled in.
    let lanes = Vendor::ALL
        .into_iter()
        .filter(|v| crate::adapters::is_compiled(*v))
        .map(|vendor| {
            (
                vendor,
                LaneRun {
                    vendor,
                    queue: Queue::new(options.queue_in_memory),
                    recorded: Mutex::new(VecDeque::new()),
                    refused: Mutex::new(Vec::new()),
                    recording: tokio::sync::Mutex::new(()),
                    workers: workers(&options, vendor),
                    pace: options.rates.get(&vendor).copied().map(Pace::new),
                    counters: Counters::default(),
                    stopped: Mutex::new(None),
                    first_result: Mutex::new(None),
                    finished: AtomicBool::new(false),
                },
            )
        })
        .collect();
    let (ahead, intents) = match &options.write_ahead {
        Some(log) => {
            let (tx, rx) = std_mpsc::channel();
            (Some(tx), Some((log.clone(), rx)))
        }
        None => (None, None),
    };
    let shared = Arc::new(Shared {
        disconnector: disconnector.clone(),
        lanes,
        control: Control {
            ahead,
            ..Control::new()
        },
        breaker: options.breaker,
    });
    let jobs = jobs.into_iter();
    let start_shared = shared.clone();
    let start = move |tx: Results| {
        let shared = start_shared;
        if let Some((log, rx)) = intents {
            // Its own thread: it lives as long as the run, waiting for intents. It holds the
            // run only weakly, so that dropping the run ends it.
            let weak = Arc::downgrade(&shared);
            std::thread::spawn(move || commit_intents(log, rx, weak));
        }
        // The dispatcher: reads the input (maybe blocking I/O) on a blocking thread and never
        // waits for a lane.
        let dispatch = shared.clone();
        tokio::task::spawn_blocking(move || {
            for job in jobs {
                if dispatch.control.is_stopped() {
                    break;
                }
                let job: Job = job.into();
                dispatch.lanes[&job.target.vendor()].queue.push(job);
            }
            for lane in dispatch.lanes.values() {
                lane.queue.close();
            }
        });
        for (vendor, lane) in shared.lanes.iter() {
            let workers = lane.workers;
            let remaining = Arc::new(AtomicU32::new(workers as u32));
            for _ in 0..workers {
                let (shared, tx, vendor, remaining) =
                    (shared.clone(), tx.clone(), *vendor, remaining.clone());
                tokio::spawn(async move {
                    worker(&shared, vendor, &tx).await;
                    if remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
                        shared.lanes[&vendor].finished.store(true, Ordering::SeqCst);
                    }
                });
            }
        }
    };
    BulkRun {
        shared,
        start: Some(Box::new(start)),
        rx: None,
    }
}

/// A lane's workers: its concurrency.
fn workers(options: &BulkOptions, vendor: Vendor) -> usize {
    options
        .per_vendor
        .get(&vendor)
        .copied()
        .unwrap_or(options.concurrency)
        .max(1)
}

async fn worker(shared: &Shared, vendor: Vendor, tx: &Results) {
    let lane = &shared.lanes[&vendor];
    let vendor_lane = shared.disconnector.lane(vendor);
    loop {
        if !report_refused(shared, lane, tx).await {
            return;
        }
        let Some((job, keys)) = lane
            .next_job(&shared.control, vendor_lane, &shared.disconnector)
            .await
        else {
            break;
        };
        let result = match lane.stopped() {
            Some(reason) => Err(DisconnectError::Skipped {
                ctx: unsent(job),
                reason,
            }),
            None => {
                lane.counters.in_flight.fetch_add(1, Ordering::Relaxed);
                let result = shared
                    .disconnector
                    .call(
                        &job.target,
                        &job.previous,
                        keys,
                        shared.disconnector.settings(),
                        lane.pace.as_ref(),
                        Some(&shared.control),
                    )
                    .await;
                lane.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
                result
            }
        };
        lane.record(&result, shared.breaker);
        if tx.send(result).await.is_err() {
            return; // nobody is listening any more
        }
    }
    // Stopped: jobs whose intents were recorded and that were never started are reported, so
    // that their intents are closed.
    if !report_refused(shared, lane, tx).await {
        return;
    }
    while let Some(job) = lane.take_recorded() {
        let reason = shared.control.reason();
        if tx.send(Err(interrupted(job, &reason))).await.is_err() {
            return;
        }
    }
}

/// Report the jobs the log refused, never sent; `false` when nobody listens any more.
async fn report_refused(shared: &Shared, lane: &LaneRun, tx: &Results) -> bool {
    for job in lane.take_refused() {
        let reason = shared.control.reason();
        if tx.send(Err(interrupted(job, &reason))).await.is_err() {
            return false;
        }
    }
    true
}

/// A job never sent because the run stopped first.
fn interrupted(job: Job, reason: &str) -> DisconnectError {
    DisconnectError::Interrupted {
        ctx: unsent(job),
        reason: reason.to_string(),
    }
}

/// The context of a job not sent: what an earlier run left of it.
fn unsent(job: Job) -> Box<ErrorContext> {
    Box::new(ErrorContext {
        vendor: job.target.vendor(),
        target: job.target,
        http_status: None,
        request_id: None,
        attempts: 0,
        idempotency_key: job.previous.idempotency_key,
        in_doubt: job.previous.in_doubt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(i: usize) -> Job {
        Job::new(
            Target::persona(format!("cxn_{i}")).unwrap(),
            Previous::new(
                i.is_multiple_of(2).then(|| format!("key-{i}")),
                i.is_multiple_of(3).then_some(500),
            ),
        )
    }

    #[tokio::test]
    async fn the_queue_spills_past_its_memory_and_keeps_order() {
        let queue = Queue::new(4);
        for i in 0..1000 {
            queue.push(job(i));
        }
        assert_eq!(queue.len(), 1000);
        assert_eq!(queue.lock().mem.len(), 4, "only 4 in memory");
        queue.push(job(1000));
        queue.close();
        let control = Control::new();
        let mut got = Vec::new();
        while let Some(j) = queue.pop(&control).await {
            assert!(
                queue.lock().mem.len() <= 4,
                "reads back at most 4 at a time"
            );
            got.push(j);
        }
        assert_eq!(got, (0..=1000).map(job).collect::<Vec<_>>());
        assert_eq!(queue.len(), 0);
    }

    #[tokio::test]
    async fn a_stopped_queue_yields_nothing_more() {
        let queue = Queue::new(2);
        queue.push(job(1));
        let control = Control::new();
        control.stop(STOPPED);
        assert_eq!(queue.pop(&control).await, None);
    }
}
