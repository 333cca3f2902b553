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
use crate::validate_attr::nested_validation;

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
///
/// The params struct is generic over each parameter's type, so serde's and schemars'
/// derives put their requirements on the type parameters instead of failing inside the
/// generated impls. The parameter, input and result types then meet their traits at one
/// place only, the turbofish of `__volley_define::<..>`, each type argument spanned at
/// the user's type: one mistake gives one error, at the type that has it.
fn definition(m: &Method) -> TokenStream {
    let v = format_ident!("__volley_v");
    let params: Vec<_> = m.request_params().collect();
    // The struct's type parameter for each generic field, `None` for a concrete one.
    let generics: Vec<Option<Ident>> = params
        .iter()
        .enumerate()
        .map(|(i, p)| (!p.concrete).then(|| format_ident!("__VolleyP{}", i)))
        .collect();
    let type_params: Vec<&Ident> = generics.iter().flatten().collect();
    let user_tys: Vec<&syn::Type> = params.iter().zip(&generics).filter(|(_, g)| g.is_some()).map(|(p, _)| &p.ty).collect();

    let fields = params.iter().zip(&generics).map(|(p, g)| {
        let ident = &p.ident;
        let ty = match g {
            Some(g) => quote!(#g),
            None => {
                let ty = &p.ty;
                quote!(#ty)
            }
        };
        let attrs = &p.field_attrs;
        let schemars = p.constraints.schemars_attrs();
        quote!(#(#attrs)* #schemars #ident: #ty,)
    });
    let validations = params.iter().map(|p| {
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
    let closure = closure(m, &user_tys);
    let define = define_fn(m, &type_params);

    // The types checked at the call, each spanned where the user wrote it.
    let spanned = |t: &syn::Type| quote_spanned!(t.span()=> #t);
    let mut checked: Vec<TokenStream> = user_tys.iter().map(|t| spanned(t)).collect();
    if let Some(i) = m.streaming_item() {
        checked.push(spanned(i));
    }
    checked.push(match &m.ret.output {
        Output::Value(t) => spanned(t),
        Output::Stream(item) => spanned(&item.ty),
    });
    let inferred = match m.shape() {
        Shape::Unary | Shape::ClientStream => quote!(_, _),
        Shape::ServerStream | Shape::BidiStream => quote!(_, _, _),
    };

    quote! {
        #[derive(::volley::__private::serde::Deserialize, ::volley::__private::schemars::JsonSchema)]
        #[serde(crate = "::volley::__private::serde")]
        #[schemars(crate = "::volley::__private::schemars")]
        struct __VolleyParams<#(#type_params),*> {
            #(#fields)*
        }

        impl ::volley::__private::Validate for __VolleyParams<#(#user_tys),*> {
            fn validate(&self, #v: &mut ::volley::__private::Violations) {
                #(#validations)*
            }
        }

        #define

        __volley_define::<#(#checked,)* #inferred>(
            ::volley::__private::MethodInfo { name: #name, docs: #docs, deprecated: #deprecated },
            #error_schema,
            #closure,
        )
    }
}

/// `fn __volley_define<..>`: the runtime's builder for the method's shape, called with
/// the params struct over type parameters that carry the `RpcParam` and `RpcResult`
/// bounds, so those bounds are the only ones checked against the user's types.
fn define_fn(m: &Method, type_params: &[&Ident]) -> TokenStream {
    let p = quote!(__VolleyParams<#(#type_params),*>);
    let param_bound = quote!(::volley::__private::RpcParam + ::core::marker::Send + 'static);
    let input = m.streaming_item().map(|_| format_ident!("__VolleyI"));
    let (stream, out) = match &m.ret.output {
        Output::Value(_) => (None, quote!(__VolleyR)),
        Output::Stream(_) => (Some(format_ident!("__VolleyS")), quote!(__VolleyS)),
    };
    let input_param = input.as_ref().map(|i| quote!(#i,));
    let stream_param = stream.as_ref().map(|s| quote!(#s,));
    let input_arg = input.as_ref().map(|i| quote!(, ::volley::Streaming<#i>));
    let input_bound = input.as_ref().map(|i| quote!(#i: #param_bound,));
    let stream_bound = stream.as_ref().map(|s| {
        quote! {
            #s: ::volley::__private::Stream<Item = ::core::result::Result<__VolleyR, ::volley::Error>>
                + ::core::marker::Send + 'static,
        }
    });
    let ctor = format_ident!("{}", m.shape().as_str());
    let ctor_generics = match m.shape() {
        Shape::Unary => quote!(#p, __VolleyR, __VolleyF, __VolleyFut),
        Shape::ServerStream => quote!(#p, __VolleyR, __VolleyS, __VolleyF, __VolleyFut),
        Shape::ClientStream => quote!(#p, __VolleyI, __VolleyR, __VolleyF, __VolleyFut),
        Shape::BidiStream => quote!(#p, __VolleyI, __VolleyR, __VolleyS, __VolleyF, __VolleyFut),
    };
    quote! {
        fn __volley_define<#(#type_params,)* #input_param __VolleyR, #stream_param __VolleyF, __VolleyFut>(
            __volley_info: ::volley::__private::MethodInfo,
            __volley_errors: ::volley::__private::ErrorSchemaFn,
            __volley_f: __VolleyF,
        ) -> ::volley::__private::MethodDef
        where
            #(#type_params: #param_bound,)*
            #input_bound
            __VolleyR: ::volley::__private::RpcResult + ::core::marker::Send + 'static,
            #stream_bound
            #p: ::volley::__private::Validate,
            __VolleyF: ::core::ops::Fn(::volley::Context, #p #input_arg) -> __VolleyFut
                + ::core::marker::Send + ::core::marker::Sync + 'static,
            __VolleyFut: ::core::future::Future<Output = ::core::result::Result<#out, ::volley::Error>>
                + ::core::marker::Send + 'static,
        {
            ::volley::__private::#ctor::<#ctor_generics>(__volley_info, __volley_errors, __volley_f)
        }
    }
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
fn closure(m: &Method, param_tys: &[&syn::Type]) -> TokenStream {
    let ctx = format_ident!("__volley_ctx");
    let params = format_ident!("__volley_params");
    let input = format_ident!("__volley_input");
    let mut lets = TokenStream::new();
    let mut call_args = Vec::new();
    for (i, arg) in m.args.iter().enumerate() {
        match arg {
            ArgKind::FromContext(t) => {
                let local = format_ident!("__volley_arg_{}", i);
                lets.extend(quote_spanned! {t.span()=>
                    let #local = match <#t as ::volley::FromContext>::from_context(&#ctx) {
                        ::core::result::Result::Ok(v) => v,
                        ::core::result::Result::Err(e) => return ::core::result::Result::Err(e),
                    };
                });
                call_args.push(quote!(#local));
            }
            ArgKind::Streaming { ty, item } => {
                // Items are checked against their declared constraints like parameters.
                lets.extend(quote! {
                    let #input = #input.checked(|__volley_item: &#item, __volley_v: &mut ::volley::__private::Violations| {
                        #[allow(unused_imports)]
                        use ::volley::__private::{ValidateFallback as _, ValidateViaTrait as _};
                        (&&::volley::__private::Wrap(__volley_item)).__volley_validate(__volley_v)
                    });
                });
                call_args.push(quote_spanned!(ty.span()=> <#ty as ::volley::__private::InputStream<#item>>::from_input(#input)));
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
        |#ctx: ::volley::Context, #params: __VolleyParams<#(#param_tys),*> #input_param| async move {
            #lets
            #body
        }
    }
}
