use volley::rpc;

pub struct Caller(pub String);

// `#[context]` on a type that does not implement `FromContext`.
#[rpc]
async fn whoami(#[context] caller: Caller) -> String {
    caller.0
}

fn main() {}
