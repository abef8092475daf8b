//! One call: attempts, retries with full-jitter backoff, the deadline, rate-limit lanes and
//! waiting out Tartan syncs.
//!
//! Every attempt goes through its vendor's [`Lane`] first. One rule for the deadline: it bounds
//! everything in a call, the waits at the lane included (a wait that would end past it is not
//! taken: the call returns `RateLimited` with the vendor's reset); in a bulk run, the time a
//! target is queued at its lane before its first request is not charged, so a large run still
//! finishes at the vendor's rate without failing targets for being late in the queue.

use std::pin::pin;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use disconnect_client_runtime::is_retryable_status;

use crate::VendorRecord;
use crate::adapters::Adapter;
use crate::bulk::Control;
use crate::classify::{AttemptFailure, Classified};
use crate::error::{DisconnectError, ErrorContext};
use crate::lane::{InFlight, Lane, Pace};
use crate::outcome::{DisconnectStatus, Receipt};
use crate::{Settings, Target};

/// The wait before retry number `retry` (0-based): a random duration up to
/// `min(max, initial * 2^retry)` ("full jitter").
pub(crate) fn backoff(settings: &Settings, retry: u32) -> Duration {
    let cap = settings
        .initial_backoff
        .saturating_mul(2u32.saturating_pow(retry.min(20)))
        .min(settings.max_backoff);
    let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

/// The idempotency keys of one call. A vendor like Persona stores the first answer to a key,
/// 5xx included, and replays it (for 24 h): retrying a 5xx with the same key would meet the same
/// 5xx. So after a 5xx answer the call moves on to a fresh key derived from the first
/// (`<first>-r1`, `-r2`, ...); deactivating again is safe (an inactive connection answers 409).
/// Every other retry keeps the key, so a request that reached the vendor is never acted on twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keys {
    first: String,
    rotation: u32,
}

impl Keys {
    /// The chain starting at `first`.
    pub(crate) fn new(first: String) -> Self {
        Self { first, rotation: 0 }
    }

    /// Continue the chain after `previous`, the key an earlier run of the same call used last:
    /// when the vendor stored that run's last answer under it (`replayed`, a 5xx at Persona),
    /// the next key; otherwise `previous` itself (its stored answer, if any, is the one to
    /// read). A key not from this chain (another operation id) is ignored.
    pub(crate) fn resume(first: String, previous: &str, replayed: bool) -> Self {
        let rotation = if previous == first {
            Some(0)
        } else {
            previous
                .strip_prefix(first.as_str())
                .and_then(|rest| rest.strip_prefix("-r"))
                .and_then(|n| n.parse::<u32>().ok())
        };
        let Some(rotation) = rotation else {
            return Self::new(first);
        };
        Self {
            first,
            rotation: rotation + u32::from(replayed),
        }
    }

    /// The key to send now (borrowed while it is the first: no allocation per attempt).
    pub(crate) fn current(&self) -> std::borrow::Cow<'_, str> {
        match self.rotation {
            0 => std::borrow::Cow::Borrowed(&self.first),
            n => std::borrow::Cow::Owned(format!("{}-r{n}", self.first)),
        }
    }

    /// The key sent last, owned.
    fn into_current(self) -> String {
        match self.rotation {
            0 => self.first,
            n => format!("{}-r{n}", self.first),
        }
    }

    fn rotate(&mut self) {
        self.rotation += 1;
    }
}

/// What the call knows when it decides after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CallState {
    /// Retries so far for transient failures (transport, timeouts, retryable statuses, 429s).
    pub transient_retries: u32,
    /// For a "busy" answer: the adapter's wait before polling again (`None`: stop).
    pub busy_retry: Option<Duration>,
    /// Time left before the call's deadline.
    pub time_left: Duration,
    /// The full-jitter backoff for the next transient retry (drawn by the caller, so that the
    /// decision itself is a pure function).
    pub backoff: Duration,
    /// The vendor stored this answer under the call's idempotency key: a retry with the same
    /// key would only replay it.
    pub replayed: bool,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Try again after `wait`.
    Retry {
        /// How long to wait first.
        wait: Duration,
        /// Counts against `Settings::max_attempts` (a transient failure; a sync poll does not).
        transient: bool,
        /// The vendor stored the answer under the idempotency key: use the next key.
        next_key: bool,
        /// Pause the vendor's whole lane this long first (a 429 with a reset).
        pause_lane: Option<Duration>,
    },
    /// Stop: the failure is the call's result. A 429 with a reset still pauses the lane.
    Stop {
        /// Pause the vendor's whole lane this long.
        pause_lane: Option<Duration>,
    },
}

