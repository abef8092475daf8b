//! The fake of a vendor with no fake module of its own, served from the vendor table
//! ([`disconnect_vendors::Operation`], from the vendor's spec and `specs/vendors.toml`):
//!
//! | situation | status | body |
//! |---|---|---|
//! | another path | 404 | a problem `Not Found` |
//! | another method | 405 | a problem `Method Not Allowed` |
//! | no or wrong key (the spec's security scheme) | 401 | a problem `Invalid API key` |
//! | a parameter missing, or a UUID parameter that is not one | 422 (400 if the spec documents no 422) | one problem per parameter |
//! | unknown connection | 404 | a problem `Connection not found` |
//! | connection already cut | the status of the vendor's first `already_disconnected` rule, else of its `gone` rule, else 404 | a problem (holding the rule's body match, if it has one) |
//! | otherwise | the first documented 2xx | the spec's success example (else one built from its schema) |
//!
//! A "problem" is the error body the vendor's answer rules read: its message at the first of
//! `answers.problems.fields`, inside a one-item array at `answers.problems.each` when there is
//! one. Connections are keyed by their target id (the facade's syntax after `<vendor>:`).

use std::collections::HashMap;

use disconnect_vendors::{Outcome, ParamFormat, ParamIn};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use crate::reply::{Incoming, Reply};
use crate::vendor::{DemoOutcome, DemoScene, FakeVendor};
use crate::{FakeConfig, FakeServer, Vendor};

/// A connection of a vendor with no fake module of its own, in a seed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericSeed {
    /// The target id, in the facade's syntax after `<vendor>:`.
    pub id: String,
    /// Whether the connection was already cut (default: live).
    #[serde(default)]
    pub gone: bool,
}

/// The connections of one such vendor: target id → already cut.
#[derive(Debug)]
pub struct GenericState {
    vendor: Vendor,
    connections: HashMap<String, bool>,
}

impl GenericState {
    /// The target id, canonical (UUIDs hyphenated, lower case), from its values.
    fn canonical(&self, id: &str) -> Result<String, String> {
        let op = &self.vendor.facts().operation;
        let parts: Vec<&str> = match op.params.len() {
            1 => vec![id],
            _ => id.split('/').collect(),
        };
        if parts.len() != op.params.len() || parts.iter().any(|p| p.is_empty()) {
            return Err(format!("`{id}` is not {}", op.syntax));
        }
        let mut out = Vec::new();
        for (param, value) in op.params.iter().zip(parts) {
            out.push(match param.format {
                ParamFormat::Uuid => Uuid::parse_str(value)
                    .map_err(|_| format!("{}: `{value}` is not a UUID", param.name))?
                    .to_string(),
                _ => value.to_string(),
            });
        }
        Ok(out.join("/"))
    }

    /// A problem body, as the vendor's answer rules read it.
    fn problem(&self, status: u16, messages: &[String]) -> Reply {
        Reply::json(status, problem_body(self.vendor, messages, None))
    }

    fn answer(&mut self, api_key: &str, req: &Incoming<'_>) -> Reply {
        let facts = self.vendor.facts();
        let op = &facts.operation;
        let Some(segments) = match_path(op.path, req.path) else {
            return self.problem(404, &["Not Found".into()]);
        };
        if req.method.as_str() != op.method {
            return self.problem(405, &["Method Not Allowed".into()]);
        }
        let expected = format!("{}{api_key}", facts.auth.prefix);
        if req.header(facts.auth.header) != Some(expected.as_str()) {
            return self.problem(401, &["Invalid API key".into()]);
        }
        let mut values = Vec::new();
        let mut invalid = Vec::new();
        for param in op.params {
            let value = match param.location {
                ParamIn::Path => segments.get(param.name).map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                }),
                ParamIn::Query => req.query.and_then(|q| query_value(q, param.name)),
                _ => req
                    .multipart
                    .and_then(|parts| parts.as_ref().ok())
                    .and_then(|parts| parts.iter().find(|(k, _)| k == param.name))
                    .map(|(_, v)| v.clone()),
            };
            match value {
                None => invalid.push(format!("{}: Field required", param.name)),
                Some(v) if v.is_empty() => invalid.push(format!("{}: Field required", param.name)),
                Some(v) => {
                    if param.format == ParamFormat::Uuid && Uuid::parse_str(&v).is_err() {
                        invalid.push(format!("{}: Input should be a valid UUID", param.name));
                    }
                    values.push(v);
                }
            }
        }
        if !invalid.is_empty() {
            let status = if op.statuses.contains(&422) { 422 } else { 400 };
            return self.problem(status, &invalid);
        }
        let Ok(id) = self.canonical(&values.join("/")) else {
            return self.problem(404, &["Connection not found".into()]);
        };
        match self.connections.get_mut(&id) {
            None => self.problem(404, &["Connection not found".into()]),
            Some(true) => gone_answer(self.vendor),
            Some(gone) => {
                *gone = true;
                Reply::json(op.success_status, success_body(self.vendor))
            }
        }
    }
}

