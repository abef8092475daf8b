//! Passes over progenitor's output, each driven by the spec or by `vendors.toml`. Every pass
//! that rewrites progenitor's code checks that it matched what it expected, and fails
//! generation with a message naming the pass when it did not (a progenitor upgrade that changes
//! its output must not make a pass silently do nothing):
//!
//! - `api-version` header: removed unless `api_version_header = true`;
//! - multipart: methods of operations marked by `multipart_as_form` send a real
//!   `reqwest::multipart::Form` instead of a urlencoded body;
//! - responses: each operation's status dispatch moves to `responses::<operation>`, decodes
//!   through `disconnect_client_runtime` (status and headers kept when a body does not decode),
//!   and gets one arm per documented error status, into the operation's error enum
//!   `types::<Operation>Error` (one variant per status, from `split_error_responses`);
//! - open enums: every string enum reachable from a response gets an `Unknown` variant;
//! - parsed base URL: `Client` keeps its base URL parsed, and each request's URL is joined to it
//!   (`disconnect_client_runtime::request_to`) instead of parsed whole on every request;
//! - extras generated from the spec: `servers` (named base URLs from `servers`), the
//!   `with_api_key` constructors (from `securitySchemes`), `operations` (what the spec
//!   documents per operation) and the response size cap. What does not come from a spec lives
//!   in the `disconnect-client-runtime` crate, which the generated code calls.

use std::collections::BTreeSet;

use anyhow::{Context, Result, anyhow, bail};
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use serde_json::Value;
use syn::visit_mut::{self, VisitMut};

use crate::config::VendorConfig;
use crate::transforms::{
    ErrorStatus, MULTIPART_EXTENSION, error_statuses, pascal_case, snake_case,
};

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
    let operations = operations(doc)?;
    if !vendor.api_version_header {
        let mut pass = RemoveApiVersion::default();
        pass.visit_file_mut(file);
        if pass.removed != operations.len() {
            bail!(
                "pass `api-version`: expected to remove one `api-version` header per operation ({}), removed {}",
                operations.len(),
                pass.removed
            );
        }
    }
    let multipart = multipart_operations(doc);
    if !multipart.is_empty() {
        rewrite_multipart(file, &multipart)?;
    }
    let success_types = rewrite_responses(file, &operations).context("pass `responses`")?;
    let roots = add_error_enums(file, &operations, &success_types).context("pass `error enums`")?;
    open_response_enums(file, &roots).context("pass `open enums`")?;
    non_exhaustive_structs(file).context("pass `non-exhaustive structs`")?;
    parsed_base_url(file, operations.len()).context("pass `parsed base URL`")?;
    derives_behind_features(file, vendor).context("pass `feature derives`")?;
    ConversionMessages.visit_file_mut(file);
    if security_scheme(doc)?.is_some() {
        warn_on_unauthenticated_new(file).context("pass `Client::new` docs")?;
    }
    let extras: syn::File = syn::parse2(split_doc_attributes(extras(vendor, doc, &operations)?))?;
    file.items.extend(extras.items);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Client::new docs
// ---------------------------------------------------------------------------------------------

