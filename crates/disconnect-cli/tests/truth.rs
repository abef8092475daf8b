//! The report tells the truth when the run does not go to plan: Ctrl-C while a lane waits, a
//! report that cannot be written mid-run, answers lost after the vendor acted, and a kill
//! between a request and its recorded result. Against `disconnect-fakes` on 127.0.0.1; no
//! assertion on durations (a wait bound only keeps a broken build from hanging).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use common::{against, run, spawn_against, stderr};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor};
use serde_json::{Value, json};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";

/// Every whole line of a report, parsed.
fn report_lines(report: &Path) -> Vec<Value> {
    std::fs::read_to_string(report)
        .unwrap()
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str(l).expect("every whole line is JSON"))
        .collect()
}

/// Each target's last result line.
fn final_words(report: &Path) -> std::collections::BTreeMap<String, Value> {
    report_lines(report)
        .into_iter()
        .filter(|l| l.get("target").is_some())
        .map(|l| (l["target"].as_str().unwrap().to_string(), l))
        .collect()
}

/// Wait for the child to exit, polling; panics after `bound` (a hang, not a measurement).
fn wait_exit(child: &mut Child, bound: Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < bound,
            "the run did not end within {bound:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, name: &str) {
    let status = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

/// Persona allows 3 requests per 10 minutes. After 3 results the lane waits for the window;
/// Ctrl-C stops the run at once: no request reaches Persona after it, the run exits 130 long
/// before the window, and the summary (stderr and report) says interrupted with the counts.
#[tokio::test]
async fn ctrl_c_while_a_lane_waits_sends_nothing_more() {
    let fakes = FakeServer::start(FakeConfig::default().with_rate_limit(
        Vendor::Persona,
        3,
        Duration::from_secs(600),
    ))
    .await
    .unwrap();
    let ids: Vec<String> = (0..12).map(|i| format!("cxn_wait_{i:02}")).collect();
    for id in &ids {
        fakes.seed_live(Vendor::Persona, id).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let mut cmd = spawn_against(&fakes);
    cmd.args(["--yes", "--json", "--concurrency", "2", "--report"])
        .arg(&report)
        .args(ids.iter().map(|id| format!("persona:{id}")))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let (first, lines) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
        // Let the lane settle into its wait.
        std::thread::sleep(Duration::from_millis(300));
        (first, lines)
    })
    .await
    .unwrap();
    assert_eq!(first.len(), 3, "three results before the window is spent");
    let sent_at_signal = fakes.requests_to(Vendor::Persona).len();
    signal(&child, "INT");
    let (status, printed, err) = tokio::task::spawn_blocking(move || {
        let status = wait_exit(&mut child, Duration::from_secs(60));
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        let mut err = String::new();
        stderr_pipe.read_to_string(&mut err).unwrap();
        let printed: Vec<Value> = first
            .iter()
            .chain(&rest)
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (status, printed, err)
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    let sent = fakes.requests_to(Vendor::Persona).len();
    assert_eq!(
        sent, sent_at_signal,
        "no request reached Persona after Ctrl-C"
    );
    let (done, unsent): (Vec<&Value>, Vec<&Value>) =
        printed.iter().partition(|l| l["attempts"] != 0);
    assert_eq!(done.len(), sent, "one result per request sent");
    assert!(done.iter().all(|l| l["outcome"] == "disconnected"));
    // Targets whose intents were recorded ahead and that were never sent close their attempt
    // lines: skipped, interrupted, nothing sent.
    for line in unsent {
        assert_eq!(
            (&line["outcome"], &line["error"]["kind"]),
            (&json!("skipped"), &json!("interrupted")),
            "{line}"
        );
    }

    let lines = report_lines(&report);
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["interrupted"], true, "{summary}");
    assert_eq!(summary["counts"]["persona"]["disconnected"], sent);
    let intents = lines.iter().filter(|l| l.get("attempt").is_some()).count();
    let closed = lines.iter().filter(|l| l.get("target").is_some()).count();
    assert_eq!(
        intents, closed,
        "every attempt line has its result line: none in doubt"
    );
    assert_eq!(summary["not_started"], ids.len() - sent, "{summary}");
    assert_eq!(summary["in_doubt"], 0);
    assert!(
        err.contains("interrupted: no new requests are sent"),
        "{err}"
    );
    assert!(err.contains("interrupted after "), "{err}");
    assert!(
        err.contains(&format!(
            "{sent} target(s) finished: {sent} done, 0 failed, 0 skipped; {} never started",
            ids.len() - sent
        )),
        "{err}"
    );
}

/// The report's file may grow to 6 KiB (`ulimit -f`): the header and a few targets fit, then
/// every write fails with EFBIG, as on a full disk. Sending stops at the first failed write;
/// every request the fake received is in the report or printed as a JSON line; the report holds
/// only whole lines; the exit status is 4 and the message counts what was sent but not recorded.
#[tokio::test]
async fn a_report_that_fails_mid_run_loses_no_cut() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let orgs: Vec<String> = (0..60).map(|i| format!("org-{i:02}")).collect();
    for org in &orgs {
        fakes.seed_live(Vendor::Tartan, org).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let input = dir.path().join("targets.txt");
    std::fs::write(
        &input,
        orgs.iter()
            .map(|o| format!("tartan:{o}\n"))
            .collect::<String>(),
    )
    .unwrap();
    // bash's `ulimit -f` counts KiB; an ignored SIGXFSZ is inherited through exec, so a write
    // past the limit fails with EFBIG instead of killing the process.
    let program = assert_cmd::cargo::cargo_bin("disconnect");
    let script = format!(
        "ulimit -f 6; trap '' XFSZ; exec '{}' --yes --concurrency 4 --input '{}' --report '{}'",
        program.display(),
        input.display(),
        report.display()
    );
    let env = spawn_against(&fakes);
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c").arg(script);
    for (k, v) in env.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(4), "{err}");

    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.ends_with('\n'), "no torn line is left behind");
    let lines = report_lines(&report);
    assert!(lines.len() > 2, "the header and some targets fit");
    let recorded: BTreeSet<String> = lines
        .iter()
        .filter(|l| l["attempts"].as_u64().is_some_and(|n| n > 0))
        .map(|l| l["target"].as_str().unwrap().to_string())
        .collect();
    let printed: BTreeSet<String> = err
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["attempts"].as_u64().is_some_and(|n| n > 0))
        .map(|l| l["target"].as_str().unwrap().to_string())
        .collect();
    let requested: BTreeSet<String> = fakes
        .requests_to(Vendor::Tartan)
        .iter()
        .map(|r| match &r.body {
            disconnect_fakes::RecordedBody::Multipart(parts) => {
                format!("tartan:{}", parts[0].1)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(requested.len() < orgs.len(), "sending stopped early");
    let accounted: BTreeSet<String> = recorded.union(&printed).cloned().collect();
    assert_eq!(
        requested, accounted,
        "every request is in the report or in the output"
    );
    assert!(
        err.contains(&format!(
            "{} target(s) were sent whose result is not in the report",
            printed.len()
        )),
        "{err}"
    );
}

/// For every vendor, each request's answer is lost after the vendor acted: every target's final
/// word is `disconnected` (confirmed after a lost answer where the vendor said "gone"), exit 0.
#[tokio::test]
async fn lost_answers_at_every_vendor_are_disconnects() {
    let (fakes, targets) = seeded_everywhere().await;
    for vendor in Vendor::ALL {
        fakes.push_fault(vendor, Fault::DropAnswer { millis: 0 });
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let mut cmd = against(&fakes);
    cmd.arg("--report").arg(&report).args(&targets);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    every_target_disconnected(&report, &targets);
    clean_pass_finds_everything_gone(&fakes, &targets, dir.path()).await;
}

/// A run killed (SIGKILL) while its requests are on the wire, after the vendors acted and
/// before any answer: the report holds their attempt lines and no result. `--resume` treats
/// them as in doubt, and the vendors' "gone" answers make every target `disconnected`.
#[tokio::test]
async fn a_kill_between_intent_and_result_then_resume_confirms_every_cut() {
    let (fakes, targets) = seeded_everywhere().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let mut child = answers_held(&fakes, &targets, &report).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let lines = report_lines(&report);
    let attempts = lines.iter().filter(|l| l.get("attempt").is_some()).count();
    assert_eq!(
        attempts,
        targets.len(),
        "every intent was durable before its request"
    );
    assert!(final_words(&report).is_empty(), "no answer was recorded");

    let summarize = run({
        let mut c = common::disconnect();
        c.args(["report", "summarize"]).arg(&report);
        c
    })
    .await;
    let text = String::from_utf8(summarize.stdout).unwrap();
    assert!(
        text.contains(&format!("{} in doubt", targets.len())),
        "{text}"
    );

    resume_confirms_every_cut(&fakes, &targets, &report).await;
    clean_pass_finds_everything_gone(&fakes, &targets, dir.path()).await;
}

/// The CLI run on `targets` with `--report`, once every vendor received its request, acted,
/// and holds its answer (for two minutes): its requests are on the wire. Stderr is piped.
async fn answers_held(fakes: &FakeServer, targets: &[String], report: &Path) -> Child {
    for vendor in Vendor::ALL {
        fakes.push_fault(vendor, Fault::DropAnswer { millis: 120_000 });
    }
    let mut cmd = spawn_against(fakes);
    cmd.arg("--report")
        .arg(report)
        .args(targets)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let start = std::time::Instant::now();
    while fakes.journal().len() < targets.len() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "requests never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child
}

/// One live connection at each vendor, and the targets naming them.
async fn seeded_everywhere() -> (FakeServer, Vec<String>) {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    fakes.seed(
        &serde_json::from_value(json!({
            "tartan": [{"client_org": "acme"}],
            "persona": [{"id": "cxn_lost"}],
            "leen": [{"organization_id": ORG, "connection_id": "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706"}]
        }))
        .unwrap(),
    );
    let targets = vec![
        "tartan:acme".to_string(),
        "persona:cxn_lost".to_string(),
        format!("leen:{ORG}/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706"),
    ];
    (fakes, targets)
}

/// A fresh run (a new report, a new Persona operation so that no stored answer is replayed,
/// Leen's 404 taken as gone) finds every connection already cut.
async fn clean_pass_finds_everything_gone(fakes: &FakeServer, targets: &[String], dir: &Path) {
    let report = dir.join("clean.jsonl");
    let mut cmd = against(fakes);
    cmd.args(["--operation-id", "clean-pass", "--not-found-ok", "--report"])
        .arg(&report)
        .args(targets);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let words = final_words(&report);
    assert_eq!(words.len(), targets.len());
    for (target, line) in words {
        assert_eq!(line["outcome"], "already_disconnected", "{target}: {line}");
    }
}

/// Ctrl-C twice while requests are on the wire (the vendors acted, their answers are held): the
/// second abandons them, each recorded `unknown` (abandoned, in doubt); exit 130; `--resume`
/// confirms every cut.
#[tokio::test]
async fn a_second_ctrl_c_abandons_calls_in_flight_as_in_doubt() {
    let (fakes, targets) = seeded_everywhere().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let mut child = answers_held(&fakes, &targets, &report).await;
    signal(&child, "INT");
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&child, "INT");
    let (status, err) = tokio::task::spawn_blocking(move || {
        let status = wait_exit(&mut child, Duration::from_secs(60));
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status, err)
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("3 request(s) on the wire"), "{err}");
    assert!(err.contains("3 in doubt"), "{err}");
    let words = final_words(&report);
    assert_eq!(words.len(), targets.len());
    for (target, line) in &words {
        assert_eq!(line["outcome"], "unknown", "{target}: {line}");
        assert_eq!(line["error"]["kind"], "abandoned", "{line}");
        assert_eq!(line["in_doubt"], true, "{line}");
    }
    let lines = report_lines(&report);
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["in_doubt"], 3, "{summary}");
    assert_eq!(
        fakes.journal().len(),
        targets.len(),
        "nothing sent after Ctrl-C"
    );

    resume_confirms_every_cut(&fakes, &targets, &report).await;
}

/// `--resume` on a report whose targets are in doubt: every target's final word is
/// `disconnected`, confirmed after a lost answer where the vendor said "gone" (Persona replays
/// its stored 200 to the same key).
async fn resume_confirms_every_cut(fakes: &FakeServer, targets: &[String], report: &Path) {
    let mut resume = against(fakes);
    resume
        .args(["--resume", "--report"])
        .arg(report)
        .args(targets);
    let out = run(resume).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    every_target_disconnected(report, targets);
}

/// Every target's final word in the report is `disconnected`, confirmed after a lost answer
/// exactly where the vendor's last answer was not a success (409, 404).
fn every_target_disconnected(report: &Path, targets: &[String]) {
    let words = final_words(report);
    assert_eq!(words.len(), targets.len());
    for (target, line) in words {
        assert_eq!(line["outcome"], "disconnected", "{target}: {line}");
        assert_eq!(
            line["confirmed_after_lost_answer"] == true,
            line["http_status"] != 200,
            "{line}"
        );
    }
}
