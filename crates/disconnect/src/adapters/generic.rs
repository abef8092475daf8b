//! What every adapter does the same way, read from the vendor table
//! ([`disconnect_vendors::Operation`]): the request a target makes (method, URL with path and
//! query, headers, form fields), planned and sent from one description so that a dry run shows
//! what is sent, and the classification of the answer by the vendor's answer rules
//! ([`disconnect_vendors::Answers`], from `specs/vendors.toml`) and the status.

use std::future::Future;
use std::time::SystemTime;

use disconnect_vendors::{Answers, Operation, Outcome, ParamIn};
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::adapters::{Adapter, Connect};
use crate::classify::{
    AttemptFailure, Classified, already_disconnected, by_status, excerpt, header_request_id,
    retry_after, transport_failure, unreadable,
};
use crate::config::ConfigError;
use crate::lane::RateInfo;
use crate::outcome::DisconnectStatus;
use crate::plan::{PlannedRequest, REDACTED};
use crate::{Target, Vendor, VendorRecord};

/// A generated client, as the generic adapter uses it: its `reqwest::Client`, base URL and
/// `exec` hook (which adds the headers given per request and caps the body). Implemented for
/// each registered client crate by the registry.
pub(crate) trait Wire: Send + Sync {
    /// The client's HTTP client.
    fn http(&self) -> &reqwest::Client;
    /// The client's base URL, without a trailing `/`.
    fn baseurl(&self) -> &str;
    /// The cap on bodies the client reads (its crate's `MAX_RESPONSE_BYTES`).
    fn max_body(&self) -> usize;
    /// Send through the client's hook.
    fn exec(
        &self,
        request: reqwest::Request,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send;
}

/// One vendor's client and what its requests carry beyond the table's facts; `R` is the
/// vendor's record (what a success answers, at the table's `record` pointer).
pub(crate) struct Generic<C, R> {
    vendor: Vendor,
    client: C,
    base: Option<url::Url>,
    /// Headers set by the vendor's options (`Persona-Version`), after the table's.
    extra: Vec<(&'static str, String)>,
    record: fn(Box<R>) -> VendorRecord,
}

/// How the registry builds a vendor's adapter around its [`Generic`] (made from the vendor's
/// generated client).
pub(crate) trait Connects: Sized {
    /// The adapter's `Generic`.
    type Wire;

    /// The adapter, with the builder's options in `c`.
    fn connect(c: &Connect<'_>, wire: Self::Wire) -> Result<Self, ConfigError>;
}

/// The adapter of a vendor with no quirk module: everything from the vendor table.
pub(crate) struct Plain<C, R>(Generic<C, R>);

impl<C, R> Connects for Plain<C, R> {
    type Wire = Generic<C, R>;

    fn connect(_: &Connect<'_>, wire: Generic<C, R>) -> Result<Self, ConfigError> {
        Ok(Self(wire))
    }
}

impl<C: Wire, R: DeserializeOwned + Send + Sync> Adapter for Plain<C, R> {
    fn vendor(&self) -> Vendor {
        self.0.vendor
    }

    fn plan(&self, target: &Target, key: Option<&str>) -> PlannedRequest {
        self.0.plan(target, key)
    }

    async fn attempt(&self, target: &Target, key: Option<&str>) -> Classified {
        self.0.attempt(target, key).await
    }
}

/// The request for one target, before it is sent or shown.
struct Request {
    method: reqwest::Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    form: Vec<(&'static str, String)>,
}

impl<C: Wire, R: DeserializeOwned> Generic<C, R> {
    pub(crate) fn new(c: &Connect<'_>, client: C, record: fn(Box<R>) -> VendorRecord) -> Self {
        Self {
            vendor: c.vendor,
            base: disconnect_client_runtime::parse_base_url(client.baseurl()),
            client,
            extra: Vec::new(),
            record,
        }
    }

    /// With a header of the vendor's options on every request (after the table's).
    pub(crate) fn with_header(mut self, name: &'static str, value: String) -> Self {
        self.extra.push((name, value));
        self
    }

    fn operation(&self) -> &'static Operation {
        &self.vendor.facts().operation
    }

