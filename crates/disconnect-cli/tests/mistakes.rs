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
