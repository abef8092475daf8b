//! One call: attempts, retries with full-jitter backoff, the deadline, rate-limit lanes and
//! waiting out Tartan syncs.
//!
//! Every attempt goes through its vendor's [`Lane`] first. The time spent waiting there (a
//! 429's pause, a spent `RateLimit` budget, client-side pacing) is the lane's, not the call's:
//! it is added to the call's deadline, so a call fails only for what happens to its own
//! attempts, never because other calls were ahead of it.

use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use disconnect_client_runtime::is_retryable_status;

use crate::adapter::{Adapter, Answer, Failure};
use crate::error::{DisconnectError, ErrorContext};
use crate::lane::{Lane, Pace};
use crate::outcome::{DisconnectStatus, Disconnected, VendorRecord};
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

/// Whether the vendor stores an answer with this status under its idempotency key so that a
/// retry with the same key would only replay it: any 5xx (Persona stores 5xx; 401 and 429 run
/// before its idempotency layer and are not stored).
fn stored_under_key(status: u16) -> bool {
    (500..=599).contains(&status)
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

    /// Continue the chain after `previous`, the key an earlier run of the same call used last,
    /// when that run's last answer was `status`: a 5xx is stored under `previous`, so the next
    /// key; otherwise `previous` itself (its stored answer, if any, is the one to read). A key
    /// not from this chain (another operation id) is ignored.
    pub(crate) fn resume(first: String, previous: &str, status: Option<u16>) -> Self {
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
        let stored_5xx = status.is_some_and(stored_under_key);
        Self {
            first,
            rotation: rotation + u32::from(stored_5xx),
        }
    }

    /// The key to send now.
    pub(crate) fn current(&self) -> String {
        match self.rotation {
            0 => self.first.clone(),
            n => format!("{}-r{n}", self.first),
        }
    }

    fn rotate(&mut self) {
        self.rotation += 1;
    }
}

