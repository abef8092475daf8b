//! The `disconnect-fakes serve` binary as a user runs it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[tokio::test]
async fn serve_starts_prints_its_urls_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::File::create(&seed)
        .unwrap()
        .write_all(br#"{"persona": [{"id": "cxn_bin"}]}"#)
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_disconnect-fakes"))
        .args(["serve", "--port", "0", "--seed"])
        .arg(&seed)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .strip_prefix("disconnect-fakes listening on ")
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    let urls: Vec<String> = (0..3).map(|_| lines.next().unwrap().unwrap()).collect();
    assert!(
        urls[1].contains(&format!("PERSONA_BASE_URL={base}/persona/api/v1")),
        "{urls:?}"
    );

    let response = reqwest::Client::new()
        .post(format!(
            "{base}/persona/api/v1/connect/connections/cxn_bin/deactivate"
        ))
        .bearer_auth("fake-persona-key")
        .send()
        .await
        .unwrap();
    let status = response.status();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, 200);
}

#[test]
fn a_bad_seed_file_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(&seed, r#"{"persona": [{"id": 1}]}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_disconnect-fakes"))
        .args(["serve", "--port", "0", "--seed"])
        .arg(&seed)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid seed"), "{stderr}");
}
