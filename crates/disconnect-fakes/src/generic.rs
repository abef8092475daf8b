//! The fake of every vendor, served from the vendor table ([`disconnect_vendors::Operation`],
//! from the vendor's spec and `specs/vendors.toml`). A vendor module adds only what data cannot
//! say, through its `Quirks` (Tartan's data sync, Persona's rate-limit window and key casing).
//!
//! | situation | status | body |
//! |---|---|---|
//! | another path | 404 | a problem `Not Found` |
//! | another method | 405 | a problem `Method Not Allowed` |
//! | no or wrong key (the spec's security scheme) | 401 | the documented error, `Invalid API key` |
//! | a parameter missing, or a UUID parameter that is not one | 422 (400 if the spec documents no 422) | the documented error, one problem per parameter |
//! | unknown connection | 404 | the documented error, `Connection not found` |
//! | the idempotency key (`idempotency_header`) was seen before | the stored one (a faulted 5xx too) | the stored one; for another connection 422 |
//! | connection already cut | the status of the vendor's first `already_disconnected` rule, else of its `gone` rule, else 404 | the documented error (holding the rule's body match, if it has one) |
//! | otherwise | the first documented 2xx | the connection's record (below) |
//!
//! **Error bodies** have the shape the spec documents for their status (the table's
//! `error_examples`), the message written where the vendor's answer rules read it
//! (`answers.problems`); the spec's own example message is kept when it has one. A status the
//! spec gives no body for answers the message alone: at `problems.each` (FastAPI's
//! `{"detail": "..."}`), else at the first of `problems.fields`.
//!
//! **A connection's record** is the spec's success example, with the target's values where
//! `fake.ids` says, the seed entry's fields, the state at `fake.state.at`, and `fake.touch`
//! fields set to the time it was seeded and cut. Connections are keyed by their target id (the
//! facade's syntax after `<vendor>:`, UUIDs canonical).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use disconnect_vendors::{Outcome, ParamFormat, ParamIn, Rule};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use crate::reply::{Incoming, Reply};
use crate::server::Shared;
use crate::vendor::{DemoOutcome, DemoScene};
use crate::{FakeConfig, FakeServer, RateLimit, Vendor};

/// One connection of a seed document: the target id (`id`, or each of the operation's
/// parameters by name: `{"organization_id": ..., "connection_id": ...}`), `gone` or the
/// vendor's state field (`fake.state.seed`: `{"status": "inactive"}`), and fields of the
/// connection's record (`{"vendor": "okta"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericSeed {
    id: String,
    state: Option<Value>,
    record: Map<String, Value>,
    entry: Map<String, Value>,
}

impl GenericSeed {
    /// Read one seed entry of `vendor`; the error says what is wrong with it.
    pub fn parse(vendor: Vendor, entry: Value) -> Result<Self, String> {
        let fail = |e: String| format!("{vendor} seed entry {entry}: {e}");
        let Value::Object(map) = &entry else {
            return Err(fail("not an object".into()));
        };
        let op = &vendor.facts().operation;
        let fake = &op.fake;
        let text = |name: &str| match map.get(name) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None => Ok(None),
            Some(_) => Err(fail(format!("`{name}` is not a string"))),
        };
        let id = match text("id")? {
            Some(id) => id,
            None => op
                .params
                .iter()
                .map(|p| text(p.name)?.ok_or_else(|| fail(format!("no `id` nor `{}`", p.name))))
                .collect::<Result<Vec<_>, _>>()?
                .join("/"),
        };
        let id = canonical(vendor, &id).map_err(fail)?;
        let live = || serde_json::from_str(fake.live).unwrap_or(Value::Null);
        let cut = || serde_json::from_str(fake.cut).unwrap_or(Value::Bool(true));
        let mut state = None;
        let mut record = Map::new();
        let example: Value = serde_json::from_str(op.success_example).unwrap_or_default();
        for (name, value) in map {
            if name == "id" || op.params.iter().any(|p| p.name == name) {
                continue;
            } else if name == "gone" {
                let gone = value
                    .as_bool()
                    .ok_or_else(|| fail("`gone` is not a boolean".into()))?;
                state = Some(if gone { cut() } else { live() });
            } else if !fake.state_field.is_empty() && name == fake.state_field {
                state = Some(value.clone());
            } else if example.get(name).is_some() {
                record.insert(name.clone(), value.clone());
            } else {
                return Err(fail(format!("unknown field `{name}`")));
            }
        }
        Ok(Self {
            id,
            state,
            record,
            entry: map.clone(),
        })
    }

    /// The target id (canonical).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Serialize for GenericSeed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.entry.serialize(s)
    }
}

