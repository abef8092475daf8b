//! What a run prints on stdout (`--output table|json|csv`) and the summary on stderr.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use comfy_table::{
    Cell, CellAlignment, Color, ColumnConstraint, ContentArrangement, Table, Width, presets,
};

use crate::report::{ReportLine, ReportStatus};

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An aligned table, printed when the run ends (fits the terminal; `COLUMNS` overrides).
    Table,
    /// One JSON object per target, as each finishes (the report's line format).
    Json,
    /// CSV with a header, one row per target, as each finishes.
    Csv,
}

/// `text` with every control character escaped (`\u{1b}`, `\n` unless `keep_newlines`), so
/// that text from input, a vendor or the environment can never drive the terminal (set its
/// title or colours, clear it): what is shown is what was there.
pub fn safe(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !text.chars().any(escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// How tables look: their width and whether they are coloured.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Total width in columns (`None`: as wide as the content).
    pub width: Option<u16>,
    /// Colour outcomes (only on a terminal, never with `NO_COLOR`).
    pub color: bool,
}

impl Style {
    /// For a stream: `COLUMNS`, else the terminal's width; colour on a terminal without
    /// `NO_COLOR`.
    pub fn for_stream(is_terminal: bool) -> Self {
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse::<u16>().ok())
            .filter(|w| *w >= 20)
            .or_else(|| {
                is_terminal
                    .then(|| Table::new().width())
                    .flatten()
                    .filter(|w| *w > 0)
            });
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            width,
            color: is_terminal && !no_color,
        }
    }
}

/// Rows beyond this many are not kept for the table: only failures and skips are (the report
/// and `--output json|csv` have every row).
const TABLE_ROWS: usize = 2_000;

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 15] = [
    "run_id",
    "target",
    "vendor",
    "outcome",
    "http_status",
    "request_id",
    "attempts",
    "elapsed_ms",
    "finished_at",
    "error_kind",
    "error_message",
    "retryable",
    "idempotency_key",
    "in_doubt",
    "confirmed_after_lost_answer",
];

/// Target lines on stdout in the chosen format.
pub struct Output {
    format: Format,
    rows: Vec<ReportLine>,
    omitted: usize,
    csv: Option<csv::Writer<std::io::Stdout>>,
}

impl Output {
    pub fn new(format: Format) -> Self {
        let csv = (format == Format::Csv).then(|| {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            let _ = w.write_record(CSV_COLUMNS);
            let _ = w.flush();
            w
        });
        Self {
            format,
            rows: Vec::new(),
            omitted: 0,
            csv,
        }
    }

    /// One finished target.
    pub fn print(&mut self, line: &ReportLine) {
        match self.format {
            Format::Json => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string(line).expect("serializable")
                );
            }
            Format::Csv => {
                if let Some(w) = &mut self.csv {
                    let _ = w.write_record(csv_record(line));
                    let _ = w.flush();
                }
            }
            Format::Table => {
                if self.rows.len() < TABLE_ROWS || !line.is_done() {
                    self.rows.push(line.clone());
                } else {
                    self.omitted += 1;
                }
            }
        }
    }

    /// At the end of the run: the table.
    pub fn finish(&mut self) {
        if self.format != Format::Table || (self.rows.is_empty() && self.omitted == 0) {
            return;
        }
        let mut out = std::io::stdout().lock();
        let style = Style::for_stream(std::io::stdout().is_terminal());
        let _ = writeln!(out, "{}", results(&self.rows, style));
        if self.omitted > 0 {
            let _ = writeln!(
                out,
                "({} more disconnected targets not shown: see the report or --output json)",
                self.omitted
            );
        }
    }
}

fn csv_record(line: &ReportLine) -> Vec<String> {
    let error = line.error.as_ref();
    vec![
        line.run_id.clone().unwrap_or_default(),
        line.target.clone(),
        line.vendor.clone().unwrap_or_default(),
        line.outcome.as_str().to_string(),
        line.http_status.map(|s| s.to_string()).unwrap_or_default(),
        line.request_id.clone().unwrap_or_default(),
        line.attempts.to_string(),
        line.elapsed_ms.to_string(),
        line.finished_at.clone(),
        error.map(|e| e.kind.clone()).unwrap_or_default(),
        error.map(|e| e.message.clone()).unwrap_or_default(),
        error.map(|e| e.retryable.to_string()).unwrap_or_default(),
        line.idempotency_key.clone().unwrap_or_default(),
        line.in_doubt.to_string(),
        line.confirmed_after_lost_answer.to_string(),
    ]
}