/// The decision after a failed attempt, from its classification, the call's state and the
/// settings: transient failures are retried with backoff up to `max_attempts`, a 429 pauses
/// the lane (its retry waits at the lane, not charged to the call), "busy" is polled as the
/// vendor's adapter says, everything else stops; no wait may pass the deadline.
pub(crate) fn decide(
    failure: &AttemptFailure,
    http_status: Option<u16>,
    state: CallState,
    settings: &Settings,
) -> Decision {
    let transient_left = state.transient_retries + 1 < settings.max_attempts;
    let pause_lane = match failure {
        AttemptFailure::RateLimited(reset) => *reset,
        _ => None,
    };
    let wait = match failure {
        AttemptFailure::Transport(_) | AttemptFailure::AnswerLost(_) | AttemptFailure::Timeout => {
            transient_left.then_some(state.backoff)
        }
        AttemptFailure::Server(_) | AttemptFailure::Unexpected(_)
            if http_status.is_some_and(is_retryable_status) =>
        {
            transient_left.then_some(state.backoff)
        }
        // With a reset the retry waits at the paused lane (not charged); without one, a
        // backoff of the call's own.
        AttemptFailure::RateLimited(reset) => transient_left.then_some(match reset {
            Some(_) => Duration::ZERO,
            None => state.backoff,
        }),
        AttemptFailure::Busy(_) => state.busy_retry,
        _ => None,
    };
    match wait {
        Some(wait) if wait <= state.time_left => Decision::Retry {
            wait,
            transient: !matches!(failure, AttemptFailure::Busy(_)),
            next_key: state.replayed,
            pause_lane,
        },
        _ => Decision::Stop { pause_lane },
    }
}

/// The call's progress: attempts, retries, the deadline, the last answer and the key.
struct Call<'a> {
    /// The call's span (`disconnect`), disabled when nothing listens.
    span: tracing::Span,
    target: &'a Target,
    vendor: crate::Vendor,
    started: Instant,
    deadline: Instant,
    attempts: u32,
    transient_retries: u32,
    busy_since: Option<Instant>,
    last: (Option<u16>, Option<String>),
    keys: Option<Keys>,
    /// A request may have acted unanswered (in this call or an earlier run's).
    in_doubt: bool,
}

/// How a call starts: its idempotency keys, whether an earlier run's request may have acted
/// unanswered ([`crate::Previous`]), and in a bulk run its lane's pace and the run's
/// [`Control`] (stop signal and write-ahead log).
#[derive(Default)]
pub(crate) struct Start<'a> {
    pub(crate) keys: Option<Keys>,
    pub(crate) in_doubt: bool,
    pub(crate) pace: Option<&'a Pace>,
    pub(crate) control: Option<&'a Control>,
}

impl Call<'_> {
    #[cold]
    fn ctx(&self) -> Box<ErrorContext> {
        Box::new(ErrorContext {
            vendor: self.vendor,
            target: self.target.clone(),
            http_status: self.last.0,
            request_id: self.last.1.clone(),
            attempts: self.attempts,
            idempotency_key: self.key(),
            in_doubt: self.in_doubt,
        })
    }

    /// The run was stopped (or its write-ahead log failed) before the next request.
    #[cold]
    fn interrupted(&self, reason: String) -> DisconnectError {
        tracing::info!(reason, "interrupted");
        DisconnectError::Interrupted {
            ctx: self.ctx(),
            reason,
        }
    }

    fn key(&self) -> Option<String> {
        self.keys.as_ref().map(|k| k.current().into_owned())
    }

    /// Success, with the answer's HTTP status and request id. After an answer was lost, the
    /// connection found gone is the lost request's doing: `Disconnected`, confirmed after a
    /// lost answer.
    fn done(
        &mut self,
        status: DisconnectStatus,
        record: VendorRecord,
        http_status: u16,
        request_id: Option<String>,
    ) -> Receipt {
        let confirmed_after_lost_answer =
            self.in_doubt && status == DisconnectStatus::AlreadyDisconnected;
        let status = if confirmed_after_lost_answer {
            DisconnectStatus::Disconnected
        } else {
            status
        };
        tracing::info!(?status, confirmed_after_lost_answer, "done");
        Receipt {
            vendor: self.vendor,
            target: self.target.clone(),
            status,
            http_status,
            request_id,
            attempts: self.attempts,
            elapsed: self.started.elapsed(),
            record,
            idempotency_key: self.keys.take().map(Keys::into_current),
            confirmed_after_lost_answer,
        }
    }

    /// Record the answer on the call's tracing spans.
    fn observe(&self, answer: &Classified, attempt_span: &tracing::Span) {
        if let Some(status) = answer.http_status
            && !attempt_span.is_disabled()
        {
            attempt_span.record("status", status);
            attempt_span.record("http.response.status_code", status);
        }
        let span = &self.span;
        if span.is_disabled() {
            return;
        }
        span.record("attempts", self.attempts);
        if let Some(status) = answer.http_status {
            span.record("status", status);
        }
        if let Some(id) = &answer.request_id {
            span.record("request_id", id.as_str());
        }
    }

    /// After a failed attempt: apply [`decide`]'s decision (the lane's pause, the retry count,
    /// the next key) and return the wait before the next attempt, or the call's error. Out of
    /// line: the success path stays short.
    #[cold]
    #[inline(never)]
    fn after_failure(
        &mut self,
        adapter: &impl Adapter,
        lane: &Lane,
        settings: &Settings,
        failure: AttemptFailure,
        http_status: Option<u16>,
        budget: Duration,
    ) -> Result<Duration, DisconnectError> {
        let state = self.state(adapter, settings, &failure, http_status);
        let decision = decide(&failure, http_status, state, settings);
        if let Decision::Retry {
            pause_lane: Some(pause),
            ..
        }
        | Decision::Stop {
            pause_lane: Some(pause),
        } = decision
        {
            lane.pause_until(Instant::now() + pause);
        }
        match decision {
            Decision::Retry {
                wait,
                transient,
                next_key,
                ..
            } => {
                self.transient_retries += u32::from(transient);
                if next_key && let Some(chain) = self.keys.as_mut() {
                    chain.rotate();
                }
                tracing::debug!(?failure, wait_ms = wait.as_millis() as u64, "retrying");
                Ok(wait)
            }
            Decision::Stop { .. } => {
                tracing::info!(?failure, "failed");
                let cut_by_deadline = budget < settings.attempt_timeout;
                Err(failure.into_error(self.ctx(), cut_by_deadline))
            }
        }
    }

    /// What [`decide`] needs, the vendor's own rules asked of its adapter.
    fn state(
        &self,
        adapter: &impl Adapter,
        settings: &Settings,
        failure: &AttemptFailure,
        http_status: Option<u16>,
    ) -> CallState {
        let now = Instant::now();
        CallState {
            transient_retries: self.transient_retries,
            busy_retry: match failure {
                AttemptFailure::Busy(_) => adapter.busy_retry(now - self.busy_since.unwrap_or(now)),
                _ => None,
            },
            time_left: self.deadline.saturating_duration_since(now),
            backoff: backoff(settings, self.transient_retries),
            replayed: self.keys.is_some()
                && http_status.is_some_and(|s| adapter.replays_under_key(s)),
        }
    }
}

