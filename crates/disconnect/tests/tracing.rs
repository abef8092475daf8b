//! Spans per call and attempt carry vendor, target, attempt, status and request id; nothing
//! logged at TRACE level (reqwest and hyper included) contains an API key.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use disconnect::{Disconnector, Vendor};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor as FakeVendor};
use serde_json::json;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged at `level` and above on this thread, span closes included, until the
/// guard drops.
fn capture(level: tracing::Level) -> (Buffer, tracing::subscriber::DefaultGuard) {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn spans_carry_the_call_and_never_a_key() {
    let keys = ["tartan-KEY-4b1f9e", "persona-KEY-77aa01", "leen-KEY-c3d2e1"];
    let fakes = FakeServer::start(
        FakeConfig::default()
            .with_key(FakeVendor::Tartan, keys[0])
            .with_key(FakeVendor::Persona, keys[1])
            .with_key(FakeVendor::Leen, keys[2]),
    )
    .await
    .unwrap();
    fakes.seed(
        &serde_json::from_value(
            json!({"tartan": [{"client_org": "acme"}], "persona": [{"id": "cxn_1"}]}),
        )
        .unwrap(),
    );
    let (buffer, _guard) = capture(tracing::Level::TRACE);

    let d = Disconnector::builder()
        .api_key(Vendor::Tartan, keys[0])
        .base_url(Vendor::Tartan, fakes.base_url(FakeVendor::Tartan))
        .api_key(Vendor::Persona, keys[1])
        .base_url(Vendor::Persona, fakes.base_url(FakeVendor::Persona))
        .api_key(Vendor::Leen, keys[2])
        .base_url(Vendor::Leen, fakes.base_url(FakeVendor::Leen))
        .backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    fakes.push_fault(FakeVendor::Persona, Fault::CloseBeforeResponse);
    d.disconnect(&"tartan:acme".parse().unwrap()).await.unwrap();
    d.disconnect(&"persona:cxn_1".parse().unwrap())
        .await
        .unwrap();
    let _ = d
        .disconnect(
            &"leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706"
                .parse()
                .unwrap(),
        )
        .await;
    let _ = d.plan(&"persona:cxn_1".parse().unwrap());

    let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("disconnect{vendor=Persona target=persona:cxn_1"),
        "{logged}"
    );
    assert!(
        logged.contains("attempt{attempt=2"),
        "the retried attempt has its own span"
    );
    assert!(
        logged.contains("request_id=\"req_fake") || logged.contains("request_id=req_fake"),
        "{logged}"
    );
    assert!(logged.contains("status=404"), "Leen's 404 recorded");
    // The OpenTelemetry HTTP client attribute names, on each attempt.
    let leen_attempt = logged
        .lines()
        .find(|l| {
            l.contains("attempt{")
                && l.contains("http.request.method=\"DELETE\"")
                && l.contains("close")
        })
        .unwrap_or_else(|| panic!("no Leen attempt span closing with its method: {logged}"));
    assert!(
        leen_attempt.contains("server.address=\"127.0.0.1\""),
        "{leen_attempt}"
    );
    assert!(leen_attempt.contains("server.port="), "{leen_attempt}");
    assert!(
        leen_attempt.contains("http.response.status_code=404"),
        "{leen_attempt}"
    );
    assert!(
        leen_attempt.contains("url.full=\"http://127.0.0.1:"),
        "{leen_attempt}"
    );
    for key in keys {
        assert!(!logged.contains(key), "{key} appeared in the logs");
        let hex: String = key.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!logged.contains(&hex));
    }
}

/// At INFO the per-attempt span (DEBUG) is off and not entered; the call's span still records
/// the answer's status and request id.
#[tokio::test]
async fn the_call_span_records_the_answer_when_attempt_spans_are_off() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    fakes.seed(&serde_json::from_value(json!({"persona": [{"id": "cxn_1"}]})).unwrap());
    let (buffer, _guard) = capture(tracing::Level::INFO);
    let d = Disconnector::builder()
        .api_key(Vendor::Persona, fakes.api_key(FakeVendor::Persona))
        .base_url(Vendor::Persona, fakes.base_url(FakeVendor::Persona))
        .build()
        .unwrap();
    d.disconnect(&"persona:cxn_1".parse().unwrap())
        .await
        .unwrap();
    let logged = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(!logged.contains("attempt{"), "{logged}");
    let close = logged
        .lines()
        .find(|l| l.contains("disconnect{") && l.contains("close"))
        .unwrap_or_else(|| panic!("no close event of the call's span: {logged}"));
    assert!(close.contains("attempts=1"), "{close}");
    assert!(close.contains("status=200"), "{close}");
    assert!(close.contains("req_fake"), "{close}");
}