/// The value of `name` in a query string (`application/x-www-form-urlencoded`).
fn query_value(query: &str, name: &str) -> Option<String> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == name).then(|| decode(v))
    })
}

/// The path template's parameters by name, if `path` (below the vendor's prefix) matches it.
fn match_path<'t>(template: &'t str, path: &'t str) -> Option<HashMap<&'t str, &'t str>> {
    let want: Vec<&str> = template.trim_matches('/').split('/').collect();
    let got: Vec<&str> = path.trim_matches('/').split('/').collect();
    if want.len() != got.len() || template.ends_with('/') != path.ends_with('/') {
        return None;
    }
    let mut params = HashMap::new();
    for (w, g) in want.iter().zip(&got) {
        match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) if !g.is_empty() => {
                params.insert(name, *g);
            }
            Some(_) => return None,
            None if w == g => {}
            None => return None,
        }
    }
    Some(params)
}

/// The vendor's error body for `messages`: at `answers.problems` (the first field of each
/// item), with `matched` (a rule's body match: pointer and text) set too.
fn problem_body(vendor: Vendor, messages: &[String], matched: Option<(&str, &str)>) -> Value {
    let problems = vendor.facts().operation.answers.problems;
    let field = problems.fields.first().copied().unwrap_or("/message");
    let item = |message: &str| {
        let mut item = json!({});
        set(&mut item, field, Value::String(message.to_string()));
        item
    };
    let mut body = if problems.each.is_empty() {
        item(&messages.join("; "))
    } else {
        let mut body = json!({});
        let items = messages.iter().map(|m| item(m)).collect();
        set(&mut body, problems.each, Value::Array(items));
        body
    };
    if let Some((pointer, text)) = matched {
        set(&mut body, pointer, Value::String(text.to_string()));
    }
    body
}

/// Set `value` at a JSON pointer, making objects on the way.
fn set(target: &mut Value, pointer: &str, value: Value) {
    let mut at = target;
    let segments: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        if !at.is_object() {
            *at = json!({});
        }
        let Value::Object(map) = at else { return };
        if i + 1 == segments.len() {
            map.insert(segment.to_string(), value);
            return;
        }
        at = map.entry(segment.to_string()).or_insert_with(|| json!({}));
    }
}

/// The answer to cutting a connection that is already cut, by the vendor's rules.
fn gone_answer(vendor: Vendor) -> Reply {
    let rules = vendor.facts().operation.answers.rules;
    let rule = rules
        .iter()
        .find(|r| r.outcome == Outcome::AlreadyDisconnected)
        .or_else(|| rules.iter().find(|r| r.outcome == Outcome::Gone));
    let message = ["Connection already disconnected".to_string()];
    match rule {
        Some(rule) => Reply::json(
            rule.status,
            problem_body(vendor, &message, rule.when.map(|m| (m.pointer, m.contains))),
        ),
        None => Reply::json(404, problem_body(vendor, &message, None)),
    }
}

/// The spec's success example.
fn success_body(vendor: Vendor) -> Value {
    serde_json::from_str(vendor.facts().operation.success_example).unwrap_or(Value::Null)
}

impl FakeVendor for GenericState {
    type Seed = GenericSeed;

