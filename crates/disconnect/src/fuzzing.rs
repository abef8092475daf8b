//! Entry points for the fuzz targets in `fuzz/` and their corpus replay tests. Not API.
//!
//! [`decode`] reads arbitrary bytes as `vendor byte, status (2 bytes), header lines, blank line,
//! body` and runs that response through the vendor's decoding and classification, the code an
//! answer from the network goes through: the generated client's status dispatch (mirrored here
//! for each spec's documented statuses) and the facade's mapping. It must never panic.

use std::cell::RefCell;

use crate::Vendor;
#[allow(unused_imports)]
use crate::adapter::{Answer, classify, untyped};

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// A response read from fuzz bytes.
pub type FuzzResponse = (Vendor, u16, Vec<(String, String)>, Vec<u8>);

/// Split fuzz bytes into (vendor, status, headers, body).
pub fn parse(data: &[u8]) -> Option<FuzzResponse> {
    let (&v, rest) = data.split_first()?;
    let vendor = Vendor::ALL[usize::from(v) % 3];
    let (status, rest) = match rest {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
        _ => return None,
    };
    let split = rest
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(rest.len());
    let head = String::from_utf8_lossy(&rest[..split]);
    let headers = head
        .lines()
        .filter_map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        })
        .collect();
    let body = rest.get(split + 2..).unwrap_or_default().to_vec();
    Some((vendor, status, headers, body))
}

/// Decode and classify one arbitrary response. Returns a short description of the result.
pub fn decode(data: &[u8]) -> Option<String> {
    let (vendor, status, headers, body) = parse(data)?;
    let mut builder = http::Response::builder().status(status);
    for (name, value) in &headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            builder = builder.header(n, v);
        }
    }
    let response = reqwest::Response::from(builder.body(body).ok()?);
    let answer = RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let runtime = slot.get_or_insert_with(|| {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
        });
        runtime.block_on(dispatch(vendor, response))
    });
    Some(match &answer.outcome {
        Ok((status, _)) => format!("{:?} {status:?}", answer.http_status),
        Err(failure) => format!("{:?} {failure:?}", answer.http_status),
    })
}

/// The generated clients' status dispatch for each vendor, then the facade's classification.
async fn dispatch(vendor: Vendor, response: reqwest::Response) -> Answer {
    #[allow(unused_imports)]
    use progenitor_client::{Error, ResponseValue};
    #[allow(unused_variables)]
    let status = response.status().as_u16();
    match vendor {
        #[cfg(feature = "tartan")]
        Vendor::Tartan => match status {
            200 => match ResponseValue::<tartan_client::types::TerminateConnectionResponse>::from_response::<()>(response).await {
                Ok(v) => crate::vendors::tartan::success(v),
                Err(e) => classify(e, tartan_client::MAX_RESPONSE_BYTES, |_| unreachable!()).await,
            },
            400 | 401 | 404 | 409 | 500 => match ResponseValue::<tartan_client::types::TerminateConnectionError>::from_response::<()>(response).await {
                Ok(v) => classify(Error::ErrorResponse(v), tartan_client::MAX_RESPONSE_BYTES, crate::vendors::tartan::typed).await,
                Err(e) => classify(e, tartan_client::MAX_RESPONSE_BYTES, |_| unreachable!()).await,
            },
            _ => untyped(response).await,
        },
        #[cfg(feature = "persona")]
        Vendor::Persona => match status {
            200 => match ResponseValue::<persona_client::types::ConnectionEnvelope>::from_response::<()>(response).await {
                Ok(v) => crate::vendors::persona::success(v),
                Err(e) => classify(e, persona_client::MAX_RESPONSE_BYTES, |_| unreachable!()).await,
            },
            400 | 401 | 403 | 404 | 409 | 422 | 429 => match ResponseValue::<persona_client::types::ErrorResponse>::from_response::<()>(response).await {
                Ok(v) => classify(Error::ErrorResponse(v), persona_client::MAX_RESPONSE_BYTES, crate::vendors::persona::typed).await,
                Err(e) => classify(e, persona_client::MAX_RESPONSE_BYTES, |_| unreachable!()).await,
            },
            _ => untyped(response).await,
        },
        #[cfg(feature = "leen")]
        Vendor::Leen => match status {
            200 => match ResponseValue::<leen_client::types::ConnectionRespModel>::from_response::<()>(response).await {
                Ok(v) => crate::vendors::leen::success(v),
                Err(e) => classify(e, leen_client::MAX_RESPONSE_BYTES, |_| unreachable!()).await,
            },
            422 => match ResponseValue::<leen_client::types::HttpValidationError>::from_response::<()>(response).await {
                Ok(v) => classify(Error::ErrorResponse(v), leen_client::MAX_RESPONSE_BYTES, crate::vendors::leen::typed).await,
                Err(e) => classify(e, leen_client::MAX_RESPONSE_BYTES, |_| unreachable!()).await,
            },
            _ => untyped(response).await,
        },
        #[allow(unreachable_patterns)]
        _ => untyped(response).await,
    }
}
