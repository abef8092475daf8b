//! Operator mistakes are caught before anything is sent: a BOM, duplicates, a report that is the
//! input or not a report, a finished report run again. Against `disconnect-fakes`.

mod common;

use common::{against, run, stderr, stdout};
use disconnect_fakes::{FakeConfig, FakeServer, Vendor};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

async fn fakes() -> FakeServer {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    fakes.seed_live(Vendor::Tartan, "acme").unwrap();
    fakes.seed_live(Vendor::Persona, "cxn_1").unwrap();
    fakes
        .seed_live(Vendor::Leen, &format!("{ORG}/{CONN}"))
        .unwrap();
    fakes
}

/// A file saved with a BOM and CRLF line ends runs as written.
#[tokio::test]
async fn a_bom_and_crlf_input_runs() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("targets.txt");
    std::fs::write(&input, "\u{feff}persona:cxn_1\r\ntartan:acme\r\n").unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("--input").arg(&input);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fakes.journal().len(), 2);
}

/// The same connection named several times (a Leen UUID in upper case is the same one) is sent
/// once; the gate's count and the summary say how many duplicates were left out.
#[tokio::test]
async fn duplicates_are_sent_once() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("targets.txt");
    let leen = format!("leen:{ORG}/{CONN}");
    std::fs::write(
        &input,
        format!(
            "{leen}\npersona:cxn_1\ntartan:acme\n{}\npersona:cxn_1\ntartan:acme\n",
            leen.to_uppercase().replacen("LEEN:", "leen:", 1)
        ),
    )
    .unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("--input").arg(&input);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fakes.journal().len(), 3, "one request per connection");
    assert!(
        stderr(&out).contains("3 target(s) in") && stderr(&out).contains("3 duplicate(s) left out"),
        "{}",
        stderr(&out)
    );
    // The gate counts distinct targets.
    let many = dir.path().join("many.txt");
    let ids: Vec<String> = (0..12).map(|i| format!("persona:cxn_{i}\n")).collect();
    std::fs::write(&many, ids.concat().repeat(2)).unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("--input").arg(&many);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("About to disconnect 12 target(s) (12 duplicate(s) left out)"),
        "{}",
        stderr(&out)
    );
}

/// `--report` naming the input file, or a file that is not a report, is refused before anything
/// is sent, and the file is left as it was.
#[tokio::test]
async fn the_report_must_be_a_report_and_not_the_input() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("targets.txt");
    std::fs::write(&input, "persona:cxn_1\n").unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("--input").arg(&input).arg("--report").arg(&input);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("it is the --input file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "persona:cxn_1\n");

    let notes = dir.path().join("notes.csv");
    std::fs::write(&notes, "name,owner\nacme,alice\n").unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("persona:cxn_1").arg("--report").arg(&notes);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("it is not a disconnect report"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "name,owner\nacme,alice\n"
    );
    assert!(fakes.journal().is_empty(), "nothing was sent");
}

/// A report that already records a run is not run again without `--resume`: refused with the
/// hint, nothing sent. With `--resume`, a finished run sends nothing more.
#[tokio::test]
async fn a_finished_report_is_not_run_again() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("run.jsonl");
    let targets = ["persona:cxn_1", "tartan:acme"];
    let mut cmd = against(&fakes);
    cmd.arg("--report").arg(&report).args(targets);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(fakes.journal().len(), 2);
    let before = std::fs::read_to_string(&report).unwrap();

    let mut again = against(&fakes);
    again.arg("--report").arg(&report).args(targets);
    let out = run(again).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
    assert_eq!(fakes.journal().len(), 2, "nothing sent again");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), before);

    let mut resume = against(&fakes);
    resume
        .args(["--resume", "--report"])
        .arg(&report)
        .args(targets);
    let out = run(resume).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fakes.journal().len(),
        2,
        "a finished run has nothing left to send"
    );
    assert!(
        stderr(&out).contains("2 already done in the report"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
}

/// A run of more than 10 targets without `--report` is warned that it leaves no audit trail.
#[tokio::test]
async fn a_large_run_without_a_report_is_warned() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let ids: Vec<String> = (0..11).map(|i| format!("persona:cxn_w{i}")).collect();
    for id in &ids {
        fakes
            .seed_live(Vendor::Persona, id.strip_prefix("persona:").unwrap())
            .unwrap();
    }
    let mut cmd = against(&fakes);
    cmd.arg("--yes").args(&ids);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: no --report: this run of 11 targets leaves no audit trail"),
        "{}",
        stderr(&out)
    );
}

