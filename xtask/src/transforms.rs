//! Named spec transforms, applied to the parsed YAML (as JSON values) before progenitor sees it.
//!
//! Each transform fixes one way in which a vendor's spec is valid OpenAPI but not something
//! progenitor 0.15.1 accepts or generates well. They are listed by name in `specs/vendors.toml`
//! and documented with their reasons in `specs/README.md`. None of them edits the files in
//! `specs/`: the vendor's YAML stays as published and the change happens at generation time.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};

/// A transform: rewrites the document in place, or explains why it cannot.
pub type Transform = fn(&mut Value) -> Result<()>;

/// Every transform name accepted in `vendors.toml`.
pub const NAMES: &[&str] = &[
    "downgrade_openapi_31",
    "synthesize_operation_ids",
    "merge_error_responses",
    "multipart_as_form",
];

/// Operation extension set by [`multipart_as_form`]: the request body must be sent as
/// `multipart/form-data` although progenitor is told it is a form.
pub const MULTIPART_EXTENSION: &str = "x-xtask-multipart-form";

/// Look a transform up by its name in `vendors.toml`.
pub fn by_name(name: &str) -> Option<Transform> {
    Some(match name {
        "downgrade_openapi_31" => downgrade_openapi_31,
        "synthesize_operation_ids" => synthesize_operation_ids,
        "merge_error_responses" => merge_error_responses,
        "multipart_as_form" => multipart_as_form,
        _ => return None,
    })
}

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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
// merge_error_responses
// ---------------------------------------------------------------------------------------------

fn is_error_status(status: &str) -> bool {
    status.starts_with('4') || status.starts_with('5')
}

/// Follows a local `$ref` (`#/components/...`) to the value it names.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> Result<&'a Value> {
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

/// Gives every operation one error type when its error statuses have bodies of different shapes.
///
/// Progenitor makes one error type per operation: different inline schemas per status collapse
/// silently into one of them (and the other statuses' fields are lost), separate named schemas
/// trip an assertion. This transform builds one object schema, `<OperationId>Error`, whose
/// properties are the union of every error status's properties, each optional, puts it in
/// `components/schemas` and points every error status at it. Properties of the same name must
/// have the same schema in every status. Operations whose error statuses already share one
/// schema are left alone.
pub fn merge_error_responses(doc: &mut Value) -> Result<()> {
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
        // (status, media type, schema) of every JSON error body.
        let mut bodies: Vec<(String, String, Value)> = Vec::new();
        for (status, response) in responses.iter() {
            if !is_error_status(status) {
                continue;
            }
            let response =
                resolve(&snapshot, response).with_context(|| format!("response {status}"))?;
            let Some(content) = response.get("content").and_then(Value::as_object) else {
                continue;
            };
            for (media, body) in content {
                if media.contains("json")
                    && let Some(schema) = body.get("schema")
                {
                    bodies.push((status.clone(), media.clone(), schema.clone()));
                }
            }
        }
        let first = match bodies.first() {
            Some((_, _, schema)) => schema.clone(),
            None => return Ok(()),
        };
        if bodies.iter().all(|(_, _, s)| s == &first) && first.get("$ref").is_some() {
            return Ok(()); // one named error type already
        }

        let name = format!("{}Error", pascal_case(&op_id));
        let mut properties = Map::new();
        let mut statuses = Vec::new();
        for (status, _, schema) in &bodies {
            statuses.push(status.clone());
            let schema =
                resolve(&snapshot, schema).with_context(|| format!("response {status}"))?;
            let props = schema
                .get("properties")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    anyhow!("response {status}: the error body is not an object with properties")
                })?;
            for (prop, prop_schema) in props {
                match properties.get(prop) {
                    Some(existing) if existing != prop_schema => {
                        let (a, b) = (strip_examples(existing), strip_examples(prop_schema));
                        if a != b {
                            bail!(
                                "response {status}: property `{prop}` differs from the one in an earlier error status; \
                                 they cannot be merged into one field"
                            );
                        }
                    }
                    Some(_) => {}
                    None => {
                        properties.insert(prop.clone(), prop_schema.clone());
                    }
                }
            }
        }
        let merged = json!({
            "type": "object",
            "description": format!(
                "Error body of `{op_id}` (statuses {}): the union of the fields each status sends, every one optional.",
                statuses.join(", ")
            ),
            "properties": Value::Object(properties),
        });
        if new_schemas.iter().any(|(n, _)| n == &name) {
            bail!("two operations would both produce the error type `{name}`");
        }
        new_schemas.push((name.clone(), merged));

        let reference = json!({ "$ref": format!("#/components/schemas/{name}") });
        for (status, media, _) in &bodies {
            let response = responses.get_mut(status).expect("status seen above");
            if response.get("$ref").is_some() {
                // A shared response: replace it here by a copy so other operations keep theirs.
                *response = resolve(&snapshot, response)?.clone();
            }
            response["content"][media.as_str()]["schema"] = reference.clone();
        }
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
            bail!("`components.schemas.{name}` already exists; cannot add the merged error type");
        }
        schemas.insert(name, schema);
    }
    Ok(())
}

/// A schema without its `example`/`examples`, which differ harmlessly between statuses.
fn strip_examples(schema: &Value) -> Value {
    let mut s = schema.clone();
    if let Some(obj) = s.as_object_mut() {
        obj.shift_remove("example");
        obj.shift_remove("examples");
    }
    s
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
    fn merge_builds_one_union_error_type() {
        let mut doc = yaml(TARTAN_LIKE);
        merge_error_responses(&mut doc).unwrap();
        let merged = &doc["components"]["schemas"]["TerminateError"];
        let props: Vec<&str> = merged["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(props, ["requestId", "message", "code", "status"]);
        assert!(
            merged.get("required").is_none(),
            "every merged field is optional"
        );
        for status in ["401", "404", "409"] {
            assert_eq!(
                doc["paths"]["/t"]["post"]["responses"][status]["content"]["application/json"]["schema"],
                json!({"$ref": "#/components/schemas/TerminateError"})
            );
        }
        // The success body is untouched.
        assert!(
            doc["paths"]["/t"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
                ["properties"]
                .is_object()
        );
    }

    #[test]
    fn merge_refuses_conflicting_fields() {
        let mut doc =
            yaml(&TARTAN_LIKE.replace("code: { type: integer }", "status: { type: string }"));
        let err = merge_error_responses(&mut doc).unwrap_err();
        assert!(
            format!("{err:#}").contains("property `status` differs"),
            "{err:#}"
        );
    }

    #[test]
    fn merge_leaves_a_shared_named_error_alone() {
        let mut doc = yaml(
            r##"
paths:
  /p:
    post:
      operationId: p
      responses:
        '404': { $ref: '#/components/responses/E' }
        '409': { $ref: '#/components/responses/E' }
components:
  responses:
    E: { description: e, content: { application/json: { schema: { $ref: '#/components/schemas/Err' } } } }
  schemas:
    Err: { type: object, properties: { errors: { type: array, items: { type: string } } } }
"##,
        );
        let before = doc.clone();
        merge_error_responses(&mut doc).unwrap();
        assert_eq!(doc, before);
    }

    #[test]
    fn merge_needs_operation_ids() {
        let mut doc = yaml("paths: {/x: {get: {responses: {}}}}");
        let err = merge_error_responses(&mut doc).unwrap_err();
        assert!(
            format!("{err:#}").contains("synthesize_operation_ids"),
            "{err:#}"
        );
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
