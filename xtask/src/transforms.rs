//! Named spec transforms, applied to the parsed YAML (as JSON values) before progenitor sees it.
//!
//! Each transform fixes one way in which a vendor's spec is valid OpenAPI but not something
//! progenitor 0.15.1 accepts or generates well. They are listed by name in `specs/vendors.toml`
//! and documented with their reasons in `specs/README.md`. None of them edits the files in
//! `specs/`: the vendor's YAML stays as published and the change happens at generation time.

use std::collections::BTreeSet;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};

/// A transform: rewrites the document in place, or explains why it cannot.
pub type Transform = fn(&mut Value) -> Result<()>;

/// Every transform name accepted in `vendors.toml`.
pub const NAMES: &[&str] = &[
    "downgrade_openapi_31",
    "synthesize_operation_ids",
    "multipart_as_form",
];

/// Steps applied to every spec after the vendor's own transforms (not listed in `vendors.toml`:
/// the generated code relies on them).
pub const ALWAYS: &[(&str, Transform)] = &[("split_error_responses", split_error_responses)];

/// Operation extension set by [`multipart_as_form`]: the request body must be sent as
/// `multipart/form-data` although progenitor is told it is a form.
pub const MULTIPART_EXTENSION: &str = "x-xtask-multipart-form";

/// Look a transform up by its name in `vendors.toml`.
pub fn by_name(name: &str) -> Option<Transform> {
    Some(match name {
        "downgrade_openapi_31" => downgrade_openapi_31,
        "synthesize_operation_ids" => synthesize_operation_ids,
        "multipart_as_form" => multipart_as_form,
        _ => return None,
    })
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of the document, in document order: (path, lower-case method, its path
/// item, the operation). The read-only twin of [`for_each_operation`].
pub(crate) fn operations_in(doc: &Value) -> impl Iterator<Item = (&str, &str, &Value, &Value)> {
    doc.get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .filter(|(method, _)| HTTP_METHODS.contains(&method.as_str()))
                .map(move |(method, op)| (path.as_str(), method.as_str(), item, op))
        })
}

/// Calls `f(path, method, operation)` for every operation, in document order.
fn for_each_operation(
    doc: &mut Value,
    mut f: impl FnMut(&str, &str, &mut Map<String, Value>) -> Result<()>,
) -> Result<()> {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return Ok(());
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            if let Some(op) = op.as_object_mut() {
                f(path, method, op).with_context(|| format!("{} {path}", method.to_uppercase()))?;
            }
        }
    }
    Ok(())
}

/// Calls `f` on every schema root in the document: component schemas, and the `schema` of
/// every parameter, header, request body and response, wherever they sit.
fn for_each_schema_root(doc: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    fn media_schemas(holder: &mut Value, f: &mut dyn FnMut(&mut Value)) {
        if let Some(content) = holder.get_mut("content").and_then(Value::as_object_mut) {
            for media in content.values_mut() {
                if let Some(schema) = media.get_mut("schema") {
                    f(schema);
                }
            }
        }
        if let Some(schema) = holder.get_mut("schema") {
            f(schema);
        }
    }
    fn response(holder: &mut Value, f: &mut dyn FnMut(&mut Value)) {
        media_schemas(holder, f);
        if let Some(headers) = holder.get_mut("headers").and_then(Value::as_object_mut) {
            for header in headers.values_mut() {
                media_schemas(header, f);
            }
        }
    }
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        for (kind, entries) in components.iter_mut() {
            let Some(entries) = entries.as_object_mut() else {
                continue;
            };
            for entry in entries.values_mut() {
                match kind.as_str() {
                    "schemas" => f(entry),
                    "parameters" | "headers" | "requestBodies" => media_schemas(entry, f),
                    "responses" => response(entry, f),
                    _ => {}
                }
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            for (key, value) in item.iter_mut() {
                if key == "parameters" {
                    for p in value.as_array_mut().into_iter().flatten() {
                        media_schemas(p, f);
                    }
                }
                if !HTTP_METHODS.contains(&key.as_str()) {
                    continue;
                }
                for p in value
                    .get_mut("parameters")
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    media_schemas(p, f);
                }
                if let Some(body) = value.get_mut("requestBody") {
                    media_schemas(body, f);
                }
                if let Some(responses) = value.get_mut("responses").and_then(Value::as_object_mut) {
                    for r in responses.values_mut() {
                        response(r, f);
                    }
                }
            }
        }
    }
}

