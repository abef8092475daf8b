//! Where targets come from: arguments, and `--input` files (one per line with `#` comments, or
//! CSV with a `target` column; `-` for stdin). A UTF-8 byte order mark and CRLF line ends are
//! accepted in both formats.

use std::io::BufRead;

use disconnect::Target;

/// A target, or text that is not one.
#[derive(Debug)]
pub enum Item {
    /// A valid target.
    Target(Target),
    /// Text that is not a target, and why.
    Invalid { raw: String, message: String },
}

impl Item {
    pub fn parse(raw: &str) -> Item {
        match raw.parse::<Target>() {
            Ok(t) => Item::Target(t),
            Err(e) => Item::Invalid {
                raw: raw.to_string(),
                message: e.to_string(),
            },
        }
    }
}

/// The byte order mark some editors put at the start of a UTF-8 file.
const BOM: char = '\u{feff}';

/// The items of an input, each with its origin (`name:line`), read lazily.
pub fn items<R: BufRead>(
    reader: R,
    name: &str,
) -> impl Iterator<Item = std::io::Result<(String, Item)>> {
    let mut lines = reader
        .lines()
        .enumerate()
        .map(|(n, line)| {
            // `lines` drops `\n` and `\r\n`; the first line may start with a BOM.
            line.map(|l| match n {
                0 => l.strip_prefix(BOM).map(str::to_string).unwrap_or(l),
                _ => l,
            })
            .map(|l| (n, l))
        })
        .peekable();
    // CSV when the first meaningful line is a header with a `target` column.
    let mut csv_column: Option<usize> = None;
    while let Some(Ok((_, line))) = lines.peek() {
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
    let name = name.to_string();
    lines.filter_map(move |line| {
        let (n, line) = match line {
            Ok(line) => line,
            Err(e) => return Some(Err(e)),
        };
        let origin = format!("{name}:{}", n + 1);
        let item = match csv_column {
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
                match field {
                    Some(raw) => Item::parse(raw.trim()),
                    None => Item::Invalid {
                        raw: line.clone(),
                        message: "no `target` column in this CSV row".to_string(),
                    },
                }
            }
            None => {
                let t = line.trim();
                if t.is_empty() || t.starts_with('#') {
                    return None;
                }
                Item::parse(t)
            }
        };
        Some(Ok((origin, item)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<(String, Result<String, String>)> {
        items(text.as_bytes(), "in")
            .map(|r| {
                let (origin, item) = r.unwrap();
                let item = match item {
                    Item::Target(t) => Ok(t.to_string()),
                    Item::Invalid { raw, .. } => Err(raw),
                };
                (origin, item)
            })
            .collect()
    }

    #[test]
    fn a_bom_and_crlf_are_accepted_in_both_formats() {
        let plain = "\u{feff}persona:cxn_1\r\n# note\r\ntartan:acme\r\n";
        assert_eq!(
            parsed(plain),
            [
                ("in:1".to_string(), Ok("persona:cxn_1".to_string())),
                ("in:3".to_string(), Ok("tartan:acme".to_string())),
            ]
        );
        let csv = "\u{feff}name,target\r\nAlice,persona:cxn_1\r\nBob,\"tartan:acme\"\r\n";
        assert_eq!(
            parsed(csv),
            [
                ("in:2".to_string(), Ok("persona:cxn_1".to_string())),
                ("in:3".to_string(), Ok("tartan:acme".to_string())),
            ]
        );
    }

    #[test]
    fn bad_lines_keep_their_origin() {
        assert_eq!(
            parsed("persona:cxn_1\nleen:not-a-uuid/x\n"),
            [
                ("in:1".to_string(), Ok("persona:cxn_1".to_string())),
                ("in:2".to_string(), Err("leen:not-a-uuid/x".to_string())),
            ]
        );
    }
}
