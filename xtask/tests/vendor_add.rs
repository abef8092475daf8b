//! CONTRIBUTING.md's "Adding a vendor", end to end, in a copy of the workspace: a vendor the
//! project has never seen (`tests/fixtures/quokka-links.yaml`: a whole published document of
//! several operations, OpenAPI 3.1, no operationId; the one picked has a path parameter, a
//! required query parameter, Bearer auth) is added with
//! `cargo xtask vendor add`, its answers are stated in `vendors.toml`, and then
//! `cargo xtask generate --check`, `cargo build --workspace`, `cargo test --workspace`, the demo
//! and a dry run succeed, with no handwritten `.rs` file of the workspace edited.
//!
//! Slow (it builds and tests the copy, in `target/vendor-add/`), so ignored by default; CI runs
//! it: `cargo test -p xtask --test vendor_add -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Copy the workspace's files (not `target/`, `.git/`), every copy new (so cargo rebuilds the
/// workspace's crates from the copy's sources).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name));
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Every `.rs` file under `dir` (not `target/`), relative to `base`.
fn rust_files(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if entry.file_name() == "target" || entry.file_name() == ".git" {
            continue;
        }
        if path.is_dir() {
            rust_files(base, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(base).unwrap().to_path_buf());
        }
    }
}

/// Run a command in the copy; its output, or a panic with it.
fn run(dir: &Path, target: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env("XTASK_SPECS_DIR", dir.join("specs"))
        .env("XTASK_CRATES_DIR", dir.join("crates"))
        // The copy's new vendor adds rows to snapshots of every vendor (the CLI's help, the
        // plans): a contributor reviews them (`cargo insta review`); here they may differ.
        .env("INSTA_FORCE_PASS", "1")
        .env("INSTA_UPDATE", "no");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`{program} {}` failed:\n{text}",
        args.join(" ")
    );
    text
}

#[test]
#[ignore = "builds and tests a copy of the workspace (minutes); CI runs it"]
fn a_vendor_is_added_by_the_guide_alone() {
    let real = root();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("ws");
    copy_tree(&real, &copy);
    // A target directory of its own (kept under the workspace's, so a second run reuses the
    // dependencies): the copy's crates have the workspace's names and relative paths, and sharing
    // the workspace's artifacts would let one build pass for the other's.
    let target = real.join("target").join("vendor-add");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    // 1. The command.
    let added = run(
        &copy,
        &target,
        &cargo,
        &[
            "run",
            "-q",
            "-p",
            "xtask",
            "--",
            "vendor",
            "add",
            "quokka",
            "--spec",
            "xtask/tests/fixtures/quokka-links.yaml",
            "--operation",
            "DELETE /links/{link_id}",
            "--upstream",
            "https://api.quokka.example/openapi.yaml",
        ],
        &[],
    );
    assert!(
        added.contains("wrote crates/quokka-client/src/lib.rs"),
        "{added}"
    );
    let spec = std::fs::read(copy.join("specs/quokka-links.yaml")).unwrap();
    assert_eq!(
        spec,
        std::fs::read(real.join("xtask/tests/fixtures/quokka-links.yaml")).unwrap(),
        "the spec is copied byte for byte"
    );

    // 2. What its answers mean, as data (CONTRIBUTING's example).
    let toml = copy.join("specs/vendors.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    assert!(
        text.contains("transforms = [\"downgrade_openapi_31\", \"synthesize_operation_ids\"]"),
        "the transforms are detected:\n{text}"
    );
    assert!(
        text.contains("operation = \"DELETE /links/{link_id}\""),
        "a whole published document: the operation is named, the file left as published:\n{text}"
    );
    assert!(
        text.contains(
            "upstream = { url = \"https://api.quokka.example/openapi.yaml\", extract = \"document\" }"
        ),
        "where it is published, for the drift check:\n{text}"
    );
    text.push_str(
        "\n[vendors.quokka.answers]\n\
         rules = [\n\
         \x20   { status = 409, outcome = \"already_disconnected\" },\n\
         \x20   { status = 400, when = { pointer = \"/error/code\", contains = \"unknown_link\" }, outcome = \"not_found\" },\n\
         ]\n\
         problems = { fields = [\"/error/message\"] }\n\
         \n[vendors.quokka.fake]\n\
         state = { seed = \"status\", at = \"/status\", live = \"active\", cut = \"revoked\" }\n\
         ids = { \"/id\" = \"link_id\" }\n\
         touch = [\"/revoked_at\"]\n",
    );
    std::fs::write(&toml, text).unwrap();
    run(
        &copy,
        &target,
        &cargo,
        &["run", "-q", "-p", "xtask", "--", "generate"],
        &[],
    );

    // 3. Everything the guide names.
    run(
        &copy,
        &target,
        &cargo,
        &["run", "-q", "-p", "xtask", "--", "generate", "--check"],
        &[],
    );
    run(
        &copy,
        &target,
        &cargo,
        &["build", "--workspace", "--examples"],
        &[],
    );
    let tests = run(&copy, &target, &cargo, &["test", "--workspace"], &[]);
    assert!(!tests.contains("FAILED"), "{tests}");
    let example = run(
        &copy,
        &target,
        &cargo,
        &["run", "-q", "-p", "quokka-client", "--example", "cut"],
        &[],
    );
    assert!(example.contains("first: 200"), "{example}");
    assert!(example.contains("second: Some(409)"), "{example}");

    let demo = run(
        &copy,
        &target,
        &cargo,
        &["run", "-q", "-p", "disconnect-cli", "--", "--fake", "demo"],
        &[],
    );
    assert!(demo.contains("quokka:link_id_1/provider_1"), "{demo}");
    assert!(demo.contains("already_disconnected"), "{demo}");
    assert!(demo.contains("every outcome as scripted"), "{demo}");
    let plan = run(
        &copy,
        &target,
        &cargo,
        &[
            "run",
            "-q",
            "-p",
            "disconnect-cli",
            "--",
            "--dry-run",
            "quokka:lnk_1/github",
        ],
        &[("QUOKKA_API_KEY", "quokka-secret-key")],
    );
    assert!(
        plan.contains("DELETE https://api.quokka.example/v2/links/lnk_1?provider=github"),
        "{plan}"
    );
    assert!(plan.contains("authorization: Bearer [redacted]"), "{plan}");
    assert!(!plan.contains("quokka-secret-key"), "{plan}");

    // 4. No handwritten Rust of the workspace was edited: every `.rs` file that differs is
    // generated.
    let mut files = Vec::new();
    rust_files(&real, &real, &mut files);
    let mut edited = Vec::new();
    for file in files {
        let before = std::fs::read_to_string(real.join(&file)).unwrap();
        let after = std::fs::read_to_string(copy.join(&file)).unwrap_or_default();
        if before != after && !after.starts_with("// @generated by `cargo xtask generate`") {
            edited.push(file.display().to_string());
        }
    }
    assert!(edited.is_empty(), "handwritten files edited: {edited:?}");
}
