//! What a target names and how answers map to outcomes, for the vendor table: the operation's
//! parameters read from the spec, and `vendors.toml`'s `headers`, `idempotency_header` and
//! `answers` checked against it, with defaults from the spec's error schemas.
//!
//! Everything here is data the facade's one generic adapter and the fakes interpret; a setting
//! that names something the spec does not document fails here, naming the vendor and the spec.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::config::{AnswersConfig, FakeSettings, OutcomeName, VendorConfig};
use crate::postprocess::OperationSpec;
use crate::transforms::{MULTIPART_EXTENSION, path_pointer, resolve};

/// Where a target's value travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Form,
}

/// One value a target gives the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamFacts {
    pub name: String,
    pub location: Location,
    pub uuid: bool,
}

/// One rule, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFacts {
    pub status: u16,
    pub when: Option<(String, String)>,
    pub outcome: OutcomeName,
}

/// What the facade needs to send the request and read its answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    pub params: Vec<ParamFacts>,
    /// The target syntax: `<name>` per parameter (`<name_uuid>` for a UUID, `_id` dropped),
    /// joined by `/`.
    pub syntax: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    /// Lower-case.
    pub idempotency_header: Option<String>,
    pub rules: Vec<RuleFacts>,
    pub problems_each: String,
    pub problems_fields: Vec<String>,
    pub request_id: Vec<String>,
    pub record: String,
    /// The first documented success status and a body for it (compact JSON).
    pub success: (u16, String),
    /// Each documented error status with a JSON body, and a body for it (compact JSON).
    pub error_examples: Vec<(u16, String)>,
    pub fake: FakeFacts,
}

/// How the fakes show a connection, checked against the success body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeFacts {
    /// (seed field, pointer in the success body or empty, live value, cut value), as JSON.
    pub state: Option<(String, String, String, String)>,
    /// (pointer in the success body, parameter name).
    pub ids: Vec<(String, String)>,
    /// Pointers in the success body set to the time of the change.
    pub touch: Vec<String>,
}

