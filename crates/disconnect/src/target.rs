//! [`Target`]: one connection at one vendor, validated when it is made.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::{Target, Vendor};

/// Longest id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

// `Target` itself (one variant per compiled vendor, holding that vendor's target type) is
// declared by the adapter registry (`adapters/mod.rs`); each vendor's target type, its parsing
// and its constructor live in its adapter.

/// A vendor's target type: parsed from the text after `<vendor>:` (whose syntax is the vendor
/// table's [`disconnect_vendors::Operation::syntax`]) and printed back to it.
pub(crate) trait VendorTarget: Sized {
    /// The target for the text after `<vendor>:`.
    fn parse(vendor: Vendor, id: &str) -> Result<Self, TargetError>;

    /// The text after `<vendor>:`.
    fn id(&self) -> String;

    /// The values the target gives the request, in the order of the vendor table's
    /// parameters ([`disconnect_vendors::Operation::params`]).
    fn values(&self) -> Vec<String>;
}

/// A target at a vendor with no target type of its own: the values its syntax names
/// ([`disconnect_vendors::Operation::params`]), in that order, each checked as its parameter
/// requires (a path segment holds none of `/ ? # %` and no `..`; a UUID is a UUID, kept in
/// its hyphenated lower-case form).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GenericTarget {
    // Shared: a target is cloned into every receipt and error.
    values: std::sync::Arc<[Box<str>]>,
}

impl GenericTarget {
    /// The values, in the order of the vendor's target syntax.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &str> {
        self.values.iter().map(AsRef::as_ref)
    }
}

impl VendorTarget for GenericTarget {
    fn parse(vendor: Vendor, id: &str) -> Result<Self, TargetError> {
        let op = &vendor.facts().operation;
        let shape = || TargetError::Shape {
            vendor,
            syntax: op.syntax,
            input: shown(id),
        };
        let parts: Vec<&str> = match op.params.len() {
            1 => vec![id],
            n => {
                let parts: Vec<&str> = id.split('/').collect();
                if parts.len() != n {
                    return Err(shape());
                }
                parts
            }
        };
        let mut values = Vec::with_capacity(parts.len());
        for (param, value) in op.params.iter().zip(parts) {
            let checked = match (param.format, param.location) {
                (disconnect_vendors::ParamFormat::Uuid, _) => {
                    parse_uuid(param.name, value)?.to_string()
                }
                (_, disconnect_vendors::ParamIn::Path) => {
                    check_path_id(param.name, vendor, value)?;
                    value.to_string()
                }
                _ => {
                    check_id(param.name, value)?;
                    value.to_string()
                }
            };
            values.push(checked.into_boxed_str());
        }
        Ok(Self {
            values: values.into(),
        })
    }

    fn id(&self) -> String {
        self.values.join("/")
    }

    fn values(&self) -> Vec<String> {
        self.values.iter().map(ToString::to_string).collect()
    }
}

/// Why a target was refused. The offending input is shown escaped and shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// No `vendor:` prefix.
    #[error("`{input}` is not a target: expected {}", Target::forms())]
    MissingVendor {
        /// The input, shortened.
        input: String,
    },
    /// A prefix that is not a vendor.
    #[error("unknown vendor `{vendor}` (known: {})", Vendor::known_ids())]
    UnknownVendor {
        /// The prefix, shortened.
        vendor: String,
    },
    /// An empty id.
    #[error("{field} is empty")]
    Empty {
        /// Which id.
        field: &'static str,
    },
    /// An id of whitespace only.
    #[error("{field} is only whitespace")]
    Blank {
        /// Which id.
        field: &'static str,
    },
    /// Leading or trailing whitespace.
    #[error("{field} {value} has leading or trailing whitespace")]
    SurroundingWhitespace {
        /// Which id.
        field: &'static str,
        /// The id, escaped and shortened.
        value: String,
    },
    /// A control character (newline, NUL, escape...).
    #[error("{field} {value} contains a control character")]
    ControlCharacter {
        /// Which id.
        field: &'static str,
        /// The id, escaped and shortened.
        value: String,
    },
    /// Longer than [`MAX_ID_BYTES`].
    #[error("{field} is {len} bytes long (at most {max})")]
    TooLong {
        /// Which id.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character that would change the URL path (`/ ? # %`).
    #[error("{field} {value} contains `{character}`, which cannot be part of a {vendor} id")]
    ReservedCharacter {
        /// Which id.
        field: &'static str,
        /// The vendor.
        vendor: Vendor,
        /// The character.
        character: char,
        /// The id, escaped and shortened.
        value: String,
    },
    /// A `..` that could climb the URL path.
    #[error("{field} {value} contains `..`")]
    DotSegment {
        /// Which id.
        field: &'static str,
        /// The id, escaped and shortened.
        value: String,
    },
    /// Not a UUID.
    #[error("{field} {value} is not a UUID")]
    NotUuid {
        /// Which id.
        field: &'static str,
        /// The input, escaped and shortened.
        value: String,
    },
    /// An id that does not have the shape of its vendor's ids (was `LeenShape`).
    #[error("a {vendor} target is {}:{syntax}, got `{input}`", vendor.id())]
    Shape {
        /// The vendor.
        vendor: Vendor,
        /// The syntax of its ids.
        syntax: &'static str,
        /// The input, shortened.
        input: String,
    },
    /// A vendor whose support was left out at compile time (cargo feature).
    #[error("{vendor} support is not compiled in (enable the `{}` feature of the disconnect crate)", vendor.id())]
    VendorNotCompiled {
        /// The vendor.
        vendor: Vendor,
    },
}

