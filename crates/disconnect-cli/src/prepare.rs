//! The whole input, read and checked before anything is sent: the arguments and every line of
//! `--input` (a file or stdin) are parsed, duplicates (the same connection, however written)
//! are left out, and the distinct valid targets are spooled to a temporary file that the run
//! then reads. Memory stays flat: a target costs 16 bytes (its fingerprint) while it is read.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use disconnect::{Target, Vendor};
use sha2::{Digest, Sha256};

use crate::input::{self, Item};

/// Invalid lines shown in full before the rest are counted.
pub const SHOWN_INVALID: usize = 20;

/// A line (or argument) that is not a target.
#[derive(Debug, Clone)]
pub struct Invalid {
    /// `file:line` or `argument N`.
    pub origin: String,
    /// The text as given.
    pub raw: String,
    /// Why.
    pub reason: String,
}

/// The checked input.
pub struct Prepared {
    spool: File,
    /// Distinct valid targets per vendor.
    pub counts: BTreeMap<Vendor, usize>,
    /// Targets left out because an earlier line named the same connection.
    pub duplicates: usize,
    /// Lines that are not targets (all of them, to record with `--skip-invalid`).
    pub invalid: Vec<Invalid>,
    /// sha256 of the `--input` bytes as read (a file or stdin).
    pub sha256: Option<String>,
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

impl Prepared {
    /// Read the arguments, then `--input` (`-`: stdin), to the end.
    pub fn read(arguments: &[String], input: Option<&str>) -> Result<Self, String> {
        let spool =
            tempfile::tempfile().map_err(|e| format!("cannot create a temporary file: {e}"))?;
        let mut prepared = Self {
            spool,
            counts: BTreeMap::new(),
            duplicates: 0,
            invalid: Vec::new(),
            sha256: None,
        };
        let mut seen: HashSet<[u8; 16]> = HashSet::new();
        let mut out = BufWriter::new(prepared.spool.try_clone().map_err(|e| e.to_string())?);
        let mut add = |item: Item, origin: String, prepared: &mut Self| -> Result<(), String> {
            match item {
                Item::Target(t) => {
                    let canonical = t.to_string();
                    let digest = Sha256::digest(canonical.as_bytes());
                    let mut key = [0u8; 16];
                    key.copy_from_slice(&digest[..16]);
                    if !seen.insert(key) {
                        prepared.duplicates += 1;
                        return Ok(());
                    }
                    *prepared.counts.entry(t.vendor()).or_default() += 1;
                    writeln!(out, "{canonical}").map_err(|e| format!("cannot spool the input: {e}"))
                }
                Item::Invalid { raw, message } => {
                    prepared.invalid.push(Invalid {
                        origin,
                        raw,
                        reason: message,
                    });
                    Ok(())
                }
            }
        };
        for (n, raw) in arguments.iter().enumerate() {
            add(
                Item::parse(raw),
                format!("argument {}", n + 1),
                &mut prepared,
            )?;
        }
        if let Some(path) = input {
            let reader: Box<dyn Read + Send> = if path == "-" {
                Box::new(std::io::stdin())
            } else {
                Box::new(File::open(path).map_err(|e| format!("cannot read --input {path}: {e}"))?)
            };
            let mut hashing = Hashing {
                inner: reader,
                hasher: Sha256::new(),
            };
            let name = if path == "-" { "stdin" } else { path };
            for entry in input::items(BufReader::new(&mut hashing), name) {
                let (origin, item) =
                    entry.map_err(|e| format!("cannot read --input {path}: {e}"))?;
                add(item, origin, &mut prepared)?;
            }
            // The rest of a file after its last line (nothing), so that the hash is the file's.
            std::io::copy(&mut hashing, &mut std::io::sink())
                .map_err(|e| format!("cannot read --input {path}: {e}"))?;
            prepared.sha256 = Some(
                hashing
                    .hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            );
        }
        out.flush()
            .map_err(|e| format!("cannot spool the input: {e}"))?;
        drop(out);
        Ok(prepared)
    }

    /// Distinct valid targets.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// The vendors the targets are at.
    pub fn vendors(&self) -> impl Iterator<Item = Vendor> + '_ {
        self.counts.keys().copied()
    }

    /// The refusal for invalid lines: each shown as `origin: reason` (the first
    /// [`SHOWN_INVALID`]), then how many more.
    pub fn refusal(&self) -> String {
        let mut text = format!(
            "{} invalid target(s); nothing was sent (fix them, or pass --skip-invalid to run the \
             others and record these as invalid):",
            self.invalid.len()
        );
        for bad in self.invalid.iter().take(SHOWN_INVALID) {
            text.push_str(&format!("\n  {}: {}", bad.origin, bad.reason));
        }
        if self.invalid.len() > SHOWN_INVALID {
            text.push_str(&format!(
                "\n  … and {} more",
                self.invalid.len() - SHOWN_INVALID
            ));
        }
        text
    }

    /// The targets, in input order, from the spool (read back once per call); `Err` with the
    /// message to show when the spool cannot be read back.
    pub fn targets(
        &self,
    ) -> Result<impl Iterator<Item = std::io::Result<Target>> + Send + use<>, String> {
        let back = |e: std::io::Error| format!("cannot read the input back: {e}");
        let mut file = self.spool.try_clone().map_err(back)?;
        file.seek(SeekFrom::Start(0)).map_err(back)?;
        Ok(BufReader::new(file).lines().map(|line| {
            line?
                .parse::<Target>()
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
        }))
    }
}