impl<'a> Call<'a> {
    fn new(
        span: tracing::Span,
        target: &'a Target,
        vendor: crate::Vendor,
        settings: &Settings,
        keys: Option<Keys>,
        in_doubt: bool,
    ) -> Self {
        let started = Instant::now();
        Self {
            span,
            target,
            vendor,
            started,
            deadline: started + settings.deadline,
            attempts: 0,
            transient_retries: 0,
            busy_since: None,
            last: (None, None),
            keys,
            in_doubt,
        }
    }

    /// Wait for the lane to admit the next attempt and count it. The wait (a 429's pause, the
    /// vendor's budget, the pace) is charged to the deadline, and one that would end past it is
    /// not taken (`RateLimited` with the vendor's reset) — except, in a bulk run, the time a
    /// target is queued before its first request, which is added to its deadline (bounded by
    /// [`Settings::max_lane_wait`]). In a bulk run, a stop ends the wait at once (the bulk run
    /// records the intent before the call starts). Returns the attempt's slot and its time
    /// budget.
    async fn admit<'l>(
        &mut self,
        lane: &'l Lane,
        pace: Option<&Pace>,
        control: Option<&Control>,
        settings: &Settings,
    ) -> Result<(InFlight<'l>, Duration), DisconnectError> {
        let queued = control.is_some() && self.attempts == 0;
        let now = Instant::now();
        let limit = if queued {
            now + settings.max_lane_wait
        } else {
            self.deadline.min(now + settings.max_lane_wait)
        };
        let mut admitted = pin!(lane.admit(pace, limit));
        let admitted = match control {
            None => admitted.await,
            // Most calls are admitted at once: the stop signal is waited on only by a call that
            // waits at its lane.
            Some(control) => match futures_util::poll!(admitted.as_mut()) {
                std::task::Poll::Ready(admitted) => admitted,
                std::task::Poll::Pending => tokio::select! {
                    biased;
                    () = control.stopped() => return Err(self.interrupted(control.reason())),
                    admitted = admitted => admitted,
                },
            },
        };
        let (waited, in_flight) = match admitted {
            Ok(admitted) => admitted,
            // Vendors give resets in whole seconds.
            Err(wait) => {
                return Err(DisconnectError::RateLimited {
                    ctx: self.ctx(),
                    retry_after: Some(Duration::from_secs(wait.as_secs_f64().ceil() as u64)),
                });
            }
        };
        if let Some(control) = control
            && control.is_stopped()
        {
            return Err(self.interrupted(control.reason()));
        }
        if queued {
            self.deadline += waited;
        }
        let now = in_flight.admitted_at();
        if now >= self.deadline {
            return Err(DisconnectError::Timeout {
                ctx: self.ctx(),
                deadline: true,
            });
        }
        self.attempts += 1;
        Ok((in_flight, settings.attempt_timeout.min(self.deadline - now)))
    }

    /// One attempt within `budget`; the lane learns the vendor's rate-limit headers.
    async fn attempt(
        &mut self,
        adapter: &impl Adapter,
        lane: &Lane,
        in_flight: InFlight<'_>,
        budget: Duration,
    ) -> Classified {
        let span = attempt_span(self.attempts, adapter, self.target);
        let key = self.keys.as_ref().map(Keys::current);
        // The attempt future (kilobytes: the generated client's request in flight) is polled
        // where it stands, beside its deadline: wrapping it in `Timeout` or a `Box` would copy
        // it, and boxing it costs an allocation outside the allocator's small-size caches.
        // Both are dropped at the block's end, before the lane's slot is given back.
        let answer = {
            let mut attempt = pin!(adapter.attempt(self.target, key.as_deref()));
            let mut deadline = pin!(tokio::time::sleep_until(in_flight.admitted_at() + budget));
            std::future::poll_fn(|cx| {
                // Entering a span costs, also when nothing listens: only an enabled one is entered.
                let polled = if span.is_disabled() {
                    attempt.as_mut().poll(cx)
                } else {
                    let _entered = span.enter();
                    attempt.as_mut().poll(cx)
                };
                if polled.is_ready() {
                    return polled;
                }
                deadline
                    .as_mut()
                    .poll(cx)
                    .map(|()| Classified::failed(None, None, AttemptFailure::Timeout))
            })
            .await
        };
        if let Some(info) = answer.rate {
            lane.observe(info);
        }
        drop(in_flight);
        self.observe(&answer, &span);
        answer
    }

    /// The call's result if the answer settles it, else the failure and its HTTP status. An
    /// answer lost (the request may have acted) puts the call in doubt; in doubt, the vendor's
    /// "gone" answer is the lost request's doing ([`Call::done`]).
    fn settle(
        &mut self,
        answer: Classified,
        settings: &Settings,
    ) -> Result<Receipt, (AttemptFailure, Option<u16>)> {
        let Classified {
            http_status,
            request_id,
            outcome,
            ..
        } = answer;
        match outcome {
            Ok((status, record)) => {
                Ok(self.done(status, record, http_status.unwrap_or(200), request_id))
            }
            // An answer that means gone: "not found" when asked, or the vendor's "gone" after a
            // lost answer (Leen's 404).
            Err(failure)
                if (settings.not_found_is_gone
                    && matches!(
                        failure,
                        AttemptFailure::NotFound(_) | AttemptFailure::Gone(_)
                    ))
                    || (self.in_doubt && matches!(failure, AttemptFailure::Gone(_))) =>
            {
                Ok(self.done(
                    DisconnectStatus::AlreadyDisconnected,
                    VendorRecord::None,
                    http_status.unwrap_or(404),
                    request_id,
                ))
            }
            Err(failure) => {
                if matches!(failure, AttemptFailure::Busy(_)) {
                    self.busy_since.get_or_insert_with(Instant::now);
                }
                if failure.answer_lost() {
                    self.in_doubt = true;
                }
                self.last = (http_status, request_id);
                Err((failure, http_status))
            }
        }
    }
}

