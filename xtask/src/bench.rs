//! `cargo xtask bench`: run every benchmark in one go and write `docs/benchmarks.md`.
//!
//! Client measurements come from the `disconnect-bench` binary (release build); this module adds
//! code generation time, cold build cost, the machine and the date, and renders the table.
//! Everything is measured in the same run; results are medians and ratios to a baseline.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// Median wall time of `cargo xtask generate --check` (this binary, already built).
fn codegen_seconds() -> Result<f64> {
    let exe = std::env::current_exe()?;
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        run(Command::new(&exe)
            .args(["generate", "--check"])
            .current_dir(root()))?;
        times.push(started.elapsed().as_secs_f64());
    }
    Ok(median(times))
}

/// The packages of a `cargo tree -e normal` (name and version, deduplicated).
fn packages(tree_args: &[&str]) -> Result<std::collections::BTreeSet<String>> {
    let tree = run(Command::new("cargo")
        .args(["tree", "-e", "normal", "--prefix", "none"])
        .args(tree_args)
        .current_dir(root()))?;
    Ok(tree
        .lines()
        .map(|l| l.trim_end_matches(" (*)").to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// Cold builds of the generated client and of the hand-written baseline, and what
/// `disconnect-fakes` adds as a dev-dependency, against the targets of issue #25: packages
/// ≤ 1.15× and cold build ≤ 1.2× the baseline's; the fakes add ≤ 40 packages.
pub struct BuildCost {
    counterpart: String,
    client: (Duration, usize),
    baseline: (Duration, usize),
    fakes_added: usize,
}

/// Package ratio target of a generated client against plain reqwest.
const PACKAGES_TARGET: f64 = 1.15;
/// Cold-build ratio target of a generated client against plain reqwest.
const BUILD_TARGET: f64 = 1.2;
/// Packages the fakes may add to a client project as a dev-dependency.
const FAKES_TARGET: usize = 40;

impl BuildCost {
    /// Measure (a few minutes: two cold builds).
    pub fn measure() -> Result<Self> {
        let baseline_manifest = root().join("benches/baseline-client/Cargo.toml");
        let counterpart = baseline_counterpart(&baseline_manifest)?;
        let client = cold_build(&["-p", &counterpart, "--locked"], &["-p", &counterpart])?;
        let manifest = baseline_manifest.to_string_lossy().to_string();
        let baseline = cold_build(
            &["--manifest-path", &manifest, "--locked"],
            &["--manifest-path", &manifest],
        )?;
        let app = packages(&["-p", &counterpart])?;
        let fakes = packages(&["-p", "disconnect-fakes", "--no-default-features"])?;
        let fakes_added = fakes.difference(&app).count();
        Ok(Self {
            counterpart,
            client,
            baseline,
            fakes_added,
        })
    }

    /// Section 5 of `docs/benchmarks.md`.
    pub fn render(&self, md: &mut String) -> Result<()> {
        let Self {
            counterpart,
            client,
            baseline,
            fakes_added,
        } = self;
        let time_ratio = client.0.as_secs_f64() / baseline.0.as_secs_f64();
        let package_ratio = client.1 as f64 / baseline.1 as f64;
        writeln!(
            md,
            "\n## 5. Build cost: cold `cargo build` (dev profile, empty target directory)\n"
        )?;
        writeln!(
            md,
            "| crate | wall time | packages in its dependency tree |\n|---|---|---|"
        )?;
        writeln!(
            md,
            "| `{counterpart}` (generated, default features) | {:.0} s | {} |",
            client.0.as_secs_f64(),
            client.1
        )?;
        writeln!(
            md,
            "| `benches/baseline-client` (hand-written reqwest) | {:.0} s | {} |",
            baseline.0.as_secs_f64(),
            baseline.1
        )?;
        writeln!(
            md,
            "| ratio | {time_ratio:.2} (target ≤ {BUILD_TARGET}: {}) | {package_ratio:.2} (target ≤ {PACKAGES_TARGET}: {}) |",
            verdict(time_ratio <= BUILD_TARGET),
            verdict(package_ratio <= PACKAGES_TARGET)
        )?;
        writeln!(
            md,
            "\n`disconnect-fakes` as a dev-dependency (`default-features = false`) adds {fakes_added} packages to a `{counterpart}` project (target ≤ {FAKES_TARGET}: {}).",
            verdict(*fakes_added <= FAKES_TARGET)
        )?;
        Ok(())
    }
}

/// Cold `cargo build` (dev profile, empty target directory) and the number of packages built.
fn cold_build(args: &[&str], tree_args: &[&str]) -> Result<(Duration, usize)> {
    let target = std::env::temp_dir().join(format!(
        "disconnect-cold-{}-{}",
        std::process::id(),
        args.join("-").replace('/', "_")
    ));
    let _ = std::fs::remove_dir_all(&target);
    let started = Instant::now();
    run(Command::new("cargo")
        .arg("build")
        .arg("--quiet")
        .args(args)
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(root()))?;
    let elapsed = started.elapsed();
    let _ = std::fs::remove_dir_all(&target);
    Ok((elapsed, packages(tree_args)?.len()))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_string()))
        })
        .unwrap_or_default();
    let rustc = run(Command::new("rustc").arg("-V")).unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem} memory, {}", rustc.trim())
}

