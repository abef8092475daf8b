//! A crate's public API as a set of one-line items, read from rustdoc's JSON output.
//!
//! cargo-semver-checks decides what is *breaking*; it says nothing about what was *added*, and
//! a change it has no lint for (a field whose type changed, say) would pass it silently. This
//! listing answers both: every public module, type, field, variant, method, function, constant
//! and trait implementation becomes one line (with its type or signature), and two listings are
//! compared as sets. Lines only in the new one were added; lines only in the old one were
//! removed or changed, which users can notice.

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The public items of the crate documented in `json` (rustdoc `--output-format json`).
pub fn public_items(json: &str) -> Result<BTreeSet<String>> {
    let doc: Value = serde_json::from_str(json).context("rustdoc JSON does not parse")?;
    let Some(root) = doc.get("root") else {
        bail!("rustdoc JSON without `root`");
    };
    let mut walker = Walker {
        index: doc.get("index").context("rustdoc JSON without `index`")?,
        items: BTreeSet::new(),
        stack: Vec::new(),
    };
    let krate = walker
        .item(root)
        .and_then(|i| i.get("name"))
        .and_then(Value::as_str)
        .context("rustdoc JSON: the root item has no name")?
        .to_string();
    walker.module(root, &krate);
    Ok(walker.items)
}

struct Walker<'a> {
    index: &'a Value,
    items: BTreeSet<String>,
    /// Modules being walked (a glob re-export can point back at an ancestor).
    stack: Vec<String>,
}

fn key(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn inner<'v>(item: &'v Value, kind: &str) -> Option<&'v Value> {
    item.get("inner")?.get(kind)
}

fn is_public(item: &Value) -> bool {
    item.get("visibility").and_then(Value::as_str) == Some("public")
}