/// Calls `f` on every direct subschema of `schema` (properties, items, compositions, ...).
fn for_each_subschema(schema: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    for key in ["properties", "patternProperties", "$defs", "definitions"] {
        if let Some(map) = obj.get_mut(key).and_then(Value::as_object_mut) {
            map.values_mut().for_each(&mut *f);
        }
    }
    for key in ["allOf", "anyOf", "oneOf", "prefixItems"] {
        if let Some(list) = obj.get_mut(key).and_then(Value::as_array_mut) {
            list.iter_mut().for_each(&mut *f);
        }
    }
    for key in ["items", "additionalProperties", "not", "contains"] {
        if let Some(sub) = obj.get_mut(key).filter(|v| v.is_object()) {
            f(sub);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// downgrade_openapi_31
// ---------------------------------------------------------------------------------------------

/// Rewrites an OpenAPI 3.1 document into the 3.0.3 dialect progenitor and `openapiv3` read.
///
/// - `openapi: 3.1.x` → `3.0.3`; `jsonSchemaDialect` and `webhooks` are dropped;
/// - `type: [T, 'null']` → `type: T` + `nullable: true`;
/// - `anyOf`/`oneOf` with a `{type: 'null'}` branch → the other branch + `nullable: true`
///   (a lone `$ref` branch becomes `allOf: [$ref]` + `nullable: true`);
/// - `const: v` → `enum: [v]`;
/// - numeric `exclusiveMinimum`/`exclusiveMaximum` → `minimum`/`maximum` + boolean flag;
/// - `examples: [..]` in a schema → `example` (the first one).
///
/// A 3.0 document is left alone.
pub fn downgrade_openapi_31(doc: &mut Value) -> Result<()> {
    let version = doc
        .get("openapi")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !version.starts_with("3.1") {
        return Ok(());
    }
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| anyhow!("the document is not a mapping"))?;
    obj.insert("openapi".into(), json!("3.0.3"));
    obj.shift_remove("jsonSchemaDialect");
    obj.shift_remove("webhooks");
    for_each_schema_root(doc, &mut downgrade_schema);
    Ok(())
}

fn is_null_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("null")
}

fn downgrade_schema(schema: &mut Value) {
    for_each_subschema(schema, &mut downgrade_schema);
    let Some(obj) = schema.as_object_mut() else {
        return;
    };

    // type: [T, 'null']
    if let Some(Value::Array(types)) = obj.get("type") {
        let nullable = types.iter().any(|t| t == "null");
        let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        match rest.as_slice() {
            [single] => {
                obj.insert("type".into(), single.clone());
            }
            [] => {
                obj.shift_remove("type");
            }
            many => {
                obj.shift_remove("type");
                let branches = many.iter().map(|t| json!({ "type": t })).collect();
                obj.insert("anyOf".into(), Value::Array(branches));
            }
        }
        if nullable {
            obj.insert("nullable".into(), json!(true));
        }
    }

    // anyOf / oneOf with a null branch
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(branches)) = obj.get(key) else {
            continue;
        };
        if !branches.iter().any(is_null_schema) {
            continue;
        }
        let mut rest: Vec<Value> = branches
            .iter()
            .filter(|b| !is_null_schema(b))
            .cloned()
            .collect();
        obj.shift_remove(key);
        obj.insert("nullable".into(), json!(true));
        if rest.len() == 1 {
            let only = rest.remove(0);
            if only.get("$ref").is_some() {
                obj.insert("allOf".into(), Value::Array(vec![only]));
            } else if let Value::Object(inner) = only {
                for (k, v) in inner {
                    obj.entry(k).or_insert(v);
                }
            }
        } else if !rest.is_empty() {
            obj.insert(key.into(), Value::Array(rest));
        }
    }

    // const → single-value enum
    if let Some(value) = obj.shift_remove("const") {
        obj.insert("enum".into(), Value::Array(vec![value]));
    }

    // numeric exclusive bounds
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(n) = obj.get(exclusive).filter(|v| v.is_number()).cloned() {
            obj.insert(bound.into(), n);
            obj.insert(exclusive.into(), json!(true));
        }
    }

    // examples → example
    if let Some(Value::Array(examples)) = obj.get("examples").cloned() {
        obj.shift_remove("examples");
        if let Some(first) = examples.into_iter().next() {
            obj.entry("example").or_insert(first);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// synthesize_operation_ids
// ---------------------------------------------------------------------------------------------

/// Gives every operation without an `operationId` a stable, readable one: the snake_case of its
/// `summary` ("Terminate Connection" → `terminate_connection`), or of the method and path when
/// there is no summary (`post_api_terminate_connection`). Collisions get `_2`, `_3`, ...
/// Existing ids are kept.
pub fn synthesize_operation_ids(doc: &mut Value) -> Result<()> {
    let mut taken = std::collections::BTreeSet::new();
    for_each_operation(doc, |_, _, op| {
        if let Some(id) = op.get("operationId").and_then(Value::as_str) {
            taken.insert(id.to_string());
        }
        Ok(())
    })?;
    for_each_operation(doc, |path, method, op| {
        if op.get("operationId").and_then(Value::as_str).is_some() {
            return Ok(());
        }
        let summary = op
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut base = snake_case(summary);
        if base.is_empty() {
            base = snake_case(&format!("{method} {path}"));
        }
        if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            base = format!("op_{base}");
        }
        let mut id = base.clone();
        let mut n = 2;
        while taken.contains(&id) {
            id = format!("{base}_{n}");
            n += 1;
        }
        taken.insert(id.clone());
        op.insert("operationId".into(), Value::String(id));
        Ok(())
    })
}

/// `operation` (and `operations`) in `vendors.toml`: keep of a published document only the
/// named operations (`"DELETE /connections/{id}"`, or an `operationId`) and what they reach:
/// their path items' shared parameters, every component referenced from them (transitively;
/// a `$ref` into a component's insides keeps that component), the security schemes their
/// security requirements name. Webhooks and every other path and component go, so unrelated
/// parts of the document can neither break nor bloat the client. Applied before the vendor's
/// transforms; fails, listing what the document has, when an operation is missing.
pub fn select_operations(doc: &mut Value, selectors: &[String]) -> Result<()> {
    let mut chosen: Vec<(String, String)> = Vec::new();
    for selector in selectors {
        let found = find_operation(doc, selector)?;
        if !chosen.contains(&found) {
            chosen.push(found);
        }
    }
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("the document has no `paths`"))?;
    let mut kept = Map::new();
    for (path, method) in &chosen {
        let item = paths[path].as_object().cloned().unwrap_or_default();
        let entry = kept
            .entry(path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        for (key, value) in item {
            if !HTTP_METHODS.contains(&key.as_str()) || key == *method {
                entry[key.as_str()] = value;
            }
        }
    }
    let mut schemes: BTreeSet<String> = BTreeSet::new();
    let mut requirements: Vec<&Value> = doc.get("security").into_iter().collect();
    for (path, method) in &chosen {
        requirements.extend(kept[path.as_str()][method.as_str()].get("security"));
    }
    for list in requirements {
        for requirement in list.as_array().into_iter().flatten() {
            schemes.extend(
                requirement
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone()),
            );
        }
    }
    // Components reached from the kept paths, transitively.
    let components = doc.get("components").cloned().unwrap_or_default();
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    let mut todo: Vec<String> = Vec::new();
    collect_refs(&Value::Object(kept.clone()), &mut todo);
    while let Some(reference) = todo.pop() {
        let Some(rest) = reference.strip_prefix("#/components/") else {
            continue;
        };
        let mut parts = rest.splitn(3, '/');
        let (Some(kind), Some(name)) = (parts.next(), parts.next()) else {
            continue;
        };
        let name = name.replace("~1", "/").replace("~0", "~");
        if reached.insert((kind.to_string(), name.clone()))
            && let Some(target) = components.get(kind).and_then(|k| k.get(&name))
        {
            collect_refs(target, &mut todo);
        }
    }
    let mut out = Map::new();
    for (kind, entries) in components.as_object().into_iter().flatten() {
        let Some(entries) = entries.as_object() else {
            continue;
        };
        let keep: Map<String, Value> = entries
            .iter()
            .filter(|(name, _)| {
                reached.contains(&(kind.clone(), name.to_string()))
                    || (kind == "securitySchemes" && schemes.contains(name.as_str()))
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !keep.is_empty() {
            out.insert(kind.clone(), Value::Object(keep));
        }
    }
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| anyhow!("the document is not a mapping"))?;
    obj.insert("paths".into(), Value::Object(kept));
    obj.insert("components".into(), Value::Object(out));
    obj.remove("webhooks");
    Ok(())
}

/// The (path, lower-case method) of `selector`: `"METHOD /path"` or an `operationId`.
pub fn find_operation(doc: &Value, selector: &str) -> Result<(String, String)> {
    let wanted = selector
        .split_once(' ')
        .map(|(m, p)| (m.to_ascii_lowercase(), p.trim().to_string()));
    let mut all = Vec::new();
    for (path, method, _, op) in operations_in(doc) {
        let id = op.get("operationId").and_then(Value::as_str);
        if wanted
            .as_ref()
            .is_some_and(|(m, p)| m == method && p == path)
            || id == Some(selector)
        {
            return Ok((path.to_string(), method.to_string()));
        }
        all.push(format!("{} {path}", method.to_ascii_uppercase()));
    }
    let shown = if all.len() > 12 {
        format!("{}, and {} more", all[..12].join(", "), all.len() - 12)
    } else {
        all.join(", ")
    };
    bail!("no operation `{selector}` in the document (it has: {shown})")
}

/// Every `$ref` string under `value`.
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// `"Terminate Connection"` → `terminate_connection`; `"getHTTPThing"` → `get_http_thing`.
pub fn snake_case(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let boundary = c.is_ascii_uppercase()
                && i > 0
                && (chars[i - 1].is_ascii_lowercase()
                    || (chars[i - 1].is_ascii_uppercase()
                        && chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase())));
            if boundary && !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_string()
}

