//! What the macros write, formatted with prettyplease and pinned by insta snapshots in
//! `src/snapshots/`: a change to the generated code shows up as a reviewable diff.
//! Refresh with `INSTA_UPDATE=always cargo test -p volley-macros`.

use proc_macro2::TokenStream;
use quote::quote;

fn pretty(tokens: TokenStream) -> String {
    let file = syn::parse2::<syn::File>(tokens).unwrap_or_else(|e| panic!("the expansion parses as Rust: {e}"));
    prettyplease::unparse(&file)
}

fn rpc(args: TokenStream, item: TokenStream) -> String {
    pretty(crate::rpc::expand(args, item))
}

fn model(args: TokenStream, item: TokenStream) -> String {
    pretty(crate::model::expand(args, item))
}

#[test]
fn unary_with_a_typed_error() {
    insta::assert_snapshot!(rpc(
        quote!(name = "calc.divide"),
        quote! {
            /// Divides `a` by `b`.
            pub async fn divide(a: f64, #[validate(range(min = 1))] b: f64) -> Result<f64, DivError> { a / b }
        },
    ));
}

#[test]
fn a_plain_function_with_context_state_and_an_extractor() {
    insta::assert_snapshot!(rpc(
        quote!(),
        quote! {
            fn whoami(ctx: Context, hits: State<Counter>, #[context] caller: Caller, #[param] state: State) -> String { todo!() }
        },
    ));
}

#[test]
fn serde_attributes_keep_their_parameter_concrete() {
    insta::assert_snapshot!(rpc(
        quote!(),
        quote! {
            async fn page(#[serde(rename = "userId")] user_id: u64, #[serde(default)] limit: u32) -> Vec<u64> { todo!() }
        },
    ));
}

#[test]
fn a_fallible_server_stream() {
    insta::assert_snapshot!(rpc(
        quote!(),
        quote! {
            async fn lines(path: String) -> Result<impl Stream<Item = Result<String, ReadError>>, ReadError> { todo!() }
        },
    ));
}

#[test]
fn a_client_stream() {
    insta::assert_snapshot!(rpc(quote!(), quote!(async fn sum(factor: i64, items: Streaming<i64>) -> i64 { todo!() })));
}

#[test]
fn a_bidirectional_stream_under_a_renamed_crate() {
    insta::assert_snapshot!(rpc(
        quote!(crate = "::my_volley"),
        quote!(async fn echo(input: Streaming<String>) -> impl Stream<Item = String> { input }),
    ));
}

#[test]
fn a_result_alias_and_deprecation() {
    insta::assert_snapshot!(rpc(
        quote!(),
        quote! {
            #[deprecated(note = "use `read`")]
            async fn slurp(path: String) -> io::Result<String> { todo!() }
        },
    ));
}

#[test]
fn a_rejected_method_keeps_a_marker() {
    insta::assert_snapshot!(rpc(quote!(nmae = "x"), quote!(async fn f(a: u8) -> u8 { a })));
}

#[test]
fn a_model_struct() {
    insta::assert_snapshot!(model(
        quote!(),
        quote! {
            /// Someone signing up.
            #[serde(rename_all = "camelCase")]
            pub struct Signup {
                #[validate(length(min = 1, max = 16))]
                pub user_name: String,
                #[validate(range(min = 13, max = 130))]
                pub age: u8,
                pub address: Option<Address>,
            }
        },
    ));
}

#[test]
fn a_model_enum() {
    insta::assert_snapshot!(model(
        quote!(),
        quote! {
            #[serde(tag = "kind")]
            pub enum Shape {
                Circle { #[validate(range(min = 0))] r: f64 },
                Square(Side),
            }
        },
    ));
}