/// Read and check. `doc` is the spec after the transforms.
pub fn facts(
    id: &str,
    vendor: &VendorConfig,
    doc: &Value,
    op: &OperationSpec,
) -> Result<RequestFacts> {
    let ctx = || format!("vendor `{id}` (specs/{})", vendor.spec);
    let item = doc
        .pointer(&path_pointer(&op.path))
        .ok_or_else(|| anyhow!("{}: no path `{}`", ctx(), op.path))?;
    let operation = item
        .get(op.method.to_ascii_lowercase())
        .ok_or_else(|| anyhow!("{}: no `{} {}`", ctx(), op.method, op.path))?;
    let (params, header_params) = params(doc, item, operation, &op.path).with_context(ctx)?;

    let documented = |name: &str, setting: &str| -> Result<String> {
        let lower = name.to_ascii_lowercase();
        if !header_params.contains(&lower) {
            bail!(
                "{}: `{setting}` names the header `{name}`, which `{} {}` does not document \
                 (documented headers: {})",
                ctx(),
                op.method,
                op.path,
                if header_params.is_empty() {
                    "none".to_string()
                } else {
                    header_params.join(", ")
                }
            );
        }
        Ok(lower)
    };
    let headers = vendor
        .headers
        .iter()
        .map(|(name, value)| Ok((documented(name, "headers")?, value.clone())))
        .collect::<Result<Vec<_>>>()?;
    let idempotency_header = vendor
        .idempotency_header
        .as_deref()
        .map(|h| documented(h, "idempotency_header"))
        .transpose()?;

    let AnswersConfig {
        rules,
        problems,
        request_id,
        record,
    } = &vendor.answers;
    let pointer = |p: &str, setting: &str, empty_ok: bool| -> Result<String> {
        if (p.is_empty() && empty_ok) || p.starts_with('/') {
            Ok(p.to_string())
        } else {
            bail!(
                "{}: `answers.{setting}` = `{p}` is not a JSON pointer (it starts with `/`)",
                ctx()
            )
        }
    };
    let rules = rules
        .iter()
        .map(|r| {
            if !(100..=599).contains(&r.status) {
                bail!(
                    "{}: answers rule for status {} is not an HTTP status",
                    ctx(),
                    r.status
                );
            }
            if (200..300).contains(&r.status) && r.outcome != OutcomeName::AlreadyDisconnected {
                bail!(
                    "{}: a {} is a success; a rule may only call it `already_disconnected`",
                    ctx(),
                    r.status
                );
            }
            let when = r
                .when
                .as_ref()
                .map(|m| -> Result<(String, String)> {
                    Ok((
                        pointer(&m.pointer, "rules.when.pointer", false)?,
                        m.contains.clone(),
                    ))
                })
                .transpose()?;
            Ok(RuleFacts {
                status: r.status,
                when,
                outcome: r.outcome,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let error_schemas = error_schemas(doc, op);
    let (problems_each, problems_fields) = match problems {
        Some(p) => {
            if p.fields.is_empty() {
                bail!("{}: `answers.problems.fields` is empty", ctx());
            }
            (
                pointer(&p.each, "problems.each", true)?,
                p.fields
                    .iter()
                    .map(|f| pointer(f, "problems.fields", false))
                    .collect::<Result<_>>()?,
            )
        }
        None => (
            String::new(),
            first_string_property(
                &error_schemas,
                doc,
                &["message", "error", "detail", "title"],
            )
            .map(|name| vec![format!("/{name}")])
            .unwrap_or_default(),
        ),
    };
    let request_id = match request_id {
        Some(pointers) => pointers
            .iter()
            .map(|p| pointer(p, "request_id", false))
            .collect::<Result<_>>()?,
        None => first_string_property(&error_schemas, doc, &["request_id", "requestId"])
            .map(|name| vec![format!("/{name}")])
            .unwrap_or_default(),
    };
    let syntax = params
        .iter()
        .map(|p| match p.uuid {
            true => format!("<{}_uuid>", p.name.trim_end_matches("_id")),
            false => format!("<{}>", p.name),
        })
        .collect::<Vec<_>>()
        .join("/");
    let success = success_example(doc, operation).with_context(ctx)?;
    let error_examples = error_examples(doc, op).with_context(ctx)?;
    let (fake, warnings) = fake_facts(&vendor.fake, &params, &success.1).with_context(ctx)?;
    for warning in warnings {
        eprintln!("warning: {}: {warning}", ctx());
    }
    Ok(RequestFacts {
        success,
        error_examples,
        fake,
        syntax,
        params,
        headers,
        idempotency_header,
        rules,
        problems_each,
        problems_fields,
        request_id,
        record: pointer(record, "record", true)?,
    })
}

/// The target's parameters (required path parameters in path order, then required query
/// parameters, then required form fields) and the lower-case names of the header parameters.
fn params(
    doc: &Value,
    item: &Value,
    operation: &Value,
    path: &str,
) -> Result<(Vec<ParamFacts>, Vec<String>)> {
    let mut path_params = Vec::new();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    let declared = item
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    for p in declared {
        let p = resolve(doc, p)?;
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("a parameter without a name"))?;
        let required = p.get("required").and_then(Value::as_bool) == Some(true);
        let uuid = p
            .get("schema")
            .map(|s| resolve(doc, s))
            .transpose()?
            .and_then(|s| s.get("format"))
            .and_then(Value::as_str)
            == Some("uuid");
        let param = |location| ParamFacts {
            name: name.to_string(),
            location,
            uuid,
        };
        match p.get("in").and_then(Value::as_str) {
            Some("path") => path_params.push(param(Location::Path)),
            Some("query") if required => query.push(param(Location::Query)),
            Some("query") => {}
            Some("header") => headers.push(name.to_ascii_lowercase()),
            Some("cookie") if required => {
                bail!("required cookie parameter `{name}` is not supported")
            }
            _ => {}
        }
    }
    // Path parameters in the order the template names them.
    let mut ordered = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| anyhow!("path `{path}`: an unclosed `{{`"))?;
        let name = &rest[start + 1..start + end];
        let at = path_params
            .iter()
            .position(|p: &ParamFacts| p.name == name)
            .ok_or_else(|| anyhow!("path `{path}`: `{{{name}}}` is not a documented parameter"))?;
        ordered.push(path_params.remove(at));
        rest = &rest[start + end + 1..];
    }
    ordered.extend(query);
    ordered.extend(form_fields(doc, operation)?);
    if ordered.is_empty() {
        bail!("the operation takes no required parameter: a target would name nothing");
    }
    Ok((ordered, headers))
}

/// Required fields of a form body (`multipart/form-data`, also after `multipart_as_form`).
fn form_fields(doc: &Value, operation: &Value) -> Result<Vec<ParamFacts>> {
    let Some(body) = operation.get("requestBody") else {
        return Ok(Vec::new());
    };
    let body = resolve(doc, body)?;
    let media = body.pointer("/content/multipart~1form-data").or_else(|| {
        (operation.get(MULTIPART_EXTENSION) == Some(&Value::Bool(true)))
            .then(|| body.pointer("/content/application~1x-www-form-urlencoded"))
            .flatten()
    });
    let Some(media) = media else {
        if body.get("required").and_then(Value::as_bool) == Some(true) {
            bail!("a required request body that is not a form is not supported");
        }
        return Ok(Vec::new());
    };
    let schema = resolve(doc, media.get("schema").unwrap_or(&Value::Null))?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut fields = Vec::new();
    for name in required {
        let prop = schema
            .pointer(&format!("/properties/{name}"))
            .map(|p| resolve(doc, p))
            .transpose()?;
        fields.push(ParamFacts {
            name: name.to_string(),
            location: Location::Form,
            uuid: prop.and_then(|p| p.get("format")).and_then(Value::as_str) == Some("uuid"),
        });
    }
    Ok(fields)
}

/// The first documented 2xx and a body for it: the spec's example (of the response's media or
/// its schema), else one built from the schema ([`example_of`]); `{}` without a JSON body.
fn success_example(doc: &Value, operation: &Value) -> Result<(u16, String)> {
    let (status, response) = operation
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .find_map(|(status, r)| {
            let code: u16 = status.parse().ok()?;
            (200..300).contains(&code).then_some((code, r))
        })
        .ok_or_else(|| anyhow!("no documented 2xx answer"))?;
    let response = resolve(doc, response)?;
    let Some(media) = response.pointer("/content/application~1json") else {
        return Ok((status, "{}".into()));
    };
    let body = match media.get("example") {
        Some(example) => example.clone(),
        None => match media.get("schema") {
            Some(schema) => example_of(doc, schema, 0)?,
            None => json_empty(),
        },
    };
    Ok((status, serde_json::to_string(&body)?))
}

/// Each documented 4xx/5xx with a JSON body (the operation's error statuses, split out by
/// `split_error_responses`): a body built from its schema ([`example_of`]).
fn error_examples(doc: &Value, op: &OperationSpec) -> Result<Vec<(u16, String)>> {
    let mut out = Vec::new();
    for error in &op.errors {
        if let Some(name) = &error.schema {
            let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
            let body = example_of(doc, &schema, 0)?;
            out.push((error.status, serde_json::to_string(&body)?));
        }
    }
    Ok(out)
}

/// `[fake]` checked: every parameter is one of the target's, every pointer is one; a success-body
/// field named like a parameter holds it unless `ids` says where. A pointer to a field the
/// success body does not have (any more: the vendor removed it) is left out with a warning
/// (the second value), so that a vendor's change never stops the client's regeneration.
fn fake_facts(
    fake: &FakeSettings,
    params: &[ParamFacts],
    success: &str,
) -> Result<(FakeFacts, Vec<String>)> {
    let body: Value = serde_json::from_str(success)?;
    let mut warnings = Vec::new();
    let mut field = |pointer: &str, setting: &str| -> Result<Option<String>> {
        if !pointer.starts_with('/') {
            bail!("`fake.{setting}` = `{pointer}` is not a JSON pointer (it starts with `/`)");
        }
        if body.pointer(pointer).is_none() {
            warnings.push(format!(
                "`fake.{setting}` = `{pointer}` names no field of the success body; the fakes \
                 leave it out (update [vendors.<id>.fake])"
            ));
            return Ok(None);
        }
        Ok(Some(pointer.to_string()))
    };
    let json = |v: &toml::Value| serde_json::to_string(v);
    let state = match &fake.state {
        Some(s) => {
            let at = match s.at.as_str() {
                "" => String::new(),
                at => field(at, "state.at")?.unwrap_or_default(),
            };
            Some((s.seed.clone(), at, json(&s.live)?, json(&s.cut)?))
        }
        None => None,
    };
    let mut ids = Vec::new();
    for (pointer, param) in &fake.ids {
        if !params.iter().any(|p| &p.name == param) {
            bail!("`fake.ids` names `{param}`, which is not one of the target's parameters");
        }
        if let Some(pointer) = field(pointer, "ids")? {
            ids.push((pointer, param.clone()));
        }
    }
    let mut touch = Vec::new();
    for pointer in &fake.touch {
        touch.extend(field(pointer, "touch")?);
    }
    for p in params {
        let pointer = format!("/{}", p.name.replace('~', "~0").replace('/', "~1"));
        let named = fake.ids.values().any(|name| name == &p.name);
        if body.pointer(&pointer).is_some() && !named {
            ids.push((pointer, p.name.clone()));
        }
    }
    Ok((FakeFacts { state, ids, touch }, warnings))
}

fn json_empty() -> Value {
    Value::Object(Default::default())
}

/// A value of `schema`: its example or default, else null if it is nullable, else every property (required or not, so the
/// body shows the record whole) built the same way, the first enum value, the first non-null
/// branch of a union, and for scalars a value of their format.
pub fn example_of(doc: &Value, schema: &Value, depth: usize) -> Result<Value> {
    if depth > 12 {
        return Ok(Value::Null);
    }
    let schema = resolve(doc, schema)?;
    for key in ["example", "default", "const"] {
        if let Some(v) = schema.get(key) {
            return Ok(v.clone());
        }
    }
    if schema.get("nullable") == Some(&Value::Bool(true)) {
        return Ok(Value::Null);
    }
    if let Some(examples) = schema.get("examples").and_then(Value::as_array)
        && let Some(first) = examples.first()
    {
        return Ok(first.clone());
    }
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return Ok(first.clone());
    }
    for union in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = schema.get(union).and_then(Value::as_array) {
            if union == "allOf" {
                let mut merged = serde_json::Map::new();
                for b in branches {
                    match example_of(doc, b, depth + 1)? {
                        Value::Object(o) => merged.extend(o),
                        Value::Null => {}
                        // A scalar branch (`allOf: [$ref: SomeEnum]`) is the value.
                        scalar => return Ok(scalar),
                    }
                }
                return Ok(Value::Object(merged));
            }
            for b in branches {
                let v = example_of(doc, b, depth + 1)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            return Ok(Value::Null);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "object",
    };
    Ok(match ty {
        "object" => {
            let mut out = serde_json::Map::new();
            for (name, prop) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                out.insert(name.clone(), example_of(doc, prop, depth + 1)?);
            }
            Value::Object(out)
        }
        "array" => match schema.get("items") {
            Some(items) => Value::Array(vec![example_of(doc, items, depth + 1)?]),
            None => Value::Array(Vec::new()),
        },
        "integer" => Value::from(0),
        "number" => Value::from(0.0),
        "boolean" => Value::Bool(false),
        "string" => Value::String(
            match schema.get("format").and_then(Value::as_str) {
                Some("uuid") => "00000000-0000-4000-8000-000000000000",
                Some("date-time") => "2026-01-01T00:00:00Z",
                Some("date") => "2026-01-01",
                Some("uri" | "url") => "https://example.com/",
                Some("email") => "someone@example.com",
                _ => "example",
            }
            .to_string(),
        ),
        _ => Value::Null,
    })
}

