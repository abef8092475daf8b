//! Test support: the contract from `specs/` and a harness whose every exchange is checked
//! against it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use disconnect_fakes::{FakeConfig, FakeServer, Vendor};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

// ------------------------------------------------------------------------------------ contract

/// Each vendor's spec, normalised to OpenAPI 3.0 by the xtask with every transform but the
/// error merging (which only weakens a per-status schema into a union), and turned into JSON
/// Schema draft 4 (`nullable` → `null` allowed).
pub struct Contract {
    docs: Vec<(Vendor, Value)>,
}

/// (vendor, status) pairs whose body and headers were checked against the spec.
pub static CHECKED: Mutex<BTreeSet<(Vendor, u16)>> = Mutex::new(BTreeSet::new());

pub fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        let layout = xtask::config::Layout::workspace();
        let file =
            xtask::config::VendorsFile::load(&layout.specs_dir.join("vendors.toml")).unwrap();
        let docs = Vendor::ALL
            .into_iter()
            .map(|vendor| {
                let config = &file.vendors[vendor.id()];
                let text = std::fs::read_to_string(layout.specs_dir.join(&config.spec)).unwrap();
                let doc = xtask::codegen::vendor_transforms(
                    config,
                    xtask::codegen::parse_spec(&config.spec, &text).unwrap(),
                )
                .unwrap();
                (vendor, to_json_schema(doc))
            })
            .collect();
        Contract { docs }
    })
}

/// OpenAPI 3.0 schema dialect → JSON Schema draft 4: `nullable: true` allows `null`.
fn to_json_schema(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let nullable = map.get("nullable") == Some(&Value::Bool(true));
            let mut out: serde_json::Map<String, Value> = map
                .into_iter()
                .filter(|(k, _)| k != "nullable")
                .map(|(k, v)| (k, to_json_schema(v)))
                .collect();
            if !nullable {
                return Value::Object(out);
            }
            match out.get("type").cloned() {
                Some(Value::String(t)) if !out.contains_key("enum") => {
                    out.insert("type".into(), json!([t, "null"]));
                    Value::Object(out)
                }
                _ => json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(to_json_schema).collect()),
        other => other,
    }
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(
            doc,
            doc.pointer(r.trim_start_matches('#'))
                .expect("dangling $ref"),
        ),
        None => v,
    }
}

impl Contract {
    fn doc(&self, vendor: Vendor) -> &Value {
        &self.docs.iter().find(|(v, _)| *v == vendor).unwrap().1
    }

    /// The documented statuses of an operation.
    pub fn statuses(&self, vendor: Vendor, path: &str, method: &str) -> BTreeSet<u16> {
        let doc = self.doc(vendor);
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{vendor}: no operation {method} {path} in the spec"))
            .keys()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// Check one response against the spec. Returns false (and checks nothing) when the status
    /// is not documented; panics with the violations when it does not conform.
    pub fn check(
        &self,
        vendor: Vendor,
        path: &str,
        method: &str,
        status: u16,
        headers: &HeaderMap,
        body: &Value,
    ) -> bool {
        let doc = self.doc(vendor);
        let responses = &doc["paths"][path][method]["responses"];
        let Some(response) = responses.get(status.to_string()) else {
            return false;
        };
        let response = resolve(doc, response);

        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if let Some(schema) = response.pointer("/content/application~1json/schema") {
            assert!(
                content_type.starts_with("application/json"),
                "{vendor} {status}: content-type {content_type:?}"
            );
            let mut root = json!({"$ref": "#/components/schemas/__response", "components": doc["components"].clone()});
            root["components"]["schemas"]["__response"] = schema.clone();
            let validator = jsonschema::draft4::options()
                .should_validate_formats(true)
                .build(&root)
                .expect("schema compiles");
            let errors: Vec<String> = validator
                .iter_errors(body)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{vendor} {method} {path} {status}: body violates the spec:\n{}\nbody: {body:#}",
                errors.join("\n")
            );
        }
        for (name, header) in response
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let header = resolve(doc, header);
            let value = headers
                .get(name.as_str())
                .unwrap_or_else(|| panic!("{vendor} {status}: declared header {name} missing"))
                .to_str()
                .unwrap();
            if header.pointer("/schema/type") == Some(&json!("integer")) {
                assert!(
                    value.parse::<i64>().is_ok(),
                    "{vendor} {status}: header {name}={value:?} is not an integer"
                );
            }
        }
        CHECKED.lock().unwrap().insert((vendor, status));
        true
    }
}

// ------------------------------------------------------------------------------------- harness

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The fake's key, the vendor's way.
    Good,
    /// No credentials.
    Missing,
    /// A wrong key, the vendor's way.
    Wrong,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
    /// `true` when the response was checked against the spec.
    pub checked: bool,
}

impl Exchange {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct Harness {
    pub fakes: FakeServer,
    pub http: reqwest::Client,
}

pub const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
pub const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

impl Harness {
    pub async fn new() -> Self {
        Self::with(FakeConfig::default()).await
    }

    pub async fn with(config: FakeConfig) -> Self {
        let fakes = FakeServer::start(config).await.unwrap();
        fakes.seed(&serde_json::from_value(json!({
            "tartan": [{"client_org": "acme"}, {"client_org": "gone", "terminated": true}],
            "persona": [{"id": "cxn_active"}, {"id": "cxn_pending", "status": "pending"}, {"id": "cxn_inactive", "status": "inactive"}],
            "leen": [{"organization_id": ORG, "connection_id": CONN}]
        })).unwrap());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { fakes, http }
    }