/// `terminate_connection` → `TerminateConnection`
pub fn pascal_case(text: &str) -> String {
    snake_case(text)
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// split_error_responses (applied to every spec)
// ---------------------------------------------------------------------------------------------

pub(crate) fn is_error_status(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

/// The JSON pointer of a path item: `/paths/` and the path, escaped (`~` and `/`).
pub(crate) fn path_pointer(path: &str) -> String {
    format!("/paths/{}", path.replace('~', "~0").replace('/', "~1"))
}

/// Follows a local `$ref` (`#/components/...`) to the value it names.
pub(crate) fn resolve<'a>(doc: &'a Value, value: &'a Value) -> Result<&'a Value> {
    let mut current = value;
    for _ in 0..16 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok(current);
        };
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| anyhow!("only local references are supported, found `{reference}`"))?;
        current = doc
            .pointer(pointer)
            .ok_or_else(|| anyhow!("reference `{reference}` points at nothing"))?;
    }
    bail!("reference chain too long (cycle?)")
}

/// Operation extension set by [`split_error_responses`]: the operation's documented error
/// statuses, each with its variant name and the component schema of its body.
pub const ERRORS_EXTENSION: &str = "x-xtask-errors";

/// One documented error status of an operation, as [`split_error_responses`] records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorStatus {
    /// The HTTP status.
    pub status: u16,
    /// The error enum's variant for it (`Conflict`, `TooManyRequests`, `Status499`).
    pub variant: String,
    /// The `components/schemas` entry of its JSON body; `None` when the spec gives no body.
    pub schema: Option<String>,
    /// The response's description.
    pub description: String,
}

