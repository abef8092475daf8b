//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)]

use assert_cmd::Command;

/// The variables the CLI reads; removed so the outside environment never leaks into a test.
pub const VARS: [&str; 6] = [
    "TARTAN_API_KEY",
    "PERSONA_API_KEY",
    "LEEN_API_KEY",
    "TARTAN_BASE_URL",
    "PERSONA_BASE_URL",
    "LEEN_BASE_URL",
];

/// The binary with no vendor variables from the outside.
pub fn disconnect() -> Command {
    let mut cmd = Command::cargo_bin("disconnect").unwrap();
    for var in VARS {
        cmd.env_remove(var);
    }
    for var in [
        "DISCONNECT_LOG",
        "DISCONNECT_CONFIG",
        "DISCONNECT_PROFILE",
        "DISCONNECT_OPERATOR",
        "COLUMNS",
    ] {
        cmd.env_remove(var);
    }
    // No config file from the machine running the tests.
    cmd.env(
        "XDG_CONFIG_HOME",
        std::env::temp_dir().join("disconnect-tests-no-config"),
    );
    cmd
}

/// Run a blocking command from an async test without blocking the fakes' runtime.
pub async fn run(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// The binary pointed at the fakes: every vendor's key and base URL in the environment.
pub fn against(fakes: &disconnect_fakes::FakeServer) -> Command {
    use disconnect_fakes::Vendor;
    let mut cmd = disconnect();
    for (vendor, key_var, url_var) in [
        (Vendor::Tartan, "TARTAN_API_KEY", "TARTAN_BASE_URL"),
        (Vendor::Persona, "PERSONA_API_KEY", "PERSONA_BASE_URL"),
        (Vendor::Leen, "LEEN_API_KEY", "LEEN_BASE_URL"),
    ] {
        cmd.env(key_var, fakes.api_key(vendor))
            .env(url_var, fakes.base_url(vendor));
    }
    cmd
}

/// A command's stdout as text (it must be UTF-8).
pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

/// A command's stderr as text (it must be UTF-8).
pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// The binary pointed at the fakes as a plain `std::process::Command`, to spawn and signal.
pub fn spawn_against(fakes: &disconnect_fakes::FakeServer) -> std::process::Command {
    let program = assert_cmd::cargo::cargo_bin("disconnect");
    let mut cmd = std::process::Command::new(program);
    for var in VARS {
        cmd.env_remove(var);
    }
    for vendor in disconnect_fakes::Vendor::ALL {
        let facts = vendor.facts();
        cmd.env(facts.api_key_var, fakes.api_key(vendor))
            .env(facts.base_url_var, fakes.base_url(vendor));
    }
    cmd.env(
        "XDG_CONFIG_HOME",
        std::env::temp_dir().join("disconnect-tests-no-config"),
    );
    cmd
}
