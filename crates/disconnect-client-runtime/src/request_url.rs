//! Request URLs joined to a base URL parsed once, instead of parsed whole on every request.
//!
//! The generated code formats each request's URL as `format!("{baseurl}{path}")` and hands it
//! to `reqwest`, which parses all of it again (scheme, host through IDNA, port, path): about a
//! sixteenth of a loopback call. [`request_to`] gives `reqwest` an already parsed URL instead:
//! the client's base URL, parsed once by [`parse_base_url`], with the operation's path set on a
//! copy. The result is the URL the whole string would parse to; where that cannot be shown from
//! the strings alone (a base URL not in its normal form, a path holding `?` or `#`), the string
//! goes to `reqwest` as before.

use reqwest::{Client, Method, RequestBuilder, Url};

/// The client's base URL, parsed once when the client is built; `None` when it does not parse
/// as a base (each request then hands `reqwest` its string, which reports the error).
pub fn parse_base_url(baseurl: &str) -> Option<Url> {
    Url::parse(baseurl)
        .ok()
        .filter(|url| !url.cannot_be_a_base())
}

/// A request to `url`, which is `baseurl` followed by an operation's path, through `base`
/// (`baseurl` parsed by [`parse_base_url`]) when possible.
pub fn request_to(
    client: &Client,
    method: Method,
    baseurl: &str,
    base: Option<&Url>,
    url: String,
) -> RequestBuilder {
    match base.and_then(|base| join(base, baseurl, &url)) {
        Some(joined) => client.request(method, joined),
        None => client.request(method, url),
    }
}

/// `url` parsed through `base`, when `baseurl` is `base` in normal form (`http://h` is
/// `http://h/` without the slash) with no query or fragment, and the rest of `url` is a path
/// without `?` or `#`. The path is then set with the same parser a whole URL goes through, on
/// the base's path followed by the operation's path (dot segments included).
fn join(base: &Url, baseurl: &str, url: &str) -> Option<Url> {
    let path = url.strip_prefix(baseurl)?;
    if !path.starts_with('/') || path.contains(['?', '#']) {
        return None;
    }
    let stem = match base.as_str().strip_prefix(baseurl) {
        Some("") if base.query().is_none() && base.fragment().is_none() => base.path(),
        Some("/") if base.path() == "/" => "",
        _ => return None,
    };
    let mut joined = base.clone();
    let mut full = String::with_capacity(stem.len() + path.len());
    full.push_str(stem);
    full.push_str(path);
    joined.set_path(&full);
    Some(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_urls_are_what_the_whole_string_parses_to() {
        let bases = [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://api.example.com/v1",
            "https://api.example.com/v1/",
            "https://API.Example.com/v1",
            "https://bücher.example/x",
            "http://h/a/./b",
            "http://h/a/../b",
            "http://h/a%2fb",
            "http://h/a b",
            "http://user:pw@h:1/p",
            "http://h/p?q=1",
            "http://h/p#f",
            "http://h:80/p",
        ];
        let paths = [
            "/api/terminate_connection/",
            "/v1/connect/connections/con_1/deactivate",
            "/x/%2F/y",
            "/x/../y",
            "/x/./y",
            "/..",
            "/a b/ü/%zz",
            "/a\\b",
            "/a?b",
            "/a#b",
            "//double",
            "/",
            "",
            "no-slash",
        ];
        let mut joined_count = 0;
        for base in bases {
            let parsed = parse_base_url(base);
            for path in paths {
                let url = format!("{base}{path}");
                let expected = Url::parse(&url).ok();
                let joined = parsed.as_ref().and_then(|b| join(b, base, &url));
                if let Some(joined) = &joined {
                    assert_eq!(Some(joined), expected.as_ref(), "{base} + {path}");
                    joined_count += 1;
                }
            }
        }
        // The normal-form bases with the slash-led paths without `?`/`#` (and not only those).
        assert!(joined_count >= 60, "{joined_count} joined");
    }

    #[test]
    fn the_usual_bases_take_the_parsed_path() {
        for base in [
            "http://127.0.0.1:8080",
            "https://api.example.com/v1",
            "https://h/v1/",
        ] {
            let parsed = parse_base_url(base).unwrap();
            let url = format!("{base}/api/terminate_connection/");
            assert_eq!(join(&parsed, base, &url), Url::parse(&url).ok(), "{base}");
        }
    }

    #[test]
    fn requests_carry_the_same_url_either_way() {
        let client = Client::new();
        for base in ["http://h/v1", "http://h/a/./b", "not a url"] {
            let url = format!("{base}/op/1");
            let built = request_to(
                &client,
                Method::DELETE,
                base,
                parse_base_url(base).as_ref(),
                url.clone(),
            )
            .build();
            let plain = client.request(Method::DELETE, url).build();
            match (built, plain) {
                (Ok(a), Ok(b)) => assert_eq!(a.url(), b.url()),
                (Err(_), Err(_)) => {}
                other => panic!("{base}: {other:?}"),
            }
        }
    }
}