fn outcome_cell(outcome: ReportStatus, text: String, color: bool) -> Cell {
    let cell = Cell::new(text);
    if !color {
        return cell;
    }
    cell.fg(match outcome {
        ReportStatus::Disconnected => Color::Green,
        ReportStatus::AlreadyDisconnected => Color::Cyan,
        ReportStatus::Failed => Color::Red,
        ReportStatus::Skipped => Color::Yellow,
        ReportStatus::Unknown => Color::Magenta,
    })
}

fn new_table(style: Style) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(width) = style.width {
        t.set_width(width);
    }
    if style.color {
        t.enforce_styling();
    }
    t
}

/// Below this width the results are a list, not a table: a table's columns would be cut apart.
const NARROW_RESULTS: u16 = 100;
/// Below this width the counts are lines, not a table.
const NARROW_COUNTS: u16 = 80;

/// The results as a table, or at a narrow width as a list: a block per target, its target on
/// a line of its own, then outcome, HTTP status, attempts and request id, then the message.
pub fn results(lines: &[ReportLine], style: Style) -> String {
    if style.width.is_none_or(|w| w >= NARROW_RESULTS) {
        return table(lines, style).to_string();
    }
    let mut out = String::new();
    for line in lines {
        let mut facts = vec![outcome_text(line)];
        if let Some(status) = line.http_status {
            facts.push(format!("HTTP {status}"));
        }
        facts.push(match line.attempts {
            1 => "1 attempt".to_string(),
            n => format!("{n} attempts"),
        });
        if let Some(id) = &line.request_id {
            facts.push(format!("request id {}", safe(id, false)));
        }
        // The facts on as few lines as fit the width.
        let width = usize::from(style.width.unwrap_or(NARROW_RESULTS)).max(20);
        let mut rows: Vec<String> = vec![String::new()];
        for fact in facts {
            let row = rows.last_mut().expect("one row at least");
            if row.is_empty() {
                row.push_str(&fact);
            } else if 2 + row.chars().count() + 3 + fact.chars().count() <= width {
                row.push_str(" · ");
                row.push_str(&fact);
            } else {
                rows.push(fact);
            }
        }
        out.push_str(&format!("{}\n", safe(&line.target, false)));
        for row in rows {
            let row = if style.color {
                format!("{}{row}\u{1b}[0m", ansi(line.outcome))
            } else {
                row
            };
            out.push_str(&format!("  {row}\n"));
        }
        let message = message_text(line);
        if !message.is_empty() {
            out.push_str(&format!("  {}\n", safe(message, false)));
        }
    }
    out.trim_end().to_string()
}

/// The ANSI colour of an outcome, as in the table.
fn ansi(outcome: ReportStatus) -> &'static str {
    match outcome {
        ReportStatus::Disconnected => "\u{1b}[32m",
        ReportStatus::AlreadyDisconnected => "\u{1b}[36m",
        ReportStatus::Failed => "\u{1b}[31m",
        ReportStatus::Skipped => "\u{1b}[33m",
        ReportStatus::Unknown => "\u{1b}[35m",
    }
}

/// `failed: not_found`, `unknown: abandoned`, `disconnected`.
fn outcome_text(line: &ReportLine) -> String {
    match (&line.outcome, &line.error) {
        (ReportStatus::Failed | ReportStatus::Unknown, Some(e)) => {
            format!("{}: {}", line.outcome.as_str(), e.kind)
        }
        (o, _) => o.as_str().to_string(),
    }
}

/// The error's message, or the note of a cut confirmed after a lost answer.
fn message_text(line: &ReportLine) -> &str {
    match &line.error {
        Some(e) => e.message.as_str(),
        None if line.confirmed_after_lost_answer => CONFIRMED,
        None => "",
    }
}

