//! Where targets come from: arguments, and `--input` files (one per line with `#` comments, or
//! CSV with a `target` column; `-` for stdin), read lazily.

use std::io::BufRead;

use disconnect::Target;

/// A target, or a line that is not one.
#[derive(Debug)]
pub enum Item {
    /// A valid target.
    Target(Target),
    /// Text that is not a target, with where it came from and why.
    Invalid { raw: String, message: String },
}

impl Item {
    pub fn parse(raw: &str, origin: &str) -> Item {
        match raw.parse::<Target>() {
            Ok(t) => Item::Target(t),
            Err(e) => Item::Invalid {
                raw: raw.to_string(),
                message: format!("{origin}: {e}"),
            },
        }
    }
}

/// Lazily read items from a file or stdin.
pub fn read(path: &str) -> std::io::Result<Box<dyn Iterator<Item = std::io::Result<Item>> + Send>> {
    let reader: Box<dyn BufRead + Send> = if path == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(path)?))
    };
    let name = if path == "-" {
        "stdin".to_string()
    } else {
        path.to_string()
    };
    let mut lines = reader.lines().enumerate().peekable();
    // CSV when the first meaningful line is a header with a `target` column.
    let mut csv_column: Option<usize> = None;
    while let Some((_, Ok(line))) = lines.peek() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            lines.next();
            continue;
        }
        if t.contains(',') || t.eq_ignore_ascii_case("target") {
            let header = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(t.as_bytes())
                .records()
                .next();
            if let Some(Ok(record)) = header {
                csv_column = record
                    .iter()
                    .position(|f| f.trim().eq_ignore_ascii_case("target"));
            }
            if csv_column.is_some() {
                lines.next();
            }
        }
        break;
    }
    Ok(Box::new(lines.filter_map(move |(n, line)| {
        let line = match line {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        let origin = format!("{name}:{}", n + 1);
        match csv_column {
            Some(col) => {
                if line.trim().is_empty() {
                    return None;
                }
                let record = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(line.as_bytes())
                    .records()
                    .next();
                let field = match record {
                    Some(Ok(r)) => r.get(col).map(str::to_string),
                    _ => None,
                };
                Some(Ok(match field {
                    Some(raw) => Item::parse(raw.trim(), &origin),
                    None => Item::Invalid {
                        raw: line.clone(),
                        message: format!("{origin}: no `target` column in this CSV row"),
                    },
                }))
            }
            None => {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    return None;
                }
                Some(Ok(Item::parse(t, &origin)))
            }
        }
    })))
}
