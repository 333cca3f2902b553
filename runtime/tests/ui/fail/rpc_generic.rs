use volley::rpc;

#[rpc]
async fn echo<T>(value: T) -> T {
    value
}

fn main() {}
