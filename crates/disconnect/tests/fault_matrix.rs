//! Every fault × every vendor through the facade against `disconnect-fakes`: the outcome, the
//! exact number of attempts, no panic. The matrix is printed (`cargo test --test fault_matrix --
//! --nocapture`) and kept in the README, which this test checks.

mod common;

use std::time::Duration;

use common::{fake, target};
use disconnect::{DisconnectError, Disconnector, Receipt, Vendor};
use disconnect_fakes::{FakeConfig, FakeServer, Fault};
use serde_json::json;

/// `outcome status xattempts`, with `, confirmed` for a cut confirmed after a lost answer and
/// `, in doubt` for a failure after one.
fn summary(result: &Result<Receipt, DisconnectError>) -> String {
    match result {
        Ok(d) => format!(
            "{} {} x{}{}",
            match d.status {
                disconnect::DisconnectStatus::Disconnected => "disconnected",
                disconnect::DisconnectStatus::AlreadyDisconnected => "already_disconnected",
                other => panic!("a status this matrix does not know: {other:?}"),
            },
            d.http_status,
            d.attempts,
            if d.confirmed_after_lost_answer {
                ", confirmed"
            } else {
                ""
            }
        ),
        Err(e) => format!(
            "{} {} x{}{}",
            e.kind(),
            e.http_status().map(|s| s.to_string()).unwrap_or("-".into()),
            e.attempts(),
            if e.in_doubt() { ", in doubt" } else { "" }
        ),
    }
}

fn status(code: u16, body: serde_json::Value) -> Fault {
    Fault::status(code, body)
}

