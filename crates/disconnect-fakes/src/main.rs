//! `disconnect-fakes serve`: the three fake vendors on one local port.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use disconnect_fakes::{FakeConfig, FakeServer, RateLimit, Seed, Vendor};

/// Fake Tartan, Persona and Leen servers for offline testing.
#[derive(Parser)]
#[command(name = "disconnect-fakes", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve all three vendors on one port, under /tartan, /persona/api/v1 and /leen/v1.
    ///
    /// Admin API (not journaled): POST /_admin/seed (seed JSON), POST /_admin/faults/{vendor}
    /// (a fault or a list), POST /_admin/tartan/syncs {"client_org", "seconds"},
    /// GET|DELETE /_admin/journal, GET /_admin/health.
    Serve {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Address to listen on. Only loopback is sensible: the fakes accept well-known keys.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// JSON file with the connections to start with (see the crate README).
        #[arg(long)]
        seed: Option<PathBuf>,
        /// A vendor's rate limit as a fixed window, e.g. `persona=300/1m`, `leen=100/10s`
        /// (repeatable). A vendor that documents `RateLimit-*` headers (Persona, 300/1m by
        /// default) answers with them; the others answer 429 without reset headers past it.
        #[arg(long, value_name = "VENDOR=N/DURATION", value_parser = parse_rate_limit)]
        rate_limit: Vec<(Vendor, RateLimit)>,
        /// Time a vendor takes to answer, e.g. `persona=120ms` (repeatable).
        #[arg(long, value_name = "VENDOR=DURATION", value_parser = parse_latency)]
        latency: Vec<(Vendor, Duration)>,
        /// Requests kept in the journal (the oldest are dropped).
        #[arg(long, default_value_t = 10_000)]
        journal_limit: usize,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "disconnect_fakes=info".into()),
        )
        .with_target(false)
        .init();
    let Command::Serve {
        port,
        host,
        seed,
        rate_limit,
        latency,
        journal_limit,
    } = Cli::parse().command;
    let seed = match seed.map(|path| read_seed(&path)).transpose() {
        Ok(seed) => seed,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let mut config = FakeConfig::default()
        .with_addr(SocketAddr::new(host, port))
        .with_journal_limit(journal_limit);
    config.latency = latency.into_iter().collect();
    config.rate_limits.extend(rate_limit);
    let fakes = match FakeServer::start(config).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot listen on {host}:{port}: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(seed) = &seed {
        fakes.seed(seed);
    }
    println!("disconnect-fakes listening on http://{}", fakes.addr());
    for vendor in Vendor::ALL {
        println!(
            "  {}={}  {}={}",
            vendor.base_url_var(),
            fakes.base_url(vendor),
            vendor.api_key_var(),
            fakes.api_key(vendor)
        );
    }
    println!(
        "  admin: http://{}/_admin/journal   (Ctrl-C to stop)",
        fakes.addr()
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping");
    fakes.shutdown().await;
    ExitCode::SUCCESS
}

fn vendor_and<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<(Vendor, T), String> {
    let (vendor, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected VENDOR=VALUE"))?;
    let vendor = vendor.trim().parse::<Vendor>().map_err(|e| e.to_string())?;
    Ok((vendor, parse(value.trim())?))
}

fn parse_rate_limit(text: &str) -> Result<(Vendor, RateLimit), String> {
    vendor_and(text, str::parse)
}

fn parse_latency(text: &str) -> Result<(Vendor, Duration), String> {
    vendor_and(text, |v| {
        humantime::parse_duration(v).map_err(|e| format!("`{v}`: {e}"))
    })
}

fn read_seed(path: &PathBuf) -> Result<Seed, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: invalid seed: {e}", path.display()))
}
