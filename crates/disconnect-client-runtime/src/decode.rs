//! Reading and decoding answers so that status and headers are never lost.
//!
//! progenitor's own decoding turns a body that does not match the spec into
//! `Error::InvalidResponsePayload`, which carries neither status nor headers: a proxy's HTML
//! page on a 429 or a 500 becomes indistinguishable from a broken 200. The generated clients
//! decode through the functions here instead: an answer with a documented status whose body does
//! not decode (a success or an error status) arrives as `Error::ErrorResponse` with its status
//! and headers, holding the operation's `Undecodable` variant with an [`UndecodableBody`].

use std::borrow::Cow;

use bytes::Bytes;
use progenitor_client::{Error, ResponseValue};
use serde::de::DeserializeOwned;

/// Bytes of an undecodable body kept in [`UndecodableBody`].
pub const BODY_EXCERPT_BYTES: usize = 4096;

/// The part of a body an error keeps: its first [`BODY_EXCERPT_BYTES`] bytes, the length read
/// and the content type. Shared by [`UndecodableBody`] and [`UnexpectedStatus`].
#[derive(Clone, PartialEq, Eq)]
struct Excerpt {
    bytes: Bytes,
    len: usize,
    content_type: Option<String>,
}

impl Excerpt {
    fn new(body: &Bytes, content_type: Option<&str>) -> Self {
        Self {
            bytes: body.slice(..body.len().min(BODY_EXCERPT_BYTES)),
            len: body.len(),
            content_type: content_type.map(str::to_string),
        }
    }

    fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }

    fn content_type_or_none(&self) -> &str {
        self.content_type.as_deref().unwrap_or("no content type")
    }
}

/// A body that did not decode as the spec says: an HTML page from a proxy, an empty body, JSON
/// of another shape, or a body cut at the client's size cap. Keeps the first
/// [`BODY_EXCERPT_BYTES`] bytes, the length read, the content type and the decoder's reason.
#[derive(Clone, PartialEq, Eq)]
pub struct UndecodableBody {
    body: Excerpt,
    reason: String,
}

impl UndecodableBody {
    /// Build one from the whole body read (for tests and custom decoding).
    pub fn new(body: &Bytes, content_type: Option<&str>, reason: impl Into<String>) -> Self {
        Self {
            body: Excerpt::new(body, content_type),
            reason: reason.into(),
        }
    }

    /// The first bytes of the body (at most [`BODY_EXCERPT_BYTES`]).
    pub fn excerpt(&self) -> &[u8] {
        &self.body.bytes
    }

    /// The first bytes of the body as text (invalid UTF-8 replaced).
    pub fn excerpt_text(&self) -> Cow<'_, str> {
        self.body.text()
    }

    /// How many bytes of the body were read (the client reads at most its size cap + 1).
    pub fn len(&self) -> usize {
        self.body.len
    }

    /// Whether the body was empty.
    pub fn is_empty(&self) -> bool {
        self.body.len == 0
    }

    /// The `Content-Type` the server sent.
    pub fn content_type(&self) -> Option<&str> {
        self.body.content_type.as_deref()
    }

    /// Why it did not decode (the JSON decoder's message).
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl std::fmt::Debug for UndecodableBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UndecodableBody")
            .field("len", &self.body.len)
            .field("content_type", &self.body.content_type)
            .field("reason", &self.reason)
            .field("excerpt", &self.body.text())
            .finish()
    }
}

impl std::fmt::Display for UndecodableBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "undecodable body ({} bytes, {}): {}",
            self.body.len,
            self.body.content_type_or_none(),
            self.reason
        )
    }
}

/// An answer whose status the spec does not document (a 404 on a second delete, a gateway's
/// 502, a 401 the spec left out): held by the operation's `UnexpectedStatus` variant, beside
/// the answer's status and headers in `Error::ErrorResponse`, so that every status can be
/// matched on. Keeps the first [`BODY_EXCERPT_BYTES`] bytes of the body, its length and
/// content type; `Debug` and `Display` never print more than the excerpt.
#[derive(Clone, PartialEq, Eq)]
pub struct UnexpectedStatus {
    body: Excerpt,
}

impl UnexpectedStatus {
    /// Build one from the whole body read (for tests and custom decoding).
    pub fn new(body: &Bytes, content_type: Option<&str>) -> Self {
        Self {
            body: Excerpt::new(body, content_type),
        }
    }

    /// The first bytes of the body (at most [`BODY_EXCERPT_BYTES`]).
    pub fn excerpt(&self) -> &[u8] {
        &self.body.bytes
    }

    /// The first bytes of the body as text (invalid UTF-8 replaced).
    pub fn excerpt_text(&self) -> Cow<'_, str> {
        self.body.text()
    }

    /// How many bytes of the body were read (the client reads at most its size cap + 1).
    pub fn len(&self) -> usize {
        self.body.len
    }

    /// Whether the body was empty.
    pub fn is_empty(&self) -> bool {
        self.body.len == 0
    }

    /// The `Content-Type` the server sent.
    pub fn content_type(&self) -> Option<&str> {
        self.body.content_type.as_deref()
    }
}

