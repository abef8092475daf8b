//! Replays the `decode` fuzz corpus and every crash regression found by `cargo fuzz` (see
//! fuzz/README.md): none may panic. The hand-written seeds also pin their classification.

use std::path::Path;

fn files(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(dir);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn the_decode_corpus_and_regressions_never_panic() {
    let corpus = files("corpus/decode");
    assert!(corpus.len() >= 11);
    for (name, data) in corpus.iter().chain(files("regressions/decode").iter()) {
        let result = std::panic::catch_unwind(|| disconnect::fuzzing::decode(data));
        assert!(result.is_ok(), "{name} panicked");
    }
}

#[test]
fn seeds_are_classified_as_the_mapping_table_says() {
    let expected = [
        ("tartan-200", "Some(200) Disconnected"),
        ("tartan-409", "Some(409) AlreadyDisconnected"),
        ("tartan-400-sync", "Some(400) Busy("),
        ("tartan-401", "Some(401) Unauthorized("),
        ("persona-200", "Some(200) Disconnected"),
        ("persona-429", "Some(429) RateLimited(Some("),
        ("persona-422", "Some(422) Invalid([\"Invalid: x\"])"),
        ("leen-200", "Some(200) Disconnected"),
        ("leen-422", "Some(422) Invalid([\"path.0: m\"])"),
        (
            "leen-307",
            "Some(307) Redirected(Some(\"http://elsewhere/x\"))",
        ),
        ("leen-503-html", "Some(503) Server(\"<html>down</html>\")"),
    ];
    let corpus = files("corpus/decode");
    for (name, prefix) in expected {
        let data = &corpus
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("seed {name}"))
            .1;
        let got = disconnect::fuzzing::decode(data).unwrap();
        assert!(got.starts_with(prefix), "{name}: {got}");
    }
}
