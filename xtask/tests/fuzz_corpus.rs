//! Replays the `transforms` fuzz corpus and its crash regressions: none may panic.

use std::path::Path;

#[test]
fn the_transforms_corpus_and_regressions_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut count = 0;
    for dir in ["corpus/transforms", "regressions/transforms"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if !path.is_file() {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            assert!(
                std::panic::catch_unwind(|| xtask::fuzz_transforms(&data)).is_ok(),
                "{} panicked",
                path.display()
            );
            count += 1;
        }
    }
    assert!(count >= 4);
}
