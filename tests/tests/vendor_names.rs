//! Each vendor's name appears in code only where that vendor lives (CONTRIBUTING.md, "Adding a
//! vendor"):
//!
//! - its adapter, `crates/disconnect/src/adapters/<id>.rs`;
//! - its fake, `crates/disconnect-fakes/src/<id>.rs`;
//! - its generated client crate, `crates/<id>-client/`, the generated vendor table
//!   (`crates/disconnect-vendors/src/table.rs`) and the facade's generated registration list
//!   (`crates/disconnect/src/adapters/registry.rs`) and the fakes'
//!   (`crates/disconnect-fakes/src/registry.rs`), all written from `specs/vendors.toml`;
//! - one line at a registration point (`crates/disconnect/src/adapters/mod.rs`,
//!   `crates/disconnect-fakes/src/lib.rs`), where the registration lists are included: none
//!   today, since both lists are generated.
//!
//! "Code" is every identifier and string literal of the non-test Rust sources of the workspace
//! (`crates/*/src`, `xtask/src`), macro bodies and attributes included; doc comments, comments
//! and `#[cfg(test)]` items are left out, since prose may name a vendor as an example. A name is
//! a whole word of an identifier or a string (`leen_client`, `Vendor::Leen`, `"persona:"`), not a
//! part of one (`UnprocessableEntity`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::visit_mut::VisitMut;

fn root() -> &'static Path {
    workspace_tests::workspace_root()
}

/// `(id, display name, client crate)` of every vendor in `specs/vendors.toml`.
fn vendors() -> Vec<(String, String, String)> {
    workspace_tests::vendors_toml()
        .into_iter()
        .map(|v| (v.id, v.name, v.krate))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every non-test Rust source: `crates/*/src/**` and `xtask/src/**`.
fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        rust_files(&entry.path().join("src"), &mut files);
    }
    rust_files(&root().join("xtask/src"), &mut files);
    files.sort();
    files
}

fn is_attr(attr: &syn::Attribute, name: &str, arg: &str) -> bool {
    attr.path().is_ident(name)
        && matches!(&attr.meta, syn::Meta::List(l) if l.tokens.to_string() == arg)
}

/// Drops doc attributes and `#[cfg(test)]` / `#[cfg(doctest)]` items.
struct StripProse;

impl VisitMut for StripProse {
    fn visit_attributes_mut(&mut self, attrs: &mut Vec<syn::Attribute>) {
        attrs.retain(|a| !a.path().is_ident("doc"));
    }

    fn visit_file_mut(&mut self, file: &mut syn::File) {
        file.attrs.retain(|a| !a.path().is_ident("doc"));
        file.items.retain(|item| !test_only(item));
        syn::visit_mut::visit_file_mut(self, file);
    }

    fn visit_item_mod_mut(&mut self, module: &mut syn::ItemMod) {
        if let Some((_, items)) = &mut module.content {
            items.retain(|item| !test_only(item));
        }
        syn::visit_mut::visit_item_mod_mut(self, module);
    }
}

fn test_only(item: &syn::Item) -> bool {
    let attrs: &[syn::Attribute] = match item {
        syn::Item::Mod(m) => &m.attrs,
        syn::Item::Fn(f) => &f.attrs,
        syn::Item::Struct(s) => &s.attrs,
        syn::Item::Impl(i) => &i.attrs,
        syn::Item::Use(u) => &u.attrs,
        syn::Item::Const(c) => &c.attrs,
        _ => return false,
    };
    attrs
        .iter()
        .any(|a| is_attr(a, "cfg", "test") || is_attr(a, "cfg", "doctest"))
}

/// The words of an identifier or a string: split at every non-alphanumeric character and at
/// lower-to-upper case changes, lower-cased.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_numeric();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