/// The call's span (built out of line: the macro's code for an enabled span is not on the
/// path of every call).
#[inline(never)]
fn call_span(vendor: crate::Vendor, target: &Target) -> tracing::Span {
    tracing::info_span!("disconnect", %vendor, %target, attempts = tracing::field::Empty, status = tracing::field::Empty, request_id = tracing::field::Empty)
}

/// An attempt's span, out of line as [`call_span`], with the OpenTelemetry HTTP client
/// attribute names (`http.request.method`, `server.address`, `server.port`, `url.full`,
/// `http.response.status_code`; the URL holds ids, never a key) beside `attempt` and `status`.
/// The request's method and URL are worked out only when something listens.
#[inline(never)]
fn attempt_span(attempt: u32, adapter: &impl Adapter, target: &Target) -> tracing::Span {
    use tracing::field::Empty;
    let span = tracing::debug_span!(
        "attempt",
        attempt,
        status = Empty,
        "http.request.method" = Empty,
        "server.address" = Empty,
        "server.port" = Empty,
        "url.full" = Empty,
        "http.response.status_code" = Empty,
    );
    if !span.is_disabled() {
        let plan = adapter.plan(target, None);
        span.record("http.request.method", plan.method);
        if let Ok(url) = reqwest::Url::parse(&plan.url) {
            if let Some(host) = url.host_str() {
                span.record("server.address", host);
            }
            if let Some(port) = url.port_or_known_default() {
                span.record("server.port", port);
            }
        }
        span.record("url.full", plan.url.as_str());
    }
    span
}