/// Run one call to completion.
pub(crate) async fn run(
    adapter: &dyn Adapter,
    lane: &Lane,
    pace: Option<&Pace>,
    settings: &Settings,
    target: &Target,
    mut keys: Option<Keys>,
) -> Result<Disconnected, DisconnectError> {
    let vendor = adapter.vendor();
    let span = tracing::info_span!("disconnect", %vendor, %target, attempts = tracing::field::Empty, status = tracing::field::Empty, request_id = tracing::field::Empty);
    async move {
        let started = Instant::now();
        let mut deadline = started + settings.deadline;
        let mut attempts = 0u32;
        let mut transient_retries = 0u32;
        let mut busy_since: Option<Instant> = None;
        let mut last: (Option<u16>, Option<String>) = (None, None);
        let mut key = keys.as_ref().map(Keys::current);
        let ctx = |attempts: u32, last: &(Option<u16>, Option<String>), key: &Option<String>| {
            Box::new(ErrorContext {
                vendor,
                target: target.clone(),
                http_status: last.0,
                request_id: last.1.clone(),
                attempts,
                idempotency_key: key.clone(),
            })
        };

        loop {
            // The lane admits the attempt: a 429's pause, the vendor's announced budget and the
            // client-side pace. Waiting there is not charged to this call.
            let (waited, in_flight) = match lane.admit(pace, settings.max_lane_wait).await {
                Ok(admitted) => admitted,
                Err(wait) => {
                    tracing::Span::current().record("attempts", attempts);
                    return Err(DisconnectError::RateLimited {
                        ctx: ctx(attempts, &last, &key),
                        // Vendors give resets in whole seconds.
                        retry_after: Some(Duration::from_secs(wait.as_secs_f64().ceil() as u64)),
                    });
                }
            };
            if !waited.is_zero() {
                tracing::debug!(wait_ms = waited.as_millis() as u64, "waited for the lane");
                deadline += waited;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DisconnectError::Timeout {
                    ctx: ctx(attempts, &last, &key),
                    deadline: true,
                });
            }
            attempts += 1;
            let budget = settings.attempt_timeout.min(deadline - now);
            let cut_by_deadline = budget < settings.attempt_timeout;
            let attempt_span = tracing::debug_span!(
                "attempt",
                attempt = attempts,
                status = tracing::field::Empty
            );
            let answer = match tokio::time::timeout(
                budget,
                adapter
                    .attempt(target, key.as_deref())
                    .instrument(attempt_span.clone()),
            )
            .await
            {
                Ok(answer) => answer,
                Err(_) => Answer::failed(None, None, Failure::Timeout),
            };
            if let Some(info) = answer.rate {
                lane.observe(info);
            }
            drop(in_flight);
            if let Some(status) = answer.http_status {
                attempt_span.record("status", status);
            }
            last = (answer.http_status, answer.request_id.clone());
            let span = tracing::Span::current();
            span.record("attempts", attempts);
            if let Some(status) = answer.http_status {
                span.record("status", status);
            }
            if let Some(id) = &answer.request_id {
                span.record("request_id", id.as_str());
            }

            let failure = match answer.outcome {
                Ok((status, record)) => {
                    tracing::info!(?status, "done");
                    return Ok(Disconnected {
                        vendor,
                        target: target.clone(),
                        status,
                        http_status: answer.http_status.unwrap_or(200),
                        request_id: answer.request_id,
                        attempts,
                        elapsed: started.elapsed(),
                        record,
                        idempotency_key: key,
                    });
                }
                Err(Failure::NotFound(_)) if settings.not_found_is_gone => {
                    tracing::info!("not found, taken as already disconnected");
                    return Ok(Disconnected {
                        vendor,
                        target: target.clone(),
                        status: DisconnectStatus::AlreadyDisconnected,
                        http_status: answer.http_status.unwrap_or(404),
                        request_id: answer.request_id,
                        attempts,
                        elapsed: started.elapsed(),
                        record: VendorRecord::None,
                        idempotency_key: key,
                    });
                }
                Err(failure) => failure,
            };

            // What to wait before the next attempt, if one is allowed.
            let wait = match &failure {
                Failure::Transport(_) | Failure::Timeout => (transient_retries + 1
                    < settings.max_attempts)
                    .then(|| backoff(settings, transient_retries)),
                Failure::Server(_) | Failure::Unexpected(_)
                    if answer.http_status.is_some_and(is_retryable_status) =>
                {
                    (transient_retries + 1 < settings.max_attempts)
                        .then(|| backoff(settings, transient_retries))
                }
                // With a reset the whole lane pauses and the retry waits for it at the lane (not
                // charged); without one, a backoff of this call's own.
                Failure::RateLimited(reset) => {
                    if let Some(reset) = reset {
                        lane.pause_until(Instant::now() + *reset);
                    }
                    (transient_retries + 1 < settings.max_attempts).then(|| match reset {
                        Some(_) => Duration::ZERO,
                        None => backoff(settings, transient_retries),
                    })
                }
                Failure::Busy(_) => settings.wait_for_sync.and_then(|limit| {
                    let since = *busy_since.get_or_insert_with(Instant::now);
                    (since.elapsed() + settings.sync_poll_interval <= limit)
                        .then_some(settings.sync_poll_interval)
                }),
                _ => None,
            };
            match wait {
                Some(wait) if Instant::now() + wait <= deadline => {
                    if !matches!(failure, Failure::Busy(_)) {
                        transient_retries += 1;
                    }
                    // The vendor stored this 5xx under the key: ask again under a new one.
                    if answer.http_status.is_some_and(stored_under_key)
                        && let Some(chain) = keys.as_mut()
                    {
                        chain.rotate();
                        key = Some(chain.current());
                    }
                    tracing::debug!(?failure, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
                _ => {
                    let ctx = ctx(attempts, &last, &key);
                    tracing::info!(?failure, "failed");
                    return Err(match failure {
                        Failure::Unauthorized(message) => {
                            DisconnectError::Unauthorized { ctx, message }
                        }
                        Failure::Forbidden(message) => DisconnectError::Forbidden { ctx, message },
                        Failure::NotFound(message) => DisconnectError::NotFound { ctx, message },
                        Failure::Busy(message) => DisconnectError::Busy { ctx, message },
                        Failure::Invalid(problems) => DisconnectError::Invalid { ctx, problems },
                        Failure::RateLimited(retry_after) => {
                            DisconnectError::RateLimited { ctx, retry_after }
                        }
                        Failure::Server(message) => DisconnectError::Server { ctx, message },
                        Failure::Unexpected(body) => DisconnectError::Unexpected { ctx, body },
                        Failure::Redirected(location) => {
                            DisconnectError::Redirected { ctx, location }
                        }
                        Failure::Transport(message) => DisconnectError::Transport { ctx, message },
                        Failure::Timeout => DisconnectError::Timeout {
                            ctx,
                            deadline: cut_by_deadline,
                        },
                        Failure::InvalidResponse(message) => {
                            DisconnectError::InvalidResponse { ctx, message }
                        }
                    });
                }
            }
        }
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::adapter::BoxFuture;
    use crate::plan::PlannedRequest;
    use crate::{DisconnectStatus, Vendor};

    /// Answers from a script; records when each attempt started and the key it carried.
    struct Scripted {
        script: Mutex<VecDeque<Step>>,
        log: Mutex<Vec<(Instant, Option<String>)>>,
    }

    enum Step {
        Answer(Option<u16>, Result<DisconnectStatus, Failure>),
        Hang,
    }

    impl Scripted {
        fn new(steps: Vec<Step>) -> Arc<Self> {
            Arc::new(Self {
                script: Mutex::new(steps.into()),
                log: Mutex::new(Vec::new()),
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
        fn attempt<'a>(&'a self, _: &'a Target, key: Option<&'a str>) -> BoxFuture<'a, Answer> {
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
            Box::pin(async move {
                match step {
                    Step::Hang => std::future::pending().await,
                    Step::Answer(status, Ok(done)) => Answer {
                        http_status: status,
                        request_id: Some("req_1".into()),
                        outcome: Ok((done, VendorRecord::None)),
                        rate: None,
                    },
                    Step::Answer(status, Err(f)) => Answer::failed(status, Some("req_1".into()), f),
                }
            })
        }
    }

    fn target() -> Target {
        Target::persona("cxn_1").unwrap()
    }

    fn ok() -> Step {
        Step::Answer(Some(200), Ok(DisconnectStatus::Disconnected))
    }

    fn fail(status: u16, f: Failure) -> Step {
        Step::Answer(Some(status), Err(f))
    }

    async fn call(
        adapter: &Scripted,
        settings: &Settings,
    ) -> Result<Disconnected, DisconnectError> {
        run(
            adapter,
            &Lane::default(),
            None,
            settings,
            &target(),
            Some(Keys::new("idem-1".into())),
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_with_jittered_backoff() {
        let adapter = Scripted::new(vec![
            Step::Answer(None, Err(Failure::Transport("reset".into()))),
            fail(503, Failure::Server("busy".into())),
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
            fail(500, Failure::Server("stored".into())),
            Step::Answer(None, Err(Failure::Transport("reset".into()))),
            fail(503, Failure::Server("stored too".into())),
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

        let adapter = Scripted::new(vec![fail(500, Failure::Server("stored".into())), ok()]);
        let done = call(&adapter, &Settings::default()).await.unwrap();
        assert_eq!(done.idempotency_key.as_deref(), Some("idem-1-r1"));
    }

    #[test]
    fn a_rerun_continues_the_key_chain() {
        let first = || "k".to_string();
        // After a stored 5xx: the next key.
        assert_eq!(Keys::resume(first(), "k", Some(500)).current(), "k-r1");
        assert_eq!(Keys::resume(first(), "k-r3", Some(502)).current(), "k-r4");
        // After anything else: the same key, whose stored answer is the one to read.
        assert_eq!(Keys::resume(first(), "k-r3", Some(200)).current(), "k-r3");
        assert_eq!(Keys::resume(first(), "k", None).current(), "k");
        // A key of another chain (another operation id) is ignored.
        assert_eq!(Keys::resume(first(), "other-r2", Some(500)).current(), "k");
        assert_eq!(Keys::resume(first(), "k-rx", Some(500)).current(), "k");
    }

    #[tokio::test(start_paused = true)]
    async fn status_408_is_retried_like_the_other_retryable_statuses() {
        for status in disconnect_client_runtime::RETRYABLE_STATUSES {
            let failure = match status {
                429 => Failure::RateLimited(None),
                408 => Failure::Unexpected("HTTP 408: slow".into()),
                _ => Failure::Server("x".into()),
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
                .map(|_| fail(502, Failure::Server("bad gateway".into())))
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
            (400, Failure::Invalid(vec!["bad".into()])),
            (401, Failure::Unauthorized("no".into())),
            (403, Failure::Forbidden("no".into())),
            (404, Failure::NotFound("no".into())),
            (501, Failure::Server("not implemented".into())),
            (418, Failure::Unexpected("teapot".into())),
            (307, Failure::Redirected(Some("http://elsewhere".into()))),
            (200, Failure::InvalidResponse("not json".into())),
        ] {
            let adapter = Scripted::new(vec![fail(status, failure)]);
            let err = call(&adapter, &Settings::default()).await.unwrap_err();
            assert_eq!(err.attempts(), 1, "{status}: {err:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_reset_that_fits_is_waited_out() {
        let adapter = Scripted::new(vec![
            fail(429, Failure::RateLimited(Some(Duration::from_secs(5)))),
            ok(),
        ]);
        let done = call(&adapter, &Settings::default()).await.unwrap();
        assert_eq!(done.attempts, 2);
        let starts = adapter.starts();
        assert_eq!(starts[1] - starts[0], Duration::from_secs(5));
    }

    /// Waiting is not failing: a reset longer than the call's deadline is waited out at the
    /// lane (not charged), and the call fails `rate_limited` only when the vendor keeps refusing.
    #[tokio::test(start_paused = true)]
    async fn a_rate_limit_reset_past_the_deadline_is_waited_out_not_charged() {
        let adapter = Scripted::new(vec![
            fail(429, Failure::RateLimited(Some(Duration::from_secs(120)))),
            ok(),
        ]);
        let settings = Settings::default();
        assert!(settings.deadline < Duration::from_secs(120));
        let started = Instant::now();
        let done = call(&adapter, &settings).await.unwrap();
        assert_eq!(done.attempts, 2);
        assert_eq!(started.elapsed(), Duration::from_secs(120));

        let refusing = Scripted::new(
            (0..3)
                .map(|_| fail(429, Failure::RateLimited(Some(Duration::from_secs(60)))))
                .collect(),
        );
        match call(&refusing, &settings).await.unwrap_err() {
            DisconnectError::RateLimited { retry_after, ctx } => {
                assert_eq!(retry_after, Some(Duration::from_secs(60)));
                assert_eq!(ctx.attempts, 3, "refused on every attempt");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Time spent queued at the lane before the first attempt is not charged either.
    #[tokio::test(start_paused = true)]
    async fn time_queued_at_the_lane_is_not_charged() {
        let lane = Lane::default();
        lane.pause_until(Instant::now() + Duration::from_secs(600));
        let adapter = Scripted::new(vec![
            Step::Answer(None, Err(Failure::Transport("reset".into()))),
            ok(),
        ]);
        let settings = Settings::default(); // 30 s deadline
        let done = run(adapter.as_ref(), &lane, None, &settings, &target(), None)
            .await
            .unwrap();
        assert_eq!(done.attempts, 2, "the retry still fits the call's own 30 s");
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
        let busy = || fail(400, Failure::Busy("sync in progress".into()));
        let adapter = Scripted::new(vec![busy()]);
        let err = call(&adapter, &Settings::default()).await.unwrap_err();
        assert!(
            matches!(err, DisconnectError::Busy { .. }) && err.attempts() == 1,
            "{err:?}"
        );

        let waiting = Settings {
            wait_for_sync: Some(Duration::from_secs(10)),
            ..Settings::default()
        };
        let adapter = Scripted::new(vec![busy(), busy(), busy(), busy(), ok()]);
        let done = call(&adapter, &waiting).await.unwrap();
        assert_eq!(
            done.attempts, 5,
            "busy polls do not use up the retry budget"
        );
        let adapter = Scripted::new((0..6).map(|_| busy()).collect());
        let err = call(&adapter, &waiting).await.unwrap_err();
        assert!(matches!(err, DisconnectError::Busy { .. }), "{err:?}");
        assert_eq!(err.attempts(), 6, "polled every 2 s for 10 s");
    }

    #[tokio::test(start_paused = true)]
    async fn not_found_can_mean_already_gone() {
        let adapter = Scripted::new(vec![fail(404, Failure::NotFound("gone".into()))]);
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
            fail(429, Failure::RateLimited(Some(Duration::from_secs(7)))),
            ok(),
        ]);
        let second = Scripted::new(vec![ok()]);
        let settings = Settings::default();
        let t0 = Instant::now();
        run(first.as_ref(), &lane, None, &settings, &target(), None)
            .await
            .unwrap();
        // A call starting while the lane is paused (here: right after the pause ended) waits.
        lane.pause_until(Instant::now() + Duration::from_secs(3));
        run(second.as_ref(), &lane, None, &settings, &target(), None)
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
