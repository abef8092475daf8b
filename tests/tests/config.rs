//! The constructors and servers the xtask generates from each spec's `securitySchemes` and
//! `servers`: bad input is a typed error, and the key never shows.

const KEY: &str = "sk_live_DISTINCTIVE_5f2b9";

#[test]
fn debug_output_never_shows_the_key() {
    let tartan = tartan_client::Client::with_api_key("https://dev.tartanhq.com", KEY).unwrap();
    let persona =
        persona_client::Client::with_api_key(persona_client::servers::PRODUCTION, KEY).unwrap();
    let leen = leen_client::Client::with_api_key(leen_client::servers::US, KEY).unwrap();
    for debug in [
        format!("{tartan:?}"),
        format!("{persona:?}"),
        format!("{leen:?}"),
    ] {
        assert!(
            !debug.contains(KEY) && !debug.contains("DISTINCTIVE"),
            "{debug}"
        );
    }
    let headers = leen_client::Client::auth_headers(&KEY.into()).unwrap();
    assert!(headers["x-api-key"].is_sensitive());
    assert!(!format!("{headers:?}").contains(KEY));
}

#[test]
fn the_auth_header_comes_from_each_security_scheme() {
    assert_eq!(tartan_client::Client::API_KEY_HEADER, "authorization");
    assert_eq!(persona_client::Client::API_KEY_HEADER, "authorization");
    assert_eq!(leen_client::Client::API_KEY_HEADER, "x-api-key");
    let tartan = tartan_client::Client::auth_headers(&KEY.into()).unwrap();
    assert_eq!(tartan["authorization"], KEY);
    let persona = persona_client::Client::auth_headers(&KEY.into()).unwrap();
    assert_eq!(persona["authorization"], format!("Bearer {KEY}"));
}

#[test]
fn unusable_keys_are_refused_without_being_shown() {
    for bad in ["", "   ", " padded", "line\nbreak", "nul\0byte", "ключ"] {
        let err = leen_client::Client::with_api_key(leen_client::servers::US, bad).unwrap_err();
        assert!(
            matches!(err, leen_client::ConfigError::InvalidApiKey),
            "{bad:?}: {err:?}"
        );
        let shown = format!("{err} {err:?}");
        assert!(bad.trim().is_empty() || !shown.contains(bad), "{shown}");
    }
}

#[test]
fn unusable_base_urls_are_refused() {
    for bad in [
        "",
        "api.leen.dev/v1",
        "ftp://api.leen.dev/v1",
        "https://api.leen.dev/v1?x=1",
        "https://user:pass@api.leen.dev/v1",
    ] {
        let err = leen_client::Client::with_api_key(bad, KEY).unwrap_err();
        assert!(
            matches!(err, leen_client::ConfigError::InvalidBaseUrl { .. }),
            "{bad:?}: {err:?}"
        );
        assert!(err.to_string().starts_with("invalid base URL"), "{err}");
    }
}

#[test]
fn servers_come_from_the_specs() {
    assert_eq!(leen_client::servers::US, "https://api.leen.dev/v1");
    assert_eq!(leen_client::servers::EU, "https://api.eu-c1.leen.dev/v1");
    assert_eq!(leen_client::servers::APAC, "https://api.ap-se2.leen.dev/v1");
    assert_eq!(leen_client::servers::DEFAULT, leen_client::servers::US);
    assert_eq!(
        persona_client::servers::PRODUCTION,
        "https://api.withpersona.com/api/v1"
    );
    assert_eq!(
        tartan_client::servers::ENVIRONMENT_DEFAULT,
        "https://dev.tartanhq.com"
    );
    assert_eq!(
        tartan_client::servers::environment("prod").unwrap(),
        "https://prod.tartanhq.com"
    );
}

#[test]
fn a_server_variable_cannot_change_the_host() {
    for bad in ["", "evil.com/", "evil.com#", "a.b", "x@y", "prod:443"] {
        let err = tartan_client::servers::environment(bad).unwrap_err();
        assert!(
            matches!(
                err,
                tartan_client::ConfigError::InvalidServerVariable { name: "env", .. }
            ),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn a_trailing_slash_on_the_base_url_is_harmless() {
    use progenitor_client::ClientInfo;
    let client = leen_client::Client::with_api_key("https://api.leen.dev/v1/", KEY).unwrap();
    assert_eq!(client.baseurl(), "https://api.leen.dev/v1");
}
