//! `--fake` and `disconnect demo`: the built-in fake vendors.

use std::time::Duration;

use disconnect::{BulkOptions, Disconnector, DisconnectorBuilder, Target, Vendor};
use disconnect_fakes::{DemoOutcome, DemoScene, FakeConfig, FakeServer};

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

/// What a demo scene expects of its report line: outcome and error kind.
fn expected(outcome: DemoOutcome) -> (ReportStatus, Option<&'static str>) {
    match outcome {
        DemoOutcome::Disconnected => (ReportStatus::Disconnected, None),
        DemoOutcome::AlreadyDisconnected => (ReportStatus::AlreadyDisconnected, None),
        DemoOutcome::Failed(kind) => (ReportStatus::Failed, Some(kind)),
        // An outcome this CLI does not know yet: never as scripted.
        _ => (ReportStatus::Failed, Some("unknown demo outcome")),
    }
}

/// Run the tour each fake vendor gives of itself; exit 0 when every target ended as scripted.
pub async fn run(format: Format) -> u8 {
    let json = format != Format::Table;
    let fakes = match FakeServer::start(disconnect_fakes::demo_config()).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot start the fakes: {e}");
            return crate::USAGE;
        }
    };
    let script = fakes.demo();
    let targets: Vec<Target> = script
        .iter()
        .map(|scene| {
            scene
                .target
                .parse()
                .expect("the fakes' demo targets are valid")
        })
        .collect();
    let disconnector = pointed_at(&fakes)
        .wait_for_sync(Some(Duration::from_secs(10)))
        .sync_poll_interval(Duration::from_millis(500))
        .build()
        .expect("the fakes' URLs and keys are valid");
    // The vendors whose rate limit the tour meets: one request at a time, so that their lane's
    // pacing shows.
    let paced: Vec<Vendor> = fakes
        .config()
        .rate_limits
        .keys()
        .copied()
        .filter(|v| disconnect_fakes::sends_rate_limit_headers(*v))
        .collect();

    if !json {
        eprintln!(
            "disconnect demo: {} targets against built-in fakes at http://{} (nothing leaves this machine)\n",
            targets.len(),
            fakes.addr()
        );
        let style = Style::for_stream(std::io::stderr().is_terminal());
        eprintln!("{}\n", scenario_table(&script, style));
    }
    let options = BulkOptions::default()
        .concurrency(4)
        .per_vendor(paced.iter().map(|v| (*v, 1)).collect());
    let mut results = disconnector.disconnect_all(targets, options);
    let mut lines = Vec::new();
    while let Some(result) = results.next().await {
        lines.push(ReportLine::from_result(&result));
    }
    // In the script's order, so that the tour reads the same every time.
    lines.sort_by_key(|l| script.iter().position(|s| s.target == l.target));
    let mut out = Output::new(format);
    for line in &lines {
        out.print(line);
    }
    out.finish();
    let mut surprises = Vec::new();
    for scene in &script {
        let (outcome, kind) = expected(scene.outcome);
        let line = lines.iter().find(|l| l.target == scene.target);
        let ok = line.is_some_and(|l| {
            l.outcome == outcome
                && l.error.as_ref().map(|e| e.kind.as_str()) == kind
                && (!scene.retried || l.attempts > 1)
        });
        if !ok {
            surprises.push(scene.target.clone());
        }
    }
    // Paced, not refused: every target of a paced vendor took one request although its
    // window is smaller than its share of the tour, so the lane waited for the window
    // instead of meeting 429s.
    let mut all_paced = true;
    for vendor in &paced {
        let sent = lines
            .iter()
            .filter(|l| l.vendor.as_deref() == Some(vendor.id()))
            .count();
        let limit = fakes.config().rate_limits[vendor].requests as usize;
        let ok = fakes.requests_to(*vendor).len() == sent && sent > limit;
        all_paced &= ok;
        if !json {
            eprintln!(
                "\n{vendor} lane paced by its RateLimit headers, no 429: {}",
                if ok { "yes" } else { "no" }
            );
        }
    }
    let retried: Vec<&str> = script
        .iter()
        .filter(|s| s.retried)
        .map(|s| s.target.as_str())
        .collect();
    if !json && !retried.is_empty() {
        eprintln!(
            "Waited out as scripted ({}): {}",
            retried.join(", "),
            if surprises.iter().any(|s| retried.contains(&s.as_str())) {
                "no"
            } else {
                "yes"
            }
        );
    }
    if surprises.is_empty() && all_paced {
        if !json {
            eprintln!("demo complete: every outcome as scripted");
        }
        0
    } else {
        eprintln!("demo: unexpected outcome for {}", surprises.join(", "));
        1
    }
}

/// The tour's targets and what each shows, fitted to the terminal.
fn scenario_table(script: &[DemoScene], style: Style) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["TARGET", "WHAT IT SHOWS"]);
    if let Some(width) = style.width {
        t.set_width(width);
    }
    for scene in script {
        t.add_row(vec![scene.target.as_str(), scene.shows]);
    }
    t
}
