//! Building an authenticated client: base URL checks, the API-key header, redirects off.

use secrecy::{ExposeSecret, SecretString};

/// Why a client could not be configured. Never contains the API key.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The API key is empty or holds something other than visible ASCII (spaces, control
    /// characters, non-ASCII). The key itself is not shown.
    InvalidApiKey,
    /// The base URL is not usable.
    InvalidBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A server URL variable holds a value that could change the host, or one the spec does
    /// not list.
    InvalidServerVariable {
        /// The variable's name in the spec.
        name: &'static str,
        /// The value given.
        value: String,
    },
    /// reqwest could not build its HTTP client.
    Http(reqwest::Error),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidApiKey => f.write_str(
                "invalid API key: it is empty or holds characters other than visible ASCII",
            ),
            Self::InvalidBaseUrl { url, reason } => {
                write!(f, "invalid base URL `{url}`: {reason}")
            }
            Self::InvalidServerVariable { name, value } => {
                write!(f, "invalid value `{value}` for server variable `{name}`")
            }
            Self::Http(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            _ => None,
        }
    }
}

/// `baseurl` without a trailing `/`, if it is an absolute `http`/`https` URL with a host, no
/// query or fragment and no credentials.
pub fn checked_baseurl(baseurl: &str) -> Result<String, ConfigError> {
    let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
        url: baseurl.to_string(),
        reason: reason.to_string(),
    };
    let url = reqwest::Url::parse(baseurl).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("there is no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a base URL takes no query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials in the URL are not accepted; use the API key",
        ));
    }
    Ok(baseurl.trim_end_matches('/').to_string())
}

/// Check one server URL variable: a non-empty run of ASCII letters, digits and `-` (anything
/// else could change the host), and one of `allowed` when the spec lists values.
pub fn server_variable(
    name: &'static str,
    value: &str,
    allowed: &[&str],
) -> Result<(), ConfigError> {
    let shaped = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !shaped || !(allowed.is_empty() || allowed.contains(&value)) {
        return Err(ConfigError::InvalidServerVariable {
            name,
            value: value.to_string(),
        });
    }
    Ok(())
}

/// The header map that authenticates a request: `header: <prefix><api_key>`, the value marked
/// sensitive (so reqwest redacts it from `Debug`). `header` must be a lowercase header name.
pub fn auth_headers(
    header: &'static str,
    prefix: &str,
    api_key: &SecretString,
) -> Result<reqwest::header::HeaderMap, ConfigError> {
    let key = api_key.expose_secret();
    // API keys are tokens of visible ASCII; anything else is a paste accident.
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::InvalidApiKey);
    }
    let mut value = reqwest::header::HeaderValue::from_str(&format!("{prefix}{key}"))
        .map_err(|_| ConfigError::InvalidApiKey)?;
    value.set_sensitive(true);
    let mut headers = reqwest::header::HeaderMap::with_capacity(1);
    headers.insert(reqwest::header::HeaderName::from_static(header), value);
    Ok(headers)
}

/// Check `baseurl` and build a `reqwest::Client` from `builder` whose every request carries the
/// API key in `header` (see [`auth_headers`]) and which never follows a redirect, so the key is
/// never sent to another host. Returns the base URL without its trailing `/` and the client.
/// The authentication header is added to the builder's default headers (reqwest merges them:
/// the builder's other headers, its `User-Agent` among them, are kept); the builder's redirect
/// policy is replaced by "never follow".
pub fn api_key_client(
    baseurl: &str,
    header: &'static str,
    prefix: &str,
    api_key: &SecretString,
    builder: reqwest::ClientBuilder,
) -> Result<(String, reqwest::Client), ConfigError> {
    let baseurl = checked_baseurl(baseurl)?;
    let headers = auth_headers(header, prefix, api_key)?;
    let client = builder
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(ConfigError::Http)?;
    Ok((baseurl, client))
}

/// A `reqwest::ClientBuilder` set up as the generated clients set up their own: redirects never
/// followed, 10 s to connect, 30 s per request, and `user_agent` as the `User-Agent`. Start
/// from it to build a `reqwest::Client` of your own (a proxy, extra root certificates, a DNS
/// resolver, pool settings) to hand to a client's `with_api_key_and_client`: a client that
/// follows redirects would forward the API key to whatever host a redirect names, and reqwest
/// cannot be asked, or told per request, whether a built client follows them.
pub fn client_builder(user_agent: &str) -> reqwest::ClientBuilder {
    reqwest::ClientBuilder::new()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .user_agent(user_agent)
}

