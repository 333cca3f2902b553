//! Reads `#[rpc(...)]` and the function it sits on into a [`Method`], recording every
//! problem in the [`Ctxt`].

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, FnArg, ItemFn, Lit, LitStr, Meta, PatType, ReturnType, Token, Type};

use super::check;
use super::ir::{ArgKind, ErrorType, Method, Output, RequestParam, Return, StreamItem};
use crate::ctxt::Ctxt;
use crate::docs::{self, Docs};
use crate::types;
use crate::validate_attr::Constraints;

/// The arguments of `#[rpc(...)]`.
#[derive(Debug, Default)]
pub struct RpcArgs {
    /// `name = "calc.divide"`.
    pub name: Option<LitStr>,
    /// `crate = "::my_volley"`: where the volley crate is, when renamed.
    pub krate: Option<syn::Path>,
}

/// Parses `#[rpc(...)]`: strict, every unknown or repeated key is an error.
pub fn parse_args(cx: &Ctxt, args: TokenStream) -> RpcArgs {
    let mut out = RpcArgs::default();
    let metas = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(m) => m,
        Err(e) => {
            cx.error_at(e.span(), format!("{e}; expected `#[rpc]` or `#[rpc(name = \"...\")]`"));
            return out;
        }
    };
    for meta in metas {
        let key = meta.path().get_ident().map(ToString::to_string);
        match (key.as_deref(), &meta) {
            (Some("name"), Meta::NameValue(nv)) => match &nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => {
                    if out.name.is_some() {
                        cx.error_spanned_by(&nv.path, "duplicate key `name`");
                    } else {
                        out.name = Some(s.clone());
                    }
                }
                other => cx.error_spanned_by(other, "expected a string: `name = \"calc.divide\"`"),
            },
            (Some("name"), _) => cx.error_spanned_by(&meta, "expected `name = \"...\"`"),
            (Some("crate"), Meta::NameValue(nv)) => match &nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => match s.parse::<syn::Path>() {
                    Ok(_) if out.krate.is_some() => cx.error_spanned_by(&nv.path, "duplicate key `crate`"),
                    Ok(path) => out.krate = Some(path),
                    Err(_) => cx.error_spanned_by(s, "expected a path to the volley crate: `crate = \"::my_volley\"`"),
                },
                other => cx.error_spanned_by(other, "expected a string: `crate = \"::my_volley\"`"),
            },
            (Some("crate"), _) => cx.error_spanned_by(&meta, "expected `crate = \"...\"`"),
            (Some(other), _) => cx.error_spanned_by(meta.path(), format!("unknown key `{other}`; expected `name` or `crate`")),
            (None, _) => cx.error_spanned_by(meta.path(), "unknown key; expected `name` or `crate`"),
        }
    }
    out
}

/// Reads the function into a [`Method`]. Attributes that belong to the generated
/// params struct (`#[validate]`, `#[serde]`, `#[schemars]`) and the `#[context]` /
/// `#[param]` markers are removed from `item`. What the macro cannot serve is reported
/// by [`check`](super::check) as it goes.
pub fn parse_fn(cx: &Ctxt, args: RpcArgs, item: &mut ItemFn) -> Method {
    let sig = &mut item.sig;
    check::signature(cx, sig);
    let name = match &args.name {
        Some(lit) => {
            let name = lit.value();
            if let Err(msg) = check::method_name(&name) {
                cx.error_spanned_by(lit, msg);
            }
            name
        }
        None => {
            use syn::ext::IdentExt;
            sig.ident.unraw().to_string()
        }
    };
    let params: Vec<ArgKind> = sig
        .inputs
        .iter_mut()
        .filter_map(|input| match input {
            FnArg::Typed(pt) => parse_param(cx, pt),
            // Reported by `check::signature`.
            FnArg::Receiver(_) => None,
        })
        .collect();
    check::one_input_stream(cx, &params);

    let mut awaited = sig.asyncness.is_some();
    let ret = parse_return(cx, &sig.output, &mut awaited);

    Method {
        vis: item.vis.clone(),
        ident: item.sig.ident.clone(),
        name,
        docs: Docs::from_attrs(&item.attrs),
        deprecated: docs::deprecation(cx, &item.attrs),
        awaited,
        args: params,
        ret,
    }
}

