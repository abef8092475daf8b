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
