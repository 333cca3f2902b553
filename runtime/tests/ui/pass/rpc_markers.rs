//! `#[param]` and `#[context]` settle what a parameter is, whatever its type is named.

use volley::{rpc, Context, Error, ErrorCode, FromContext, Router};

/// The user's own type, which happens to be called `State`.
#[volley::model]
#[derive(PartialEq, Debug)]
pub enum State {
    Open,
    Closed,
}

/// The caller, as an authentication hook left it in the metadata.
pub struct Caller(pub String);

impl FromContext for Caller {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        ctx.metadata_value("user").map(Caller).ok_or_else(|| Error::new(ErrorCode::UNAUTHENTICATED, "no user"))
    }
}

/// volley's context under another name.
type Ctx = volley::Context;

#[rpc]
async fn set(#[param] state: State, #[context] caller: Caller, #[context] ctx: Ctx) -> String {
    format!("{} set {:?} on connection {}", caller.0, state, ctx.connection_id())
}

fn main() {
    let _ = Router::new().rpc::<set>();
}
