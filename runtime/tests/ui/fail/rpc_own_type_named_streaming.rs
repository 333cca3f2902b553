use volley::rpc;

/// The user's own type, which happens to be called `Streaming`.
#[volley::model]
pub struct Streaming<T> {
    pub items: Vec<T>,
}

#[rpc]
async fn total(s: Streaming<i64>) -> i64 {
    s.items.iter().sum()
}

fn main() {}
