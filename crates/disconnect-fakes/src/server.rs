//! The HTTP side: accept loop, request journal, fault injection and the admin API.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::fault::Fault;
use crate::journal::{RecordedBody, RecordedRequest, SECRET_HEADERS, fingerprint};
use crate::reply::{Incoming, Reply};
use crate::{FakeConfig, Seed, Vendor, Vendors};

/// Largest request body read (bigger ones get 413).
pub const MAX_REQUEST_BODY: usize = 1 << 20;

pub(crate) struct Shared {
    pub(crate) config: FakeConfig,
    /// Every vendor's key, defaults filled in.
    pub(crate) keys: BTreeMap<Vendor, String>,
    pub(crate) vendors: Vendors,
    faults: Mutex<HashMap<Vendor, VecDeque<Fault>>>,
    /// (window start, requests in it) per vendor with a header-less rate limit.
    windows: Mutex<HashMap<Vendor, (Instant, u32)>>,
    journal: Mutex<VecDeque<RecordedRequest>>,
    seq: AtomicU64,
}

/// Lock a mutex, recovering the data if a panicking thread poisoned it (the fakes' state stays
/// consistent: every update is a single assignment).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub(crate) fn new(config: FakeConfig) -> Self {
        Self {
            keys: Vendor::ALL
                .into_iter()
                .map(|v| (v, config.key(v)))
                .collect(),
            vendors: Vendors::new(&config),
            config,
            faults: Mutex::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            journal: Mutex::new(VecDeque::new()),
            seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn seed(&self, seed: &Seed) {
        self.vendors.seed(seed);
    }

    /// Seed one live connection from a target's id (the text after `vendor:`), each vendor's
    /// in its own syntax.
    pub(crate) fn seed_live(&self, vendor: Vendor, id: &str) -> Result<(), String> {
        self.vendors.seed_live(vendor, id)
    }

    pub(crate) fn push_fault(&self, vendor: Vendor, fault: Fault) {
        lock(&self.faults)
            .entry(vendor)
            .or_default()
            .push_back(fault);
    }

    pub(crate) fn pending_faults(&self, vendor: Vendor) -> usize {
        lock(&self.faults).get(&vendor).map_or(0, VecDeque::len)
    }

    pub(crate) fn journal(&self) -> Vec<RecordedRequest> {
        lock(&self.journal).iter().cloned().collect()
    }

    fn record(&self, request: RecordedRequest) {
        let mut journal = lock(&self.journal);
        if journal.len() >= self.config.journal_limit {
            journal.pop_front();
        }
        journal.push_back(request);
    }

    /// Count a request against `vendor`'s header-less rate limit; `false` when it is over.
    /// (A vendor that sends `RateLimit-*` headers applies its limit itself.)
    fn within_rate_limit(&self, vendor: Vendor, now: Instant) -> bool {
        if crate::sends_rate_limit_headers(vendor) {
            return true;
        }
        let Some(limit) = self.config.rate_limits.get(&vendor) else {
            return true;
        };
        let mut windows = lock(&self.windows);
        let (start, used) = windows.entry(vendor).or_insert((now, 0));
        if now >= *start + limit.window {
            (*start, *used) = (now, 0);
        }
        *used += 1;
        *used <= limit.requests
    }

    pub(crate) fn clear_journal(&self) {
        lock(&self.journal).clear();
    }
}

/// Accept connections until `shutdown` fires; each connection is served by hyper (HTTP/1.1).
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let admin = admin_router(shared.clone());
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (shared, admin) = (shared.clone(), admin.clone());
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        dispatch(shared.clone(), admin.clone(), req)
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    // Errors here are clients going away or faults closing on purpose.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(io, service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

/// Returned by the service to make hyper drop the connection without a response.
#[derive(Debug)]
struct CloseConnection;

impl std::fmt::Display for CloseConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by a scripted fault")
    }
}

impl std::error::Error for CloseConnection {}