    fn key(&self, vendor: Vendor, auth: Auth) -> Option<String> {
        match auth {
            Auth::Good => Some(self.fakes.api_key(vendor).to_string()),
            Auth::Wrong => Some("not-the-key".to_string()),
            Auth::Missing => None,
        }
    }

    /// Send, read, and check against the contract unless a fault was queued for it.
    async fn exchange(
        &self,
        vendor: Vendor,
        spec_path: &str,
        method: &str,
        request: reqwest::RequestBuilder,
    ) -> Exchange {
        let faulted = self.fakes.pending_faults(vendor) > 0;
        let response = request.send().await.expect("request failed");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let mut checked = false;
        if !faulted && let Ok(body) = serde_json::from_str::<Value>(&text) {
            checked = contract().check(vendor, spec_path, method, status, &headers, &body);
        }
        Exchange {
            status,
            headers,
            text,
            checked,
        }
    }

    /// The vendor's cutting request for target `id`, built from the vendor table alone:
    /// method, path and query parameters, form fields, the auth scheme, the fixed headers.
    pub fn request(&self, vendor: Vendor, id: &str, auth: Auth) -> reqwest::RequestBuilder {
        use disconnect_vendors::ParamIn;
        let facts = vendor.facts();
        let op = &facts.operation;
        let values: Vec<&str> = match op.params.len() {
            1 => vec![id],
            _ => id.split('/').collect(),
        };
        let (mut path, mut query) = (op.path.to_string(), Vec::new());
        let mut form = reqwest::multipart::Form::new();
        for (param, value) in op.params.iter().zip(values) {
            let encoded = utf8_percent_encode(value, NON_ALPHANUMERIC).to_string();
            match param.location {
                ParamIn::Path => path = path.replace(&format!("{{{}}}", param.name), &encoded),
                ParamIn::Query => query.push(format!("{}={encoded}", param.name)),
                _ => form = form.text(param.name, value.to_string()),
            }
        }
        let mut url = format!("{}{path}", self.fakes.base_url(vendor));
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let mut req = self.http.request(method, url);
        if op.params.iter().any(|p| p.location == ParamIn::Form) {
            req = req.multipart(form);
        }
        if let Some(key) = self.key(vendor, auth) {
            req = req.header(facts.auth.header, format!("{}{key}", facts.auth.prefix));
        }
        for (name, value) in op.headers {
            req = req.header(*name, *value);
        }
        req
    }

    /// Send the vendor's cutting request; the answer is checked against the spec when its
    /// status is documented.
    pub async fn send(&self, vendor: Vendor, req: reqwest::RequestBuilder) -> Exchange {
        let op = &vendor.facts().operation;
        let method = op.method.to_ascii_lowercase();
        self.exchange(vendor, op.path, &method, req).await
    }

    pub fn tartan_request(&self, client_org: Option<&str>, auth: Auth) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/api/terminate_connection/",
            self.fakes.base_url(Vendor::Tartan)
        );
        let mut form = reqwest::multipart::Form::new();
        if let Some(org) = client_org {
            form = form.text("client_org", org.to_string());
        }
        let mut req = self.http.post(url).multipart(form);
        if let Some(key) = self.key(Vendor::Tartan, auth) {
            req = req.header("authorization", key);
        }
        req
    }

    pub async fn tartan(&self, client_org: &str, auth: Auth) -> Exchange {
        let req = self.tartan_request(Some(client_org), auth);
        self.tartan_send(req).await
    }

    pub async fn tartan_send(&self, req: reqwest::RequestBuilder) -> Exchange {
        self.exchange(Vendor::Tartan, "/api/terminate_connection/", "post", req)
            .await
    }

    pub fn persona_request(
        &self,
        id: &str,
        auth: Auth,
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/connect/connections/{id}/deactivate",
            self.fakes.base_url(Vendor::Persona)
        );
        let mut req = self.http.post(url);
        if let Some(key) = self.key(Vendor::Persona, auth) {
            req = req.header("authorization", format!("Bearer {key}"));
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req
    }

    pub async fn persona(&self, id: &str, auth: Auth, headers: &[(&str, &str)]) -> Exchange {
        let req = self.persona_request(id, auth, headers);
        self.exchange(
            Vendor::Persona,
            "/connect/connections/{connection-id}/deactivate",
            "post",
            req,
        )
        .await
    }

    pub fn leen_request(&self, org: &str, conn: &str, auth: Auth) -> reqwest::RequestBuilder {
        let url = format!(
            "{}/provisioning/organizations/{org}/connections/{conn}",
            self.fakes.base_url(Vendor::Leen)
        );
        let mut req = self.http.delete(url);
        if let Some(key) = self.key(Vendor::Leen, auth) {
            req = req.header("x-api-key", key);
        }
        req
    }

    pub async fn leen(&self, org: &str, conn: &str, auth: Auth) -> Exchange {
        let req = self.leen_request(org, conn, auth);
        self.exchange(
            Vendor::Leen,
            "/provisioning/organizations/{organization_id}/connections/{connection_id}",
            "delete",
            req,
        )
        .await
    }
}