fn ids(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

impl<'a> Walker<'a> {
    fn item(&self, id: &Value) -> Option<&'a Value> {
        self.index.get(key(id))
    }

    fn module(&mut self, id: &Value, path: &str) {
        let k = format!("{}@{path}", key(id));
        if self.stack.contains(&k) || self.stack.len() > 32 {
            return;
        }
        self.stack.push(k);
        if let Some(module) = self.item(id).and_then(|i| inner(i, "module")) {
            for child in ids(module.get("items")) {
                if let Some(item) = self.item(child)
                    && is_public(item)
                {
                    self.public_item(item, path, None);
                }
            }
        }
        self.stack.pop();
    }

    /// A public item at `parent::name` (`name` overrides the item's own for re-exports).
    fn public_item(&mut self, item: &'a Value, parent: &str, name: Option<&str>) {
        let Some(name) = name
            .or_else(|| item.get("name").and_then(Value::as_str))
            .or_else(|| inner(item, "use")?.get("name")?.as_str())
        else {
            return;
        };
        let path = format!("{parent}::{name}");
        let attrs = attrs_of(item);
        if let Some(u) = inner(item, "use") {
            let target = u.get("id").filter(|v| !v.is_null());
            let local = target.and_then(|t| self.item(t));
            let glob = u.get("is_glob").and_then(Value::as_bool).unwrap_or(false);
            match (local, glob) {
                (Some(t), true) if inner(t, "module").is_some() => {
                    self.module(target.expect("local implies an id"), parent)
                }
                (Some(t), false) if t.get("crate_id").and_then(Value::as_u64) == Some(0) => {
                    self.public_item(t, parent, Some(name))
                }
                _ => {
                    let source = u.get("source").and_then(Value::as_str).unwrap_or("?");
                    let star = if glob { "::*" } else { "" };
                    self.items
                        .insert(format!("pub use {source}{star} as {path}"));
                }
            }
            return;
        }
        if inner(item, "module").is_some() {
            self.items.insert(format!("mod {path}"));
            let id = item.get("id").cloned().unwrap_or(Value::Null);
            self.module(&id, &path);
        } else if let Some(s) = inner(item, "struct") {
            self.items.insert(format!(
                "struct {path}{}{attrs}",
                generics(s.get("generics"))
            ));
            match s.get("kind") {
                Some(Value::Object(kind)) if kind.contains_key("plain") => {
                    for f in ids(kind["plain"].get("fields")) {
                        self.field(f, &path, None);
                    }
                }
                Some(Value::Object(kind)) if kind.contains_key("tuple") => {
                    for (n, f) in ids(kind.get("tuple")).enumerate() {
                        if !f.is_null() {
                            self.field(f, &path, Some(n));
                        }
                    }
                }
                _ => {}
            }
            self.impls(s.get("impls"), &path);
        } else if let Some(e) = inner(item, "enum") {
            self.items
                .insert(format!("enum {path}{}{attrs}", generics(e.get("generics"))));
            for v in ids(e.get("variants")) {
                if let Some(variant) = self.item(v) {
                    let vname = variant.get("name").and_then(Value::as_str).unwrap_or("?");
                    let shape = self.variant_shape(variant);
                    self.items.insert(format!(
                        "variant {path}::{vname}{shape}{}",
                        attrs_of(variant)
                    ));
                }
            }
            self.impls(e.get("impls"), &path);
        } else if let Some(f) = inner(item, "function") {
            self.items.insert(format!("fn {path}{}", signature(f)));
        } else if let Some(t) = inner(item, "trait") {
            self.items
                .insert(format!("trait {path}{}", generics(t.get("generics"))));
            for m in ids(t.get("items")) {
                if let Some(member) = self.item(m) {
                    let mname = member.get("name").and_then(Value::as_str).unwrap_or("?");
                    let sig = inner(member, "function").map(signature).unwrap_or_default();
                    self.items
                        .insert(format!("trait item {path}::{mname}{sig}"));
                }
            }
        } else if let Some(t) = inner(item, "type_alias") {
            self.items
                .insert(format!("type {path} = {}", ty(t.get("type"))));
        } else if let Some(c) = inner(item, "constant") {
            self.items
                .insert(format!("const {path}: {}", ty(c.get("type"))));
        } else if let Some(s) = inner(item, "static") {
            self.items
                .insert(format!("static {path}: {}", ty(s.get("type"))));
        } else if inner(item, "macro").is_some() || inner(item, "proc_macro").is_some() {
            self.items.insert(format!("macro {path}!"));
        } else if let Some(Value::Object(kinds)) = item.get("inner") {
            let kind = kinds.keys().next().map(String::as_str).unwrap_or("item");
            self.items.insert(format!("{kind} {path}"));
        }
    }

    fn field(&mut self, id: &Value, owner: &str, position: Option<usize>) {
        let Some(field) = self.item(id) else { return };
        if !is_public(field) {
            return;
        }
        let name = match position {
            Some(n) => n.to_string(),
            None => field
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
        };
        let t = ty(inner(field, "struct_field"));
        self.items.insert(format!("field {owner}.{name}: {t}"));
    }

    fn variant_shape(&self, variant: &Value) -> String {
        let Some(kind) = inner(variant, "variant").and_then(|v| v.get("kind")) else {
            return String::new();
        };
        let field_ty = |id: &Value| {
            self.item(id)
                .map(|f| ty(inner(f, "struct_field")))
                .unwrap_or_else(|| "_".into())
        };
        if let Some(fields) = kind.get("tuple").and_then(Value::as_array) {
            let parts: Vec<String> = fields
                .iter()
                .map(|f| if f.is_null() { "_".into() } else { field_ty(f) })
                .collect();
            format!("({})", parts.join(", "))
        } else if let Some(s) = kind.get("struct") {
            let parts: Vec<String> = ids(s.get("fields"))
                .map(|f| {
                    let n = self
                        .item(f)
                        .and_then(|i| i.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    format!("{n}: {}", field_ty(f))
                })
                .collect();
            format!(" {{ {} }}", parts.join(", "))
        } else {
            String::new()
        }
    }

    fn impls(&mut self, impls: Option<&Value>, owner: &str) {
        for id in ids(impls) {
            let Some(imp) = self.item(id).and_then(|i| inner(i, "impl")) else {
                continue;
            };
            if imp.get("blanket_impl").is_some_and(|b| !b.is_null()) {
                continue;
            }
            match imp.get("trait").filter(|t| !t.is_null()) {
                Some(t) => {
                    let bounds = generics(imp.get("generics"));
                    self.items
                        .insert(format!("impl{bounds} {} for {owner}", path_with_args(t)));
                }
                None => {
                    for m in ids(imp.get("items")) {
                        let Some(member) = self.item(m) else { continue };
                        if !is_public(member) {
                            continue;
                        }
                        let mname = member.get("name").and_then(Value::as_str).unwrap_or("?");
                        if let Some(f) = inner(member, "function") {
                            self.items
                                .insert(format!("fn {owner}::{mname}{}", signature(f)));
                        } else if let Some(c) =
                            inner(member, "assoc_const").or_else(|| inner(member, "constant"))
                        {
                            self.items
                                .insert(format!("const {owner}::{mname}: {}", ty(c.get("type"))));
                        }
                    }
                }
            }
        }
    }
}

/// `#[non_exhaustive]` is part of a type's contract: its addition is breaking.
fn attrs_of(item: &Value) -> String {
    let text = item.get("attrs").map(Value::to_string).unwrap_or_default();
    if text.contains("non_exhaustive") {
        " #[non_exhaustive]".into()
    } else {
        String::new()
    }
}

fn signature(f: &Value) -> String {
    let sig = f.get("sig").or_else(|| f.get("decl"));
    let inputs: Vec<String> = ids(sig.and_then(|s| s.get("inputs")))
        .map(|pair| {
            let name = pair.get(0).and_then(Value::as_str).unwrap_or("_");
            let t = ty(pair.get(1));
            if name == "self" {
                t
            } else {
                format!("{name}: {t}")
            }
        })
        .collect();
    let output = sig
        .and_then(|s| s.get("output"))
        .filter(|o| !o.is_null())
        .map(|o| format!(" -> {}", ty(Some(o))))
        .unwrap_or_default();
    let asyncness = f
        .get("header")
        .and_then(|h| h.get("is_async"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (params, wheres) = generic_parts(f.get("generics"));
    format!(
        "{}{params}({}){output}{wheres}",
        if asyncness { " async" } else { "" },
        inputs.join(", ")
    )
}

fn generics(g: Option<&Value>) -> String {
    let (params, wheres) = generic_parts(g);
    params + &wheres
}

/// `<T: Bound>` and ` where ...` of a generics block.
fn generic_parts(g: Option<&Value>) -> (String, String) {
    let Some(g) = g else {
        return Default::default();
    };
    let params: Vec<String> = ids(g.get("params"))
        .filter(|p| {
            // `impl Trait` arguments show up as synthetic parameters; the argument says it.
            p.get("kind")
                .and_then(|k| k.get("type"))
                .and_then(|t| t.get("is_synthetic"))
                .and_then(Value::as_bool)
                != Some(true)
        })
        .map(|p| {
            let name = p.get("name").and_then(Value::as_str).unwrap_or("_");
            let bounds = p
                .get("kind")
                .and_then(|k| k.get("type"))
                .map(|t| bounds(t.get("bounds")))
                .unwrap_or_default();
            if bounds.is_empty() {
                name.to_string()
            } else {
                format!("{name}: {bounds}")
            }
        })
        .collect();
    let wheres: Vec<String> = ids(g.get("where_predicates"))
        .filter_map(|w| w.get("bound_predicate"))
        .map(|b| format!("{}: {}", ty(b.get("type")), bounds(b.get("bounds"))))
        .collect();
    let params = if params.is_empty() {
        String::new()
    } else {
        format!("<{}>", params.join(", "))
    };
    let wheres = if wheres.is_empty() {
        String::new()
    } else {
        format!(" where {}", wheres.join(", "))
    };
    (params, wheres)
}

fn bounds(b: Option<&Value>) -> String {
    ids(b)
        .map(|b| {
            if let Some(t) = b.get("trait_bound") {
                let modifier = match t.get("modifier").and_then(Value::as_str) {
                    Some("maybe") => "?",
                    _ => "",
                };
                format!(
                    "{modifier}{}",
                    t.get("trait").map(path_with_args).unwrap_or_default()
                )
            } else if let Some(l) = b.get("outlives").and_then(Value::as_str) {
                l.to_string()
            } else {
                "_".into()
            }
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn path_with_args(p: &Value) -> String {
    let path = p
        .get("path")
        .or_else(|| p.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("?");
    format!("{path}{}", args(p.get("args")))
}

fn args(a: Option<&Value>) -> String {
    let Some(a) = a.filter(|a| !a.is_null()) else {
        return String::new();
    };
    if let Some(ab) = a.get("angle_bracketed") {
        let mut parts: Vec<String> = ids(ab.get("args"))
            .map(|arg| {
                if let Some(t) = arg.get("type") {
                    ty(Some(t))
                } else if let Some(l) = arg.get("lifetime").and_then(Value::as_str) {
                    l.to_string()
                } else if let Some(c) = arg.get("const") {
                    c.get("expr")
                        .and_then(Value::as_str)
                        .unwrap_or("_")
                        .to_string()
                } else {
                    "_".into()
                }
            })
            .collect();
        for c in ids(ab.get("constraints").or_else(|| ab.get("bindings"))) {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let value = c
                .get("binding")
                .and_then(|b| b.get("equality"))
                .and_then(|e| e.get("type"))
                .map(|t| ty(Some(t)))
                .unwrap_or_else(|| "_".into());
            parts.push(format!("{name} = {value}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("<{}>", parts.join(", "))
        }
    } else if let Some(p) = a.get("parenthesized") {
        let inputs: Vec<String> = ids(p.get("inputs")).map(|t| ty(Some(t))).collect();
        let out = p
            .get("output")
            .filter(|o| !o.is_null())
            .map(|o| format!(" -> {}", ty(Some(o))))
            .unwrap_or_default();
        format!("({}){out}", inputs.join(", "))
    } else {
        String::new()
    }
}

/// A rustdoc JSON type, written the way it reads in source (ids left out: they differ between
/// builds).
fn ty(t: Option<&Value>) -> String {
    let Some(Value::Object(t)) = t else {
        return "_".into();
    };
    let Some((kind, v)) = t.iter().next() else {
        return "_".into();
    };
    match kind.as_str() {
        "resolved_path" => path_with_args(v),
        "primitive" | "generic" => v.as_str().unwrap_or("_").to_string(),
        "borrowed_ref" => {
            let lifetime = v
                .get("lifetime")
                .and_then(Value::as_str)
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            let m = if v.get("is_mutable").and_then(Value::as_bool) == Some(true) {
                "mut "
            } else {
                ""
            };
            format!("&{lifetime}{m}{}", ty(v.get("type")))
        }
        "raw_pointer" => {
            let m = if v.get("is_mutable").and_then(Value::as_bool) == Some(true) {
                "mut"
            } else {
                "const"
            };
            format!("*{m} {}", ty(v.get("type")))
        }
        "tuple" => {
            let parts: Vec<String> = ids(Some(v)).map(|t| ty(Some(t))).collect();
            format!("({})", parts.join(", "))
        }
        "slice" => format!("[{}]", ty(Some(v))),
        "array" => format!(
            "[{}; {}]",
            ty(v.get("type")),
            v.get("len").and_then(Value::as_str).unwrap_or("_")
        ),
        "impl_trait" => format!("impl {}", bounds(Some(v))),
        "dyn_trait" => {
            let traits: Vec<String> = ids(v.get("traits"))
                .map(|p| p.get("trait").map(path_with_args).unwrap_or_default())
                .collect();
            format!("dyn {}", traits.join(" + "))
        }
        "qualified_path" => {
            let self_type = ty(v.get("self_type"));
            let name = v.get("name").and_then(Value::as_str).unwrap_or("?");
            match v
                .get("trait")
                .filter(|t| !t.is_null())
                .map(path_with_args)
                .filter(|t| !t.is_empty())
            {
                Some(t) => format!("<{self_type} as {t}>::{name}"),
                None => format!("{self_type}::{name}"),
            }
        }
        "function_pointer" => "fn(..)".into(),
        "infer" => "_".into(),
        other => other.to_string(),
    }
}
