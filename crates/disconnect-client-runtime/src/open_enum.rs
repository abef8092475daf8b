//! Open enums: a response enum that decodes a value its spec does not list.
//!
//! Vendors add enum values (a new connection state, a new data type) before their clients are
//! regenerated. A closed Rust enum turns such an answer into a decoding error, and so a
//! completed call into a failure. The generated clients make every string enum that appears in
//! a response *open*, the pattern of the AWS Rust SDK: the spec's values are typed variants, and
//! any other value decodes into `Unknown(`[`UnknownValue`]`)`, which keeps the text, serialises
//! back to it and displays it. The enums are `#[non_exhaustive]`, so a value that a later spec
//! lists becomes a new variant without breaking a `match`.
//!
//! `UnknownValue` cannot be built outside this crate: match known values by variant and read an
//! unknown one with `as_str()`, so that code keeps working when the value becomes known.

/// The text of an enum value the spec did not list when the client was generated.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(String);

impl UnknownValue {
    /// Used by [`crate::open_enum!`]; not part of the API.
    #[doc(hidden)]
    pub fn __new(value: String) -> Self {
        Self(value)
    }

    /// The value as the vendor sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Implements an open enum's conversions for an enum of unit variants plus
/// `Unknown(UnknownValue)`: `as_str`, `is_unknown`, `KNOWN_VALUES`, `From<&str>`,
/// `From<String>`, an infallible `FromStr`, `Display`, serde's `Serialize` / `Deserialize` (as
/// the string) and `schemars::JsonSchema` (a string; the known values are listed in its
/// description, not as an `enum`, so that a validator accepts new ones too).
///
/// ```
/// #[derive(Clone, Debug, PartialEq, Eq)]
/// #[non_exhaustive]
/// pub enum State {
///     Active,
///     Deleted,
///     Unknown(disconnect_client_runtime::UnknownValue),
/// }
/// disconnect_client_runtime::open_enum!(State { Active => "ACTIVE", Deleted => "DELETED" });
///
/// let state: State = serde_json::from_str("\"ARCHIVED\"").unwrap();
/// assert!(state.is_unknown());
/// assert_eq!(state.to_string(), "ARCHIVED");
/// assert_eq!(serde_json::to_string(&state).unwrap(), "\"ARCHIVED\"");
/// assert_eq!("ACTIVE".parse::<State>(), Ok(State::Active));
/// ```
#[macro_export]
macro_rules! open_enum {
    ($name:ident { $($variant:ident => $value:literal),* $(,)? }) => {
        impl $name {
            /// The values the spec lists, in its order.
            pub const KNOWN_VALUES: &'static [&'static str] = &[$($value),*];

            /// The value as the vendor sends it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether the value is one the spec does not list.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Unknown($crate::UnknownValue::__new(other.to_string())),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    $($value => Self::$variant,)*
                    _ => Self::Unknown($crate::UnknownValue::__new(value)),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                <::std::string::String as $crate::__private::serde::Deserialize>::deserialize(
                    deserializer,
                )
                .map(Self::from)
            }
        }

        $crate::__open_enum_schema!($name);
    };
}

/// `schemars::JsonSchema` for an open enum, with the runtime's `schemars` feature (on when a
/// client's own `schemars` feature is); nothing without it. Used by [`open_enum!`].
#[cfg(feature = "schemars")]
#[doc(hidden)]
#[macro_export]
macro_rules! __open_enum_schema {
    ($name:ident) => {
        impl $crate::__private::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::string::String {
                stringify!($name).to_string()
            }

            fn json_schema(
                _: &mut $crate::__private::schemars::r#gen::SchemaGenerator,
            ) -> $crate::__private::schemars::schema::Schema {
                use $crate::__private::schemars::schema::{InstanceType, SchemaObject};
                let mut schema = SchemaObject {
                    instance_type: Some(InstanceType::String.into()),
                    ..Default::default()
                };
                let known: ::std::vec::Vec<::std::string::String> = Self::KNOWN_VALUES
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect();
                schema.metadata().description = Some(format!(
                    "One of {}, or a value the vendor added later.",
                    known.join(", ")
                ));
                schema.into()
            }
        }
    };
}

/// Without the `schemars` feature: no schema.
#[cfg(not(feature = "schemars"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __open_enum_schema {
    ($name:ident) => {};
}

#[cfg(test)]
mod tests {
    #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    #[non_exhaustive]
    enum Health {
        Healthy,
        RateLimitExceeded,
        Unknown(crate::UnknownValue),
    }
    crate::open_enum!(Health {
        Healthy => "HEALTHY",
        RateLimitExceeded => "RATE_LIMIT_EXCEEDED",
    });

    #[test]
    fn known_values_decode_into_their_variants() {
        let h: Health = serde_json::from_str("\"RATE_LIMIT_EXCEEDED\"").unwrap();
        assert_eq!(h, Health::RateLimitExceeded);
        assert!(!h.is_unknown());
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            "\"RATE_LIMIT_EXCEEDED\""
        );
        assert_eq!(Health::KNOWN_VALUES, ["HEALTHY", "RATE_LIMIT_EXCEEDED"]);
    }

    #[test]
    fn unknown_values_keep_their_text_both_ways() {
        let h: Health = serde_json::from_str("\"SOME_NEW_HEALTH\"").unwrap();
        assert!(h.is_unknown());
        assert_eq!(h.as_str(), "SOME_NEW_HEALTH");
        assert_eq!(h.to_string(), "SOME_NEW_HEALTH");
        assert_eq!(serde_json::to_value(&h).unwrap(), "SOME_NEW_HEALTH");
        assert_eq!(
            "healthy".parse::<Health>().unwrap().as_str(),
            "healthy",
            "case matters"
        );
        assert_eq!(Health::from(String::from("HEALTHY")), Health::Healthy);
    }

    #[test]
    fn only_strings_decode() {
        assert!(serde_json::from_str::<Health>("3").is_err());
        assert!(serde_json::from_str::<Health>("null").is_err());
    }

    #[cfg(feature = "schemars")]
    #[test]
    fn the_schema_is_an_open_string() {
        let schema = schemars::schema_for!(Health);
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["type"], "string");
        assert!(json.get("enum").is_none());
        assert!(
            json["description"]
                .as_str()
                .unwrap()
                .contains("`HEALTHY`, `RATE_LIMIT_EXCEEDED`")
        );
    }
}
