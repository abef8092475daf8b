//! `disconnect-bench`: measurements for `cargo xtask bench`, printed as one JSON document.
//!
//! Everything runs against a canned loopback server that answers each vendor's success body
//! without state, so that the client, not the server, is measured. Variants are interleaved
//! round by round and reported as medians, with ratios computed within this one run.
//!
//! Usage: `disconnect-bench <path to the disconnect CLI binary> [lanes|calls|loop ...]`
//! (`lanes`: only the bulk lanes' benchmarks; `calls`: only the single-call and bulk overhead;
//! `loop <vendor> <raw|generated|facade> <n>`: n calls of one variant, for callgrind).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use disconnect::{
    BulkOptions, Disconnector, Intent, PlannedRequest, REDACTED, Target, Vendor, WriteAhead,
};
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

const KEY: &str = "bench-key";

const SINGLE_CALLS: usize = 1500;
const ROUNDS: usize = 31;
const BULK_TARGETS: usize = 10_000;
const BULK_ROUNDS: usize = 15;
const BULK_CONCURRENCY: usize = 64;

/// A canned answer: status, headers and body bytes.
type Canned = (u16, Vec<(&'static str, String)>, Bytes);

/// Each vendor's success answer, as its fake sends it.
fn canned(vendor: Vendor) -> Canned {
    let reply = disconnect_fakes::success_example(vendor);
    (
        reply.status.as_u16(),
        reply.headers,
        Bytes::from(reply.body.to_string()),
    )
}

/// A stateless server answering every vendor path with the vendor's canned success answer.
async fn canned_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answers: Arc<Vec<(&'static str, Canned)>> = Arc::new(
        Vendor::ALL
            .into_iter()
            .map(|v| (v.facts().fake_prefix, canned(v)))
            .collect(),
    );
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let answers = answers.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let answers = answers.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let _ = req.into_body().collect().await; // read the request like a server would
                            let mut response =
                                match answers.iter().find(|(prefix, _)| path.starts_with(prefix)) {
                                    Some((_, (status, headers, body))) => {
                                        let mut r = hyper::Response::new(Full::new(body.clone()));
                                        *r.status_mut() =
                                            hyper::StatusCode::from_u16(*status).unwrap();
                                        for (name, value) in headers {
                                            r.headers_mut().insert(*name, value.parse().unwrap());
                                        }
                                        r
                                    }
                                    None => {
                                        let mut r = hyper::Response::new(Full::new(Bytes::new()));
                                        *r.status_mut() = hyper::StatusCode::NOT_FOUND;
                                        r
                                    }
                                };
                            response
                                .headers_mut()
                                .insert("content-type", "application/json".parse().unwrap());
                            Ok::<_, Infallible>(response)
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// The canned server serves each vendor under the fakes' prefix.
fn base(addr: SocketAddr, vendor: Vendor) -> String {
    format!("http://{addr}{}", vendor.facts().fake_prefix)
}

/// The `n`th sample target of a vendor.
fn sample(vendor: Vendor, n: u64) -> Target {
    format!("{}:{}", vendor.id(), disconnect_fakes::sample_id(vendor, n))
        .parse()
        .unwrap()
}

fn target(vendor: Vendor) -> Target {
    sample(vendor, 0)
}

fn disconnector(addr: SocketAddr) -> Disconnector {
    let mut b = Disconnector::builder();
    for v in Vendor::ALL {
        b = b.api_key(v, KEY).base_url(v, base(addr, v));
    }
    b.build().unwrap()
}

/// One request per vendor written out once, identical on the wire to what the clients send:
/// the facade's own plan of the request, with the key in place of [`REDACTED`].
struct Raw {
    http: reqwest::Client,
    requests: std::collections::BTreeMap<Vendor, PlannedRequest>,
}

impl Raw {
    fn new(facade: &Disconnector) -> Self {
        Self {
            http: reqwest::Client::new(),
            requests: Vendor::ALL
                .into_iter()
                .map(|v| (v, facade.plan(&target(v)).unwrap()))
                .collect(),
        }
    }

    async fn call(&self, vendor: Vendor) {
        let plan = &self.requests[&vendor];
        let method = reqwest::Method::from_bytes(plan.method.as_bytes()).unwrap();
        let mut request = self.http.request(method, &plan.url);
        for (name, value) in &plan.headers {
            if !plan.multipart.is_empty() && name == "content-type" {
                continue; // reqwest writes it, with its boundary
            }
            request = request.header(name, value.replace(REDACTED, KEY));
        }
        if !plan.multipart.is_empty() {
            let mut form = reqwest::multipart::Form::new();
            for (name, value) in &plan.multipart {
                form = form.text(name.clone(), value.clone());
            }
            request = request.multipart(form);
        }
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        let _: Value = response.json().await.unwrap();
    }
}

/// The generated client through its vendor's adapter: one attempt, without the engine.
async fn generated(facade: &Disconnector, target: &Target) {
    assert_eq!(facade.attempt_once(target).await.unwrap(), Some(200));
}

/// A runtime on this thread alone: client and server together, no cross-thread wake-ups, so
/// that a single call's figure is its CPU and stable from run to run.
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

async fn single(addr: SocketAddr) -> Value {
    let facade = disconnector(addr);
    let raw = Raw::new(&facade);
    let mut rows = Vec::new();
    for vendor in Vendor::ALL {
        let target = target(vendor);
        // Warm up each path (connection pool, allocator).
        for _ in 0..200 {
            raw.call(vendor).await;
            generated(&facade, &target).await;
            facade.disconnect(&target).await.unwrap();
        }
        let mut rates: [Vec<f64>; 3] = Default::default();
        for round in 0..ROUNDS {
            // Interleave, rotating which variant goes first.
            for k in 0..3 {
                let variant = (round + k) % 3;
                let started = Instant::now();
                for _ in 0..SINGLE_CALLS {
                    match variant {
                        0 => raw.call(vendor).await,
                        1 => generated(&facade, &target).await,
                        _ => {
                            facade.disconnect(&target).await.unwrap();
                        }
                    }
                }
                rates[variant].push(SINGLE_CALLS as f64 / started.elapsed().as_secs_f64());
            }
        }
        // Each round's variants ran back to back: compare them within the round (paired), so
        // that the VM's slow drifts and bursts, which move whole rounds, cancel out.
        let paired = |variant: usize| {
            median(
                (0..ROUNDS)
                    .map(|r| rates[variant][r] / rates[0][r])
                    .collect(),
            )
        };
        let (generated_ratio, facade_ratio) = (paired(1), paired(2));
        let [raw_rps, generated_rps, facade_rps] = rates.map(median);
        rows.push(json!({
            "vendor": vendor.id(), "raw_rps": raw_rps, "generated_rps": generated_rps, "facade_rps": facade_rps,
            "generated_ratio": generated_ratio, "facade_ratio": facade_ratio,
        }));
    }
    json!({"calls_per_round": SINGLE_CALLS, "rounds": ROUNDS, "runtime": "current_thread", "rows": rows})
}

fn bulk_targets() -> Vec<Target> {
    (0..BULK_TARGETS)
        .map(|i| target(Vendor::ALL[i % Vendor::ALL.len()]))
        .collect()
}

/// A write-ahead log kept as the CLI keeps its report's: one JSON attempt line per intent, one
/// write and one `fdatasync` per batch, in a file under the temporary directory.
struct FileLog {
    file: std::sync::Mutex<std::fs::File>,
    batches: std::sync::atomic::AtomicUsize,
}

impl FileLog {
    fn new(round: usize) -> Self {
        let path = std::env::temp_dir().join(format!(
            "disconnect-bench-wal-{}-{round}.jsonl",
            std::process::id()
        ));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)
            .unwrap();
        let _ = std::fs::remove_file(&path); // the open file lives on
        Self {
            file: std::sync::Mutex::new(file),
            batches: Default::default(),
        }
    }
}

/// An attempt line, as the CLI's report has them.
#[derive(serde::Serialize)]
struct Attempt<'a> {
    run_id: &'a str,
    target: String,
    vendor: &'a str,
    at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<&'a str>,
}