    /// The request for a target.
    fn request(&self, target: &Target, idempotency_key: Option<&str>) -> Request {
        let op = self.operation();
        let values = target.values();
        let mut path = op.path.to_string();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        let mut has_query = false;
        let mut form = Vec::new();
        for (param, value) in op.params.iter().zip(&values) {
            match param.location {
                ParamIn::Path => {
                    path = path.replace(
                        &format!("{{{}}}", param.name),
                        &progenitor_client::encode_path(value),
                    );
                }
                ParamIn::Query => {
                    query.append_pair(param.name, value);
                    has_query = true;
                }
                _ => form.push((param.name, value.to_string())),
            }
        }
        let mut url = format!("{}{path}", self.client.baseurl());
        if has_query {
            url.push('?');
            url.push_str(&query.finish());
        }
        let mut headers = vec![("accept", "application/json".to_string())];
        if let (Some(name), Some(key)) = (op.idempotency_header, idempotency_key) {
            headers.push((name, key.to_string()));
        }
        headers.extend(op.headers.iter().map(|(n, v)| (*n, v.to_string())));
        headers.extend(self.extra.iter().cloned());
        Request {
            method: reqwest::Method::from_bytes(op.method.as_bytes())
                .unwrap_or(reqwest::Method::POST),
            url,
            headers,
            form,
        }
    }

    /// What [`Generic::attempt`] sends for the target, the key redacted.
    pub(crate) fn plan(&self, target: &Target, idempotency_key: Option<&str>) -> PlannedRequest {
        let Request {
            url, headers, form, ..
        } = self.request(target, idempotency_key);
        let auth = self.vendor.facts().auth;
        let mut shown = vec![(headers[0].0.to_string(), headers[0].1.clone())];
        shown.push((
            auth.header.to_string(),
            format!("{}{REDACTED}", auth.prefix),
        ));
        if !form.is_empty() {
            shown.push((
                "content-type".into(),
                "multipart/form-data; boundary=<random>".into(),
            ));
        }
        shown.extend(headers[1..].iter().map(|(n, v)| (n.to_string(), v.clone())));
        PlannedRequest {
            vendor: self.vendor,
            method: self.operation().method,
            url,
            headers: shown,
            multipart: form.into_iter().map(|(n, v)| (n.to_string(), v)).collect(),
        }
    }

