//! Hostile input never reaches a vendor, and API keys appear in no output of any path.

mod common;

use assert_cmd::Command;
use common::{disconnect, run};
use disconnect_fakes::{FakeConfig, FakeServer, Fault, Vendor};
use serde_json::{Value, json};

const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

#[tokio::test]
async fn hostile_targets_are_refused_and_nothing_is_sent() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    let long = format!("tartan:{}", "a".repeat(10 * 1024));
    let hostile = [
        "persona:",
        "persona:    ",
        "tartan:\u{7}bell",
        "tartan:acme\u{1b}[2J",
        long.as_str(),
        "persona:cxn_1/../../admin",
        "persona:..",
        "persona:cxn%2F1",
        "persona:cxn_1?delete=all",
        "persona:cxn_1#frag",
        "persona:a/b",
        "leen:not-a-uuid/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706",
        "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/../x",
        "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e",
        "slack:T0001",
        "no-colon-at-all",
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.txt");
    std::fs::write(&input, hostile.join("\n")).unwrap();
    let against = || {
        let mut cmd = disconnect();
        for v in Vendor::ALL {
            cmd.env(v.api_key_var(), fakes.api_key(v))
                .env(v.base_url_var(), fakes.base_url(v));
        }
        cmd
    };
    // Refused as a whole: each line named, nothing sent, nothing raw on the terminal.
    let mut refused = against();
    refused.arg("--input").arg(&input);
    let out = run(refused).await;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{} invalid target(s)", hostile.len())),
        "{err}"
    );
    assert!(err.contains("hostile.txt:16: "), "{err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "control characters reached the terminal: {err:?}"
    );
    assert!(
        err.len() < 8 * 1024,
        "a 10 kB id is not echoed whole: {}",
        err.len()
    );
    assert!(fakes.journal().is_empty());
    // With --skip-invalid: recorded, one invalid_target result per line, nothing sent.
    let mut cmd = against();
    cmd.args(["--json", "--skip-invalid", "--input"])
        .arg(&input);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // One invalid_target result per line.
    assert_eq!(lines.len(), hostile.len());
    assert!(
        lines
            .iter()
            .all(|l| l["error"]["kind"] == "invalid_target" && l["attempts"] == 0),
        "{lines:?}"
    );
    assert!(
        fakes.journal().is_empty(),
        "a hostile target reached a vendor: {:?}",
        fakes.journal()
    );
    // Each is also refused as a command-line argument (exit 2, nothing sent).
    for bad in &hostile {
        let out = disconnect()
            .env("PERSONA_API_KEY", "k")
            .env("TARTAN_API_KEY", "k")
            .env("LEEN_API_KEY", "k")
            .arg(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// Persona ids with `/ ? # %` are refused (no real id has them); other characters are
/// percent-encoded in the path and arrive intact.
#[tokio::test]
async fn unusual_persona_ids_are_percent_encoded() {
    let fakes = FakeServer::start(FakeConfig::default()).await.unwrap();
    fakes.seed(&serde_json::from_value(json!({"persona": [{"id": "cxn_é ü"}]})).unwrap());
    let mut cmd = disconnect();
    cmd.env("PERSONA_API_KEY", fakes.api_key(Vendor::Persona))
        .env("PERSONA_BASE_URL", fakes.base_url(Vendor::Persona))
        .args(["--json", "persona:cxn_é ü"]);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        fakes.journal()[0].path,
        "/persona/api/v1/connect/connections/cxn_%C3%A9%20%C3%BC/deactivate"
    );
    assert_eq!(fakes.persona_status("cxn_é ü").as_deref(), Some("inactive"));
}

/// One run per path with a distinctive key for every vendor of the table; the key bytes appear
/// nowhere: table, --json, --dry-run, the report, TRACE logs of every crate, errors. Each vendor
/// also gets a live sample target, so a vendor added to the table is covered without editing
/// this test; the named targets below add each vendor's own answers (gone, unknown, 401,
/// redirect).
#[tokio::test]
async fn keys_appear_in_no_output() {
    let keys: Vec<(Vendor, String)> = Vendor::ALL
        .iter()
        .map(|v| (*v, format!("{}KEY-9f8e7d6c5b4a", v.id())))
        .collect();
    let key = |vendor: Vendor| keys.iter().find(|(v, _)| *v == vendor).unwrap().1.clone();
    let fakes = FakeServer::start(
        keys.iter()
            .fold(FakeConfig::default(), |c, (v, k)| c.with_key(*v, k)),
    )
    .await
    .unwrap();
    let samples: Vec<String> = Vendor::ALL
        .iter()
        .map(|v| {
            let id = disconnect_fakes::sample_id(*v, 1);
            fakes.seed_live(*v, &id).unwrap();
            format!("{}:{id}", v.id())
        })
        .collect();
    fakes.seed(
        &serde_json::from_value(json!({
            "tartan": [{"client_org": "acme"}, {"client_org": "gone", "terminated": true}],
            "persona": [{"id": "cxn_1"}],
            "leen": [{"organization_id": ORG, "connection_id": CONN}]
        }))
        .unwrap(),
    );
    fakes.push_fault(
        Vendor::Persona,
        Fault::status(
            401,
            json!({"errors": [{"title": "Must be authenticated to access this endpoint"}]}),
        ),
    );
    fakes.push_fault(
        Vendor::Leen,
        Fault::Redirect {
            status: 302,
            location: "http://127.0.0.2:9/x".into(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("leen.key");
    std::fs::write(&key_file, key(Vendor::Leen)).unwrap();
    let report = dir.path().join("report.jsonl");
    let mut targets: Vec<String> = [
        "tartan:acme",
        "tartan:gone",
        "tartan:nobody",
        "persona:cxn_1",
        "persona:cxn_1",
        "persona:cxn_x",
        &format!("leen:{ORG}/{CONN}"),
    ]
    .map(str::to_string)
    .into();
    targets.extend(samples);
    let env = |cmd: &mut Command| {
        for (vendor, key) in &keys {
            cmd.env(vendor.base_url_var(), fakes.base_url(*vendor));
            // Leen's key comes from a key file (another path a key takes).
            if *vendor != Vendor::Leen {
                cmd.env(vendor.api_key_var(), key);
            }
        }
        cmd.arg("--leen-key-file")
            .arg(&key_file)
            .env("DISCONNECT_LOG", "trace");
    };
    let mut outputs = Vec::new();
    for mode in [
        vec!["--concurrency", "1"],
        vec!["--json"],
        vec!["--dry-run"],
        vec!["--dry-run", "--json"],
    ] {
        let mut cmd = disconnect();
        env(&mut cmd);
        cmd.args(&mode).arg("--report").arg(&report).args(&targets);
        let out = run(cmd).await;
        assert!(!out.stderr.is_empty(), "TRACE logging was on");
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    outputs.push(std::fs::read_to_string(&report).unwrap());
    outputs.push(serde_json::to_string(&fakes.journal()).unwrap());
    let all = outputs.join("\n");
    assert!(
        all.contains("failed: unauthorized") && all.contains("redirected"),
        "the error paths ran"
    );
    for (_, key) in &keys {
        assert!(!all.contains(key.as_str()), "{key} leaked");
        assert!(!all.contains(&key[..12]), "a prefix of {key} leaked");
    }
    // Every vendor's sample target was sent, with its key: each key was exercised.
    for vendor in Vendor::ALL {
        assert!(
            !fakes.requests_to(vendor).is_empty(),
            "no request reached {vendor}"
        );
    }
}