/// The target id, canonical (UUIDs hyphenated, lower case), from its values joined by `/`.
fn canonical(vendor: Vendor, id: &str) -> Result<String, String> {
    let op = &vendor.facts().operation;
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

/// One request, as [`Quirks`] see it.
#[derive(Debug)]
pub(crate) struct Call<'a, 'r> {
    pub(crate) req: &'a Incoming<'r>,
    /// The target id, when the parameters name one.
    pub(crate) id: Option<String>,
    /// The parameters in target order, else one problem (location, message) per bad one.
    params: Result<Vec<String>, Vec<(String, String)>>,
    /// The key was right.
    pub(crate) authenticated: bool,
    pub(crate) now: Instant,
}

/// What a vendor module adds to the generic fake: behaviour data cannot express. Every hook
/// has a default that does nothing.
pub(crate) trait Quirks: Sized + Send + 'static {
    /// The rate limit the vendor has when [`FakeConfig::rate_limits`] names none (its
    /// documented default, when it documents one).
    const DEFAULT_RATE_LIMIT: Option<RateLimit> = None;
    /// Whether the vendor enforces its rate limit itself, answering with `RateLimit-*` headers;
    /// otherwise the server applies it as a header-less fixed window.
    const RATE_LIMIT_HEADERS: bool = false;

    /// The quirks' empty state for `vendor`'s fake.
    fn new(vendor: Vendor, config: &FakeConfig) -> Self;

    /// After the key and the parameters are checked: an answer of the vendor's own instead.
    fn admit(&mut self, _call: &Call<'_, '_>) -> Option<Reply> {
        None
    }

    /// A live connection is about to be cut: refuse with this answer instead.
    fn refuse(&mut self, _id: &str, _now: Instant) -> Option<Reply> {
        None
    }

    /// Every answer passes here, a `status` fault's 5xx included.
    fn finish(&mut self, _call: &Call<'_, '_>, reply: Reply) -> Reply {
        reply
    }

    /// The message of an error answer of this status (default: the spec example's, when its
    /// message is its own, else the fake's).
    fn message(_status: u16) -> Option<&'static str> {
        None
    }

    /// Admin routes of the vendor's own (under `/_admin/<id>/`).
    fn admin_routes() -> axum::Router<Arc<Shared>> {
        axum::Router::new()
    }

    /// The tour `disconnect demo` gives of this vendor: set the fakes up (seed connections,
    /// start a sync...) and say what each target shows. Default: [`generic_demo`].
    fn demo(vendor: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
        generic_demo(vendor, fakes)
    }

    /// The fakes' settings for the demo (a tight rate limit to show pacing).
    fn demo_config(_config: &mut FakeConfig) {}
}

/// No quirks: the vendor is its table.
impl Quirks for () {
    fn new(_: Vendor, _: &FakeConfig) -> Self {}
}

/// One connection: its state and its record.
#[derive(Debug, Clone)]
struct Connection {
    state: Value,
    record: Value,
}

/// The connections of one vendor, by target id, and its quirks' state.
#[derive(Debug)]
pub(crate) struct GenericState<Q = ()> {
    vendor: Vendor,
    connections: HashMap<String, Connection>,
    /// Answers by idempotency key, with the connection they were for.
    stored: HashMap<String, (String, Reply)>,
    pub(crate) quirks: Q,
}

impl<Q: Quirks> GenericState<Q> {
    /// The connection's state (the value of the vendor's `fake.state`, or `true`/`false`
    /// for "cut").
    pub fn state(&self, id: &str) -> Option<Value> {
        let id = canonical(self.vendor, id).ok()?;
        self.connections.get(&id).map(|c| c.state.clone())
    }

    fn insert(&mut self, id: String, state: Option<Value>, fields: &Map<String, Value>) {
        let fake = &self.vendor.facts().operation.fake;
        let state = state.unwrap_or_else(|| json_of(fake.live));
        let mut record = record(self.vendor, &id);
        if let Value::Object(map) = &mut record {
            map.extend(fields.clone());
        }
        if !fake.state_at.is_empty() {
            set(&mut record, fake.state_at, state.clone());
        }
        self.connections.insert(id, Connection { state, record });
    }

