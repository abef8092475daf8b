//! What a vendor publishes, pinned: the closure of the operation we use (the operation and every
//! component it references), its sha256 in `specs/upstream.lock`, the closure itself in
//! `specs/upstream/<vendor>.json`, and a semantic diff between two closures.
//!
//! The diff reads an operation the way a user of the generated client meets it: fields of the
//! request and response bodies (added, removed, type and required-ness), enum values, statuses,
//! response headers, parameters, and last the texts (summaries, descriptions, examples).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::transforms::{find_operation, operations_in, select_operations};

/// `specs/upstream.lock`: per vendor, what was last seen published.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Lock {
    #[serde(flatten)]
    pub vendors: BTreeMap<String, LockEntry>,
}

/// One vendor's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockEntry {
    /// Where it was published.
    pub url: String,
    /// sha256 of the operation closure (canonical JSON: keys sorted, compact).
    pub sha256: String,
    /// When it was last seen, `YYYY-MM-DD` (UTC).
    pub seen: String,
}

impl Lock {
    pub fn path(specs_dir: &Path) -> PathBuf {
        specs_dir.join("upstream.lock")
    }

    /// The closure locked for `vendor`.
    pub fn closure_path(specs_dir: &Path, vendor: &str) -> PathBuf {
        specs_dir.join("upstream").join(format!("{vendor}.json"))
    }

    /// Read the lock (empty when there is none yet).
    pub fn load(specs_dir: &Path) -> Result<Self> {
        let path = Self::path(specs_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).with_context(|| format!("{}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("{}", path.display())),
        }
    }

    /// Write the lock and `vendor`'s closure.
    pub fn record(
        &mut self,
        specs_dir: &Path,
        vendor: &str,
        entry: LockEntry,
        closure: &Value,
    ) -> Result<()> {
        self.vendors.insert(vendor.to_string(), entry);
        let text = format!(
            "# What each vendor last published, as reviewed: written by\n\
             # `cargo xtask specs --check-upstream --update`. The closures are in upstream/.\n\n{}",
            toml::to_string(self)?
        );
        std::fs::write(Self::path(specs_dir), text)?;
        let path = Self::closure_path(specs_dir, vendor);
        std::fs::create_dir_all(path.parent().expect("a directory"))?;
        std::fs::write(&path, serde_json::to_string_pretty(closure)? + "\n")?;
        Ok(())
    }

    /// The closure locked for `vendor`, if any.
    pub fn closure(specs_dir: &Path, vendor: &str) -> Result<Option<Value>> {
        let path = Self::closure_path(specs_dir, vendor);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("{}", path.display())),
        }
    }
}

/// The operation `selector` names in `doc` and every component it reaches: `paths` and
/// `components` only, keys sorted.
pub fn closure(doc: &Value, selector: &str) -> Result<Value> {
    let mut doc = doc.clone();
    select_operations(&mut doc, &[selector.to_string()])?;
    let mut out = Map::new();
    for key in ["paths", "components"] {
        out.insert(key.into(), doc.get(key).cloned().unwrap_or_default());
    }
    Ok(canonical(Value::Object(out)))
}

/// The selector of a document's only operation (`"POST /path"`).
pub fn only_operation(doc: &Value) -> Result<String> {
    let found: Vec<String> = operations_in(doc)
        .filter(|(_, _, _, op)| op.get("responses").is_some())
        .map(|(path, method, _, _)| format!("{} {path}", method.to_ascii_uppercase()))
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(anyhow!(
            "{} operations; name the one we use with `operation` in specs/vendors.toml",
            found.len()
        )),
    }
}

/// Keys sorted, recursively.
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// sha256 of a closure's canonical compact JSON.
pub fn sha256(closure: &Value) -> String {
    let text = serde_json::to_string(&canonical(closure.clone())).expect("JSON");
    crate::sha256_hex(text.as_bytes())
}

/// What kind of fact a line states, in the order a report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Field,
    Enum,
    Status,
    Header,
    Parameter,
    Body,
    Text,
}

