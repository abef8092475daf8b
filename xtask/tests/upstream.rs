//! `cargo xtask specs --check-upstream` against a local HTTP server that serves the vendors'
//! published documents: one unchanged, one changed, never the internet.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

use xtask::config::Layout;

/// Serves `pages` (path → body) on 127.0.0.1 until the test process ends.
fn serve(pages: Vec<(String, String)>) -> String {
    serve_changing(std::sync::Arc::new(std::sync::Mutex::new(pages)))
}

/// A documentation page with `spec` in its OpenAPI fence, as Tartan and Leen publish it.
fn page(title: &str, spec: &str) -> String {
    format!("# {title}\n\n## OpenAPI\n\n````yaml POST /x\n{spec}````\n")
}

/// A scratch workspace (specs/ and the client crates' API.md) whose vendors.toml points the
/// `served` pages at `base` (the `upstream` of a vendor whose page is not served, such as one
/// added to the table after this test, is dropped).
fn scratch(base: &str, served: &[&str]) -> (tempfile::TempDir, Layout) {
    let (dir, layout) = common::scratch_workspace(&["API.md"]);
    let toml = std::fs::read_to_string(layout.specs_dir.join("vendors.toml")).unwrap();
    let mut out = String::new();
    for line in toml.lines() {
        if let Some(rest) = line.strip_prefix("upstream = { url = \"https://") {
            let path = &rest[rest.find('/').unwrap()..];
            if !served.iter().any(|s| path.starts_with(&format!("{s}\""))) {
                continue;
            }
            out.push_str(&format!("upstream = {{ url = \"{base}{path}"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    std::fs::write(layout.specs_dir.join("vendors.toml"), out).unwrap();
    (dir, layout)
}

#[test]
fn one_unchanged_and_one_changed_vendor() {
    let real = Layout::workspace();
    let spec = |f: &str| std::fs::read_to_string(real.specs_dir.join(f)).unwrap();
    let tartan = spec("tartan-hypersync.yaml");
    // Leen adds a connection state.
    let leen = spec("leen.yaml").replacen(
        "        - DELETED\n",
        "        - DELETED\n        - ARCHIVED\n",
        1,
    );
    // Persona's bundle: our operation, plus a 500 Persona now documents.
    let persona = spec("persona-connect.yaml").replacen(
        "        '422':",
        "        '500':\n          description: Internal error\n        '422':",
        1,
    );
    assert!(persona.contains("'500'"));
    let base = serve(vec![
        (
            "/api-reference/sdk/terminate-connection.md".into(),
            page("Terminate Connection", &tartan),
        ),
        (
            "/api-reference/provisioning/delete-connection.md".into(),
            page("Delete Connection", &leen),
        ),
        (
            "/persona-id/persona-openapi/main/2025-12-08/openapi-bundled.yaml".into(),
            persona,
        ),
    ]);
    let (_dir, layout) = scratch(
        &base,
        &[
            "/api-reference/sdk/terminate-connection.md",
            "/api-reference/provisioning/delete-connection.md",
            "/persona-id/persona-openapi/main/2025-12-08/openapi-bundled.yaml",
        ],
    );
    let reports = xtask::upstream::check(&layout, None, false).unwrap();
    let by = |v: &str| reports.iter().find(|r| r.vendor == v).unwrap();
    assert!(by("tartan").change.is_none(), "{}", by("tartan").render());
    let leen = by("leen").change.as_deref().unwrap();
    assert!(leen.contains("+        - ARCHIVED"), "{leen}");
    assert!(
        leen.contains("+| `Archived` |  | `ARCHIVED` |"),
        "what regeneration would change: {leen}"
    );
    let persona = by("persona").change.as_deref().unwrap();
    assert!(persona.contains("Not locked yet"), "{persona}");
    assert!(
        persona.contains("  + POST /connect/connections/{connection-id}/deactivate: status 500\n"),
        "{persona}"
    );

    // The command exits 1 for a change and 0 when one vendor is unchanged; 2 on errors.
    let exe = env!("CARGO_BIN_EXE_xtask");
    let run = |args: &[&str]| {
        Command::new(exe)
            .args(args)
            .env("XTASK_SPECS_DIR", &layout.specs_dir)
            .env("XTASK_CRATES_DIR", &layout.crates_dir)
            .output()
            .unwrap()
    };
    let all = run(&["specs", "--check-upstream"]);
    assert_eq!(all.status.code(), Some(1));
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(
        text.contains("tartan: unchanged") && text.contains("leen: CHANGED"),
        "{text}"
    );
    assert_eq!(
        run(&["specs", "--check-upstream", "--vendor", "tartan"])
            .status
            .code(),
        Some(0)
    );
    std::fs::write(
        layout.specs_dir.join("vendors.toml"),
        std::fs::read_to_string(layout.specs_dir.join("vendors.toml"))
            .unwrap()
            .replace("terminate-connection.md", "moved.md"),
    )
    .unwrap();
    let missing = run(&["specs", "--check-upstream", "--vendor", "tartan"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("HTTP 404"));
}

/// Serves `pages` (path → body) on 127.0.0.1 until the test process ends; the test may change
/// them between requests.
fn serve_changing(pages: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let body = pages
                .lock()
                .unwrap()
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, b)| b.clone());
            let (status, body) = match body {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", "not here".to_string()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

/// Persona publishes its operation version after version (built here from our own spec): each
/// change is reported with its semantic lines and semver class, what differs from our spec is
/// said, an unchanged republish is unchanged, and `--update` moves the lock.
#[test]
fn published_versions_are_reported_change_by_change_against_the_lock() {
    let real = Layout::workspace();
    let ours = std::fs::read_to_string(real.specs_dir.join("persona-connect.yaml")).unwrap();
    let url = "/persona-id/persona-openapi/main/2025-12-08/openapi-bundled.yaml";
    let pages = std::sync::Arc::new(std::sync::Mutex::new(vec![(url.to_string(), ours.clone())]));
    let base = serve_changing(pages.clone());
    let (_dir, layout) = scratch(&base, &[url]);
    let publish = |text: &str| pages.lock().unwrap()[0].1 = text.to_string();
    let check = |update: bool| {
        let reports = xtask::upstream::check(&layout, Some("persona"), update).unwrap();
        reports[0].change.clone()
    };
    let lock = || std::fs::read_to_string(layout.specs_dir.join("upstream.lock")).unwrap();
    let op = "POST /connect/connections/{connection-id}/deactivate";

    // Not locked: said so; after a review, --update locks it.
    assert!(check(false).unwrap().contains("Not locked yet"));
    check(true);
    let first = lock();
    assert!(
        first.contains("[persona]") && first.contains(&format!("url = \"{base}{url}\"")),
        "{first}"
    );
    assert_eq!(check(false), None, "unchanged since the lock");

    // 1. A response field removed.
    let v1 = ours.replacen(
        "        destination-organization-id:\n          type: string\n          nullable: true\n          example: org_DEST123\n",
        "",
        1,
    );
    assert_ne!(v1, ours);
    publish(&v1);
    let report = check(false).expect("a removed field is a change");
    let line = format!("  - {op}: status 200 field `data.attributes.destination-organization-id`");
    assert!(report.contains("changed since the lock"), "{report}");
    assert!(report.contains(&line), "{report}");
    assert!(
        report.contains(
            "specs/persona-connect.yaml is ours; these differences from it are new since the lock"
        ),
        "{report}"
    );
    assert!(report.contains("semver: breaking"), "{report}");
    check(true);
    assert_ne!(lock(), first, "--update moved the lock");
    assert_eq!(check(false), None);

    // 2. A response field added.
    let v2 = v1.replacen(
        "        source-organization-id:\n",
        "        scopes:\n          type: array\n          items:\n            type: string\n        source-organization-id:\n",
        1,
    );
    publish(&v2);
    let report = check(false).expect("an added field is a change");
    assert!(
        report.contains(&format!(
            "  + {op}: status 200 field `data.attributes.scopes` (array)"
        )),
        "{report}"
    );
    assert!(
        !report.contains("destination-organization-id"),
        "only what is new since the lock: {report}"
    );
    assert!(report.contains("semver: additive"), "{report}");
    check(true);

    // 3. A response header added.
    let v3 = v2.replacen(
        "          description: The deactivated Connection.\n          headers:\n",
        "          description: The deactivated Connection.\n          headers:\n            X-Trace-Id:\n              schema:\n                type: string\n",
        1,
    );
    publish(&v3);
    let report = check(false).expect("a header is a change");
    assert!(
        report.contains(&format!(
            "  + {op}: status 200 header `X-Trace-Id` (string)"
        )),
        "{report}"
    );
    check(true);

    // 4. A description changed (listed after everything else, with the texts).
    let v4 = v3.replacen(
        "Deactivates a Connection.",
        "Deactivates a Connect connection.",
        1,
    );
    publish(&v4);
    let report = check(false).expect("a description is a change");
    assert!(
        report.contains(&format!("  ~ {op}: description: Deactivates a Connection.")),
        "{report}"
    );
    assert!(report.contains("semver: none"), "{report}");
    check(true);

    // 5. The same document republished: unchanged.
    publish(&v4);
    assert_eq!(check(false), None);
    let closure = std::fs::read_to_string(layout.specs_dir.join("upstream/persona.json")).unwrap();
    assert!(
        closure.contains("X-Trace-Id") && closure.contains("scopes"),
        "the locked closure"
    );
}