    fn call<'a, 'r>(&self, api_key: &str, req: &'a Incoming<'r>, now: Instant) -> Call<'a, 'r> {
        let auth = &self.vendor.facts().auth;
        let authenticated =
            req.header(auth.header) == Some(format!("{}{api_key}", auth.prefix).as_str());
        let params = read_params(self.vendor, req);
        let id = params
            .as_ref()
            .ok()
            .and_then(|values| canonical(self.vendor, &values.join("/")).ok());
        Call {
            req,
            id,
            params,
            authenticated,
            now,
        }
    }

    /// Answer one request that reached the vendor (after faults and the header-less limit).
    pub(crate) fn handle(&mut self, api_key: &str, req: &Incoming<'_>, now: Instant) -> Reply {
        let op = &self.vendor.facts().operation;
        let call = self.call(api_key, req, now);
        let reply = if match_path(op.path, req.path).is_none() {
            plain(self.vendor, 404, "Not Found")
        } else if req.method.as_str() != op.method {
            plain(self.vendor, 405, "Method Not Allowed")
        } else {
            match self.cut(&call) {
                Answer::New(reply) => self.store(&call, reply),
                Answer::Once(reply) => reply,
            }
        };
        self.quirks.finish(&call, reply)
    }

    /// A vendor taking an idempotency key (the table's `idempotency_header`) stores every
    /// answer to an authenticated request under its key (a faulted 5xx too) and replays it to
    /// every later request with that key.
    fn store(&mut self, call: &Call<'_, '_>, reply: Reply) -> Reply {
        let header = self.vendor.facts().operation.idempotency_header;
        let key = header.and_then(|h| call.req.header(h));
        if let (true, Some(id), Some(key)) = (call.authenticated, &call.id, key) {
            let stored = (id.clone(), reply.clone());
            self.stored.entry(key.to_string()).or_insert(stored);
        }
        reply
    }

    /// The stored answer for the request's idempotency key; for another connection, 422.
    fn replay(&self, call: &Call<'_, '_>) -> Option<Reply> {
        let header = self.vendor.facts().operation.idempotency_header?;
        let (id, reply) = self.stored.get(call.req.header(header)?)?;
        if Some(id) == call.id.as_ref() {
            return Some(reply.clone());
        }
        let message = "Idempotency key reused with different parameters";
        Some(error::<Q>(self.vendor, 422, message, None))
    }

    fn cut(&mut self, call: &Call<'_, '_>) -> Answer {
        let vendor = self.vendor;
        let op = &vendor.facts().operation;
        if !call.authenticated {
            return Answer::Once(error::<Q>(vendor, 401, "Invalid API key", None));
        }
        if let Err(problems) = &call.params {
            let status = if op.statuses.contains(&422) { 422 } else { 400 };
            return Answer::Once(invalid(vendor, status, problems));
        }
        let Some(id) = &call.id else {
            return Answer::Once(error::<Q>(vendor, 404, "Connection not found", None));
        };
        if let Some(reply) = self.quirks.admit(call).or_else(|| self.replay(call)) {
            return Answer::Once(reply);
        }
        let cut = json_of(op.fake.cut);
        let Some(connection) = self.connections.get_mut(id) else {
            return Answer::New(error::<Q>(vendor, 404, "Connection not found", None));
        };
        if connection.state == cut {
            return Answer::New(gone_answer::<Q>(vendor));
        }
        if let Some(reply) = self.quirks.refuse(id, call.now) {
            return Answer::New(reply);
        }
        connection.state = cut.clone();
        if !op.fake.state_at.is_empty() {
            set(&mut connection.record, op.fake.state_at, cut);
        }
        touch(vendor, &mut connection.record);
        Answer::New(Reply::json(op.success_status, connection.record.clone()))
    }
}

