//! What an operator relies on: CSV output, the audit report (header, run ids, summary,
//! `report summarize`), the confirmation gate (with and without a terminal), key commands and
//! profiles. Against `disconnect-fakes` on 127.0.0.1.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{against, disconnect, run, stderr, stdout};
use disconnect_fakes::{FakeConfig, FakeServer, Vendor};
use serde_json::{Value, json};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

async fn fakes(persona: usize) -> FakeServer {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let ids: Vec<Value> = (0..persona)
        .map(|i| json!({"id": format!("cxn_{i:02}")}))
        .collect();
    fakes.seed(
        &serde_json::from_value(json!({
            "tartan": [{"client_org": "acme"}, {"client_org": "globex", "terminated": true}],
            "persona": ids,
            "leen": [{"organization_id": ORG, "connection_id": CONN}]
        }))
        .unwrap(),
    );
    fakes
}

fn persona_targets(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("persona:cxn_{i:02}")).collect()
}

fn lines(report: &Path) -> Vec<Value> {
    std::fs::read_to_string(report)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `--output csv` has the report's fields: each CSV row, read back with the `csv` crate, equals
/// the report's line for that target.
#[tokio::test]
async fn csv_output_round_trips() {
    let fakes = fakes(1).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let mut cmd = against(&fakes);
    cmd.args(["--output", "csv", "--report"])
        .arg(&report)
        .args([
            "tartan:acme",
            "tartan:globex",
            "persona:cxn_00",
            "persona:cxn_missing",
        ])
        .arg(format!("leen:{ORG}/{CONN}"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header[..4], ["run_id", "target", "vendor", "outcome"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let recorded: Vec<Value> = lines(&report)
        .into_iter()
        .filter(|l| l.get("target").is_some())
        .collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(recorded.len(), 5);
    let text = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    for row in &rows {
        let field = |name: &str| {
            row.get(header.iter().position(|h| h == name).unwrap())
                .unwrap()
        };
        let line = recorded
            .iter()
            .find(|l| l["target"] == field("target"))
            .unwrap();
        for name in [
            "run_id",
            "vendor",
            "outcome",
            "http_status",
            "request_id",
            "attempts",
            "elapsed_ms",
            "finished_at",
        ] {
            assert_eq!(field(name), text(&line[name]), "{name} of {line}");
        }
        let error = &line["error"];
        assert_eq!(field("error_kind"), text(&error["kind"]));
        assert_eq!(field("error_message"), text(&error["message"]));
        assert_eq!(field("retryable"), text(&error["retryable"]));
    }
    let missing = rows
        .iter()
        .find(|r| &r[1] == "persona:cxn_missing")
        .unwrap();
    assert_eq!(&missing[3], "failed");
}

/// The report starts with a header (who, why, tool version, each vendor's spec sha256 and base
/// URL, the input's sha256, the options) and ends with a summary; every line has the run's id;
/// header and summary validate against `report schema`; no key appears anywhere.
#[tokio::test]
async fn the_report_is_an_audit_record() {
    let fakes = fakes(2).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let input = dir.path().join("targets.txt");
    std::fs::write(&input, "# offboarding\ntartan:acme\npersona:cxn_01\n").unwrap();
    let mut cmd = against(&fakes);
    cmd.args([
        "--operator",
        "alice@example.com",
        "--reason",
        "JIRA-4242",
        "--report",
    ])
    .arg(&report)
    .arg("--input")
    .arg(&input)
    .arg("persona:cxn_00");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("report: {}", report.display())),
        "the summary names the report: {}",
        stderr(&out)
    );

    let all = lines(&report);
    let header = &all[0]["run"];
    let run_id = header["run_id"].as_str().unwrap();
    assert_eq!(header["operator"], "alice@example.com");
    assert_eq!(header["reason"], "JIRA-4242");
    assert_eq!(
        header["tool"],
        format!("disconnect {}", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(header["input"]["arguments"], 1);
    assert_eq!(
        header["input"]["sha256"],
        sha256_hex(&std::fs::read(&input).unwrap())
    );
    for (id, vendor) in [
        ("tartan", Vendor::Tartan),
        ("persona", Vendor::Persona),
        ("leen", Vendor::Leen),
    ] {
        let v = &header["vendors"][id];
        assert_eq!(v["base_url"], fakes.base_url(vendor));
        let sha = v["spec_sha256"].as_str().unwrap();
        assert!(sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()));
    }
    assert_eq!(
        header["vendors"]["persona"]["spec_sha256"],
        sha256_hex(
            &std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/persona-connect.yaml")
            )
            .unwrap()
        )
    );
    assert_eq!(header["options"]["concurrency"], 8);
    assert_eq!(
        all.len(),
        8,
        "header, an attempt line and a result line per target, summary"
    );
    // Each target's attempt line (its intent, synced before the request) comes before its
    // result line; every line carries the run's id.
    for (i, line) in all
        .iter()
        .enumerate()
        .filter(|(_, l)| l.get("target").is_some())
    {
        assert_eq!(line["run_id"], run_id);
        let attempt = all[..i]
            .iter()
            .position(|a| a["attempt"]["target"] == line["target"])
            .unwrap_or_else(|| panic!("no attempt line before {line}"));
        assert_eq!(all[attempt]["attempt"]["run_id"], run_id);
    }
    assert_eq!(all[7]["summary"]["run_id"], run_id);
    assert_eq!(all[7]["summary"]["not_started"], 0);
    assert_eq!(all[7]["summary"]["in_doubt"], 0);

    let text = std::fs::read_to_string(&report).unwrap();
    for vendor in [Vendor::Tartan, Vendor::Persona, Vendor::Leen] {
        assert!(!text.contains(fakes.api_key(vendor)), "a key in the report");
    }

    let schema_out = disconnect().args(["report", "schema"]).output().unwrap();
    let schema: Value = serde_json::from_slice(&schema_out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for line in &all {
        let errors: Vec<String> = validator.iter_errors(line).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{line}: {errors:?}");
    }
    // And the schema tells the kinds apart: a header missing its run id is not a report line.
    let mut broken = all[0].clone();
    broken["run"].as_object_mut().unwrap().remove("run_id");
    assert!(!validator.is_valid(&broken));
}

/// `report summarize` on a report whose run was killed mid-line: the run is "cut short", the
/// torn line is named, the counts are those of the whole lines.
#[tokio::test]
async fn report_summarize_reads_a_report_cut_mid_line() {
    let fakes = fakes(3).await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let mut cmd = against(&fakes);
    cmd.args(["--operator", "bob", "--report"])
        .arg(&report)
        .args(["tartan:acme", "tartan:globex"])
        .args(persona_targets(3));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let complete = disconnect()
        .args(["report", "summarize"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(complete.status.code(), Some(0));
    let text = stdout(&complete);
    assert!(text.contains("1 run(s), 5 target line(s)"), "{text}");
    assert!(
        text.contains("by bob") && text.contains("finished"),
        "{text}"
    );
    assert!(text.contains("5 distinct, 5 done"), "{text}");

    // Keep every line up to the third target line, and half of the next one: a run killed
    // there. Targets whose attempt line is kept without their result are in doubt.
    let full = std::fs::read_to_string(&report).unwrap();
    let parsed: Vec<Value> = full
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let third = parsed
        .iter()
        .enumerate()
        .filter(|(_, l)| l.get("target").is_some())
        .nth(2)
        .unwrap()
        .0;
    let kept: Vec<&str> = full.lines().take(third + 2).collect();
    let torn = &kept[third + 1][..kept[third + 1].len() / 2];
    std::fs::write(&report, format!("{}\n{torn}", kept[..=third].join("\n"))).unwrap();
    let sent = parsed[..=third]
        .iter()
        .filter(|l| l.get("attempt").is_some())
        .count();
    let cut = disconnect()
        .args(["report", "summarize"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(cut.status.code(), Some(0), "{}", stderr(&cut));
    let text = stdout(&cut);
    assert!(text.contains("1 run(s), 3 target line(s)"), "{text}");
    assert!(text.contains("cut short: no summary line"), "{text}");
    assert!(text.contains("the last line is cut"), "{text}");
    assert!(
        text.contains(&format!(
            "{sent} distinct, 3 done (disconnected or already), {} in doubt",
            sent - 3
        )),
        "{text}"
    );
    if sent > 3 {
        assert!(
            text.contains(&format!(
                "{} target(s) sent with no recorded result: in doubt",
                sent - 3
            )),
            "{text}"
        );
    }

    let missing = disconnect()
        .args(["report", "summarize", "/nonexistent/report.jsonl"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read"));
}

/// More than 10 targets without a terminal and without `--yes`: refused with the counts and
/// base URLs, nothing sent. With `--yes`: sent.
#[tokio::test]
async fn a_large_run_without_a_terminal_needs_yes() {
    let fakes = fakes(11).await;
    let mut cmd = against(&fakes);
    cmd.args(persona_targets(11));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("About to disconnect 11 target(s)"), "{err}");
    assert!(err.contains(&fakes.base_url(Vendor::Persona)), "{err}");
    assert!(err.contains("pass --yes"), "{err}");
    assert!(fakes.journal().is_empty(), "nothing was sent");

    // Ten are a handful: no question.
    let mut small = against(&fakes);
    small.args(persona_targets(10));
    assert_eq!(run(small).await.status.code(), Some(0));

    let mut yes = against(&fakes);
    yes.arg("--yes").args(persona_targets(11));
    let out = run(yes).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fakes.requests_to(Vendor::Persona).len(), 21);
}

/// On a terminal (a pseudo-terminal here) the question is asked: "n" sends nothing, "y" runs.
#[tokio::test]
async fn a_large_run_on_a_terminal_asks_first() {
    let fakes = fakes(12).await;
    let session = |answer: &'static str, fakes: &FakeServer| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("disconnect"));
        for var in common::VARS {
            cmd.env_remove(var);
        }
        cmd.env("PERSONA_API_KEY", fakes.api_key(Vendor::Persona))
            .env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .env("NO_COLOR", "1")
            .args(persona_targets(12));
        move || {
            let mut p = expectrl::Session::spawn(cmd).unwrap();
            p.set_expect_timeout(Some(Duration::from_secs(30)));
            p.expect("About to disconnect 12 target(s)").unwrap();
            p.expect("[y/N]").unwrap();
            p.send_line(answer).unwrap();
            p.expect(expectrl::Eof).unwrap();
            match p.get_process().wait().unwrap() {
                expectrl::WaitStatus::Exited(_, code) => code,
                other => panic!("{other:?}"),
            }
        }
    };
    let declined = tokio::task::spawn_blocking(session("n", &fakes))
        .await
        .unwrap();
    assert_eq!(declined, 2);
    assert!(fakes.journal().is_empty(), "declined: nothing was sent");

    let accepted = tokio::task::spawn_blocking(session("y", &fakes))
        .await
        .unwrap();
    assert_eq!(accepted, 0);
    assert_eq!(fakes.requests_to(Vendor::Persona).len(), 12);
}

/// A key can come from a command's output; a command that fails stops the run before anything
/// is sent, naming the flag, never the output.
#[tokio::test]
async fn a_key_from_a_command() {
    let fakes = fakes(1).await;
    let key = fakes.api_key(Vendor::Persona).to_string();
    let mut cmd = disconnect();
    cmd.env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
        .arg("--persona-key-cmd")
        .arg(format!("printf '%s\\n' '{key}'"))
        .arg("persona:cxn_00");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stdout(&out).contains(&key) && !stderr(&out).contains(&key));

    let mut failing = disconnect();
    failing
        .env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
        .args([
            "--persona-key-cmd",
            "echo half-a-secret; echo vault locked >&2; exit 7",
            "persona:cxn_00",
        ]);
    let out = run(failing).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--persona-key-cmd")
            && err.contains("failed")
            && err.contains("nothing was sent"),
        "{err}"
    );
    assert!(
        err.contains("vault locked"),
        "the command's stderr is shown: {err}"
    );
    assert!(!err.contains("half-a-secret") && !stdout(&out).contains("half-a-secret"));
    assert_eq!(
        fakes.requests_to(Vendor::Persona).len(),
        1,
        "only the first run sent"
    );
}

/// A profile supplies base URL, key command and options; environment and flags override it.
#[tokio::test]
async fn a_profile_overrides_defaults_and_flags_override_it() {
    let fakes = fakes(3).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let key = fakes.api_key(Vendor::Persona);
    std::fs::write(
        &config,
        format!(
            "[profiles.default]\nconcurrency = 5\n\n\
             [profiles.eu]\nconcurrency = 3\ndeadline = \"45s\"\noperator = \"eu-offboarding\"\n\n\
             [profiles.eu.vendors.persona]\nbase_url = \"{}\"\nkey_cmd = \"printf %s {key}\"\nrate = \"600/min\"\n",
            fakes.base_url(Vendor::Persona)
        ),
    )
    .unwrap();
    let header = |report: &Path| lines(report)[0]["run"].clone();

    // The profile alone: its base URL and key command reach Persona, its options are in effect.
    let report = dir.path().join("eu.jsonl");
    let mut cmd = disconnect();
    cmd.arg("--config")
        .arg(&config)
        .args(["--profile", "eu", "--report"])
        .arg(&report)
        .arg("persona:cxn_00");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let h = header(&report);
    assert_eq!(h["options"]["concurrency"], 3);
    assert_eq!(h["options"]["deadline"], "45s");
    assert_eq!(h["options"]["rates"]["persona"], "600/min");
    assert_eq!(h["options"]["profile"], "eu");
    assert_eq!(h["operator"], "eu-offboarding");
    assert_eq!(
        h["vendors"]["persona"]["base_url"],
        fakes.base_url(Vendor::Persona)
    );

    // Flags override it: a key command on the command line wins over the profile's (which now
    // would fail), and --concurrency over its concurrency.
    let report = dir.path().join("flags.jsonl");
    let mut cmd = disconnect();
    cmd.env("DISCONNECT_CONFIG", &config)
        .env("DISCONNECT_PROFILE", "eu")
        .args(["--concurrency", "2", "--operator", "carol"])
        .arg("--persona-key-cmd")
        .arg(format!("printf %s {key}"))
        .arg("--report")
        .arg(&report)
        .arg("persona:cxn_01");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let h = header(&report);
    assert_eq!(h["options"]["concurrency"], 2);
    assert_eq!(h["operator"], "carol");

    // The environment's key overrides the profile's key command: a wrong one is refused.
    let mut cmd = disconnect();
    cmd.arg("--config")
        .arg(&config)
        .args(["--profile", "eu"])
        .env("PERSONA_API_KEY", "wrong")
        .arg("persona:cxn_02");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("unauthorized"), "{}", stdout(&out));

    // Without --profile the file's `default` applies.
    let report = dir.path().join("default.jsonl");
    let mut cmd = against(&fakes);
    cmd.arg("--config")
        .arg(&config)
        .arg("--report")
        .arg(&report)
        .arg("tartan:acme");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(header(&report)["options"]["concurrency"], 5);

    // A profile that is not there, and a typo in the file, are named with the file and line.
    let out = disconnect()
        .arg("--config")
        .arg(&config)
        .args(["--profile", "us", "persona:cxn_00"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no profile `us` (profiles: default, eu)"));
    std::fs::write(&config, "[profiles.eu]\nconcurrency = 3\nconcurency = 4\n").unwrap();
    let out = disconnect()
        .arg("--config")
        .arg(&config)
        .args(["--profile", "eu", "persona:cxn_00"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("{}: line 3, column 1", config.display())),
        "{}",
        stderr(&out)
    );
}

#[test]
fn completions_and_man_page() {
    for (shell, marker) in [
        ("bash", "_disconnect()"),
        ("zsh", "#compdef disconnect"),
        ("fish", "complete -c disconnect"),
    ] {
        let out = disconnect().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = stdout(&out);
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("persona-key-cmd"), "{shell}");
    }
    let out = disconnect().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH disconnect"),
        "{page}"
    );
    assert!(
        page.contains(".TH disconnect") && page.contains("\\-\\-yes"),
        "{page}"
    );
}

/// Every vendor of `specs/vendors.toml` has its key flags (see CONTRIBUTING.md).
#[test]
fn every_vendor_has_its_key_flags() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/vendors.toml"),
    )
    .unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let help = stdout(&disconnect().arg("--help").output().unwrap());
    for id in file["vendors"].as_table().unwrap().keys() {
        for flag in [format!("--{id}-key-file"), format!("--{id}-key-cmd")] {
            assert!(help.contains(&flag), "{flag} is missing from --help");
        }
    }
}
