//! Configuration rules and every error's `Display`.

use std::time::Duration;

use disconnect::{ConfigError, DisconnectError, Disconnector, ErrorContext, Target, Vendor};

const KEY: &str = "sk_live_DISTINCTIVE_7d1e";

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn from(vars: &[(&str, &str)]) -> Result<Disconnector, ConfigError> {
    Disconnector::builder().from_lookup(env(vars))?.build()
}

#[test]
fn from_env_configures_the_vendors_with_keys() {
    let d = from(&[
        ("PERSONA_API_KEY", KEY),
        ("LEEN_API_KEY", KEY),
        ("LEEN_BASE_URL", "https://api.eu-c1.leen.dev/v1"),
    ])
    .unwrap();
    assert_eq!(d.configured_vendors(), [Vendor::Persona, Vendor::Leen]);
    let plan = d
        .plan(
            &"leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706"
                .parse()
                .unwrap(),
        )
        .unwrap();
    assert!(
        plan.url
            .starts_with("https://api.eu-c1.leen.dev/v1/provisioning/"),
        "{}",
        plan.url
    );
    let persona = d.plan(&"persona:cxn_1".parse().unwrap()).unwrap();
    assert!(
        persona
            .url
            .starts_with("https://api.withpersona.com/api/v1/connect/"),
        "default base URL from the spec"
    );
}

#[tokio::test]
async fn a_vendor_without_a_key_names_the_variable() {
    let d = from(&[("LEEN_API_KEY", KEY)]).unwrap();
    let target: Target = "tartan:acme".parse().unwrap();
    let err = d.disconnect(&target).await.unwrap_err();
    assert!(
        matches!(
            err,
            DisconnectError::NotConfigured {
                variable: "TARTAN_API_KEY",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.attempts(), 0);
    assert!(err.to_string().contains("set TARTAN_API_KEY"), "{err}");
    assert!(d.plan(&target).is_err());
}

#[test]
fn configuration_errors_name_the_variable() {
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("TARTAN_API_KEY", "")], "TARTAN_API_KEY"),
        (vec![("PERSONA_API_KEY", "has space")], "PERSONA_API_KEY"),
        (
            vec![("LEEN_API_KEY", KEY), ("LEEN_BASE_URL", "api.leen.dev/v1")],
            "LEEN_BASE_URL",
        ),
        (
            vec![
                ("LEEN_API_KEY", KEY),
                ("LEEN_BASE_URL", "http://api.leen.dev/v1"),
            ],
            "LEEN_BASE_URL",
        ),
        (
            vec![
                ("LEEN_API_KEY", KEY),
                ("LEEN_BASE_URL", "ftp://api.leen.dev/v1"),
            ],
            "LEEN_BASE_URL",
        ),
        (
            vec![("LEEN_BASE_URL", "https://api.leen.dev/v1")],
            "LEEN_API_KEY",
        ),
    ];
    for (vars, variable) in cases {
        let err = from(&vars).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(variable), "{vars:?}: {text}");
        assert!(!text.contains(KEY), "{text}");
    }
}

#[test]
fn plain_http_only_to_loopback_unless_allowed() {
    for ok in [
        "http://127.0.0.1:8787/leen/v1",
        "http://localhost/leen/v1",
        "http://[::1]:1/x",
        "https://api.leen.dev/v1",
    ] {
        assert!(
            Disconnector::builder()
                .api_key(Vendor::Leen, KEY)
                .base_url(Vendor::Leen, ok)
                .build()
                .is_ok(),
            "{ok}"
        );
    }
    let refused = Disconnector::builder()
        .api_key(Vendor::Leen, KEY)
        .base_url(Vendor::Leen, "http://10.0.0.5/v1")
        .build()
        .unwrap_err();
    assert!(
        matches!(refused, ConfigError::InsecureBaseUrl { .. }),
        "{refused:?}"
    );
    let allowed = Disconnector::builder()
        .api_key(Vendor::Leen, KEY)
        .base_url(Vendor::Leen, "http://10.0.0.5/v1")
        .allow_insecure_http(true)
        .build();
    assert!(allowed.is_ok());
}

#[test]
fn debug_of_the_disconnector_and_builder_hides_keys() {
    let builder = Disconnector::builder()
        .api_key(Vendor::Tartan, KEY)
        .api_key(Vendor::Persona, KEY)
        .api_key(Vendor::Leen, KEY);
    assert!(!format!("{builder:?}").contains(KEY));
    let d = builder.build().unwrap();
    assert!(!format!("{d:?}").contains(KEY));
}