/// One parameter: its markers and moved attributes taken off, then classified.
/// `None` when it cannot be served (the error is recorded).
fn parse_param(cx: &Ctxt, pt: &mut PatType) -> Option<ArgKind> {
    let span = pt.span();
    let constraints = Constraints::take_from(cx, &mut pt.attrs);
    let mut field_attrs = Vec::new();
    pt.attrs.retain(|a| {
        let moved = a.path().is_ident("serde") || a.path().is_ident("schemars") || a.path().is_ident("doc");
        if moved {
            field_attrs.push(a.clone());
        }
        !moved
    });
    let marked = take_kind_marker(cx, &mut pt.attrs);
    check::param_attrs(cx, &pt.attrs);
    let kind = classify_arg(cx, &pt.ty, marked);
    let is_request = matches!(kind, ArgKind::Request(_));
    let ident = check::param_name(cx, &pt.pat, is_request);
    if !is_request && (!constraints.is_empty() || !field_attrs.is_empty()) {
        cx.error_at(span, "`#[validate]`, `#[serde]` and `#[schemars]` apply only to request parameters, not to `Context`, `State`, `#[context]` or `Streaming` ones");
    }
    match kind {
        ArgKind::Request(_) => {
            let ident = ident?;
            check::request_type(cx, &pt.ty);
            let wire_name = crate::serde_names::Member::from_attrs(&field_attrs)
                .rename
                .unwrap_or_else(|| syn::ext::IdentExt::unraw(&ident).to_string());
            let concrete = changes_bounds(&field_attrs);
            Some(ArgKind::Request(Box::new(RequestParam { ident, ty: (*pt.ty).clone(), constraints, field_attrs, wire_name, concrete })))
        }
        other => Some(other),
    }
}

/// What a parameter's own attribute says it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Marker {
    /// `#[context]`: built from the call with `FromContext`.
    Context,
    /// `#[param]`: a field of the request, whatever its type is named.
    Param,
}

/// Removes `#[context]` or `#[param]` from the parameter and says which it was.
fn take_kind_marker(cx: &Ctxt, attrs: &mut Vec<syn::Attribute>) -> Option<Marker> {
    let mut found: Option<Marker> = None;
    attrs.retain(|a| {
        let marker = if a.path().is_ident("context") {
            Marker::Context
        } else if a.path().is_ident("param") {
            Marker::Param
        } else {
            return true;
        };
        if !matches!(a.meta, Meta::Path(_)) {
            cx.error_spanned_by(a, format!("`#[{}]` takes no arguments", a.path().get_ident().map(ToString::to_string).unwrap_or_default()));
        } else if let Some(prev) = found {
            let msg = if prev == marker { "duplicate attribute" } else { "a parameter is either `#[context]` or `#[param]`, not both" };
            cx.error_spanned_by(a, msg);
        } else {
            found = Some(marker);
        }
        false
    });
    found
}

/// Sorts a parameter: by its marker, else by the last segment of its type.
fn classify_arg(cx: &Ctxt, ty: &Type, marked: Option<Marker>) -> ArgKind {
    match marked {
        Some(Marker::Context) => return ArgKind::FromContext(ty.clone()),
        Some(Marker::Param) => return ArgKind::Request(Box::new(placeholder())),
        None => {}
    }
    let Some(seg) = types::last_segment(ty) else {
        return ArgKind::Request(Box::new(placeholder()));
    };
    match seg.ident.to_string().as_str() {
        "Context" | "State" => ArgKind::FromContext(ty.clone()),
        "Streaming" => match types::type_args(seg).as_slice() {
            [one] => ArgKind::Streaming { ty: ty.clone(), item: (*one).clone() },
            _ => {
                cx.error_spanned_by(ty, "expected `Streaming<T>` with one type argument, or `#[param]` on a parameter of your own type");
                ArgKind::FromContext(ty.clone())
            }
        },
        _ => ArgKind::Request(Box::new(placeholder())),
    }
}

/// The request parameter is filled in once the name is known.
fn placeholder() -> RequestParam {
    RequestParam {
        ident: syn::Ident::new("_", Span::call_site()),
        ty: syn::parse_quote!(()),
        constraints: Constraints::default(),
        field_attrs: Vec::new(),
        wire_name: String::new(),
        concrete: false,
    }
}