impl WriteAhead for FileLog {
    fn record(&self, batch: &[Intent]) -> std::io::Result<()> {
        use std::io::Write;
        let mut text = Vec::with_capacity(batch.len() * 160);
        for intent in batch {
            let attempt = Attempt {
                run_id: "5c2e6f1d-2c3b-4a59-8e7f-8d6c5b4a3928",
                target: intent.target.to_string(),
                vendor: intent.target.vendor().id(),
                at: "2026-12-03T00:00:00.000Z",
                idempotency_key: intent.idempotency_key.as_deref(),
            };
            text.extend_from_slice(br#"{"attempt":"#);
            serde_json::to_writer(&mut text, &attempt)?;
            text.extend_from_slice(b"}\n");
        }
        let mut file = self.file.lock().unwrap();
        file.write_all(&text)?;
        file.sync_data()?;
        self.batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

async fn bulk(addr: SocketAddr) -> Value {
    let facade = disconnector(addr);
    let raw = Arc::new(Raw::new(&facade));
    let mut facade_rates = Vec::new();
    let mut logged_rates = Vec::new();
    let mut raw_rates = Vec::new();
    let mut batches = Vec::new();
    for round in 0..BULK_ROUNDS {
        // Three variants a round, in an order that turns with the round.
        for k in 0..3 {
            let started = Instant::now();
            match (round + k) % 3 {
                variant @ (0 | 1) => {
                    let log = (variant == 1).then(|| Arc::new(FileLog::new(round)));
                    let options = BulkOptions::default()
                        .concurrency(BULK_CONCURRENCY)
                        .write_ahead(log.clone().map(|l| l as Arc<dyn WriteAhead>));
                    let results: Vec<_> = facade
                        .disconnect_all(bulk_targets(), options)
                        .collect()
                        .await;
                    assert!(results.iter().all(|r| r.is_ok()));
                    let rate = BULK_TARGETS as f64 / started.elapsed().as_secs_f64();
                    match log {
                        Some(log) => {
                            logged_rates.push(rate);
                            batches.push(
                                log.batches.load(std::sync::atomic::Ordering::Relaxed) as f64,
                            );
                        }
                        None => facade_rates.push(rate),
                    }
                }
                _ => {
                    let semaphore = Arc::new(tokio::sync::Semaphore::new(BULK_CONCURRENCY));
                    let mut tasks = tokio::task::JoinSet::new();
                    for t in bulk_targets() {
                        let permit = semaphore.clone().acquire_owned().await.unwrap();
                        let raw = raw.clone();
                        tasks.spawn(async move {
                            raw.call(t.vendor()).await;
                            drop(permit);
                        });
                    }
                    while tasks.join_next().await.is_some() {}
                    raw_rates.push(BULK_TARGETS as f64 / started.elapsed().as_secs_f64());
                }
            }
        }
    }
    // Paired within each round, as for single calls.
    let paired = |rates: &[f64]| median(rates.iter().zip(&raw_rates).map(|(f, r)| f / r).collect());
    let (ratio, logged_ratio) = (paired(&facade_rates), paired(&logged_rates));
    let (f, l, r) = (
        median(facade_rates),
        median(logged_rates),
        median(raw_rates),
    );
    json!({"targets": BULK_TARGETS, "concurrency": BULK_CONCURRENCY, "rounds": BULK_ROUNDS, "facade_rps": f, "raw_rps": r, "ratio": ratio,
           "write_ahead_rps": l, "write_ahead_ratio": logged_ratio, "write_ahead_batches": median(batches)})
}

/// Peak RSS (KiB) of the CLI streaming `n` distinct targets from a file to the canned server
/// (distinct: the CLI sends a repeated target once, which would measure nothing).
async fn cli_peak_rss(cli: &str, addr: SocketAddr, n: usize) -> (u64, f64) {
    let dir = std::env::temp_dir().join(format!("disconnect-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("targets-{n}.txt"));
    let mut text = String::with_capacity(n * 90);
    for i in 0..n {
        text.push_str(&sample(Vendor::ALL[i % Vendor::ALL.len()], i as u64 + 1).to_string());
        text.push('\n');
    }
    std::fs::write(&input, text).unwrap();
    let mut cmd = std::process::Command::new(cli);
    cmd.arg("--json")
        .arg("--yes")
        .arg("--concurrency")
        .arg("64")
        .arg("--input")
        .arg(&input);
    for v in Vendor::ALL {
        cmd.env(v.api_key_var(), KEY)
            .env(v.base_url_var(), base(addr, v));
    }
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let started = Instant::now();
    let child = cmd.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let (status, maxrss) = tokio::task::spawn_blocking(move || {
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with valid out-pointers.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        assert_eq!(rc, pid, "wait4");
        (status, usage.ru_maxrss as u64)
    })
    .await
    .unwrap();
    std::mem::forget(child); // already reaped by wait4
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "CLI run of {n} targets failed: {status}"
    );
    let _ = std::fs::remove_file(&input);
    (maxrss, elapsed)
}

// ------------------------------------------------------------------------------ lanes

/// Rate-bound run: the paced vendor's targets against a fixed window of `LANE_LIMIT` per
/// `LANE_WINDOW`.
const LANE_LIMIT: u32 = 50;
const LANE_WINDOW: std::time::Duration = std::time::Duration::from_secs(25);
const LANE_PACED: usize = 125;
const LANE_OTHER: usize = 300;
const LATENCY: std::time::Duration = std::time::Duration::from_millis(120);
const LATENCY_CONCURRENCY: usize = 64;
const LATENCY_TARGETS: usize = 64 * 30;

/// The vendors of the lane benchmarks: `paced`, whose fake answers its rate limit with
/// `RateLimit-*` headers, and `other`, the last vendor whose fake does not (it gets latency).
fn lane_vendors() -> (Vendor, Vendor) {
    let headers = disconnect_fakes::sends_rate_limit_headers;
    let paced = Vendor::ALL.into_iter().find(|v| headers(*v));
    let other = Vendor::ALL.into_iter().rev().find(|v| !headers(*v));
    (
        paced.expect("a vendor whose fake sends RateLimit headers"),
        other.expect("a vendor whose fake sends no RateLimit headers"),
    )
}

fn targets(vendor: Vendor, n: usize) -> Vec<Target> {
    (0..n as u64).map(|i| sample(vendor, 1 + i)).collect()
}

/// Fakes with every target live, the paced vendor's window, and latency for the other.
async fn lane_fakes(
    targets: &[Target],
    latency: Option<(Vendor, std::time::Duration)>,
) -> disconnect_fakes::FakeServer {
    let (paced, _) = lane_vendors();
    let mut config =
        disconnect_fakes::FakeConfig::default().with_rate_limit(paced, LANE_LIMIT, LANE_WINDOW);
    config.journal_limit = 100_000;
    if let Some((vendor, latency)) = latency {
        config = config.with_latency(vendor, latency);
    }
    let fakes = disconnect_fakes::FakeServer::start(config).await.unwrap();
    for t in targets {
        fakes.seed_live(t.vendor(), &t.id()).unwrap();
    }
    fakes
}

fn fakes_disconnector(fakes: &disconnect_fakes::FakeServer) -> Disconnector {
    let mut b = Disconnector::builder().deadline(std::time::Duration::from_secs(600));
    for v in Vendor::ALL {
        b = b
            .api_key(v, fakes.api_key(v))
            .base_url(v, fakes.base_url(v));
    }
    b.build().unwrap()
}

/// Run `targets` in bulk; (seconds to the last result per vendor, failures).
async fn timed_run(
    d: &Disconnector,
    targets: Vec<Target>,
    options: BulkOptions,
) -> (std::collections::BTreeMap<Vendor, f64>, usize) {
    let started = Instant::now();
    let mut last = std::collections::BTreeMap::new();
    let mut failed = 0;
    let mut run = d.disconnect_all(targets, options);
    while let Some(r) = run.next().await {
        let vendor = match &r {
            Ok(done) => done.vendor,
            Err(e) => {
                failed += 1;
                e.vendor()
            }
        };
        last.insert(vendor, started.elapsed().as_secs_f64());
    }
    (last, failed)
}

/// The lanes' benchmarks: rate-bound, independence, latency-bound.
async fn lanes() -> Value {
    let (paced, other) = lane_vendors();
    // Rate-bound: the paced vendor alone against its window; the floor is the full windows it
    // must wait out (the last window's requests can all go at its start).
    let paced_targets = targets(paced, LANE_PACED);
    let fakes = lane_fakes(&paced_targets, None).await;
    let d = fakes_disconnector(&fakes);
    let (last, failed) = timed_run(&d, paced_targets.clone(), BulkOptions::default()).await;
    let windows = LANE_PACED.div_ceil(LANE_LIMIT as usize);
    let floor = (windows - 1) as f64 * LANE_WINDOW.as_secs_f64();
    let wall = last[&paced];
    let sent = fakes.requests_to(paced).len();
    let rate_bound = json!({
        "vendor": paced.name(), "targets": LANE_PACED, "limit": LANE_LIMIT, "window_s": LANE_WINDOW.as_secs(),
        "wall_s": wall, "floor_s": floor, "ratio": wall / floor,
        "responses_429": sent - LANE_PACED, "windows": windows, "failed": failed,
    });
    drop(fakes);

    // Independence: the other vendor alone, then the same paced file with the other vendor's
    // targets after it.
    let other_targets = targets(other, LANE_OTHER);
    let fakes = lane_fakes(&other_targets, Some((other, LATENCY))).await;
    let d = fakes_disconnector(&fakes);
    let (alone, failed_alone) = timed_run(&d, other_targets.clone(), BulkOptions::default()).await;
    drop(fakes);
    let mixed_targets: Vec<Target> = paced_targets
        .iter()
        .chain(&other_targets)
        .cloned()
        .collect();
    let fakes = lane_fakes(&mixed_targets, Some((other, LATENCY))).await;
    let d = fakes_disconnector(&fakes);
    let (mixed, failed_mixed) = timed_run(&d, mixed_targets, BulkOptions::default()).await;
    drop(fakes);
    let independence = json!({
        "paced_vendor": paced.name(), "other_vendor": other.name(),
        "paced_targets": LANE_PACED, "other_targets": LANE_OTHER, "other_latency_ms": LATENCY.as_millis() as u64,
        "other_alone_s": alone[&other], "other_last_in_mixed_s": mixed[&other], "paced_last_in_mixed_s": mixed[&paced],
        "ratio": mixed[&other] / alone[&other], "failed": failed_alone + failed_mixed,
    });

    // Latency-bound: 120 ms per answer, 64 in flight, no limit.
    let latency_targets = targets(other, LATENCY_TARGETS);
    let fakes = lane_fakes(&latency_targets, Some((other, LATENCY))).await;
    let d = fakes_disconnector(&fakes);
    let options = BulkOptions::default().concurrency(LATENCY_CONCURRENCY);
    let (last, failed) = timed_run(&d, latency_targets, options).await;
    let rps = LATENCY_TARGETS as f64 / last[&other];
    let ideal = LATENCY_CONCURRENCY as f64 / LATENCY.as_secs_f64();
    let latency_bound = json!({
        "vendor": other.name(), "targets": LATENCY_TARGETS, "concurrency": LATENCY_CONCURRENCY, "latency_ms": LATENCY.as_millis() as u64,
        "rps": rps, "ideal_rps": ideal, "ratio": rps / ideal, "failed": failed,
    });
    json!({"rate_bound": rate_bound, "independence": independence, "latency_bound": latency_bound})
}

async fn wrk_ceiling(addr: SocketAddr) -> Value {
    // The canned server answers any path under a vendor's prefix.
    let url = format!("{}/", base(addr, Vendor::ALL[0]));
    let out = tokio::process::Command::new("wrk")
        .args(["-t1", "-c32", "-d3s", &url])
        .output()
        .await;
    match out {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let rps = text
                .lines()
                .find_map(|l| l.strip_prefix("Requests/sec:"))
                .and_then(|v| v.trim().parse::<f64>().ok());
            json!({"tool": "wrk -t1 -c32 -d3s", "rps": rps})
        }
        _ => json!({"tool": "wrk", "rps": null, "note": "wrk not installed (apt-get install wrk)"}),
    }
}

fn main() {
    let cli = std::env::args()
        .nth(1)
        .expect("usage: disconnect-bench <path to the disconnect binary>");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::args().nth(2).as_deref() == Some("loop") {
        // `loop <vendor> <raw|generated|facade> <n>`: n calls of one variant, for counting
        // instructions per call under callgrind (`cargo xtask bench` runs it twice, with two
        // n, and takes the difference, so that start-up cancels out).
        let arg = |i: usize| {
            std::env::args()
                .nth(i)
                .expect("loop <vendor> <variant> <n>")
        };
        let vendor: Vendor = arg(3).parse().unwrap();
        let variant = arg(4);
        let n: usize = arg(5).parse().unwrap();
        current_thread().block_on(async {
            let facade = disconnector(canned_server().await);
            let raw = Raw::new(&facade);
            let target = target(vendor);
            for _ in 0..n {
                match variant.as_str() {
                    "raw" => raw.call(vendor).await,
                    "generated" => generated(&facade, &target).await,
                    "facade" => {
                        facade.disconnect(&target).await.unwrap();
                    }
                    other => panic!("unknown variant {other}"),
                }
            }
        });
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("calls") {
        // Only the single-call and bulk overhead benchmarks (a couple of minutes).
        let single = current_thread().block_on(async { single(canned_server().await).await });
        let bulk = runtime.block_on(async { bulk(canned_server().await).await });
        let report = json!({"single": single, "bulk": bulk});
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("bulk") {
        // Only the bulk overhead, with and without a write-ahead log (half a minute).
        let bulk = runtime.block_on(async { bulk(canned_server().await).await });
        println!("{}", serde_json::to_string_pretty(&bulk).unwrap());
        return;
    }
    if std::env::args().nth(2).as_deref() == Some("lanes") {
        // Only the lanes' benchmarks (a couple of minutes), for working on them.
        let lanes = runtime.block_on(lanes());
        println!("{}", serde_json::to_string_pretty(&lanes).unwrap());
        return;
    }
    let single = current_thread().block_on(async { single(canned_server().await).await });
    let report = runtime.block_on(async move {
        let addr = canned_server().await;
        let ceiling = wrk_ceiling(addr).await;
        let bulk = bulk(addr).await;
        let (rss_1k, t_1k) = cli_peak_rss(&cli, addr, 1_000).await;
        let (rss_100k, t_100k) = cli_peak_rss(&cli, addr, 100_000).await;
        let lanes = lanes().await;
        json!({
            "lanes": lanes,
            "server_ceiling": ceiling,
            "single": single,
            "bulk": bulk,
            "memory": {"rss_kib_1k": rss_1k, "rss_kib_100k": rss_100k, "ratio": rss_100k as f64 / rss_1k as f64,
                        "seconds_1k": t_1k, "seconds_100k": t_100k},
        })
    });
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