    /// Send the request for the target and classify the answer.
    pub(crate) async fn attempt(
        &self,
        target: &Target,
        idempotency_key: Option<&str>,
    ) -> Classified {
        let Request {
            method,
            url,
            headers,
            form,
        } = self.request(target, idempotency_key);
        let mut builder = disconnect_client_runtime::request_to(
            self.client.http(),
            method,
            self.client.baseurl(),
            self.base.as_ref(),
            url,
        );
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        if !form.is_empty() {
            match with_form(builder, form) {
                Ok(b) => builder = b,
                Err(failure) => return Classified::failed(None, None, failure),
            }
        }
        let request = match builder.build() {
            Ok(request) => request,
            Err(e) => {
                return Classified::failed(None, None, AttemptFailure::Unexpected(e.to_string()));
            }
        };
        match self.client.exec(request).await {
            Ok(response) => {
                classify(self.vendor, response, self.client.max_body(), self.record).await
            }
            Err(e) => {
                Classified::failed(e.status().map(|s| s.as_u16()), None, transport_failure(&e))
            }
        }
    }
}

#[cfg(feature = "multipart")]
fn with_form(
    builder: reqwest::RequestBuilder,
    form: Vec<(&'static str, String)>,
) -> Result<reqwest::RequestBuilder, AttemptFailure> {
    let mut multipart = reqwest::multipart::Form::new();
    for (name, value) in form {
        multipart = multipart.text(name, value);
    }
    Ok(builder.multipart(multipart))
}

#[cfg(not(feature = "multipart"))]
fn with_form(
    _: reqwest::RequestBuilder,
    _: Vec<(&'static str, String)>,
) -> Result<reqwest::RequestBuilder, AttemptFailure> {
    Err(AttemptFailure::Unexpected(
        "this vendor's request is a form: the `multipart` feature of disconnect is off".into(),
    ))
}

/// Classify a vendor's answer: the first of its answer rules that matches, else a documented
/// success (the record decoded from the body, at the rules' `record` pointer), else what the
/// status means. The `RateLimit-*` headers of any answer are kept for the lane.
pub(crate) async fn classify<R: DeserializeOwned>(
    vendor: Vendor,
    mut response: reqwest::Response,
    max_body: usize,
    record: fn(Box<R>) -> VendorRecord,
) -> Classified {
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let rate = RateInfo::from_headers(&headers);
    // Bodies are capped by the generated client's `exec`: one over the cap fails to decode.
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(e) => return Classified::failed(Some(status), None, transport_failure(&e)),
    };
    let mut answer = read(
        &vendor.facts().operation,
        status,
        &headers,
        &body,
        max_body,
        record,
    );
    answer.rate = rate;
    answer
}

fn read<R: DeserializeOwned>(
    op: &Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    max_body: usize,
    record: fn(Box<R>) -> VendorRecord,
) -> Classified {
    let answers = &op.answers;
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let rule = answers.rules.iter().find(|rule| {
        rule.status == status
            && rule.when.is_none_or(|m| {
                json.as_ref()
                    .and_then(|j| j.pointer(m.pointer))
                    .and_then(Value::as_str)
                    .is_some_and(|text| contains_ignoring_case(text, m.contains))
            })
    });
    let request_id = header_request_id(headers).or_else(|| {
        let json = json.as_ref()?;
        answers
            .request_id
            .iter()
            .find_map(|p| json.pointer(p).and_then(Value::as_str).map(str::to_string))
    });
    let problems = || {
        let found = json
            .as_ref()
            .map(|j| problems(answers, j))
            .unwrap_or_default();
        if found.is_empty() {
            vec![excerpt(body)]
        } else {
            found
        }
    };
    let message = || problems().join("; ");
    let failure = match rule.map(|r| r.outcome) {
        Some(Outcome::AlreadyDisconnected) => {
            return already_disconnected(status, request_id, VendorRecord::None);
        }
        Some(Outcome::NotFound) => AttemptFailure::NotFound(message()),
        Some(Outcome::Gone) => AttemptFailure::Gone(message()),
        Some(Outcome::Busy) => AttemptFailure::Busy(message()),
        Some(Outcome::Invalid) => AttemptFailure::Invalid(problems()),
        Some(Outcome::Unauthorized) => AttemptFailure::Unauthorized(message()),
        Some(Outcome::Forbidden) => AttemptFailure::Forbidden(message()),
        Some(Outcome::RateLimited) => {
            AttemptFailure::RateLimited(retry_after(headers, SystemTime::now()))
        }
        Some(_) => AttemptFailure::Server(message()),
        None if (200..300).contains(&status) && op.statuses.contains(&status) => {
            return success(status, request_id, body, json, answers, max_body, record);
        }
        None => match status {
            400 | 422 => AttemptFailure::Invalid(problems()),
            _ => by_status(status, headers, message()),
        },
    };
    Classified::failed(Some(status), request_id, failure)
}

/// A documented success: the record at the rules' `record` pointer.
fn success<R: DeserializeOwned>(
    status: u16,
    request_id: Option<String>,
    body: &[u8],
    json: Option<Value>,
    answers: &Answers,
    max_body: usize,
    record: fn(Box<R>) -> VendorRecord,
) -> Classified {
    let decoded = match json {
        Some(mut value) => match value.pointer_mut(answers.record).map(Value::take) {
            Some(inner) => serde_json::from_value::<R>(inner).map_err(|e| e.to_string()),
            None => Err(format!("no `{}` in the body", answers.record)),
        },
        None => serde_json::from_slice::<R>(body).map_err(|e| e.to_string()),
    };
    match decoded {
        Ok(r) => Classified {
            http_status: Some(status),
            request_id,
            outcome: Ok((DisconnectStatus::Disconnected, record(Box::new(r)))),
            rate: None,
        },
        Err(reason) => Classified::failed(
            Some(status),
            request_id,
            AttemptFailure::InvalidResponse(unreadable(body.len(), max_body, &reason)),
        ),
    }
}

/// The problems an error body states, per the rules' `problems`.
fn problems(answers: &Answers, body: &Value) -> Vec<String> {
    let p = answers.problems;
    let items: Vec<&Value> = match body.pointer(p.each) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => vec![],
    };
    items
        .into_iter()
        .filter_map(|item| {
            if let Value::String(text) = item {
                return Some(text.clone());
            }
            let parts: Vec<String> = p
                .fields
                .iter()
                .filter_map(|f| item.pointer(f))
                .filter_map(text)
                .collect();
            (!parts.is_empty()).then(|| parts.join(": "))
        })
        .collect()
}

/// A value as text: a string, a number, or an array of those joined by `.` (a location).
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(text).collect();
            (!parts.is_empty()).then(|| parts.join("."))
        }
        _ => None,
    }
}

