//! A vendor's lane: what every call to one vendor shares. It holds the pause a 429 asks for,
//! the budget the vendor's `RateLimit-*` headers announce, and (in bulk runs) a client-side
//! rate. A request is sent only through [`Lane::admit`], which waits until all three allow it;
//! the call decides how much of that wait its deadline allows ([`crate::Settings::deadline`]).

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use governor::clock::Clock;
use governor::{Quota, RateLimiter};
use reqwest::header::{HeaderMap, HeaderName};
use tokio::time::Instant;

/// A client-side request rate: `requests` per `per` (e.g. 300 per minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per period (at least 1).
    pub requests: NonZeroU32,
    /// The period.
    pub per: Duration,
}

impl Rate {
    /// `requests` per `per`; `None` for zero requests or a zero period.
    pub fn new(requests: u32, per: Duration) -> Option<Self> {
        let requests = NonZeroU32::new(requests)?;
        (!per.is_zero()).then_some(Self { requests, per })
    }

    /// Requests per minute, for display.
    pub fn per_minute(&self) -> f64 {
        f64::from(self.requests.get()) * 60.0 / self.per.as_secs_f64()
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 if self.per.subsec_nanos() == 0 => "s".to_string(),
            60 if self.per.subsec_nanos() == 0 => "min".to_string(),
            3600 if self.per.subsec_nanos() == 0 => "h".to_string(),
            _ => humantime::format_duration(self.per).to_string(),
        };
        write!(f, "{}/{unit}", self.requests)
    }
}

impl std::str::FromStr for Rate {
    type Err = String;

    /// `N/s`, `N/min`, `N/h`, or `N/<duration>` (`300/min`, `50/10s`).
    fn from_str(text: &str) -> Result<Self, String> {
        let (n, per) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}`: expected N/PERIOD, e.g. 300/min or 50/10s"))?;
        let requests: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a number of requests"))?;
        let per = match per.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => humantime::parse_duration(other)
                .map_err(|_| format!("`{other}` is not a period such as s, min, h or 10s"))?,
        };
        Rate::new(requests, per).ok_or_else(|| format!("`{text}`: the rate must be above zero"))
    }
}

/// governor's clock on tokio's time, so that pacing follows tokio's paused clock in tests.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;
    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }
}

/// A client-side rate limiter (GCRA, from `governor`), one request at a time: requests are
/// spaced `per / requests` apart, so no window of the vendor's ever sees more than its limit.
pub(crate) struct Pace {
    rate: Rate,
    limiter: RateLimiter<
        governor::state::NotKeyed,
        governor::state::InMemoryState,
        TokioClock,
        governor::middleware::NoOpMiddleware<std::time::Instant>,
    >,
}

impl std::fmt::Debug for Pace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pace").field("rate", &self.rate).finish()
    }
}

impl Pace {
    pub(crate) fn new(rate: Rate) -> Self {
        let period = rate.per / rate.requests.get();
        let quota =
            Quota::with_period(period.max(Duration::from_nanos(1))).expect("a non-zero period");
        Self {
            rate,
            limiter: RateLimiter::direct_with_clock(quota, TokioClock),
        }
    }

    pub(crate) fn rate(&self) -> Rate {
        self.rate
    }

    /// `None` when a request may go now (and counts it), else how long to wait.
    fn check(&self) -> Option<Duration> {
        match self.limiter.check() {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(TokioClock.now())),
        }
    }
}

/// What a vendor's `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateInfo {
    pub(crate) limit: Option<u32>,
    pub(crate) remaining: u32,
    pub(crate) reset: Duration,
}

impl RateInfo {
    /// Read from headers; `None` unless both `RateLimit-Remaining` and `RateLimit-Reset` parse.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        // Names built once, and the header every such answer has looked up first: an answer
        // without rate-limit headers (most vendors' every answer) costs one lookup.
        static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
        static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
        static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
        let number = |name: &HeaderName| -> Option<u64> {
            headers.get(name)?.to_str().ok()?.trim().parse().ok()
        };
        let remaining = u32::try_from(number(&REMAINING)?).unwrap_or(u32::MAX);
        Some(Self {
            limit: number(&LIMIT).and_then(|n| u32::try_from(n).ok()),
            remaining,
            reset: Duration::from_secs(number(&RESET)?),
        })
    }
}

