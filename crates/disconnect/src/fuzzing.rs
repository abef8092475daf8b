//! Entry points for the fuzz targets in `fuzz/` and their corpus replay tests. Not API.
//!
//! [`decode`] reads arbitrary bytes as `vendor byte, status (2 bytes), header lines, blank line,
//! body` and runs that response through the code an answer from the network goes through: the
//! vendor table's answer rules and the decoding of the vendor's record (the generic adapter's
//! `classify`). It must never panic.

use std::cell::RefCell;

use crate::Vendor;

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// A response read from fuzz bytes.
pub type FuzzResponse = (Vendor, u16, Vec<(String, String)>, Vec<u8>);

/// Split fuzz bytes into (vendor, status, headers, body).
pub fn parse(data: &[u8]) -> Option<FuzzResponse> {
    let (&v, rest) = data.split_first()?;
    let vendor = Vendor::ALL[usize::from(v) % Vendor::ALL.len()];
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
        runtime.block_on(crate::adapters::classify_response(vendor, response))
    });
    Some(match &answer.outcome {
        Ok((status, _)) => format!("{:?} {status:?}", answer.http_status),
        Err(failure) => format!("{:?} {failure:?}", answer.http_status),
    })
}