/// Escaped (`{:?}`) and cut to 64 characters, for error messages.
pub(crate) fn shown(value: &str) -> String {
    let cut: String = value.chars().take(64).collect();
    if cut.len() < value.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

pub(crate) fn check_id(field: &'static str, value: &str) -> Result<(), TargetError> {
    if value.is_empty() {
        return Err(TargetError::Empty { field });
    }
    if value.len() > MAX_ID_BYTES {
        return Err(TargetError::TooLong {
            field,
            len: value.len(),
            max: MAX_ID_BYTES,
        });
    }
    if value.trim().is_empty() {
        return Err(TargetError::Blank { field });
    }
    if value.chars().any(char::is_control) {
        return Err(TargetError::ControlCharacter {
            field,
            value: shown(value),
        });
    }
    if value.trim() != value {
        return Err(TargetError::SurroundingWhitespace {
            field,
            value: shown(value),
        });
    }
    Ok(())
}

pub(crate) fn check_path_id(
    field: &'static str,
    vendor: Vendor,
    value: &str,
) -> Result<(), TargetError> {
    check_id(field, value)?;
    if let Some(character) = value
        .chars()
        .find(|c| matches!(c, '/' | '?' | '#' | '%' | '\\'))
    {
        return Err(TargetError::ReservedCharacter {
            field,
            vendor,
            character,
            value: shown(value),
        });
    }
    if value.contains("..") {
        return Err(TargetError::DotSegment {
            field,
            value: shown(value),
        });
    }
    Ok(())
}

pub(crate) fn parse_uuid(field: &'static str, value: &str) -> Result<Uuid, TargetError> {
    check_id(field, value)?;
    Uuid::try_parse(value).map_err(|_| TargetError::NotUuid {
        field,
        value: shown(value),
    })
}

impl Target {
    /// Every compiled vendor's target syntax, for messages.
    pub(crate) fn forms() -> String {
        let forms = Target::syntaxes();
        match forms.as_slice() {
            [] => "no vendor (none is compiled in)".to_string(),
            [one] => one.clone(),
            [first @ .., last] => format!("{} or {last}", first.join(", ")),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.vendor().id(), self.id())
    }
}

impl FromStr for Target {
    type Err = TargetError;

    fn from_str(input: &str) -> Result<Self, TargetError> {
        let Some((vendor, rest)) = input.split_once(':') else {
            return Err(TargetError::MissingVendor {
                input: shown(input),
            });
        };
        let vendor = vendor
            .parse::<Vendor>()
            .map_err(|_| TargetError::UnknownVendor {
                vendor: shown(vendor),
            })?;
        Target::parse_id(vendor, rest)
    }
}

impl serde::Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every compiled vendor's own target type agrees with the vendor table: a target written in
    /// the table's syntax parses the same with [`GenericTarget`], prints the same and gives the
    /// request the same values, in the table's order.
    #[test]
    fn every_target_type_follows_the_table() {
        for vendor in Vendor::ALL {
            if !crate::adapters::is_compiled(vendor) {
                continue;
            }
            let op = &vendor.facts().operation;
            let id = op
                .params
                .iter()
                .map(|p| match p.format {
                    disconnect_vendors::ParamFormat::Uuid => {
                        "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e".to_string()
                    }
                    _ => format!("{}_1", p.name.replace('-', "_")),
                })
                .collect::<Vec<_>>()
                .join("/");
            let own = Target::parse_id(vendor, &id).unwrap();
            let generic = GenericTarget::parse(vendor, &id).unwrap();
            assert_eq!(own.id(), generic.id(), "{vendor}");
            assert_eq!(
                own.values(),
                generic.values().map(str::to_string).collect::<Vec<_>>(),
                "{vendor}"
            );
            assert!(
                Target::forms().contains(&format!("{}:{}", vendor.id(), op.syntax)),
                "{vendor}"
            );
            if op.params.len() > 1 {
                assert!(GenericTarget::parse(vendor, &format!("{id}/extra")).is_err());
            }
            assert!(GenericTarget::parse(vendor, "").is_err());
        }
    }

    const ORG: &str = "0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e";
    const CONN: &str = "6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706";

    #[test]
    fn round_trips() {
        for text in [
            "tartan:acme corp",
            "persona:cxn_ABC123",
            &format!("leen:{ORG}/{CONN}"),
        ] {
            let target: Target = text.parse().unwrap();
            assert_eq!(target.to_string(), *text);
        }
        assert_eq!(
            "PERSONA:cxn_1".parse::<Target>().unwrap().to_string(),
            "persona:cxn_1"
        );
    }

    #[test]
    fn refuses_bad_input_with_a_typed_error() {
        let long = format!("tartan:{}", "a".repeat(MAX_ID_BYTES + 1));
        let huge = format!("persona:{}", "x".repeat(10_000));
        type Check = fn(&TargetError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("acme", |e| matches!(e, TargetError::MissingVendor { .. })),
            ("slack:T123", |e| {
                matches!(e, TargetError::UnknownVendor { .. })
            }),
            ("tartan:", |e| matches!(e, TargetError::Empty { .. })),
            ("persona:   ", |e| matches!(e, TargetError::Blank { .. })),
            ("persona: cxn_1", |e| {
                matches!(e, TargetError::SurroundingWhitespace { .. })
            }),
            ("tartan:acme\n", |e| {
                matches!(e, TargetError::ControlCharacter { .. })
            }),
            ("tartan:ac\0me", |e| {
                matches!(e, TargetError::ControlCharacter { .. })
            }),
            (&long, |e| {
                matches!(e, TargetError::TooLong { len: 257, .. })
            }),
            (&huge, |e| {
                matches!(e, TargetError::TooLong { len: 10_000, .. })
            }),
            ("persona:cxn/1", |e| {
                matches!(e, TargetError::ReservedCharacter { character: '/', .. })
            }),
            ("persona:cxn%2F1", |e| {
                matches!(e, TargetError::ReservedCharacter { character: '%', .. })
            }),
            ("persona:cxn?x=1", |e| {
                matches!(e, TargetError::ReservedCharacter { character: '?', .. })
            }),
            ("persona:cxn#x", |e| {
                matches!(e, TargetError::ReservedCharacter { character: '#', .. })
            }),
            ("persona:..", |e| {
                matches!(e, TargetError::DotSegment { .. })
            }),
            (
                "leen:not-a-uuid/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706",
                |e| {
                    matches!(
                        e,
                        TargetError::NotUuid {
                            field: "Leen organization id",
                            ..
                        }
                    )
                },
            ),
            ("leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e", |e| {
                matches!(e, TargetError::Shape { .. })
            }),
            (
                "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706/x",
                |e| matches!(e, TargetError::Shape { .. }),
            ),
        ];
        for (input, expected) in cases {
            let err = input.parse::<Target>().unwrap_err();
            assert!(expected(&err), "{input:?} gave {err:?}");
            assert!(err.to_string().len() < 300, "messages stay short: {err}");
        }
    }

    #[test]
    fn tartan_ids_may_hold_path_characters_because_they_travel_in_the_body() {
        assert!("tartan:acme/eu?x#1".parse::<Target>().is_ok());
    }

    #[test]
    fn serde_uses_the_text_form() {
        let t: Target = "persona:cxn_1".parse().unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"persona:cxn_1\"");
        assert!(serde_json::from_str::<Target>("\"persona:\"").is_err());
    }
}