async fn dispatch(
    shared: Arc<Shared>,
    admin: axum::Router,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, CloseConnection> {
    let path = req.uri().path().to_string();
    if path.starts_with("/_admin/") {
        let response = admin.oneshot(req.map(Body::new)).await;
        return Ok(response.unwrap_or_else(|e: Infallible| match e {}));
    }
    let route = Vendor::ALL.into_iter().find_map(|v| {
        path.strip_prefix(v.facts().fake_prefix)
            .map(|rest| (v, rest.to_string()))
    });
    let (parts, body) = req.into_parts();
    let seq = shared.seq.fetch_add(1, Ordering::Relaxed) + 1;

    let bytes = match http_body_util::Limited::new(body, MAX_REQUEST_BODY)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(()),
    };
    let multipart = match (&bytes, content_type_boundary(&parts.headers)) {
        (Ok(bytes), Some(boundary)) => Some(parse_multipart(bytes.clone(), boundary).await),
        _ => None,
    };
    let fault = route.as_ref().and_then(|(vendor, _)| {
        lock(&shared.faults)
            .get_mut(vendor)
            .and_then(VecDeque::pop_front)
    });

    let recorded_body = match (&bytes, &multipart) {
        (_, Some(Ok(parts))) => RecordedBody::Multipart(parts.clone()),
        (_, Some(Err(e))) => RecordedBody::Malformed(e.clone()),
        (Ok(b), None) if b.is_empty() => RecordedBody::Empty,
        (Ok(b), None) => RecordedBody::Text(String::from_utf8_lossy(b).into_owned()),
        (Err(()), None) => RecordedBody::Malformed(format!("body over {MAX_REQUEST_BODY} bytes")),
    };
    shared.record(RecordedRequest {
        seq,
        vendor: route.as_ref().map(|(v, _)| *v),
        method: parts.method.to_string(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                    fingerprint(&value)
                } else {
                    value
                };
                (name.as_str().to_string(), shown)
            })
            .collect(),
        body: recorded_body,
        fault: fault.as_ref().map(|f| f.kind().to_string()),
    });

    let Some((vendor, inner_path)) = route else {
        tracing::info!(method = %parts.method, path, status = 404, "unknown route");
        return Ok(finish(Reply::json(
            404,
            serde_json::json!({
                "error": "no fake vendor at this path",
                "vendors": Vendor::ALL.map(|v| v.facts().fake_prefix),
            }),
        )));
    };
    if bytes.is_err() {
        return Ok(finish(Reply::json(
            413,
            serde_json::json!({"error": "request body too large"}),
        )));
    }
    let log = |status: &str| {
        tracing::info!("{} {} {} -> {}", vendor.id(), parts.method, path, status);
    };

    if let Some(latency) = shared.config.latency.get(&vendor) {
        tokio::time::sleep(*latency).await;
    }
    if !shared.within_rate_limit(vendor, Instant::now()) {
        log("429 (rate limit, no headers)");
        return Ok(finish(Reply::json(
            429,
            serde_json::json!({"message": "Too many requests"}),
        )));
    }
    let incoming = Incoming {
        method: &parts.method,
        path: &inner_path,
        query: parts.uri.query(),
        headers: &parts.headers,
        multipart: multipart.as_ref(),
        seq,
    };
    if let Some(fault) = &fault
        && !fault.reaches_vendor()
    {
        log(&format!("fault {}", fault.kind()));
        if let Fault::Status { status: 500.., .. } = fault {
            // A vendor that stores its answers (under an idempotency key) stores this one.
            shared.vendors.store_faulted(
                vendor,
                &shared.keys[&vendor],
                &incoming,
                status_reply(fault),
            );
        }
        return fault_response(fault);
    }
    if let Some(Fault::Delay { millis }) = &fault {
        tokio::time::sleep(Duration::from_millis(*millis)).await;
    }

    let now = Instant::now();
    let reply = shared
        .vendors
        .handle(vendor, &shared.keys[&vendor], &incoming, now);
    log(reply.status.as_str());
    match fault {
        Some(Fault::CloseMidResponse) => Ok(cut_mid_body(reply)),
        Some(Fault::DropAnswer { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Err(CloseConnection)
        }
        Some(Fault::TruncatedJson) => {
            let body = reply.body.to_string();
            let half = body.len() / 2;
            Ok(raw(
                reply.status,
                "application/json",
                Bytes::from(body[..half].to_string()),
                &reply.headers,
            ))
        }
        _ => Ok(finish(reply)),
    }
}

fn content_type_boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.to_ascii_lowercase().starts_with("multipart/form-data") {
        return None;
    }
    Some(multer::parse_boundary(ct).unwrap_or_default())
}

async fn parse_multipart(bytes: Bytes, boundary: String) -> Result<Vec<(String, String)>, String> {
    if boundary.is_empty() {
        return Err("multipart body without a boundary".into());
    }
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
        let name = field.name().unwrap_or_default().to_string();
        let text = field.text().await.map_err(|e| e.to_string())?;
        parts.push((name, text));
    }
    Ok(parts)
}

fn raw(
    status: StatusCode,
    content_type: &str,
    body: Bytes,
    headers: &[(&'static str, String)],
) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let map = response.headers_mut();
    map.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("static content type"),
    );
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.append(*name, value);
        }
    }
    response
}

fn finish(reply: Reply) -> Response<Body> {
    if let Some(body) = &reply.raw {
        return raw(
            reply.status,
            &body.content_type,
            Bytes::from(body.text.clone()),
            &reply.headers,
        );
    }
    let body = if reply.body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(reply.body.to_string())
    };
    raw(reply.status, "application/json", body, &reply.headers)
}

/// The answer a `status` fault sends, before its extra headers.
fn status_reply(fault: &Fault) -> Reply {
    match fault {
        Fault::Status {
            status, body, raw, ..
        } => Reply {
            status: StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: body.clone(),
            raw: raw.clone(),
        },
        _ => Reply::json(500, serde_json::Value::Null),
    }
}

