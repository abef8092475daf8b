//! Every fault × every vendor through the facade against `disconnect-fakes`: the outcome, the
//! exact number of attempts, no panic. What each vendor must end in is the README's fault
//! matrix, whose columns `cargo xtask generate` writes from the vendor table (the cells differ
//! by vendor only where an answer was lost: see `xtask/src/vendor_table.rs`), so a vendor added
//! to the table is held to it with no edit here.

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

/// (fault, faults queued). What each vendor ends in is the README's matrix, whose columns
/// `cargo xtask generate` writes from the vendor table.
fn rows() -> Vec<(&'static str, Vec<Fault>)> {
    vec![
        (
            "reset before the response, once",
            vec![Fault::CloseBeforeResponse],
        ),
        (
            "reset before the response, every time",
            vec![Fault::CloseBeforeResponse; 3],
        ),
        // The vendor acted before the body broke; the retry learns the state, and the
        // connection it finds gone is the lost request's doing.
        ("reset mid-response", vec![Fault::CloseMidResponse]),
        (
            "answer lost after the vendor acted",
            vec![Fault::DropAnswer { millis: 0 }],
        ),
        (
            "500, then ok",
            vec![status(500, json!({"message": "boom"}))],
        ),
        (
            "500 with an HTML page, then ok",
            vec![page(500, "<html>Internal Server Error</html>", &[])],
        ),
        ("500 with an empty body, then ok", vec![page(500, "", &[])]),
        ("502, then ok", vec![status(502, json!(null))]),
        ("503, then ok", vec![status(503, json!(null))]),
        ("504 every time", vec![status(504, json!(null)); 3]),
        ("501 (not retried)", vec![status(501, json!(null))]),
        (
            "429 with RateLimit-Reset: 1",
            vec![Fault::RateLimited {
                reset_secs: Some(1),
                retry_after: None,
            }],
        ),
        (
            "429 with Retry-After: 1",
            vec![Fault::RateLimited {
                reset_secs: None,
                retry_after: Some("1".into()),
            }],
        ),
        (
            "429 without reset headers",
            vec![status(
                429,
                json!({"errors": [{"title": "Rate limit exceeded"}]}),
            )],
        ),
        (
            "429 with an HTML page and RateLimit-Reset: 1",
            vec![page(
                429,
                "<html>Too Many Requests</html>",
                &[("ratelimit-reset", "1")],
            )],
        ),
        ("408, then ok", vec![page(408, "", &[])]),
        (
            "429 every time",
            vec![status(429, json!({"errors": [{"title": "Rate limit exceeded"}]})); 3],
        ),
        (
            "attempt timeout (1 s delay, 300 ms timeout)",
            vec![Fault::Delay { millis: 1_000 }],
        ),
        ("malformed JSON", vec![Fault::MalformedJson]),
        ("truncated JSON", vec![Fault::TruncatedJson]),
        ("wrong content type (HTML)", vec![Fault::WrongContentType]),
        ("empty 200 body", vec![status(200, json!(null))]),
        (
            "body over the 1 MiB cap",
            vec![Fault::Oversized { bytes: 2 << 20 }],
        ),
        (
            "3xx redirect",
            vec![Fault::Redirect {
                status: 307,
                location: "http://127.0.0.2:9/elsewhere".into(),
            }],
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
    // What each vendor ends in: the README's matrix, a column per vendor of the table
    // (written by `cargo xtask generate`, whose `generate --check` keeps it so).
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"),
    )
    .unwrap();
    let matrix: Vec<Vec<String>> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| fault |"))
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    let names: Vec<&str> = Vendor::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(
        matrix[0][1..],
        names,
        "the README's matrix has a column per vendor"
    );
    let expected = |row: &str| -> Vec<String> {
        matrix
            .iter()
            .find(|cells| cells[0] == row)
            .unwrap_or_else(|| panic!("the README's fault matrix has no row `{row}`"))[1..]
            .to_vec()
    };
    let mut seen = Vec::new();

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
    let expect = expected("connection refused");
    seen.push("connection refused");
    for (v, expected) in Vendor::ALL.into_iter().zip(&expect) {
        let got = summary(&refused.disconnect(&target(v)).await);
        assert_eq!(&got, expected, "connection refused / {v}");
    }

    for (name, faults) in rows() {
        let d = builder(name).build().unwrap();
        let expect = expected(name);
        seen.push(name);
        for (v, expected) in Vendor::ALL.into_iter().zip(&expect) {
            common::seed_targets(&fakes);
            for f in &faults {
                fakes.push_fault(fake(v), f.clone());
            }
            let got = summary(&d.disconnect(&target(v)).await);
            assert_eq!(&got, expected, "{name} / {v}");
            assert_eq!(
                fakes.pending_faults(fake(v)),
                0,
                "{name} / {v}: every fault was consumed"
            );
        }
    }
    let documented: Vec<&str> = matrix.iter().skip(2).map(|c| c[0].as_str()).collect();
    assert_eq!(documented, seen, "the README's rows are the rows run here");
}
