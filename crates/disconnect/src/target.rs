//! [`Target`]: one connection at one vendor, validated when it is made.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::Vendor;

/// Longest id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// One connection at one vendor, in the syntax `tartan:<client_org>`,
/// `persona:<connection-id>` or `leen:<organization_uuid>/<connection_uuid>`.
///
/// A `Target` is valid by construction: ids are non-empty, at most [`MAX_ID_BYTES`] bytes,
/// without control characters or surrounding whitespace; Persona ids (which travel in the URL
/// path) contain none of `/ ? # %` and no `..`; Leen ids are UUIDs. No request is ever sent for
/// input that fails these checks.
///
/// ```
/// use disconnect::Target;
/// let t: Target = "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706".parse()?;
/// assert_eq!(t.to_string(), "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706");
/// assert!("persona:cxn_1/../other".parse::<Target>().is_err());
/// # Ok::<(), disconnect::TargetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A Tartan HyperSync client organisation (`client_org`).
    Tartan {
        /// The `client_org` identifier.
        client_org: String,
    },
    /// A Persona Connect connection.
    Persona {
        /// The connection id (`cxn_…`).
        connection_id: String,
    },
    /// A Leen connection.
    Leen {
        /// Leen's organisation UUID.
        organization_id: Uuid,
        /// The connection UUID.
        connection_id: Uuid,
    },
}

/// Why a target was refused. The offending input is shown escaped and shortened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// No `vendor:` prefix.
    #[error(
        "`{input}` is not a target: expected tartan:<client_org>, persona:<connection-id> or leen:<organization_uuid>/<connection_uuid>"
    )]
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
    /// Not a UUID (Leen ids).
    #[error("{field} {value} is not a UUID")]
    NotUuid {
        /// Which id.
        field: &'static str,
        /// The input, escaped and shortened.
        value: String,
    },
    /// Leen needs both ids.
    #[error("a Leen target is leen:<organization_uuid>/<connection_uuid>, got `{input}`")]
    LeenShape {
        /// The input, shortened.
        input: String,
    },
}

/// Escaped (`{:?}`) and cut to 64 characters, for error messages.
fn shown(value: &str) -> String {
    let cut: String = value.chars().take(64).collect();
    if cut.len() < value.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

fn check_id(field: &'static str, value: &str) -> Result<(), TargetError> {
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

fn check_path_id(field: &'static str, vendor: Vendor, value: &str) -> Result<(), TargetError> {
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

fn parse_uuid(field: &'static str, value: &str) -> Result<Uuid, TargetError> {
    check_id(field, value)?;
    Uuid::try_parse(value).map_err(|_| TargetError::NotUuid {
        field,
        value: shown(value),
    })
}

impl Target {
    /// A Tartan target. The `client_org` travels in the request body, so any text passing the
    /// common checks is accepted.
    pub fn tartan(client_org: impl Into<String>) -> Result<Self, TargetError> {
        let client_org = client_org.into();
        check_id("Tartan client_org", &client_org)?;
        Ok(Target::Tartan { client_org })
    }

    /// A Persona target. The id travels in the URL path: besides the common checks it may not
    /// contain `/`, `?`, `#`, `%`, `\` or `..` (no Persona id does).
    pub fn persona(connection_id: impl Into<String>) -> Result<Self, TargetError> {
        let connection_id = connection_id.into();
        check_path_id("Persona connection id", Vendor::Persona, &connection_id)?;
        Ok(Target::Persona { connection_id })
    }

    /// A Leen target.
    pub fn leen(organization_id: Uuid, connection_id: Uuid) -> Self {
        Target::Leen {
            organization_id,
            connection_id,
        }
    }

    /// The vendor this target is at.
    pub fn vendor(&self) -> Vendor {
        match self {
            Target::Tartan { .. } => Vendor::Tartan,
            Target::Persona { .. } => Vendor::Persona,
            Target::Leen { .. } => Vendor::Leen,
        }
    }

    /// The part after `vendor:`.
    pub fn id(&self) -> String {
        match self {
            Target::Tartan { client_org } => client_org.clone(),
            Target::Persona { connection_id } => connection_id.clone(),
            Target::Leen {
                organization_id,
                connection_id,
            } => format!("{organization_id}/{connection_id}"),
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
        match vendor.parse::<Vendor>() {
            Ok(Vendor::Tartan) => Target::tartan(rest),
            Ok(Vendor::Persona) => Target::persona(rest),
            Ok(Vendor::Leen) => {
                let Some((org, conn)) = rest.split_once('/') else {
                    return Err(TargetError::LeenShape {
                        input: shown(input),
                    });
                };
                if conn.contains('/') {
                    return Err(TargetError::LeenShape {
                        input: shown(input),
                    });
                }
                Ok(Target::leen(
                    parse_uuid("Leen organization id", org)?,
                    parse_uuid("Leen connection id", conn)?,
                ))
            }
            Err(_) => Err(TargetError::UnknownVendor {
                vendor: shown(vendor),
            }),
        }
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
                matches!(e, TargetError::LeenShape { .. })
            }),
            (
                "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706/x",
                |e| matches!(e, TargetError::LeenShape { .. }),
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
