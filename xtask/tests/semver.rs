//! `cargo xtask semver` on a scratch copy of the workspace: the baseline is the copy's first
//! commit, then three vendors change their specs the way vendors do, the clients are
//! regenerated, and each change must be classified as what it is for users. Then the crates'
//! documented-style examples (their doc tests) must compile unchanged against the additively
//! regenerated crates.
//!
//! It builds rustdoc JSON for both sides and the doc tests' dependencies (a few minutes from
//! cold), so it is ignored by a plain `cargo test`; `.ci/run` runs it with
//! `cargo test -p xtask --test semver -- --ignored`.

mod common;

use std::path::Path;
use std::process::Command;

use xtask::config::Layout;
use xtask::semver::{Change, CrateReport, Options};

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The working tree's tracked files, copied to `to` and committed there as its only commit.
fn scratch_repository(real_root: &Path, to: &Path) {
    let listed = Command::new("git")
        .current_dir(real_root)
        .args(["ls-files", "-z"])
        .output()
        .unwrap();
    assert!(listed.status.success());
    for rel in listed.stdout.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).unwrap());
        let (from, dest) = (real_root.join(rel), to.join(rel));
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&from, &dest).unwrap();
    }
    run(to, "git", &["init", "-q", "-b", "main"]);
    run(to, "git", &["add", "-A"]);
    run(
        to,
        "git",
        &[
            "-c",
            "user.name=semver test",
            "-c",
            "user.email=semver@test.invalid",
            "commit",
            "-q",
            "-m",
            "Release 0.2.0",
        ],
    );
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{}: {from:?}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn report<'a>(reports: &'a [CrateReport], name: &str) -> &'a CrateReport {
    reports.iter().find(|r| r.name == name).unwrap()
}

#[test]
#[ignore = "builds rustdoc JSON and doc tests in a scratch workspace; CI runs it with --ignored"]
fn spec_mutations_are_classified_and_documented_style_code_still_compiles() {
    xtask::semver::ensure_tool().unwrap();
    let real = Layout::workspace();
    let real_root = real.crates_dir.parent().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    scratch_repository(real_root, root);
    let specs = root.join("specs");

    // Leen: a new optional field in the response and a new value of the state enum.
    edit(
        &specs.join("leen.yaml"),
        "        vendor:\n          type: string\n          title: Vendor\n",
        "        vendor:\n          type: string\n          title: Vendor\n        deleted_by:\n          anyOf:\n            - type: string\n            - type: 'null'\n          title: Deleted By\n",
    );
    edit(
        &specs.join("leen.yaml"),
        "        - DELETED\n",
        "        - DELETED\n        - ARCHIVED\n",
    );
    // Tartan: a new optional multipart field.
    edit(
        &specs.join("tartan-hypersync.yaml"),
        "                client_org:\n",
        "                reason:\n                  type: string\n                  description: Why the connection is cut.\n                client_org:\n",
    );
    // Persona: a response field goes away.
    edit(
        &specs.join("persona-connect.yaml"),
        "        updated-at:\n          type: string\n          format: date-time\n          nullable: true\n",
        "",
    );
    let layout = Layout {
        specs_dir: specs,
        crates_dir: root.join("crates"),
    };
    assert_eq!(
        xtask::generate(&layout, None, true).unwrap().len(),
        7,
        "three crates, two files each, and the vendor table (new spec sha256s)"
    );

    let target = real_root.join("target").join("semver-scratch");
    let reports = xtask::semver::run(&Options {
        target_dir: target.clone(),
        ..Options::new(root)
    })
    .unwrap();
    let rendered: String = reports.iter().map(CrateReport::render).collect();
    println!("{rendered}");

    let leen = report(&reports, "leen-client");
    assert_eq!(leen.change, Change::Additive, "{rendered}");
    assert!(leen.removed.is_empty(), "{rendered}");
    assert!(
        leen.added.iter().any(|i| i.starts_with(
            "field leen_client::types::ConnectionRespModel.deleted_by: ::std::option::Option<"
        )),
        "{rendered}"
    );
    assert!(
        leen.added
            .iter()
            .any(|i| i == "variant leen_client::types::ConnectionStateEnum::Archived"),
        "{rendered}"
    );
    assert!(
        leen.api_md.iter().any(|l| l.contains("`ARCHIVED`")),
        "{rendered}"
    );

    let tartan = report(&reports, "tartan-client");
    assert_eq!(tartan.change, Change::Additive, "{rendered}");
    assert!(
        tartan.added.iter().any(|i| i.starts_with(
            "field tartan_client::types::TerminateConnectionBody.reason: ::std::option::Option<"
        )),
        "{rendered}"
    );
    assert!(
        tartan
            .added
            .iter()
            .any(|i| i
                .starts_with("fn tartan_client::types::builder::TerminateConnectionBody::reason<")),
        "{rendered}"
    );
    let spec = tartan.spec.as_ref().unwrap();
    assert_ne!(spec.old_sha256.as_deref(), Some(spec.new_sha256.as_str()));

    let persona = report(&reports, "persona-client");
    assert_eq!(persona.change, Change::Breaking, "{rendered}");
    assert!(
        persona
            .lints
            .iter()
            .any(|l| l.starts_with("struct_pub_field_missing")),
        "{rendered}"
    );
    assert!(
        persona
            .removed
            .iter()
            .any(|i| i.starts_with("field persona_client::types::ConnectionAttributes.updated_at")),
        "{rendered}"
    );

    let runtime = report(&reports, xtask::semver::RUNTIME_CRATE);
    assert_eq!(runtime.change, Change::None, "{rendered}");

    // The gate: persona needs the next minor version; every changed crate needs a CHANGELOG
    // entry.
    let problems: Vec<String> = reports.iter().flat_map(CrateReport::problems).collect();
    let current = reports
        .iter()
        .find(|r| r.name == "persona-client")
        .map(|r| r.version.clone())
        .unwrap();
    let next = format!("bump it to 0.{}.0", current.minor + 1);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("persona-client: breaking") && p.contains(&next)),
        "{problems:#?}"
    );
    assert_eq!(
        problems
            .iter()
            .filter(|p| p.contains("CHANGELOG.md has no new entry"))
            .count(),
        3,
        "{problems:#?}"
    );
    assert!(
        !problems
            .iter()
            .any(|p| p.starts_with("tartan-client: breaking")
                || p.starts_with("leen-client: breaking")),
        "{problems:#?}"
    );

    // The documented style (every request built with builders, errors matched with a
    // catch-all arm) compiles unchanged against the additively regenerated crates.
    run(
        root,
        "cargo",
        &[
            "test",
            "--doc",
            "--locked",
            "--quiet",
            "-p",
            "tartan-client",
            "-p",
            "leen-client",
            "--target-dir",
            target.join("doctest").to_str().unwrap(),
        ],
    );
}