/// The facts of a closure: (kind, what) → value.
fn facts(closure: &Value) -> BTreeMap<(Kind, String), String> {
    let mut out = BTreeMap::new();
    let doc = closure;
    for (path, method, item, op) in operations_in(doc) {
        let Some(op) = op.as_object().filter(|o| o.contains_key("responses")) else {
            continue;
        };
        let at = format!("{} {path}", method.to_ascii_uppercase());
        let prefix = |what: &str| format!("{at}: {what}");
        for key in ["summary", "description"] {
            if let Some(text) = op.get(key).and_then(Value::as_str) {
                out.insert((Kind::Text, prefix(key)), text.to_string());
            }
        }
        let params = item
            .get("parameters")
            .into_iter()
            .chain(op.get("parameters"));
        for p in params.flat_map(|l| l.as_array().into_iter().flatten()) {
            let p = resolve(doc, p);
            let name = format!(
                "{} parameter `{}`",
                p.get("in").and_then(Value::as_str).unwrap_or("?"),
                p.get("name").and_then(Value::as_str).unwrap_or("?")
            );
            let required = p.get("required").and_then(Value::as_bool) == Some(true);
            let schema = p.get("schema").map(|s| resolve(doc, s));
            let ty = schema.map(type_of).unwrap_or_default();
            let value = if required {
                format!("{ty}, required")
            } else {
                ty
            };
            out.insert((Kind::Parameter, prefix(&name)), value);
            if let Some(text) = p.get("description").and_then(Value::as_str) {
                out.insert(
                    (Kind::Text, prefix(&format!("{name} description"))),
                    text.into(),
                );
            }
            if let Some(schema) = schema {
                walk(doc, schema, &prefix(&name), "", &mut out, 0);
            }
        }
        if let Some(body) = op.get("requestBody").map(|b| resolve(doc, b)) {
            for (media, content) in body
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                out.insert(
                    (Kind::Body, prefix(&format!("request body {media}"))),
                    String::new(),
                );
                if let Some(schema) = content.get("schema") {
                    walk(doc, schema, &prefix("request body"), "", &mut out, 0);
                }
            }
        }
        for (status, response) in op
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let response = resolve(doc, response);
            let at = prefix(&format!("status {status}"));
            out.insert((Kind::Status, at.clone()), String::new());
            if let Some(text) = response.get("description").and_then(Value::as_str) {
                out.insert((Kind::Text, format!("{at} description")), text.into());
            }
            for (name, header) in response
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let header = resolve(doc, header);
                let ty = header.get("schema").map(|s| type_of(resolve(doc, s)));
                out.insert(
                    (Kind::Header, format!("{at} header `{name}`")),
                    ty.unwrap_or_default(),
                );
            }
            for (_, content) in response
                .get("content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(schema) = content.get("schema") {
                    walk(doc, schema, &at, "", &mut out, 0);
                }
                if let Some(example) = content.get("example") {
                    out.insert((Kind::Text, format!("{at} example")), example.to_string());
                }
            }
        }
    }
    out
}

/// The fields, enum values and texts of `schema`, at `field` (dotted; `[]` for array items).
fn walk(
    doc: &Value,
    schema: &Value,
    at: &str,
    field: &str,
    out: &mut BTreeMap<(Kind, String), String>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let schema = resolve(doc, schema);
    let here = if field.is_empty() {
        format!("{at} body")
    } else {
        format!("{at} field `{field}`")
    };
    for key in ["description", "title"] {
        if let Some(text) = schema.get(key).and_then(Value::as_str) {
            out.insert((Kind::Text, format!("{here} {key}")), text.into());
        }
    }
    for key in ["example", "examples"] {
        if let Some(example) = schema.get(key) {
            out.insert((Kind::Text, format!("{here} {key}")), example.to_string());
        }
    }
    for value in schema
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.insert((Kind::Enum, format!("{here} value {value}")), String::new());
    }
    for union in ["allOf", "anyOf", "oneOf"] {
        for branch in schema
            .get(union)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            walk(doc, branch, at, field, out, depth + 1);
        }
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, prop) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let child = if field.is_empty() {
            name.clone()
        } else {
            format!("{field}.{name}")
        };
        let ty = type_of(resolve(doc, prop));
        let value = if required.contains(&name.as_str()) {
            format!("{ty}, required")
        } else {
            ty
        };
        out.insert((Kind::Field, format!("{at} field `{child}`")), value);
        walk(doc, prop, at, &child, out, depth + 1);
    }
    if let Some(items) = schema.get("items") {
        walk(doc, items, at, &format!("{field}[]"), out, depth + 1);
    }
}

/// A schema's type in a few words: `string`, `string (date-time)`, `string | null`, `object`.
fn type_of(schema: &Value) -> String {
    let mut ty = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ if schema.get("properties").is_some() => "object".into(),
        _ if schema.get("anyOf").or(schema.get("oneOf")).is_some() => "union".into(),
        _ => "any".into(),
    };
    if let Some(format) = schema.get("format").and_then(Value::as_str) {
        ty = format!("{ty} ({format})");
    }
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        ty.push_str(" | null");
    }
    ty
}

fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut current = value;
    for _ in 0..16 {
        match current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| doc.pointer(p))
        {
            Some(next) => current = next,
            None => break,
        }
    }
    current
}

