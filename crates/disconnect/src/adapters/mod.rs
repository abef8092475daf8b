//! One adapter per vendor, and the registry that lists them.
//!
//! What every vendor does the same way is data: the vendor table
//! ([`disconnect_vendors::Operation`], from the spec and `specs/vendors.toml`) says which request
//! a target makes and what each answer means, and [`generic`] plans, sends and classifies from
//! it. A vendor's module holds its target type and what data cannot say: Persona's version option
//! and idempotency key chain, Tartan's "sync in progress" polling. The engine applies those
//! rules without knowing which vendor they come from.

use std::future::Future;
use std::time::Duration;

// `untyped` serves only vendors whose feature is off.
#[allow(unused_imports)]
use crate::classify::{Classified, untyped};
use crate::config::ConfigError;
use crate::plan::PlannedRequest;
use crate::target::{TargetError, VendorTarget};
use crate::{Settings, Vendor};

#[allow(dead_code)] // with every vendor's feature off
pub(crate) mod generic;

/// What one vendor does for one attempt, and its own retry rules.
pub(crate) trait Adapter: Send + Sync {
    /// The vendor.
    fn vendor(&self) -> Vendor;

    /// The request [`Adapter::attempt`] sends, secrets redacted.
    fn plan(&self, target: &Target, idempotency_key: Option<&str>) -> PlannedRequest;

    /// Send one request and classify the answer. Never panics on any answer.
    fn attempt(
        &self,
        target: &Target,
        idempotency_key: Option<&str>,
    ) -> impl Future<Output = Classified> + Send;

    /// The first key of the target's idempotency key chain, for vendors that take one.
    fn idempotency_key(&self, _target: &Target) -> Option<String> {
        None
    }

    /// Whether the vendor stores an answer with this status under the request's idempotency
    /// key, so that retrying with the same key would only replay it (the call moves on to the
    /// chain's next key).
    fn replays_under_key(&self, _status: u16) -> bool {
        false
    }

    /// After a "busy" answer (the vendor is working on the connection), having been busy for
    /// `busy_for`: how long to wait before trying again, or `None` to stop with `Busy`.
    fn busy_retry(&self, _busy_for: Duration) -> Option<Duration> {
        None
    }
}

/// What an adapter is built from.
pub(crate) struct Connect<'a> {
    pub(crate) vendor: Vendor,
    pub(crate) key: secrecy::SecretString,
    pub(crate) url: &'a str,
    pub(crate) url_var: Option<&'static str>,
    pub(crate) key_var: Option<&'static str>,
    pub(crate) settings: &'a Settings,
    /// Vendor-specific options set through the builder methods the adapters add to
    /// [`crate::DisconnectorBuilder`], by type.
    pub(crate) options: &'a http::Extensions,
    /// The `User-Agent` and the headers every request carries.
    pub(crate) headers: &'a reqwest::header::HeaderMap,
    /// How the HTTP client is made.
    pub(crate) http: &'a crate::config::HttpSetup,
}

/// Build a generated client from a [`Connect`] (in scope in the adapter modules declared
/// below): around the caller's `reqwest::Client` (the key and headers added per request), or
/// from the facade's builder. The generated constructors check the key and URL, mark the key
/// sensitive and (on a builder) turn redirects off.
#[allow(unused_macros)] // with every vendor's feature off
macro_rules! client {
    ($krate:ident, $connect:expr) => {{
        let c: &$crate::adapters::Connect<'_> = &$connect;
        match &c.http.client {
            Some(own) => $krate::Client::with_api_key_and_client(c.url, c.key.clone(), own.clone())
                .map(|client| client.with_headers(c.headers.clone())),
            None => $krate::Client::with_api_key_and_builder(
                c.url,
                c.key.clone(),
                c.http.builder(c.headers),
            ),
        }
        .map_err(|e| match e {
            $krate::ConfigError::InvalidApiKey => $crate::ConfigError::InvalidApiKey {
                vendor: c.vendor,
                variable: c.key_var,
            },
            $krate::ConfigError::Http(source) => $crate::ConfigError::Http {
                vendor: c.vendor,
                source,
            },
            other => $crate::ConfigError::InvalidBaseUrl {
                vendor: c.vendor,
                variable: c.url_var,
                url: c.url.to_string(),
                reason: other.to_string(),
            },
        })
    }};
}