/// Send `request` through `client` with `headers` added (each replacing a header of the same
/// name the request holds: the API key of a client built around a `reqwest::Client` of the
/// caller's, and headers of the caller's own), then cap the body as [`crate::read_capped`]
/// does. The `exec` hook of every generated client.
pub async fn execute(
    client: &reqwest::Client,
    mut request: reqwest::Request,
    headers: &reqwest::header::HeaderMap,
    max: usize,
) -> reqwest::Result<reqwest::Response> {
    replace_headers(request.headers_mut(), headers, None);
    let response = client.execute(request).await?;
    crate::read_capped(response, max).await
}

/// Put every header of `headers` into `target`, each name's values replacing those `target`
/// held, except the header named `keep` (an API key's, which the caller's headers may not
/// replace). What [`execute`] does to each request, and a generated client's `with_headers` to
/// its own headers.
pub fn replace_headers(
    target: &mut reqwest::header::HeaderMap,
    headers: &reqwest::header::HeaderMap,
    keep: Option<&str>,
) {
    let replaced = |name: &reqwest::header::HeaderName| keep != Some(name.as_str());
    for name in headers.keys().filter(|n| replaced(n)) {
        target.remove(name);
    }
    for (name, value) in headers.iter().filter(|(n, _)| replaced(n)) {
        target.append(name, value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(
            checked_baseurl("https://api.example.com/v1/").unwrap(),
            "https://api.example.com/v1"
        );
        for (url, why) in [
            ("ftp://x.example", "scheme"),
            ("not a url", "relative URL"),
            ("https://x.example/?a=1", "query"),
            ("https://x.example/#f", "fragment"),
            ("https://user:pw@x.example", "credentials"),
        ] {
            let err = checked_baseurl(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
    }

    #[test]
    fn headers_replace_by_name_but_never_the_kept_one() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut target = HeaderMap::new();
        target.insert("x-api-key", HeaderValue::from_static("key"));
        target.append("x-trace", HeaderValue::from_static("old-1"));
        target.append("x-trace", HeaderValue::from_static("old-2"));
        let mut given = HeaderMap::new();
        given.insert("x-api-key", HeaderValue::from_static("not-the-key"));
        given.append("x-trace", HeaderValue::from_static("a"));
        given.append("x-trace", HeaderValue::from_static("b"));
        replace_headers(&mut target, &given, Some("x-api-key"));
        assert_eq!(target["x-api-key"], "key");
        let trace: Vec<_> = target.get_all("x-trace").iter().collect();
        assert_eq!(trace, ["a", "b"]);
        replace_headers(&mut target, &given, None);
        assert_eq!(target["x-api-key"], "not-the-key");
    }

    #[test]
    fn keys_are_checked_and_marked_sensitive() {
        let headers = auth_headers("authorization", "Bearer ", &"k-1".into()).unwrap();
        let value = &headers["authorization"];
        assert_eq!(value, "Bearer k-1");
        assert!(value.is_sensitive());
        assert!(!format!("{headers:?}").contains("k-1"));
        for bad in ["", "a b", "k\n", "clé"] {
            let err = auth_headers("x-api-key", "", &bad.into()).unwrap_err();
            assert!(matches!(err, ConfigError::InvalidApiKey), "{bad:?}");
            assert!(!err.to_string().contains(bad) || bad.is_empty());
        }
    }

    #[test]
    fn clients_never_follow_redirects_and_hide_the_key() {
        let (base, client) = api_key_client(
            "http://127.0.0.1:9/",
            "x-api-key",
            "",
            &"secret-key-1".into(),
            reqwest::ClientBuilder::new(),
        )
        .unwrap();
        assert_eq!(base, "http://127.0.0.1:9");
        assert!(!format!("{client:?}").contains("secret-key-1"));
    }

    #[test]
    fn server_variables_cannot_change_the_host() {
        assert!(server_variable("env", "prod", &[]).is_ok());
        assert!(server_variable("env", "eu-1", &["eu-1", "us-1"]).is_ok());
        for bad in ["", "evil.com/", "a.b", "x@y", "us-2"] {
            let allowed: &[&str] = if bad == "us-2" { &["us-1"] } else { &[] };
            let err = server_variable("env", bad, allowed).unwrap_err();
            assert!(
                matches!(err, ConfigError::InvalidServerVariable { name: "env", .. }),
                "{bad}"
            );
        }
    }
}