impl std::fmt::Debug for UnexpectedStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnexpectedStatus")
            .field("len", &self.body.len)
            .field("content_type", &self.body.content_type)
            .field("excerpt", &self.body.text())
            .finish()
    }
}

impl std::fmt::Display for UnexpectedStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 200;
        let text = self.body.text();
        let cut = text
            .char_indices()
            .nth(SHOWN)
            .map_or(text.len(), |(i, _)| i);
        write!(
            f,
            "a status the spec does not document ({} bytes, {}): {}{}",
            self.body.len,
            self.body.content_type_or_none(),
            &text[..cut],
            if cut < text.len() || self.body.len > self.body.bytes.len() {
                "…"
            } else {
                ""
            }
        )
    }
}

/// An answer whose status the spec does not document, as `Error::ErrorResponse` with its status
/// and headers and `E`'s `UnexpectedStatus` variant (the body read up to the client's cap, and
/// kept as an excerpt).
pub async fn unexpected_status<E>(mut response: reqwest::Response) -> Error<E>
where
    E: From<UnexpectedStatus>,
{
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(e) => return Error::ResponseBodyError(e),
    };
    let inner = E::from(UnexpectedStatus::new(&body, content_type(&headers)));
    Error::ErrorResponse(ResponseValue::new(inner, status, headers))
}