/// Whether a parameter's `#[serde]` or `#[schemars]` attributes change what the derives
/// require of its type: anything but naming and documentation keys may (`default` asks
/// for `Default`, `with` replaces `Deserialize`, `skip` needs neither). Such a
/// parameter keeps its concrete type in the params struct, where serde and schemars
/// check it themselves.
fn changes_bounds(attrs: &[syn::Attribute]) -> bool {
    const NAMING: &[&str] = &["rename", "alias", "title", "description", "example"];
    attrs.iter().filter(|a| a.path().is_ident("serde") || a.path().is_ident("schemars")).any(|a| {
        let mut other = false;
        let parsed = a.parse_nested_meta(|meta| {
            if !meta.path.get_ident().is_some_and(|i| NAMING.iter().any(|n| i == n)) {
                other = true;
            }
            // Skip the value, whatever it is.
            if meta.input.peek(Token![=]) {
                meta.value()?.parse::<Expr>()?;
            } else if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                let _: TokenStream = meta.input.parse()?;
            }
            Ok(())
        });
        other || parsed.is_err()
    })
}

fn parse_return(cx: &Ctxt, output: &ReturnType, awaited: &mut bool) -> Return {
    let ty = match output {
        ReturnType::Default => {
            return Return { output: Output::Value(syn::parse_quote!(())), error: None }
        }
        ReturnType::Type(_, ty) => &**ty,
    };
    let mut ty = types::peel(ty).clone();
    if !*awaited {
        if let Some(out) = types::future_output(&ty) {
            *awaited = true;
            ty = out;
        }
    }
    let mut error = None;
    let mut ok = ty.clone();
    if let Some(seg) = types::last_segment(&ty).filter(|s| s.ident == "Result") {
        match types::type_args(seg).as_slice() {
            [t] => {
                ok = (*t).clone();
                error = Some(ErrorType::OfAlias(ty.clone()));
            }
            [t, e] => {
                ok = (*t).clone();
                error = Some(ErrorType::Explicit((*e).clone()));
            }
            _ => cx.error_spanned_by(&ty, "expected `Result<T, E>`"),
        }
    }
    let output = match types::stream_item(&ok) {
        Some(item) => {
            let (item_ty, fallible) = match types::last_segment(&item).filter(|s| s.ident == "Result") {
                Some(seg) => match types::type_args(seg).first() {
                    Some(t) => ((*t).clone(), true),
                    None => (item.clone(), false),
                },
                None => (item.clone(), false),
            };
            if let Some(ErrorType::OfAlias(_)) = &error {
                cx.error_spanned_by(&ty, "name the error type of a streaming method's `Result`: `Result<impl Stream<Item = T>, E>`");
            }
            Output::Stream(StreamItem { ty: item_ty, fallible })
        }
        None => {
            if let Some(span) = types::find_impl_trait(&ok) {
                cx.error_at(span, "unsupported `impl Trait` in the return type: return a concrete type, `impl Stream<Item = T>`, or `Result` of either");
            }
            Output::Value(ok)
        }
    };
    Return { output, error }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::ir::Shape;
    use quote::{quote, ToTokens};
    use syn::parse_quote;

    fn parse(args: TokenStream, mut item: ItemFn) -> (Result<Method, String>, ItemFn) {
        let cx = Ctxt::new();
        let a = parse_args(&cx, args);
        let m = parse_fn(&cx, a, &mut item);
        let res = match cx.check() {
            Ok(()) => Ok(m),
            Err(e) => Err(e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join(" | ")),
        };
        (res, item)
    }

    fn ok(item: ItemFn) -> Method {
        parse(quote!(), item).0.unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(args: TokenStream, item: ItemFn) -> String {
        match parse(args, item).0 {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    fn ty(t: &Type) -> String {
        t.to_token_stream().to_string()
    }

    #[test]
    fn unary_with_typed_error_and_special_params() {
        let (m, item) = parse(
            quote!(name = "users.get"),
            parse_quote! {
                /// Gets a user.
                async fn get(db: State<Db>, ctx: volley::Context, #[validate(range(min = 1))] id: u64) -> Result<User, NotFound> {}
            },
        );
        let m = m.unwrap();
        assert_eq!(m.name, "users.get");
        assert_eq!(m.docs.text().unwrap(), "Gets a user.");
        assert!(m.awaited);
        assert_eq!(m.shape(), Shape::Unary);
        assert!(matches!(&m.args[0], ArgKind::FromContext(t) if ty(t) == "State < Db >"));
        assert!(matches!(&m.args[1], ArgKind::FromContext(t) if ty(t) == "volley :: Context"));
        let p: Vec<_> = m.request_params().collect();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].wire_name, "id");
        assert!(p[0].constraints.range.is_some());
        assert!(matches!(&m.ret.error, Some(ErrorType::Explicit(e)) if ty(e) == "NotFound"));
        assert!(matches!(&m.ret.output, Output::Value(t) if ty(t) == "User"));
        // The constraint moved off the function.
        assert!(!item.to_token_stream().to_string().contains("validate"));
    }

    #[test]
    fn shapes() {
        let server = ok(parse_quote!(async fn countdown(from: u32) -> impl Stream<Item = u32> {}));
        assert_eq!(server.shape(), Shape::ServerStream);
        let lines = ok(parse_quote!(async fn lines(path: String) -> Result<impl Stream<Item = Result<String, ReadError>>, ReadError> {}));
        assert_eq!(lines.shape(), Shape::ServerStream);
        assert!(matches!(&lines.ret.output, Output::Stream(StreamItem { ty: t, fallible: true }) if ty(t) == "String"));
        let client = ok(parse_quote!(async fn sum(items: Streaming<i64>) -> i64 {}));
        assert_eq!(client.shape(), Shape::ClientStream);
        assert_eq!(client.request_params().count(), 0);
        let bidi = ok(parse_quote!(async fn echo(ctx: Context, input: volley::Streaming<String>) -> impl Stream<Item = String> {}));
        assert_eq!(bidi.shape(), Shape::BidiStream);
        let plain = ok(parse_quote!(fn sync_too(x: u32) {}));
        assert!(!plain.awaited);
        assert!(matches!(&plain.ret.output, Output::Value(t) if ty(t) == "()"));
        let fut = ok(parse_quote!(fn later() -> impl Future<Output = u8> {}));
        assert!(fut.awaited);
        let alias = ok(parse_quote!(async fn read() -> io::Result<String> {}));
        assert!(matches!(&alias.ret.error, Some(ErrorType::OfAlias(_))));
    }

    #[test]
    fn default_name_is_the_function_name_unraw() {
        assert_eq!(ok(parse_quote!(async fn r#type() {})).name, "type");
    }

    #[test]
    fn attribute_keys_are_strict() {
        let item: ItemFn = parse_quote!(async fn f() {});
        assert_eq!(err(quote!(nmae = "x"), item.clone()), "unknown key `nmae`; expected `name` or `crate`");
        assert_eq!(err(quote!(name = "a", name = "b"), item.clone()), "duplicate key `name`");
        assert!(err(quote!(name = 3), item.clone()).starts_with("expected a string"));
        assert!(err(quote!(name = "volley.ping"), item.clone()).contains("reserved"));
        assert!(err(quote!(name = "a..b"), item.clone()).contains("malformed"));
        assert!(err(quote!(name = ""), item).contains("empty"));
    }

    #[test]
    fn unsupported_signatures_are_all_reported() {
        let e = err(
            quote!(),
            parse_quote! {
                async fn f<T>(&self, s: &str, (a, b): (i32, i32), x: Streaming<u8>, y: Streaming<u8>, __volley_x: u8) {}
            },
        );
        for needle in ["generic", "`self`", "borrowed", "patterns", "at most one `Streaming", "reserved"] {
            assert!(e.contains(needle), "missing {needle:?} in {e}");
        }
    }

    #[test]
    fn markers_override_the_type_name() {
        let m = ok(parse_quote!(async fn f(#[param] state: State, #[context] who: Caller, #[param] s: Streaming<u8>, plain: u8) {}));
        let kinds: Vec<&str> = m
            .args
            .iter()
            .map(|a| match a {
                ArgKind::FromContext(_) => "context",
                ArgKind::Streaming { .. } => "streaming",
                ArgKind::Request(_) => "param",
            })
            .collect();
        assert_eq!(kinds, ["param", "context", "param", "param"]);
        assert_eq!(m.shape(), Shape::Unary);
        let e = err(quote!(), parse_quote!(async fn f(#[context] #[param] x: u8) {}));
        assert!(e.contains("either `#[context]` or `#[param]`"), "{e}");
        let e = err(quote!(), parse_quote!(async fn f(#[context(x)] c: Caller) {}));
        assert!(e.contains("takes no arguments"), "{e}");
    }

    #[test]
    fn serde_rename_on_a_parameter_sets_the_wire_name() {
        let m = ok(parse_quote!(async fn f(#[serde(rename = "userId")] user_id: u64) {}));
        assert_eq!(m.request_params().next().unwrap().wire_name, "userId");
    }
}