/// The JSON schemas of the operation's documented 4xx/5xx answers.
fn error_schemas<'a>(doc: &'a Value, op: &OperationSpec) -> Vec<&'a Value> {
    op.errors
        .iter()
        .filter_map(|e| e.schema.as_deref())
        .filter_map(|name| {
            doc.pointer(&format!(
                "/components/schemas/{}",
                name.replace('~', "~0").replace('/', "~1")
            ))
        })
        .collect()
}

/// The first of `names` that some error schema has as a string property.
fn first_string_property<'a>(
    schemas: &[&Value],
    doc: &Value,
    names: &[&'a str],
) -> Option<&'a str> {
    names.iter().copied().find(|name| {
        schemas.iter().any(|schema| {
            schema
                .pointer(&format!("/properties/{name}"))
                .and_then(|p| resolve(doc, p).ok())
                .and_then(|p| p.get("type"))
                .is_some_and(|t| {
                    t == "string"
                        || t.as_array()
                            .is_some_and(|a| a.iter().any(|v| v == "string"))
                })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec as generation sees it: operationIds, error answers split out.
    fn doc(text: &str) -> Value {
        let mut doc = serde_yaml_ng::from_str(text).unwrap();
        crate::transforms::synthesize_operation_ids(&mut doc).unwrap();
        crate::transforms::split_error_responses(&mut doc).unwrap();
        doc
    }

    fn op(doc: &Value, path: &str, method: &str) -> OperationSpec {
        crate::postprocess::operations(doc)
            .unwrap()
            .into_iter()
            .find(|o| o.path == path && o.method == method)
            .unwrap()
    }

    fn vendor(extra: &str) -> VendorConfig {
        let text =
            format!("[vendors.x]\nspec='x.yaml'\ncrate='x-client'\ninterface='builder'\n{extra}");
        crate::config::VendorsFile::parse(&text)
            .unwrap()
            .vendors
            .shift_remove("x")
            .unwrap()
    }

    const SPEC: &str = r#"
openapi: 3.0.3
paths:
  /orgs/{org}/connections/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
    delete:
      parameters:
        - { name: org, in: path, required: true, schema: { type: string, format: uuid } }
        - { name: provider, in: query, required: true, schema: { type: string } }
        - { name: verbose, in: query, schema: { type: boolean } }
        - { name: Idempotency-Key, in: header, schema: { type: string } }
      responses:
        '200': { description: ok }
        '400':
          description: bad
          content:
            application/json:
              schema:
                type: object
                properties:
                  error: { type: string }
                  request_id: { type: string }
"#;

    #[test]
    fn params_follow_the_path_then_the_query() {
        let d = doc(SPEC);
        let f = facts(
            "x",
            &vendor(""),
            &d,
            &op(&d, "/orgs/{org}/connections/{id}", "DELETE"),
        )
        .unwrap();
        let names: Vec<_> = f
            .params
            .iter()
            .map(|p| (p.name.as_str(), p.location, p.uuid))
            .collect();
        assert_eq!(
            names,
            [
                ("org", Location::Path, true),
                ("id", Location::Path, false),
                ("provider", Location::Query, false)
            ]
        );
        // Defaults from the error schema.
        assert_eq!(f.problems_fields, ["/error"]);
        assert_eq!(f.request_id, ["/request_id"]);
        assert!(f.rules.is_empty());
    }

    #[test]
    fn settings_must_name_what_the_spec_documents() {
        let d = doc(SPEC);
        let o = op(&d, "/orgs/{org}/connections/{id}", "DELETE");
        let ok = facts(
            "x",
            &vendor("idempotency_header = 'Idempotency-Key'\n"),
            &d,
            &o,
        )
        .unwrap();
        assert_eq!(ok.idempotency_header.as_deref(), Some("idempotency-key"));
        let err = facts(
            "x",
            &vendor("headers = { Persona-Version = '1' }\n"),
            &d,
            &o,
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not document"), "{err}");
        let err = facts(
            "x",
            &vendor("[vendors.x.answers]\nrules = [{ status = 400, when = { pointer = 'code', contains = 'x' }, outcome = 'not_found' }]\n"),
            &d,
            &o,
        )
        .unwrap_err();
        assert!(err.to_string().contains("not a JSON pointer"), "{err}");
        let err = facts(
            "x",
            &vendor("[vendors.x.answers]\nrules = [{ status = 200, outcome = 'busy' }]\n"),
            &d,
            &o,
        )
        .unwrap_err();
        assert!(err.to_string().contains("is a success"), "{err}");
    }

    const RECORD_SPEC: &str = r#"
openapi: 3.0.3
info: { title: t, version: '1' }
paths:
  /orgs/{org}/connections/{id}:
    delete:
      parameters:
        - { name: org, in: path, required: true, schema: { type: string } }
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  org: { type: string }
                  connection: { type: string }
                  state: { type: string, enum: [LIVE, GONE] }
                  tags: { type: array, items: { type: string, example: blue } }
                  note: { type: string, nullable: true }
                  changed: { type: string, format: date-time }
        '409':
          description: gone
          content:
            application/json:
              schema:
                type: object
                properties:
                  error: { type: string, example: Already cut }
"#;

    /// `[fake]` names fields of the success body; a field named like a parameter holds it.
    #[test]
    fn fake_settings_name_fields_of_the_success_body() {
        let d = doc(RECORD_SPEC);
        let o = op(&d, "/orgs/{org}/connections/{id}", "DELETE");
        let settings = "[vendors.x.fake]\nstate = { seed = 'state', at = '/state', live = 'LIVE', cut = 'GONE' }\nids = { '/connection' = 'id' }\ntouch = ['/changed']\n";
        let f = facts("x", &vendor(settings), &d, &o).unwrap();
        let state = (
            "state".into(),
            "/state".into(),
            "\"LIVE\"".into(),
            "\"GONE\"".into(),
        );
        assert_eq!(f.fake.state, Some(state));
        assert_eq!(
            f.fake.ids,
            [
                ("/connection".to_string(), "id".to_string()),
                ("/org".into(), "org".into())
            ]
        );
        assert_eq!(f.fake.touch, ["/changed"]);
        let body: Value = serde_json::from_str(&f.success.1).unwrap();
        assert_eq!(
            body["tags"],
            serde_json::json!(["blue"]),
            "an array shows one item"
        );
        assert_eq!(
            body["note"],
            Value::Null,
            "a nullable field without an example is null"
        );
        assert_eq!(
            f.error_examples,
            [(409, r#"{"error":"Already cut"}"#.to_string())]
        );
        // A field the vendor no longer sends: left out, generation goes on.
        let gone =
            "[vendors.x.fake]\nids = { '/nowhere' = 'id' }\ntouch = ['/removed', '/changed']\n";
        let f = facts("x", &vendor(gone), &d, &o).unwrap();
        assert_eq!(f.fake.ids, [("/org".to_string(), "org".to_string())]);
        assert_eq!(f.fake.touch, ["/changed"]);
        for (bad, says) in [
            (
                "ids = { '/org' = 'tenant' }",
                "not one of the target's parameters",
            ),
            ("touch = ['changed']", "not a JSON pointer"),
        ] {
            let err =
                facts("x", &vendor(&format!("[vendors.x.fake]\n{bad}\n")), &d, &o).unwrap_err();
            assert!(format!("{err:#}").contains(says), "{bad}: {err:#}");
        }
    }
}