/// The variant name of an error status: its reason phrase (RFC 9110) in PascalCase, or
/// `Status<code>` for a status without a standard phrase. Kept here, not taken from a crate,
/// because a variant name is public API and must not change with a dependency.
pub fn status_variant(status: u16) -> String {
    let phrase = match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        407 => "ProxyAuthenticationRequired",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "ContentTooLarge",
        414 => "UriTooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        421 => "MisdirectedRequest",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        425 => "TooEarly",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HttpVersionNotSupported",
        507 => "InsufficientStorage",
        508 => "LoopDetected",
        511 => "NetworkAuthenticationRequired",
        other => return format!("Status{other}"),
    };
    phrase.to_string()
}

/// The error statuses [`split_error_responses`] recorded on an operation.
pub fn error_statuses(op: &Value) -> Result<Vec<ErrorStatus>> {
    match op.get(ERRORS_EXTENSION) {
        None => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone())
            .with_context(|| format!("`{ERRORS_EXTENSION}` is malformed")),
    }
}

/// Gives each documented error status of every operation its own type, which progenitor cannot.
///
/// Progenitor makes one error type per operation: different inline schemas per status collapse
/// silently into one of them, different named schemas trip an assertion, and a body that does
/// not decode loses its status. So this step takes the error statuses away from progenitor:
/// each error status's JSON body schema becomes a `components/schemas` entry (an inline schema
/// is named `<OperationId><Reason>`, e.g. `TerminateConnectionConflict`; a `$ref` keeps its
/// schema), the statuses are recorded in the operation's [`ERRORS_EXTENSION`] and removed from
/// `responses`. After generation, `postprocess` builds the operation's error enum
/// `<OperationId>Error` with one variant per status and decodes each status into it. Applied to
/// every spec, after the vendor's own transforms.
pub fn split_error_responses(doc: &mut Value) -> Result<()> {
    let snapshot = doc.clone();
    let mut new_schemas: Vec<(String, Value)> = Vec::new();
    for_each_operation(doc, |_, _, op| {
        let op_id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                anyhow!("operation has no operationId (apply synthesize_operation_ids first)")
            })?
            .to_string();
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let mut errors = Vec::new();
        for (status, response) in responses.iter() {
            let Ok(code) = status.parse::<u16>() else {
                bail!(
                    "response `{status}`: only explicit status codes are supported (not `default` or ranges such as `4XX`)"
                );
            };
            if !is_error_status(status) {
                continue;
            }
            let response =
                resolve(&snapshot, response).with_context(|| format!("response {status}"))?;
            let variant = status_variant(code);
            let description = response
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let json = response
                .get("content")
                .and_then(Value::as_object)
                .and_then(|content| {
                    content
                        .iter()
                        .find(|(media, _)| media.contains("json"))
                        .and_then(|(_, body)| body.get("schema"))
                });
            let schema = match json {
                None => None,
                Some(schema) => match schema.get("$ref").and_then(Value::as_str) {
                    Some(reference) => {
                        let name = reference
                            .strip_prefix("#/components/schemas/")
                            .filter(|n| !n.contains('/'))
                            .ok_or_else(|| {
                                anyhow!(
                                    "response {status}: `{reference}` is not a component schema"
                                )
                            })?;
                        Some(name.to_string())
                    }
                    None => {
                        let name = format!("{}{variant}", pascal_case(&op_id));
                        let mut schema = schema.clone();
                        if schema.get("description").is_none() && !description.is_empty() {
                            schema["description"] = json!(description);
                        }
                        new_schemas.push((name.clone(), schema));
                        Some(name)
                    }
                },
            };
            errors.push(ErrorStatus {
                status: code,
                variant,
                schema,
                description,
            });
        }
        errors.sort_by_key(|e| e.status);
        responses.retain(|status, _| !is_error_status(status));
        op.insert(ERRORS_EXTENSION.into(), serde_json::to_value(&errors)?);
        Ok(())
    })?;
    if new_schemas.is_empty() {
        return Ok(());
    }
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| anyhow!("the document is not a mapping"))?;
    let components = obj.entry("components").or_insert_with(|| json!({}));
    let schemas = components
        .as_object_mut()
        .ok_or_else(|| anyhow!("`components` is not a mapping"))?
        .entry("schemas")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| anyhow!("`components.schemas` is not a mapping"))?;
    for (name, schema) in new_schemas {
        if schemas.contains_key(&name) {
            bail!("`components.schemas.{name}` already exists; cannot name an error body so");
        }
        schemas.insert(name, schema);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// multipart_as_form
// ---------------------------------------------------------------------------------------------

/// Lets progenitor generate operations whose request body is `multipart/form-data`.
///
/// Progenitor refuses that content type. The body schema, an object of scalar fields, is handed
/// to progenitor as `application/x-www-form-urlencoded`, which it accepts and for which it
/// generates a typed body struct, and the operation is marked with
/// [`MULTIPART_EXTENSION`]. After generation the xtask rewrites the marked methods to send a
/// real `reqwest::multipart::Form` built from that struct (see `postprocess.rs`). Fields that
/// are not scalars (objects, arrays, binary files) are refused with a clear error.
pub fn multipart_as_form(doc: &mut Value) -> Result<()> {
    let snapshot = doc.clone();
    for_each_operation(doc, |_, _, op| {
        let Some(body) = op.get_mut("requestBody") else {
            return Ok(());
        };
        if body.get("$ref").is_some() {
            *body = resolve(&snapshot, body)?.clone();
        }
        let Some(content) = body.get_mut("content").and_then(Value::as_object_mut) else {
            return Ok(());
        };
        let Some(media) = content.get("multipart/form-data").cloned() else {
            return Ok(());
        };
        if content.len() > 1 {
            bail!("request body offers multipart/form-data beside other content types; choose one");
        }
        let schema = media
            .get("schema")
            .ok_or_else(|| anyhow!("multipart body without a schema"))?;
        let schema = resolve(&snapshot, schema)?;
        let props = schema
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| anyhow!("multipart body schema is not an object with properties"))?;
        for (name, prop) in props {
            let prop = resolve(&snapshot, prop)?;
            let ty = prop.get("type").and_then(Value::as_str).unwrap_or_default();
            let binary = prop.get("format").and_then(Value::as_str) == Some("binary");
            if !matches!(ty, "string" | "integer" | "number" | "boolean") || binary {
                bail!(
                    "multipart field `{name}` is not a scalar (type `{ty}`{}); only text fields are supported",
                    if binary { ", format binary" } else { "" }
                );
            }
        }
        content.shift_remove("multipart/form-data");
        content.insert("application/x-www-form-urlencoded".into(), media);
        op.insert(MULTIPART_EXTENSION.into(), json!(true));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn every_name_resolves() {
        for name in NAMES {
            assert!(by_name(name).is_some(), "{name}");
        }
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn downgrade_rewrites_31_constructs() {
        let mut doc = yaml(
            r##"
openapi: 3.1.0
jsonSchemaDialect: https://json-schema.org/draft/2020-12/schema
paths:
  /x:
    get:
      parameters:
        - name: n
          in: query
          schema: { type: [integer, 'null'], exclusiveMinimum: 0 }
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                properties:
                  a: { anyOf: [{ type: string }, { type: 'null' }], title: A }
                  b: { anyOf: [{ $ref: '#/components/schemas/E' }, { type: 'null' }] }
                  c: { oneOf: [{ type: array, items: { type: string } }, { type: 'null' }] }
                  d: { const: fixed, examples: [fixed, other] }
                  e: { type: number, exclusiveMaximum: 10.5 }
                  f: { anyOf: [{ type: string }, { type: integer }] }
                  type: { type: string }
components:
  schemas:
    E: { type: string, enum: [x] }
"##,
        );
        downgrade_openapi_31(&mut doc).unwrap();
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(doc.get("jsonSchemaDialect").is_none());
        let param = &doc["paths"]["/x"]["get"]["parameters"][0]["schema"];
        assert_eq!(
            param,
            &json!({"type": "integer", "nullable": true, "exclusiveMinimum": true, "minimum": 0})
        );
        let props = &doc["paths"]["/x"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            ["properties"];
        assert_eq!(
            props["a"],
            json!({"title": "A", "nullable": true, "type": "string"})
        );
        assert_eq!(
            props["b"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/E"}]})
        );
        assert_eq!(
            props["c"],
            json!({"nullable": true, "type": "array", "items": {"type": "string"}})
        );
        assert_eq!(props["d"], json!({"enum": ["fixed"], "example": "fixed"}));
        assert_eq!(
            props["e"],
            json!({"type": "number", "exclusiveMaximum": true, "maximum": 10.5})
        );
        // Unions without null stay unions; a property *named* `type` is not mistaken for a keyword.
        assert_eq!(
            props["f"],
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
        assert_eq!(props["type"], json!({"type": "string"}));
    }

    #[test]
    fn downgrade_leaves_30_alone() {
        let mut doc = yaml("openapi: 3.0.0\ncomponents: {schemas: {A: {const: 1}}}\n");
        let before = doc.clone();
        downgrade_openapi_31(&mut doc).unwrap();
        assert_eq!(doc, before);
    }

    #[test]
    fn downgrade_reaches_nested_items_and_multi_type() {
        let mut doc = yaml(
            "openapi: 3.1.0\ncomponents:\n  schemas:\n    A:\n      type: array\n      items: { type: [string, integer, 'null'] }\n",
        );
        downgrade_openapi_31(&mut doc).unwrap();
        assert_eq!(
            doc["components"]["schemas"]["A"]["items"],
            json!({"nullable": true, "anyOf": [{"type": "string"}, {"type": "integer"}]})
        );
    }

    #[test]
    fn operation_ids_from_summary_then_path() {
        let mut doc = yaml(
            r#"
paths:
  /api/terminate_connection/:
    post: { summary: Terminate Connection, responses: {} }
    put: { summary: "Terminate  Connection!", responses: {} }
  /v1/{id}/thing:
    get: { responses: {} }
    delete: { operationId: keepMe, responses: {} }
"#,
        );
        synthesize_operation_ids(&mut doc).unwrap();
        let p = &doc["paths"];
        assert_eq!(
            p["/api/terminate_connection/"]["post"]["operationId"],
            "terminate_connection"
        );
        assert_eq!(
            p["/api/terminate_connection/"]["put"]["operationId"],
            "terminate_connection_2"
        );
        assert_eq!(p["/v1/{id}/thing"]["get"]["operationId"], "get_v1_id_thing");
        assert_eq!(p["/v1/{id}/thing"]["delete"]["operationId"], "keepMe");
    }

    #[test]
    fn snake_and_pascal_case() {
        assert_eq!(snake_case("Terminate Connection"), "terminate_connection");
        assert_eq!(snake_case("getHTTPThing"), "get_http_thing");
        assert_eq!(snake_case("  --  "), "");
        assert_eq!(
            pascal_case("deactivate-a-connect-connection"),
            "DeactivateAConnectConnection"
        );
    }

    const TARTAN_LIKE: &str = r#"
paths:
  /t:
    post:
      operationId: terminate
      responses:
        '200':
          description: ok
          content: { application/json: { schema: { type: object, properties: { message: { type: string } } } } }
        '401':
          description: unauth
          content: { application/json: { schema: { type: object, properties: { requestId: { type: string, example: a }, message: { type: string } } } } }
        '404':
          description: nf
          content: { application/json: { schema: { type: object, properties: { code: { type: integer }, message: { type: string, example: nf } } } } }
        '409':
          description: conflict
          content: { application/json: { schema: { type: object, properties: { status: { type: integer }, requestId: { type: string, example: b } } } } }
"#;

    #[test]
    fn split_gives_each_error_status_its_own_schema() {
        let mut doc = yaml(TARTAN_LIKE);
        split_error_responses(&mut doc).unwrap();
        let op = &doc["paths"]["/t"]["post"];
        let statuses: Vec<&str> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(statuses, ["200"], "only successes are left to progenitor");
        let errors = error_statuses(op).unwrap();
        assert_eq!(
            errors
                .iter()
                .map(|e| (e.status, e.variant.as_str(), e.schema.as_deref()))
                .collect::<Vec<_>>(),
            [
                (401, "Unauthorized", Some("TerminateUnauthorized")),
                (404, "NotFound", Some("TerminateNotFound")),
                (409, "Conflict", Some("TerminateConflict")),
            ]
        );
        let conflict = &doc["components"]["schemas"]["TerminateConflict"];
        assert_eq!(
            conflict["properties"]["status"],
            json!({"type": "integer"}),
            "each status keeps its own fields"
        );
        assert_eq!(conflict["description"], "conflict");
    }

    #[test]
    fn split_keeps_named_schemas_and_bodiless_statuses() {
        let mut doc = yaml(
            r##"
paths:
  /p:
    post:
      operationId: p
      responses:
        '200': { description: ok }
        '404': { $ref: '#/components/responses/E' }
        '409': { $ref: '#/components/responses/E' }
        '499': { description: client closed }
components:
  responses:
    E: { description: e, content: { application/json: { schema: { $ref: '#/components/schemas/Err' } } } }
  schemas:
    Err: { type: object, properties: { errors: { type: array, items: { type: string } } } }
"##,
        );
        split_error_responses(&mut doc).unwrap();
        let errors = error_statuses(&doc["paths"]["/p"]["post"]).unwrap();
        assert_eq!(
            errors
                .iter()
                .map(|e| (e.status, e.variant.as_str(), e.schema.as_deref()))
                .collect::<Vec<_>>(),
            [
                (404, "NotFound", Some("Err")),
                (409, "Conflict", Some("Err")),
                (499, "Status499", None),
            ]
        );
        assert_eq!(
            doc["components"]["schemas"].as_object().unwrap().len(),
            1,
            "nothing new for shared named bodies"
        );
    }

    #[test]
    fn split_refuses_what_it_cannot_name() {
        let mut doc = yaml(&TARTAN_LIKE.replace("'404':", "default:"));
        let err = split_error_responses(&mut doc).unwrap_err();
        assert!(format!("{err:#}").contains("`default`"), "{err:#}");
        let mut doc = yaml(
            "paths: { /x: { get: { operationId: x, responses: { '409': { description: c, content: { application/json: { schema: { type: object } } } } } } } }\ncomponents: { schemas: { XConflict: { type: string } } }",
        );
        let err = split_error_responses(&mut doc).unwrap_err();
        assert!(
            format!("{err:#}").contains("XConflict` already exists"),
            "{err:#}"
        );
    }

    #[test]
    fn split_needs_operation_ids() {
        let mut doc = yaml("paths: { /x: { get: { responses: { '200': { description: ok } } } } }");
        let err = split_error_responses(&mut doc).unwrap_err();
        assert!(format!("{err:#}").contains("no operationId"), "{err:#}");
    }

    #[test]
    fn variant_names() {
        assert_eq!(status_variant(422), "UnprocessableEntity");
        assert_eq!(status_variant(429), "TooManyRequests");
        assert_eq!(status_variant(599), "Status599");
    }

    #[test]
    fn multipart_becomes_a_marked_form() {
        let mut doc = yaml(
            r#"
paths:
  /t:
    post:
      requestBody:
        content:
          multipart/form-data:
            schema: { type: object, required: [a], properties: { a: { type: string }, n: { type: integer } } }
      responses: {}
"#,
        );
        multipart_as_form(&mut doc).unwrap();
        let op = &doc["paths"]["/t"]["post"];
        assert_eq!(op[MULTIPART_EXTENSION], true);
        let content = op["requestBody"]["content"].as_object().unwrap();
        assert_eq!(
            content.keys().collect::<Vec<_>>(),
            ["application/x-www-form-urlencoded"]
        );
    }

    #[test]
    fn multipart_refuses_files_and_objects() {
        for field in [
            "{ type: string, format: binary }",
            "{ type: object }",
            "{ type: array, items: { type: string } }",
        ] {
            let mut doc = yaml(&format!(
                "paths: {{/t: {{post: {{requestBody: {{content: {{multipart/form-data: {{schema: {{type: object, properties: {{f: {field}}}}}}}}}}}, responses: {{}}}}}}}}"
            ));
            let err = multipart_as_form(&mut doc).unwrap_err();
            assert!(
                format!("{err:#}").contains("multipart field `f` is not a scalar"),
                "{err:#}"
            );
        }
    }
}
