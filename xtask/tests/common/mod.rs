//! Helpers shared by the xtask's integration tests.
#![allow(dead_code)]

use xtask::config::Layout;

/// A scratch copy of `specs/`, plus `files` (e.g. `API.md`) of each client crate, in a
/// temporary directory that lives as long as the returned guard.
pub fn scratch_workspace(files: &[&str]) -> (tempfile::TempDir, Layout) {
    let real = Layout::workspace();
    let dir = tempfile::tempdir().unwrap();
    let layout = Layout {
        specs_dir: dir.path().join("specs"),
        crates_dir: dir.path().join("crates"),
    };
    std::fs::create_dir_all(&layout.specs_dir).unwrap();
    for entry in std::fs::read_dir(&real.specs_dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), layout.specs_dir.join(entry.file_name())).unwrap();
    }
    let vendors = xtask::config::VendorsFile::load(&real.specs_dir.join("vendors.toml")).unwrap();
    for vendor in vendors.vendors.values() {
        let krate = &vendor.crate_name;
        std::fs::create_dir_all(layout.crates_dir.join(krate)).unwrap();
        for file in files {
            std::fs::copy(
                real.crates_dir.join(krate).join(file),
                layout.crates_dir.join(krate).join(file),
            )
            .unwrap();
        }
    }
    (dir, layout)
}
