//! Read a `disconnect` report (JSON lines) and print the targets worth another run: those that
//! failed with a retryable kind or whose outcome is unknown (`disconnect --resume` picks them up
//! by itself; this is for a script of your own). The report's format is described by
//! `disconnect report schema`.
//!
//! `cargo run -p disconnect-cli --example retry_list -- report.jsonl`

use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: retry_list REPORT.jsonl")?;
    let file = std::io::BufReader::new(std::fs::File::open(&path)?);
    let mut listed = 0;
    for line in file.lines() {
        let line: serde_json::Value = serde_json::from_str(&line?)?;
        let Some(target) = line.get("target").and_then(|t| t.as_str()) else {
            continue; // the header, attempt and summary lines
        };
        let outcome = line.get("outcome").and_then(|o| o.as_str()).unwrap_or("");
        let retryable = line["error"]["retryable"].as_bool().unwrap_or(false);
        if outcome == "unknown" || (outcome == "failed" && retryable) {
            println!("{target}");
            listed += 1;
        }
    }
    eprintln!("{listed} target(s) to retry in {path}");
    Ok(())
}