/// Instructions one run of `disconnect-bench loop <vendor> <variant> <n>` executes, counted by
/// callgrind.
fn instructions(bench: &Path, vendor: &str, variant: &str, n: usize) -> Result<u64> {
    let out_file = std::env::temp_dir().join(format!(
        "disconnect-callgrind-{}-{vendor}-{variant}-{n}.out",
        std::process::id()
    ));
    let out = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(bench)
        .args(["-", "loop", vendor, variant, &n.to_string()])
        .output()
        .context("running valgrind")?;
    let _ = std::fs::remove_file(&out_file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("callgrind run of {vendor} {variant} failed: {stderr}");
    }
    stderr
        .lines()
        .find_map(|l| {
            l.split_once("Collected :")
                .map(|(_, n)| n.trim().to_string())
        })
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no instruction count in callgrind's output: {stderr}"))
}

/// Instructions per call of each variant for each vendor, or `None` without valgrind: the
/// difference between 3,000 and 1,000 calls, over 2,000, so that start-up and warm-up cancel.
/// Deterministic, unlike times on a shared VM.
fn instructions_per_call(bench: &Path, vendors: &[String]) -> Result<Option<Value>> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        return Ok(None);
    }
    let mut rows = Vec::new();
    for vendor in vendors {
        let mut row = serde_json::Map::new();
        row.insert("vendor".into(), vendor.as_str().into());
        for variant in ["raw", "generated", "facade"] {
            let few = instructions(bench, vendor, variant, 1000)?;
            let many = instructions(bench, vendor, variant, 3000)?;
            row.insert(variant.into(), (many.saturating_sub(few) / 2000).into());
        }
        rows.push(Value::Object(row));
    }
    Ok(Some(Value::Array(rows)))
}

/// Section 1b: instructions per call.
fn render_instructions(md: &mut String, rows: Option<&Value>) -> Result<()> {
    writeln!(
        md,
        "\n### Instructions per call (callgrind: the same figures on every run)\n"
    )?;
    let Some(rows) = rows.and_then(Value::as_array) else {
        writeln!(
            md,
            "Not measured: valgrind is not installed (`apt-get install valgrind`)."
        )?;
        return Ok(());
    };
    writeln!(
        md,
        "| vendor | raw reqwest | generated client, through its adapter | facade `disconnect()` | raw / generated | raw / facade |\n|---|---|---|---|---|---|"
    )?;
    for row in rows {
        let n = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.0} | {:.3} | {:.3} |",
            name(&row["vendor"]),
            n("raw"),
            n("generated"),
            n("facade"),
            n("raw") / n("generated"),
            n("raw") / n("facade"),
        )?;
    }
    writeln!(
        md,
        "\nA ratio here reads like the throughput ratios above: raw's instructions over the variant's, so 1.0 is as cheap as raw. Neither the kernel's share of a call (loopback TCP, the same for every variant) nor the cost of cache misses is counted, so the wall-clock ratios can sit on either side of these."
    )?;
    Ok(())
}

