//! Renders a [`Method`] as the function (unchanged but for moved attributes), a marker
//! type named after it, and `impl volley::Method` for the marker.
//!
//! All generated paths go through `::volley::__private` (or `::volley` for the public
//! types), never through the user's imports. Generated locals start with `__volley`,
//! a prefix parameters may not use.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn};

use super::ir::{ArgKind, ErrorType, Method, Output, Shape};

/// The whole expansion for a method that passed every check.
pub fn emit(m: &Method, item: &ItemFn) -> TokenStream {
    let generated = generated(m);
    quote! {
        #item
        #generated
    }
}

/// What the macro adds next to the function: the marker type, its `Method` impl and
/// the typed calls.
pub fn generated(m: &Method) -> TokenStream {
    let ident = &m.ident;
    let marker = marker(m);
    let body = definition(m);
    let calls = typed_calls(m);
    quote! {
        #marker
        #[allow(deprecated)]
        impl ::volley::Method for #ident {
            fn definition() -> ::volley::__private::MethodDef {
                #body
            }
        }
        #calls
    }
}

/// `add::call(&client, a, b)` and `add::call_with(&client, a, b, options)`: the method
/// called from Rust with its own parameter and result types. Their bounds name the
/// generic caller, so they are checked where a typed call is made.
fn typed_calls(m: &Method) -> TokenStream {
    let vis = &m.vis;
    let ident = &m.ident;
    let name = &m.name;
    let params: Vec<_> = m.request_params().collect();
    let idents: Vec<_> = params.iter().map(|p| &p.ident).collect();
    let tys: Vec<_> = params.iter().map(|p| &p.ty).collect();
    let wires: Vec<_> = params.iter().map(|p| &p.wire_name).collect();
    let (t, tail) = match &m.ret.output {
        Output::Value(t) => (t, false),
        Output::Stream(item) => (&item.ty, true),
    };
    let i = match m.streaming_item() {
        Some(i) => quote!(#i),
        None => quote!(()),
    };
    let bound = quote!(__VolleyPeer: ::volley::__private::TypedCall<(#(#tys,)*), #i, #t>);
    let args = quote!(__volley_peer: &__VolleyPeer, #(#idents: #tys,)*);
    let call = |options: TokenStream| {
        let ctor = format_ident!("{}", m.shape().as_str());
        quote! {
            <__VolleyPeer as ::volley::__private::TypedCall<(#(#tys,)*), #i, #t>>::#ctor(
                __volley_peer, #name, &[#(#wires),*], (#(#idents,)*), #options,
            )
        }
    };
    let (plain, with) = (call(quote!(::core::default::Default::default())), call(quote!(__volley_options)));
    let doc = format!("Calls `{name}` through a `volley::Client`, its `Peer`, or a handler's `Context`, with the method's own types.");
    let doc_with = format!("Calls `{name}` with call options (metadata, timeout, stream window).");
    let (sig, sig_with) = match (m.shape(), tail) {
        (Shape::Unary, _) => (
            quote! {
                #vis async fn call<__VolleyPeer>(#args) -> ::core::result::Result<#t, ::volley::Error> where #bound {
                    ::core::result::Result::Ok(#plain.await?.value)
                }
            },
            quote! {
                #vis async fn call_with<__VolleyPeer>(#args __volley_options: ::volley::CallOptions) -> ::core::result::Result<::volley::Response<#t>, ::volley::Error> where #bound {
                    #with.await
                }
            },
        ),
        (shape, _) => {
            let ret = match shape {
                Shape::ServerStream => quote!(::volley::Streaming<#t>),
                Shape::ClientStream => quote!(::volley::ClientStreamCall<#i, #t>),
                _ => quote!((::volley::StreamSender<#i>, ::volley::Streaming<#t>)),
            };
            (
                quote! {
                    #vis fn call<__VolleyPeer>(#args) -> ::core::result::Result<#ret, ::volley::Error> where #bound {
                        #plain
                    }
                },
                quote! {
                    #vis fn call_with<__VolleyPeer>(#args __volley_options: ::volley::CallOptions) -> ::core::result::Result<#ret, ::volley::Error> where #bound {
                        #with
                    }
                },
            )
        }
    };
    quote! {
        #[allow(dead_code, clippy::too_many_arguments)]
        impl #ident {
            #[doc = #doc]
            #sig
            #[doc = #doc_with]
            #sig_with
        }
    }
}

/// What is emitted next to the errors when checks failed: the function and a marker
/// whose `Method` impl never runs, so registration code elsewhere does not pile up
/// follow-on errors.
pub fn emit_fallback(m: &Method, item: &ItemFn) -> TokenStream {
    let ident = &m.ident;
    let marker = marker(m);
    quote! {
        #item
        #marker
        impl ::volley::Method for #ident {
            fn definition() -> ::volley::__private::MethodDef {
                ::core::unreachable!()
            }
        }
    }
}

/// `struct add {}`: braced, so it lives in the type namespace only and shares the
/// function's name without clashing with it.
fn marker(m: &Method) -> TokenStream {
    let vis = &m.vis;
    let ident = &m.ident;
    let doc = format!(
        "The volley method `{}`, implemented by the function `{}`. Register it with `Router::rpc::<{}>()`.",
        m.name,
        syn::ext::IdentExt::unraw(ident),
        ident
    );
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {}
    }
}

/// The body of `Method::definition`.
fn definition(m: &Method) -> TokenStream {
    let v = format_ident!("__volley_v");
    let asserts = assertions(m);

    let fields = m.request_params().map(|p| {
        let ident = &p.ident;
        let ty = &p.ty;
        let attrs = &p.field_attrs;
        let schemars = p.constraints.schemars_attrs();
        quote!(#(#attrs)* #schemars #ident: #ty,)
    });
    let validations = m.request_params().map(|p| {
        let ident = &p.ident;
        let wire = &p.wire_name;
        let value = quote!(&self.#ident);
        let checks = p.constraints.checks(&value, &v);
        let nested = nested_validation(&value, &v);
        quote! {
            #v.at(#wire, |#v| {
                #checks
                #nested
            });
        }
    });

    let name = &m.name;
    let docs = m.docs.to_expr();
    let deprecated = match &m.deprecated {
        Some(note) => quote!(::core::option::Option::Some(#note)),
        None => quote!(::core::option::Option::None),
    };
    let error_schema = error_schema(m);
    let closure = closure(m);

    let result_ty = |t: &syn::Type| quote!(#t);
    let (ctor, generics) = match (m.shape(), &m.ret.output) {
        (Shape::Unary, Output::Value(t)) => {
            let t = result_ty(t);
            (quote!(unary), quote!(__VolleyParams, #t, _, _))
        }
        (Shape::ServerStream, Output::Stream(item)) => {
            let t = result_ty(&item.ty);
            (quote!(server_stream), quote!(__VolleyParams, #t, _, _, _))
        }
        (Shape::ClientStream, Output::Value(t)) => {
            let i = m.streaming_item().expect("client streams have an input");
            let t = result_ty(t);
            (quote!(client_stream), quote!(__VolleyParams, #i, #t, _, _))
        }
        (Shape::BidiStream, Output::Stream(item)) => {
            let i = m.streaming_item().expect("bidi streams have an input");
            let t = result_ty(&item.ty);
            (quote!(bidi_stream), quote!(__VolleyParams, #i, #t, _, _, _))
        }
        _ => unreachable!("the shape follows from the output"),
    };

    quote! {
        #asserts

        #[derive(::volley::__private::serde::Deserialize, ::volley::__private::schemars::JsonSchema)]
        #[serde(crate = "::volley::__private::serde")]
        #[schemars(crate = "::volley::__private::schemars")]
        struct __VolleyParams {
            #(#fields)*
        }

        impl ::volley::__private::Validate for __VolleyParams {
            fn validate(&self, #v: &mut ::volley::__private::Violations) {
                #(#validations)*
            }
        }

        ::volley::__private::#ctor::<#generics>(
            ::volley::__private::MethodInfo { name: #name, docs: #docs, deprecated: #deprecated },
            #error_schema,
            #closure,
        )
    }
}

/// Validation of whatever the value's type declares, if it implements `Validate`
/// (autoref specialization: other types are skipped).
pub fn nested_validation(value: &TokenStream, v: &Ident) -> TokenStream {
    quote! {
        {
            #[allow(unused_imports)]
            use ::volley::__private::{ValidateViaTrait as _, ValidateFallback as _};
            (&&::volley::__private::Wrap(#value)).__volley_validate(#v);
        }
    }
}

/// Checks spanned on the user's types, so a missing trait is reported on the parameter
/// or return type that lacks it, with the runtime's hint.
fn assertions(m: &Method) -> TokenStream {
    let mut out = TokenStream::new();
    for p in m.request_params() {
        let ty = &p.ty;
        out.extend(quote_spanned! {ty.span()=> let _ = ::volley::__private::assert_param::<#ty>; });
    }
    if let Some(i) = m.streaming_item() {
        out.extend(quote_spanned! {i.span()=> let _ = ::volley::__private::assert_param::<#i>; });
    }
    let t = match &m.ret.output {
        Output::Value(t) => t,
        Output::Stream(item) => &item.ty,
    };
    out.extend(quote_spanned! {t.span()=> let _ = ::volley::__private::assert_result::<#t>; });
    out
}

fn error_schema(m: &Method) -> TokenStream {
    match &m.ret.error {
        None => quote!(<::volley::__private::Never as ::volley::__private::IntoCallError>::error_schema),
        Some(ErrorType::Explicit(e)) => {
            quote_spanned!(e.span()=> <#e as ::volley::__private::IntoCallError>::error_schema)
        }
        Some(ErrorType::OfAlias(r)) => quote_spanned! {r.span()=>
            {
                trait __VolleyErrorOf {
                    type Error;
                }
                impl<T, E> __VolleyErrorOf for ::core::result::Result<T, E> {
                    type Error = E;
                }
                <<#r as __VolleyErrorOf>::Error as ::volley::__private::IntoCallError>::error_schema
            }
        },
    }
}

/// The handler closure: pulls state out of the context, calls the function with every
/// argument in its place, and converts the result.
fn closure(m: &Method) -> TokenStream {
    let ctx = format_ident!("__volley_ctx");
    let params = format_ident!("__volley_params");
    let input = format_ident!("__volley_input");
    let mut lets = TokenStream::new();
    let mut call_args = Vec::new();
    for (i, arg) in m.args.iter().enumerate() {
        match &arg.kind {
            ArgKind::Context => call_args.push(quote!(::core::clone::Clone::clone(&#ctx))),
            ArgKind::State(t) => {
                let local = format_ident!("__volley_state_{}", i);
                lets.extend(quote_spanned! {arg.span=>
                    let #local = match ::volley::State::<#t>::from_context(&#ctx) {
                        ::core::result::Result::Ok(s) => s,
                        ::core::result::Result::Err(e) => return ::core::result::Result::Err(e),
                    };
                });
                call_args.push(quote!(#local));
            }
            ArgKind::Streaming(item) => {
                // Items are checked against their declared constraints like parameters.
                lets.extend(quote! {
                    let #input = #input.checked(|__volley_item: &#item, __volley_v: &mut ::volley::__private::Violations| {
                        #[allow(unused_imports)]
                        use ::volley::__private::{ValidateFallback as _, ValidateViaTrait as _};
                        (&&::volley::__private::Wrap(__volley_item)).__volley_validate(__volley_v)
                    });
                });
                call_args.push(quote!(#input));
            }
            ArgKind::Request(p) => {
                let ident = &p.ident;
                call_args.push(quote!(#params.#ident));
            }
        }
    }
    let f = &m.ident;
    let mut call = quote!(#f(#(#call_args),*));
    if m.awaited {
        call = quote!(#call.await);
    }
    let into_call_error = quote!(::volley::__private::IntoCallError::into_call_error);
    let body = match &m.ret.output {
        Output::Value(_) => match &m.ret.error {
            None => quote!(::core::result::Result::Ok(#call)),
            Some(_) => quote!(::core::result::Result::map_err(#call, #into_call_error)),
        },
        Output::Stream(item) => {
            let stream = match &m.ret.error {
                None => quote!(let __volley_stream = #call;),
                Some(_) => quote! {
                    let __volley_stream = match #call {
                        ::core::result::Result::Ok(s) => s,
                        ::core::result::Result::Err(e) => return ::core::result::Result::Err(#into_call_error(e)),
                    };
                },
            };
            let wrap = if item.fallible { quote!(stream_result) } else { quote!(stream_ok) };
            quote! {
                #stream
                ::core::result::Result::Ok(::volley::__private::#wrap(__volley_stream))
            }
        }
    };
    let input_param = m.streaming_item().map(|i| quote!(, #input: ::volley::Streaming<#i>));
    quote! {
        |#ctx: ::volley::Context, #params: __VolleyParams #input_param| async move {
            #lets
            #body
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctxt::Ctxt;
    use crate::rpc::parse;
    use syn::parse_quote;

    fn expand(args: TokenStream, mut item: ItemFn) -> String {
        let cx = Ctxt::new();
        let a = parse::parse_args(&cx, args);
        let m = parse::parse_fn(&cx, a, &mut item);
        cx.check().unwrap();
        emit(&m, &item).to_string()
    }

    /// Compares with whitespace removed, so needles may be partial (unbalanced) code.
    fn has(haystack: &str, needle: &str) {
        let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert!(squash(haystack).contains(&squash(needle)), "expected\n  {needle}\nin\n  {haystack}");
    }

    #[test]
    fn typed_error_unary() {
        let s = expand(
            quote!(name = "calc.divide"),
            parse_quote!(async fn divide(a: f64, b: f64) -> Result<f64, DivError> { a / b }),
        );
        has(&s, r#"struct divide {}"#);
        has(&s, r#"impl ::volley::Method for divide"#);
        has(&s, r#"struct __VolleyParams { a: f64, b: f64, }"#);
        has(&s, r#"::volley::__private::unary::<__VolleyParams, f64, _, _>"#);
        has(&s, r#"name: "calc.divide""#);
        has(&s, r#"<DivError as ::volley::__private::IntoCallError>::error_schema"#);
        has(&s, r#"::core::result::Result::map_err(divide(__volley_params.a, __volley_params.b).await, ::volley::__private::IntoCallError::into_call_error)"#);
    }

    #[test]
    fn plain_values_are_wrapped_in_ok_and_sync_fns_not_awaited() {
        let s = expand(quote!(), parse_quote!(fn sync_too(x: u32) -> u32 { x }));
        has(&s, r#"::core::result::Result::Ok(sync_too(__volley_params.x))"#);
        has(&s, r#"<::volley::__private::Never as ::volley::__private::IntoCallError>::error_schema"#);
    }

    #[test]
    fn state_context_and_constraints() {
        let s = expand(
            quote!(),
            parse_quote!(async fn get(db: State<Db>, ctx: Context, #[validate(range(min = 1))] id: u64) -> u8 { 0 }),
        );
        has(&s, r#"let __volley_state_0 = match ::volley::State::<Db>::from_context(&__volley_ctx)"#);
        has(&s, r#"get(__volley_state_0, ::core::clone::Clone::clone(&__volley_ctx), __volley_params.id).await"#);
        has(&s, r#"#[schemars(range(min = 1))] id: u64,"#);
        has(&s, r#"__volley_v.at("id", |__volley_v| { ::volley::__private::check_range(&self.id, ::core::option::Option::Some(1f64), ::core::option::Option::None, __volley_v);"#);
        // The user's function keeps no `#[validate]`.
        assert!(!s.contains("# [validate"), "{s}");
    }

    #[test]
    fn stream_shapes_pick_their_constructor() {
        let s = expand(quote!(), parse_quote!(async fn countdown(from: u32) -> impl Stream<Item = u32> { todo!() }));
        has(&s, r#"server_stream::<__VolleyParams, u32, _, _, _>"#);
        has(&s, r#"::volley::__private::stream_ok(__volley_stream)"#);

        let s = expand(
            quote!(),
            parse_quote!(async fn lines(path: String) -> Result<impl Stream<Item = Result<String, ReadError>>, ReadError> { todo!() }),
        );
        has(&s, r#"server_stream::<__VolleyParams, String, _, _, _>"#);
        has(&s, r#"::volley::__private::stream_result(__volley_stream)"#);
        has(&s, r#"return ::core::result::Result::Err(::volley::__private::IntoCallError::into_call_error(e))"#);

        let s = expand(quote!(), parse_quote!(async fn sum(items: Streaming<i64>) -> i64 { 0 }));
        has(&s, r#"client_stream::<__VolleyParams, i64, i64, _, _>"#);
        has(&s, r#"|__volley_ctx: ::volley::Context, __volley_params: __VolleyParams, __volley_input: ::volley::Streaming<i64>|"#);
        has(&s, r#"sum(__volley_input).await"#);

        let s = expand(quote!(), parse_quote!(async fn echo(ctx: Context, input: Streaming<String>) -> impl Stream<Item = String> { todo!() }));
        has(&s, r#"bidi_stream::<__VolleyParams, String, String, _, _, _>"#);
    }

    #[test]
    fn docs_and_deprecation_reach_the_method_info() {
        let s = expand(
            quote!(),
            parse_quote! {
                /// Adds two numbers.
                #[deprecated(note = "use add")]
                async fn old_add(a: i64, b: i64) -> i64 { a + b }
            },
        );
        has(&s, r#"docs: "Adds two numbers.", deprecated: ::core::option::Option::Some("use add")"#);
        has(&s, r#"#[allow(deprecated)] impl ::volley::Method for old_add"#);
    }

    #[test]
    fn visibility_is_shared_with_the_marker() {
        let s = expand(quote!(), parse_quote!(pub(crate) async fn f() {}));
        has(&s, r#"pub(crate) struct f {}"#);
        has(&s, r#"unary::<__VolleyParams, (), _, _>"#);
    }
}