/// Run one call to completion: admit at the lane, attempt, settle or apply [`decide`]. In a
/// bulk run, a stop ends a retry's wait at once.
pub(crate) async fn run(
    adapter: &impl Adapter,
    lane: &Lane,
    settings: &Settings,
    target: &Target,
    start: Start<'_>,
) -> Result<Receipt, DisconnectError> {
    let vendor = adapter.vendor();
    let span = call_span(vendor, target);
    let call_span = span.clone();
    let call = async move {
        let Start {
            keys,
            in_doubt,
            pace,
            control,
        } = start;
        let mut call = Call::new(call_span, target, vendor, settings, keys, in_doubt);
        loop {
            let (in_flight, budget) = call.admit(lane, pace, control, settings).await?;
            let answer = call.attempt(adapter, lane, in_flight, budget).await;
            let (failure, http_status) = match call.settle(answer, settings) {
                Ok(done) => return Ok(done),
                Err(failed) => failed,
            };
            let wait = call.after_failure(adapter, lane, settings, failure, http_status, budget)?;
            match control {
                None => tokio::time::sleep(wait).await,
                Some(control) => tokio::select! {
                    biased;
                    () = control.stopped() => return Err(call.interrupted(control.reason())),
                    () = tokio::time::sleep(wait) => {}
                },
            }
        }
    };
    // As for attempts: no span to enter on every poll when nothing listens.
    if span.is_disabled() {
        call.await
    } else {
        call.instrument(span).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::plan::PlannedRequest;
    use crate::{DisconnectStatus, Vendor};

    /// Answers from a script; records when each attempt started and the key it carried. Its
    /// rules: 5xx answers are stored under the key (as Persona does); "busy" is polled every
    /// 2 s for up to `sync_wait` (as Tartan does when asked).
    struct Scripted {
        script: Mutex<VecDeque<Step>>,
        log: Mutex<Vec<(Instant, Option<String>)>>,
        sync_wait: Option<Duration>,
    }

    enum Step {
        Answer(Option<u16>, Result<DisconnectStatus, AttemptFailure>),
        Hang,
    }

    impl Scripted {
        fn new(steps: Vec<Step>) -> Arc<Self> {
            Arc::new(Self {
                script: Mutex::new(steps.into()),
                log: Mutex::new(Vec::new()),
                sync_wait: None,
            })
        }
        fn waiting_for_sync(steps: Vec<Step>, limit: Duration) -> Arc<Self> {
            Arc::new(Self {
                sync_wait: Some(limit),
                ..Arc::into_inner(Self::new(steps)).unwrap()
            })
        }
        fn starts(&self) -> Vec<Instant> {
            self.log.lock().unwrap().iter().map(|(t, _)| *t).collect()
        }
    }

    impl Adapter for Scripted {
        fn vendor(&self) -> Vendor {
            Vendor::Persona
        }
        fn plan(&self, _: &Target, _: Option<&str>) -> PlannedRequest {
            unimplemented!("not used by the engine")
        }
        fn replays_under_key(&self, status: u16) -> bool {
            (500..=599).contains(&status)
        }
        fn busy_retry(&self, busy_for: Duration) -> Option<Duration> {
            let interval = Duration::from_secs(2);
            (busy_for + interval <= self.sync_wait?).then_some(interval)
        }
        fn attempt(
            &self,
            _: &Target,
            key: Option<&str>,
        ) -> impl std::future::Future<Output = Classified> + Send {
            self.log
                .lock()
                .unwrap()
                .push((Instant::now(), key.map(str::to_string)));
            let step = self
                .script
                .lock()
                .unwrap()
                .pop_front()
                .expect("script ran out");
            async move {
                match step {
                    Step::Hang => std::future::pending().await,
                    Step::Answer(status, Ok(done)) => Classified {
                        http_status: status,
                        request_id: Some("req_1".into()),
                        outcome: Ok((done, VendorRecord::None)),
                        rate: None,
                    },
                    Step::Answer(status, Err(f)) => {
                        Classified::failed(status, Some("req_1".into()), f)
                    }
                }
            }
        }
    }

    fn target() -> Target {
        Target::persona("cxn_1").unwrap()
    }

    /// Every classification of a failed attempt, and the decision for it, as a table.
    #[test]
    fn decisions_for_every_classification() {
        let plain = Settings::default();
        let ms = Duration::from_millis;
        let fresh = CallState {
            transient_retries: 0,
            busy_retry: None,
            time_left: Duration::from_secs(30),
            backoff: ms(250),
            replayed: false,
        };
        let spent = CallState {
            transient_retries: plain.max_attempts - 1,
            ..fresh
        };
        let no_time = CallState {
            time_left: ms(100),
            ..fresh
        };
        let polling = CallState {
            busy_retry: Some(Duration::from_secs(2)),
            ..fresh
        };
        let polling_spent = CallState {
            busy_retry: Some(Duration::from_secs(2)),
            ..spent
        };
        let polling_late = CallState {
            busy_retry: Some(Duration::from_secs(2)),
            time_left: Duration::from_secs(1),
            ..fresh
        };
        let replayed = CallState {
            replayed: true,
            ..fresh
        };
        let retry = |wait, transient, next_key, pause_lane| Decision::Retry {
            wait,
            transient,
            next_key,
            pause_lane,
        };
        let stop = Decision::Stop { pause_lane: None };
        let reset = Some(Duration::from_secs(7));
        type Row<'s> = (
            &'static str,
            AttemptFailure,
            Option<u16>,
            CallState,
            &'s Settings,
            Decision,
        );
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            ("transport error", AttemptFailure::Transport("reset".into()), None, fresh, &plain, retry(ms(250), true, false, None)),
            ("attempt timeout", AttemptFailure::Timeout, None, fresh, &plain, retry(ms(250), true, false, None)),
            ("transport, attempts spent", AttemptFailure::Transport("reset".into()), None, spent, &plain, stop),
            ("backoff past the deadline", AttemptFailure::Timeout, None, no_time, &plain, stop),
            ("500 stored under the key", AttemptFailure::Server("boom".into()), Some(500), replayed, &plain, retry(ms(250), true, true, None)),
            ("503 not stored (no key chain)", AttemptFailure::Server("busy".into()), Some(503), fresh, &plain, retry(ms(250), true, false, None)),
            ("408", AttemptFailure::Unexpected("slow".into()), Some(408), fresh, &plain, retry(ms(250), true, false, None)),
            ("501 is not retryable", AttemptFailure::Server("nope".into()), Some(501), fresh, &plain, stop),
            ("an undocumented 418", AttemptFailure::Unexpected("teapot".into()), Some(418), fresh, &plain, stop),
            ("429 with a reset", AttemptFailure::RateLimited(reset), Some(429), fresh, &plain, retry(Duration::ZERO, true, false, reset)),
            ("429 without a reset", AttemptFailure::RateLimited(None), Some(429), fresh, &plain, retry(ms(250), true, false, None)),
            ("429, attempts spent", AttemptFailure::RateLimited(reset), Some(429), spent, &plain, Decision::Stop { pause_lane: reset }),
            ("busy, the adapter stops", AttemptFailure::Busy("sync".into()), Some(400), fresh, &plain, stop),
            ("busy, the adapter polls", AttemptFailure::Busy("sync".into()), Some(400), polling, &plain, retry(ms(2000), false, false, None)),
            ("busy, polls need no attempts left", AttemptFailure::Busy("sync".into()), Some(400), polling_spent, &plain, retry(ms(2000), false, false, None)),
            ("busy, the poll would pass the deadline", AttemptFailure::Busy("sync".into()), Some(400), polling_late, &plain, stop),
            ("401", AttemptFailure::Unauthorized("bad key".into()), Some(401), fresh, &plain, stop),
            ("403", AttemptFailure::Forbidden("no".into()), Some(403), fresh, &plain, stop),
            ("404", AttemptFailure::NotFound("gone?".into()), Some(404), fresh, &plain, stop),
            ("422", AttemptFailure::Invalid(vec!["bad".into()]), Some(422), fresh, &plain, stop),
            ("a redirect", AttemptFailure::Redirected(None), Some(302), fresh, &plain, stop),
            ("an undecodable answer", AttemptFailure::InvalidResponse("html".into()), Some(200), fresh, &plain, stop),
        ];
        for (name, failure, status, state, settings, expected) in table {
            assert_eq!(
                decide(&failure, status, state, settings),
                expected,
                "{name}"
            );
        }
    }

    fn ok() -> Step {
        Step::Answer(Some(200), Ok(DisconnectStatus::Disconnected))
    }

    fn fail(status: u16, f: AttemptFailure) -> Step {
        Step::Answer(Some(status), Err(f))
    }

    async fn call(adapter: &Scripted, settings: &Settings) -> Result<Receipt, DisconnectError> {
        let start = Start {
            keys: Some(Keys::new("idem-1".into())),
            ..Start::default()
        };
        run(adapter, &Lane::default(), settings, &target(), start).await
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_with_jittered_backoff() {
        let adapter = Scripted::new(vec![
            Step::Answer(None, Err(AttemptFailure::Transport("reset".into()))),
            fail(503, AttemptFailure::Server("busy".into())),
            ok(),
        ]);
        let settings = Settings::default();
        let done = call(&adapter, &settings).await.unwrap();
        assert_eq!(
            (done.attempts, done.status),
            (3, DisconnectStatus::Disconnected)
        );
        let starts = adapter.starts();
        assert!(
            starts[1] - starts[0] <= settings.initial_backoff,
            "first wait is at most 200 ms"
        );
        assert!(
            starts[2] - starts[1] <= settings.initial_backoff * 2,
            "second at most 400 ms"
        );
        // The same key after the transport error; a fresh one after the 503, which the vendor
        // may have stored under the first.
        assert_eq!(
            keys_sent(&adapter),
            [Some("idem-1"), Some("idem-1"), Some("idem-1-r1")].map(|k| k.map(String::from))
        );
    }

    fn keys_sent(adapter: &Scripted) -> Vec<Option<String>> {
        adapter
            .log
            .lock()
            .unwrap()
            .iter()
            .map(|(_, k)| k.clone())
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_5xx_moves_on_to_a_fresh_key_and_nothing_else_does() {
        let adapter = Scripted::new(vec![
            fail(500, AttemptFailure::Server("stored".into())),
            Step::Answer(None, Err(AttemptFailure::Transport("reset".into()))),
            fail(503, AttemptFailure::Server("stored too".into())),
        ]);
        let settings = Settings {
            max_attempts: 3,
            ..Settings::default()
        };
        let err = call(&adapter, &settings).await.unwrap_err();
        assert_eq!(
            keys_sent(&adapter),
            [Some("idem-1"), Some("idem-1-r1"), Some("idem-1-r1")].map(|k| k.map(String::from)),
            "a transport error keeps the key: the request may have reached the vendor"
        );
        assert_eq!(
            err.ctx().idempotency_key.as_deref(),
            Some("idem-1-r1"),
            "the key the last request carried is reported"
        );

        let adapter = Scripted::new(vec![
            fail(500, AttemptFailure::Server("stored".into())),
            ok(),
        ]);
        let done = call(&adapter, &Settings::default()).await.unwrap();
        assert_eq!(done.idempotency_key.as_deref(), Some("idem-1-r1"));
    }

    #[test]
    fn a_rerun_continues_the_key_chain() {
        let first = || "k".to_string();
        // After a stored 5xx: the next key.
        assert_eq!(Keys::resume(first(), "k", true).current(), "k-r1");
        assert_eq!(Keys::resume(first(), "k-r3", true).current(), "k-r4");
        // After anything else: the same key, whose stored answer is the one to read.
        assert_eq!(Keys::resume(first(), "k-r3", false).current(), "k-r3");
        assert_eq!(Keys::resume(first(), "k", false).current(), "k");
        // A key of another chain (another operation id) is ignored.
        assert_eq!(Keys::resume(first(), "other-r2", true).current(), "k");
        assert_eq!(Keys::resume(first(), "k-rx", true).current(), "k");
    }

    #[tokio::test(start_paused = true)]
    async fn status_408_is_retried_like_the_other_retryable_statuses() {
        for status in disconnect_client_runtime::RETRYABLE_STATUSES {
            let failure = match status {
                429 => AttemptFailure::RateLimited(None),
                408 => AttemptFailure::Unexpected("HTTP 408: slow".into()),
                _ => AttemptFailure::Server("x".into()),
            };
            let adapter = Scripted::new(vec![fail(*status, failure), ok()]);
            let done = call(&adapter, &Settings::default()).await.unwrap();
            assert_eq!(done.attempts, 2, "{status}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_capped() {
        let adapter = Scripted::new(
            (0..3)
                .map(|_| fail(502, AttemptFailure::Server("bad gateway".into())))
                .collect(),
        );
        let err = call(&adapter, &Settings::default()).await.unwrap_err();
        assert!(matches!(err, DisconnectError::Server { .. }), "{err:?}");
        assert_eq!(
            (err.attempts(), err.http_status(), err.request_id()),
            (3, Some(502), Some("req_1"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn other_statuses_are_never_retried() {
        for (status, failure) in [
            (400, AttemptFailure::Invalid(vec!["bad".into()])),
            (401, AttemptFailure::Unauthorized("no".into())),
            (403, AttemptFailure::Forbidden("no".into())),
            (404, AttemptFailure::NotFound("no".into())),
            (501, AttemptFailure::Server("not implemented".into())),
            (418, AttemptFailure::Unexpected("teapot".into())),
            (
                307,
                AttemptFailure::Redirected(Some("http://elsewhere".into())),
            ),
            (200, AttemptFailure::InvalidResponse("not json".into())),
        ] {
            let adapter = Scripted::new(vec![fail(status, failure)]);
            let err = call(&adapter, &Settings::default()).await.unwrap_err();
            assert_eq!(err.attempts(), 1, "{status}: {err:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_reset_that_fits_is_waited_out() {
        let adapter = Scripted::new(vec![
            fail(
                429,
                AttemptFailure::RateLimited(Some(Duration::from_secs(5))),
            ),
            ok(),
        ]);
        let done = call(&adapter, &Settings::default()).await.unwrap();
        assert_eq!(done.attempts, 2);
        let starts = adapter.starts();
        assert_eq!(starts[1] - starts[0], Duration::from_secs(5));
    }

    /// The deadline holds: a reset that would end past a single call's deadline is not waited
    /// out; the call returns `RateLimited` at once with the vendor's reset, and the lane stays
    /// paused for the calls after it.
    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_reset_past_the_deadline_returns_at_once() {
        let adapter = Scripted::new(vec![
            fail(
                429,
                AttemptFailure::RateLimited(Some(Duration::from_secs(60))),
            ),
            ok(),
        ]);
        let settings = Settings {
            deadline: Duration::from_secs(3),
            ..Settings::default()
        };
        let lane = Lane::default();
        let started = Instant::now();
        let err = run(
            adapter.as_ref(),
            &lane,
            &settings,
            &target(),
            Start::default(),
        )
        .await
        .unwrap_err();
        match err {
            DisconnectError::RateLimited { retry_after, ctx } => {
                assert_eq!(retry_after, Some(Duration::from_secs(60)));
                assert_eq!(ctx.attempts, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(started.elapsed(), Duration::ZERO, "no wait was taken");
        assert_eq!(adapter.starts().len(), 1);

        // A reset that fits the deadline is waited out, and the retry succeeds.
        let fits = Scripted::new(vec![
            fail(
                429,
                AttemptFailure::RateLimited(Some(Duration::from_secs(2))),
            ),
            ok(),
        ]);
        let done = run(
            fits.as_ref(),
            &Lane::default(),
            &settings,
            &target(),
            Start::default(),
        )
        .await
        .unwrap();
        assert_eq!(done.attempts, 2);
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    /// A single call also stops at once when its lane is already paused past its deadline
    /// (another call's 429): the time it would wait there is its own.
    #[tokio::test(start_paused = true)]
    async fn a_single_call_is_charged_for_its_wait_at_the_lane() {
        let lane = Lane::default();
        lane.pause_until(Instant::now() + Duration::from_secs(600));
        let adapter = Scripted::new(vec![ok()]);
        let started = Instant::now();
        let err = run(
            adapter.as_ref(),
            &lane,
            &Settings::default(),
            &target(),
            Start::default(),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, DisconnectError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(600)),
            "{err:?}"
        );
        assert_eq!(started.elapsed(), Duration::ZERO);
        assert!(adapter.starts().is_empty(), "nothing was sent");
    }

    /// In a bulk run, time queued at the lane before the first request is not charged; once the
    /// target's first request is out, its waits are (a reset past the deadline ends it).
    #[tokio::test(start_paused = true)]
    async fn in_a_bulk_run_time_queued_before_the_first_request_is_not_charged() {
        let control = Control::new();
        let lane = Lane::default();
        lane.pause_until(Instant::now() + Duration::from_secs(300));
        let adapter = Scripted::new(vec![
            Step::Answer(None, Err(AttemptFailure::Transport("reset".into()))),
            ok(),
        ]);
        let settings = Settings::default(); // 30 s deadline
        let bulk = || Start {
            control: Some(&control),
            ..Start::default()
        };
        let started = Instant::now();
        let done = run(adapter.as_ref(), &lane, &settings, &target(), bulk())
            .await
            .unwrap();
        assert_eq!(done.attempts, 2, "the retry still fits the call's own 30 s");
        assert!(started.elapsed() >= Duration::from_secs(300));

        let refused_later = Scripted::new(vec![
            fail(
                429,
                AttemptFailure::RateLimited(Some(Duration::from_secs(60))),
            ),
            ok(),
        ]);
        let err = run(refused_later.as_ref(), &lane, &settings, &target(), bulk())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DisconnectError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(60)),
            "{err:?}"
        );
        assert_eq!(refused_later.starts().len(), 1);

        // A queue longer than `max_lane_wait` is not waited either.
        lane.pause_until(Instant::now() + Duration::from_secs(3600));
        let queued = Scripted::new(vec![ok()]);
        let err = run(queued.as_ref(), &lane, &settings, &target(), bulk())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DisconnectError::RateLimited { .. }),
            "{err:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn hanging_attempts_time_out_and_the_deadline_ends_the_call() {
        let adapter = Scripted::new(vec![Step::Hang, Step::Hang, Step::Hang]);
        let settings = Settings {
            deadline: Duration::from_secs(25),
            ..Settings::default()
        };
        let started = Instant::now();
        let err = call(&adapter, &settings).await.unwrap_err();
        assert!(
            matches!(err, DisconnectError::Timeout { deadline: true, .. }),
            "{err:?}"
        );
        assert_eq!(err.attempts(), 3);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(25),
            "the call ends at its deadline"
        );
        let single = Scripted::new(vec![Step::Hang]);
        let one = Settings {
            max_attempts: 1,
            ..Settings::default()
        };
        let err = call(&single, &one).await.unwrap_err();
        assert!(
            matches!(
                err,
                DisconnectError::Timeout {
                    deadline: false,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn busy_is_waited_out_only_when_asked() {
        let busy = || fail(400, AttemptFailure::Busy("sync in progress".into()));
        let adapter = Scripted::new(vec![busy()]);
        let err = call(&adapter, &Settings::default()).await.unwrap_err();
        assert!(
            matches!(err, DisconnectError::Busy { .. }) && err.attempts() == 1,
            "{err:?}"
        );

        let waiting = Settings::default();
        let wait = Duration::from_secs(10);
        let adapter = Scripted::waiting_for_sync(vec![busy(), busy(), busy(), busy(), ok()], wait);
        let done = call(&adapter, &waiting).await.unwrap();
        assert_eq!(
            done.attempts, 5,
            "busy polls do not use up the retry budget"
        );
        let adapter = Scripted::waiting_for_sync((0..6).map(|_| busy()).collect(), wait);
        let err = call(&adapter, &waiting).await.unwrap_err();
        assert!(matches!(err, DisconnectError::Busy { .. }), "{err:?}");
        assert_eq!(err.attempts(), 6, "polled every 2 s for 10 s");
    }

    #[tokio::test(start_paused = true)]
    async fn not_found_can_mean_already_gone() {
        let adapter = Scripted::new(vec![fail(404, AttemptFailure::NotFound("gone".into()))]);
        let settings = Settings {
            not_found_is_gone: true,
            ..Settings::default()
        };
        let done = call(&adapter, &settings).await.unwrap();
        assert_eq!(
            (done.status, done.http_status),
            (DisconnectStatus::AlreadyDisconnected, 404)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_lane_holds_other_calls() {
        let lane = Arc::new(Lane::default());
        let first = Scripted::new(vec![
            fail(
                429,
                AttemptFailure::RateLimited(Some(Duration::from_secs(7))),
            ),
            ok(),
        ]);
        let second = Scripted::new(vec![ok()]);
        let settings = Settings::default();
        let t0 = Instant::now();
        run(
            first.as_ref(),
            &lane,
            &settings,
            &target(),
            Start::default(),
        )
        .await
        .unwrap();
        // A call starting while the lane is paused (here: right after the pause ended) waits.
        lane.pause_until(Instant::now() + Duration::from_secs(3));
        run(
            second.as_ref(),
            &lane,
            &settings,
            &target(),
            Start::default(),
        )
        .await
        .unwrap();
        assert_eq!(first.starts()[1] - t0, Duration::from_secs(7));
        assert_eq!(second.starts()[0] - t0, Duration::from_secs(10));
    }

    #[test]
    fn backoff_is_full_jitter_under_the_cap() {
        let settings = Settings::default();
        for retry in 0..40 {
            let cap =
                (settings.initial_backoff * 2u32.pow(retry.min(20))).min(settings.max_backoff);
            for _ in 0..50 {
                assert!(backoff(&settings, retry) <= cap);
            }
        }
        let spread: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| backoff(&settings, 3)).collect();
        assert!(spread.len() > 10, "the wait is random");
    }
}