/// Builds, from the generated registration list (`registry.rs`), the public [`Target`] and
/// [`VendorRecord`] enums over each vendor's target and record types, the re-exports of the
/// client crates, [`AnyAdapter`] and its dispatch. Each entry is
/// `id: "feature" [mod module] => Variant(adapter type, target type, record type), client_crate;`
/// (`mod`: the vendor's handwritten module, whose public items the crate root re-exports).
macro_rules! registry {
    ($($id:ident : $feature:literal $(mod $module:ident)? => $variant:ident ( $adapter:ty, $target:ty, $record:ty ), $krate:ident);* $(;)?) => {
        $(
            $(
                #[cfg(feature = $feature)]
                pub(crate) mod $module;
            )?

            #[cfg(feature = $feature)]
            impl generic::Wire for $krate::Client {
                fn http(&self) -> &reqwest::Client {
                    progenitor_client::ClientInfo::client(self)
                }
                fn baseurl(&self) -> &str {
                    progenitor_client::ClientInfo::baseurl(self)
                }
                fn max_body(&self) -> usize {
                    $krate::MAX_RESPONSE_BYTES
                }
                fn exec(
                    &self,
                    request: reqwest::Request,
                ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send {
                    // The operation id is not read by the generated hooks.
                    const INFO: progenitor_client::OperationInfo =
                        progenitor_client::OperationInfo { operation_id: "" };
                    progenitor_client::ClientHooks::exec(self, request, &INFO)
                }
            }
        )*

        #[cfg(not(any($(feature = $feature),*)))]
        compile_error!("the disconnect crate needs at least one vendor's cargo feature");

        /// What the crate root re-exports: each compiled vendor's target and record types (from
        /// its module, if it has one), and its generated client crate under the vendor's id
        /// (`disconnect::<id>`).
        pub mod exports {
            pub use crate::target::GenericTarget;
            $(
                $(
                    #[cfg(feature = $feature)]
                    pub use super::$module::*;
                )?
                #[cfg(feature = $feature)]
                #[doc = concat!("The generated client crate `", stringify!($krate), "`.")]
                pub use $krate as $id;
            )*
        }

        /// One connection at one vendor, in the syntax `<vendor>:<id>`, each vendor's id in its
        /// own form: `tartan:<client_org>`, `persona:<connection-id>`,
        /// `leen:<organization_uuid>/<connection_uuid>`. A variant per vendor compiled in
        /// (cargo features), holding that vendor's target type.
        ///
        /// A `Target` is valid by construction: ids are non-empty, at most
        /// [`MAX_ID_BYTES`](crate::MAX_ID_BYTES) bytes, without control characters or surrounding
        /// whitespace, and of their vendor's form (an id that travels in a URL path holds none of
        /// `/ ? # %` and no `..`; UUIDs are UUIDs). No request is ever sent for input that fails
        /// these checks.
        ///
        /// ```
        /// use disconnect::Target;
        /// let t: Target = "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706".parse()?;
        /// assert_eq!(t.to_string(), "leen:0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e/6f1d2c3b-4a59-4e7f-8d6c-5b4a39281706");
        /// assert_eq!(t.vendor(), disconnect::Vendor::Leen);
        /// assert!("persona:cxn_1/../other".parse::<Target>().is_err());
        /// # Ok::<(), disconnect::TargetError>(())
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Target {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("A target at ", stringify!($variant), ".")]
                $variant($target),
            )*
        }

        impl Target {
            /// The vendor this target is at.
            pub fn vendor(&self) -> Vendor {
                match *self {
                    $(#[cfg(feature = $feature)] Target::$variant(_) => Vendor::$variant,)*
                }
            }

            /// The part after `vendor:`.
            pub fn id(&self) -> String {
                match *self {
                    $(#[cfg(feature = $feature)] Target::$variant(ref t) => VendorTarget::id(t),)*
                }
            }

            /// The values the target gives the request, in the order of the vendor table's
            /// parameters.
            pub(crate) fn values(&self) -> Vec<String> {
                match *self {
                    $(#[cfg(feature = $feature)] Target::$variant(ref t) => VendorTarget::values(t),)*
                }
            }

            /// The target for the text after `<vendor>:`.
            pub(crate) fn parse_id(vendor: Vendor, id: &str) -> Result<Target, TargetError> {
                match vendor {
                    $(
                        Vendor::$variant => {
                            #[cfg(feature = $feature)]
                            return <$target as VendorTarget>::parse(vendor, id).map(Target::$variant);
                            #[cfg(not(feature = $feature))]
                            return Err(TargetError::VendorNotCompiled { vendor, });
                        }
                    )*
                    // A vendor of a newer table not registered here (`Vendor` is
                    // non-exhaustive); `every_vendor_of_the_table_is_registered` keeps this
                    // crate's own table covered.
                    #[allow(unreachable_patterns)]
                    _ => Err(TargetError::VendorNotCompiled { vendor }),
                }
            }

            /// `<vendor>:<syntax>` of every compiled vendor.
            pub(crate) fn syntaxes() -> Vec<String> {
                #[allow(unused_mut)]
                let mut forms = Vec::new();
                $(
                    #[cfg(feature = $feature)]
                    forms.push(format!(
                        "{}:{}",
                        Vendor::$variant.id(),
                        Vendor::$variant.facts().operation.syntax
                    ));
                )*
                forms
            }
        }

        /// The vendor's own record of the result: a variant per vendor compiled in, holding
        /// what that vendor answered.
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum VendorRecord {
            $(
                #[cfg(feature = $feature)]
                #[doc = concat!("What ", stringify!($variant), " answered.")]
                $variant($record),
            )*
            /// The vendor's answer holds no record (a 409 without a body, or a NotFound taken as
            /// gone).
            None,
        }

        /// The adapter of one configured vendor.
        pub(crate) enum AnyAdapter {
            $(
                #[cfg(feature = $feature)]
                $variant($adapter),
            )*
        }

        impl AnyAdapter {
            /// The vendor's adapter, or why it cannot be built (a bad key or URL, or the
            /// vendor's feature compiled out).
            #[cfg_attr(not(all($(feature = $feature),*)), allow(unreachable_code))]
            pub(crate) fn connect(connect: Connect<'_>) -> Result<Self, ConfigError> {
                match connect.vendor {
                    $(
                        Vendor::$variant => {
                            #[cfg(feature = $feature)]
                            {
                                let client = client!($krate, connect)?;
                                let wire = generic::Generic::new(&connect, client, VendorRecord::$variant);
                                return Ok(Self::$variant(<$adapter as generic::Connects>::connect(&connect, wire)?));
                            }
                            #[cfg(not(feature = $feature))]
                            return Err(ConfigError::VendorNotCompiled {
                                vendor: connect.vendor,
                                feature: $feature,
                            });
                        }
                    )*
                    #[allow(unreachable_patterns)]
                    _ => Err(ConfigError::VendorNotCompiled {
                        vendor: connect.vendor,
                        feature: connect.vendor.id(),
                    }),
                }
            }
        }

        /// Whether the vendor's cargo feature is on.
        pub(crate) fn is_compiled(vendor: Vendor) -> bool {
            compiled_spec_sha256(vendor).is_some()
        }

        /// The sha256 of the spec the vendor's compiled client crate was generated from
        /// (`None`: the vendor's feature is off).
        pub(crate) fn compiled_spec_sha256(vendor: Vendor) -> Option<&'static str> {
            match vendor {
                $(
                    Vendor::$variant => {
                        #[cfg(feature = $feature)]
                        return Some($krate::spec::SHA256);
                        #[cfg(not(feature = $feature))]
                        return None;
                    }
                )*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }

        /// Run a raw response through the vendor's generated status dispatch and its adapter's
        /// classification (for the fuzzer); an uncompiled vendor's by status alone.
        pub(crate) async fn classify_response(
            vendor: Vendor,
            response: reqwest::Response,
        ) -> Classified {
            match vendor {
                $(
                    Vendor::$variant => {
                        #[cfg(feature = $feature)]
                        return generic::classify(
                            vendor,
                            response,
                            $krate::MAX_RESPONSE_BYTES,
                            VendorRecord::$variant,
                        )
                        .await;
                        #[cfg(not(feature = $feature))]
                        return untyped(response).await;
                    }
                )*
                #[allow(unreachable_patterns)]
                _ => untyped(response).await,
            }
        }

        #[cfg_attr(not(any($(feature = $feature),*)), allow(unused_variables))]
        impl Adapter for AnyAdapter {
            fn vendor(&self) -> Vendor {
                match *self {
                    $(#[cfg(feature = $feature)] Self::$variant(ref a) => a.vendor(),)*
                }
            }

            fn plan(&self, target: &Target, key: Option<&str>) -> PlannedRequest {
                match *self {
                    $(#[cfg(feature = $feature)] Self::$variant(ref a) => a.plan(target, key),)*
                }
            }

            async fn attempt(&self, target: &Target, key: Option<&str>) -> Classified {
                match *self {
                    $(
                        #[cfg(feature = $feature)]
                        Self::$variant(ref a) => a.attempt(target, key).await,
                    )*
                }
            }

            fn idempotency_key(&self, target: &Target) -> Option<String> {
                match *self {
                    $(#[cfg(feature = $feature)] Self::$variant(ref a) => a.idempotency_key(target),)*
                }
            }

            fn replays_under_key(&self, status: u16) -> bool {
                match *self {
                    $(#[cfg(feature = $feature)] Self::$variant(ref a) => a.replays_under_key(status),)*
                }
            }

            fn busy_retry(&self, busy_for: Duration) -> Option<Duration> {
                match *self {
                    $(#[cfg(feature = $feature)] Self::$variant(ref a) => a.busy_retry(busy_for),)*
                }
            }

        }
    };
}

// The registration list, generated from `specs/vendors.toml` by `cargo xtask generate`.
include!("registry.rs");

#[cfg(test)]
mod registration {
    use super::*;

    /// `Vendor` is non-exhaustive, so the registry's matches have a fallback arm; this keeps
    /// every vendor of the table registered (with every vendor's feature on).
    #[cfg(all(feature = "tartan", feature = "persona", feature = "leen"))]
    #[test]
    fn every_vendor_of_the_table_is_registered() {
        for vendor in Vendor::ALL {
            assert!(
                is_compiled(vendor),
                "{vendor} is in the table but not registered"
            );
            assert!(
                Target::parse_id(vendor, "")
                    .is_err_and(|e| !matches!(e, TargetError::VendorNotCompiled { .. })),
                "{vendor} has no target syntax"
            );
        }
    }
}