/// Why a lane holds a request back, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Nothing: requests go as they come.
    None,
    /// Paused by a 429 until then.
    Paused(SystemTime),
    /// The vendor's announced budget for this window is spent; it resets then.
    BudgetSpent(SystemTime),
}

#[derive(Debug, Default)]
struct State {
    paused_until: Option<Instant>,
    /// Requests left and when the window resets, from the last answer that said.
    budget: Option<(u32, Instant)>,
    /// The vendor's announced limit per window.
    limit: Option<u32>,
    /// The window's length, as far as answers showed it: the longest reset announced (a
    /// window's first answer announces nearly all of it).
    window: Option<Duration>,
    in_flight: u32,
}

/// Per-vendor state shared by all calls of a `Disconnector`.
#[derive(Debug, Default)]
pub(crate) struct Lane {
    state: Mutex<State>,
}

/// Counts a request as in flight until dropped.
pub(crate) struct InFlight<'a>(&'a Lane, Instant);

impl InFlight<'_> {
    /// When the lane admitted the attempt.
    pub(crate) fn admitted_at(&self) -> Instant {
        self.1
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

fn wall(at: Instant) -> SystemTime {
    let now = Instant::now();
    if at >= now {
        SystemTime::now() + (at - now)
    } else {
        SystemTime::now() - (now - at)
    }
}

impl Lane {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pause every call until `until` (a 429's reset).
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut state = self.lock();
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
    }

    /// Learn from an answer's `RateLimit-*` headers.
    pub(crate) fn observe(&self, info: RateInfo) {
        let now = Instant::now();
        let reset_at = now + info.reset;
        let mut state = self.lock();
        if info.limit.is_some() {
            state.limit = info.limit;
        }
        state.window = Some(state.window.map_or(info.reset, |w| w.max(info.reset)));
        state.budget = Some(match state.budget {
            // The same window (answers may arrive out of order): the lowest count is the latest.
            Some((left, at))
                if at > now && at.max(reset_at) - at.min(reset_at) <= Duration::from_secs(1) =>
            {
                (left.min(info.remaining), at.max(reset_at))
            }
            _ => (info.remaining, reset_at),
        });
    }

    /// What holds requests back now.
    pub(crate) fn hold(&self) -> Hold {
        let now = Instant::now();
        let state = self.lock();
        if let Some(until) = state.paused_until.filter(|u| *u > now) {
            return Hold::Paused(wall(until));
        }
        match state.budget {
            Some((left, at)) if at > now && left <= state.in_flight => Hold::BudgetSpent(wall(at)),
            _ => Hold::None,
        }
    }

    /// Requests admitted and not finished (sending, or waiting for their answer).
    pub(crate) fn sending(&self) -> u32 {
        self.lock().in_flight
    }

    /// The vendor's announced limit per window, once an answer said it.
    pub(crate) fn announced_limit(&self) -> Option<u32> {
        self.lock().limit
    }

    /// The window's length as far as the answers' resets showed it.
    pub(crate) fn window(&self) -> Option<Duration> {
        self.lock().window
    }

    /// Wait until a request may be sent: no pause, budget left (never more requests in flight
    /// than the vendor said remain in its window), and `pace` ready. Returns how long it waited
    /// and the in-flight guard to hold while the request runs, or, without waiting, the wait a
    /// pause or window asks for when it would end after `limit`.
    pub(crate) async fn admit(
        &self,
        pace: Option<&Pace>,
        limit: Instant,
    ) -> Result<(Duration, InFlight<'_>), Duration> {
        let started = Instant::now();
        let mut now = started;
        loop {
            let wait = {
                let mut state = self.lock();
                if let Some(until) = state.paused_until.filter(|u| *u > now) {
                    if until > limit {
                        return Err(until - now);
                    }
                    Some(until - now)
                } else if let Some((left, at)) = state.budget.filter(|(_, at)| *at > now)
                    && left <= state.in_flight
                {
                    if at > limit {
                        return Err(at - now);
                    }
                    Some(at - now)
                } else {
                    if state.budget.is_some_and(|(_, at)| at <= now) {
                        state.budget = None; // a new window: unknown until an answer says
                    }
                    match pace.and_then(Pace::check) {
                        Some(wait) => Some(wait),
                        None => {
                            state.in_flight += 1;
                            None
                        }
                    }
                }
            };
            match wait {
                Some(wait) => {
                    tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
                    now = Instant::now();
                }
                None => return Ok((now - started, InFlight(self, now))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOREVER: Duration = Duration::from_secs(86_400);

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn rates_parse_and_print() {
        let r: Rate = "300/min".parse().unwrap();
        assert_eq!((r.requests.get(), r.per), (300, Duration::from_secs(60)));
        assert_eq!(r.to_string(), "300/min");
        assert_eq!(r.per_minute(), 300.0);
        let r: Rate = "50/10s".parse().unwrap();
        assert_eq!(r.per, Duration::from_secs(10));
        assert_eq!(r.per_minute(), 300.0);
        for bad in ["", "300", "0/min", "x/min", "5/fortnight", "5/0s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rate_headers_are_read() {
        let info = RateInfo::from_headers(&headers(&[
            ("ratelimit-limit", "300"),
            ("ratelimit-remaining", "12"),
            ("ratelimit-reset", "41"),
        ]))
        .unwrap();
        assert_eq!(
            info,
            RateInfo {
                limit: Some(300),
                remaining: 12,
                reset: Duration::from_secs(41)
            }
        );
        assert_eq!(
            RateInfo::from_headers(&headers(&[("ratelimit-remaining", "1")])),
            None
        );
        assert_eq!(
            RateInfo::from_headers(&headers(&[
                ("ratelimit-remaining", "x"),
                ("ratelimit-reset", "1")
            ])),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_budget_holds_requests_until_the_window_resets() {
        let lane = Lane::default();
        let (waited, first) = lane.admit(None, Instant::now() + FOREVER).await.unwrap();
        assert_eq!(waited, Duration::ZERO);
        lane.observe(RateInfo {
            limit: Some(2),
            remaining: 1,
            reset: Duration::from_secs(10),
        });
        // One request left, one in flight: the next waits for the reset.
        assert!(matches!(lane.hold(), Hold::BudgetSpent(_)));
        drop(first);
        let (waited, second) = lane.admit(None, Instant::now() + FOREVER).await.unwrap();
        assert_eq!(waited, Duration::ZERO, "one left and nothing in flight");
        lane.observe(RateInfo {
            limit: Some(2),
            remaining: 0,
            reset: Duration::from_secs(10),
        });
        drop(second);
        let (waited, _third) = lane.admit(None, Instant::now() + FOREVER).await.unwrap();
        assert_eq!(waited, Duration::from_secs(10), "waits out the window");
        assert_eq!(lane.announced_limit(), Some(2));
        assert_eq!(
            lane.window(),
            Some(Duration::from_secs(10)),
            "the longest reset seen"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_every_request() {
        let lane = Lane::default();
        lane.pause_until(Instant::now() + Duration::from_secs(7));
        lane.pause_until(Instant::now() + Duration::from_secs(3)); // an earlier end never shortens
        assert!(matches!(lane.hold(), Hold::Paused(_)));
        assert_eq!(
            lane.admit(None, Instant::now() + Duration::from_secs(5))
                .await
                .err(),
            Some(Duration::from_secs(7)),
            "a pause longer than the caller accepts is refused at once"
        );
        let (waited, _g) = lane.admit(None, Instant::now() + FOREVER).await.unwrap();
        assert_eq!(waited, Duration::from_secs(7));
        assert_eq!(lane.hold(), Hold::None);
    }

    #[tokio::test(start_paused = true)]
    async fn pace_spaces_requests() {
        let lane = Lane::default();
        let pace = Pace::new("6/min".parse().unwrap());
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..4 {
            let (_, guard) = lane
                .admit(Some(&pace), Instant::now() + FOREVER)
                .await
                .unwrap();
            starts.push(Instant::now() - t0);
            drop(guard);
        }
        assert_eq!(
            starts,
            [0, 10, 20, 30].map(Duration::from_secs),
            "one request every 10 s"
        );
    }
}