/// What changed from `old` to `new`, one line per fact: `+` added, `-` removed, `~` changed;
/// fields, enum values, statuses, headers, parameters, bodies, then texts.
pub fn diff(old: &Value, new: &Value) -> Vec<String> {
    let (a, b) = (facts(old), facts(new));
    let mut lines: Vec<((Kind, String), String)> = Vec::new();
    let show = |value: &str| {
        let short: String = value.chars().take(100).collect();
        if short.len() < value.len() {
            format!("{short}…")
        } else {
            short
        }
    };
    for (key, value) in &b {
        match a.get(key) {
            None if value.is_empty() => lines.push((key.clone(), format!("+ {}", key.1))),
            None => lines.push((key.clone(), format!("+ {} ({})", key.1, show(value)))),
            Some(old) if old != value => lines.push((
                key.clone(),
                format!("~ {}: {} → {}", key.1, show(old), show(value)),
            )),
            Some(_) => {}
        }
    }
    for key in a.keys().filter(|k| !b.contains_key(*k)) {
        lines.push((key.clone(), format!("- {}", key.1)));
    }
    // A field added or removed whole: its texts go with it.
    let whole: Vec<String> = lines
        .iter()
        .filter(|((kind, _), line)| *kind == Kind::Field && !line.starts_with('~'))
        .map(|((_, key), _)| format!("{key} "))
        .collect();
    lines.retain(|((kind, key), line)| {
        *kind != Kind::Text || line.starts_with('~') || !whole.iter().any(|w| key.starts_with(w))
    });
    lines.sort_by(|x, y| x.0.cmp(&y.0));
    lines.into_iter().map(|(_, line)| line).collect()
}

/// The lines of `now` not in `before` (differences that are new).
pub fn new_since(before: &[String], now: &[String]) -> Vec<String> {
    now.iter()
        .filter(|l| !before.contains(l))
        .cloned()
        .collect()
}

/// The selector of the operation our spec describes (for an `extract = "operation"` upstream).
pub fn selector_of(doc: &Value, selector: &str) -> Result<String> {
    let (path, method) = find_operation(doc, selector)?;
    Ok(format!("{} {path}", method.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    const V1: &str = r#"
paths:
  /x/{id}:
    post:
      summary: Cut
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
components:
  schemas:
    Thing:
      type: object
      required: [id]
      properties:
        id: {type: string}
        state: {type: string, enum: [on, off]}
        gone: {type: string}
    Unused: {type: object}
"#;

    #[test]
    fn closures_keep_what_the_operation_reaches_and_hash_canonically() {
        let c = closure(&doc(V1), "POST /x/{id}").unwrap();
        assert!(c.pointer("/components/schemas/Thing").is_some());
        assert!(c.pointer("/components/schemas/Unused").is_none());
        let reordered = doc(&V1
            .replace(
                "        id: {type: string}\n        state:",
                "        state:",
            )
            .replace(
                "        gone: {type: string}\n",
                "        gone: {type: string}\n        id: {type: string}\n",
            ));
        let c2 = closure(&reordered, "POST /x/{id}").unwrap();
        assert_eq!(sha256(&c), sha256(&c2), "key order does not matter");
    }

    #[test]
    fn the_diff_reads_fields_enums_statuses_headers_parameters_then_texts() {
        let old = closure(&doc(V1), "POST /x/{id}").unwrap();
        let v2 = V1
            .replace("        gone: {type: string}\n", "        added: {type: integer}\n")
            .replace("enum: [on, off]", "enum: [on, off, paused]")
            .replace("      summary: Cut\n", "      summary: Cut it\n")
            .replace(
                "          description: ok\n",
                "          description: ok\n          headers:\n            Request-Id: {schema: {type: string}}\n",
            )
            .replace("required: [id]", "required: [id, state]")
            .replace("        '200':", "        '409':\n          description: again\n        '200':");
        let new = closure(&doc(&v2), "POST /x/{id}").unwrap();
        assert_eq!(
            diff(&old, &new),
            [
                "+ POST /x/{id}: status 200 field `added` (integer)",
                "- POST /x/{id}: status 200 field `gone`",
                "~ POST /x/{id}: status 200 field `state`: string → string, required",
                "+ POST /x/{id}: status 200 field `state` value \"paused\"",
                "+ POST /x/{id}: status 409",
                "+ POST /x/{id}: status 200 header `Request-Id` (string)",
                "+ POST /x/{id}: status 409 description (again)",
                "~ POST /x/{id}: summary: Cut → Cut it",
            ]
        );
        assert!(diff(&old, &old).is_empty());
    }
}