/// `(line, word)` for every word of every identifier and string literal, doc attributes inside
/// macro bodies skipped.
fn code_words(tokens: TokenStream, out: &mut Vec<(usize, String)>) {
    let mut iter = tokens.into_iter().peekable();
    while let Some(tree) = iter.next() {
        match tree {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                if let Some(TokenTree::Group(g)) = iter.peek()
                    && g.delimiter() == Delimiter::Bracket
                    && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc")
                {
                    iter.next();
                }
            }
            TokenTree::Group(g) => code_words(g.stream(), out),
            TokenTree::Ident(i) => {
                let line = i.span().start().line;
                out.extend(words(&i.to_string()).into_iter().map(|w| (line, w)));
            }
            TokenTree::Literal(l) => {
                let line = l.span().start().line;
                let text = l.to_string();
                if text.contains('"') {
                    out.extend(words(&text).into_iter().map(|w| (line, w)));
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

/// The two registration points; in each, every vendor has at most one line.
const REGISTRATION_POINTS: [&str; 2] = [
    "crates/disconnect/src/adapters/mod.rs",
    "crates/disconnect-fakes/src/lib.rs",
];

fn allowed(file: &str, id: &str, krate: &str) -> bool {
    file == format!("crates/disconnect/src/adapters/{id}.rs")
        || file.starts_with(&format!("crates/disconnect/src/adapters/{id}/"))
        || file == format!("crates/disconnect-fakes/src/{id}.rs")
        || file.starts_with(&format!("crates/disconnect-fakes/src/{id}/"))
        || file.starts_with(&format!("crates/{krate}/"))
        || file == "crates/disconnect-vendors/src/table.rs"
        || file == "crates/disconnect/src/adapters/registry.rs"
        || file == "crates/disconnect-fakes/src/registry.rs"
}

/// Where vendor names stand outside the places allowed for them: `(vendor, file, lines)` for
/// each file (paths relative to the workspace) that breaks the rule.
fn misplaced(files: &[(String, String)], vendors: &[(String, String, String)]) -> Vec<String> {
    // vendor id -> file -> lines where it is named.
    let mut found: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for (rel, text) in files {
        let mut file = syn::parse_file(text).unwrap_or_else(|e| panic!("{rel}: {e}"));
        StripProse.visit_file_mut(&mut file);
        let mut words = Vec::new();
        code_words(quote::ToTokens::into_token_stream(file), &mut words);
        for (id, name, krate) in vendors {
            let name = name.to_lowercase();
            let lines: Vec<usize> = words
                .iter()
                .filter(|(_, w)| *w == *id || *w == name)
                .map(|(line, _)| *line)
                .collect();
            if !lines.is_empty() && !allowed(rel, id, krate) {
                found.entry(id).or_default().insert(rel, lines);
            }
        }
    }
    let mut problems = Vec::new();
    for (id, files) in &found {
        for (file, lines) in files {
            let mut distinct = lines.clone();
            distinct.dedup();
            if REGISTRATION_POINTS.contains(file) && distinct.len() == 1 {
                continue;
            }
            problems.push(format!("{id}: {file} lines {distinct:?}"));
        }
    }
    problems
}

#[test]
fn vendor_names_appear_only_in_their_own_modules_and_two_registration_points() {
    let vendors = vendors();
    assert!(!vendors.is_empty());
    let files: Vec<(String, String)> = sources()
        .iter()
        .map(|p| (relative(p), std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(files.len() > 50, "the sources were found");
    let problems = misplaced(&files, &vendors);
    assert!(
        problems.is_empty(),
        "vendor names outside their vendor's own modules (see this test's docs):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_rule_flags_names_outside_their_places() {
    let vendors = vec![(
        "acme".to_string(),
        "Acme".to_string(),
        "acme-client".to_string(),
    )];
    let file = |path: &str, text: &str| (path.to_string(), text.to_string());
    let files = [
        // Allowed: its adapter, its fake, its crate, one registration line.
        file("crates/disconnect/src/adapters/acme.rs", "struct Acme;"),
        file("crates/disconnect-fakes/src/acme.rs", "fn acme_seed() {}"),
        file("crates/acme-client/src/lib.rs", "const A: &str = \"acme\";"),
        file(
            "crates/disconnect/src/adapters/mod.rs",
            "registry! {\n \"acme\" => acme::{Acme} as Acme, acme_client;\n}",
        ),
        // Not allowed: a second line at a registration point, any mention elsewhere.
        file(
            "crates/disconnect-fakes/src/lib.rs",
            "fakes! {\n Acme => acme::{AcmeState};\n}\nfn f() { let _ = Vendor::Acme; }",
        ),
        file(
            "crates/disconnect-cli/src/demo.rs",
            "fn f() { let _ = \"acme:x\"; }",
        ),
        // Prose and tests are not code.
        file(
            "crates/disconnect/src/engine.rs",
            "//! Acme\n/// Acme\nfn f() {}\n#[cfg(test)]\nmod tests { fn acme() {} }",
        ),
    ];
    assert_eq!(
        misplaced(&files, &vendors),
        [
            "acme: crates/disconnect-cli/src/demo.rs lines [1]",
            "acme: crates/disconnect-fakes/src/lib.rs lines [2, 4]",
        ]
    );
}

#[test]
fn words_split_identifiers_and_strings() {
    assert_eq!(words("UnprocessableEntity"), ["unprocessable", "entity"]);
    assert_eq!(words("leen_client"), ["leen", "client"]);
    assert_eq!(words("\"persona:cxn_1\""), ["persona", "cxn", "1"]);
    assert_eq!(words("TARTAN_API_KEY"), ["tartan", "api", "key"]);
    assert_eq!(words("PersonaSeed"), ["persona", "seed"]);
    assert_eq!(words("X20251208"), ["x20251208"]);
}

#[test]
fn the_check_sees_code_and_not_prose() {
    let file: syn::File = syn::parse_str(
        r#"
        /// Tartan in a doc comment.
        fn f() { let leen = "persona"; }
        macro_rules! m { () => { #[doc = "tartan"] struct S; } }
        #[cfg(test)]
        mod tests { fn tartan() {} }
        "#,
    )
    .unwrap();
    let mut file = file;
    StripProse.visit_file_mut(&mut file);
    let mut found = Vec::new();
    code_words(quote::ToTokens::into_token_stream(file), &mut found);
    let words: Vec<&str> = found.iter().map(|(_, w)| w.as_str()).collect();
    assert!(words.contains(&"leen") && words.contains(&"persona"));
    assert!(!words.contains(&"tartan"), "{words:?}");
}
