//! `--fake` and `disconnect demo`: the built-in fake vendors.

use std::time::Duration;

use disconnect::{BulkOptions, Disconnector, DisconnectorBuilder, Target, Vendor};
use disconnect_fakes::{FakeConfig, FakeServer};
use futures_util::StreamExt;

use std::io::IsTerminal;

use comfy_table::{ContentArrangement, Table, presets};

use crate::output::{Format, Output, Style};
use crate::report::{ReportLine, ReportStatus};

/// Start fakes on a free loopback port with every target seeded as a live connection.
pub async fn start_fakes(targets: &[&Target], config: FakeConfig) -> std::io::Result<FakeServer> {
    let fakes = FakeServer::start(config).await?;
    for target in targets {
        // Every id a Target holds is valid for its fake.
        fakes
            .seed_live(target.vendor(), &target.id())
            .map_err(std::io::Error::other)?;
    }
    Ok(fakes)
}

/// A builder whose every vendor points at the fakes with their throwaway keys.
pub fn pointed_at(fakes: &FakeServer) -> DisconnectorBuilder {
    let mut builder = Disconnector::builder();
    for vendor in Vendor::ALL {
        builder = builder
            .api_key(vendor, fakes.api_key(vendor))
            .base_url(vendor, fakes.base_url(vendor));
    }
    builder
}

/// Where each vendor's fake listens.
pub fn base_urls(fakes: &FakeServer) -> std::collections::BTreeMap<Vendor, String> {
    Vendor::ALL
        .into_iter()
        .map(|v| (v, fakes.base_url(v)))
        .collect()
}

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

/// The tour: (target, expected outcome, expected error kind, what it shows).
fn script() -> Vec<(String, ReportStatus, Option<&'static str>, &'static str)> {
    vec![
        (
            "tartan:acme-corp".into(),
            ReportStatus::Disconnected,
            None,
            "a plain disconnect (Tartan multipart, raw key)",
        ),
        (
            "tartan:globex".into(),
            ReportStatus::AlreadyDisconnected,
            None,
            "Tartan's 409: already terminated",
        ),
        (
            "tartan:initech".into(),
            ReportStatus::Disconnected,
            None,
            "a Tartan data sync in progress (400), waited out",
        ),
        (
            format!("leen:{ORG}/{CONN}"),
            ReportStatus::Disconnected,
            None,
            "Leen DELETE, record comes back DELETED",
        ),
        (
            "persona:cxn_DEMO1".into(),
            ReportStatus::Disconnected,
            None,
            "Persona, idempotency key pinned",
        ),
        (
            "persona:cxn_DEMO2".into(),
            ReportStatus::Disconnected,
            None,
            "Persona",
        ),
        (
            "persona:cxn_DEMO3".into(),
            ReportStatus::Disconnected,
            None,
            "Persona's window is spent (RateLimit-Remaining: 0): the lane waits for RateLimit-Reset, no 429",
        ),
        (
            "persona:cxn_DEMO4".into(),
            ReportStatus::Disconnected,
            None,
            "Persona, after the pause",
        ),
        (
            "persona:cxn_NOSUCH".into(),
            ReportStatus::Failed,
            Some("not_found"),
            "a connection Persona does not know (404)",
        ),
    ]
}

/// Run the tour; exit 0 when every target ended as scripted.
pub async fn run(format: Format) -> u8 {
    let json = format != Format::Table;
    let script = script();
    let targets: Vec<Target> = script
        .iter()
        .map(|(t, ..)| t.parse().expect("scripted targets are valid"))
        .collect();
    let seeded: Vec<&Target> = targets
        .iter()
        .filter(|t| !t.to_string().ends_with("NOSUCH"))
        .collect();
    // Persona allows 2 requests per 3-second window here, so the tour meets its rate limit.
    let config = FakeConfig {
        persona_rate_limit: 2,
        persona_rate_window: Duration::from_secs(3),
        ..FakeConfig::default()
    };
    let fakes = match start_fakes(&seeded, config).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot start the fakes: {e}");
            return crate::USAGE;
        }
    };
    fakes.seed(
        &serde_json::from_value(
            serde_json::json!({"tartan": [{"client_org": "globex", "terminated": true}]}),
        )
        .expect("valid seed"),
    );
    fakes.start_tartan_sync("initech", Duration::from_secs(2));
    let disconnector = pointed_at(&fakes)
        .wait_for_sync(Some(Duration::from_secs(10)))
        .sync_poll_interval(Duration::from_millis(500))
        .build()
        .expect("the fakes' URLs and keys are valid");

    if !json {
        eprintln!(
            "disconnect demo: {} targets against built-in fakes at http://{} (nothing leaves this machine)\n",
            targets.len(),
            fakes.addr()
        );
        let style = Style::for_stream(std::io::stderr().is_terminal());
        eprintln!("{}\n", scenario_table(&script, style));
    }
    let options = BulkOptions {
        concurrency: 4,
        per_vendor: [(Vendor::Persona, 1)].into_iter().collect(),
        ..BulkOptions::default()
    };
    let mut results = disconnector.disconnect_all(targets, options);
    let mut lines = Vec::new();
    while let Some(result) = results.next().await {
        lines.push(ReportLine::from_result(&result));
    }
    // In the script's order, so that the tour reads the same every time.
    lines.sort_by_key(|l| script.iter().position(|(t, ..)| *t == l.target));
    let mut out = Output::new(format);
    for line in &lines {
        out.print(line);
    }
    out.finish();
    let mut surprises = Vec::new();
    for (target, outcome, kind, _) in &script {
        let line = lines.iter().find(|l| &l.target == target);
        let ok = line.is_some_and(|l| {
            l.outcome == *outcome && l.error.as_ref().map(|e| e.kind.as_str()) == *kind
        });
        if !ok {
            surprises.push(target.clone());
        }
    }
    // Paced, not refused: every Persona target took one request although the window allows
    // two per 3 s, so the lane waited for the window instead of meeting 429s.
    let persona_targets = lines
        .iter()
        .filter(|l| l.target.starts_with("persona:"))
        .count();
    let paused = fakes.requests_to(Vendor::Persona).len() == persona_targets && persona_targets > 2;
    let waited = lines
        .iter()
        .any(|l| l.target == "tartan:initech" && l.attempts > 1);
    if !json {
        eprintln!(
            "\nPersona lane paced by its RateLimit headers, no 429: {}",
            if paused { "yes" } else { "no" }
        );
        eprintln!(
            "Tartan sync waited out: {}",
            if waited { "yes" } else { "no" }
        );
    }
    if surprises.is_empty() && paused && waited {
        if !json {
            eprintln!("demo complete: every outcome as scripted");
        }
        0
    } else {
        eprintln!("demo: unexpected outcome for {}", surprises.join(", "));
        1
    }
}

type Script = [(String, ReportStatus, Option<&'static str>, &'static str)];

/// The tour's targets and what each shows, fitted to the terminal.
fn scenario_table(script: &Script, style: Style) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["TARGET", "WHAT IT SHOWS"]);
    if let Some(width) = style.width {
        t.set_width(width);
    }
    for (target, _, _, shows) in script {
        t.add_row(vec![target.as_str(), shows]);
    }
    t
}