fn contains_ignoring_case(text: &str, needle: &str) -> bool {
    text.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 1 << 20;

    fn problems_of(vendor: Vendor, body: &str) -> Vec<String> {
        problems(
            &vendor.facts().operation.answers,
            &serde_json::from_str(body).unwrap(),
        )
    }

    /// The success body the table holds for each vendor (the spec's example, else one built
    /// from its schema: what the fakes answer for a vendor with no fake of its own) decodes
    /// into the vendor's record.
    #[tokio::test]
    async fn each_vendors_success_example_decodes_as_its_record() {
        for vendor in Vendor::ALL {
            if !crate::adapters::is_compiled(vendor) {
                continue;
            }
            let op = &vendor.facts().operation;
            let response = http::Response::builder()
                .status(op.success_status)
                .header("content-type", "application/json")
                .body(op.success_example)
                .unwrap();
            let answer =
                crate::adapters::classify_response(vendor, reqwest::Response::from(response)).await;
            assert!(
                matches!(answer.outcome, Ok((DisconnectStatus::Disconnected, _))),
                "{vendor}: {:?}",
                answer.outcome
            );
        }
    }

    #[test]
    fn problems_follow_the_table() {
        assert_eq!(
            problems_of(
                Vendor::Persona,
                r#"{"errors":[{"title":"Bad","details":"no"},{"title":"Also"}]}"#
            ),
            ["Bad: no", "Also"]
        );
        assert_eq!(
            problems_of(
                Vendor::Leen,
                r#"{"detail":[{"loc":["path","organization_id",0],"msg":"not a uuid","type":"x"}]}"#
            ),
            ["path.organization_id.0: not a uuid"]
        );
        assert_eq!(
            problems_of(Vendor::Leen, r#"{"detail":"Not Found"}"#),
            ["Not Found"]
        );
        assert_eq!(
            problems_of(Vendor::Tartan, r#"{"message":"m","requestId":"r"}"#),
            ["m"]
        );
        assert!(problems_of(Vendor::Tartan, r#"{"other":1}"#).is_empty());
    }

    #[test]
    fn rules_decide_before_the_status() {
        let op = &Vendor::Tartan.facts().operation;
        let none = |_: Box<serde_json::Value>| VendorRecord::None;
        let h = HeaderMap::new();
        let busy = read(
            op,
            400,
            &h,
            br#"{"message":"A data SYNC is running"}"#,
            MAX,
            none,
        );
        assert!(matches!(busy.outcome, Err(AttemptFailure::Busy(ref m)) if m.contains("SYNC")));
        let bad = read(
            op,
            400,
            &h,
            br#"{"message":"client_org is required"}"#,
            MAX,
            none,
        );
        assert_eq!(
            bad.outcome.unwrap_err(),
            AttemptFailure::Invalid(vec!["client_org is required".into()])
        );
        let gone = read(op, 409, &h, b"<html>conflict</html>", MAX, none);
        assert!(matches!(
            gone.outcome,
            Ok((DisconnectStatus::AlreadyDisconnected, _))
        ));
        let failed = read(
            op,
            500,
            &h,
            br#"{"message":"boom","requestId":"req_9"}"#,
            MAX,
            none,
        );
        assert_eq!(failed.request_id.as_deref(), Some("req_9"));
        assert_eq!(
            failed.outcome.unwrap_err(),
            AttemptFailure::Server("boom".into())
        );
        let leen = &Vendor::Leen.facts().operation;
        let gone = read(leen, 404, &h, br#"{"detail":"Not Found"}"#, MAX, none);
        assert_eq!(
            gone.outcome.unwrap_err(),
            AttemptFailure::Gone("Not Found".into())
        );
    }
}
