//! Helpers for the workspace integration tests: a server on `127.0.0.1:0` that records every
//! request and answers each with the next canned response.

use std::collections::VecDeque;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// A response the server sends back.
#[derive(Debug, Clone)]
pub struct Canned {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: serde_json::Value,
}

impl Canned {
    /// A JSON response with the given status.
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![],
            body,
        }
    }

    /// Add a response header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`, `DELETE`, ...
    pub method: String,
    /// Path and query as received.
    pub uri: String,
    /// Headers as received (names lower-case).
    pub headers: HeaderMap,
    /// The body: text, or `name=value` per multipart part.
    pub body: String,
}

impl Recorded {
    /// A stable, secret-free rendering for snapshots: the header values named in `secrets` and
    /// the multipart boundary and port are replaced by placeholders.
    pub fn redacted(&self, secrets: &[&str]) -> String {
        let mut names: Vec<&str> = self.headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut out = format!("{} {}\n", self.method, self.uri);
        for name in names {
            for value in self.headers.get_all(name) {
                let value = value.to_str().unwrap_or("<non-utf8>");
                let shown = if secrets.contains(&name) {
                    "[redacted]".to_string()
                } else if name == "host" {
                    "127.0.0.1:[port]".to_string()
                } else if name == "content-type"
                    && value.starts_with("multipart/form-data; boundary=")
                {
                    "multipart/form-data; boundary=[boundary]".to_string()
                } else if name == "content-length"
                    && self
                        .headers
                        .get("content-type")
                        .is_some_and(|v| v.as_bytes().starts_with(b"multipart/"))
                {
                    "[depends on boundary]".to_string()
                } else {
                    value.to_string()
                };
                let _ = writeln!(out, "{name}: {shown}");
            }
        }
        let _ = write!(out, "\n{}", self.body);
        out
    }
}

/// A recording server on `127.0.0.1:0`, stopped when dropped.
pub struct Server {
    /// `http://127.0.0.1:<port>`
    pub base_url: String,
    journal: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Start a server answering the given responses in order (then 599 when they run out).
    pub async fn start(responses: Vec<Canned>) -> Self {
        let journal = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(VecDeque::from(responses)));
        let (j, q) = (journal.clone(), queue.clone());
        let app = axum::Router::new().fallback(move |req: Request| {
            let (journal, queue) = (j.clone(), q.clone());
            async move { handle(req, journal, queue).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().expect("local addr"));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Self {
            base_url,
            journal,
            task,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.journal.lock().unwrap().clone()
    }
}

async fn handle(
    req: Request,
    journal: Arc<Mutex<Vec<Recorded>>>,
    queue: Arc<Mutex<VecDeque<Canned>>>,
) -> Response {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let headers = req.headers().clone();
    let is_multipart = headers
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"multipart/form-data"));
    let body = if is_multipart {
        let mut parts = String::new();
        match Multipart::from_request(req, &()).await {
            Ok(mut multipart) => loop {
                match multipart.next_field().await {
                    Ok(Some(field)) => {
                        let name = field.name().unwrap_or("<unnamed>").to_string();
                        let text = field
                            .text()
                            .await
                            .unwrap_or_else(|e| format!("<unreadable: {e}>"));
                        let _ = writeln!(parts, "part {name:?} = {text:?}");
                    }
                    Ok(None) => break parts,
                    Err(e) => break format!("{parts}<malformed multipart: {e}>"),
                }
            },
            Err(e) => format!("<not multipart: {e}>"),
        }
    } else {
        let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    journal.lock().unwrap().push(Recorded {
        method,
        uri,
        headers,
        body,
    });

    let canned = queue.lock().unwrap().pop_front();
    let Some(canned) = canned else {
        return Response::builder()
            .status(599)
            .body(Body::from("no canned response left"))
            .unwrap();
    };
    let mut response = Response::builder()
        .status(StatusCode::from_u16(canned.status).expect("valid status"))
        .header("content-type", "application/json");
    for (name, value) in &canned.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(canned.body.to_string())).unwrap()
}

/// The README's Rust examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The workspace's root directory.
pub fn workspace_root() -> &'static std::path::Path {
    std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// One entry of `specs/vendors.toml`.
#[derive(Debug, Clone)]
pub struct VendorEntry {
    /// The vendor's id (the table's key).
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its spec, a file in `specs/`.
    pub spec: String,
    /// Its generated client crate.
    pub krate: String,
}

/// The vendors of `specs/vendors.toml`, in its order.
pub fn vendors_toml() -> Vec<VendorEntry> {
    let text = std::fs::read_to_string(workspace_root().join("specs/vendors.toml")).unwrap();
    let file: toml::Table = toml::from_str(&text).unwrap();
    let field = |v: &toml::Value, name: &str| v[name].as_str().unwrap().to_string();
    file["vendors"]
        .as_table()
        .unwrap()
        .iter()
        .map(|(id, v)| VendorEntry {
            id: id.clone(),
            name: field(v, "name"),
            spec: field(v, "spec"),
            krate: field(v, "crate"),
        })
        .collect()
}
