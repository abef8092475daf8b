//! `disconnect-bench`: measurements for `cargo xtask bench`, printed as one JSON document.
//!
//! Everything runs against a canned loopback server that answers each vendor's success body
//! without state, so that the client, not the server, is measured. Variants are interleaved
//! round by round and reported as medians, with ratios computed within this one run.
//!
//! Usage: `disconnect-bench <path to the disconnect CLI binary> [lanes]` (`lanes`: only the
//! bulk lanes' benchmarks).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use disconnect::{BulkOptions, Disconnector, Target, Vendor};
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";
const KEY: &str = "bench-key";

const SINGLE_CALLS: usize = 4000;
const ROUNDS: usize = 9;
const BULK_TARGETS: usize = 10_000;
const BULK_CONCURRENCY: usize = 64;

fn tartan_body() -> Bytes {
    Bytes::from_static(br#"{"message":"Connection terminated successfully","data":null}"#)
}

fn persona_body() -> Bytes {
    Bytes::from(
        json!({"data": {"type": "connect/connection", "id": "cxn_bench", "attributes": {
            "status": "inactive", "destination-organization-id": "org_d", "source-organization-id": "org_s",
            "created-at": "2026-01-01T00:00:00.000Z", "updated-at": "2026-11-22T00:00:00.000Z"},
            "relationships": {"creator": {"data": {"type": "user", "id": "user_1"}}}}})
        .to_string(),
    )
}

fn leen_body() -> Bytes {
    Bytes::from(
        json!({"id": CONN, "vendor": "crowdstrike", "is_active": false, "refresh_interval_secs": 3600,
            "timeout_secs": 600, "organization_id": ORG, "oauth2_authorize_url": null, "identifier": null,
            "state": "DELETED", "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-11-22T00:00:00Z",
            "health": {"name": "HEALTHY", "status": "HEALTHY", "description": "ok", "resolution_owner": "LEEN", "details": null}})
        .to_string(),
    )
}

/// A stateless server answering every vendor path with its canned success body.
async fn canned_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies = Arc::new([tartan_body(), persona_body(), leen_body()]);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let bodies = bodies.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let bodies = bodies.clone();
                        async move {
                            let path = req.uri().path().to_string();
                            let _ = req.into_body().collect().await; // read the request like a server would
                            let body = if path.starts_with("/tartan") {
                                bodies[0].clone()
                            } else if path.starts_with("/persona") {
                                bodies[1].clone()
                            } else {
                                bodies[2].clone()
                            };
                            let mut response = hyper::Response::new(Full::new(body));
                            response
                                .headers_mut()
                                .insert("content-type", "application/json".parse().unwrap());
                            response
                                .headers_mut()
                                .insert("request-id", "req_bench".parse().unwrap());
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

fn target(vendor: Vendor) -> Target {
    match vendor {
        Vendor::Tartan => "tartan:acme".parse().unwrap(),
        Vendor::Persona => "persona:cxn_bench".parse().unwrap(),
        Vendor::Leen => format!("leen:{ORG}/{CONN}").parse().unwrap(),
    }
}

fn disconnector(addr: SocketAddr) -> Disconnector {
    let mut b = Disconnector::builder();
    for v in Vendor::ALL {
        b = b.api_key(v, KEY).base_url(v, base(addr, v));
    }
    b.build().unwrap()
}

/// One hand-written request per vendor, identical on the wire to what the clients send.
struct Raw {
    http: reqwest::Client,
    addr: SocketAddr,
}

impl Raw {
    async fn call(&self, vendor: Vendor) {
        let request = match vendor {
            Vendor::Tartan => self
                .http
                .post(format!(
                    "{}/api/terminate_connection/",
                    base(self.addr, vendor)
                ))
                .header("accept", "application/json")
                .header("authorization", KEY)
                .multipart(reqwest::multipart::Form::new().text("client_org", "acme")),
            Vendor::Persona => self
                .http
                .post(format!(
                    "{}/connect/connections/cxn_bench/deactivate",
                    base(self.addr, vendor)
                ))
                .header("accept", "application/json")
                .header("authorization", format!("Bearer {KEY}"))
                .header(
                    "idempotency-key",
                    "disconnect-0123456789abcdef0123456789abcdef",
                )
                .header("key-inflection", "kebab")
                .header("persona-version", "2025-12-08"),
            Vendor::Leen => self
                .http
                .delete(format!(
                    "{}/provisioning/organizations/{ORG}/connections/{CONN}",
                    base(self.addr, vendor)
                ))
                .header("accept", "application/json")
                .header("x-api-key", KEY),
        };
        let response = request.send().await.unwrap();
        assert!(response.status().is_success());
        let _: Value = response.json().await.unwrap();
    }
}

/// The generated client called directly.
struct Generated {
    tartan: tartan_client::Client,
    persona: persona_client::Client,
    leen: leen_client::Client,
}

impl Generated {
    async fn call(&self, vendor: Vendor) {
        match vendor {
            Vendor::Tartan => {
                let body =
                    tartan_client::types::TerminateConnectionBody::builder().client_org("acme");
                self.tartan
                    .terminate_connection()
                    .body(body)
                    .send()
                    .await
                    .unwrap();
            }
            Vendor::Persona => {
                self.persona
                    .deactivate_a_connect_connection()
                    .connection_id("cxn_bench")
                    .idempotency_key("disconnect-0123456789abcdef0123456789abcdef")
                    .key_inflection(persona_client::types::KeyInflection::Kebab)
                    .persona_version(persona_client::types::PersonaVersion::X20251208)
                    .send()
                    .await
                    .unwrap();
            }
            Vendor::Leen => {
                let (org, conn): (uuid::Uuid, uuid::Uuid) =
                    (ORG.parse().unwrap(), CONN.parse().unwrap());
                self.leen
                    .delete_connection_by_id()
                    .organization_id(org)
                    .connection_id(conn)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

async fn single(addr: SocketAddr) -> Value {
    let raw = Raw {
        http: reqwest::Client::new(),
        addr,
    };
    let generated = Generated {
        tartan: tartan_client::Client::with_api_key(&base(addr, Vendor::Tartan), KEY).unwrap(),
        persona: persona_client::Client::with_api_key(&base(addr, Vendor::Persona), KEY).unwrap(),
        leen: leen_client::Client::with_api_key(&base(addr, Vendor::Leen), KEY).unwrap(),
    };
    let facade = disconnector(addr);
    let mut rows = Vec::new();
    for vendor in Vendor::ALL {
        let target = target(vendor);
        // Warm up each path (connection pool, allocator).
        for _ in 0..200 {
            raw.call(vendor).await;
            generated.call(vendor).await;
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
                        1 => generated.call(vendor).await,
                        _ => {
                            facade.disconnect(&target).await.unwrap();
                        }
                    }
                }
                rates[variant].push(SINGLE_CALLS as f64 / started.elapsed().as_secs_f64());
            }
        }
        let [raw_rps, generated_rps, facade_rps] = rates.map(median);
        rows.push(json!({
            "vendor": vendor.id(), "raw_rps": raw_rps, "generated_rps": generated_rps, "facade_rps": facade_rps,
            "generated_ratio": generated_rps / raw_rps, "facade_ratio": facade_rps / raw_rps,
        }));
    }
    json!({"calls_per_round": SINGLE_CALLS, "rounds": ROUNDS, "runtime": "current_thread", "rows": rows})
}

fn bulk_targets() -> Vec<Target> {
    (0..BULK_TARGETS)
        .map(|i| target(Vendor::ALL[i % Vendor::ALL.len()]))
        .collect()
}

async fn bulk(addr: SocketAddr) -> Value {
    let facade = disconnector(addr);
    let raw = Arc::new(Raw {
        http: reqwest::Client::new(),
        addr,
    });
    let mut facade_rates = Vec::new();
    let mut raw_rates = Vec::new();
    for round in 0..3 {
        for k in 0..2 {
            let started = Instant::now();
            if (round + k) % 2 == 0 {
                let options = BulkOptions {
                    concurrency: BULK_CONCURRENCY,
                    ..BulkOptions::default()
                };
                let results: Vec<_> = facade
                    .disconnect_all(bulk_targets(), options)
                    .collect()
                    .await;
                assert!(results.iter().all(|r| r.is_ok()));
                facade_rates.push(BULK_TARGETS as f64 / started.elapsed().as_secs_f64());
            } else {
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
    let (f, r) = (median(facade_rates), median(raw_rates));
    json!({"targets": BULK_TARGETS, "concurrency": BULK_CONCURRENCY, "facade_rps": f, "raw_rps": r, "ratio": f / r})
}

/// Peak RSS (KiB) of the CLI streaming `n` targets from a file to the canned server.
async fn cli_peak_rss(cli: &str, addr: SocketAddr, n: usize) -> (u64, f64) {
    let dir = std::env::temp_dir().join(format!("disconnect-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("targets-{n}.txt"));
    let mut text = String::with_capacity(n * 90);
    for i in 0..n {
        text.push_str(&target(Vendor::ALL[i % Vendor::ALL.len()]).to_string());
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

/// Rate-bound run: Persona targets against a fixed window of `LANE_LIMIT` per `LANE_WINDOW`.
const LANE_LIMIT: u32 = 50;
const LANE_WINDOW: std::time::Duration = std::time::Duration::from_secs(25);
const LANE_PERSONA: usize = 125;
const LANE_LEEN: usize = 300;
const LATENCY: std::time::Duration = std::time::Duration::from_millis(120);
const LATENCY_CONCURRENCY: usize = 64;
const LATENCY_TARGETS: usize = 64 * 30;

fn persona_targets(n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| Target::persona(format!("cxn_lane_{i:05}")).unwrap())
        .collect()
}

fn leen_targets(n: usize) -> Vec<Target> {
    (0..n)
        .map(|i| {
            Target::leen(
                ORG.parse().unwrap(),
                uuid::Uuid::from_u128(10_000 + i as u128),
            )
        })
        .collect()
}

/// Fakes with every target seeded, a Persona window, and latency for Leen.
async fn lane_fakes(
    persona: &[Target],
    leen: &[Target],
    leen_latency: Option<std::time::Duration>,
) -> disconnect_fakes::FakeServer {
    let mut config = disconnect_fakes::FakeConfig {
        persona_rate_limit: LANE_LIMIT,
        persona_rate_window: LANE_WINDOW,
        journal_limit: 100_000,
        ..disconnect_fakes::FakeConfig::default()
    };
    if let Some(latency) = leen_latency {
        config
            .latency
            .insert(disconnect_fakes::Vendor::Leen, latency);
    }
    let fakes = disconnect_fakes::FakeServer::start(config).await.unwrap();
    let mut seed = disconnect_fakes::Seed::default();
    for t in persona.iter().chain(leen) {
        match t {
            Target::Persona(p) => seed.persona.push(disconnect_fakes::PersonaSeed {
                id: p.connection_id().to_string(),
                status: "active".into(),
            }),
            Target::Leen(l) => seed.leen.push(disconnect_fakes::LeenSeed {
                organization_id: l.organization_id(),
                connection_id: l.connection_id(),
                vendor: "crowdstrike".into(),
                state: "ACTIVE".into(),
            }),
            _ => {}
        }
    }
    fakes.seed(&seed);
    fakes
}

fn fakes_disconnector(fakes: &disconnect_fakes::FakeServer) -> Disconnector {
    let mut b = Disconnector::builder().deadline(std::time::Duration::from_secs(600));
    for (v, f) in [
        (Vendor::Persona, disconnect_fakes::Vendor::Persona),
        (Vendor::Leen, disconnect_fakes::Vendor::Leen),
        (Vendor::Tartan, disconnect_fakes::Vendor::Tartan),
    ] {
        b = b
            .api_key(v, fakes.api_key(f))
            .base_url(v, fakes.base_url(f));
    }
    b.build().unwrap()
}

/// Run `targets` in bulk; (seconds to the last result per vendor, failures).
async fn timed_run(
    d: &Disconnector,
    targets: Vec<Target>,
    options: BulkOptions,
) -> (std::collections::BTreeMap<String, f64>, usize) {
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
        last.insert(vendor.id().to_string(), started.elapsed().as_secs_f64());
    }
    (last, failed)
}

/// The lanes' benchmarks: rate-bound, independence, latency-bound.
async fn lanes() -> Value {
    // Rate-bound: Persona alone against its window; the floor is the full windows it must
    // wait out (the last window's requests can all go at its start).
    let persona = persona_targets(LANE_PERSONA);
    let fakes = lane_fakes(&persona, &[], None).await;
    let d = fakes_disconnector(&fakes);
    let (last, failed) = timed_run(&d, persona.clone(), BulkOptions::default()).await;
    let windows = LANE_PERSONA.div_ceil(LANE_LIMIT as usize);
    let floor = (windows - 1) as f64 * LANE_WINDOW.as_secs_f64();
    let wall = last["persona"];
    let sent = fakes.requests_to(disconnect_fakes::Vendor::Persona).len();
    let rate_bound = json!({
        "targets": LANE_PERSONA, "limit": LANE_LIMIT, "window_s": LANE_WINDOW.as_secs(),
        "wall_s": wall, "floor_s": floor, "ratio": wall / floor,
        "responses_429": sent - LANE_PERSONA, "windows": windows, "failed": failed,
    });
    drop(fakes);

    // Independence: Leen alone, then the same Persona file with the Leen targets after it.
    let leen = leen_targets(LANE_LEEN);
    let fakes = lane_fakes(&[], &leen, Some(LATENCY)).await;
    let d = fakes_disconnector(&fakes);
    let (alone, failed_alone) = timed_run(&d, leen.clone(), BulkOptions::default()).await;
    drop(fakes);
    let fakes = lane_fakes(&persona, &leen, Some(LATENCY)).await;
    let d = fakes_disconnector(&fakes);
    let mixed_targets: Vec<Target> = persona.iter().chain(&leen).cloned().collect();
    let (mixed, failed_mixed) = timed_run(&d, mixed_targets, BulkOptions::default()).await;
    drop(fakes);
    let independence = json!({
        "persona_targets": LANE_PERSONA, "leen_targets": LANE_LEEN, "leen_latency_ms": LATENCY.as_millis() as u64,
        "leen_alone_s": alone["leen"], "leen_last_in_mixed_s": mixed["leen"], "persona_last_in_mixed_s": mixed["persona"],
        "ratio": mixed["leen"] / alone["leen"], "failed": failed_alone + failed_mixed,
    });

    // Latency-bound: 120 ms per answer, 64 in flight, no limit.
    let leen = leen_targets(LATENCY_TARGETS);
    let fakes = lane_fakes(&[], &leen, Some(LATENCY)).await;
    let d = fakes_disconnector(&fakes);
    let options = BulkOptions {
        concurrency: LATENCY_CONCURRENCY,
        ..BulkOptions::default()
    };
    let (last, failed) = timed_run(&d, leen, options).await;
    let rps = LATENCY_TARGETS as f64 / last["leen"];
    let ideal = LATENCY_CONCURRENCY as f64 / LATENCY.as_secs_f64();
    let latency_bound = json!({
        "targets": LATENCY_TARGETS, "concurrency": LATENCY_CONCURRENCY, "latency_ms": LATENCY.as_millis() as u64,
        "rps": rps, "ideal_rps": ideal, "ratio": rps / ideal, "failed": failed,
    });
    json!({"rate_bound": rate_bound, "independence": independence, "latency_bound": latency_bound})
}

async fn wrk_ceiling(addr: SocketAddr) -> Value {
    let url = format!(
        "{}/provisioning/organizations/{ORG}/connections/{CONN}",
        base(addr, Vendor::Leen)
    );
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
    if std::env::args().nth(2).as_deref() == Some("lanes") {
        // Only the lanes' benchmarks (a couple of minutes), for working on them.
        let lanes = runtime.block_on(lanes());
        println!("{}", serde_json::to_string_pretty(&lanes).unwrap());
        return;
    }
    // Single calls run on one current-thread runtime, client and server together: no
    // cross-thread wake-ups, so the figures are CPU per call and stable from run to run.
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let addr = canned_server().await;
            single(addr).await
        });
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