/// Status and headers with the full `content-length`, then half the body, then a broken
/// connection.
fn cut_mid_body(reply: Reply) -> Response<Body> {
    let body = Bytes::from(reply.body.to_string());
    let half = body.slice(..body.len() / 2);
    // The pause makes hyper flush status, headers and the first half before the error drops
    // the connection (it buffers chunks that are ready together).
    let broken = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "scripted fault: closed mid-response",
        ))
    };
    let stream = futures_util::stream::once(async move { Ok(half) })
        .chain(futures_util::stream::once(broken));
    let mut response = raw(
        reply.status,
        "application/json",
        Bytes::new(),
        &reply.headers,
    );
    *response.body_mut() = Body::from_stream(stream);
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    response
}

fn fault_response(fault: &Fault) -> Result<Response<Body>, CloseConnection> {
    let ok = StatusCode::OK;
    Ok(match fault {
        Fault::Status { headers, .. } => {
            let mut response = finish(status_reply(fault));
            for (name, value) in headers {
                if let (Ok(name), Ok(value)) = (
                    header::HeaderName::try_from(name.as_str()),
                    HeaderValue::from_str(value),
                ) {
                    response.headers_mut().append(name, value);
                }
            }
            response
        }
        Fault::CloseBeforeResponse => return Err(CloseConnection),
        Fault::MalformedJson => raw(
            ok,
            "application/json",
            Bytes::from_static(b"{\"message\": Connection terminated, data: }"),
            &[],
        ),
        Fault::WrongContentType => raw(
            ok,
            "text/html; charset=utf-8",
            Bytes::from_static(
                b"<html><body><h1>Service temporarily unavailable</h1></body></html>",
            ),
            &[],
        ),
        Fault::Oversized { bytes } => {
            // A valid JSON object of exactly `bytes` bytes (at least the 14 of an empty padding).
            let padding = bytes.saturating_sub(r#"{"padding":""}"#.len());
            let body = format!("{{\"padding\":\"{}\"}}", "x".repeat(padding));
            raw(ok, "application/json", Bytes::from(body), &[])
        }
        Fault::RateLimited {
            reset_secs,
            retry_after,
        } => {
            let mut headers = Vec::new();
            if let Some(reset) = reset_secs {
                headers.push(("ratelimit-reset", reset.to_string()));
            }
            if let Some(after) = retry_after {
                headers.push(("retry-after", after.clone()));
            }
            let body = serde_json::json!({"errors": [{"title": "Rate limit exceeded"}]});
            raw(
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                Bytes::from(body.to_string()),
                &headers,
            )
        }
        Fault::Redirect { status, location } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            raw(
                status,
                "application/json",
                Bytes::new(),
                &[("location", location.clone())],
            )
        }
        Fault::Delay { .. }
        | Fault::CloseMidResponse
        | Fault::TruncatedJson
        | Fault::DropAnswer { .. } => {
            unreachable!("faults that reach the vendor are applied around it")
        }
    })
}

// ------------------------------------------------------------------------------------ admin

fn admin_router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new()
        .route("/_admin/health", get(|| async { "ok" }))
        .route("/_admin/journal", get(journal).delete(clear_journal))
        .route(
            "/_admin/faults/{vendor}",
            post(push_faults).get(count_faults),
        )
        .route("/_admin/seed", post(seed))
        .merge(Vendors::admin_routes())
        .with_state(shared)
}

async fn journal(State(shared): State<Arc<Shared>>) -> Json<Vec<RecordedRequest>> {
    Json(shared.journal())
}

async fn clear_journal(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_journal();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Fault),
    Many(Vec<Fault>),
}

/// The `{vendor}` of an admin path; an unknown one is a 404 naming the known ids.
fn vendor_param(text: &str) -> Result<Vendor, (StatusCode, String)> {
    text.parse::<Vendor>()
        .map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))
}

async fn push_faults(
    State(shared): State<Arc<Shared>>,
    Path(vendor): Path<String>,
    Json(faults): Json<OneOrMany>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let vendor = vendor_param(&vendor)?;
    let faults = match faults {
        OneOrMany::One(f) => vec![f],
        OneOrMany::Many(f) => f,
    };
    for fault in faults {
        shared.push_fault(vendor, fault);
    }
    Ok(Json(
        serde_json::json!({"pending": shared.pending_faults(vendor)}),
    ))
}

async fn count_faults(
    State(shared): State<Arc<Shared>>,
    Path(vendor): Path<String>,
) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let vendor = vendor_param(&vendor)?;
    Ok(Json(
        serde_json::json!({"pending": shared.pending_faults(vendor)}),
    ))
}

async fn seed(State(shared): State<Arc<Shared>>, Json(seed): Json<Seed>) -> StatusCode {
    shared.seed(&seed);
    StatusCode::NO_CONTENT
}

/// The address a listener is bound to, as `http://…`.
pub(crate) fn http_url(addr: SocketAddr) -> String {
    format!("http://{addr}")
}