/// Section 6: the bulk lanes against `disconnect-fakes` with rate limits and latency.
fn render_lanes(md: &mut String, lanes: &Value) -> Result<()> {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let rb = &lanes["rate_bound"];
    writeln!(
        md,
        "\n## 6. Bulk lanes at the vendors' limits (`disconnect-fakes`, default `BulkOptions`)\n"
    )?;
    writeln!(md, "| benchmark | measured | target |\n|---|---|---|")?;
    let rb_ok = f(&rb["ratio"]) <= 1.05
        && rb["failed"].as_u64() == Some(0)
        && rb["responses_429"].as_u64().unwrap_or(u64::MAX)
            <= 2 * rb["windows"].as_u64().unwrap_or(0);
    writeln!(
        md,
        "| rate-bound: {} {} targets, fake limit {} per {} s window | {:.1} s for a floor of {:.0} s: **{:.3}**; {} 429s; {} failed | ≤ 1.05, ≤ 2 429s per window, 0 failed: {} |",
        rb["targets"],
        name(&rb["vendor"]),
        rb["limit"],
        rb["window_s"],
        f(&rb["wall_s"]),
        f(&rb["floor_s"]),
        f(&rb["ratio"]),
        rb["responses_429"],
        rb["failed"],
        verdict(rb_ok)
    )?;
    let ind = &lanes["independence"];
    let (paced, other) = (name(&ind["paced_vendor"]), name(&ind["other_vendor"]));
    writeln!(
        md,
        "| independence: the same {paced} file with {} {other} targets after it ({} ms {other} latency) | {other}'s last result at {:.2} s vs {:.2} s alone: **{:.3}** ({paced}'s last at {:.1} s); {} failed | ≤ 1.1: {} |",
        ind["other_targets"],
        ind["other_latency_ms"],
        f(&ind["other_last_in_mixed_s"]),
        f(&ind["other_alone_s"]),
        f(&ind["ratio"]),
        f(&ind["paced_last_in_mixed_s"]),
        ind["failed"],
        verdict(f(&ind["ratio"]) <= 1.1 && ind["failed"].as_u64() == Some(0))
    )?;
    let lb = &lanes["latency_bound"];
    writeln!(
        md,
        "| latency-bound: {} {} targets, {} ms latency, concurrency {}, no limit | {:.0} targets/s of an ideal {:.0}: **{:.3}**; {} failed | ≥ 0.95: {} |",
        lb["targets"],
        name(&lb["vendor"]),
        lb["latency_ms"],
        lb["concurrency"],
        f(&lb["rps"]),
        f(&lb["ideal_rps"]),
        f(&lb["ratio"]),
        lb["failed"],
        verdict(f(&lb["ratio"]) >= 0.95 && lb["failed"].as_u64() == Some(0))
    )?;
    writeln!(
        md,
        "\nThe floor of a rate-bound run is the windows it must wait out: {} targets at {} per window need {} windows, the last of which can be used at its start. Memory for 1,000 vs 100,000 targets is section 3.",
        rb["targets"], rb["limit"], rb["windows"]
    )?;
    Ok(())
}

/// A vendor's display name from the bench's figures.
fn name(value: &Value) -> &str {
    value.as_str().unwrap_or("?")
}

