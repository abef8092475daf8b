//! Passes over progenitor's output, each driven by the spec or by `vendors.toml`:
//!
//! - `api-version` header: removed unless `api_version_header = true`;
//! - multipart: methods of operations marked by `multipart_as_form` send a real
//!   `reqwest::multipart::Form` instead of a urlencoded body;
//! - extras generated from the spec: `servers` (named base URLs from `servers`), the
//!   `with_api_key` constructors (from `securitySchemes`) and `ConfigError`.

use std::collections::BTreeSet;

use anyhow::{Result, anyhow, bail};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;
use syn::visit_mut::{self, VisitMut};

use crate::config::VendorConfig;
use crate::transforms::{MULTIPART_EXTENSION, snake_case};

/// Split every `#[doc = "..."]` into one attribute per line, each starting with a space, so that
/// the printed code has ordinary `/// text` comments. (Prettyplease prints a multi-line doc
/// string as a `/** */` block whose indentation rustdoc then takes for a code block, and runs
/// as a doctest.)
pub fn split_doc_attributes(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Delimiter, Group, TokenTree};
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let (TokenTree::Punct(hash), Some(TokenTree::Group(group))) =
            (&trees[i], trees.get(i + 1))
            && hash.as_char() == '#'
            && group.delimiter() == Delimiter::Bracket
            && let Ok(syn::MetaNameValue {
                path,
                value: syn::Expr::Lit(lit),
                ..
            }) = syn::parse2::<syn::MetaNameValue>(group.stream())
            && path.is_ident("doc")
            && let syn::Lit::Str(text) = &lit.lit
        {
            for line in text.value().trim_end().lines() {
                let line = if line.is_empty() || line.starts_with(' ') {
                    line.to_string()
                } else {
                    format!(" {line}")
                };
                out.extend(quote! { #[doc = #line] });
            }
            i += 2;
            continue;
        }
        out.push(match &trees[i] {
            TokenTree::Group(g) => {
                let mut inner = Group::new(g.delimiter(), split_doc_attributes(g.stream()));
                inner.set_span(g.span());
                TokenTree::Group(inner)
            }
            other => other.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// Apply every pass to the parsed progenitor output.
pub fn apply(vendor: &VendorConfig, doc: &Value, file: &mut syn::File) -> Result<()> {
    if !vendor.api_version_header {
        let mut pass = RemoveApiVersion::default();
        pass.visit_file_mut(file);
    }
    let multipart = multipart_operations(doc);
    if !multipart.is_empty() {
        rewrite_multipart(file, &multipart)?;
    }
    let extras: syn::File = syn::parse2(split_doc_attributes(extras(
        vendor,
        doc,
        !multipart.is_empty(),
    )?))?;
    file.items.extend(extras.items);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// api-version
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct RemoveApiVersion {
    removed: usize,
}

impl VisitMut for RemoveApiVersion {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let before = block.stmts.len();
        block.stmts.retain(|stmt| !is_api_version_append(stmt));
        self.removed += before - block.stmts.len();
        visit_mut::visit_block_mut(self, block);
    }
}

fn is_api_version_append(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    call.method == "append"
        && call.args.first().is_some_and(|arg| {
            arg.to_token_stream()
                .to_string()
                .contains("\"api-version\"")
        })
}

// ---------------------------------------------------------------------------------------------
// multipart
// ---------------------------------------------------------------------------------------------

/// Operation ids marked by the `multipart_as_form` transform.
pub fn multipart_operations(doc: &Value) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for item in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            if op.get(MULTIPART_EXTENSION) == Some(&Value::Bool(true))
                && let Some(id) = op.get("operationId").and_then(Value::as_str)
            {
                ids.insert(id.to_string());
            }
        }
    }
    ids
}

/// The operation id a generated method sends in its `OperationInfo`.
pub fn operation_id_of(item: &syn::ImplItemFn) -> Option<String> {
    struct Find(Option<String>);
    impl<'a> syn::visit::Visit<'a> for Find {
        fn visit_expr_struct(&mut self, s: &'a syn::ExprStruct) {
            if s.path.is_ident("OperationInfo") {
                for field in &s.fields {
                    if let (syn::Member::Named(name), syn::Expr::Lit(lit)) =
                        (&field.member, &field.expr)
                        && name == "operation_id"
                        && let syn::Lit::Str(value) = &lit.lit
                    {
                        self.0 = Some(value.value());
                    }
                }
            }
            syn::visit::visit_expr_struct(self, s);
        }
    }
    let mut find = Find(None);
    syn::visit::Visit::visit_impl_item_fn(&mut find, item);
    find.0
}

struct FormToMultipart {
    replaced: usize,
}

impl VisitMut for FormToMultipart {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        visit_mut::visit_expr_mut(self, expr);
        let syn::Expr::Try(try_expr) = expr else {
            return;
        };
        let syn::Expr::MethodCall(call) = try_expr.expr.as_ref() else {
            return;
        };
        if call.method != "form_urlencoded" {
            return;
        }
        let receiver = &call.receiver;
        let body = &call.args;
        *expr = syn::parse_quote! { #receiver.multipart(multipart_form(#body)?) };
        self.replaced += 1;
    }
}

fn rewrite_multipart(file: &mut syn::File, operations: &BTreeSet<String>) -> Result<()> {
    let mut done = BTreeSet::new();
    for item in &mut file.items {
        let syn::Item::Impl(imp) = item else { continue };
        for item in &mut imp.items {
            let syn::ImplItem::Fn(method) = item else {
                continue;
            };
            // Progenitor's `OperationInfo` holds the id in snake_case.
            let Some(id) = operation_id_of(method).and_then(|id| {
                operations
                    .iter()
                    .find(|op| snake_case(op) == snake_case(&id))
                    .cloned()
            }) else {
                continue;
            };
            let mut pass = FormToMultipart { replaced: 0 };
            pass.visit_impl_item_fn_mut(method);
            if pass.replaced != 1 {
                bail!(
                    "operation `{id}`: expected one form body to turn into multipart, found {}",
                    pass.replaced
                );
            }
            done.insert(id);
        }
    }
    if let Some(missing) = operations.difference(&done).next() {
        bail!("operation `{missing}` is marked multipart but no generated method sends it");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// extras: servers, auth, ConfigError, multipart helper
// ---------------------------------------------------------------------------------------------

fn extras(vendor: &VendorConfig, doc: &Value, multipart: bool) -> Result<TokenStream> {
    let servers = servers(vendor, doc)?;
    let auth = auth(doc)?;
    let config_error = config_error();
    let multipart = multipart.then(multipart_helper);
    let cap = vendor.max_response_bytes.map(response_cap);
    Ok(quote! { #servers #config_error #auth #multipart #cap })
}

/// A `#[doc]` attribute (split into lines later by [`split_doc_attributes`]).
fn doc_lit(text: &str) -> TokenStream {
    quote! { #[doc = #text] }
}

fn servers(vendor: &VendorConfig, doc: &Value) -> Result<TokenStream> {
    let list = doc
        .get("servers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if list.is_empty() {
        return Ok(quote! {});
    }
    if !vendor.server_names.is_empty() && vendor.server_names.len() != list.len() {
        bail!(
            "`server_names` in vendors.toml has {} names for {} servers in the spec",
            vendor.server_names.len(),
            list.len()
        );
    }
    let mut items = Vec::new();
    let mut default_url = None;
    for (i, server) in list.iter().enumerate() {
        let url = server
            .get("url")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("server {i} has no url"))?;
        let name = vendor
            .server_names
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("server_{i}"));
        let name = snake_case(&name);
        let description = server
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let vars = server
            .get("variables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut with_defaults = url.to_string();
        for (var, spec) in &vars {
            let default = spec
                .get("default")
                .and_then(Value::as_str)
                .unwrap_or_default();
            with_defaults = with_defaults.replace(&format!("{{{var}}}"), default);
        }
        default_url.get_or_insert_with(|| with_defaults.clone());
        let const_ident = format_ident!("{}", name.to_uppercase());
        if vars.is_empty() {
            let doc = doc_lit(&format!("`{url}`: {description}"));
            items.push(quote! { #doc pub const #const_ident: &str = #url; });
            continue;
        }
        let fn_ident = format_ident!("{}", name);
        let default_ident = format_ident!("{}_DEFAULT", name.to_uppercase());
        let params: Vec<_> = vars
            .keys()
            .map(|v| format_ident!("{}", snake_case(v)))
            .collect();
        let checks = vars.iter().zip(&params).map(|((var, spec), ident)| {
            let allowed: Vec<String> = spec
                .get("enum")
                .and_then(Value::as_array)
                .map(|e| e.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                .unwrap_or_default();
            let enum_check = (!allowed.is_empty()).then(|| quote! { || ![#(#allowed),*].contains(&#ident) });
            quote! {
                if #ident.is_empty()
                    || !#ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    #enum_check
                {
                    return Err(ConfigError::InvalidServerVariable { name: #var, value: #ident.to_string() });
                }
                url = url.replace(concat!("{", #var, "}"), #ident);
            }
        });
        let var_docs: Vec<String> = vars
            .iter()
            .map(|(var, spec)| {
                let default = spec
                    .get("default")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                format!("- `{var}` (default `{default}`)")
            })
            .collect();
        let fn_doc = doc_lit(&format!(
            "`{url}`: {description}\n\nVariables, each a non-empty run of ASCII letters, digits and `-` \
             (anything else could change the host):\n{}",
            var_docs.join("\n")
        ));
        let default_doc = doc_lit(&format!(
            "`{url}` with every variable at its default: `{with_defaults}`."
        ));
        items.push(quote! {
            #fn_doc
            pub fn #fn_ident(#(#params: &str),*) -> Result<String, ConfigError> {
                let mut url = String::from(#url);
                #(#checks)*
                Ok(url)
            }
            #default_doc
            pub const #default_ident: &str = #with_defaults;
        });
    }
    let default_url = default_url.unwrap_or_default();
    Ok(quote! {
        /// Base URLs from the spec's `servers`, named in `specs/vendors.toml`.
        pub mod servers {
            #[allow(unused_imports)]
            use super::ConfigError;
            #(#items)*
            /// The spec's first server, with its variables at their defaults.
            pub const DEFAULT: &str = #default_url;
        }
    })
}

/// The security scheme every operation uses, as (scheme name, header name, value prefix).
fn security_scheme(doc: &Value) -> Result<Option<(String, String, String)>> {
    let mut used = BTreeSet::new();
    let global = doc
        .get("security")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for item in doc
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.values())
    {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            if op.get("responses").is_none() {
                continue; // not an operation
            }
            let requirements = op
                .get("security")
                .and_then(Value::as_array)
                .unwrap_or(&global);
            for requirement in requirements {
                for name in requirement.as_object().into_iter().flat_map(|r| r.keys()) {
                    used.insert(name.clone());
                }
            }
        }
    }
    let mut used = used.into_iter();
    let Some(name) = used.next() else {
        return Ok(None);
    };
    if let Some(other) = used.next() {
        bail!("operations use more than one security scheme (`{name}`, `{other}`); not supported");
    }
    let scheme = doc
        .pointer(&format!("/components/securitySchemes/{name}"))
        .ok_or_else(|| anyhow!("security scheme `{name}` is not in components.securitySchemes"))?;
    let kind = scheme
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (header, prefix) = match kind {
        "apiKey" => {
            if scheme.get("in").and_then(Value::as_str) != Some("header") {
                bail!("security scheme `{name}`: only API keys sent in a header are supported");
            }
            let header = scheme
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (header.to_ascii_lowercase(), String::new())
        }
        "http"
            if scheme
                .get("scheme")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("bearer")) =>
        {
            ("authorization".to_string(), "Bearer ".to_string())
        }
        other => bail!("security scheme `{name}` of type `{other}` is not supported"),
    };
    if header.is_empty()
        || !header
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        bail!("security scheme `{name}`: `{header}` is not a valid header name");
    }
    Ok(Some((name, header, prefix)))
}

fn auth(doc: &Value) -> Result<TokenStream> {
    let Some((scheme, header, prefix)) = security_scheme(doc)? else {
        return Ok(quote! {});
    };
    let shown = if prefix.is_empty() {
        format!("`{header}: <api key>`")
    } else {
        format!("`{header}: {prefix}<api key>`")
    };
    let with_doc = doc_lit(&format!(
        "Create a client that authenticates every request with {shown} (security scheme `{scheme}`).\n\n\
         The key is held by reqwest as a sensitive header value, so it is redacted from `Debug` \
         output; redirects are not followed, so it is never sent to another host. Timeouts: 10 s to \
         connect, 30 s per request. Use [`Client::with_api_key_and_builder`] for other settings."
    ));
    let header_doc = doc_lit(&format!(
        "The header that carries the API key (security scheme `{scheme}`)."
    ));
    Ok(quote! {
        impl Client {
            #header_doc
            pub const API_KEY_HEADER: &'static str = #header;

            #with_doc
            pub fn with_api_key(
                baseurl: &str,
                api_key: impl Into<secrecy::SecretString>,
            ) -> Result<Self, ConfigError> {
                let builder = reqwest::ClientBuilder::new()
                    .connect_timeout(::std::time::Duration::from_secs(10))
                    .timeout(::std::time::Duration::from_secs(30));
                Self::with_api_key_and_builder(baseurl, api_key, builder)
            }

            /// Like [`Client::with_api_key`], with a `reqwest::ClientBuilder` of the caller's
            /// (timeouts, proxies, TLS roots). Its default headers are replaced by the
            /// authentication header and its redirect policy by "never follow".
            pub fn with_api_key_and_builder(
                baseurl: &str,
                api_key: impl Into<secrecy::SecretString>,
                builder: reqwest::ClientBuilder,
            ) -> Result<Self, ConfigError> {
                let baseurl = checked_baseurl(baseurl)?;
                let headers = Self::auth_headers(&api_key.into())?;
                let client = builder
                    .default_headers(headers)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(ConfigError::Http)?;
                Ok(Self::new_with_client(&baseurl, client))
            }

            /// The header map that authenticates a request with `api_key`, the value marked
            /// sensitive. For callers who build their own `reqwest::Client`.
            pub fn auth_headers(
                api_key: &secrecy::SecretString,
            ) -> Result<::reqwest::header::HeaderMap, ConfigError> {
                use secrecy::ExposeSecret;
                let key = api_key.expose_secret();
                // API keys are tokens of visible ASCII; anything else is a paste accident.
                if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ConfigError::InvalidApiKey);
                }
                let mut value = ::reqwest::header::HeaderValue::from_str(&format!("{}{}", #prefix, key))
                    .map_err(|_| ConfigError::InvalidApiKey)?;
                value.set_sensitive(true);
                let mut headers = ::reqwest::header::HeaderMap::with_capacity(1);
                headers.insert(::reqwest::header::HeaderName::from_static(#header), value);
                Ok(headers)
            }
        }

        /// `baseurl` without a trailing `/`, if it is an absolute `http`/`https` URL with a host
        /// and no query or fragment.
        fn checked_baseurl(baseurl: &str) -> Result<String, ConfigError> {
            let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
                url: baseurl.to_string(),
                reason: reason.to_string(),
            };
            let url = reqwest::Url::parse(baseurl).map_err(|e| invalid(&e.to_string()))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(invalid("the scheme must be http or https"));
            }
            if url.host_str().is_none_or(str::is_empty) {
                return Err(invalid("there is no host"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(invalid("a base URL takes no query or fragment"));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(invalid("credentials in the URL are not accepted; use the API key"));
            }
            Ok(baseurl.trim_end_matches('/').to_string())
        }
    })
}

fn config_error() -> TokenStream {
    quote! {
        /// Why a client could not be configured. Never contains the API key.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum ConfigError {
            /// The API key is empty or holds something other than visible ASCII (spaces,
            /// control characters, non-ASCII). The key itself is not shown.
            InvalidApiKey,
            /// The base URL is not usable.
            InvalidBaseUrl {
                /// The URL as given.
                url: String,
                /// What is wrong with it.
                reason: String,
            },
            /// A server URL variable holds a value that could change the host.
            InvalidServerVariable {
                /// The variable's name in the spec.
                name: &'static str,
                /// The value given.
                value: String,
            },
            /// reqwest could not build its HTTP client.
            Http(reqwest::Error),
        }

        impl ::std::fmt::Display for ConfigError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    Self::InvalidApiKey => f.write_str(
                        "invalid API key: it is empty or holds characters other than visible ASCII",
                    ),
                    Self::InvalidBaseUrl { url, reason } => write!(f, "invalid base URL `{url}`: {reason}"),
                    Self::InvalidServerVariable { name, value } => {
                        write!(f, "invalid value `{value}` for server variable `{name}`")
                    }
                    Self::Http(e) => write!(f, "cannot build the HTTP client: {e}"),
                }
            }
        }

        impl ::std::error::Error for ConfigError {
            fn source(&self) -> Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    Self::Http(e) => Some(e),
                    _ => None,
                }
            }
        }
    }
}

/// `ClientHooks` for `Client` (which takes precedence over progenitor's blanket impl for
/// `&Client`) whose `exec` reads at most `max + 1` bytes of any response body. A longer body is
/// cut there, so it fails to decode: `Error::InvalidResponsePayload` with more than
/// [`MAX_RESPONSE_BYTES`] bytes means "too large", and nothing larger is ever held in memory.
fn response_cap(max: usize) -> TokenStream {
    let doc = doc_lit(&format!(
        "The most bytes of a response body the client reads ({max}). A longer body is cut after \
         `MAX_RESPONSE_BYTES + 1` bytes and so fails to decode \
         (`Error::InvalidResponsePayload` holding more than `MAX_RESPONSE_BYTES` bytes)."
    ));
    quote! {
        #doc
        pub const MAX_RESPONSE_BYTES: usize = #max;

        impl ClientHooks<()> for Client {
            async fn exec(
                &self,
                request: reqwest::Request,
                _info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                let response = self.client.execute(request).await?;
                read_capped(response, MAX_RESPONSE_BYTES).await
            }
        }

        /// Read at most `max + 1` bytes of the body and hand back an equivalent response. A
        /// response that declares a `Content-Length` within the cap is passed on untouched
        /// (hyper never yields more than the declared length).
        async fn read_capped(
            mut response: reqwest::Response,
            max: usize,
        ) -> reqwest::Result<reqwest::Response> {
            if response.content_length().is_some_and(|len| len <= max as u64) {
                return Ok(response);
            }
            let mut builder = ::http::Response::builder()
                .status(response.status())
                .version(response.version());
            if let Some(headers) = builder.headers_mut() {
                *headers = response.headers().clone();
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await? {
                let room = (max + 1).saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() > max {
                    break;
                }
            }
            let rebuilt = builder.body(body).expect("status, version and headers come from a valid response");
            Ok(reqwest::Response::from(rebuilt))
        }
    }
}

fn multipart_helper() -> TokenStream {
    quote! {
        /// Build a `multipart/form-data` body from a request type of scalar fields: one text
        /// part per field that is set, named as in the spec.
        fn multipart_form<T: serde::Serialize + ?Sized, E>(
            body: &T,
        ) -> Result<reqwest::multipart::Form, Error<E>> {
            let value = serde_json::to_value(body)
                .map_err(|e| Error::InvalidRequest(format!("cannot serialize the multipart body: {e}")))?;
            let serde_json::Value::Object(fields) = value else {
                return Err(Error::InvalidRequest("the multipart body is not an object".to_string()));
            };
            let mut form = reqwest::multipart::Form::new();
            for (name, value) in fields {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Bool(_) | serde_json::Value::Number(_) => value.to_string(),
                    _ => {
                        return Err(Error::InvalidRequest(format!(
                            "multipart field `{name}` is not a scalar"
                        )));
                    }
                };
                form = form.text(name, text);
            }
            Ok(form)
        }
    }
}