/// Counts per vendor and outcome: a table, or at a narrow width a line per vendor
/// (`persona: 4 disconnected, 1 failed (5)`).
pub fn counts(counts: &BTreeMap<String, BTreeMap<String, u64>>, style: Style) -> String {
    if style.width.is_none_or(|w| w >= NARROW_COUNTS) {
        return counts_table(counts, style).to_string();
    }
    counts
        .iter()
        .map(|(vendor, by_outcome)| {
            let parts: Vec<String> = by_outcome
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(outcome, n)| format!("{n} {outcome}"))
                .collect();
            format!(
                "{}: {} ({})",
                safe(vendor, false),
                parts.join(", "),
                by_outcome.values().sum::<u64>()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The message of a row cut by a request whose answer was lost.
const CONFIRMED: &str = "confirmed after a lost answer: the vendor says it is gone";

/// The results table: one row per target.
pub fn table(lines: &[ReportLine], style: Style) -> Table {
    let mut t = new_table(style);
    t.set_header(vec![
        "TARGET",
        "OUTCOME",
        "HTTP",
        "ATTEMPTS",
        "REQUEST ID",
        "MESSAGE",
    ]);
    // Outcomes and numbers never wrap; targets and messages do when the terminal is narrow.
    for (index, constraint) in [
        (1, ColumnConstraint::LowerBoundary(Width::Fixed(22))),
        (2, ColumnConstraint::ContentWidth),
        (3, ColumnConstraint::ContentWidth),
    ] {
        if let Some(column) = t.column_mut(index) {
            column.set_constraint(constraint);
        }
    }
    for line in lines {
        let outcome = outcome_text(line);
        let message = message_text(line);
        t.add_row(vec![
            Cell::new(safe(&line.target, false)),
            outcome_cell(line.outcome, outcome, style.color),
            Cell::new(
                line.http_status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "-".into()),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(line.attempts).set_alignment(CellAlignment::Right),
            Cell::new(safe(line.request_id.as_deref().unwrap_or("-"), false)),
            Cell::new(safe(message, false)),
        ]);
    }
    t
}

/// Counts per vendor (rows) and outcome (columns), with a total column. The `UNKNOWN` column
/// (targets in doubt) shows only when a target is.
pub fn counts_table(counts: &BTreeMap<String, BTreeMap<String, u64>>, style: Style) -> Table {
    let in_doubt = counts.values().any(|c| {
        c.get(ReportStatus::Unknown.as_str())
            .is_some_and(|n| *n > 0)
    });
    let outcomes: Vec<ReportStatus> = [
        ReportStatus::Disconnected,
        ReportStatus::AlreadyDisconnected,
        ReportStatus::Failed,
        ReportStatus::Skipped,
    ]
    .into_iter()
    .chain(in_doubt.then_some(ReportStatus::Unknown))
    .collect();
    let mut t = new_table(style);
    let mut header = vec![Cell::new("VENDOR")];
    header.extend(
        outcomes
            .iter()
            .map(|o| Cell::new(o.as_str().to_uppercase())),
    );
    header.push(Cell::new("TOTAL"));
    t.set_header(header);
    for (vendor, by_outcome) in counts {
        let mut row = vec![Cell::new(safe(vendor, false))];
        for &o in &outcomes {
            let n = by_outcome.get(o.as_str()).copied().unwrap_or(0);
            let cell = Cell::new(n).set_alignment(CellAlignment::Right);
            row.push(if n > 0 && style.color {
                outcome_cell(o, n.to_string(), true).set_alignment(CellAlignment::Right)
            } else {
                cell
            });
        }
        row.push(Cell::new(by_outcome.values().sum::<u64>()).set_alignment(CellAlignment::Right));
        t.add_row(row);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ErrorInfo;

    /// The demo's nine targets as they end, with request ids as long as the vendors'.
    fn demo_lines() -> Vec<ReportLine> {
        let line =
            |target: &str, vendor: &str, outcome, http, attempts, request_id: Option<&str>| {
                ReportLine {
                    run_id: None,
                    target: target.into(),
                    vendor: Some(vendor.into()),
                    outcome,
                    http_status: Some(http),
                    request_id: request_id.map(Into::into),
                    attempts,
                    elapsed_ms: 12,
                    finished_at: "2026-11-23T10:00:00.000Z".into(),
                    error: None,
                    idempotency_key: None,
                    in_doubt: false,
                    confirmed_after_lost_answer: false,
                }
            };
        let mut not_found = line(
            "persona:cxn_NOSUCH",
            "persona",
            ReportStatus::Failed,
            404,
            1,
            Some("req_3f8a2c1d9e7b4a6f5c0d1e2f"),
        );
        not_found.error = Some(ErrorInfo {
            kind: "not_found".into(),
            message: "not found at Persona: Record not found".into(),
            retryable: false,
        });
        vec![
            line(
                "tartan:acme-corp",
                "tartan",
                ReportStatus::Disconnected,
                200,
                1,
                None,
            ),
            line(
                "tartan:globex",
                "tartan",
                ReportStatus::AlreadyDisconnected,
                409,
                1,
                None,
            ),
            line(
                "tartan:initech",
                "tartan",
                ReportStatus::Disconnected,
                200,
                5,
                None,
            ),
            line(
                "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706",
                "leen",
                ReportStatus::Disconnected,
                200,
                1,
                None,
            ),
            line(
                "persona:cxn_DEMO1",
                "persona",
                ReportStatus::Disconnected,
                200,
                1,
                Some("req_9c1b7e2a4d6f8a0b3c5d7e9f"),
            ),
            line(
                "persona:cxn_DEMO2",
                "persona",
                ReportStatus::Disconnected,
                200,
                1,
                Some("req_5e6f7a8b9c0d1e2f3a4b5c6d"),
            ),
            line(
                "persona:cxn_DEMO3",
                "persona",
                ReportStatus::Disconnected,
                200,
                1,
                Some("req_1a2b3c4d5e6f7a8b9c0d1e2f"),
            ),
            line(
                "persona:cxn_DEMO4",
                "persona",
                ReportStatus::Disconnected,
                200,
                2,
                Some("req_7a8b9c0d1e2f3a4b5c6d7e8f"),
            ),
            not_found,
        ]
    }

    /// Every line of a table has the same display width, and the column separators of the
    /// rows sit where the header's do: the columns are aligned.
    fn assert_aligned(text: &str) {
        let lines: Vec<&str> = text.lines().collect();
        let width = lines[0].chars().count();
        for l in &lines {
            assert_eq!(l.chars().count(), width, "ragged line {l:?} in\n{text}");
        }
        let bars = |l: &str| -> Vec<usize> {
            l.chars()
                .enumerate()
                .filter(|(_, c)| "│┆┼╪┬┴╞╡├┤┌┐└┘".contains(*c))
                .map(|(i, _)| i)
                .collect()
        };
        let header = bars(lines[1]);
        for l in &lines {
            assert_eq!(bars(l), header, "misaligned line {l:?} in\n{text}");
        }
    }

    #[test]
    fn the_demo_table_is_aligned_at_80_and_200_columns() {
        for width in [80u16, 200] {
            let style = Style {
                width: Some(width),
                color: false,
            };
            let text = table(&demo_lines(), style).to_string();
            assert_aligned(&text);
            assert!(
                text.lines()
                    .all(|l| l.chars().count() <= usize::from(width)),
                "wider than {width}:\n{text}"
            );
            insta::assert_snapshot!(format!("demo_table_{width}"), text);
        }
    }

    #[test]
    fn text_from_outside_cannot_drive_the_terminal() {
        assert_eq!(safe("plain", false), "plain");
        assert_eq!(
            safe("cxn_\u{1b}[31mRED\u{1b}]0;pwned\u{7}", false),
            "cxn_\\u{1b}[31mRED\\u{1b}]0;pwned\\u{7}"
        );
        assert_eq!(safe("a\nb", true), "a\nb");
        assert_eq!(safe("a\nb", false), "a\\nb");
        let mut lines = demo_lines();
        lines[0].target = "tartan:acme\u{1b}[2J".into();
        lines[1].error = Some(ErrorInfo {
            kind: "server".into(),
            message: "boom\u{1b}]0;title\u{7}".into(),
            retryable: true,
        });
        let text = table(
            &lines,
            Style {
                width: Some(120),
                color: false,
            },
        )
        .to_string();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
    }

    #[test]
    fn at_60_columns_results_and_counts_stay_readable() {
        let style = Style {
            width: Some(60),
            color: false,
        };
        let text = results(&demo_lines(), style);
        // A target longer than the terminal stands on a line of its own; the rest fits.
        assert!(
            text.lines()
                .filter(|l| l.starts_with("  "))
                .all(|l| l.chars().count() <= 60),
            "{text}"
        );
        insta::assert_snapshot!(text);
        let mut counts = BTreeMap::new();
        counts.insert(
            "persona".to_string(),
            BTreeMap::from([("disconnected".to_string(), 4), ("failed".to_string(), 1)]),
        );
        insta::assert_snapshot!(super::counts(&counts, style), @"persona: 4 disconnected, 1 failed (5)");
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = table(
            &demo_lines(),
            Style {
                width: Some(120),
                color: false,
            },
        )
        .to_string();
        assert!(!plain.contains('\u{1b}'));
        let coloured = table(
            &demo_lines(),
            Style {
                width: Some(120),
                color: true,
            },
        )
        .to_string();
        assert!(coloured.contains('\u{1b}'));
    }

    #[test]
    fn the_counts_table_has_a_row_per_vendor() {
        let mut counts = BTreeMap::new();
        counts.insert(
            "persona".to_string(),
            BTreeMap::from([("disconnected".to_string(), 4), ("failed".to_string(), 1)]),
        );
        counts.insert(
            "tartan".to_string(),
            BTreeMap::from([("already_disconnected".to_string(), 2)]),
        );
        let text = counts_table(
            &counts,
            Style {
                width: Some(100),
                color: false,
            },
        )
        .to_string();
        assert_aligned(&text);
        insta::assert_snapshot!(text);
    }
}