/// A key command that hangs is stopped at its timeout and named; nothing is sent.
#[tokio::test]
async fn a_hanging_key_command_fails_within_its_timeout() {
    let fakes = fakes().await;
    let mut cmd = common::disconnect();
    cmd.env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
        .args([
            "--persona-key-cmd",
            "sleep 600",
            "--key-cmd-timeout",
            "300ms",
            "persona:cxn_1",
        ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("key command (--persona-key-cmd) did not finish within 300ms"),
        "{}",
        stderr(&out)
    );
    assert!(fakes.journal().is_empty());
}

/// A key file with spaces around the key is refused naming the file, not PERSONA_API_KEY.
#[tokio::test]
async fn a_bad_key_names_its_real_source() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("persona.key");
    std::fs::write(&key, format!("  {}  \n", fakes.api_key(Vendor::Persona))).unwrap();
    let mut cmd = against(&fakes);
    cmd.arg("--persona-key-file").arg(&key).arg("persona:cxn_1");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("the key file {}", key.display())) && err.contains("spaces"),
        "{err}"
    );
    assert!(!err.contains("PERSONA_API_KEY"), "{err}");
    assert!(fakes.journal().is_empty());
}

/// A plain-http base URL to another host is refused naming the CLI flag that allows it.
#[test]
fn the_http_refusal_names_the_flag() {
    let out = common::disconnect()
        .env("LEEN_API_KEY", "k")
        .env("LEEN_BASE_URL", "http://10.1.2.3/v1")
        .arg(format!("leen:{ORG}/{CONN}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--allow-insecure-http")
            && stderr(&out).contains("allow_insecure_http = true"),
        "{}",
        stderr(&out)
    );
}

/// An https:// URL to the fakes' plain-http port says so in words.
#[tokio::test]
async fn tls_to_a_plain_http_port_says_so() {
    let fakes = fakes().await;
    let url = fakes
        .base_url(Vendor::Persona)
        .replace("http://", "https://");
    let mut cmd = common::disconnect();
    cmd.env("PERSONA_API_KEY", fakes.api_key(Vendor::Persona))
        .env("PERSONA_BASE_URL", url)
        .args(["--json", "persona:cxn_1"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("answered in plain http, not TLS"),
        "{}",
        stdout(&out)
    );
}

/// `disconnect man | head` ends quietly.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    let program = assert_cmd::cargo::cargo_bin("disconnect");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("'{}' man | head -n 1", program.display()))
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        !err.contains("Broken pipe") && !err.contains("panicked"),
        "{err}"
    );
}

/// A profile with a key_cmd in a file other users can write is refused, as ssh does.
#[cfg(unix)]
#[test]
fn a_writable_profile_with_a_key_cmd_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profiles.default.vendors.persona]\nkey_cmd = \"echo k\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o664)).unwrap();
    let out = common::disconnect()
        .arg("--config")
        .arg(&config)
        .args(["--dry-run", "persona:cxn_1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("holds a key_cmd") && err.contains("mode 664"),
        "{err}"
    );
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = common::disconnect()
        .arg("--config")
        .arg(&config)
        .args(["--dry-run", "persona:cxn_1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A target holding escape sequences never puts an ESC byte on the terminal, and a 10 kB id is
/// not echoed whole.
#[test]
fn escape_sequences_in_input_stay_text() {
    for target in [
        "persona:cxn_\u{1b}[31mRED\u{1b}]0;pwned\u{7}".to_string(),
        format!("tartan:{}", "\u{1b}[2J".repeat(2000)),
    ] {
        let out = common::disconnect()
            .env("PERSONA_API_KEY", "k")
            .env("TARTAN_API_KEY", "k")
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
        assert!(err.len() < 2048, "{} bytes", err.len());
    }
}

/// Without `USER`, the operator is `LOGNAME`, else the account's name; never `unknown` on an
/// ordinary account.
#[tokio::test]
async fn the_operator_falls_back_to_logname_and_the_account() {
    let fakes = fakes().await;
    let dir = tempfile::tempdir().unwrap();
    let header = |report: &std::path::Path| -> serde_json::Value {
        let text = std::fs::read_to_string(report).unwrap();
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    };
    let report = dir.path().join("logname.jsonl");
    let mut cmd = against(&fakes);
    cmd.env_remove("USER")
        .env_remove("USERNAME")
        .env("LOGNAME", "carol")
        .arg("--report")
        .arg(&report)
        .arg("persona:cxn_1");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(header(&report)["run"]["operator"], "carol");

    let report = dir.path().join("account.jsonl");
    let mut cmd = against(&fakes);
    cmd.env_remove("USER")
        .env_remove("USERNAME")
        .env_remove("LOGNAME")
        .arg("--report")
        .arg(&report)
        .arg("tartan:acme");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let operator = header(&report)["run"]["operator"].clone();
    assert!(
        operator
            .as_str()
            .is_some_and(|o| !o.is_empty() && o != "unknown"),
        "{operator}"
    );
}