    fn new(vendor: Vendor, _: &FakeConfig) -> Self {
        Self {
            vendor,
            connections: HashMap::new(),
        }
    }

    fn handle(&mut self, api_key: &str, req: &Incoming<'_>, _: Instant) -> Reply {
        self.answer(api_key, req)
    }

    fn seed(&mut self, seed: &GenericSeed) {
        match self.canonical(&seed.id) {
            Ok(id) => {
                self.connections.insert(id, seed.gone);
            }
            Err(e) => tracing::warn!("{} seed ignored: {e}", self.vendor),
        }
    }

    fn seed_live(&mut self, id: &str) -> Result<(), String> {
        let id = self.canonical(id)?;
        self.connections.insert(id, false);
        Ok(())
    }

    fn is_cut(&self, id: &str) -> Option<bool> {
        self.connections.get(&self.canonical(id).ok()?).copied()
    }

    /// Text values numbered, UUIDs fixed but for the last.
    fn sample_id(vendor: Vendor, n: u64) -> String {
        let params = vendor.facts().operation.params;
        params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let last = i + 1 == params.len();
                match (p.format, last) {
                    (ParamFormat::Uuid, true) => {
                        Uuid::from_u128(u128::from(n) + 10_000).to_string()
                    }
                    (ParamFormat::Uuid, false) => {
                        Uuid::from_u128(0x0b9c2f4e_8a43_4d3a_9a1e_2f7a5b6c7d8e).to_string()
                    }
                    _ => format!("{}_{n}", p.name.replace('-', "_")),
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    fn success_example(vendor: Vendor) -> Reply {
        Reply::json(
            vendor.facts().operation.success_status,
            success_body(vendor),
        )
    }

    fn demo(vendor: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
        let live = Self::sample_id(vendor, 1);
        let gone = Self::sample_id(vendor, 2);
        let _ = fakes.seed_live(vendor, &live);
        let _ = fakes
            .shared
            .vendors
            .seed_one(vendor, json!({"id": gone, "gone": true}));
        let rules = vendor.facts().operation.answers.rules;
        let again = if rules
            .iter()
            .any(|r| r.outcome == Outcome::AlreadyDisconnected)
        {
            DemoOutcome::AlreadyDisconnected
        } else {
            DemoOutcome::Failed("not_found")
        };
        vec![
            DemoScene::new(
                format!("{}:{live}", vendor.id()),
                DemoOutcome::Disconnected,
                "cut, the answer read by the vendor table's rules",
            ),
            DemoScene::new(
                format!("{}:{gone}", vendor.id()),
                again,
                "already cut, as the vendor's rules say",
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_value("a=1&provider=git+hub%2Fx", "provider").as_deref(),
            Some("git hub/x")
        );
        assert_eq!(query_value("a=1", "provider"), None);
    }

    #[test]
    fn paths_match_their_templates() {
        let m = match_path("/orgs/{org}/connections/{id}", "/orgs/o1/connections/c%2F2").unwrap();
        assert_eq!(m["org"], "o1");
        assert_eq!(m["id"], "c%2F2");
        assert!(match_path("/orgs/{org}/connections/{id}", "/orgs/o1/connections").is_none());
        assert!(match_path("/orgs/{org}/connections/{id}", "/orgs//connections/x").is_none());
        assert!(match_path("/api/terminate_connection/", "/api/terminate_connection").is_none());
        assert!(match_path("/api/terminate_connection/", "/api/terminate_connection/").is_some());
    }

    #[test]
    fn problems_are_written_where_the_rules_read_them() {
        let body = problem_body(Vendor::ALL[0], &["a".into()], Some(("/x/y", "z")));
        assert_eq!(body.pointer("/x/y"), Some(&json!("z")));
        for vendor in Vendor::ALL {
            let p = vendor.facts().operation.answers.problems;
            let body = problem_body(vendor, &["boom".into()], None);
            let item = if p.each.is_empty() {
                &body
            } else {
                &body.pointer(p.each).unwrap()[0]
            };
            if let Some(field) = p.fields.first() {
                assert_eq!(item.pointer(field), Some(&json!("boom")), "{vendor}");
            }
        }
    }
}
