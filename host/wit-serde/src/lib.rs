//! `#[derive(WitSerde)]`: `serde::Serialize`, `serde::Deserialize` and
//! `schemars::JsonSchema` for the types wasmtime's `bindgen!` generates from
//! the `pactum:policy` WIT, spelled as the WIT spells them.
//!
//! `bindgen!` names an enum case or a variant case in Rust's upper camel
//! case (`partner-sourced` becomes `PartnerSourced`) and keeps the WIT name
//! in a `#[component(name = "partner-sourced")]` attribute. A plain
//! `#[derive(Serialize)]` would put the Rust name in the JSON, so the API,
//! the decision log and the fixtures would spell a case one way and the
//! WIT, the docs and every plugin language another. This derive reads the
//! WIT name off that attribute and uses it: one spelling per case,
//! everywhere. The Rust name is still accepted when reading (`alias`), so
//! records and fixtures written before keep loading.
//!
//! Records keep their Rust field names (`first_year_acv`): JSON field names
//! are snake case across the API.
//!
//! It works through serde's (and schemars') remote derive: a private copy
//! of the type carries the `#[serde(rename, alias)]` attributes, and the
//! real type's impls call it.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, parse_macro_input};

/// See the crate's documentation.
#[proc_macro_derive(WitSerde)]
pub fn derive_wit_serde(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The WIT name in `#[component(name = "...")]`, if there is one.
fn wit_name(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut name = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("component")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                name = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: Tokens = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(name)
}

fn docs(attrs: &[Attribute]) -> Vec<&Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).collect()
}

/// A case's WIT name when `bindgen!` left none: its Rust name in kebab case
/// (`bindgen!` writes the attribute only where the two differ by more).
fn kebab(rust: &str) -> String {
    let mut out = String::new();
    for (i, c) in rust.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&input.generics, "WitSerde takes types without generics (owned bindings)"));
    }
    let shadow = format_ident!("__WitSerde{name}");
    let remote = LitStr::new(&name.to_string(), name.span());
    let type_docs = docs(&input.attrs);
    let body = match &input.data {
        Data::Enum(data) => {
            let mut cases = Vec::new();
            for v in &data.variants {
                let rust = v.ident.to_string();
                let wit = wit_name(&v.attrs)?.unwrap_or_else(|| kebab(&rust));
                let ident = &v.ident;
                let case_docs = docs(&v.attrs);
                let alias = (wit != rust).then(|| quote!(, alias = #rust));
                let fields = match &v.fields {
                    Fields::Unit => quote!(),
                    Fields::Unnamed(f) => {
                        let tys = f.unnamed.iter().map(|f| &f.ty);
                        quote!((#(#tys),*))
                    }
                    Fields::Named(_) => {
                        return Err(syn::Error::new_spanned(v, "WitSerde: a case with named fields is not WIT"));
                    }
                };
                cases.push(quote! {
                    #(#case_docs)*
                    #[serde(rename = #wit #alias)]
                    #ident #fields
                });
            }
            quote!(enum #shadow { #(#cases),* })
        }
        Data::Struct(data) => {
            let Fields::Named(fields) = &data.fields else {
                return Err(syn::Error::new_spanned(name, "WitSerde: a WIT record has named fields"));
            };
            let fields = fields.named.iter().map(|f| {
                let ident = &f.ident;
                let ty = &f.ty;
                let field_docs = docs(&f.attrs);
                quote!(#(#field_docs)* #ident: #ty)
            });
            quote!(struct #shadow { #(#fields),* })
        }
        Data::Union(_) => return Err(syn::Error::new_spanned(name, "WitSerde: unions are not WIT")),
    };
    Ok(quote! {
        const _: () = {
            #(#type_docs)*
            #[derive(::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
            #[serde(remote = #remote)]
            #[allow(dead_code)]
            #body

            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                    #shadow::serialize(self, serializer)
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    #shadow::deserialize(deserializer)
                }
            }

            impl ::schemars::JsonSchema for #name {
                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    <#shadow as ::schemars::JsonSchema>::schema_name()
                }

                fn schema_id() -> ::std::borrow::Cow<'static, str> {
                    <#shadow as ::schemars::JsonSchema>::schema_id()
                }

                fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                    <#shadow as ::schemars::JsonSchema>::json_schema(generator)
                }
            }
        };
    })
}
