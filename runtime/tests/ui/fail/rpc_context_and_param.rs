use volley::rpc;

#[rpc]
async fn f(#[context] #[param] x: u8) -> u8 {
    x
}

fn main() {}