/// An answer to store under the request's idempotency key, or one not to (the key was wrong,
/// the request invalid, answered by the quirks before, or replayed).
enum Answer {
    New(Reply),
    Once(Reply),
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// The spec's success example for the connection `id`: its values where `fake.ids` says, the
/// `fake.touch` fields now.
fn record(vendor: Vendor, id: &str) -> Value {
    let op = &vendor.facts().operation;
    let mut record = json_of(op.success_example);
    let values: Vec<&str> = match op.params.len() {
        1 => vec![id],
        _ => id.split('/').collect(),
    };
    for (pointer, param) in op.fake.ids {
        if let Some(i) = op.params.iter().position(|p| p.name == *param) {
            set(&mut record, pointer, json!(values.get(i).copied()));
        }
    }
    touch(vendor, &mut record);
    record
}

/// Set the vendor's `fake.touch` fields to now.
fn touch(vendor: Vendor, record: &mut Value) {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
    for pointer in vendor.facts().operation.fake.touch {
        set(record, pointer, json!(now));
    }
}

/// The operation's parameters from the request, in target order; else one problem
/// (location, message) per bad one.
fn read_params(vendor: Vendor, req: &Incoming<'_>) -> Result<Vec<String>, Vec<(String, String)>> {
    let op = &vendor.facts().operation;
    let segments = match_path(op.path, req.path).unwrap_or_default();
    let mut values = Vec::new();
    let mut problems = Vec::new();
    for param in op.params {
        let (place, value) = match param.location {
            ParamIn::Path => (
                "path",
                segments.get(param.name).map(|v| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                }),
            ),
            ParamIn::Query => ("query", req.query.and_then(|q| query_value(q, param.name))),
            _ => (
                "body",
                req.multipart
                    .and_then(|parts| parts.as_ref().ok())
                    .and_then(|parts| parts.iter().find(|(k, _)| k == param.name))
                    .map(|(_, v)| v.clone()),
            ),
        };
        let at = format!("{place}.{}", param.name);
        match value {
            Some(v) if v.trim().is_empty() => problems.push((at, "Field required".into())),
            None => problems.push((at, "Field required".into())),
            Some(v) if param.format == ParamFormat::Uuid && Uuid::parse_str(&v).is_err() => {
                problems.push((at, "Input should be a valid UUID".into()))
            }
            Some(v) => values.push(v),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
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

/// The spec's error example for `status`, if it documents one.
fn documented(vendor: Vendor, status: u16) -> Option<Value> {
    let examples = vendor.facts().operation.error_examples;
    let (_, body) = examples.iter().find(|(s, _)| *s == status)?;
    serde_json::from_str(body).ok()
}

/// An answer the spec documents no body for: the message alone, where the rules read it.
fn plain(vendor: Vendor, status: u16, message: &str) -> Reply {
    let problems = vendor.facts().operation.answers.problems;
    let pointer = match (problems.each, problems.fields.first()) {
        ("", Some(field)) => field,
        ("", None) => "/message",
        (each, _) => each,
    };
    let mut body = json!({});
    set(&mut body, pointer, json!(message));
    Reply::json(status, body)
}

/// The message the spec's example of `status` states, when no other status's example states
/// the same (a message shared by every error schema says nothing of this status).
fn spec_message(vendor: Vendor, status: u16) -> Option<String> {
    let op = &vendor.facts().operation;
    let p = op.answers.problems;
    let message = |body: &str| -> Option<String> {
        let body: Value = serde_json::from_str(body).ok()?;
        let item = match p.each {
            "" => &body,
            each => body.pointer(each)?.get(0)?,
        };
        let text = item.pointer(p.fields.first()?)?.as_str()?;
        (text != "example").then(|| text.to_string())
    };
    let examples = op.error_examples;
    let (_, body) = examples.iter().find(|(s, _)| *s == status)?;
    let text = message(body)?;
    let same = examples
        .iter()
        .filter(|(_, b)| message(b).as_ref() == Some(&text));
    (same.count() == 1).then_some(text)
}

/// The error answer of `status`: the documented shape with the message (the quirks' for the
/// status, else the spec example's own, else `message`) where the rules read it (other
/// problem fields showing the example filler dropped), and `matched` (a rule's body match:
/// pointer and text) set too.
pub(crate) fn error<Q: Quirks>(
    vendor: Vendor,
    status: u16,
    message: &str,
    matched: Option<(&str, &str)>,
) -> Reply {
    let text = Q::message(status)
        .map(str::to_string)
        .or_else(|| spec_message(vendor, status))
        .unwrap_or_else(|| message.to_string());
    let mut reply = match documented(vendor, status) {
        None => plain(vendor, status, &text),
        Some(mut body) => {
            let problems = vendor.facts().operation.answers.problems;
            let item = match problems.each {
                "" => Some(&mut body),
                each => body.pointer_mut(each).and_then(|v| v.get_mut(0)),
            };
            if let Some(item) = item {
                let (first, rest) = problems.fields.split_first().unwrap_or((&"/message", &[]));
                set(item, first, json!(text));
                for field in rest {
                    if let (Some(map), Some(name)) = (item.as_object_mut(), field.strip_prefix('/'))
                        && map.get(name) == Some(&json!("example"))
                    {
                        map.remove(name);
                    }
                }
            }
            Reply::json(status, body)
        }
    };
    if let Some((pointer, text)) = matched {
        set(&mut reply.body, pointer, json!(text));
    }
    reply
}

/// A validation error: the documented shape, one item per problem, each with its location
/// (where the example holds a location, an array: `["path", "organization_id"]`) and message.
fn invalid(vendor: Vendor, status: u16, problems: &[(String, String)]) -> Reply {
    let rules = vendor.facts().operation.answers.problems;
    let mut body = documented(vendor, status).unwrap_or_else(|| json!({}));
    let template = match rules.each {
        "" => body.clone(),
        each => body
            .pointer(each)
            .and_then(|v| v.get(0))
            .cloned()
            .unwrap_or_default(),
    };
    let item = |(at, message): &(String, String)| {
        let mut item = template.clone();
        match rules.fields {
            [loc, msg, ..] if template.pointer(loc).is_some_and(Value::is_array) => {
                set(&mut item, loc, json!(at.split('.').collect::<Vec<_>>()));
                set(&mut item, msg, json!(message));
            }
            [field, ..] => set(&mut item, field, json!(format!("{at}: {message}"))),
            [] => set(&mut item, "/message", json!(format!("{at}: {message}"))),
        }
        item
    };
    match rules.each {
        "" => body = item(&problems[0]),
        each => set(&mut body, each, problems.iter().map(item).collect()),
    }
    Reply::json(status, body)
}

/// Set `value` at a JSON pointer, making objects on the way.
pub(crate) fn set(target: &mut Value, pointer: &str, value: Value) {
    let mut at = target;
    let segments: Vec<String> = pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    for (i, segment) in segments.iter().enumerate() {
        if !at.is_object() {
            *at = json!({});
        }
        let Value::Object(map) = at else { return };
        if i + 1 == segments.len() {
            map.insert(segment.clone(), value);
            return;
        }
        at = map.entry(segment.clone()).or_insert_with(|| json!({}));
    }
}

/// The rule the vendor answers a connection already cut by: its first `already_disconnected`
/// rule, else its first `gone` rule.
fn already_cut_rule(vendor: Vendor) -> Option<&'static Rule> {
    let rules = vendor.facts().operation.answers.rules;
    let first = |outcome| rules.iter().find(|r| r.outcome == outcome);
    first(Outcome::AlreadyDisconnected).or_else(|| first(Outcome::Gone))
}

/// The answer to cutting a connection that is already cut, by the vendor's rules.
fn gone_answer<Q: Quirks>(vendor: Vendor) -> Reply {
    let message = "Connection already disconnected";
    match already_cut_rule(vendor) {
        Some(rule) => {
            let matched = rule.when.map(|m| (m.pointer, m.contains));
            let message = if rule.outcome == Outcome::Gone {
                "Connection not found"
            } else {
                message
            };
            error::<Q>(vendor, rule.status, message, matched)
        }
        None => error::<Q>(vendor, 404, message, None),
    }
}

impl<Q: Quirks> GenericState<Q> {
    /// Empty state of `vendor`'s fake.
    pub(crate) fn new(vendor: Vendor, config: &FakeConfig) -> Self {
        Self {
            vendor,
            connections: HashMap::new(),
            stored: HashMap::new(),
            quirks: Q::new(vendor, config),
        }
    }

    /// Load one connection of a seed document (an existing one with the same id is reset).
    pub(crate) fn seed(&mut self, seed: &GenericSeed) {
        self.insert(seed.id.clone(), seed.state.clone(), &seed.record);
    }

    /// Seed one live connection from a target's id (the text after `<vendor>:`).
    pub(crate) fn seed_live(&mut self, id: &str) -> Result<(), String> {
        let id = canonical(self.vendor, id)?;
        self.insert(id, None, &Map::new());
        Ok(())
    }

    /// Whether the connection with this target id is cut (`None`: the fake does not know it).
    pub(crate) fn is_cut(&self, id: &str) -> Option<bool> {
        let cut = json_of(self.vendor.facts().operation.fake.cut);
        self.state(id).map(|state| state == cut)
    }

    /// A `status` fault's 5xx reached the vendor: a vendor that stores answers under an
    /// idempotency key stores this one too; the quirks see it.
    pub(crate) fn store_faulted(&mut self, api_key: &str, req: &Incoming<'_>, reply: Reply) {
        let call = self.call(api_key, req, Instant::now());
        let reply = self.store(&call, reply);
        self.quirks.finish(&call, reply);
    }
}

/// A target id for the `n`th of many generated connections of `vendor` (bench, examples):
/// text values numbered, UUIDs fixed but for the last.
pub(crate) fn sample_id(vendor: Vendor, n: u64) -> String {
    let params = vendor.facts().operation.params;
    params
        .iter()
        .enumerate()
        .map(|(i, p)| match (p.format, i + 1 == params.len()) {
            (ParamFormat::Uuid, true) => Uuid::from_u128(u128::from(n) + 10_000).to_string(),
            (ParamFormat::Uuid, false) => {
                Uuid::from_u128(0x0b9c2f4e_8a43_4d3a_9a1e_2f7a5b6c7d8e).to_string()
            }
            _ => format!("{}_{n}", p.name.replace('-', "_")),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// `vendor`'s success answer for a sample connection, as it sends it: what the bench's
/// stateless server answers.
pub(crate) fn success_example(vendor: Vendor) -> Reply {
    let op = &vendor.facts().operation;
    let mut body = record(vendor, &sample_id(vendor, 0));
    if !op.fake.state_at.is_empty() {
        set(&mut body, op.fake.state_at, json_of(op.fake.cut));
    }
    Reply::json(op.success_status, body)
}

/// The tour of a vendor with no tour of its own: a live connection cut, and one already cut.
pub(crate) fn generic_demo(vendor: Vendor, fakes: &FakeServer) -> Vec<DemoScene> {
    let live = sample_id(vendor, 1);
    let gone = sample_id(vendor, 2);
    let _ = fakes.seed_live(vendor, &live);
    let _ = fakes
        .shared
        .vendors
        .seed_one(vendor, json!({"id": gone, "gone": true}));
    let rule = already_cut_rule(vendor);
    let again = if rule.is_some_and(|r| r.outcome == Outcome::AlreadyDisconnected) {
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

    /// Every vendor's error bodies put the message where its answer rules read it.
    #[test]
    fn problems_are_written_where_the_rules_read_them() {
        for vendor in Vendor::ALL {
            let p = vendor.facts().operation.answers.problems;
            for reply in [
                error::<()>(vendor, 599, "boom", Some(("/x/y", "z"))),
                invalid(vendor, 400, &[("path.id".into(), "boom".into())]),
            ] {
                let item = match p.each {
                    "" => reply.body.clone(),
                    each => match reply.body.pointer(each).unwrap() {
                        Value::Array(items) => items[0].clone(),
                        one => one.clone(),
                    },
                };
                let said: Vec<String> = p
                    .fields
                    .iter()
                    .filter_map(|f| item.pointer(f))
                    .map(|v| v.to_string())
                    .chain(item.as_str().map(str::to_string))
                    .collect();
                assert!(said.join(" ").contains("boom"), "{vendor}: {}", reply.body);
            }
        }
        let body = error::<()>(Vendor::ALL[0], 599, "a", Some(("/x/y", "z"))).body;
        assert_eq!(body.pointer("/x/y"), Some(&json!("z")));
    }

    #[test]
    fn seeds_name_the_target_by_id_or_by_its_parameters() {
        for vendor in Vendor::ALL {
            let id = sample_id(vendor, 7);
            let by_id = GenericSeed::parse(vendor, json!({"id": id})).unwrap();
            assert_eq!(by_id.id(), id);
            let op = &vendor.facts().operation;
            let mut entry = Map::new();
            let values: Vec<&str> = match op.params.len() {
                1 => vec![id.as_str()],
                _ => id.split('/').collect(),
            };
            for (p, v) in op.params.iter().zip(values) {
                entry.insert(p.name.to_string(), json!(v));
            }
            let by_params = GenericSeed::parse(vendor, Value::Object(entry)).unwrap();
            assert_eq!(by_params.id(), id, "{vendor}");
            let bad = GenericSeed::parse(vendor, json!({"id": id, "nonsense": 1})).unwrap_err();
            assert!(bad.contains("unknown field `nonsense`"), "{bad}");
            assert!(GenericSeed::parse(vendor, json!({"gone": true})).is_err());
        }
    }
}