/// progenitor's `Client::new` builds a client with reqwest's defaults: no key, and redirects
/// followed. Its docs say so and point to the constructors that send a key safely.
fn warn_on_unauthenticated_new(file: &mut syn::File) -> Result<()> {
    let new = file
        .items
        .iter_mut()
        .filter_map(|item| match item {
            syn::Item::Impl(i) if compact(&i.self_ty) == "Client" && i.trait_.is_none() => Some(i),
            _ => None,
        })
        .flat_map(|i| i.items.iter_mut())
        .find_map(|item| match item {
            syn::ImplItem::Fn(f) if f.sig.ident == "new" => Some(f),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no `Client::new`"))?;
    new.attrs.push(syn::parse_quote! {
        #[doc = ""]
    });
    new.attrs.push(syn::parse_quote! {
        #[doc = " It sends no API key and follows redirects as reqwest does by default (up to 10 \
                  hops, to any host). To authenticate, use `Client::with_api_key` (or \
                  `with_api_key_and_builder`, `with_api_key_and_client`), which never follows a \
                  redirect, so the key never reaches another host."]
    });
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// conversion messages
// ---------------------------------------------------------------------------------------------

/// progenitor's builder setters say ``conversion to `:: uuid :: Uuid` for organization_id
/// failed``; this says what was wrong, in the parameter's words: `organization_id: not a UUID`.
struct ConversionMessages;

/// The message for `param` whose value did not convert into `ty` (as progenitor prints it).
fn conversion_message(ty: &str, param: &str) -> String {
    let ty: String = ty.chars().filter(|c| !c.is_whitespace()).collect();
    let what = match ty.trim_start_matches("::") {
        "uuid::Uuid" => "not a UUID (e.g. 0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e)".to_string(),
        "std::string::String" => "not a string".to_string(),
        t if t.starts_with("chrono::DateTime") => "not an RFC 3339 date-time".to_string(),
        t => format!("not a valid `{}`", t.rsplit("::").next().unwrap_or(t)),
    };
    format!("{param}: {what}")
}

impl VisitMut for ConversionMessages {
    fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
        let text = lit.value();
        if let Some(rest) = text.strip_prefix("conversion to `")
            && let Some((ty, tail)) = rest.split_once("` for ")
            && let Some(param) = tail.strip_suffix(" failed")
        {
            *lit = syn::LitStr::new(&conversion_message(ty, param), lit.span());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// derives behind features
// ---------------------------------------------------------------------------------------------

/// Each derive of `feature_derives` moves out of `#[derive(...)]` into
/// `#[cfg_attr(feature = "<feature>", derive(...))]`.
fn derives_behind_features(file: &mut syn::File, vendor: &VendorConfig) -> Result<()> {
    if vendor.feature_derives.is_empty() {
        return Ok(());
    }
    let mut pass = FeatureDerives {
        features: vendor
            .feature_derives
            .iter()
            .flat_map(|(f, paths)| paths.iter().map(move |p| (p.replace(' ', ""), f.clone())))
            .collect(),
        moved: 0,
    };
    pass.visit_file_mut(file);
    if pass.moved == 0 {
        bail!(
            "no generated type derives any of {:?}",
            vendor.feature_derives
        );
    }
    Ok(())
}

struct FeatureDerives {
    /// Derive path (without spaces) → feature.
    features: Vec<(String, String)>,
    moved: usize,
}

impl FeatureDerives {
    fn rewrite(&mut self, attrs: &mut Vec<syn::Attribute>) {
        let mut gated: Vec<syn::Attribute> = Vec::new();
        for attr in attrs.iter_mut() {
            if !attr.path().is_ident("derive") {
                continue;
            }
            let Ok(paths) = attr.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            ) else {
                continue;
            };
            let mut kept = syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::new();
            for path in paths {
                let text = compact(&path);
                let text = text.trim_start_matches("::");
                match self
                    .features
                    .iter()
                    .find(|(p, _)| p.trim_start_matches("::") == text)
                {
                    Some((_, feature)) => {
                        gated.push(syn::parse_quote! {
                            #[cfg_attr(feature = #feature, derive(#path))]
                        });
                        self.moved += 1;
                    }
                    None => kept.push(path),
                }
            }
            *attr = syn::parse_quote! { #[derive(#kept)] };
        }
        attrs.extend(gated);
    }
}

impl VisitMut for FeatureDerives {
    fn visit_item_struct_mut(&mut self, item: &mut syn::ItemStruct) {
        self.rewrite(&mut item.attrs);
        visit_mut::visit_item_struct_mut(self, item);
    }

    fn visit_item_enum_mut(&mut self, item: &mut syn::ItemEnum) {
        self.rewrite(&mut item.attrs);
        visit_mut::visit_item_enum_mut(self, item);
    }
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
        *expr = syn::parse_quote! { #receiver.multipart(::disconnect_client_runtime::multipart_form(#body)?) };
        self.replaced += 1;
    }
}

/// Calls `f(depth, method)` for every method of every `impl` block, in the file and in its
/// modules (`depth` 0 at the top, 1 in `mod builder`, ...): with the builder interface,
/// progenitor sends requests from `builder::<Operation>::send`.
fn for_each_method(
    items: &mut [syn::Item],
    depth: usize,
    f: &mut dyn FnMut(usize, &mut syn::ImplItemFn) -> Result<()>,
) -> Result<()> {
    for item in items {
        match item {
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                for item in &mut imp.items {
                    if let syn::ImplItem::Fn(method) = item {
                        f(depth, method)?;
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = m.content.as_mut() {
                    for_each_method(items, depth + 1, f)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn rewrite_multipart(file: &mut syn::File, operations: &BTreeSet<String>) -> Result<()> {
    let mut done = BTreeSet::new();
    for_each_method(&mut file.items, 0, &mut |_, method| {
        // Progenitor's `OperationInfo` holds the id in snake_case.
        let Some(id) = operation_id_of(method).and_then(|id| {
            operations
                .iter()
                .find(|op| snake_case(op) == snake_case(&id))
                .cloned()
        }) else {
            return Ok(());
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
        Ok(())
    })?;
    if let Some(missing) = operations.difference(&done).next() {
        bail!("operation `{missing}` is marked multipart but no generated method sends it");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// parsed base URL
// ---------------------------------------------------------------------------------------------

/// `Client` gets a `base` field (its `baseurl` parsed once, in `new_with_client`), and each
/// operation's `client.client.<method>(url)` becomes `disconnect_client_runtime::request_to`,
/// which sets the operation's path on a copy of the parsed base rather than having `reqwest`
/// parse the whole URL (scheme, host through IDNA) on every request.
fn parsed_base_url(file: &mut syn::File, operations: usize) -> Result<()> {
    let client = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Struct(s) if s.ident == "Client" => Some(s),
            _ => None,
        })
        .ok_or_else(|| anyhow!("no `struct Client`"))?;
    let syn::Fields::Named(fields) = &mut client.fields else {
        bail!("`Client` has no named fields");
    };
    if !fields
        .named
        .iter()
        .any(|f| f.ident.as_ref().is_some_and(|i| i == "baseurl"))
    {
        bail!("`Client` has no `baseurl` field");
    }
    fields.named.push(syn::parse_quote! {
        #[doc = " `baseurl`, parsed once (`None` when it does not parse; requests then say so)."]
        pub(crate) base: ::std::option::Option<::reqwest::Url>
    });
    fields.named.push(syn::parse_quote! {
        #[doc = " Headers added to every request (the API key with a caller's `reqwest::Client`, and the caller's own)."]
        pub(crate) request_headers: ::reqwest::header::HeaderMap
    });
    let mut pass = ParsedBase::default();
    pass.visit_file_mut(file);
    if pass.constructors != 1 {
        bail!(
            "expected one `Self {{ baseurl, client }}` constructor, found {}",
            pass.constructors
        );
    }
    if pass.requests != operations {
        bail!(
            "expected one `client.client.<method>(url)` per operation ({operations}), found {}",
            pass.requests
        );
    }
    Ok(())
}

#[derive(Default)]
struct ParsedBase {
    constructors: usize,
    requests: usize,
}

impl VisitMut for ParsedBase {
    fn visit_expr_struct_mut(&mut self, e: &mut syn::ExprStruct) {
        let names: Vec<String> = e.fields.iter().map(|f| compact(&f.member)).collect();
        if e.path.is_ident("Self") && names == ["baseurl", "client"] {
            e.fields.push(syn::parse_quote! {
                base: ::disconnect_client_runtime::parse_base_url(baseurl)
            });
            e.fields.push(syn::parse_quote! {
                request_headers: ::reqwest::header::HeaderMap::new()
            });
            self.constructors += 1;
        }
        visit_mut::visit_expr_struct_mut(self, e);
    }

    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        visit_mut::visit_expr_mut(self, e);
        if let syn::Expr::MethodCall(call) = e
            && compact(&call.receiver) == "client.client"
            && call.args.len() == 1
            && compact(&call.args[0]) == "url"
        {
            let method = call.method.to_string().to_ascii_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
                .contains(&method.as_str())
            {
                return;
            }
            let method = format_ident!("{method}");
            *e = syn::parse_quote! {
                ::disconnect_client_runtime::request_to(
                    &client.client,
                    ::reqwest::Method::#method,
                    &client.baseurl,
                    client.base.as_ref(),
                    url,
                )
            };
            self.requests += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// extras: servers, auth, ConfigError, multipart helper
// ---------------------------------------------------------------------------------------------

fn extras(vendor: &VendorConfig, doc: &Value, operations: &[OperationSpec]) -> Result<TokenStream> {
    let servers = servers(vendor, doc)?;
    let auth = auth(doc)?;
    let cap = vendor.max_response_bytes.map(response_cap);
    let operations = operations_module(operations);
    Ok(quote! {
        pub use ::disconnect_client_runtime::{
            ConfigError, Operation, UndecodableBody, UnexpectedStatus, UnknownValue,
        };
        #servers #auth #cap #operations
    })
}

/// A `#[doc]` attribute (split into lines later by [`split_doc_attributes`]).
fn doc_lit(text: &str) -> TokenStream {
    quote! { #[doc = #text] }
}

/// The spec's first server's URL with every variable at its default (`None`: no servers).
pub fn default_server_url(doc: &Value) -> Option<String> {
    url_with_defaults(doc.get("servers")?.as_array()?.first()?)
}

/// A server's URL with every variable at its default (`None`: no `url`).
fn url_with_defaults(server: &Value) -> Option<String> {
    let mut url = server.get("url")?.as_str()?.to_string();
    for (var, spec) in server
        .get("variables")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let default = spec
            .get("default")
            .and_then(Value::as_str)
            .unwrap_or_default();
        url = url.replace(&format!("{{{var}}}"), default);
    }
    Some(url)
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
        let with_defaults = url_with_defaults(server).unwrap_or_default();
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
                .map(|e| {
                    e.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            quote! {
                ::disconnect_client_runtime::server_variable(#var, #ident, &[#(#allowed),*])?;
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
    let default_url = default_server_url(doc).unwrap_or_default();
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
pub fn security_scheme(doc: &Value) -> Result<Option<(String, String, String)>> {
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
         connect, 30 s per request; `User-Agent`: [`USER_AGENT`]. Use \
         [`Client::with_api_key_and_builder`] or [`Client::with_api_key_and_client`] for other \
         settings."
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
                Self::with_api_key_and_builder(
                    baseurl,
                    api_key,
                    ::disconnect_client_runtime::client_builder(USER_AGENT),
                )
            }

            /// Like [`Client::with_api_key`], with a `reqwest::ClientBuilder` of the caller's
            /// (timeouts, proxies, TLS roots, a DNS resolver). The authentication header is
            /// added to its default headers (reqwest merges them: the builder's others are
            /// kept), and its redirect policy is replaced by "never follow". It sends the
            /// builder's `User-Agent`, none if it sets none:
            /// [`disconnect_client_runtime::client_builder`]`(`[`USER_AGENT`]`)` is the builder
            /// `with_api_key` starts from.
            pub fn with_api_key_and_builder(
                baseurl: &str,
                api_key: impl Into<secrecy::SecretString>,
                builder: reqwest::ClientBuilder,
            ) -> Result<Self, ConfigError> {
                let (baseurl, client) = ::disconnect_client_runtime::api_key_client(
                    baseurl,
                    Self::API_KEY_HEADER,
                    #prefix,
                    &api_key.into(),
                    builder,
                )?;
                Ok(Self::new_with_client(&baseurl, client))
            }

            /// A client around a `reqwest::Client` of the caller's (shared with the rest of an
            /// application, say): the API key is added to each request, marked sensitive.
            ///
            /// **The client must not follow redirects**: reqwest forwards a custom header such
            /// as the API key to whatever host a redirect names, and a built `reqwest::Client`
            /// can neither be asked nor told per request whether it follows them. Build it from
            /// [`disconnect_client_runtime::client_builder`], or with
            /// `.redirect(reqwest::redirect::Policy::none())`; a redirect then reaches you as
            /// an answer with its 3xx status. Its timeouts, `User-Agent`, proxies and TLS
            /// settings are used as they are.
            pub fn with_api_key_and_client(
                baseurl: &str,
                api_key: impl Into<secrecy::SecretString>,
                client: reqwest::Client,
            ) -> Result<Self, ConfigError> {
                let baseurl = ::disconnect_client_runtime::checked_baseurl(baseurl)?;
                let auth = Self::auth_headers(&api_key.into())?;
                let mut this = Self::new_with_client(&baseurl, client);
                this.request_headers = auth;
                Ok(this)
            }

            /// Headers sent with every request (`traceparent`, a gateway's routing header), each
            /// replacing a header of the same name the request would carry; the API key's
            /// header is never replaced.
            pub fn with_headers(mut self, headers: ::reqwest::header::HeaderMap) -> Self {
                ::disconnect_client_runtime::replace_headers(
                    &mut self.request_headers,
                    &headers,
                    Some(Self::API_KEY_HEADER),
                );
                self
            }

            /// The header map that authenticates a request with `api_key`, the value marked
            /// sensitive. For callers who build their own `reqwest::Client` and requests
            /// (prefer [`Client::with_api_key_and_client`]): set it per request, not as the
            /// client's default headers unless the client never follows redirects — reqwest
            /// forwards a custom header like this one to the host a redirect names.
            pub fn auth_headers(
                api_key: &secrecy::SecretString,
            ) -> Result<::reqwest::header::HeaderMap, ConfigError> {
                ::disconnect_client_runtime::auth_headers(Self::API_KEY_HEADER, #prefix, api_key)
            }
        }
    })
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

        /// The `User-Agent` of a client built by `with_api_key`: this crate's name and version.
        pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

        impl ClientHooks<()> for Client {
            async fn exec(
                &self,
                request: reqwest::Request,
                _info: &OperationInfo,
            ) -> reqwest::Result<reqwest::Response> {
                ::disconnect_client_runtime::execute(
                    &self.client,
                    request,
                    &self.request_headers,
                    MAX_RESPONSE_BYTES,
                )
                .await
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// operations: what the spec documents, read once for every pass
// ---------------------------------------------------------------------------------------------

/// One operation of the (transformed) spec.
#[derive(Debug, Clone)]
pub struct OperationSpec {
    /// `operationId` as in the spec.
    pub id: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Documented 1xx–3xx statuses (left to progenitor), ascending.
    pub success: Vec<u16>,
    /// Documented error statuses, from `split_error_responses`.
    pub errors: Vec<ErrorStatus>,
}

impl OperationSpec {
    /// `<OperationId>Error`, the operation's error enum in `types`.
    pub fn error_enum(&self) -> syn::Ident {
        format_ident!("{}Error", pascal_case(&self.id))
    }

    /// The generated method's (and `responses` function's) name.
    pub fn method_ident(&self) -> syn::Ident {
        format_ident!("{}", snake_case(&self.id))
    }
}

/// Every operation of the document, in document order.
pub fn operations(doc: &Value) -> Result<Vec<OperationSpec>> {
    let mut out = Vec::new();
    for (path, method, _, op) in crate::transforms::operations_in(doc) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else {
            continue;
        };
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{} {path}: no operationId", method.to_uppercase()))?;
        let mut success: Vec<u16> = responses.keys().filter_map(|s| s.parse().ok()).collect();
        success.sort_unstable();
        out.push(OperationSpec {
            id: id.to_string(),
            method: method.to_uppercase(),
            path: path.to_string(),
            success,
            errors: error_statuses(op).with_context(|| format!("operation `{id}`"))?,
        });
    }
    Ok(out)
}

fn types_module(file: &mut syn::File) -> Result<&mut Vec<syn::Item>> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .ok_or_else(|| anyhow!("progenitor generated no `types` module"))
}

/// Names of the items (structs, enums, type aliases) of the `types` module.
fn type_names(items: &[syn::Item]) -> BTreeSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s) => Some(s.ident.to_string()),
            syn::Item::Enum(e) => Some(e.ident.to_string()),
            syn::Item::Type(t) => Some(t.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Token text without spaces, for comparing small expressions.
fn compact(tokens: &impl ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

// ---------------------------------------------------------------------------------------------
// responses
// ---------------------------------------------------------------------------------------------

/// The first type argument of the last segment of `ty` when that segment is `name`.
fn type_argument<'a>(ty: &'a mut syn::Type, name: &str, index: usize) -> Option<&'a mut syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last_mut()?;
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments else {
        return None;
    };
    match args.args.iter_mut().nth(index)? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

/// `match response.status().as_u16() { .. }`
fn is_status_match(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Match(m) if compact(&m.expr) == "response.status().as_u16()")
}

/// Moves each operation's status dispatch into `responses::<operation>`, decoding successes
/// with `decode_success` and every documented error status into the operation's error enum.
/// Returns the success type `T` of each operation.
fn rewrite_responses(file: &mut syn::File, operations: &[OperationSpec]) -> Result<Vec<syn::Type>> {
    let mut functions: Vec<TokenStream> = Vec::new();
    let mut success_types = Vec::new();
    for_each_method(&mut file.items, 0, &mut |depth, method| {
        let Some(id) = operation_id_of(method) else {
            return Ok(());
        };
        let op = operations
            .iter()
            .find(|op| snake_case(&op.id) == snake_case(&id))
            .ok_or_else(|| anyhow!("generated method for unknown operation `{id}`"))?;
        let error_enum = op.error_enum();
        let syn::ReturnType::Type(_, ret) = &mut method.sig.output else {
            bail!("operation `{id}`: the method returns nothing");
        };
        let shape =
            || anyhow!("operation `{id}`: return type is not `Result<ResponseValue<T>, Error<E>>`");
        let ok = type_argument(
            type_argument(ret, "Result", 0).ok_or_else(shape)?,
            "ResponseValue",
            0,
        )
        .ok_or_else(shape)?
        .clone();
        let err = type_argument(
            type_argument(ret, "Result", 1).ok_or_else(shape)?,
            "Error",
            0,
        )
        .ok_or_else(shape)?;
        if compact(err) != "()" {
            bail!(
                "operation `{id}`: progenitor still sees error responses (`Error<{}>`); \
                 split_error_responses should have taken them",
                compact(err)
            );
        }
        *err = syn::parse_quote! { types::#error_enum };

        let Some(syn::Stmt::Expr(tail, None)) = method.block.stmts.last_mut() else {
            bail!("operation `{id}`: the method does not end in its status dispatch");
        };
        if !is_status_match(tail) {
            bail!(
                "operation `{id}`: the method does not end in `match response.status().as_u16()`"
            );
        }
        let ident = op.method_ident();
        let up = (0..depth).map(|_| quote! { super:: });
        let replaced = std::mem::replace(
            tail,
            syn::parse_quote! { #(#up)* responses::#ident(response).await },
        );
        let syn::Expr::Match(mut dispatch) = replaced else {
            bail!("operation `{id}`: the status dispatch is not a match");
        };
        rewrite_arms(op, &mut dispatch)?;
        let doc = doc_lit(&format!(
            "Decode an answer to `{}` (`{} {}`) as the client does: \
             documented successes into their type, documented error statuses into \
             [`types::{error_enum}`] (a body that does not decode into its `Undecodable` variant, \
             status and headers kept), any other status into its `UnexpectedStatus` variant \
             (status, headers and a body excerpt kept). For tests, replays and custom transports.",
            op.id, op.method, op.path
        ));
        functions.push(quote! {
            #doc
            pub async fn #ident(
                response: reqwest::Response,
            ) -> Result<ResponseValue<#ok>, Error<types::#error_enum>> {
                #dispatch
            }
        });
        success_types.push(ok);
        Ok(())
    })?;
    if success_types.len() != operations.len() {
        bail!(
            "found {} generated operation methods for {} operations in the spec",
            success_types.len(),
            operations.len()
        );
    }
    let module: syn::Item = syn::parse2(split_doc_attributes(quote! {
        /// Status dispatch and decoding of each operation's answers, one function per operation.
        pub mod responses {
            #[allow(unused_imports)]
            use super::{types, Error, ResponseValue};
            #(#functions)*
        }
    }))?;
    file.items.push(module);
    Ok(success_types)
}

fn rewrite_arms(op: &OperationSpec, dispatch: &mut syn::ExprMatch) -> Result<()> {
    let id = &op.id;
    let wildcard = dispatch
        .arms
        .iter()
        .position(|arm| matches!(arm.pat, syn::Pat::Wild(_)))
        .ok_or_else(|| anyhow!("operation `{id}`: the status dispatch has no `_` arm"))?;
    for arm in &mut dispatch.arms[..wildcard] {
        let text = compact(&arm.body);
        let body = text
            .strip_prefix('{')
            .and_then(|b| b.strip_suffix('}'))
            .unwrap_or(&text);
        if body == "ResponseValue::from_response(response).await" {
            *arm.body = syn::parse_quote! {
                ::disconnect_client_runtime::decode_success(response).await
            };
        } else if !body.starts_with("Ok(ResponseValue::") {
            bail!("operation `{id}`: unexpected success arm `{body}`");
        }
    }
    if wildcard != op.success.len() {
        bail!(
            "operation `{id}`: {wildcard} success arms for {} documented success statuses",
            op.success.len()
        );
    }
    let error_enum = op.error_enum();
    let arms = op.errors.iter().map(|e| {
        let status = syn::LitInt::new(&format!("{}u16", e.status), proc_macro2::Span::call_site());
        let variant = format_ident!("{}", e.variant);
        if e.schema.is_some() {
            quote! {
                #status => Err(::disconnect_client_runtime::decode_error(response, types::#error_enum::#variant).await),
            }
        } else {
            quote! {
                #status => Err(::disconnect_client_runtime::error_without_body(response, types::#error_enum::#variant)),
            }
        }
    });
    let arms: syn::ExprMatch = syn::parse2(quote! { match x { #(#arms)* } })?;
    let added = arms.arms.len();
    for (i, arm) in arms.arms.into_iter().enumerate() {
        dispatch.arms.insert(wildcard + i, arm);
    }
    // Every other status: matchable, with status, headers and a bounded body excerpt.
    let last = &mut dispatch.arms[wildcard + added];
    if compact(&last.body) != "Err(Error::UnexpectedResponse(response))" {
        bail!(
            "operation `{id}`: unexpected `_` arm `{}`",
            compact(&last.body)
        );
    }
    *last.body = syn::parse_quote! {
        Err(::disconnect_client_runtime::unexpected_status(response).await)
    };
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// error enums
// ---------------------------------------------------------------------------------------------

/// Adds `types::<Operation>Error` for every operation. Returns the names of the types reachable
/// from answers (success types and error bodies): the roots of [`open_response_enums`].
fn add_error_enums(
    file: &mut syn::File,
    operations: &[OperationSpec],
    success_types: &[syn::Type],
) -> Result<BTreeSet<String>> {
    let items = types_module(file)?;
    let existing = type_names(items);
    let mut roots = BTreeSet::new();
    for ty in success_types {
        roots.extend(referenced_names(&ty.to_token_stream(), &existing));
    }
    for op in operations {
        let name = op.error_enum();
        if existing.contains(&name.to_string()) {
            bail!("operation `{}`: a schema is already named `{name}`", op.id);
        }
        let mut variants = Vec::new();
        let mut statuses = Vec::new();
        for e in &op.errors {
            let variant = format_ident!("{}", e.variant);
            let status = e.status;
            let what = match e.description.trim() {
                "" => String::new(),
                text => format!(": {text}"),
            };
            match &e.schema {
                Some(schema) => {
                    // typify's name for a component schema (`HTTPValidationError` →
                    // `HttpValidationError`), checked against what it generated.
                    let ty = pascal_case(schema);
                    if !existing.contains(&ty) {
                        bail!(
                            "operation `{}`: status {status}'s schema `{schema}` has no generated type `{ty}`",
                            op.id
                        );
                    }
                    roots.insert(ty.clone());
                    let ty = format_ident!("{ty}");
                    let doc = doc_lit(&format!("`{status}`{what}"));
                    variants.push(quote! { #doc #variant(#ty), });
                    statuses.push(quote! { Self::#variant(_) => Some(#status), });
                }
                None => {
                    let doc = doc_lit(&format!("`{status}`{what} (no body documented)"));
                    variants.push(quote! { #doc #variant, });
                    statuses.push(quote! { Self::#variant => Some(#status), });
                }
            }
        }
        let list: Vec<String> = op.errors.iter().map(|e| e.status.to_string()).collect();
        let doc = doc_lit(&format!(
            "The documented error answers of `{}` (`{} {}`): one variant per status{}, held by \
             `Error::ErrorResponse` beside the answer's status and headers. `Undecodable` holds an \
             answer with a documented status, success or error, whose body did not decode (an HTML \
             page from a proxy, an empty body); `UnexpectedStatus` an answer with a status the spec \
             does not document. Non-exhaustive: a status the vendor documents later becomes a new \
             variant.",
            op.id,
            op.method,
            op.path,
            if list.is_empty() {
                String::new()
            } else {
                format!(" ({})", list.join(", "))
            }
        ));
        let generated: syn::File = syn::parse2(split_doc_attributes(quote! {
            #doc
            #[derive(Clone, Debug)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// A documented status whose body did not decode as the spec says; the status and
                /// headers are in the `ResponseValue` that holds this.
                Undecodable(::disconnect_client_runtime::UndecodableBody),
                /// A status the spec does not document (a 404 on a second delete, a gateway's
                /// 502); the status and headers are in the `ResponseValue` that holds this, with
                /// a bounded excerpt of the body here.
                UnexpectedStatus(::disconnect_client_runtime::UnexpectedStatus),
            }

            impl ::std::convert::From<::disconnect_client_runtime::UndecodableBody> for #name {
                fn from(body: ::disconnect_client_runtime::UndecodableBody) -> Self {
                    Self::Undecodable(body)
                }
            }

            impl ::std::convert::From<::disconnect_client_runtime::UnexpectedStatus> for #name {
                fn from(body: ::disconnect_client_runtime::UnexpectedStatus) -> Self {
                    Self::UnexpectedStatus(body)
                }
            }

            impl #name {
                /// The status this variant stands for; `None` for `Undecodable` and
                /// `UnexpectedStatus`.
                pub fn documented_status(&self) -> Option<u16> {
                    match self {
                        #(#statuses)*
                        Self::Undecodable(_) | Self::UnexpectedStatus(_) => None,
                    }
                }
            }
        }))?;
        items.extend(generated.items);
    }
    Ok(roots)
}

// ---------------------------------------------------------------------------------------------
// open enums
// ---------------------------------------------------------------------------------------------

/// Identifiers in `tokens` that name one of `names`.
fn referenced_names(tokens: &TokenStream, names: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for tree in tokens.clone() {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                let text = ident.to_string();
                if names.contains(&text) {
                    found.insert(text);
                }
            }
            proc_macro2::TokenTree::Group(group) => {
                found.extend(referenced_names(&group.stream(), names));
            }
            _ => {}
        }
    }
    found
}

/// The wire value of each variant of a string enum as typify generates it (unit variants, each
/// with `#[serde(rename = "..")]` or named as its value), or `None` for any other enum.
fn string_enum_values(e: &syn::ItemEnum) -> Option<Vec<(syn::Ident, String)>> {
    let derives_deserialize = e
        .attrs
        .iter()
        .any(|a| a.path().is_ident("derive") && compact(a).contains("Deserialize"));
    if !derives_deserialize || e.variants.is_empty() {
        return None;
    }
    e.variants
        .iter()
        .map(|v| {
            matches!(v.fields, syn::Fields::Unit).then(|| {
                let value =
                    crate::api_doc::serde_rename(&v.attrs).unwrap_or_else(|| v.ident.to_string());
                (v.ident.clone(), value)
            })
        })
        .collect()
}

/// Every type in `types` reachable from `roots` through field and variant types.
fn reachable_types(items: &[syn::Item], roots: &BTreeSet<String>) -> BTreeSet<String> {
    let names = type_names(items);
    let mut edges: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for item in items {
        let (name, tokens) = match item {
            syn::Item::Struct(s) => (s.ident.to_string(), s.fields.to_token_stream()),
            syn::Item::Enum(e) => {
                let mut tokens = TokenStream::new();
                for v in &e.variants {
                    v.fields.to_tokens(&mut tokens);
                }
                (e.ident.to_string(), tokens)
            }
            syn::Item::Type(t) => (t.ident.to_string(), t.ty.to_token_stream()),
            _ => continue,
        };
        edges
            .entry(name)
            .or_default()
            .extend(referenced_names(&tokens, &names));
    }
    let mut reachable = BTreeSet::new();
    let mut queue: Vec<String> = roots.iter().cloned().collect();
    while let Some(name) = queue.pop() {
        if reachable.insert(name.clone()) {
            queue.extend(edges.get(&name).into_iter().flatten().cloned());
        }
    }
    reachable
}

/// Makes every string enum reachable from an answer open: an `Unknown(UnknownValue)` variant
/// for values the spec does not list, `#[non_exhaustive]`, and the conversions of
/// `disconnect_client_runtime::open_enum!` in place of typify's closed ones (its serde derives,
/// `Display`, `FromStr`, `TryFrom`). Enums only requests use stay closed. Returns the names of
/// the opened enums.
pub fn open_response_enums(file: &mut syn::File, roots: &BTreeSet<String>) -> Result<Vec<String>> {
    let items = types_module(file)?;
    let reachable = reachable_types(items, roots);
    let mut opened = Vec::new();
    let mut invocations: Vec<syn::Item> = Vec::new();
    for item in items.iter_mut() {
        let syn::Item::Enum(e) = item else { continue };
        if !reachable.contains(&e.ident.to_string()) {
            continue;
        }
        let Some(values) = string_enum_values(e) else {
            continue;
        };
        for attr in &mut e.attrs {
            if attr.path().is_ident("derive") {
                let kept: Vec<syn::Path> = attr
                    .parse_args_with(
                        syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                    )?
                    .into_iter()
                    .filter(|p| {
                        let last = p
                            .segments
                            .last()
                            .map(|s| s.ident.to_string())
                            .unwrap_or_default();
                        !matches!(
                            last.as_str(),
                            "Deserialize" | "Serialize" | "Copy" | "JsonSchema"
                        )
                    })
                    .collect();
                *attr = syn::parse_quote! { #[derive(#(#kept),*)] };
            }
        }
        e.attrs.push(syn::parse_quote! { #[non_exhaustive] });
        for (variant, (_, value)) in e.variants.iter_mut().zip(&values) {
            variant.attrs.retain(|a| !a.path().is_ident("serde"));
            let doc = format!(" `{value}`");
            variant.attrs.push(syn::parse_quote! { #[doc = #doc] });
        }
        e.variants.push(syn::parse_quote! {
            #[doc = " A value the spec does not list (added by the vendor after this client was generated); `as_str()` and `Display` give it as sent."]
            Unknown(::disconnect_client_runtime::UnknownValue)
        });
        let name = e.ident.clone();
        let pairs = values
            .iter()
            .map(|(ident, value)| quote! { #ident => #value });
        invocations.push(syn::parse_quote! {
            ::disconnect_client_runtime::open_enum!(#name { #(#pairs),* });
        });
        opened.push(name.to_string());
    }
    // typify's closed conversions of the opened enums give way to the open ones.
    let before = items.len();
    items.retain(|item| {
        let syn::Item::Impl(imp) = item else {
            return true;
        };
        let Some((_, trait_path, _)) = &imp.trait_ else {
            return true;
        };
        let trait_name = trait_path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        !(opened.contains(&compact(&imp.self_ty))
            && matches!(trait_name.as_str(), "Display" | "FromStr" | "TryFrom"))
    });
    let removed = before - items.len();
    if removed < opened.len() * 2 {
        bail!(
            "expected typify's `Display` and `FromStr` for each of the {} opened enums, removed {removed} impls",
            opened.len()
        );
    }
    items.extend(invocations);
    Ok(opened)
}

fn operations_module(operations: &[OperationSpec]) -> TokenStream {
    let mut consts = Vec::new();
    let mut names = Vec::new();
    for op in operations {
        let name = format_ident!("{}", snake_case(&op.id).to_uppercase());
        let (id, method, path) = (&op.id, &op.method, &op.path);
        let success = &op.success;
        let errors: Vec<u16> = op.errors.iter().map(|e| e.status).collect();
        let doc = doc_lit(&format!("`{method} {path}` (`{id}`)"));
        consts.push(quote! {
            #doc
            pub const #name: Operation = Operation::new(#id, #method, #path, &[#(#success),*], &[#(#errors),*]);
        });
        names.push(name);
    }
    quote! {
        /// What the spec documents about each operation: method, path and statuses.
        pub mod operations {
            use ::disconnect_client_runtime::Operation;
            #(#consts)*
            /// Every operation of the spec.
            pub const ALL: &[Operation] = &[#(#names),*];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// non-exhaustive structs
// ---------------------------------------------------------------------------------------------

/// Marks every struct of `types` `#[non_exhaustive]`, so that a field the vendor adds later
/// (optional, in a request or a response) regenerates into a semver-compatible crate: outside
/// the crate the structs cannot be built with a literal or destructured exhaustively; they are
/// built with their generated builders (`X::builder()`, from typify) and read by field. Returns
/// how many were marked; generation fails if none were (typify's output changed).
pub fn non_exhaustive_structs(file: &mut syn::File) -> Result<usize> {
    let items = types_module(file)?;
    let mut marked = 0;
    for item in items.iter_mut() {
        if let syn::Item::Struct(s) = item
            && matches!(s.fields, syn::Fields::Named(_))
            && !s.attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
        {
            s.attrs.push(syn::parse_quote! { #[non_exhaustive] });
            marked += 1;
        }
    }
    if marked == 0 {
        bail!("no struct with named fields in `types`");
    }
    Ok(marked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_messages_say_what_was_wrong() {
        assert_eq!(
            conversion_message(":: uuid :: Uuid", "organization_id"),
            "organization_id: not a UUID (e.g. 0b9c2f4e-8a43-4d3a-9a1e-2f7a5b6c7d8e)"
        );
        assert_eq!(
            conversion_message("KeyInflection", "key_inflection"),
            "key_inflection: not a valid `KeyInflection`"
        );
        let mut file: syn::File = syn::parse_quote! {
            fn f() { let _ = "conversion to `:: std :: string :: String` for connection_id failed"; }
        };
        ConversionMessages.visit_file_mut(&mut file);
        assert!(
            quote!(#file)
                .to_string()
                .contains("connection_id: not a string")
        );
    }

    /// Progenitor's shapes, reduced: the `Client` struct, its constructor, one request.
    fn sample() -> syn::File {
        syn::parse_quote! {
            pub struct Client {
                pub(crate) baseurl: String,
                pub(crate) client: reqwest::Client,
            }
            impl Client {
                pub fn new_with_client(baseurl: &str, client: reqwest::Client) -> Self {
                    Self { baseurl: baseurl.to_string(), client }
                }
            }
            pub mod builder {
                impl<'a> Op<'a> {
                    pub async fn send(self) {
                        let Self { client } = self;
                        let url = format!("{}/things/{}", client.baseurl, 1);
                        let request = client.client.delete(url).build()?;
                    }
                }
            }
        }
    }

    #[test]
    fn the_base_url_is_parsed_once_and_requests_join_it() {
        let mut file = sample();
        parsed_base_url(&mut file, 1).unwrap();
        let text = compact(&file);
        assert!(
            text.contains("pub(crate)base:::std::option::Option<::reqwest::Url>"),
            "{text}"
        );
        assert!(
            text.contains("base:::disconnect_client_runtime::parse_base_url(baseurl)"),
            "{text}"
        );
        assert!(
            text.contains("::disconnect_client_runtime::request_to(&client.client,::reqwest::Method::DELETE,&client.baseurl,client.base.as_ref(),url,)"),
            "{text}"
        );
        assert!(!text.contains("client.client.delete(url)"), "{text}");
    }

    #[test]
    fn the_pass_fails_when_progenitor_output_differs() {
        // Its own output no longer matches (the constructor has three fields).
        let mut file = sample();
        parsed_base_url(&mut file, 1).unwrap();
        let err = parsed_base_url(&mut file, 1).unwrap_err().to_string();
        assert!(
            err.contains("expected one `Self { baseurl, client }` constructor, found 0"),
            "{err}"
        );
        // A count of operations that does not match the requests found.
        let err = parsed_base_url(&mut sample(), 2).unwrap_err().to_string();
        assert!(err.contains("per operation (2), found 1"), "{err}");
    }
}