/// Every variant's `Display`, with and without status and request id.
#[test]
fn error_display() {
    let ctx = |status: Option<u16>, id: Option<&str>, attempts: u32| {
        let mut ctx = ErrorContext::new("persona:cxn_ABC123".parse().unwrap());
        ctx.http_status = status;
        ctx.request_id = id.map(str::to_string);
        ctx.attempts = attempts;
        Box::new(ctx)
    };
    let in_doubt = |status: Option<u16>, attempts: u32| {
        let mut ctx = ctx(status, None, attempts);
        ctx.in_doubt = true;
        ctx
    };
    let errors = vec![
        DisconnectError::NotConfigured {
            ctx: ctx(None, None, 0),
            variable: "PERSONA_API_KEY",
        },
        DisconnectError::Unauthorized {
            ctx: ctx(Some(401), None, 1),
            message: "Must be authenticated to access this endpoint".into(),
        },
        DisconnectError::Forbidden {
            ctx: ctx(Some(403), Some("req_1"), 1),
            message: "Forbidden".into(),
        },
        DisconnectError::NotFound {
            ctx: ctx(Some(404), Some("req_2"), 1),
            message: "Record not found".into(),
        },
        DisconnectError::Busy {
            ctx: ctx(Some(400), None, 4),
            message: "Connection cannot be terminated while sync is in progress".into(),
        },
        DisconnectError::Invalid {
            ctx: ctx(Some(422), Some("req_3"), 1),
            problems: vec!["Invalid: bad id".into(), "Other".into()],
        },
        DisconnectError::RateLimited {
            ctx: ctx(Some(429), Some("req_4"), 3),
            retry_after: Some(Duration::from_millis(41_200)),
        },
        DisconnectError::RateLimited {
            ctx: ctx(Some(429), None, 3),
            retry_after: None,
        },
        DisconnectError::Server {
            ctx: ctx(Some(503), None, 3),
            message: "unavailable".into(),
        },
        DisconnectError::Unexpected {
            ctx: ctx(Some(418), None, 1),
            body: "{\"teapot\":true}".into(),
        },
        DisconnectError::Redirected {
            ctx: ctx(Some(307), None, 1),
            location: Some("https://elsewhere.example/x".into()),
        },
        DisconnectError::Transport {
            ctx: ctx(None, None, 3),
            message: "error sending request: connection refused".into(),
        },
        DisconnectError::Transport {
            ctx: in_doubt(None, 3),
            message: "error sending request: connection closed before message completed".into(),
        },
        DisconnectError::Timeout {
            ctx: ctx(None, None, 3),
            deadline: true,
        },
        DisconnectError::Timeout {
            ctx: ctx(None, None, 1),
            deadline: false,
        },
        DisconnectError::InvalidResponse {
            ctx: ctx(None, None, 1),
            message: "the body is larger than 1048576 bytes".into(),
        },
        DisconnectError::Interrupted {
            ctx: ctx(None, None, 0),
            reason: "the run was stopped".into(),
        },
        DisconnectError::Interrupted {
            ctx: in_doubt(Some(503), 2),
            reason: "the run was stopped".into(),
        },
    ];
    let lines: Vec<String> = errors
        .iter()
        .map(|e| format!("{:<16} retryable={:<5} {e}", e.kind(), e.is_retryable()))
        .collect();
    insta::assert_snapshot!(lines.join("\n"));
}

/// The README's mapping table is the rustdoc's, row for row.
#[test]
fn readme_and_rustdoc_mapping_tables_agree() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lib = std::fs::read_to_string(root.join("crates/disconnect/src/lib.rs")).unwrap();
    let vendor_rows =
        std::fs::read_to_string(root.join("crates/disconnect/src/vendor_answers.md")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    // The crate docs, the generated vendor rows in place of their `include_str!`.
    let rustdoc: Vec<&str> = lib
        .lines()
        .flat_map(|l| {
            if l.contains("include_str!(\"vendor_answers.md\")") {
                vendor_rows.lines().collect()
            } else {
                l.strip_prefix("//! ").into_iter().collect::<Vec<_>>()
            }
        })
        .filter(|l| l.starts_with('|'))
        .collect();
    assert!(rustdoc.len() > 20);
    let start = readme
        .lines()
        .position(|l| l == rustdoc[0])
        .expect("README has the table");
    let readme_rows: Vec<&str> = readme.lines().skip(start).take(rustdoc.len()).collect();
    assert_eq!(readme_rows, rustdoc);
}
