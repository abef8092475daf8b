//! The `disconnect` binary as an operator runs it, against `disconnect-fakes` on 127.0.0.1.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};

use common::{VARS, against, disconnect, run, stderr, stdout};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor};
use serde_json::{Value, json};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

async fn fakes() -> FakeServer {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    fakes.seed(
        &serde_json::from_value(json!({
            "tartan": [{"client_org": "acme"}, {"client_org": "globex", "terminated": true}],
            "persona": [{"id": "cxn_1"}],
            "leen": [{"organization_id": ORG, "connection_id": CONN}]
        }))
        .unwrap(),
    );
    fakes
}

/// The report's target lines (not its header, attempt or summary lines), skipping a torn last
/// line (left by a kill).
fn target_lines(report: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(report)
        .unwrap()
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .map(|l| serde_json::from_str::<Value>(l).expect("every whole line is JSON"))
        .filter(|l| l.get("target").is_some())
        .collect()
}

fn last_line(report: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(report).unwrap();
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}

#[test]
fn help() {
    let out = disconnect().arg("--help").output().unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn dry_run_prints_the_requests_and_sends_nothing() {
    // No server and no keys: a dry run needs neither.
    let out = disconnect()
        .args([
            "--dry-run",
            "tartan:acme",
            "persona:cxn_1",
            &format!("leen:{ORG}/{CONN}"),
        ])
        .env("LEEN_API_KEY", "sk_live_SECRET_LEEN")
        .env("LEEN_BASE_URL", "https://api.eu-c1.leen.dev/v1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("sk_live_SECRET_LEEN"));
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn table_output_and_exit_codes() {
    let fakes = fakes().await;
    let mut cmd = against(&fakes);
    cmd.args([
        "--concurrency",
        "1",
        "--progress",
        "tartan:acme",
        "tartan:globex",
        "persona:cxn_1",
        &format!("leen:{ORG}/{CONN}"),
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Lanes run side by side, so rows come in completion order: compare them sorted.
    let table = stdout(&out);
    // The fakes number request ids in arrival order, which varies between lanes too.
    let mut lines: Vec<String> = table
        .lines()
        .map(|l| match l.find("req_fake") {
            Some(at) => format!("{}req_fake########{}", &l[..at], &l[at + 16..]),
            None => l.to_string(),
        })
        .collect();
    // Border, header, separator, rows, border: sort the rows.
    let rows = 3..lines.len() - 1;
    lines[rows].sort_unstable();
    insta::assert_snapshot!(lines.join("\n"));
    assert!(
        stderr(&out).contains(": 4 done, 0 failed, 0 skipped"),
        "{}",
        stderr(&out)
    );

    // Any failure: exit 1, with the vendor's message in the table.
    let mut cmd = against(&fakes);
    cmd.args(["tartan:acme", "persona:cxn_missing"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let table = stdout(&out);
    assert!(
        table.contains("already_disconnected") && table.contains("failed: not_found"),
        "{table}"
    );
    assert!(table.contains("Record not found"), "{table}");
}

#[tokio::test]
async fn json_output_is_one_object_per_target_matching_the_schema() {
    let fakes = fakes().await;
    fakes.push_fault(
        Vendor::Leen,
        Fault::Status {
            status: 503,
            body: json!(null),
            headers: Default::default(),
            raw: None,
        },
    );
    let mut cmd = against(&fakes);
    cmd.args([
        "--json",
        "--concurrency",
        "1",
        "tartan:acme",
        "persona:cxn_nope",
        &format!("leen:{ORG}/{CONN}"),
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let schema: Value = serde_json::from_str(&stdout(
        &disconnect().arg("report-schema").output().unwrap(),
    ))
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for line in &lines {
        assert!(validator.is_valid(line), "{line}");
        for field in ["target", "outcome", "http_status", "request_id", "attempts"] {
            assert!(line.get(field).is_some(), "{field} missing: {line}");
        }
    }
    let by_target = |t: &str| lines.iter().find(|l| l["target"] == t).unwrap().clone();
    assert_eq!(by_target("tartan:acme")["outcome"], "disconnected");
    let failed = by_target("persona:cxn_nope");
    assert_eq!(
        (failed["outcome"].as_str(), failed["error"]["kind"].as_str()),
        (Some("failed"), Some("not_found"))
    );
    assert!(failed["request_id"].as_str().unwrap().starts_with("req_"));
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Record not found")
    );
    let leen = by_target(&format!("leen:{ORG}/{CONN}"));
    assert_eq!(
        (leen["outcome"].as_str(), leen["attempts"].as_u64()),
        (Some("disconnected"), Some(2)),
        "503 retried"
    );
}

#[test]
fn a_bad_target_is_a_usage_error_and_nothing_is_sent() {
    let out = disconnect()
        .args(["persona:cxn_1", "leen:not-a-uuid/x"])
        .env("PERSONA_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("argument 2: Leen organization id") && err.contains("not a UUID"),
        "{err}"
    );
    assert!(err.contains("nothing was sent"), "{err}");
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_missing_key_names_the_variable() {
    let out = disconnect().arg("tartan:acme").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("set TARTAN_API_KEY"),
        "{}",
        stderr(&out)
    );
    let out = disconnect()
        .args(["tartan:acme"])
        .env("TARTAN_BASE_URL", "http://10.1.2.3")
        .env("TARTAN_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("TARTAN_BASE_URL"), "{}", stderr(&out));
    let out = disconnect().output().unwrap();
    assert_eq!(out.status.code(), Some(2), "no targets at all");
}

#[tokio::test]
async fn key_files_and_input_files() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("persona.key");
    std::fs::write(&key_file, format!("{}\n", fakes.api_key(Vendor::Persona))).unwrap();
    let list = dir.path().join("targets.txt");
    std::fs::write(
        &list,
        "# offboarding ticket 42\ntartan:acme\n\n  persona:cxn_1  \nnot a target\n",
    )
    .unwrap();
    // One bad line stops the run before anything is sent...
    let mut cmd = against(&fakes);
    cmd.arg("--input").arg(&list);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("targets.txt:5: "), "{}", stderr(&out));
    assert!(fakes.journal().is_empty(), "nothing was sent");
    // ... unless the operator asks to go on without it: it is then recorded as invalid.
    let mut cmd = against(&fakes);
    cmd.env("PERSONA_API_KEY", "wrong")
        .arg("--persona-key-file")
        .arg(&key_file)
        .args(["--json", "--skip-invalid", "--input"])
        .arg(&list);
    let out = run(cmd).await;
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", stdout(&out));
    let bad = lines.iter().find(|l| l["outcome"] == "failed").unwrap();
    assert_eq!(bad["error"]["kind"], "invalid_target");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("targets.txt:5"),
        "{bad}"
    );
    assert_eq!(out.status.code(), Some(1));

    let csv = dir.path().join("targets.csv");
    std::fs::write(
        &csv,
        format!("ticket,target,owner\n1,leen:{ORG}/{CONN},ops\n2,\"tartan:globex\",ops\n"),
    )
    .unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("--json").arg("--input").arg(&csv);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(stdout(&out).lines().count(), 2);
}

#[test]
fn fake_mode_runs_offline() {
    let out = disconnect()
        .args([
            "--fake",
            "--json",
            "tartan:acme",
            "persona:cxn_x",
            &format!("leen:{ORG}/{CONN}"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out)
            .lines()
            .all(|l| l.contains("\"outcome\":\"disconnected\""))
    );
}

#[test]
fn the_demo_shows_every_outcome() {
    let out = disconnect().args(["--fake", "demo"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let table = stdout(&out);
    for outcome in ["disconnected", "already_disconnected", "failed: not_found"] {
        assert!(table.contains(outcome), "{table}");
    }
    assert!(stderr(&out).contains("Persona lane paced by its RateLimit headers, no 429: yes"));
    assert!(stderr(&out).contains("Waited out as scripted (tartan:initech): yes"));
}

#[test]
fn report_schema_is_json_schema() {
    let out = disconnect().arg("report-schema").output().unwrap();
    let schema: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(schema["title"], "disconnect report line");
    assert!(jsonschema::meta::is_valid(&schema));
}

/// Kill a bulk run with SIGKILL part-way, resume it, and find every target exactly once.
#[tokio::test]
async fn kill_9_then_resume_records_every_target_exactly_once() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let ids: Vec<String> = (0..60).map(|i| format!("cxn_bulk_{i:02}")).collect();
    fakes.seed(
        &serde_json::from_value(
            json!({"persona": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}),
        )
        .unwrap(),
    );
    for _ in 0..ids.len() {
        fakes.push_fault(Vendor::Persona, Fault::Delay { millis: 40 });
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("targets.txt");
    std::fs::write(
        &input,
        ids.iter()
            .map(|id| format!("persona:{id}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let report = dir.path().join("report.jsonl");

    let program = assert_cmd::cargo::cargo_bin("disconnect");
    let mut first = StdCommand::new(&program);
    for var in VARS {
        first.env_remove(var);
    }
    first
        .env("PERSONA_API_KEY", fakes.api_key(Vendor::Persona))
        .env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
        .args(["--yes", "--concurrency", "2", "--json", "--input"])
        .arg(&input)
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = first.spawn().unwrap();
    let pipe = child.stdout.take().unwrap();
    // Wait until some results are out (the pipe ends if the run dies), then SIGKILL.
    let seen = tokio::task::spawn_blocking(move || BufReader::new(pipe).lines().take(10).count())
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(seen, 10);
    let done_before = target_lines(&report).len();
    assert!(
        done_before >= 10 && done_before < ids.len(),
        "killed part-way: {done_before}"
    );

    let mut resume = against(&fakes);
    resume
        .args([
            "--yes",
            "--concurrency",
            "4",
            "--json",
            "--resume",
            "--input",
        ])
        .arg(&input)
        .arg("--report")
        .arg(&report);
    let out = run(resume).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let lines = target_lines(&report);
    let mut targets: Vec<String> = lines
        .iter()
        .map(|l| l["target"].as_str().unwrap().to_string())
        .collect();
    targets.sort();
    let mut expected: Vec<String> = ids.iter().map(|id| format!("persona:{id}")).collect();
    expected.sort();
    assert_eq!(targets, expected, "every target exactly once");
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"] == "disconnected" || l["outcome"] == "already_disconnected")
    );
    // The resumed run sent nothing for targets the report already had.
    assert_eq!(stdout(&out).lines().count(), ids.len() - done_before);
}

#[tokio::test]
async fn resume_cuts_a_torn_last_line() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let first_line = json!({"target": "tartan:acme", "vendor": "tartan", "outcome": "disconnected", "http_status": 200, "request_id": null, "attempts": 1, "elapsed_ms": 3, "finished_at": "2026-11-22T00:00:00.000Z", "error": null});
    std::fs::write(&report, format!("{first_line}\n{{\"target\": \"persona:cx")).unwrap();
    let mut cmd = against(&fakes);
    cmd.args(["--resume", "--report"])
        .arg(&report)
        .args(["tartan:acme", "persona:cxn_1"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = target_lines(&report);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["target"], "persona:cxn_1");
    assert_eq!(
        fakes.tartan_terminated("acme"),
        Some(false),
        "tartan:acme was skipped, not sent"
    );
}

/// Ctrl-C: no new calls start, the ones in flight finish and are recorded, exit 130.
#[tokio::test]
async fn ctrl_c_finishes_in_flight_calls_and_starts_no_new_ones() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let ids: Vec<String> = (0..40).map(|i| format!("cxn_int_{i:02}")).collect();
    fakes.seed(
        &serde_json::from_value(
            json!({"persona": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}),
        )
        .unwrap(),
    );
    for _ in 0..ids.len() {
        fakes.push_fault(Vendor::Persona, Fault::Delay { millis: 60 });
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("targets.txt");
    std::fs::write(
        &input,
        ids.iter()
            .map(|id| format!("persona:{id}\n"))
            .collect::<String>(),
    )
    .unwrap();
    let report = dir.path().join("report.jsonl");
    let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin("disconnect"));
    for var in VARS {
        cmd.env_remove(var);
    }
    cmd.env("PERSONA_API_KEY", fakes.api_key(Vendor::Persona))
        .env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
        .args(["--yes", "--concurrency", "3", "--json", "--input"])
        .arg(&input)
        .arg("--report")
        .arg(&report)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pipe = child.stdout.take().unwrap();
    let pid = child.id().to_string();
    let (first, rest) = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(pipe).lines();
        let first: Vec<String> = lines.by_ref().take(5).map(Result::unwrap).collect();
        assert!(
            StdCommand::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        (first, rest)
    })
    .await
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let printed = first.len() + rest.len();
    assert!(printed < ids.len(), "stopped early: {printed}");
    let lines = target_lines(&report);
    let summary = last_line(&report);
    assert_eq!(summary["summary"]["interrupted"], true, "{summary}");
    assert_eq!(lines.len(), printed, "the report has every finished target");
    // A line with no attempt closes an intent the stop caught before its request.
    let sent: Vec<&Value> = lines.iter().filter(|l| l["attempts"] != 0).collect();
    assert!(
        sent.iter().all(|l| l["outcome"] == "disconnected"),
        "{sent:?}"
    );
    assert_eq!(
        fakes.requests_to(Vendor::Persona).len(),
        sent.len(),
        "every request sent finished and was recorded"
    );
}

/// Persona stores a 5xx under its idempotency key and replays it to every later request with
/// that key. A run that ends on stored 500s records its last key; `--resume` continues the key
/// chain from there instead of meeting the replays.
#[tokio::test]
async fn resume_after_stored_persona_500s_does_not_meet_the_replay() {
    let fakes = fakes().await;
    for _ in 0..3 {
        fakes.push_fault(
            Vendor::Persona,
            Fault::status(500, json!({"errors": [{"title": "Internal error"}]})),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let mut first = against(&fakes);
    first.arg("--report").arg(&report).arg("persona:cxn_1");
    let out = run(first).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = target_lines(&report).remove(0);
    assert_eq!(line["http_status"], 500);
    assert_eq!(line["attempts"], 3);
    let last_key = line["idempotency_key"].as_str().unwrap().to_string();
    assert!(last_key.ends_with("-r2"), "{last_key}");

    let mut again = against(&fakes);
    again
        .args(["--resume", "--report"])
        .arg(&report)
        .arg("persona:cxn_1");
    let out = run(again).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let second = target_lines(&report).remove(1);
    assert_eq!(
        (&second["outcome"], &second["attempts"]),
        (&json!("disconnected"), &json!(1))
    );
    let keys: Vec<String> = fakes
        .requests_to(Vendor::Persona)
        .iter()
        .map(|r| r.header("idempotency-key").unwrap().to_string())
        .collect();
    let first_key = last_key.trim_end_matches("-r2");
    assert_eq!(
        keys,
        ["", "-r1", "-r2", "-r3"].map(|suffix| format!("{first_key}{suffix}")),
        "the rerun's one request used a key nothing was stored under"
    );
}

/// A revoked Persona key: after 3 consecutive 401s its lane stops, the rest of its targets are
/// recorded `skipped` (never sent), Leen carries on, the run exits 3 naming the key to fix, and
/// the summary line says so. With the key fixed, `--resume` finishes exactly the rest.
#[tokio::test]
async fn a_revoked_key_stops_its_lane_and_resume_finishes_the_skipped() {
    let fakes = fakes().await;
    let ids: Vec<String> = (0..8).map(|i| format!("cxn_key_{i}")).collect();
    fakes.seed(
        &serde_json::from_value(
            json!({"persona": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}),
        )
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let mut targets: Vec<String> = ids.iter().map(|id| format!("persona:{id}")).collect();
    targets.push(format!("leen:{ORG}/{CONN}"));

    let mut first = against(&fakes);
    first
        .env("PERSONA_API_KEY", "revoked")
        .args(["--concurrency", "1", "--report"])
        .arg(&report)
        .args(&targets);
    let out = run(first).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: persona: stopped after 3 consecutive 401 answers")
            && stderr(&out).contains("check PERSONA_API_KEY"),
        "{}",
        stderr(&out)
    );
    let lines = target_lines(&report);
    let outcome = |o: &str| lines.iter().filter(|l| l["outcome"] == o).count();
    assert_eq!(
        (
            outcome("failed"),
            outcome("skipped"),
            outcome("disconnected")
        ),
        (3, 5, 1)
    );
    assert_eq!(fakes.requests_to(Vendor::Persona).len(), 3);
    let summary = last_line(&report);
    assert_eq!(summary["summary"]["counts"]["persona"]["skipped"], 5);
    assert!(
        summary["summary"]["stopped_lanes"]["persona"]
            .as_str()
            .unwrap()
            .contains("PERSONA_API_KEY")
    );

    let mut again = against(&fakes);
    again
        .args(["--resume", "--report"])
        .arg(&report)
        .args(&targets);
    let out = run(again).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines = target_lines(&report);
    let resumed: Vec<&Value> = lines[9..].iter().collect();
    assert_eq!(
        resumed.len(),
        8,
        "the 3 failed and 5 skipped, not Leen again"
    );
    assert!(
        resumed.iter().all(|l| l["outcome"] == "disconnected"),
        "{resumed:?}"
    );
}

/// One run per report: a report locked by a running run is refused at start.
#[tokio::test]
async fn a_second_run_on_a_locked_report_is_refused() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.jsonl");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&report)
        .unwrap();
    held.try_lock().unwrap(); // what a running `disconnect --report` holds
    let mut cmd = against(&fakes);
    cmd.arg("--report").arg(&report).arg("tartan:acme");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("another disconnect run is using this report"),
        "{}",
        stderr(&out)
    );
    assert!(fakes.journal().is_empty(), "nothing was sent");
    drop(held);
    let mut cmd = against(&fakes);
    cmd.arg("--report").arg(&report).arg("tartan:acme");
    assert_eq!(
        run(cmd).await.status.code(),
        Some(0),
        "free again once released"
    );
}