/// A status with a proxy's HTML page (or nothing) instead of the vendor's JSON.
fn page(code: u16, html: &str, headers: &[(&str, &str)]) -> Fault {
    let Fault::Status {
        status, body, raw, ..
    } = Fault::raw_status(code, "text/html", html)
    else {
        unreachable!("raw_status builds a status fault")
    };
    Fault::Status {
        status,
        body,
        raw,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// (fault, faults queued, expected for tartan, persona, leen)
fn rows() -> Vec<(&'static str, Vec<Fault>, [&'static str; 3])> {
    let ok2 = ["disconnected 200 x2"; 3];
    let once = |s: &'static str| [s; 3];
    vec![
        (
            "reset before the response, once",
            vec![Fault::CloseBeforeResponse],
            ok2,
        ),
        (
            "reset before the response, every time",
            vec![Fault::CloseBeforeResponse; 3],
            once("transport - x3, in doubt"),
        ),
        // The vendor acted before the body broke; the retry learns the state, and the
        // connection it finds gone is the lost request's doing.
        (
            "reset mid-response",
            vec![Fault::CloseMidResponse],
            [
                "disconnected 409 x2, confirmed",
                "disconnected 200 x2",
                "disconnected 404 x2, confirmed",
            ],
        ),
        (
            "answer lost after the vendor acted",
            vec![Fault::DropAnswer { millis: 0 }],
            [
                "disconnected 409 x2, confirmed",
                "disconnected 200 x2",
                "disconnected 404 x2, confirmed",
            ],
        ),
        (
            "500, then ok",
            vec![status(500, json!({"message": "boom"}))],
            ok2,
        ),
        (
            "500 with an HTML page, then ok",
            vec![page(500, "<html>Internal Server Error</html>", &[])],
            ok2,
        ),
        (
            "500 with an empty body, then ok",
            vec![page(500, "", &[])],
            ok2,
        ),
        ("502, then ok", vec![status(502, json!(null))], ok2),
        ("503, then ok", vec![status(503, json!(null))], ok2),
        (
            "504 every time",
            vec![status(504, json!(null)); 3],
            once("server 504 x3"),
        ),
        (
            "501 (not retried)",
            vec![status(501, json!(null))],
            once("server 501 x1"),
        ),
        (
            "429 with RateLimit-Reset: 1",
            vec![Fault::RateLimited {
                reset_secs: Some(1),
                retry_after: None,
            }],
            ok2,
        ),
        (
            "429 with Retry-After: 1",
            vec![Fault::RateLimited {
                reset_secs: None,
                retry_after: Some("1".into()),
            }],
            ok2,
        ),
        (
            "429 without reset headers",
            vec![status(
                429,
                json!({"errors": [{"title": "Rate limit exceeded"}]}),
            )],
            ok2,
        ),
        (
            "429 with an HTML page and RateLimit-Reset: 1",
            vec![page(
                429,
                "<html>Too Many Requests</html>",
                &[("ratelimit-reset", "1")],
            )],
            ok2,
        ),
        ("408, then ok", vec![page(408, "", &[])], ok2),
        (
            "429 every time",
            vec![status(429, json!({"errors": [{"title": "Rate limit exceeded"}]})); 3],
            once("rate_limited 429 x3"),
        ),
        (
            "attempt timeout (1 s delay, 300 ms timeout)",
            vec![Fault::Delay { millis: 1_000 }],
            ok2,
        ),
        (
            "malformed JSON",
            vec![Fault::MalformedJson],
            once("invalid_response 200 x1"),
        ),
        (
            "truncated JSON",
            vec![Fault::TruncatedJson],
            once("invalid_response 200 x1"),
        ),
        (
            "wrong content type (HTML)",
            vec![Fault::WrongContentType],
            once("invalid_response 200 x1"),
        ),
        (
            "empty 200 body",
            vec![status(200, json!(null))],
            once("invalid_response 200 x1"),
        ),
        (
            "body over the 1 MiB cap",
            vec![Fault::Oversized { bytes: 2 << 20 }],
            once("invalid_response 200 x1"),
        ),
        (
            "3xx redirect",
            vec![Fault::Redirect {
                status: 307,
                location: "http://127.0.0.2:9/elsewhere".into(),
            }],
            once("redirected 307 x1"),
        ),
    ]
}

#[tokio::test]
async fn every_fault_for_every_vendor() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let builder = |operation: &str| {
        let mut b = Disconnector::builder()
            .backoff(Duration::from_millis(1), Duration::from_millis(5))
            .attempt_timeout(Duration::from_millis(300))
            .deadline(Duration::from_secs(10))
            .operation_id(operation); // fresh Persona idempotency keys per row
        for v in Vendor::ALL {
            b = b
                .api_key(v, fakes.api_key(fake(v)))
                .base_url(v, fakes.base_url(fake(v)));
        }
        b
    };
    // The README documents the vendors its matrix has columns for; a vendor added since is
    // run through every row too, and its column printed for the README.
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .unwrap();
    let header = readme
        .lines()
        .find(|l| l.starts_with("| fault |"))
        .expect("the README has a fault matrix");
    let documented: Vec<bool> = Vendor::ALL
        .iter()
        .map(|v| {
            header.contains(&format!("| {} ", v.name()))
                || header.ends_with(&format!("| {} |", v.name()))
        })
        .collect();
    let columns = |cells: &[String], all: bool| -> String {
        cells
            .iter()
            .zip(&documented)
            .filter(|(_, d)| all || **d)
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let names: Vec<String> = Vendor::ALL.iter().map(|v| v.name().to_string()).collect();
    let rules: Vec<String> = Vendor::ALL.iter().map(|_| "---".to_string()).collect();
    let mut table = vec![
        format!("| fault | {} |", columns(&names, false)),
        format!("|---|{}|", columns(&rules, false).replace(" | ", "|")),
    ];
    let mut full = vec![format!("| fault | {} |", columns(&names, true))];

    // Connection refused: a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut refused =
        Disconnector::builder().backoff(Duration::from_millis(1), Duration::from_millis(5));
    for v in Vendor::ALL {
        refused = refused.api_key(v, "k").base_url(v, closed_url.clone());
    }
    let refused = refused.build().unwrap();
    let mut cells = Vec::new();
    for v in Vendor::ALL {
        let got = summary(&refused.disconnect(&target(v)).await);
        assert_eq!(got, "transport - x3", "connection refused / {v}");
        cells.push(got);
    }
    table.push(format!(
        "| connection refused | {} |",
        columns(&cells, false)
    ));
    full.push(format!(
        "| connection refused | {} |",
        columns(&cells, true)
    ));

    for (name, faults, expected) in rows() {
        let d = builder(name).build().unwrap();
        let mut cells = Vec::new();
        for (i, v) in Vendor::ALL.into_iter().enumerate() {
            common::seed_targets(&fakes);
            for f in &faults {
                fakes.push_fault(fake(v), f.clone());
            }
            let got = summary(&d.disconnect(&target(v)).await);
            // A vendor added after this matrix was written: every fault is survived and
            // consumed; its column is printed for the README.
            if let Some(expected) = expected.get(i) {
                assert_eq!(&got, expected, "{name} / {v}");
            }
            assert_eq!(
                fakes.pending_faults(fake(v)),
                0,
                "{name} / {v}: every fault was consumed"
            );
            cells.push(got);
        }
        table.push(format!("| {name} | {} |", columns(&cells, false)));
        full.push(format!("| {name} | {} |", columns(&cells, true)));
    }
    let table = table.join("\n");
    println!("{}", full.join("\n"));
    assert!(
        readme.contains(&table),
        "README's fault matrix is out of date; it should read:\n{table}"
    );
}