fn content_type(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

/// Decode a documented success status's JSON body into `T`. A body that does not decode comes
/// back as `Error::ErrorResponse` with the answer's status and headers and `E`'s
/// `Undecodable` variant, never as a status-less error.
pub async fn decode_success<T, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>>
where
    T: DeserializeOwned,
    E: From<UndecodableBody>,
{
    let status = response.status();
    // Reading the body does not need the headers: taken, not cloned.
    let headers = std::mem::take(response.headers_mut());
    let body = response.bytes().await.map_err(Error::ResponseBodyError)?;
    match serde_json::from_slice(&body) {
        Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
        Err(e) => {
            let undecodable = UndecodableBody::new(&body, content_type(&headers), e.to_string());
            Err(Error::ErrorResponse(ResponseValue::new(
                E::from(undecodable),
                status,
                headers,
            )))
        }
    }
}

/// Decode a documented error status's JSON body into `T` and wrap it in the operation's error
/// type with `variant` (the status's variant). A body that does not decode becomes `E`'s
/// `Undecodable` variant; status and headers are kept either way.
pub async fn decode_error<T, E>(
    mut response: reqwest::Response,
    variant: impl FnOnce(T) -> E,
) -> Error<E>
where
    T: DeserializeOwned,
    E: From<UndecodableBody>,
{
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = match response.bytes().await {
        Ok(body) => body,
        Err(e) => return Error::ResponseBodyError(e),
    };
    let inner = match serde_json::from_slice(&body) {
        Ok(decoded) => variant(decoded),
        Err(e) => E::from(UndecodableBody::new(
            &body,
            content_type(&headers),
            e.to_string(),
        )),
    };
    Error::ErrorResponse(ResponseValue::new(inner, status, headers))
}

/// A documented error status that has no body in the spec: `value` (its variant) with the
/// answer's status and headers. Whatever body was sent is not read.
pub fn error_without_body<E>(mut response: reqwest::Response, value: E) -> Error<E> {
    let status = response.status();
    Error::ErrorResponse(ResponseValue::new(
        value,
        status,
        std::mem::take(response.headers_mut()),
    ))
}

/// Read at most `max + 1` bytes of the body and hand back an equivalent response, so that a
/// hostile or broken server cannot make the client buffer an unbounded body; a longer body is
/// cut there and so fails to decode. A response whose `Content-Length` is within the cap is
/// passed on untouched (hyper never yields more than the declared length).
pub async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
) -> reqwest::Result<reqwest::Response> {
    if response
        .content_length()
        .is_some_and(|len| len <= max as u64)
    {
        return Ok(response);
    }
    let mut builder = http::Response::builder()
        .status(response.status())
        .version(response.version());
    if let Some(headers) = builder.headers_mut() {
        *headers = response.headers().clone();
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = (max + 1).saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() > max {
            break;
        }
    }
    let rebuilt = match builder.body(body) {
        Ok(rebuilt) => rebuilt,
        // Status, version and headers come from a valid response; this cannot fail.
        Err(_) => unreachable!("status, version and headers come from a valid response"),
    };
    Ok(reqwest::Response::from(rebuilt))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, content_type: &str, body: &'static str) -> reqwest::Response {
        let r = http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .header("request-id", "req_1")
            .body(body)
            .unwrap();
        reqwest::Response::from(r)
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Ok200 {
        id: u32,
    }

    #[derive(Debug, PartialEq)]
    enum OpError {
        Conflict(Ok200),
        NotFound,
        Undecodable(UndecodableBody),
    }
    impl From<UndecodableBody> for OpError {
        fn from(b: UndecodableBody) -> Self {
            Self::Undecodable(b)
        }
    }

    fn into_response<E>(e: Error<E>) -> ResponseValue<E> {
        match e {
            Error::ErrorResponse(v) => v,
            _ => panic!("not an error response"),
        }
    }

    #[tokio::test]
    async fn a_success_decodes() {
        let done: ResponseValue<Ok200> =
            decode_success::<_, OpError>(response(200, "application/json", r#"{"id":7,"x":1}"#))
                .await
                .unwrap();
        assert_eq!((done.id, done.status().as_u16()), (7, 200));
    }

    #[tokio::test]
    async fn an_undecodable_success_keeps_status_headers_and_body() {
        let err = decode_success::<Ok200, OpError>(response(200, "text/html", "<html>oops</html>"))
            .await
            .unwrap_err();
        let value = into_response(err);
        assert_eq!(value.status().as_u16(), 200);
        assert_eq!(value.headers()["request-id"], "req_1");
        let OpError::Undecodable(body) = value.into_inner() else {
            panic!("not undecodable")
        };
        assert_eq!(body.excerpt_text(), "<html>oops</html>");
        assert_eq!((body.len(), body.content_type()), (17, Some("text/html")));
        assert!(
            body.reason().contains("expected value"),
            "{}",
            body.reason()
        );
    }

    #[tokio::test]
    async fn error_statuses_decode_into_their_variant_or_undecodable() {
        let value = into_response(
            decode_error(
                response(409, "application/json", r#"{"id":1}"#),
                OpError::Conflict,
            )
            .await,
        );
        assert_eq!(value.status().as_u16(), 409);
        assert_eq!(value.into_inner(), OpError::Conflict(Ok200 { id: 1 }));

        let value =
            into_response(decode_error(response(409, "text/plain", ""), OpError::Conflict).await);
        assert_eq!(value.status().as_u16(), 409);
        assert!(matches!(value.into_inner(), OpError::Undecodable(b) if b.is_empty()));

        let value = into_response(error_without_body(
            response(404, "text/plain", "gone"),
            OpError::NotFound,
        ));
        assert_eq!(
            (value.status().as_u16(), value.into_inner()),
            (404, OpError::NotFound)
        );
    }

    #[test]
    fn excerpts_are_bounded() {
        let big = Bytes::from(vec![b'x'; BODY_EXCERPT_BYTES * 3]);
        let body = UndecodableBody::new(&big, None, "too long");
        assert_eq!(body.excerpt().len(), BODY_EXCERPT_BYTES);
        assert_eq!(body.len(), BODY_EXCERPT_BYTES * 3);
        assert!(body.to_string().contains("12288 bytes, no content type"));
    }

    #[tokio::test]
    async fn bodies_are_read_up_to_the_cap() {
        // No Content-Length (a stream): cut at max + 1.
        let stream = futures_like_body(vec![b'a'; 100]);
        let capped = read_capped(stream, 10).await.unwrap();
        assert_eq!(capped.bytes().await.unwrap().len(), 11);
        let small = read_capped(futures_like_body(vec![b'b'; 5]), 10)
            .await
            .unwrap();
        assert_eq!(small.bytes().await.unwrap().len(), 5);
    }

    fn futures_like_body(bytes: Vec<u8>) -> reqwest::Response {
        reqwest::Response::from(http::Response::builder().status(200).body(bytes).unwrap())
    }

    #[derive(Debug)]
    enum Unexpected {
        Status(UnexpectedStatus),
    }
    impl From<UnexpectedStatus> for Unexpected {
        fn from(b: UnexpectedStatus) -> Self {
            Self::Status(b)
        }
    }

    /// A status the spec does not document keeps status, headers and an excerpt, and its
    /// messages never hold the whole body.
    #[tokio::test]
    async fn unexpected_statuses_are_matchable_and_bounded() {
        let body: &'static str = Box::leak("x".repeat(100_000).into_boxed_str());
        let err = unexpected_status::<Unexpected>(response(502, "text/html", body)).await;
        let Error::ErrorResponse(value) = err else {
            panic!("not an ErrorResponse")
        };
        assert_eq!(value.status().as_u16(), 502);
        assert_eq!(value.headers()["request-id"], "req_1");
        let Unexpected::Status(unexpected) = value.into_inner();
        assert_eq!(unexpected.len(), 100_000);
        assert_eq!(unexpected.excerpt().len(), BODY_EXCERPT_BYTES);
        assert_eq!(unexpected.content_type(), Some("text/html"));
        let shown = unexpected.to_string();
        assert!(shown.len() < 400, "{shown}");
        assert!(
            shown.ends_with('…') && shown.contains("100000 bytes, text/html"),
            "{shown}"
        );
        assert!(format!("{unexpected:?}").len() < BODY_EXCERPT_BYTES + 200);
    }
}