/// The generated crate `benches/baseline-client` is the hand-written counterpart of
/// (`[package.metadata.baseline] counterpart`).
fn baseline_counterpart(manifest: &Path) -> Result<String> {
    let text = std::fs::read_to_string(manifest)?;
    let value: toml::Table = toml::from_str(&text)?;
    value["package"]["metadata"]["baseline"]["counterpart"]
        .as_str()
        .map(str::to_string)
        .with_context(|| {
            format!(
                "{}: no [package.metadata.baseline] counterpart",
                manifest.display()
            )
        })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// Run everything and write `docs/benchmarks.md`; with `build_cost_only`, measure and print the
/// build cost alone.
pub fn bench(build_cost_only: bool) -> Result<()> {
    let root = root();
    if build_cost_only {
        eprintln!("cold builds (this takes a few minutes)...");
        let mut md = String::new();
        BuildCost::measure()?.render(&mut md)?;
        println!("{md}");
        return Ok(());
    }
    eprintln!("building the release binaries...");
    run(Command::new("cargo")
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "disconnect-bench",
            "-p",
            "disconnect-cli",
        ])
        .current_dir(&root))?;
    eprintln!("client benchmarks (single calls, bulk, CLI memory, lanes: about 4 minutes)...");
    let target_dir = root.join("target/release");
    let report: Value = serde_json::from_str(&run(Command::new(
        target_dir.join("disconnect-bench"),
    )
    .arg(target_dir.join("disconnect")))?)?;
    let vendors: Vec<String> = report["single"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["vendor"].as_str().map(str::to_string))
        .collect();
    eprintln!("instructions per call (callgrind, a few minutes)...");
    let instructions = instructions_per_call(&target_dir.join("disconnect-bench"), &vendors)?;
    eprintln!("code generation time...");
    let codegen = codegen_seconds()?;
    eprintln!("cold builds (this takes a few minutes)...");
    let build_cost = BuildCost::measure()?;

    let date = run(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))?
        .trim()
        .to_string();
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n")?;
    writeln!(
        md,
        "Written by `cargo xtask bench` on {date}.  \nMachine: {}.\n",
        machine()
    )?;
    writeln!(
        md,
        "Every figure below was measured in this one run. Throughputs are medians over interleaved rounds, and ratios compare against a baseline measured in the same run. The client benchmarks talk to a stateless loopback server that answers each vendor's success body, so the client is measured and not the server.\n"
    )?;
    let ceiling = report["server_ceiling"]["rps"].as_f64();
    writeln!(
        md,
        "Server ceiling ({}, 32 connections): {}.\n",
        report["server_ceiling"]["tool"].as_str().unwrap_or("wrk"),
        ceiling
            .map(|r| format!("{r:.0} requests/s"))
            .unwrap_or_else(|| "not measured (wrk not installed)".into())
    )?;

    writeln!(
        md,
        "## 1. Single call: requests/s, one call at a time, client reused\n"
    )?;
    writeln!(
        md,
        "{} calls per round, {} rounds.\n",
        report["single"]["calls_per_round"], report["single"]["rounds"]
    )?;
    writeln!(
        md,
        "| vendor | raw reqwest | generated client, one attempt through its adapter | facade `disconnect()` | generated / raw | facade / raw | target facade ≥ 0.95 × raw |"
    )?;
    writeln!(md, "|---|---|---|---|---|---|---|")?;
    for row in report["single"]["rows"].as_array().into_iter().flatten() {
        let ratio = row["facade_ratio"].as_f64().unwrap_or(0.0);
        writeln!(
            md,
            "| {} | {:.0} | {:.0} | {:.0} | {:.4} | {:.4} | {} |",
            row["vendor"].as_str().unwrap_or("?"),
            row["raw_rps"].as_f64().unwrap_or(0.0),
            row["generated_rps"].as_f64().unwrap_or(0.0),
            row["facade_rps"].as_f64().unwrap_or(0.0),
            row["generated_ratio"].as_f64().unwrap_or(0.0),
            ratio,
            verdict(ratio >= 0.95)
        )?;
    }
    writeln!(
        md,
        "\nRatios are medians of per-round ratios: each round runs the variants back to back, so that the VM's slow drifts, which move whole rounds, cancel out."
    )?;
    render_instructions(&mut md, instructions.as_ref())?;
    let bulk = &report["bulk"];
    let bulk_ratio = bulk["ratio"].as_f64().unwrap_or(0.0);
    writeln!(
        md,
        "\n## 2. Bulk: {} targets across the three vendors at concurrency {}\n",
        bulk["targets"], bulk["concurrency"]
    )?;
    let logged_ratio = bulk["write_ahead_ratio"].as_f64().unwrap_or(0.0);
    writeln!(
        md,
        "| variant | targets/s | raw reqwest + semaphore | ratio | target ≥ 0.9 |\n|---|---|---|---|---|"
    )?;
    writeln!(
        md,
        "| `disconnect_all` | {:.0} | {:.0} | {:.3} | {} |",
        bulk["facade_rps"].as_f64().unwrap_or(0.0),
        bulk["raw_rps"].as_f64().unwrap_or(0.0),
        bulk_ratio,
        verdict(bulk_ratio >= 0.9)
    )?;
    writeln!(
        md,
        "| `disconnect_all` with a write-ahead log (an fsynced attempt line per target before its request, group-committed: {:.0} batches) | {:.0} | {:.0} | {:.3} | {} |",
        bulk["write_ahead_batches"].as_f64().unwrap_or(0.0),
        bulk["write_ahead_rps"].as_f64().unwrap_or(0.0),
        bulk["raw_rps"].as_f64().unwrap_or(0.0),
        logged_ratio,
        verdict(logged_ratio >= 0.9)
    )?;
    let mem = &report["memory"];
    let mem_ratio = mem["ratio"].as_f64().unwrap_or(f64::MAX);
    writeln!(
        md,
        "\n## 3. Memory: peak RSS of the `disconnect` CLI streaming targets from a file (`--input`, `--json`, concurrency 64)\n"
    )?;
    writeln!(
        md,
        "| 1,000 targets | 100,000 targets | ratio | target < 1.2 |\n|---|---|---|---|"
    )?;
    writeln!(
        md,
        "| {} KiB ({:.1} s) | {} KiB ({:.1} s) | {:.2} | {} |",
        mem["rss_kib_1k"],
        mem["seconds_1k"].as_f64().unwrap_or(0.0),
        mem["rss_kib_100k"],
        mem["seconds_100k"].as_f64().unwrap_or(0.0),
        mem_ratio,
        verdict(mem_ratio < 1.2)
    )?;
    writeln!(
        md,
        "\n## 4. Code generation: `cargo xtask generate --check`, all vendors, xtask already built\n"
    )?;
    writeln!(
        md,
        "| median of 7 | target < 1 s |\n|---|---|\n| {codegen:.3} s | {} |",
        verdict(codegen < 1.0)
    )?;
    build_cost.render(&mut md)?;
    render_lanes(&mut md, &report["lanes"])?;
    writeln!(
        md,
        "\nMethod, profile and what the figures led to: [benchmarks-analysis.md](benchmarks-analysis.md)."
    )?;
    writeln!(
        md,
        "\nRaw figures: `{}`",
        serde_json::to_string(&serde_json::json!({"bench": report, "instructions": instructions}))?
    )?;

    let path = root.join("docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().expect("docs"))?;
    std::fs::write(&path, &md)?;
    println!("{md}");
    eprintln!("wrote {}", path.display());
    Ok(())
}
